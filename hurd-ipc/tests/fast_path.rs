//! The RPC fast path (`IpcKernel::send_receive_fast`) against the general
//! path (`send`, the hand-off through `take_deliveries`, then `receive`):
//! the same scenarios through both must leave the same messages, names,
//! references, port states and counters.
#![allow(clippy::unwrap_used)]

use hurd_ipc::{
    Disposition, FastRpc, IpcKernel, Item, Message, MsgReturn, NotifyKind, PortName, PortType,
    RecvError, RecvOptions, RightType, SpaceId,
};
use proptest::prelude::*;

/// How one scenario is set up and what the client sends.
#[derive(Clone, Debug)]
struct Case {
    /// Direct hand-off on (the fast path needs it).
    handoff: bool,
    /// Send references the client holds for the service port (1 to 3).
    urefs: u16,
    /// Whether the server waits on the service port (else nobody does).
    server_waits: bool,
    /// The server's receive buffer limit.
    server_max: Option<u64>,
    /// Messages already queued on the service port.
    queued: usize,
    /// No-senders of the service port goes to the client's reply port.
    no_senders: bool,
    /// The service port dies before the send.
    dead: bool,
    /// How the client names the service port.
    dest_disp: Disposition,
    /// How it sends its reply port (`None`: no reply port).
    reply_disp: Option<Disposition>,
    /// Where it receives: 0 its reply port, 1 a name it does not hold, 2 the
    /// service's send right (not a receive right).
    rcv: u8,
    id: i32,
    body: Vec<Item>,
    /// The client's receive buffer limit.
    client_max: Option<u64>,
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
            prop_oneof![
                Just(Disposition::CopySend),
                Just(Disposition::MoveSend),
                Just(Disposition::MakeSend),
                Just(Disposition::MoveSendOnce),
            ],
            prop_oneof![
                Just(None),
                Just(Some(Disposition::MakeSendOnce)),
                Just(Some(Disposition::MakeSend)),
                Just(Some(Disposition::CopySend)),
            ],
            prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
            any::<i32>(),
            proptest::collection::vec(item(), 0..4),
            prop::option::of(24u64..120),
        ),
    )
        .prop_map(
            |(
                (handoff, urefs, server_waits, server_max, queued, no_senders, dead),
                (dest_disp, reply_disp, rcv, id, body, client_max),
            )| Case {
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
            },
        )
}

/// A kernel set up for `c`: (kernel, server, client, service port in the
/// server, its send right in the client, the client's reply port).
struct World {
    k: IpcKernel,
    server: SpaceId,
    client: SpaceId,
    service: PortName,
    send: PortName,
    reply: PortName,
}

const SERVER: u64 = 1;
const CLIENT: u64 = 2;

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
    for i in 0..c.queued {
        k.send(
            client,
            Message::new(1000 + i as i32, send, Disposition::CopySend),
            None,
        )
        .unwrap();
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
        let _ = k.receive(server, service, opts, Some(SERVER));
    }
    if c.dead {
        k.port_destroy(server, service).unwrap();
    }
    World {
        k,
        server,
        client,
        service,
        send,
        reply,
    }
}

fn request(c: &Case, w: &World) -> Message {
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
    match c.rcv {
        0 => w.reply,
        1 => PortName(0x7777),
        _ => w.send,
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

/// What one path produced: (the server's delivery, the client's receive,
/// other deliveries and wakeups, state after, the client's wait still
/// registered).
type Outcome = (
    Option<Result<Message, RecvError>>,
    Option<Result<Message, RecvError>>,
    Vec<(u64, Result<Message, RecvError>)>,
    Vec<u64>,
    String,
    bool,
);

fn opts(c: &Case) -> RecvOptions {
    RecvOptions {
        max_size: c.client_max,
        large: false,
    }
}

fn general(c: &Case) -> Outcome {
    let mut w = world(c);
    let msg = request(c, &w);
    let rcv = rcv_name(c, &w);
    let mut server_got = None;
    let mut client_got = None;
    let mut others = Vec::new();
    let mut woken = Vec::new();
    if w.k.send(w.client, msg, Some(CLIENT)).is_ok() {
        let mut d = Vec::new();
        w.k.take_deliveries(&mut d);
        for (t, r) in d {
            if t == SERVER && server_got.is_none() {
                server_got = Some(r);
            } else {
                others.push((t, r));
            }
        }
        w.k.take_wakeups(&mut woken);
        woken.retain(|&t| !(t == SERVER && server_got.is_some()));
        client_got = Some(w.k.receive(w.client, rcv, opts(c), Some(CLIENT)));
    } else {
        w.k.cancel_wait(CLIENT);
    }
    let mut d = Vec::new();
    w.k.take_deliveries(&mut d);
    others.extend(d);
    let mut more = Vec::new();
    w.k.take_wakeups(&mut more);
    woken.extend(more);
    let state = snapshot(&mut w.k, &[w.server, w.client]);
    let registered = w.k.cancel_wait(CLIENT);
    (server_got, client_got, others, woken, state, registered)
}

/// The fast path; `None` when it did not apply (and then it must have
/// changed nothing and handed the message back intact).
fn fast(c: &Case) -> Option<Outcome> {
    let mut w = world(c);
    let before = snapshot(&mut w.k, &[w.server, w.client]);
    let msg = request(c, &w);
    let rcv = rcv_name(c, &w);
    match w
        .k
        .send_receive_fast(w.client, msg.clone(), rcv, opts(c), CLIENT)
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
            assert_eq!(to, SERVER);
            let mut others = Vec::new();
            w.k.take_deliveries(&mut others);
            let mut woken = Vec::new();
            w.k.take_wakeups(&mut woken);
            let state = snapshot(&mut w.k, &[w.server, w.client]);
            let registered = w.k.cancel_wait(CLIENT);
            Some((
                Some(Ok(message)),
                Some(received),
                others,
                woken,
                state,
                registered,
            ))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn fast_path_matches_the_general_path(c in case()) {
        let general = general(&c);
        if let Some(fast) = fast(&c) {
            prop_assert_eq!(fast, general);
        }
    }
}

/// The bench's RPC: the fast path applies, and the reply comes back to the
/// client the same way.
#[test]
fn a_null_rpc_takes_the_fast_path_both_ways() {
    let c = Case {
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
    };
    let mut w = world(&c);
    let msg = request(&c, &w).with_item(Item::port(w.send, Disposition::CopySend));
    assert!(matches!(
        w.k.send_receive_fast(w.client, msg, w.reply, opts(&c), CLIENT),
        FastRpc::NotApplicable(_)
    ));
}
