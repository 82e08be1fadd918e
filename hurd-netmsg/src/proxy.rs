//! The proxy side of a node: the netmsg task's IPC space, the table of ports
//! seen across nodes, and the translation of messages between local names and
//! frames.
//!
//! The netmsg task holds, for each remote port it has seen, a local *proxy*
//! port (the receive right, in one port set) that local tasks hold send rights
//! to; and for each local port it exported, a send right. Both are keyed by the
//! port's global [`PortId`], so a port reached through two paths has one proxy
//! and one name in any space.
//!
//! Everything here runs with the state lock held and returns [`Action`]s (frames
//! to send, messages to deliver) that the caller carries out after unlocking.

use std::collections::HashMap;

use hurd_ipc::hosted::Task;
use hurd_ipc::notify::NOTIFY_SEND_ONCE;
use hurd_ipc::user::{PortSet, ReceiveRight};
use hurd_ipc::{
    Disposition, Item, Message, MsgBits, Notification, NotifyKind, PortId, PortName, RightType,
    UserIpc,
};

use crate::frame::{self, Frame, RightKind, WireRight};
use crate::ledger::Entry;

/// The stream key of messages to send-once rights (one stream per peer).
pub(crate) const ONCE_KEY: PortId = PortId(0);

/// Something to do once the state lock is released.
#[derive(Debug)]
pub(crate) enum Action {
    /// A frame on the stream of port `key` to `peer`, ordered with the port's
    /// other frames. `hold` is the proxy the message came from: while the
    /// stream is backed up it leaves the port set, so its senders wait.
    Port {
        peer: u16,
        key: PortId,
        bytes: Vec<u8>,
        hold: Option<PortName>,
    },
    /// A frame on the control stream to `peer`.
    Control { peer: u16, bytes: Vec<u8> },
    /// A message to deliver to a local port.
    Deliver(Message),
    /// The streams for this port are no longer needed.
    CloseStreams(PortId),
}

/// A send-once right of a local task, lent to a peer as a token.
#[derive(Debug)]
struct OnceOut {
    right: PortName,
    secret: u64,
    to: u16,
}

/// A send-once proxy: a port standing for a remote send-once right.
#[derive(Debug)]
struct OnceIn {
    token: PortId,
    secret: u64,
    order: PortId,
}

/// The proxy tables.
pub(crate) struct Proxies {
    pub(crate) node: u16,
    pub(crate) task: Task,
    pub(crate) pset: PortName,
    pub(crate) notify: PortName,
    ports: HashMap<PortId, Entry>,
    by_name: HashMap<PortName, PortId>,
    once_out: HashMap<PortId, OnceOut>,
    once_in: HashMap<PortName, OnceIn>,
    once_in_ids: HashMap<PortId, PortName>,
    /// Ports made here for receive rights that arrived: local id to global id.
    local_ids: HashMap<PortId, PortId>,
    next_token: u64,
    rng: ring::rand::SystemRandom,
    /// A send right to each connected peer's registry.
    pub(crate) peer_registry: HashMap<u16, PortName>,
}

/// Why a frame could not be taken in: the connection it came on is closed.
#[derive(Debug)]
pub(crate) struct Violation(pub String);

fn encode(f: &Frame) -> Vec<u8> {
    // Frames built here from validated parts always encode; an oversized
    // message is caught before (it arrived through the same limits).
    frame::encode(f).unwrap_or_default()
}

impl Proxies {
    pub(crate) fn new(node: u16, task: Task) -> Result<Proxies, hurd_ipc::KernReturn> {
        let (pset, notify) = {
            let pset = PortSet::allocate(&task)?;
            let notify = ReceiveRight::allocate(&task)?;
            pset.insert(notify.name())?;
            (pset.into_raw(), notify.into_raw())
        };
        Ok(Proxies {
            node,
            task,
            pset,
            notify,
            ports: HashMap::new(),
            by_name: HashMap::new(),
            once_out: HashMap::new(),
            once_in: HashMap::new(),
            once_in_ids: HashMap::new(),
            local_ids: HashMap::new(),
            next_token: 1,
            rng: ring::rand::SystemRandom::new(),
            peer_registry: HashMap::new(),
        })
    }

    fn secret(&self) -> u64 {
        let mut b = [0u8; 8];
        // The system RNG does not fail on the platforms ring supports; a zero
        // secret would only weaken forgery protection, never correctness.
        let _ = ring::rand::SecureRandom::fill(&self.rng, &mut b);
        u64::from_le_bytes(b)
    }

    /// The global id of a port named by its local id: the id it is known by
    /// across the cluster when it was exported, else the local id itself.
    fn global_id(&self, local: PortId) -> PortId {
        self.local_ids.get(&local).copied().unwrap_or(local)
    }

    /// The stream a message to a send-once right goes on: that of the port
    /// the right sends to, when this node also sends that port messages (so
    /// the reply stays behind them); otherwise the peer's shared reply stream,
    /// which keeps the number of streams bounded by the ports known here.
    fn once_key(&self, dest: &WireRight) -> PortId {
        if dest.order.0 != 0 && self.ports.contains_key(&dest.order) {
            dest.order
        } else {
            ONCE_KEY
        }
    }

    /// Ports known, proxies and exported.
    pub(crate) fn port_count(&self) -> usize {
        self.ports.len()
    }

    /// A new proxy port in the port set, with a no-senders request sent to itself.
    fn new_proxy(&mut self) -> Option<PortName> {
        let t = &self.task;
        let x = ReceiveRight::allocate(t).ok()?;
        t.port_move_member(x.name(), self.pset).ok()?;
        t.request_notification(
            x.name(),
            NotifyKind::NoSenders,
            1,
            x.name(),
            Disposition::MakeSendOnce,
        )
        .ok()?;
        Some(x.into_raw())
    }

    // ---------------------------------------------------------------- export

    /// Turns a right the netmsg task received in a message into a wire right
    /// for `to`. The local right is given up (or kept as the port's one export).
    fn export(
        &mut self,
        name: PortName,
        disp: Disposition,
        to: u16,
        out: &mut Vec<Action>,
    ) -> Option<WireRight> {
        let t = self.task.clone();
        match disp {
            Disposition::MoveSend => {
                if let Some(&id) = self.by_name.get(&name) {
                    let e = self.ports.get_mut(&id)?;
                    // A send right to our own proxy, or another reference to the
                    // export we hold: either way we keep no extra reference.
                    let _ = t.port_deallocate(name);
                    e.sent(to);
                    return Some(WireRight {
                        kind: RightKind::Send,
                        id,
                        secret: e.secret,
                        order: PortId(0),
                    });
                }
                let id = t.port_id(name).ok()?;
                let secret = self.secret();
                let _ = t.request_notification(
                    name,
                    NotifyKind::DeadName,
                    0,
                    self.notify,
                    Disposition::MakeSendOnce,
                );
                let mut e = Entry {
                    secret,
                    send: Some(name),
                    ready: true,
                    ..Entry::default()
                };
                e.sent(to);
                self.ports.insert(id, e);
                self.by_name.insert(name, id);
                Some(WireRight {
                    kind: RightKind::Send,
                    id,
                    secret,
                    order: PortId(0),
                })
            }
            Disposition::MoveSendOnce => {
                let local = t.port_id(name).ok()?;
                if let Some(y) = self.once_in_ids.remove(&local) {
                    // A send-once right to one of our send-once proxies: pass the
                    // token on and forget the proxy (destroyed before the right,
                    // so no send-once notification is generated).
                    let o = self.once_in.remove(&y)?;
                    let _ = t.port_mod_refs(y, RightType::Receive, -1);
                    let _ = t.port_destroy(name);
                    return Some(WireRight {
                        kind: RightKind::SendOnce,
                        id: o.token,
                        secret: o.secret,
                        order: o.order,
                    });
                }
                let id = PortId::new(self.node, self.next_token);
                self.next_token += 1;
                let secret = self.secret();
                self.once_out.insert(
                    id,
                    OnceOut {
                        right: name,
                        secret,
                        to,
                    },
                );
                Some(WireRight {
                    kind: RightKind::SendOnce,
                    id,
                    secret,
                    order: self.global_id(local),
                })
            }
            Disposition::MoveReceive => {
                let (id, e) = match self.by_name.get(&name).copied() {
                    Some(id) => {
                        let e = self.ports.get_mut(&id)?;
                        if e.send != Some(name) {
                            return None;
                        }
                        // The real port leaves: our send right to it goes, its
                        // receive right becomes the proxy.
                        e.send = None;
                        let _ = t.port_mod_refs(name, RightType::Send, -1);
                        (id, e)
                    }
                    None => {
                        let id = t.port_id(name).ok()?;
                        let secret = self.secret();
                        self.by_name.insert(name, id);
                        (
                            id,
                            self.ports.entry(id).or_insert(Entry {
                                secret,
                                ..Entry::default()
                            }),
                        )
                    }
                };
                if let Some(old) = e.proxy.replace(name) {
                    e.forwarders.push(old);
                }
                e.route = Some(to);
                e.ready = false;
                // Until the receiver confirms, nothing may overtake the right.
                for x in e.local_ports() {
                    let _ = t.port_move_member(x, PortName::NULL);
                }
                e.received(to);
                let secret = e.secret;
                // Messages already queued stay in the port until the receiver
                // confirms (the port joins the set then).
                if let Ok(prev) = t.request_notification(
                    name,
                    NotifyKind::NoSenders,
                    0,
                    name,
                    Disposition::MakeSendOnce,
                ) && prev.is_valid()
                {
                    let _ = t.port_deallocate(prev);
                }
                let _ = out;
                Some(WireRight {
                    kind: RightKind::Receive,
                    id,
                    secret,
                    order: PortId(0),
                })
            }
            _ => None,
        }
    }

    /// Builds a `MESSAGE` frame of `msg` (as received by the netmsg task) for
    /// `dest` at `to`. Rights that cannot be carried travel as dead names.
    fn export_message(
        &mut self,
        mut msg: Message,
        dest: WireRight,
        to: u16,
        out: &mut Vec<Action>,
    ) -> Vec<u8> {
        let mut rights = Vec::new();
        let mut map = |this: &mut Self, name: PortName, disp: Disposition| -> PortName {
            if !name.is_valid() {
                return name;
            }
            match this.export(name, disp, to, out) {
                Some(r) => {
                    rights.push(r);
                    PortName(rights.len() as u32)
                }
                None => {
                    let _ = this.task.port_deallocate(name);
                    PortName::DEAD
                }
            }
        };
        let h = msg.header;
        let reply = match h.bits.remote() {
            Some(d) => map(self, h.remote, d),
            None => PortName::NULL,
        };
        msg.header.remote = reply;
        msg.header.bits = match h.bits.remote() {
            Some(d) if !reply.is_null() => MsgBits::new(d, None),
            _ => MsgBits(0),
        };
        if reply.is_null() {
            msg.header.remote = PortName::NULL;
        }
        msg.header.local = PortName::NULL;
        msg.header.seqno = 0;
        for item in &mut msg.body {
            match item {
                Item::Port(p) => p.name = map(self, p.name, p.disposition),
                Item::Ports(a) => {
                    for n in &mut a.names {
                        *n = map(self, *n, a.disposition);
                    }
                }
                _ => {}
            }
        }
        encode(&Frame::Message {
            dest,
            rights,
            message: msg,
        })
    }

    // ---------------------------------------------------------------- import

    /// Takes a wire right from `from` into the netmsg task's space, as a right
    /// the netmsg task may move into a message. Unknown or forged rights come
    /// out as dead names.
    fn import(
        &mut self,
        r: WireRight,
        from: u16,
        out: &mut Vec<Action>,
    ) -> Result<(PortName, Disposition), Violation> {
        let t = self.task.clone();
        let dead = (PortName::DEAD, r.kind.received());
        match r.kind {
            RightKind::Send => {
                let release_now = |out: &mut Vec<Action>| {
                    out.push(Action::Port {
                        peer: from,
                        key: r.id,
                        bytes: encode(&Frame::Release { id: r.id, count: 1 }),
                        hold: None,
                    });
                };
                match self.ports.get(&r.id) {
                    Some(e) if e.secret != r.secret => {
                        release_now(out);
                        Ok(dead)
                    }
                    Some(e) if e.route.is_none() => {
                        // Back home: a local send right, and the sender's count
                        // is settled at once.
                        let ok = e
                            .send
                            .is_some_and(|s| t.port_mod_refs(s, RightType::Send, 1).is_ok());
                        release_now(out);
                        Ok(match e.send {
                            Some(s) if ok => (s, Disposition::MoveSend),
                            _ => dead,
                        })
                    }
                    Some(e) if e.live_source().is_some() => {
                        // Already held through another peer: this right is not
                        // needed as a hold (and keeping it could make a cycle).
                        let x = e.proxy;
                        if let Some(e) = self.ports.get_mut(&r.id) {
                            e.received_released(from);
                        }
                        release_now(out);
                        self.proxy_send_right(r.id, x)
                    }
                    Some(_) => {
                        let x = match self.ports.get(&r.id).and_then(|e| e.proxy) {
                            Some(x) => x,
                            None => {
                                let Some(x) = self.new_proxy() else {
                                    release_now(out);
                                    return Ok(dead);
                                };
                                self.by_name.insert(x, r.id);
                                if let Some(e) = self.ports.get_mut(&r.id) {
                                    e.proxy = Some(x);
                                }
                                x
                            }
                        };
                        if let Some(e) = self.ports.get_mut(&r.id) {
                            e.received(from);
                            // The old route is being released: go through the new source.
                            e.route = Some(from);
                        }
                        Ok(match t.port_insert_right(x, x, Disposition::MakeSend) {
                            Ok(()) => (x, Disposition::MoveSend),
                            Err(_) => dead,
                        })
                    }
                    None if r.id.node() == self.node => {
                        // One of ours that is no longer exported: dead.
                        release_now(out);
                        Ok(dead)
                    }
                    None => {
                        let Some(x) = self.new_proxy() else {
                            release_now(out);
                            return Ok(dead);
                        };
                        let mut e = Entry {
                            secret: r.secret,
                            proxy: Some(x),
                            route: Some(from),
                            ready: true,
                            ..Entry::default()
                        };
                        e.received(from);
                        self.ports.insert(r.id, e);
                        self.by_name.insert(x, r.id);
                        Ok(match t.port_insert_right(x, x, Disposition::MakeSend) {
                            Ok(()) => (x, Disposition::MoveSend),
                            Err(_) => dead,
                        })
                    }
                }
            }
            RightKind::SendOnce => {
                if r.id.node() == self.node {
                    return Ok(match self.once_out.remove(&r.id) {
                        Some(o) if o.secret == r.secret => (o.right, Disposition::MoveSendOnce),
                        Some(o) => {
                            self.once_out.insert(r.id, o);
                            dead
                        }
                        None => dead,
                    });
                }
                let Ok(y) = t.port_allocate(RightType::Receive) else {
                    return Ok(dead);
                };
                let so = t.give_right(y, Disposition::MakeSendOnce, &t);
                match (t.port_move_member(y, self.pset), so, t.port_id(y)) {
                    (Ok(()), Ok(so), Ok(local)) => {
                        self.once_in.insert(
                            y,
                            OnceIn {
                                token: r.id,
                                secret: r.secret,
                                order: r.order,
                            },
                        );
                        self.once_in_ids.insert(local, y);
                        Ok((so, Disposition::MoveSendOnce))
                    }
                    (_, so, _) => {
                        let _ = t.port_mod_refs(y, RightType::Receive, -1);
                        if let Ok(so) = so {
                            let _ = t.port_destroy(so);
                        }
                        Ok(dead)
                    }
                }
            }
            RightKind::Receive => {
                if let Some(e) = self.ports.get(&r.id)
                    && (e.route.is_none() || e.secret != r.secret)
                {
                    return Err(Violation(format!(
                        "receive right for port {:#x} that is already here",
                        r.id.0
                    )));
                }
                let p = t
                    .port_allocate(RightType::Receive)
                    .map_err(|e| Violation(format!("cannot allocate a port: {e:?}")))?;
                let _ = t.port_insert_right(p, p, Disposition::MakeSend);
                if let Ok(local) = t.port_id(p) {
                    self.local_ids.insert(local, r.id);
                }
                let _ = t.request_notification(
                    p,
                    NotifyKind::DeadName,
                    0,
                    self.notify,
                    Disposition::MakeSendOnce,
                );
                let e = self.ports.entry(r.id).or_insert(Entry {
                    secret: r.secret,
                    ..Entry::default()
                });
                e.send = Some(p);
                e.route = None;
                e.ready = true;
                // Old proxies forward here now; they may have been waiting
                // outside the set for an acknowledgement that no longer comes.
                for x in e.local_ports() {
                    let _ = t.port_move_member(x, self.pset);
                }
                e.sent(from);
                // Local senders of an old proxy keep it: messages to it are
                // forwarded here. Holds on other nodes are no longer needed.
                let releases = std::mem::take(&mut e.sources)
                    .into_iter()
                    .map(|(peer, c)| {
                        (
                            peer,
                            c.saturating_sub(e.releasing.remove(&peer).unwrap_or(0)),
                        )
                    })
                    .collect::<Vec<_>>();
                e.releasing.clear();
                for (peer, count) in releases {
                    if count > 0 {
                        out.push(Action::Port {
                            peer,
                            key: r.id,
                            bytes: encode(&Frame::Release { id: r.id, count }),
                            hold: None,
                        });
                    }
                }
                self.by_name.insert(p, r.id);
                out.push(Action::Control {
                    peer: from,
                    bytes: encode(&Frame::Released { id: r.id, count: 0 }),
                });
                Ok((p, Disposition::MoveReceive))
            }
        }
    }

    /// A send right made from the proxy of `id` (made first if needed).
    fn proxy_send_right(
        &mut self,
        id: PortId,
        x: Option<PortName>,
    ) -> Result<(PortName, Disposition), Violation> {
        let dead = (PortName::DEAD, Disposition::MoveSend);
        let x = match x {
            Some(x) => x,
            None => {
                let Some(x) = self.new_proxy() else {
                    return Ok(dead);
                };
                self.by_name.insert(x, id);
                if let Some(e) = self.ports.get_mut(&id) {
                    e.proxy = Some(x);
                }
                x
            }
        };
        Ok(
            match self.task.port_insert_right(x, x, Disposition::MakeSend) {
                Ok(()) => (x, Disposition::MoveSend),
                Err(_) => dead,
            },
        )
    }

    /// Imports every right of a received frame's message, giving a message in
    /// the netmsg task's names with move dispositions (addressed nowhere yet).
    fn import_message(
        &mut self,
        rights: &[WireRight],
        mut msg: Message,
        from: u16,
        out: &mut Vec<Action>,
    ) -> Result<(Message, Option<Disposition>), Violation> {
        let mut local = Vec::with_capacity(rights.len());
        for r in rights {
            local.push(self.import(*r, from, out)?);
        }
        let look = |n: PortName| -> (PortName, Option<Disposition>) {
            if n.is_valid() {
                let (name, d) = local[n.0 as usize - 1];
                (name, Some(d))
            } else {
                (n, None)
            }
        };
        let (reply, reply_disp) = look(msg.header.remote);
        let reply_disp = reply_disp.or(msg.header.bits.remote());
        msg.header.remote = reply;
        for item in &mut msg.body {
            match item {
                Item::Port(p) => p.name = look(p.name).0,
                Item::Ports(a) => {
                    for n in &mut a.names {
                        *n = look(*n).0;
                    }
                }
                _ => {}
            }
        }
        Ok((msg, reply_disp))
    }

    /// Addresses an imported message to a local right.
    fn address(
        mut msg: Message,
        dest: PortName,
        disp: Disposition,
        reply_disp: Option<Disposition>,
    ) -> Message {
        let reply = msg.header.remote;
        msg.header = hurd_ipc::MsgHeader {
            bits: MsgBits::new(disp, if reply.is_null() { None } else { reply_disp }),
            size: 0,
            remote: dest,
            local: reply,
            seqno: 0,
            id: msg.header.id,
        };
        msg
    }

    // ---------------------------------------------------------- from the wire

    /// A `MESSAGE` frame from `from`.
    pub(crate) fn incoming_message(
        &mut self,
        from: u16,
        dest: WireRight,
        rights: Vec<WireRight>,
        message: Message,
        out: &mut Vec<Action>,
    ) -> Result<(), Violation> {
        log::debug!(
            "node {}: message {} from {from} to {:?} {:#x}",
            self.node,
            message.header.id,
            dest.kind,
            dest.id.0
        );
        let (msg, reply_disp) = self.import_message(&rights, message, from, out)?;
        let t = self.task.clone();
        match dest.kind {
            RightKind::SendOnce if dest.id.node() == self.node => {
                match self.once_out.remove(&dest.id) {
                    Some(o) if o.secret == dest.secret => out.push(Action::Deliver(Self::address(
                        msg,
                        o.right,
                        Disposition::MoveSendOnce,
                        reply_disp,
                    ))),
                    other => {
                        if let Some(o) = other {
                            self.once_out.insert(dest.id, o);
                        }
                        t.destroy_message(Self::address(
                            msg,
                            PortName::NULL,
                            Disposition::CopySend,
                            reply_disp,
                        ));
                    }
                }
            }
            RightKind::SendOnce => {
                // A token of a third node: pass it on directly.
                let to = dest.id.node();
                let m = Self::address(msg, PortName::NULL, Disposition::MoveSendOnce, reply_disp);
                let m = as_received(m);
                let bytes = self.export_message(m, dest, to, out);
                out.push(Action::Port {
                    peer: to,
                    key: self.once_key(&dest),
                    bytes,
                    hold: None,
                });
            }
            _ => {
                let entry = self.ports.get(&dest.id);
                match entry {
                    Some(e) if e.secret == dest.secret && e.route.is_none() => {
                        let Some(s) = e.send else {
                            return Ok(());
                        };
                        out.push(Action::Deliver(Self::address(
                            msg,
                            s,
                            Disposition::CopySend,
                            reply_disp,
                        )));
                    }
                    Some(e) if e.secret == dest.secret && e.route != Some(from) => {
                        let to = e.route.unwrap_or(from);
                        let m =
                            Self::address(msg, PortName::NULL, Disposition::CopySend, reply_disp);
                        let bytes = self.export_message(as_received(m), dest, to, out);
                        out.push(Action::Port {
                            peer: to,
                            key: dest.id,
                            bytes,
                            hold: None,
                        });
                    }
                    _ => {
                        t.destroy_message(Self::address(
                            msg,
                            PortName::NULL,
                            Disposition::CopySend,
                            reply_disp,
                        ));
                        out.push(Action::Control {
                            peer: from,
                            bytes: encode(&Frame::PortDead { id: dest.id }),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// `RELEASE` from `from`.
    pub(crate) fn incoming_release(
        &mut self,
        from: u16,
        id: PortId,
        count: u64,
        out: &mut Vec<Action>,
    ) {
        if let Some(e) = self.ports.get_mut(&id)
            && !e.release_from(from, count)
        {
            log::warn!(
                "node {from} released more rights to {:#x} than it was sent",
                id.0
            );
        }
        out.push(Action::Control {
            peer: from,
            bytes: encode(&Frame::Released { id, count }),
        });
        self.settle(id, out);
    }

    /// `RELEASED` from `from` (count 0: a receive right we sent arrived).
    pub(crate) fn incoming_released(
        &mut self,
        from: u16,
        id: PortId,
        count: u64,
        out: &mut Vec<Action>,
    ) {
        let Some(e) = self.ports.get_mut(&id) else {
            return;
        };
        if count == 0 {
            if !e.ready && e.route == Some(from) {
                e.ready = true;
                for x in e.local_ports() {
                    let _ = self.task.port_move_member(x, self.pset);
                }
            }
            return;
        }
        e.released_by(from, count);
        self.settle(id, out);
    }

    /// `PORT_DEAD` from `from`.
    pub(crate) fn incoming_dead(&mut self, from: u16, id: PortId, out: &mut Vec<Action>) {
        if self.ports.get(&id).is_some_and(|e| e.route == Some(from)) {
            self.kill(id, out);
        }
    }

    /// `ONCE_DESTROYED` from `from`: destroy the lent send-once right.
    pub(crate) fn incoming_once_destroyed(&mut self, id: PortId, secret: u64) {
        if let Some(o) = self.once_out.remove(&id) {
            if o.secret == secret {
                let _ = self.task.port_deallocate(o.right);
            } else {
                self.once_out.insert(id, o);
            }
        }
    }

    /// `HELLO` from `from`: keep a send right to its registry.
    pub(crate) fn incoming_hello(
        &mut self,
        from: u16,
        registry: WireRight,
        out: &mut Vec<Action>,
    ) -> Result<(), Violation> {
        let (name, _) = self.import(registry, from, out)?;
        log::debug!(
            "node {}: HELLO from {from}, registry {:#x} as {name:?}",
            self.node,
            registry.id.0
        );
        if let Some(old) = self.peer_registry.insert(from, name) {
            let _ = self.task.port_deallocate(old);
        }
        Ok(())
    }

    /// The `HELLO` frame for `to`: exports a send right to our registry.
    pub(crate) fn hello(&mut self, registry: PortName, to: u16) -> Option<Vec<u8>> {
        self.task.port_mod_refs(registry, RightType::Send, 1).ok()?;
        let mut out = Vec::new();
        let r = self.export(registry, Disposition::MoveSend, to, &mut out)?;
        Some(encode(&Frame::Hello {
            node: self.node,
            registry: r,
        }))
    }

    // ------------------------------------------------------------ from IPC

    /// A message the netmsg task received on its port set.
    pub(crate) fn outgoing(&mut self, msg: Message, out: &mut Vec<Action>) {
        let at = msg.header.local;
        let t = self.task.clone();
        if at == self.notify {
            if let Some(Notification::DeadName(name)) = Notification::parse(&msg)
                && let Some(&id) = self.by_name.get(&name)
                && self.ports.get(&id).is_some_and(|e| e.send == Some(name))
            {
                self.kill(id, out);
            }
            return;
        }
        if let Some(o) = self.once_in.remove(&at) {
            if let Ok(local) = t.port_id(at) {
                self.once_in_ids.remove(&local);
            }
            let _ = t.port_mod_refs(at, RightType::Receive, -1);
            let to = o.token.node();
            if msg.header.id == NOTIFY_SEND_ONCE
                && msg.body.is_empty()
                && !msg.header.remote.is_valid()
            {
                out.push(Action::Control {
                    peer: to,
                    bytes: encode(&Frame::OnceDestroyed {
                        id: o.token,
                        secret: o.secret,
                    }),
                });
                return;
            }
            log::debug!(
                "node {}: message {} to send-once {:#x} goes to {to}",
                self.node,
                msg.header.id,
                o.token.0
            );
            let dest = WireRight {
                kind: RightKind::SendOnce,
                id: o.token,
                secret: o.secret,
                order: o.order,
            };
            let bytes = self.export_message(msg, dest, to, out);
            out.push(Action::Port {
                peer: to,
                key: self.once_key(&dest),
                bytes,
                hold: None,
            });
            return;
        }
        let Some(&id) = self.by_name.get(&at) else {
            t.destroy_message(msg);
            return;
        };
        let Some(e) = self.ports.get(&id) else {
            t.destroy_message(msg);
            return;
        };
        if !e.proxies(at) {
            t.destroy_message(msg);
            return;
        }
        if let Some(Notification::NoSenders(_)) = Notification::parse(&msg)
            && !msg.header.remote.is_valid()
        {
            match t.port_get_receive_status(at) {
                Ok(st) if st.srights => {
                    let _ = t.request_notification(
                        at,
                        NotifyKind::NoSenders,
                        st.mscount,
                        at,
                        Disposition::MakeSendOnce,
                    );
                }
                _ => {
                    // No local senders: the proxy goes, and the hold with it.
                    self.by_name.remove(&at);
                    if let Some(e) = self.ports.get_mut(&id) {
                        if e.proxy == Some(at) {
                            e.proxy = None;
                        }
                        e.forwarders.retain(|&x| x != at);
                    }
                    let _ = t.port_mod_refs(at, RightType::Receive, -1);
                    self.settle(id, out);
                }
            }
            return;
        }
        if msg.wire_size() > u64::from(hurd_ipc::wire::Limits::DEFAULT.max_size) {
            // Larger than any node accepts: refused here, rights and all.
            log::warn!("node {}: message too large for the network", self.node);
            t.destroy_message(msg);
            return;
        }
        let dest = WireRight {
            kind: RightKind::Send,
            id,
            secret: e.secret,
            order: PortId(0),
        };
        match e.route {
            None => {
                // A proxy left behind when the port moved here: forward locally.
                if let Some(s) = e.send {
                    let reply_disp = msg.header.bits.remote();
                    let body_msg = Message {
                        header: msg.header,
                        body: msg.body,
                    };
                    out.push(Action::Deliver(Self::address(
                        body_msg,
                        s,
                        Disposition::CopySend,
                        reply_disp,
                    )));
                } else {
                    t.destroy_message(msg);
                }
            }
            Some(to) => {
                log::debug!(
                    "node {}: message {} to {:#x} goes to {to}",
                    self.node,
                    msg.header.id,
                    id.0
                );
                let bytes = self.export_message(msg, dest, to, out);
                out.push(Action::Port {
                    peer: to,
                    key: id,
                    bytes,
                    hold: Some(at),
                });
            }
        }
    }

    // --------------------------------------------------------------- life

    /// Sends the releases an entry is ready for, drops an unused export, and
    /// forgets a finished entry.
    fn settle(&mut self, id: PortId, out: &mut Vec<Action>) {
        let Some(e) = self.ports.get_mut(&id) else {
            return;
        };
        if e.unused()
            && let Some(s) = e.send.take()
        {
            // Only the reference the export held: the netmsg task may hold
            // others under the same name (its registry right, for one).
            self.by_name.remove(&s);
            let _ = self.task.port_deallocate(s);
        }
        for (peer, count) in e.take_releases() {
            out.push(Action::Port {
                peer,
                key: id,
                bytes: encode(&Frame::Release { id, count }),
                hold: None,
            });
        }
        if e.finished() {
            self.ports.remove(&id);
            out.push(Action::CloseStreams(id));
        }
    }

    /// The port is dead: local senders get dead names, dependents are told.
    fn kill(&mut self, id: PortId, out: &mut Vec<Action>) {
        let Some(e) = self.ports.remove(&id) else {
            return;
        };
        log::debug!("node {}: port {:#x} dead ({e:?})", self.node, id.0);
        let t = &self.task;
        for name in e.local_ports().chain(e.send).collect::<Vec<_>>() {
            self.by_name.remove(&name);
            let _ = t.port_destroy(name);
        }
        for &peer in e.dependents.keys() {
            out.push(Action::Control {
                peer,
                bytes: encode(&Frame::PortDead { id }),
            });
        }
        out.push(Action::CloseStreams(id));
    }

    /// A peer is gone: everything reached through it dies, everything it held
    /// is released, send-once rights lent to it are destroyed (their senders get
    /// send-once notifications).
    pub(crate) fn peer_lost(&mut self, peer: u16, out: &mut Vec<Action>) {
        let ids: Vec<PortId> = self.ports.keys().copied().collect();
        for id in ids {
            let Some(e) = self.ports.get_mut(&id) else {
                continue;
            };
            e.dependents.remove(&peer);
            if e.route == Some(peer) || e.sources.contains_key(&peer) {
                self.kill(id, out);
            } else {
                self.settle(id, out);
            }
        }
        let lent: Vec<PortId> = self
            .once_out
            .iter()
            .filter(|(_, o)| o.to == peer)
            .map(|(&id, _)| id)
            .collect();
        for id in lent {
            if let Some(o) = self.once_out.remove(&id) {
                let _ = self.task.port_deallocate(o.right);
            }
        }
        let borrowed: Vec<PortName> = self
            .once_in
            .iter()
            .filter(|(_, o)| o.token.node() == peer)
            .map(|(&y, _)| y)
            .collect();
        for y in borrowed {
            self.once_in.remove(&y);
            if let Ok(local) = self.task.port_id(y) {
                self.once_in_ids.remove(&local);
            }
            let _ = self.task.port_destroy(y);
        }
        if let Some(r) = self.peer_registry.remove(&peer) {
            let _ = self.task.port_destroy(r);
        }
    }
}

/// A message addressed by [`Proxies::address`] turned back into the form the
/// netmsg task receives messages in (reply right in `remote`), for re-export.
fn as_received(mut m: Message) -> Message {
    let reply = m.header.local;
    let reply_disp = m.header.bits.local();
    m.header.remote = reply;
    m.header.local = PortName::NULL;
    m.header.bits = match reply_disp {
        Some(d) if reply.is_valid() || reply.is_dead() => MsgBits::new(d, None),
        _ => MsgBits(0),
    };
    m
}
