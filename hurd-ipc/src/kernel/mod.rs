//! The IPC kernel: every port, port set and space of one node, and the Mach
//! operations on them.
//!
//! [`IpcKernel`] is plain data with `&mut self` methods: it never blocks and
//! never allocates a thread. Whoever embeds it supplies the locking and the
//! blocking: the hosted runtime ([`crate::hosted`]) wraps it in a mutex and parks
//! threads; the hurd-rs kernel calls it from its trap handlers. An operation that
//! would block (receive on an empty queue, send to a full one) fails with a timeout
//! code and, when given a [`WaiterToken`], registers it; the token is handed back
//! through [`IpcKernel::take_wakeups`] when the thread should retry.

mod copyin;
mod copyout;
mod death;
mod fast;
mod msg;
mod notify;
mod port_ops;
mod waiting;

use alloc::vec::Vec;

use crate::arena::Arena;
use crate::kmsg::PortRef;
use crate::port::{Port, WaiterToken};
use crate::port_set::{PortSet, PsetRef};
use crate::space::{Entry, Object, Space, SpaceId};
use crate::{KernReturn, PortId, PortName, PortType};

pub use fast::{FastRpc, HeaderRpc};
pub use msg::{RecvError, RecvOptions, SendError};

/// Where a waiter is registered, and for receivers, for whom they receive.
#[derive(Clone, Copy, Debug)]
enum WaitSite {
    Receive(PortRef, SpaceId, RecvOptions),
    ReceiveSet(PsetRef, SpaceId, RecvOptions),
    Send(PortRef),
}

/// Message counters of an [`IpcKernel`], for tests and tools that count the
/// messages an operation takes (deterministic, unlike timings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IpcStats {
    /// Messages accepted by `mach_msg` sends (queued, handed off, or
    /// destroyed at once because they were circular).
    pub sent: u64,
    /// Messages received by `mach_msg` receives (including by hand-off).
    pub received: u64,
    /// Notifications the kernel generated.
    pub notifications: u64,
}

/// A message received on behalf of a waiting thread, by direct hand-off.
pub type Delivery = (WaiterToken, Result<crate::Message, RecvError>);

/// All IPC objects of one node and the operations of `mach_port.defs` and
/// `mach_msg` on them.
pub struct IpcKernel {
    node: u16,
    next_serial: u64,
    pub(crate) ports: Arena<Port>,
    pub(crate) psets: Arena<PortSet>,
    pub(crate) spaces: Arena<Space>,
    wakeups: Vec<WaiterToken>,
    waiting: waiting::Waiting,
    /// Whether a message sent to a port with a waiting receiver is received for
    /// it at once (see [`IpcKernel::set_direct_handoff`]).
    handoff: bool,
    /// Hand-offs decided but not yet carried out: (waiter, its space, port, options).
    handoffs: Vec<(WaiterToken, SpaceId, PortRef, RecvOptions)>,
    delivered: Vec<Delivery>,
    stats: IpcStats,
    /// Receive rights whose destruction is pending (a work list, so destroying a
    /// port whose queue holds other receive rights never recurses).
    doomed: Vec<PortRef>,
}

impl Default for IpcKernel {
    fn default() -> Self {
        IpcKernel::new(0)
    }
}

impl IpcKernel {
    /// An empty kernel for node `node` (the top bits of every [`PortId`] it makes).
    pub fn new(node: u16) -> IpcKernel {
        IpcKernel {
            node,
            next_serial: 1,
            ports: Arena::new(),
            psets: Arena::new(),
            spaces: Arena::new(),
            wakeups: Vec::new(),
            waiting: waiting::Waiting::new(),
            handoff: false,
            handoffs: Vec::new(),
            delivered: Vec::new(),
            doomed: Vec::new(),
            stats: IpcStats::default(),
        }
    }

    /// The node number given to [`IpcKernel::new`].
    pub fn node(&self) -> u16 {
        self.node
    }

    /// Creates an empty IPC space (for a new task).
    ///
    /// # Panics
    ///
    /// If 2^32 spaces exist at once (which no machine has the memory for).
    pub fn create_space(&mut self) -> SpaceId {
        match self.spaces.insert(Space::new()) {
            Some(slot) => SpaceId(slot),
            // 2^32 live spaces need far more memory than any machine has.
            None => panic!("IPC kernel: 2^32 spaces exist"),
        }
    }

    /// Whether `space` exists.
    pub fn space_exists(&self, space: SpaceId) -> bool {
        self.spaces.get(space.0).is_some()
    }

    /// How many names `space` uses (every right, port set and dead name it
    /// holds): what a kernel checks against a task's limit before it
    /// allocates another name for the task.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_TASK` when `space` is not a live space.
    pub fn space_name_count(&self, space: SpaceId) -> Result<usize, KernReturn> {
        Ok(self.space(space)?.entries.len())
    }

    /// Number of live port objects (including dead ports still referenced by names
    /// or messages). For tests and statistics.
    pub fn port_count(&self) -> usize {
        self.ports.len()
    }

    /// The message counters since the kernel was made.
    pub fn stats(&self) -> IpcStats {
        self.stats
    }

    /// Number of live spaces.
    pub fn space_count(&self) -> usize {
        self.spaces.len()
    }

    /// Turns direct hand-off on or off (off by default).
    ///
    /// On, a message sent to a port (or port set) on which a thread waits is
    /// received for that thread within the send, as GNU Mach's `ipc_mqueue_send`
    /// does: the thread's token then appears in [`take_deliveries`](Self::take_deliveries)
    /// with the received message (or the receive error), as well as in the
    /// wakeups, and it need not enter the kernel again. Off, the thread is only
    /// woken and retries its receive.
    pub fn set_direct_handoff(&mut self, on: bool) {
        self.handoff = on;
    }

    /// Moves the messages received by direct hand-off into `out` (emptied first).
    #[inline]
    pub fn take_deliveries(&mut self, out: &mut Vec<Delivery>) {
        out.clear();
        core::mem::swap(out, &mut self.delivered);
    }

    /// Moves the tokens of waiters that should retry into `out` (emptied first).
    #[inline]
    pub fn take_wakeups(&mut self, out: &mut Vec<WaiterToken>) {
        out.clear();
        core::mem::swap(out, &mut self.wakeups);
    }

    /// Whether [`take_wakeups`](Self::take_wakeups) or
    /// [`take_deliveries`](Self::take_deliveries) has anything to hand out.
    #[inline]
    pub fn has_wakeups_or_deliveries(&self) -> bool {
        !self.wakeups.is_empty() || !self.delivered.is_empty()
    }

    /// Unregisters a waiter. Returns `false` if it was no longer registered: it was
    /// woken already (and should retry once before giving up).
    pub fn cancel_wait(&mut self, token: WaiterToken) -> bool {
        let Some(site) = self.waiting.remove(token) else {
            return false;
        };
        let list = match site {
            WaitSite::Receive(p, ..) => self.ports.get_mut(p).map(|p| &mut p.recv_waiters),
            WaitSite::Send(p) => self.ports.get_mut(p).map(|p| &mut p.send_waiters),
            WaitSite::ReceiveSet(s, ..) => self.psets.get_mut(s).map(|s| &mut s.recv_waiters),
        };
        if let Some(list) = list {
            list.retain(|&t| t != token);
        }
        true
    }

    /// Registers `token` as a receiver waiting at `site` (a port or a port
    /// set). A waiter waits in one place, as a Mach thread blocks on one
    /// message queue: a token registered already (a receive asked again
    /// before the first was answered) leaves its earlier place first, so it
    /// is in one list once and is woken once.
    fn register_receiver(&mut self, token: WaiterToken, site: WaitSite) {
        self.cancel_wait(token);
        let list = match site {
            WaitSite::Receive(p, ..) => self.ports.get_mut(p).map(|p| &mut p.recv_waiters),
            WaitSite::ReceiveSet(s, ..) => self.psets.get_mut(s).map(|s| &mut s.recv_waiters),
            WaitSite::Send(_) => None,
        };
        if let Some(list) = list {
            list.push_back(token);
            self.waiting.insert(token, site);
        }
    }

    fn wake(&mut self, token: WaiterToken) {
        self.waiting.remove(token);
        self.wakeups.push(token);
    }

    fn wake_all(&mut self, tokens: impl IntoIterator<Item = WaiterToken>) {
        for t in tokens {
            self.wake(t);
        }
    }

    fn new_port_id(&mut self) -> PortId {
        let id = PortId::new(self.node, self.next_serial);
        self.next_serial += 1;
        id
    }

    pub(crate) fn space(&self, space: SpaceId) -> Result<&Space, KernReturn> {
        self.spaces.get(space.0).ok_or(KernReturn::InvalidTask)
    }

    pub(crate) fn space_mut(&mut self, space: SpaceId) -> Result<&mut Space, KernReturn> {
        self.spaces.get_mut(space.0).ok_or(KernReturn::InvalidTask)
    }

    /// Looks a name up, first turning it into a dead name if its port died
    /// (GNU Mach's `ipc_right_check`).
    #[inline(always)]
    pub(crate) fn lookup(&mut self, space: SpaceId, name: PortName) -> Result<Entry, KernReturn> {
        let entry = *self
            .space(space)?
            .get(name)
            .ok_or(KernReturn::InvalidName)?;
        if let Object::Port(p) = entry.object {
            let alive = self.ports.get(p).is_some_and(|port| port.active);
            if !alive {
                return Ok(self.convert_to_dead_name(space, name, entry, 0));
            }
        }
        Ok(entry)
    }

    /// Turns a name whose port died into a dead name, adding `extra` references,
    /// and releases the rights the name held on the port.
    fn convert_to_dead_name(
        &mut self,
        space: SpaceId,
        name: PortName,
        entry: Entry,
        extra: u16,
    ) -> Entry {
        let rights = entry.rights();
        let urefs = if rights.contains(PortType::SEND) {
            entry.urefs
        } else {
            1
        };
        let dead = Entry {
            object: Object::None,
            bits: PortType::DEAD_NAME,
            urefs: urefs.saturating_add(extra),
        };
        if let Some(p) = entry.port() {
            if let Ok(s) = self.space_mut(space) {
                s.entries.insert(name, dead);
                s.by_port.remove(&p);
            }
            if let Some(port) = self.ports.get_mut(p) {
                if rights.contains(PortType::SEND) {
                    port.srights = port.srights.saturating_sub(1);
                }
                if rights.contains(PortType::SEND_ONCE) {
                    port.sorights = port.sorights.saturating_sub(1);
                }
            }
            // A request still registered (the port died without firing it, which
            // `kill_port` never does) fires now rather than leak its right.
            if entry.bits.contains(PortType::DNREQUEST)
                && let Some(n) = self.cancel_dnrequest(p, space, name, false)
            {
                self.notify(
                    n,
                    crate::notify::NOTIFY_DEAD_NAME,
                    alloc::vec![crate::kmsg::KItem::U32(name.0)],
                );
            }
            self.maybe_free(p);
        }
        dead
    }

    /// Frees a dead port once nothing refers to it any more.
    pub(crate) fn maybe_free(&mut self, p: PortRef) {
        if let Some(port) = self.ports.get(p)
            && !port.active
            && port.srights == 0
            && port.sorights == 0
            && port.queue.is_empty()
        {
            self.ports.remove(p);
        }
    }

    /// Runs pending receive-right destructions and hand-offs to completion.
    #[inline]
    pub(crate) fn settle(&mut self) {
        if !self.doomed.is_empty() || !self.handoffs.is_empty() {
            self.settle_pending();
        }
    }

    /// [`settle`](Self::settle) when there is work to do.
    fn settle_pending(&mut self) {
        loop {
            if let Some(p) = self.doomed.pop() {
                self.kill_port(p);
                continue;
            }
            if self.handoffs.is_empty() {
                return;
            }
            let (t, space, p, opts) = self.handoffs.remove(0);
            match self.dequeue_unsettled(space, p, opts) {
                // Nothing left to take, or the port died later in the same
                // operation (its queue destroyed with it): the thread retries.
                // A receiver on a port set then goes on waiting on the set,
                // which Mach leaves intact when a member dies; a receiver on
                // the port itself finds it dead.
                Err(e)
                    if e.code == crate::MsgReturn::RcvTimedOut
                        || e.code == crate::MsgReturn::RcvPortDied => {}
                r => self.delivered.push((t, r)),
            }
            self.wakeups.push(t);
        }
    }
}
