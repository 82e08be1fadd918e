//! The pmap layer: translations entered in the MMU, the reverse map from frames to translations, and dirty bits.

use super::*;

impl<M: Mmu, F: FrameAllocator> Vm<M, F> {
    /// Enters a translation, replacing any other at `va`.
    ///
    /// # Errors
    ///
    /// `ResourceShortage` when the MMU cannot make the tables it needs:
    /// nothing is mapped at `va` (the page stays in its object, for a later
    /// fault).
    pub(crate) fn map_page(
        &mut self,
        space: PmapId,
        va: u64,
        frame: Frame,
        prot: VmProt,
    ) -> Result<(), VmError> {
        let old = self.pmap.get(&space).and_then(|t| t.get(&va)).copied();
        if let Some(old) = old
            && old != frame
        {
            self.unmap_va(space, va);
        }
        self.mmu.map(space, va, frame, prot)?;
        self.pmap.entry(space).or_default().insert(va, frame);
        if old != Some(frame)
            && let Some(fi) = self.frames.get_mut(&frame)
        {
            fi.mappings.push((space, va));
        }
        Ok(())
    }

    /// Removes a translation, folding its dirty bit into the page.
    pub(crate) fn unmap_va(&mut self, space: PmapId, va: u64) {
        let Some(frame) = self.pmap.get_mut(&space).and_then(|t| t.remove(&va)) else {
            return;
        };
        let dirty = self.mmu.unmap(space, va).is_some_and(|p| p.dirty);
        if let Some(fi) = self.frames.get_mut(&frame) {
            fi.mappings.retain(|m| *m != (space, va));
            let (obj, idx) = fi.owner;
            if dirty
                && let Some(p) = self
                    .objects
                    .get_mut(&obj)
                    .and_then(|o| o.pages.get_mut(&idx))
            {
                p.dirty = true;
            }
        }
    }

    pub(crate) fn unmap_range(&mut self, space: PmapId, start: u64, end: u64) {
        let vas: Vec<u64> = self
            .pmap
            .get(&space)
            .map(|t| t.range(start..end).map(|(v, _)| *v).collect())
            .unwrap_or_default();
        for va in vas {
            self.unmap_va(space, va);
        }
    }

    /// Lowers the protection of every translation in the range to at most `prot`.
    pub(crate) fn restrict_range(&mut self, space: PmapId, start: u64, end: u64, prot: VmProt) {
        let vas: Vec<u64> = self
            .pmap
            .get(&space)
            .map(|t| t.range(start..end).map(|(v, _)| *v).collect())
            .unwrap_or_default();
        for va in vas {
            if let Some(pte) = self.mmu.query(space, va) {
                self.mmu.protect(space, va, pte.prot & prot);
            }
        }
    }

    /// Removes every translation of a frame (its dirty bits go to its page).
    pub(crate) fn unmap_frame(&mut self, frame: Frame) {
        let maps = self
            .frames
            .get(&frame)
            .map(|fi| fi.mappings.clone())
            .unwrap_or_default();
        for (space, va) in maps {
            self.unmap_va(space, va);
        }
    }

    /// Withdraws `lock` from every translation of a frame.
    pub(crate) fn lock_frame(&mut self, frame: Frame, lock: VmProt) {
        let maps = self
            .frames
            .get(&frame)
            .map(|fi| fi.mappings.clone())
            .unwrap_or_default();
        for (space, va) in maps {
            if let Some(pte) = self.mmu.query(space, va) {
                self.mmu.protect(space, va, pte.prot - lock);
            }
        }
    }

    /// Reads and clears the dirty bits of every translation of a frame.
    pub(crate) fn take_frame_dirty(&mut self, frame: Frame) -> bool {
        let maps = self
            .frames
            .get(&frame)
            .map(|fi| fi.mappings.clone())
            .unwrap_or_default();
        let mut dirty = false;
        for (space, va) in maps {
            dirty |= self.mmu.take_dirty(space, va);
        }
        dirty
    }

    /// Unmaps and frees a frame.
    pub(crate) fn drop_frame(&mut self, frame: Frame) {
        self.unmap_frame(frame);
        self.frames.remove(&frame);
        self.phys.free_frame(frame);
    }

    /// The bytes of a frame.
    pub(crate) fn frame_bytes(&self, frame: Frame) -> Vec<u8> {
        let mut v = alloc::vec![0u8; PAGE_SIZE as usize];
        self.phys.read_frame(frame, 0, &mut v);
        v
    }

    /// Frames in use by pages.
    pub fn frames_in_use(&self) -> usize {
        self.frames.len()
    }
}
