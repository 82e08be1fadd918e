//! [`Vm`]: one kernel's virtual memory — its address maps, its VM objects, the
//! MMU and physical memory — with the map operations of Mach's `vm_*` calls.
//!
//! Everything is `&mut self` and never blocks: an operation that needs a pager
//! queues the message (see [`Vm::take_outgoing`]) and returns a
//! [`Ticket`](crate::fault::Ticket) to wait on.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use hurd_ipc::PortName;

use crate::error::VmError;
use crate::inherit::VmInherit;
use crate::map::{AddressMap, MapEntry, MapId, RegionInfo, USER_MAX, USER_MIN};
use crate::mmu::{Frame, FrameAllocator, Mmu, PmapId};
use crate::object::{ObjectId, ObjectState, VmObject};
use crate::page::{FetchId, PAGE_SIZE, Page, PageState, is_page_aligned, round_page};
use crate::prot::VmProt;
use crate::protocol::Outgoing;

/// Counters of what the VM did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VmStats {
    /// Faults handled.
    pub faults: u64,
    /// Zero-filled pages.
    pub zero_fills: u64,
    /// Pages copied up a shadow chain.
    pub copy_ups: u64,
    /// `data_request`s sent.
    pub data_requests: u64,
    /// `data_unlock`s sent.
    pub data_unlocks: u64,
    /// `data_return`s sent.
    pub data_returns: u64,
    /// Shadow objects created.
    pub shadows: u64,
    /// Shadow objects merged into the object above them.
    pub collapses: u64,
    /// Pager messages rejected.
    pub rejected: u64,
    /// Pages paged out (to their pager or the default pager).
    pub pageouts: u64,
    /// Temporary objects handed to the default pager (`memory_object_create`).
    pub creates: u64,
    /// Pages handed to a pager by `vm_attach`.
    pub attached: u64,
}

/// Where a frame is used: the page owning it and the translations to it.
#[derive(Clone, Debug)]
pub(crate) struct FrameInfo {
    pub(crate) owner: (ObjectId, u64),
    pub(crate) mappings: Vec<(PmapId, u64)>,
}

/// One kernel's virtual memory.
pub struct Vm<M: Mmu, F: FrameAllocator> {
    pub(crate) mmu: M,
    pub(crate) phys: F,
    pub(crate) maps: BTreeMap<MapId, AddressMap>,
    pub(crate) objects: BTreeMap<ObjectId, VmObject>,
    /// Translations entered, per space (the machine-independent pmap).
    pub(crate) pmap: BTreeMap<PmapId, BTreeMap<u64, Frame>>,
    pub(crate) frames: BTreeMap<Frame, FrameInfo>,
    pub(crate) by_pager: BTreeMap<PortName, ObjectId>,
    pub(crate) by_control: BTreeMap<PortName, ObjectId>,
    pub(crate) dead_controls: BTreeSet<PortName>,
    pub(crate) outbox: Vec<Outgoing>,
    pub(crate) waiters: BTreeMap<FetchId, u32>,
    pub(crate) failed: BTreeMap<FetchId, VmError>,
    next_map: u32,
    next_object: u32,
    next_fetch: FetchId,
    pub(crate) stats: VmStats,
    /// Accept `data_supply` for pages nobody asked for (Mach does, as a
    /// prefetch; libpager's `pager_offer_page`). Off by default: unasked data is
    /// rejected as [`ProtocolError::Unsolicited`](crate::ProtocolError).
    pub accept_unrequested_supply: bool,
    /// The default pager (`vm_set_default_memory_manager`): a send right the
    /// kernel holds, where `memory_object_create` goes.
    pub(crate) default_pager: Option<PortName>,
    /// External objects no map uses that the pager lets the kernel keep
    /// (may_cache), oldest first.
    pub(crate) cache: Vec<ObjectId>,
    pub(crate) cache_limit: usize,
}

/// How many unused objects the kernel keeps by default (see
/// [`Vm::set_object_cache_limit`]).
pub const OBJECT_CACHE_LIMIT: usize = 32;

impl<M: Mmu, F: FrameAllocator> Vm<M, F> {
    /// A VM over this MMU and physical memory.
    pub fn new(mmu: M, phys: F) -> Self {
        Vm {
            mmu,
            phys,
            maps: BTreeMap::new(),
            objects: BTreeMap::new(),
            pmap: BTreeMap::new(),
            frames: BTreeMap::new(),
            by_pager: BTreeMap::new(),
            by_control: BTreeMap::new(),
            dead_controls: BTreeSet::new(),
            outbox: Vec::new(),
            waiters: BTreeMap::new(),
            failed: BTreeMap::new(),
            next_map: 1,
            next_object: 1,
            next_fetch: 1,
            stats: VmStats::default(),
            accept_unrequested_supply: false,
            default_pager: None,
            cache: Vec::new(),
            cache_limit: OBJECT_CACHE_LIMIT,
        }
    }

    /// The MMU.
    pub fn mmu(&self) -> &M {
        &self.mmu
    }

    /// Physical memory.
    pub fn phys(&self) -> &F {
        &self.phys
    }

    /// Counters.
    pub fn stats(&self) -> VmStats {
        self.stats
    }

    /// A map.
    pub fn map(&self, map: MapId) -> Option<&AddressMap> {
        self.maps.get(&map)
    }

    /// An object.
    pub fn object(&self, id: ObjectId) -> Option<&VmObject> {
        self.objects.get(&id)
    }

    /// How many objects exist.
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }

    /// The messages queued for pagers since the last call, in order.
    pub fn take_outgoing(&mut self) -> Vec<Outgoing> {
        core::mem::take(&mut self.outbox)
    }

    pub(crate) fn fetch_id(&mut self) -> FetchId {
        self.next_fetch += 1;
        self.next_fetch
    }

    pub(crate) fn new_object(&mut self, obj: VmObject) -> ObjectId {
        let id = ObjectId(self.next_object);
        self.next_object += 1;
        self.objects.insert(id, obj);
        id
    }

    // ---- maps ----

    /// Creates an empty address map (and its MMU address space).
    pub fn create_map(&mut self) -> MapId {
        let id = MapId(self.next_map);
        self.next_map += 1;
        self.maps.insert(id, AddressMap::new(USER_MIN, USER_MAX));
        self.mmu.create_pmap(id.pmap());
        id
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

    fn place(&self, map: MapId, addr: u64, size: u64, anywhere: bool) -> Result<u64, VmError> {
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
        let child = self.create_map();
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
    fn copy_entry(&mut self, parent: MapId, e: MapEntry) -> Result<MapEntry, VmError> {
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
    fn push_down(&mut self, id: ObjectId) -> ObjectId {
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

    // ---- objects and references ----

    pub(crate) fn release_entry_ref(&mut self, id: ObjectId) {
        let dead = match self.objects.get_mut(&id) {
            Some(o) => {
                o.entry_refs = o.entry_refs.saturating_sub(1);
                o.refs() == 0
            }
            None => false,
        };
        if dead {
            self.destroy_object(id);
        }
    }

    /// Tears down an object nobody refers to any more, and what it shadowed if
    /// that is now unreferenced too.
    pub(crate) fn destroy_object(&mut self, id: ObjectId) {
        let mut next = Some(id);
        while let Some(id) = next.take() {
            if self.cacheable(id) {
                self.cache_object(id);
                continue;
            }
            self.return_and_terminate(id);
            let Some(o) = self.objects.remove(&id) else {
                continue;
            };
            for (idx, p) in &o.pages {
                if let PageState::Resident(f) = p.state {
                    self.drop_frame(f);
                }
                self.fail_page_waits(p, VmError::Terminated);
                let _ = idx;
            }
            if let Some((s, _)) = o.shadow
                && let Some(so) = self.objects.get_mut(&s)
            {
                so.shadow_refs = so.shadow_refs.saturating_sub(1);
                if so.refs() == 0 {
                    next = Some(s);
                }
            }
        }
    }

    // ---- the object cache (may_cache) ----

    /// Whether an object nobody uses may stay: an external, live object whose
    /// pager said may_cache.
    fn cacheable(&self, id: ObjectId) -> bool {
        self.objects.get(&id).is_some_and(|o| {
            o.is_external()
                && o.may_cache
                && o.state == ObjectState::Ready
                && o.refs() == 0
                && o.pager
                    .is_some_and(|l| self.by_control.get(&l.control) == Some(&id))
        })
    }

    fn cache_object(&mut self, id: ObjectId) {
        if !self.cache.contains(&id) {
            self.cache.push(id);
        }
        while let Some(&oldest) = self.cache.first()
            && self.cache.len() > self.cache_limit
        {
            self.evict(oldest);
        }
    }

    /// Takes an object out of the cache because a map uses it again.
    pub(crate) fn uncache(&mut self, id: ObjectId) {
        self.cache.retain(|c| *c != id);
    }

    /// Terminates a cached object (or does nothing if it is not cached).
    pub(crate) fn evict(&mut self, id: ObjectId) {
        let Some(at) = self.cache.iter().position(|c| *c == id) else {
            return;
        };
        self.cache.remove(at);
        let unused = match self.objects.get_mut(&id) {
            Some(o) if o.refs() == 0 => {
                // Not to be cached again on the way out.
                o.may_cache = false;
                true
            }
            _ => false,
        };
        if unused {
            self.destroy_object(id);
        }
    }

    /// The objects kept after their last unmapping (may_cache), oldest first.
    pub fn cached_objects(&self) -> &[ObjectId] {
        &self.cache
    }

    /// How many unused objects to keep at most ([`OBJECT_CACHE_LIMIT`] by
    /// default); the oldest beyond it are terminated.
    pub fn set_object_cache_limit(&mut self, limit: usize) {
        self.cache_limit = limit;
        while let Some(&oldest) = self.cache.first()
            && self.cache.len() > self.cache_limit
        {
            self.evict(oldest);
        }
    }

    pub(crate) fn insert_page(&mut self, obj: ObjectId, idx: u64, page: Page) {
        if let Some(f) = page.frame() {
            self.frames.insert(
                f,
                FrameInfo {
                    owner: (obj, idx),
                    mappings: Vec::new(),
                },
            );
        }
        if let Some(o) = self.objects.get_mut(&obj) {
            o.pages.insert(idx, page);
        }
    }

    /// Merges shadows that only `top` uses into it, so chains stay short.
    pub(crate) fn collapse(&mut self, top: ObjectId) {
        loop {
            let Some((b, boff)) = self.objects.get(&top).and_then(|o| o.shadow) else {
                return;
            };
            let top_size = self.objects.get(&top).map_or(0, |o| o.size);
            let collapsible = self
                .objects
                .get(&b)
                .is_some_and(|o| o.pager.is_none() && o.refs() == 1);
            if !collapsible {
                return;
            }
            let Some(bo) = self.objects.remove(&b) else {
                return;
            };
            let first = boff / PAGE_SIZE;
            let last = (boff + top_size) / PAGE_SIZE;
            for (bidx, p) in bo.pages {
                let keep = bidx >= first
                    && bidx < last
                    && self.objects.get(&top).is_some_and(|o| {
                        !o.pages.contains_key(&(bidx - first))
                            && !o.paged_out.contains(&(bidx - first))
                    });
                match (keep, p.frame()) {
                    (true, Some(f)) => {
                        if let Some(fi) = self.frames.get_mut(&f) {
                            fi.owner = (top, bidx - first);
                        }
                        if let Some(o) = self.objects.get_mut(&top) {
                            o.pages.insert(bidx - first, p);
                        }
                    }
                    (_, Some(f)) => self.drop_frame(f),
                    (_, None) => {}
                }
            }
            if let Some(o) = self.objects.get_mut(&top) {
                o.shadow = bo.shadow.map(|(s, off)| (s, off + boff));
            }
            self.stats.collapses += 1;
        }
    }

    // ---- the pmap layer: translations, reverse map, dirty bits ----

    /// Enters a translation, replacing any other at `va`.
    pub(crate) fn map_page(&mut self, space: PmapId, va: u64, frame: Frame, prot: VmProt) {
        let old = self.pmap.get(&space).and_then(|t| t.get(&va)).copied();
        if let Some(old) = old
            && old != frame
        {
            self.unmap_va(space, va);
        }
        self.mmu.map(space, va, frame, prot);
        self.pmap.entry(space).or_default().insert(va, frame);
        if old != Some(frame)
            && let Some(fi) = self.frames.get_mut(&frame)
        {
            fi.mappings.push((space, va));
        }
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
