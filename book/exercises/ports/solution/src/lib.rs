//! A counter server: the hands-on exercise of Part I of the book.

use std::sync::atomic::{AtomicU64, Ordering};

use hurd_ipc::hosted::Task;
use hurd_ipc::mig::Request;
use hurd_ipc::{Errno, Error, MsgReturn, PortName};

// ANCHOR: interface
hurd_ipc::interface! {
    /// A counter that anyone holding a send right may add to.
    pub mod counter: subsystem 5000 {
        /// Adds `n` to the total and returns the new total.
        routine add(n: u64) -> (total: u64);
        /// The total so far.
        routine total() -> (total: u64);
    }
}
// ANCHOR_END: interface

// ANCHOR: server
/// The server's state. Requests may come from several threads, so the
/// total is an atomic.
#[derive(Debug, Default)]
pub struct Counter {
    total: AtomicU64,
}

impl counter::Server for Counter {
    fn add(&self, _req: &Request, n: u64) -> Result<u64, Error> {
        // A total that would overflow is refused, and stays as it was.
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

    fn total(&self, _req: &Request) -> Result<u64, Error> {
        Ok(self.total.load(Ordering::Relaxed))
    }
}
// ANCHOR_END: server

// ANCHOR: serve
/// Serves a new counter on `port`, a receive right of `task`, until the
/// port dies.
pub fn serve(task: &Task, port: PortName) -> MsgReturn {
    counter::serve(&Counter::default(), task, port)
}
// ANCHOR_END: serve
