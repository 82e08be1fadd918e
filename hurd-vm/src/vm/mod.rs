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

mod cache;
mod maps;
mod pmap;

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
}
