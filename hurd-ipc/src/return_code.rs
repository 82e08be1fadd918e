//! Mach's return codes: `kern_return_t`, `mach_msg_return_t` and MIG's codes.
//!
//! The numbers are GNU Mach's, so they mean the same thing on the wire and in
//! logs as they do on the Hurd.

use core::fmt;
use num_enum::{IntoPrimitive, TryFromPrimitive};

/// `kern_return_t`: results of port and VM operations.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(i32)]
pub enum KernReturn {
    /// `KERN_SUCCESS`.
    Success = 0,
    /// `KERN_INVALID_ADDRESS`: the address is not valid.
    InvalidAddress = 1,
    /// `KERN_PROTECTION_FAILURE`: the memory does not permit the access.
    ProtectionFailure = 2,
    /// `KERN_NO_SPACE`: no room in the address space or name space.
    NoSpace = 3,
    /// `KERN_INVALID_ARGUMENT`: an argument is not applicable.
    InvalidArgument = 4,
    /// `KERN_FAILURE`: a catch-all failure.
    Failure = 5,
    /// `KERN_RESOURCE_SHORTAGE`: a resource could not be allocated.
    ResourceShortage = 6,
    /// `KERN_NOT_RECEIVER`: the task does not hold the receive right.
    NotReceiver = 7,
    /// `KERN_NO_ACCESS`: bogus access restriction.
    NoAccess = 8,
    /// `KERN_MEMORY_FAILURE`: the memory object was destroyed.
    MemoryFailure = 9,
    /// `KERN_MEMORY_ERROR`: the memory object could not return the data.
    MemoryError = 10,
    /// `KERN_NOT_IN_SET`: the receive right is not in a port set.
    NotInSet = 12,
    /// `KERN_NAME_EXISTS`: the name already denotes a right.
    NameExists = 13,
    /// `KERN_ABORTED`: the operation was aborted.
    Aborted = 14,
    /// `KERN_INVALID_NAME`: the name denotes no right.
    InvalidName = 15,
    /// `KERN_INVALID_TASK`: the target task is not active.
    InvalidTask = 16,
    /// `KERN_INVALID_RIGHT`: the name denotes a right, but not an appropriate one.
    InvalidRight = 17,
    /// `KERN_INVALID_VALUE`: a blatant range error.
    InvalidValue = 18,
    /// `KERN_UREFS_OVERFLOW`: the user-reference count would pass 65535.
    UrefsOverflow = 19,
    /// `KERN_INVALID_CAPABILITY`: the port capability is improper.
    InvalidCapability = 20,
    /// `KERN_RIGHT_EXISTS`: the space holds the port under another name.
    RightExists = 21,
    /// `KERN_INVALID_HOST`: not a host.
    InvalidHost = 22,
    /// `KERN_MEMORY_PRESENT`: precious data supplied for memory already present.
    MemoryPresent = 23,
    /// `KERN_WRITE_PROTECTION_FAILURE`.
    WriteProtectionFailure = 24,
    /// `KERN_TERMINATED`: the object has been terminated.
    Terminated = 26,
    /// `KERN_TIMEDOUT`: a kernel operation timed out.
    TimedOut = 27,
    /// `KERN_INTERRUPTED`: a kernel operation was interrupted.
    Interrupted = 28,
}

/// `mach_msg_return_t`: why a send or a receive failed.
///
/// The send codes say what happened to the message; see
/// [`MsgReturn::hands_back_message`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum MsgReturn {
    /// `MACH_SEND_INVALID_DATA`: bogus in-line data.
    SendInvalidData = 0x1000_0002,
    /// `MACH_SEND_INVALID_DEST`: the destination is not a send or send-once right.
    SendInvalidDest = 0x1000_0003,
    /// `MACH_SEND_TIMED_OUT`: the queue stayed full until the timeout.
    SendTimedOut = 0x1000_0004,
    /// `MACH_SEND_WILL_NOTIFY`: a msg-accepted notification will follow.
    SendWillNotify = 0x1000_0005,
    /// `MACH_SEND_NOTIFY_IN_PROGRESS`: a msg-accepted notification is already pending.
    SendNotifyInProgress = 0x1000_0006,
    /// `MACH_SEND_INTERRUPTED`: the sender was interrupted while blocked.
    SendInterrupted = 0x1000_0007,
    /// `MACH_SEND_MSG_TOO_SMALL`: the data does not hold a complete message.
    SendMsgTooSmall = 0x1000_0008,
    /// `MACH_SEND_INVALID_REPLY`: the reply port is bogus.
    SendInvalidReply = 0x1000_0009,
    /// `MACH_SEND_INVALID_RIGHT`: a right in the body is bogus.
    SendInvalidRight = 0x1000_000a,
    /// `MACH_SEND_INVALID_NOTIFY`: the notify port is bogus.
    SendInvalidNotify = 0x1000_000b,
    /// `MACH_SEND_INVALID_MEMORY`: out-of-line memory is invalid.
    SendInvalidMemory = 0x1000_000c,
    /// `MACH_SEND_NO_BUFFER`: no message buffer is available.
    SendNoBuffer = 0x1000_000d,
    /// `MACH_SEND_NO_NOTIFY`: cannot request a msg-accepted notification.
    SendNoNotify = 0x1000_000e,
    /// `MACH_SEND_INVALID_TYPE`: an item's type descriptor is invalid.
    SendInvalidType = 0x1000_000f,
    /// `MACH_SEND_INVALID_HEADER`: a header field has a bad value.
    SendInvalidHeader = 0x1000_0010,
    /// `MACH_RCV_INVALID_NAME`: the name is not a receive right or port set.
    RcvInvalidName = 0x1000_4002,
    /// `MACH_RCV_TIMED_OUT`: no message arrived before the timeout.
    RcvTimedOut = 0x1000_4003,
    /// `MACH_RCV_TOO_LARGE`: the message is larger than the receive limit.
    RcvTooLarge = 0x1000_4004,
    /// `MACH_RCV_INTERRUPTED`: the receiver was interrupted.
    RcvInterrupted = 0x1000_4005,
    /// `MACH_RCV_PORT_CHANGED`: the port moved into a set during the receive.
    RcvPortChanged = 0x1000_4006,
    /// `MACH_RCV_INVALID_NOTIFY`: the notify port is bogus.
    RcvInvalidNotify = 0x1000_4007,
    /// `MACH_RCV_INVALID_DATA`: the receive buffer is bogus.
    RcvInvalidData = 0x1000_4008,
    /// `MACH_RCV_PORT_DIED`: the port or set was destroyed during the receive.
    RcvPortDied = 0x1000_4009,
    /// `MACH_RCV_IN_SET`: the port is a member of a set.
    RcvInSet = 0x1000_400a,
    /// `MACH_RCV_HEADER_ERROR`: the header could not be received.
    RcvHeaderError = 0x1000_400b,
    /// `MACH_RCV_BODY_ERROR`: the body could not be received.
    RcvBodyError = 0x1000_400c,
}

impl MsgReturn {
    /// Whether a send that failed this way returns the message to the sender with
    /// every right and all memory intact ("pseudo-receive"): timeouts, interrupts and
    /// failed notification requests. Other send errors leave the sender's rights as
    /// they were before the call.
    pub const fn hands_back_message(self) -> bool {
        matches!(
            self,
            MsgReturn::SendTimedOut
                | MsgReturn::SendInterrupted
                | MsgReturn::SendNoNotify
                | MsgReturn::SendNotifyInProgress
        )
    }

    /// Whether this is a send-phase code.
    pub const fn is_send_error(self) -> bool {
        (self as u32) < 0x1000_4000
    }
}

/// The codes MIG-generated stubs and demultiplexers use.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(i32)]
pub enum MigReturn {
    /// `MIG_TYPE_ERROR`: the reply's items do not have the expected types.
    TypeError = -300,
    /// `MIG_REPLY_MISMATCH`: the reply's id is not the request's id + 100.
    ReplyMismatch = -301,
    /// `MIG_REMOTE_ERROR`: the server detected an error.
    RemoteError = -302,
    /// `MIG_BAD_ID`: no routine has this message id.
    BadId = -303,
    /// `MIG_BAD_ARGUMENTS`: the request's items do not match the routine.
    BadArguments = -304,
    /// `MIG_NO_REPLY`: the server will reply later, or not at all.
    NoReply = -305,
    /// `MIG_EXCEPTION`: the server raised an exception.
    Exception = -306,
    /// `MIG_ARRAY_TOO_LARGE`: an array is larger than allowed.
    ArrayTooLarge = -307,
    /// `MIG_SERVER_DIED`: the server died before replying.
    ServerDied = -308,
}

/// Any code a Mach call or RPC can return: the union of the three code spaces,
/// plus codes defined by the server (the Hurd's errno values travel this way).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// A kernel return code.
    Kern(KernReturn),
    /// A message send or receive failure.
    Msg(MsgReturn),
    /// A MIG stub or demultiplexer failure.
    Mig(MigReturn),
    /// A code defined by the server's protocol (an errno value on the Hurd).
    Code(i32),
}

impl Error {
    /// The 32-bit code as it travels in a reply's return-code field.
    pub fn code(self) -> i32 {
        match self {
            Error::Kern(k) => k.into(),
            Error::Msg(m) => u32::from(m) as i32,
            Error::Mig(m) => m.into(),
            Error::Code(c) => c,
        }
    }

    /// Interprets a return-code field: known Mach and MIG codes become their
    /// variants, anything else stays a server-defined [`Error::Code`].
    /// Zero (success) is not an error and yields `None`.
    pub fn from_code(code: i32) -> Option<Error> {
        if code == 0 {
            return None;
        }
        if let Ok(k) = KernReturn::try_from(code) {
            return Some(Error::Kern(k));
        }
        if let Ok(m) = MigReturn::try_from(code) {
            return Some(Error::Mig(m));
        }
        if let Ok(m) = MsgReturn::try_from(code as u32) {
            return Some(Error::Msg(m));
        }
        Some(Error::Code(code))
    }
}

impl From<KernReturn> for Error {
    fn from(k: KernReturn) -> Self {
        Error::Kern(k)
    }
}

impl From<MsgReturn> for Error {
    fn from(m: MsgReturn) -> Self {
        Error::Msg(m)
    }
}

impl From<MigReturn> for Error {
    fn from(m: MigReturn) -> Self {
        Error::Mig(m)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Kern(k) => write!(f, "{k:?}"),
            Error::Msg(m) => write!(f, "{m:?}"),
            Error::Mig(m) => write!(f, "{m:?}"),
            Error::Code(c) => write!(f, "Code({c:#x})"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} ({:#x})", self.code())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for e in [
            Error::Kern(KernReturn::InvalidName),
            Error::Msg(MsgReturn::SendTimedOut),
            Error::Mig(MigReturn::BadId),
            Error::Code(0x4000_0001),
        ] {
            assert_eq!(Error::from_code(e.code()), Some(e));
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(MigReturn::BadId as i32, -303);
        assert_eq!(MsgReturn::RcvTooLarge as u32, 0x1000_4004);
    }

    #[test]
    fn hand_back_classes() {
        assert!(MsgReturn::SendTimedOut.hands_back_message());
        assert!(MsgReturn::SendInterrupted.hands_back_message());
        assert!(!MsgReturn::SendInvalidDest.hands_back_message());
        assert!(MsgReturn::SendInvalidDest.is_send_error());
        assert!(!MsgReturn::RcvTimedOut.is_send_error());
    }
}

macro_rules! code_error {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?} ({:#x})", self, Error::from(*self).code())
            }
        }
        impl core::error::Error for $t {}
    )*};
}
code_error!(KernReturn, MsgReturn, MigReturn);
