//! The superblock: the file system's geometry, feature flags and free
//! counts, 1024 bytes at byte 1024 of the device. [`Superblock::parse`]
//! checks everything the rest of the code relies on, so an image that
//! passes cannot make it index out of range.

use alloc::boxed::Box;
use core::fmt;

use super::bytes::{get16, get32, put16, put32};
use hurd_ipc::Errno;

/// Where the superblock is, in bytes from the start of the device.
pub const SUPERBLOCK_OFFSET: u64 = 1024;
/// Its size.
pub const SUPERBLOCK_SIZE: usize = 1024;
/// `s_magic`.
pub const EXT2_MAGIC: u16 = 0xEF53;

/// `s_state`: cleanly unmounted.
pub const STATE_VALID: u16 = 1;
/// `s_state`: errors detected.
pub const STATE_ERROR: u16 = 2;

/// `s_creator_os` values.
pub mod os {
    /// Linux.
    pub const LINUX: u32 = 0;
    /// The GNU Hurd: inodes carry a translator block, high mode bits and
    /// an author.
    pub const HURD: u32 = 1;
    /// MASIX.
    pub const MASIX: u32 = 2;
    /// FreeBSD.
    pub const FREEBSD: u32 = 3;
    /// Lites.
    pub const LITES: u32 = 4;
}

/// `s_feature_compat` bits.
pub mod compat {
    /// Directory preallocation.
    pub const DIR_PREALLOC: u32 = 0x0001;
    /// AFS server inodes.
    pub const IMAGIC_INODES: u32 = 0x0002;
    /// A journal (ext3).
    pub const HAS_JOURNAL: u32 = 0x0004;
    /// Extended attributes (blocks named by `i_file_acl`).
    pub const EXT_ATTR: u32 = 0x0008;
    /// Blocks reserved for growing the group descriptor table (inode 7).
    pub const RESIZE_INODE: u32 = 0x0010;
    /// Hashed directory indexes.
    pub const DIR_INDEX: u32 = 0x0020;
    /// Backup superblocks in at most two groups.
    pub const SPARSE_SUPER2: u32 = 0x0200;
}

/// `s_feature_incompat` bits.
pub mod incompat {
    /// Compression.
    pub const COMPRESSION: u32 = 0x0001;
    /// Directory entries carry the file's type.
    pub const FILETYPE: u32 = 0x0002;
    /// The journal needs replaying.
    pub const RECOVER: u32 = 0x0004;
    /// The device is an external journal.
    pub const JOURNAL_DEV: u32 = 0x0008;
    /// Meta block groups.
    pub const META_BG: u32 = 0x0010;
    /// Extent-mapped files (ext4).
    pub const EXTENTS: u32 = 0x0040;
    /// 64-bit block numbers.
    pub const BIT64: u32 = 0x0080;
    /// Multiple-mount protection.
    pub const MMP: u32 = 0x0100;
    /// Flexible block groups.
    pub const FLEX_BG: u32 = 0x0200;
    /// Attribute values in inodes.
    pub const EA_INODE: u32 = 0x0400;
    /// Inline data.
    pub const INLINE_DATA: u32 = 0x8000;
    /// What this implementation reads and writes.
    pub const SUPPORTED: u32 = FILETYPE;
}

/// `s_feature_ro_compat` bits.
pub mod ro_compat {
    /// Backup superblocks and descriptors only in groups 0, 1 and powers
    /// of 3, 5 and 7.
    pub const SPARSE_SUPER: u32 = 0x0001;
    /// Files of 2 GiB and more.
    pub const LARGE_FILE: u32 = 0x0002;
    /// Unused, set by old tools.
    pub const BTREE_DIR: u32 = 0x0004;
    /// Files larger than 2 TiB (`i_blocks` in file system blocks).
    pub const HUGE_FILE: u32 = 0x0008;
    /// Group descriptor checksums.
    pub const GDT_CSUM: u32 = 0x0010;
    /// More than 65000 subdirectories.
    pub const DIR_NLINK: u32 = 0x0020;
    /// Metadata checksums.
    pub const METADATA_CSUM: u32 = 0x0400;
    /// What this implementation writes; others mount read-only.
    pub const SUPPORTED: u32 = SPARSE_SUPER | LARGE_FILE | BTREE_DIR;
}

/// Why an image cannot be mounted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MountError {
    /// The device could not be read.
    Io(Errno),
    /// The device is too small to hold the superblock or the blocks it
    /// claims.
    TooSmall,
    /// `s_magic` is not 0xEF53: not an ext2 file system.
    BadMagic(u16),
    /// A superblock field is impossible.
    BadSuperblock(&'static str),
    /// Incompatible features this implementation does not know
    /// (`s_feature_incompat` bits).
    Unsupported(u32),
    /// The journal must be replayed first (run `e2fsck`).
    NeedsRecovery,
    /// A group descriptor points outside its group or the device.
    BadGroup(u32),
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountError::Io(e) => write!(f, "cannot read the device: {e}"),
            MountError::TooSmall => f.write_str("the device is smaller than the file system"),
            MountError::BadMagic(m) => write!(f, "not an ext2 file system (magic {m:#06x})"),
            MountError::BadSuperblock(what) => write!(f, "corrupt superblock: {what}"),
            MountError::Unsupported(bits) => {
                write!(f, "unsupported incompatible features {bits:#x}")
            }
            MountError::NeedsRecovery => {
                f.write_str("the journal needs recovery (run e2fsck first)")
            }
            MountError::BadGroup(g) => write!(f, "corrupt descriptor of block group {g}"),
        }
    }
}

impl From<MountError> for Errno {
    fn from(e: MountError) -> Errno {
        match e {
            MountError::Io(e) => e,
            MountError::Unsupported(_) | MountError::NeedsRecovery => Errno::OpNotSupp,
            _ => Errno::FType,
        }
    }
}

/// The superblock's bytes with typed access to the fields in use. Fields
/// this implementation does not know are kept as they are.
#[derive(Clone)]
pub struct Superblock {
    raw: Box<[u8; SUPERBLOCK_SIZE]>,
}

impl fmt::Debug for Superblock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Superblock")
            .field("blocks_count", &self.blocks_count())
            .field("inodes_count", &self.inodes_count())
            .field("block_size", &self.block_size())
            .finish_non_exhaustive()
    }
}

macro_rules! field32 {
    ($(#[$m:meta])* $get:ident, $set:ident, $off:expr) => {
        $(#[$m])*
        pub fn $get(&self) -> u32 {
            get32(&self.raw[..], $off)
        }
        #[allow(dead_code)]
        pub(crate) fn $set(&mut self, v: u32) {
            put32(&mut self.raw[..], $off, v)
        }
    };
}

macro_rules! field16 {
    ($(#[$m:meta])* $get:ident, $set:ident, $off:expr) => {
        $(#[$m])*
        pub fn $get(&self) -> u16 {
            get16(&self.raw[..], $off)
        }
        #[allow(dead_code)]
        pub(crate) fn $set(&mut self, v: u16) {
            put16(&mut self.raw[..], $off, v)
        }
    };
}

impl Superblock {
    field32!(
        /// `s_inodes_count`.
        inodes_count, set_inodes_count, 0
    );
    field32!(
        /// `s_blocks_count`.
        blocks_count, set_blocks_count, 4
    );
    field32!(
        /// `s_r_blocks_count`: blocks only root may use.
        r_blocks_count, set_r_blocks_count, 8
    );
    field32!(
        /// `s_free_blocks_count`.
        free_blocks_count, set_free_blocks_count, 12
    );
    field32!(
        /// `s_free_inodes_count`.
        free_inodes_count, set_free_inodes_count, 16
    );
    field32!(
        /// `s_first_data_block`: 1 with 1 KiB blocks, else 0.
        first_data_block, set_first_data_block, 20
    );
    field32!(
        /// `s_log_block_size`: the block size is `1024 << this`.
        log_block_size, set_log_block_size, 24
    );
    field32!(
        /// `s_log_frag_size`.
        log_frag_size, set_log_frag_size, 28
    );
    field32!(
        /// `s_blocks_per_group`.
        blocks_per_group, set_blocks_per_group, 32
    );
    field32!(
        /// `s_inodes_per_group`.
        inodes_per_group, set_inodes_per_group, 40
    );
    field32!(
        /// `s_mtime`: last mount.
        mtime, set_mtime, 44
    );
    field32!(
        /// `s_wtime`: last write.
        wtime, set_wtime, 48
    );
    field16!(
        /// `s_mnt_count`.
        mnt_count, set_mnt_count, 52
    );
    field16!(
        /// `s_magic`.
        magic, set_magic, 56
    );
    field16!(
        /// `s_state`: [`STATE_VALID`], [`STATE_ERROR`].
        state, set_state, 58
    );
    field32!(
        /// `s_creator_os` ([`os`]).
        creator_os, set_creator_os, 72
    );
    field32!(
        /// `s_rev_level`: 0 (fixed inode size) or 1 (dynamic).
        rev_level, set_rev_level, 76
    );
    field16!(
        /// `s_def_resuid`: who may use the reserved blocks.
        def_resuid, set_def_resuid, 80
    );
    field16!(
        /// `s_def_resgid`.
        def_resgid, set_def_resgid, 82
    );
    field32!(
        /// `s_feature_compat` ([`compat`]).
        feature_compat, set_feature_compat, 92
    );
    field32!(
        /// `s_feature_incompat` ([`incompat`]).
        feature_incompat, set_feature_incompat, 96
    );
    field32!(
        /// `s_feature_ro_compat` ([`ro_compat`]).
        feature_ro_compat, set_feature_ro_compat, 100
    );
    field16!(
        /// `s_reserved_gdt_blocks`: blocks after the descriptor table kept
        /// for growing it (`resize_inode`).
        reserved_gdt_blocks, set_reserved_gdt_blocks, 206
    );
    field16!(
        /// `s_want_extra_isize`: the extra inode space new inodes get.
        want_extra_isize, set_want_extra_isize, 350
    );

    /// The superblock in `raw` (the 1024 bytes at [`SUPERBLOCK_OFFSET`]),
    /// checked against itself and a device of `device_size` bytes.
    ///
    /// # Errors
    ///
    /// A [`MountError`] saying what is wrong.
    pub fn parse(raw: &[u8], device_size: u64) -> Result<Superblock, MountError> {
        let raw: [u8; SUPERBLOCK_SIZE] = raw.try_into().map_err(|_| MountError::TooSmall)?;
        let sb = Superblock { raw: Box::new(raw) };
        sb.check(device_size)?;
        Ok(sb)
    }

    fn check(&self, device_size: u64) -> Result<(), MountError> {
        use MountError::BadSuperblock as Bad;
        if self.magic() != EXT2_MAGIC {
            return Err(MountError::BadMagic(self.magic()));
        }
        if self.log_block_size() > 6 {
            return Err(Bad("block size beyond 64 KiB"));
        }
        if self.rev_level() > 1 {
            return Err(Bad("unknown revision"));
        }
        let bs = self.block_size() as u64;
        if self.rev_level() == 1 {
            let isz = get16(&self.raw[..], 88) as u64;
            if isz < 128 || !isz.is_power_of_two() || isz > bs {
                return Err(Bad("inode size"));
            }
            let first = get32(&self.raw[..], 84);
            if first < 11 {
                return Err(Bad("first inode"));
            }
            let incompat = self.feature_incompat();
            if incompat & incompat::RECOVER != 0 {
                return Err(MountError::NeedsRecovery);
            }
            if incompat & !incompat::SUPPORTED != 0 {
                return Err(MountError::Unsupported(incompat & !incompat::SUPPORTED));
            }
        }
        let expect_first = if bs == 1024 { 1 } else { 0 };
        if self.first_data_block() != expect_first {
            return Err(Bad("first data block"));
        }
        let bpg = self.blocks_per_group() as u64;
        let ipg = self.inodes_per_group() as u64;
        if bpg == 0 || bpg > 8 * bs {
            return Err(Bad("blocks per group"));
        }
        if ipg == 0 || ipg > 8 * bs {
            return Err(Bad("inodes per group"));
        }
        let blocks = self.blocks_count() as u64;
        if blocks <= self.first_data_block() as u64 + 1 {
            return Err(Bad("block count"));
        }
        if blocks.saturating_mul(bs) > device_size {
            return Err(MountError::TooSmall);
        }
        let groups = self.groups_count() as u64;
        if (self.inodes_count() as u64) > groups * ipg
            || (self.inodes_count() as u64) < (self.first_ino() as u64).max(11)
        {
            return Err(Bad("inode count"));
        }
        if self.r_blocks_count() > self.blocks_count() {
            return Err(Bad("reserved block count"));
        }
        // The group descriptor table must fit before the end.
        let gdt_end = self.first_data_block() as u64 + 1 + self.gdt_blocks() as u64;
        if gdt_end >= blocks {
            return Err(Bad("group descriptor table"));
        }
        Ok(())
    }

    /// The block size in bytes (1024 to 65536).
    pub fn block_size(&self) -> usize {
        1024 << self.log_block_size().min(6)
    }

    /// The size of an on-disk inode (128 for revision 0).
    pub fn inode_size(&self) -> usize {
        if self.rev_level() == 0 {
            128
        } else {
            get16(&self.raw[..], 88) as usize
        }
    }

    /// The first inode ordinary files may use (11 for revision 0).
    pub fn first_ino(&self) -> u32 {
        if self.rev_level() == 0 {
            11
        } else {
            get32(&self.raw[..], 84)
        }
    }

    /// Inodes in one block.
    pub fn inodes_per_block(&self) -> usize {
        self.block_size() / self.inode_size()
    }

    /// Blocks of one group's inode table.
    pub fn inode_table_blocks(&self) -> u32 {
        (self.inodes_per_group() as u64 * self.inode_size() as u64)
            .div_ceil(self.block_size() as u64) as u32
    }

    /// Block groups.
    pub fn groups_count(&self) -> u32 {
        let data = self.blocks_count().saturating_sub(self.first_data_block());
        data.div_ceil(self.blocks_per_group().max(1))
    }

    /// Blocks of the group descriptor table.
    pub fn gdt_blocks(&self) -> u32 {
        self.groups_count()
            .div_ceil((self.block_size() / super::group::DESC_SIZE) as u32)
    }

    /// Whether any of `bits` is set in `s_feature_compat`.
    pub fn has_compat(&self, bits: u32) -> bool {
        self.feature_compat() & bits != 0
    }

    /// Whether any of `bits` is set in `s_feature_incompat`.
    pub fn has_incompat(&self, bits: u32) -> bool {
        self.rev_level() > 0 && self.feature_incompat() & bits != 0
    }

    /// Whether any of `bits` is set in `s_feature_ro_compat`.
    pub fn has_ro_compat(&self, bits: u32) -> bool {
        self.rev_level() > 0 && self.feature_ro_compat() & bits != 0
    }

    /// Read-only-compatible features this implementation cannot write.
    pub fn unwritable_features(&self) -> u32 {
        if self.rev_level() == 0 {
            0
        } else {
            self.feature_ro_compat() & !ro_compat::SUPPORTED
        }
    }

    /// Whether the Hurd made the file system (its inode fields apply).
    pub fn is_hurd(&self) -> bool {
        self.creator_os() == os::HURD
    }

    /// The volume's UUID.
    pub fn uuid(&self) -> [u8; 16] {
        let mut u = [0; 16];
        u.copy_from_slice(&self.raw[104..120]);
        u
    }

    /// The raw bytes, for writing back.
    pub fn as_bytes(&self) -> &[u8; SUPERBLOCK_SIZE] {
        &self.raw
    }

    /// Whether group `g` holds a backup of the superblock and descriptors.
    pub fn group_has_super(&self, g: u32) -> bool {
        if g == 0 {
            return true;
        }
        if self.has_compat(compat::SPARSE_SUPER2) {
            let b1 = get32(&self.raw[..], 0x24C);
            let b2 = get32(&self.raw[..], 0x250);
            return g == b1 || g == b2;
        }
        if !self.has_ro_compat(ro_compat::SPARSE_SUPER) || g <= 1 {
            return true;
        }
        if g & 1 == 0 {
            return false;
        }
        [3u32, 5, 7].iter().any(|&base| is_power_of(g, base))
    }
}

fn is_power_of(mut n: u32, base: u32) -> bool {
    while n.is_multiple_of(base) {
        n /= base;
    }
    n == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid superblock: 1 KiB blocks, 8192 blocks, one group.
    pub(crate) fn sample() -> [u8; SUPERBLOCK_SIZE] {
        let mut r = [0u8; SUPERBLOCK_SIZE];
        put32(&mut r, 0, 2048);
        put32(&mut r, 4, 8192);
        put32(&mut r, 20, 1);
        put32(&mut r, 24, 0);
        put32(&mut r, 32, 8192);
        put32(&mut r, 40, 2048);
        put16(&mut r, 56, EXT2_MAGIC);
        put32(&mut r, 76, 1);
        put32(&mut r, 84, 11);
        put16(&mut r, 88, 128);
        r
    }

    #[test]
    fn accepts_a_valid_superblock() {
        let sb = Superblock::parse(&sample(), 8192 * 1024).expect("parse");
        assert_eq!(sb.block_size(), 1024);
        assert_eq!(sb.groups_count(), 1);
        assert_eq!(sb.inodes_per_block(), 8);
    }

    #[test]
    fn refuses_corrupt_superblocks() {
        let size = 8192 * 1024;
        let cases: &[(usize, u32, MountError)] = &[
            (
                24,
                40,
                MountError::BadSuperblock("block size beyond 64 KiB"),
            ),
            (32, 0, MountError::BadSuperblock("blocks per group")),
            (40, 0, MountError::BadSuperblock("inodes per group")),
            (4, u32::MAX, MountError::TooSmall),
            (0, u32::MAX, MountError::BadSuperblock("inode count")),
            (96, 0x40, MountError::Unsupported(0x40)),
            (96, 0x04, MountError::NeedsRecovery),
            (20, 0, MountError::BadSuperblock("first data block")),
        ];
        for &(off, v, want) in cases {
            let mut r = sample();
            put32(&mut r, off, v);
            assert_eq!(Superblock::parse(&r, size).map(|_| ()), Err(want), "{off}");
        }
        let mut r = sample();
        put16(&mut r, 56, 0x1234);
        assert_eq!(
            Superblock::parse(&r, size).map(|_| ()),
            Err(MountError::BadMagic(0x1234))
        );
        assert_eq!(
            Superblock::parse(&r[..100], size).map(|_| ()),
            Err(MountError::TooSmall)
        );
        let mut r = sample();
        put16(&mut r, 88, 100);
        assert!(Superblock::parse(&r, size).is_err());
    }

    #[test]
    fn sparse_super_backups() {
        let mut r = sample();
        put32(&mut r, 100, ro_compat::SPARSE_SUPER);
        let sb = Superblock::parse(&r, 8192 * 1024).expect("parse");
        let with: alloc::vec::Vec<u32> = (0..50).filter(|&g| sb.group_has_super(g)).collect();
        assert_eq!(with, [0, 1, 3, 5, 7, 9, 25, 27, 49]);
    }
}
