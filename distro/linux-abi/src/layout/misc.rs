//! The small structures: times, I/O vectors, `pollfd`, `utsname`, limits,
//! `sysinfo` and `rusage`.

use crate::bytes::{
    i16_at, i32_at, i64_at, put_i16, put_i32, put_i64, put_u16, put_u32, put_u64, u64_at,
};

/// `struct timespec` (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timespec {
    /// `tv_sec`.
    pub sec: i64,
    /// `tv_nsec`.
    pub nsec: i64,
}

/// `UTIME_NOW`: `utimensat`'s "now".
pub const UTIME_NOW: i64 = (1 << 30) - 1;
/// `UTIME_OMIT`: `utimensat`'s "leave it".
pub const UTIME_OMIT: i64 = (1 << 30) - 2;

impl Timespec {
    /// Bytes of `struct timespec`.
    pub const SIZE: usize = 16;

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0; 16];
        put_i64(&mut b, 0, self.sec);
        put_i64(&mut b, 8, self.nsec);
        b
    }

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<Timespec> {
        (b.len() >= 16).then(|| Timespec {
            sec: i64_at(b, 0),
            nsec: i64_at(b, 8),
        })
    }

    /// Whether it is a valid time: `0 <= nsec < 1e9`, `sec >= 0` (what
    /// `nanosleep` demands; `EINVAL` otherwise).
    pub const fn is_valid(&self) -> bool {
        self.sec >= 0 && self.nsec >= 0 && self.nsec < 1_000_000_000
    }

    /// Nanoseconds, saturating; `None` unless [`is_valid`](Timespec::is_valid).
    pub const fn as_nanos(&self) -> Option<u64> {
        if !self.is_valid() {
            return None;
        }
        Some(
            (self.sec as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(self.nsec as u64),
        )
    }

    /// A time from nanoseconds.
    pub const fn from_nanos(ns: u64) -> Timespec {
        Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as i64,
        }
    }
}

/// `struct timeval` (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeval {
    /// `tv_sec`.
    pub sec: i64,
    /// `tv_usec`.
    pub usec: i64,
}

impl Timeval {
    /// Bytes of `struct timeval`.
    pub const SIZE: usize = 16;

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0; 16];
        put_i64(&mut b, 0, self.sec);
        put_i64(&mut b, 8, self.usec);
        b
    }

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<Timeval> {
        (b.len() >= 16).then(|| Timeval {
            sec: i64_at(b, 0),
            usec: i64_at(b, 8),
        })
    }
}

/// `struct iovec` (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Iovec {
    /// `iov_base`.
    pub base: u64,
    /// `iov_len`.
    pub len: u64,
}

/// `IOV_MAX`: the most vectors one `readv`/`writev` takes (`EINVAL` beyond).
pub const IOV_MAX: usize = 1024;

impl Iovec {
    /// Bytes of `struct iovec`.
    pub const SIZE: usize = 16;

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<Iovec> {
        (b.len() >= 16).then(|| Iovec {
            base: u64_at(b, 0),
            len: u64_at(b, 8),
        })
    }

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0; 16];
        put_u64(&mut b, 0, self.base);
        put_u64(&mut b, 8, self.len);
        b
    }
}

/// `POLLIN`.
pub const POLLIN: i16 = 0x001;
/// `POLLPRI`.
pub const POLLPRI: i16 = 0x002;
/// `POLLOUT`.
pub const POLLOUT: i16 = 0x004;
/// `POLLERR`.
pub const POLLERR: i16 = 0x008;
/// `POLLHUP`.
pub const POLLHUP: i16 = 0x010;
/// `POLLNVAL`.
pub const POLLNVAL: i16 = 0x020;
/// `POLLRDNORM`.
pub const POLLRDNORM: i16 = 0x040;
/// `POLLRDBAND`.
pub const POLLRDBAND: i16 = 0x080;
/// `POLLWRNORM`.
pub const POLLWRNORM: i16 = 0x100;
/// `POLLWRBAND`.
pub const POLLWRBAND: i16 = 0x200;

/// The Hurd's `SELECT_READ` (`hurd_types.h`).
pub const SELECT_READ: i32 = 0x1;
/// The Hurd's `SELECT_WRITE`.
pub const SELECT_WRITE: i32 = 0x2;
/// The Hurd's `SELECT_URG`.
pub const SELECT_URG: i32 = 0x4;

/// `struct pollfd` (8 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PollFd {
    /// `fd` (negative: ignored).
    pub fd: i32,
    /// `events`.
    pub events: i16,
    /// `revents`.
    pub revents: i16,
}

impl PollFd {
    /// Bytes of `struct pollfd`.
    pub const SIZE: usize = 8;

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<PollFd> {
        (b.len() >= 8).then(|| PollFd {
            fd: i32_at(b, 0),
            events: i16_at(b, 4),
            revents: i16_at(b, 6),
        })
    }

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 8] {
        let mut b = [0; 8];
        put_i32(&mut b, 0, self.fd);
        put_i16(&mut b, 4, self.events);
        put_i16(&mut b, 6, self.revents);
        b
    }

    /// The `io_select` type asking for these events.
    pub const fn select_type(&self) -> i32 {
        let mut t = 0;
        if self.events & (POLLIN | POLLRDNORM) != 0 {
            t |= SELECT_READ;
        }
        if self.events & (POLLOUT | POLLWRNORM | POLLWRBAND) != 0 {
            t |= SELECT_WRITE;
        }
        if self.events & (POLLPRI | POLLRDBAND) != 0 {
            t |= SELECT_URG;
        }
        t
    }

    /// `revents` for what `io_select` answered ready, limited to what was
    /// asked (as Linux reports them; `POLLERR`/`POLLHUP` come separately).
    pub const fn revents_for(&self, ready: i32) -> i16 {
        let mut r = 0;
        if ready & SELECT_READ != 0 {
            r |= self.events & (POLLIN | POLLRDNORM);
        }
        if ready & SELECT_WRITE != 0 {
            r |= self.events & (POLLOUT | POLLWRNORM | POLLWRBAND);
        }
        if ready & SELECT_URG != 0 {
            r |= self.events & (POLLPRI | POLLRDBAND);
        }
        r
    }
}

/// `struct utsname` (six 65-byte strings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Utsname<'a> {
    /// `sysname`.
    pub sysname: &'a str,
    /// `nodename`.
    pub nodename: &'a str,
    /// `release`.
    pub release: &'a str,
    /// `version`.
    pub version: &'a str,
    /// `machine`.
    pub machine: &'a str,
    /// `domainname`.
    pub domainname: &'a str,
}

/// Bytes of each `utsname` field.
pub const UTS_LEN: usize = 65;

/// Bytes of `struct utsname`.
pub const UTSNAME_SIZE: usize = 6 * UTS_LEN;

impl Utsname<'_> {
    /// Bytes of `struct utsname`.
    pub const SIZE: usize = UTSNAME_SIZE;

    /// The bytes: each string cut to 64 bytes and NUL-padded.
    pub fn to_bytes(&self) -> [u8; UTSNAME_SIZE] {
        let mut b = [0; UTSNAME_SIZE];
        let fields = [
            self.sysname,
            self.nodename,
            self.release,
            self.version,
            self.machine,
            self.domainname,
        ];
        for (i, f) in fields.iter().enumerate() {
            let s = &f.as_bytes()[..f.len().min(UTS_LEN - 1)];
            b[i * UTS_LEN..i * UTS_LEN + s.len()].copy_from_slice(s);
        }
        b
    }
}

/// `RLIM_INFINITY`.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// `struct rlimit` (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rlimit {
    /// `rlim_cur`.
    pub cur: u64,
    /// `rlim_max`.
    pub max: u64,
}

impl Rlimit {
    /// Bytes of `struct rlimit`.
    pub const SIZE: usize = 16;

    /// Reads one; `None` if `b` is short.
    pub fn from_bytes(b: &[u8]) -> Option<Rlimit> {
        (b.len() >= 16).then(|| Rlimit {
            cur: u64_at(b, 0),
            max: u64_at(b, 8),
        })
    }

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0; 16];
        put_u64(&mut b, 0, self.cur);
        put_u64(&mut b, 8, self.max);
        b
    }
}

/// `struct sysinfo` (112 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sysinfo {
    /// `uptime` in seconds.
    pub uptime: i64,
    /// `loads` (1, 5, 15 minutes, scaled by 65536).
    pub loads: [u64; 3],
    /// `totalram`.
    pub totalram: u64,
    /// `freeram`.
    pub freeram: u64,
    /// `sharedram`.
    pub sharedram: u64,
    /// `bufferram`.
    pub bufferram: u64,
    /// `totalswap`.
    pub totalswap: u64,
    /// `freeswap`.
    pub freeswap: u64,
    /// `procs`.
    pub procs: u16,
    /// `mem_unit`: the unit of the memory fields, in bytes.
    pub mem_unit: u32,
}

impl Sysinfo {
    /// Bytes of `struct sysinfo`.
    pub const SIZE: usize = 112;

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put_i64(&mut b, 0, self.uptime);
        for (i, l) in self.loads.iter().enumerate() {
            put_u64(&mut b, 8 + 8 * i, *l);
        }
        let mem = [
            self.totalram,
            self.freeram,
            self.sharedram,
            self.bufferram,
            self.totalswap,
            self.freeswap,
        ];
        for (i, m) in mem.iter().enumerate() {
            put_u64(&mut b, 32 + 8 * i, *m);
        }
        put_u16(&mut b, 80, self.procs);
        put_u32(&mut b, 104, self.mem_unit);
        b
    }
}

/// `struct rusage` (144 bytes): the times and the counters Linux keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rusage {
    /// `ru_utime`.
    pub utime: Timeval,
    /// `ru_stime`.
    pub stime: Timeval,
    /// `ru_maxrss` (KiB).
    pub maxrss: i64,
}

impl Rusage {
    /// Bytes of `struct rusage`.
    pub const SIZE: usize = 144;

    /// The bytes (the counters this system does not keep are zero).
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[0..16].copy_from_slice(&self.utime.to_bytes());
        b[16..32].copy_from_slice(&self.stime.to_bytes());
        put_i64(&mut b, 32, self.maxrss);
        b
    }
}
