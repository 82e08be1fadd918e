//! The registry: the port every node serves to its peers (introduced in
//! `HELLO`), giving names to ports so tasks on different nodes can meet.
//!
//! Each peer is given a registry port of its own, and the node's own tasks
//! share one more: the port a request arrives on says who asks (a
//! capability, as everything on Mach). A name belongs to whoever registered
//! it first — only the same node may replace or drop it — until its port
//! dies or, for a peer's name, the peer leaves. A peer's port goes when the
//! peer leaves, with its names and its waiting lookups. Lookups that wait
//! are bounded per asker.

use std::collections::HashMap;
use std::sync::Mutex;

use hurd_ipc::hosted::Task;
use hurd_ipc::mig::Request;
use hurd_ipc::user::{PortSet, ReceiveRight, Right, SendOnceRight, SendRight};
use hurd_ipc::{
    Disposition, Errno, Error, KernReturn, MigReturn, PortItem, PortName, PortType, UserIpc,
};

use crate::node::Shared;

// The registry's codes are the Hurd's `errno` values (0x4000_0000 | n), so
// a client's stub never takes one for a `KERN_*` code.

/// `EPERM`: another node registered the name (`unregister`).
pub const EPERM: i32 = Errno::Perm as i32;
/// `ENOENT`: no port is registered under the name.
pub const ENOENT: i32 = Errno::NoEnt as i32;
/// `EAGAIN`: the asker already has [`MAX_WAITING`] lookups waiting.
pub const EAGAIN: i32 = Errno::Again as i32;
/// `EEXIST`: another node registered the name, and its port is alive.
pub const EEXIST: i32 = Errno::Exist as i32;
/// `EINVAL`: only a send right may be registered.
pub const EINVAL: i32 = Errno::Inval as i32;
/// `EHOSTUNREACH`: the node asked for is not connected (the Hurd's 65).
pub const EHOSTUNREACH: i32 = 0x4000_0041;

/// The most `lookup_wait` requests one asker (a peer, or the node's own
/// tasks together) may have waiting.
pub const MAX_WAITING: usize = 64;

hurd_ipc::interface! {
    /// The registry protocol.
    pub mod registry: subsystem 2950 {
        /// Registers a send right under `name`: a new name, or one this
        /// node registered before (the old right is replaced), or one whose
        /// port died. `EEXIST` when another node holds the name.
        routine register(name: String, port: PortItem);
        /// A send right registered under `name` (`ENOENT` if none).
        routine lookup(name: String) -> (port: PortItem);
        /// Like `lookup`, but waits until something is registered under
        /// `name` (`EAGAIN` when the asker has too many waiting).
        routine lookup_wait(name: String) -> (port: PortItem);
        /// Looks `name` up in the registry of peer `node`, from this node.
        routine lookup_at(node: u32, name: String) -> (port: PortItem);
        /// This node's send right to peer `node`'s registry.
        routine peer(node: u32) -> (port: PortItem);
        /// This node's number.
        routine whoami() -> (node: u32);
        /// Drops the right registered under `name`, if this node registered
        /// it (`EPERM` when another node did and its port is alive).
        routine unregister(name: String);
    }
}

/// Who a registry port speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Owner {
    /// The node's own tasks.
    Local,
    /// A peer node.
    Peer(u16),
}

/// A registered right and who registered it.
struct Registered {
    right: SendRight<Task>,
    owner: Owner,
}

impl Registered {
    /// Whether the port it names has died.
    fn is_dead(&self) -> bool {
        !self
            .right
            .ipc()
            .port_type(self.right.name())
            .is_ok_and(|t| !t.contains(PortType::DEAD_NAME))
    }
}

/// A `lookup_wait` waiting for its name, with its reply right.
struct Waiter {
    owner: Owner,
    req: Request,
}

#[derive(Default)]
struct State {
    /// Every registry port (receive rights in the registry task, members of
    /// its port set) and whom it speaks for.
    owners: HashMap<PortName, Owner>,
    /// The port given to each peer.
    peer_ports: HashMap<u16, ReceiveRight<Task>>,
    names: HashMap<String, Registered>,
    waiting: HashMap<String, Vec<Waiter>>,
}

/// The registry of one node: its ports and names. Served by
/// [`serve`] on its own thread; the transport asks it for a peer's port
/// when the peer connects ([`Registry::peer_port`]) and tells it when the
/// peer leaves ([`Registry::peer_left`]).
pub(crate) struct Registry {
    task: Task,
    pset: PortSet<Task>,
    local: ReceiveRight<Task>,
    state: Mutex<State>,
}

impl Registry {
    /// A registry in `task` (the registry task, which nothing else uses).
    pub(crate) fn new(task: Task) -> Result<Registry, KernReturn> {
        let pset = PortSet::allocate(task.clone())?;
        let local = ReceiveRight::allocate(task.clone())?;
        pset.insert(local.name())?;
        let mut state = State::default();
        state.owners.insert(local.name(), Owner::Local);
        Ok(Registry {
            task,
            pset,
            local,
            state: Mutex::new(state),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives `task` a send right to the port the node's own tasks use.
    pub(crate) fn local_right(&self, task: &Task) -> Result<PortName, KernReturn> {
        self.task
            .give_right(self.local.name(), Disposition::MakeSend, task)
    }

    /// Gives `task` a send right to peer `node`'s registry port, made now
    /// if the peer has none.
    pub(crate) fn peer_port(&self, node: u16, task: &Task) -> Result<PortName, KernReturn> {
        let mut st = self.state();
        let port = match st.peer_ports.get(&node) {
            Some(p) => p.name(),
            None => {
                let p = ReceiveRight::allocate(self.task.clone())?;
                self.pset.insert(p.name())?;
                let name = p.name();
                st.owners.insert(name, Owner::Peer(node));
                st.peer_ports.insert(node, p);
                name
            }
        };
        self.task.give_right(port, Disposition::MakeSend, task)
    }

    /// Peer `node` left: its port, the names it registered and its waiting
    /// lookups go (those get a send-once notification in place of a reply).
    pub(crate) fn peer_left(&self, node: u16) {
        let owner = Owner::Peer(node);
        log::debug!("registry: peer {node} left, its names and lookups go");
        let (port, names, waiters) = {
            let mut st = self.state();
            let port = st.peer_ports.remove(&node);
            if let Some(p) = &port {
                st.owners.remove(&p.name());
            }
            let names: Vec<Registered> = {
                let gone: Vec<String> = st
                    .names
                    .iter()
                    .filter(|(_, r)| r.owner == owner)
                    .map(|(n, _)| n.clone())
                    .collect();
                gone.iter().filter_map(|n| st.names.remove(n)).collect()
            };
            let mut waiters = Vec::new();
            for list in st.waiting.values_mut() {
                let (theirs, others): (Vec<Waiter>, Vec<Waiter>) =
                    list.drain(..).partition(|w| w.owner == owner);
                *list = others;
                waiters.extend(theirs);
            }
            st.waiting.retain(|_, l| !l.is_empty());
            (port, names, waiters)
        };
        // Released outside the lock.
        drop((port, names));
        for w in waiters {
            drop(SendOnceRight::from_raw(&self.task, w.req.reply));
        }
    }

    /// Who the port a request came in on speaks for.
    fn owner(&self, req: &Request) -> Option<Owner> {
        self.state().owners.get(&req.port).copied()
    }

    /// Serves requests until the registry task ends.
    pub(crate) fn serve(shared: &Shared) {
        let reg = &shared.registry;
        let _ = registry::serve(&Server { shared }, &reg.task, reg.pset.name());
    }
}

/// The registry's requests, answered with the node's state at hand.
struct Server<'a> {
    shared: &'a Shared,
}

fn send(name: PortName, disposition: Disposition) -> PortItem {
    PortItem { disposition, name }
}

impl Server<'_> {
    fn reg(&self) -> &Registry {
        &self.shared.registry
    }

    fn peer_right(&self, node: u32) -> Option<PortName> {
        let node = u16::try_from(node).ok()?;
        let p = self.shared.proxies();
        let name = *p.peer_registry.get(&node)?;
        p.task
            .give_right(name, Disposition::CopySend, &self.reg().task)
            .ok()
    }
}

impl registry::Server for Server<'_> {
    fn register(&self, req: &Request, name: String, port: PortItem) -> Result<(), Error> {
        let reg = self.reg();
        let right = Right::received(&reg.task, port);
        if port.disposition != Disposition::PORT_SEND || !port.name.is_valid() {
            // Whatever came in its place (a receive or send-once right) is
            // released as its kind needs: a receive right is destroyed.
            drop(right);
            return Err(Error::Code(EINVAL));
        }
        let Some(owner) = reg.owner(req) else {
            return Err(Error::Code(EINVAL));
        };
        let right = SendRight::from_raw(reg.task.clone(), right.into_raw());
        let (old, waiters) = {
            let mut st = reg.state();
            if let Some(r) = st.names.get(&name)
                && r.owner != owner
                && !r.is_dead()
            {
                // The first owner keeps its name (the right is released).
                return Err(Error::Code(EEXIST));
            }
            let waiters = st.waiting.remove(&name).unwrap_or_default();
            for w in &waiters {
                let _ = registry::reply::lookup_wait(
                    &reg.task,
                    &w.req,
                    Ok(send(right.name(), Disposition::CopySend)),
                );
            }
            let old = st.names.insert(name, Registered { right, owner });
            (old, waiters)
        };
        drop((old, waiters));
        Ok(())
    }

    fn lookup(&self, _req: &Request, name: String) -> Result<PortItem, Error> {
        let reg = self.reg();
        let mut st = reg.state();
        match st.names.get(&name) {
            Some(r) if !r.is_dead() => Ok(send(r.right.name(), Disposition::CopySend)),
            Some(_) => {
                // Its port died: the name is free again.
                let dead = st.names.remove(&name);
                drop(st);
                drop(dead);
                Err(Error::Code(ENOENT))
            }
            None => Err(Error::Code(ENOENT)),
        }
    }

    fn lookup_wait(&self, req: &Request, name: String) -> Result<PortItem, Error> {
        let reg = self.reg();
        let Some(owner) = reg.owner(req) else {
            return Err(Error::Code(EINVAL));
        };
        let mut st = reg.state();
        if let Some(r) = st.names.get(&name)
            && !r.is_dead()
        {
            return Ok(send(r.right.name(), Disposition::CopySend));
        }
        // Waiters whose askers gave up (their reply right died) leave first.
        let task = &reg.task;
        let mut gone = Vec::new();
        for list in st.waiting.values_mut() {
            list.retain(|w| {
                let alive = task
                    .port_type(w.req.reply)
                    .is_ok_and(|t| !t.contains(PortType::DEAD_NAME));
                if !alive {
                    gone.push(w.req.reply);
                }
                alive
            });
        }
        st.waiting.retain(|_, l| !l.is_empty());
        let count = st
            .waiting
            .values()
            .flatten()
            .filter(|w| w.owner == owner)
            .count();
        let r = if count >= MAX_WAITING {
            Err(Error::Code(EAGAIN))
        } else {
            st.waiting
                .entry(name)
                .or_default()
                .push(Waiter { owner, req: *req });
            Err(Error::Mig(MigReturn::NoReply))
        };
        drop(st);
        for reply in gone {
            drop(SendOnceRight::from_raw(task, reply));
        }
        r
    }

    fn lookup_at(&self, req: &Request, node: u32, name: String) -> Result<PortItem, Error> {
        let Some(r) = self.peer_right(node) else {
            return Err(Error::Code(EHOSTUNREACH));
        };
        let task = self.reg().task.clone();
        let r = SendRight::from_raw(task.clone(), r);
        // Answered from another thread, so a slow peer does not stall the registry.
        let req = *req;
        let spawned = std::thread::Builder::new()
            .name("netmsg-lookup".into())
            .spawn(move || {
                let result = registry::Client::new(&task, r.name())
                    .lookup(name)
                    .map(|p| send(p.name, Disposition::MoveSend));
                drop(r);
                if let Err(e) = registry::reply::lookup_at(&task, &req, result) {
                    task.destroy_message(e.message);
                }
            });
        match spawned {
            // The right went with the closure that could not run.
            Ok(_) => Err(Error::Mig(MigReturn::NoReply)),
            Err(_) => Err(Error::Code(EHOSTUNREACH)),
        }
    }

    fn peer(&self, _req: &Request, node: u32) -> Result<PortItem, Error> {
        match self.peer_right(node) {
            Some(r) => Ok(send(r, Disposition::MoveSend)),
            None => Err(Error::Code(EHOSTUNREACH)),
        }
    }

    fn whoami(&self, _req: &Request) -> Result<u32, Error> {
        Ok(u32::from(self.shared.config.node))
    }

    fn unregister(&self, req: &Request, name: String) -> Result<(), Error> {
        let reg = self.reg();
        let Some(owner) = reg.owner(req) else {
            return Err(Error::Code(EINVAL));
        };
        let old = {
            let mut st = reg.state();
            match st.names.get(&name) {
                Some(r) if r.owner != owner && !r.is_dead() => {
                    return Err(Error::Code(EPERM));
                }
                Some(_) => st.names.remove(&name),
                None => None,
            }
        };
        drop(old);
        Ok(())
    }
}
