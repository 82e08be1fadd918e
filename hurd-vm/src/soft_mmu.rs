//! A software MMU and simulated physical memory, for hosted use.
//!
//! [`SoftPhys`] is physical memory as a vector of frames; [`SoftMmu`] keeps one
//! page table per address space. [`SoftMmu::translate`] is what a load or store
//! does on hardware: it finds the translation, checks the access against its
//! protection, sets the accessed (and on a store the dirty) bit, or reports the
//! fault the CPU would raise. [`crate::Vm::load`] and [`crate::Vm::store`] are
//! built on it.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::error::VmError;
use crate::mmu::{Frame, FrameAllocator, Mmu, PmapId, Pte};
use crate::page::{PAGE_BYTES, trunc_page};
use crate::prot::VmProt;

/// Simulated physical memory: a fixed number of 4 KiB frames.
pub struct SoftPhys {
    frames: Vec<Box<[u8; PAGE_BYTES]>>,
    free: Vec<Frame>,
}

impl SoftPhys {
    /// Memory of `frames` frames, all free.
    pub fn new(frames: usize) -> SoftPhys {
        let mut v = Vec::with_capacity(frames);
        v.resize_with(frames, || Box::new([0u8; PAGE_BYTES]));
        SoftPhys {
            frames: v,
            free: (0..frames as u64).rev().map(Frame).collect(),
        }
    }

    /// Frames not allocated.
    pub fn free_frames(&self) -> usize {
        self.free.len()
    }

    /// All frames.
    pub fn total_frames(&self) -> usize {
        self.frames.len()
    }

    fn slot(&self, f: Frame) -> Option<&[u8; PAGE_BYTES]> {
        self.frames.get(usize::try_from(f.0).ok()?).map(|b| &**b)
    }

    fn slot_mut(&mut self, f: Frame) -> Option<&mut [u8; PAGE_BYTES]> {
        self.frames
            .get_mut(usize::try_from(f.0).ok()?)
            .map(|b| &mut **b)
    }
}

impl FrameAllocator for SoftPhys {
    fn alloc_frame(&mut self) -> Option<Frame> {
        self.free.pop()
    }

    fn free_frame(&mut self, frame: Frame) {
        if self.slot(frame).is_some() {
            self.free.push(frame);
        }
    }

    fn zero_frame(&mut self, frame: Frame) {
        if let Some(s) = self.slot_mut(frame) {
            s.fill(0);
        }
    }

    fn copy_frame(&mut self, from: Frame, to: Frame) {
        if let Some(src) = self.slot(from).copied()
            && let Some(dst) = self.slot_mut(to)
        {
            *dst = src;
        }
    }

    fn read_frame(&self, frame: Frame, offset: usize, buf: &mut [u8]) {
        if let Some(s) = self.slot(frame)
            && let Some(src) = s.get(offset..offset + buf.len())
        {
            buf.copy_from_slice(src);
        }
    }

    fn write_frame(&mut self, frame: Frame, offset: usize, data: &[u8]) {
        if let Some(s) = self.slot_mut(frame)
            && let Some(dst) = s.get_mut(offset..offset + data.len())
        {
            dst.copy_from_slice(data);
        }
    }
}

/// The fault a load or store raises.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MmuFault {
    /// The faulting address.
    pub va: u64,
    /// The access attempted.
    pub access: VmProt,
    /// Whether a translation was present (a protection fault) or not.
    pub present: bool,
}

/// Page tables in software: one table per address space.
#[derive(Default)]
pub struct SoftMmu {
    spaces: BTreeMap<PmapId, BTreeMap<u64, Pte>>,
    /// The most spaces and translations held together, if limited.
    limit: Option<usize>,
}

impl SoftMmu {
    /// No address spaces yet.
    pub fn new() -> SoftMmu {
        SoftMmu::default()
    }

    /// An MMU whose table memory runs out: it holds at most `entries`
    /// address spaces and translations together, and refuses one more with
    /// [`VmError::ResourceShortage`] (what real page tables do when no frame
    /// is left for a table).
    pub fn limited(entries: usize) -> SoftMmu {
        SoftMmu {
            spaces: BTreeMap::new(),
            limit: Some(entries),
        }
    }

    /// Whether one more space or translation fits under the limit.
    fn room(&self) -> Result<(), VmError> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let held: usize = self.spaces.values().map(|t| 1 + t.len()).sum();
        if held < limit {
            Ok(())
        } else {
            Err(VmError::ResourceShortage)
        }
    }

    /// What the CPU does on an access: finds the translation of `va`, checks
    /// `access` against it, and sets the accessed and dirty bits; or raises the
    /// fault.
    ///
    /// # Errors
    ///
    /// The [`MmuFault`] the access raises.
    pub fn translate(&mut self, space: PmapId, va: u64, access: VmProt) -> Result<Frame, MmuFault> {
        let fault = |present| MmuFault {
            va,
            access,
            present,
        };
        let table = self.spaces.get_mut(&space).ok_or(fault(false))?;
        let pte = table.get_mut(&trunc_page(va)).ok_or(fault(false))?;
        if !pte.prot.contains(access) {
            return Err(fault(true));
        }
        pte.accessed = true;
        if access.contains(VmProt::WRITE) {
            pte.dirty = true;
        }
        Ok(pte.frame)
    }

    /// How many translations a space holds.
    pub fn mapped_pages(&self, space: PmapId) -> usize {
        self.spaces.get(&space).map_or(0, BTreeMap::len)
    }
}

impl Mmu for SoftMmu {
    fn create_pmap(&mut self, space: PmapId) -> Result<(), VmError> {
        if !self.spaces.contains_key(&space) {
            self.room()?;
            self.spaces.insert(space, BTreeMap::new());
        }
        Ok(())
    }

    fn destroy_pmap(&mut self, space: PmapId) {
        self.spaces.remove(&space);
    }

    fn map(&mut self, space: PmapId, va: u64, frame: Frame, prot: VmProt) -> Result<(), VmError> {
        let va = trunc_page(va);
        let replaces = self.spaces.get(&space).is_some_and(|t| t.contains_key(&va));
        if !replaces {
            self.room()?;
        }
        self.spaces.entry(space).or_default().insert(
            va,
            Pte {
                frame,
                prot,
                dirty: false,
                accessed: false,
            },
        );
        Ok(())
    }

    fn unmap(&mut self, space: PmapId, va: u64) -> Option<Pte> {
        self.spaces.get_mut(&space)?.remove(&trunc_page(va))
    }

    fn protect(&mut self, space: PmapId, va: u64, prot: VmProt) {
        if let Some(p) = self
            .spaces
            .get_mut(&space)
            .and_then(|t| t.get_mut(&trunc_page(va)))
        {
            p.prot = prot;
        }
    }

    fn query(&self, space: PmapId, va: u64) -> Option<Pte> {
        self.spaces.get(&space)?.get(&trunc_page(va)).copied()
    }

    fn take_dirty(&mut self, space: PmapId, va: u64) -> bool {
        match self
            .spaces
            .get_mut(&space)
            .and_then(|t| t.get_mut(&trunc_page(va)))
        {
            Some(p) => core::mem::replace(&mut p.dirty, false),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translate_sets_bits_and_faults() {
        let mut phys = SoftPhys::new(2);
        let f = phys.alloc_frame().expect("frame");
        phys.zero_frame(f);
        phys.write_frame(f, 10, b"hi");
        let mut mmu = SoftMmu::new();
        let s = PmapId(1);
        mmu.create_pmap(s).expect("space");
        assert_eq!(
            mmu.translate(s, 0x1000, VmProt::READ),
            Err(MmuFault {
                va: 0x1000,
                access: VmProt::READ,
                present: false
            })
        );
        mmu.map(s, 0x1000, f, VmProt::READ).expect("map");
        assert_eq!(mmu.translate(s, 0x1004, VmProt::READ), Ok(f));
        assert!(mmu.translate(s, 0x1004, VmProt::WRITE).is_err());
        mmu.protect(s, 0x1000, VmProt::DEFAULT);
        assert_eq!(mmu.translate(s, 0x1004, VmProt::WRITE), Ok(f));
        assert!(mmu.take_dirty(s, 0x1000));
        assert!(!mmu.take_dirty(s, 0x1000));
        let mut buf = [0u8; 2];
        phys.read_frame(f, 10, &mut buf);
        assert_eq!(&buf, b"hi");
        assert!(mmu.unmap(s, 0x1000).is_some());
        assert_eq!(mmu.mapped_pages(s), 0);
    }

    #[test]
    fn a_limited_mmu_refuses_new_entries_but_not_replacements() {
        let mut mmu = SoftMmu::limited(3);
        let (a, b) = (PmapId(1), PmapId(2));
        mmu.create_pmap(a).expect("first space");
        mmu.create_pmap(b).expect("second space");
        mmu.map(a, 0x1000, Frame(1), VmProt::READ)
            .expect("one translation");
        assert_eq!(mmu.create_pmap(PmapId(3)), Err(VmError::ResourceShortage));
        assert_eq!(
            mmu.map(b, 0x2000, Frame(2), VmProt::READ),
            Err(VmError::ResourceShortage)
        );
        assert_eq!(mmu.query(b, 0x2000), None);
        // Replacing a translation takes no more room.
        mmu.map(a, 0x1000, Frame(2), VmProt::DEFAULT)
            .expect("replaced");
        assert_eq!(mmu.query(a, 0x1000).map(|p| p.frame), Some(Frame(2)));
        // Room comes back when a space goes.
        mmu.destroy_pmap(b);
        mmu.map(a, 0x3000, Frame(3), VmProt::READ)
            .expect("room again");
    }
}
