//! Rights arriving in frames: a wire right becomes a right in the netmsg
//! task's space (a proxy made when needed), a frame's message a message in
//! its names.

use super::*;

impl Proxies {
    /// Takes a wire right from `from` into the netmsg task's space, as a right
    /// the netmsg task may move into a message. Unknown or forged rights come
    /// out as dead names.
    pub(super) fn import(
        &mut self,
        r: WireRight,
        from: u16,
        out: &mut Vec<Action>,
    ) -> Result<(PortName, Disposition), Violation> {
        let t = self.task.clone();
        let dead = (PortName::DEAD, r.kind.received());
        if r.kind != RightKind::SendOnce && r.id.node() == from {
            self.vouched(r, from, out);
        }
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
                        let unverified = self.unverified_claim(r, from);
                        if unverified == Err(()) {
                            release_now(out);
                            return Ok(dead);
                        }
                        let Some(x) = self.new_proxy() else {
                            release_now(out);
                            return Ok(dead);
                        };
                        let mut e = Entry {
                            secret: r.secret,
                            proxy: Some(x),
                            route: Some(from),
                            ready: true,
                            unverified_from: unverified.ok().flatten(),
                            ..Entry::default()
                        };
                        e.received(from);
                        self.insert_entry(r.id, e);
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
                self.screen(&r, from)?;
                let unverified = if self.ports.contains_key(&r.id) {
                    None
                } else {
                    self.unverified_claim(r, from).map_err(|()| {
                        Violation(format!("too many unverified ports from node {from}"))
                    })?
                };
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
                if !self.ports.contains_key(&r.id) {
                    self.insert_entry(
                        r.id,
                        Entry {
                            secret: r.secret,
                            unverified_from: unverified,
                            ..Entry::default()
                        },
                    );
                }
                let Some(e) = self.ports.get_mut(&r.id) else {
                    return Err(Violation("lost a port record".into()));
                };
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

    /// Checks a right before anything of its frame is imported: a receive
    /// right for a port that is already here, or is known with another
    /// secret (and is not a forgery its maker now corrects), breaks the
    /// protocol.
    pub(super) fn screen(&self, r: &WireRight, from: u16) -> Result<(), Violation> {
        if r.kind == RightKind::Receive
            && let Some(e) = self.ports.get(&r.id)
            && (e.route.is_none() || e.secret != r.secret)
            && !Self::corrects(e, r, from)
        {
            return Err(Violation(format!(
                "receive right for port {:#x} that is already here",
                r.id.0
            )));
        }
        Ok(())
    }

    /// Whether `r`, from `from`, is the maker of the port correcting an
    /// unverified record with another secret.
    fn corrects(e: &Entry, r: &WireRight, from: u16) -> bool {
        r.id.node() == from && e.unverified_from.is_some() && e.secret != r.secret
    }

    /// A right from the node that made its port: an unverified record of
    /// the port is confirmed (same secret) or was forged (another secret:
    /// it goes, and its local holders get dead names).
    fn vouched(&mut self, r: WireRight, from: u16, out: &mut Vec<Action>) {
        let Some(e) = self.ports.get_mut(&r.id) else {
            return;
        };
        let Some(peer) = e.unverified_from else {
            return;
        };
        if e.secret == r.secret {
            e.unverified_from = None;
            self.uncount_unverified(peer);
        } else {
            log::warn!(
                "node {}: node {peer} gave a forged right to port {:#x}; node {from} corrects it",
                self.node,
                r.id.0
            );
            self.kill(r.id, out);
        }
    }

    /// Whether a new record for `r`, from `from`, is unverified (`Ok(Some(from))`:
    /// the port is another node's), and may be made (`Err` when `from`
    /// already made [`MAX_UNVERIFIED`] of them).
    fn unverified_claim(&self, r: WireRight, from: u16) -> Result<Option<u16>, ()> {
        if r.id.node() == from {
            return Ok(None);
        }
        if self.unverified.get(&from).copied().unwrap_or(0) >= MAX_UNVERIFIED {
            log::warn!(
                "node {}: node {from} passes on too many rights nobody has confirmed",
                self.node
            );
            return Err(());
        }
        Ok(Some(from))
    }

    /// Records `e` under `id`, counting it among its peer's unverified ones.
    fn insert_entry(&mut self, id: PortId, e: Entry) {
        if let Some(p) = e.unverified_from {
            *self.unverified.entry(p).or_default() += 1;
        }
        if let Some(old) = self.ports.insert(id, e)
            && let Some(p) = old.unverified_from
        {
            self.uncount_unverified(p);
        }
    }

    /// A send right made from the proxy of `id` (made first if needed).
    pub(super) fn proxy_send_right(
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
    pub(super) fn import_message(
        &mut self,
        rights: &[WireRight],
        mut msg: Message,
        from: u16,
        out: &mut Vec<Action>,
    ) -> Result<(Message, Option<Disposition>), Violation> {
        for r in rights {
            self.screen(r, from)?;
        }
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
    pub(super) fn address(
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
}
