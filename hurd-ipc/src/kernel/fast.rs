//! The fast path of an RPC: a simple message sent straight to the thread
//! waiting on its destination, then the sender's own receive, in one call.

use super::{IpcKernel, WaitSite};
use crate::kmsg::PortRef;
use crate::port::WaiterToken;
use crate::space::SpaceId;
use crate::{Disposition, Message, PortName};

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
