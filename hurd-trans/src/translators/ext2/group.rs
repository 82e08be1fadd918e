//! Block group descriptors: where each group's bitmaps and inode table
//! are, and its free counts.

use super::bytes::{get16, get32, put16};
use super::superblock::{MountError, Superblock};

/// The size of one descriptor (no 64-bit feature).
pub const DESC_SIZE: usize = 32;

/// One group's descriptor, kept as its on-disk bytes (fields this
/// implementation does not use are written back unchanged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupDesc {
    raw: [u8; DESC_SIZE],
}

impl GroupDesc {
    /// A descriptor from its on-disk bytes.
    pub fn from_bytes(b: &[u8]) -> GroupDesc {
        let mut raw = [0; DESC_SIZE];
        raw.copy_from_slice(&b[..DESC_SIZE]);
        GroupDesc { raw }
    }

    /// The on-disk bytes.
    pub fn as_bytes(&self) -> &[u8; DESC_SIZE] {
        &self.raw
    }

    /// `bg_block_bitmap`.
    pub fn block_bitmap(&self) -> u32 {
        get32(&self.raw, 0)
    }

    /// `bg_inode_bitmap`.
    pub fn inode_bitmap(&self) -> u32 {
        get32(&self.raw, 4)
    }

    /// `bg_inode_table`: the first block of the group's inode table.
    pub fn inode_table(&self) -> u32 {
        get32(&self.raw, 8)
    }

    /// `bg_free_blocks_count`.
    pub fn free_blocks(&self) -> u32 {
        get16(&self.raw, 12) as u32
    }

    /// `bg_free_inodes_count`.
    pub fn free_inodes(&self) -> u32 {
        get16(&self.raw, 14) as u32
    }

    /// `bg_used_dirs_count`.
    pub fn used_dirs(&self) -> u32 {
        get16(&self.raw, 16) as u32
    }

    pub(crate) fn set_free_blocks(&mut self, v: u32) {
        put16(&mut self.raw, 12, v as u16)
    }

    pub(crate) fn set_free_inodes(&mut self, v: u32) {
        put16(&mut self.raw, 14, v as u16)
    }

    pub(crate) fn set_used_dirs(&mut self, v: u32) {
        put16(&mut self.raw, 16, v as u16)
    }

    /// Checks the descriptor of group `g` against the superblock: bitmaps
    /// and inode table inside the group, counts no larger than the group.
    ///
    /// # Errors
    ///
    /// [`MountError::BadGroup`].
    pub fn check(&self, sb: &Superblock, g: u32) -> Result<(), MountError> {
        let (first, len) = group_range(sb, g);
        let end = first as u64 + len as u64;
        let inside = |b: u32, n: u32| b >= first && (b as u64 + n as u64) <= end;
        let ok = inside(self.block_bitmap(), 1)
            && inside(self.inode_bitmap(), 1)
            && inside(self.inode_table(), sb.inode_table_blocks())
            && self.free_blocks() <= len
            && self.free_inodes() <= sb.inodes_per_group()
            && self.used_dirs() <= sb.inodes_per_group();
        if ok {
            Ok(())
        } else {
            Err(MountError::BadGroup(g))
        }
    }
}

/// The first block of group `g` and how many blocks it has (the last group
/// may be short).
pub fn group_range(sb: &Superblock, g: u32) -> (u32, u32) {
    let bpg = sb.blocks_per_group();
    let first = sb.first_data_block() as u64 + g as u64 * bpg as u64;
    let end = (first + bpg as u64).min(sb.blocks_count() as u64);
    (first as u32, end.saturating_sub(first) as u32)
}
