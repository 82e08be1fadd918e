//! The fast path of an RPC: a simple message sent straight to the thread
//! waiting on its destination, then the sender's own receive, in one call.

use alloc::vec::Vec;

use super::{IpcKernel, WaitSite};
use crate::kmsg::PortRef;
use crate::message::{HEADER_SIZE, MsgHeader};
use crate::port::WaiterToken;
use crate::space::{Entry, Object, SpaceId};
use crate::{Disposition, Message, MsgBits, MsgReturn, PortName, PortType};

use super::{RecvError, RecvOptions};

/// What [`IpcKernel::send_receive_fast`] did.
#[derive(Debug)]
pub enum FastRpc {
    /// The message went straight to the thread waiting on its destination.
    Done {
        /// That thread's token (it is no longer registered, and is not in
        /// the wakeups: its caller hands it `message`).
        to: WaiterToken,
        /// The message as that thread receives it.
        message: Message,
        /// The sender's receive, exactly as [`IpcKernel::receive`] returns
        /// it: [`MsgReturn::RcvTimedOut`](crate::MsgReturn::RcvTimedOut)
        /// means its token is registered and it waits.
        received: Result<Message, RecvError>,
    },
    /// The fast path does not apply: nothing was done, and the message comes
    /// back for the general path (`send`, then `receive`).
    NotApplicable(Message),
}

/// A header-only RPC message handed over by
/// [`IpcKernel::send_receive_header`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderRpc {
    /// The thread that received it (no longer registered, and not in the
    /// wakeups: its caller hands it `header`).
    pub to: WaiterToken,
    /// The message as that thread receives it.
    pub header: MsgHeader,
}

/// What [`IpcKernel::header_plan`] found: the ports and the receiver of a
/// header-only RPC.
struct HeaderPlan {
    dest: PortRef,
    /// The destination is named by a send-once right (else a send right).
    dest_once: bool,
    /// The reply port, when the message has one.
    reply: Option<PortRef>,
    /// The port the sender receives on.
    rcv: PortRef,
    /// The thread waiting on `dest`.
    to: WaiterToken,
    /// Where its registration is (see `SmallMap::get_for_rekey`), for the
    /// sender's to take its place.
    at: Option<usize>,
    /// Its space.
    rspace: SpaceId,
}

/// The receiver a message goes to on the fast path.
struct Taker {
    token: WaiterToken,
    space: SpaceId,
    /// Its name for the destination port.
    local: PortName,
    seqno: u32,
}

impl IpcKernel {
    // ANCHOR: send_receive_fast
    /// `mach_msg` with `MACH_SEND_MSG | MACH_RCV_MSG` for the common RPC: the
    /// same as [`send`](Self::send) followed by [`receive`](Self::receive)
    /// with `wait`, but the message is handed to its receiver here, not
    /// through [`take_deliveries`](Self::take_deliveries) and
    /// [`take_wakeups`](Self::take_wakeups).
    ///
    /// It applies when direct hand-off is on, the body carries no right and
    /// no out-of-line memory, the message is valid, and a thread waits on
    /// the destination port itself (not through a set) with nothing queued
    /// ahead, room in its buffer, and room in the queue (or a send-once
    /// destination). Otherwise nothing is done and the message comes back.
    pub fn send_receive_fast(
        &mut self,
        space: SpaceId,
        msg: Message,
        rcv_name: PortName,
        opts: RecvOptions,
        wait: WaiterToken,
    ) -> FastRpc {
        if !self.handoff || msg.body_is_complex() {
            return FastRpc::NotApplicable(msg);
        }
        if msg.body.is_empty()
            && let Some(done) = self.send_receive_header(space, &msg.header, rcv_name, opts, wait)
        {
            return FastRpc::Done {
                to: done.to,
                message: Message {
                    header: done.header,
                    body: Vec::new(),
                },
                received: Err(MsgReturn::RcvTimedOut.into()),
            };
        }
        let Ok(checked) = self.check_copyin(space, &msg) else {
            return FastRpc::NotApplicable(msg);
        };
        let size = msg.wire_size();
        let Some(taker) = self.fast_waiter(checked.dest, size, &msg) else {
            return FastRpc::NotApplicable(msg);
        };
        let k = self.copyin(space, msg, checked);
        self.stats.sent += 1;
        self.stats.received += 1;
        let message = self.copyout(taker.space, k, taker.local, taker.seqno, size);
        self.settle();
        let received = self.receive(space, rcv_name, opts, Some(wait));
        FastRpc::Done {
            to: taker.token,
            message,
            received,
        }
    }
    // ANCHOR_END: send_receive_fast

    // ANCHOR: send_receive_header
    /// The RPC of a message that is only a header, in the one case that
    /// needs no general machinery: the same as
    /// [`send_receive_fast`](Self::send_receive_fast) with an empty body
    /// (and the header's `size` taken as [`HEADER_SIZE`]), when
    ///
    /// - the destination is named by a send right used with copy-send, or by
    ///   a send-once right (with no dead-name request) used with
    ///   move-send-once;
    /// - the reply port is none, or a receive right (another name) used with
    ///   make-send-once;
    /// - a thread waits on the destination port itself, with nothing queued
    ///   and room in the queue (or a send-once destination);
    /// - the sender's receive name is a receive right in no port set, with
    ///   nothing queued, so the sender waits;
    /// - the sender's token waits nowhere yet (a receive asked again before
    ///   the first was answered is the general path's: it leaves its earlier
    ///   place first).
    ///
    /// Then the message goes to that thread, `wait` is registered on the
    /// sender's receive name, and the message as received comes back.
    /// Otherwise (`None`) nothing was done. No right changes hands here that
    /// could fire a notification: a copied send right is released on
    /// delivery while the sender keeps its own, and a send-once right is
    /// consumed by the delivery.
    ///
    /// Inlined into its callers: the reference kernel's straight path saves
    /// the call and keeps what it knows in registers.
    #[inline(always)]
    pub fn send_receive_header(
        &mut self,
        space: SpaceId,
        h: &MsgHeader,
        rcv_name: PortName,
        opts: RecvOptions,
        wait: WaiterToken,
    ) -> Option<HeaderRpc> {
        if !self.handoff {
            return None;
        }
        let plan = self.header_plan(space, h, rcv_name, wait)?;
        // Everything is checked: from here on it happens.
        let HeaderPlan {
            dest,
            dest_once,
            reply,
            rcv,
            to,
            at,
            rspace,
        } = plan;
        if dest_once && let Some(s) = self.spaces.get_mut(space.0) {
            s.entries.remove(h.remote);
        }
        let remote = match reply {
            Some(r) => {
                if let Some(port) = self.ports.get_mut(r) {
                    port.sorights += 1;
                }
                self.spaces.get_mut(rspace.0).map_or(PortName::DEAD, |s| {
                    s.insert_fresh(Entry {
                        object: Object::Port(r),
                        bits: PortType::SEND_ONCE,
                        urefs: 1,
                    })
                })
            }
            None => PortName::NULL,
        };
        let (seqno, local) = match self.ports.get_mut(dest) {
            Some(port) => {
                if dest_once {
                    // Consumed by the delivery.
                    port.sorights = port.sorights.saturating_sub(1);
                }
                port.recv_waiters.pop_front();
                port.take_seqno(rspace)
            }
            None => (0, PortName::NULL),
        };
        // The receiver's wait ends and the sender's begins.
        self.waiting
            .rekey_at(at, to, wait, WaitSite::Receive(rcv, space, opts));
        self.stats.sent += 1;
        self.stats.received += 1;
        if let Some(port) = self.ports.get_mut(rcv) {
            port.recv_waiters.push_back(wait);
        }
        let local_type = if dest_once {
            Disposition::PORT_SEND_ONCE
        } else {
            Disposition::PORT_SEND
        };
        let bits = match reply {
            Some(_) => MsgBits::new(Disposition::PORT_SEND_ONCE, Some(local_type)),
            None => MsgBits(u32::from(u8::from(local_type)) << 8),
        };
        Some(HeaderRpc {
            to,
            header: MsgHeader {
                bits,
                size: HEADER_SIZE,
                remote,
                local,
                seqno,
                id: h.id,
            },
        })
    }
    // ANCHOR_END: send_receive_header

    /// Checks every condition of
    /// [`send_receive_header`](Self::send_receive_header), changing nothing;
    /// `wait` is the sender's token.
    #[inline(always)]
    fn header_plan(
        &self,
        space: SpaceId,
        h: &MsgHeader,
        rcv_name: PortName,
        wait: WaiterToken,
    ) -> Option<HeaderPlan> {
        let bits = h.bits;
        if bits.has_unknown_bits() || bits.is_complex() || !h.remote.is_valid() {
            return None;
        }
        let dest_once = match bits.remote()? {
            Disposition::CopySend => false,
            Disposition::MoveSendOnce => true,
            _ => return None,
        };
        let with_reply = match (bits.local_raw(), bits.local()) {
            (0, _) if h.local.is_null() => false,
            (_, Some(Disposition::MakeSendOnce)) if h.local.is_valid() && h.local != h.remote => {
                true
            }
            _ => return None,
        };
        let s = self.spaces.get(space.0)?;
        let d = s.get(h.remote)?;
        let Object::Port(dest) = d.object else {
            return None;
        };
        let holds = if dest_once {
            // Only the send-once right, and no dead-name request to cancel.
            d.bits == PortType::SEND_ONCE
        } else {
            d.bits.contains(PortType::SEND)
        };
        if !holds {
            return None;
        }
        let reply = if with_reply {
            let e = s.get(h.local)?;
            match e.object {
                Object::Port(r) if e.bits.contains(PortType::RECEIVE) => Some(r),
                _ => return None,
            }
        } else {
            None
        };
        let e = s.get(rcv_name)?;
        let rcv = match e.object {
            Object::Port(q) if e.bits.contains(PortType::RECEIVE) => q,
            _ => return None,
        };
        let q = self.ports.get(rcv)?;
        if !q.active || q.pset.is_some() || !q.queue.is_empty() {
            return None;
        }
        if let Some(r) = reply
            && !self.ports.get(r)?.active
        {
            return None;
        }
        let port = self.ports.get(dest)?;
        if !port.active || !port.queue.is_empty() || (!dest_once && port.is_full()) {
            return None;
        }
        let to = *port.recv_waiters.front()?;
        let (site, at) = self.waiting.get_for_rekey(to, wait)?;
        let rspace = match site {
            WaitSite::Receive(p, rspace, ropts)
                if *p == dest
                    && ropts
                        .max_size
                        .is_none_or(|max| u64::from(HEADER_SIZE) <= max) =>
            {
                *rspace
            }
            _ => return None,
        };
        self.spaces.get(rspace.0)?;
        Some(HeaderPlan {
            dest,
            dest_once,
            reply,
            rcv,
            to,
            at,
            rspace,
        })
    }

    /// The thread waiting on `dest` that can take a message of `size` bytes
    /// at once, taken off the port's waiters with the message's sequence
    /// number; `None` (nothing changed) when the general path must run.
    fn fast_waiter(&mut self, dest: PortRef, size: u64, msg: &Message) -> Option<Taker> {
        let port = self.ports.get(dest)?;
        let send_once = matches!(
            msg.header.bits.remote(),
            Some(Disposition::MoveSendOnce | Disposition::MakeSendOnce)
        );
        if !port.queue.is_empty() || (!send_once && port.is_full()) {
            return None;
        }
        let t = *port.recv_waiters.front()?;
        match self.waiting.remove(t) {
            Some(WaitSite::Receive(p, space, opts))
                if p == dest && opts.max_size.is_none_or(|max| size <= max) =>
            {
                let port = self.ports.get_mut(dest)?;
                port.recv_waiters.pop_front();
                let (seqno, local) = port.take_seqno(space);
                Some(Taker {
                    token: t,
                    space,
                    local,
                    seqno,
                })
            }
            Some(site) => {
                self.waiting.insert(t, site);
                None
            }
            None => None,
        }
    }
}
