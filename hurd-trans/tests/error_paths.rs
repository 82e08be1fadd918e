//! netfs's error paths leave nothing behind: what a server allocated before
//! a failure is released, as the names in its space show.

use hurd_auth::IdSet;
use hurd_ipc::hosted::{FaultyTask, Runtime};
use hurd_ipc::{Errno, Error, KernReturn, PortName, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::netfs::{NetFs, Options};
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
