//! `interface!`'s messages as data: `Call` and `Reply` encode and decode
//! without a `UserIpc`, decoding keeps every item (rights included) and hands
//! back anything it cannot decode exactly as it came.
#![allow(clippy::unwrap_used)]

use hurd_ipc::mig::{DecodeError, Request};
use hurd_ipc::{
    Disposition, Error, Item, KernReturn, Message, MigReturn, OolItem, PortArray, PortItem,
    PortName, interface,
};
use proptest::prelude::*;

interface! {
    /// A test interface with every kind of argument.
    pub mod things: subsystem 4200 {
        /// Adds.
        routine add(a: u32, b: u32) -> (sum: u32);
        /// Nothing in, nothing out.
        routine ping();
        skip withdrawn();
        /// Rights and memory.
        routine hand(port: PortItem, ports: PortArray, data: OolItem, name: String)
            -> (back: PortItem, size: u64);
        /// No reply.
        simpleroutine note(text: Vec<u8>, flag: bool);
    }
}

fn port(n: u32, d: Disposition) -> PortItem {
    PortItem {
        disposition: d,
        name: PortName(n),
    }
}

/// A request as it arrives: names in the receiver's space, the reply right a
/// send-once right.
fn arrived(mut msg: Message, reply: PortName) -> Message {
    msg.header.local = msg.header.remote;
    msg.header.remote = reply;
    msg.header.seqno = 9;
    msg
}

#[test]
fn calls_round_trip_with_their_header() {
    let calls = [
        things::Call::add { a: 1, b: 2 },
        things::Call::ping {},
        things::Call::hand {
            port: port(7, Disposition::PORT_SEND),
            ports: PortArray {
                disposition: Disposition::PORT_SEND,
                names: vec![PortName(8), PortName::DEAD, PortName::NULL],
            },
            data: OolItem {
                data: vec![1, 2, 3],
                deallocate: true,
            },
            name: "x".into(),
        },
        things::Call::note {
            text: b"hi".to_vec(),
            flag: true,
        },
    ];
    for call in calls {
        let id = call.id();
        let msg = call.clone().encode(PortName(3), Disposition::CopySend);
        assert_eq!(msg.header.id, id);
        assert_eq!(msg.header.bits.remote(), Some(Disposition::CopySend));
        let (back, req) = things::Call::decode(arrived(msg, PortName(44))).unwrap();
        assert_eq!(back, call);
        assert_eq!(
            req,
            Request {
                id,
                port: PortName(3),
                seqno: 9,
                reply: PortName(44)
            }
        );
    }
    assert_eq!(things::id::hand, 4203);
    assert_eq!(
        things::Call::note {
            text: vec![],
            flag: false
        }
        .id(),
        4204
    );
}

#[test]
fn replies_round_trip() {
    let req = Request {
        id: things::id::hand,
        port: PortName(3),
        seqno: 0,
        reply: PortName(44),
    };
    let replies = [
        things::Reply::add(Ok(3)),
        things::Reply::add(Err(Error::Kern(KernReturn::InvalidArgument))),
        things::Reply::ping(Ok(())),
        things::Reply::ping(Err(Error::Code(0x4000_0016))),
        things::Reply::hand(Ok((port(5, Disposition::MoveSendOnce), 1 << 40))),
    ];
    for reply in replies {
        let msg = reply.clone().encode(&req);
        // The variant says which routine, whatever the request's id.
        assert_eq!(msg.header.id, reply.id());
        assert_eq!(msg.header.remote, PortName(44));
        assert_eq!(msg.header.bits.remote(), Some(Disposition::MoveSendOnce));
        assert_eq!(things::Reply::decode(msg).unwrap(), reply);
    }
    assert_eq!(things::Reply::ping(Ok(())).id(), 4201 + 100);
}

fn refused(msg: Message, code: MigReturn, decode: fn(Message) -> Option<DecodeError>) {
    let err = decode(msg.clone()).expect("refused");
    assert_eq!(err.code, code);
    assert_eq!(err.message, msg, "handed back as it came");
}

fn decode_call(msg: Message) -> Option<DecodeError> {
    things::Call::decode(msg).err()
}

fn decode_reply(msg: Message) -> Option<DecodeError> {
    things::Reply::decode(msg).err()
}

#[test]
fn bad_requests_come_back_whole() {
    let rights = Message::new(things::id::add, PortName(3), Disposition::CopySend)
        .with_reply(PortName(9), Disposition::MakeSendOnce)
        .with_item(Item::Port(port(5, Disposition::MoveReceive)))
        .with_item(Item::U32(2));
    refused(rights, MigReturn::BadArguments, decode_call);
    let short = things::Call::add { a: 1, b: 2 }.encode(PortName(3), Disposition::CopySend);
    let mut short = short;
    short.body.pop();
    refused(short, MigReturn::BadArguments, decode_call);
    let bad_utf8 = Message::new(things::id::hand, PortName(3), Disposition::CopySend)
        .with_item(Item::Port(port(7, Disposition::MoveSend)))
        .with_item(Item::Ports(PortArray {
            disposition: Disposition::MoveSend,
            names: vec![PortName(8)],
        }))
        .with_item(Item::ool(vec![1], false))
        .with_item(Item::Bytes(vec![0xff]));
    refused(bad_utf8, MigReturn::BadArguments, decode_call);
    let bad_bool = Message::new(things::id::note, PortName(3), Disposition::CopySend)
        .with_item(Item::Bytes(vec![]))
        .with_item(Item::U32(2));
    refused(bad_bool, MigReturn::BadArguments, decode_call);
    for id in [things::id::withdrawn, things::END, 4199, 4201 + 100] {
        let msg = Message::new(id, PortName(3), Disposition::CopySend)
            .with_item(Item::Port(port(5, Disposition::MoveSend)));
        refused(msg, MigReturn::BadId, decode_call);
    }
}

#[test]
fn bad_replies_come_back_whole() {
    let req = Request {
        id: things::id::add,
        port: PortName(3),
        seqno: 0,
        reply: PortName(44),
    };
    // An error code followed by items.
    let mut err_and_items = things::Reply::add(Err(Error::Code(5))).encode(&req);
    err_and_items
        .body
        .push(Item::Port(port(6, Disposition::MoveSend)));
    refused(err_and_items, MigReturn::TypeError, decode_reply);
    // Success with the wrong items.
    let mut wrong = things::Reply::add(Ok(1)).encode(&req);
    wrong.body[1] = Item::U64(1);
    refused(wrong, MigReturn::TypeError, decode_reply);
    // No code at all.
    let mut empty = things::Reply::add(Ok(1)).encode(&req);
    empty.body.clear();
    refused(empty, MigReturn::TypeError, decode_reply);
    // A request, a simpleroutine's "reply", a stranger.
    for id in [
        things::id::add,
        things::id::note + 100,
        things::id::withdrawn + 100,
        7,
    ] {
        let msg = Message::new(id, PortName(3), Disposition::MoveSendOnce).with_item(Item::U32(0));
        refused(msg, MigReturn::ReplyMismatch, decode_reply);
    }
}

fn any_item() -> impl Strategy<Value = Item> {
    prop_oneof![
        any::<u32>().prop_map(Item::U32),
        Just(Item::U32(0)),
        Just(Item::U32(1)),
        any::<u64>().prop_map(Item::U64),
        prop::collection::vec(any::<u8>(), 0..6).prop_map(Item::Bytes),
        (1u32..5).prop_map(|n| Item::Port(port(n, Disposition::MoveSend))),
        Just(Item::Ports(PortArray {
            disposition: Disposition::MoveSend,
            names: vec![PortName(1)]
        })),
        Just(Item::ool(vec![1, 2], true)),
    ]
}

proptest! {
    /// Any message: decoded with every item kept, or handed back unchanged;
    /// never a panic. A decoded request encodes back to the same body.
    #[test]
    fn any_message_decodes_or_comes_back(
        id in 4195i32..4310,
        items in prop::collection::vec(any_item(), 0..6),
    ) {
        let mut msg = Message::new(id, PortName(3), Disposition::CopySend);
        msg.body = items;
        match things::Call::decode(msg.clone()) {
            Ok((call, _)) => {
                let again = call.encode(PortName(3), Disposition::CopySend);
                prop_assert_eq!(again.body, msg.body.clone());
            }
            Err(e) => prop_assert_eq!(e.message, msg.clone()),
        }
        match things::Reply::decode(msg.clone()) {
            Ok(reply) => prop_assert_eq!(reply.id(), id),
            Err(e) => prop_assert_eq!(e.message, msg),
        }
    }
}
