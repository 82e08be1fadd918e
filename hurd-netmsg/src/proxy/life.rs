//! Releases, deaths and lost peers: what an entry is ready to release,
//! ports that die, and everything a lost peer held or routed.

use super::*;

impl Proxies {
    /// Sends the releases an entry is ready for, drops an unused export, and
    /// forgets a finished entry.
    pub(super) fn settle(&mut self, id: PortId, out: &mut Vec<Action>) {
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
            self.forget(id);
            out.push(Action::CloseStreams(id));
        }
    }

    /// The port is dead: local senders get dead names, dependents are told.
    pub(super) fn kill(&mut self, id: PortId, out: &mut Vec<Action>) {
        let Some(e) = self.forget(id) else {
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
