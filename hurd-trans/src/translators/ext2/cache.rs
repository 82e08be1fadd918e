//! The metadata cache: file system blocks held in memory (superblock
//! aside: group descriptors' table, bitmaps, inode tables, indirect,
//! directory, attribute and translator blocks), written back by
//! [`BlockCache::flush`]. File data does not go through it.
//!
//! Bounded: past its capacity the least recently used clean blocks are
//! dropped (dirty ones are written back first when nothing clean is left).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::device::BlockDevice;
use hurd_ipc::Errno;

struct Slot {
    data: Box<[u8]>,
    dirty: bool,
    used: u64,
}

/// A write-back cache of whole blocks.
pub struct BlockCache {
    block_size: usize,
    capacity: usize,
    slots: BTreeMap<u32, Slot>,
    tick: u64,
    dirty: usize,
}

impl BlockCache {
    /// A cache of at most `capacity` blocks (at least 64) of `block_size`
    /// bytes.
    pub fn new(block_size: usize, capacity: usize) -> BlockCache {
        BlockCache {
            block_size,
            capacity: capacity.max(64),
            slots: BTreeMap::new(),
            tick: 0,
            dirty: 0,
        }
    }

    fn touch(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Brings block `b` in, reading it from `dev` if absent.
    fn load<D: BlockDevice + ?Sized>(&mut self, dev: &mut D, b: u32) -> Result<&mut Slot, Errno> {
        let now = self.touch();
        if !self.slots.contains_key(&b) {
            self.make_room(dev)?;
            let mut data = vec![0u8; self.block_size].into_boxed_slice();
            dev.read_at(b as u64 * self.block_size as u64, &mut data)?;
            self.slots.insert(
                b,
                Slot {
                    data,
                    dirty: false,
                    used: now,
                },
            );
        }
        let slot = self.slots.get_mut(&b).ok_or(Errno::Io)?;
        slot.used = now;
        Ok(slot)
    }

    /// Block `b`'s bytes.
    ///
    /// # Errors
    ///
    /// The device's, reading it.
    pub fn get<D: BlockDevice + ?Sized>(&mut self, dev: &mut D, b: u32) -> Result<&[u8], Errno> {
        Ok(&self.load(dev, b)?.data)
    }

    /// Block `b`'s bytes, to change (the block becomes dirty).
    ///
    /// # Errors
    ///
    /// The device's, reading it.
    pub fn get_mut<D: BlockDevice + ?Sized>(
        &mut self,
        dev: &mut D,
        b: u32,
    ) -> Result<&mut [u8], Errno> {
        self.load(dev, b)?;
        let slot = self.slots.get_mut(&b).ok_or(Errno::Io)?;
        if !slot.dirty {
            slot.dirty = true;
            self.dirty += 1;
        }
        Ok(&mut slot.data)
    }

    /// Block `b`, newly allocated: all zeros and dirty, without reading it.
    ///
    /// # Errors
    ///
    /// The device's, writing back to make room.
    pub fn zeroed<D: BlockDevice + ?Sized>(
        &mut self,
        dev: &mut D,
        b: u32,
    ) -> Result<&mut [u8], Errno> {
        let now = self.touch();
        if !self.slots.contains_key(&b) {
            self.make_room(dev)?;
        }
        let bs = self.block_size;
        let slot = self.slots.entry(b).or_insert_with(|| Slot {
            data: vec![0u8; bs].into_boxed_slice(),
            dirty: false,
            used: now,
        });
        slot.data.fill(0);
        slot.used = now;
        if !slot.dirty {
            slot.dirty = true;
            self.dirty += 1;
        }
        Ok(&mut slot.data)
    }

    /// Block `b` if it is held (for reading file data that may be cached
    /// as metadata: a directory's or a symlink's).
    pub fn peek(&self, b: u32) -> Option<&[u8]> {
        self.slots.get(&b).map(|s| &*s.data)
    }

    /// Forgets block `b` (it was freed, or file data is written over it),
    /// dirty or not.
    pub fn discard(&mut self, b: u32) {
        if let Some(s) = self.slots.remove(&b)
            && s.dirty
        {
            self.dirty -= 1;
        }
    }

    /// Forgets blocks `start..start + n`.
    pub fn discard_range(&mut self, start: u32, n: u32) {
        if self.slots.is_empty() {
            return;
        }
        let end = start.saturating_add(n);
        let held: Vec<u32> = self.slots.range(start..end).map(|(&b, _)| b).collect();
        for b in held {
            self.discard(b);
        }
    }

    /// Whether any block is dirty.
    pub fn is_dirty(&self) -> bool {
        self.dirty > 0
    }

    /// Blocks held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Writes every dirty block back, in block order, merging neighbours
    /// into one write.
    ///
    /// # Errors
    ///
    /// The device's; blocks not written stay dirty.
    pub fn flush<D: BlockDevice + ?Sized>(&mut self, dev: &mut D) -> Result<(), Errno> {
        if self.dirty == 0 {
            return Ok(());
        }
        let bs = self.block_size;
        let mut run: Vec<u8> = Vec::new();
        let mut run_start = 0u32;
        let mut run_blocks: Vec<u32> = Vec::new();
        let dirty: Vec<u32> = self
            .slots
            .iter()
            .filter(|(_, s)| s.dirty)
            .map(|(&b, _)| b)
            .collect();
        const MAX_RUN: usize = 256;
        for b in dirty {
            let contiguous = run_blocks.last().is_some_and(|&l| l + 1 == b);
            if !run_blocks.is_empty() && (!contiguous || run_blocks.len() >= MAX_RUN) {
                self.write_run(dev, run_start, &run, &run_blocks)?;
                run.clear();
                run_blocks.clear();
            }
            if run_blocks.is_empty() {
                run_start = b;
            }
            if let Some(s) = self.slots.get(&b) {
                run.extend_from_slice(&s.data[..bs]);
                run_blocks.push(b);
            }
        }
        if !run_blocks.is_empty() {
            self.write_run(dev, run_start, &run, &run_blocks)?;
        }
        Ok(())
    }

    fn write_run<D: BlockDevice + ?Sized>(
        &mut self,
        dev: &mut D,
        start: u32,
        data: &[u8],
        blocks: &[u32],
    ) -> Result<(), Errno> {
        dev.write_at(start as u64 * self.block_size as u64, data)?;
        for b in blocks {
            if let Some(s) = self.slots.get_mut(b)
                && s.dirty
            {
                s.dirty = false;
                self.dirty -= 1;
            }
        }
        Ok(())
    }

    /// Drops old clean blocks when full (writing everything back first if
    /// too few are clean).
    fn make_room<D: BlockDevice + ?Sized>(&mut self, dev: &mut D) -> Result<(), Errno> {
        if self.slots.len() < self.capacity {
            return Ok(());
        }
        // Drop a quarter at a time, so the scan is paid rarely.
        let target = self.capacity - self.capacity / 4;
        if self.dirty > target {
            self.flush(dev)?;
        }
        self.evict_clean(target);
        Ok(())
    }

    fn evict_clean(&mut self, target: usize) {
        let excess = self.slots.len().saturating_sub(target);
        if excess == 0 {
            return;
        }
        let mut clean: Vec<(u64, u32)> = self
            .slots
            .iter()
            .filter(|(_, s)| !s.dirty)
            .map(|(&b, s)| (s.used, b))
            .collect();
        clean.sort_unstable();
        for (_, b) in clean.into_iter().take(excess) {
            self.slots.remove(&b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::device::MemDevice;
    use super::*;

    #[test]
    fn writes_back_in_order_and_stays_bounded() {
        let mut dev = MemDevice::new(vec![0; 1024 * 1024]);
        let mut c = BlockCache::new(1024, 64);
        for b in 0..200u32 {
            c.get_mut(&mut dev, b).expect("get")[0] = b as u8;
        }
        assert!(c.len() <= 64);
        c.flush(&mut dev).expect("flush");
        assert!(!c.is_dirty());
        for b in 0..200u32 {
            assert_eq!(dev.bytes()[b as usize * 1024], b as u8);
            assert_eq!(c.get(&mut dev, b).expect("get")[0], b as u8);
        }
        c.zeroed(&mut dev, 3).expect("zeroed");
        c.discard(3);
        c.flush(&mut dev).expect("flush");
        assert_eq!(dev.bytes()[3 * 1024], 3, "a discarded block is not written");
    }
}
