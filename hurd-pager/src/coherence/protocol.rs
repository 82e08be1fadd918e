//! The per-page protocol: revoking, granting and supplying pages, and serving each page's queue.

use super::*;

impl Coherence {
    /// Asks `kernels` to give `page` back (flush, returning dirty data),
    /// unless a flush is already on its way; a grant younger than the
    /// minimum hold is revoked when the hold expires (unless `force`).
    pub(super) fn revoke(&mut self, page: u64, kernels: &[KernelId], force: bool) {
        for &kernel in kernels {
            let hold = self.pages.get(&page).and_then(|e| e.holders.get(&kernel));
            let Some(h) = hold.copied() else { continue };
            if h.revoking {
                continue;
            }
            let expires = h.at.saturating_add(self.config.min_hold);
            if !force && self.now < expires {
                self.deadlines.insert((expires, page));
                continue;
            }
            let seq = self.next_seq();
            if let Some(h) = self.entry(page).holders.get_mut(&kernel) {
                h.revoking = true;
            }
            self.locks.push(
                kernel,
                PendingLock {
                    range: PageRange::new(page, 1),
                    flush: true,
                    seq,
                    purpose: Purpose::Revoke,
                },
            );
            self.stats.revocations += 1;
            self.out.push(Action::Lock {
                kernel,
                page,
                count: 1,
                should_return: ReturnPolicy::All,
                flush: true,
                lock: None,
                reply: true,
            });
        }
    }

    /// Records a grant.
    pub(super) fn grant(&mut self, page: u64, kernel: KernelId, write: bool) {
        let since = self.next_seq();
        let at = self.now;
        self.stats.supplies += 1;
        self.entry(page).holders.insert(
            kernel,
            Hold {
                write,
                revoking: false,
                since,
                at,
            },
        );
    }

    pub(super) fn supply(&mut self, page: u64, kernel: KernelId, data: Vec<u8>, write: bool) {
        let precious = self.config.precious || self.pages.get(&page).is_some_and(|e| e.precious);
        self.grant(page, kernel, write);
        self.out.push(Action::Supply {
            kernel,
            page,
            data,
            lock: if write { VmProt::NONE } else { VmProt::WRITE },
            precious,
        });
    }

    /// Serves the head of `page`'s queue for as long as it can.
    pub(super) fn service(&mut self, page: u64) {
        while let Some(head) = self.pages.get(&page).and_then(|e| e.queue.front().cloned()) {
            let go_on = match head.kind {
                WantKind::Unlock => self.serve_unlock(page, head.kernel),
                WantKind::Read => self.serve_request(page, head.kernel, false),
                WantKind::Write => self.serve_request(page, head.kernel, true),
                WantKind::Offer {
                    data,
                    precious,
                    write_lock,
                } => self.serve_offer(page, data, precious, write_lock),
            };
            if !go_on {
                break;
            }
        }
        if self.pages.get(&page).is_some_and(PageEntry::is_idle) {
            self.pages.remove(&page);
        }
    }

    pub(super) fn pop(&mut self, page: u64) {
        if let Some(e) = self.pages.get_mut(&page) {
            e.queue.pop_front();
        }
    }

    /// Returns whether the queue moved.
    pub(super) fn serve_unlock(&mut self, page: u64, kernel: KernelId) -> bool {
        let Some(e) = self.pages.get(&page) else {
            return false;
        };
        match e.holders.get(&kernel) {
            None => {
                // Flushed meanwhile: the flush was the answer.
                self.pop(page);
                return true;
            }
            Some(h) if h.write => {
                self.pop(page);
                return true;
            }
            Some(h) if h.revoking => return false,
            Some(_) => {}
        }
        if self.shutting_down {
            self.pop(page);
            return true;
        }
        let others: Vec<KernelId> = e.holders.keys().copied().filter(|k| *k != kernel).collect();
        if !others.is_empty() {
            self.revoke(page, &others, false);
            return false;
        }
        if e.fetch != Fetch::Idle {
            return false;
        }
        if e.writable {
            self.pop(page);
            let at = self.now;
            let e = self.entry(page);
            e.data = None;
            if let Some(h) = e.holders.get_mut(&kernel) {
                h.write = true;
                h.at = at;
            }
            self.out.push(Action::Lock {
                kernel,
                page,
                count: 1,
                should_return: ReturnPolicy::None,
                flush: false,
                lock: Some(VmProt::NONE),
                reply: false,
            });
            return true;
        }
        self.entry(page).fetch = Fetch::Unlocking(kernel);
        self.out.push(Action::Unlock { page });
        false
    }

    /// A `data_request` at the head of the queue. Returns whether the queue
    /// moved.
    pub(super) fn serve_request(&mut self, page: u64, kernel: KernelId, write: bool) -> bool {
        if !self.kernels.contains_key(&kernel) {
            self.pop(page);
            return true;
        }
        let Some(e) = self.pages.get_mut(&page) else {
            return false;
        };
        if let Some(h) = e.holders.get(&kernel) {
            if h.revoking {
                // Its flush is on the way: once done, the request is fresh.
                return false;
            }
            // It dropped the page without a word (clean pages go silently;
            // dirty ones come back first).
            e.holders.remove(&kernel);
        }
        // A failed unlock is reported to the kernel's next request for
        // write access to the page (as libpager does).
        if let Some(error) = self
            .kernels
            .get_mut(&kernel)
            .filter(|_| write)
            .and_then(|k| k.next_errors.remove(&page))
        {
            self.pop(page);
            self.out.push(Action::DataError {
                kernel,
                page,
                error,
            });
            return true;
        }
        if self.shutting_down {
            self.pop(page);
            self.out.push(Action::DataError {
                kernel,
                page,
                error: PagerError::ShutDown,
            });
            return true;
        }
        let e = self.entry(page);
        let conflicts: Vec<KernelId> = e
            .holders
            .iter()
            .filter(|(_, h)| write || h.write)
            .map(|(k, _)| *k)
            .collect();
        if !conflicts.is_empty() {
            self.revoke(page, &conflicts, false);
            return false;
        }
        if e.data.is_none()
            && let Some(d) = self.writes.latest(page)
        {
            let d = d.to_vec();
            let e = self.entry(page);
            e.data = Some(d);
            e.writable = true;
        }
        let e = self.entry(page);
        if write && e.data.is_some() && !e.writable {
            // Unlock before granting, so that the writer gets write at once
            // (granting read-only and waiting for its data_unlock would put
            // the unlock behind other waiters, and writers could take the
            // page from each other forever).
            if e.fetch == Fetch::Idle {
                e.fetch = Fetch::Unlocking(kernel);
                self.out.push(Action::Unlock { page });
            }
            return false;
        }
        let Some(data) = e.data.clone() else {
            if e.fetch == Fetch::Idle {
                e.fetch = Fetch::Reading;
                self.stats.reads += 1;
                self.out.push(Action::Read { page });
            }
            return false;
        };
        let writable = e.writable;
        self.pop(page);
        if write && writable {
            self.entry(page).data = None;
            self.supply(page, kernel, data, true);
            return true;
        }
        // Readers at the head go together. (A write request on a
        // write-locked page is granted read-only: the kernel unlocks next.)
        self.supply(page, kernel, data.clone(), false);
        loop {
            let next = self.pages.get(&page).and_then(|e| e.queue.front()).cloned();
            let Some(w) = next else { break };
            let fresh = w.kind == WantKind::Read
                && self
                    .kernels
                    .get(&w.kernel)
                    .is_some_and(|k| !k.next_errors.contains_key(&page))
                && self
                    .pages
                    .get(&page)
                    .is_some_and(|e| !e.holders.contains_key(&w.kernel));
            if !fresh {
                break;
            }
            self.pop(page);
            self.supply(page, w.kernel, data.clone(), false);
        }
        true
    }

    pub(super) fn serve_offer(
        &mut self,
        page: u64,
        data: Vec<u8>,
        precious: bool,
        write_lock: bool,
    ) -> bool {
        let Some(e) = self.pages.get(&page) else {
            return false;
        };
        if !e.holders.is_empty() {
            let all: Vec<KernelId> = e.holders.keys().copied().collect();
            self.revoke(page, &all, false);
            return false;
        }
        if e.fetch != Fetch::Idle {
            return false;
        }
        let waiting: BTreeSet<KernelId> = e.queue.iter().map(|w| w.kernel).collect();
        self.pop(page);
        let e = self.entry(page);
        e.data = Some(data.clone());
        e.writable = !write_lock;
        e.precious = precious;
        let to: Vec<KernelId> = self
            .kernels
            .keys()
            .copied()
            .filter(|k| !waiting.contains(k))
            .collect();
        for kernel in to {
            self.supply(page, kernel, data.clone(), false);
        }
        true
    }
}
