//! netfs's error paths leave nothing behind: what a server allocated before
//! a failure is released, as the names in its space show.

use hurd_auth::IdSet;
use hurd_ipc::hosted::{FaultyTask, Runtime};
use hurd_ipc::mig::Dispatch;
use hurd_ipc::{Disposition, Errno, Error, KernReturn, PortItem, PortName, RightType, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::netfs::{NetFs, Options};
use hurd_trans::protocol::io;
use hurd_trans::translators::tmpfs::Tmpfs;

fn tree() -> Tmpfs {
    Tmpfs::new(0, 0, 0o755, 1 << 20)
}

#[test]
fn a_server_that_cannot_be_made_leaves_no_ports() {
    let rt = Runtime::new();
    let task = FaultyTask::new(rt.task());
    for n in 0..2 {
        task.fail_allocations_after(n);
        let r = NetFs::new(
            task.clone(),
            tree(),
            PortName::NULL,
            None,
            Options::default(),
        );
        assert_eq!(r.err(), Some(KernReturn::NoSpace), "allocation {n}");
        assert_eq!(task.port_names(), Ok(vec![]), "after allocation {n} failed");
    }
}

#[test]
fn an_open_that_cannot_get_a_port_leaves_nothing() {
    let rt = Runtime::new();
    let task = FaultyTask::new(rt.task());
    let fs = NetFs::new(
        task.clone(),
        tree(),
        PortName::NULL,
        None,
        Options::default(),
    )
    .expect("server");
    let before = task.port_names().expect("names");
    task.fail_allocations_after(0);
    assert_eq!(
        fs.root_port(IdSet::default(), OpenFlags::READ),
        Err(Error::from(Errno::NoMem))
    );
    assert_eq!(task.port_names(), Ok(before.clone()));
    assert_eq!(fs.open_ports(), 0);
    task.heal();
    let root = fs
        .root_port(IdSet::default(), OpenFlags::READ)
        .expect("root");
    assert_eq!(fs.open_ports(), 1);
    assert!(root.is_valid());
    assert!(task.port_names().expect("names").len() > before.len());
}

/// A server task with an auth server to meet users at (a port nobody
/// serves: the handshake is never answered), its root opened for a client;
/// last, the auth server's task.
fn reauth_world(
    with_auth: bool,
) -> (
    Runtime,
    FaultyTask,
    NetFs<Tmpfs, FaultyTask>,
    hurd_ipc::hosted::Task,
    PortName,
    hurd_ipc::hosted::Task,
) {
    let rt = Runtime::new();
    let task = FaultyTask::new(rt.task());
    let auth_task = rt.task();
    let auth = if with_auth {
        let port = auth_task
            .port_allocate(RightType::Receive)
            .expect("auth port");
        auth_task
            .give_right(port, Disposition::MakeSend, task.task())
            .expect("auth right")
    } else {
        PortName::NULL
    };
    let fs = NetFs::new(task.clone(), tree(), auth, None, Options::default()).expect("server");
    let root = fs
        .root_port(IdSet::default(), OpenFlags::READ)
        .expect("root");
    let client = rt.task();
    let file = task
        .task()
        .give_right(root, Disposition::MakeSend, &client)
        .expect("client's right");
    (rt, task, fs, client, file, auth_task)
}

/// Sends `io_reauthenticate` on `file` with a fresh rendezvous port of the
/// client's and has the server take it in; returns the rendezvous port.
fn reauthenticate(
    task: &FaultyTask,
    fs: &NetFs<Tmpfs, FaultyTask>,
    client: &hurd_ipc::hosted::Task,
    file: PortName,
    fail_sends: bool,
) -> PortName {
    let rendezvous = client
        .port_allocate(RightType::Receive)
        .expect("rendezvous");
    io::Client::new(client, file)
        .reauthenticate(PortItem {
            disposition: Disposition::MakeSend,
            name: rendezvous,
        })
        .expect("sent");
    let msg = task.receive(fs.port_set()).expect("request");
    if fail_sends {
        task.fail_sends_after(0);
    }
    assert!(matches!(fs.handle(msg), Dispatch::NoReply));
    task.heal();
    rendezvous
}

#[test]
fn a_reauthentication_the_auth_server_never_hears_of_leaves_nothing() {
    let (_rt, task, fs, client, file, _auth) = reauth_world(true);
    // The thread's cached reply port (MIG's) is made before counting.
    let reply = task.reply_port().expect("reply port");
    task.release_reply_port(reply, true);
    let before = task.port_names().expect("names");
    let opens = fs.open_ports();
    let rendezvous = reauthenticate(&task, &fs, &client, file, true);
    // The rendezvous right that came with the request and the port made for
    // the new protid are gone: the request to the auth server never left.
    assert_eq!(task.port_names(), Ok(before));
    assert_eq!(fs.open_ports(), opens);
    let status = client.port_get_receive_status(rendezvous).expect("status");
    assert!(
        !status.srights,
        "the server kept a send right to the rendezvous"
    );
}

#[test]
fn a_reauthentication_without_an_auth_server_leaves_nothing() {
    let (_rt, task, fs, client, file, _auth) = reauth_world(false);
    let before = task.port_names().expect("names");
    let opens = fs.open_ports();
    let rendezvous = reauthenticate(&task, &fs, &client, file, false);
    assert_eq!(task.port_names(), Ok(before));
    assert_eq!(fs.open_ports(), opens);
    let status = client.port_get_receive_status(rendezvous).expect("status");
    assert!(!status.srights);
}

#[test]
fn a_receive_right_sent_as_the_rendezvous_is_destroyed() {
    let (_rt, task, fs, client, file, _auth) = reauth_world(true);
    let before = task.port_names().expect("names");
    let opens = fs.open_ports();
    let rendezvous = client
        .port_allocate(RightType::Receive)
        .expect("rendezvous");
    io::Client::new(&client, file)
        .reauthenticate(PortItem {
            disposition: Disposition::MoveReceive,
            name: rendezvous,
        })
        .expect("sent");
    let msg = task.receive(fs.port_set()).expect("request");
    assert!(matches!(fs.handle(msg), Dispatch::NoReply));
    assert_eq!(task.port_names(), Ok(before));
    assert_eq!(fs.open_ports(), opens);
}
