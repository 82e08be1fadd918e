//! The cost of a full reauthentication handshake against a null RPC round
//! trip, measured in the same run on the hosted runtime.
//!
//! | name              | ours                                                  | baseline                       |
//! |-------------------|-------------------------------------------------------|--------------------------------|
//! | `reauthenticate`  | `io_reauthenticate` + `user_authenticate` + `server_authenticate`, 3 tasks and an auth server | a null `interface!` RPC, 2 tasks |
//!
//! Each benchmark is calibrated so that one sample takes about the target
//! time, warmed up, then sampled, alternating ours and the baseline; the median
//! is reported in nanoseconds per operation. Results go to
//! `<target dir>/bench/auth.json` as `[{"name", "ours_ns", "baseline",
//! "baseline_ns", "ratio"}]`, like hurd-ipc's `ipc` bench. `--quick` runs fewer,
//! shorter samples.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

struct Config {
    samples: usize,
    target: Duration,
}

type Body<'a> = &'a mut dyn FnMut(u64) -> Duration;

fn calibrate(f: Body<'_>, target: Duration) -> u64 {
    let mut n = 1u64;
    loop {
        let t = f(n);
        if t >= target / 10 || n >= 1 << 40 {
            let per_op = t.as_secs_f64() / n as f64;
            return ((target.as_secs_f64() / per_op.max(1e-12)).ceil() as u64).max(1);
        }
        n *= 2;
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn measure_pair(cfg: &Config, ours: Body<'_>, base: Body<'_>) -> (f64, f64) {
    let n_ours = calibrate(ours, cfg.target);
    let n_base = calibrate(base, cfg.target);
    ours(n_ours);
    base(n_base);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..cfg.samples {
        a.push(ours(n_ours).as_nanos() as f64 / n_ours as f64);
        b.push(base(n_base).as_nanos() as f64 / n_base as f64);
    }
    (median(a), median(b))
}

fn target_dir() -> PathBuf {
    if let Ok(d) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    // benches run from the package directory; the workspace target is one up.
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn main() {
    let cfg = if std::env::args().any(|a| a == "--quick") {
        Config {
            samples: 5,
            target: Duration::from_millis(20),
        }
    } else {
        Config {
            samples: 15,
            target: Duration::from_millis(100),
        }
    };
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
    let (ours_ns, base_ns) = measure_pair(&cfg, &mut ours, &mut base);
    let ratio = ours_ns / base_ns;
    println!(
        "{:<16} {:>12} {:>12} {:>8}",
        "name", "ours ns", "null rpc ns", "ratio"
    );
    println!(
        "{:<16} {ours_ns:>12.0} {base_ns:>12.0} {ratio:>8.2}",
        "reauthenticate"
    );
    let mut json = String::new();
    let _ = writeln!(
        json,
        "[{{\"name\":\"reauthenticate\",\"ours_ns\":{ours_ns:.1},\"baseline\":\"null RPC round trip\",\"baseline_ns\":{base_ns:.1},\"ratio\":{ratio:.3}}}]"
    );
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    std::fs::write(dir.join("auth.json"), json).expect("write auth.json");
}
