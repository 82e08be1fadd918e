//! The run queues of a fixed-priority scheduler: one queue of ready threads
//! per priority, 0 the best (as in Mach), and a bitmap of the non-empty
//! ones, so the best ready priority is one instruction. Threads join a
//! queue at its end (a thread whose time slice ended) or at its front (a
//! thread just woken, which has waited already).
//!
//! The kernel's scheduler keeps its ready threads here; what it does with
//! them (hand-offs, suspended tasks, time slices) is its own.

use alloc::collections::VecDeque;

/// Scheduling priorities: 0 (best) to `PRIORITIES - 1`.
pub const PRIORITIES: usize = 32;

/// Ready threads (by id) in one queue per priority.
#[derive(Debug, Default, Clone)]
pub struct RunQueues {
    queues: [VecDeque<u32>; PRIORITIES],
    /// Bit `p` set when `queues[p]` is not empty.
    mask: u32,
}

/// `priority`, or the worst one when it is out of range.
fn clamp(priority: u8) -> usize {
    usize::from(priority).min(PRIORITIES - 1)
}

impl RunQueues {
    /// Puts `id` at the end of the queue of `priority` (the worst priority
    /// when `priority` is out of range).
    #[inline]
    pub fn push_back(&mut self, id: u32, priority: u8) {
        let p = clamp(priority);
        self.queues[p].push_back(id);
        self.mask |= 1 << p;
    }

    /// Puts `id` at the front of the queue of `priority` (the worst
    /// priority when `priority` is out of range): it is the next of its
    /// priority to run.
    #[inline]
    pub fn push_front(&mut self, id: u32, priority: u8) {
        let p = clamp(priority);
        self.queues[p].push_front(id);
        self.mask |= 1 << p;
    }

    /// Takes the first thread of the best non-empty queue.
    #[inline]
    pub fn pop_best(&mut self) -> Option<u32> {
        let p = usize::from(self.best()?);
        let queue = &mut self.queues[p];
        let id = queue.pop_front();
        if queue.is_empty() {
            self.mask &= !(1 << p);
        }
        id
    }

    /// The best priority with a ready thread.
    #[inline]
    pub fn best(&self) -> Option<u8> {
        (self.mask != 0).then(|| self.mask.trailing_zeros() as u8)
    }

    /// Whether no thread is ready.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.mask == 0
    }

    /// Takes `id` out of the queue of `priority` (as given to
    /// [`RunQueues::push_back`]); whether it was there.
    pub fn remove(&mut self, id: u32, priority: u8) -> bool {
        let p = clamp(priority);
        let queue = &mut self.queues[p];
        let before = queue.len();
        queue.retain(|&t| t != id);
        if queue.is_empty() {
            self.mask &= !(1 << p);
        }
        queue.len() != before
    }

    /// How many threads are ready.
    pub fn len(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn best_priority_first_then_in_order() {
        let mut q = RunQueues::default();
        assert!(q.is_empty());
        q.push_back(1, 12);
        q.push_back(2, 3);
        q.push_back(3, 12);
        q.push_back(4, 3);
        assert_eq!(q.best(), Some(3));
        let order: Vec<u32> = core::iter::from_fn(|| q.pop_best()).collect();
        assert_eq!(order, [2, 4, 1, 3]);
        assert!(q.is_empty());
        assert_eq!(q.best(), None);
    }

    #[test]
    fn the_front_goes_first_within_its_priority() {
        let mut q = RunQueues::default();
        q.push_back(1, 12);
        q.push_back(2, 3);
        q.push_front(3, 12);
        q.push_front(4, 20);
        let order: Vec<u32> = core::iter::from_fn(|| q.pop_best()).collect();
        assert_eq!(order, [2, 3, 1, 4]);
    }

    #[test]
    fn out_of_range_priorities_are_the_worst() {
        let mut q = RunQueues::default();
        q.push_back(7, 200);
        q.push_back(8, 31);
        assert_eq!(q.best(), Some(31));
        assert_eq!(q.pop_best(), Some(7));
        assert!(q.remove(8, 255));
        assert!(q.is_empty());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(u32, u8),
        PushFront(u32, u8),
        Pop,
        Remove(u32, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u32..16, 0u8..40).prop_map(|(id, p)| Op::Push(id, p)),
            (0u32..16, 0u8..40).prop_map(|(id, p)| Op::PushFront(id, p)),
            Just(Op::Pop),
            (0u32..16, 0u8..40).prop_map(|(id, p)| Op::Remove(id, p)),
        ]
    }

    proptest! {
        /// Against a model: one list of (priority, id) in queue order (a
        /// push to the front goes first in the list); the next thread is
        /// the first in the list of the best priority.
        #[test]
        fn matches_a_list_model(ops in proptest::collection::vec(op(), 0..200)) {
            let mut q = RunQueues::default();
            let mut model: Vec<(usize, u32)> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(id, p) => {
                        q.push_back(id, p);
                        model.push((clamp(p), id));
                    }
                    Op::PushFront(id, p) => {
                        q.push_front(id, p);
                        model.insert(0, (clamp(p), id));
                    }
                    Op::Pop => {
                        // The earliest of the best priority.
                        let at = (0..model.len()).min_by_key(|&i| (model[i].0, i));
                        let want = at.map(|i| model.remove(i).1);
                        prop_assert_eq!(q.pop_best(), want);
                    }
                    Op::Remove(id, p) => {
                        let before = model.len();
                        model.retain(|&e| e != (clamp(p), id));
                        prop_assert_eq!(q.remove(id, p), model.len() != before);
                    }
                }
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.is_empty(), model.is_empty());
                let best = model.iter().map(|&(p, _)| p as u8).min();
                prop_assert_eq!(q.best(), best);
            }
        }
    }
}
