//! Frames from peers: messages, releases, deaths, send-once tokens
//! destroyed, and the `HELLO` that introduces a peer's registry.

use super::*;

impl Proxies {
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
        if !self.destination_known(&dest, from) {
            // Refused before any of its rights is taken in: a frame to a
            // port nobody here knows (or knows by another secret) makes no
            // record and no proxy.
            for r in &rights {
                self.screen(r, from)?;
            }
            for r in &rights {
                self.refuse(*r, from, out)?;
            }
            if dest.kind != RightKind::SendOnce {
                out.push(Action::Control {
                    peer: from,
                    bytes: encode(&Frame::PortDead { id: dest.id }),
                });
            }
            return Ok(());
        }
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

    /// Whether a message from `from` to `dest` has somewhere to go: a
    /// send-once right this node lent with that secret, a third node's
    /// send-once token (that node checks it), or a port known here by that
    /// secret that is here or routed elsewhere than back to `from`.
    fn destination_known(&self, dest: &WireRight, from: u16) -> bool {
        match dest.kind {
            RightKind::SendOnce if dest.id.node() == self.node => self
                .once_out
                .get(&dest.id)
                .is_some_and(|o| o.secret == dest.secret),
            RightKind::SendOnce => true,
            _ => self.ports.get(&dest.id).is_some_and(|e| {
                e.secret == dest.secret
                    && match e.route {
                        None => e.send.is_some(),
                        Some(r) => r != from,
                    }
            }),
        }
    }

    /// Gives back a right of a refused frame without taking it in: the
    /// sender's count of a send right is settled, a send-once token is
    /// destroyed where it was lent (or here, if it is ours), and a receive
    /// right — a real port arriving — is taken in and destroyed.
    fn refuse(&mut self, r: WireRight, from: u16, out: &mut Vec<Action>) -> Result<(), Violation> {
        match r.kind {
            RightKind::Send => out.push(Action::Port {
                peer: from,
                key: r.id,
                bytes: encode(&Frame::Release { id: r.id, count: 1 }),
                hold: None,
            }),
            RightKind::SendOnce if r.id.node() == self.node => {
                self.incoming_once_destroyed(r.id, r.secret);
            }
            RightKind::SendOnce => out.push(Action::Control {
                peer: r.id.node(),
                bytes: encode(&Frame::OnceDestroyed {
                    id: r.id,
                    secret: r.secret,
                }),
            }),
            RightKind::Receive => {
                let (name, _) = self.import(r, from, out)?;
                if name.is_valid() {
                    let _ = self.task.port_mod_refs(name, RightType::Receive, -1);
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

    /// The `HELLO` frame for `to`: exports `registry`, a send right (one
    /// reference, the frame's) to the registry port made for `to`.
    pub(crate) fn hello(&mut self, registry: PortName, to: u16) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let Some(r) = self.export(registry, Disposition::MoveSend, to, &mut out) else {
            let _ = self.task.port_deallocate(registry);
            return None;
        };
        Some(encode(&Frame::Hello {
            node: self.node,
            registry: r,
        }))
    }
}
