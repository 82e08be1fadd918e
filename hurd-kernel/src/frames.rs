//! The physical frame allocator: one bit per 4 KiB frame.
//!
//! Built from the memory map: every frame starts out used, the available
//! regions are then freed (rounded inwards to whole frames) and the ranges
//! the kernel must keep (its image, the boot modules, the first megabyte)
//! reserved again (rounded outwards). Allocation is next-fit from the last
//! frame handed out.

use crate::multiboot::{MemoryKind, MemoryRegion};

/// The size of a frame.
pub const FRAME_SIZE: u64 = 4096;

/// Why a frame could not be freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameError {
    /// The address is not the start of a frame.
    NotAligned,
    /// The frame is beyond the memory the allocator covers.
    OutOfRange,
    /// The frame is already free.
    NotAllocated,
}

/// A bitmap of frames `[0, covered)`: a set bit is a used frame.
#[derive(Debug)]
pub struct FrameBitmap<'a> {
    bits: &'a mut [u64],
    free: u64,
    next: usize,
}

impl<'a> FrameBitmap<'a> {
    /// An allocator over `storage.len() * 64` frames, all used.
    pub fn new(storage: &'a mut [u64]) -> FrameBitmap<'a> {
        storage.fill(u64::MAX);
        FrameBitmap {
            bits: storage,
            free: 0,
            next: 0,
        }
    }

    /// An allocator from a memory map: the available regions free, then the
    /// `reserved` ranges (`[start, end)`) used.
    pub fn from_memory_map(
        storage: &'a mut [u64],
        regions: &[MemoryRegion],
        reserved: &[(u64, u64)],
    ) -> FrameBitmap<'a> {
        let mut frames = FrameBitmap::new(storage);
        for region in regions.iter().filter(|r| r.kind == MemoryKind::Available) {
            frames.add_free(region.start, region.end());
        }
        for &(start, end) in reserved {
            frames.reserve(start, end);
        }
        frames
    }

    /// The number of frames the bitmap covers.
    pub fn covered(&self) -> u64 {
        self.bits.len() as u64 * 64
    }

    /// The number of free frames.
    pub fn free_count(&self) -> u64 {
        self.free
    }

    /// Marks the whole frames inside `[start, end)` free.
    pub fn add_free(&mut self, start: u64, end: u64) {
        let first = start.div_ceil(FRAME_SIZE);
        let last = (end / FRAME_SIZE).min(self.covered());
        for frame in first..last {
            if self.set(frame, false) {
                self.free += 1;
            }
        }
    }

    /// Marks every frame touching `[start, end)` used.
    pub fn reserve(&mut self, start: u64, end: u64) {
        let first = start / FRAME_SIZE;
        let last = end.div_ceil(FRAME_SIZE).min(self.covered());
        for frame in first..last {
            if !self.set(frame, true) {
                self.free -= 1;
            }
        }
    }

    /// Whether the frame at `addr` is free.
    pub fn is_free(&self, addr: u64) -> bool {
        let frame = addr / FRAME_SIZE;
        frame < self.covered() && !self.get(frame)
    }

    /// A free frame's address, now used; `None` when memory is exhausted.
    pub fn alloc(&mut self) -> Option<u64> {
        if self.free == 0 {
            return None;
        }
        let words = self.bits.len();
        for i in 0..words {
            let index = (self.next + i) % words;
            let word = self.bits[index];
            if word != u64::MAX {
                let bit = (!word).trailing_zeros() as u64;
                let frame = index as u64 * 64 + bit;
                self.set(frame, true);
                self.free -= 1;
                self.next = index;
                return Some(frame * FRAME_SIZE);
            }
        }
        None
    }

    /// Frees the frame at `addr`.
    ///
    /// # Errors
    ///
    /// [`FrameError::NotAligned`], [`FrameError::OutOfRange`] or
    /// [`FrameError::NotAllocated`]; nothing changes then.
    pub fn free(&mut self, addr: u64) -> Result<(), FrameError> {
        if !addr.is_multiple_of(FRAME_SIZE) {
            return Err(FrameError::NotAligned);
        }
        let frame = addr / FRAME_SIZE;
        if frame >= self.covered() {
            return Err(FrameError::OutOfRange);
        }
        if !self.get(frame) {
            return Err(FrameError::NotAllocated);
        }
        self.set(frame, false);
        self.free += 1;
        Ok(())
    }

    /// `count` free frames in a row (at least one), the first at a
    /// multiple of `align` (a power of two; below [`FRAME_SIZE`] counts as
    /// [`FRAME_SIZE`]), all inside `[min, max)`; now used. Returns the first
    /// one's address; `None` when no such run is free. Memory a device
    /// reaches by DMA is allocated this way.
    pub fn alloc_contiguous(&mut self, count: u64, align: u64, min: u64, max: u64) -> Option<u64> {
        if count == 0 || !align.is_power_of_two() && align != 0 {
            return None;
        }
        let step = (align / FRAME_SIZE).max(1);
        let limit = (max / FRAME_SIZE).min(self.covered());
        let mut first = min.div_ceil(FRAME_SIZE).next_multiple_of(step);
        while first.checked_add(count).is_some_and(|end| end <= limit) {
            match (first..first + count).rev().find(|&f| self.get(f)) {
                // Used: the next candidate starts past it.
                Some(used) => first = (used + 1).next_multiple_of(step),
                None => {
                    for f in first..first + count {
                        self.set(f, true);
                    }
                    self.free -= count;
                    return Some(first * FRAME_SIZE);
                }
            }
        }
        None
    }

    fn get(&self, frame: u64) -> bool {
        self.bits[(frame / 64) as usize] & (1 << (frame % 64)) != 0
    }

    /// Sets the frame's bit to `used`, returning its old value.
    fn set(&mut self, frame: u64, used: bool) -> bool {
        let word = &mut self.bits[(frame / 64) as usize];
        let mask = 1 << (frame % 64);
        let old = *word & mask != 0;
        if used {
            *word |= mask;
        } else {
            *word &= !mask;
        }
        old
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;
    use alloc::vec;
    use proptest::prelude::*;

    fn region(start: u64, len: u64, kind: MemoryKind) -> MemoryRegion {
        MemoryRegion { start, len, kind }
    }

    #[test]
    fn contiguous_runs() {
        let mut storage = vec![0; 2]; // 128 frames
        let mut frames = FrameBitmap::new(&mut storage);
        frames.add_free(0, 128 * FRAME_SIZE);
        frames.reserve(5 * FRAME_SIZE, 6 * FRAME_SIZE);
        // Frames 0-4 free, 5 used: a run of 6 starts at 6.
        assert_eq!(
            frames.alloc_contiguous(6, 0, 0, u64::MAX),
            Some(6 * FRAME_SIZE)
        );
        // Inside [0, 5 frames): frames 0-4.
        assert_eq!(frames.alloc_contiguous(5, 0, 0, 5 * FRAME_SIZE), Some(0));
        assert_eq!(frames.alloc_contiguous(1, 0, 0, 5 * FRAME_SIZE), None);
        // Aligned to 64 KiB (16 frames): the next free run is at 16.
        assert_eq!(
            frames.alloc_contiguous(2, 0x1_0000, 0, u64::MAX),
            Some(16 * FRAME_SIZE)
        );
        assert_eq!(frames.free_count(), 128 - 1 - 6 - 2 - 5);
        for bad in [(0, 0), (1, 3 * FRAME_SIZE), (129, 0)] {
            assert_eq!(frames.alloc_contiguous(bad.0, bad.1, 0, u64::MAX), None);
        }
        assert_eq!(frames.alloc_contiguous(1, 0, u64::MAX - 1, u64::MAX), None);
        for f in 6..12 {
            frames.free(f * FRAME_SIZE).expect("allocated");
        }
        assert_eq!(
            frames.alloc_contiguous(6, 0, 0, u64::MAX),
            Some(6 * FRAME_SIZE)
        );
    }

    #[test]
    fn builds_from_a_memory_map() {
        let mut storage = vec![0; 16]; // 1024 frames = 4 MiB
        let map = [
            region(0, 0x9_fc00, MemoryKind::Available),
            region(0xf_0000, 0x1_0000, MemoryKind::Reserved(2)),
            region(0x10_0000, 0x30_0000, MemoryKind::Available),
            region(0x40_0000, 0x10_0000, MemoryKind::Available), // beyond coverage
        ];
        let frames = FrameBitmap::from_memory_map(
            &mut storage,
            &map,
            &[(0, 0x10_0000), (0x10_0000, 0x12_0001)],
        );
        // 0x100000..0x400000 = 768 frames, minus 0x100000..0x121000 (33 frames).
        assert_eq!(frames.free_count(), 768 - 33);
        assert!(!frames.is_free(0x9_f000));
        assert!(!frames.is_free(0x12_0000));
        assert!(frames.is_free(0x12_1000));
        assert!(!frames.is_free(0x40_0000));
    }

    #[test]
    fn partial_frames_are_not_available() {
        let mut storage = vec![0; 1];
        let mut frames = FrameBitmap::new(&mut storage);
        frames.add_free(0x800, 0x2800);
        assert_eq!(frames.free_count(), 1);
        assert!(frames.is_free(0x1000));
    }

    #[test]
    fn alloc_until_exhausted_then_free() {
        let mut storage = vec![0; 2];
        let mut frames = FrameBitmap::new(&mut storage);
        frames.add_free(0, 5 * FRAME_SIZE);
        let got: BTreeSet<u64> = core::iter::from_fn(|| frames.alloc()).collect();
        assert_eq!(got.len(), 5);
        assert_eq!(frames.alloc(), None);
        assert_eq!(frames.free(3 * FRAME_SIZE), Ok(()));
        assert_eq!(frames.alloc(), Some(3 * FRAME_SIZE));
    }

    #[test]
    fn bad_frees_are_refused() {
        let mut storage = vec![0; 1];
        let mut frames = FrameBitmap::new(&mut storage);
        frames.add_free(0, 64 * FRAME_SIZE);
        let frame = frames.alloc().expect("a frame");
        assert_eq!(frames.free(frame + 1), Err(FrameError::NotAligned));
        assert_eq!(frames.free(64 * FRAME_SIZE), Err(FrameError::OutOfRange));
        assert_eq!(frames.free(frame), Ok(()));
        assert_eq!(frames.free(frame), Err(FrameError::NotAllocated));
        assert_eq!(frames.free_count(), 64);
    }

    proptest! {
        /// The allocator against a set model: never the same frame twice,
        /// counts always agree.
        #[test]
        fn matches_a_set_model(ops in proptest::collection::vec(any::<(bool, u8)>(), 0..300)) {
            let mut storage = vec![0; 2];
            let mut frames = FrameBitmap::new(&mut storage);
            frames.add_free(0, 100 * FRAME_SIZE);
            let mut held = BTreeSet::new();
            for (alloc, pick) in ops {
                if alloc {
                    match frames.alloc() {
                        Some(addr) => prop_assert!(held.insert(addr)),
                        None => prop_assert_eq!(held.len(), 100),
                    }
                } else if let Some(&addr) = held.iter().nth(pick as usize % held.len().max(1)) {
                    prop_assert_eq!(frames.free(addr), Ok(()));
                    held.remove(&addr);
                }
                prop_assert_eq!(frames.free_count(), 100 - held.len() as u64);
            }
        }
    }
}
