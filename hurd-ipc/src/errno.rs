//! The Hurd's error numbers, as its servers return them (auth, password,
//! proc, exec, the file system protocols).
//!
//! On the Hurd, `errno` values live in their own range: `0x4000_0000 | n`,
//! with `n` the BSD number (glibc's `sysdeps/mach/hurd/bits/errno.h`). They
//! travel in a reply's return-code field as [`Error::Code`], next to Mach's
//! own codes in [`crate::return_code`]. [`Errno::linux`] gives the number a
//! Linux program expects for the same condition (the FUSE bridge and the
//! POSIX layer answer with it).

use crate::Error;
use num_enum::{IntoPrimitive, TryFromPrimitive};

/// An `errno` value in the Hurd's numbering.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(i32)]
pub enum Errno {
    /// `EPERM`: the presented handles do not hold the ids asked for; a login failed.
    Perm = 0x4000_0001,
    /// `ENOENT`: no such file or directory.
    NoEnt = 0x4000_0002,
    /// `EINTR`: the call was interrupted.
    Intr = 0x4000_0004,
    /// `EIO`: an input/output error.
    Io = 0x4000_0005,
    /// `ENXIO`: no such device (no controlling terminal, for instance).
    NxIo = 0x4000_0006,
    /// `ENOEXEC`: the file is not a program this system can run.
    NoExec = 0x4000_0008,
    /// `EBADF`: a bad file descriptor, or a port not open for the operation.
    BadF = 0x4000_0009,
    /// `ENOMEM`: the server could not allocate what the call needs.
    NoMem = 0x4000_000c,
    /// `EACCES`: permission denied (used by servers built on this crate).
    Access = 0x4000_000d,
    /// `EBUSY`: the rendezvous port already has a call of the same kind waiting.
    Busy = 0x4000_0010,
    /// `EEXIST`: the file exists.
    Exist = 0x4000_0011,
    /// `EXDEV`: a link or rename across file systems.
    XDev = 0x4000_0012,
    /// `ENOTDIR`: not a directory.
    NotDir = 0x4000_0014,
    /// `EISDIR`: is a directory.
    IsDir = 0x4000_0015,
    /// `EINVAL`: a bad argument: a port that is not an auth handle, a rendezvous
    /// port that is not a send right or that died.
    Inval = 0x4000_0016,
    /// `EFBIG`: the file would grow too large.
    FBig = 0x4000_001b,
    /// `ENOSPC`: no space left.
    NoSpc = 0x4000_001c,
    /// `EMLINK`: a file would have too many links.
    MLink = 0x4000_001f,
    /// `ESPIPE`: the object cannot seek.
    SPipe = 0x4000_001d,
    /// `EROFS`: a read-only file system.
    RoFs = 0x4000_001e,
    /// `EPIPE`: the other end of a connection or pipe is closed for writing.
    Pipe = 0x4000_0020,
    /// `EAGAIN`: a bounded table is full; try again later.
    Again = 0x4000_0023,
    /// `EDESTADDRREQ`: a datagram with nowhere to go (no address given, no
    /// peer connected).
    DestAddrReq = 0x4000_0027,
    /// `EMSGSIZE`: a datagram too long to send at once.
    MsgSize = 0x4000_0028,
    /// `EPROTONOSUPPORT`: the protocol is not supported.
    ProtoNoSupport = 0x4000_002b,
    /// `ESOCKTNOSUPPORT`: the socket type is not supported.
    SockTNoSupport = 0x4000_002c,
    /// `EOPNOTSUPP`: the request arrived on a port that is not an auth handle.
    OpNotSupp = 0x4000_002d,
    /// `EAFNOSUPPORT`: the address family is not supported.
    AfNoSupport = 0x4000_002f,
    /// `EADDRINUSE`: the address (port) is in use.
    AddrInUse = 0x4000_0030,
    /// `EADDRNOTAVAIL`: the address is not this machine's.
    AddrNotAvail = 0x4000_0031,
    /// `ENETUNREACH`: the network cannot be reached.
    NetUnreach = 0x4000_0033,
    /// `ECONNRESET`: the peer reset the connection.
    ConnReset = 0x4000_0036,
    /// `ENOBUFS`: no buffer space (or table room) left.
    NoBufs = 0x4000_0037,
    /// `EISCONN`: the socket is connected already.
    IsConn = 0x4000_0038,
    /// `ENOTCONN`: the socket is not connected.
    NotConn = 0x4000_0039,
    /// `ETIMEDOUT`: the other side of a rendezvous did not come in time.
    TimedOut = 0x4000_003c,
    /// `ECONNREFUSED`: the peer refused the connection.
    ConnRefused = 0x4000_003d,
    /// `ELOOP`: too many symbolic links (or lookup retries).
    Loop = 0x4000_003e,
    /// `ENAMETOOLONG`: a file name is too long.
    NameTooLong = 0x4000_003f,
    /// `ENOTEMPTY`: the directory is not empty.
    NotEmpty = 0x4000_0042,
    /// `ENOSYS`: the function is not implemented.
    NoSys = 0x4000_004e,
    /// `EFTYPE`: inappropriate file type or format (a corrupt archive).
    FType = 0x4000_004f,
    /// `EDIED`: a translator died while starting, before it connected.
    Died = 0x4000_0065,
    /// `EGRATUITOUS`: a malformed magic retry, or a protocol violation.
    Gratuitous = 0x4000_0069,
}

impl Errno {
    /// The errno an RPC failed with, if it is one of these.
    pub fn of(err: Error) -> Option<Errno> {
        match err {
            Error::Code(c) => Errno::try_from(c).ok(),
            _ => None,
        }
    }

    /// The number Linux gives the same condition (`asm-generic/errno.h`), for
    /// answering a Linux program or the kernel's FUSE interface. The Hurd-only
    /// codes, which Linux lacks, become `EIO`: `EFTYPE`, `EDIED` and
    /// `EGRATUITOUS`.
    pub const fn linux(self) -> i32 {
        match self {
            Errno::Perm => 1,
            Errno::NoEnt => 2,
            Errno::Intr => 4,
            Errno::Io => 5,
            Errno::NxIo => 6,
            Errno::NoExec => 8,
            Errno::BadF => 9,
            Errno::Again => 11,
            Errno::NoMem => 12,
            Errno::Access => 13,
            Errno::Busy => 16,
            Errno::Exist => 17,
            Errno::XDev => 18,
            Errno::NotDir => 20,
            Errno::IsDir => 21,
            Errno::Inval => 22,
            Errno::FBig => 27,
            Errno::NoSpc => 28,
            Errno::SPipe => 29,
            Errno::RoFs => 30,
            Errno::MLink => 31,
            Errno::Pipe => 32,
            Errno::DestAddrReq => 89,
            Errno::MsgSize => 90,
            Errno::ProtoNoSupport => 93,
            Errno::SockTNoSupport => 94,
            Errno::AfNoSupport => 97,
            Errno::AddrInUse => 98,
            Errno::AddrNotAvail => 99,
            Errno::NetUnreach => 101,
            Errno::ConnReset => 104,
            Errno::NoBufs => 105,
            Errno::IsConn => 106,
            Errno::NotConn => 107,
            Errno::ConnRefused => 111,
            Errno::NameTooLong => 36,
            Errno::NoSys => 38,
            Errno::NotEmpty => 39,
            Errno::Loop => 40,
            Errno::OpNotSupp => 95,
            Errno::TimedOut => 110,
            Errno::FType | Errno::Died | Errno::Gratuitous => 5,
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
            Errno::NoEnt => "no such file or directory",
            Errno::Intr => "interrupted system call",
            Errno::Io => "input/output error",
            Errno::NxIo => "no such device or address",
            Errno::NoExec => "exec format error",
            Errno::BadF => "bad file descriptor",
            Errno::NoMem => "cannot allocate memory",
            Errno::Access => "permission denied",
            Errno::Busy => "device or resource busy",
            Errno::Exist => "file exists",
            Errno::XDev => "invalid cross-device link",
            Errno::NotDir => "not a directory",
            Errno::IsDir => "is a directory",
            Errno::Inval => "invalid argument",
            Errno::FBig => "file too large",
            Errno::NoSpc => "no space left on device",
            Errno::SPipe => "illegal seek",
            Errno::RoFs => "read-only file system",
            Errno::MLink => "too many links",
            Errno::Pipe => "broken pipe",
            Errno::DestAddrReq => "destination address required",
            Errno::MsgSize => "message too long",
            Errno::ProtoNoSupport => "protocol not supported",
            Errno::SockTNoSupport => "socket type not supported",
            Errno::AfNoSupport => "address family not supported by protocol",
            Errno::AddrInUse => "address already in use",
            Errno::AddrNotAvail => "cannot assign requested address",
            Errno::NetUnreach => "network is unreachable",
            Errno::ConnReset => "connection reset by peer",
            Errno::NoBufs => "no buffer space available",
            Errno::IsConn => "transport endpoint is already connected",
            Errno::NotConn => "transport endpoint is not connected",
            Errno::ConnRefused => "connection refused",
            Errno::Again => "resource temporarily unavailable",
            Errno::OpNotSupp => "operation not supported",
            Errno::TimedOut => "connection timed out",
            Errno::Loop => "too many levels of symbolic links",
            Errno::NameTooLong => "file name too long",
            Errno::NotEmpty => "directory not empty",
            Errno::NoSys => "function not implemented",
            Errno::FType => "inappropriate file type or format",
            Errno::Died => "translator died",
            Errno::Gratuitous => "gratuitous error",
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
        assert_eq!(i32::from(Errno::NoEnt), 0x4000_0000 | 2);
        assert_eq!(i32::from(Errno::NotDir), 0x4000_0000 | 20);
        assert_eq!(i32::from(Errno::Loop), 0x4000_0000 | 62);
        assert_eq!(i32::from(Errno::NotEmpty), 0x4000_0000 | 66);
        assert_eq!(i32::from(Errno::Died), 0x4000_0000 | 101);
        assert_eq!(i32::from(Errno::Gratuitous), 0x4000_0000 | 105);
    }

    #[test]
    fn round_trips_through_ipc_error() {
        let e: Error = Errno::Perm.into();
        assert_eq!(Error::from_code(e.code()), Some(e));
        assert_eq!(Errno::of(e), Some(Errno::Perm));
        assert_eq!(Errno::of(Error::Code(7)), None);
    }

    #[test]
    fn linux_numbers() {
        // Where BSD and Linux agree (the first 34), the Hurd's number is Linux's.
        for e in [
            Errno::Perm,
            Errno::NoEnt,
            Errno::Io,
            Errno::NotDir,
            Errno::RoFs,
            Errno::MLink,
        ] {
            assert_eq!(e.linux(), i32::from(e) & 0xffff);
        }
        assert_eq!(Errno::Again.linux(), 11);
        assert_eq!(Errno::Loop.linux(), 40);
        assert_eq!(Errno::NotEmpty.linux(), 39);
        assert_eq!(Errno::Gratuitous.linux(), 5);
        assert_eq!(Errno::Pipe.linux(), 32);
        assert_eq!(i32::from(Errno::ConnRefused), 0x4000_0000 | 61);
        assert_eq!(Errno::ConnRefused.linux(), 111);
        assert_eq!(i32::from(Errno::NotConn), 0x4000_0000 | 57);
        assert_eq!(Errno::NotConn.linux(), 107);
        assert_eq!(i32::from(Errno::DestAddrReq), 0x4000_0000 | 39);
        assert_eq!(Errno::DestAddrReq.linux(), 89);
        assert_eq!(i32::from(Errno::MsgSize), 0x4000_0000 | 40);
        assert_eq!(Errno::MsgSize.linux(), 90);
    }
}
