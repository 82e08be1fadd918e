//! A cluster of two Hurds: node 1 serves a file system, node 2 reads and
//! writes it through netmsg, with the same `file_name_lookup` and `io` calls a
//! local client would use.
//!
//! Both nodes run in this process here, each with its own hosted runtime, QUIC
//! endpoint and key; as separate `netmsg serve` processes or machines they
//! behave the same. Run it with `cargo run -p hurd-netmsg --example cluster`.

use std::time::Duration;

use hurd_auth::{AuthClient, IdSet, Limits};
use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};
use hurd_netmsg::{Identity, Node, NodeConfig, PeerConfig, registry};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{self, Options};
use hurd_trans::protocol::io;
use hurd_trans::translators::programs;
use hurd_trans::translators::tmpfs::Tmpfs;

// ANCHOR: config
/// A node's configuration: its number, where it listens, the peers it trusts
/// (by key fingerprint) and, for the peer it dials, where that peer is.
pub fn config(
    node: u16,
    peer: u16,
    peer_addr: Option<std::net::SocketAddr>,
    peer_key: &Identity,
) -> NodeConfig {
    NodeConfig {
        node,
        listen: "127.0.0.1:0".parse().expect("an address"),
        key: "unused".into(),
        idle_timeout: Duration::from_secs(5),
        peers: vec![PeerConfig {
            node: peer,
            address: peer_addr,
            fingerprint: peer_key.fingerprint(),
        }],
    }
}
// ANCHOR_END: config

/// Node 1's services: an auth server and a tmpfs that starts the translators
/// of hurd-trans (`/hurd/hello`, `/hurd/tmpfs`...), with a root directory and
/// an auth handle for user 1000 published in node 1's registry.
///
/// # Errors
///
/// The first step that fails: starting the servers, or registering a port.
pub fn serve_files(node: &Node) -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: serve
    let rt = node.runtime();
    let (boot, fs_task) = (rt.task(), rt.task());
    let handles = hurd_auth::hosted::spawn(rt, Limits::default(), &[&boot, &fs_task])?;
    let (_, control) = netfs::spawn(
        fs_task.clone(),
        Tmpfs::new(0, 0, 0o777, 1 << 20),
        handles[1],
        Some(programs::starter(rt, &fs_task)),
        Options::default(),
        &boot,
    )?;
    // A root directory port and an auth handle for user 1000, published under
    // names any node of the cluster may look up.
    let ids = IdSet::user(1000, &[100]);
    let root = netfs::getroot(&boot, control, &ids, OpenFlags::READ)?;
    let auth = AuthClient::new(&boot, handles[0]).makeauth(&[], &ids)?;
    let reg = registry::Client::new(&boot, node.registry(&boot)?);
    for (name, port) in [("root", root), ("auth", auth)] {
        reg.register(
            name.into(),
            PortItem {
                disposition: Disposition::MoveSend,
                name: port,
            },
        )?;
    }
    // ANCHOR_END: serve
    Ok(())
}

/// Looks `name` up in peer `node`'s registry.
///
/// # Errors
///
/// `KERN_INVALID_NAME` when the peer is not connected; the registry's
/// error when `name` is not registered there.
pub fn remote(node: &Node, peer: u16, task: &Task, name: &str) -> Result<PortName, Error> {
    let reg = node
        .peer_registry(peer, task)
        .ok_or(Error::Kern(hurd_ipc::KernReturn::InvalidName))?;
    let port = registry::Client::new(task, reg).lookup(name.into())?;
    let _ = task.port_deallocate(reg);
    Ok(port.name)
}

/// Runs the two nodes and the remote file system session.
pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: start
    let (key1, key2) = (Identity::generate()?, Identity::generate()?);
    let node2 = Node::start(
        config(2, 1, None, &key1),
        Identity::from_pem(key2.key_pem())?,
    )?;
    let node1 = Node::start(
        config(1, 2, Some(node2.local_addr()), &key2),
        Identity::from_pem(key1.key_pem())?,
    )?;
    assert!(node2.wait_for_peer(1, Duration::from_secs(30)));
    println!(
        "node 1 ({}) and node 2 ({}) are connected",
        key1.fingerprint(),
        key2.fingerprint()
    );
    // ANCHOR_END: start
    serve_files(&node1)?;

    // ANCHOR: client
    // A task on node 2 gets node 1's root directory and auth handle: proxies,
    // which it uses exactly as it would use local ports.
    let alice = node2.runtime().task();
    let root = remote(&node2, 1, &alice, "root")?;
    let auth = remote(&node2, 1, &alice, "auth")?;
    let lookup = Lookup {
        ipc: &alice,
        crdir: root,
        cwdir: root,
        auth,
        fds: &[],
        ctty: PortName::NULL,
    };
    let file = lookup.open("notes", OpenFlags::WRITE | OpenFlags::CREAT, 0o644)?;
    io::Client::new(&alice, file).write(b"written from node 2\n".to_vec(), 0)?;
    let file = lookup.open("notes", OpenFlags::READ, 0)?;
    let text = io::Client::new(&alice, file).read(0, 100)?;
    print!(
        "node 2 reads node 1's /notes: {}",
        String::from_utf8_lossy(&text)
    );
    // ANCHOR_END: client
    assert_eq!(text, b"written from node 2\n");

    // ANCHOR: reauth
    // Reauthentication across nodes: the rendezvous port is made on node 2 and
    // reaches node 1's file system and auth server by two paths; they must see
    // one port. The new file port carries user 1000's identity.
    let reauthed = hurd_auth::reauthenticate(&alice, auth, |rendezvous| {
        io::Client::new(&alice, file).reauthenticate(rendezvous)
    })?;
    let text = io::Client::new(&alice, reauthed).read(0, 100)?;
    println!("node 2 reauthenticated its file port with node 1's auth server");
    // ANCHOR_END: reauth
    assert_eq!(text, b"written from node 2\n");

    // ANCHOR: back_home
    // Node 1's own task sees the same file, written over the network.
    let bob = node1.runtime().task();
    let root1 = remote_local(&node1, &bob, "root")?;
    let local = Lookup {
        ipc: &bob,
        crdir: root1,
        cwdir: root1,
        auth: PortName::NULL,
        fds: &[],
        ctty: PortName::NULL,
    };
    let file = local.open("notes", OpenFlags::READ, 0)?;
    let text = io::Client::new(&bob, file).read(0, 100)?;
    print!(
        "node 1 reads its /notes: {}",
        String::from_utf8_lossy(&text)
    );
    // ANCHOR_END: back_home
    assert_eq!(text, b"written from node 2\n");
    Ok(())
}

/// Looks `name` up in the node's own registry.
fn remote_local(node: &Node, task: &Task, name: &str) -> Result<PortName, Error> {
    let reg = node.registry(task).map_err(Error::Kern)?;
    let port = registry::Client::new(task, reg).lookup(name.into())?;
    let _ = task.port_deallocate(reg);
    Ok(port.name)
}
