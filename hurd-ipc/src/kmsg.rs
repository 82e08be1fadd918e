//! Messages in transit: rights instead of names.

use alloc::vec::Vec;

use crate::Disposition;
use crate::arena::Slot;
use crate::message::{HEADER_SIZE, Item, OolItem};

/// A reference to a port object inside an [`IpcKernel`](crate::IpcKernel).
pub(crate) type PortRef = Slot;

/// A right carried by a message (or held by a notification request): it counts
/// toward its port's send / send-once totals until it is copied out or destroyed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Carried {
    /// `MACH_PORT_NULL`.
    Null,
    /// `MACH_PORT_DEAD`.
    Dead,
    /// A send right.
    Send(PortRef),
    /// A send-once right.
    SendOnce(PortRef),
    /// A receive right.
    Receive(PortRef),
}

impl Carried {
    /// The received type the receiver gets for this right.
    pub(crate) fn received(self, fallback: Disposition) -> Disposition {
        match self {
            Carried::Send(_) => Disposition::PORT_SEND,
            Carried::SendOnce(_) => Disposition::PORT_SEND_ONCE,
            Carried::Receive(_) => Disposition::PORT_RECEIVE,
            Carried::Null | Carried::Dead => fallback.received(),
        }
    }

    pub(crate) fn port(self) -> Option<PortRef> {
        match self {
            Carried::Send(p) | Carried::SendOnce(p) | Carried::Receive(p) => Some(p),
            Carried::Null | Carried::Dead => None,
        }
    }
}

/// A body item in transit.
#[derive(Debug)]
pub(crate) enum KItem {
    U32(u32),
    U64(u64),
    Bytes(Vec<u8>),
    Port {
        right: Carried,
        disposition: Disposition,
    },
    Ports {
        rights: Vec<Carried>,
        disposition: Disposition,
    },
    Ool(OolItem),
}

impl KItem {
    /// The rights the item carries.
    pub(crate) fn rights(&self) -> &[Carried] {
        match self {
            KItem::Port { right, .. } => core::slice::from_ref(right),
            KItem::Ports { rights, .. } => rights,
            _ => &[],
        }
    }

    /// The item's size in the wire form; equal to the user item's.
    pub(crate) fn wire_size(&self) -> u64 {
        let payload: u64 = match self {
            KItem::U32(_) | KItem::Port { .. } => 4,
            KItem::U64(_) => 8,
            KItem::Bytes(b) => b.len() as u64,
            KItem::Ports { rights, .. } => 4 * rights.len() as u64,
            KItem::Ool(o) => o.data.len() as u64,
        };
        8 + payload.div_ceil(8) * 8
    }

    pub(crate) fn from_plain(item: Item) -> KItem {
        match item {
            Item::U32(v) => KItem::U32(v),
            Item::U64(v) => KItem::U64(v),
            Item::Bytes(b) => KItem::Bytes(b),
            Item::Ool(o) => KItem::Ool(o),
            // Ports are converted by copyin, never here.
            Item::Port(p) => KItem::Port {
                right: Carried::Null,
                disposition: p.disposition,
            },
            Item::Ports(a) => KItem::Ports {
                rights: Vec::new(),
                disposition: a.disposition,
            },
        }
    }
}

/// A message queued on a port.
#[derive(Debug)]
pub(crate) struct KMessage {
    /// The right the message was sent through: `Send` or `SendOnce` on the
    /// destination port; released when the message is received or destroyed.
    pub(crate) dest: Carried,
    /// The reply right.
    pub(crate) reply: Carried,
    /// How the reply right was sent (for the received type of NULL / DEAD).
    pub(crate) reply_disposition: Option<Disposition>,
    pub(crate) id: i32,
    pub(crate) body: Vec<KItem>,
}

impl KMessage {
    pub(crate) fn wire_size(&self) -> u64 {
        u64::from(HEADER_SIZE) + self.body.iter().map(KItem::wire_size).sum::<u64>()
    }

    /// Whether the message carries any receive right (cheaper than asking
    /// [`carried_receive_rights`](Self::carried_receive_rights) for its first).
    pub(crate) fn carries_receive_rights(&self) -> bool {
        matches!(self.reply, Carried::Receive(_))
            || self
                .body
                .iter()
                .any(|i| i.rights().iter().any(|c| matches!(c, Carried::Receive(_))))
    }

    /// The receive rights the message carries.
    pub(crate) fn carried_receive_rights(&self) -> impl Iterator<Item = PortRef> + '_ {
        core::iter::once(&self.reply)
            .chain(self.body.iter().flat_map(KItem::rights))
            .filter_map(|c| match c {
                Carried::Receive(p) => Some(*p),
                _ => None,
            })
    }

    /// A kernel-made message (a notification) through a send-once right.
    pub(crate) fn notification(dest: PortRef, id: i32, body: Vec<KItem>) -> KMessage {
        KMessage {
            dest: Carried::SendOnce(dest),
            reply: Carried::Null,
            reply_disposition: None,
            id,
            body,
        }
    }
}
