//! One page's coherence state: who holds it, who waits for it, what the
//! pager is doing about it.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::error::PagerError;
use crate::kernel::KernelId;

/// A kernel's hold on a page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Hold {
    /// Write access (then it is the only holder).
    pub write: bool,
    /// A flush of it is on its way (the kernel counts as a holder until the
    /// flush completes).
    pub revoking: bool,
    /// The core's sequence number when it was granted: a flush sent before
    /// the grant does not take it away.
    pub since: u64,
    /// When it was granted (for the minimum hold).
    pub at: u64,
}

/// What a waiter wants.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum WantKind {
    /// `data_request` for reading.
    Read,
    /// `data_request` for writing.
    Write,
    /// `data_unlock`: the kernel holds the page read-only and wants write.
    Unlock,
    /// `pager_offer_page`: new contents to push once nobody holds the page.
    Offer {
        data: Vec<u8>,
        precious: bool,
        write_lock: bool,
    },
}

/// A waiter in a page's FIFO.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Want {
    /// Who waits (unused for offers).
    pub kernel: KernelId,
    /// For what.
    pub kind: WantKind,
}

/// What the pager itself is doing for the page.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) enum Fetch {
    /// Nothing.
    #[default]
    Idle,
    /// The backend is reading it.
    Reading,
    /// The backend is unlocking it for this kernel.
    Unlocking(KernelId),
}

/// One page.
#[derive(Clone, Debug, Default)]
pub(crate) struct PageEntry {
    /// The kernels that may hold it (an upper bound: clean pages can be
    /// dropped silently).
    pub holders: BTreeMap<KernelId, Hold>,
    /// Waiters, first come first served.
    pub queue: VecDeque<Want>,
    /// Backend work in progress.
    pub fetch: Fetch,
    /// The current contents, while no kernel may write them.
    pub data: Option<Vec<u8>>,
    /// The backend lets it be written without an unlock.
    pub writable: bool,
    /// Supply it precious (an offered page asked for it).
    pub precious: bool,
    /// The last write of it failed.
    pub error: Option<PagerError>,
}

impl PageEntry {
    /// The kernel holding write access, if any.
    pub fn writer(&self) -> Option<KernelId> {
        self.holders.iter().find(|(_, h)| h.write).map(|(k, _)| *k)
    }

    /// Whether nobody holds or wants the page and nothing is pending for it,
    /// so it can be forgotten (cached data and all: the backend and the
    /// write queue hold the truth then).
    pub fn is_idle(&self) -> bool {
        self.holders.is_empty()
            && self.queue.is_empty()
            && self.fetch == Fetch::Idle
            && self.error.is_none()
    }
}
