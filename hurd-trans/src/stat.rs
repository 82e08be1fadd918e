//! The Hurd's `struct stat` (`io_statbuf_t`), with the fields other systems
//! lack: `st_author`, `st_fstype`, `st_gen`, `st_flags`, and the Hurd mode
//! bits in `st_mode`.

use crate::fields::{Fields, fixed_size_arg};
use alloc::vec::Vec;

/// A time stamp: seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TimeSpec {
    /// Whole seconds.
    pub sec: i64,
    /// Nanoseconds, below 1e9.
    pub nsec: u32,
}

/// `struct stat` as `io_stat` returns it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stat {
    /// `st_fstype`: which kind of file system.
    pub fstype: u32,
    /// `st_fsid`: which file system.
    pub fsid: u64,
    /// `st_ino`: the file number.
    pub ino: u64,
    /// `st_gen`: the generation of the file number.
    pub gen_: u32,
    /// `st_rdev`: the device, for device nodes.
    pub rdev: u32,
    /// `st_mode`: type, permissions and Hurd bits ([`crate::mode`]).
    pub mode: u32,
    /// `st_nlink`: hard links.
    pub nlink: u32,
    /// `st_uid`: the owner.
    pub uid: u32,
    /// `st_gid`: the group.
    pub gid: u32,
    /// `st_size`: bytes.
    pub size: u64,
    /// `st_atim`: last access.
    pub atime: TimeSpec,
    /// `st_mtim`: last modification.
    pub mtime: TimeSpec,
    /// `st_ctim`: last status change.
    pub ctime: TimeSpec,
    /// `st_blksize`: the preferred I/O size.
    pub blksize: u32,
    /// `st_blocks`: 512-byte blocks used.
    pub blocks: u64,
    /// `st_author`: the author — a uid recorded with the file, changed with
    /// `file_chauthor`, granting no access of its own.
    pub author: u32,
    /// `st_flags`: user-settable flags (`file_chflags`).
    pub flags: u32,
}

/// Bytes of a [`Stat`] on the wire.
pub const STAT_WIRE_SIZE: usize = 4 + 8 + 8 + 4 + 4 + 4 + 4 + 4 + 4 + 8 + 3 * 12 + 4 + 8 + 4 + 4;

impl Stat {
    /// The wire form: the fields in order, little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(STAT_WIRE_SIZE);
        let t = |b: &mut Vec<u8>, t: TimeSpec| {
            b.extend_from_slice(&t.sec.to_le_bytes());
            b.extend_from_slice(&t.nsec.to_le_bytes());
        };
        b.extend_from_slice(&self.fstype.to_le_bytes());
        b.extend_from_slice(&self.fsid.to_le_bytes());
        b.extend_from_slice(&self.ino.to_le_bytes());
        b.extend_from_slice(&self.gen_.to_le_bytes());
        b.extend_from_slice(&self.rdev.to_le_bytes());
        b.extend_from_slice(&self.mode.to_le_bytes());
        b.extend_from_slice(&self.nlink.to_le_bytes());
        b.extend_from_slice(&self.uid.to_le_bytes());
        b.extend_from_slice(&self.gid.to_le_bytes());
        b.extend_from_slice(&self.size.to_le_bytes());
        t(&mut b, self.atime);
        t(&mut b, self.mtime);
        t(&mut b, self.ctime);
        b.extend_from_slice(&self.blksize.to_le_bytes());
        b.extend_from_slice(&self.blocks.to_le_bytes());
        b.extend_from_slice(&self.author.to_le_bytes());
        b.extend_from_slice(&self.flags.to_le_bytes());
        b
    }

    /// Parses the wire form; `None` unless exactly [`STAT_WIRE_SIZE`] bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Stat> {
        if b.len() != STAT_WIRE_SIZE {
            return None;
        }
        let mut r = Fields::new(b);
        let t = |r: &mut Fields<'_>| TimeSpec {
            sec: r.i64(),
            nsec: r.u32(),
        };
        Some(Stat {
            fstype: r.u32(),
            fsid: r.u64(),
            ino: r.u64(),
            gen_: r.u32(),
            rdev: r.u32(),
            mode: r.u32(),
            nlink: r.u32(),
            uid: r.u32(),
            gid: r.u32(),
            size: r.u64(),
            atime: t(&mut r),
            mtime: t(&mut r),
            ctime: t(&mut r),
            blksize: r.u32(),
            blocks: r.u64(),
            author: r.u32(),
            flags: r.u32(),
        })
    }
}

fixed_size_arg!(Stat, STAT_WIRE_SIZE);

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_ipc::Item;
    use hurd_ipc::mig::MsgArg;

    #[test]
    fn round_trips_and_rejects_wrong_sizes() {
        let s = Stat {
            ino: 7,
            mode: 0o100644,
            uid: 1000,
            author: 1001,
            size: 1 << 40,
            mtime: TimeSpec { sec: -5, nsec: 9 },
            ..Stat::default()
        };
        let b = s.to_bytes();
        assert_eq!(b.len(), STAT_WIRE_SIZE);
        assert_eq!(Stat::from_bytes(&b), Some(s));
        assert_eq!(Stat::from_bytes(&b[1..]), None);
        assert!(!Stat::matches(&Item::Bytes(alloc::vec![0; 3])));
        assert!(Stat::matches(&Item::Bytes(b)));
    }
}
