//! Releasing rights and destroying ports, port sets, messages and spaces, with
//! the notifications Mach sends on the way.

use alloc::vec;
use alloc::vec::Vec;

use super::IpcKernel;
use crate::kmsg::{Carried, KItem, KMessage, PortRef};
use crate::notify::{NOTIFY_DEAD_NAME, NOTIFY_NO_SENDERS, NOTIFY_PORT_DESTROYED, NOTIFY_SEND_ONCE};
use crate::port::Receiver;
use crate::port_set::PsetRef;
use crate::space::{Object, SpaceId};
use crate::{Disposition, PortType};

impl IpcKernel {
    /// Releases one send right; the last one fires the no-senders request.
    pub(crate) fn release_send(&mut self, p: PortRef) {
        let Some(port) = self.ports.get_mut(p) else {
            return;
        };
        port.srights = port.srights.saturating_sub(1);
        if port.srights == 0
            && port.active
            && let Some(ns) = port.nsrequest.take()
        {
            let mscount = port.mscount;
            self.notify(ns, NOTIFY_NO_SENDERS, vec![KItem::U32(mscount)]);
        } else if port.active {
            return; // A live port is never freed.
        }
        self.maybe_free(p);
    }

    /// Consumes a send-once right that was used (its message was delivered).
    pub(crate) fn consume_send_once(&mut self, p: PortRef) {
        if let Some(port) = self.ports.get_mut(p) {
            port.sorights = port.sorights.saturating_sub(1);
            if port.active {
                return; // A live port is never freed.
            }
        }
        self.maybe_free(p);
    }

    /// Destroys a send-once right unused: it sends a send-once notification
    /// through itself, so the receiver learns no reply will come.
    pub(crate) fn destroy_send_once(&mut self, p: PortRef) {
        let active = self.ports.get(p).is_some_and(|port| port.active);
        if active {
            self.enqueue_kernel(KMessage::notification(p, NOTIFY_SEND_ONCE, Vec::new()));
        } else {
            self.consume_send_once(p);
        }
    }

    /// Destroys a right carried in a message or held by a request.
    pub(crate) fn destroy_carried(&mut self, c: Carried) {
        match c {
            Carried::Null | Carried::Dead => {}
            Carried::Send(p) => self.release_send(p),
            Carried::SendOnce(p) => self.destroy_send_once(p),
            Carried::Receive(p) => self.doomed.push(p),
        }
    }

    /// Destroys a message that reached its port but will not be received
    /// (dequeued for being too large, or queued on a dying port).
    pub(crate) fn destroy_kmsg(&mut self, k: KMessage) {
        match k.dest {
            Carried::Send(p) => self.release_send(p),
            Carried::SendOnce(p) => self.consume_send_once(p),
            _ => {}
        }
        self.destroy_kmsg_contents(k.reply, k.body);
    }

    pub(crate) fn destroy_kmsg_contents(&mut self, reply: Carried, body: Vec<KItem>) {
        self.destroy_carried(reply);
        for item in body {
            for &right in item.rights() {
                self.destroy_carried(right);
            }
        }
    }

    /// Sends a kernel-made notification through the send-once right `so`.
    pub(crate) fn notify(&mut self, so: PortRef, id: i32, body: Vec<KItem>) {
        self.stats.notifications += 1;
        self.enqueue_kernel(KMessage::notification(so, id, body));
    }

    /// Queues a kernel-made message (its destination is a send-once right, so the
    /// queue limit does not apply); on a dead port the message is destroyed.
    pub(crate) fn enqueue_kernel(&mut self, k: KMessage) {
        let Some(p) = k.dest.port() else {
            self.destroy_kmsg(k);
            return;
        };
        if self.ports.get(p).is_some_and(|port| port.active) {
            self.enqueue(p, k);
        } else {
            self.destroy_kmsg(k);
        }
    }

    /// The receive right of `p` is being destroyed (it already left any space).
    /// With a port-destroyed request, the right is handed to the requester instead.
    pub(crate) fn kill_port(&mut self, p: PortRef) {
        let Some(port) = self.ports.get_mut(p) else {
            return;
        };
        if !port.active {
            return;
        }
        port.receiver = Receiver::InTransit;
        let pset = port.pset.take();
        let handed_back = port.pdrequest.take();
        let to_itself = handed_back.is_some_and(|pd| self.would_cycle(p, pd));
        let Some(port) = self.ports.get_mut(p) else {
            return;
        };
        if let (Some(pd), false) = (handed_back, to_itself) {
            port.mscount = 0;
            port.seqno = 0;
            let waiters = core::mem::take(&mut port.recv_waiters);
            self.wake_all(waiters);
            if let Some(s) = pset.and_then(|s| self.psets.get_mut(s)) {
                s.remove(p);
            }
            self.notify(
                pd,
                NOTIFY_PORT_DESTROYED,
                vec![KItem::Port {
                    right: Carried::Receive(p),
                    disposition: Disposition::MoveReceive,
                }],
            );
            return;
        }
        port.active = false;
        let queue = core::mem::take(&mut port.queue);
        let recv_waiters = core::mem::take(&mut port.recv_waiters);
        let send_waiters = core::mem::take(&mut port.send_waiters);
        let ns = port.nsrequest.take();
        let dnrequests = core::mem::take(&mut port.dnrequests);
        if let Some(s) = pset.and_then(|s| self.psets.get_mut(s)) {
            s.remove(p);
        }
        self.wake_all(recv_waiters);
        self.wake_all(send_waiters);
        for k in queue {
            self.destroy_kmsg(k);
        }
        if let Some(ns) = ns {
            self.destroy_send_once(ns);
        }
        if let (Some(pd), true) = (handed_back, to_itself) {
            // Handing the right to itself would make it unreachable: it dies,
            // and the request's right goes with it.
            self.destroy_send_once(pd);
        }
        for req in dnrequests {
            let entry = self
                .spaces
                .get(req.space.0)
                .and_then(|s| s.get(req.name))
                .copied();
            match entry {
                Some(e) if e.object == Object::Port(p) => {
                    self.convert_to_dead_name(req.space, req.name, e, 1);
                    self.notify(req.notify, NOTIFY_DEAD_NAME, vec![KItem::U32(req.name.0)]);
                }
                _ => self.destroy_send_once(req.notify),
            }
        }
        self.maybe_free(p);
    }

    /// Whether handing `p`'s receive right to a message queued on `dest` would
    /// put it out of reach for good.
    fn would_cycle(&self, p: PortRef, dest: PortRef) -> bool {
        let probe = KMessage::notification(
            dest,
            NOTIFY_PORT_DESTROYED,
            vec![KItem::Port {
                right: Carried::Receive(p),
                disposition: Disposition::MoveReceive,
            }],
        );
        self.is_circular(&probe, dest)
    }

    /// Destroys a port set: its members leave it, its waiters wake.
    pub(crate) fn destroy_pset(&mut self, s: PsetRef) {
        let Some(set) = self.psets.remove(s) else {
            return;
        };
        for m in set.members {
            if let Some(port) = self.ports.get_mut(m) {
                port.pset = None;
            }
        }
        self.wake_all(set.recv_waiters);
    }

    /// Destroys every right in a space, then the space: the task is gone.
    /// Receive rights die (or are handed to port-destroyed requesters), send rights
    /// are released (firing no-senders), send-once rights send their notification.
    pub fn destroy_space(&mut self, space: SpaceId) {
        let Some(s) = self.spaces.remove(space.0) else {
            return;
        };
        for (name, entry) in s.entries.drain() {
            let rights = entry.rights();
            match entry.object {
                Object::Port(p) => {
                    if entry.bits.contains(PortType::DNREQUEST) {
                        self.cancel_dnrequest(p, space, name, true);
                    }
                    if rights.contains(PortType::RECEIVE) {
                        if let Some(port) = self.ports.get_mut(p) {
                            port.receiver = Receiver::InTransit;
                        }
                        self.doomed.push(p);
                    }
                    if rights.contains(PortType::SEND) {
                        self.release_send(p);
                    }
                    if rights.contains(PortType::SEND_ONCE) {
                        self.destroy_send_once(p);
                    }
                }
                Object::PortSet(ps) => self.destroy_pset(ps),
                Object::None => {}
            }
        }
        self.settle();
    }

    /// Removes the dead-name request for `(space, name)` on `p`; with `deleted`,
    /// its notify right gets a port-deleted notification, otherwise it is returned.
    pub(crate) fn cancel_dnrequest(
        &mut self,
        p: PortRef,
        space: SpaceId,
        name: crate::PortName,
        deleted: bool,
    ) -> Option<PortRef> {
        let port = self.ports.get_mut(p)?;
        let i = port
            .dnrequests
            .iter()
            .position(|r| r.space == space && r.name == name)?;
        let req = port.dnrequests.swap_remove(i);
        if deleted {
            self.notify(
                req.notify,
                crate::notify::NOTIFY_PORT_DELETED,
                vec![KItem::U32(name.0)],
            );
            None
        } else {
            Some(req.notify)
        }
    }
}
