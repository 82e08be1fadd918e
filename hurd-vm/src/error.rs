//! Errors, with the `kern_return_t` codes Mach gives them.

use core::fmt;

use hurd_ipc::KernReturn;
use num_enum::{IntoPrimitive, TryFromPrimitive};

/// Why a VM operation or a fault failed. The discriminants are Mach's
/// `kern_return_t` codes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(i32)]
pub enum VmError {
    /// `KERN_INVALID_ADDRESS`: nothing is mapped there.
    InvalidAddress = 1,
    /// `KERN_PROTECTION_FAILURE`: the region does not permit the access.
    ProtectionFailure = 2,
    /// `KERN_NO_SPACE`: no room in the address range, or it is taken.
    NoSpace = 3,
    /// `KERN_INVALID_ARGUMENT`: misaligned, empty or out-of-range arguments.
    InvalidArgument = 4,
    /// `KERN_FAILURE`.
    Failure = 5,
    /// `KERN_RESOURCE_SHORTAGE`: out of physical frames.
    ResourceShortage = 6,
    /// `KERN_MEMORY_FAILURE`: the memory object was destroyed or its pager died.
    MemoryFailure = 9,
    /// `KERN_MEMORY_ERROR`: the pager answered `data_error`.
    MemoryError = 10,
    /// `KERN_INVALID_NAME`: no such map, object or control port.
    InvalidName = 15,
    /// `KERN_TERMINATED`: the object has been terminated.
    Terminated = 26,
    /// `KERN_TIMEDOUT`: a wait for the pager gave up.
    TimedOut = 27,
}

impl VmError {
    /// The `kern_return_t`.
    pub fn kern_return(self) -> KernReturn {
        KernReturn::try_from(i32::from(self)).unwrap_or(KernReturn::Failure)
    }

    /// The error a pager's `data_error` code stands for: `KERN_MEMORY_ERROR`
    /// unless it names one of ours.
    pub fn from_pager_code(code: i32) -> VmError {
        match VmError::try_from(code) {
            Ok(e @ (VmError::MemoryFailure | VmError::MemoryError | VmError::ResourceShortage)) => {
                e
            }
            _ => VmError::MemoryError,
        }
    }
}

impl From<VmError> for KernReturn {
    fn from(e: VmError) -> KernReturn {
        e.kern_return()
    }
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            VmError::InvalidAddress => "invalid address",
            VmError::ProtectionFailure => "protection failure",
            VmError::NoSpace => "no space",
            VmError::InvalidArgument => "invalid argument",
            VmError::Failure => "failure",
            VmError::ResourceShortage => "out of frames",
            VmError::MemoryFailure => "memory object failed",
            VmError::MemoryError => "pager returned an error",
            VmError::InvalidName => "no such name",
            VmError::Terminated => "object terminated",
            VmError::TimedOut => "timed out waiting for the pager",
        };
        write!(f, "{s} ({})", i32::from(*self))
    }
}

impl core::error::Error for VmError {}

/// Why a message from a pager was rejected. Nothing it asked was applied.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ProtocolError {
    /// The control port names no object of this kernel.
    UnknownControl,
    /// The object was terminated or destroyed.
    Terminated,
    /// An offset or size is not page-aligned, or the size is zero.
    Unaligned,
    /// The data's length is not the whole pages the message claims.
    WrongSize,
    /// The range lies outside the object.
    OutOfRange,
    /// Data or an error for pages the kernel did not ask for.
    Unsolicited,
    /// A field holds a value outside its range (protection, copy strategy,
    /// return policy).
    BadValue,
    /// The message does not match any pager→kernel routine's arguments.
    Malformed,
}

impl ProtocolError {
    /// The closest `kern_return_t`, for logs and replies.
    pub fn kern_return(self) -> KernReturn {
        match self {
            ProtocolError::UnknownControl => KernReturn::InvalidName,
            ProtocolError::Terminated => KernReturn::Terminated,
            ProtocolError::Unaligned | ProtocolError::WrongSize | ProtocolError::BadValue => {
                KernReturn::InvalidArgument
            }
            ProtocolError::OutOfRange => KernReturn::InvalidAddress,
            ProtocolError::Unsolicited => KernReturn::InvalidValue,
            ProtocolError::Malformed => KernReturn::InvalidArgument,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl core::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(VmError::MemoryError.kern_return(), KernReturn::MemoryError);
        assert_eq!(VmError::TimedOut.kern_return(), KernReturn::TimedOut);
        assert_eq!(VmError::from_pager_code(5), VmError::MemoryError);
        assert_eq!(VmError::from_pager_code(9), VmError::MemoryFailure);
    }
}
