//! The auth protocol through a hosted auth server: handles, makeauth, the
//! rendezvous, and the attacks on them.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use hurd_auth::protocol::auth;
use hurd_auth::{AuthClient, Errno, IdSet, Limits, reauthenticate};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::notify::{NOTIFY_DEAD_NAME, NOTIFY_NO_SENDERS};
use hurd_ipc::{
    Disposition, Error, Item, Message, MigReturn, PortItem, PortName, RightType, UserIpc,
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
        let chained = AuthClient::new(&c, root)
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
            chained,
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
    let limits = Limits {
        timeout_ms: 100,
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
                    vec![null.clone(), v(3), empty(), empty(), empty()],
                ),
            ),
            (
                "makeauth: other is send-once",
                raw_call(
                    &c,
                    h,
                    auth::id::makeauth,
                    vec![
                        Item::Port(PortItem {
                            disposition: Disposition::MakeSendOnce,
                            name: c.port_allocate(RightType::Receive).expect("p"),
                        }),
                        empty(),
                        empty(),
                        empty(),
                        empty(),
                    ],
                ),
            ),
            (
                "makeauth: too many ids",
                raw_call(
                    &c,
                    h,
                    auth::id::makeauth,
                    vec![null.clone(), v(4 * 1025), empty(), empty(), empty()],
                ),
            ),
            (
                "makeauth: u64 for ids",
                raw_call(
                    &c,
                    h,
                    auth::id::makeauth,
                    vec![null, Item::U64(0), empty(), empty(), empty()],
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
    expect("makeauth: other is send-once", inval);
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
