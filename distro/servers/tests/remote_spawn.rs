//! Remote spawn: a program started on another node, with its I/O back on the
//! caller's node, and authentication across nodes.
//!
//! Node B is a separate process (this test binary run again, as
//! `node_b_process`, with its keys in the environment): the hosted server
//! set of hurd-servers — auth, password, a tmpfs root holding the programs,
//! and the exec server — in the runtime of a netmsg node, its exec server,
//! password server and root directory published in the node's registry.
//!
//! Node A (this process) has a tmpfs of its own. A user of node A logs in at
//! node B's password server (an auth handle of B's auth server for uid
//! 1000), reauthenticates B's root directory with it (the rendezvous crosses
//! the nodes) and asks B's exec server to run programs whose standard input
//! and output are files of A's tmpfs: the program runs on B, each `io_write`
//! travels back to A, and A reads the output locally. The program runs with
//! the ids of the handle A passed, and B's file system refuses A's user a
//! program only root may run.
//!
//! The test lives with the server set because it needs it: hurd-netmsg's own
//! tests use nothing of `distro/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hurd_auth::protocol::password;
use hurd_auth::{AuthClient, IdSet, Limits};
use hurd_ipc::Errno;
use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};
use hurd_netmsg::{Identity, Node, NodeConfig, PeerConfig, registry};
use hurd_servers::exec::{
    self, EXEC_NEWTASK, INIT_PORT_AUTH, INIT_PORT_CRDIR, INIT_PORT_CWDIR, INIT_PORT_MAX, SIGABRT,
    WaitStatus, argz, copy_send,
};
use hurd_servers::hosted::{DEMO_ACCOUNTS, ProgramContext, System};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{self, Options};
use hurd_trans::protocol::io;
use hurd_trans::translators::tmpfs::Tmpfs;

/// Generous: the machine may be loaded.
const WAIT: Duration = Duration::from_secs(30);

/// A configuration for `node` trusting `peers` (node, address, identity).
fn config(node: u16, peers: &[(u16, Option<SocketAddr>, &Identity)]) -> NodeConfig {
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
fn copy(id: &Identity) -> Identity {
    Identity::from_pem(id.key_pem()).expect("reload key")
}

/// Node B's keys (its own, node A's), PEM, separated by this line.
const KEYS_VAR: &str = "HURD_RS_REMOTE_SPAWN_NODE_B";
const SEPARATOR: &str = "--node-a--\n";

/// Node B's services, published in its registry.
fn serve_node_b(node: &Node) -> Result<System, Error> {
    // ANCHOR: node_b
    // The hosted server set in the node's runtime: auth, password, a tmpfs
    // root with /bin, and the exec server.
    let system = System::boot_in(node.runtime().clone(), DEMO_ACCOUNTS)?;
    // A program only root may run (mode 0700).
    system.install_program_with_mode(
        "/bin/secret",
        std::sync::Arc::new(|ctx: &ProgramContext| i32::from(ctx.print("secret\n").is_err())),
        0o700,
    )?;
    // Published for the cluster: the exec server, the password server and a
    // root directory for no one in particular (users reauthenticate it).
    let boot = node.runtime().task();
    let reg = registry::Client::new(&boot, node.registry(&boot)?);
    for (name, port) in [
        ("exec", system.exec_server(&boot)?),
        ("password", system.password_server(&boot)?),
        ("root", system.root_dir(&boot, &IdSet::empty())?),
    ] {
        let item = PortItem {
            disposition: Disposition::MoveSend,
            name: port,
        };
        reg.register(name.into(), item)?;
    }
    // ANCHOR_END: node_b
    Ok(system)
}

/// Node B's process: nothing when run as an ordinary test; node B when
/// started by `a_program_on_node_b_writes_to_node_a` with the keys in
/// [`KEYS_VAR`]. Prints its address, serves until its standard input closes.
#[test]
fn node_b_process() {
    let Ok(keys) = std::env::var(KEYS_VAR) else {
        return;
    };
    let (own, peer) = keys.split_once(SEPARATOR).expect("two keys");
    let own = Identity::from_pem(own).expect("node B's key");
    let peer = Identity::from_pem(peer).expect("node A's key");
    hurd_servers::hosted::report_crashes_briefly();
    let node = Node::start(config(2, &[(1, None, &peer)]), own).expect("node B");
    let _system = serve_node_b(&node).expect("node B's servers");
    println!("listening on {}", node.local_addr());
    let _ = std::io::stdout().flush();
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
}

/// Node B as a child process, killed when dropped.
struct NodeB {
    child: Child,
    addr: SocketAddr,
}

impl NodeB {
    fn start(own: &Identity, peer: &Identity) -> NodeB {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "node_b_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(
                KEYS_VAR,
                format!("{}{SEPARATOR}{}", own.key_pem(), peer.key_pem()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node B");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { return };
                // The test harness's own words may precede it on the line.
                if let Some((_, a)) = l.split_once("listening on ") {
                    let _ = tx.send(a.trim().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(WAIT)
            .expect("node B's address")
            .parse()
            .expect("an address");
        NodeB { child, addr }
    }
}

impl Drop for NodeB {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Node A's own file system: a tmpfs, and a root directory for uid 1000.
fn node_a_files(node: &Node, user: &Task) -> Result<PortName, Error> {
    let rt = node.runtime();
    let (boot, fs_task) = (rt.task(), rt.task());
    let handles = hurd_auth::hosted::spawn(rt, Limits::default(), &[&boot, &fs_task])?;
    let (_, control) = netfs::spawn(
        fs_task,
        Tmpfs::new(0, 0, 0o777, 1 << 20),
        handles[1],
        None,
        Options::default(),
        &boot,
    )?;
    let root = netfs::getroot(&boot, control, &IdSet::user(1000, &[100]), OpenFlags::READ)?;
    Ok(boot.give_right(root, Disposition::MoveSend, user)?)
}

/// `name` from node B's registry, seen from node A.
fn from_b(node: &Node, task: &Task, name: &str) -> PortName {
    let reg = node.peer_registry(2, task).expect("node B's registry");
    let found = registry::Client::new(task, reg)
        .with_timeout(WAIT)
        .lookup(name.into())
        .expect("lookup");
    let _ = task.port_deallocate(reg);
    assert_eq!(found.disposition, Disposition::PORT_SEND);
    found.name
}

#[test]
fn a_program_on_node_b_writes_to_node_a() {
    let (key_a, key_b) = (
        Identity::generate().expect("key"),
        Identity::generate().expect("key"),
    );
    let b = NodeB::start(&copy(&key_b), &key_a);
    let node_a =
        Node::start(config(1, &[(2, Some(b.addr), &key_b)]), copy(&key_a)).expect("node A");
    assert!(node_a.wait_for_peer(2, WAIT), "node A reaches node B");

    let alice = node_a.runtime().task();
    let home = node_a_files(&node_a, &alice).expect("node A's tmpfs");
    let here = Lookup {
        ipc: &alice,
        crdir: home,
        cwdir: home,
        auth: PortName::NULL,
        fds: &[],
        ctty: PortName::NULL,
    };

    // ANCHOR: login
    // Authentication across nodes: node B's password server gives an auth
    // handle of node B's auth server for uid 1000; with it, node B's root
    // directory is reauthenticated (the rendezvous port travels both ways
    // through netmsg and is one port on node B).
    let exec_b = from_b(&node_a, &alice, "exec");
    let password_b = from_b(&node_a, &alice, "password");
    let anonymous_root = from_b(&node_a, &alice, "root");
    let auth = password::Client::new(&alice, password_b)
        .check_user(1000, "wonderland".into())
        .expect("log in at node B")
        .name;
    let root = hurd_auth::reauthenticate(&alice, auth, |rendezvous| {
        io::Client::new(&alice, anonymous_root).reauthenticate(rendezvous)
    })
    .expect("node B's root as uid 1000");
    // ANCHOR_END: login
    assert_eq!(
        AuthClient::new(&alice, auth)
            .getids()
            .expect("ids")
            .into_vecs()
            .0,
        [1000]
    );
    assert!(
        password::Client::new(&alice, password_b)
            .check_user(1000, "guess".into())
            .is_err(),
        "a wrong password is refused"
    );

    // ANCHOR: spawn
    // Runs `path` on node B with standard input and output on node A.
    let spawn = |path: &str, argv: &[&str], stdin: PortName, stdout: PortName| {
        let mut init = [PortName::NULL; INIT_PORT_MAX];
        init[INIT_PORT_CWDIR] = root;
        init[INIT_PORT_CRDIR] = root;
        init[INIT_PORT_AUTH] = auth;
        exec::exec::Client::new(&alice, exec_b)
            .with_timeout(WAIT)
            .exec_file_name(
                PortItem {
                    disposition: Disposition::CopySend,
                    name: PortName::NULL, // node B's exec server opens `path`
                },
                PortItem {
                    disposition: Disposition::CopySend,
                    name: PortName::NULL, // a new task on node B
                },
                EXEC_NEWTASK,
                path.into(),
                argz(argv),
                argz(&["USER=alice"]),
                copy_send(&[stdin, stdout, stdout]),
                copy_send(&init),
            )
            .map(WaitStatus::from_raw)
    };
    // Standard output: a file of node A's own tmpfs.
    let out = here
        .open("greeting", OpenFlags::WRITE | OpenFlags::CREAT, 0o644)
        .expect("a file on node A");
    let status = spawn(
        "/bin/args",
        &["args", "hello", "from", "node", "B"],
        PortName::NULL,
        out,
    );
    assert_eq!(status, Ok(WaitStatus::Exited(0)));
    // Node A reads what the program on node B wrote.
    let f = here.open("greeting", OpenFlags::READ, 0).expect("reopen");
    let text = io::Client::new(&alice, f).read(0, 100).expect("read");
    assert_eq!(text, b"hello from node B\n");
    // ANCHOR_END: spawn

    // ANCHOR: ids
    // The program runs with the ids of the handle node A passed.
    let out = here
        .open("ids", OpenFlags::WRITE | OpenFlags::CREAT, 0o644)
        .expect("a file on node A");
    assert_eq!(
        spawn("/bin/whoami", &["whoami"], PortName::NULL, out),
        Ok(WaitStatus::Exited(0))
    );
    let f = here.open("ids", OpenFlags::READ, 0).expect("reopen");
    assert_eq!(
        io::Client::new(&alice, f).read(0, 100).expect("read"),
        b"1000\n"
    );
    // Node B's file system refuses uid 1000 a program only root may run.
    let refused = spawn("/bin/secret", &["secret"], PortName::NULL, out);
    assert_eq!(refused.err().and_then(Errno::of), Some(Errno::Access));
    // ANCHOR_END: ids

    // Standard input from node A too.
    let input = here
        .open("words", OpenFlags::WRITE | OpenFlags::CREAT, 0o644)
        .expect("input file");
    io::Client::new(&alice, input)
        .write(b"across the cluster\n".to_vec(), 0)
        .expect("write input");
    let input = here
        .open("words", OpenFlags::READ, 0)
        .expect("reopen input");
    let shout = here
        .open("shout", OpenFlags::WRITE | OpenFlags::CREAT, 0o644)
        .expect("output file");
    assert_eq!(
        spawn("/bin/upcase", &["upcase"], input, shout),
        Ok(WaitStatus::Exited(0))
    );
    let f = here.open("shout", OpenFlags::READ, 0).expect("reopen");
    assert_eq!(
        io::Client::new(&alice, f).read(0, 100).expect("read"),
        b"ACROSS THE CLUSTER\n"
    );

    // A crash on node B ends only its task; node B goes on.
    assert_eq!(
        spawn("/bin/crash", &["crash"], PortName::NULL, PortName::NULL),
        Ok(WaitStatus::Signaled(SIGABRT))
    );
    assert_eq!(
        spawn("/bin/false", &["false"], PortName::NULL, PortName::NULL),
        Ok(WaitStatus::Exited(1))
    );
    drop(b);
}
