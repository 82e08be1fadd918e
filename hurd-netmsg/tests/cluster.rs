//! Three node processes on loopback: this test process is node 1; nodes 2 and
//! 3 are `netmsg serve` processes. Node 1 dials 2 and 3, node 2 dials 3.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{WAIT, call, copy, lookup, register};
use hurd_ipc::hosted::Task;
use hurd_ipc::{
    Disposition, Item, Message, MsgOptions, Notification, NotifyKind, PortArray, PortItem,
    PortName, PortType, RightType, UserIpc,
};
use hurd_netmsg::transport::{CLOSE_MALFORMED, RawConnection};
use hurd_netmsg::{Identity, Node, NodeConfig, PeerConfig, echo, registry};

/// A `netmsg serve` child; killed when dropped.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    addr: SocketAddr,
}

impl Proc {
    fn start(config: &Path) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netmsg"))
            .args(["serve", "-c"])
            .arg(config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn netmsg");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { return };
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        let mut p = Proc {
            child,
            lines,
            addr: "0.0.0.0:0".parse().expect("addr"),
        };
        let l = p.expect_line("listening on");
        p.addr = l
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .expect("address in the listening line");
        p
    }

    fn expect_line(&mut self, what: &str) -> String {
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(l) if l.contains(what) => return l,
                Ok(_) => {}
                Err(e) => panic!("no `{what}` line from netmsg: {e}"),
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Keys and files of a three-node cluster (plus a fourth key for raw tests).
struct Cluster {
    dir: PathBuf,
    ids: Vec<Identity>,
    a: Node,
    b: Proc,
    c: Proc,
}

fn write_config(
    dir: &Path,
    name: &str,
    node: u16,
    listen: &str,
    peers: &[(u16, Option<SocketAddr>, &Identity)],
) -> PathBuf {
    let mut text = format!(
        "node = {node}\nlisten = \"{listen}\"\nkey = \"{name}.key\"\nidle_timeout_ms = 2000\n"
    );
    for (n, a, id) in peers {
        text.push_str(&format!("\n[[peer]]\nnode = {n}\n"));
        if let Some(a) = a {
            text.push_str(&format!("address = \"{a}\"\n"));
        }
        text.push_str(&format!("fingerprint = \"{}\"\n", id.fingerprint()));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write config");
    path
}

impl Cluster {
    fn start(tag: &str) -> Cluster {
        common::init_log();
        let dir = std::env::temp_dir().join(format!("netmsg-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let ids: Vec<Identity> = (0..4).map(|_| Identity::generate().expect("key")).collect();
        for (i, name) in [(1, "b"), (2, "c")] {
            std::fs::write(dir.join(format!("{name}.key")), ids[i].key_pem()).expect("key file");
        }
        let cconf = write_config(
            &dir,
            "c",
            3,
            "127.0.0.1:0",
            &[(1, None, &ids[0]), (2, None, &ids[1]), (4, None, &ids[3])],
        );
        let c = Proc::start(&cconf);
        let bconf = write_config(
            &dir,
            "b",
            2,
            "127.0.0.1:0",
            &[
                (1, None, &ids[0]),
                (3, Some(c.addr), &ids[2]),
                (4, None, &ids[3]),
            ],
        );
        let mut b = Proc::start(&bconf);
        b.expect_line("peer 3 up");
        let mut cfg = common::config(1, &[(2, Some(b.addr), &ids[1]), (3, Some(c.addr), &ids[2])]);
        cfg.idle_timeout = Duration::from_secs(2);
        let a = Node::start(cfg, copy(&ids[0])).expect("node 1");
        assert!(a.wait_for_peer(2, WAIT), "node 1 reaches node 2");
        assert!(a.wait_for_peer(3, WAIT), "node 1 reaches node 3");
        Cluster { dir, ids, a, b, c }
    }

    fn peer(&self, node: u16, addr: SocketAddr) -> PeerConfig {
        PeerConfig {
            node,
            address: Some(addr),
            fingerprint: self.ids[node as usize - 1].fingerprint(),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_opts() -> MsgOptions {
    MsgOptions {
        rcv_timeout: Some(WAIT),
        ..MsgOptions::default()
    }
}

fn short_opts() -> MsgOptions {
    MsgOptions {
        rcv_timeout: Some(Duration::from_millis(300)),
        ..MsgOptions::default()
    }
}

fn port_of(item: &Item) -> (PortName, Disposition) {
    match item {
        Item::Port(p) => (p.name, p.disposition),
        other => panic!("expected a port, got {other:?}"),
    }
}

fn send_right(task: &Task, port: PortName) -> PortName {
    task.port_insert_right(port, port, Disposition::MakeSend)
        .expect("make send");
    port
}

#[test]
fn rights_of_every_kind_cross_three_nodes() {
    let cl = Cluster::start("rights");
    let task = cl.a.runtime().task();
    let echo_b = lookup(&cl.a, 2, &task, "echo");
    let echo_c = lookup(&cl.a, 3, &task, "echo");
    // Ports of node 1 sent in every disposition.
    let p_make = task.port_allocate(RightType::Receive).expect("port");
    let p_copy = task.port_allocate(RightType::Receive).expect("port");
    send_right(&task, p_copy);
    let p_move = task.port_allocate(RightType::Receive).expect("port");
    send_right(&task, p_move);
    let recv = task.port_allocate(RightType::Receive).expect("port");
    let recv_sender = task
        .give_right(recv, Disposition::MakeSend, &task)
        .expect("send right");
    let once_make = task.port_allocate(RightType::Receive).expect("port");
    let once_move = task.port_allocate(RightType::Receive).expect("port");
    let once_moved = task
        .give_right(once_move, Disposition::MakeSendOnce, &task)
        .expect("send-once right");
    let arr: Vec<PortName> = (0..3)
        .map(|_| task.port_allocate(RightType::Receive).expect("port"))
        .collect();
    let ool: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    // Node 1 -> node 2 (echo forwards) -> node 3 (echo replies to node 1).
    let msg = Message::new(echo::ID_FORWARD, echo_b, Disposition::CopySend)
        .with_item(Item::port(echo_c, Disposition::CopySend))
        .with_item(Item::port(p_make, Disposition::MakeSend))
        .with_item(Item::port(p_copy, Disposition::CopySend))
        .with_item(Item::port(p_move, Disposition::MoveSend))
        .with_item(Item::port(recv, Disposition::MoveReceive))
        .with_item(Item::port(once_make, Disposition::MakeSendOnce))
        .with_item(Item::port(once_moved, Disposition::MoveSendOnce))
        .with_item(Item::Ports(PortArray {
            disposition: Disposition::MakeSend,
            names: arr.clone(),
        }))
        .with_item(Item::port(PortName::DEAD, Disposition::CopySend))
        .with_item(Item::ool(ool.clone(), true));
    let reply = call(&task, msg).expect("rpc through three nodes");
    assert_eq!(reply.header.id, echo::ID_FORWARDED + echo::REPLY_OFFSET);
    let b = &reply.body;
    assert_eq!(b.len(), 9, "{b:?}");
    // Send rights to node 1's ports come home as the ports themselves.
    assert_eq!(port_of(&b[0]), (p_make, Disposition::PORT_SEND));
    assert_eq!(port_of(&b[1]), (p_copy, Disposition::PORT_SEND));
    assert_eq!(port_of(&b[2]), (p_move, Disposition::PORT_SEND));
    // The receive right came back; the port's old senders still reach it.
    let (r, d) = port_of(&b[3]);
    assert_eq!(d, Disposition::PORT_RECEIVE);
    assert!(task.port_type(r).expect("type").contains(PortType::RECEIVE));
    task.send(Message::new(77, recv_sender, Disposition::CopySend))
        .expect("send to the moved port");
    assert_eq!(
        task.receive_with(r, &wait_opts())
            .expect("message")
            .header
            .id,
        77
    );
    // Send-once rights work across the cluster and back.
    for (item, port) in [(&b[4], once_make), (&b[5], once_move)] {
        let (so, d) = port_of(item);
        assert_eq!(d, Disposition::PORT_SEND_ONCE);
        task.send(Message::new(5, so, Disposition::MoveSendOnce))
            .expect("send once");
        assert_eq!(
            task.receive_with(port, &wait_opts())
                .expect("once")
                .header
                .id,
            5
        );
    }
    match &b[6] {
        Item::Ports(a) => assert_eq!(a.names, arr),
        other => panic!("{other:?}"),
    }
    assert_eq!(port_of(&b[7]).0, PortName::DEAD);
    match &b[8] {
        Item::Ool(o) => assert!(o.data == ool, "1 MiB out-of-line intact"),
        other => panic!("{other:?}"),
    }
    // One port reached through two paths is one name: node 2's echo as
    // node 1 looked it up there, and as node 3 looks it up and hands it
    // over. (Registries are not: each peer has a registry port of its own.)
    let direct = cl.a.peer_registry(2, &task).expect("registry 2");
    let reg_c = cl.a.peer_registry(3, &task).expect("registry 3");
    let via_c = registry::Client::new(&task, reg_c)
        .peer(2)
        .expect("node 3's right to node 2's registry");
    assert_ne!(
        via_c.name, direct,
        "node 3's registry port at node 2 is its own"
    );
    let echo_via_c = registry::Client::new(&task, reg_c)
        .lookup_at(2, "echo".into())
        .expect("node 2's echo through node 3");
    assert_eq!(echo_via_c.name, echo_b, "same port, same name");
    // A port of node 1 registered at node 2, looked up by node 3 there and
    // handed back, is the port itself.
    let home = task.port_allocate(RightType::Receive).expect("port");
    register(
        &cl.a,
        2,
        &task,
        "home",
        PortItem {
            disposition: Disposition::MakeSend,
            name: home,
        },
    );
    let back = registry::Client::new(&task, reg_c)
        .lookup_at(2, "home".into())
        .expect("lookup through node 3");
    assert_eq!(back.name, home);
}

#[test]
fn no_senders_waits_for_the_last_remote_right_even_when_crossing() {
    let cl = Cluster::start("nosenders");
    let task = cl.a.runtime().task();
    let p = task.port_allocate(RightType::Receive).expect("port");
    let notify = task.port_allocate(RightType::Receive).expect("port");
    task.request_notification(
        p,
        NotifyKind::NoSenders,
        1,
        notify,
        Disposition::MakeSendOnce,
    )
    .expect("request");
    let item = PortItem {
        disposition: Disposition::MakeSend,
        name: p,
    };
    register(&cl.a, 3, &task, "p", item);
    // Node 2 drops its right while another is on its way, many times over.
    let reg_b = cl.a.peer_registry(2, &task).expect("registry 2");
    for i in 0..30 {
        register(&cl.a, 2, &task, "p", item);
        let t = task.clone();
        let dropper = std::thread::spawn(move || {
            registry::Client::new(&t, reg_b)
                .unregister("p".into())
                .expect("unregister");
        });
        register(&cl.a, 2, &task, &format!("q{}", i % 2), item);
        dropper.join().expect("dropper");
    }
    registry::Client::new(&task, reg_b)
        .unregister("q0".into())
        .expect("unregister");
    // Node 2 still holds q1, node 3 holds p: no notification.
    assert!(
        task.receive_with(notify, &short_opts()).is_err(),
        "no-senders while remote rights live"
    );
    // And node 2's right still reaches the port: node 3 fetches it from node
    // 2 and sends to it through its echo's forward.
    let reg_c = cl.a.peer_registry(3, &task).expect("registry 3");
    let q = registry::Client::new(&task, reg_c)
        .lookup_at(2, "q1".into())
        .expect("lookup");
    assert_eq!(q.name, p);
    task.port_deallocate(q.name)
        .expect("drop the looked-up right");
    registry::Client::new(&task, reg_b)
        .unregister("q1".into())
        .expect("unregister");
    assert!(
        task.receive_with(notify, &short_opts()).is_err(),
        "node 3 still holds one"
    );
    registry::Client::new(&task, reg_c)
        .unregister("p".into())
        .expect("unregister");
    let n = task.receive_with(notify, &wait_opts()).expect("no-senders");
    assert!(matches!(
        Notification::parse(&n),
        Some(Notification::NoSenders(_))
    ));
}

#[test]
fn a_node_killed_mid_rpc_gives_errors_and_dead_names_then_comes_back() {
    let mut cl = Cluster::start("killed");
    let task = cl.a.runtime().task();
    let echo_b = lookup(&cl.a, 2, &task, "echo");
    let notify = task.port_allocate(RightType::Receive).expect("port");
    task.request_notification(
        echo_b,
        NotifyKind::DeadName,
        0,
        notify,
        Disposition::MakeSendOnce,
    )
    .expect("dead-name request");
    let reg_b = cl.a.peer_registry(2, &task).expect("registry 2");
    let t = task.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = registry::Client::new(&t, reg_b).lookup_wait("never".into());
        let _ = tx.send(r);
    });
    std::thread::sleep(Duration::from_millis(300));
    let addr = cl.b.addr;
    cl.b.kill();
    let r = rx.recv_timeout(WAIT).expect("the RPC returns");
    assert!(r.is_err(), "the RPC fails: {r:?}");
    let n = task
        .receive_with(notify, &wait_opts())
        .expect("dead-name notification");
    assert_eq!(
        Notification::parse(&n),
        Some(Notification::DeadName(echo_b))
    );
    assert!(
        task.port_type(echo_b)
            .expect("type")
            .contains(PortType::DEAD_NAME)
    );
    // Node 3 is unaffected.
    let echo_c = lookup(&cl.a, 3, &task, "echo");
    assert_eq!(
        call(&task, Message::new(1, echo_c, Disposition::CopySend))
            .expect("rpc to node 3")
            .header
            .id,
        101
    );
    // Node 2 restarts at the same address; node 1 dials it again.
    let bconf = write_config(
        &cl.dir,
        "b",
        2,
        &addr.to_string(),
        &[(1, None, &cl.ids[0]), (3, Some(cl.c.addr), &cl.ids[2])],
    );
    cl.b = Proc::start(&bconf);
    assert!(cl.a.wait_for_peer(2, WAIT), "reconnected");
    let echo_b = lookup(&cl.a, 2, &task, "echo");
    assert_eq!(
        call(&task, Message::new(2, echo_b, Disposition::CopySend))
            .expect("rpc to the restarted node")
            .header
            .id,
        102
    );
}

#[test]
fn unknown_and_wrongly_keyed_peers_are_refused() {
    let cl = Cluster::start("auth");
    let b = cl.peer(2, cl.b.addr);
    // A key node 2 does not know: refused, nothing received.
    let stranger = Identity::generate().expect("key");
    if let Ok(conn) = RawConnection::connect(&stranger, &b, false, WAIT) {
        assert!(
            !conn.received_any(Duration::from_secs(2)),
            "a stranger gets no frame"
        );
        assert!(conn.closed(WAIT).is_some(), "and is disconnected");
    }
    // A node at node 2's address that does not have node 3's key, when node 3
    // is expected: refused by the dialing side.
    let mut wrong = cl.peer(3, cl.b.addr);
    wrong.address = Some(cl.b.addr);
    assert!(RawConnection::connect(&cl.ids[3], &wrong, false, WAIT).is_err());
    // The configured key is accepted and greeted.
    let ok = RawConnection::connect(&cl.ids[3], &b, false, WAIT).expect("configured peer");
    assert!(ok.received_any(WAIT), "a configured peer gets HELLO");
    // The command-line probe agrees.
    let out = Command::new(env!("CARGO_BIN_EXE_netmsg"))
        .args(["peers", "-c"])
        .arg(cl.dir.join("b.toml"))
        .output()
        .expect("netmsg peers");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("peer 3") && text.contains("authenticated"),
        "{text}"
    );
}

#[test]
fn a_malformed_frame_closes_only_that_connection() {
    let cl = Cluster::start("malformed");
    let b = cl.peer(2, cl.b.addr);
    let raw = RawConnection::connect(&cl.ids[3], &b, false, WAIT).expect("connect");
    assert!(raw.received_any(WAIT));
    // A frame of an unknown kind.
    raw.send_stream(&[8, 0, 0, 0, 99, 0, 0, 0, 1, 2, 3, 4])
        .expect("send");
    let (code, reason) = raw.closed(WAIT).expect("closed by node 2");
    assert_eq!(code, u64::from(CLOSE_MALFORMED), "{reason}");
    // Node 1's connection to node 2 is untouched.
    let task = cl.a.runtime().task();
    let echo_b = lookup(&cl.a, 2, &task, "echo");
    let reply = call(&task, Message::new(3, echo_b, Disposition::CopySend)).expect("rpc");
    assert_eq!(reply.header.id, 103);
    assert!(cl.a.peers().iter().all(|p| p.connected));
    // The same peer may connect again and be heard.
    let again = RawConnection::connect(&cl.ids[3], &b, false, WAIT).expect("reconnect");
    assert!(again.received_any(WAIT));
}

#[test]
fn bad_configurations_are_reported() {
    let dir = std::env::temp_dir().join(format!("netmsg-badconf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let conf = dir.join("bad.toml");
    std::fs::write(
        &conf,
        "node = 1\nlisten = \"127.0.0.1:0\"\nkey = \"missing.key\"\n\n[[peer]]\nnode = 2\n\
         fingerprint = \"sha256:00\"\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_netmsg"))
        .args(["serve", "-c"])
        .arg(&conf)
        .output()
        .expect("netmsg");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:7: `peer.fingerprint`: `sha256:00` is not a key fingerprint"),
        "{err}"
    );
    std::fs::write(
        &conf,
        "node = 1\nlisten = \"127.0.0.1:0\"\nkey = \"missing.key\"\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_netmsg"))
        .args(["serve", "-c"])
        .arg(&conf)
        .output()
        .expect("netmsg");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing.key") && err.contains("cannot read key"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = NodeConfig::parse("node = 1");
}
