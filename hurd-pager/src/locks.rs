//! Outstanding lock requests, so each `lock_completed` is matched to the
//! request it answers.
//!
//! Mach's `memory_object_lock_completed` names the control port and the
//! range but not the request. hurd-pager makes that precise with ordering:
//! every reply goes to the memory object port itself, and a kernel handles
//! its control port's messages in order and sends its own messages in the
//! order it queued them (hurd-vm's kernels do both; so does GNU Mach), so a
//! kernel's completions arrive in the order of its requests, each after the
//! `data_return`s its request caused. The core keeps each kernel's requests
//! in a FIFO and matches a completion to the oldest request with the same
//! range. A completion that matches nothing is a kernel error: it is logged
//! and ignored.

use alloc::collections::{BTreeMap, VecDeque};

use crate::event::PageRange;
use crate::kernel::KernelId;
use crate::ops::OpId;

/// Why a lock request was sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Purpose {
    /// Taking one page back from a holder for a waiter.
    Revoke,
    /// A library call (sync, return, flush, shutdown).
    Call(OpId),
}

/// A lock request waiting for its completion.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct PendingLock {
    /// The pages.
    pub range: PageRange,
    /// It flushes them.
    pub flush: bool,
    /// The core's sequence number when it was sent.
    pub seq: u64,
    /// Why.
    pub purpose: Purpose,
}

/// Every kernel's outstanding lock requests.
#[derive(Debug, Default)]
pub(crate) struct LockTable {
    by_kernel: BTreeMap<KernelId, VecDeque<PendingLock>>,
}

impl LockTable {
    /// Records a request sent to `kernel`.
    pub fn push(&mut self, kernel: KernelId, lock: PendingLock) {
        self.by_kernel.entry(kernel).or_default().push_back(lock);
    }

    /// The request a completion answers: the oldest of `kernel`'s with this
    /// range.
    pub fn complete(&mut self, kernel: KernelId, range: PageRange) -> Option<PendingLock> {
        let q = self.by_kernel.get_mut(&kernel)?;
        let at = q.iter().position(|l| l.range == range)?;
        let l = q.remove(at);
        if q.is_empty() {
            self.by_kernel.remove(&kernel);
        }
        l
    }

    /// Forgets a kernel's requests (it died), returning them.
    pub fn remove_kernel(&mut self, kernel: KernelId) -> VecDeque<PendingLock> {
        self.by_kernel.remove(&kernel).unwrap_or_default()
    }

    /// How many requests are outstanding.
    pub fn len(&self) -> usize {
        self.by_kernel.values().map(VecDeque::len).sum()
    }
}
