//! A deterministic world for the coherence core: several hurd-vm kernels
//! (real `Vm`s over the software MMU), one `Coherence` core, FIFO message
//! queues in each direction per kernel, and an in-memory backend whose
//! operations complete when the test says so. Tests pick the interleaving.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use hurd_ipc::{Disposition, PortItem, PortName};
use hurd_pager::{Action, Call, Coherence, Config, Event, KernelId, PAGE_SIZE, PageRead};
use hurd_vm::protocol::{control, control_lock, memory_object, page_data};
use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{
    ControlCall, KernelCall, MapId, ObjectId, PageState, Stall, Ticket, TicketStatus,
    VM_PROT_NO_CHANGE, Vm, VmInherit, VmProt,
};

/// A `reply_to` right as the kernel receives it (NULL: none).
fn reply_to(reply: bool) -> PortItem {
    PortItem {
        disposition: Disposition::PORT_SEND_ONCE,
        name: if reply { REPLY } else { PortName::NULL },
    }
}

pub const PAGE: usize = PAGE_SIZE as usize;
const PAGER: PortName = PortName(100);
const REPLY: PortName = PortName(999);

/// An access a kernel's thread is doing.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    pub page: u64,
    /// `Some(version)` for a store of that version.
    pub write: Option<u64>,
    pub ticket: Option<Ticket>,
}

pub struct Node {
    pub vm: Vm<SoftMmu, SoftPhys>,
    pub map: MapId,
    pub obj: ObjectId,
    pub addr: u64,
    pub control: PortName,
    pub id: KernelId,
    /// Messages from this kernel to the pager, in order.
    pub to_pager: VecDeque<Event>,
    /// Messages from the pager to this kernel, in order.
    pub to_kernel: VecDeque<ControlCall>,
    pub thread: Option<Access>,
    pub completed: u64,
    pub failed: u64,
    /// It unmapped the object (and terminated it).
    pub unmapped: bool,
}

pub struct World {
    pub core: Coherence,
    pub nodes: Vec<Option<Node>>,
    pub backend: BTreeMap<u64, Vec<u8>>,
    /// Every version written to the backend, per page, in order.
    pub written: BTreeMap<u64, Vec<u64>>,
    pub backend_ops: VecDeque<Action>,
    pub now: u64,
    pub next_version: u64,
    /// The last completed store's version per page (`None`: unknown since a
    /// kernel died holding it).
    pub model: BTreeMap<u64, Option<u64>>,
    pub pages: u64,
    /// Backend pages start write-locked (unlocks needed).
    pub write_locked: bool,
    pub unlocked: BTreeMap<u64, ()>,
    /// Make the next unlocks fail.
    pub fail_unlocks: u32,
    pub done_ops: Vec<hurd_pager::OpId>,
    pub violations: Vec<String>,
    /// The order in which stores completed: version → rank.
    pub rank: BTreeMap<u64, u64>,
}

pub fn version_of(data: &[u8]) -> u64 {
    u64::from_le_bytes(data[..8].try_into().expect("8 bytes"))
}

impl World {
    pub fn new(kernels: usize, pages: u64, config: Config) -> World {
        World::with_read_only(kernels, pages, config, 0)
    }

    /// The same with the first `read_only` kernels mapping the read-only
    /// port.
    pub fn with_read_only(kernels: usize, pages: u64, config: Config, read_only: usize) -> World {
        let mut w = World {
            core: Coherence::new(config),
            nodes: Vec::new(),
            backend: BTreeMap::new(),
            written: BTreeMap::new(),
            backend_ops: VecDeque::new(),
            now: 0,
            next_version: 1,
            model: (0..pages).map(|p| (p, Some(0))).collect(),
            pages,
            write_locked: false,
            unlocked: BTreeMap::new(),
            fail_unlocks: 0,
            done_ops: Vec::new(),
            violations: Vec::new(),
            rank: BTreeMap::from([(0, 0)]),
        };
        for i in 0..kernels {
            w.add_kernel(i, i < read_only);
        }
        w
    }

    fn add_kernel(&mut self, i: usize, read_only: bool) {
        let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(64));
        vm.accept_unrequested_supply = true;
        let map = vm.create_map().expect("map");
        let control = PortName(200 + i as u32);
        let (obj, _ready) = vm.create_external_object(PAGER, control).expect("object");
        vm.take_outgoing();
        let id = KernelId(i as u32);
        let mut node = Node {
            vm,
            map,
            obj,
            addr: 0,
            control,
            id,
            to_pager: VecDeque::new(),
            to_kernel: VecDeque::new(),
            thread: None,
            completed: 0,
            failed: 0,
            unmapped: false,
        };
        let out = self.core.handle(
            self.now,
            Event::Init {
                kernel: id,
                read_only,
            },
        );
        self.nodes.push(None);
        let idx = self.nodes.len() - 1;
        // Deliver ready at once, then map.
        for a in out {
            if let Action::Ready {
                may_cache,
                copy_strategy,
                ..
            } = a
            {
                node.vm
                    .handle_pager_message(
                        control,
                        ControlCall::Control(control::Call::ready {
                            may_cache,
                            copy_strategy: copy_strategy.into(),
                        }),
                    )
                    .expect("ready");
            }
        }
        node.addr = node
            .vm
            .map_object(
                map,
                0,
                self.pages * PAGE_SIZE,
                true,
                obj,
                0,
                false,
                VmProt::DEFAULT,
                VmProt::ALL,
                VmInherit::Share,
            )
            .expect("map");
        self.nodes[idx] = Some(node);
    }

    pub fn alive(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    /// Routes the core's actions.
    pub fn route(&mut self, actions: Vec<Action>) {
        for a in actions {
            let msg = match a {
                Action::Read { .. } | Action::Write { .. } | Action::Unlock { .. } => {
                    self.backend_ops.push_back(a);
                    continue;
                }
                Action::Done { op, .. } => {
                    self.done_ops.push(op);
                    continue;
                }
                Action::NotifyEvict { .. } | Action::Release { .. } => continue,
                Action::Ready {
                    may_cache,
                    copy_strategy,
                    ..
                } => ControlCall::Control(control::Call::ready {
                    may_cache,
                    copy_strategy: copy_strategy.into(),
                }),
                Action::Supply {
                    page,
                    ref data,
                    lock,
                    precious,
                    ..
                } => ControlCall::Control(control::Call::data_supply {
                    offset: page * PAGE_SIZE,
                    data: page_data(data.clone()),
                    lock_value: lock.bits(),
                    precious,
                    reply_to: reply_to(false),
                }),
                Action::DataError { page, error, .. } => {
                    ControlCall::Control(control::Call::data_error {
                        offset: page * PAGE_SIZE,
                        size: PAGE_SIZE,
                        error_value: error.code(),
                    })
                }
                Action::Lock {
                    page,
                    count,
                    should_return,
                    flush,
                    lock,
                    reply,
                    ..
                } => ControlCall::Lock(control_lock::Call::lock_request {
                    offset: page * PAGE_SIZE,
                    size: count * PAGE_SIZE,
                    should_return: should_return.into(),
                    should_flush: flush,
                    lock_value: lock.map_or(VM_PROT_NO_CHANGE, |l| l.bits()),
                    reply_to: reply_to(reply),
                }),
                Action::ChangeAttributes {
                    may_cache,
                    copy_strategy,
                    reply,
                    ..
                } => ControlCall::Control(control::Call::change_attributes {
                    may_cache,
                    copy_strategy: copy_strategy.into(),
                    reply_to: reply_to(reply),
                }),
            };
            let k = a.kernel().expect("a message has a kernel").0 as usize;
            if let Some(n) = self.nodes.get_mut(k).and_then(Option::as_mut) {
                n.to_kernel.push_back(msg);
            }
        }
    }

    fn collect(n: &mut Node) {
        for o in n.vm.take_outgoing() {
            let kernel = n.id;
            let KernelCall::Object(call) = o.call else {
                panic!("unexpected kernel message {:?}", o.call);
            };
            match call {
                memory_object::Call::data_request {
                    offset,
                    length,
                    desired_access: access,
                    ..
                } => {
                    for p in 0..length / PAGE_SIZE {
                        n.to_pager.push_back(Event::DataRequest {
                            kernel,
                            page: offset / PAGE_SIZE + p,
                            access: VmProt::from_bits_truncate(access),
                        });
                    }
                }
                memory_object::Call::data_unlock {
                    offset,
                    desired_access: access,
                    ..
                } => n.to_pager.push_back(Event::DataUnlock {
                    kernel,
                    page: offset / PAGE_SIZE,
                    access: VmProt::from_bits_truncate(access),
                }),
                memory_object::Call::data_return {
                    offset,
                    data,
                    dirty,
                    kernel_copy,
                    ..
                } => {
                    for (i, c) in data.data.chunks(PAGE).enumerate() {
                        n.to_pager.push_back(Event::DataReturn {
                            kernel,
                            page: offset / PAGE_SIZE + i as u64,
                            data: c.to_vec(),
                            dirty,
                            kernel_copy,
                        });
                    }
                }
                memory_object::Call::lock_completed { offset, length, .. } => {
                    n.to_pager.push_back(Event::LockCompleted {
                        kernel,
                        page: offset / PAGE_SIZE,
                        count: length / PAGE_SIZE,
                    })
                }
                memory_object::Call::change_completed {
                    may_cache,
                    copy_strategy,
                } => n.to_pager.push_back(Event::ChangeCompleted {
                    may_cache,
                    copy_strategy,
                }),
                memory_object::Call::terminate { .. } => {
                    n.to_pager.push_back(Event::Terminate { kernel })
                }
                other => panic!("unexpected kernel message {other:?}"),
            }
        }
    }

    pub fn handle(&mut self, ev: Event) {
        let out = self.core.handle(self.now, ev);
        self.route(out);
    }

    pub fn call(&mut self, c: Call) -> hurd_pager::OpId {
        let (op, out) = self.core.call(self.now, c);
        self.route(out);
        op
    }

    /// Delivers kernel `k`'s next message to the pager.
    pub fn deliver_to_pager(&mut self, k: usize) -> bool {
        let Some(ev) = self.nodes[k].as_mut().and_then(|n| n.to_pager.pop_front()) else {
            return false;
        };
        self.handle(ev);
        true
    }

    /// Delivers the pager's next message to kernel `k`.
    pub fn deliver_to_kernel(&mut self, k: usize) -> bool {
        let Some(n) = self.nodes[k].as_mut() else {
            return false;
        };
        let Some(m) = n.to_kernel.pop_front() else {
            return false;
        };
        if n.unmapped {
            // The object is gone; the kernel drops what still comes.
            return true;
        }
        if let ControlCall::Lock(control_lock::Call::lock_request {
            offset,
            size,
            should_return: 0,
            should_flush: true,
            ..
        }) = m
        {
            // A flush without return: what the kernel changed is gone.
            if let Some(o) = n.vm.object(n.obj) {
                let (first, last) = (offset / PAGE_SIZE, (offset + size) / PAGE_SIZE);
                for (idx, p) in o.pages.range(first..last) {
                    if matches!(p.state, PageState::Resident(_)) && !p.lock.contains(VmProt::WRITE)
                    {
                        self.model.insert(*idx, None);
                    }
                }
            }
        }
        if let Err(e) = n.vm.handle_pager_message(n.control, m.clone()) {
            self.violations
                .push(format!("kernel {k} rejected {m:?}: {e}"));
        }
        Self::collect(n);
        true
    }

    /// Completes the oldest backend operation.
    pub fn backend(&mut self) -> bool {
        let Some(a) = self.backend_ops.pop_front() else {
            return false;
        };
        let ev = match a {
            Action::Read { page } => Event::ReadDone {
                page,
                result: Ok(PageRead {
                    data: self
                        .backend
                        .get(&page)
                        .cloned()
                        .unwrap_or_else(|| vec![0; PAGE]),
                    write_lock: self.write_locked && !self.unlocked.contains_key(&page),
                }),
            },
            Action::Write { page, data } => {
                for (i, c) in data.chunks(PAGE).enumerate() {
                    let p = page + i as u64;
                    let v = version_of(c);
                    let rank = |v: &u64| self.rank.get(v).copied().unwrap_or(u64::MAX);
                    let r = rank(&v);
                    let log = self.written.entry(p).or_default();
                    if log.last().is_some_and(|last| rank(last) > r) {
                        self.violations
                            .push(format!("page {p}: version {v} written after {log:?}"));
                    }
                    log.push(v);
                    self.backend.insert(p, c.to_vec());
                }
                Event::WriteDone { result: Ok(()) }
            }
            Action::Unlock { page } => {
                let result = if self.fail_unlocks > 0 {
                    self.fail_unlocks -= 1;
                    Err(hurd_pager::PagerError::NoSpace)
                } else {
                    self.unlocked.insert(page, ());
                    Ok(())
                };
                Event::UnlockDone { page, result }
            }
            _ => unreachable!(),
        };
        self.handle(ev);
        true
    }

    pub fn advance(&mut self, d: u64) {
        self.now += d;
        self.handle(Event::Tick);
    }

    /// Starts an access on kernel `k` (if its thread is idle).
    pub fn start(&mut self, k: usize, page: u64, write: bool) -> bool {
        let page = page % self.pages;
        let version = write.then(|| {
            self.next_version += 1;
            self.next_version
        });
        let Some(n) = self.nodes[k].as_mut() else {
            return false;
        };
        if n.thread.is_some() || n.unmapped {
            return false;
        }
        n.thread = Some(Access {
            page,
            write: version,
            ticket: None,
        });
        self.run(k);
        true
    }

    /// Runs kernel `k`'s thread: retries its access if it may.
    pub fn run(&mut self, k: usize) -> bool {
        let Some(n) = self.nodes[k].as_mut() else {
            return false;
        };
        let Some(mut acc) = n.thread else {
            return false;
        };
        if let Some(t) = acc.ticket {
            match n.vm.ticket_status(&t) {
                TicketStatus::Pending => return false,
                TicketStatus::Done => {}
                TicketStatus::Failed(_) => {
                    n.thread = None;
                    n.failed += 1;
                    return true;
                }
            }
        }
        let va = n.addr + acc.page * PAGE_SIZE;
        let r = match acc.write {
            Some(v) => n.vm.store(n.map, va, &v.to_le_bytes()).map(|()| v),
            None => {
                let mut b = [0u8; 8];
                n.vm.load(n.map, va, &mut b).map(|()| u64::from_le_bytes(b))
            }
        };
        Self::collect(n);
        match r {
            Ok(v) => {
                n.thread = None;
                n.completed += 1;
                let page = acc.page;
                match (
                    acc.write.is_some(),
                    self.model.get(&page).copied().flatten(),
                ) {
                    (true, _) => {
                        self.model.insert(page, Some(v));
                        let r = self.rank.len() as u64;
                        self.rank.insert(v, r);
                    }
                    (false, Some(m)) if m != v => self.violations.push(format!(
                        "kernel {k} read version {v} of page {page}; the last write was {m}"
                    )),
                    (false, None) => {
                        self.model.insert(page, Some(v));
                    }
                    _ => {}
                }
                true
            }
            Err(Stall::Wait(t)) => {
                acc.ticket = Some(t);
                n.thread = Some(acc);
                true
            }
            Err(Stall::Error(_)) => {
                n.thread = None;
                n.failed += 1;
                true
            }
        }
    }

    /// Kernel `k` unmaps the object: dirty pages go back, then terminate.
    pub fn unmap(&mut self, k: usize) {
        let pages = self.pages;
        if let Some(n) = self.nodes[k].as_mut()
            && n.thread.is_none()
            && !n.unmapped
        {
            n.vm.deallocate(n.map, n.addr, pages * PAGE_SIZE)
                .expect("deallocate");
            n.unmapped = true;
            Self::collect(n);
        }
    }

    /// Pages out page `page` of kernel `k`.
    pub fn pageout(&mut self, k: usize, page: u64) {
        let page = page % self.pages;
        if let Some(n) = self.nodes[k].as_mut().filter(|n| !n.unmapped) {
            let _ = n.vm.pageout(n.obj, page * PAGE_SIZE);
            Self::collect(n);
        }
    }

    /// Kernel `k` dies: its queues vanish; the pager hears of it.
    pub fn kill(&mut self, k: usize) {
        // What it sent before dying still arrives.
        while self.deliver_to_pager(k) {}
        let Some(n) = self.nodes[k].take() else {
            return;
        };
        // Writes it held and never returned are lost: the model forgets
        // what it knew of those pages.
        if let Some(o) = n.vm.object(n.obj) {
            for (idx, p) in &o.pages {
                if matches!(p.state, PageState::Resident(_)) && !p.lock.contains(VmProt::WRITE) {
                    self.model.insert(*idx, None);
                }
            }
        }
        if let Some(Access {
            write: Some(_),
            page,
            ..
        }) = n.thread
        {
            // A store that may or may not have happened.
            self.model.insert(page, None);
        }
        self.handle(Event::KernelDied { kernel: n.id });
    }

    /// Invariant 1: write access is exclusive.
    pub fn check_exclusive(&mut self) {
        for page in 0..self.pages {
            let mut holders = 0;
            let mut writers = 0;
            for n in self.nodes.iter().flatten() {
                if let Some(p) = n.vm.object(n.obj).and_then(|o| o.pages.get(&page))
                    && matches!(p.state, PageState::Resident(_))
                {
                    holders += 1;
                    if !p.lock.contains(VmProt::WRITE) {
                        writers += 1;
                    }
                }
            }
            if writers > 0 && holders > 1 {
                self.violations.push(format!(
                    "page {page}: {writers} writer(s) among {holders} holders"
                ));
            }
        }
    }

    /// Runs everything to completion: deliveries, backend work, threads,
    /// time. Returns the steps taken.
    pub fn settle(&mut self) -> usize {
        let mut steps = 0;
        for _ in 0..20_000 {
            let mut moved = false;
            for k in 0..self.nodes.len() {
                while self.deliver_to_kernel(k) {
                    moved = true;
                }
                while self.deliver_to_pager(k) {
                    moved = true;
                }
                moved |= self.run(k);
            }
            while self.backend() {
                moved = true;
            }
            if !moved {
                match self.core.next_deadline() {
                    Some(t) => {
                        self.now = self.now.max(t);
                        self.handle(Event::Tick);
                    }
                    None => break,
                }
            }
            self.check_exclusive();
            steps += 1;
        }
        steps
    }

    /// Invariants 4–6 once settled: every access finished (so every request
    /// and unlock was answered), no outstanding lock, nothing pending.
    pub fn check_settled(&mut self) {
        for (k, n) in self.nodes.iter().enumerate() {
            let Some(n) = n else { continue };
            if let Some(a) = n.thread {
                self.violations
                    .push(format!("kernel {k}: access {a:?} never finished"));
            }
            if let Some(o) = n.vm.object(n.obj) {
                for (idx, p) in &o.pages {
                    if matches!(p.state, PageState::Busy(_)) || p.unlock.is_some() {
                        self.violations
                            .push(format!("kernel {k}: page {idx} still waits for the pager"));
                    }
                }
            }
        }
        if self.core.outstanding_locks() != 0 {
            self.violations.push(format!(
                "{} lock completions never arrived",
                self.core.outstanding_locks()
            ));
        }
        if !self.core.is_quiescent() {
            self.violations.push("pager not quiescent".into());
        }
    }
}
