//! `mach_msg` on a byte buffer holding a message in the wire form of
//! [`hurd_ipc::wire`]: the trap itself, for code that builds its messages
//! once and sends them many times (a benchmark loop, a pager answering
//! faults). [`KernelIpc`](crate::KernelIpc) offers the same call on
//! [`Message`](hurd_ipc::Message) values.

use core::time::Duration;

use hurd_abi::MAX_MESSAGE;
use hurd_abi::msg_option::{RCV_LARGE, RCV_MSG, RCV_TIMEOUT, SEND_MSG, SEND_TIMEOUT};
use hurd_abi::trap::MachMsg;
use hurd_ipc::{MsgReturn, PortName};

use crate::trap;

/// What one `mach_msg` does: send the message at the start of the buffer,
/// receive into the buffer, or both (send first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Send the first this many bytes of the buffer.
    pub send: Option<usize>,
    /// Then receive a message from this port (or port set) into the buffer.
    pub receive: Option<PortName>,
    /// Receive at most this many bytes (default: the buffer's length).
    pub receive_limit: Option<usize>,
    /// `MACH_RCV_LARGE`: a message larger than the limit stays queued, and
    /// the call fails with `MACH_RCV_TOO_LARGE` with the message's size in
    /// the buffer's `msgh_size` (see [`header_size`]). Without it such a
    /// message is destroyed.
    pub receive_large: bool,
    /// Give up a send that would wait longer (zero: do not wait at all).
    pub send_timeout: Option<Duration>,
    /// Give up a receive that would wait longer.
    pub receive_timeout: Option<Duration>,
}

/// A timeout in whole milliseconds, rounded up (the kernel's unit).
pub(crate) fn millis(d: Duration) -> u64 {
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// A `mach_msg` result code as hurd-ipc's; a code the kernel should never
/// give reads as the catch-all of its phase.
pub(crate) fn msg_code(code: u64, sending: bool) -> MsgReturn {
    u32::try_from(code)
        .ok()
        .and_then(|c| MsgReturn::try_from(c).ok())
        .unwrap_or(if sending {
            MsgReturn::SendInvalidData
        } else {
            MsgReturn::RcvInvalidData
        })
}

/// The `msgh_size` of the message header at the start of `buf` (0 when
/// `buf` is shorter than a header's size field): the size of a message
/// received, or after `MACH_RCV_TOO_LARGE` with
/// [`Options::receive_large`], the size the message needs.
pub fn header_size(buf: &[u8]) -> usize {
    buf.get(4..8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes) as usize
}

/// `mach_msg` on `buf`: sends its first `opts.send` bytes, then receives into
/// it (at most `buf.len()` bytes or `opts.receive_limit`, and at most the
/// kernel's [`MAX_MESSAGE`]). Returns the size of the message received (0 when only
/// sending).
///
/// The kernel has one timeout per call: when both parts have one, they must
/// be equal.
///
/// # Errors
///
/// The `MACH_SEND_*` or `MACH_RCV_*` code: `MACH_SEND_MSG_TOO_SMALL` when
/// `opts.send` is larger than the buffer, `MACH_SEND_INVALID_DATA` for two
/// different timeouts, `MACH_RCV_TOO_LARGE` when the message does not fit.
#[inline]
pub fn mach_msg(buf: &mut [u8], opts: &Options) -> Result<usize, MsgReturn> {
    let mut option = 0;
    let mut timeout = None;
    let send_size = match opts.send {
        Some(n) if n > buf.len() => return Err(MsgReturn::SendMsgTooSmall),
        Some(n) => {
            option |= SEND_MSG;
            if let Some(t) = opts.send_timeout {
                option |= SEND_TIMEOUT;
                timeout = Some(t);
            }
            n
        }
        None => 0,
    };
    if let Some(t) = opts.receive.and(opts.receive_timeout) {
        if timeout.is_some_and(|s| s != t) {
            return Err(MsgReturn::SendInvalidData);
        }
        option |= RCV_TIMEOUT;
        timeout = Some(t);
    }
    if opts.receive.is_some() {
        option |= RCV_MSG;
        if opts.receive_large {
            option |= RCV_LARGE;
        }
    }
    let rcv_size = opts
        .receive_limit
        .map_or(buf.len(), |n| n.min(buf.len()))
        .min(MAX_MESSAGE as usize) as u64;
    let rcv_name = opts.receive.map_or(0, |p| p.0);
    let call = MachMsg {
        msg: buf.as_mut_ptr() as u64,
        option,
        send_size: send_size as u64,
        rcv_size: if opts.receive.is_some() { rcv_size } else { 0 },
        rcv_name: PortName(rcv_name),
        timeout: timeout.map_or(0, millis),
    };
    // SAFETY: the kernel reads at most `send_size <= buf.len()` bytes and
    // writes at most `rcv_size <= buf.len()` bytes at `buf`, a slice this
    // function borrows mutably for the call. Rights named in the message
    // move as its dispositions say, which is no memory matter.
    if let Err(code) = unsafe { trap::trap(call) } {
        let sending = opts.send.is_some()
            && (opts.receive.is_none() || code < MsgReturn::RcvInvalidName as u64);
        return Err(msg_code(code, sending));
    }
    if opts.receive.is_none() {
        return Ok(0);
    }
    // The kernel wrote a message of the size its header gives.
    Ok(header_size(buf).min(buf.len()))
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
    }

    #[test]
    fn bad_requests_are_refused_before_the_trap() {
        let mut buf = [0u8; 16];
        let too_long = Options {
            send: Some(24),
            ..Options::default()
        };
        assert_eq!(
            mach_msg(&mut buf, &too_long),
            Err(MsgReturn::SendMsgTooSmall)
        );
        let two = Options {
            send: Some(0),
            receive: Some(PortName(5)),
            receive_limit: None,
            receive_large: false,
            send_timeout: Some(Duration::from_millis(1)),
            receive_timeout: Some(Duration::from_millis(2)),
        };
        assert_eq!(mach_msg(&mut buf, &two), Err(MsgReturn::SendInvalidData));
    }

    #[test]
    fn header_size_reads_msgh_size_or_nothing() {
        assert_eq!(header_size(&[1, 0, 0, 0, 0x70, 0x17, 0, 0, 9]), 6000);
        assert_eq!(header_size(&[0; 7]), 0);
        assert_eq!(header_size(&[]), 0);
    }
}
