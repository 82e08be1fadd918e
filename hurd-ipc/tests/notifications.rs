//! Mach notifications through [`IpcKernel`]: no-senders (make-send count, `sync`,
//! exactly once, only after the last send right dies, including rights in flight),
//! dead-name, port-deleted, port-destroyed, send-once, and the previous right that
//! `mach_port_request_notification` hands back.
#![allow(clippy::unwrap_used)]

use hurd_ipc::{
    Disposition, IpcKernel, Item, KernReturn, Message, MsgReturn, Notification, NotifyKind,
    PortName, PortType, RecvOptions, RightType, SpaceId,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A kernel with three spaces.
fn kernel3() -> (IpcKernel, SpaceId, SpaceId, SpaceId) {
    let mut k = IpcKernel::new(0);
    let a = k.create_space();
    let b = k.create_space();
    let c = k.create_space();
    (k, a, b, c)
}

fn port(k: &mut IpcKernel, space: SpaceId) -> PortName {
    k.port_allocate(space, RightType::Receive).unwrap()
}

fn make_send(k: &mut IpcKernel, owner: SpaceId, name: PortName, to: SpaceId) -> PortName {
    k.port_extract_right(owner, name, Disposition::MakeSend, to)
        .unwrap()
        .0
}

fn make_send_once(k: &mut IpcKernel, owner: SpaceId, name: PortName, to: SpaceId) -> PortName {
    k.port_extract_right(owner, name, Disposition::MakeSendOnce, to)
        .unwrap()
        .0
}

fn recv(k: &mut IpcKernel, space: SpaceId, name: PortName) -> Message {
    k.receive(space, name, RecvOptions::default(), None)
        .unwrap()
}

/// Every notification queued on `name`, in order; fails on any other message.
fn drain(k: &mut IpcKernel, space: SpaceId, name: PortName) -> Vec<Notification> {
    let mut out = Vec::new();
    loop {
        match k.receive(space, name, RecvOptions::default(), None) {
            Ok(m) => {
                out.push(
                    Notification::parse(&m).unwrap_or_else(|| panic!("not a notification: {m:?}")),
                );
            }
            Err(e) => {
                assert_eq!(e.code, MsgReturn::RcvTimedOut);
                return out;
            }
        }
    }
}

/// Registers a no-senders request on `owner`'s `p` going to `owner`'s receive
/// right `n`; returns the previous right.
fn request_ns(k: &mut IpcKernel, owner: SpaceId, p: PortName, sync: u32, n: PortName) -> PortName {
    k.request_notification(
        owner,
        p,
        NotifyKind::NoSenders,
        sync,
        n,
        Disposition::MakeSendOnce,
    )
    .unwrap()
}

/// Registers a dead-name request on `space`'s `name`, notifying `space`'s receive
/// right `n`.
fn request_dn(k: &mut IpcKernel, space: SpaceId, name: PortName, n: PortName) -> PortName {
    k.request_notification(
        space,
        name,
        NotifyKind::DeadName,
        0,
        n,
        Disposition::MakeSendOnce,
    )
    .unwrap()
}

// ---------------------------------------------------------------------------
// No-senders
// ---------------------------------------------------------------------------

#[test]
fn no_senders_fires_once_after_the_last_send_right_with_mscount() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    let sb = make_send(&mut k, a, p, b);
    make_send(&mut k, a, p, b);
    let sc = make_send(&mut k, a, p, c);
    assert_eq!(k.port_get_refs(b, sb, RightType::Send).unwrap(), 2);
    assert_eq!(request_ns(&mut k, a, p, 0, n), PortName::NULL);
    assert!(k.port_get_receive_status(a, p).unwrap().nsrequest);
    k.port_deallocate(b, sb).unwrap();
    k.port_deallocate(b, sb).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![]);
    k.port_deallocate(c, sc).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![Notification::NoSenders(3)]);
    let st = k.port_get_receive_status(a, p).unwrap();
    assert!(!st.nsrequest);
    assert!(!st.srights);
    // The request was used up: new send rights dying later notify nobody.
    let s = make_send(&mut k, a, p, b);
    k.port_deallocate(b, s).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![]);
}

#[test]
fn no_senders_message_carries_the_mscount_at_the_time() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    k.port_set_mscount(a, p, 40).unwrap();
    let s = make_send(&mut k, a, p, b);
    request_ns(&mut k, a, p, 0, n);
    k.port_deallocate(b, s).unwrap();
    let m = recv(&mut k, a, n);
    assert_eq!(m.header.id, hurd_ipc::notify::NOTIFY_NO_SENDERS);
    assert_eq!(m.body, vec![Item::U32(41)]);
    assert_eq!(m.header.local, n);
    assert_eq!(m.header.bits.local(), Some(Disposition::PORT_SEND_ONCE));
}

#[test]
fn no_senders_sync_semantics() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    // mscount 2, no send rights left.
    for _ in 0..2 {
        let s = make_send(&mut k, a, p, b);
        k.port_deallocate(b, s).unwrap();
    }
    assert_eq!(k.port_get_receive_status(a, p).unwrap().mscount, 2);
    // sync > mscount: a send right may still be on its way; wait.
    request_ns(&mut k, a, p, 3, n);
    assert_eq!(drain(&mut k, a, n), vec![]);
    assert!(k.port_get_receive_status(a, p).unwrap().nsrequest);
    // The third send right is made and dies: now it fires.
    let s = make_send(&mut k, a, p, b);
    assert_eq!(drain(&mut k, a, n), vec![]);
    k.port_deallocate(b, s).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![Notification::NoSenders(3)]);
    // sync <= mscount with no send rights: fires at once.
    request_ns(&mut k, a, p, 3, n);
    assert_eq!(drain(&mut k, a, n), vec![Notification::NoSenders(3)]);
    assert!(!k.port_get_receive_status(a, p).unwrap().nsrequest);
    request_ns(&mut k, a, p, 0, n);
    assert_eq!(drain(&mut k, a, n), vec![Notification::NoSenders(3)]);
    // sync <= mscount but a send right exists: waits.
    let s = make_send(&mut k, a, p, b);
    request_ns(&mut k, a, p, 1, n);
    assert_eq!(drain(&mut k, a, n), vec![]);
    k.port_deallocate(b, s).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![Notification::NoSenders(4)]);
}

#[test]
fn no_senders_waits_for_a_moved_send_right_destroyed_in_its_message() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, s, RightType::Send, 1).unwrap();
    request_ns(&mut k, a, p, 0, n);
    // b moves one reference into a message queued on c's port q ...
    let q = port(&mut k, c);
    let qs = make_send(&mut k, c, q, b);
    k.send(
        b,
        Message::new(1, qs, Disposition::CopySend).with_item(Item::port(s, Disposition::MoveSend)),
        None,
    )
    .unwrap();
    // ... and drops its last local reference.
    k.port_deallocate(b, s).unwrap();
    assert_eq!(k.port_type(b, s), Err(KernReturn::InvalidName));
    assert_eq!(drain(&mut k, a, n), vec![]);
    assert!(k.port_get_receive_status(a, p).unwrap().srights);
    // q dies with the message in its queue: the send right dies with it.
    k.port_mod_refs(c, q, RightType::Receive, -1).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![Notification::NoSenders(1)]);
    assert!(!k.port_get_receive_status(a, p).unwrap().srights);
    assert_eq!(drain(&mut k, a, n), vec![]);
}

#[test]
fn no_senders_waits_for_a_send_right_in_flight_to_be_received_and_dropped() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    request_ns(&mut k, a, p, 0, n);
    let q = port(&mut k, c);
    let qs = make_send(&mut k, c, q, b);
    // Copy, then drop the original.
    k.send(
        b,
        Message::new(1, qs, Disposition::CopySend).with_item(Item::port(s, Disposition::CopySend)),
        None,
    )
    .unwrap();
    k.port_deallocate(b, s).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![]);
    let m = recv(&mut k, c, q);
    let [Item::Port(item)] = m.body.as_slice() else {
        panic!("{m:?}")
    };
    assert_eq!(k.port_type(c, item.name).unwrap(), PortType::SEND);
    assert_eq!(drain(&mut k, a, n), vec![]);
    k.port_deallocate(c, item.name).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![Notification::NoSenders(1)]);
    assert_eq!(drain(&mut k, a, n), vec![]);
}

#[test]
fn messages_queued_on_the_port_hold_send_rights() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    request_ns(&mut k, a, p, 0, n);
    // The queued message was sent through a send right and still holds one.
    k.send(b, Message::new(1, s, Disposition::MoveSend), None)
        .unwrap();
    assert_eq!(k.port_type(b, s), Err(KernReturn::InvalidName));
    assert_eq!(drain(&mut k, a, n), vec![]);
    assert!(k.port_get_receive_status(a, p).unwrap().srights);
    recv(&mut k, a, p);
    assert_eq!(drain(&mut k, a, n), vec![Notification::NoSenders(1)]);
}

#[test]
fn no_senders_request_dies_with_its_port_as_a_send_once_notification() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, b);
    let so = make_send_once(&mut k, b, n, a);
    k.request_notification(
        a,
        p,
        NotifyKind::NoSenders,
        1,
        so,
        Disposition::MoveSendOnce,
    )
    .unwrap();
    assert_eq!(k.port_type(a, so), Err(KernReturn::InvalidName));
    k.port_destroy(a, p).unwrap();
    assert_eq!(drain(&mut k, b, n), vec![Notification::SendOnce]);
    assert_eq!(k.port_get_receive_status(b, n).unwrap().sorights, 0);
}

#[test]
fn no_senders_request_errors() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let bn = port(&mut k, b);
    // Only the receive right may ask.
    assert_eq!(
        k.request_notification(
            b,
            s,
            NotifyKind::NoSenders,
            0,
            bn,
            Disposition::MakeSendOnce
        ),
        Err(KernReturn::InvalidRight)
    );
    // The notify right must be a send-once right.
    assert_eq!(
        k.request_notification(a, p, NotifyKind::NoSenders, 0, n, Disposition::MakeSend),
        Err(KernReturn::InvalidCapability)
    );
    assert!(
        k.request_notification(
            a,
            p,
            NotifyKind::NoSenders,
            0,
            PortName(0x999),
            Disposition::MakeSendOnce
        )
        .is_err()
    );
    assert!(
        k.request_notification(
            a,
            PortName(0x999),
            NotifyKind::NoSenders,
            0,
            n,
            Disposition::MakeSendOnce
        )
        .is_err()
    );
    let st = k.port_get_receive_status(a, p).unwrap();
    assert!(!st.nsrequest);
    assert_eq!(k.port_get_receive_status(a, n).unwrap().sorights, 0);
}

// ---------------------------------------------------------------------------
// Dead-name and port-deleted
// ---------------------------------------------------------------------------

#[test]
fn dead_name_notification_adds_a_reference_and_carries_the_name() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let sb = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, sb, RightType::Send, 2).unwrap();
    let sob = make_send_once(&mut k, a, p, b);
    let sc = make_send(&mut k, a, p, c);
    let nb = port(&mut k, b);
    let nc = port(&mut k, c);
    request_dn(&mut k, b, sb, nb);
    request_dn(&mut k, b, sob, nb);
    request_dn(&mut k, c, sc, nc);
    assert_eq!(
        k.port_type(b, sb).unwrap(),
        PortType::SEND | PortType::DNREQUEST
    );
    k.port_destroy(a, p).unwrap();
    let mut got = drain(&mut k, b, nb);
    got.sort_by_key(|n| match n {
        Notification::DeadName(x) => *x,
        _ => PortName::NULL,
    });
    let mut want = vec![Notification::DeadName(sb), Notification::DeadName(sob)];
    want.sort_by_key(|n| match n {
        Notification::DeadName(x) => *x,
        _ => PortName::NULL,
    });
    assert_eq!(got, want);
    assert_eq!(drain(&mut k, c, nc), vec![Notification::DeadName(sc)]);
    assert_eq!(k.port_type(b, sb).unwrap(), PortType::DEAD_NAME);
    assert_eq!(k.port_get_refs(b, sb, RightType::DeadName).unwrap(), 4);
    assert_eq!(k.port_get_refs(b, sob, RightType::DeadName).unwrap(), 2);
    assert_eq!(k.port_get_refs(c, sc, RightType::DeadName).unwrap(), 2);
    // The requests are gone with the port.
    assert_eq!(k.port_get_receive_status(b, nb).unwrap().sorights, 0);
    assert_eq!(k.port_get_receive_status(c, nc).unwrap().sorights, 0);
}

#[test]
fn dead_name_request_on_a_dead_name() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let n = port(&mut k, b);
    k.port_destroy(a, p).unwrap();
    assert_eq!(k.port_type(b, s).unwrap(), PortType::DEAD_NAME);
    // sync 0: KERN_INVALID_ARGUMENT, nothing made.
    assert_eq!(
        k.request_notification(b, s, NotifyKind::DeadName, 0, n, Disposition::MakeSendOnce),
        Err(KernReturn::InvalidArgument)
    );
    assert_eq!(k.port_get_receive_status(b, n).unwrap().sorights, 0);
    // sync != 0: fires at once, +1 reference.
    assert_eq!(
        k.request_notification(b, s, NotifyKind::DeadName, 1, n, Disposition::MakeSendOnce),
        Ok(PortName::NULL)
    );
    assert_eq!(drain(&mut k, b, n), vec![Notification::DeadName(s)]);
    assert_eq!(k.port_get_refs(b, s, RightType::DeadName).unwrap(), 2);
}

#[test]
fn dead_name_request_on_a_receive_right_that_is_destroyed_reports_port_deleted() {
    let (mut k, a, _b, _c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    request_dn(&mut k, a, p, n);
    k.port_mod_refs(a, p, RightType::Receive, -1).unwrap();
    assert_eq!(drain(&mut k, a, n), vec![Notification::PortDeleted(p)]);
}

#[test]
fn port_deleted_when_the_last_reference_is_deallocated() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, s, RightType::Send, 1).unwrap();
    let n = port(&mut k, b);
    request_dn(&mut k, b, s, n);
    k.port_deallocate(b, s).unwrap();
    assert_eq!(drain(&mut k, b, n), vec![]);
    k.port_deallocate(b, s).unwrap();
    assert_eq!(drain(&mut k, b, n), vec![Notification::PortDeleted(s)]);
    // The port living on or dying later means nothing to b any more.
    k.port_destroy(a, p).unwrap();
    assert_eq!(drain(&mut k, b, n), vec![]);
    assert_eq!(k.port_get_receive_status(b, n).unwrap().sorights, 0);
}

#[test]
fn port_deleted_when_the_last_reference_is_moved_away() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let n = port(&mut k, b);
    request_dn(&mut k, b, s, n);
    let q = port(&mut k, c);
    let qs = make_send(&mut k, c, q, b);
    k.send(
        b,
        Message::new(1, qs, Disposition::CopySend).with_item(Item::port(s, Disposition::MoveSend)),
        None,
    )
    .unwrap();
    assert_eq!(drain(&mut k, b, n), vec![Notification::PortDeleted(s)]);
    // As the destination of a message, too.
    let s = make_send(&mut k, a, p, b);
    request_dn(&mut k, b, s, n);
    k.send(b, Message::new(2, s, Disposition::MoveSend), None)
        .unwrap();
    assert_eq!(drain(&mut k, b, n), vec![Notification::PortDeleted(s)]);
}

#[test]
fn port_deleted_when_a_send_once_right_is_used() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let so = make_send_once(&mut k, a, p, b);
    let n = port(&mut k, b);
    request_dn(&mut k, b, so, n);
    k.send(b, Message::new(1, so, Disposition::MoveSendOnce), None)
        .unwrap();
    assert_eq!(drain(&mut k, b, n), vec![Notification::PortDeleted(so)]);
    assert_eq!(recv(&mut k, a, p).header.id, 1);
}

#[test]
fn port_deleted_by_mod_refs_and_destroy() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, b);
    let s = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, s, RightType::Send, 3).unwrap();
    request_dn(&mut k, b, s, n);
    k.port_mod_refs(b, s, RightType::Send, -4).unwrap();
    assert_eq!(drain(&mut k, b, n), vec![Notification::PortDeleted(s)]);
    let s = make_send(&mut k, a, p, b);
    request_dn(&mut k, b, s, n);
    k.port_destroy(b, s).unwrap();
    assert_eq!(drain(&mut k, b, n), vec![Notification::PortDeleted(s)]);
    // A name that only loses some references keeps its request.
    let s = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, s, RightType::Send, 1).unwrap();
    request_dn(&mut k, b, s, n);
    k.port_deallocate(b, s).unwrap();
    assert_eq!(drain(&mut k, b, n), vec![]);
    assert!(k.port_type(b, s).unwrap().contains(PortType::DNREQUEST));
}

#[test]
fn dead_name_request_dies_with_the_requesting_space() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let n = port(&mut k, c);
    let so = make_send_once(&mut k, c, n, b);
    k.request_notification(b, s, NotifyKind::DeadName, 0, so, Disposition::MoveSendOnce)
        .unwrap();
    k.destroy_space(b);
    // b's name was freed with its request registered: port-deleted.
    assert_eq!(drain(&mut k, c, n), vec![Notification::PortDeleted(s)]);
    k.port_destroy(a, p).unwrap();
    assert_eq!(drain(&mut k, c, n), vec![]);
}

// ---------------------------------------------------------------------------
// Port-destroyed
// ---------------------------------------------------------------------------

#[test]
fn port_destroyed_hands_back_a_usable_receive_right() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, b);
    let so = make_send_once(&mut k, b, n, a);
    assert_eq!(
        k.request_notification(
            a,
            p,
            NotifyKind::PortDestroyed,
            0,
            so,
            Disposition::MoveSendOnce
        ),
        Ok(PortName::NULL)
    );
    assert!(k.port_get_receive_status(a, p).unwrap().pdrequest);
    let sc = make_send(&mut k, a, p, c);
    for i in 0..3 {
        k.send(c, Message::new(i, sc, Disposition::CopySend), None)
            .unwrap();
    }
    recv(&mut k, a, p);
    let id = k.port_id(a, p).unwrap();
    // a drops the receive right: instead of dying, it goes to b.
    k.port_mod_refs(a, p, RightType::Receive, -1).unwrap();
    assert_eq!(k.port_type(a, p), Err(KernReturn::InvalidName));
    assert_eq!(k.port_type(c, sc).unwrap(), PortType::SEND);
    let m = recv(&mut k, b, n);
    let Some(Notification::PortDestroyed(r)) = Notification::parse(&m) else {
        panic!("{m:?}")
    };
    assert_eq!(
        m.body,
        vec![Item::port(r, Disposition::PORT_RECEIVE)],
        "the right arrives as a receive right"
    );
    assert_eq!(k.port_type(b, r).unwrap(), PortType::RECEIVE);
    assert_eq!(k.port_id(b, r).unwrap(), id);
    let st = k.port_get_receive_status(b, r).unwrap();
    assert!(!st.pdrequest);
    assert_eq!((st.msgcount, st.seqno, st.mscount), (2, 0, 0));
    // The messages queued before are still there, and senders still reach it.
    assert_eq!(recv(&mut k, b, r).header.id, 1);
    assert_eq!(recv(&mut k, b, r).header.id, 2);
    k.send(c, Message::new(9, sc, Disposition::CopySend), None)
        .unwrap();
    let m = recv(&mut k, b, r);
    assert_eq!((m.header.id, m.header.local), (9, r));
    // Without a new request, destroying it now kills it.
    k.port_mod_refs(b, r, RightType::Receive, -1).unwrap();
    assert_eq!(k.port_type(c, sc).unwrap(), PortType::DEAD_NAME);
}

#[test]
fn port_destroyed_fires_when_the_owning_space_dies() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, b);
    let so = make_send_once(&mut k, b, n, a);
    k.request_notification(
        a,
        p,
        NotifyKind::PortDestroyed,
        0,
        so,
        Disposition::MoveSendOnce,
    )
    .unwrap();
    let sc = make_send(&mut k, a, p, c);
    k.destroy_space(a);
    let Some(Notification::PortDestroyed(r)) = Notification::parse(&recv(&mut k, b, n)) else {
        panic!()
    };
    assert_eq!(k.port_type(b, r).unwrap(), PortType::RECEIVE);
    assert_eq!(k.port_type(c, sc).unwrap(), PortType::SEND);
    k.send(c, Message::new(5, sc, Disposition::CopySend), None)
        .unwrap();
    assert_eq!(recv(&mut k, b, r).header.id, 5);
}

#[test]
fn port_destroyed_to_a_dead_notify_port_destroys_the_port() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, b);
    let so = make_send_once(&mut k, b, n, a);
    k.request_notification(
        a,
        p,
        NotifyKind::PortDestroyed,
        0,
        so,
        Disposition::MoveSendOnce,
    )
    .unwrap();
    let sc = make_send(&mut k, a, p, c);
    k.destroy_space(b);
    k.port_destroy(a, p).unwrap();
    assert_eq!(k.port_type(c, sc).unwrap(), PortType::DEAD_NAME);
    k.destroy_space(a);
    k.destroy_space(c);
    assert_eq!(k.port_count(), 0);
}

#[test]
fn port_destroyed_request_needs_sync_zero_and_a_receive_right() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let n = port(&mut k, a);
    assert_eq!(
        k.request_notification(
            a,
            p,
            NotifyKind::PortDestroyed,
            1,
            n,
            Disposition::MakeSendOnce
        ),
        Err(KernReturn::InvalidValue)
    );
    let s = make_send(&mut k, a, p, b);
    let bn = port(&mut k, b);
    assert_eq!(
        k.request_notification(
            b,
            s,
            NotifyKind::PortDestroyed,
            0,
            bn,
            Disposition::MakeSendOnce
        ),
        Err(KernReturn::InvalidRight)
    );
    assert!(!k.port_get_receive_status(a, p).unwrap().pdrequest);
    assert_eq!(k.port_get_receive_status(a, n).unwrap().sorights, 0);
}

// ---------------------------------------------------------------------------
// Send-once
// ---------------------------------------------------------------------------

#[test]
fn deallocating_an_unused_send_once_right_notifies() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let so = make_send_once(&mut k, a, p, b);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().sorights, 1);
    k.port_deallocate(b, so).unwrap();
    assert_eq!(k.port_type(b, so), Err(KernReturn::InvalidName));
    let m = recv(&mut k, a, p);
    assert_eq!(Notification::parse(&m), Some(Notification::SendOnce));
    assert_eq!(m.header.id, hurd_ipc::notify::NOTIFY_SEND_ONCE);
    assert_eq!(m.header.local, p);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().sorights, 0);
    // mod_refs -1 on a send-once right does the same.
    let so = make_send_once(&mut k, a, p, b);
    k.port_mod_refs(b, so, RightType::SendOnce, -1).unwrap();
    assert_eq!(drain(&mut k, a, p), vec![Notification::SendOnce]);
}

#[test]
fn send_once_rights_of_a_destroyed_space_notify() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    for _ in 0..3 {
        make_send_once(&mut k, a, p, b);
    }
    k.destroy_space(b);
    assert_eq!(drain(&mut k, a, p), vec![Notification::SendOnce; 3]);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().sorights, 0);
}

#[test]
fn send_once_rights_in_destroyed_messages_notify() {
    let (mut k, a, b, c) = kernel3();
    let p = port(&mut k, a);
    let q = port(&mut k, c);
    let qs = make_send(&mut k, c, q, b);
    let so = make_send_once(&mut k, a, p, b);
    // A request with a reply right is queued on q, which dies unreceived.
    k.send(
        b,
        Message::new(1, qs, Disposition::CopySend).with_reply(so, Disposition::MoveSendOnce),
        None,
    )
    .unwrap();
    k.port_destroy(c, q).unwrap();
    assert_eq!(drain(&mut k, a, p), vec![Notification::SendOnce]);
    // And a send-once right in a body received and then deallocated.
    let q = port(&mut k, c);
    let qs = make_send(&mut k, c, q, b);
    let so = make_send_once(&mut k, a, p, b);
    k.send(
        b,
        Message::new(2, qs, Disposition::CopySend)
            .with_item(Item::port(so, Disposition::MoveSendOnce)),
        None,
    )
    .unwrap();
    let m = recv(&mut k, c, q);
    let [Item::Port(item)] = m.body.as_slice() else {
        panic!()
    };
    assert_eq!(drain(&mut k, a, p), vec![]);
    k.port_deallocate(c, item.name).unwrap();
    assert_eq!(drain(&mut k, a, p), vec![Notification::SendOnce]);
}

#[test]
fn send_once_right_used_sends_no_notification() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let so = make_send_once(&mut k, a, p, b);
    k.send(b, Message::new(7, so, Disposition::MoveSendOnce), None)
        .unwrap();
    assert_eq!(recv(&mut k, a, p).header.id, 7);
    assert_eq!(drain(&mut k, a, p), vec![]);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().sorights, 0);
}

// ---------------------------------------------------------------------------
// The previous right
// ---------------------------------------------------------------------------

#[test]
fn request_returns_the_previous_right() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let n1 = port(&mut k, b);
    let n2 = port(&mut k, b);
    // Dead-name: registering again returns the first right, a send-once right
    // for n1, now named in b.
    assert_eq!(request_dn(&mut k, b, s, n1), PortName::NULL);
    let prev = request_dn(&mut k, b, s, n2);
    assert!(prev.is_valid());
    assert_eq!(k.port_type(b, prev).unwrap(), PortType::SEND_ONCE);
    assert_eq!(k.port_id(b, prev).unwrap(), k.port_id(b, n1).unwrap());
    // Using it reaches n1.
    k.send(b, Message::new(3, prev, Disposition::MoveSendOnce), None)
        .unwrap();
    assert_eq!(recv(&mut k, b, n1).header.id, 3);
    // Cancelling with NULL returns the second; the name has no request left.
    let prev2 = k
        .request_notification(
            b,
            s,
            NotifyKind::DeadName,
            0,
            PortName::NULL,
            Disposition::MakeSendOnce,
        )
        .unwrap();
    assert_eq!(k.port_id(b, prev2).unwrap(), k.port_id(b, n2).unwrap());
    assert_eq!(k.port_type(b, s).unwrap(), PortType::SEND);
    // Deallocating the returned right sends n2 a send-once notification.
    k.port_deallocate(b, prev2).unwrap();
    assert_eq!(drain(&mut k, b, n2), vec![Notification::SendOnce]);
    // With nothing registered, the port's death notifies nobody.
    k.port_destroy(a, p).unwrap();
    assert_eq!(drain(&mut k, b, n1), vec![]);
    assert_eq!(drain(&mut k, b, n2), vec![]);
    assert_eq!(k.port_get_refs(b, s, RightType::DeadName).unwrap(), 1);
}

#[test]
fn no_senders_and_port_destroyed_return_the_previous_right() {
    let (mut k, a, b, _c) = kernel3();
    let p = port(&mut k, a);
    let _s = make_send(&mut k, a, p, b);
    let n1 = port(&mut k, a);
    let n2 = port(&mut k, a);
    assert_eq!(request_ns(&mut k, a, p, 0, n1), PortName::NULL);
    let prev = request_ns(&mut k, a, p, 0, n2);
    assert_eq!(k.port_id(a, prev).unwrap(), k.port_id(a, n1).unwrap());
    let prev2 = k
        .request_notification(
            a,
            p,
            NotifyKind::NoSenders,
            0,
            PortName::NULL,
            Disposition::MakeSendOnce,
        )
        .unwrap();
    assert_eq!(k.port_id(a, prev2).unwrap(), k.port_id(a, n2).unwrap());
    assert!(!k.port_get_receive_status(a, p).unwrap().nsrequest);
    // Cancelling when nothing is registered returns NULL.
    assert_eq!(
        k.request_notification(
            a,
            p,
            NotifyKind::NoSenders,
            0,
            PortName::NULL,
            Disposition::MakeSendOnce
        ),
        Ok(PortName::NULL)
    );

    assert_eq!(
        k.request_notification(
            a,
            p,
            NotifyKind::PortDestroyed,
            0,
            n1,
            Disposition::MakeSendOnce
        ),
        Ok(PortName::NULL)
    );
    let prev = k
        .request_notification(
            a,
            p,
            NotifyKind::PortDestroyed,
            0,
            n2,
            Disposition::MakeSendOnce,
        )
        .unwrap();
    assert_eq!(k.port_id(a, prev).unwrap(), k.port_id(a, n1).unwrap());
    let prev2 = k
        .request_notification(
            a,
            p,
            NotifyKind::PortDestroyed,
            0,
            PortName::NULL,
            Disposition::MakeSendOnce,
        )
        .unwrap();
    assert_eq!(k.port_id(a, prev2).unwrap(), k.port_id(a, n2).unwrap());
    assert!(!k.port_get_receive_status(a, p).unwrap().pdrequest);
}
