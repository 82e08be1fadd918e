//! `mach_msg`: sending into a port's queue and receiving from a port or port set.

use super::{IpcKernel, WaitSite};
use crate::kmsg::{KMessage, PortRef};
use crate::port::WaiterToken;
use crate::space::{Object, SpaceId};
use crate::{Disposition, Message, MsgReturn, PortName, PortType};

/// A send that failed. The message comes back exactly as it was given, names
/// and all: copyin is all-or-nothing, so every right it named is still held by
/// the sender. (For timeouts and interrupts Mach calls this "pseudo-receive".)
#[derive(Debug)]
pub struct SendError {
    /// Why.
    pub code: MsgReturn,
    /// The message, intact.
    pub message: Message,
}

/// Options for a receive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecvOptions {
    /// The largest message, in wire-form bytes, the receiver accepts (`rcv_size`);
    /// `None` accepts any size.
    pub max_size: Option<u64>,
    /// `MACH_RCV_LARGE`: leave a too-large message queued and report its size,
    /// instead of dequeuing and destroying it.
    pub large: bool,
}

/// A receive that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError {
    /// Why.
    pub code: MsgReturn,
    /// For [`MsgReturn::RcvTooLarge`], the size of the message; otherwise 0.
    pub size: u64,
}

impl From<MsgReturn> for RecvError {
    fn from(code: MsgReturn) -> Self {
        RecvError { code, size: 0 }
    }
}

impl IpcKernel {
    /// Queues `k` on `p` and wakes one receiver waiting on the port or its set.
    pub(crate) fn enqueue(&mut self, p: PortRef, k: KMessage) {
        if self.ports.get(p).is_none() {
            self.destroy_kmsg(k);
            return;
        }
        if k.carries_receive_rights() {
            for r in k.carried_receive_rights() {
                if let Some(rport) = self.ports.get_mut(r) {
                    rport.transit_dest = Some(p);
                }
            }
        }
        let Some(port) = self.ports.get_mut(p) else {
            return;
        };
        port.queue.push_back(k);
        let first = port.queue.len() == 1;
        let waiter = match port.recv_waiters.pop_front() {
            Some(t) => Some(t),
            None => port.pset.and_then(|s| self.psets.get_mut(s)).and_then(|s| {
                if first {
                    s.ready.push_back(p);
                }
                s.recv_waiters.pop_front()
            }),
        };
        let Some(t) = waiter else { return };
        if self.handoff {
            match self.waiting.remove(t) {
                Some(WaitSite::Receive(_, space, opts) | WaitSite::ReceiveSet(_, space, opts)) => {
                    self.handoffs.push((t, space, p, opts));
                    return;
                }
                Some(other) => {
                    self.waiting.insert(t, other);
                }
                None => {}
            }
        }
        self.wake(t);
    }

    /// Sends `msg` from `space` (`mach_msg` with `MACH_SEND_MSG`).
    ///
    /// Fails with [`MsgReturn::SendTimedOut`] when the destination's queue is full
    /// (sends through send-once rights ignore the limit); with `wait`, the token is
    /// registered and woken when there may be room. On any failure the message is
    /// handed back and the sender's rights are untouched.
    ///
    /// # Errors
    ///
    /// A [`SendError`] with the `MACH_SEND_*` code and the message, intact.
    pub fn send(
        &mut self,
        space: SpaceId,
        msg: Message,
        wait: Option<WaiterToken>,
    ) -> Result<(), SendError> {
        let checked = match self.check_copyin(space, &msg) {
            Ok(c) => c,
            Err(code) => return Err(SendError { code, message: msg }),
        };
        let dest = checked.dest;
        let send_once = matches!(
            msg.header.bits.remote(),
            Some(Disposition::MoveSendOnce | Disposition::MakeSendOnce)
        );
        if !send_once
            && let Some(port) = self.ports.get_mut(dest)
            && port.is_full()
        {
            if let Some(t) = wait {
                port.send_waiters.push_back(t);
                self.waiting.insert(t, WaitSite::Send(dest));
            }
            return Err(SendError {
                code: MsgReturn::SendTimedOut,
                message: msg,
            });
        }
        let k = self.copyin(space, msg, checked);
        self.stats.sent += 1;
        let k = match self.try_hand_off(dest, k) {
            Ok(()) => {
                self.settle();
                return Ok(());
            }
            Err(k) => k,
        };
        if self.is_circular(&k, dest) {
            self.destroy_kmsg(k);
        } else {
            self.enqueue(dest, k);
        }
        self.settle();
        Ok(())
    }

    /// The fast path of a send: with direct hand-off on, when a thread waits on
    /// `dest` itself with nothing queued ahead, and the message carries no
    /// receive right (so it cannot be circular) and fits the waiter's buffer,
    /// the message is received for that thread at once, without queueing.
    /// Otherwise the message comes back for the general path.
    fn try_hand_off(&mut self, dest: PortRef, k: KMessage) -> Result<(), KMessage> {
        if !self.handoff || k.carries_receive_rights() {
            return Err(k);
        }
        let Some(port) = self.ports.get_mut(dest) else {
            return Err(k);
        };
        let Some(&t) = port.recv_waiters.front() else {
            return Err(k);
        };
        if !port.queue.is_empty() {
            return Err(k);
        }
        let size = k.wire_size();
        let space = match self.waiting.remove(t) {
            Some(WaitSite::Receive(_, space, opts))
                if opts.max_size.is_none_or(|max| size <= max) =>
            {
                space
            }
            Some(site) => {
                // Too large for the waiter: the general path reports it.
                self.waiting.insert(t, site);
                return Err(k);
            }
            None => return Err(k),
        };
        port.recv_waiters.pop_front();
        let (seqno, local) = port.take_seqno(space);
        self.stats.received += 1;
        let m = self.copyout(space, k, local, seqno, size);
        self.delivered.push((t, Ok(m)));
        self.wakeups.push(t);
        Ok(())
    }

    /// Receives the next message on `name`, a receive right or a port set
    /// (`mach_msg` with `MACH_RCV_MSG`).
    ///
    /// Fails with [`MsgReturn::RcvTimedOut`] when nothing is queued; with `wait`,
    /// the token is registered and woken when a message may have arrived or the
    /// port died.
    ///
    /// # Errors
    ///
    /// A [`RecvError`] with the `MACH_RCV_*` code: `MACH_RCV_INVALID_NAME`,
    /// `MACH_RCV_IN_SET`, `MACH_RCV_TIMED_OUT`, `MACH_RCV_TOO_LARGE` (with the
    /// message's size), `MACH_RCV_PORT_DIED`.
    pub fn receive(
        &mut self,
        space: SpaceId,
        name: PortName,
        opts: RecvOptions,
        wait: Option<WaiterToken>,
    ) -> Result<Message, RecvError> {
        let entry = self
            .lookup(space, name)
            .map_err(|_| RecvError::from(MsgReturn::RcvInvalidName))?;
        match entry.object {
            Object::Port(p) if entry.rights().contains(PortType::RECEIVE) => {
                let Some(port) = self.ports.get_mut(p) else {
                    return Err(MsgReturn::RcvPortDied.into());
                };
                if port.pset.is_some() {
                    return Err(MsgReturn::RcvInSet.into());
                }
                if port.queue.is_empty() {
                    if let Some(t) = wait {
                        self.register_receiver(t, WaitSite::Receive(p, space, opts));
                    }
                    return Err(MsgReturn::RcvTimedOut.into());
                }
                self.dequeue(space, p, opts)
            }
            Object::PortSet(s) => {
                let Some(set) = self.psets.get_mut(s) else {
                    return Err(MsgReturn::RcvPortDied.into());
                };
                // The first member in line that is still a member with a
                // message; stale entries go.
                let mut ready = None;
                while let Some(p) = set.ready.pop_front() {
                    if self
                        .ports
                        .get(p)
                        .is_some_and(|port| port.pset == Some(s) && !port.queue.is_empty())
                    {
                        ready = Some(p);
                        break;
                    }
                }
                match ready {
                    Some(p) => {
                        let r = self.dequeue(space, p, opts);
                        // Still messages (or one left too large): back in line.
                        let more = self
                            .ports
                            .get(p)
                            .is_some_and(|port| port.pset == Some(s) && !port.queue.is_empty());
                        if more && let Some(set) = self.psets.get_mut(s) {
                            set.ready.push_back(p);
                        }
                        r
                    }
                    None => {
                        if let Some(t) = wait {
                            self.register_receiver(t, WaitSite::ReceiveSet(s, space, opts));
                        }
                        Err(MsgReturn::RcvTimedOut.into())
                    }
                }
            }
            _ => Err(MsgReturn::RcvInvalidName.into()),
        }
    }

    fn dequeue(
        &mut self,
        space: SpaceId,
        p: PortRef,
        opts: RecvOptions,
    ) -> Result<Message, RecvError> {
        let r = self.dequeue_unsettled(space, p, opts);
        self.settle();
        r
    }

    /// Takes the next message of `p` for `space`; the caller settles.
    pub(crate) fn dequeue_unsettled(
        &mut self,
        space: SpaceId,
        p: PortRef,
        opts: RecvOptions,
    ) -> Result<Message, RecvError> {
        let Some(port) = self.ports.get_mut(p) else {
            return Err(MsgReturn::RcvPortDied.into());
        };
        let Some(size) = port.queue.front().map(KMessage::wire_size) else {
            return Err(MsgReturn::RcvTimedOut.into());
        };
        let too_large = opts.max_size.is_some_and(|max| size > max);
        if too_large && opts.large {
            return Err(RecvError {
                code: MsgReturn::RcvTooLarge,
                size,
            });
        }
        let Some(k) = port.queue.pop_front() else {
            return Err(MsgReturn::RcvTimedOut.into());
        };
        let sender = port.send_waiters.pop_front();
        let numbered = if too_large {
            // Dequeued and destroyed: it still takes its sequence number.
            port.seqno = port.seqno.wrapping_add(1);
            None
        } else {
            Some(port.take_seqno(space))
        };
        if let Some(t) = sender {
            self.wake(t);
        }
        match numbered {
            Some((seqno, local)) => {
                self.stats.received += 1;
                Ok(self.copyout(space, k, local, seqno, size))
            }
            None => {
                self.destroy_kmsg(k);
                Err(RecvError {
                    code: MsgReturn::RcvTooLarge,
                    size,
                })
            }
        }
    }
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "send failed: {}", self.code)
    }
}

impl core::error::Error for SendError {}

impl core::fmt::Display for RecvError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.code == MsgReturn::RcvTooLarge {
            write!(
                f,
                "receive failed: {} (message of {} bytes)",
                self.code, self.size
            )
        } else {
            write!(f, "receive failed: {}", self.code)
        }
    }
}

impl core::error::Error for RecvError {}
