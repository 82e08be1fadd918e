//! The Hurd's error numbers, as the auth and password protocols return them.
//!
//! On the Hurd, `errno` values live in their own range: `0x4000_0000 | n`,
//! with `n` the BSD number (glibc's `sysdeps/mach/hurd/bits/errno.h`). They
//! travel in a reply's return-code field as [`hurd_ipc::Error::Code`].

use hurd_ipc::Error;
use num_enum::{IntoPrimitive, TryFromPrimitive};

/// An `errno` value in the Hurd's numbering.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(i32)]
pub enum Errno {
    /// `EPERM`: the presented handles do not hold the ids asked for; a login failed.
    Perm = 0x4000_0001,
    /// `EINTR`: the call was interrupted.
    Intr = 0x4000_0004,
    /// `ENOMEM`: the server could not allocate what the call needs.
    NoMem = 0x4000_000c,
    /// `EACCES`: permission denied (used by servers built on this crate).
    Access = 0x4000_000d,
    /// `EBUSY`: the rendezvous port already has a call of the same kind waiting.
    Busy = 0x4000_0010,
    /// `EINVAL`: a bad argument: a port that is not an auth handle, a rendezvous
    /// port that is not a send right or that died.
    Inval = 0x4000_0016,
    /// `EAGAIN`: a bounded table is full; try again later.
    Again = 0x4000_0023,
    /// `EOPNOTSUPP`: the request arrived on a port that is not an auth handle.
    OpNotSupp = 0x4000_002d,
    /// `ETIMEDOUT`: the other side of a rendezvous did not come in time.
    TimedOut = 0x4000_003c,
}

impl Errno {
    /// The errno an RPC failed with, if it is one of these.
    pub fn of(err: Error) -> Option<Errno> {
        match err {
            Error::Code(c) => Errno::try_from(c).ok(),
            _ => None,
        }
    }
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Error {
        Error::Code(e.into())
    }
}

impl core::fmt::Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            Errno::Perm => "operation not permitted",
            Errno::Intr => "interrupted system call",
            Errno::NoMem => "cannot allocate memory",
            Errno::Access => "permission denied",
            Errno::Busy => "device or resource busy",
            Errno::Inval => "invalid argument",
            Errno::Again => "resource temporarily unavailable",
            Errno::OpNotSupp => "operation not supported",
            Errno::TimedOut => "connection timed out",
        };
        f.write_str(s)
    }
}

impl core::error::Error for Errno {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_glibc_hurd() {
        assert_eq!(i32::from(Errno::Perm), 1_073_741_825);
        assert_eq!(i32::from(Errno::Inval), 1_073_741_846);
        assert_eq!(i32::from(Errno::Again), 1_073_741_859);
        assert_eq!(i32::from(Errno::OpNotSupp), 1_073_741_869);
        assert_eq!(i32::from(Errno::TimedOut), 1_073_741_884);
    }

    #[test]
    fn round_trips_through_ipc_error() {
        let e: Error = Errno::Perm.into();
        assert_eq!(Error::from_code(e.code()), Some(e));
        assert_eq!(Errno::of(e), Some(Errno::Perm));
        assert_eq!(Errno::of(Error::Code(7)), None);
    }
}
