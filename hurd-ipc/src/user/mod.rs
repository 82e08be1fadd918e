//! The user-side API: what a task can ask of its kernel. Servers, translators
//! and pagers are written against [`UserIpc`]; the hosted runtime implements it
//! directly and the hurd-rs kernel's user runtime implements it with system calls.
//!
//! The rights a task holds are best held as values that release themselves:
//! [`SendRight`], [`SendOnceRight`], [`ReceiveRight`] and [`PortSet`], and
//! [`Right`] for one taken out of a received message (see
//! [`rights`]).

use alloc::vec::Vec;
use core::time::Duration;

use crate::{
    Disposition, KernReturn, Message, MsgReturn, NotifyKind, PortId, PortName, PortStatus,
    PortType, RecvError, RecvOptions, RightType, SendError,
};

pub mod rights;

pub use rights::{PortSet, ReceiveRight, Right, SendOnceRight, SendRight};

/// Options of one `mach_msg` call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MsgOptions {
    /// `MACH_SEND_TIMEOUT`: give up a blocked send after this long
    /// (`Some(Duration::ZERO)` never blocks). `None` waits as long as it takes.
    pub send_timeout: Option<Duration>,
    /// `MACH_RCV_TIMEOUT`: give up a receive after this long. `None` waits forever.
    pub rcv_timeout: Option<Duration>,
    /// Size limit and `MACH_RCV_LARGE`.
    pub rcv: RecvOptions,
    /// `MACH_SEND_INTERRUPT`: return [`MsgReturn::SendInterrupted`] when the
    /// thread is interrupted while blocked, instead of going on waiting.
    pub send_interrupt: bool,
    /// `MACH_RCV_INTERRUPT`: likewise for receives.
    pub rcv_interrupt: bool,
}

/// Why a `mach_msg` call failed.
#[derive(Debug)]
pub enum MachMsgError {
    /// The send phase failed; the message is handed back intact.
    Send(SendError),
    /// The send (if any) succeeded and the receive failed.
    Receive(RecvError),
}

impl MachMsgError {
    /// The Mach code.
    pub fn code(&self) -> MsgReturn {
        match self {
            MachMsgError::Send(e) => e.code,
            MachMsgError::Receive(e) => e.code,
        }
    }
}

impl From<SendError> for MachMsgError {
    fn from(e: SendError) -> Self {
        MachMsgError::Send(e)
    }
}

impl From<RecvError> for MachMsgError {
    fn from(e: RecvError) -> Self {
        MachMsgError::Receive(e)
    }
}

/// The calls a task makes on its own IPC space (`mach_task_self()`'s port
/// operations and `mach_msg`).
pub trait UserIpc {
    /// `mach_msg`: sends `send` if given, then receives on `rcv` if given.
    /// Combining both is an RPC: the receive starts as soon as the send is queued.
    ///
    /// # Errors
    ///
    /// [`MachMsgError::Send`] with the `MACH_SEND_*` code and the message
    /// handed back (see [`MsgReturn::hands_back_message`] for what it still
    /// holds), or [`MachMsgError::Receive`] with the `MACH_RCV_*` code once the
    /// send, if any, is done.
    fn mach_msg(
        &self,
        send: Option<Message>,
        rcv: Option<PortName>,
        opts: &MsgOptions,
    ) -> Result<Option<Message>, MachMsgError>;

    /// `mach_port_allocate`.
    ///
    /// # Errors
    ///
    /// `KERN_NO_SPACE` (no free name), `KERN_INVALID_VALUE` (a right type that
    /// cannot be allocated), `KERN_RESOURCE_SHORTAGE`, `KERN_INVALID_TASK`.
    fn port_allocate(&self, right: RightType) -> Result<PortName, KernReturn>;
    /// `mach_port_deallocate`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME` (no such name), `KERN_INVALID_RIGHT` (not a send,
    /// send-once or dead-name right), `KERN_INVALID_TASK`.
    fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn>;
    /// `mach_port_mod_refs`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (the name holds no such right),
    /// `KERN_INVALID_VALUE` (below zero, or not 0/±1 for a receive, send-once or
    /// port-set right), `KERN_UREFS_OVERFLOW`, `KERN_INVALID_TASK`.
    fn port_mod_refs(&self, name: PortName, right: RightType, delta: i32)
    -> Result<(), KernReturn>;
    /// `mach_port_get_refs`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_TASK`.
    fn port_get_refs(&self, name: PortName, right: RightType) -> Result<u16, KernReturn>;
    /// `mach_port_type`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_TASK`.
    fn port_type(&self, name: PortName) -> Result<PortType, KernReturn>;
    /// `mach_port_destroy`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_TASK`.
    fn port_destroy(&self, name: PortName) -> Result<(), KernReturn>;
    /// `mach_port_insert_right` on the task's own space: puts the right `right`
    /// gives with `disp` under `name` (e.g. a send right made from a receive right
    /// under the same name).
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME` or `KERN_INVALID_RIGHT` for `right` and `disp`,
    /// `KERN_NAME_EXISTS` or `KERN_RIGHT_EXISTS` when `name` or the port is
    /// already used otherwise, `KERN_UREFS_OVERFLOW`, `KERN_INVALID_TASK`.
    fn port_insert_right(
        &self,
        name: PortName,
        right: PortName,
        disp: Disposition,
    ) -> Result<(), KernReturn>;
    /// `mach_port_move_member` (`pset` NULL: out of any set).
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (`member` not a receive right,
    /// `pset` not a port set), `KERN_NOT_IN_SET`, `KERN_INVALID_TASK`.
    fn port_move_member(&self, member: PortName, pset: PortName) -> Result<(), KernReturn>;
    /// `mach_port_set_qlimit`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a receive right),
    /// `KERN_INVALID_VALUE` (above `QLIMIT_MAX`), `KERN_INVALID_TASK`.
    fn port_set_qlimit(&self, name: PortName, qlimit: u16) -> Result<(), KernReturn>;
    /// `mach_port_get_receive_status`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a receive right),
    /// `KERN_INVALID_TASK`.
    fn port_get_receive_status(&self, name: PortName) -> Result<PortStatus, KernReturn>;
    /// `mach_port_request_notification`; returns the previous request's right.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (a right the notification does
    /// not apply to, or a bad `notify` right), `KERN_INVALID_VALUE`,
    /// `KERN_INVALID_TASK`.
    fn request_notification(
        &self,
        name: PortName,
        kind: NotifyKind,
        sync: u32,
        notify: PortName,
        notify_disp: Disposition,
    ) -> Result<PortName, KernReturn>;
    /// The port's global identity.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (a dead name or port set),
    /// `KERN_INVALID_TASK`.
    fn port_id(&self, name: PortName) -> Result<PortId, KernReturn>;
    /// `mach_port_allocate_name`: a new receive right, port set or dead name
    /// under a name the caller chooses.
    ///
    /// # Errors
    ///
    /// `KERN_NAME_EXISTS`, `KERN_INVALID_VALUE` (NULL or DEAD, or a right type
    /// that cannot be allocated), `KERN_RESOURCE_SHORTAGE`, `KERN_INVALID_TASK`.
    fn port_allocate_name(&self, right: RightType, name: PortName) -> Result<(), KernReturn>;
    /// `mach_port_names`: every name in the space with its type, in name order.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_TASK`.
    fn port_names(&self) -> Result<Vec<(PortName, PortType)>, KernReturn>;
    /// `mach_port_set_mscount`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a receive right),
    /// `KERN_INVALID_TASK`.
    fn port_set_mscount(&self, name: PortName, mscount: u32) -> Result<(), KernReturn>;
    /// `mach_port_set_seqno`.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` (not a receive right),
    /// `KERN_INVALID_TASK`.
    fn port_set_seqno(&self, name: PortName, seqno: u32) -> Result<(), KernReturn>;

    /// A receive right for RPC replies (`mig_get_reply_port`). Implementations may
    /// cache one per thread; [`UserIpc::release_reply_port`] gives it back after a
    /// failed RPC so a late reply cannot confuse the next one.
    ///
    /// # Errors
    ///
    /// What allocating a receive right returns.
    fn reply_port(&self) -> Result<PortName, KernReturn> {
        self.port_allocate(RightType::Receive)
    }

    /// Called by RPC stubs once done with a reply port: `ok` is false when the
    /// RPC failed and the port may still receive a stale reply.
    fn release_reply_port(&self, name: PortName, ok: bool) {
        let _ = ok;
        let _ = self.port_mod_refs(name, RightType::Receive, -1);
    }

    /// The most bytes of inline data one message this runtime carries can
    /// hold, with room left for its header and item descriptors. A server
    /// answering `io_read` keeps its reply within it (a short read, which
    /// the interface allows) instead of building a reply the transport
    /// refuses. Unbounded unless the runtime says otherwise (the hurd-rs
    /// kernel's messages are at most 64 KiB).
    fn max_inline_data(&self) -> usize {
        usize::MAX
    }

    /// Sends a message, waiting for queue room as long as it takes.
    ///
    /// # Errors
    ///
    /// The `MACH_SEND_*` code, with the message handed back.
    fn send(&self, msg: Message) -> Result<(), SendError> {
        match self.mach_msg(Some(msg), None, &MsgOptions::default()) {
            Ok(_) => Ok(()),
            Err(MachMsgError::Send(e)) => Err(e),
            Err(MachMsgError::Receive(e)) => Err(SendError {
                code: e.code,
                message: Message::default(),
            }),
        }
    }

    /// Receives the next message on a receive right or port set, waiting forever.
    ///
    /// # Errors
    ///
    /// The `MACH_RCV_*` code: `MACH_RCV_INVALID_NAME` (not a receive right or
    /// port set), `MACH_RCV_IN_SET`, `MACH_RCV_PORT_DIED`, `MACH_RCV_TOO_LARGE`.
    fn receive(&self, name: PortName) -> Result<Message, RecvError> {
        self.receive_with(name, &MsgOptions::default())
    }

    /// Receives with options (timeout, size limit).
    ///
    /// # Errors
    ///
    /// As [`UserIpc::receive`], and `MACH_RCV_TIMED_OUT` or
    /// `MACH_RCV_INTERRUPTED` as the options allow.
    fn receive_with(&self, name: PortName, opts: &MsgOptions) -> Result<Message, RecvError> {
        match self.mach_msg(None, Some(name), opts) {
            Ok(Some(m)) => Ok(m),
            Ok(None) => Err(MsgReturn::RcvInvalidName.into()),
            Err(MachMsgError::Receive(e)) => Err(e),
            Err(MachMsgError::Send(e)) => Err(e.code.into()),
        }
    }

    /// Destroys the rights a message holds (`mach_msg_destroy`): for a received
    /// message, the reply right and every right in the body; for one that could not
    /// be sent, the rights it was to move. Out-of-line memory is dropped.
    fn destroy_message(&self, msg: Message) {
        let h = msg.header;
        if h.remote.is_valid() {
            let _ = match h.bits.remote() {
                Some(Disposition::MoveReceive) => {
                    self.port_mod_refs(h.remote, RightType::Receive, -1)
                }
                Some(Disposition::MoveSend | Disposition::MoveSendOnce) => {
                    self.port_deallocate(h.remote)
                }
                Some(_) => Ok(()),
                None => Ok(()),
            };
        }
        for item in msg.body {
            let (names, disposition) = match item {
                crate::Item::Port(p) => (alloc::vec![p.name], p.disposition),
                crate::Item::Ports(a) => (a.names, a.disposition),
                _ => continue,
            };
            for name in names.into_iter().filter(|n| n.is_valid()) {
                // Received rights, and rights a message was to move, are held:
                // destroy them. Copy and make dispositions hold nothing.
                let _ = match disposition {
                    Disposition::MoveReceive => self.port_mod_refs(name, RightType::Receive, -1),
                    Disposition::MoveSend | Disposition::MoveSendOnce => self.port_deallocate(name),
                    Disposition::CopySend | Disposition::MakeSend | Disposition::MakeSendOnce => {
                        Ok(())
                    }
                };
            }
        }
    }
}

impl core::fmt::Display for MachMsgError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MachMsgError::Send(e) => e.fmt(f),
            MachMsgError::Receive(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for MachMsgError {}

/// Implements [`UserIpc`] for a pointer type by calling the pointee.
macro_rules! forward_user_ipc {
    ($(#[$doc:meta])* impl<$t:ident> for $ty:ty) => {
        $(#[$doc])*
        impl<$t: UserIpc + ?Sized> UserIpc for $ty {
            fn mach_msg(
                &self,
                send: Option<Message>,
                rcv: Option<PortName>,
                opts: &MsgOptions,
            ) -> Result<Option<Message>, MachMsgError> {
                (**self).mach_msg(send, rcv, opts)
            }
            fn port_allocate(&self, right: RightType) -> Result<PortName, KernReturn> {
                (**self).port_allocate(right)
            }
            fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn> {
                (**self).port_deallocate(name)
            }
            fn port_mod_refs(
                &self,
                name: PortName,
                right: RightType,
                delta: i32,
            ) -> Result<(), KernReturn> {
                (**self).port_mod_refs(name, right, delta)
            }
            fn port_get_refs(&self, name: PortName, right: RightType) -> Result<u16, KernReturn> {
                (**self).port_get_refs(name, right)
            }
            fn port_type(&self, name: PortName) -> Result<PortType, KernReturn> {
                (**self).port_type(name)
            }
            fn port_destroy(&self, name: PortName) -> Result<(), KernReturn> {
                (**self).port_destroy(name)
            }
            fn port_insert_right(
                &self,
                name: PortName,
                right: PortName,
                disp: Disposition,
            ) -> Result<(), KernReturn> {
                (**self).port_insert_right(name, right, disp)
            }
            fn port_move_member(&self, member: PortName, pset: PortName) -> Result<(), KernReturn> {
                (**self).port_move_member(member, pset)
            }
            fn port_set_qlimit(&self, name: PortName, qlimit: u16) -> Result<(), KernReturn> {
                (**self).port_set_qlimit(name, qlimit)
            }
            fn port_get_receive_status(&self, name: PortName) -> Result<PortStatus, KernReturn> {
                (**self).port_get_receive_status(name)
            }
            fn request_notification(
                &self,
                name: PortName,
                kind: NotifyKind,
                sync: u32,
                notify: PortName,
                notify_disp: Disposition,
            ) -> Result<PortName, KernReturn> {
                (**self).request_notification(name, kind, sync, notify, notify_disp)
            }
            fn port_id(&self, name: PortName) -> Result<PortId, KernReturn> {
                (**self).port_id(name)
            }
            fn port_allocate_name(&self, right: RightType, name: PortName) -> Result<(), KernReturn> {
                (**self).port_allocate_name(right, name)
            }
            fn port_names(&self) -> Result<Vec<(PortName, PortType)>, KernReturn> {
                (**self).port_names()
            }
            fn port_set_mscount(&self, name: PortName, mscount: u32) -> Result<(), KernReturn> {
                (**self).port_set_mscount(name, mscount)
            }
            fn port_set_seqno(&self, name: PortName, seqno: u32) -> Result<(), KernReturn> {
                (**self).port_set_seqno(name, seqno)
            }
            fn reply_port(&self) -> Result<PortName, KernReturn> {
                (**self).reply_port()
            }
            fn release_reply_port(&self, name: PortName, ok: bool) {
                (**self).release_reply_port(name, ok)
            }
            fn max_inline_data(&self) -> usize {
                (**self).max_inline_data()
            }
            fn send(&self, msg: Message) -> Result<(), SendError> {
                (**self).send(msg)
            }
            fn receive(&self, name: PortName) -> Result<Message, RecvError> {
                (**self).receive(name)
            }
            fn receive_with(&self, name: PortName, opts: &MsgOptions) -> Result<Message, RecvError> {
                (**self).receive_with(name, opts)
            }
            fn destroy_message(&self, msg: Message) {
                (**self).destroy_message(msg)
            }
        }
    };
}

forward_user_ipc! {
    /// A borrowed IPC is the IPC: rights and stubs can hold `&T`.
    impl<T> for &T
}
forward_user_ipc! {
    /// A shared IPC is the IPC: rights can hold an `Arc<T>` of a value that is
    /// not `Clone` itself.
    impl<T> for alloc::sync::Arc<T>
}
forward_user_ipc! {
    /// A boxed IPC (`Box<dyn UserIpc>`) is the IPC.
    impl<T> for alloc::boxed::Box<T>
}
