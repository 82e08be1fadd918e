//! A tally kept on one node of a cluster and added to from another: the
//! hands-on exercise of Part VII of the book.

use std::sync::atomic::{AtomicU64, Ordering};

use hurd_ipc::hosted::Task;
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Errno, Error, MsgReturn, PortItem, PortName, UserIpc};
use hurd_netmsg::{EHOSTUNREACH, Node, registry};

// ANCHOR: given
hurd_ipc::interface! {
    /// A tally that anyone holding a send right may add to.
    pub mod tally: subsystem 5100 {
        /// Adds `n` and returns the new total.
        routine add(n: u64) -> (total: u64);
    }
}

/// The tally's state.
#[derive(Debug, Default)]
pub struct Tally {
    total: AtomicU64,
}

impl tally::Server for Tally {
    fn add(&self, _req: &Request, n: u64) -> Result<u64, Error> {
        let mut old = self.total.load(Ordering::Relaxed);
        loop {
            let new = old.checked_add(n).ok_or(Errno::Inval)?;
            match self
                .total
                .compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(new),
                Err(now) => old = now,
            }
        }
    }
}

/// Serves a new tally on `port`, a receive right of `task`, until the port
/// dies.
pub fn serve(task: &Task, port: PortName) -> MsgReturn {
    tally::serve(&Tally::default(), task, port)
}
// ANCHOR_END: given

// ANCHOR: solution
/// Publishes `port`, a send right of `task`, under `name` in `node`'s
/// registry, for every node of the cluster to find. The right moves into
/// the registry.
///
/// # Errors
///
/// The registry's: `EEXIST` when another node published `name` first.
pub fn publish(node: &Node, task: &Task, name: &str, port: PortName) -> Result<(), Error> {
    let reg = node.registry(task).map_err(Error::Kern)?;
    let result = registry::Client::new(task, reg).register(
        name.into(),
        PortItem {
            disposition: Disposition::MoveSend,
            name: port,
        },
    );
    let _ = task.port_deallocate(reg);
    result
}

/// A send right, in `task`, to what peer `peer` of `node` published under
/// `name`: at once if it is there, or as soon as it is published.
///
/// # Errors
///
/// `EHOSTUNREACH` when `peer` is not connected; the registry's.
pub fn find(node: &Node, peer: u16, task: &Task, name: &str) -> Result<PortName, Error> {
    let reg = node
        .peer_registry(peer, task)
        .ok_or(Error::Code(EHOSTUNREACH))?;
    let result = registry::Client::new(task, reg).lookup_wait(name.into());
    let _ = task.port_deallocate(reg);
    Ok(result?.name)
}
// ANCHOR_END: solution
