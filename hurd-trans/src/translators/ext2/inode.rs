//! On-disk inodes: [`Inode`], decoded from and encoded into the inode
//! table's bytes, with the Hurd's fields (translator block, high mode
//! bits, author) on file systems the Hurd created.

use super::bytes::{get16, get32, put16, put32};
use crate::stat::TimeSpec;

/// Block pointers in an inode: 12 direct, then single, double and triple
/// indirect.
pub const N_BLOCKS: usize = 15;
/// The first singly indirect pointer's index.
pub const IND: usize = 12;
/// The doubly indirect pointer's index.
pub const DIND: usize = 13;
/// The triply indirect pointer's index.
pub const TIND: usize = 14;
/// The size of a revision-0 inode; larger inodes have extra fields after.
pub const GOOD_OLD_INODE_SIZE: usize = 128;
/// The reserved inode of the root directory.
pub const ROOT_INO: u32 = 2;
/// The reserved inode holding the resize reservation.
pub const RESIZE_INO: u32 = 7;

/// `i_flags` bits.
pub mod flags {
    /// Secure deletion.
    pub const SECRM: u32 = 0x0000_0001;
    /// Immutable file.
    pub const IMMUTABLE: u32 = 0x0000_0010;
    /// Writes only append.
    pub const APPEND: u32 = 0x0000_0020;
    /// Not to be dumped.
    pub const NODUMP: u32 = 0x0000_0040;
    /// No access time updates.
    pub const NOATIME: u32 = 0x0000_0080;
    /// A hashed-indexed directory.
    pub const INDEX: u32 = 0x0000_1000;
    /// Extent-mapped (ext4).
    pub const EXTENTS: u32 = 0x0008_0000;
    /// Inline data (ext4).
    pub const INLINE_DATA: u32 = 0x1000_0000;
}

/// An inode's fields. `mode` is the full mode: on Hurd file systems the
/// high 16 bits come from `i_mode_high`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inode {
    /// The mode (type, permissions and, on the Hurd, the high bits).
    pub mode: u32,
    /// The owner.
    pub uid: u32,
    /// The group.
    pub gid: u32,
    /// The size in bytes.
    pub size: u64,
    /// Last access.
    pub atime: TimeSpec,
    /// Last status change.
    pub ctime: TimeSpec,
    /// Last modification.
    pub mtime: TimeSpec,
    /// Creation (large inodes only).
    pub crtime: TimeSpec,
    /// Deletion time (0 while in use).
    pub dtime: u32,
    /// Hard links.
    pub links: u16,
    /// Space used, in 512-byte units (data, indirect blocks, attribute
    /// and translator blocks).
    pub blocks: u32,
    /// `i_flags` ([`flags`]).
    pub flags: u32,
    /// The Hurd's passive translator block (0: none).
    pub translator: u32,
    /// Block pointers, or a fast symlink's target, or a device number.
    pub block: [u32; N_BLOCKS],
    /// `i_generation`.
    pub generation: u32,
    /// The extended attribute block (0: none).
    pub file_acl: u32,
    /// The Hurd's author (`st_author`); on other systems the owner.
    pub author: u32,
    /// `i_extra_isize` of a large inode.
    pub extra_isize: u16,
}

fn time_lo(raw: &[u8], off: usize) -> i64 {
    get32(raw, off) as i32 as i64
}

/// Decodes a large inode's `*_extra` word into seconds and nanoseconds.
fn with_extra(sec: i64, extra: u32) -> TimeSpec {
    let epoch = (extra & 3) as i64;
    TimeSpec {
        sec: sec + (epoch << 32),
        nsec: (extra >> 2).min(999_999_999),
    }
}

/// The low 32 bits of a time and its `*_extra` word.
fn split_time(t: TimeSpec) -> (u32, u32) {
    let lo = t.sec as i32;
    let epoch = ((t.sec - lo as i64) >> 32) as u32 & 3;
    (lo as u32, epoch | (t.nsec.min(999_999_999) << 2))
}

impl Inode {
    /// Decodes an inode from its `raw` bytes (the inode size's worth) on a
    /// file system the Hurd created (`hurd`) or not.
    pub fn decode(raw: &[u8], hurd: bool) -> Inode {
        let mode_lo = get16(raw, 0) as u32;
        let mut uid = get16(raw, 2) as u32 | (get16(raw, 120) as u32) << 16;
        let mut gid = get16(raw, 24) as u32 | (get16(raw, 122) as u32) << 16;
        let is_dir = mode_lo & 0o170000 == 0o040000;
        let size_hi = if is_dir { 0 } else { get32(raw, 108) as u64 };
        let mut block = [0u32; N_BLOCKS];
        for (i, b) in block.iter_mut().enumerate() {
            *b = get32(raw, 40 + 4 * i);
        }
        let (mode, translator, author) = if hurd {
            let mode = mode_lo | (get16(raw, 118) as u32) << 16;
            let author = match get32(raw, 124) {
                u32::MAX => uid,
                a => a,
            };
            (mode, get32(raw, 36), author)
        } else {
            (mode_lo, 0, uid)
        };
        if raw.len() < GOOD_OLD_INODE_SIZE {
            uid = 0;
            gid = 0;
        }
        let mut ino = Inode {
            mode,
            uid,
            gid,
            size: get32(raw, 4) as u64 | size_hi << 32,
            atime: TimeSpec {
                sec: time_lo(raw, 8),
                nsec: 0,
            },
            ctime: TimeSpec {
                sec: time_lo(raw, 12),
                nsec: 0,
            },
            mtime: TimeSpec {
                sec: time_lo(raw, 16),
                nsec: 0,
            },
            crtime: TimeSpec::default(),
            dtime: get32(raw, 20),
            links: get16(raw, 26),
            blocks: get32(raw, 28),
            flags: get32(raw, 32),
            translator,
            block,
            generation: get32(raw, 100),
            file_acl: get32(raw, 104),
            author: if hurd { author } else { uid },
            extra_isize: 0,
        };
        if raw.len() > GOOD_OLD_INODE_SIZE + 2 {
            let extra = get16(raw, 128);
            // A bad value is ignored (e2fsck's business), never trusted
            // beyond the inode.
            if extra as usize <= raw.len() - GOOD_OLD_INODE_SIZE && extra.is_multiple_of(4) {
                ino.extra_isize = extra;
                let has = |end: usize| GOOD_OLD_INODE_SIZE + extra as usize >= end;
                if has(136) {
                    ino.ctime = with_extra(ino.ctime.sec, get32(raw, 132));
                }
                if has(140) {
                    ino.mtime = with_extra(ino.mtime.sec, get32(raw, 136));
                }
                if has(144) {
                    ino.atime = with_extra(ino.atime.sec, get32(raw, 140));
                }
                if has(152) {
                    ino.crtime = with_extra(time_lo(raw, 144), get32(raw, 148));
                }
            }
        }
        ino
    }

    /// Encodes the inode into `raw` (its current on-disk bytes; fields not
    /// held here are left as they are). On file systems not the Hurd's,
    /// the high mode bits, translator and author are not stored.
    pub fn encode(&self, raw: &mut [u8], hurd: bool) {
        put16(raw, 0, self.mode as u16);
        put16(raw, 2, self.uid as u16);
        put32(raw, 4, self.size as u32);
        let (a, ax) = split_time(self.atime);
        let (c, cx) = split_time(self.ctime);
        let (m, mx) = split_time(self.mtime);
        put32(raw, 8, a);
        put32(raw, 12, c);
        put32(raw, 16, m);
        put32(raw, 20, self.dtime);
        put16(raw, 24, self.gid as u16);
        put16(raw, 26, self.links);
        put32(raw, 28, self.blocks);
        put32(raw, 32, self.flags);
        for (i, b) in self.block.iter().enumerate() {
            put32(raw, 40 + 4 * i, *b);
        }
        put32(raw, 100, self.generation);
        put32(raw, 104, self.file_acl);
        if self.mode & 0o170000 != 0o040000 {
            put32(raw, 108, (self.size >> 32) as u32);
        }
        put16(raw, 120, (self.uid >> 16) as u16);
        put16(raw, 122, (self.gid >> 16) as u16);
        if hurd {
            put32(raw, 36, self.translator);
            put16(raw, 118, (self.mode >> 16) as u16);
            put32(raw, 124, self.author);
        }
        if raw.len() > GOOD_OLD_INODE_SIZE + 2 {
            let extra = self.extra_isize as usize;
            if extra <= raw.len() - GOOD_OLD_INODE_SIZE && extra.is_multiple_of(4) {
                put16(raw, 128, self.extra_isize);
                let has = |end: usize| GOOD_OLD_INODE_SIZE + extra >= end;
                if has(136) {
                    put32(raw, 132, cx);
                }
                if has(140) {
                    put32(raw, 136, mx);
                }
                if has(144) {
                    put32(raw, 140, ax);
                }
                if has(152) {
                    let (cr, crx) = split_time(self.crtime);
                    put32(raw, 144, cr);
                    put32(raw, 148, crx);
                }
            }
        }
    }

    /// The file type bits.
    pub fn kind(&self) -> u32 {
        self.mode & 0o170000
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind() == 0o040000
    }

    /// Whether this is a regular file.
    pub fn is_reg(&self) -> bool {
        self.kind() == 0o100000
    }

    /// Whether this is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.kind() == 0o120000
    }

    /// Whether this is a character or block device.
    pub fn is_device(&self) -> bool {
        matches!(self.kind(), 0o020000 | 0o060000)
    }

    /// Whether the blocks array holds block pointers (regular files,
    /// directories, slow symlinks), rather than a fast symlink's target or
    /// a device number, or nothing.
    pub fn has_block_map(&self, block_size: usize) -> bool {
        if self.is_reg() || self.is_dir() {
            return true;
        }
        self.is_symlink() && !self.is_fast_symlink(block_size)
    }

    /// Whether a symlink's target is kept in the blocks array: as
    /// e2fsprogs decides, a size below 60 bytes (and no data block
    /// counted beyond an attribute block).
    pub fn is_fast_symlink(&self, block_size: usize) -> bool {
        if !self.is_symlink() {
            return false;
        }
        let acl_sectors = if self.file_acl != 0 {
            (block_size / 512) as u32
        } else {
            0
        };
        let trans_sectors = if self.translator != 0 {
            (block_size / 512) as u32
        } else {
            0
        };
        self.size < (N_BLOCKS * 4) as u64 && self.blocks <= acl_sectors + trans_sectors
    }

    /// The device number of a device node: the old 16-bit encoding in
    /// `i_block[0]`, else Linux's 32-bit one in `i_block[1]`; as a Linux
    /// `dev_t` (major in bits 8..20, minor in 0..8 and 20..32).
    pub fn rdev(&self) -> u32 {
        if self.block[0] != 0 {
            let old = self.block[0];
            ((old >> 8) & 0xff) << 8 | (old & 0xff)
        } else {
            self.block[1]
        }
    }

    /// Stores a device number (a Linux `dev_t`) as Linux does: the old
    /// encoding when major and minor are below 256.
    pub fn set_rdev(&mut self, dev: u32) {
        let major = (dev >> 8) & 0xfff;
        let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
        self.block = [0; N_BLOCKS];
        if major < 256 && minor < 256 {
            self.block[0] = major << 8 | minor;
        } else {
            self.block[1] = dev;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Inode {
        Inode {
            mode: 0o100644 | 0o400000,
            uid: 70000,
            gid: 66000,
            size: (5u64 << 32) + 17,
            atime: TimeSpec { sec: 1, nsec: 5 },
            ctime: TimeSpec {
                sec: 0x1_2345_6789,
                nsec: 999,
            },
            mtime: TimeSpec { sec: -5, nsec: 0 },
            crtime: TimeSpec { sec: 9, nsec: 1 },
            links: 3,
            blocks: 24,
            flags: flags::NODUMP,
            translator: 77,
            block: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
            generation: 42,
            file_acl: 99,
            author: 1234,
            extra_isize: 32,
            dtime: 0,
        }
    }

    #[test]
    fn round_trips_on_hurd_and_large_inodes() {
        let ino = sample();
        let mut raw = [0u8; 256];
        ino.encode(&mut raw, true);
        assert_eq!(Inode::decode(&raw, true), ino);
    }

    #[test]
    fn linux_file_systems_keep_no_hurd_fields() {
        let mut ino = sample();
        ino.mode &= 0xffff;
        let mut raw = [0u8; 128];
        ino.encode(&mut raw, false);
        let back = Inode::decode(&raw, false);
        assert_eq!(back.translator, 0);
        assert_eq!(back.author, back.uid);
        assert_eq!((back.uid, back.gid), (70000, 66000));
        // No room for nanoseconds in a 128-byte inode.
        assert_eq!(back.ctime.nsec, 0);
        assert_eq!(back.ctime.sec, 0x2345_6789);
    }

    #[test]
    fn hurd_author_minus_one_is_the_owner() {
        let mut raw = [0u8; 128];
        sample().encode(&mut raw, true);
        put32(&mut raw, 124, u32::MAX);
        assert_eq!(Inode::decode(&raw, true).author, 70000);
    }

    #[test]
    fn device_numbers_use_both_encodings() {
        let mut ino = Inode {
            mode: 0o020644,
            ..Inode::default()
        };
        ino.set_rdev(4 << 8 | 64);
        assert_eq!(ino.block[0], 0x0440);
        assert_eq!(ino.rdev(), 4 << 8 | 64);
        // major 300, minor 70000 in Linux's dev_t.
        let dev = (70000 & 0xff) | (300 << 8) | ((70000 & !0xff) << 12);
        ino.set_rdev(dev);
        assert_eq!(ino.block[0], 0);
        assert_eq!(ino.rdev(), dev);
    }
}
