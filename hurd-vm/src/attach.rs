//! `vm_attach`: a pager takes over memory that had none.
//!
//! Mach maps a memory object only where nothing is mapped; the seed project's
//! fork across nodes needs more: to give a pager the anonymous memory a task
//! already has, so that another node can map the same pager and see it.
//! [`Vm::attach`] is that primitive (`memory_object_attach` in the seed
//! project's paper; not in GNU Mach).

use alloc::vec::Vec;

use crate::access::Stall;
use crate::error::VmError;
use crate::fault::FaultAction;
use crate::map::{MapEntry, MapId};
use crate::mmu::{Frame, FrameAllocator, Mmu};
use crate::object::{ObjectId, ObjectState};
use crate::page::{PAGE_SIZE, Page, PageState, is_page_aligned};
use crate::prot::VmProt;
use crate::protocol::{KernelCall, Outgoing, control_item, memory_object, page_data};
use crate::vm::Vm;

/// Where the data of a page of a region is.
enum Found {
    /// In this frame.
    Frame(Frame),
    /// Not resident: with the default pager, or being fetched.
    Fetch,
    /// Nowhere: the page was never touched (zero).
    Zero,
}

impl<M: Mmu, F: FrameAllocator> Vm<M, F> {
    /// `vm_attach`: makes the external object `object` (a pager's, created
    /// with [`Vm::create_external_object`]) the memory of
    /// `[addr, addr + size)` of `map` from `offset` on, in place of the
    /// anonymous memory there.
    ///
    /// Semantics:
    /// - The range must be page-aligned and non-empty (`InvalidArgument`) and
    ///   fully mapped (`InvalidAddress`); `offset` must be page-aligned
    ///   (`InvalidArgument`).
    /// - The range must be *unmanaged*: no object it maps, nor any object
    ///   those shadow, may belong to a pager other than the default pager
    ///   (`InvalidArgument`). Pages the default pager holds are fetched first,
    ///   with a read fault (so a region without read access that has such
    ///   pages fails with `ProtectionFailure`).
    /// - `object` must be external (`InvalidArgument`), not dead (its error),
    ///   and hold no page in `[offset, offset + size)` yet (`InvalidArgument`);
    ///   if it still waits for `ready`, so does the attach.
    /// - Every page of the range with contents — as the task sees it, through
    ///   copy-on-write shadows — goes to the pager with
    ///   `memory_object_data_return(dirty = TRUE, kernel_copy = TRUE)`, in
    ///   address order, and stays resident in `object` as a clean page the
    ///   pager supplied with no lock: the pager may take it back with
    ///   `lock_request` like any other. Pages never touched are not sent: the
    ///   pager decides what they hold (`data_unavailable` is zeros).
    /// - The range's regions then map `object` shared (keeping their
    ///   protection, maximum protection and inheritance); the anonymous
    ///   memory is released. Later faults are those of any pager-backed
    ///   region: `data_request`, `data_unlock`.
    ///
    /// Returns `Err(Stall::Wait(t))` when a pager must answer first (the
    /// object's `ready`, or a page the default pager holds): wait on the
    /// ticket and call again. On any error nothing changed. Out of frames for
    /// the copies is `ResourceShortage`.
    ///
    /// # Errors
    ///
    /// As described above: [`Stall::Wait`], or [`Stall::Error`] with the
    /// reason.
    pub fn attach(
        &mut self,
        map: MapId,
        addr: u64,
        size: u64,
        object: ObjectId,
        offset: u64,
    ) -> Result<(), Stall> {
        let (start, end) = Self::check_range(addr, size)?;
        if !is_page_aligned(offset) {
            return Err(VmError::InvalidArgument.into());
        }
        let len = end - start;
        let obj_end = offset.checked_add(len).ok_or(VmError::InvalidArgument)?;
        let m = self.covered(map, start, end)?;
        let entries: Vec<MapEntry> = m
            .entries()
            .filter(|e| e.start < end && e.end > start)
            .copied()
            .collect();
        let o = self.objects.get(&object).ok_or(VmError::InvalidName)?;
        if !o.is_external() {
            return Err(VmError::InvalidArgument.into());
        }
        match o.state {
            ObjectState::Dead(e) => return Err(e.into()),
            ObjectState::WaitingReady(_) => {
                return match self.ready_ticket(object) {
                    Some(t) => Err(Stall::Wait(t)),
                    None => Err(VmError::Failure.into()),
                };
            }
            ObjectState::Ready => {}
        }
        if o.pages
            .range(offset / PAGE_SIZE..obj_end / PAGE_SIZE)
            .next()
            .is_some()
        {
            return Err(VmError::InvalidArgument.into());
        }
        for e in &entries {
            if self.chain_is_managed(e.object) {
                return Err(VmError::InvalidArgument.into());
            }
        }
        // What each page holds, fetching what is not resident.
        let mut found: Vec<(u64, Frame)> = Vec::new();
        for e in &entries {
            let (s, t) = (e.start.max(start), e.end.min(end));
            for va in (s..t).step_by(PAGE_SIZE as usize) {
                match self.find_page(e.object, e.object_offset(va) / PAGE_SIZE) {
                    Found::Zero => {}
                    Found::Frame(f) => found.push((va, f)),
                    Found::Fetch => match self.fault(map, va, VmProt::READ) {
                        FaultAction::Error(e) => return Err(e.into()),
                        a => {
                            if let Some(t) = a.ticket() {
                                return Err(Stall::Wait(t));
                            }
                            // Resolved at once (the page was there after all).
                            let idx = e.object_offset(va) / PAGE_SIZE;
                            match self.find_page(e.object, idx) {
                                Found::Frame(f) => found.push((va, f)),
                                Found::Zero => {}
                                Found::Fetch => return Err(VmError::Failure.into()),
                            }
                        }
                    },
                }
            }
        }
        // Copy them first, so that running out of frames changes nothing.
        let mut copies: Vec<(u64, Frame)> = Vec::with_capacity(found.len());
        for (va, f) in found {
            let Some(nf) = self.phys.alloc_frame() else {
                for (_, c) in copies {
                    self.phys.free_frame(c);
                }
                return Err(VmError::ResourceShortage.into());
            };
            self.phys.copy_frame(f, nf);
            copies.push((va, nf));
        }
        // Swap the regions over to the pager's object.
        self.uncache(object);
        let starts = self.clip_range(map, start, end);
        for s in starts {
            let Some(e) = self.maps.get_mut(&map).and_then(|m| m.remove(s)) else {
                continue;
            };
            self.unmap_range(map.pmap(), e.start, e.end);
            self.release_entry_ref(e.object);
            if let Some(o) = self.objects.get_mut(&object) {
                o.entry_refs += 1;
            }
            self.insert_entry(
                map,
                MapEntry {
                    object,
                    offset: offset + (e.start - start),
                    needs_copy: false,
                    ..e
                },
            );
        }
        let link = self.objects.get_mut(&object).and_then(|o| {
            o.size = o.size.max(obj_end);
            o.pager
        });
        let Some(link) = link else {
            return Err(VmError::Failure.into());
        };
        for (va, nf) in copies {
            let off = offset + (va - start);
            let data = self.frame_bytes(nf);
            self.insert_page(object, off / PAGE_SIZE, Page::resident(nf));
            self.stats.attached += 1;
            self.stats.data_returns += 1;
            self.outbox.push(Outgoing::to_pager(
                link.pager,
                KernelCall::Object(memory_object::Call::data_return {
                    control: control_item(link.control),
                    offset: off,
                    data: page_data(data),
                    dirty: true,
                    kernel_copy: true,
                }),
            ));
        }
        Ok(())
    }

    /// Whether `top` or an object it shadows belongs to a pager other than
    /// the default pager.
    fn chain_is_managed(&self, top: ObjectId) -> bool {
        let mut next = Some(top);
        while let Some(id) = next {
            let Some(o) = self.objects.get(&id) else {
                return false;
            };
            if o.is_external() {
                return true;
            }
            next = o.shadow.map(|(s, _)| s);
        }
        false
    }

    /// The data of page `idx` of `top`, through its shadow chain.
    fn find_page(&self, top: ObjectId, idx: u64) -> Found {
        let (mut obj, mut idx) = (top, idx);
        loop {
            let Some(o) = self.objects.get(&obj) else {
                return Found::Zero;
            };
            match o.pages.get(&idx).map(|p| p.state) {
                Some(PageState::Resident(f)) => return Found::Frame(f),
                Some(PageState::Busy(_)) => return Found::Fetch,
                Some(PageState::Absent) => {}
                None if o.paged_out.contains(&idx) => return Found::Fetch,
                None => {}
            }
            match o.shadow {
                Some((s, soff)) => {
                    idx = (idx * PAGE_SIZE + soff) / PAGE_SIZE;
                    obj = s;
                }
                None => return Found::Zero,
            }
        }
    }
}
