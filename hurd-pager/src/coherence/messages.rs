//! The kernels' memory_object messages: a kernel's `init`, its requests, returns and lock completions, and its leaving.

use super::*;

impl Coherence {
    pub(super) fn init(&mut self, kernel: KernelId, read_only: bool) {
        if kernel == SELF || self.kernels.contains_key(&kernel) {
            return self.reject("init of a kernel already known");
        }
        self.kernels.insert(
            kernel,
            KernelState {
                read_only,
                ..KernelState::default()
            },
        );
        self.out.push(Action::Ready {
            kernel,
            may_cache: self.config.may_cache,
            copy_strategy: self.config.copy_strategy,
        });
    }

    pub(super) fn data_request(&mut self, kernel: KernelId, page: u64, access: VmProt) {
        let Some(k) = self.kernels.get(&kernel) else {
            return self.reject("data_request from an unknown kernel");
        };
        self.stats.requests += 1;
        let kind = if access.contains(VmProt::WRITE) && !k.read_only {
            WantKind::Write
        } else {
            WantKind::Read
        };
        self.entry(page).queue.push_back(Want { kernel, kind });
        self.service(page);
    }

    pub(super) fn data_unlock(&mut self, kernel: KernelId, page: u64) {
        let Some(k) = self.kernels.get(&kernel) else {
            return self.reject("data_unlock from an unknown kernel");
        };
        self.stats.unlocks += 1;
        let read_only = k.read_only;
        let holds = self
            .pages
            .get(&page)
            .and_then(|e| e.holders.get(&kernel))
            .copied();
        match holds {
            // Write access through the read-only port: refused at once.
            Some(h) if read_only && !h.revoking => self.out.push(Action::DataError {
                kernel,
                page,
                error: PagerError::ReadOnly,
            }),
            // A flush of the page is on its way and answers the unlock.
            _ if read_only => {}
            // It crossed a flush, which answers it; or it is stale.
            None => log::debug!("pager: unlock of page {page} from non-holder {kernel}"),
            Some(h) if h.write => log::debug!("pager: unlock of page {page} already writable"),
            Some(_) => {
                self.entry(page).queue.push_back(Want {
                    kernel,
                    kind: WantKind::Unlock,
                });
                self.service(page);
            }
        }
    }

    pub(super) fn data_return(
        &mut self,
        kernel: KernelId,
        page: u64,
        data: Vec<u8>,
        dirty: bool,
        kernel_copy: bool,
    ) {
        if data.len() != PAGE {
            return self.reject("data_return of other than one page");
        }
        let Some(hold) = self
            .pages
            .get(&page)
            .and_then(|e| e.holders.get(&kernel))
            .copied()
        else {
            return self.reject("data_return of a page the kernel does not hold");
        };
        if dirty && !hold.write {
            return self.reject("dirty data_return from a reader");
        }
        if dirty {
            self.writes.push(page, data.clone());
        }
        let notify = self.config.precious;
        let e = self.entry(page);
        if !kernel_copy {
            e.holders.remove(&kernel);
            if e.writer().is_none() && (dirty || e.data.is_none()) {
                e.data = Some(data);
                if dirty {
                    e.writable = true;
                }
            }
            if !dirty && !hold.revoking && e.holders.is_empty() && notify {
                self.out.push(Action::NotifyEvict { page });
            }
        }
        self.service(page);
    }

    pub(super) fn lock_completed(&mut self, kernel: KernelId, range: PageRange) {
        let Some(lock) = self.locks.complete(kernel, range) else {
            return self.reject("lock_completed matching no request");
        };
        if let Purpose::Call(op) = lock.purpose
            && let Some(o) = self.ops.ops.get_mut(&op)
        {
            o.pending = o.pending.saturating_sub(1);
        }
        let pages: Vec<u64> = self
            .pages
            .range(range.first..range.end())
            .map(|(p, _)| *p)
            .collect();
        for page in pages {
            if lock.flush {
                let e = self.entry(page);
                if e.holders.get(&kernel).is_some_and(|h| h.since < lock.seq) {
                    e.holders.remove(&kernel);
                }
            }
            self.service(page);
        }
    }

    /// A kernel is gone: its holdings, waits and locks go with it.
    pub(super) fn forget(&mut self, kernel: KernelId) {
        if self.kernels.remove(&kernel).is_none() {
            return;
        }

        for lock in self.locks.remove_kernel(kernel) {
            if let Purpose::Call(op) = lock.purpose
                && let Some(o) = self.ops.ops.get_mut(&op)
            {
                o.pending = o.pending.saturating_sub(1);
            }
        }
        let mut touched = Vec::new();
        for (page, e) in self.pages.iter_mut() {
            let before = (e.holders.len(), e.queue.len());
            e.holders.remove(&kernel);
            e.queue
                .retain(|w| w.kernel != kernel || matches!(w.kind, WantKind::Offer { .. }));
            if before != (e.holders.len(), e.queue.len()) {
                touched.push(*page);
            }
        }
        self.out.push(Action::Release { kernel });
        for page in touched {
            self.service(page);
        }
    }
}
