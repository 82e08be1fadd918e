//! The RPC fast paths (`IpcKernel::send_receive_fast`, and
//! `IpcKernel::send_receive_header` for a message that is only a header)
//! against the general path (`send`, the hand-off through
//! `take_deliveries`, then `receive`), for both legs of an RPC (the
//! client's request, the server's reply and next receive): the same
//! scenarios through each must leave the same messages, names, references,
//! port states and counters.
#![allow(clippy::unwrap_used)]

use hurd_ipc::{
    Disposition, FastRpc, IpcKernel, Item, Message, MsgReturn, NotifyKind, PortName, PortType,
    RecvError, RecvOptions, RightType, SpaceId,
};
use proptest::prelude::*;

/// How one scenario is set up and what the sender sends.
#[derive(Clone, Debug)]
struct Case {
    /// The reply leg: the server, holding a send-once right to the client's
    /// reply port, replies and receives on its service port, and the client
    /// is the one that may wait (else the request leg: the client sends).
    reply_leg: bool,
    /// Direct hand-off on (the fast path needs it).
    handoff: bool,
    /// Send references the client holds for the service port (1 to 3).
    urefs: u16,
    /// Whether the receiver waits on the destination (else nobody does).
    server_waits: bool,
    /// The receiver's receive buffer limit.
    server_max: Option<u64>,
    /// Messages already queued on the destination.
    queued: usize,
    /// No-senders of the service port goes to the client's reply port.
    no_senders: bool,
    /// The destination dies before the send.
    dead: bool,
    /// How the sender names the destination.
    dest_disp: Disposition,
    /// How it sends its own receive port (`None`: no reply port).
    reply_disp: Option<Disposition>,
    /// Where it receives: 0 its own receive port, 1 a name it does not
    /// hold, 2 the destination's name (not a receive right).
    rcv: u8,
    id: i32,
    body: Vec<Item>,
    /// The sender's receive buffer limit.
    client_max: Option<u64>,
    /// Threads of a third task waiting on ports of their own (past 16, the
    /// kernel's registry of waiters is a hash map rather than a vector).
    idle: usize,
    /// The sender's token already waits on another port of the sender's,
    /// which its receive must take it away from.
    sender_waits: bool,
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        any::<u32>().prop_map(Item::U32),
        any::<u64>().prop_map(Item::U64),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Item::Bytes),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        (
            prop::bool::weighted(0.9),
            1u16..4,
            prop::bool::weighted(0.8),
            prop::option::of(24u64..120),
            prop_oneof![4 => Just(0usize), 1 => 1usize..3],
            any::<bool>(),
            prop::bool::weighted(0.1),
        ),
        (
            // Weighted toward what the fast paths take (copy-send on the
            // request leg, move-send-once on the reply leg, no body), so
            // they apply in a good share of the cases.
            prop_oneof![
                3 => Just(Disposition::CopySend),
                1 => Just(Disposition::MoveSend),
                1 => Just(Disposition::MakeSend),
                3 => Just(Disposition::MoveSendOnce),
            ],
            prop_oneof![
                2 => Just(None),
                3 => Just(Some(Disposition::MakeSendOnce)),
                1 => Just(Some(Disposition::MakeSend)),
                1 => Just(Some(Disposition::CopySend)),
            ],
            prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
            any::<i32>(),
            prop_oneof![
                1 => Just(Vec::new()),
                1 => proptest::collection::vec(item(), 1..4),
            ],
            prop::option::of(24u64..120),
        ),
        (
            prop_oneof![2 => Just(0usize), 2 => 1usize..4, 1 => 14usize..24],
            prop::bool::weighted(0.1),
        ),
    )
        .prop_map(
            |(
                reply_leg,
                (handoff, urefs, server_waits, server_max, queued, no_senders, dead),
                (dest_disp, reply_disp, rcv, id, body, client_max),
                (idle, sender_waits),
            )| Case {
                reply_leg,
                handoff,
                urefs,
                server_waits,
                server_max,
                queued,
                no_senders,
                dead,
                dest_disp,
                reply_disp,
                rcv,
                id,
                body,
                client_max,
                idle,
                sender_waits,
            },
        )
}

/// A kernel set up for `c`: (kernel, server, client, service port in the
/// server, its send right in the client, the client's reply port, and in
/// the reply leg the server's send-once right to the reply port).
struct World {
    k: IpcKernel,
    server: SpaceId,
    client: SpaceId,
    service: PortName,
    send: PortName,
    reply: PortName,
    once: PortName,
    /// The third task, and the ports its threads wait on.
    idle: (SpaceId, Vec<PortName>),
    /// The sender's other port, where its token waits already.
    elsewhere: Option<PortName>,
}

impl World {
    /// The sending space and its token, and the receiver's token.
    fn roles(&self, c: &Case) -> (SpaceId, u64, u64) {
        if c.reply_leg {
            (self.server, SERVER, CLIENT)
        } else {
            (self.client, CLIENT, SERVER)
        }
    }
}

const SERVER: u64 = 1;
const CLIENT: u64 = 2;
/// The first token of the third task's threads.
const IDLE: u64 = 100;

fn world(c: &Case) -> World {
    let mut k = IpcKernel::new(0);
    k.set_direct_handoff(c.handoff);
    let server = k.create_space();
    let client = k.create_space();
    let service = k.port_allocate(server, RightType::Receive).unwrap();
    let (send, _) = k
        .port_extract_right(server, service, Disposition::MakeSend, client)
        .unwrap();
    if c.urefs > 1 {
        k.port_mod_refs(client, send, RightType::Send, i32::from(c.urefs) - 1)
            .unwrap();
    }
    let reply = k.port_allocate(client, RightType::Receive).unwrap();
    let once = if c.reply_leg {
        // As if the client's request had arrived.
        k.port_extract_right(client, reply, Disposition::MakeSendOnce, server)
            .unwrap()
            .0
    } else {
        PortName::NULL
    };
    let third = k.create_space();
    let mut idle = Vec::new();
    for i in 0..c.idle {
        let port = k.port_allocate(third, RightType::Receive).unwrap();
        let waits = k.receive(third, port, RecvOptions::default(), Some(IDLE + i as u64));
        assert_eq!(waits.unwrap_err().code, MsgReturn::RcvTimedOut);
        idle.push(port);
    }
    let elsewhere = c.sender_waits.then(|| {
        let (space, token) = if c.reply_leg {
            (server, SERVER)
        } else {
            (client, CLIENT)
        };
        let port = k.port_allocate(space, RightType::Receive).unwrap();
        let waits = k.receive(space, port, RecvOptions::default(), Some(token));
        assert_eq!(waits.unwrap_err().code, MsgReturn::RcvTimedOut);
        port
    });
    for i in 0..c.queued {
        let queued = if c.reply_leg {
            Message::new(1000 + i as i32, reply, Disposition::MakeSend)
        } else {
            Message::new(1000 + i as i32, send, Disposition::CopySend)
        };
        k.send(client, queued, None).unwrap();
    }
    if c.no_senders {
        let (notify, _) = k
            .port_extract_right(client, reply, Disposition::MakeSendOnce, server)
            .unwrap();
        k.request_notification(
            server,
            service,
            NotifyKind::NoSenders,
            0,
            notify,
            Disposition::MoveSendOnce,
        )
        .unwrap();
    }
    if c.server_waits {
        let opts = RecvOptions {
            max_size: c.server_max,
            large: false,
        };
        let _ = if c.reply_leg {
            k.receive(client, reply, opts, Some(CLIENT))
        } else {
            k.receive(server, service, opts, Some(SERVER))
        };
    }
    if c.dead {
        if c.reply_leg {
            k.port_destroy(client, reply).unwrap();
        } else {
            k.port_destroy(server, service).unwrap();
        }
    }
    World {
        k,
        server,
        client,
        service,
        send,
        reply,
        once,
        idle: (third, idle),
        elsewhere,
    }
}

fn request(c: &Case, w: &World) -> Message {
    if c.reply_leg {
        let dest = if c.dest_disp == Disposition::MakeSend {
            w.service
        } else {
            w.once
        };
        let mut m = Message::new(c.id, dest, c.dest_disp);
        if let Some(d) = c.reply_disp {
            m = m.with_reply(w.service, d);
        }
        m.body = c.body.clone();
        return m;
    }
    let dest = if c.dest_disp == Disposition::MakeSend {
        // Only the receiver can make a send right: the client names its
        // reply port (a message to itself).
        w.reply
    } else {
        w.send
    };
    let mut m = Message::new(c.id, dest, c.dest_disp);
    if let Some(d) = c.reply_disp {
        m = m.with_reply(w.reply, d);
    }
    m.body = c.body.clone();
    m
}

fn rcv_name(c: &Case, w: &World) -> PortName {
    match (c.rcv, c.reply_leg) {
        (0, false) => w.reply,
        (0, true) => w.service,
        (1, _) => PortName(0x7777),
        (_, false) => w.send,
        (_, true) => w.once,
    }
}

/// Everything observable: each space's names with their types, references
/// and port states, and the kernel's counters.
fn snapshot(k: &mut IpcKernel, spaces: &[SpaceId]) -> String {
    let mut out = String::new();
    for &s in spaces {
        let mut names = k.port_names(s).unwrap();
        names.sort_by_key(|(n, _)| n.0);
        for (name, ty) in names {
            let refs: Vec<_> = [RightType::Send, RightType::DeadName]
                .iter()
                .map(|&r| k.port_get_refs(s, name, r).ok())
                .collect();
            let status = if ty.contains(PortType::RECEIVE) {
                format!("{:?}", k.port_get_receive_status(s, name).ok())
            } else {
                String::new()
            };
            let id = k.port_id(s, name).ok();
            out += &format!("{s:?} {name:?} {ty:?} {refs:?} {id:?} {status}\n");
        }
    }
    out += &format!("{:?} ports {}\n", k.stats(), k.port_count());
    out
}

/// What one path produced: (the receiver's delivery, the sender's receive,
/// other deliveries and wakeups, state after, who is still waiting where,
/// the sender's wait still registered).
type Outcome = (
    Option<Result<Message, RecvError>>,
    Option<Result<Message, RecvError>>,
    Vec<(u64, Result<Message, RecvError>)>,
    Vec<u64>,
    String,
    Probe,
    bool,
);

/// Who takes a message sent to the sender's other port, and to each idle
/// thread's port: (deliveries, wakeups).
type Probe = (Vec<(u64, Result<Message, RecvError>)>, Vec<u64>);

/// Sends a message to the sender's other port and to every idle port
/// (through send rights their receivers make) and collects who got them:
/// a thread still waiting there takes it, one that left does not.
fn probe(c: &Case, w: &mut World) -> Probe {
    let mut sends = Vec::new();
    if let Some(port) = w.elsewhere {
        let space = if c.reply_leg { w.server } else { w.client };
        sends.push((space, port));
    }
    sends.extend(w.idle.1.iter().map(|&port| (w.idle.0, port)));
    for (i, (space, port)) in sends.into_iter().enumerate() {
        let m = Message::new(5000 + i as i32, port, Disposition::MakeSend);
        w.k.send(space, m, None).unwrap();
    }
    let mut delivered = Vec::new();
    w.k.take_deliveries(&mut delivered);
    delivered.sort_by_key(|(t, _)| *t);
    let mut woken = Vec::new();
    w.k.take_wakeups(&mut woken);
    woken.sort_unstable();
    (delivered, woken)
}

fn opts(c: &Case) -> RecvOptions {
    RecvOptions {
        max_size: c.client_max,
        large: false,
    }
}

fn general(c: &Case) -> Outcome {
    let mut w = world(c);
    let (from, token, to) = w.roles(c);
    let msg = request(c, &w);
    let rcv = rcv_name(c, &w);
    let mut server_got = None;
    let mut client_got = None;
    let mut others = Vec::new();
    let mut woken = Vec::new();
    if w.k.send(from, msg, Some(token)).is_ok() {
        let mut d = Vec::new();
        w.k.take_deliveries(&mut d);
        for (t, r) in d {
            if t == to && server_got.is_none() {
                server_got = Some(r);
            } else {
                others.push((t, r));
            }
        }
        w.k.take_wakeups(&mut woken);
        woken.retain(|&t| !(t == to && server_got.is_some()));
        client_got = Some(w.k.receive(from, rcv, opts(c), Some(token)));
    } else {
        w.k.cancel_wait(token);
    }
    let mut d = Vec::new();
    w.k.take_deliveries(&mut d);
    others.extend(d);
    let mut more = Vec::new();
    w.k.take_wakeups(&mut more);
    woken.extend(more);
    let state = snapshot(&mut w.k, &[w.server, w.client]);
    let probed = probe(c, &mut w);
    let registered = w.k.cancel_wait(token);
    (
        server_got, client_got, others, woken, state, probed, registered,
    )
}

/// The fast path; `None` when it did not apply (and then it must have
/// changed nothing and handed the message back intact).
fn fast(c: &Case) -> Option<Outcome> {
    let mut w = world(c);
    let (from, token, receiver) = w.roles(c);
    let before = snapshot(&mut w.k, &[w.server, w.client]);
    let msg = request(c, &w);
    let rcv = rcv_name(c, &w);
    match w
        .k
        .send_receive_fast(from, msg.clone(), rcv, opts(c), token)
    {
        FastRpc::NotApplicable(back) => {
            assert_eq!(back, msg);
            assert_eq!(snapshot(&mut w.k, &[w.server, w.client]), before);
            None
        }
        FastRpc::Done {
            to,
            message,
            received,
        } => {
            assert_eq!(to, receiver);
            let mut others = Vec::new();
            w.k.take_deliveries(&mut others);
            let mut woken = Vec::new();
            w.k.take_wakeups(&mut woken);
            let state = snapshot(&mut w.k, &[w.server, w.client]);
            let probed = probe(c, &mut w);
            let registered = w.k.cancel_wait(token);
            Some((
                Some(Ok(message)),
                Some(received),
                others,
                woken,
                state,
                probed,
                registered,
            ))
        }
    }
}

/// The header-only path, driven directly (a message with no body); `None`
/// when it did not apply (and then it must have changed nothing).
fn header(c: &Case) -> Option<Outcome> {
    let mut w = world(c);
    let (from, token, receiver) = w.roles(c);
    let before = snapshot(&mut w.k, &[w.server, w.client]);
    let msg = request(c, &w);
    let rcv = rcv_name(c, &w);
    let Some(done) =
        w.k.send_receive_header(from, &msg.header, rcv, opts(c), token)
    else {
        assert_eq!(snapshot(&mut w.k, &[w.server, w.client]), before);
        return None;
    };
    assert_eq!(done.to, receiver);
    let mut others = Vec::new();
    w.k.take_deliveries(&mut others);
    let mut woken = Vec::new();
    w.k.take_wakeups(&mut woken);
    let state = snapshot(&mut w.k, &[w.server, w.client]);
    let probed = probe(c, &mut w);
    let registered = w.k.cancel_wait(token);
    let message = Message {
        header: done.header,
        body: Vec::new(),
    };
    Some((
        Some(Ok(message)),
        Some(Err(MsgReturn::RcvTimedOut.into())),
        others,
        woken,
        state,
        probed,
        registered,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn fast_path_matches_the_general_path(c in case()) {
        let general = general(&c);
        if let Some(fast) = fast(&c) {
            prop_assert_eq!(fast, general.clone());
        }
        if c.body.is_empty()
            && let Some(header) = header(&c)
        {
            prop_assert_eq!(header, general);
        }
    }
}

/// Both legs of the bench's RPC take the header-only path when nothing
/// stands in the way (the property above would pass vacuously otherwise).
#[test]
fn the_header_path_takes_both_legs() {
    for (reply_leg, idle) in [false, true]
        .into_iter()
        .flat_map(|l| [(l, 0), (l, 3), (l, 20)])
    {
        let c = Case {
            reply_leg,
            handoff: true,
            urefs: 1,
            server_waits: true,
            server_max: Some(64),
            queued: 0,
            no_senders: false,
            dead: false,
            dest_disp: if reply_leg {
                Disposition::MoveSendOnce
            } else {
                Disposition::CopySend
            },
            reply_disp: (!reply_leg).then_some(Disposition::MakeSendOnce),
            rcv: 0,
            id: 7,
            body: Vec::new(),
            client_max: Some(64),
            idle,
            sender_waits: false,
        };
        let what = format!("reply leg: {reply_leg}, {idle} idle waiters");
        assert_eq!(header(&c), Some(general(&c)), "{what}");
        // A sender whose token waits elsewhere already is left to the
        // general path, which takes it away from there.
        let c = Case {
            sender_waits: true,
            ..c
        };
        assert_eq!(header(&c), None, "{what}, the sender waiting");
        assert!(fast(&c).is_none_or(|fast| fast == general(&c)), "{what}");
    }
}

/// The bench's RPC: the fast path applies, and the reply comes back to the
/// client the same way.
#[test]
fn a_null_rpc_takes_the_fast_path_both_ways() {
    let c = Case {
        reply_leg: false,
        handoff: true,
        urefs: 1,
        server_waits: true,
        server_max: Some(64),
        queued: 0,
        no_senders: false,
        dead: false,
        dest_disp: Disposition::CopySend,
        reply_disp: Some(Disposition::MakeSendOnce),
        rcv: 0,
        id: 1,
        body: Vec::new(),
        client_max: Some(64),
        idle: 0,
        sender_waits: false,
    };
    let mut w = world(&c);
    let msg = request(&c, &w);
    let FastRpc::Done {
        message, received, ..
    } =
        w.k.send_receive_fast(w.client, msg, w.reply, opts(&c), CLIENT)
    else {
        panic!("the fast path did not apply");
    };
    assert_eq!(received.unwrap_err().code, MsgReturn::RcvTimedOut);
    assert_eq!(message.header.local, w.service);
    let reply = Message::new(101, message.header.remote, Disposition::MoveSendOnce);
    let FastRpc::Done {
        to,
        message,
        received,
    } =
        w.k.send_receive_fast(w.server, reply, w.service, opts(&c), SERVER)
    else {
        panic!("the fast path did not apply to the reply");
    };
    assert_eq!(to, CLIENT);
    assert_eq!((message.header.id, message.header.local), (101, w.reply));
    assert_eq!(received.unwrap_err().code, MsgReturn::RcvTimedOut);
    // The send-once right was used up: the server holds only its receive right.
    assert_eq!(
        w.k.port_names(w.server).unwrap(),
        vec![(w.service, PortType::RECEIVE)]
    );
}

/// A message with a right in its body is not for the fast path.
#[test]
fn rights_in_the_body_take_the_general_path() {
    let c = Case {
        reply_leg: false,
        handoff: true,
        urefs: 2,
        server_waits: true,
        server_max: None,
        queued: 0,
        no_senders: false,
        dead: false,
        dest_disp: Disposition::CopySend,
        reply_disp: None,
        rcv: 0,
        id: 1,
        body: Vec::new(),
        client_max: None,
        idle: 0,
        sender_waits: false,
    };
    let mut w = world(&c);
    let msg = request(&c, &w).with_item(Item::port(w.send, Disposition::CopySend));
    assert!(matches!(
        w.k.send_receive_fast(w.client, msg, w.reply, opts(&c), CLIENT),
        FastRpc::NotApplicable(_)
    ));
}
