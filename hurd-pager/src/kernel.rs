//! Kernels as the coherence core knows them.

use alloc::collections::BTreeMap;

use crate::error::PagerError;

/// One kernel's link to one pager: in the protocol, a control port (each
/// `memory_object_init` brings a new one). The runtime numbers them; the
/// core only compares them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KernelId(pub u32);

impl core::fmt::Display for KernelId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "kernel#{}", self.0)
    }
}

/// What the core keeps per kernel.
#[derive(Debug, Default)]
pub(crate) struct KernelState {
    /// Mapped through the read-only port: never granted write.
    pub read_only: bool,
    /// Errors to answer this kernel's next `data_request` for a page with
    /// (a failed unlock, as Mach prescribes).
    pub next_errors: BTreeMap<u64, PagerError>,
}
