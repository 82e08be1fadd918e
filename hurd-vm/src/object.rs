//! VM objects: the kernel's cache of a memory object's pages.

use alloc::collections::{BTreeMap, BTreeSet};

use hurd_ipc::PortName;

use crate::page::{FetchId, Page};
use crate::protocol::CopyStrategy;

/// Names a VM object inside one [`crate::Vm`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ObjectId(pub u32);

/// The ports that tie an object to its pager.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PagerLink {
    /// The memory object port (a send right the kernel holds).
    pub pager: PortName,
    /// The control port (a receive right the kernel holds) the pager answers on.
    pub control: PortName,
}

/// Where an object stands with its pager.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ObjectState {
    /// Usable. Anonymous objects are always ready.
    Ready,
    /// `memory_object_init` sent; waiting for `memory_object_ready`. The id is
    /// the ticket `vm_map` waits on.
    WaitingReady(FetchId),
    /// The pager died or destroyed the object: faults that need it fail with
    /// this error; resident pages of a dead pager stay usable.
    Dead(crate::VmError),
}

/// A VM object: a range of pages, resident or not, possibly backed by a pager
/// and by a shadow (the object it is a copy-on-write copy of).
#[derive(Clone, Debug)]
pub struct VmObject {
    /// Size in bytes (a page multiple). External objects grow to cover every
    /// mapping of them.
    pub size: u64,
    /// Pages by page index (offset / `PAGE_SIZE`).
    pub pages: BTreeMap<u64, Page>,
    /// The pager, for external objects; `None` for anonymous memory.
    pub pager: Option<PagerLink>,
    /// The shadowed object and the byte offset of this object in it.
    pub shadow: Option<(ObjectId, u64)>,
    /// The copy strategy the pager asked for.
    pub copy_strategy: CopyStrategy,
    /// Whether the pager lets the kernel keep the object cached when unmapped.
    pub may_cache: bool,
    /// Readiness.
    pub state: ObjectState,
    /// A temporary object: anonymous memory the kernel handed to the default
    /// pager (`memory_object_create`) to page it out. It keeps the copy
    /// semantics of anonymous memory; only its paged-out pages come from the
    /// pager.
    pub internal: bool,
    /// For internal objects, the pages the default pager holds (Mach's
    /// existence map): the others are asked of the shadow or zero-filled
    /// without a message.
    pub(crate) paged_out: BTreeSet<u64>,
    /// Map entries referring to the object.
    pub(crate) entry_refs: u32,
    /// Objects shadowing this one.
    pub(crate) shadow_refs: u32,
}

impl VmObject {
    /// An anonymous (zero-fill) object.
    pub fn anonymous(size: u64) -> VmObject {
        VmObject {
            size,
            pages: BTreeMap::new(),
            pager: None,
            shadow: None,
            copy_strategy: CopyStrategy::Delay,
            may_cache: false,
            state: ObjectState::Ready,
            internal: false,
            paged_out: BTreeSet::new(),
            entry_refs: 0,
            shadow_refs: 0,
        }
    }

    /// Whether the object is backed by a pager other than the default pager
    /// (an internal object is anonymous memory, even with a pager).
    pub fn is_external(&self) -> bool {
        self.pager.is_some() && !self.internal
    }

    /// Whether the default pager holds the page at `offset` (internal objects).
    pub fn is_paged_out(&self, offset: u64) -> bool {
        self.paged_out.contains(&(offset / crate::PAGE_SIZE))
    }

    /// References from map entries and shadows.
    pub fn refs(&self) -> u32 {
        self.entry_refs + self.shadow_refs
    }

    /// References from map entries.
    pub fn entry_refs(&self) -> u32 {
        self.entry_refs
    }

    /// Resident pages.
    pub fn resident_pages(&self) -> usize {
        self.pages.values().filter(|p| p.frame().is_some()).count()
    }
}
