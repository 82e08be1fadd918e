//! Helpers shared by the tests: keys, configurations, nodes in this process.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Message, MsgOptions, PortItem, PortName, RightType, UserIpc};
use hurd_netmsg::{Identity, Node, NodeConfig, PeerConfig, registry};

/// Generous: the machine may be loaded.
pub const WAIT: Duration = Duration::from_secs(30);

/// A configuration for `node` trusting `peers` (node, address, identity).
pub fn config(node: u16, peers: &[(u16, Option<SocketAddr>, &Identity)]) -> NodeConfig {
    NodeConfig {
        node,
        listen: "127.0.0.1:0".parse().expect("address"),
        key: PathBuf::from("unused"),
        idle_timeout: Duration::from_secs(3),
        peers: peers
            .iter()
            .map(|(n, a, id)| PeerConfig {
                node: *n,
                address: *a,
                fingerprint: id.fingerprint(),
            })
            .collect(),
    }
}

/// A copy of an identity (through its PEM form).
pub fn copy(id: &Identity) -> Identity {
    Identity::from_pem(id.key_pem()).expect("reload key")
}

/// Two connected nodes in this process: 1 dials 2; both serve echo.
pub fn pair() -> (Node, Node) {
    let ids: Vec<Identity> = (0..2).map(|_| Identity::generate().expect("key")).collect();
    let n2 = Node::start(config(2, &[(1, None, &ids[0])]), copy(&ids[1])).expect("node 2");
    let n1 = Node::start(
        config(1, &[(2, Some(n2.local_addr()), &ids[1])]),
        copy(&ids[0]),
    )
    .expect("node 1");
    n1.start_echo().expect("echo 1");
    n2.start_echo().expect("echo 2");
    assert!(n1.wait_for_peer(2, WAIT), "node 1 sees node 2");
    assert!(n2.wait_for_peer(1, WAIT), "node 2 sees node 1");
    (n1, n2)
}

/// `name` looked up in `node`'s registry as seen from `via` (a peer or itself).
pub fn lookup(via: &Node, node: u16, task: &Task, name: &str) -> PortName {
    let reg = if node == via.node() {
        via.registry(task).expect("registry")
    } else {
        via.peer_registry(node, task).expect("peer registry")
    };
    let p = registry::Client::new(task, reg)
        .with_timeout(WAIT)
        .lookup(name.into())
        .expect("lookup");
    let _ = task.port_deallocate(reg);
    assert_eq!(p.disposition, Disposition::PORT_SEND);
    p.name
}

/// An RPC with a raw message: sends `msg` with a fresh reply port and waits
/// for the answer.
pub fn call(task: &Task, msg: Message) -> Result<Message, hurd_ipc::MachMsgError> {
    let reply = task.port_allocate(RightType::Receive).expect("reply port");
    let msg = msg.with_reply(reply, Disposition::MakeSendOnce);
    let opts = MsgOptions {
        rcv_timeout: Some(WAIT),
        ..MsgOptions::default()
    };
    let r = task.mach_msg(Some(msg), Some(reply), &opts);
    let _ = task.port_mod_refs(reply, RightType::Receive, -1);
    r.map(|m| m.expect("a reply"))
}

/// Registers `port` (made from a receive right) under `name` at `node`'s
/// registry, seen from `via`.
pub fn register(via: &Node, node: u16, task: &Task, name: &str, item: PortItem) {
    let reg = if node == via.node() {
        via.registry(task).expect("registry")
    } else {
        via.peer_registry(node, task).expect("peer registry")
    };
    registry::Client::new(task, reg)
        .with_timeout(WAIT)
        .register(name.into(), item)
        .expect("register");
    let _ = task.port_deallocate(reg);
}

/// Logs to standard error when `NETMSG_LOG` is set (for debugging tests).
pub fn init_log() {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, r: &log::Record<'_>) {
            if r.target().starts_with("hurd_netmsg") {
                eprintln!("[{} test] {}", r.level(), r.args());
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    if std::env::var_os("NETMSG_LOG").is_some() && log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}
