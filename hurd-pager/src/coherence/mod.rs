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

mod calls;
mod completions;
mod messages;
mod protocol;

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
}
