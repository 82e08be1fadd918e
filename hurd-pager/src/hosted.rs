//! The hosted worker runtime (feature `std`): pagers served by threads of a
//! task on hurd-ipc's hosted runtime.
//!
//! A [`PagerServer`] is libpager's port bucket with its workers: one port
//! set holding the memory object ports of any number of [`Pager`]s (and
//! their read-only ports), served by two threads:
//!
//! - the **receiver** takes every message in arrival order, feeds it to its
//!   pager's [`Coherence`] core and queues the resulting actions; it also
//!   delivers dead-name notifications of control ports (a dead kernel) and
//!   the ticks of expiring holds. It sends the resulting messages itself
//!   when that needs no waiting, and never blocks on a kernel;
//! - the **executor** calls the [`Backend`] (reads, writes, unlocks), whose
//!   completions go back to the core, and carries out the sends the
//!   receiver could not make without waiting.
//!
//! Sends leave in the order the cores decided them, whichever thread makes
//! them: one thread at a time drains the send queue.
//!
//! Handling messages in one thread, in order, is what makes each kernel's
//! `lock_completed` follow the `data_return`s before it; sending from
//! another keeps a slow kernel from stopping the pager's receiving, so a
//! kernel blocked sending to the pager always gets unblocked.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hurd_ipc::hosted::Task;
use hurd_ipc::user::{PortSet, ReceiveRight};
use hurd_ipc::{
    Disposition, KernReturn, MachMsgError, Message, MsgOptions, MsgReturn, Notification,
    NotifyKind, PortName, UserIpc,
};
use hurd_vm::protocol::memory_object;
use hurd_vm::{CopyStrategy, PAGE_SIZE};

use crate::action::Action;
use crate::backend::Backend;
use crate::coherence::{Coherence, Stats};
use crate::config::Config;
use crate::deaths::Deaths;
use crate::error::PagerError;
use crate::event::{Call, Event, PageRange};
use crate::kernel::KernelId;
use crate::ops::OpId;
use crate::protocol::{self, Arrival, KernelTable};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How often a waiting library call looks whether the server stopped.
const POLL: Duration = Duration::from_millis(100);

/// How long the runtime waits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Timeouts {
    /// A send to a kernel whose queue stays full gives up after this.
    pub send: Duration,
    /// A library call that waits gives up after this
    /// ([`PagerError::TimedOut`]); `Duration::MAX` never gives up.
    pub call: Duration,
}

impl Default for Timeouts {
    /// 30 seconds each.
    fn default() -> Self {
        Timeouts {
            send: Duration::from_secs(30),
            call: Duration::from_secs(30),
        }
    }
}

struct PagerState {
    core: Coherence,
    kernels: KernelTable,
    /// The port each kernel mapped (where its replies go).
    home: HashMap<KernelId, PortName>,
}

struct PagerInner {
    port: PortName,
    ro_port: Mutex<Option<PortName>>,
    state: Mutex<PagerState>,
    backend: Mutex<Box<dyn Backend + Send>>,
    done: Mutex<HashMap<OpId, Result<(), PagerError>>>,
    done_cv: Condvar,
    /// The core's next deadline (`u64::MAX`: none).
    deadline: AtomicU64,
}

/// Actions waiting to be carried out.
#[derive(Default)]
struct Queues {
    /// Messages to kernels (and call completions, kernel releases), in the
    /// order the cores decided them.
    sends: VecDeque<(Arc<PagerInner>, Action)>,
    /// Someone is carrying out `sends`.
    sending: bool,
    /// Backend calls.
    work: VecDeque<(Arc<PagerInner>, Action)>,
}

impl Queues {
    fn push(&mut self, p: &Arc<PagerInner>, a: Action) {
        match a {
            Action::Read { .. }
            | Action::Write { .. }
            | Action::Unlock { .. }
            | Action::NotifyEvict { .. } => self.work.push_back((p.clone(), a)),
            _ => self.sends.push_back((p.clone(), a)),
        }
    }
}

struct ServerInner {
    task: Task,
    deaths: Mutex<Deaths<(Arc<PagerInner>, KernelId)>>,
    set: PortName,
    notify: PortName,
    pagers: Mutex<HashMap<PortName, (Arc<PagerInner>, bool)>>,
    controls: Mutex<HashMap<PortName, Arc<PagerInner>>>,
    queue: Mutex<Queues>,
    queue_cv: Condvar,
    stop: AtomicBool,
    epoch: Instant,
    timeouts: Timeouts,
}

impl ServerInner {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Feeds events to a pager's core and queues what it says, in order.
    fn feed(&self, p: &Arc<PagerInner>, st: &mut PagerState, events: Vec<Event>) {
        let now = self.now();
        let mut q = lock(&self.queue);
        for ev in events {
            for a in st.core.handle(now, ev) {
                q.push(p, a);
            }
        }
        p.deadline.store(
            st.core.next_deadline().unwrap_or(u64::MAX),
            Ordering::Release,
        );
        drop(q);
        self.queue_cv.notify_one();
    }

    fn event(&self, p: &Arc<PagerInner>, ev: Event) {
        let mut st = lock(&p.state);
        self.feed(p, &mut st, vec![ev]);
    }

    fn call(&self, p: &Arc<PagerInner>, call: Call) -> OpId {
        let mut st = lock(&p.state);
        let (op, actions) = st.core.call(self.now(), call);
        let mut q = lock(&self.queue);
        for a in actions {
            q.push(p, a);
        }
        drop(q);
        drop(st);
        self.queue_cv.notify_one();
        self.pump(false);
        op
    }

    /// Carries out the queued sends in order, unless someone else is. With
    /// `blocking` false (the receiver, a caller's thread) a send that would
    /// wait for queue room is left, with the rest, to the executor.
    fn pump(&self, blocking: bool) {
        {
            let mut q = lock(&self.queue);
            if q.sending || q.sends.is_empty() {
                return;
            }
            q.sending = true;
        }
        loop {
            let next = {
                let mut q = lock(&self.queue);
                match q.sends.pop_front() {
                    Some(x) => x,
                    None => {
                        q.sending = false;
                        return;
                    }
                }
            };
            if let Err(item) = self.execute_send(next, blocking) {
                let mut q = lock(&self.queue);
                q.sends.push_front(item);
                q.sending = false;
                drop(q);
                self.queue_cv.notify_all();
                return;
            }
        }
    }

    // ---- the receiver ----

    fn receive_loop(&self) {
        loop {
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            let now = self.now();
            let next = lock(&self.pagers)
                .values()
                .map(|(p, _)| p.deadline.load(Ordering::Acquire))
                .min()
                .unwrap_or(u64::MAX);
            let wait =
                Duration::from_nanos(next.saturating_sub(now)).min(Duration::from_millis(50));
            let opts = MsgOptions {
                rcv_timeout: Some(wait),
                ..MsgOptions::default()
            };
            match self.task.mach_msg(None, Some(self.set), &opts) {
                Ok(Some(msg)) => self.dispatch(msg),
                Ok(None) => {}
                Err(MachMsgError::Receive(e)) if e.code == MsgReturn::RcvTimedOut => {}
                Err(_) => return,
            }
            self.tick();
            self.pump(false);
        }
    }

    fn tick(&self) {
        let now = self.now();
        let due: Vec<Arc<PagerInner>> = {
            let mut seen: Vec<Arc<PagerInner>> = Vec::new();
            for (p, _) in lock(&self.pagers).values() {
                if p.deadline.load(Ordering::Acquire) <= now
                    && !seen.iter().any(|q| Arc::ptr_eq(q, p))
                {
                    seen.push(p.clone());
                }
            }
            seen
        };
        for p in due {
            self.event(&p, Event::Tick);
        }
    }

    fn dispatch(&self, msg: Message) {
        let port = msg.header.local;
        if port == self.notify {
            if let Some(Notification::DeadName(name)) = Notification::parse(&msg) {
                let p = lock(&self.controls).get(&name).cloned();
                match p {
                    Some(p) => {
                        let k = lock(&p.state).kernels.kernel(name);
                        if let Some(kernel) = k {
                            log::info!("pager: kernel {kernel} died");
                            self.died(p, kernel);
                        }
                    }
                    // Already forgotten: drop the dead name's reference,
                    // unless the name has been reused since.
                    None => {
                        if self.task.port_type(name) == Ok(hurd_ipc::PortType::DEAD_NAME) {
                            let _ = self.task.port_deallocate(name);
                        }
                    }
                }
            }
            return;
        }
        let entry = lock(&self.pagers).get(&port).cloned();
        let Some((p, read_only)) = entry else {
            self.task.destroy_message(msg);
            return;
        };
        self.on_pager_port(&p, port, read_only, msg);
        self.count_down(port);
    }

    fn on_pager_port(&self, p: &Arc<PagerInner>, port: PortName, read_only: bool, msg: Message) {
        if let Some(call) = protocol::decode(&self.task, msg) {
            self.incoming(p, port, read_only, call);
        }
    }

    /// A kernel died. A port set is not served in global arrival order, so
    /// what the kernel sent before dying (say, the data_return of a dirty
    /// page) may still be queued: the death is handled after the messages
    /// queued now on the pager's ports.
    fn died(&self, p: Arc<PagerInner>, kernel: KernelId) {
        let ports = core::iter::once(p.port).chain(*lock(&p.ro_port));
        let now = lock(&self.deaths).died(&self.task, ports, (p.clone(), kernel));
        if let Some((p, kernel)) = now {
            self.event(&p, Event::KernelDied { kernel });
        }
    }

    fn count_down(&self, port: PortName) {
        let due = lock(&self.deaths).handled(port);
        for (p, kernel) in due {
            self.event(&p, Event::KernelDied { kernel });
        }
    }

    fn incoming(
        &self,
        p: &Arc<PagerInner>,
        port: PortName,
        read_only: bool,
        call: memory_object::Call,
    ) {
        let task = &self.task;
        let mut st = lock(&p.state);
        match protocol::arrival(task, &mut st.kernels, call) {
            Arrival::NewKernel { kernel, control } => {
                st.home.insert(kernel, port);
                lock(&self.controls).insert(control, p.clone());
                let watched = task
                    .request_notification(
                        control,
                        NotifyKind::DeadName,
                        0,
                        self.notify,
                        Disposition::MakeSendOnce,
                    )
                    .is_ok();
                let mut events = vec![Event::Init { kernel, read_only }];
                if !watched {
                    events.push(Event::KernelDied { kernel });
                }
                self.feed(p, &mut st, events);
            }
            Arrival::Events(events) => self.feed(p, &mut st, events),
            Arrival::Nothing => {}
        }
    }

    // ---- the executor ----

    fn execute_loop(&self) {
        loop {
            let next = {
                let mut q = lock(&self.queue);
                loop {
                    if !q.sending && !q.sends.is_empty() {
                        break None;
                    }
                    if let Some(x) = q.work.pop_front() {
                        break Some(x);
                    }
                    if self.stop.load(Ordering::Acquire) {
                        return;
                    }
                    q = self
                        .queue_cv
                        .wait_timeout(q, Duration::from_millis(100))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            };
            match next {
                None => self.pump(true),
                Some((p, action)) => self.execute(&p, action),
            }
        }
    }

    fn execute(&self, p: &Arc<PagerInner>, action: Action) {
        let offset = |page: u64| page * PAGE_SIZE;
        match action {
            Action::Read { page } => {
                let result = lock(&p.backend).read_page(offset(page));
                self.event(p, Event::ReadDone { page, result });
            }
            Action::Write { page, data } => {
                let result =
                    crate::backend::write_all(&mut **lock(&p.backend), offset(page), &data);
                self.event(p, Event::WriteDone { result });
            }
            Action::Unlock { page } => {
                let result = lock(&p.backend).unlock_page(offset(page));
                self.event(p, Event::UnlockDone { page, result });
            }
            Action::NotifyEvict { page } => lock(&p.backend).notify_evict(offset(page)),
            _ => {}
        }
    }

    /// Carries out one action of the send queue; hands it back if it would
    /// have to wait and may not.
    fn execute_send(
        &self,
        (p, action): (Arc<PagerInner>, Action),
        blocking: bool,
    ) -> Result<(), (Arc<PagerInner>, Action)> {
        match action {
            Action::Done { op, result } => {
                lock(&p.done).insert(op, result);
                p.done_cv.notify_all();
            }
            Action::Release { kernel } => {
                let control = {
                    let mut st = lock(&p.state);
                    st.home.remove(&kernel);
                    st.kernels.remove(kernel)
                };
                if let Some(c) = control {
                    lock(&self.controls).remove(&c);
                    let _ = self.task.port_destroy(c);
                }
            }
            message => {
                let Some(kernel) = message.kernel() else {
                    return Ok(());
                };
                let (control, home) = {
                    let st = lock(&p.state);
                    (st.kernels.control(kernel), st.home.get(&kernel).copied())
                };
                let Some(control) = control else {
                    return Ok(());
                };
                let home = home.unwrap_or(p.port);
                let timeout = if blocking {
                    self.timeouts.send
                } else {
                    Duration::ZERO
                };
                let retry = (!blocking).then(|| message.clone());
                match protocol::send(&self.task, control, home, message, timeout) {
                    Ok(()) => {}
                    Err(hurd_ipc::Error::Msg(MsgReturn::SendTimedOut)) if !blocking => {
                        if let Some(m) = retry {
                            return Err((p, m));
                        }
                    }
                    Err(e) => {
                        log::warn!("pager: cannot send to {kernel}: {e}");
                        if matches!(
                            e,
                            hurd_ipc::Error::Msg(MsgReturn::SendInvalidDest)
                                | hurd_ipc::Error::Msg(MsgReturn::SendTimedOut)
                        ) {
                            self.event(&p, Event::KernelDied { kernel });
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A port bucket with its worker threads: serves the memory object ports of
/// any number of [`Pager`]s. Dropping it stops the threads and destroys the
/// ports.
pub struct PagerServer {
    inner: Arc<ServerInner>,
    threads: Vec<JoinHandle<()>>,
}

impl PagerServer {
    /// A server in `task` (whose space holds the pagers' ports), with the
    /// default [`Timeouts`].
    ///
    /// # Errors
    ///
    /// As [`PagerServer::with_timeouts`].
    pub fn new(task: &Task) -> Result<PagerServer, KernReturn> {
        PagerServer::with_timeouts(task, Timeouts::default())
    }

    /// The same with other timeouts.
    ///
    /// # Errors
    ///
    /// What allocating the set and notification port returns, or
    /// `KERN_RESOURCE_SHORTAGE` when a thread cannot start (nothing is left
    /// allocated or running).
    pub fn with_timeouts(task: &Task, timeouts: Timeouts) -> Result<PagerServer, KernReturn> {
        let (set, notify) = {
            let set = PortSet::allocate(task)?;
            let notify = ReceiveRight::allocate(task)?;
            set.insert(notify.name())?;
            (set.into_raw(), notify.into_raw())
        };
        let inner = Arc::new(ServerInner {
            task: task.clone(),
            deaths: Mutex::new(Deaths::new()),
            set,
            notify,
            pagers: Mutex::new(HashMap::new()),
            controls: Mutex::new(HashMap::new()),
            queue: Mutex::new(Queues::default()),
            queue_cv: Condvar::new(),
            stop: AtomicBool::new(false),
            epoch: Instant::now(),
            timeouts,
        });
        // From here on, dropping the server stops what started and destroys
        // its ports.
        let mut server = PagerServer {
            inner,
            threads: Vec::new(),
        };
        for (name, run) in [
            (
                "pager-receiver",
                ServerInner::receive_loop as fn(&ServerInner),
            ),
            ("pager-executor", ServerInner::execute_loop),
        ] {
            let s = server.inner.clone();
            let t = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || run(&s))
                .map_err(|_| KernReturn::ResourceShortage)?;
            server.threads.push(t);
        }
        Ok(server)
    }

    /// `pager_create`: a pager for `backend` with its own memory object port
    /// (a receive right in the server's task; hand out send rights to it,
    /// e.g. from `io_map`).
    ///
    /// # Errors
    ///
    /// What allocating the port or putting it in the set returns.
    pub fn create(
        &self,
        backend: impl Backend + Send + 'static,
        config: Config,
    ) -> Result<Pager, KernReturn> {
        let task = &self.inner.task;
        let port = ReceiveRight::allocate(task)?;
        let _ = task.port_set_qlimit(port.name(), hurd_ipc::QLIMIT_MAX);
        task.port_move_member(port.name(), self.inner.set)?;
        // The server's table owns it from here (destroyed with the server).
        let port = port.into_raw();
        let inner = Arc::new(PagerInner {
            port,
            ro_port: Mutex::new(None),
            state: Mutex::new(PagerState {
                core: Coherence::new(config),
                kernels: KernelTable::new(),
                home: HashMap::new(),
            }),
            backend: Mutex::new(Box::new(backend)),
            done: Mutex::new(HashMap::new()),
            done_cv: Condvar::new(),
            deadline: AtomicU64::new(u64::MAX),
        });
        lock(&self.inner.pagers).insert(port, (inner.clone(), false));
        Ok(Pager {
            inner,
            server: self.inner.clone(),
        })
    }

    /// The task the server's ports live in.
    pub fn task(&self) -> &Task {
        &self.inner.task
    }
}

impl Drop for PagerServer {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Release);
        let task = &self.inner.task;
        let ports: Vec<PortName> = lock(&self.inner.pagers).keys().copied().collect();
        for p in ports {
            let _ = task.port_destroy(p);
        }
        let _ = task.port_destroy(self.inner.set);
        let _ = task.port_destroy(self.inner.notify);
        self.inner.queue_cv.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A pager: one memory object served by a [`PagerServer`], with libpager's
/// calls. Clones are handles to the same pager.
#[derive(Clone)]
pub struct Pager {
    inner: Arc<PagerInner>,
    server: Arc<ServerInner>,
}

impl Pager {
    /// The memory object port (`pager_get_port`): a receive right in the
    /// server's task. Give kernels send rights made from it.
    pub fn port(&self) -> PortName {
        self.inner.port
    }

    /// Makes a send right to the memory object port in `to`'s space
    /// (hosted convenience) and returns its name there.
    ///
    /// # Errors
    ///
    /// What extracting the right into `to` returns.
    pub fn send_right_for(&self, to: &Task) -> Result<PortName, KernReturn> {
        self.server
            .task
            .give_right(self.inner.port, Disposition::MakeSend, to)
    }

    /// Makes a send right to the read-only port ([`Pager::read_only_port`])
    /// in `to`'s space.
    ///
    /// # Errors
    ///
    /// As [`Pager::read_only_port`] and [`Pager::send_right_for`].
    pub fn read_only_send_right_for(&self, to: &Task) -> Result<PortName, KernReturn> {
        let port = self.read_only_port()?;
        self.server.task.give_right(port, Disposition::MakeSend, to)
    }

    /// `pager_create_ro_port`: a second memory object port for the same
    /// pages through which kernels only ever get read access (a write fault
    /// gets the page read-only; an unlock fails with `EROFS`). Made once;
    /// later calls return the same port.
    ///
    /// # Errors
    ///
    /// What allocating the port or putting it in the set returns.
    pub fn read_only_port(&self) -> Result<PortName, KernReturn> {
        let mut ro = lock(&self.inner.ro_port);
        if let Some(p) = *ro {
            return Ok(p);
        }
        let task = &self.server.task;
        let port = ReceiveRight::allocate(task)?;
        let _ = task.port_set_qlimit(port.name(), hurd_ipc::QLIMIT_MAX);
        task.port_move_member(port.name(), self.server.set)?;
        let port = port.into_raw();
        lock(&self.server.pagers).insert(port, (self.inner.clone(), true));
        *ro = Some(port);
        Ok(port)
    }

    fn whole(&self) -> PageRange {
        let size = lock(&self.inner.backend).extent();
        PageRange::new(0, size.div_ceil(PAGE_SIZE).max(1))
    }

    fn range(offset: u64, len: u64) -> Result<PageRange, PagerError> {
        let end = offset.checked_add(len).ok_or(PagerError::InvalidArgument)?;
        let first = offset / PAGE_SIZE;
        let last = end.div_ceil(PAGE_SIZE);
        if last <= first {
            return Err(PagerError::InvalidArgument);
        }
        Ok(PageRange::new(first, last - first))
    }

    fn run(&self, call: Call, wait: bool) -> Result<(), PagerError> {
        let op = self.server.call(&self.inner, call);
        // A timeout too long for the clock (`Duration::MAX`) never ends.
        let deadline = Instant::now().checked_add(self.server.timeouts.call);
        let mut done = lock(&self.inner.done);
        loop {
            if let Some(r) = done.remove(&op) {
                return r;
            }
            if !wait {
                return Ok(());
            }
            if self.server.stop.load(Ordering::Acquire) {
                // The server is gone: nothing will complete the call.
                return Err(PagerError::ShutDown);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(PagerError::TimedOut);
            }
            let left = deadline.map_or(POLL, |d| d - now);
            done = self
                .inner
                .done_cv
                .wait_timeout(done, left.min(POLL))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// `pager_sync`: kernels write back what they modified (and keep it);
    /// with `wait`, returns once it is in the backend.
    ///
    /// # Errors
    ///
    /// `ENXIO` when the pager is shut down, `ETIMEDOUT` when waiting takes
    /// longer than the call timeout, or the backend's failure to write.
    pub fn sync(&self, wait: bool) -> Result<(), PagerError> {
        self.run(Call::Sync(self.whole()), wait)
    }

    /// `pager_sync_some` for the bytes `[offset, offset + len)`.
    ///
    /// # Errors
    ///
    /// `EINVAL` for an empty or overflowing range; as [`Pager::sync`].
    pub fn sync_some(&self, offset: u64, len: u64, wait: bool) -> Result<(), PagerError> {
        self.run(Call::Sync(Self::range(offset, len)?), wait)
    }

    /// `pager_return`: kernels write back and drop every page.
    ///
    /// # Errors
    ///
    /// As [`Pager::sync`].
    pub fn return_all(&self, wait: bool) -> Result<(), PagerError> {
        self.run(Call::Return(self.whole()), wait)
    }

    /// `pager_return_some`.
    ///
    /// # Errors
    ///
    /// As [`Pager::sync_some`].
    pub fn return_some(&self, offset: u64, len: u64, wait: bool) -> Result<(), PagerError> {
        self.run(Call::Return(Self::range(offset, len)?), wait)
    }

    /// `pager_flush`: kernels drop every page *without* writing back (the
    /// backend's data changed underneath).
    ///
    /// # Errors
    ///
    /// `ENXIO` when the pager is shut down, `ETIMEDOUT` when waiting takes
    /// longer than the call timeout.
    pub fn flush(&self, wait: bool) -> Result<(), PagerError> {
        self.run(Call::Flush(self.whole()), wait)
    }

    /// `pager_flush_some`.
    ///
    /// # Errors
    ///
    /// `EINVAL` for an empty or overflowing range; as [`Pager::flush`].
    pub fn flush_some(&self, offset: u64, len: u64, wait: bool) -> Result<(), PagerError> {
        self.run(Call::Flush(Self::range(offset, len)?), wait)
    }

    /// `pager_offer_page`: makes `data` (one page) the contents of the page
    /// at `offset` and pushes it, read-only, to every kernel (kernels must
    /// accept unrequested data; others ignore it). The backend is not
    /// written: the caller already holds this data.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `offset` is unaligned or `data` is not one page; as
    /// [`Pager::flush`].
    pub fn offer_page(
        &self,
        offset: u64,
        data: Vec<u8>,
        precious: bool,
        write_lock: bool,
    ) -> Result<(), PagerError> {
        if !offset.is_multiple_of(PAGE_SIZE) {
            return Err(PagerError::InvalidArgument);
        }
        self.run(
            Call::OfferPage {
                page: offset / PAGE_SIZE,
                data,
                precious,
                write_lock,
            },
            false,
        )
    }

    /// `pager_change_attributes`: new attributes for every kernel (and for
    /// later `init`s); with `wait`, until every kernel confirmed.
    ///
    /// # Errors
    ///
    /// `ENXIO` when the pager is shut down, `ETIMEDOUT` when waiting takes
    /// longer than the call timeout.
    pub fn change_attributes(
        &self,
        may_cache: bool,
        copy_strategy: CopyStrategy,
        wait: bool,
    ) -> Result<(), PagerError> {
        self.run(
            Call::ChangeAttributes {
                may_cache,
                copy_strategy,
            },
            wait,
        )
    }

    /// `pager_shutdown`: every kernel returns its pages (written back), new
    /// requests fail with `ENXIO`; then the pager's ports are destroyed, so
    /// kernels see it die.
    ///
    /// # Errors
    ///
    /// `ETIMEDOUT` when kernels do not return their pages in time, or the
    /// backend's failure to write them.
    pub fn shutdown(&self) -> Result<(), PagerError> {
        let r = self.run(Call::Shutdown(self.whole()), true);
        let mut ports = vec![self.inner.port];
        ports.extend(*lock(&self.inner.ro_port));
        for p in ports {
            lock(&self.server.pagers).remove(&p);
            let _ = self.server.task.port_destroy(p);
        }
        r
    }

    /// The pager's counters.
    pub fn stats(&self) -> Stats {
        lock(&self.inner.state).core.stats()
    }

    /// How many kernels map the object.
    pub fn kernels(&self) -> usize {
        lock(&self.inner.state).core.kernels().len()
    }

    /// The last write error of the page at `offset` (`pager_get_error`).
    pub fn page_error(&self, offset: u64) -> Option<PagerError> {
        lock(&self.inner.state).core.page_error(offset / PAGE_SIZE)
    }

    /// Runs `f` on the backend (while no backend call runs).
    pub fn with_backend<R>(&self, f: impl FnOnce(&mut dyn Backend) -> R) -> R {
        let mut b = lock(&self.inner.backend);
        f(&mut **b)
    }

    /// Runs `f` on the coherence core (inspection).
    pub fn with_core<R>(&self, f: impl FnOnce(&Coherence) -> R) -> R {
        f(&lock(&self.inner.state).core)
    }
}
