//! The rendezvous table: handshakes waiting for their other half.
//!
//! Each entry is one deferred RPC — a `user_authenticate` or a
//! `server_authenticate` that arrived first — keyed by the rendezvous port's
//! global identity ([`PortId`]). The table is plain data: it holds the rights
//! the waiting call brought (by name) but never touches an IPC space; the
//! [`AuthServer`](crate::server::AuthServer) sends the replies and releases the
//! rights of what this table hands back.
//!
//! It is bounded per side, so a client that starts handshakes and never
//! finishes them fills its side of the table and then gets `EAGAIN`, and every
//! entry has a deadline after which it is handed back for an `ETIMEDOUT` reply.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use hurd_ipc::mig::Request;
use hurd_ipc::{PortId, PortItem, PortName};

use crate::idset::IdSet;

/// Which half of a handshake a call is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Side {
    /// `auth_user_authenticate`.
    User,
    /// `auth_server_authenticate`.
    Server,
}

/// What a waiting call brings to its match.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Waiting {
    /// A user: the ids of the handle it called on, for the server's reply.
    User(IdSet),
    /// A server: the port to pass to the user.
    Server(PortItem),
}

impl Waiting {
    /// Which side it is.
    pub fn side(&self) -> Side {
        match self {
            Waiting::User(_) => Side::User,
            Waiting::Server(_) => Side::Server,
        }
    }
}

/// One deferred call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Pending {
    /// The rendezvous send right, as named in the auth server's space (one user
    /// reference belongs to this entry).
    pub rendezvous: PortName,
    /// The request, whose reply right answers the waiting caller.
    pub request: Request,
    /// What it brings.
    pub waiting: Waiting,
    /// When it gives up, in the server clock's milliseconds.
    pub deadline: u64,
}

/// What became of a call that arrived at the table.
#[derive(Debug)]
pub enum Arrival {
    /// Its other half was waiting: here it is, removed from the table.
    Matched(Pending),
    /// It waits in the table now.
    Parked,
    /// A call of the same side already waits on this rendezvous port (a
    /// replay): the arriving call is handed back.
    Busy(Pending),
    /// Its side of the table is full: the arriving call is handed back.
    Full(Pending),
}

/// Per-side bounds of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Bounds {
    /// Most `user_authenticate` calls waiting at once.
    pub users: usize,
    /// Most `server_authenticate` calls waiting at once.
    pub servers: usize,
}

/// The bounded table of waiting calls.
#[derive(Debug)]
pub struct PendingTable {
    entries: BTreeMap<PortId, Pending>,
    users: usize,
    servers: usize,
    bounds: Bounds,
}

impl PendingTable {
    /// An empty table with these bounds.
    pub fn new(bounds: Bounds) -> PendingTable {
        PendingTable {
            entries: BTreeMap::new(),
            users: 0,
            servers: 0,
            bounds,
        }
    }

    /// Waiting users.
    pub fn users(&self) -> usize {
        self.users
    }

    /// Waiting servers.
    pub fn servers(&self) -> usize {
        self.servers
    }

    /// All waiting calls.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A call arrives for the rendezvous port `key`.
    pub fn arrive(&mut self, key: PortId, call: Pending) -> Arrival {
        let side = call.waiting.side();
        if let Some(waiting) = self.entries.get(&key) {
            if waiting.waiting.side() == side {
                return Arrival::Busy(call);
            }
            return match self.take(key) {
                Some(other) => Arrival::Matched(other),
                None => Arrival::Busy(call),
            };
        }
        let (count, bound) = match side {
            Side::User => (&mut self.users, self.bounds.users),
            Side::Server => (&mut self.servers, self.bounds.servers),
        };
        if *count >= bound {
            return Arrival::Full(call);
        }
        *count += 1;
        self.entries.insert(key, call);
        Arrival::Parked
    }

    fn take(&mut self, key: PortId) -> Option<Pending> {
        let p = self.entries.remove(&key)?;
        match p.waiting.side() {
            Side::User => self.users -= 1,
            Side::Server => self.servers -= 1,
        }
        Some(p)
    }

    fn take_where(&mut self, mut f: impl FnMut(&Pending) -> bool) -> Vec<Pending> {
        let keys: Vec<PortId> = self
            .entries
            .iter()
            .filter(|(_, p)| f(p))
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter().filter_map(|k| self.take(k)).collect()
    }

    /// Removes the calls whose rendezvous or reply right is `name` (it died).
    pub fn remove_name(&mut self, name: PortName) -> Vec<Pending> {
        self.take_where(|p| p.rendezvous == name || p.request.reply == name)
    }

    /// Removes the calls whose deadline is at or before `now`.
    pub fn expire(&mut self, now: u64) -> Vec<Pending> {
        self.take_where(|p| p.deadline <= now)
    }

    /// The earliest deadline, if anything waits.
    pub fn next_deadline(&self) -> Option<u64> {
        self.entries.values().map(|p| p.deadline).min()
    }

    /// Removes every call (the server is shutting down).
    pub fn drain(&mut self) -> Vec<Pending> {
        self.take_where(|_| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_ipc::Disposition;

    fn call(side: Side, rend: u32, reply: u32, deadline: u64) -> Pending {
        Pending {
            rendezvous: PortName(rend),
            request: Request {
                id: 0,
                port: PortName(1),
                seqno: 0,
                reply: PortName(reply),
            },
            waiting: match side {
                Side::User => Waiting::User(IdSet::empty()),
                Side::Server => Waiting::Server(PortItem {
                    disposition: Disposition::MoveSend,
                    name: PortName(99),
                }),
            },
            deadline,
        }
    }

    const B: Bounds = Bounds {
        users: 2,
        servers: 1,
    };

    #[test]
    fn opposite_sides_match_same_side_is_busy() {
        let mut t = PendingTable::new(B);
        let k = PortId::new(0, 7);
        assert!(matches!(
            t.arrive(k, call(Side::User, 5, 10, 100)),
            Arrival::Parked
        ));
        assert!(matches!(
            t.arrive(k, call(Side::User, 5, 11, 100)),
            Arrival::Busy(_)
        ));
        match t.arrive(k, call(Side::Server, 5, 12, 100)) {
            Arrival::Matched(p) => assert_eq!(p.request.reply, PortName(10)),
            other => panic!("expected a match, got {other:?}"),
        }
        assert!(t.is_empty());
        assert_eq!((t.users(), t.servers()), (0, 0));
    }

    #[test]
    fn bounded_per_side() {
        let mut t = PendingTable::new(B);
        for i in 0..2 {
            assert!(matches!(
                t.arrive(PortId::new(0, i), call(Side::User, 5, 10, 100)),
                Arrival::Parked
            ));
        }
        assert!(matches!(
            t.arrive(PortId::new(0, 9), call(Side::User, 5, 10, 100)),
            Arrival::Full(_)
        ));
        // The other side still has room.
        assert!(matches!(
            t.arrive(PortId::new(0, 9), call(Side::Server, 5, 10, 100)),
            Arrival::Parked
        ));
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn expiry_and_death_remove_entries() {
        let mut t = PendingTable::new(B);
        t.arrive(PortId::new(0, 1), call(Side::User, 5, 10, 50));
        t.arrive(PortId::new(0, 2), call(Side::User, 6, 11, 80));
        t.arrive(PortId::new(0, 3), call(Side::Server, 7, 12, 90));
        assert_eq!(t.next_deadline(), Some(50));
        assert_eq!(t.expire(60).len(), 1);
        assert_eq!(t.remove_name(PortName(11)).len(), 1, "reply right died");
        assert_eq!(t.remove_name(PortName(7)).len(), 1, "rendezvous died");
        assert!(t.is_empty());
        assert_eq!(t.next_deadline(), None);
        assert!(t.drain().is_empty());
    }
}
