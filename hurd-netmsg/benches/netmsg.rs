//! Cross-node messaging against plain TCP on loopback, measured in the same run.
//!
//! | name       | ours                                                              | baseline                         |
//! |------------|-------------------------------------------------------------------|----------------------------------|
//! | `null_rpc` | an empty request and its reply between two nodes (QUIC + TLS, proxies, the echo service) | a 32-byte TCP ping-pong |
//! | `ool_1mib` | 1 MiB of out-of-line memory to the other node's echo and back     | 1 MiB over TCP and back          |
//! | `page_transfer` | one page written alternately by kernels on two nodes, kept coherent by a hurd-pager pager (per transfer; pages per second are printed) | the same with both kernels on one node |
//!
//! Both nodes run in this process on 127.0.0.1, each with its own QUIC
//! endpoint and async runtime, as separate processes would. Results go to
//! `<target dir>/bench/netmsg.json` through the shared `hurd-bench`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hurd_bench::{Bench, Config, Row, measure_pair};
use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Item, Message, MsgOptions, PortName, RightType, UserIpc};
use hurd_netmsg::{Identity, Node, NodeConfig, PeerConfig, registry};

fn config(node: u16, peer: u16, addr: Option<std::net::SocketAddr>, id: &Identity) -> NodeConfig {
    NodeConfig {
        node,
        listen: "127.0.0.1:0".parse().expect("address"),
        key: PathBuf::from("unused"),
        idle_timeout: Duration::from_secs(10),
        peers: vec![PeerConfig {
            node: peer,
            address: addr,
            fingerprint: id.fingerprint(),
        }],
    }
}

/// Two connected nodes; node 2 serves echo. Returns them with a task on node 1
/// holding a send right to node 2's echo.
fn nodes() -> (Node, Node, Task, PortName) {
    let k1 = Identity::generate().expect("key");
    let k2 = Identity::generate().expect("key");
    let n2 = Node::start(
        config(2, 1, None, &k1),
        Identity::from_pem(k2.key_pem()).expect("key"),
    )
    .expect("node 2");
    let n1 = Node::start(config(1, 2, Some(n2.local_addr()), &k2), k1).expect("node 1");
    n2.start_echo().expect("echo");
    assert!(n1.wait_for_peer(2, Duration::from_secs(30)), "connected");
    let task = n1.runtime().task();
    let reg = n1.peer_registry(2, &task).expect("registry");
    let echo = registry::Client::new(&task, reg)
        .lookup("echo".into())
        .expect("echo")
        .name;
    (n1, n2, task, echo)
}

/// A TCP echo server for `size`-byte messages; returns the client side.
fn tcp_echo(size: usize) -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let _ = s.set_nodelay(true);
        let mut buf = vec![0u8; size];
        while s.read_exact(&mut buf).is_ok() {
            if s.write_all(&buf).is_err() {
                return;
            }
        }
    });
    let c = TcpStream::connect(addr).expect("connect");
    c.set_nodelay(true).expect("nodelay");
    c
}

fn rpc(task: &Task, echo: PortName, reply: PortName, body: Vec<Item>) -> Message {
    let mut msg =
        Message::new(1, echo, Disposition::CopySend).with_reply(reply, Disposition::MakeSendOnce);
    msg.body = body;
    task.mach_msg(Some(msg), Some(reply), &MsgOptions::default())
        .expect("rpc")
        .expect("reply")
}

fn null_rpc(cfg: &Config) -> Row {
    let (_n1, _n2, task, echo) = nodes();
    let reply = task.port_allocate(RightType::Receive).expect("port");
    let mut tcp = tcp_echo(32);
    let mut ours = |n: u64| {
        let start = Instant::now();
        for _ in 0..n {
            rpc(&task, echo, reply, Vec::new());
        }
        start.elapsed()
    };
    let mut base = |n: u64| {
        let mut buf = [7u8; 32];
        let start = Instant::now();
        for _ in 0..n {
            tcp.write_all(&buf).expect("write");
            tcp.read_exact(&mut buf).expect("read");
        }
        start.elapsed()
    };
    let (ours_ns, baseline_ns) = measure_pair(cfg, &mut ours, &mut base);
    Row {
        name: "null_rpc",
        ours_ns,
        baseline: "TCP ping-pong, 32 bytes",
        baseline_ns,
    }
}

fn ool_1mib(cfg: &Config) -> Row {
    const SIZE: usize = 1 << 20;
    let (_n1, _n2, task, echo) = nodes();
    let reply = task.port_allocate(RightType::Receive).expect("port");
    let mut tcp = tcp_echo(SIZE);
    let data = vec![0x5au8; SIZE];
    let mut ours = |n: u64| {
        let start = Instant::now();
        for _ in 0..n {
            let r = rpc(&task, echo, reply, vec![Item::ool(data.clone(), true)]);
            assert_eq!(r.body.len(), 1);
        }
        start.elapsed()
    };
    let mut buf = vec![0u8; SIZE];
    let mut base = |n: u64| {
        let start = Instant::now();
        for _ in 0..n {
            tcp.write_all(&data).expect("write");
            tcp.read_exact(&mut buf).expect("read");
        }
        start.elapsed()
    };
    let (ours_ns, baseline_ns) = measure_pair(cfg, &mut ours, &mut base);
    Row {
        name: "ool_1mib",
        ours_ns,
        baseline: "1 MiB over TCP and back",
        baseline_ns,
    }
}

/// Two simulated kernels writing one page of an object that a pager on node 1
/// serves: each write revokes the other kernel's copy (lock_request, data_return)
/// and supplies the page to the writer. Ours: the second kernel on node 2;
/// baseline: both kernels on node 1.
fn page_transfer(cfg: &Config) -> Row {
    use hurd_pager::hosted::PagerServer;
    use hurd_pager::{Config as PagerConfig, MemBackend, PAGE_SIZE};
    use hurd_vm::hosted::SimKernel;
    use hurd_vm::{VmInherit, VmProt};

    let (n1, n2, _task, _echo) = nodes();
    let server = PagerServer::new(&n1.runtime().task()).expect("pager server");
    let pager = server
        .create(
            MemBackend::new(PAGE_SIZE),
            PagerConfig {
                min_hold: 0,
                ..PagerConfig::default()
            },
        )
        .expect("pager");
    let boot = n1.runtime().task();
    let published = pager.send_right_for(&boot).expect("right");
    let reg = n1.registry(&boot).expect("registry");
    registry::Client::new(&boot, reg)
        .register(
            "object".into(),
            hurd_ipc::PortItem {
                disposition: Disposition::MoveSend,
                name: published,
            },
        )
        .expect("register");
    let map_on = |k: &SimKernel, obj: PortName| {
        let map = k.create_map().expect("map");
        let addr = k
            .vm_map(
                map,
                PAGE_SIZE,
                obj,
                0,
                false,
                VmProt::DEFAULT,
                VmProt::ALL,
                VmInherit::Share,
            )
            .expect("vm_map");
        (map, addr)
    };
    let k1 = SimKernel::new(n1.runtime(), 16).expect("kernel");
    let local = SimKernel::new(n1.runtime(), 16).expect("kernel");
    let remote = SimKernel::new(n2.runtime(), 16).expect("kernel");
    let m1 = map_on(&k1, pager.send_right_for(k1.task()).expect("right"));
    let ml = map_on(&local, pager.send_right_for(local.task()).expect("right"));
    let reg2 = n2.peer_registry(1, remote.task()).expect("registry");
    let obj = registry::Client::new(remote.task(), reg2)
        .lookup("object".into())
        .expect("lookup")
        .name;
    let mr = map_on(&remote, obj);
    let ping_pong = |other: &SimKernel, mo: (hurd_vm::MapId, u64), n: u64| {
        let start = Instant::now();
        for i in 0..n {
            k1.store(m1.0, m1.1, &i.to_le_bytes()).expect("store");
            other.store(mo.0, mo.1, &i.to_le_bytes()).expect("store");
        }
        start.elapsed() / 2
    };
    let mut ours = |n: u64| ping_pong(&remote, mr, n);
    let mut base = |n: u64| ping_pong(&local, ml, n);
    let (ours_ns, baseline_ns) = measure_pair(cfg, &mut ours, &mut base);
    println!(
        "page_transfer: {:.0} pages/s between nodes, {:.0} pages/s on one node",
        1e9 / ours_ns,
        1e9 / baseline_ns
    );
    Row {
        name: "page_transfer",
        ours_ns,
        baseline: "the same, both kernels on one node",
        baseline_ns,
    }
}

fn main() {
    let benches: [(&str, Bench); 3] = [
        ("null_rpc", null_rpc),
        ("ool_1mib", ool_1mib),
        ("page_transfer", page_transfer),
    ];
    hurd_bench::run("netmsg", option_env!("CARGO_TARGET_TMPDIR"), &benches);
}
