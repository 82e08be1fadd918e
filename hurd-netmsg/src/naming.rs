//! The registry: the port every node serves to its peers (introduced in
//! `HELLO`), giving names to ports so tasks on different nodes can meet.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hurd_ipc::hosted::Task;
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Error, MigReturn, PortItem, PortName, UserIpc};

use crate::node::Shared;

/// `ENOENT`: no port is registered under the name.
pub const ENOENT: i32 = 2;
/// `EINVAL`: only a send right may be registered.
pub const EINVAL: i32 = 22;
/// `EHOSTUNREACH`: the node asked for is not connected.
pub const EHOSTUNREACH: i32 = 113;

hurd_ipc::interface! {
    /// The registry protocol.
    pub mod registry: subsystem 2950 {
        /// Registers a send right under `name` (replacing an older one).
        routine register(name: String, port: PortItem);
        /// A send right registered under `name` (`ENOENT` if none).
        routine lookup(name: String) -> (port: PortItem);
        /// Like `lookup`, but waits until something is registered under `name`.
        routine lookup_wait(name: String) -> (port: PortItem);
        /// Looks `name` up in the registry of peer `node`, from this node.
        routine lookup_at(node: u32, name: String) -> (port: PortItem);
        /// This node's send right to peer `node`'s registry.
        routine peer(node: u32) -> (port: PortItem);
        /// This node's number.
        routine whoami() -> (node: u32);
        /// Drops the right registered under `name`, if any.
        routine unregister(name: String);
    }
}

/// The registry server of one node.
pub(crate) struct Registry {
    shared: Arc<Shared>,
    task: Task,
    names: Mutex<HashMap<String, PortName>>,
    waiting: Mutex<HashMap<String, Vec<Request>>>,
}

fn send(name: PortName, disposition: Disposition) -> PortItem {
    PortItem { disposition, name }
}

impl Registry {
    pub(crate) fn new(shared: Arc<Shared>, task: Task) -> Registry {
        Registry {
            shared,
            task,
            names: Mutex::new(HashMap::new()),
            waiting: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn serve(&self, port: PortName) {
        let _ = registry::serve(self, &self.task, port);
    }

    fn peer_right(&self, node: u32) -> Option<PortName> {
        let node = u16::try_from(node).ok()?;
        let p = self.shared.proxies();
        let name = *p.peer_registry.get(&node)?;
        p.task
            .give_right(name, Disposition::CopySend, &self.task)
            .ok()
    }
}

impl registry::Server for Registry {
    fn register(&self, _req: &Request, name: String, port: PortItem) -> Result<(), Error> {
        if port.disposition != Disposition::PORT_SEND || !port.name.is_valid() {
            if port.name.is_valid() {
                let _ = self.task.port_deallocate(port.name);
            }
            return Err(Error::Code(EINVAL));
        }
        let waiters = self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&name)
            .unwrap_or_default();
        for w in waiters {
            let _ = registry::reply::lookup_wait(
                &self.task,
                &w,
                Ok(send(port.name, Disposition::CopySend)),
            );
        }
        let old = self
            .names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, port.name);
        if let Some(old) = old {
            let _ = self.task.port_deallocate(old);
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, name: String) -> Result<PortItem, Error> {
        match self
            .names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
        {
            Some(&p) => Ok(send(p, Disposition::CopySend)),
            None => Err(Error::Code(ENOENT)),
        }
    }

    fn lookup_wait(&self, req: &Request, name: String) -> Result<PortItem, Error> {
        if let Some(&p) = self
            .names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
        {
            return Ok(send(p, Disposition::CopySend));
        }
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name)
            .or_default()
            .push(*req);
        Err(Error::Mig(MigReturn::NoReply))
    }

    fn lookup_at(&self, req: &Request, node: u32, name: String) -> Result<PortItem, Error> {
        let Some(r) = self.peer_right(node) else {
            return Err(Error::Code(EHOSTUNREACH));
        };
        // Answered from another thread, so a slow peer does not stall the registry.
        let task = self.task.clone();
        let req = *req;
        let spawned = std::thread::Builder::new()
            .name("netmsg-lookup".into())
            .spawn(move || {
                let result = registry::Client::new(&task, r)
                    .lookup(name)
                    .map(|p| send(p.name, Disposition::MoveSend));
                let _ = task.port_deallocate(r);
                if let Err(e) = registry::reply::lookup_at(&task, &req, result) {
                    task.destroy_message(e.message);
                }
            });
        match spawned {
            Ok(_) => Err(Error::Mig(MigReturn::NoReply)),
            Err(_) => {
                let _ = self.task.port_deallocate(r);
                Err(Error::Code(EHOSTUNREACH))
            }
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

    fn unregister(&self, _req: &Request, name: String) -> Result<(), Error> {
        let old = self
            .names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&name);
        if let Some(old) = old {
            let _ = self.task.port_deallocate(old);
        }
        Ok(())
    }
}
