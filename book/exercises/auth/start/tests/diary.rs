//! Tells you when the diary works: a port nobody vouched for reads
//! nothing; alice, its owner, reads it once her port is reauthenticated;
//! mallory, reauthenticated as who she is, does not; root does; and a
//! handle from an auth server the diary does not trust vouches for nobody.

use std::sync::mpsc;

use diary::Diary;
use diary::diary::Client;
use hurd_auth::{AuthServer, IdSet, Limits, StdClock, reauthenticate};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Errno, Error, PortName};

/// What alice wrote.
const TEXT: &[u8] = b"Dear diary, the rabbit was late again.";

/// A user: their task, their auth handle, and their send right to the
/// diary's first port (which stands for nobody yet).
struct User {
    task: Task,
    auth: PortName,
    diary: PortName,
}

/// An auth server answering in `task`, with a handle for each of `ids`
/// given to the task beside it; half handshakes wait at most two seconds.
fn auth_server(rt: &Runtime, ids: Vec<(IdSet, Task)>) -> Vec<PortName> {
    let (tx, rx) = mpsc::channel();
    rt.spawn("auth", move |task| {
        let limits = Limits {
            timeout_ms: 2_000,
            ..Limits::default()
        };
        let server = AuthServer::new(task.clone(), StdClock::new(), limits)?;
        let mut handles = Vec::new();
        for (ids, to) in &ids {
            let handle = server.create_handle(ids.clone())?;
            handles.push(task.give_right(handle, Disposition::MoveSend, to)?);
        }
        let _ = tx.send(handles);
        server.run();
        Ok::<(), Error>(())
    })
    .expect("a thread");
    rx.recv().expect("the handles")
}

// ANCHOR: start
/// Starts the auth server and alice's diary, a task of its own with a
/// root handle (as a file server has), and gives alice (uid 1000), mallory
/// (uid 666) and root each a handle and a send right to the diary's first
/// port. If the diary panics, its task ends and its ports die, so a
/// waiting client gets an error instead of waiting forever.
fn start(rt: &Runtime) -> [User; 3] {
    let keeper = rt.task();
    let (alice, mallory, root) = (rt.task(), rt.task(), rt.task());
    let handles = auth_server(
        rt,
        vec![
            (IdSet::root(), keeper.clone()),
            (IdSet::user(1000, &[100]), alice.clone()),
            (IdSet::user(666, &[666]), mallory.clone()),
            (IdSet::root(), root.clone()),
        ],
    );
    let (tx, rx) = mpsc::channel();
    let users = [alice.clone(), mallory.clone(), root.clone()];
    let handle = handles[0];
    rt.spawn("diary", move |task| {
        let auth = keeper.give_right(handle, Disposition::MoveSend, &task)?;
        let (diary, first) = Diary::new(task.clone(), auth, 1000, TEXT)?;
        let mut sends = Vec::new();
        for user in &users {
            sends.push(task.give_right(first, Disposition::MakeSend, user)?);
        }
        let _ = tx.send(sends);
        diary.serve();
        Ok::<(), Error>(())
    })
    .expect("a thread");
    let sends = rx.recv().expect("the diary's port");
    [
        User {
            task: alice,
            auth: handles[1],
            diary: sends[0],
        },
        User {
            task: mallory,
            auth: handles[2],
            diary: sends[1],
        },
        User {
            task: root,
            auth: handles[3],
            diary: sends[2],
        },
    ]
}

/// `user`'s diary port reauthenticated with the handle `auth`: a new port,
/// which the diary's auth server says stands for `auth`'s ids.
fn reauthenticated(user: &User, auth: PortName) -> Result<PortName, Error> {
    reauthenticate(&user.task, auth, |rendezvous| {
        Client::new(&user.task, user.diary).reauthenticate(rendezvous)
    })
}
// ANCHOR_END: start

#[test]
fn a_port_nobody_vouched_for_reads_nothing() -> Result<(), Error> {
    let rt = Runtime::new();
    let [alice, ..] = start(&rt);
    let read = Client::new(&alice.task, alice.diary).read();
    assert_eq!(read, Err(Errno::Access.into()));
    Ok(())
}

// ANCHOR: test
#[test]
fn the_owner_reads_once_her_port_is_reauthenticated() -> Result<(), Error> {
    let rt = Runtime::new();
    let [alice, ..] = start(&rt);
    let port = reauthenticated(&alice, alice.auth)?;
    assert_ne!(port, alice.diary);
    assert_eq!(Client::new(&alice.task, port).read()?, TEXT);
    // The old port still stands for nobody.
    let read = Client::new(&alice.task, alice.diary).read();
    assert_eq!(read, Err(Errno::Access.into()));
    Ok(())
}
// ANCHOR_END: test

#[test]
fn another_user_is_refused_and_root_is_not() -> Result<(), Error> {
    let rt = Runtime::new();
    let [_, mallory, root] = start(&rt);
    let port = reauthenticated(&mallory, mallory.auth)?;
    let read = Client::new(&mallory.task, port).read();
    assert_eq!(read, Err(Errno::Access.into()));
    let port = reauthenticated(&root, root.auth)?;
    assert_eq!(Client::new(&root.task, port).read()?, TEXT);
    Ok(())
}

#[test]
fn a_handle_of_an_auth_server_the_diary_does_not_trust_vouches_for_nobody() -> Result<(), Error> {
    let rt = Runtime::new();
    let [_, mallory, _] = start(&rt);
    // Mallory runs an auth server of her own, which gladly says she is
    // alice. The diary asks its own auth server, which never hears of the
    // rendezvous: both halves time out.
    let rogue = auth_server(&rt, vec![(IdSet::user(1000, &[100]), mallory.task.clone())]);
    let port = reauthenticated(&mallory, rogue[0]);
    assert_eq!(port, Err(Errno::TimedOut.into()));
    // The diary goes on serving: her first port still reads nothing.
    let read = Client::new(&mallory.task, mallory.diary).read();
    assert_eq!(read, Err(Errno::Access.into()));
    Ok(())
}
