//! A single-threaded pager over any [`UserIpc`]: no threads, no `std`, for
//! servers on the hurd-rs kernel's user runtime (the hosted runtime's
//! [`PagerServer`](crate::hosted::PagerServer) is the multi-threaded one).
//!
//! [`PagerPort`] owns one pager: its memory object port (and a read-only
//! port if asked for), a port set with a notification port for dead control
//! ports, the [`Coherence`] core and the [`Backend`]. [`PagerPort::serve`]
//! receives, feeds the core and carries out its actions in order — sends
//! (each waiting at most the send timeout), backend calls inline — until
//! receiving fails. The caller supplies the clock.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use hurd_ipc::user::{PortSet, ReceiveRight};
use hurd_ipc::{
    Disposition, KernReturn, MachMsgError, Message, MsgOptions, MsgReturn, Notification,
    NotifyKind, PortName, PortType, UserIpc,
};
use hurd_vm::PAGE_SIZE;
use hurd_vm::protocol::memory_object;

use crate::action::Action;
use crate::backend::{Backend, write_all};
use crate::coherence::Coherence;
use crate::config::Config;
use crate::deaths::Deaths;
use crate::error::PagerError;
use crate::event::{Call, Event};
use crate::kernel::KernelId;
use crate::ops::OpId;
use crate::protocol::{self, Arrival, KernelTable};

/// One pager served by the calling thread. See the [module](self) docs.
pub struct PagerPort<'a, I: UserIpc + ?Sized, B: Backend> {
    ipc: &'a I,
    port: ReceiveRight<&'a I>,
    ro_port: Option<ReceiveRight<&'a I>>,
    set: PortSet<&'a I>,
    notify: ReceiveRight<&'a I>,
    core: Coherence,
    kernels: KernelTable,
    home: BTreeMap<KernelId, PortName>,
    backend: B,
    done: BTreeMap<OpId, Result<(), PagerError>>,
    /// Dead kernels waiting for the messages queued before their death.
    deaths: Deaths<KernelId>,
    send_timeout: Duration,
}

impl<'a, I: UserIpc + ?Sized, B: Backend> PagerPort<'a, I, B> {
    /// A pager for `backend` in `ipc`'s space, with a new memory object port.
    /// Dropping it destroys its ports: the kernels mapping it see it die.
    ///
    /// # Errors
    ///
    /// What allocating the ports and the set returns (`KERN_NO_SPACE`,
    /// `KERN_RESOURCE_SHORTAGE`); nothing allocated before the failure is
    /// left behind.
    pub fn new(ipc: &'a I, backend: B, config: Config) -> Result<Self, KernReturn> {
        let set = PortSet::allocate(ipc)?;
        let port = ReceiveRight::allocate(ipc)?;
        let notify = ReceiveRight::allocate(ipc)?;
        let _ = ipc.port_set_qlimit(port.name(), hurd_ipc::QLIMIT_MAX);
        set.insert(port.name())?;
        set.insert(notify.name())?;
        Ok(PagerPort {
            ipc,
            port,
            ro_port: None,
            set,
            notify,
            core: Coherence::new(config),
            kernels: KernelTable::new(),
            home: BTreeMap::new(),
            backend,
            done: BTreeMap::new(),
            deaths: Deaths::new(),
            send_timeout: Duration::from_secs(30),
        })
    }

    /// The memory object port (a receive right): hand out send rights.
    pub fn port(&self) -> PortName {
        self.port.name()
    }

    /// The read-only port (made on first use): kernels mapping it never get
    /// write access.
    ///
    /// # Errors
    ///
    /// What allocating the port or putting it in the set returns.
    pub fn read_only_port(&mut self) -> Result<PortName, KernReturn> {
        if let Some(p) = &self.ro_port {
            return Ok(p.name());
        }
        let p = ReceiveRight::allocate(self.ipc)?;
        let _ = self.ipc.port_set_qlimit(p.name(), hurd_ipc::QLIMIT_MAX);
        self.set.insert(p.name())?;
        let name = p.name();
        self.ro_port = Some(p);
        Ok(name)
    }

    fn ro_port_name(&self) -> Option<PortName> {
        self.ro_port.as_ref().map(ReceiveRight::name)
    }

    /// The coherence core (inspection).
    pub fn core(&self) -> &Coherence {
        &self.core
    }

    /// The backend.
    pub fn backend(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Starts a library call at time `now`; its result is
    /// [`PagerPort::result`] once the call is done (serve on meanwhile).
    pub fn call(&mut self, now: u64, call: Call) -> OpId {
        let (op, actions) = self.core.call(now, call);
        self.run(now, actions);
        op
    }

    /// The result of a finished call (taken once).
    pub fn result(&mut self, op: OpId) -> Option<Result<(), PagerError>> {
        self.done.remove(&op)
    }

    /// Serves until receiving fails (the ports or the task died); `clock`
    /// gives the time in the units of [`Config::min_hold`].
    pub fn serve(&mut self, clock: &mut dyn FnMut() -> u64) -> MsgReturn {
        loop {
            let now = clock();
            let wait = self
                .core
                .next_deadline()
                .map(|t| Duration::from_nanos(t.saturating_sub(now)));
            let opts = MsgOptions {
                rcv_timeout: wait,
                ..MsgOptions::default()
            };
            match self.ipc.mach_msg(None, Some(self.set.name()), &opts) {
                Ok(Some(msg)) => self.handle(clock(), msg),
                Ok(None) => {}
                Err(MachMsgError::Receive(e)) if e.code == MsgReturn::RcvTimedOut => {}
                Err(e) => return e.code(),
            }
            let now = clock();
            if self.core.next_deadline().is_some_and(|t| t <= now) {
                let actions = self.core.handle(now, Event::Tick);
                self.run(now, actions);
            }
        }
    }

    /// Handles one message received on the pager's port set.
    pub fn handle(&mut self, now: u64, msg: Message) {
        let port = msg.header.local;
        if port == self.notify.name() {
            if let Some(Notification::DeadName(name)) = Notification::parse(&msg) {
                match self.kernels.kernel(name) {
                    Some(kernel) => self.died(now, kernel),
                    None if self.ipc.port_type(name) == Ok(PortType::DEAD_NAME) => {
                        let _ = self.ipc.port_deallocate(name);
                    }
                    None => {}
                }
            }
            return;
        }
        if port != self.port.name() && Some(port) != self.ro_port_name() {
            self.ipc.destroy_message(msg);
            return;
        }
        if let Some(call) = protocol::decode(self.ipc, msg) {
            self.incoming(now, port, call);
        }
        self.count_down(now, port);
    }

    /// A kernel died: handled after what it sent before (see [`Deaths`]).
    fn died(&mut self, now: u64, kernel: KernelId) {
        let ports = core::iter::once(self.port.name()).chain(self.ro_port_name());
        if let Some(kernel) = self.deaths.died(self.ipc, ports, kernel) {
            let actions = self.core.handle(now, Event::KernelDied { kernel });
            self.run(now, actions);
        }
    }

    fn count_down(&mut self, now: u64, port: PortName) {
        for kernel in self.deaths.handled(port) {
            let actions = self.core.handle(now, Event::KernelDied { kernel });
            self.run(now, actions);
        }
    }

    fn incoming(&mut self, now: u64, port: PortName, call: memory_object::Call) {
        let ipc = self.ipc;
        let events = match protocol::arrival(ipc, &mut self.kernels, call) {
            Arrival::NewKernel { kernel, control } => {
                self.home.insert(kernel, port);
                let read_only = Some(port) == self.ro_port_name();
                let watched = ipc
                    .request_notification(
                        control,
                        NotifyKind::DeadName,
                        0,
                        self.notify.name(),
                        Disposition::MakeSendOnce,
                    )
                    .is_ok();
                let mut ev = vec![Event::Init { kernel, read_only }];
                if !watched {
                    ev.push(Event::KernelDied { kernel });
                }
                ev
            }
            Arrival::Events(ev) => ev,
            Arrival::Nothing => return,
        };
        for ev in events {
            let actions = self.core.handle(now, ev);
            self.run(now, actions);
        }
    }

    /// Carries out actions in order; backend completions go back to the core
    /// and their actions follow.
    fn run(&mut self, now: u64, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(a) = queue.pop_front() {
            let offset = |page: u64| page * PAGE_SIZE;
            let event = match a {
                Action::Read { page } => Some(Event::ReadDone {
                    page,
                    result: self.backend.read_page(offset(page)),
                }),
                Action::Write { page, data } => Some(Event::WriteDone {
                    result: write_all(&mut self.backend, offset(page), &data),
                }),
                Action::Unlock { page } => Some(Event::UnlockDone {
                    page,
                    result: self.backend.unlock_page(offset(page)),
                }),
                Action::NotifyEvict { page } => {
                    self.backend.notify_evict(offset(page));
                    None
                }
                Action::Done { op, result } => {
                    self.done.insert(op, result);
                    None
                }
                Action::Release { kernel } => {
                    self.home.remove(&kernel);
                    if let Some(c) = self.kernels.remove(kernel) {
                        let _ = self.ipc.port_destroy(c);
                    }
                    None
                }
                message => {
                    let kernel = message.kernel();
                    let control = kernel.and_then(|k| self.kernels.control(k));
                    let home = kernel.and_then(|k| self.home.get(&k).copied());
                    match (kernel, control) {
                        (Some(kernel), Some(control)) => {
                            let home = home.unwrap_or(self.port.name());
                            match protocol::send(
                                self.ipc,
                                control,
                                home,
                                message,
                                self.send_timeout,
                            ) {
                                Err(hurd_ipc::Error::Msg(
                                    MsgReturn::SendInvalidDest | MsgReturn::SendTimedOut,
                                )) => Some(Event::KernelDied { kernel }),
                                Err(e) => {
                                    log::warn!("pager: cannot send to {kernel}: {e}");
                                    None
                                }
                                Ok(()) => None,
                            }
                        }
                        _ => None,
                    }
                }
            };
            if let Some(ev) = event {
                queue.extend(self.core.handle(now, ev));
            }
        }
    }
}

impl<I: UserIpc + ?Sized, B: Backend> Drop for PagerPort<'_, I, B> {
    /// The kernels' control ports go with the pager (its own ports are
    /// owned rights and go by themselves).
    fn drop(&mut self) {
        for (_, control) in self.kernels.iter() {
            let _ = self.ipc.port_destroy(control);
        }
    }
}
