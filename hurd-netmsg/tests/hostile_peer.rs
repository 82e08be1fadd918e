//! What an authenticated peer that does not play by the rules can do, and
//! what it cannot: take another node's name, poison the proxy table with
//! forged rights, park lookups without bound, or hold the node's memory
//! with frames it never finishes.

mod common;

use std::time::{Duration, Instant};

use common::{WAIT, call, config, copy, lookup};
use hurd_ipc::{Disposition, Error, Item, Message, MsgBits, PortId, PortItem, PortName, UserIpc};
use hurd_netmsg::frame::{self, Frame, MAX_FRAME, RightKind, WireRight};
use hurd_netmsg::transport::{MAX_BUFFERED, RawConnection};
use hurd_netmsg::{EAGAIN, EEXIST, ENOENT, EPERM, Identity, MAX_WAITING, Node, registry};

/// Node 2 (serving echo) and node 1 (dialing it, serving echo too), node 1
/// also trusting a third key that no node holds: the hostile peer 3.
struct Setup {
    n1: Node,
    n2: Node,
    ids: Vec<Identity>,
}

fn setup() -> Setup {
    common::init_log();
    let ids: Vec<Identity> = (0..3).map(|_| Identity::generate().expect("key")).collect();
    let n2 = Node::start(config(2, &[(1, None, &ids[0])]), copy(&ids[1])).expect("node 2");
    let n1 = Node::start(
        config(
            1,
            &[(2, Some(n2.local_addr()), &ids[1]), (3, None, &ids[2])],
        ),
        copy(&ids[0]),
    )
    .expect("node 1");
    n1.start_echo().expect("echo 1");
    n2.start_echo().expect("echo 2");
    assert!(n1.wait_for_peer(2, WAIT));
    assert!(n2.wait_for_peer(1, WAIT));
    Setup { n1, n2, ids }
}

impl Setup {
    /// Connects as peer 3 to node 1; returns the connection and the
    /// registry right node 1 introduced itself with.
    fn peer3(&self) -> (RawConnection, WireRight) {
        let to1 = hurd_netmsg::PeerConfig {
            node: 1,
            address: Some(self.n1.local_addr()),
            fingerprint: self.ids[0].fingerprint(),
        };
        let raw = RawConnection::connect(&self.ids[2], &to1, false, WAIT).expect("peer 3");
        match raw.first_frame(WAIT) {
            Some(Frame::Hello { node: 1, registry }) => (raw, registry),
            other => panic!("expected node 1's HELLO, got {other:?}"),
        }
    }
}

/// The global id of node 2's echo port.
fn echo2_id(n2: &Node) -> PortId {
    let t = n2.runtime().task();
    let echo = lookup(n2, 2, &t, "echo");
    t.port_id(echo).expect("id")
}

/// A `MESSAGE` frame for `dest` whose message is `msg`'s body (no reply)
/// carrying `rights`.
fn message_frame(dest: WireRight, rights: Vec<WireRight>, msg: Message) -> Vec<u8> {
    let mut message = msg;
    message.header.remote = PortName::NULL;
    message.header.local = PortName::NULL;
    message.header.bits = MsgBits(0);
    frame::encode(&Frame::Message {
        dest,
        rights,
        message,
    })
    .expect("frame")
}

/// A registry `register(name, right 1)` as peer 3 sends it.
fn register_frame(registry: WireRight, name: &str, right: WireRight) -> Vec<u8> {
    let call = registry::Call::register {
        name: name.into(),
        port: PortItem {
            disposition: Disposition::MoveSend,
            name: PortName(1),
        },
    };
    message_frame(
        registry,
        vec![right],
        call.encode(PortName::NULL, Disposition::CopySend),
    )
}

fn forged(id: PortId, secret: u64) -> WireRight {
    WireRight {
        kind: RightKind::Send,
        id,
        secret,
        order: PortId(0),
    }
}

/// Waits until `f` holds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < end, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `name` is registered at node 1 (asked by a local task).
fn registered(n1: &Node, name: &str) -> Result<(), Error> {
    let t = n1.runtime().task();
    let reg = n1.registry(&t).expect("registry");
    let r = registry::Client::new(&t, reg)
        .with_timeout(WAIT)
        .lookup(name.into());
    let _ = t.port_deallocate(reg);
    r.map(|p| {
        let _ = t.port_deallocate(p.name);
    })
}

#[test]
fn a_peer_cannot_take_another_nodes_name() {
    let s = setup();
    let t2 = s.n2.runtime().task();
    let reg1 = s.n2.peer_registry(1, &t2).expect("node 1's registry");
    let mine = t2
        .port_allocate(hurd_ipc::RightType::Receive)
        .expect("port");
    let item = PortItem {
        disposition: Disposition::MakeSend,
        name: mine,
    };
    let client = registry::Client::new(&t2, reg1).with_timeout(WAIT);
    // Node 1's own echo is node 1's.
    assert_eq!(
        client.register("echo".into(), item),
        Err(Error::Code(EEXIST))
    );
    assert_eq!(client.unregister("echo".into()), Err(Error::Code(EPERM)));
    // A new name is node 2's; node 2 may replace it, node 1's tasks may not.
    client.register("shared".into(), item).expect("register");
    client.register("shared".into(), item).expect("replace");
    let t1 = s.n1.runtime().task();
    let local = s.n1.registry(&t1).expect("registry");
    let p1 = t1
        .port_allocate(hurd_ipc::RightType::Receive)
        .expect("port");
    let item1 = PortItem {
        disposition: Disposition::MakeSend,
        name: p1,
    };
    let c1 = registry::Client::new(&t1, local).with_timeout(WAIT);
    assert_eq!(
        c1.register("shared".into(), item1),
        Err(Error::Code(EEXIST))
    );
    assert_eq!(c1.unregister("shared".into()), Err(Error::Code(EPERM)));
    // The honest lookup of "echo" still reaches node 1's echo.
    let echo = lookup(&s.n1, 1, &t1, "echo");
    let reply = call(&t1, Message::new(4, echo, Disposition::CopySend)).expect("rpc");
    assert_eq!(reply.header.id, 104);
    // When node 2 leaves, its names go with it.
    s.n2.shutdown();
    eventually("node 2's names are gone", || {
        registered(&s.n1, "shared") == Err(Error::Code(ENOENT))
    });
    c1.register("shared".into(), item1).expect("free again");
}

#[test]
fn forged_rights_do_not_poison_the_proxy_table() {
    let s = setup();
    let (raw, registry) = s.peer3();
    let id = echo2_id(&s.n2);
    // Peer 3 claims node 2's echo port with a made-up secret, and has node 1
    // hold the right (registered under a name).
    raw.send_stream(&register_frame(registry, "forged", forged(id, 0x5eed)))
        .expect("send");
    eventually("the forged right is registered", || {
        registered(&s.n1, "forged").is_ok()
    });
    // The real right, from node 2 itself, arrives alive and reaches echo.
    let t1 = s.n1.runtime().task();
    let echo = lookup(&s.n1, 2, &t1, "echo");
    let reply = call(&t1, Message::new(5, echo, Disposition::CopySend)).expect("rpc to node 2");
    assert_eq!(reply.header.id, 105);
    // The forged record is gone: its holder (the registry) has a dead name.
    eventually("the forgery is dropped", || {
        registered(&s.n1, "forged") == Err(Error::Code(ENOENT))
    });
}

#[test]
fn a_frame_to_an_unknown_port_takes_in_none_of_its_rights() {
    let s = setup();
    let (raw, registry) = s.peer3();
    let before = s.n1.port_count();
    let nowhere = forged(PortId::new(1, 0xdead_0000), 42);
    let rights: Vec<WireRight> = (0..100)
        .map(|i| forged(PortId::new(2, 0x7000_0000 + i), i))
        .collect();
    let names: Vec<PortName> = (1..=100).map(PortName).collect();
    let msg = Message::new(1, PortName::NULL, Disposition::CopySend).with_item(Item::Ports(
        hurd_ipc::PortArray {
            disposition: Disposition::MoveSend,
            names,
        },
    ));
    // Then, on the same stream (so handled after it), one right node 1
    // keeps: the sign that the first frame was handled.
    let mut bytes = message_frame(nowhere, rights, msg);
    let marker = forged(PortId::new(2, 0x7100_0000), 7);
    bytes.extend(register_frame(registry, "marker", marker));
    raw.send_stream(&bytes).expect("send");
    eventually("the marker is registered", || {
        registered(&s.n1, "marker").is_ok()
    });
    assert_eq!(s.n1.port_count(), before + 1, "only the marker's record");
}

#[test]
fn unverified_records_are_bounded_per_peer() {
    let s = setup();
    let (raw, registry) = s.peer3();
    let before = s.n1.port_count();
    let cap = 4096;
    // More claims than the bound, in frames node 1's registry answers (a
    // bad request) and whose rights it then releases: the records stay
    // while peer 3 does not acknowledge the releases.
    let mut next = 0u64;
    for _ in 0..5 {
        let rights: Vec<WireRight> = (0..1000)
            .map(|i| forged(PortId::new(2, 0x7200_0000 + next + i), 1))
            .collect();
        next += 1000;
        let names: Vec<PortName> = (1..=1000).map(PortName).collect();
        let msg = Message::new(1, PortName::NULL, Disposition::CopySend).with_item(Item::Ports(
            hurd_ipc::PortArray {
                disposition: Disposition::MoveSend,
                names,
            },
        ));
        raw.send_stream(&message_frame(registry, rights, msg))
            .expect("send");
    }
    let marker = forged(PortId::new(2, 0x7300_0000), 7);
    eventually("all frames handled", || {
        let _ = raw.send_stream(&register_frame(registry, "marker", marker));
        registered(&s.n1, "marker").is_ok() || s.n1.port_count() >= before + cap
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        s.n1.port_count() <= before + cap + 1,
        "{} records",
        s.n1.port_count() - before
    );
    // Node 2's own rights are still welcome.
    let t1 = s.n1.runtime().task();
    let echo = lookup(&s.n1, 2, &t1, "echo");
    let reply = call(&t1, Message::new(6, echo, Disposition::CopySend)).expect("rpc");
    assert_eq!(reply.header.id, 106);
}

#[test]
fn waiting_lookups_are_bounded_per_peer_and_freed_when_it_leaves() {
    let ids: Vec<Identity> = (0..2).map(|_| Identity::generate().expect("key")).collect();
    let n2 = Node::start(config(2, &[(1, None, &ids[0])]), copy(&ids[1])).expect("node 2");
    let start1 = || {
        let n1 = Node::start(
            config(1, &[(2, Some(n2.local_addr()), &ids[1])]),
            copy(&ids[0]),
        )
        .expect("node 1");
        assert!(n1.wait_for_peer(2, WAIT));
        n1
    };
    let n1 = start1();
    let t1 = n1.runtime().task();
    let reg2 = n1.peer_registry(2, &t1).expect("node 2's registry");
    let replies = t1
        .port_allocate(hurd_ipc::RightType::Receive)
        .expect("port");
    for _ in 0..MAX_WAITING {
        let msg = registry::Call::lookup_wait {
            name: "never".into(),
        }
        .encode(reg2, Disposition::CopySend)
        .with_reply(replies, Disposition::MakeSendOnce);
        t1.send(msg).expect("send");
    }
    let r = registry::Client::new(&t1, reg2)
        .with_timeout(WAIT)
        .lookup_wait("never".into());
    assert_eq!(r.map(|p| p.name), Err(Error::Code(EAGAIN)));
    // Node 1 leaves; node 2 forgets its waiting lookups, so node 1 back
    // again may wait once more.
    n1.shutdown();
    eventually("node 2 sees node 1 go", || {
        n2.peers().iter().all(|p| !p.connected)
    });
    let n1 = start1();
    let t1 = n1.runtime().task();
    let reg2 = n1.peer_registry(2, &t1).expect("node 2's registry");
    let r = registry::Client::new(&t1, reg2)
        .with_timeout(Duration::from_millis(300))
        .lookup_wait("never".into());
    assert!(
        matches!(r, Err(Error::Msg(hurd_ipc::MsgReturn::RcvTimedOut))),
        "{r:?}"
    );
}

#[test]
fn unfinished_frames_hold_a_bounded_amount_per_connection() {
    let s = setup();
    let (raw, _registry) = s.peer3();
    // Six streams each announce a frame of 60 MiB and send nothing more.
    let len = 60 * 1024 * 1024u32;
    assert!(len <= MAX_FRAME);
    for _ in 0..6 {
        raw.begin_stream(&len.to_le_bytes()).expect("stream");
    }
    let held = || {
        s.n1.peers()
            .iter()
            .find(|p| p.node == 3)
            .map_or(0, |p| p.buffered)
    };
    eventually("a frame is being read", || held() > 0);
    std::thread::sleep(Duration::from_millis(300));
    // One frame's worth is read; the next waits for the rest of the budget.
    let h = held();
    assert!(h >= u64::from(len), "{h} bytes");
    assert!(h <= u64::from(MAX_BUFFERED), "{h} bytes");
    // The node goes on serving everyone else.
    let t1 = s.n1.runtime().task();
    let echo = lookup(&s.n1, 2, &t1, "echo");
    let reply = call(&t1, Message::new(7, echo, Disposition::CopySend)).expect("rpc");
    assert_eq!(reply.header.id, 107);
}
