//! The backend's completions (reads, writes, unlocks) and the clock.

use super::*;

impl Coherence {
    pub(super) fn read_done(&mut self, page: u64, result: Result<crate::PageRead, PagerError>) {
        let Some(e) = self
            .pages
            .get_mut(&page)
            .filter(|e| e.fetch == Fetch::Reading)
        else {
            return self.reject("read completion nobody asked for");
        };
        e.fetch = Fetch::Idle;
        let result = match result {
            Ok(r) if r.data.len() == PAGE => Ok(r),
            Ok(_) => Err(PagerError::Io),
            Err(err) => Err(err),
        };
        match result {
            Ok(r) => {
                if e.data.is_none() && e.writer().is_none() {
                    e.data = Some(r.data);
                    e.writable = !r.write_lock;
                }
            }
            Err(error) => {
                // Everyone waiting for the data learns of it.
                let mut failed = Vec::new();
                e.queue.retain(|w| match w.kind {
                    WantKind::Read | WantKind::Write => {
                        failed.push(w.kernel);
                        false
                    }
                    _ => true,
                });
                for kernel in failed {
                    self.out.push(Action::DataError {
                        kernel,
                        page,
                        error,
                    });
                }
            }
        }
        self.service(page);
    }

    pub(super) fn write_done(&mut self, result: Result<(), PagerError>) {
        let Some(w) = self.writes.finish() else {
            return self.reject("write completion nobody asked for");
        };
        for i in 0..w.pages() {
            let page = w.page + i;
            let e = self.entry(page);
            match result {
                Ok(()) => e.error = None,
                Err(err) => {
                    // The data is not lost: the pager keeps it for readers.
                    e.error = Some(err);
                    if e.data.is_none()
                        && e.writer().is_none()
                        && let Some(d) = w.page_data(page)
                    {
                        e.data = Some(d.to_vec());
                        e.writable = true;
                    }
                }
            }
        }
        if let Err(err) = result {
            for op in self.ops.ops.values_mut() {
                op.error.get_or_insert(err);
            }
        }
        for i in 0..w.pages() {
            self.service(w.page + i);
        }
    }

    pub(super) fn unlock_done(&mut self, page: u64, result: Result<(), PagerError>) {
        let Some(Fetch::Unlocking(kernel)) = self.pages.get(&page).map(|e| e.fetch) else {
            return self.reject("unlock completion nobody asked for");
        };
        let e = self.entry(page);
        e.fetch = Fetch::Idle;
        let upgrade = e.queue.front().is_some_and(|w| {
            w.kernel == kernel && w.kind == WantKind::Unlock && e.holders.contains_key(&kernel)
        });
        let request = e
            .queue
            .front()
            .is_some_and(|w| w.kernel == kernel && w.kind == WantKind::Write);
        match result {
            Ok(()) => e.writable = true,
            Err(error) if upgrade => {
                e.queue.pop_front();
                if let Some(k) = self.kernels.get_mut(&kernel) {
                    k.next_errors.insert(page, error);
                }
                self.revoke(page, &[kernel], true);
            }
            Err(error) if request => {
                // A write fault on a page that cannot be made writable.
                e.queue.pop_front();
                self.out.push(Action::DataError {
                    kernel,
                    page,
                    error,
                });
            }
            Err(error) => log::debug!("pager: unlock of page {page} failed ({error}) unasked"),
        }
        self.service(page);
    }

    pub(super) fn tick(&mut self) {
        while let Some(&(t, page)) = self.deadlines.first() {
            if t > self.now {
                break;
            }
            self.deadlines.pop_first();
            self.service(page);
        }
    }
}
