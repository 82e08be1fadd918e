//! Rights leaving in frames: a right the netmsg task received becomes a
//! wire right, a message it received becomes a `MESSAGE` frame.

use super::*;

impl Proxies {
    /// Turns a right the netmsg task received in a message into a wire right
    /// for `to`. The local right is given up (or kept as the port's one export).
    pub(super) fn export(
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
    pub(super) fn export_message(
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
}
