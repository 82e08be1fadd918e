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
//! A right's id says which node made the port, and its secret proves the
//! sender was given the right. The maker always sends a port's true secret;
//! a right to another node's port passed on by a third node cannot be
//! checked when it arrives, so the record it makes is *unverified*
//! ([`Entry::unverified_from`]): the maker's own right to that port, with
//! another secret, replaces it (its holders get dead names: it was forged),
//! and each peer may make at most [`MAX_UNVERIFIED`] such records. A right
//! whose destination is unknown, or known with another secret, is refused
//! before any of its rights is taken in.
//!
//! Everything here runs with the state lock held and returns [`Action`]s (frames
//! to send, messages to deliver) that the caller carries out after unlocking.
//!
//! The methods are grouped by where what they handle comes from:
//! [`export`] (rights leaving in frames), [`import`] (rights arriving from
//! frames), [`wire`] (frames from peers), [`ipc`] (messages local tasks send
//! to proxies) and [`life`] (releases, deaths and lost peers).

mod export;
mod import;
mod ipc;
mod life;
mod wire;

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

/// The most ports one peer may make known here on claims nobody can check
/// yet (rights to ports another node made; see [`Entry::unverified_from`]).
/// Beyond it, such rights arrive as dead names.
pub(crate) const MAX_UNVERIFIED: usize = 4096;

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
    /// How many entries each peer's unchecked claims made.
    unverified: HashMap<u16, usize>,
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
            unverified: HashMap::new(),
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

    /// Removes the record of `id`, and its count among its peer's unverified
    /// records.
    fn forget(&mut self, id: PortId) -> Option<Entry> {
        let e = self.ports.remove(&id)?;
        if let Some(p) = e.unverified_from {
            self.uncount_unverified(p);
        }
        Some(e)
    }

    fn uncount_unverified(&mut self, peer: u16) {
        if let Some(n) = self.unverified.get_mut(&peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.unverified.remove(&peer);
            }
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
