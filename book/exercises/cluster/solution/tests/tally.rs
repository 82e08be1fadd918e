//! Tells you when the tally is published and found across the cluster: two
//! nodes in this process, each with its own runtime, QUIC endpoint and key.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Error, PortName, RightType, UserIpc};
use hurd_netmsg::{EEXIST, EHOSTUNREACH, Fingerprint, Identity, Node, NodeConfig, PeerConfig};
use tally::tally::Client;

/// How long a test waits for `find` before it calls it hung.
const PATIENCE: Duration = Duration::from_secs(10);

// ANCHOR: start
/// A node's configuration: its number, an address of its own on the
/// loopback, and the one peer it trusts, by its key's fingerprint.
fn config(node: u16, peer: u16, address: Option<SocketAddr>, key: Fingerprint) -> NodeConfig {
    NodeConfig {
        node,
        listen: "127.0.0.1:0".parse().expect("an address"),
        key: "unused".into(),
        idle_timeout: Duration::from_secs(5),
        peers: vec![PeerConfig {
            node: peer,
            address,
            fingerprint: key,
        }],
    }
}

/// Nodes 1 and 2, connected (node 1 dials node 2).
fn cluster() -> (Arc<Node>, Arc<Node>) {
    let (key1, key2) = (Identity::generate(), Identity::generate());
    let (key1, key2) = (key1.expect("a key"), key2.expect("a key"));
    let (print1, print2) = (key1.fingerprint(), key2.fingerprint());
    let node2 = Node::start(config(2, 1, None, print1), key2).expect("node 2");
    let node1 = Node::start(config(1, 2, Some(node2.local_addr()), print2), key1);
    let node1 = node1.expect("node 1");
    assert!(node2.wait_for_peer(1, Duration::from_secs(30)), "no node 1");
    (Arc::new(node1), Arc::new(node2))
}

/// A tally served by a task of its own on `rt`; a send right to it in
/// `holder`.
fn start_tally(rt: &Runtime, holder: &Task) -> PortName {
    let (tx, rx) = mpsc::channel();
    let holder = holder.clone();
    rt.spawn("tally", move |task| {
        let port = task.port_allocate(RightType::Receive).expect("a port");
        let send = task.give_right(port, Disposition::MakeSend, &holder);
        tx.send(send.expect("a send right"))
            .expect("the test waits");
        tally::serve(&task, port)
    })
    .expect("a thread");
    rx.recv().expect("the tally's port")
}

/// `tally::find`, given up after `PATIENCE`.
fn find(node: &Arc<Node>, peer: u16, task: &Task, name: &str) -> Result<PortName, Error> {
    let (tx, rx) = mpsc::channel();
    let (node, task, name) = (node.clone(), task.clone(), name.to_owned());
    std::thread::spawn(move || tx.send(tally::find(&node, peer, &task, &name)));
    rx.recv_timeout(PATIENCE).expect("find never returned")
}
// ANCHOR_END: start

// ANCHOR: test
#[test]
fn node_2_adds_to_node_1_s_tally() -> Result<(), Error> {
    let (node1, node2) = cluster();
    let owner = node1.runtime().task();
    let port = start_tally(node1.runtime(), &owner);
    tally::publish(&node1, &owner, "tally", port)?;

    let (alice, bob) = (node2.runtime().task(), node2.runtime().task());
    let to_tally = find(&node2, 1, &alice, "tally")?;
    assert_eq!(Client::new(&alice, to_tally).add(2)?, 2);
    let to_tally = find(&node2, 1, &bob, "tally")?;
    assert_eq!(Client::new(&bob, to_tally).add(40)?, 42);
    Ok(())
}
// ANCHOR_END: test

#[test]
fn node_2_may_ask_before_node_1_publishes() -> Result<(), Error> {
    let (node1, node2) = cluster();
    let alice = node2.runtime().task();
    let (tx, rx) = mpsc::channel();
    let (asker, task) = (node2.clone(), alice.clone());
    std::thread::spawn(move || tx.send(tally::find(&asker, 1, &task, "late")));
    std::thread::sleep(Duration::from_millis(300));

    let owner = node1.runtime().task();
    let port = start_tally(node1.runtime(), &owner);
    tally::publish(&node1, &owner, "late", port)?;
    let to_tally = rx.recv_timeout(PATIENCE).expect("find never returned")?;
    assert_eq!(Client::new(&alice, to_tally).add(7)?, 7);
    Ok(())
}

#[test]
fn a_name_belongs_to_the_node_that_published_it_first() -> Result<(), Error> {
    let (node1, node2) = cluster();
    let owner = node1.runtime().task();
    let port = start_tally(node1.runtime(), &owner);
    tally::publish(&node1, &owner, "tally", port)?;

    // Node 2 publishes a tally of its own under the same name, in node 1's
    // registry: refused, and node 1's tally is still the one found.
    let other = node2.runtime().task();
    let theirs = start_tally(node2.runtime(), &other);
    let peer = node2.peer_registry(1, &other).expect("node 1's registry");
    let refused = hurd_netmsg::registry::Client::new(&other, peer).register(
        "tally".into(),
        hurd_ipc::PortItem {
            disposition: Disposition::CopySend,
            name: theirs,
        },
    );
    assert_eq!(refused, Err(Error::Code(EEXIST)));
    let to_tally = find(&node2, 1, &other, "tally")?;
    assert_eq!(Client::new(&other, to_tally).add(1)?, 1);
    Ok(())
}

#[test]
fn a_node_that_is_not_connected_is_unreachable() {
    let (_node1, node2) = cluster();
    let alice = node2.runtime().task();
    assert_eq!(
        find(&node2, 3, &alice, "tally"),
        Err(Error::Code(EHOSTUNREACH))
    );
}
