//! Shared set-up for the integration tests: auth servers driven step by step.
#![allow(dead_code)]

use std::time::Duration;

use hurd_auth::{AuthServer, IdSet, Limits, StdClock};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, PortName, PortType};

/// How long a pump waits for more messages.
pub const IDLE: Duration = Duration::from_millis(30);

/// An auth server in a hosted task.
pub type Server = AuthServer<Task, StdClock>;

/// An auth server in `task`, not running: tests pump it with `run_until_idle`.
pub fn auth_server(task: &Task, limits: Limits) -> Server {
    AuthServer::new(task.clone(), StdClock::new(), limits).expect("auth server")
}

/// Makes a handle for `ids` and gives its send right to `to`.
pub fn give_handle(server: &Server, ids: IdSet, to: &Task) -> PortName {
    let name = server.create_handle(ids).expect("create handle");
    server
        .ipc()
        .give_right(name, Disposition::MoveSend, to)
        .expect("give handle")
}

/// The names a task's space holds, for leak checks.
pub fn names(rt: &Runtime, task: &Task) -> Vec<(PortName, PortType)> {
    let space = task.space();
    let mut v = rt.with_kernel(|k| k.port_names(space)).expect("port names");
    v.sort_by_key(|(n, t)| (*n, t.bits()));
    v
}

/// Pumps `server` until `done` says so (or panics after a while).
pub fn pump_until(server: &Server, mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        server
            .run_until_idle(Duration::from_millis(5))
            .expect("serve");
        if done() {
            return;
        }
    }
    panic!("condition never held");
}
