//! Library calls in progress: how many kernels still have to answer, and
//! which writes must reach the backend before the call is done.

use alloc::collections::BTreeMap;

use crate::error::PagerError;

/// A library call, as [`Coherence::call`](crate::Coherence::call) numbers it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OpId(pub u64);

#[derive(Debug, Default)]
pub(crate) struct Op {
    /// Lock (or change) completions still to come.
    pub pending: usize,
    /// Once they came: the writes to wait for (every write queued until then).
    pub writes_upto: Option<u64>,
    /// Waits for `change_completed` messages rather than lock completions.
    pub change: bool,
    /// For a change: the kernels asked.
    pub sent_to: alloc::vec::Vec<crate::kernel::KernelId>,
    /// For a change: `change_completed`s received since.
    pub received: usize,
    /// For a change: the attributes asked for.
    pub attributes: (bool, u32),
    /// The first write error seen while it ran.
    pub error: Option<PagerError>,
}

/// The calls in progress.
#[derive(Debug, Default)]
pub(crate) struct Ops {
    pub ops: BTreeMap<OpId, Op>,
    next: u64,
    /// `change_completed`s asked for and not yet received.
    pub changes_owed: usize,
}

impl Ops {
    /// A new call.
    pub fn start(&mut self, op: Op) -> OpId {
        self.next += 1;
        let id = OpId(self.next);
        self.ops.insert(id, op);
        id
    }

    /// Counts a `change_completed` for every change call in progress; false
    /// if more came than were asked for.
    pub fn change_completed(&mut self, may_cache: bool, copy_strategy: u32) -> bool {
        if self.changes_owed == 0 {
            return false;
        }
        self.changes_owed -= 1;
        // As libpager, a completion counts for the calls that asked for the
        // attributes it reports.
        for o in self
            .ops
            .values_mut()
            .filter(|o| o.change && o.attributes == (may_cache, copy_strategy))
        {
            o.received += 1;
        }
        true
    }
}
