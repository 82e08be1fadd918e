//! The library's calls: synchronising, returning, flushing and the object's attributes.

use super::*;

impl Coherence {
    pub(super) fn start_call(&mut self, call: Call) -> OpId {
        match call {
            Call::Sync(range) => self.lock_all(range, false, ReturnPolicy::All, true),
            Call::Return(range) => self.lock_all(range, true, ReturnPolicy::All, false),
            Call::Flush(range) => {
                let op = self.lock_all(range, true, ReturnPolicy::None, false);
                let pages: Vec<u64> = self
                    .pages
                    .range(range.first..range.end())
                    .map(|(p, _)| *p)
                    .collect();
                for page in pages {
                    self.entry(page).data = None;
                }
                op
            }
            Call::Shutdown(range) => {
                self.shutting_down = true;
                let op = self.lock_all(range, true, ReturnPolicy::All, false);
                let pages: Vec<u64> = self.pages.keys().copied().collect();
                for page in pages {
                    self.service(page);
                }
                op
            }
            Call::OfferPage {
                page,
                data,
                precious,
                write_lock,
            } => {
                let op = self.ops.start(Op::default());
                if data.len() != PAGE {
                    self.ops.ops.remove(&op);
                    self.out.push(Action::Done {
                        op,
                        result: Err(PagerError::InvalidArgument),
                    });
                    return op;
                }
                self.entry(page).queue.push_back(Want {
                    kernel: SELF,
                    kind: WantKind::Offer {
                        data,
                        precious,
                        write_lock,
                    },
                });
                self.service(page);
                op
            }
            Call::ChangeAttributes {
                may_cache,
                copy_strategy,
            } => self.change_attributes(may_cache, copy_strategy),
        }
    }

    /// Sends one lock request per kernel concerned: for a sync, the kernels
    /// writing a page of the range; otherwise every kernel holding one.
    pub(super) fn lock_all(
        &mut self,
        range: PageRange,
        flush: bool,
        should_return: ReturnPolicy,
        writers_only: bool,
    ) -> OpId {
        let op = self.ops.start(Op::default());
        if range.count == 0 {
            return op;
        }
        let mut who: BTreeSet<KernelId> = BTreeSet::new();
        for e in self.pages.range(range.first..range.end()).map(|(_, e)| e) {
            for (k, h) in &e.holders {
                if !writers_only || h.write {
                    who.insert(*k);
                }
            }
        }
        let seq = self.next_seq();
        for kernel in who {
            if flush {
                for (_, e) in self.pages.range_mut(range.first..range.end()) {
                    if let Some(h) = e.holders.get_mut(&kernel) {
                        h.revoking = true;
                    }
                }
            }
            self.locks.push(
                kernel,
                PendingLock {
                    range,
                    flush,
                    seq,
                    purpose: Purpose::Call(op),
                },
            );
            if let Some(o) = self.ops.ops.get_mut(&op) {
                o.pending += 1;
            }
            self.out.push(Action::Lock {
                kernel,
                page: range.first,
                count: range.count,
                should_return,
                flush,
                lock: None,
                reply: true,
            });
        }
        op
    }

    pub(super) fn change_attributes(
        &mut self,
        may_cache: bool,
        copy_strategy: CopyStrategy,
    ) -> OpId {
        self.config.may_cache = may_cache;
        self.config.copy_strategy = copy_strategy;
        let kernels: Vec<KernelId> = self.kernels.keys().copied().collect();
        let op = self.ops.start(Op {
            pending: kernels.len(),
            change: true,
            sent_to: kernels.clone(),
            attributes: (may_cache, copy_strategy.into()),
            ..Op::default()
        });
        self.ops.changes_owed += kernels.len();
        for kernel in kernels {
            self.out.push(Action::ChangeAttributes {
                kernel,
                may_cache,
                copy_strategy,
                reply: true,
            });
        }
        op
    }
}
