//! A counter server: the hands-on exercise of Part I of the book.
//!
//! Fill in the two methods marked TODO, then run
//! `cargo test -p counter-start --test counter`.

// The parameters and the state are unused until the TODOs are done.
#![allow(unused_variables, dead_code)]

use std::sync::atomic::AtomicU64;

use hurd_ipc::hosted::Task;
use hurd_ipc::mig::Request;
use hurd_ipc::{Error, MsgReturn, PortName};

hurd_ipc::interface! {
    /// A counter that anyone holding a send right may add to.
    pub mod counter: subsystem 5000 {
        /// Adds `n` to the total and returns the new total.
        routine add(n: u64) -> (total: u64);
        /// The total so far.
        routine total() -> (total: u64);
    }
}

/// The server's state. Requests may come from several threads, so the
/// total is an atomic.
#[derive(Debug, Default)]
pub struct Counter {
    total: AtomicU64,
}

// ANCHOR: todo
impl counter::Server for Counter {
    fn add(&self, _req: &Request, n: u64) -> Result<u64, Error> {
        // TODO: add `n` to the total and return the new total. A total
        // that would overflow is refused with `Errno::Inval` (EINVAL), and
        // stays as it was.
        todo!("add")
    }

    fn total(&self, _req: &Request) -> Result<u64, Error> {
        // TODO: return the total.
        todo!("total")
    }
}
// ANCHOR_END: todo

/// Serves a new counter on `port`, a receive right of `task`, until the
/// port dies.
pub fn serve(task: &Task, port: PortName) -> MsgReturn {
    counter::serve(&Counter::default(), task, port)
}
