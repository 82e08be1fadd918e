//! The auth protocol through a hosted auth server: handles, makeauth, the
//! rendezvous, and the attacks on them.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use hurd_auth::protocol::auth;
use hurd_auth::{AuthClient, IdSet, Limits, reauthenticate};
use hurd_ipc::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::notify::{NOTIFY_DEAD_NAME, NOTIFY_NO_SENDERS};
use hurd_ipc::{
    Disposition, Error, Item, Message, MigReturn, PortArray, PortItem, PortName, RightType, UserIpc,
};

fn ids(e: &[u32], a: &[u32], eg: &[u32], ag: &[u32]) -> IdSet {
    IdSet::from_vecs(e.to_vec(), a.to_vec(), eg.to_vec(), ag.to_vec())
}

fn send(name: PortName) -> PortItem {
    PortItem {
        disposition: Disposition::CopySend,
        name,
    }
}

fn make_send(name: PortName) -> PortItem {
    PortItem {
        disposition: Disposition::MakeSend,
        name,
    }
}

/// Runs `f` on a thread while the test thread pumps the server until it ends.
fn with_pump<R: Send + 'static>(server: &Server, f: impl FnOnce() -> R + Send + 'static) -> R {
    let h = thread::spawn(f);
    while !h.is_finished() {
        server
            .run_until_idle(Duration::from_millis(2))
            .expect("serve");
    }
    h.join().expect("client thread")
}

#[test]
fn getids_returns_the_handles_ids() {
    let rt = Runtime::new();
    let (auth_task, client) = (rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let root = give_handle(&server, IdSet::root(), &client);
    let c = client.clone();
    let got = with_pump(&server, move || AuthClient::new(&c, root).getids());
    assert_eq!(got, Ok(IdSet::root()));
    assert_eq!(server.stats().handles, 1);
}

#[test]
fn makeauth_rules_over_rpc() {
    let rt = Runtime::new();
    let (auth_task, client) = (rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let root = give_handle(&server, IdSet::root(), &client);
    let alice = give_handle(&server, IdSet::user(1000, &[100]), &client);
    let bob = give_handle(&server, IdSet::user(2000, &[200]), &client);
    let stranger = client.port_allocate(RightType::Receive).expect("port");
    let c = client.clone();
    let results = with_pump(&server, move || {
        let a = AuthClient::new(&c, alice);
        let mint_root = a.makeauth(&[], &ids(&[0], &[], &[], &[]));
        let mint_other = a.makeauth(&[], &ids(&[], &[2000], &[], &[]));
        let mint_gid = a.makeauth(&[], &ids(&[], &[], &[0], &[]));
        let subset = a
            .makeauth(&[], &ids(&[1000], &[1000], &[], &[100]))
            .and_then(|h| AuthClient::new(&c, h).getids());
        let with_bob = a
            .makeauth(&[bob], &ids(&[1000, 2000], &[], &[200], &[]))
            .and_then(|h| AuthClient::new(&c, h).getids());
        let union = a
            .makeauth(&[bob], &IdSet::empty())
            .and_then(|h| AuthClient::new(&c, h).getids());
        let not_a_handle = a.makeauth(
            &[c.give_right(stranger, Disposition::MakeSend, &c)
                .expect("send")],
            &IdSet::empty(),
        );
        let root_any = AuthClient::new(&c, root)
            .makeauth(&[], &ids(&[7], &[7, 8], &[9], &[]))
            .and_then(|h| AuthClient::new(&c, h).getids());
        let all_three = AuthClient::new(&c, root)
            .makeauth(&[alice, bob], &IdSet::empty())
            .and_then(|h| AuthClient::new(&c, h).getids());
        (
            mint_root,
            mint_other,
            mint_gid,
            subset,
            with_bob,
            union,
            not_a_handle,
            root_any,
            all_three,
        )
    });
    let perm: Result<(), Error> = Err(Error::from(Errno::Perm));
    assert_eq!(results.0.err(), perm.err());
    assert_eq!(results.1.err(), perm.err());
    assert_eq!(results.2.err(), perm.err());
    assert_eq!(results.3, Ok(ids(&[1000], &[1000], &[], &[100])));
    assert_eq!(results.4, Ok(ids(&[1000, 2000], &[], &[200], &[])));
    assert_eq!(
        results.5,
        Ok(ids(&[1000, 2000], &[1000, 2000], &[100, 200], &[100, 200]))
    );
    assert_eq!(results.6.err(), Some(Error::from(Errno::Inval)));
    assert_eq!(results.7, Ok(ids(&[7], &[7, 8], &[9], &[])));
    let u = IdSet::union(&[
        IdSet::root(),
        IdSet::user(1000, &[100]),
        IdSet::user(2000, &[200]),
    ]);
    assert_eq!(results.8, Ok(u));
}

#[test]
fn makeauth_presents_many_handles_in_one_call() {
    let rt = Runtime::new();
    let (auth_task, client) = (rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let alice = give_handle(&server, IdSet::user(1000, &[100]), &client);
    let bob = give_handle(&server, IdSet::user(2000, &[200]), &client);
    let carol = give_handle(&server, IdSet::user(3000, &[300]), &client);
    let saved_root = give_handle(&server, ids(&[4000], &[4000, 0], &[], &[]), &client);
    let stranger = client.port_allocate(RightType::Receive).expect("port");
    let stranger = client
        .give_right(stranger, Disposition::MakeSend, &client)
        .expect("send");
    server.run_until_idle(IDLE).expect("serve");
    let handles_before = server.stats().handles;
    let client_before = names(&rt, &client);
    let want = ids(&[1000, 2000, 3000], &[3000], &[100, 300], &[200]);
    let c = client.clone();
    let w = want.clone();
    let r = with_pump(&server, move || {
        let a = AuthClient::new(&c, alice);
        let getids = |h| AuthClient::new(&c, h).getids();
        let mint = |others: &[PortName], ids: &IdSet| a.makeauth(others, ids);
        (
            // No two of them hold all of it; the three together do.
            mint(&[bob], &w).map(|_| ()),
            mint(&[carol], &w).map(|_| ()),
            mint(&[bob, carol], &w).and_then(getids),
            // Order and repetition do not matter; the handle itself may be
            // presented again.
            mint(&[carol, alice, bob, carol, bob], &w).and_then(getids),
            // Uid 0 anywhere in the array allows anything (here an available
            // uid 0, the third element).
            mint(&[bob, carol, saved_root], &IdSet::root()).and_then(getids),
            // One element that is no handle spoils the call, whatever the rest.
            mint(&[bob, stranger, carol], &w).map(|_| ()),
            mint(&[saved_root, stranger], &IdSet::empty()).map(|_| ()),
            mint(&[PortName::NULL], &IdSet::empty()).map(|_| ()),
            mint(&[bob, PortName::DEAD], &IdSet::empty()).map(|_| ()),
            // The union of four.
            mint(&[bob, carol, alice], &IdSet::empty()).and_then(getids),
        )
    });
    let perm = Some(Error::from(Errno::Perm));
    let inval = Some(Error::from(Errno::Inval));
    assert_eq!(r.0.err(), perm);
    assert_eq!(r.1.err(), perm);
    assert_eq!(r.2, Ok(want.clone()));
    assert_eq!(r.3, Ok(want));
    assert_eq!(r.4, Ok(IdSet::root()));
    assert_eq!(r.5.err(), inval);
    assert_eq!(r.6.err(), inval);
    assert_eq!(r.7.err(), inval);
    assert_eq!(r.8.err(), inval);
    assert_eq!(
        r.9,
        Ok(IdSet::union(&[
            IdSet::user(1000, &[100]),
            IdSet::user(2000, &[200]),
            IdSet::user(3000, &[300]),
        ]))
    );
    // Four handles were made (and are still held by the client).
    assert_eq!(server.stats().handles, handles_before + 4);
    // The client kept every right it presented: the array copies them.
    let kept: Vec<_> = names(&rt, &client)
        .into_iter()
        .filter(|(n, _)| client_before.iter().any(|(b, _)| b == n))
        .collect();
    assert_eq!(kept, client_before);
    for h in [alice, bob, carol, saved_root, stranger] {
        assert_eq!(client.port_get_refs(h, RightType::Send), Ok(1), "{h:?}");
    }
}

#[test]
fn makeauth_arrays_leak_nothing() {
    let rt = Runtime::new();
    let (auth_task, client) = (rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let alice = give_handle(&server, IdSet::user(1000, &[100]), &client);
    let bob = give_handle(&server, IdSet::user(2000, &[200]), &client);
    let root = give_handle(&server, IdSet::root(), &client);
    let stranger = client.port_allocate(RightType::Receive).expect("port");
    let stranger = client
        .give_right(stranger, Disposition::MakeSend, &client)
        .expect("send");
    server.run_until_idle(IDLE).expect("serve");
    let before = names(&rt, &auth_task);
    let handles = server.stats().handles;
    let c = client.clone();
    let (made, failed) = with_pump(&server, move || {
        let a = AuthClient::new(&c, alice);
        let (mut made, mut failed) = (0, 0);
        for i in 0..200u32 {
            let result = match i % 5 {
                // Succeeds: the union, the handle itself repeated.
                0 => a.makeauth(&[bob, alice, bob], &IdSet::empty()),
                // Succeeds: root in the array.
                1 => a.makeauth(&[bob, root], &IdSet::user(i, &[i])),
                // EPERM: held by neither.
                2 => a.makeauth(&[bob, bob, bob], &IdSet::user(3000, &[])),
                // EINVAL: a non-handle after valid handles.
                3 => a.makeauth(&[bob, root, stranger], &IdSet::empty()),
                // EINVAL: NULL among them.
                _ => a.makeauth(&[root, PortName::NULL, bob], &IdSet::empty()),
            };
            match result {
                Ok(h) => {
                    made += 1;
                    c.port_deallocate(h).expect("drop new handle");
                }
                Err(_) => failed += 1,
            }
        }
        (made, failed)
    });
    assert_eq!((made, failed), (80, 120));
    // The made handles die with their send rights; then the server's space is
    // as before: every right received in the arrays was released.
    pump_until(&server, || server.stats().handles == handles);
    assert_eq!(names(&rt, &auth_task), before, "no rights gained or lost");
    for h in [alice, bob, root, stranger] {
        assert_eq!(client.port_get_refs(h, RightType::Send), Ok(1), "{h:?}");
    }
}

#[test]
fn handles_die_with_their_last_send_right() {
    let rt = Runtime::new();
    let (auth_task, client) = (rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let before = names(&rt, &auth_task);
    let h = give_handle(&server, IdSet::user(5, &[5]), &client);
    server.run_until_idle(IDLE).expect("serve");
    assert_eq!(server.stats().handles, 1);
    client.port_deallocate(h).expect("deallocate");
    pump_until(&server, || server.stats().handles == 0);
    assert_eq!(names(&rt, &auth_task), before, "nothing left behind");
}

/// A toy I/O server's half: `server_authenticate` with a fresh port.
fn io_side(io: &Task, auth: PortName, rend: PortName) -> (PortName, Result<IdSet, Error>) {
    let newport = io.port_allocate(RightType::Receive).expect("port");
    let r = AuthClient::new(io, auth).server_authenticate(
        PortItem {
            disposition: Disposition::MoveSend,
            name: rend,
        },
        make_send(newport),
    );
    (newport, r)
}

fn handshake(user_first: bool) {
    let rt = Runtime::new();
    let (auth_task, user, io) = (rt.task(), rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let user_auth = give_handle(&server, IdSet::user(1000, &[100]), &user);
    let io_auth = give_handle(&server, IdSet::root(), &io);
    let before = names(&rt, &auth_task);
    let rend = user.port_allocate(RightType::Receive).expect("rend");
    let rend_io = user
        .give_right(rend, Disposition::MakeSend, &io)
        .expect("give");

    let u = user.clone();
    let user_call = move || AuthClient::new(&u, user_auth).user_authenticate(make_send(rend));
    let i = io.clone();
    let io_call = move || io_side(&i, io_auth, rend_io);
    let parked = |server: &Server| {
        pump_until(server, || {
            let s = server.stats();
            s.pending_users + s.pending_servers == 1
        })
    };
    let (user_res, io_res) = if user_first {
        let first = thread::spawn(user_call);
        parked(&server);
        let io_res = with_pump(&server, io_call);
        (first.join().expect("user"), io_res)
    } else {
        let first = thread::spawn(io_call);
        parked(&server);
        let user_res = with_pump(&server, user_call);
        (user_res, first.join().expect("io"))
    };
    let (newport, ids) = io_res;
    assert_eq!(
        ids,
        Ok(IdSet::user(1000, &[100])),
        "the server learns the user's ids"
    );
    let got = user_res.expect("user gets the port");
    assert_eq!(
        user.port_id(got).expect("id"),
        io.port_id(newport).expect("id"),
        "the user holds the I/O server's new port"
    );
    assert_eq!(
        server.stats().pending_users + server.stats().pending_servers,
        0
    );
    server.run_until_idle(IDLE).expect("serve");
    assert_eq!(
        names(&rt, &auth_task),
        before,
        "the auth server kept no rights"
    );
}

#[test]
fn rendezvous_user_first() {
    handshake(true);
}

#[test]
fn rendezvous_server_first() {
    handshake(false);
}

#[test]
fn reauthenticate_helper_end_to_end() {
    // The I/O server receives `io_reauthenticate` as a plain message with the
    // rendezvous right, and does its half at its own auth server.
    let rt = Runtime::new();
    let (auth_task, user, io) = (rt.task(), rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let user_auth = give_handle(&server, IdSet::user(42, &[7]), &user);
    let io_auth = give_handle(&server, IdSet::root(), &io);
    let io_port = io.port_allocate(RightType::Receive).expect("port");
    let io_send = io
        .give_right(io_port, Disposition::MakeSend, &user)
        .expect("give");
    let (tx, rx) = mpsc::channel();
    let i = io.clone();
    let io_thread = thread::spawn(move || {
        let msg = i.receive(io_port).expect("reauth request");
        let Some(Item::Port(rend)) = msg.body.first().cloned() else {
            panic!("no rendezvous")
        };
        let (newport, ids) = io_side(&i, io_auth, rend.name);
        tx.send((i.port_id(newport).expect("id"), ids))
            .expect("send");
    });
    let u = user.clone();
    let got = with_pump(&server, move || {
        reauthenticate(&u, user_auth, |rend| {
            let msg =
                Message::new(33000, io_send, Disposition::CopySend).with_item(Item::Port(rend));
            u.send(msg).map_err(|e| Error::Msg(e.code))
        })
    })
    .expect("reauthenticated");
    io_thread.join().expect("io");
    let (port_id, ids) = rx.recv().expect("io result");
    assert_eq!(ids, Ok(IdSet::user(42, &[7])));
    assert_eq!(user.port_id(got).expect("id"), port_id);
}

#[test]
fn reauthentication_costs_five_messages() {
    // What the handshake costs, counted by the kernel rather than timed:
    // `io_reauthenticate` (one message), then `user_authenticate` and
    // `server_authenticate` (a request and a reply each) — two and a half
    // RPC round trips. The auth server watches the half that waits (dead-name
    // requests on its rendezvous and reply rights); using those rights up
    // ends the requests with two port-deleted notifications. Seven messages
    // in all: fewer than four round trips.
    let rt = Runtime::new();
    let (auth_task, user, io) = (rt.task(), rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let user_auth = give_handle(&server, IdSet::user(42, &[7]), &user);
    let io_auth = give_handle(&server, IdSet::root(), &io);
    let io_port = io.port_allocate(RightType::Receive).expect("port");
    let io_send = io
        .give_right(io_port, Disposition::MakeSend, &user)
        .expect("give");
    // Warm up the reply-port caches so that only the handshake is counted.
    for t in [&user, &io] {
        let reply = t.reply_port().expect("reply port");
        t.release_reply_port(reply, true);
    }
    let before = rt.with_kernel(|k| k.stats());
    let i = io.clone();
    let io_thread = thread::spawn(move || {
        let msg = i.receive(io_port).expect("reauth request");
        let Some(Item::Port(rend)) = msg.body.first().cloned() else {
            panic!("no rendezvous")
        };
        io_side(&i, io_auth, rend.name)
    });
    let u = user.clone();
    let got = with_pump(&server, move || {
        reauthenticate(&u, user_auth, |rend| {
            let msg =
                Message::new(33000, io_send, Disposition::CopySend).with_item(Item::Port(rend));
            u.send(msg).map_err(|e| Error::Msg(e.code))
        })
    });
    let (_, ids) = io_thread.join().expect("io");
    assert!(got.is_ok() && ids.is_ok(), "{got:?} {ids:?}");
    // The notifications are queued before either side has its answer; let
    // the server take them.
    server
        .run_until_idle(Duration::from_millis(20))
        .expect("serve");
    let after = rt.with_kernel(|k| k.stats());
    assert_eq!(after.sent - before.sent, 5, "messages sent");
    assert_eq!(
        after.notifications - before.notifications,
        2,
        "notifications"
    );
    assert_eq!(after.received - before.received, 7, "messages received");
}

#[test]
fn a_rogue_auth_server_cannot_vouch() {
    // The I/O server trusts auth server A. The user holds a handle from a rogue
    // auth server B that claims it is root.
    let rt = Runtime::new();
    let (a_task, b_task, user, io) = (rt.task(), rt.task(), rt.task(), rt.task());
    let limits = Limits {
        timeout_ms: 150,
        ..Limits::default()
    };
    let a = auth_server(&a_task, limits);
    let b = auth_server(&b_task, limits);
    let rogue_root = give_handle(&b, IdSet::root(), &user);
    let io_auth = give_handle(&a, IdSet::root(), &io);
    let rend = user.port_allocate(RightType::Receive).expect("rend");
    let rend_io = user
        .give_right(rend, Disposition::MakeSend, &io)
        .expect("give");
    let u = user.clone();
    let user_thread =
        thread::spawn(move || AuthClient::new(&u, rogue_root).user_authenticate(make_send(rend)));
    let i = io.clone();
    let io_thread = thread::spawn(move || io_side(&i, io_auth, rend_io));
    let start = Instant::now();
    while !(user_thread.is_finished() && io_thread.is_finished()) {
        a.run_until_idle(Duration::from_millis(2)).expect("serve a");
        b.run_until_idle(Duration::from_millis(2)).expect("serve b");
        assert!(start.elapsed() < Duration::from_secs(10));
    }
    let (_, io_ids) = io_thread.join().expect("io");
    assert_eq!(io_ids, Err(Errno::TimedOut.into()), "A never saw the user");
    assert_eq!(
        user_thread.join().expect("user"),
        Err(Errno::TimedOut.into()),
        "B never saw the server"
    );
    assert_eq!(a.stats().pending_servers, 0);
    assert_eq!(b.stats().pending_users, 0);
}

#[test]
fn replayed_rendezvous_is_refused_or_learns_nothing() {
    let rt = Runtime::new();
    let (auth_task, user, io, mitm) = (rt.task(), rt.task(), rt.task(), rt.task());
    // Long enough that the first call is still waiting on a loaded machine when
    // the second one is checked.
    let limits = Limits {
        timeout_ms: 5000,
        ..Limits::default()
    };
    let server = auth_server(&auth_task, limits);
    let user_auth = give_handle(&server, IdSet::user(1000, &[100]), &user);
    let io_auth = give_handle(&server, IdSet::root(), &io);
    let mitm_auth = give_handle(&server, IdSet::user(666, &[666]), &mitm);
    let rend = user.port_allocate(RightType::Receive).expect("rend");
    let rend_io = user
        .give_right(rend, Disposition::MakeSend, &io)
        .expect("give");
    let rend_mitm = user
        .give_right(rend, Disposition::MakeSend, &mitm)
        .expect("give");
    // A second user call on the same rendezvous while one waits: EBUSY.
    let u = user.clone();
    let first =
        thread::spawn(move || AuthClient::new(&u, user_auth).user_authenticate(make_send(rend)));
    pump_until(&server, || server.stats().pending_users == 1);
    let u = user.clone();
    let second = with_pump(&server, move || {
        AuthClient::new(&u, user_auth).user_authenticate(make_send(rend))
    });
    assert_eq!(second, Err(Errno::Busy.into()));
    assert_eq!(
        server.stats().pending_users,
        1,
        "the first call still waits"
    );
    // The real handshake completes.
    let i = io.clone();
    let (_, ids) = with_pump(&server, move || io_side(&i, io_auth, rend_io));
    assert_eq!(ids, Ok(IdSet::user(1000, &[100])));
    assert!(first.join().expect("user").is_ok());
    // Replaying the used rendezvous as a server learns nothing: it waits for a
    // user who never comes.
    let m = mitm.clone();
    let (_, replay) = with_pump(&server, move || io_side(&m, mitm_auth, rend_mitm));
    assert_eq!(replay, Err(Errno::TimedOut.into()));
    assert_eq!(server.stats().pending_servers, 0);
}

#[test]
fn rendezvous_death_answers_the_waiting_side() {
    for user_waits in [true, false] {
        let rt = Runtime::new();
        let (auth_task, user, io) = (rt.task(), rt.task(), rt.task());
        let server = auth_server(&auth_task, Limits::default());
        let user_auth = give_handle(&server, IdSet::user(1, &[1]), &user);
        let io_auth = give_handle(&server, IdSet::root(), &io);
        let before = names(&rt, &auth_task);
        let rend = user.port_allocate(RightType::Receive).expect("rend");
        let rend_io = user
            .give_right(rend, Disposition::MakeSend, &io)
            .expect("give");
        let waiter = if user_waits {
            let u = user.clone();
            thread::spawn(move || {
                AuthClient::new(&u, user_auth)
                    .user_authenticate(make_send(rend))
                    .map(|_| ())
            })
        } else {
            let i = io.clone();
            thread::spawn(move || io_side(&i, io_auth, rend_io).1.map(|_| ()))
        };
        pump_until(&server, || {
            let s = server.stats();
            s.pending_users + s.pending_servers == 1
        });
        // The user gives up its rendezvous port midway.
        user.port_mod_refs(rend, RightType::Receive, -1)
            .expect("destroy");
        while !waiter.is_finished() {
            server
                .run_until_idle(Duration::from_millis(2))
                .expect("serve");
        }
        assert_eq!(waiter.join().expect("waiter"), Err(Errno::Inval.into()));
        assert_eq!(
            server.stats().pending_users + server.stats().pending_servers,
            0
        );
        if !user_waits {
            let _ = io.port_deallocate(rend_io);
        }
        server.run_until_idle(IDLE).expect("serve");
        assert_eq!(
            names(&rt, &auth_task),
            before,
            "no rights left in the auth server"
        );
    }
}

#[test]
fn a_caller_dying_midway_is_forgotten() {
    let rt = Runtime::new();
    let (auth_task, io) = (rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let before_handles = server.stats().handles;
    let user = rt.task();
    let user_auth = give_handle(&server, IdSet::user(1, &[1]), &user);
    let rend = io.port_allocate(RightType::Receive).expect("rend");
    let rend_user = io
        .give_right(rend, Disposition::MakeSend, &user)
        .expect("give");
    let u = user.clone();
    let t = thread::spawn(move || {
        AuthClient::new(&u, user_auth).user_authenticate(PortItem {
            disposition: Disposition::MoveSend,
            name: rend_user,
        })
    });
    pump_until(&server, || server.stats().pending_users == 1);
    let before = names(&rt, &auth_task);
    user.terminate();
    let _ = t.join();
    pump_until(&server, || server.stats().pending_users == 0);
    server.run_until_idle(IDLE).expect("serve");
    assert_eq!(
        server.stats().handles,
        before_handles,
        "its handle died with it"
    );
    assert!(
        names(&rt, &auth_task).len() < before.len(),
        "its rights were released"
    );
}

#[test]
fn waiting_calls_time_out() {
    let rt = Runtime::new();
    let (auth_task, user) = (rt.task(), rt.task());
    let server = auth_server(
        &auth_task,
        Limits {
            timeout_ms: 50,
            ..Limits::default()
        },
    );
    let user_auth = give_handle(&server, IdSet::user(1, &[1]), &user);
    let rend = user.port_allocate(RightType::Receive).expect("rend");
    let u = user.clone();
    let start = Instant::now();
    let r = with_pump(&server, move || {
        AuthClient::new(&u, user_auth).user_authenticate(make_send(rend))
    });
    assert_eq!(r, Err(Errno::TimedOut.into()));
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(server.stats().pending_users, 0);
}

#[test]
fn the_pending_table_is_bounded() {
    let rt = Runtime::new();
    let (auth_task, user) = (rt.task(), rt.task());
    let server = auth_server(
        &auth_task,
        Limits {
            max_pending_users: 3,
            ..Limits::default()
        },
    );
    let user_auth = give_handle(&server, IdSet::user(1, &[1]), &user);
    let mut waiters = Vec::new();
    for _ in 0..3 {
        let u = user.clone();
        let rend = user.port_allocate(RightType::Receive).expect("rend");
        waiters.push((
            rend,
            thread::spawn(move || {
                AuthClient::new(&u, user_auth).user_authenticate(make_send(rend))
            }),
        ));
    }
    pump_until(&server, || server.stats().pending_users == 3);
    let u = user.clone();
    let rend = user.port_allocate(RightType::Receive).expect("rend");
    let r = with_pump(&server, move || {
        AuthClient::new(&u, user_auth).user_authenticate(make_send(rend))
    });
    assert_eq!(r, Err(Errno::Again.into()));
    assert_eq!(server.stats().pending_users, 3);
    for (rend, t) in waiters {
        user.port_mod_refs(rend, RightType::Receive, -1)
            .expect("destroy");
        while !t.is_finished() {
            server
                .run_until_idle(Duration::from_millis(2))
                .expect("serve");
        }
        assert_eq!(t.join().expect("waiter"), Err(Errno::Inval.into()));
    }
    assert_eq!(server.stats().pending_users, 0);
}

/// Sends a raw request and returns the reply's return code.
fn raw_call(task: &Task, dest: PortName, id: i32, body: Vec<Item>) -> i32 {
    let reply = task.port_allocate(RightType::Receive).expect("reply port");
    let msg = Message {
        body,
        ..Message::new(id, dest, Disposition::CopySend).with_reply(reply, Disposition::MakeSendOnce)
    };
    let answer = task
        .mach_msg(Some(msg), Some(reply), &Default::default())
        .expect("rpc")
        .expect("reply");
    task.port_mod_refs(reply, RightType::Receive, -1)
        .expect("free reply port");
    match answer.body.first() {
        Some(Item::U32(c)) => *c as i32,
        other => panic!("bad reply {other:?} (id {})", answer.header.id),
    }
}

#[test]
fn malformed_messages_get_errors_and_change_nothing() {
    let rt = Runtime::new();
    let (auth_task, client) = (rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let h = give_handle(&server, IdSet::user(1000, &[100]), &client);
    server.run_until_idle(IDLE).expect("serve");
    let stats = server.stats();
    let before = names(&rt, &auth_task);
    let c = client.clone();
    let codes = with_pump(&server, move || {
        let mine = c.port_allocate(RightType::Receive).expect("port");
        let port = |d: Disposition| {
            Item::Port(PortItem {
                disposition: d,
                name: mine,
            })
        };
        let v = |n: usize| Item::Bytes(vec![0; n]);
        let empty = || Item::Bytes(Vec::new());
        let null = Item::Port(PortItem {
            disposition: Disposition::CopySend,
            name: PortName::NULL,
        });
        let none = || {
            Item::Ports(PortArray {
                disposition: Disposition::CopySend,
                names: Vec::new(),
            })
        };
        let array = |disposition: Disposition, names: Vec<PortName>| {
            Item::Ports(PortArray { disposition, names })
        };
        let makeauth = |others: Item| {
            raw_call(
                &c,
                h,
                auth::id::makeauth,
                vec![others, empty(), empty(), empty(), empty()],
            )
        };
        let codes = vec![
            ("unknown id", raw_call(&c, h, 25999, vec![])),
            (
                "notification id",
                raw_call(&c, h, NOTIFY_NO_SENDERS, vec![Item::U32(1)]),
            ),
            (
                "forged dead name",
                raw_call(&c, h, NOTIFY_DEAD_NAME, vec![Item::U32(h.0)]),
            ),
            (
                "getids with args",
                raw_call(&c, h, auth::id::getids, vec![Item::U32(1)]),
            ),
            (
                "rendezvous not a port",
                raw_call(&c, h, auth::id::user_authenticate, vec![Item::U32(5)]),
            ),
            (
                "rendezvous null",
                raw_call(&c, h, auth::id::user_authenticate, vec![null.clone()]),
            ),
            (
                "rendezvous send-once",
                raw_call(
                    &c,
                    h,
                    auth::id::user_authenticate,
                    vec![port(Disposition::MakeSendOnce)],
                ),
            ),
            (
                "rendezvous receive",
                raw_call(
                    &c,
                    h,
                    auth::id::user_authenticate,
                    vec![Item::Port(PortItem {
                        disposition: Disposition::MoveReceive,
                        name: c.port_allocate(RightType::Receive).expect("p"),
                    })],
                ),
            ),
            (
                "server: missing newport",
                raw_call(
                    &c,
                    h,
                    auth::id::server_authenticate,
                    vec![port(Disposition::MakeSend)],
                ),
            ),
            (
                "makeauth: ids not a multiple of 4",
                raw_call(
                    &c,
                    h,
                    auth::id::makeauth,
                    vec![none(), v(3), empty(), empty(), empty()],
                ),
            ),
            (
                "makeauth: one port, not an array",
                makeauth(Item::Port(PortItem {
                    disposition: Disposition::CopySend,
                    name: h,
                })),
            ),
            (
                "makeauth: others are send-once",
                makeauth(array(
                    Disposition::MakeSendOnce,
                    vec![c.port_allocate(RightType::Receive).expect("p"); 3],
                )),
            ),
            (
                "makeauth: others are receive rights",
                makeauth(array(
                    Disposition::MoveReceive,
                    vec![c.port_allocate(RightType::Receive).expect("p")],
                )),
            ),
            (
                "makeauth: others are not handles",
                makeauth(array(Disposition::MakeSend, vec![mine, mine])),
            ),
            (
                "makeauth: a handle, then NULL",
                makeauth(array(Disposition::CopySend, vec![h, PortName::NULL])),
            ),
            (
                "makeauth: a handle, then a stranger",
                makeauth(array(
                    Disposition::CopySend,
                    vec![
                        h,
                        h,
                        c.give_right(mine, Disposition::MakeSend, &c).expect("send"),
                    ],
                )),
            ),
            (
                "makeauth: too many others",
                makeauth(array(
                    Disposition::CopySend,
                    vec![h; hurd_auth::server::MAX_OTHER_HANDLES + 1],
                )),
            ),
            (
                "makeauth: too many ids",
                raw_call(
                    &c,
                    h,
                    auth::id::makeauth,
                    vec![
                        array(Disposition::CopySend, vec![h, h]),
                        v(4 * 1025),
                        empty(),
                        empty(),
                        empty(),
                    ],
                ),
            ),
            (
                "makeauth: u64 for ids",
                raw_call(
                    &c,
                    h,
                    auth::id::makeauth,
                    vec![none(), Item::U64(0), empty(), empty(), empty()],
                ),
            ),
        ];
        codes
    });
    let expect = |what: &str, code: i32| {
        let got = codes.iter().find(|(w, _)| *w == what).map(|(_, c)| *c);
        assert_eq!(got, Some(code), "{what}");
    };
    let bad_id = MigReturn::BadId as i32;
    let bad_args = MigReturn::BadArguments as i32;
    let inval = Errno::Inval as i32;
    expect("unknown id", bad_id);
    expect("notification id", bad_id);
    expect("forged dead name", bad_id);
    expect("getids with args", bad_args);
    expect("rendezvous not a port", bad_args);
    expect("rendezvous null", inval);
    expect("rendezvous send-once", inval);
    expect("rendezvous receive", inval);
    expect("server: missing newport", bad_args);
    expect("makeauth: ids not a multiple of 4", bad_args);
    expect("makeauth: one port, not an array", bad_args);
    expect("makeauth: others are send-once", inval);
    expect("makeauth: others are receive rights", inval);
    expect("makeauth: others are not handles", inval);
    expect("makeauth: a handle, then NULL", inval);
    expect("makeauth: a handle, then a stranger", inval);
    expect("makeauth: too many others", inval);
    expect("makeauth: too many ids", inval);
    expect("makeauth: u64 for ids", bad_args);
    server.run_until_idle(IDLE).expect("serve");
    assert_eq!(server.stats(), stats, "state intact");
    assert_eq!(names(&rt, &auth_task), before, "no rights gained or lost");
    // The handle still works.
    let c = client.clone();
    let ids = with_pump(&server, move || AuthClient::new(&c, h).getids());
    assert_eq!(ids, Ok(IdSet::user(1000, &[100])));
}

#[test]
fn requests_without_a_reply_port_park_nothing() {
    let rt = Runtime::new();
    let (auth_task, client) = (rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let h = give_handle(&server, IdSet::user(1, &[1]), &client);
    server.run_until_idle(IDLE).expect("serve");
    let before = names(&rt, &auth_task);
    let rend = client.port_allocate(RightType::Receive).expect("rend");
    let msg = Message::new(auth::id::user_authenticate, h, Disposition::CopySend)
        .with_item(Item::Port(make_send(rend)));
    client.send(msg).expect("send");
    server.run_until_idle(IDLE).expect("serve");
    assert_eq!(server.stats().pending_users, 0);
    assert_eq!(names(&rt, &auth_task), before);
    let _ = send(h);
}
