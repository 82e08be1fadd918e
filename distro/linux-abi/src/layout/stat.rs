//! `struct stat` (what `stat`, `fstat`, `lstat` and `newfstatat` fill in)
//! and `struct statx`, made from the Hurd's `io_stat` answer.

use crate::bytes::{put_i64, put_u16, put_u32, put_u64};
use hurd_trans::stat::{Stat as HurdStat, TimeSpec};

/// The bits of the Hurd's `st_mode` a Linux program knows: file type and
/// permissions (the Hurd's translator and unknown-user bits are dropped).
pub const LINUX_MODE_BITS: u32 = 0o177_777;

/// `S_IFMT`: the file-type bits of `st_mode`.
pub const S_IFMT: u32 = 0o170_000;
/// `S_IFSOCK`.
pub const S_IFSOCK: u32 = 0o140_000;
/// `S_IFLNK`.
pub const S_IFLNK: u32 = 0o120_000;
/// `S_IFREG`.
pub const S_IFREG: u32 = 0o100_000;
/// `S_IFBLK`.
pub const S_IFBLK: u32 = 0o060_000;
/// `S_IFDIR`.
pub const S_IFDIR: u32 = 0o040_000;
/// `S_IFCHR`.
pub const S_IFCHR: u32 = 0o020_000;
/// `S_IFIFO`.
pub const S_IFIFO: u32 = 0o010_000;

/// Linux x86_64 `struct stat` (144 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stat {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
    /// `st_nlink`.
    pub nlink: u64,
    /// `st_mode`.
    pub mode: u32,
    /// `st_uid`.
    pub uid: u32,
    /// `st_gid`.
    pub gid: u32,
    /// `st_rdev`.
    pub rdev: u64,
    /// `st_size`.
    pub size: i64,
    /// `st_blksize`.
    pub blksize: i64,
    /// `st_blocks` (512-byte units).
    pub blocks: i64,
    /// `st_atime`, `st_atime_nsec`.
    pub atime: (i64, i64),
    /// `st_mtime`, `st_mtime_nsec`.
    pub mtime: (i64, i64),
    /// `st_ctime`, `st_ctime_nsec`.
    pub ctime: (i64, i64),
}

/// Offsets in `struct stat`, for tests and readers.
pub mod stat_offset {
    /// `st_dev`.
    pub const DEV: usize = 0;
    /// `st_ino`.
    pub const INO: usize = 8;
    /// `st_nlink`.
    pub const NLINK: usize = 16;
    /// `st_mode`.
    pub const MODE: usize = 24;
    /// `st_uid`.
    pub const UID: usize = 28;
    /// `st_gid`.
    pub const GID: usize = 32;
    /// `st_rdev`.
    pub const RDEV: usize = 40;
    /// `st_size`.
    pub const SIZE: usize = 48;
    /// `st_blksize`.
    pub const BLKSIZE: usize = 56;
    /// `st_blocks`.
    pub const BLOCKS: usize = 64;
    /// `st_atime`.
    pub const ATIME: usize = 72;
    /// `st_mtime`.
    pub const MTIME: usize = 88;
    /// `st_ctime`.
    pub const CTIME: usize = 104;
}

fn time(t: TimeSpec) -> (i64, i64) {
    (t.sec, i64::from(t.nsec))
}

impl Stat {
    /// Bytes of `struct stat`.
    pub const SIZE: usize = 144;

    /// The Linux view of the Hurd's `io_stat` answer: `st_dev` is the
    /// file system id, the mode keeps the type and permission bits.
    pub fn from_hurd(s: &HurdStat) -> Stat {
        Stat {
            dev: s.fsid,
            ino: s.ino,
            nlink: u64::from(s.nlink),
            mode: s.mode & LINUX_MODE_BITS,
            uid: s.uid,
            gid: s.gid,
            rdev: u64::from(s.rdev),
            size: s.size as i64,
            blksize: i64::from(s.blksize),
            blocks: s.blocks as i64,
            atime: time(s.atime),
            mtime: time(s.mtime),
            ctime: time(s.ctime),
        }
    }

    /// The bytes a program's `struct stat` receives.
    pub fn to_bytes(&self) -> [u8; Stat::SIZE] {
        use stat_offset as o;
        let mut b = [0; Stat::SIZE];
        put_u64(&mut b, o::DEV, self.dev);
        put_u64(&mut b, o::INO, self.ino);
        put_u64(&mut b, o::NLINK, self.nlink);
        put_u32(&mut b, o::MODE, self.mode);
        put_u32(&mut b, o::UID, self.uid);
        put_u32(&mut b, o::GID, self.gid);
        put_u64(&mut b, o::RDEV, self.rdev);
        put_i64(&mut b, o::SIZE, self.size);
        put_i64(&mut b, o::BLKSIZE, self.blksize);
        put_i64(&mut b, o::BLOCKS, self.blocks);
        for (off, (sec, nsec)) in [
            (o::ATIME, self.atime),
            (o::MTIME, self.mtime),
            (o::CTIME, self.ctime),
        ] {
            put_i64(&mut b, off, sec);
            put_i64(&mut b, off + 8, nsec);
        }
        b
    }
}

/// `struct statx_timestamp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatxTimestamp {
    /// `tv_sec`.
    pub sec: i64,
    /// `tv_nsec`.
    pub nsec: u32,
}

/// `STATX_TYPE`.
pub const STATX_TYPE: u32 = 0x1;
/// `STATX_MODE`.
pub const STATX_MODE: u32 = 0x2;
/// `STATX_NLINK`.
pub const STATX_NLINK: u32 = 0x4;
/// `STATX_UID`.
pub const STATX_UID: u32 = 0x8;
/// `STATX_GID`.
pub const STATX_GID: u32 = 0x10;
/// `STATX_ATIME`.
pub const STATX_ATIME: u32 = 0x20;
/// `STATX_MTIME`.
pub const STATX_MTIME: u32 = 0x40;
/// `STATX_CTIME`.
pub const STATX_CTIME: u32 = 0x80;
/// `STATX_INO`.
pub const STATX_INO: u32 = 0x100;
/// `STATX_SIZE`.
pub const STATX_SIZE: u32 = 0x200;
/// `STATX_BLOCKS`.
pub const STATX_BLOCKS: u32 = 0x400;
/// `STATX_BASIC_STATS`: everything `struct stat` has.
pub const STATX_BASIC_STATS: u32 = 0x7ff;

/// Linux `struct statx` (256 bytes). The Hurd has no birth time and no
/// mount ids: those fields stay zero and out of `mask`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Statx {
    /// `stx_mask`: which fields are filled in.
    pub mask: u32,
    /// `stx_blksize`.
    pub blksize: u32,
    /// `stx_nlink`.
    pub nlink: u32,
    /// `stx_uid`.
    pub uid: u32,
    /// `stx_gid`.
    pub gid: u32,
    /// `stx_mode`.
    pub mode: u16,
    /// `stx_ino`.
    pub ino: u64,
    /// `stx_size`.
    pub size: u64,
    /// `stx_blocks`.
    pub blocks: u64,
    /// `stx_atime`.
    pub atime: StatxTimestamp,
    /// `stx_ctime`.
    pub ctime: StatxTimestamp,
    /// `stx_mtime`.
    pub mtime: StatxTimestamp,
    /// `stx_rdev_major`, `stx_rdev_minor`.
    pub rdev: (u32, u32),
    /// `stx_dev_major`, `stx_dev_minor`.
    pub dev: (u32, u32),
}

/// A device number split as Linux's `gnu_dev_major`/`gnu_dev_minor` do.
pub const fn dev_split(dev: u64) -> (u32, u32) {
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    (major as u32, minor as u32)
}

impl Statx {
    /// Bytes of `struct statx`.
    pub const SIZE: usize = 256;

    /// The Linux view of the Hurd's `io_stat` answer.
    pub fn from_hurd(s: &HurdStat) -> Statx {
        let ts = |t: TimeSpec| StatxTimestamp {
            sec: t.sec,
            nsec: t.nsec,
        };
        Statx {
            mask: STATX_BASIC_STATS,
            blksize: s.blksize,
            nlink: s.nlink,
            uid: s.uid,
            gid: s.gid,
            mode: (s.mode & LINUX_MODE_BITS) as u16,
            ino: s.ino,
            size: s.size,
            blocks: s.blocks,
            atime: ts(s.atime),
            ctime: ts(s.ctime),
            mtime: ts(s.mtime),
            rdev: dev_split(u64::from(s.rdev)),
            dev: dev_split(s.fsid),
        }
    }

    /// The bytes a program's `struct statx` receives.
    pub fn to_bytes(&self) -> [u8; Statx::SIZE] {
        let mut b = [0; Statx::SIZE];
        put_u32(&mut b, 0, self.mask);
        put_u32(&mut b, 4, self.blksize);
        put_u32(&mut b, 16, self.nlink);
        put_u32(&mut b, 20, self.uid);
        put_u32(&mut b, 24, self.gid);
        put_u16(&mut b, 28, self.mode);
        put_u64(&mut b, 32, self.ino);
        put_u64(&mut b, 40, self.size);
        put_u64(&mut b, 48, self.blocks);
        for (off, t) in [(64, self.atime), (96, self.ctime), (112, self.mtime)] {
            put_i64(&mut b, off, t.sec);
            put_u32(&mut b, off + 8, t.nsec);
        }
        put_u32(&mut b, 128, self.rdev.0);
        put_u32(&mut b, 132, self.rdev.1);
        put_u32(&mut b, 136, self.dev.0);
        put_u32(&mut b, 140, self.dev.1);
        b
    }
}
