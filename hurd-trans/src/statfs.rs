//! The Hurd's `struct statfs` (`fsys_statfsbuf_t`), what `file_statfs`
//! answers and `df` shows.

use crate::fields::{Fields, fixed_size_arg};
use alloc::vec::Vec;

/// `struct statfs` as `file_statfs` returns it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Statfs {
    /// `f_type`: which kind of file system (`FSTYPE_*`).
    pub fstype: u32,
    /// `f_bsize`: the block size of the counts below.
    pub bsize: u32,
    /// `f_blocks`: blocks in the file system.
    pub blocks: u64,
    /// `f_bfree`: free blocks.
    pub bfree: u64,
    /// `f_bavail`: free blocks an unprivileged user may use.
    pub bavail: u64,
    /// `f_files`: file nodes (inodes) in the file system.
    pub files: u64,
    /// `f_ffree`: free file nodes.
    pub ffree: u64,
    /// `f_fsid`: which file system.
    pub fsid: u64,
    /// `f_namelen`: the longest name.
    pub namelen: u32,
    /// `f_favail`: free file nodes an unprivileged user may use.
    pub favail: u64,
    /// `f_frsize`: the fragment size.
    pub frsize: u32,
    /// `f_flag`: mount flags ([`ST_RDONLY`], [`ST_NOSUID`]...).
    pub flag: u32,
}

/// `f_flag`: mounted read-only.
pub const ST_RDONLY: u32 = 1;
/// `f_flag`: set-id bits are ignored.
pub const ST_NOSUID: u32 = 2;
/// `f_fstype` of an ext2 file system (`FSTYPE_EXT2FS` in `hurd/hurd_types.h`).
pub const FSTYPE_EXT2FS: u32 = 0x0000_0017;

/// `f_fstype` of a file system in memory (`FSTYPE_MEMFS`).
pub const FSTYPE_MEMFS: u32 = 0x0000_0019;

/// Bytes of a [`Statfs`] on the wire.
pub const STATFS_WIRE_SIZE: usize = 4 + 4 + 8 * 5 + 8 + 4 + 8 + 4 + 4;

impl Statfs {
    /// The wire form: the fields in order, little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(STATFS_WIRE_SIZE);
        b.extend_from_slice(&self.fstype.to_le_bytes());
        b.extend_from_slice(&self.bsize.to_le_bytes());
        for v in [self.blocks, self.bfree, self.bavail, self.files, self.ffree] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&self.fsid.to_le_bytes());
        b.extend_from_slice(&self.namelen.to_le_bytes());
        b.extend_from_slice(&self.favail.to_le_bytes());
        b.extend_from_slice(&self.frsize.to_le_bytes());
        b.extend_from_slice(&self.flag.to_le_bytes());
        b
    }

    /// Parses the wire form; `None` unless exactly [`STATFS_WIRE_SIZE`] bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Statfs> {
        if b.len() != STATFS_WIRE_SIZE {
            return None;
        }
        let mut r = Fields::new(b);
        Some(Statfs {
            fstype: r.u32(),
            bsize: r.u32(),
            blocks: r.u64(),
            bfree: r.u64(),
            bavail: r.u64(),
            files: r.u64(),
            ffree: r.u64(),
            fsid: r.u64(),
            namelen: r.u32(),
            favail: r.u64(),
            frsize: r.u32(),
            flag: r.u32(),
        })
    }
}

fixed_size_arg!(Statfs, STATFS_WIRE_SIZE);

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_ipc::Item;
    use hurd_ipc::mig::MsgArg;

    #[test]
    fn round_trips_and_rejects_wrong_sizes() {
        let s = Statfs {
            fstype: FSTYPE_EXT2FS,
            bsize: 4096,
            blocks: 1 << 33,
            bfree: 77,
            bavail: 70,
            files: 9,
            ffree: 8,
            fsid: 0xdead_beef,
            namelen: 255,
            favail: 8,
            frsize: 4096,
            flag: ST_RDONLY,
        };
        let b = s.to_bytes();
        assert_eq!(b.len(), STATFS_WIRE_SIZE);
        assert_eq!(Statfs::from_bytes(&b), Some(s));
        assert_eq!(Statfs::from_bytes(&b[1..]), None);
        assert!(Statfs::matches(&Item::Bytes(b)));
        assert!(!Statfs::matches(&Item::Bytes(alloc::vec![0; 4])));
    }
}
