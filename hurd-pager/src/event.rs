//! What goes into the coherence core: kernel messages, backend completions,
//! library calls, and the passing of time.

use alloc::vec::Vec;

use hurd_vm::VmProt;

use crate::error::PagerError;
use crate::kernel::KernelId;

/// A page as the backend read it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PageRead {
    /// One page of data.
    pub data: Vec<u8>,
    /// The page may not be written yet (libpager's `write_lock`): the
    /// kernel gets it read-only and must unlock it first (so the backend
    /// can allocate blocks, say).
    pub write_lock: bool,
}

/// An input to [`Coherence::handle`](crate::Coherence::handle). Pages are
/// numbered (byte offset / `PAGE_SIZE`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Event {
    /// `memory_object_init`: a kernel maps the object (through the
    /// read-only port if `read_only`).
    Init {
        /// The kernel (a new control port).
        kernel: KernelId,
        /// Never grant it write access.
        read_only: bool,
    },
    /// `memory_object_data_request` for one page.
    DataRequest {
        /// Who asks.
        kernel: KernelId,
        /// The page.
        page: u64,
        /// The access the fault needs.
        access: VmProt,
    },
    /// `memory_object_data_unlock` for one page the kernel holds read-only.
    DataUnlock {
        /// Who asks.
        kernel: KernelId,
        /// The page.
        page: u64,
        /// The access the fault needs.
        access: VmProt,
    },
    /// `memory_object_data_return` of one page.
    DataReturn {
        /// Who returns it.
        kernel: KernelId,
        /// The page.
        page: u64,
        /// Its contents.
        data: Vec<u8>,
        /// Modified since it was supplied.
        dirty: bool,
        /// The kernel kept a copy.
        kernel_copy: bool,
    },
    /// `memory_object_lock_completed` for a range.
    LockCompleted {
        /// Who completed it.
        kernel: KernelId,
        /// First page of the request.
        page: u64,
        /// Pages of the request.
        count: u64,
    },
    /// `memory_object_change_completed` (it does not say from which kernel,
    /// only the attributes now in force).
    ChangeCompleted {
        /// May cache.
        may_cache: bool,
        /// The copy strategy, raw.
        copy_strategy: u32,
    },
    /// `memory_object_terminate`: the kernel is done with the object.
    Terminate {
        /// Who.
        kernel: KernelId,
    },
    /// The kernel's control port died (dead-name notification): everything
    /// it held is dropped.
    KernelDied {
        /// Who.
        kernel: KernelId,
    },
    /// The backend finished reading a page the core asked for.
    ReadDone {
        /// The page.
        page: u64,
        /// What it read.
        result: Result<PageRead, PagerError>,
    },
    /// The backend finished the write the core asked for.
    WriteDone {
        /// How it went.
        result: Result<(), PagerError>,
    },
    /// The backend finished unlocking a page.
    UnlockDone {
        /// The page.
        page: u64,
        /// How it went.
        result: Result<(), PagerError>,
    },
    /// Time passed (see [`Coherence::next_deadline`](crate::Coherence::next_deadline)).
    Tick,
}

impl Event {
    /// Whether this is a message from a kernel (for message counting).
    pub fn is_kernel_message(&self) -> bool {
        matches!(
            self,
            Event::Init { .. }
                | Event::DataRequest { .. }
                | Event::DataUnlock { .. }
                | Event::DataReturn { .. }
                | Event::LockCompleted { .. }
                | Event::ChangeCompleted { .. }
                | Event::Terminate { .. }
        )
    }
}

/// Which pages a library call covers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PageRange {
    /// The first page.
    pub first: u64,
    /// How many pages (at least one).
    pub count: u64,
}

impl PageRange {
    /// `count` pages from `first`.
    pub fn new(first: u64, count: u64) -> PageRange {
        PageRange { first, count }
    }

    /// Whether `page` is in the range.
    pub fn contains(&self, page: u64) -> bool {
        page >= self.first && page - self.first < self.count
    }

    /// One past the last page (saturating).
    pub fn end(&self) -> u64 {
        self.first.saturating_add(self.count)
    }
}

/// A library call (libpager's `pager_*` functions) on the core.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Call {
    /// `pager_sync_some`: write back modified pages; kernels keep them.
    Sync(PageRange),
    /// `pager_return_some`: write back and take the pages from every kernel.
    Return(PageRange),
    /// `pager_flush_some`: take the pages from every kernel *without* write
    /// back (the backing data changed underneath); the pager's cached
    /// copies go too.
    Flush(PageRange),
    /// `pager_offer_page`: make `data` the page's contents and push it to
    /// every kernel, read-only, once current holders gave it back (their
    /// modifications are written back first; libpager, with one kernel,
    /// flushes them unwritten).
    OfferPage {
        /// The page.
        page: u64,
        /// Its new contents.
        data: Vec<u8>,
        /// Supply it precious (it comes back rather than being dropped).
        precious: bool,
        /// Writing it needs an unlock first.
        write_lock: bool,
    },
    /// `pager_change_attributes`.
    ChangeAttributes {
        /// May the kernels cache the object when unused.
        may_cache: bool,
        /// The copy strategy, as `memory_object_copy_strategy_t`.
        copy_strategy: hurd_vm::CopyStrategy,
    },
    /// `pager_shutdown`: return everything, then refuse new data.
    Shutdown(PageRange),
}
