//! The auth server's error paths leave nothing behind: what it allocated
//! before a failure is released, as the names in its space show.

use hurd_auth::{AuthServer, IdSet, Limits, StdClock};
use hurd_ipc::hosted::{FaultyTask, Runtime};
use hurd_ipc::{Errno, Error, KernReturn, UserIpc};

#[test]
fn a_server_that_cannot_be_made_leaves_no_ports() {
    let rt = Runtime::new();
    let task = FaultyTask::new(rt.task());
    for n in 0..2 {
        task.fail_allocations_after(n);
        let r = AuthServer::new(task.clone(), StdClock::new(), Limits::default());
        assert_eq!(r.err(), Some(KernReturn::NoSpace), "allocation {n}");
        assert_eq!(task.port_names(), Ok(vec![]), "after allocation {n} failed");
    }
}

#[test]
fn a_handle_that_cannot_be_made_leaves_no_ports() {
    let rt = Runtime::new();
    let task = FaultyTask::new(rt.task());
    let limits = Limits {
        max_handles: 1,
        ..Limits::default()
    };
    let server = AuthServer::new(task.clone(), StdClock::new(), limits).expect("server");
    let before = task.port_names().expect("names");
    task.fail_allocations_after(0);
    assert_eq!(
        server.create_handle(IdSet::default()),
        Err(Error::Kern(KernReturn::NoSpace))
    );
    assert_eq!(task.port_names(), Ok(before.clone()));
    task.heal();
    let handle = server.create_handle(IdSet::default()).expect("handle");
    // The table is full: refused before anything is allocated.
    assert_eq!(
        server.create_handle(IdSet::default()),
        Err(Errno::Again.into())
    );
    assert_eq!(task.port_names().expect("names").len(), before.len() + 1);
    assert!(server.handle_ids(handle).is_some());
}
