//! Notifications: messages the kernel sends through send-once rights that a
//! task registered with [`IpcKernel::request_notification`](crate::IpcKernel::request_notification).

use crate::{Item, Message, PortItem, PortName};

/// First notification id (`MACH_NOTIFY_FIRST`, octal 0100).
pub const NOTIFY_FIRST: i32 = 0o100;
/// `MACH_NOTIFY_PORT_DELETED`: a name with a dead-name request lost its rights.
pub const NOTIFY_PORT_DELETED: i32 = 0o101;
/// `MACH_NOTIFY_MSG_ACCEPTED`: a message sent with `SEND_NOTIFY` was accepted.
pub const NOTIFY_MSG_ACCEPTED: i32 = 0o102;
/// `MACH_NOTIFY_PORT_DESTROYED`: the receive right is handed back instead of dying.
pub const NOTIFY_PORT_DESTROYED: i32 = 0o105;
/// `MACH_NOTIFY_NO_SENDERS`: the last send right died; carries the make-send count.
pub const NOTIFY_NO_SENDERS: i32 = 0o106;
/// `MACH_NOTIFY_SEND_ONCE`: a send-once right was destroyed unused.
pub const NOTIFY_SEND_ONCE: i32 = 0o107;
/// `MACH_NOTIFY_DEAD_NAME`: the port died; the name is now a dead name (+1 reference).
pub const NOTIFY_DEAD_NAME: i32 = 0o110;

/// Which notification to request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NotifyKind {
    /// `MACH_NOTIFY_PORT_DESTROYED` on a receive right.
    PortDestroyed,
    /// `MACH_NOTIFY_NO_SENDERS` on a receive right, with a `sync` make-send count.
    NoSenders,
    /// `MACH_NOTIFY_DEAD_NAME` on a send, send-once or dead name.
    DeadName,
}

impl NotifyKind {
    /// The Mach id of the notification.
    pub const fn id(self) -> i32 {
        match self {
            NotifyKind::PortDestroyed => NOTIFY_PORT_DESTROYED,
            NotifyKind::NoSenders => NOTIFY_NO_SENDERS,
            NotifyKind::DeadName => NOTIFY_DEAD_NAME,
        }
    }
}

/// A received notification, decoded.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Notification {
    /// The name lost its rights while a dead-name request was registered.
    PortDeleted(PortName),
    /// The receive right, handed back (now named in the receiver's space).
    PortDestroyed(PortName),
    /// No send rights remain; the make-send count when that happened.
    NoSenders(u32),
    /// A send-once right was destroyed without being used.
    SendOnce,
    /// The port behind this name died; the name is a dead name now.
    DeadName(PortName),
}

impl Notification {
    /// Decodes a received message as a notification, if it is a well-formed one.
    pub fn parse(msg: &Message) -> Option<Notification> {
        match (msg.header.id, msg.body.as_slice()) {
            (NOTIFY_PORT_DELETED, [Item::U32(n)]) => Some(Notification::PortDeleted(PortName(*n))),
            (NOTIFY_PORT_DESTROYED, [Item::Port(PortItem { name, .. })]) => {
                Some(Notification::PortDestroyed(*name))
            }
            (NOTIFY_NO_SENDERS, [Item::U32(c)]) => Some(Notification::NoSenders(*c)),
            (NOTIFY_SEND_ONCE, []) => Some(Notification::SendOnce),
            (NOTIFY_DEAD_NAME, [Item::U32(n)]) => Some(Notification::DeadName(PortName(*n))),
            _ => None,
        }
    }
}
