//! [`AuthServer`]: the auth server — handles standing for id sets, `makeauth`,
//! and the rendezvous of `user_authenticate` with `server_authenticate`.
//!
//! Every auth handle is a port whose receive right the server holds in one port
//! set; a request's arrival port says which handle it was made on. Handles die
//! with their last send right (a no-senders notification, checked against the
//! port's status so a forged one does nothing).
//!
//! A handshake's first half is parked in a [`PendingTable`] and its reply
//! deferred. The server asks for dead-name notifications (on a port of its own
//! that no one else can send to) for the rendezvous right and for the waiting
//! caller's reply right, so a parked call is answered `EINVAL` when its
//! rendezvous port dies and dropped when its caller is gone; [`AuthServer::run`]
//! answers `ETIMEDOUT` to calls that waited longer than [`Limits::timeout_ms`].
//!
//! The server is written against [`UserIpc`], so it runs hosted (a thread with a
//! [`hurd_ipc::hosted::Task`]) and on the kernel alike. It never blocks on a
//! client: one thread serves everything.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{RefCell, RefMut};
use core::time::Duration;

use hurd_ipc::mig::{self, Dispatch, Request};
use hurd_ipc::notify::{NOTIFY_NO_SENDERS, Notification};
use hurd_ipc::{
    Disposition, Error, Item, KernReturn, Message, MigReturn, MsgOptions, MsgReturn, NotifyKind,
    PortArray, PortItem, PortName, PortType, RightType, UserIpc,
};

use crate::clock::Clock;
use crate::idset::{self, IdSet};
use crate::pending::{Arrival, Bounds, Pending, PendingTable, Waiting};
use crate::protocol::auth;
use hurd_ipc::Errno;
use hurd_ipc::user::{PortSet, ReceiveRight};

/// Most other handles one `makeauth` may present (a longer array is
/// `EINVAL`), so one request cannot make the server merge without bound.
pub const MAX_OTHER_HANDLES: usize = 256;

/// The bounds an auth server keeps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits {
    /// Most `user_authenticate` calls waiting for their server at once.
    pub max_pending_users: usize,
    /// Most `server_authenticate` calls waiting for their user at once.
    pub max_pending_servers: usize,
    /// How long a half handshake waits, in milliseconds, before `ETIMEDOUT`.
    pub timeout_ms: u64,
    /// Most live handles; `makeauth` beyond it is `EAGAIN`.
    pub max_handles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pending_users: 256,
            max_pending_servers: 256,
            timeout_ms: 30_000,
            max_handles: 65_536,
        }
    }
}

/// What the server holds, for tests and monitoring.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Live handles.
    pub handles: usize,
    /// Parked `user_authenticate` calls.
    pub pending_users: usize,
    /// Parked `server_authenticate` calls.
    pub pending_servers: usize,
}

struct State {
    handles: BTreeMap<PortName, IdSet>,
    pending: PendingTable,
}

/// The auth server.
pub struct AuthServer<I: UserIpc, C: Clock> {
    ipc: I,
    clock: C,
    limits: Limits,
    portset: PortName,
    notify: PortName,
    state: RefCell<State>,
}

impl<I: UserIpc, C: Clock> AuthServer<I, C> {
    /// A server with no handles yet, serving through `ipc`'s space: allocates
    /// its port set and its notification port.
    ///
    /// # Errors
    ///
    /// What allocating the port set and the notification port returns
    /// (`KERN_NO_SPACE`, `KERN_RESOURCE_SHORTAGE`); nothing is left allocated.
    pub fn new(ipc: I, clock: C, limits: Limits) -> Result<Self, KernReturn> {
        let (portset, notify) = {
            let portset = PortSet::allocate(&ipc)?;
            let notify = ReceiveRight::allocate(&ipc)?;
            portset.insert(notify.name())?;
            (portset.into_raw(), notify.into_raw())
        };
        Ok(AuthServer {
            ipc,
            clock,
            limits,
            portset,
            notify,
            state: RefCell::new(State {
                handles: BTreeMap::new(),
                pending: PendingTable::new(Bounds {
                    users: limits.max_pending_users,
                    servers: limits.max_pending_servers,
                }),
            }),
        })
    }

    /// The space the server serves through.
    pub fn ipc(&self) -> &I {
        &self.ipc
    }

    /// The port set every handle is received on.
    pub fn port_set(&self) -> PortName {
        self.portset
    }

    /// Counts of what the server holds.
    pub fn stats(&self) -> Stats {
        match self.state.try_borrow() {
            Ok(st) => Stats {
                handles: st.handles.len(),
                pending_users: st.pending.users(),
                pending_servers: st.pending.servers(),
            },
            Err(_) => Stats::default(),
        }
    }

    /// The ids of the handle received under `name`, if it is one.
    pub fn handle_ids(&self, name: PortName) -> Option<IdSet> {
        self.state.try_borrow().ok()?.handles.get(&name).cloned()
    }

    /// Makes a handle for `ids` with no questions asked — how the first (root)
    /// handle comes to be at boot. Only the server's owner can call this.
    ///
    /// Returns the handle's name in the server's space, which holds the receive
    /// right and one send right: move the send right to whoever the handle is
    /// for (hosted: `give_right(name, Disposition::MoveSend, &task)`).
    ///
    /// # Errors
    ///
    /// `EAGAIN` when the handle table is full (see [`Limits`]), `EBUSY` when
    /// called from inside a request being served, or what allocating and
    /// setting up the port returns (nothing is left allocated).
    pub fn create_handle(&self, ids: IdSet) -> Result<PortName, Error> {
        let mut st = self.state()?;
        self.new_handle(&mut st, ids)
    }

    fn state(&self) -> Result<RefMut<'_, State>, Error> {
        self.state
            .try_borrow_mut()
            .map_err(|_| Error::from(Errno::Busy))
    }

    /// Allocates a handle port holding a send right, in the set, with a
    /// no-senders request on itself.
    fn new_handle(&self, st: &mut State, ids: IdSet) -> Result<PortName, Error> {
        if st.handles.len() >= self.limits.max_handles {
            return Err(Errno::Again.into());
        }
        let ipc = &self.ipc;
        // Released, send right and all, if it cannot be set up.
        let port = ReceiveRight::allocate(ipc)?;
        let send = port.make_send()?;
        let name = port.name();
        ipc.port_move_member(name, self.portset)?;
        ipc.request_notification(
            name,
            NotifyKind::NoSenders,
            0,
            name,
            Disposition::MakeSendOnce,
        )?;
        send.into_raw(); // The handle's send right: the caller's to give away.
        st.handles.insert(port.into_raw(), ids);
        Ok(name)
    }

    /// The id sets `makeauth` may draw on: the handle the request was made on,
    /// then every element of `others`, each of which must be a send right to a
    /// handle of this server (`EINVAL` otherwise, as in the Hurd). The handle
    /// itself being no handle is `EOPNOTSUPP`.
    fn presented_ids<'s>(
        st: &'s State,
        req: &Request,
        others: &PortArray,
    ) -> Result<Vec<&'s IdSet>, Errno> {
        let mine = st.handles.get(&req.port).ok_or(Errno::OpNotSupp)?;
        if others.names.len() > MAX_OTHER_HANDLES
            || (!others.names.is_empty() && others.disposition != Disposition::PORT_SEND)
        {
            return Err(Errno::Inval);
        }
        let mut presented = Vec::with_capacity(1 + others.names.len());
        presented.push(mine);
        for name in &others.names {
            presented.push(st.handles.get(name).ok_or(Errno::Inval)?);
        }
        Ok(presented)
    }

    /// Releases every right received in a port array.
    fn release_all(&self, rights: PortArray) {
        self.ipc.destroy_message(Message {
            body: vec![Item::Ports(rights)],
            ..Message::default()
        });
    }

    /// Releases a right received in a request.
    fn release(&self, p: PortItem) {
        self.ipc.destroy_message(Message {
            body: vec![Item::Port(p)],
            ..Message::default()
        });
    }

    /// Serves one received message: an auth request, a notification, or
    /// anything else (answered `MIG_BAD_ID`).
    pub fn handle_message(&self, msg: Message) {
        let local = msg.header.local;
        if local == self.notify {
            self.notification(msg);
            return;
        }
        if msg.header.id == NOTIFY_NO_SENDERS && self.no_senders(local) {
            self.ipc.destroy_message(msg);
            return;
        }
        let dispatch = match auth::demux(self, &self.ipc, msg) {
            Dispatch::NotMine(m) => mig::bad_id(&self.ipc, m),
            d => d,
        };
        if let Dispatch::Reply(r) = dispatch {
            let _ = mig::send_reply(&self.ipc, r);
        }
    }

    /// A no-senders notification on `name`: destroys the handle if it truly has
    /// no senders, re-arms the request if send rights came back before the
    /// notification was served. Returns false (the message is then answered
    /// like any unknown request) if `name` is no handle or the notification is
    /// forged: the request it would answer is still registered.
    fn no_senders(&self, name: PortName) -> bool {
        let Ok(mut st) = self.state() else {
            return false;
        };
        if !st.handles.contains_key(&name) {
            return false;
        }
        match self.ipc.port_get_receive_status(name) {
            Ok(status) if !status.srights => {
                st.handles.remove(&name);
                let _ = self.ipc.port_mod_refs(name, RightType::Receive, -1);
                true
            }
            Ok(status) if !status.nsrequest => {
                let prev = self.ipc.request_notification(
                    name,
                    NotifyKind::NoSenders,
                    status.mscount,
                    name,
                    Disposition::MakeSendOnce,
                );
                if let Ok(prev) = prev
                    && prev.is_valid()
                {
                    let _ = self.ipc.port_deallocate(prev);
                }
                true
            }
            _ => false,
        }
    }

    /// A message on the notification port (only the kernel can send there).
    fn notification(&self, msg: Message) {
        let note = Notification::parse(&msg);
        self.ipc.destroy_message(msg);
        let Some(Notification::DeadName(name)) = note else {
            // Port-deleted and send-once notifications follow from rights we
            // gave up ourselves: nothing to do.
            return;
        };
        let dead = match self.state() {
            Ok(mut st) => st.pending.remove_name(name),
            Err(_) => Vec::new(),
        };
        for p in dead {
            if p.request.reply == name {
                // The caller is gone: nobody to answer.
                self.drop_pending(p, None);
            } else {
                // The rendezvous port died: the handshake cannot complete.
                self.drop_pending(p, Some(Errno::Inval));
            }
        }
        // The reference the notification added to the dead name.
        let _ = self.ipc.port_deallocate(name);
    }

    /// Answers a parked call with `err` (or not at all) and releases its rights.
    fn drop_pending(&self, p: Pending, err: Option<Errno>) {
        let _ = self.ipc.port_deallocate(p.rendezvous);
        if let Waiting::Server(newport) = p.waiting {
            self.release(newport);
        }
        match err {
            Some(e) => {
                let reply = mig::reply_message(&p.request, Err(e.into()));
                let _ = mig::send_reply(&self.ipc, reply);
            }
            None => {
                let _ = self.ipc.port_deallocate(p.request.reply);
            }
        }
    }

    /// Answers `ETIMEDOUT` to every parked call past its deadline.
    pub fn sweep(&self) {
        let now = self.clock.now_ms();
        let expired = match self.state() {
            Ok(mut st) => st.pending.expire(now),
            Err(_) => Vec::new(),
        };
        for p in expired {
            self.drop_pending(p, Some(Errno::TimedOut));
        }
    }

    /// When a call parked now times out: at least `timeout_ms` of real time
    /// (the clock truncates to whole milliseconds, hence the extra one).
    fn deadline(&self) -> u64 {
        self.clock
            .now_ms()
            .saturating_add(self.limits.timeout_ms)
            .saturating_add(1)
    }

    /// How long until the next deadline, if anything waits.
    fn until_next_deadline(&self) -> Option<Duration> {
        let next = self.state.try_borrow().ok()?.pending.next_deadline()?;
        Some(Duration::from_millis(
            next.saturating_sub(self.clock.now_ms()),
        ))
    }

    /// Serves requests until receiving fails (the task ended or the port set
    /// was destroyed), sweeping timed-out handshakes as their deadlines pass.
    pub fn run(&self) -> MsgReturn {
        loop {
            let opts = MsgOptions {
                rcv_timeout: self.until_next_deadline(),
                ..MsgOptions::default()
            };
            match self.ipc.receive_with(self.portset, &opts) {
                Ok(msg) => self.handle_message(msg),
                Err(e) if e.code == MsgReturn::RcvTimedOut => {}
                Err(e) => {
                    self.shutdown();
                    return e.code;
                }
            }
            self.sweep();
        }
    }

    /// Serves messages until none arrives for `idle`, sweeping deadlines
    /// after each; returns how many it served. For embedding the server in
    /// another loop, and for tests that look at its state between steps.
    ///
    /// # Errors
    ///
    /// The receive's failure other than a timeout (the port set died).
    pub fn run_until_idle(&self, idle: Duration) -> Result<usize, MsgReturn> {
        let mut served = 0;
        loop {
            let opts = MsgOptions {
                rcv_timeout: Some(idle),
                ..MsgOptions::default()
            };
            match self.ipc.receive_with(self.portset, &opts) {
                Ok(msg) => {
                    self.handle_message(msg);
                    served += 1;
                }
                Err(e) if e.code == MsgReturn::RcvTimedOut => {
                    self.sweep();
                    return Ok(served);
                }
                Err(e) => return Err(e.code),
            }
            self.sweep();
        }
    }

    /// Answers every parked call `EINTR` and forgets them (the server stops).
    pub fn shutdown(&self) {
        let all = match self.state() {
            Ok(mut st) => st.pending.drain(),
            Err(_) => Vec::new(),
        };
        for p in all {
            self.drop_pending(p, Some(Errno::Intr));
        }
    }

    /// Checks a rendezvous right and finds its identity; releases it on error.
    fn rendezvous_key(&self, req: &Request, rend: PortItem) -> Result<hurd_ipc::PortId, Error> {
        let ok = rend.disposition == Disposition::PORT_SEND
            && rend.name.is_valid()
            && req.reply.is_valid();
        if ok && let Ok(id) = self.ipc.port_id(rend.name) {
            return Ok(id);
        }
        self.release(rend);
        Err(Errno::Inval.into())
    }

    /// Asks for a dead-name notification on `name` unless one is registered.
    fn watch(&self, name: PortName) {
        let registered = self
            .ipc
            .port_type(name)
            .map(|t| t.contains(PortType::DNREQUEST))
            .unwrap_or(true);
        if !registered
            && let Ok(prev) = self.ipc.request_notification(
                name,
                NotifyKind::DeadName,
                1,
                self.notify,
                Disposition::MakeSendOnce,
            )
            && prev.is_valid()
        {
            let _ = self.ipc.port_deallocate(prev);
        }
    }

    /// Parks or matches a handshake half. On a match returns the waiting other
    /// half; on parking returns `Err(NoReply)`.
    fn arrive(&self, key: hurd_ipc::PortId, call: Pending) -> Result<Pending, Error> {
        let arrival = self.state()?.pending.arrive(key, call);
        match arrival {
            Arrival::Matched(other) => Ok(other),
            // The parked entry holds its rights until it is resolved.
            Arrival::Parked => Err(Error::Mig(MigReturn::NoReply)),
            Arrival::Busy(call) => {
                self.unwind(call);
                Err(Errno::Busy.into())
            }
            Arrival::Full(call) => {
                self.unwind(call);
                Err(Errno::Again.into())
            }
        }
    }

    /// Releases the rights of a call that was not parked (its reply right is
    /// answered by the demux).
    fn unwind(&self, call: Pending) {
        let _ = self.ipc.port_deallocate(call.rendezvous);
        if let Waiting::Server(newport) = call.waiting {
            self.release(newport);
        }
    }
}

impl<I: UserIpc, C: Clock> auth::Server for AuthServer<I, C> {
    fn getids(&self, req: &Request) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>), Error> {
        let st = self.state()?;
        match st.handles.get(&req.port) {
            Some(ids) => Ok(ids.clone().into_vecs()),
            None => Err(Errno::OpNotSupp.into()),
        }
    }

    fn makeauth(
        &self,
        req: &Request,
        other_handles: PortArray,
        euids: Vec<u32>,
        auids: Vec<u32>,
        egids: Vec<u32>,
        agids: Vec<u32>,
    ) -> Result<PortItem, Error> {
        let requested = IdSet::from_vecs(euids, auids, egids, agids);
        let result = self.state().and_then(|mut st| {
            let ids = Self::presented_ids(&st, req, &other_handles)
                .and_then(|presented| idset::makeauth(&presented, &requested))?;
            self.new_handle(&mut st, ids)
        });
        // The rights received in the array are released whatever the outcome
        // (the Hurd deallocates them on success; on failure MIG's
        // `mach_msg_server` destroys the request).
        self.release_all(other_handles);
        let name = result?;
        Ok(PortItem {
            disposition: Disposition::MoveSend,
            name,
        })
    }

    fn user_authenticate(&self, req: &Request, rendezvous: PortItem) -> Result<PortItem, Error> {
        let ids = match self.state()?.handles.get(&req.port) {
            Some(ids) => ids.clone(),
            None => {
                self.release(rendezvous);
                return Err(Errno::OpNotSupp.into());
            }
        };
        let key = self.rendezvous_key(req, rendezvous)?;
        let call = Pending {
            rendezvous: rendezvous.name,
            request: *req,
            waiting: Waiting::User(ids.clone()),
            deadline: self.deadline(),
        };
        match self.arrive(key, call) {
            Ok(server) => {
                // The server's call gets our ids; we get its port.
                let _ = self.ipc.port_deallocate(rendezvous.name);
                let _ = self.ipc.port_deallocate(server.rendezvous);
                let Waiting::Server(newport) = server.waiting else {
                    return Err(Errno::Inval.into());
                };
                let _ = auth::reply::server_authenticate(
                    &self.ipc,
                    &server.request,
                    Ok(ids.into_vecs()),
                );
                Ok(newport)
            }
            Err(Error::Mig(MigReturn::NoReply)) => {
                self.watch(rendezvous.name);
                self.watch(req.reply);
                Err(Error::Mig(MigReturn::NoReply))
            }
            Err(e) => Err(e),
        }
    }

    fn server_authenticate(
        &self,
        req: &Request,
        rendezvous: PortItem,
        newport: PortItem,
    ) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>), Error> {
        let is_handle = self.state()?.handles.contains_key(&req.port);
        if !is_handle {
            self.release(rendezvous);
            self.release(newport);
            return Err(Errno::OpNotSupp.into());
        }
        let key = match self.rendezvous_key(req, rendezvous) {
            Ok(k) => k,
            Err(e) => {
                self.release(newport);
                return Err(e);
            }
        };
        let call = Pending {
            rendezvous: rendezvous.name,
            request: *req,
            waiting: Waiting::Server(newport),
            deadline: self.deadline(),
        };
        match self.arrive(key, call) {
            Ok(user) => {
                let _ = self.ipc.port_deallocate(rendezvous.name);
                let _ = self.ipc.port_deallocate(user.rendezvous);
                let Waiting::User(ids) = user.waiting else {
                    self.release(newport);
                    return Err(Errno::Inval.into());
                };
                let _ = auth::reply::user_authenticate(&self.ipc, &user.request, Ok(newport));
                Ok(ids.into_vecs())
            }
            Err(Error::Mig(MigReturn::NoReply)) => {
                self.watch(rendezvous.name);
                self.watch(req.reply);
                Err(Error::Mig(MigReturn::NoReply))
            }
            Err(e) => Err(e),
        }
    }
}
