//! [`KernelIpc`]: hurd-ipc's user-side API ([`UserIpc`]) over the kernel's
//! traps, so servers and clients written against `UserIpc` (and tested on the
//! hosted runtime) run unchanged as tasks of the hurd-rs kernel.
//!
//! `mach_msg` encodes the [`Message`] in the wire form of [`hurd_ipc::wire`],
//! traps with the send and receive options ([`crate::msg::mach_msg`]) and
//! decodes what the kernel wrote back. The `mach_port_*` calls on the
//! task's own space are GNU Mach's `mach_port.defs` routines, sent to
//! `mach_task_self()` through the client [`hurd_abi::mach_port`] generates
//! (and `mach_port_identity` of [`hurd_abi::hurd_task`]), except the few a
//! server makes for every port it hands out, which are traps: allocating,
//! deallocating and destroying a name, `mach_reply_port`, and — through
//! `port_call` — `mach_port_mod_refs`, `insert_right`, `move_member` and
//! `request_notification` (see [`hurd_abi::port_call`] for why: an RPC to
//! the task port costs many times the trap, measured by
//! `cargo xtask bench kernel`).
//!
//! What the kernel's `mach_msg` does not offer:
//! - one timeout per call: when a send and a receive are combined with two
//!   different timeouts, they are made as two traps;
//! - `MACH_SEND_INTERRUPT` / `MACH_RCV_INTERRUPT`: a thread is never
//!   interrupted in `mach_msg`, so the flags change nothing;
//!
//! A receive starts in a small buffer kept between calls (the spare one),
//! and asks the kernel to keep a message the buffer cannot hold
//! (`MACH_RCV_LARGE`): the buffer then grows to the size the kernel reports
//! and the receive is made again, up to the caller's limit. A message
//! larger than the limit is destroyed as Mach destroys it, or, when the
//! caller asked for `MACH_RCV_LARGE` itself ([`RecvOptions::large`]), left
//! queued and reported with its size ([`RecvError::size`]).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use spinning_top::Spinlock;

use hurd_abi::trap::{MachReplyPort, PortAllocate, PortCall, PortDeallocate, PortDestroy};
use hurd_abi::{MAX_MESSAGE, hurd_task, mach_port, port_call as call};
use hurd_ipc::{
    Disposition, Error, KernReturn, MachMsgError, Message, MsgOptions, MsgReturn, NotifyKind,
    PortId, PortName, PortStatus, PortType, RecvError, RightType, SendError, UserIpc, wire,
};

use crate::msg;
use crate::trap;

/// The smallest message: a header.
const HEADER_SIZE: usize = hurd_ipc::message::HEADER_SIZE as usize;

/// The process's cached reply port (`mig_get_reply_port`), or 0.
static REPLY_PORT: AtomicU32 = AtomicU32::new(0);

/// The size a receive buffer starts at: room for the common replies; it
/// grows when a larger message comes.
const SPARE_START: usize = 256;

/// The process's spare receive buffer (see [`take_spare`]); empty while a
/// call has it.
static SPARE: Spinlock<Vec<u8>> = Spinlock::new(Vec::new());

/// A buffer to receive into: the spare one, or (when another thread's call
/// has it) a new empty one.
fn take_spare() -> Vec<u8> {
    SPARE
        .try_lock()
        .map(|mut spare| core::mem::take(&mut *spare))
        .unwrap_or_default()
}

/// Keeps `buf` as the spare receive buffer, unless the spare one is at
/// least as large.
fn put_spare(buf: Vec<u8>) {
    if let Some(mut spare) = SPARE.try_lock()
        && spare.len() < buf.len()
    {
        *spare = buf;
    }
}

/// hurd-ipc's user-side API for a task of the hurd-rs kernel.
///
/// It holds nothing: the task's IPC space is the kernel's, and the one piece
/// of state — a cached reply port for RPCs, as the Hurd's C library keeps
/// one — is the process's. So `KernelIpc` is `Copy`, every value is the
/// same, and a program makes one wherever it needs it. A thread that finds
/// the reply-port cache empty (another thread's RPC holds it) allocates a
/// port of its own.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KernelIpc;

impl KernelIpc {
    /// The calling task's IPC.
    pub const fn new() -> KernelIpc {
        KernelIpc
    }

    /// The receive limit for `opts`, in bytes.
    fn rcv_size(opts: &MsgOptions) -> usize {
        opts.rcv
            .max_size
            .unwrap_or(MAX_MESSAGE)
            .clamp(HEADER_SIZE as u64, MAX_MESSAGE) as usize
    }
}

/// One `port_call` trap (see [`hurd_abi::port_call`]); none takes an
/// address.
fn port_call(id: u64, name: PortName, [a, b, c, d]: [u64; 4]) -> Result<u64, KernReturn> {
    let call = PortCall {
        id,
        name,
        a,
        b,
        c,
        d,
    };
    // SAFETY: the calls made here (mod_refs, insert_right, move_member,
    // request_notification) take no address and change no memory.
    unsafe { trap::trap(call) }.map_err(trap::kern_error)
}

/// The `mach_port.defs` client for this task's own space.
fn own_space(ipc: &KernelIpc) -> mach_port::Client<'_, KernelIpc> {
    mach_port::Client::new(ipc, crate::task::task_self())
}

/// The kernel return code of a `mach_port` RPC's failure: the reply's code,
/// `KERN_INVALID_TASK` when the task port could not be reached, and
/// `KERN_FAILURE` for anything else (a reply that was not the routine's).
fn kern(e: Error) -> KernReturn {
    match e {
        Error::Kern(k) => k,
        Error::Msg(MsgReturn::SendInvalidDest) => KernReturn::InvalidTask,
        _ => KernReturn::Failure,
    }
}

/// The `MACH_PORT_RIGHT_*` number of `right`, as the routines take it.
fn raw_right(right: RightType) -> u32 {
    right as u32
}

impl UserIpc for KernelIpc {
    fn mach_msg(
        &self,
        send: Option<Message>,
        rcv: Option<PortName>,
        opts: &MsgOptions,
    ) -> Result<Option<Message>, MachMsgError> {
        // Two different timeouts need two traps; otherwise one does.
        if send.is_some()
            && rcv.is_some()
            && let (Some(s), Some(r)) = (opts.send_timeout, opts.rcv_timeout)
            && s != r
        {
            let send_only = MsgOptions {
                rcv_timeout: None,
                ..*opts
            };
            self.mach_msg(send, None, &send_only)?;
            let rcv_only = MsgOptions {
                send_timeout: None,
                ..*opts
            };
            return self.mach_msg(None, rcv, &rcv_only);
        }
        let encoded = match &send {
            Some(msg) => match wire::encode(msg) {
                Ok(bytes) if bytes.len() as u64 <= MAX_MESSAGE => bytes,
                Ok(_) => {
                    let message = send.unwrap_or_default();
                    let code = MsgReturn::SendNoBuffer;
                    return Err(SendError { code, message }.into());
                }
                Err(code) => {
                    let message = send.unwrap_or_default();
                    return Err(SendError { code, message }.into());
                }
            },
            None => Vec::new(),
        };
        let send_len = send.as_ref().map(|_| encoded.len());
        // ANCHOR: options
        let rcv_len = rcv.map_or(0, |_| Self::rcv_size(opts));
        // A receive goes into the spare buffer, kept between calls and
        // small at first; only what the kernel writes is read back.
        let mut buf = match rcv {
            Some(_) => {
                let mut buf = take_spare();
                let need = encoded.len().max(SPARE_START.min(rcv_len));
                if buf.len() < need {
                    buf.resize(need, 0);
                }
                buf[..encoded.len()].copy_from_slice(&encoded);
                buf
            }
            None => {
                let mut buf = encoded;
                buf.resize(buf.len().max(HEADER_SIZE), 0);
                buf
            }
        };
        let mut trap = msg::Options {
            send: send_len,
            receive: rcv,
            receive_limit: Some(rcv_len),
            // The kernel keeps a message the buffer cannot hold.
            receive_large: rcv.is_some() && (buf.len() < rcv_len || opts.rcv.large),
            send_timeout: opts.send_timeout.filter(|_| send_len.is_some()),
            receive_timeout: opts.rcv_timeout.filter(|_| rcv.is_some()),
        };
        // ANCHOR_END: options
        let mut result = msg::mach_msg(&mut buf, &trap);
        // Too large for the buffer: it grows (to the size the kernel wrote
        // into the header, or when that says nothing new, to the limit) and
        // only the receive is made again. Each round grows the buffer or
        // ends, so this stops.
        while result == Err(MsgReturn::RcvTooLarge) && trap.receive_large {
            if buf.len() >= rcv_len {
                // Larger than the caller accepts.
                if opts.rcv.large {
                    let size = msg::header_size(&buf) as u64;
                    put_spare(buf);
                    let code = MsgReturn::RcvTooLarge;
                    return Err(RecvError { code, size }.into());
                }
                // Destroyed, as the kernel does without MACH_RCV_LARGE.
                trap.receive_large = false;
            } else {
                let needed = msg::header_size(&buf);
                let grown = if needed > buf.len() { needed } else { rcv_len };
                buf.resize(grown.min(rcv_len), 0);
                trap.receive_large = buf.len() < rcv_len || opts.rcv.large;
            }
            trap.send = None;
            trap.send_timeout = None;
            result = msg::mach_msg(&mut buf, &trap);
        }
        let received = match result {
            Ok(size) if rcv.is_some() => Some(
                wire::decode(&buf[..size], &wire::Limits::UNLIMITED)
                    .map_err(|_| RecvError::from(MsgReturn::RcvInvalidData)),
            ),
            _ => None,
        };
        if rcv.is_some() {
            put_spare(buf);
        }
        match result {
            Ok(_) => match received {
                Some(message) => message.map(Some).map_err(Into::into),
                None => Ok(None),
            },
            Err(code) => match send {
                // The kernel took nothing from the message: it is handed
                // back as the caller gave it.
                Some(message) if code.is_send_error() => Err(SendError { code, message }.into()),
                _ => Err(RecvError::from(code).into()),
            },
        }
    }

    fn port_allocate(&self, right: RightType) -> Result<PortName, KernReturn> {
        trap::call(PortAllocate { right })
    }

    fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn> {
        trap::call(PortDeallocate { name })
    }

    fn port_mod_refs(
        &self,
        name: PortName,
        right: RightType,
        delta: i32,
    ) -> Result<(), KernReturn> {
        port_call(
            call::MOD_REFS,
            name,
            [right as u64, delta as i64 as u64, 0, 0],
        )
        .map(drop)
    }

    // ANCHOR: port_calls
    fn port_get_refs(&self, name: PortName, right: RightType) -> Result<u16, KernReturn> {
        let refs = own_space(self)
            .mach_port_get_refs(name.0, raw_right(right))
            .map_err(kern)?;
        u16::try_from(refs).map_err(|_| KernReturn::Failure)
    }

    fn port_type(&self, name: PortName) -> Result<PortType, KernReturn> {
        let bits = own_space(self).mach_port_type(name.0).map_err(kern)?;
        Ok(PortType::from_bits_retain(bits))
    }
    // ANCHOR_END: port_calls

    fn port_destroy(&self, name: PortName) -> Result<(), KernReturn> {
        trap::call(PortDestroy { name })
    }

    /// Within the calling task only: `name` in this task gets the right
    /// taken from this task's `right` with `disp`.
    fn port_insert_right(
        &self,
        name: PortName,
        right: PortName,
        disp: Disposition,
    ) -> Result<(), KernReturn> {
        port_call(
            call::INSERT_RIGHT,
            name,
            [u64::from(right.0), u64::from(u8::from(disp)), 0, 0],
        )
        .map(drop)
    }

    fn port_move_member(&self, member: PortName, pset: PortName) -> Result<(), KernReturn> {
        port_call(call::MOVE_MEMBER, member, [u64::from(pset.0), 0, 0, 0]).map(drop)
    }

    fn port_set_qlimit(&self, name: PortName, qlimit: u16) -> Result<(), KernReturn> {
        own_space(self)
            .mach_port_set_qlimit(name.0, u32::from(qlimit))
            .map_err(kern)
    }

    fn port_get_receive_status(&self, name: PortName) -> Result<PortStatus, KernReturn> {
        let status = own_space(self)
            .mach_port_get_receive_status(name.0)
            .map_err(kern)?;
        if status.qlimit > u32::from(u16::MAX) {
            return Err(KernReturn::Failure);
        }
        Ok(PortStatus::from(status))
    }

    fn request_notification(
        &self,
        name: PortName,
        kind: NotifyKind,
        sync: u32,
        notify: PortName,
        notify_disp: Disposition,
    ) -> Result<PortName, KernReturn> {
        let previous = port_call(
            call::REQUEST_NOTIFICATION,
            name,
            [
                kind.id() as u64,
                u64::from(sync),
                u64::from(notify.0),
                u64::from(u8::from(notify_disp)),
            ],
        )?;
        Ok(PortName(previous as u32))
    }

    fn port_id(&self, name: PortName) -> Result<PortId, KernReturn> {
        hurd_task::Client::new(self, crate::task::task_self())
            .mach_port_identity(name.0)
            .map(PortId)
            .map_err(kern)
    }

    fn port_allocate_name(&self, right: RightType, name: PortName) -> Result<(), KernReturn> {
        own_space(self)
            .mach_port_allocate_name(raw_right(right), name.0)
            .map_err(kern)
    }

    fn port_names(&self) -> Result<Vec<(PortName, PortType)>, KernReturn> {
        let (names, types) = own_space(self).mach_port_names().map_err(kern)?;
        if names.len() != types.len() {
            return Err(KernReturn::Failure);
        }
        Ok(names
            .into_iter()
            .zip(types)
            .map(|(n, t)| (PortName(n), PortType::from_bits_retain(t)))
            .collect())
    }

    fn port_set_mscount(&self, name: PortName, mscount: u32) -> Result<(), KernReturn> {
        own_space(self)
            .mach_port_set_mscount(name.0, mscount)
            .map_err(kern)
    }

    fn port_set_seqno(&self, name: PortName, seqno: u32) -> Result<(), KernReturn> {
        own_space(self)
            .mach_port_set_seqno(name.0, seqno)
            .map_err(kern)
    }

    /// The kernel's message limit ([`MAX_MESSAGE`]) less 1 KiB for the
    /// header and the item descriptors.
    fn max_inline_data(&self) -> usize {
        MAX_MESSAGE as usize - 1024
    }

    fn reply_port(&self) -> Result<PortName, KernReturn> {
        match REPLY_PORT.swap(0, Ordering::AcqRel) {
            // `mach_reply_port`: a receive right of its own.
            0 => trap::call(MachReplyPort {}),
            name => Ok(PortName(name)),
        }
    }

    /// Keeps the port for the next RPC after a successful one (when the
    /// cache is empty); destroys it otherwise, so a late reply to a failed
    /// RPC cannot be taken for the next one's.
    fn release_reply_port(&self, name: PortName, ok: bool) {
        if ok
            && REPLY_PORT
                .compare_exchange(0, name.0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return;
        }
        let _ = self.port_destroy(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_limits_stay_within_what_the_kernel_copies() {
        let with = |max_size| MsgOptions {
            rcv: hurd_ipc::RecvOptions {
                max_size,
                large: false,
            },
            ..MsgOptions::default()
        };
        let max = MAX_MESSAGE as usize;
        assert_eq!(KernelIpc::rcv_size(&with(None)), max);
        assert_eq!(KernelIpc::rcv_size(&with(Some(0))), HEADER_SIZE);
        assert_eq!(KernelIpc::rcv_size(&with(Some(100))), 100);
        assert_eq!(KernelIpc::rcv_size(&with(Some(u64::MAX))), max);
    }

    #[test]
    fn off_the_kernel_calls_fail_and_messages_come_back() {
        let ipc = KernelIpc::new();
        assert_eq!(
            ipc.port_allocate(RightType::Receive),
            Err(KernReturn::Failure)
        );
        let msg = Message::new(7, PortName(3), Disposition::CopySend);
        match ipc.mach_msg(Some(msg.clone()), None, &MsgOptions::default()) {
            Err(MachMsgError::Send(e)) => assert_eq!(e.message, msg),
            other => panic!("{other:?}"),
        }
    }
}
