//! The hosted runtime: an in-process kernel where tasks are handles and threads
//! block in receive (feature `std`).
//!
//! A [`Runtime`] owns one [`IpcKernel`] behind a mutex. Each [`Task`] owns an IPC
//! space in it and implements [`UserIpc`], so a server written against that trait
//! runs here unchanged. When the last handle of a task is dropped, or
//! [`Task::terminate`] is called, or a thread started with [`Runtime::spawn`]
//! returns or panics, the task's space is destroyed: its receive rights die, its
//! send rights are released, and every notification fires as on a real kernel.
//!
//! ```
//! use hurd_ipc::hosted::Runtime;
//! use hurd_ipc::{Disposition, Message, RightType, UserIpc};
//!
//! let rt = Runtime::new();
//! let server = rt.task();
//! let client = rt.task();
//! let port = server.port_allocate(RightType::Receive).unwrap();
//! let send = server.give_right(port, Disposition::MakeSend, &client).unwrap();
//! client.send(Message::new(7, send, Disposition::CopySend)).unwrap();
//! assert_eq!(server.receive(port).unwrap().header.id, 7);
//! ```

#[cfg(not(loom))]
mod faulty;
mod parker;
mod sync;

#[cfg(not(loom))]
pub use faulty::FaultyTask;

use std::time::{Duration, Instant};

use arrayvec::ArrayVec;
use hashbrown::HashMap;

use self::parker::{Parker, Wake};
use self::sync::{Arc, AtomicBool, AtomicU64, Mutex, Ordering, lock};
use crate::kernel::Delivery;
use crate::user::{MachMsgError, MsgOptions, UserIpc};
use crate::{
    Disposition, IpcKernel, KernReturn, Message, MsgReturn, NotifyKind, PortId, PortName,
    PortStatus, PortType, RecvError, RightType, SendError, SpaceId, WaiterToken,
};

struct State {
    kernel: IpcKernel,
    parkers: HashMap<WaiterToken, (SpaceId, Arc<Parker>)>,
    wake_buf: Vec<WaiterToken>,
    delivery_buf: Vec<Delivery>,
    next_token: WaiterToken,
}

impl State {
    /// One receive attempt; when it must wait, registers a waiter (and makes the
    /// thread's parker if it has none yet).
    fn try_receive(
        &mut self,
        space: SpaceId,
        name: PortName,
        opts: &MsgOptions,
        poll: bool,
        parker: &mut Option<Arc<Parker>>,
    ) -> (Result<Message, RecvError>, Option<WaiterToken>) {
        let token = (!poll).then(|| self.token());
        let r = self.kernel.receive(space, name, opts.rcv, token);
        if let (Err(e), Some(t)) = (&r, token)
            && e.code == MsgReturn::RcvTimedOut
        {
            let p = parker.get_or_insert_with(Parker::for_current_thread);
            self.parkers.insert(t, (space, p.clone()));
        }
        (r, token)
    }

    /// A fresh waiter token (counted under the lock, so the two sides of an RPC
    /// do not contend for a shared counter).
    fn token(&mut self) -> WaiterToken {
        self.next_token += 1;
        self.next_token
    }
}

struct Shared {
    state: Mutex<State>,
    /// Task ids under loom (see [`next_task_id`]).
    #[cfg_attr(not(loom), allow(dead_code))]
    next_task: AtomicU64,
}

impl Shared {
    /// Runs `f` on the kernel under the lock, then wakes the threads it released.
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut woken: ArrayVec<Arc<Parker>, 4> = ArrayVec::new();
        let mut more: Vec<Arc<Parker>> = Vec::new();
        let r = {
            let mut guard = lock(&self.state);
            let st = &mut *guard;
            let r = f(st);
            if !st.kernel.has_wakeups_or_deliveries() {
                return r;
            }
            // Messages received for waiting threads go into their parkers while
            // the lock is held, so a thread that gives up waiting (and takes the
            // lock to say so) always finds what was delivered to it.
            st.kernel.take_deliveries(&mut st.delivery_buf);
            for (t, msg) in st.delivery_buf.drain(..) {
                match st.parkers.get(&t) {
                    Some((_, p)) => p.deliver(msg),
                    None => log::warn!("hosted: hand-off to unknown waiter {t}"),
                }
            }
            st.kernel.take_wakeups(&mut st.wake_buf);
            for t in st.wake_buf.drain(..) {
                if let Some((_, p)) = st.parkers.remove(&t)
                    && let Err(e) = woken.try_push(p)
                {
                    more.push(e.element());
                }
            }
            r
        };
        for p in woken.iter().chain(more.iter()) {
            p.unpark();
        }
        r
    }
}

/// An in-process kernel: the IPC kernel plus the threads blocked in it.
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

impl Runtime {
    /// A runtime for node 0.
    pub fn new() -> Runtime {
        Runtime::with_node(0)
    }

    /// A runtime whose ports carry `node` in their [`PortId`]s (for clusters of
    /// runtimes joined by netmsg).
    pub fn with_node(node: u16) -> Runtime {
        Runtime {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    kernel: {
                        let mut k = IpcKernel::new(node);
                        k.set_direct_handoff(true);
                        k
                    },
                    delivery_buf: Vec::new(),
                    parkers: HashMap::new(),
                    wake_buf: Vec::new(),
                    next_token: 0,
                }),
                next_task: AtomicU64::new(1),
            }),
        }
    }

    /// Creates a task with an empty IPC space.
    pub fn task(&self) -> Task {
        let space = self.shared.with(|st| st.kernel.create_space());
        Task {
            inner: Arc::new(TaskInner {
                shared: self.shared.clone(),
                space,
                id: next_task_id(&self.shared),
                terminated: AtomicBool::new(false),
            }),
        }
    }

    /// Runs `f` on the kernel itself, under its lock: for inspection in tests and
    /// tools (port counts, a space's names), not for servers.
    pub fn with_kernel<R>(&self, f: impl FnOnce(&mut IpcKernel) -> R) -> R {
        self.shared.with(|st| f(&mut st.kernel))
    }

    /// Starts a thread running `f` as a new task. When `f` returns or panics the
    /// task is terminated, so its rights die as a real task's would.
    ///
    /// # Errors
    ///
    /// What starting the thread returns.
    #[cfg(not(loom))]
    pub fn spawn<F, R>(&self, name: &str, f: F) -> std::io::Result<std::thread::JoinHandle<R>>
    where
        F: FnOnce(Task) -> R + Send + 'static,
        R: Send + 'static,
    {
        let task = self.task();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let guard = TerminateOnDrop(task.clone());
                let r = f(task);
                drop(guard);
                r
            })
    }
}

/// A task id. Ids key the per-thread reply-port caches, so they are unique in
/// the process, not only in one runtime: several runtimes (nodes of a cluster)
/// may be used from one thread.
fn next_task_id(shared: &Shared) -> u64 {
    #[cfg(not(loom))]
    {
        let _ = shared;
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(loom)]
    {
        shared.next_task.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(not(loom))]
struct TerminateOnDrop(Task);

#[cfg(not(loom))]
impl Drop for TerminateOnDrop {
    fn drop(&mut self) {
        self.0.terminate();
    }
}

struct TaskInner {
    shared: Arc<Shared>,
    space: SpaceId,
    /// Keys this task's cached reply ports (not kept under loom).
    #[cfg_attr(loom, allow(dead_code))]
    id: u64,
    terminated: AtomicBool,
}

impl Drop for TaskInner {
    fn drop(&mut self) {
        let space = self.space;
        self.shared.with(|st| st.kernel.destroy_space(space));
    }
}

/// A task in a hosted [`Runtime`]: an IPC space and the threads using it.
/// Cloning gives another handle to the same task (for another thread).
#[derive(Clone)]
pub struct Task {
    inner: Arc<TaskInner>,
}

enum Resume {
    Retry,
    TimedOut,
    Interrupted,
}

impl Task {
    /// The runtime this task lives in: more tasks of it can be made from
    /// there.
    pub fn runtime(&self) -> Runtime {
        Runtime {
            shared: self.inner.shared.clone(),
        }
    }

    /// The task's IPC space in the runtime's kernel.
    pub fn space(&self) -> SpaceId {
        self.inner.space
    }

    /// Whether [`Task::terminate`] was called.
    pub fn is_terminated(&self) -> bool {
        self.inner.terminated.load(Ordering::Acquire)
    }

    /// Ends the task: destroys its space (its rights die, notifications fire) and
    /// makes every thread blocked on its behalf return. Later calls fail with
    /// `KERN_INVALID_TASK` or the matching message error.
    pub fn terminate(&self) {
        self.inner.terminated.store(true, Ordering::Release);
        let space = self.inner.space;
        self.inner.shared.with(|st| {
            st.kernel.destroy_space(space);
            for (s, p) in st.parkers.values() {
                if *s == space {
                    p.interrupt();
                }
            }
        });
    }

    /// Interrupts every thread of this task blocked in `mach_msg` (like
    /// `thread_abort`): those that asked for it (`send_interrupt`,
    /// `rcv_interrupt`) return an interrupted error, the others go on waiting.
    pub fn interrupt(&self) {
        let space = self.inner.space;
        self.inner.shared.with(|st| {
            for (s, p) in st.parkers.values() {
                if *s == space {
                    p.interrupt();
                }
            }
        });
    }

    /// Moves or copies the right `name` gives with `disp` into another task's
    /// space, returning its name there (`mach_port_extract_right` run by the
    /// receiving side). This is how a parent hands a child its first ports.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME` or `KERN_INVALID_RIGHT` for `name` and `disp`,
    /// `KERN_NO_SPACE` in `to`, `KERN_INVALID_TASK` when either task has ended.
    pub fn give_right(
        &self,
        name: PortName,
        disp: Disposition,
        to: &Task,
    ) -> Result<PortName, KernReturn> {
        let (from, to) = (self.inner.space, to.inner.space);
        self.with(|k| k.port_extract_right(from, name, disp, to).map(|(n, _)| n))
    }

    /// Inserts the right `right` (from this task, with `disp`) into `target`'s
    /// space under `name` (`mach_port_insert_right` on another task).
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_NAME` or `KERN_INVALID_RIGHT` for `right` and `disp`,
    /// `KERN_NAME_EXISTS` or `KERN_RIGHT_EXISTS` in `target`, `KERN_INVALID_TASK`
    /// when either task has ended.
    pub fn insert_right_into(
        &self,
        target: &Task,
        name: PortName,
        right: PortName,
        disp: Disposition,
    ) -> Result<(), KernReturn> {
        let (me, them) = (self.inner.space, target.inner.space);
        self.with(|k| k.port_insert_right(them, name, me, right, disp))
    }

    fn with<R>(&self, f: impl FnOnce(&mut IpcKernel) -> R) -> R {
        self.inner.shared.with(|st| f(&mut st.kernel))
    }

    /// Waits on `parker` for the wakeup of `token`; sorts out timeouts and
    /// interrupts against a wakeup that raced with them.
    fn wait(
        &self,
        token: WaiterToken,
        parker: &Parker,
        deadline: Option<Instant>,
        interruptible: bool,
    ) -> Resume {
        loop {
            let outcome = match parker.wait(deadline) {
                Wake::Notified => {
                    parker.reset();
                    return Resume::Retry;
                }
                Wake::Interrupted if interruptible || self.is_terminated() => Resume::Interrupted,
                Wake::Interrupted => {
                    parker.clear_interrupt();
                    continue;
                }
                Wake::TimedOut => Resume::TimedOut,
            };
            let registered = self.inner.shared.with(|st| {
                st.parkers.remove(&token);
                st.kernel.cancel_wait(token)
            });
            parker.clear_interrupt();
            if registered {
                return outcome;
            }
            // Woken at the same moment: the retry consumes what woke us.
            parker.reset();
            return Resume::Retry;
        }
    }

    fn deadline(timeout: Option<Duration>) -> Option<Instant> {
        timeout.map(|d| Instant::now().checked_add(d).unwrap_or_else(far_future))
    }

    fn do_send(&self, msg: Message, opts: &MsgOptions) -> Result<(), SendError> {
        let space = self.inner.space;
        let poll = opts.send_timeout == Some(Duration::ZERO);
        let deadline = Self::deadline(opts.send_timeout);
        let mut msg = msg;
        let mut parker: Option<Arc<Parker>> = None;
        loop {
            let (r, token) = self.inner.shared.with(|st| {
                let token = (!poll).then(|| st.token());
                let r = st.kernel.send(space, msg, token);
                if let (Err(e), Some(t)) = (&r, token)
                    && e.code == MsgReturn::SendTimedOut
                {
                    // The parker is made only for a thread that must wait.
                    let p = parker.get_or_insert_with(Parker::for_current_thread);
                    st.parkers.insert(t, (space, p.clone()));
                }
                (r, token)
            });
            match r {
                Err(e) if e.code == MsgReturn::SendTimedOut && !poll => msg = e.message,
                other => return other,
            }
            let (Some(token), Some(p)) = (token, parker.as_deref()) else {
                continue;
            };
            match self.wait(token, p, deadline, opts.send_interrupt) {
                Resume::Retry => {
                    if self.is_terminated() {
                        return Err(SendError {
                            code: MsgReturn::SendInterrupted,
                            message: msg,
                        });
                    }
                }
                Resume::TimedOut => {
                    return Err(SendError {
                        code: MsgReturn::SendTimedOut,
                        message: msg,
                    });
                }
                Resume::Interrupted => {
                    return Err(SendError {
                        code: MsgReturn::SendInterrupted,
                        message: msg,
                    });
                }
            }
        }
    }

    fn do_receive(&self, name: PortName, opts: &MsgOptions) -> Result<Message, RecvError> {
        self.receive_loop(name, opts, None, &mut None)
    }

    /// Send and receive under one hold of the lock: with direct hand-off the
    /// server receives the request inside this send, and the reply is handed to
    /// this thread inside the server's, so a round trip takes the lock twice.
    fn do_rpc(
        &self,
        msg: Message,
        name: PortName,
        opts: &MsgOptions,
    ) -> Result<Message, MachMsgError> {
        let space = self.inner.space;
        let poll = opts.rcv_timeout == Some(Duration::ZERO);
        let mut parker = None;
        let first = self
            .inner
            .shared
            .with(|st| match st.kernel.send(space, msg, None) {
                Ok(()) => Ok(st.try_receive(space, name, opts, poll, &mut parker)),
                Err(e) => Err(e),
            });
        match first {
            Ok(attempt) => Ok(self.receive_loop(name, opts, Some(attempt), &mut parker)?),
            // A full queue: wait for room the usual way, then receive.
            Err(e)
                if e.code == MsgReturn::SendTimedOut
                    && opts.send_timeout != Some(Duration::ZERO) =>
            {
                self.do_send(e.message, opts)?;
                Ok(self.do_receive(name, opts)?)
            }
            Err(e) => Err(MachMsgError::Send(e)),
        }
    }

    /// Receives, blocking as `opts` allow; `first` is an attempt already made.
    fn receive_loop(
        &self,
        name: PortName,
        opts: &MsgOptions,
        first: Option<(Result<Message, RecvError>, Option<WaiterToken>)>,
        parker: &mut Option<Arc<Parker>>,
    ) -> Result<Message, RecvError> {
        let space = self.inner.space;
        let poll = opts.rcv_timeout == Some(Duration::ZERO);
        let deadline = Self::deadline(opts.rcv_timeout);
        let mut first = first;
        let mut waited = false;
        loop {
            let (r, token) = match first.take() {
                Some(attempt) => attempt,
                None => self
                    .inner
                    .shared
                    .with(|st| st.try_receive(space, name, opts, poll, parker)),
            };
            match r {
                Err(e) if e.code == MsgReturn::RcvTimedOut && !poll => {}
                // Woken, and the name no longer receives: the port died or left
                // the space while we waited, or it was moved into a port set.
                Err(e) if waited && e.code == MsgReturn::RcvInvalidName => {
                    return Err(MsgReturn::RcvPortDied.into());
                }
                Err(e) if waited && e.code == MsgReturn::RcvInSet => {
                    return Err(MsgReturn::RcvPortChanged.into());
                }
                other => return other,
            }
            waited = true;
            let (Some(token), Some(p)) = (token, parker.as_deref()) else {
                continue;
            };
            match self.wait(token, p, deadline, opts.rcv_interrupt) {
                Resume::Retry => {
                    // Received for us by the sender (direct hand-off).
                    if let Some(r) = p.take_delivery() {
                        return r;
                    }
                    if self.is_terminated() {
                        return Err(MsgReturn::RcvInterrupted.into());
                    }
                }
                Resume::TimedOut => return Err(MsgReturn::RcvTimedOut.into()),
                Resume::Interrupted => return Err(MsgReturn::RcvInterrupted.into()),
            }
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(60 * 60 * 24 * 365)
}

#[cfg(not(loom))]
std::thread_local! {
    /// Cached reply ports of this thread: (task id, name).
    static REPLY_PORTS: std::cell::RefCell<Vec<(u64, PortName)>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl UserIpc for Task {
    fn mach_msg(
        &self,
        send: Option<Message>,
        rcv: Option<PortName>,
        opts: &MsgOptions,
    ) -> Result<Option<Message>, MachMsgError> {
        match (send, rcv) {
            (Some(msg), Some(name)) => Ok(Some(self.do_rpc(msg, name, opts)?)),
            (Some(msg), None) => {
                self.do_send(msg, opts)?;
                Ok(None)
            }
            (None, Some(name)) => Ok(Some(self.do_receive(name, opts)?)),
            (None, None) => Ok(None),
        }
    }

    fn port_allocate(&self, right: RightType) -> Result<PortName, KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_allocate(space, right))
    }

    fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_deallocate(space, name))
    }

    fn port_mod_refs(
        &self,
        name: PortName,
        right: RightType,
        delta: i32,
    ) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_mod_refs(space, name, right, delta))
    }

    fn port_get_refs(&self, name: PortName, right: RightType) -> Result<u16, KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_get_refs(space, name, right))
    }

    fn port_type(&self, name: PortName) -> Result<PortType, KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_type(space, name))
    }

    fn port_destroy(&self, name: PortName) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_destroy(space, name))
    }

    fn port_insert_right(
        &self,
        name: PortName,
        right: PortName,
        disp: Disposition,
    ) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_insert_right(space, name, space, right, disp))
    }

    fn port_move_member(&self, member: PortName, pset: PortName) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_move_member(space, member, pset))
    }

    fn port_set_qlimit(&self, name: PortName, qlimit: u16) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_set_qlimit(space, name, qlimit))
    }

    fn port_get_receive_status(&self, name: PortName) -> Result<PortStatus, KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_get_receive_status(space, name))
    }

    fn request_notification(
        &self,
        name: PortName,
        kind: NotifyKind,
        sync: u32,
        notify: PortName,
        notify_disp: Disposition,
    ) -> Result<PortName, KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.request_notification(space, name, kind, sync, notify, notify_disp))
    }

    fn port_id(&self, name: PortName) -> Result<PortId, KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_id(space, name))
    }

    fn port_allocate_name(&self, right: RightType, name: PortName) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_allocate_name(space, right, name))
    }

    fn port_names(&self) -> Result<Vec<(PortName, PortType)>, KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_names(space))
    }

    fn port_set_mscount(&self, name: PortName, mscount: u32) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_set_mscount(space, name, mscount))
    }

    fn port_set_seqno(&self, name: PortName, seqno: u32) -> Result<(), KernReturn> {
        let space = self.inner.space;
        self.with(|k| k.port_set_seqno(space, name, seqno))
    }

    #[cfg(not(loom))]
    fn reply_port(&self) -> Result<PortName, KernReturn> {
        let id = self.inner.id;
        let cached = REPLY_PORTS.with(|c| {
            let mut c = c.borrow_mut();
            c.iter()
                .position(|(t, _)| *t == id)
                .map(|i| c.swap_remove(i).1)
        });
        match cached {
            Some(name) => Ok(name),
            None => self.port_allocate(RightType::Receive),
        }
    }

    #[cfg(not(loom))]
    fn release_reply_port(&self, name: PortName, ok: bool) {
        if ok {
            let id = self.inner.id;
            REPLY_PORTS.with(|c| c.borrow_mut().push((id, name)));
        } else {
            let _ = self.port_mod_refs(name, RightType::Receive, -1);
        }
    }
}
