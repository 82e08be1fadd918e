//! Address maps: creating and destroying them, placing, allocating, mapping objects, deallocating, protection, inheritance, regions, and fork's copy of a map.

use super::*;

impl<M: Mmu, F: FrameAllocator> Vm<M, F> {
    /// Creates an empty address map (and its MMU address space).
    ///
    /// # Errors
    ///
    /// `ResourceShortage` when the MMU has no memory for the space's
    /// tables; nothing was created.
    pub fn create_map(&mut self) -> Result<MapId, VmError> {
        let id = MapId(self.next_map);
        self.mmu.create_pmap(id.pmap())?;
        self.next_map += 1;
        self.maps.insert(id, AddressMap::new(USER_MIN, USER_MAX));
        Ok(id)
    }

    /// Destroys a map: deallocates every region, then the address space.
    ///
    /// # Errors
    ///
    /// `InvalidName` when there is no such map.
    pub fn destroy_map(&mut self, map: MapId) -> Result<(), VmError> {
        let (min, max) = {
            let m = self.maps.get(&map).ok_or(VmError::InvalidName)?;
            (m.min(), m.max())
        };
        self.deallocate(map, min, max - min)?;
        self.maps.remove(&map);
        self.pmap.remove(&map.pmap());
        self.mmu.destroy_pmap(map.pmap());
        Ok(())
    }

    pub(crate) fn check_range(addr: u64, size: u64) -> Result<(u64, u64), VmError> {
        if !is_page_aligned(addr) || size == 0 {
            return Err(VmError::InvalidArgument);
        }
        let end = addr
            .checked_add(round_page(size))
            .ok_or(VmError::InvalidArgument)?;
        Ok((addr, end))
    }

    pub(super) fn place(
        &self,
        map: MapId,
        addr: u64,
        size: u64,
        anywhere: bool,
    ) -> Result<u64, VmError> {
        let m = self.maps.get(&map).ok_or(VmError::InvalidName)?;
        if anywhere {
            m.find_space(size, addr).ok_or(VmError::NoSpace)
        } else if m.is_free(addr, addr.checked_add(size).ok_or(VmError::NoSpace)?) {
            Ok(addr)
        } else {
            Err(VmError::NoSpace)
        }
    }

    /// `vm_allocate`: zero-filled memory, at `addr` or (if `anywhere`) the
    /// lowest free range at or above it. Returns the address.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for an unaligned, empty or overflowing range,
    /// `InvalidName` (no such map), `NoSpace` (no free range, or the fixed
    /// range is taken).
    pub fn allocate(
        &mut self,
        map: MapId,
        addr: u64,
        size: u64,
        anywhere: bool,
    ) -> Result<u64, VmError> {
        let (addr, end) = Self::check_range(addr, size)?;
        let size = end - addr;
        let start = self.place(map, addr, size, anywhere)?;
        let mut obj = VmObject::anonymous(size);
        obj.entry_refs = 1;
        let object = self.new_object(obj);
        self.insert_entry(
            map,
            MapEntry {
                start,
                end: start + size,
                object,
                offset: 0,
                prot: VmProt::DEFAULT,
                max_prot: VmProt::ALL,
                inherit: VmInherit::Copy,
                needs_copy: false,
            },
        );
        Ok(start)
    }

    /// `vm_map` of an object already known to this VM: maps `size` bytes of
    /// `object` from `offset`, shared or (`copy`) copy-on-write.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for an unaligned, empty or overflowing range or an
    /// offset past the object, `InvalidName` (no such map or object), `NoSpace`.
    #[allow(clippy::too_many_arguments)]
    pub fn map_object(
        &mut self,
        map: MapId,
        addr: u64,
        size: u64,
        anywhere: bool,
        object: ObjectId,
        offset: u64,
        copy: bool,
        prot: VmProt,
        max_prot: VmProt,
        inherit: VmInherit,
    ) -> Result<u64, VmError> {
        let (addr, end) = Self::check_range(addr, size)?;
        let size = end - addr;
        if !is_page_aligned(offset) || !max_prot.contains(prot) {
            return Err(VmError::InvalidArgument);
        }
        let obj_end = offset.checked_add(size).ok_or(VmError::InvalidArgument)?;
        let o = self.objects.get(&object).ok_or(VmError::InvalidName)?;
        if let ObjectState::Dead(e) = o.state {
            return Err(e);
        }
        if !o.is_external() && obj_end > o.size {
            return Err(VmError::InvalidArgument);
        }
        let start = self.place(map, addr, size, anywhere)?;
        if let Some(o) = self.objects.get_mut(&object) {
            o.size = o.size.max(obj_end);
            o.entry_refs += 1;
        }
        self.uncache(object);
        self.insert_entry(
            map,
            MapEntry {
                start,
                end: start + size,
                object,
                offset,
                prot,
                max_prot,
                inherit,
                needs_copy: copy,
            },
        );
        Ok(start)
    }

    pub(crate) fn insert_entry(&mut self, map: MapId, entry: MapEntry) {
        if let Some(m) = self.maps.get_mut(&map) {
            m.insert(entry);
        }
    }

    /// Clips entries so that `start` and `end` are entry boundaries, and returns
    /// the starts of the entries now lying in `[start, end)`.
    pub(crate) fn clip_range(&mut self, map: MapId, start: u64, end: u64) -> Vec<u64> {
        for at in [start, end] {
            let gained = self.maps.get_mut(&map).and_then(|m| m.clip(at));
            if let Some(obj) = gained
                && let Some(o) = self.objects.get_mut(&obj)
            {
                o.entry_refs += 1;
            }
        }
        self.maps
            .get(&map)
            .map(|m| m.starts_in(start, end))
            .unwrap_or_default()
    }

    /// The map, if `[start, end)` is entirely mapped in it.
    pub(crate) fn covered(&self, map: MapId, start: u64, end: u64) -> Result<&AddressMap, VmError> {
        let m = self.maps.get(&map).ok_or(VmError::InvalidName)?;
        if m.is_covered(start, end) {
            Ok(m)
        } else {
            Err(VmError::InvalidAddress)
        }
    }

    /// `vm_deallocate`: removes every region in the range (holes are fine).
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for an unaligned, empty or overflowing range, `InvalidName`
    /// (no such map).
    pub fn deallocate(&mut self, map: MapId, addr: u64, size: u64) -> Result<(), VmError> {
        let (start, end) = Self::check_range(addr, size)?;
        if !self.maps.contains_key(&map) {
            return Err(VmError::InvalidName);
        }
        let starts = self.clip_range(map, start, end);
        for s in starts {
            let Some(e) = self.maps.get_mut(&map).and_then(|m| m.remove(s)) else {
                continue;
            };
            self.unmap_range(map.pmap(), e.start, e.end);
            self.release_entry_ref(e.object);
        }
        Ok(())
    }

    /// `vm_protect`: sets the current (or, with `set_max`, the maximum)
    /// protection of every region in the range, which must be fully mapped.
    /// `prot` must lie within every region's maximum protection, so a
    /// maximum is only ever lowered; with `set_max` the current protection
    /// is lowered with it (to `prot & current`).
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for an unaligned, empty or overflowing range, `InvalidName`,
    /// `InvalidAddress` (a hole in the range), `ProtectionFailure` (above a
    /// region's maximum protection).
    pub fn protect(
        &mut self,
        map: MapId,
        addr: u64,
        size: u64,
        set_max: bool,
        prot: VmProt,
    ) -> Result<(), VmError> {
        let (start, end) = Self::check_range(addr, size)?;
        let m = self.covered(map, start, end)?;
        // As Mach's vm_map_protect: a first pass refuses the whole call if
        // `prot` exceeds any region's maximum, so a maximum is never raised
        // (by `set_max` or otherwise) and a refused call changes nothing.
        for s in m.starts_in(start, end) {
            if m.lookup(s).is_some_and(|e| !e.max_prot.contains(prot)) {
                return Err(VmError::ProtectionFailure);
            }
        }
        let starts = self.clip_range(map, start, end);
        for s in starts {
            if let Some(e) = self.maps.get_mut(&map).and_then(|m| m.lookup_mut(s)) {
                if set_max {
                    e.max_prot = prot;
                    e.prot &= prot;
                } else {
                    e.prot = prot;
                }
                let (es, ee, p) = (e.start, e.end, e.prot);
                self.restrict_range(map.pmap(), es, ee, p);
            }
        }
        Ok(())
    }

    /// `vm_inherit`: sets the inheritance of every region in the range.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for an unaligned, empty or overflowing range, `InvalidName`,
    /// `InvalidAddress` (a hole in the range).
    pub fn inherit(
        &mut self,
        map: MapId,
        addr: u64,
        size: u64,
        inherit: VmInherit,
    ) -> Result<(), VmError> {
        let (start, end) = Self::check_range(addr, size)?;
        self.covered(map, start, end)?;
        let starts = self.clip_range(map, start, end);
        for s in starts {
            if let Some(e) = self.maps.get_mut(&map).and_then(|m| m.lookup_mut(s)) {
                e.inherit = inherit;
            }
        }
        Ok(())
    }

    /// `vm_region`: the region containing `addr`, or the next one above it.
    ///
    /// # Errors
    ///
    /// `InvalidName` (no such map), `NoSpace` (no region at or above `addr`).
    pub fn region(&self, map: MapId, addr: u64) -> Result<RegionInfo, VmError> {
        let m = self.maps.get(&map).ok_or(VmError::InvalidName)?;
        let e = m.next_from(addr).ok_or(VmError::NoSpace)?;
        let shared = self
            .objects
            .get(&e.object)
            .is_some_and(|o| o.entry_refs > 1 || o.is_external());
        Ok(RegionInfo {
            start: e.start,
            size: e.len(),
            prot: e.prot,
            max_prot: e.max_prot,
            inherit: e.inherit,
            shared,
            object: e.object,
            offset: e.offset,
        })
    }

    /// Forks a map by inheritance: `Share` regions are shared, `Copy` regions
    /// become copy-on-write copies, `None` regions are left out. Returns the
    /// child's map.
    ///
    /// # Errors
    ///
    /// `InvalidName` (no such map); `ResourceShortage` when frames run out
    /// for copies.
    pub fn fork(&mut self, parent: MapId) -> Result<MapId, VmError> {
        let entries: Vec<MapEntry> = self
            .maps
            .get(&parent)
            .ok_or(VmError::InvalidName)?
            .entries()
            .copied()
            .collect();
        let child = self.create_map()?;
        for e in entries {
            match e.inherit {
                VmInherit::None => {}
                VmInherit::Share => {
                    let e = if e.needs_copy {
                        self.resolve_needs_copy(parent, e)?
                    } else {
                        e
                    };
                    if let Some(o) = self.objects.get_mut(&e.object) {
                        o.entry_refs += 1;
                    }
                    self.insert_entry(child, e);
                }
                VmInherit::Copy => {
                    let c = self.copy_entry(parent, e)?;
                    self.insert_entry(child, c);
                }
            }
        }
        Ok(child)
    }

    /// The child's entry for a copy-inherited entry.
    pub(super) fn copy_entry(&mut self, parent: MapId, e: MapEntry) -> Result<MapEntry, VmError> {
        let o = self.objects.get(&e.object).ok_or(VmError::InvalidName)?;
        let external = o.is_external();
        let private = e.needs_copy || o.refs() == 1;
        if !external && !private && o.pager.is_some() {
            // Anonymous memory others write too, with pages at the default
            // pager that cannot be copied without waiting: freeze what it
            // holds in an object below it, which the copy shadows.
            let frozen = self.push_down(e.object);
            let mut n = VmObject::anonymous(e.len());
            n.entry_refs = 1;
            n.shadow = Some((frozen, e.offset));
            let nid = self.new_object(n);
            if let Some(f) = self.objects.get_mut(&frozen) {
                f.shadow_refs += 1;
            }
            self.stats.shadows += 1;
            return Ok(MapEntry {
                object: nid,
                offset: 0,
                needs_copy: false,
                ..e
            });
        }
        if external || private {
            // Symmetric copy-on-write: both sides refer to the object and must
            // shadow it before writing. A shared mapping of an external object
            // stays shared in the parent.
            if !external || e.needs_copy {
                if let Some(pe) = self
                    .maps
                    .get_mut(&parent)
                    .and_then(|m| m.lookup_mut(e.start))
                {
                    pe.needs_copy = true;
                }
                self.restrict_range(parent.pmap(), e.start, e.end, e.prot - VmProt::WRITE);
            }
            if let Some(o) = self.objects.get_mut(&e.object) {
                o.entry_refs += 1;
            }
            return Ok(MapEntry {
                needs_copy: true,
                ..e
            });
        }
        // An anonymous object others write too: copy its own pages now; what
        // it shadows never changes, so the copy shadows that too.
        let first = e.offset / PAGE_SIZE;
        let last = (e.offset + e.len()) / PAGE_SIZE;
        let (own, shadow): (Vec<(u64, Frame)>, _) = {
            let o = self.objects.get(&e.object).ok_or(VmError::InvalidName)?;
            (
                o.pages
                    .range(first..last)
                    .filter_map(|(i, p)| p.frame().map(|f| (*i, f)))
                    .collect(),
                o.shadow,
            )
        };
        let mut n = VmObject::anonymous(e.len());
        n.entry_refs = 1;
        n.shadow = shadow.map(|(s, off)| (s, off + e.offset));
        let nid = self.new_object(n);
        if let Some((s, _)) = shadow
            && let Some(so) = self.objects.get_mut(&s)
        {
            so.shadow_refs += 1;
        }
        for (i, f) in own {
            let Some(nf) = self.phys.alloc_frame() else {
                self.release_entry_ref(nid);
                return Err(VmError::ResourceShortage);
            };
            self.phys.copy_frame(f, nf);
            self.insert_page(nid, i - first, Page::resident(nf));
        }
        Ok(MapEntry {
            object: nid,
            offset: 0,
            needs_copy: false,
            ..e
        })
    }

    /// Moves everything `id` holds — pages, pager, paged-out set, shadow —
    /// into a new object below it, which `id` then shadows, and write-protects
    /// the moved pages wherever they are mapped: the users of `id` see the
    /// same memory, their writes copy up into `id`, and the new object is
    /// frozen for copies to shadow. Returns the new object.
    pub(super) fn push_down(&mut self, id: ObjectId) -> ObjectId {
        let Some(o) = self.objects.get_mut(&id) else {
            return id;
        };
        let mut b = VmObject::anonymous(o.size);
        b.pages = core::mem::take(&mut o.pages);
        b.pager = o.pager.take();
        b.internal = core::mem::take(&mut o.internal);
        b.paged_out = core::mem::take(&mut o.paged_out);
        b.shadow = o.shadow.take();
        b.copy_strategy = o.copy_strategy;
        b.state = o.state;
        b.shadow_refs = 1;
        o.state = ObjectState::Ready;
        let link = b.pager;
        let frames: Vec<Frame> = b.pages.values().filter_map(|p| p.frame()).collect();
        let bid = self.new_object(b);
        if let Some(o) = self.objects.get_mut(&id) {
            o.shadow = Some((bid, 0));
        }
        if let Some(link) = link {
            self.by_pager.insert(link.pager, bid);
            self.by_control.insert(link.control, bid);
        }
        for f in frames {
            if let Some(fi) = self.frames.get_mut(&f) {
                fi.owner.0 = bid;
            }
            self.lock_frame(f, VmProt::WRITE);
        }
        self.stats.shadows += 1;
        bid
    }

    /// Gives the entry at `e.start` a private object before a write: clears
    /// `needs_copy` if the object has no other user, else interposes a shadow.
    pub(crate) fn resolve_needs_copy(
        &mut self,
        map: MapId,
        e: MapEntry,
    ) -> Result<MapEntry, VmError> {
        let o = self.objects.get(&e.object).ok_or(VmError::InvalidName)?;
        let mut ne = e;
        ne.needs_copy = false;
        if !o.is_external() && o.refs() == 1 {
            // Sole user: the object is private again.
        } else {
            let mut s = VmObject::anonymous(e.len());
            s.shadow = Some((e.object, e.offset));
            s.entry_refs = 1;
            let sid = self.new_object(s);
            if let Some(o) = self.objects.get_mut(&e.object) {
                o.shadow_refs += 1;
                o.entry_refs -= 1;
            }
            self.stats.shadows += 1;
            ne.object = sid;
            ne.offset = 0;
        }
        if let Some(me) = self.maps.get_mut(&map).and_then(|m| m.lookup_mut(e.start)) {
            *me = ne;
        }
        Ok(ne)
    }
}
