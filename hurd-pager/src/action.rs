//! What comes out of the coherence core: messages to kernels, work for the
//! backend, and completed library calls.

use alloc::vec::Vec;

use hurd_vm::{CopyStrategy, ReturnPolicy, VmProt};

use crate::error::PagerError;
use crate::kernel::KernelId;
use crate::ops::OpId;

/// An output of [`Coherence::handle`](crate::Coherence::handle), to be
/// carried out in order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Action {
    /// `memory_object_ready`.
    Ready {
        /// To whom.
        kernel: KernelId,
        /// May cache.
        may_cache: bool,
        /// Copy strategy.
        copy_strategy: CopyStrategy,
    },
    /// `memory_object_data_supply` of one page.
    Supply {
        /// To whom.
        kernel: KernelId,
        /// The page.
        page: u64,
        /// Its contents.
        data: Vec<u8>,
        /// The access withheld: `WRITE` for read-only, `NONE` for write.
        lock: VmProt,
        /// Precious: the kernel must return it rather than drop it.
        precious: bool,
    },
    /// `memory_object_data_error` for one page.
    DataError {
        /// To whom.
        kernel: KernelId,
        /// The page.
        page: u64,
        /// Why.
        error: PagerError,
    },
    /// `memory_object_lock_request`.
    Lock {
        /// To whom.
        kernel: KernelId,
        /// First page.
        page: u64,
        /// Pages.
        count: u64,
        /// What to write back.
        should_return: ReturnPolicy,
        /// Drop the pages afterwards.
        flush: bool,
        /// The new lock value, or `None` for `VM_PROT_NO_CHANGE`.
        lock: Option<VmProt>,
        /// Ask for `lock_completed` (sent to the memory object port).
        reply: bool,
    },
    /// `memory_object_change_attributes`.
    ChangeAttributes {
        /// To whom.
        kernel: KernelId,
        /// May cache.
        may_cache: bool,
        /// Copy strategy.
        copy_strategy: CopyStrategy,
        /// Ask for `change_completed`.
        reply: bool,
    },
    /// Read a page from the backend; answer with
    /// [`Event::ReadDone`](crate::Event::ReadDone).
    Read {
        /// The page.
        page: u64,
    },
    /// Write contiguous pages to the backend; answer with
    /// [`Event::WriteDone`](crate::Event::WriteDone). Only one write is
    /// outstanding at a time, so writes reach the backend in order.
    Write {
        /// The first page.
        page: u64,
        /// Whole pages.
        data: Vec<u8>,
    },
    /// Make a page writable in the backend; answer with
    /// [`Event::UnlockDone`](crate::Event::UnlockDone).
    Unlock {
        /// The page.
        page: u64,
    },
    /// No kernel holds the page any more (it was given back, not taken).
    NotifyEvict {
        /// The page.
        page: u64,
    },
    /// A library call finished.
    Done {
        /// The call.
        op: OpId,
        /// How it went (the first write error, if any).
        result: Result<(), PagerError>,
    },
    /// The core forgot a kernel (terminated or dead): release its ports.
    Release {
        /// The kernel.
        kernel: KernelId,
    },
}

impl Action {
    /// Whether this is a message to a kernel (for message counting).
    pub fn is_kernel_message(&self) -> bool {
        matches!(
            self,
            Action::Ready { .. }
                | Action::Supply { .. }
                | Action::DataError { .. }
                | Action::Lock { .. }
                | Action::ChangeAttributes { .. }
        )
    }

    /// The kernel a message goes to.
    pub fn kernel(&self) -> Option<KernelId> {
        match self {
            Action::Ready { kernel, .. }
            | Action::Supply { kernel, .. }
            | Action::DataError { kernel, .. }
            | Action::Lock { kernel, .. }
            | Action::ChangeAttributes { kernel, .. }
            | Action::Release { kernel } => Some(*kernel),
            _ => None,
        }
    }
}
