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
    /// The first write error seen while it ran.
    pub error: Option<PagerError>,
}

/// The calls in progress.
#[derive(Debug, Default)]
pub(crate) struct Ops {
    pub ops: BTreeMap<OpId, Op>,
    next: u64,
}

impl Ops {
    /// A new call.
    pub fn start(&mut self, op: Op) -> OpId {
        self.next += 1;
        let id = OpId(self.next);
        self.ops.insert(id, op);
        id
    }

    /// The oldest call waiting for a `change_completed`.
    pub fn oldest_change(&mut self) -> Option<&mut Op> {
        self.ops.values_mut().find(|o| o.change && o.pending > 0)
    }
}
