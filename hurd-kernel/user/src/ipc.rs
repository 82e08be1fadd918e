//! [`KernelIpc`]: hurd-ipc's user-side API ([`UserIpc`]) over the kernel's
//! system calls, so servers and clients written for the hosted runtime run
//! unchanged as tasks of the reference kernel.
//!
//! `mach_msg` encodes the [`Message`] in the wire form of [`hurd_ipc::wire`]
//! into a buffer, traps with the send and receive options, and decodes what
//! the kernel wrote back. `mach_port_allocate`, `mach_port_deallocate` and
//! `mach_port_destroy` are system calls of their own; the other port calls
//! go through `port_call` (GNU Mach's `mach_port.defs` routines on the
//! caller's space, see [`hurd_abi::port_call`]).
//!
//! What the kernel's `mach_msg` does not offer:
//! - one timeout per call: when a send and a receive are combined with two
//!   different timeouts, the send and the receive are made as two traps;
//! - `MACH_SEND_INTERRUPT` / `MACH_RCV_INTERRUPT`: a thread is never
//!   interrupted in `mach_msg`, so the flags change nothing;
//! - `MACH_RCV_LARGE`: a message larger than the receive limit is reported as
//!   [`MsgReturn::RcvTooLarge`] with the kernel's handling of it, and its size
//!   is not known (0).

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;

use hurd_abi::msg_option::{RCV_MSG, RCV_TIMEOUT, SEND_MSG, SEND_TIMEOUT};
use hurd_abi::{MAX_MESSAGE, nr, port_call as call};
use hurd_ipc::{
    Disposition, KernReturn, MachMsgError, Message, MsgOptions, MsgReturn, NotifyKind, PortId,
    PortName, PortStatus, PortType, RecvError, RightType, SendError, UserIpc, wire,
};

use crate::sys;

/// The smallest message: a header.
const HEADER_SIZE: usize = 24;

/// hurd-ipc's user-side API for a task of the reference kernel.
///
/// It holds nothing but a cached reply port (`mig_get_reply_port`), so a
/// program makes one and shares it between its threads: a thread that finds
/// the cache empty allocates a port of its own.
#[derive(Debug, Default)]
pub struct KernelIpc {
    /// A receive right kept for the next RPC's reply, or 0.
    reply: AtomicU32,
}

impl KernelIpc {
    /// The calling task's IPC, with no reply port cached yet.
    pub const fn new() -> KernelIpc {
        KernelIpc {
            reply: AtomicU32::new(0),
        }
    }

    /// One `mach_msg` trap: sends `send` (if any), then receives on `rcv` (if
    /// any) with `timeout` applying to the parts `option` says.
    fn trap(
        &self,
        send: Option<&[u8]>,
        rcv: Option<(PortName, u64)>,
        option: u64,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, u64> {
        let send_len = send.map_or(0, <[u8]>::len);
        let rcv_len = rcv.map_or(0, |(_, size)| size as usize);
        let mut buf = vec![0u8; send_len.max(rcv_len).max(HEADER_SIZE)];
        if let Some(bytes) = send {
            buf[..send_len].copy_from_slice(bytes);
        }
        let code = sys::mach_msg(
            buf.as_mut_ptr(),
            option,
            send_len as u64,
            rcv_len as u64,
            rcv.map_or(0, |(name, _)| name.0),
            timeout.map_or(0, millis),
        );
        if code != 0 {
            return Err(code);
        }
        // The kernel wrote a message of the size its header gives.
        let size = wire::peek_header(&buf).map_or(0, |h| h.size as usize);
        buf.truncate(size.min(buf.len()));
        Ok(buf)
    }

    /// The receive limit for `opts`, in bytes.
    fn rcv_size(opts: &MsgOptions) -> u64 {
        opts.rcv
            .max_size
            .unwrap_or(MAX_MESSAGE)
            .clamp(HEADER_SIZE as u64, MAX_MESSAGE)
    }
}

/// A timeout in whole milliseconds, rounded up (the kernel's unit).
fn millis(d: Duration) -> u64 {
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// A `mach_msg` result code as hurd-ipc's; a code the kernel should never
/// give reads as the closest catch-all of its phase.
fn msg_code(code: u64, sending: bool) -> MsgReturn {
    u32::try_from(code)
        .ok()
        .and_then(|c| MsgReturn::try_from(c).ok())
        .unwrap_or(if sending {
            MsgReturn::SendInvalidData
        } else {
            MsgReturn::RcvInvalidData
        })
}

/// A port call's result code as a [`KernReturn`].
/// One `port_call` (see [`hurd_abi::port_call`]).
fn port_call(id: u64, name: PortName, args: [u64; 4]) -> Result<u64, KernReturn> {
    sys::port_call(id, name.0, args).map_err(|code| match kern(code) {
        Err(e) => e,
        Ok(()) => KernReturn::Failure,
    })
}

fn kern(code: u64) -> Result<(), KernReturn> {
    match code {
        0 => Ok(()),
        c => Err(i32::try_from(c)
            .ok()
            .and_then(|c| KernReturn::try_from(c).ok())
            .unwrap_or(KernReturn::Failure)),
    }
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
                Ok(bytes) if bytes.len() as u64 <= MAX_MESSAGE => Some(bytes),
                Ok(_) => {
                    let message = send.unwrap_or_default();
                    return Err(SendError {
                        code: MsgReturn::SendNoBuffer,
                        message,
                    }
                    .into());
                }
                Err(code) => {
                    let message = send.unwrap_or_default();
                    return Err(SendError { code, message }.into());
                }
            },
            None => None,
        };
        // ANCHOR: options
        let mut option = 0;
        let mut timeout = None;
        if encoded.is_some() {
            option |= SEND_MSG;
            if let Some(t) = opts.send_timeout {
                option |= SEND_TIMEOUT;
                timeout = Some(t);
            }
        }
        let rcv = rcv.map(|name| (name, Self::rcv_size(opts)));
        if rcv.is_some() {
            option |= RCV_MSG;
            if let Some(t) = opts.rcv_timeout {
                option |= RCV_TIMEOUT;
                timeout = Some(t);
            }
        }
        // ANCHOR_END: options
        match self.trap(encoded.as_deref(), rcv, option, timeout) {
            Ok(bytes) if rcv.is_some() => wire::decode(&bytes, &wire::Limits::UNLIMITED)
                .map(Some)
                .map_err(|_| RecvError::from(MsgReturn::RcvInvalidData).into()),
            Ok(_) => Ok(None),
            Err(code) => {
                let sending = encoded.is_some()
                    && (rcv.is_none() || code < u64::from(MsgReturn::RcvInvalidName as u32));
                let code = msg_code(code, sending);
                match send {
                    // The kernel took nothing from the message: it is handed
                    // back as the caller gave it.
                    Some(message) if sending => Err(SendError { code, message }.into()),
                    _ => Err(RecvError::from(code).into()),
                }
            }
        }
    }

    fn port_allocate(&self, right: RightType) -> Result<PortName, KernReturn> {
        match sys::port_allocate(right as u64) {
            Ok(name) => Ok(PortName(name)),
            Err(code) => kern(code).and(Err(KernReturn::Failure)),
        }
    }

    fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn> {
        kern(sys::syscall(nr::PORT_DEALLOCATE, [u64::from(name.0), 0, 0, 0, 0, 0]).0)
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
        let refs = port_call(call::GET_REFS, name, [right as u64, 0, 0, 0])?;
        u16::try_from(refs).map_err(|_| KernReturn::Failure)
    }

    fn port_type(&self, name: PortName) -> Result<PortType, KernReturn> {
        let bits = port_call(call::TYPE, name, [0; 4])?;
        Ok(PortType::from_bits_retain(bits as u32))
    }
    // ANCHOR_END: port_calls

    fn port_destroy(&self, name: PortName) -> Result<(), KernReturn> {
        kern(sys::port_destroy(name.0))
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
        port_call(call::SET_QLIMIT, name, [u64::from(qlimit), 0, 0, 0]).map(drop)
    }

    fn port_get_receive_status(&self, name: PortName) -> Result<PortStatus, KernReturn> {
        let mut raw = [0u8; call::STATUS_SIZE];
        port_call(
            call::GET_RECEIVE_STATUS,
            name,
            [raw.as_mut_ptr() as u64, 0, 0, 0],
        )?;
        let word = |i: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&raw[4 * i..4 * i + 4]);
            u32::from_le_bytes(w)
        };
        let mut id = [0u8; 8];
        id.copy_from_slice(&raw[40..48]);
        Ok(PortStatus {
            pset: PortName(word(0)),
            seqno: word(1),
            mscount: word(2),
            qlimit: u16::try_from(word(3)).map_err(|_| KernReturn::Failure)?,
            msgcount: word(4),
            sorights: word(5),
            srights: word(6) != 0,
            pdrequest: word(7) != 0,
            nsrequest: word(8) != 0,
            id: PortId(u64::from_le_bytes(id)),
        })
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
        port_call(call::PORT_ID, name, [0; 4]).map(PortId)
    }

    fn port_allocate_name(&self, right: RightType, name: PortName) -> Result<(), KernReturn> {
        port_call(call::ALLOCATE_NAME, name, [right as u64, 0, 0, 0]).map(drop)
    }

    fn port_names(&self) -> Result<Vec<(PortName, PortType)>, KernReturn> {
        let mut capacity = 64;
        loop {
            let mut raw = vec![0u32; 2 * capacity];
            let count = port_call(
                call::NAMES,
                PortName::NULL,
                [raw.as_mut_ptr() as u64, capacity as u64, 0, 0],
            )? as usize;
            if count <= capacity {
                return Ok(raw[..2 * count]
                    .chunks_exact(2)
                    .map(|p| (PortName(p[0]), PortType::from_bits_retain(p[1])))
                    .collect());
            }
            // More names than room: ask again with enough.
            capacity = count;
        }
    }

    fn port_set_mscount(&self, name: PortName, mscount: u32) -> Result<(), KernReturn> {
        port_call(call::SET_MSCOUNT, name, [u64::from(mscount), 0, 0, 0]).map(drop)
    }

    fn port_set_seqno(&self, name: PortName, seqno: u32) -> Result<(), KernReturn> {
        port_call(call::SET_SEQNO, name, [u64::from(seqno), 0, 0, 0]).map(drop)
    }

    fn reply_port(&self) -> Result<PortName, KernReturn> {
        match self.reply.swap(0, Ordering::AcqRel) {
            0 => self.port_allocate(RightType::Receive),
            name => Ok(PortName(name)),
        }
    }

    /// Keeps the port for the next RPC after a successful one (when the
    /// cache is empty); destroys it otherwise, so a late reply to a failed
    /// RPC cannot be taken for the next one's.
    fn release_reply_port(&self, name: PortName, ok: bool) {
        if ok
            && self
                .reply
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
    fn timeouts_round_up_to_milliseconds() {
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_nanos(1)), 1);
        assert_eq!(millis(Duration::from_millis(20)), 20);
        assert_eq!(millis(Duration::from_micros(20_001)), 21);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn codes_map_to_hurd_ipc_and_unknown_ones_to_their_phase() {
        assert_eq!(msg_code(0x1000_0003, true), MsgReturn::SendInvalidDest);
        assert_eq!(msg_code(0x1000_4003, false), MsgReturn::RcvTimedOut);
        assert_eq!(msg_code(0x1234, true), MsgReturn::SendInvalidData);
        assert_eq!(msg_code(u64::MAX, false), MsgReturn::RcvInvalidData);
        assert_eq!(kern(0), Ok(()));
        assert_eq!(kern(15), Err(KernReturn::InvalidName));
        assert_eq!(kern(9999), Err(KernReturn::Failure));
        assert_eq!(kern(u64::MAX), Err(KernReturn::Failure));
    }

    #[test]
    fn receive_limits_stay_within_what_the_kernel_copies() {
        let with = |max_size| MsgOptions {
            rcv: hurd_ipc::RecvOptions {
                max_size,
                large: false,
            },
            ..MsgOptions::default()
        };
        assert_eq!(KernelIpc::rcv_size(&with(None)), MAX_MESSAGE);
        assert_eq!(KernelIpc::rcv_size(&with(Some(0))), HEADER_SIZE as u64);
        assert_eq!(KernelIpc::rcv_size(&with(Some(100))), 100);
        assert_eq!(KernelIpc::rcv_size(&with(Some(u64::MAX))), MAX_MESSAGE);
    }
}
