//! `interface!` end to end: stubs, demux, MIG error replies, deferred replies,
//! rights in arguments, and what happens to rights in rejected requests.
#![allow(clippy::unwrap_used)]

use std::sync::Mutex;
use std::time::Duration;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::{
    Disposition, Error, Item, Message, MigReturn, MsgReturn, Notification, NotifyKind, PortItem,
    PortName, PortType, RightType, UserIpc,
};

hurd_ipc::interface! {
    /// A test interface.
    pub mod demo: subsystem 5000 {
        /// Adds.
        routine add(a: u32, b: u32) -> (sum: u32);
        /// Splits a u64.
        routine split(n: u64) -> (high: u32, low: u32);
        /// Fails with a server code.
        routine fail(code: i32);
        /// Answers later.
        routine later(x: u32) -> (y: u32);
        /// Gives the caller a send right to a fresh port of the server's.
        routine make_port() -> (port: PortItem);
        /// Takes a send right and reports its type in the server.
        routine take_port(port: PortItem, ids: Vec<u32>) -> (count: u32);
        /// One-way.
        simpleroutine poke(text: String);
        /// A withdrawn routine: its id stays taken.
        skip _withdrawn();
        /// After the gap.
        routine after_gap(x: u32) -> (y: u32);
    }
}

struct Srv {
    task: Task,
    deferred: Mutex<Vec<Request>>,
    pokes: Mutex<Vec<String>>,
}

impl demo::Server for Srv {
    fn add(&self, _req: &Request, a: u32, b: u32) -> Result<u32, Error> {
        a.checked_add(b).ok_or(Error::Code(34))
    }
    fn split(&self, _req: &Request, n: u64) -> Result<(u32, u32), Error> {
        Ok(((n >> 32) as u32, n as u32))
    }
    fn fail(&self, _req: &Request, code: i32) -> Result<(), Error> {
        Err(Error::Code(code))
    }
    fn later(&self, req: &Request, _x: u32) -> Result<u32, Error> {
        self.deferred.lock().unwrap().push(*req);
        Err(Error::Mig(MigReturn::NoReply))
    }
    fn make_port(&self, _req: &Request) -> Result<PortItem, Error> {
        let p = self
            .task
            .port_allocate(RightType::Receive)
            .map_err(Error::Kern)?;
        Ok(PortItem {
            name: p,
            disposition: Disposition::MakeSend,
        })
    }
    fn take_port(&self, _req: &Request, port: PortItem, ids: Vec<u32>) -> Result<u32, Error> {
        assert_eq!(port.disposition, Disposition::PORT_SEND);
        self.task.port_deallocate(port.name).map_err(Error::Kern)?;
        Ok(ids.len() as u32)
    }
    fn poke(&self, _req: &Request, text: String) {
        self.pokes.lock().unwrap().push(text);
    }
    fn after_gap(&self, _req: &Request, x: u32) -> Result<u32, Error> {
        Ok(x + 1)
    }
}

fn setup() -> (Runtime, Task, Task, PortName, PortName) {
    let rt = Runtime::new();
    let server = rt.task();
    let client = rt.task();
    let port = server.port_allocate(RightType::Receive).unwrap();
    let send = server
        .give_right(port, Disposition::MakeSend, &client)
        .unwrap();
    (rt, server, client, port, send)
}

fn srv(task: &Task) -> Srv {
    Srv {
        task: task.clone(),
        deferred: Mutex::new(Vec::new()),
        pokes: Mutex::new(Vec::new()),
    }
}

/// Serves exactly one request on `port`.
fn serve_one(server: &Task, s: &Srv, port: PortName) {
    let msg = server.receive(port).unwrap();
    let d = match demo::demux(s, server, msg) {
        Dispatch::NotMine(m) => hurd_ipc::mig::bad_id(server, m),
        d => d,
    };
    if let Dispatch::Reply(r) = d {
        hurd_ipc::mig::send_reply(server, r).unwrap();
    }
}

#[test]
fn ids_follow_the_subsystem() {
    assert_eq!(demo::SUBSYSTEM, 5000);
    assert_eq!(demo::id::add, 5000);
    assert_eq!(demo::id::poke, 5006);
    assert_eq!(demo::id::_withdrawn, 5007);
    assert_eq!(demo::id::after_gap, 5008);
    assert_eq!(demo::END, 5009);
}

#[test]
fn routines_round_trip() {
    let (_rt, server, client, port, send) = setup();
    let s = srv(&server);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            for _ in 0..5 {
                serve_one(&server, &s, port);
            }
        });
        let c = demo::Client::new(&client, send);
        assert_eq!(c.add(2, 3).unwrap(), 5);
        assert_eq!(c.add(u32::MAX, 1), Err(Error::Code(34)));
        assert_eq!(
            c.split(0x1234_5678_9abc_def0).unwrap(),
            (0x1234_5678, 0x9abc_def0)
        );
        assert_eq!(c.fail(0x4000_0001), Err(Error::Code(0x4000_0001)));
        c.poke("hi".into()).unwrap();
    });
    assert_eq!(*s.pokes.lock().unwrap(), vec!["hi".to_string()]);
}

#[test]
fn unknown_id_gets_mig_bad_id_and_its_rights_are_destroyed() {
    let (_rt, server, client, port, send) = setup();
    // The stray request carries a send right to a port of the client's, which
    // watches for no-senders: the server must not keep it.
    let watched = client.port_allocate(RightType::Receive).unwrap();
    let notify = client.port_allocate(RightType::Receive).unwrap();
    client
        .request_notification(
            watched,
            NotifyKind::NoSenders,
            1,
            notify,
            Disposition::MakeSendOnce,
        )
        .unwrap();
    let reply = client.port_allocate(RightType::Receive).unwrap();
    let stray = Message::new(4999, send, Disposition::CopySend)
        .with_reply(reply, Disposition::MakeSendOnce)
        .with_item(Item::port(watched, Disposition::MakeSend));
    client.send(stray).unwrap();
    serve_one(&server, &srv(&server), port);
    let r = client.receive(reply).unwrap();
    assert_eq!(r.header.id, 4999 + 100);
    assert_eq!(r.body, vec![Item::U32(MigReturn::BadId as i32 as u32)]);
    let n = client.receive(notify).unwrap();
    assert_eq!(Notification::parse(&n), Some(Notification::NoSenders(1)));
}

#[test]
fn malformed_arguments_get_mig_bad_arguments_without_leaks() {
    let (rt, server, client, port, send) = setup();
    let before = rt.with_kernel(|k| k.port_names(server.space()).unwrap());
    let watched = client.port_allocate(RightType::Receive).unwrap();
    let notify = client.port_allocate(RightType::Receive).unwrap();
    client
        .request_notification(
            watched,
            NotifyKind::NoSenders,
            1,
            notify,
            Disposition::MakeSendOnce,
        )
        .unwrap();
    let reply = client.port_allocate(RightType::Receive).unwrap();
    let cases: Vec<Vec<Item>> = vec![
        vec![],                                                         // too few
        vec![Item::U32(1)],                                             // too few
        vec![Item::U32(1), Item::U32(2), Item::U32(3)],                 // too many
        vec![Item::U64(1), Item::U32(2)],                               // wrong type
        vec![Item::U32(1), Item::port(watched, Disposition::MakeSend)], // a right where a number goes
    ];
    for body in cases {
        let m = Message {
            body,
            ..Message::new(demo::id::add, send, Disposition::CopySend)
        }
        .with_reply(reply, Disposition::MakeSendOnce);
        client.send(m).unwrap();
        serve_one(&server, &srv(&server), port);
        let r = client.receive(reply).unwrap();
        assert_eq!(
            r.body,
            vec![Item::U32(MigReturn::BadArguments as i32 as u32)]
        );
    }
    // A string that is not UTF-8.
    let m = Message::new(demo::id::poke, send, Disposition::CopySend)
        .with_item(Item::Bytes(vec![0xff, 0xfe]));
    client.send(m).unwrap();
    serve_one(&server, &srv(&server), port);
    // The right sent in a rejected request was destroyed: no-senders fired.
    let n = client.receive(notify).unwrap();
    assert_eq!(Notification::parse(&n), Some(Notification::NoSenders(1)));
    let after = rt.with_kernel(|k| k.port_names(server.space()).unwrap());
    assert_eq!(before, after, "the server's space holds nothing new");
}

#[test]
fn deferred_reply() {
    let (_rt, server, client, port, send) = setup();
    let s = srv(&server);
    std::thread::scope(|sc| {
        let t = sc.spawn(|| demo::Client::new(&client, send).later(1));
        serve_one(&server, &s, port);
        let req = s.deferred.lock().unwrap().pop().unwrap();
        demo::reply::later(&server, &req, Ok(42)).unwrap();
        assert_eq!(t.join().unwrap(), Ok(42));
    });
}

#[test]
fn port_arguments() {
    let (_rt, server, client, port, send) = setup();
    let s = srv(&server);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            serve_one(&server, &s, port);
            serve_one(&server, &s, port);
        });
        let c = demo::Client::new(&client, send);
        let p = c.make_port().unwrap();
        assert_eq!(p.disposition, Disposition::PORT_SEND);
        assert_eq!(client.port_type(p.name).unwrap(), PortType::SEND);
        let extra = client.port_allocate(RightType::Receive).unwrap();
        let count = c
            .take_port(
                PortItem {
                    name: extra,
                    disposition: Disposition::MakeSend,
                },
                vec![1, 2, 3],
            )
            .unwrap();
        assert_eq!(count, 3);
    });
}

#[test]
fn server_death_is_mig_server_died_not_a_hang() {
    let (_rt, server, client, port, send) = setup();
    std::thread::scope(|sc| {
        let t = sc.spawn(|| demo::Client::new(&client, send).add(1, 2));
        // Take the request off the queue, then die holding its reply right.
        let _req = server.receive(port).unwrap();
        server.terminate();
        assert_eq!(t.join().unwrap(), Err(Error::Mig(MigReturn::ServerDied)));
    });
}

#[test]
fn timeout_and_dead_server() {
    let (_rt, server, client, _port, send) = setup();
    let c = demo::Client::new(&client, send).with_timeout(Duration::from_millis(20));
    assert_eq!(c.add(1, 2), Err(Error::Msg(MsgReturn::RcvTimedOut)));
    drop(server);
    assert_eq!(
        demo::Client::new(&client, send).add(1, 2),
        Err(Error::Msg(MsgReturn::SendInvalidDest))
    );
}

#[test]
fn serve_loop_answers_bad_id_and_ends_with_the_port() {
    let (_rt, server, client, port, send) = setup();
    let s = srv(&server);
    std::thread::scope(|sc| {
        let h = sc.spawn(|| demo::serve(&s, &server, port));
        let reply = client.port_allocate(RightType::Receive).unwrap();
        let m = Message::new(1, send, Disposition::CopySend)
            .with_reply(reply, Disposition::MakeSendOnce);
        let r = client
            .mach_msg(Some(m), Some(reply), &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(r.body, vec![Item::U32(MigReturn::BadId as i32 as u32)]);
        assert_eq!(demo::Client::new(&client, send).add(40, 2), Ok(42));
        server.port_destroy(port).unwrap();
        // Blocked in receive when the port died, or back at the receive after it.
        let ended = h.join().unwrap();
        assert!(
            matches!(ended, MsgReturn::RcvPortDied | MsgReturn::RcvInvalidName),
            "{ended:?}"
        );
    });
}

#[test]
fn skipped_ids_get_bad_id_and_later_ids_still_work() {
    let (_rt, server, client, port, send) = setup();
    let s = srv(&server);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            serve_one(&server, &s, port);
            serve_one(&server, &s, port);
        });
        let reply = client.port_allocate(RightType::Receive).unwrap();
        let m = Message::new(demo::id::_withdrawn, send, Disposition::CopySend)
            .with_reply(reply, Disposition::MakeSendOnce);
        let r = client
            .mach_msg(Some(m), Some(reply), &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(r.body, vec![Item::U32(MigReturn::BadId as i32 as u32)]);
        assert_eq!(demo::Client::new(&client, send).after_gap(1), Ok(2));
    });
}

#[test]
fn stubs_can_send_through_a_send_once_right() {
    let (_rt, server, client, port, _send) = setup();
    let s = srv(&server);
    // The client holds only a send-once right, as a pager holds `reply_to`.
    let once = server
        .give_right(port, Disposition::MakeSendOnce, &client)
        .unwrap();
    assert_eq!(client.port_type(once).unwrap(), PortType::SEND_ONCE);
    demo::Client::new(&client, once)
        .with_disposition(Disposition::MoveSendOnce)
        .poke("once".into())
        .unwrap();
    // The right is used up, and the message arrived through it.
    assert_eq!(
        client.port_type(once),
        Err(hurd_ipc::KernReturn::InvalidName)
    );
    serve_one(&server, &s, port);
    assert_eq!(*s.pokes.lock().unwrap(), vec!["once".to_string()]);
}
