//! Block and inode allocation: the groups' bitmaps, with the group
//! descriptors' and the superblock's free counts kept exact.
//!
//! Blocks go near a goal (the block before, for a file's next block; the
//! inode's group for its first), in runs where they can. Inodes of new
//! directories go to a group with more free inodes than the average and
//! the most free blocks; other inodes go to their directory's group, else
//! one found by quadratic, then linear, probing (as Linux's ext2 and the
//! Hurd's do).

use alloc::format;

use super::device::BlockDevice;
use super::fs::Ext2;
use super::group::group_range;
use super::inode::Inode;
use hurd_ipc::Errno;

fn bit(map: &[u8], i: usize) -> bool {
    map[i / 8] & (1 << (i % 8)) != 0
}

/// The first clear bit at or after `from` and before `len`.
fn find_clear(map: &[u8], from: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < len {
        if i.is_multiple_of(8) && i + 8 <= len && map[i / 8] == 0xff {
            i += 8;
            continue;
        }
        if !bit(map, i) {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl<D: BlockDevice> Ext2<D> {
    /// The group holding block `b`.
    pub(crate) fn group_of_block(&self, b: u32) -> u32 {
        b.saturating_sub(self.sb.first_data_block()) / self.sb.blocks_per_group()
    }

    /// The group holding inode `ino`.
    pub(crate) fn group_of_inode(&self, ino: u32) -> u32 {
        ino.saturating_sub(1) / self.ipg
    }

    /// The first block of inode `ino`'s group: the goal for its first block.
    pub(crate) fn inode_goal(&self, ino: u32) -> u32 {
        group_range(&self.sb, self.group_of_inode(ino)).0
    }

    /// Whether block `b` is metadata of its group: a superblock or
    /// descriptor table copy (with the blocks reserved for growing it),
    /// a bitmap or the inode table.
    pub(crate) fn is_metadata(&self, b: u32) -> bool {
        let g = self.group_of_block(b);
        let Some(d) = self.groups.get(g as usize) else {
            return false;
        };
        let (start, _) = group_range(&self.sb, g);
        if self.sb.group_has_super(g) {
            let n = 1 + self.sb.gdt_blocks() + self.sb.reserved_gdt_blocks() as u32;
            if b - start < n {
                return true;
            }
        }
        let table = d.inode_table();
        b == d.block_bitmap()
            || b == d.inode_bitmap()
            || (b >= table && b - table < self.sb.inode_table_blocks())
    }

    /// Whether blocks `b..b + n` hold group `g`'s bitmaps or inode table
    /// (so a bitmap claiming them free is corrupt).
    fn overlaps_group_metadata(&self, g: u32, b: u32, n: u32) -> bool {
        let d = &self.groups[g as usize];
        let end = b as u64 + n as u64;
        let hit = |s: u32, len: u32| (s as u64) < end && b < s.saturating_add(len);
        hit(d.block_bitmap(), 1)
            || hit(d.inode_bitmap(), 1)
            || hit(d.inode_table(), self.sb.inode_table_blocks())
    }

    /// Allocates up to `want` contiguous blocks (at least one), near
    /// `goal`. `privileged` callers may use the blocks reserved for root.
    /// Returns the first block and how many.
    ///
    /// # Errors
    ///
    /// `ENOSPC` if none is free (to this caller), `EROFS`, `EIO`.
    pub(crate) fn alloc_blocks(
        &mut self,
        goal: u32,
        want: u32,
        privileged: bool,
    ) -> Result<(u32, u32), Errno> {
        self.writable()?;
        let free = self.sb.free_blocks_count();
        let usable = if privileged {
            free
        } else {
            free.saturating_sub(self.sb.r_blocks_count())
        };
        if usable == 0 {
            return Err(Errno::NoSpc);
        }
        let want = want.clamp(1, usable);
        let first = self.sb.first_data_block();
        let goal = if goal < first || goal >= self.sb.blocks_count() {
            first
        } else {
            goal
        };
        let ngroups = self.sb.groups_count();
        let g0 = self.group_of_block(goal);
        // The goal's group from the goal, the others from their start, then
        // the goal's group again from its start.
        for i in 0..=ngroups {
            let g = (g0 + i) % ngroups;
            if self.groups[g as usize].free_blocks() == 0 {
                continue;
            }
            let (gstart, _) = group_range(&self.sb, g);
            let from = if i == 0 { goal - gstart } else { 0 };
            if let Some((b, n)) = self.alloc_in_group(g, from, want)? {
                return Ok((gstart + b, n));
            }
        }
        // The counts said there was room; the bitmaps disagree.
        Err(self.corrupt("free block counts disagree with the bitmaps"))
    }

    /// Looks for free blocks in group `g` from bit `from`; takes a run.
    fn alloc_in_group(
        &mut self,
        g: u32,
        from: u32,
        want: u32,
    ) -> Result<Option<(u32, u32)>, Errno> {
        let (gstart, glen) = group_range(&self.sb, g);
        let bitmap = self.groups[g as usize].block_bitmap();
        let mut from = from as usize;
        loop {
            let (start, n) = {
                let map = self.cache.get(&mut self.dev, bitmap)?;
                let Some(start) = find_clear(map, from, glen as usize) else {
                    return Ok(None);
                };
                let mut n = 1;
                while n < want as usize && start + n < glen as usize && !bit(map, start + n) {
                    n += 1;
                }
                (start, n as u32)
            };
            let map = self.cache.get_mut(&mut self.dev, bitmap)?;
            for i in start..start + n as usize {
                map[i / 8] |= 1 << (i % 8);
            }
            if self.overlaps_group_metadata(g, gstart + start as u32, n) {
                // Leave the bits set (they should have been) and go on.
                let _ = self.corrupt(&format!("group {g}'s bitmap marks its own metadata free"));
                from = start + n as usize;
                continue;
            }
            let d = &mut self.groups[g as usize];
            d.set_free_blocks(d.free_blocks().saturating_sub(n));
            self.groups_dirty.insert(g);
            let free = self.sb.free_blocks_count();
            self.sb.set_free_blocks_count(free.saturating_sub(n));
            self.sb_dirty = true;
            return Ok(Some((start as u32, n)));
        }
    }

    /// Allocates one block near `goal`.
    pub(crate) fn alloc_block(&mut self, goal: u32, privileged: bool) -> Result<u32, Errno> {
        self.alloc_blocks(goal, 1, privileged).map(|(b, _)| b)
    }

    /// Frees blocks `start..start + n` and forgets any cached copy. A block
    /// already free is reported as corruption and not counted twice.
    ///
    /// # Errors
    ///
    /// `EIO` for blocks out of range or already free (after freeing the
    /// others), `EROFS`.
    pub(crate) fn free_blocks(&mut self, start: u32, n: u32) -> Result<(), Errno> {
        self.writable()?;
        if n == 0 {
            return Ok(());
        }
        let end = start as u64 + n as u64;
        if start < self.sb.first_data_block() || end > self.sb.blocks_count() as u64 {
            return Err(self.corrupt(&format!("freeing blocks {start}+{n} out of range")));
        }
        self.cache.discard_range(start, n);
        let mut b = start;
        let mut bad = false;
        while (b as u64) < end {
            let g = self.group_of_block(b);
            let (gstart, glen) = group_range(&self.sb, g);
            let stop = (gstart as u64 + glen as u64).min(end) as u32;
            let bitmap = self.groups[g as usize].block_bitmap();
            let map = self.cache.get_mut(&mut self.dev, bitmap)?;
            let mut freed = 0;
            for x in b..stop {
                let i = (x - gstart) as usize;
                if bit(map, i) {
                    map[i / 8] &= !(1 << (i % 8));
                    freed += 1;
                } else {
                    bad = true;
                }
            }
            let d = &mut self.groups[g as usize];
            d.set_free_blocks((d.free_blocks() + freed).min(glen));
            self.groups_dirty.insert(g);
            let free = self.sb.free_blocks_count();
            self.sb.set_free_blocks_count(free.saturating_add(freed));
            self.sb_dirty = true;
            b = stop;
        }
        if bad {
            return Err(self.corrupt(&format!("freeing free blocks in {start}+{n}")));
        }
        Ok(())
    }

    /// Allocates an inode for a new file (`dir`: a directory) made in
    /// directory `parent`.
    ///
    /// # Errors
    ///
    /// `ENOSPC`, `EROFS`, `EIO`.
    pub(crate) fn alloc_inode(&mut self, parent: u32, dir: bool) -> Result<u32, Errno> {
        self.writable()?;
        if self.sb.free_inodes_count() == 0 {
            return Err(Errno::NoSpc);
        }
        let n = self.sb.groups_count();
        let pg = self.group_of_inode(parent).min(n - 1);
        let has_inodes = |fs: &Self, g: u32| fs.groups[g as usize].free_inodes() > 0;
        let mut order: alloc::vec::Vec<u32> = alloc::vec::Vec::new();
        if dir {
            let avg = self.sb.free_inodes_count() / n;
            let best = (0..n)
                .filter(|&g| has_inodes(self, g) && self.groups[g as usize].free_inodes() >= avg)
                .max_by_key(|&g| (self.groups[g as usize].free_blocks(), core::cmp::Reverse(g)));
            order.extend(best);
        } else {
            if has_inodes(self, pg) && self.groups[pg as usize].free_blocks() > 0 {
                order.push(pg);
            }
            let mut step = 1u32;
            while step < n {
                let g = (pg + step) % n;
                if has_inodes(self, g) && self.groups[g as usize].free_blocks() > 0 {
                    order.push(g);
                    break;
                }
                step <<= 1;
            }
        }
        order.extend((0..n).map(|i| (pg + i) % n));
        for g in order {
            if !has_inodes(self, g) {
                continue;
            }
            if let Some(ino) = self.alloc_inode_in(g, dir)? {
                return Ok(ino);
            }
        }
        Err(self.corrupt("free inode counts disagree with the bitmaps"))
    }

    fn alloc_inode_in(&mut self, g: u32, dir: bool) -> Result<Option<u32>, Errno> {
        let bitmap = self.groups[g as usize].inode_bitmap();
        let first = self.sb.first_ino();
        let base = g * self.ipg;
        // Reserved inodes are never handed out, whatever the bitmap says.
        let from = first.saturating_sub(1).saturating_sub(base) as usize;
        let limit = (self.sb.inodes_count() - base).min(self.ipg) as usize;
        let found = {
            let map = self.cache.get(&mut self.dev, bitmap)?;
            find_clear(map, from, limit)
        };
        let Some(i) = found else {
            return Ok(None);
        };
        let map = self.cache.get_mut(&mut self.dev, bitmap)?;
        map[i / 8] |= 1 << (i % 8);
        let d = &mut self.groups[g as usize];
        d.set_free_inodes(d.free_inodes().saturating_sub(1));
        if dir {
            d.set_used_dirs(d.used_dirs() + 1);
        }
        self.groups_dirty.insert(g);
        let free = self.sb.free_inodes_count();
        self.sb.set_free_inodes_count(free.saturating_sub(1));
        self.sb_dirty = true;
        Ok(Some(base + i as u32 + 1))
    }

    /// Frees inode `ino` in its bitmap (its contents are the caller's).
    pub(crate) fn free_inode(&mut self, ino: u32, dir: bool) -> Result<(), Errno> {
        self.writable()?;
        if ino < self.sb.first_ino() || ino > self.sb.inodes_count() {
            return Err(self.corrupt(&format!("freeing reserved or bad inode {ino}")));
        }
        let g = self.group_of_inode(ino);
        let i = ((ino - 1) % self.ipg) as usize;
        let bitmap = self.groups[g as usize].inode_bitmap();
        let map = self.cache.get_mut(&mut self.dev, bitmap)?;
        if !bit(map, i) {
            return Err(self.corrupt(&format!("freeing free inode {ino}")));
        }
        map[i / 8] &= !(1 << (i % 8));
        let ipg = self.ipg;
        let d = &mut self.groups[g as usize];
        d.set_free_inodes((d.free_inodes() + 1).min(ipg));
        if dir {
            d.set_used_dirs(d.used_dirs().saturating_sub(1));
        }
        self.groups_dirty.insert(g);
        let free = self.sb.free_inodes_count();
        self.sb.set_free_inodes_count(free.saturating_add(1));
        self.sb_dirty = true;
        Ok(())
    }

    /// Allocates and initialises a new inode: `mode`, owner, author
    /// `uid`, times now, no links yet (the caller links it).
    pub(crate) fn new_inode(
        &mut self,
        parent: u32,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(u32, Inode), Errno> {
        let dir = mode & 0o170000 == 0o040000;
        let ino = self.alloc_inode(parent, dir)?;
        let now = self.now();
        self.next_generation = self.next_generation.wrapping_add(1);
        let inode = Inode {
            mode,
            uid,
            gid,
            atime: now,
            ctime: now,
            mtime: now,
            crtime: now,
            generation: self.next_generation,
            author: uid,
            extra_isize: if self.inode_size >= 160 { 32 } else { 0 },
            ..Inode::default()
        };
        let (block, offset) = self.inode_location(ino)?;
        let isz = self.inode_size;
        let raw = self.cache.get_mut(&mut self.dev, block)?;
        raw[offset..offset + isz].fill(0);
        self.write_inode(ino, &inode)?;
        Ok((ino, inode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_clear_bits() {
        let map = [0xff, 0xff, 0b1110_1111, 0];
        assert_eq!(find_clear(&map, 0, 32), Some(20));
        assert_eq!(find_clear(&map, 21, 32), Some(24));
        assert_eq!(find_clear(&map, 0, 20), None);
    }
}
