//! Direct hand-off: a message sent to a port with a waiting receiver is
//! received for that receiver within the send.
#![allow(clippy::unwrap_used)]

use hurd_ipc::{
    Disposition, IpcKernel, Item, Message, MsgReturn, PortName, RecvOptions, RightType,
};

fn setup(
    handoff: bool,
) -> (
    IpcKernel,
    hurd_ipc::SpaceId,
    hurd_ipc::SpaceId,
    PortName,
    PortName,
) {
    let mut k = IpcKernel::new(0);
    k.set_direct_handoff(handoff);
    let server = k.create_space();
    let client = k.create_space();
    let port = k.port_allocate(server, RightType::Receive).unwrap();
    let (send, _) = k
        .port_extract_right(server, port, Disposition::MakeSend, client)
        .unwrap();
    (k, server, client, port, send)
}

#[test]
fn waiting_receiver_gets_the_message_inside_the_send() {
    let (mut k, server, client, port, send) = setup(true);
    let err = k
        .receive(server, port, RecvOptions::default(), Some(7))
        .unwrap_err();
    assert_eq!(err.code, MsgReturn::RcvTimedOut);
    k.send(
        client,
        Message::new(42, send, Disposition::CopySend).with_item(Item::U32(9)),
        None,
    )
    .unwrap();
    let mut out = Vec::new();
    k.take_deliveries(&mut out);
    assert_eq!(out.len(), 1);
    let (token, msg) = out.pop().unwrap();
    assert_eq!(token, 7);
    let msg = msg.unwrap();
    assert_eq!(
        (msg.header.id, msg.header.local, msg.header.seqno),
        (42, port, 0)
    );
    assert_eq!(msg.body, vec![Item::U32(9)]);
    let mut woken = Vec::new();
    k.take_wakeups(&mut woken);
    assert_eq!(woken, vec![7]);
    // Nothing is left queued, and the waiter is no longer registered.
    assert_eq!(k.port_get_receive_status(server, port).unwrap().msgcount, 0);
    assert!(!k.cancel_wait(7));
}

#[test]
fn without_handoff_the_receiver_is_only_woken() {
    let (mut k, server, client, port, send) = setup(false);
    let _ = k.receive(server, port, RecvOptions::default(), Some(7));
    k.send(client, Message::new(1, send, Disposition::CopySend), None)
        .unwrap();
    let mut out = Vec::new();
    k.take_deliveries(&mut out);
    assert!(out.is_empty());
    let mut woken = Vec::new();
    k.take_wakeups(&mut woken);
    assert_eq!(woken, vec![7]);
    assert_eq!(
        k.receive(server, port, RecvOptions::default(), None)
            .unwrap()
            .header
            .id,
        1
    );
}

#[test]
fn too_large_is_handed_over_as_the_error() {
    let (mut k, server, client, port, send) = setup(true);
    let opts = RecvOptions {
        max_size: Some(24),
        large: true,
    };
    let _ = k.receive(server, port, opts, Some(3));
    k.send(
        client,
        Message::new(1, send, Disposition::CopySend).with_item(Item::U64(1)),
        None,
    )
    .unwrap();
    let mut out = Vec::new();
    k.take_deliveries(&mut out);
    let (_, r) = out.pop().unwrap();
    let e = r.unwrap_err();
    assert_eq!((e.code, e.size), (MsgReturn::RcvTooLarge, 40));
    // With MACH_RCV_LARGE the message stays queued.
    assert_eq!(k.port_get_receive_status(server, port).unwrap().msgcount, 1);
}

#[test]
fn waiter_on_a_port_set_gets_the_member_message() {
    let (mut k, server, client, port, send) = setup(true);
    let set = k.port_allocate(server, RightType::PortSet).unwrap();
    k.port_move_member(server, port, set).unwrap();
    let _ = k.receive(server, set, RecvOptions::default(), Some(11));
    k.send(client, Message::new(5, send, Disposition::CopySend), None)
        .unwrap();
    let mut out = Vec::new();
    k.take_deliveries(&mut out);
    let (t, r) = out.pop().unwrap();
    assert_eq!(t, 11);
    assert_eq!(r.unwrap().header.local, port);
}

/// A receiver that asks again before its first wait was answered (the
/// kernel listening on its port set once more) waits there once: two
/// messages wake it once, and a later sender finds no stale registration.
/// Each repeated wait used to add the token to the set's waiters again,
/// without bound, and the copies woke it once a message each.
#[test]
fn a_receiver_registered_twice_waits_once() {
    for handoff in [false, true] {
        let (mut k, server, client, port, send) = setup(handoff);
        let set = k.port_allocate(server, RightType::PortSet).unwrap();
        k.port_move_member(server, port, set).unwrap();
        for _ in 0..1000 {
            let err = k
                .receive(server, set, RecvOptions::default(), Some(7))
                .unwrap_err();
            assert_eq!(err.code, MsgReturn::RcvTimedOut);
        }
        for id in [1, 2] {
            k.send(client, Message::new(id, send, Disposition::CopySend), None)
                .unwrap();
        }
        let mut woken = Vec::new();
        k.take_wakeups(&mut woken);
        assert_eq!(woken, vec![7], "handoff {handoff}");
        let mut out = Vec::new();
        k.take_deliveries(&mut out);
        assert_eq!(out.len(), usize::from(handoff), "handoff {handoff}");
        // The second message waits in the queue for the next receive.
        let msg = k
            .receive(server, set, RecvOptions::default(), None)
            .unwrap();
        assert_eq!(msg.header.id, if handoff { 2 } else { 1 });
        assert!(!k.cancel_wait(7));
    }
}

/// The same for a receiver waiting on a port (not a set).
#[test]
fn a_receiver_registered_twice_on_a_port_waits_once() {
    let (mut k, server, client, port, send) = setup(false);
    for _ in 0..3 {
        let _ = k.receive(server, port, RecvOptions::default(), Some(7));
    }
    for id in [1, 2] {
        k.send(client, Message::new(id, send, Disposition::CopySend), None)
            .unwrap();
    }
    let mut woken = Vec::new();
    k.take_wakeups(&mut woken);
    assert_eq!(woken, vec![7]);
}
