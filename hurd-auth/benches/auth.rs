//! The cost of a full reauthentication handshake against a null RPC round
//! trip, measured in the same run on the hosted runtime.
//!
//! | name              | ours                                                  | baseline                       |
//! |-------------------|-------------------------------------------------------|--------------------------------|
//! | `reauthenticate`  | `io_reauthenticate` + `user_authenticate` + `server_authenticate`, 3 tasks and an auth server | a null `interface!` RPC, 2 tasks |
//!
//! The harness is the `hurd-bench` crate, shared with the other
//! benches: each benchmark is calibrated so that one sample takes about the
//! target time, warmed up, then sampled, alternating ours and the baseline; the
//! median is reported in nanoseconds per operation. Results go to
//! `<target dir>/bench/auth.json` as `[{"name", "unit", "ours", "baseline",
//! "baseline_value", "ratio"}]`, like hurd-ipc's `ipc` bench. `--quick` runs fewer,
//! shorter samples; plain arguments select benchmarks by substring.

use std::sync::mpsc;
use std::time::Instant;

use hurd_bench::{Bench, Config, Row, measure_pair};

use hurd_auth::{AuthClient, AuthServer, IdSet, Limits, StdClock, reauthenticate};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Error, PortItem, PortName, RightType, UserIpc};

hurd_ipc::interface! {
    /// What the bench's I/O server speaks.
    pub mod io: subsystem 21000 {
        /// `io_reauthenticate`.
        simpleroutine reauthenticate(rendezvous: PortItem);
        /// Does nothing: the baseline.
        routine null();
    }
}

struct Io {
    task: Task,
    auth: PortName,
}

impl io::Server for Io {
    fn reauthenticate(&self, _req: &Request, rendezvous: PortItem) {
        let Ok(newport) = self.task.port_allocate(RightType::Receive) else {
            return;
        };
        let _ = AuthClient::new(&self.task, self.auth).server_authenticate(
            PortItem {
                disposition: Disposition::MoveSend,
                name: rendezvous.name,
            },
            PortItem {
                disposition: Disposition::MakeSend,
                name: newport,
            },
        );
        let _ = self.task.port_mod_refs(newport, RightType::Receive, -1);
    }

    fn null(&self, _req: &Request) -> Result<(), Error> {
        Ok(())
    }
}

/// A full reauthentication handshake (the I/O server's side included) against
/// a null RPC to the same I/O server.
fn reauthenticate_bench(cfg: &Config) -> Row {
    let rt = Runtime::new();
    let (io_task, user) = (rt.task(), rt.task());
    let (tx, rx) = mpsc::channel();
    let to = [io_task.clone(), user.clone()];
    rt.spawn("auth", move |task| {
        let server =
            AuthServer::new(task.clone(), StdClock::new(), Limits::default()).expect("auth");
        let mut v = Vec::new();
        for (ids, who) in [(IdSet::root(), &to[0]), (IdSet::user(1000, &[100]), &to[1])] {
            let h = server.create_handle(ids).expect("handle");
            v.push(
                task.give_right(h, Disposition::MoveSend, who)
                    .expect("give"),
            );
        }
        tx.send(v).expect("send");
        server.run()
    })
    .expect("spawn auth");
    let handles = rx.recv().expect("handles");
    let io_port = io_task.port_allocate(RightType::Receive).expect("port");
    let io_send = io_task
        .give_right(io_port, Disposition::MakeSend, &user)
        .expect("give");
    let server = Io {
        task: io_task.clone(),
        auth: handles[0],
    };
    std::thread::spawn(move || io::serve(&server, &server.task, io_port));
    let user_auth = handles[1];

    let mut ours = |n: u64| {
        let start = Instant::now();
        for _ in 0..n {
            let port = reauthenticate(&user, user_auth, |rend| {
                io::Client::new(&user, io_send).reauthenticate(rend)
            })
            .expect("reauthenticate");
            let _ = user.port_deallocate(port);
        }
        start.elapsed()
    };
    let mut base = |n: u64| {
        let stub = io::Client::new(&user, io_send);
        let start = Instant::now();
        for _ in 0..n {
            stub.null().expect("null rpc");
        }
        start.elapsed()
    };
    let (ours_ns, baseline_ns) = measure_pair(cfg, &mut ours, &mut base);
    Row {
        name: "reauthenticate",
        ours_ns,
        baseline: "null RPC round trip",
        baseline_ns,
    }
}

fn main() {
    let benches: [(&str, Bench); 1] = [("reauthenticate", reauthenticate_bench)];
    hurd_bench::run("auth", option_env!("CARGO_TARGET_TMPDIR"), &benches);
}
