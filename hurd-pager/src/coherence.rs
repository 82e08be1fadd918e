//! The coherence core: events in, actions out.
//!
//! [`Coherence`] is one memory object's pager state as plain data. Nothing in
//! it blocks, sends, or reads a clock: the runtime feeds it [`Event`]s (kernel
//! messages, backend completions, time) and [`Call`]s, and carries out the
//! [`Action`]s it returns, in order. The same core runs under the hosted
//! worker runtime, inside a kernel's user runtime, and under property tests
//! that interleave several kernels at random.
//!
//! # The protocol, per page
//!
//! - **Single writer or many readers.** A page is held by one kernel with
//!   write access, or by any number read-only (supplied with lock value
//!   `VM_PROT_WRITE`).
//! - **Waiters queue in FIFO order.** A request that conflicts with the
//!   holders (a write request while anyone holds the page, a read request
//!   while someone writes it) waits, and the conflicting holders are asked to
//!   give the page back: `lock_request(RETURN_ALL, flush, reply)`. A holder
//!   counts until its flush completes; dirty data comes back first with
//!   `data_return` and is queued for the backend.
//! - **Grants** are `data_supply` with the right lock value; consecutive
//!   readers at the head of the queue are granted together.
//! - **Upgrades**: `data_unlock` from a reader waits until it is the only
//!   holder, then the backend's unlock runs (unless the page is known
//!   writable) and write is granted with `lock_request(lock = NONE)`. An
//!   unlock error flushes the kernel's copy and is answered on that kernel's
//!   next `data_request` for write access to the page with `data_error`, as
//!   Mach prescribes (and libpager does).
//!   An unlock that crossed a flush is dropped: the flush answers it.
//! - **Writes to the backend** go one at a time, in order.
//! - **Starvation**: each grant stands for at least [`Config::min_hold`]
//!   before it is revoked (see [`Config`]).
//! - **Kernel death** (or `terminate`) drops the kernel's holdings, waits and
//!   outstanding locks; the others proceed.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use hurd_vm::{CopyStrategy, PAGE_SIZE, ReturnPolicy, VmProt};

use crate::action::Action;
use crate::config::Config;
use crate::error::PagerError;
use crate::event::{Call, Event, PageRange};
use crate::kernel::{KernelId, KernelState};
use crate::locks::{LockTable, PendingLock, Purpose};
use crate::ops::{Op, OpId, Ops};
use crate::page::{Fetch, Hold, PageEntry, Want, WantKind};
use crate::writeback::WriteBack;

const PAGE: usize = PAGE_SIZE as usize;

/// The pager itself, as the "kernel" of an offered page in a queue.
const SELF: KernelId = KernelId(u32::MAX);

/// Counters of a pager.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Messages received from kernels.
    pub messages_in: u64,
    /// Messages sent to kernels.
    pub messages_out: u64,
    /// `data_request`s.
    pub requests: u64,
    /// `data_unlock`s.
    pub unlocks: u64,
    /// Pages supplied.
    pub supplies: u64,
    /// Revocations sent (one page, one kernel each).
    pub revocations: u64,
    /// Backend reads.
    pub reads: u64,
    /// Backend writes (each one or more pages).
    pub writes: u64,
    /// Malformed, unsolicited or out-of-turn inputs ignored.
    pub rejected: u64,
}

/// One memory object's coherence state. See the [module](self) docs.
#[derive(Debug)]
pub struct Coherence {
    config: Config,
    pages: BTreeMap<u64, PageEntry>,
    kernels: BTreeMap<KernelId, KernelState>,
    locks: LockTable,
    writes: WriteBack,
    ops: Ops,
    /// (time, page): holds to revoke when they expire.
    deadlines: BTreeSet<(u64, u64)>,
    seq: u64,
    now: u64,
    out: Vec<Action>,
    shutting_down: bool,
    stats: Stats,
}

impl Coherence {
    /// A pager with no kernels yet.
    pub fn new(config: Config) -> Coherence {
        Coherence {
            config,
            pages: BTreeMap::new(),
            kernels: BTreeMap::new(),
            locks: LockTable::default(),
            writes: WriteBack::default(),
            ops: Ops::default(),
            deadlines: BTreeSet::new(),
            seq: 0,
            now: 0,
            out: Vec::new(),
            shutting_down: false,
            stats: Stats::default(),
        }
    }

    /// The settings (attributes as last changed).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Handles one event at time `now` (any monotonic clock, in the units of
    /// [`Config::min_hold`]) and returns what to do, in order.
    pub fn handle(&mut self, now: u64, event: Event) -> Vec<Action> {
        self.now = self.now.max(now);
        if event.is_kernel_message() {
            self.stats.messages_in += 1;
        }
        match event {
            Event::Init { kernel, read_only } => self.init(kernel, read_only),
            Event::DataRequest {
                kernel,
                page,
                access,
            } => self.data_request(kernel, page, access),
            Event::DataUnlock { kernel, page, .. } => self.data_unlock(kernel, page),
            Event::DataReturn {
                kernel,
                page,
                data,
                dirty,
                kernel_copy,
            } => self.data_return(kernel, page, data, dirty, kernel_copy),
            Event::LockCompleted {
                kernel,
                page,
                count,
            } => self.lock_completed(kernel, PageRange::new(page, count)),
            Event::ChangeCompleted {
                may_cache,
                copy_strategy,
            } => {
                if !self.ops.change_completed(may_cache, copy_strategy) {
                    self.reject("change_completed nobody asked for");
                }
            }
            Event::Terminate { kernel } | Event::KernelDied { kernel } => self.forget(kernel),
            Event::ReadDone { page, result } => self.read_done(page, result),
            Event::WriteDone { result } => self.write_done(result),
            Event::UnlockDone { page, result } => self.unlock_done(page, result),
            Event::Tick => self.tick(),
        }
        self.finish()
    }

    /// Starts a library call at time `now`; its [`Action::Done`] comes in
    /// these actions or later ones.
    pub fn call(&mut self, now: u64, call: Call) -> (OpId, Vec<Action>) {
        self.now = self.now.max(now);
        let op = self.start_call(call);
        (op, self.finish())
    }

    /// When the core next needs an [`Event::Tick`] (a hold expires).
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// The kernels holding `page`, with whether each may write.
    pub fn holders(&self, page: u64) -> Vec<(KernelId, bool)> {
        self.pages
            .get(&page)
            .map(|e| e.holders.iter().map(|(k, h)| (*k, h.write)).collect())
            .unwrap_or_default()
    }

    /// The kernel with write access to `page`.
    pub fn writer(&self, page: u64) -> Option<KernelId> {
        self.pages.get(&page).and_then(PageEntry::writer)
    }

    /// The kernels the core knows (initialized, not yet gone).
    pub fn kernels(&self) -> Vec<KernelId> {
        self.kernels.keys().copied().collect()
    }

    /// Lock requests whose completion has not come yet.
    pub fn outstanding_locks(&self) -> usize {
        self.locks.len()
    }

    /// The last write error of `page` (libpager's `pager_get_error`).
    pub fn page_error(&self, page: u64) -> Option<PagerError> {
        self.pages.get(&page).and_then(|e| e.error)
    }

    /// Whether nothing is pending: no waiter, no backend work, no
    /// outstanding lock, no call in progress.
    pub fn is_quiescent(&self) -> bool {
        self.locks.len() == 0
            && self.writes.is_empty()
            && self.ops.ops.is_empty()
            && self
                .pages
                .values()
                .all(|e| e.queue.is_empty() && e.fetch == Fetch::Idle)
    }

    // ---- plumbing ----

    fn finish(&mut self) -> Vec<Action> {
        if let Some((page, data)) = self.writes.start() {
            self.stats.writes += 1;
            self.out.push(Action::Write { page, data });
        }
        self.check_ops();
        let out = core::mem::take(&mut self.out);
        self.stats.messages_out += out.iter().filter(|a| a.is_kernel_message()).count() as u64;
        out
    }

    fn reject(&mut self, what: &str) {
        self.stats.rejected += 1;
        log::warn!("pager: ignored {what}");
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn entry(&mut self, page: u64) -> &mut PageEntry {
        self.pages.entry(page).or_default()
    }

    fn check_ops(&mut self) {
        let mut done = Vec::new();
        for (id, op) in self.ops.ops.iter_mut() {
            if op.change {
                // `change_completed` does not say which kernel sent it: the
                // call is done once as many came as there are kernels left
                // of those asked (with overlapping calls and dying kernels
                // it may end early, never late).
                let alive = op
                    .sent_to
                    .iter()
                    .filter(|k| self.kernels.contains_key(k))
                    .count();
                op.pending = alive.saturating_sub(op.received);
            }
            if op.pending > 0 {
                continue;
            }
            let upto = *op.writes_upto.get_or_insert(self.writes.last_seq());
            if self.writes.done_upto(upto) {
                done.push((*id, op.error));
            }
        }
        for (op, error) in done {
            self.ops.ops.remove(&op);
            self.out.push(Action::Done {
                op,
                result: error.map_or(Ok(()), Err),
            });
        }
    }

    // ---- kernel messages ----

    fn init(&mut self, kernel: KernelId, read_only: bool) {
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

    fn data_request(&mut self, kernel: KernelId, page: u64, access: VmProt) {
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

    fn data_unlock(&mut self, kernel: KernelId, page: u64) {
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

    fn data_return(
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

    fn lock_completed(&mut self, kernel: KernelId, range: PageRange) {
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
    fn forget(&mut self, kernel: KernelId) {
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

    // ---- backend completions ----

    fn read_done(&mut self, page: u64, result: Result<crate::PageRead, PagerError>) {
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

    fn write_done(&mut self, result: Result<(), PagerError>) {
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

    fn unlock_done(&mut self, page: u64, result: Result<(), PagerError>) {
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

    fn tick(&mut self) {
        while let Some(&(t, page)) = self.deadlines.first() {
            if t > self.now {
                break;
            }
            self.deadlines.pop_first();
            self.service(page);
        }
    }

    // ---- library calls ----

    fn start_call(&mut self, call: Call) -> OpId {
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
    fn lock_all(
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

    fn change_attributes(&mut self, may_cache: bool, copy_strategy: CopyStrategy) -> OpId {
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

    // ---- the per-page protocol ----

    /// Asks `kernels` to give `page` back (flush, returning dirty data),
    /// unless a flush is already on its way; a grant younger than the
    /// minimum hold is revoked when the hold expires (unless `force`).
    fn revoke(&mut self, page: u64, kernels: &[KernelId], force: bool) {
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
    fn grant(&mut self, page: u64, kernel: KernelId, write: bool) {
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

    fn supply(&mut self, page: u64, kernel: KernelId, data: Vec<u8>, write: bool) {
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
    fn service(&mut self, page: u64) {
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

    fn pop(&mut self, page: u64) {
        if let Some(e) = self.pages.get_mut(&page) {
            e.queue.pop_front();
        }
    }

    /// Returns whether the queue moved.
    fn serve_unlock(&mut self, page: u64, kernel: KernelId) -> bool {
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
    fn serve_request(&mut self, page: u64, kernel: KernelId, write: bool) -> bool {
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

    fn serve_offer(&mut self, page: u64, data: Vec<u8>, precious: bool, write_lock: bool) -> bool {
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
