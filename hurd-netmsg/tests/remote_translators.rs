//! Translators on node 1 used from node 2: a user on node 2 sets passive
//! translators on node 1's file system; the first lookup from node 2 starts
//! them on node 1 (as the node's owner), and node 2 talks to them through
//! proxies — a single-node translator and a whole file system.

#[path = "../examples/cluster.rs"]
#[allow(dead_code)]
mod cluster_example;

use std::time::Duration;

use cluster_example::{config, remote, serve_files};
use hurd_ipc::{Disposition, PortItem, PortName, UserIpc};
use hurd_netmsg::{Identity, Node};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::lookup::Lookup;
use hurd_trans::protocol::{fs, io};
use hurd_trans::transbox::argv_to_argz;

#[test]
fn translators_on_one_node_used_from_another() {
    let (key1, key2) = (
        Identity::generate().expect("key"),
        Identity::generate().expect("key"),
    );
    let node2 = Node::start(
        config(2, 1, None, &key1),
        Identity::from_pem(key2.key_pem()).expect("pem"),
    )
    .expect("node 2");
    let node1 = Node::start(
        config(1, 2, Some(node2.local_addr()), &key2),
        Identity::from_pem(key1.key_pem()).expect("pem"),
    )
    .expect("node 1");
    assert!(node2.wait_for_peer(1, Duration::from_secs(60)));
    serve_files(&node1).expect("node 1 serves");

    let alice = node2.runtime().task();
    let root = remote(&node2, 1, &alice, "root").expect("root");
    let auth = remote(&node2, 1, &alice, "auth").expect("auth");
    let lookup = Lookup {
        ipc: &alice,
        crdir: root,
        cwdir: root,
        auth,
        fds: &[],
        ctty: PortName::NULL,
    };
    let settrans = |path: &str, argv: &[&str]| {
        let f = lookup
            .open(path, OpenFlags::WRITE | OpenFlags::CREAT, 0o644)
            .expect("create");
        let _ = alice.port_deallocate(f);
        let node = lookup.open(path, OpenFlags::NOTRANS, 0).expect("node");
        fs::Client::new(&alice, node)
            .file_set_translator(
                FS_TRANS_SET as i32,
                0,
                0,
                argv_to_argz(argv),
                PortItem {
                    disposition: Disposition::CopySend,
                    name: PortName::NULL,
                },
            )
            .expect("settrans from node 2");
        node
    };

    // A single-node translator, with an argument.
    let node = settrans("greeting", &["/hurd/hello", "hello across nodes\n"]);
    let g = lookup
        .open("greeting", OpenFlags::READ, 0)
        .expect("lookup through the translator");
    assert_eq!(
        io::Client::new(&alice, g).read(0, 100).expect("read"),
        b"hello across nodes\n"
    );
    assert_eq!(
        fs::Client::new(&alice, node)
            .file_get_translator()
            .expect("showtrans"),
        argv_to_argz(&["/hurd/hello", "hello across nodes\n"])
    );

    // A whole file system on node 1, owned by the user, used from node 2;
    // `..` out of its root leads back to node 1's tmpfs (a reauth retry).
    settrans("fs", &["/hurd/tmpfs"]);
    let f = lookup
        .open("fs/inner", OpenFlags::WRITE | OpenFlags::CREAT, 0o644)
        .expect("create inside the translator");
    io::Client::new(&alice, f)
        .write(b"inside\n".to_vec(), 0)
        .expect("write");
    let f = lookup.open("fs/inner", OpenFlags::READ, 0).expect("reopen");
    assert_eq!(
        io::Client::new(&alice, f).read(0, 100).expect("read"),
        b"inside\n"
    );
    let back = lookup
        .open("fs/../greeting", OpenFlags::READ, 0)
        .expect("out of the translator's root");
    assert_eq!(
        io::Client::new(&alice, back).read(0, 100).expect("read"),
        b"hello across nodes\n"
    );
}
