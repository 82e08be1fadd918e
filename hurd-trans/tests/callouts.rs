//! One client cannot stop a file system for everyone: a request whose
//! server must call another task (the auth server for `io_reauthenticate`,
//! the old translator for `file_set_translator`) that does not answer holds
//! up only that request; other clients' requests are served meanwhile, and
//! the stuck request finishes when the answer comes.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{User, World};
use hurd_ipc::{Disposition, Error, PortItem, PortName, RightType, UserIpc};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::protocol::{fs, fsys, io};

/// How long a request that does not depend on the stuck one may take.
const PROMPT: Duration = Duration::from_secs(5);

/// `io_stat` of `path` for `u`, run on a thread of its own and given
/// [`PROMPT`] to answer.
fn stat_promptly(u: &User, path: &str) -> Result<u64, &'static str> {
    let file = u.open(path, OpenFlags::READ);
    let task = u.task.clone();
    let (tx, rx) = mpsc::channel();
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            eprintln!("open {path}: {e:?}");
            return Err("the open was refused");
        }
    };
    std::thread::spawn(move || {
        let _ = tx.send(io::Client::new(&task, file).stat().map(|s| s.size));
    });
    match rx.recv_timeout(PROMPT) {
        Ok(Ok(size)) => Ok(size),
        Ok(Err(_)) => Err("io_stat failed"),
        Err(_) => Err("io_stat was not answered: the server is held up"),
    }
}

fn put(u: &User, path: &str, data: &[u8]) {
    let f = u
        .open(path, OpenFlags::WRITE | OpenFlags::CREAT)
        .expect("create");
    io::Client::new(&u.task, f)
        .write(data.to_vec(), 0)
        .expect("write");
}

#[test]
fn a_rendezvous_never_presented_holds_up_no_one_else() {
    let w = World::new();
    let alice = w.alice();
    let bob = w.bob();
    put(&alice, "file", b"hello");
    // Alice asks to be reauthenticated on her root port and never presents
    // the rendezvous to the auth server, which keeps the server's half
    // waiting for her.
    for _ in 0..3 {
        let rendezvous = alice
            .task
            .port_allocate(RightType::Receive)
            .expect("rendezvous");
        io::Client::new(&alice.task, alice.root)
            .reauthenticate(PortItem {
                disposition: Disposition::MakeSend,
                name: rendezvous,
            })
            .expect("sent");
    }
    // Bob is served at once, more than once.
    for _ in 0..3 {
        assert_eq!(stat_promptly(&bob, "file"), Ok(5));
    }
    // And a reauthentication that is presented completes: the new port
    // serves Alice.
    let again = alice.lookup().reauthenticate(alice.root).expect("reauth");
    assert!(again.is_valid());
    let st = io::Client::new(&alice.task, again).stat().expect("stat");
    assert_eq!(st.uid, 0, "the root directory");
}

#[test]
fn a_translator_that_never_goes_away_holds_up_no_one_else() {
    let w = World::new();
    let alice = w.alice();
    let bob = w.bob();
    put(&alice, "file", b"hello");
    put(&alice, "node", b"");
    // Alice's active translator is a port of hers that she does not serve.
    let silent = alice
        .task
        .port_allocate(RightType::Receive)
        .expect("silent translator");
    let node = alice.open("node", OpenFlags::NOTRANS).expect("node");
    let set = |control: PortName, disposition| {
        fs::Client::new(&alice.task, node).file_set_translator(
            0,
            FS_TRANS_SET as i32,
            0,
            vec![],
            PortItem {
                disposition,
                name: control,
            },
        )
    };
    set(silent, Disposition::MakeSend).expect("first settrans");
    // A second file_set_translator asks the first translator to go away,
    // which it does not answer: Alice's call waits (on a thread of hers).
    let replacement = alice
        .task
        .port_allocate(RightType::Receive)
        .expect("replacement");
    let (tx, rx) = mpsc::channel();
    let (task, replacement_item) = (alice.task.clone(), replacement);
    std::thread::spawn(move || {
        let r = fs::Client::new(&task, node).file_set_translator(
            0,
            FS_TRANS_SET as i32,
            0,
            vec![],
            PortItem {
                disposition: Disposition::MakeSend,
                name: replacement_item,
            },
        );
        let _ = tx.send(r);
    });
    // Bob is served meanwhile.
    for _ in 0..3 {
        assert_eq!(stat_promptly(&bob, "file"), Ok(5));
    }
    assert!(
        rx.try_recv().is_err(),
        "file_set_translator finished before the old translator answered"
    );
    // The old translator answers at last: it goes away, and the second
    // call completes.
    let goaway = alice.task.receive(silent).expect("fsys_goaway");
    assert_eq!(goaway.header.id, fsys::id::goaway);
    let reply = hurd_ipc::mig::reply_message(&hurd_ipc::mig::Request::of(&goaway), Ok(vec![]));
    alice.task.send(reply).expect("answer");
    let r = rx
        .recv_timeout(PROMPT)
        .expect("file_set_translator answered");
    assert_eq!(r, Ok(()));
    // The node's active translator is the replacement now.
    let cntl = fs::Client::new(&alice.task, node)
        .file_get_translator_cntl()
        .expect("translator control");
    assert_eq!(
        alice
            .task
            .port_get_receive_status(replacement)
            .map(|s| s.srights),
        Ok(true)
    );
    let _ = cntl;
    // A refusal from the old translator is the caller's answer.
    let third = alice.task.port_allocate(RightType::Receive).expect("third");
    let (tx, rx) = mpsc::channel();
    let task = alice.task.clone();
    std::thread::spawn(move || {
        let r = fs::Client::new(&task, node).file_set_translator(
            0,
            FS_TRANS_SET as i32,
            0,
            vec![],
            PortItem {
                disposition: Disposition::MakeSend,
                name: third,
            },
        );
        let _ = tx.send(r);
    });
    let goaway = alice.task.receive(replacement).expect("fsys_goaway");
    let busy = Error::from(hurd_ipc::Errno::Busy);
    let reply = hurd_ipc::mig::reply_message(&hurd_ipc::mig::Request::of(&goaway), Err(busy));
    alice.task.send(reply).expect("answer");
    assert_eq!(rx.recv_timeout(PROMPT).expect("answered"), Err(busy));
    // The refused replacement's right was released.
    assert_eq!(
        alice.task.port_get_receive_status(third).map(|s| s.srights),
        Ok(false)
    );
}
