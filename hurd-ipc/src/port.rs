//! Ports: kernel-protected message queues with their counters and requests.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::kmsg::{KMessage, PortRef};
use crate::space::SpaceId;
use crate::{PortId, PortName};

/// Default queue limit (`MACH_PORT_QLIMIT_DEFAULT`).
pub const QLIMIT_DEFAULT: u16 = 5;
/// Largest queue limit (`MACH_PORT_QLIMIT_MAX`, GNU Mach).
pub const QLIMIT_MAX: u16 = 16;

/// A thread blocked in the kernel, named by whoever blocks it (the hosted runtime
/// or the kernel's scheduler).
pub type WaiterToken = u64;

/// Where the receive right is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Receiver {
    /// Held by a space under a name.
    Space(SpaceId, PortName),
    /// Carried in a message or a port-destroyed notification.
    InTransit,
}

/// A dead-name request: when the port dies, `space`'s `name` becomes a dead
/// name and a notification goes through the send-once right `notify`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeadNameRequest {
    pub(crate) space: SpaceId,
    pub(crate) name: PortName,
    pub(crate) notify: PortRef,
}

/// A port (`struct ipc_port`).
pub(crate) struct Port {
    pub(crate) id: PortId,
    /// False once the receive right was destroyed: the port is dead.
    pub(crate) active: bool,
    pub(crate) receiver: Receiver,
    pub(crate) queue: VecDeque<KMessage>,
    pub(crate) qlimit: u16,
    pub(crate) seqno: u32,
    pub(crate) mscount: u32,
    /// Send rights in existence: one per space holding one, one per right in transit.
    pub(crate) srights: u32,
    /// Send-once rights in existence, including those held by requests and by
    /// queued messages sent through one.
    pub(crate) sorights: u32,
    pub(crate) pset: Option<crate::port_set::PsetRef>,
    /// While the receive right is in transit: the port whose queue holds the
    /// message carrying it (to detect cycles of receive rights).
    pub(crate) transit_dest: Option<PortRef>,
    /// No-senders request: the send-once right to notify.
    pub(crate) nsrequest: Option<PortRef>,
    /// Port-destroyed request: the send-once right to hand the receive right to.
    pub(crate) pdrequest: Option<PortRef>,
    pub(crate) dnrequests: Vec<DeadNameRequest>,
    pub(crate) recv_waiters: VecDeque<WaiterToken>,
    pub(crate) send_waiters: VecDeque<WaiterToken>,
}

impl Port {
    pub(crate) fn new(id: PortId, receiver: Receiver) -> Port {
        Port {
            id,
            active: true,
            receiver,
            queue: VecDeque::new(),
            qlimit: QLIMIT_DEFAULT,
            seqno: 0,
            mscount: 0,
            srights: 0,
            sorights: 0,
            pset: None,
            transit_dest: None,
            nsrequest: None,
            pdrequest: None,
            dnrequests: Vec::new(),
            recv_waiters: VecDeque::new(),
            send_waiters: VecDeque::new(),
        }
    }

    /// Numbers a message being received by `space`: its sequence number, and
    /// the name `space` knows the port by (NULL if it holds no receive right).
    pub(crate) fn take_seqno(&mut self, space: SpaceId) -> (u32, PortName) {
        let seqno = self.seqno;
        self.seqno = seqno.wrapping_add(1);
        let local = match self.receiver {
            Receiver::Space(s, n) if s == space => n,
            _ => PortName::NULL,
        };
        (seqno, local)
    }

    /// Whether a send through a send right must wait for room.
    pub(crate) fn is_full(&self) -> bool {
        self.queue.len() >= usize::from(self.qlimit)
    }
}

/// The status of a receive right (`mach_port_status_t`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortStatus {
    /// The port set the port belongs to, as named in the caller's space.
    pub pset: PortName,
    /// The sequence number the next dequeued message will carry.
    pub seqno: u32,
    /// The make-send count.
    pub mscount: u32,
    /// The queue limit.
    pub qlimit: u16,
    /// Messages queued.
    pub msgcount: u32,
    /// Send-once rights in existence.
    pub sorights: u32,
    /// Whether send rights exist.
    pub srights: bool,
    /// Whether a port-destroyed request is registered.
    pub pdrequest: bool,
    /// Whether a no-senders request is registered.
    pub nsrequest: bool,
    /// The port's global identity.
    pub id: PortId,
}
