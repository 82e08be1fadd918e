//! Mach IPC semantics through the public API of [`IpcKernel`] and the hosted
//! runtime: user references, every disposition, failed sends that hand the
//! message back, all-or-nothing copyin, dead names, queue limits, port sets,
//! too-large receives, sequence numbers, malformed headers, insert/extract and
//! task death. Each test checks the exact Mach outcome (return codes, rights and
//! reference counts left in every space).
#![allow(clippy::unwrap_used)]

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::notify::{NOTIFY_DEAD_NAME, NOTIFY_SEND_ONCE};
use hurd_ipc::{
    Disposition, IpcKernel, Item, KernReturn, Message, MsgBits, MsgOptions, MsgReturn,
    Notification, NotifyKind, PortName, PortType, QLIMIT_DEFAULT, QLIMIT_MAX, RecvOptions,
    RightType, SpaceId, UREFS_MAX, UserIpc,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A kernel with two spaces.
fn kernel2() -> (IpcKernel, SpaceId, SpaceId) {
    let mut k = IpcKernel::new(0);
    let a = k.create_space();
    let b = k.create_space();
    (k, a, b)
}

/// A new receive right in `space`.
fn port(k: &mut IpcKernel, space: SpaceId) -> PortName {
    k.port_allocate(space, RightType::Receive).unwrap()
}

/// Makes a send right from `owner`'s receive right `name` and gives it to `to`.
fn make_send(k: &mut IpcKernel, owner: SpaceId, name: PortName, to: SpaceId) -> PortName {
    let (n, d) = k
        .port_extract_right(owner, name, Disposition::MakeSend, to)
        .unwrap();
    assert_eq!(d, Disposition::PORT_SEND);
    n
}

/// Makes a send-once right from `owner`'s receive right `name` and gives it to `to`.
fn make_send_once(k: &mut IpcKernel, owner: SpaceId, name: PortName, to: SpaceId) -> PortName {
    let (n, d) = k
        .port_extract_right(owner, name, Disposition::MakeSendOnce, to)
        .unwrap();
    assert_eq!(d, Disposition::PORT_SEND_ONCE);
    n
}

/// Receives one message without waiting.
fn recv(k: &mut IpcKernel, space: SpaceId, name: PortName) -> Message {
    k.receive(space, name, RecvOptions::default(), None)
        .unwrap()
}

/// Receives one message and decodes it as a notification.
fn recv_notification(k: &mut IpcKernel, space: SpaceId, name: PortName) -> Notification {
    let m = recv(k, space, name);
    Notification::parse(&m).unwrap_or_else(|| panic!("not a notification: {m:?}"))
}

/// Asserts nothing is queued on `name`.
fn assert_empty(k: &mut IpcKernel, space: SpaceId, name: PortName) {
    let r = k.receive(space, name, RecvOptions::default(), None);
    assert_eq!(r.map_err(|e| e.code), Err(MsgReturn::RcvTimedOut));
}

/// Everything visible about a space: each name, its type, its send and dead-name
/// references.
fn snapshot(k: &mut IpcKernel, space: SpaceId) -> Vec<(PortName, PortType, u16, u16)> {
    let names = k.port_names(space).unwrap();
    names
        .into_iter()
        .map(|(n, t)| {
            let s = k.port_get_refs(space, n, RightType::Send).unwrap();
            let d = k.port_get_refs(space, n, RightType::DeadName).unwrap();
            (n, t, s, d)
        })
        .collect()
}

/// The send urefs of `name`.
fn srefs(k: &mut IpcKernel, space: SpaceId, name: PortName) -> u16 {
    k.port_get_refs(space, name, RightType::Send).unwrap()
}

/// A plain message to `dest` through a copied send right.
fn msg(id: i32, dest: PortName) -> Message {
    Message::new(id, dest, Disposition::CopySend)
}

/// A message with raw header bits (for malformed-header tests).
fn raw_msg(bits: u32, remote: PortName, local: PortName) -> Message {
    let mut m = Message::new(1, remote, Disposition::CopySend);
    m.header.bits = MsgBits(bits);
    m.header.local = local;
    m
}

/// Fills `dest` (held as a send right `send` in `space`) up to its queue limit.
fn fill_queue(k: &mut IpcKernel, space: SpaceId, send: PortName, n: u16) {
    for i in 0..n {
        k.send(space, msg(i32::from(i), send), None).unwrap();
    }
}

/// Interrupts `task` until the thread `h` returns (an interrupt only reaches a
/// thread already blocked, so one sent too early would be lost), then joins it.
fn interrupt_until_done<T>(task: &Task, h: thread::JoinHandle<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !h.is_finished() {
        assert!(Instant::now() < deadline, "no return after interrupts");
        task.interrupt();
        thread::sleep(Duration::from_millis(5));
    }
    h.join().unwrap()
}

// ---------------------------------------------------------------------------
// User references and names
// ---------------------------------------------------------------------------

#[test]
fn send_urefs_go_up_to_65535_then_overflow() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    assert_eq!(srefs(&mut k, b, s), 1);
    k.port_mod_refs(b, s, RightType::Send, 65534).unwrap();
    assert_eq!(srefs(&mut k, b, s), UREFS_MAX);
    assert_eq!(
        k.port_mod_refs(b, s, RightType::Send, 1),
        Err(KernReturn::UrefsOverflow)
    );
    assert_eq!(srefs(&mut k, b, s), UREFS_MAX);
    // Receiving one more send right for the same port does not overflow: the
    // count stays pegged and the extra right is released.
    k.send(a, Message::new(1, p, Disposition::MakeSend), None)
        .unwrap();
    let q = port(&mut k, b);
    let qs = make_send(&mut k, b, q, a);
    k.send(
        a,
        msg(2, qs).with_item(Item::port(p, Disposition::MakeSend)),
        None,
    )
    .unwrap();
    let m = recv(&mut k, b, q);
    assert_eq!(m.body, vec![Item::port(s, Disposition::PORT_SEND)]);
    assert_eq!(srefs(&mut k, b, s), UREFS_MAX);
    // Dropping all references leaves no send right at all.
    k.port_mod_refs(b, s, RightType::Send, -i32::from(UREFS_MAX))
        .unwrap();
    assert_eq!(k.port_type(b, s), Err(KernReturn::InvalidName));
    // Only the message queued on p still carries a send right.
    assert!(k.port_get_receive_status(a, p).unwrap().srights);
    recv(&mut k, a, p);
    assert!(!k.port_get_receive_status(a, p).unwrap().srights);
}

#[test]
fn send_urefs_underflow_is_invalid_value() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, s, RightType::Send, 2).unwrap();
    assert_eq!(
        k.port_mod_refs(b, s, RightType::Send, -4),
        Err(KernReturn::InvalidValue)
    );
    assert_eq!(srefs(&mut k, b, s), 3);
    k.port_mod_refs(b, s, RightType::Send, -3).unwrap();
    assert_eq!(k.port_type(b, s), Err(KernReturn::InvalidName));
}

#[test]
fn send_and_receive_share_one_name() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    k.port_insert_right(a, p, a, p, Disposition::MakeSend)
        .unwrap();
    assert_eq!(k.port_type(a, p).unwrap(), PortType::SEND_RECEIVE);
    assert_eq!(srefs(&mut k, a, p), 1);
    // A send right for p given to b and sent back arrives under the same name.
    let s = make_send(&mut k, a, p, b);
    let q = port(&mut k, a);
    let qs = make_send(&mut k, a, q, b);
    k.send(
        b,
        msg(1, qs).with_item(Item::port(s, Disposition::MoveSend)),
        None,
    )
    .unwrap();
    let m = recv(&mut k, a, q);
    assert_eq!(m.body, vec![Item::port(p, Disposition::PORT_SEND)]);
    assert_eq!(srefs(&mut k, a, p), 2);
    assert_eq!(k.port_type(a, p).unwrap(), PortType::SEND_RECEIVE);
    assert_eq!(k.port_type(b, s), Err(KernReturn::InvalidName));
    // Extracting a send right into the owner's own space also coalesces.
    let n = make_send(&mut k, a, p, a);
    assert_eq!(n, p);
    assert_eq!(srefs(&mut k, a, p), 3);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().mscount, 3);
}

#[test]
fn each_send_once_right_gets_its_own_name() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let so1 = make_send_once(&mut k, a, p, b);
    let so2 = make_send_once(&mut k, a, p, b);
    let so3 = make_send_once(&mut k, a, p, a);
    assert_ne!(so1, so2);
    assert_ne!(so1, s);
    assert_ne!(so2, s);
    assert_ne!(so3, p);
    for (sp, n) in [(b, so1), (b, so2), (a, so3)] {
        assert_eq!(k.port_type(sp, n).unwrap(), PortType::SEND_ONCE);
        assert_eq!(k.port_get_refs(sp, n, RightType::SendOnce).unwrap(), 1);
        assert_eq!(k.port_get_refs(sp, n, RightType::Send).unwrap(), 0);
    }
    assert_eq!(k.port_get_receive_status(a, p).unwrap().sorights, 3);
    // Send-once rights have exactly one reference.
    assert_eq!(
        k.port_mod_refs(b, so1, RightType::SendOnce, 1),
        Err(KernReturn::InvalidValue)
    );
    k.port_mod_refs(b, so1, RightType::SendOnce, 0).unwrap();
    assert_eq!(k.port_type(b, so1).unwrap(), PortType::SEND_ONCE);
}

#[test]
fn mod_refs_on_missing_right_or_unknown_name() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    assert_eq!(
        k.port_mod_refs(a, p, RightType::Send, 1),
        Err(KernReturn::InvalidRight)
    );
    assert_eq!(
        k.port_mod_refs(b, s, RightType::Receive, -1),
        Err(KernReturn::InvalidRight)
    );
    assert_eq!(
        k.port_mod_refs(b, s, RightType::SendOnce, -1),
        Err(KernReturn::InvalidRight)
    );
    assert_eq!(
        k.port_mod_refs(b, s, RightType::DeadName, 1),
        Err(KernReturn::InvalidRight)
    );
    assert_eq!(
        k.port_mod_refs(b, PortName(0x4242), RightType::Send, 1),
        Err(KernReturn::InvalidName)
    );
    assert_eq!(
        k.port_deallocate(b, PortName(0x4242)),
        Err(KernReturn::InvalidName)
    );
    // Deallocate on a receive-only name is not allowed either.
    assert_eq!(k.port_deallocate(a, p), Err(KernReturn::InvalidRight));
    assert_eq!(k.port_get_refs(a, p, RightType::Receive).unwrap(), 1);
    assert_eq!(
        k.port_get_refs(b, PortName(0x4242), RightType::Send),
        Err(KernReturn::InvalidName)
    );
}

// ---------------------------------------------------------------------------
// Dispositions
// ---------------------------------------------------------------------------

#[test]
fn move_receive_transfers_the_receive_right_and_resets_counters() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    // a: send right to b's port q.
    let q = port(&mut k, b);
    let qs = make_send(&mut k, b, q, a);
    // Activity on p: make-sends, a received message, two queued messages.
    let ps = make_send(&mut k, a, p, b);
    k.send(b, msg(10, ps), None).unwrap();
    assert_eq!(recv(&mut k, a, p).header.seqno, 0);
    k.send(b, msg(11, ps), None).unwrap();
    k.send(b, msg(12, ps), None).unwrap();
    let st = k.port_get_receive_status(a, p).unwrap();
    assert_eq!((st.mscount, st.seqno, st.msgcount), (1, 1, 2));
    let id = st.id;

    k.send(
        a,
        msg(1, qs).with_item(Item::port(p, Disposition::MoveReceive)),
        None,
    )
    .unwrap();
    assert_eq!(k.port_type(a, p), Err(KernReturn::InvalidName));
    assert_eq!(
        k.receive(a, p, RecvOptions::default(), None)
            .unwrap_err()
            .code,
        MsgReturn::RcvInvalidName
    );

    let m = recv(&mut k, b, q);
    let [Item::Port(item)] = m.body.as_slice() else {
        panic!("{m:?}")
    };
    assert_eq!(item.disposition, Disposition::PORT_RECEIVE);
    // b already held a send right for p: the receive right joins that name.
    assert_eq!(item.name, ps);
    assert_eq!(k.port_type(b, ps).unwrap(), PortType::SEND_RECEIVE);
    let st = k.port_get_receive_status(b, ps).unwrap();
    assert_eq!(st.id, id);
    assert_eq!((st.mscount, st.seqno, st.msgcount), (0, 0, 2));
    assert!(st.srights);
    // The queued messages traveled with the port.
    let m = recv(&mut k, b, ps);
    assert_eq!((m.header.id, m.header.seqno, m.header.local), (11, 0, ps));
    let m = recv(&mut k, b, ps);
    assert_eq!((m.header.id, m.header.seqno), (12, 1));
}

#[test]
fn move_receive_into_a_space_without_rights_gives_a_new_name() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let (n, d) = k
        .port_extract_right(a, p, Disposition::MoveReceive, b)
        .unwrap();
    assert_eq!(d, Disposition::PORT_RECEIVE);
    assert_eq!(k.port_type(b, n).unwrap(), PortType::RECEIVE);
    assert_eq!(k.port_type(a, p), Err(KernReturn::InvalidName));
    assert_eq!(k.port_count(), 1);
}

#[test]
fn move_send_takes_one_reference() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, s, RightType::Send, 1).unwrap();
    // Moving the destination right itself.
    k.send(b, Message::new(1, s, Disposition::MoveSend), None)
        .unwrap();
    assert_eq!(srefs(&mut k, b, s), 1);
    k.send(b, Message::new(2, s, Disposition::MoveSend), None)
        .unwrap();
    assert_eq!(k.port_type(b, s), Err(KernReturn::InvalidName));
    // Two messages queued still hold send rights.
    assert!(k.port_get_receive_status(a, p).unwrap().srights);
    let m = recv(&mut k, a, p);
    assert_eq!(m.header.bits.local(), Some(Disposition::PORT_SEND));
    recv(&mut k, a, p);
    assert!(!k.port_get_receive_status(a, p).unwrap().srights);
}

#[test]
fn move_send_in_body_delivers_a_send_right() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let x = port(&mut k, a);
    let c = k.create_space();
    let xs = make_send(&mut k, a, x, b);
    let ps = make_send(&mut k, a, p, b);
    k.send(
        b,
        msg(1, ps).with_item(Item::port(xs, Disposition::MoveSend)),
        None,
    )
    .unwrap();
    assert_eq!(k.port_type(b, xs), Err(KernReturn::InvalidName));
    // a holds x's receive right: the send right joins that name.
    let m = recv(&mut k, a, p);
    assert_eq!(m.body, vec![Item::port(x, Disposition::PORT_SEND)]);
    assert_eq!(k.port_type(a, x).unwrap(), PortType::SEND_RECEIVE);
    // Move it on to c.
    let cp = port(&mut k, c);
    let cps = make_send(&mut k, c, cp, a);
    k.send(
        a,
        msg(2, cps).with_item(Item::port(x, Disposition::MoveSend)),
        None,
    )
    .unwrap();
    assert_eq!(k.port_type(a, x).unwrap(), PortType::RECEIVE);
    let m = recv(&mut k, c, cp);
    let [Item::Port(item)] = m.body.as_slice() else {
        panic!()
    };
    assert_eq!(k.port_type(c, item.name).unwrap(), PortType::SEND);
    assert_eq!(k.port_id(c, item.name).unwrap(), k.port_id(a, x).unwrap());
}

#[test]
fn move_send_once_frees_the_name() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let reply = port(&mut k, a);
    let ps = make_send(&mut k, a, p, b);
    let so = make_send_once(&mut k, a, reply, b);
    // As the reply right of a request.
    k.send(
        b,
        msg(1, ps).with_reply(so, Disposition::MoveSendOnce),
        None,
    )
    .unwrap();
    assert_eq!(k.port_type(b, so), Err(KernReturn::InvalidName));
    let m = recv(&mut k, a, p);
    assert_eq!(m.header.bits.remote(), Some(Disposition::PORT_SEND_ONCE));
    assert_eq!(
        k.port_type(a, m.header.remote).unwrap(),
        PortType::SEND_ONCE
    );
    // Reply through it: the send-once right is used up.
    k.send(
        a,
        Message::new(101, m.header.remote, Disposition::MoveSendOnce),
        None,
    )
    .unwrap();
    assert_eq!(
        k.port_type(a, m.header.remote),
        Err(KernReturn::InvalidName)
    );
    let r = recv(&mut k, a, reply);
    assert_eq!(r.header.id, 101);
    assert_eq!(r.header.bits.local(), Some(Disposition::PORT_SEND_ONCE));
    assert_eq!(k.port_get_receive_status(a, reply).unwrap().sorights, 0);
    // In the body.
    let so2 = make_send_once(&mut k, a, reply, b);
    k.send(
        b,
        msg(2, ps).with_item(Item::port(so2, Disposition::MoveSendOnce)),
        None,
    )
    .unwrap();
    assert_eq!(k.port_type(b, so2), Err(KernReturn::InvalidName));
    let m = recv(&mut k, a, p);
    let [Item::Port(item)] = m.body.as_slice() else {
        panic!()
    };
    assert_eq!(item.disposition, Disposition::PORT_SEND_ONCE);
    assert_eq!(k.port_type(a, item.name).unwrap(), PortType::SEND_ONCE);
    assert_ne!(item.name, reply);
}

#[test]
fn copy_send_keeps_the_senders_reference() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let x = port(&mut k, a);
    let ps = make_send(&mut k, a, p, b);
    let xs = make_send(&mut k, a, x, b);
    k.send(
        b,
        msg(1, ps).with_item(Item::port(xs, Disposition::CopySend)),
        None,
    )
    .unwrap();
    assert_eq!(srefs(&mut k, b, ps), 1);
    assert_eq!(srefs(&mut k, b, xs), 1);
    let m = recv(&mut k, a, p);
    assert_eq!(m.body, vec![Item::port(x, Disposition::PORT_SEND)]);
    assert_eq!(srefs(&mut k, a, x), 1);
    // Copy-send does not touch the make-send count.
    assert_eq!(k.port_get_receive_status(a, x).unwrap().mscount, 1);
}

#[test]
fn make_send_increments_mscount() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let q = port(&mut k, b);
    let qs = make_send(&mut k, b, q, a);
    let st = k.port_get_receive_status(a, p).unwrap();
    assert_eq!((st.mscount, st.srights), (0, false));
    for i in 1..=3 {
        k.send(
            a,
            msg(i, qs).with_item(Item::port(p, Disposition::MakeSend)),
            None,
        )
        .unwrap();
        let st = k.port_get_receive_status(a, p).unwrap();
        assert_eq!(st.mscount, i as u32);
        assert!(st.srights);
    }
    // a itself holds no send right.
    assert_eq!(k.port_type(a, p).unwrap(), PortType::RECEIVE);
    let mut name = PortName::NULL;
    for _ in 0..3 {
        let m = recv(&mut k, b, q);
        let [Item::Port(item)] = m.body.as_slice() else {
            panic!()
        };
        assert_eq!(item.disposition, Disposition::PORT_SEND);
        if name.is_null() {
            name = item.name;
        }
        assert_eq!(item.name, name);
    }
    assert_eq!(srefs(&mut k, b, name), 3);
    // MakeSend as the destination disposition counts too.
    k.send(a, Message::new(9, p, Disposition::MakeSend), None)
        .unwrap();
    assert_eq!(k.port_get_receive_status(a, p).unwrap().mscount, 4);
    // Only a receive right can make send rights.
    assert_eq!(
        k.send(b, Message::new(9, name, Disposition::MakeSend), None)
            .unwrap_err()
            .code,
        MsgReturn::SendInvalidDest
    );
}

#[test]
fn make_send_once_counts_send_once_rights() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let q = port(&mut k, b);
    let qs = make_send(&mut k, b, q, a);
    k.send(
        a,
        msg(1, qs).with_item(Item::port(p, Disposition::MakeSendOnce)),
        None,
    )
    .unwrap();
    let st = k.port_get_receive_status(a, p).unwrap();
    assert_eq!((st.sorights, st.mscount, st.srights), (1, 0, false));
    let m = recv(&mut k, b, q);
    let [Item::Port(item)] = m.body.as_slice() else {
        panic!()
    };
    assert_eq!(item.disposition, Disposition::PORT_SEND_ONCE);
    assert_eq!(k.port_type(b, item.name).unwrap(), PortType::SEND_ONCE);
    k.send(
        b,
        Message::new(2, item.name, Disposition::MoveSendOnce),
        None,
    )
    .unwrap();
    assert_eq!(k.port_get_receive_status(a, p).unwrap().sorights, 1);
    recv(&mut k, a, p);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().sorights, 0);
}

// ---------------------------------------------------------------------------
// Failed sends hand the message back
// ---------------------------------------------------------------------------

/// Sets up space `a` with: a send right to b's full port `dest`, a send right `x`
/// with one reference, a receive right `r`, a send-once right `so`. Returns the
/// message moving all three.
fn hand_back_setup(k: &mut IpcKernel, a: SpaceId, b: SpaceId) -> (PortName, Message) {
    let q = port(k, b);
    let dest = make_send(k, b, q, a);
    fill_queue(k, a, dest, QLIMIT_DEFAULT);
    let xp = port(k, b);
    let x = make_send(k, b, xp, a);
    let r = port(k, a);
    let sop = port(k, b);
    let so = make_send_once(k, b, sop, a);
    let m = msg(77, dest)
        .with_item(Item::U32(5))
        .with_item(Item::port(x, Disposition::MoveSend))
        .with_item(Item::port(r, Disposition::MoveReceive))
        .with_item(Item::port(so, Disposition::MoveSendOnce))
        .with_item(Item::Bytes(vec![1, 2, 3]));
    (q, m)
}

#[test]
fn send_to_full_queue_hands_the_message_back_intact() {
    let (mut k, a, b) = kernel2();
    let (q, m) = hand_back_setup(&mut k, a, b);
    let before = snapshot(&mut k, a);
    let ports = k.port_count();
    let err = k.send(a, m.clone(), None).unwrap_err();
    assert_eq!(err.code, MsgReturn::SendTimedOut);
    assert!(err.code.hands_back_message());
    assert_eq!(err.message, m);
    assert_eq!(snapshot(&mut k, a), before);
    assert_eq!(k.port_count(), ports);
    // The rights really are usable: once there is room the same message goes.
    recv(&mut k, b, q);
    k.send(a, err.message, None).unwrap();
    let Item::Port(x) = &m.body[1] else { panic!() };
    assert_eq!(k.port_type(a, x.name), Err(KernReturn::InvalidName));
}

#[test]
fn hosted_send_timeout_hands_the_message_back() {
    let rt = Runtime::new();
    let a = rt.task();
    let b = rt.task();
    let (q, m) = rt.with_kernel(|k| hand_back_setup(k, a.space(), b.space()));
    let before = rt.with_kernel(|k| snapshot(k, a.space()));
    let opts = MsgOptions {
        send_timeout: Some(Duration::from_millis(20)),
        ..MsgOptions::default()
    };
    let t0 = Instant::now();
    let err = a.mach_msg(Some(m.clone()), None, &opts).unwrap_err();
    assert!(t0.elapsed() >= Duration::from_millis(20));
    let hurd_ipc::MachMsgError::Send(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(err.code, MsgReturn::SendTimedOut);
    assert_eq!(err.message, m);
    assert_eq!(rt.with_kernel(|k| snapshot(k, a.space())), before);
    assert_eq!(
        b.port_get_receive_status(q).unwrap().msgcount,
        u32::from(QLIMIT_DEFAULT)
    );
}

#[test]
fn hosted_send_interrupted_hands_the_message_back() {
    let rt = Runtime::new();
    let a = rt.task();
    let b = rt.task();
    let (q, m) = rt.with_kernel(|k| hand_back_setup(k, a.space(), b.space()));
    let before = rt.with_kernel(|k| snapshot(k, a.space()));
    let a2 = a.clone();
    let m2 = m.clone();
    let h = thread::spawn(move || {
        let opts = MsgOptions {
            send_interrupt: true,
            ..MsgOptions::default()
        };
        a2.mach_msg(Some(m2), None, &opts)
    });
    thread::sleep(Duration::from_millis(30));
    assert!(!h.is_finished(), "the send should be blocked");
    let err = interrupt_until_done(&a, h).unwrap_err();
    let hurd_ipc::MachMsgError::Send(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(err.code, MsgReturn::SendInterrupted);
    assert_eq!(err.message, m);
    assert_eq!(rt.with_kernel(|k| snapshot(k, a.space())), before);
    assert_eq!(
        b.port_get_receive_status(q).unwrap().msgcount,
        u32::from(QLIMIT_DEFAULT)
    );
}

// ---------------------------------------------------------------------------
// All-or-nothing copyin
// ---------------------------------------------------------------------------

#[test]
fn invalid_third_body_right_takes_nothing() {
    let (mut k, a, b) = kernel2();
    let q = port(&mut k, b);
    let dest = make_send(&mut k, b, q, a);
    let xp = port(&mut k, b);
    let x = make_send(&mut k, b, xp, a);
    let r = port(&mut k, a);
    let before = snapshot(&mut k, a);
    let m = msg(1, dest)
        .with_item(Item::port(x, Disposition::MoveSend))
        .with_item(Item::port(r, Disposition::MoveReceive))
        .with_item(Item::port(PortName(0x7777), Disposition::CopySend));
    let err = k.send(a, m.clone(), None).unwrap_err();
    assert_eq!(err.code, MsgReturn::SendInvalidRight);
    assert_eq!(err.message, m);
    assert_eq!(snapshot(&mut k, a), before);
    assert_eq!(srefs(&mut k, a, x), 1);
    assert_eq!(k.port_type(a, r).unwrap(), PortType::RECEIVE);
    assert_eq!(k.port_get_receive_status(b, q).unwrap().msgcount, 0);
    // A third item naming a right the name does not hold fails the same way.
    let m = msg(1, dest)
        .with_item(Item::port(x, Disposition::MoveSend))
        .with_item(Item::port(r, Disposition::MoveReceive))
        .with_item(Item::port(x, Disposition::MakeSend));
    assert_eq!(
        k.send(a, m, None).unwrap_err().code,
        MsgReturn::SendInvalidRight
    );
    assert_eq!(snapshot(&mut k, a), before);
}

#[test]
fn same_name_moved_twice_with_one_reference_takes_nothing() {
    let (mut k, a, b) = kernel2();
    let q = port(&mut k, b);
    let dest = make_send(&mut k, b, q, a);
    let xp = port(&mut k, b);
    let x = make_send(&mut k, b, xp, a);
    let before = snapshot(&mut k, a);
    let m = msg(1, dest)
        .with_item(Item::port(x, Disposition::MoveSend))
        .with_item(Item::port(x, Disposition::MoveSend));
    assert_eq!(
        k.send(a, m, None).unwrap_err().code,
        MsgReturn::SendInvalidRight
    );
    assert_eq!(snapshot(&mut k, a), before);
    // With two references both moves succeed and the name goes away.
    k.port_mod_refs(a, x, RightType::Send, 1).unwrap();
    let m = msg(1, dest)
        .with_item(Item::port(x, Disposition::MoveSend))
        .with_item(Item::port(x, Disposition::MoveSend));
    k.send(a, m, None).unwrap();
    assert_eq!(k.port_type(a, x), Err(KernReturn::InvalidName));
    let m = recv(&mut k, b, q);
    assert_eq!(
        m.body,
        vec![
            Item::port(xp, Disposition::PORT_SEND),
            Item::port(xp, Disposition::PORT_SEND)
        ]
    );
    assert_eq!(srefs(&mut k, b, xp), 2);
    // Moving the destination's own last reference in the body as well fails.
    let m = Message::new(1, dest, Disposition::MoveSend)
        .with_item(Item::port(dest, Disposition::MoveSend));
    assert_eq!(
        k.send(a, m, None).unwrap_err().code,
        MsgReturn::SendInvalidRight
    );
    assert_eq!(srefs(&mut k, a, dest), 1);
}

// ---------------------------------------------------------------------------
// Dead names
// ---------------------------------------------------------------------------

#[test]
fn destroyed_receive_right_turns_send_rights_into_dead_names() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, s, RightType::Send, 4).unwrap();
    let so = make_send_once(&mut k, a, p, b);
    k.port_mod_refs(a, p, RightType::Receive, -1).unwrap();
    assert_eq!(k.port_type(a, p), Err(KernReturn::InvalidName));
    assert_eq!(k.port_type(b, s).unwrap(), PortType::DEAD_NAME);
    assert_eq!(k.port_get_refs(b, s, RightType::DeadName).unwrap(), 5);
    assert_eq!(k.port_get_refs(b, s, RightType::Send).unwrap(), 0);
    assert_eq!(k.port_type(b, so).unwrap(), PortType::DEAD_NAME);
    assert_eq!(k.port_get_refs(b, so, RightType::DeadName).unwrap(), 1);
    // Sending to a dead name.
    for d in [Disposition::CopySend, Disposition::MoveSend] {
        let err = k.send(b, Message::new(1, s, d), None).unwrap_err();
        assert_eq!(err.code, MsgReturn::SendInvalidDest);
    }
    assert_eq!(
        k.send(b, Message::new(1, so, Disposition::MoveSendOnce), None)
            .unwrap_err()
            .code,
        MsgReturn::SendInvalidDest
    );
    assert_eq!(k.port_get_refs(b, s, RightType::DeadName).unwrap(), 5);
    // Dead names are released like send rights.
    k.port_deallocate(b, s).unwrap();
    assert_eq!(k.port_get_refs(b, s, RightType::DeadName).unwrap(), 4);
    k.port_mod_refs(b, s, RightType::DeadName, -4).unwrap();
    k.port_deallocate(b, so).unwrap();
    assert_eq!(k.port_names(b).unwrap(), vec![]);
    assert_eq!(k.port_count(), 0);
}

#[test]
fn dead_names_travel_as_dead() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.port_mod_refs(b, s, RightType::Send, 1).unwrap();
    k.port_destroy(a, p).unwrap();
    let q = port(&mut k, a);
    let qs = make_send(&mut k, a, q, b);
    k.send(
        b,
        msg(1, qs)
            .with_item(Item::port(s, Disposition::CopySend))
            .with_item(Item::port(s, Disposition::MoveSend))
            .with_item(Item::port(PortName::DEAD, Disposition::MoveSend))
            .with_item(Item::port(PortName::NULL, Disposition::MoveSend)),
        None,
    )
    .unwrap();
    // Moving a dead name took one of its references.
    assert_eq!(k.port_get_refs(b, s, RightType::DeadName).unwrap(), 1);
    let m = recv(&mut k, a, q);
    let names: Vec<PortName> = m
        .body
        .iter()
        .map(|i| match i {
            Item::Port(p) => p.name,
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        names,
        vec![
            PortName::DEAD,
            PortName::DEAD,
            PortName::DEAD,
            PortName::NULL
        ]
    );
}

#[test]
fn send_right_in_flight_to_a_dying_port_arrives_dead() {
    let (mut k, a, b) = kernel2();
    let c = k.create_space();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let q = port(&mut k, c);
    let qs = make_send(&mut k, c, q, b);
    k.send(
        b,
        msg(1, qs).with_item(Item::port(s, Disposition::MoveSend)),
        None,
    )
    .unwrap();
    k.port_destroy(a, p).unwrap();
    // The port object lives while the message refers to it.
    assert_eq!(k.port_count(), 2);
    let m = recv(&mut k, c, q);
    assert_eq!(
        m.body,
        vec![Item::port(PortName::DEAD, Disposition::PORT_SEND)]
    );
    assert_eq!(k.port_count(), 1);
    assert_eq!(k.port_names(c).unwrap(), vec![(q, PortType::RECEIVE)]);
}

// ---------------------------------------------------------------------------
// Queue limits
// ---------------------------------------------------------------------------

#[test]
fn queue_limit_default_is_five() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    assert_eq!(
        k.port_get_receive_status(a, p).unwrap().qlimit,
        QLIMIT_DEFAULT
    );
    assert_eq!(QLIMIT_DEFAULT, 5);
    fill_queue(&mut k, b, s, 5);
    let err = k.send(b, msg(6, s), None).unwrap_err();
    assert_eq!(err.code, MsgReturn::SendTimedOut);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().msgcount, 5);
    // Send-once rights ignore the limit.
    for i in 0..3 {
        let so = make_send_once(&mut k, a, p, b);
        k.send(
            b,
            Message::new(100 + i, so, Disposition::MoveSendOnce),
            None,
        )
        .unwrap();
    }
    k.send(a, Message::new(200, p, Disposition::MakeSendOnce), None)
        .unwrap();
    assert_eq!(k.port_get_receive_status(a, p).unwrap().msgcount, 9);
    let ids: Vec<i32> = (0..9).map(|_| recv(&mut k, a, p).header.id).collect();
    assert_eq!(ids, vec![0, 1, 2, 3, 4, 100, 101, 102, 200]);
}

#[test]
fn set_qlimit_bounds_and_effect() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    assert_eq!(
        k.port_set_qlimit(a, p, QLIMIT_MAX + 1),
        Err(KernReturn::InvalidValue)
    );
    assert_eq!(k.port_set_qlimit(b, s, 10), Err(KernReturn::InvalidRight));
    fill_queue(&mut k, b, s, 5);
    assert_eq!(
        k.send(b, msg(5, s), None).unwrap_err().code,
        MsgReturn::SendTimedOut
    );
    k.port_set_qlimit(a, p, QLIMIT_MAX).unwrap();
    assert_eq!(k.port_get_receive_status(a, p).unwrap().qlimit, QLIMIT_MAX);
    for i in 5..16 {
        k.send(b, msg(i, s), None).unwrap();
    }
    assert_eq!(
        k.send(b, msg(16, s), None).unwrap_err().code,
        MsgReturn::SendTimedOut
    );
    // A limit of zero blocks every send through a send right.
    let q = port(&mut k, a);
    let qs = make_send(&mut k, a, q, b);
    k.port_set_qlimit(a, q, 0).unwrap();
    assert_eq!(
        k.send(b, msg(0, qs), None).unwrap_err().code,
        MsgReturn::SendTimedOut
    );
}

#[test]
fn hosted_blocked_sender_unblocks_when_receiver_dequeues() {
    let rt = Runtime::new();
    let server = rt.task();
    let client = rt.task();
    let p = server.port_allocate(RightType::Receive).unwrap();
    let s = server
        .give_right(p, Disposition::MakeSend, &client)
        .unwrap();
    for i in 0..5 {
        client.send(msg(i, s)).unwrap();
    }
    let c2 = client.clone();
    let h = thread::spawn(move || c2.send(msg(5, s)).map_err(|e| e.code));
    thread::sleep(Duration::from_millis(30));
    assert!(!h.is_finished(), "the sixth send should block");
    assert_eq!(server.receive(p).unwrap().header.id, 0);
    h.join().unwrap().unwrap();
    let ids: Vec<i32> = (0..5)
        .map(|_| server.receive(p).unwrap().header.id)
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
}

#[test]
fn hosted_raising_qlimit_unblocks_senders() {
    let rt = Runtime::new();
    let server = rt.task();
    let client = rt.task();
    let p = server.port_allocate(RightType::Receive).unwrap();
    let s = server
        .give_right(p, Disposition::MakeSend, &client)
        .unwrap();
    for i in 0..5 {
        client.send(msg(i, s)).unwrap();
    }
    let c2 = client.clone();
    let h = thread::spawn(move || c2.send(msg(5, s)).map_err(|e| e.code));
    thread::sleep(Duration::from_millis(20));
    assert!(!h.is_finished());
    server.port_set_qlimit(p, 6).unwrap();
    h.join().unwrap().unwrap();
    assert_eq!(server.port_get_receive_status(p).unwrap().msgcount, 6);
}

#[test]
fn hosted_blocked_sender_fails_when_the_port_dies() {
    let rt = Runtime::new();
    let server = rt.task();
    let client = rt.task();
    let p = server.port_allocate(RightType::Receive).unwrap();
    let s = server
        .give_right(p, Disposition::MakeSend, &client)
        .unwrap();
    for i in 0..5 {
        client.send(msg(i, s)).unwrap();
    }
    let c2 = client.clone();
    let h = thread::spawn(move || {
        c2.send(msg(5, s))
            .map_err(|e| (e.code, e.message.header.id))
    });
    thread::sleep(Duration::from_millis(20));
    server.port_destroy(p).unwrap();
    assert_eq!(h.join().unwrap(), Err((MsgReturn::SendInvalidDest, 5)));
    assert_eq!(client.port_type(s).unwrap(), PortType::DEAD_NAME);
}

// ---------------------------------------------------------------------------
// Port sets
// ---------------------------------------------------------------------------

#[test]
fn port_set_receives_from_every_member() {
    let (mut k, a, b) = kernel2();
    let set = k.port_allocate(a, RightType::PortSet).unwrap();
    assert_eq!(k.port_type(a, set).unwrap(), PortType::PORT_SET);
    let p1 = port(&mut k, a);
    let p2 = port(&mut k, a);
    k.port_move_member(a, p1, set).unwrap();
    k.port_move_member(a, p2, set).unwrap();
    assert_eq!(k.port_get_receive_status(a, p1).unwrap().pset, set);
    let s1 = make_send(&mut k, a, p1, b);
    let s2 = make_send(&mut k, a, p2, b);
    assert_empty(&mut k, a, set);
    k.send(b, msg(1, s1), None).unwrap();
    k.send(b, msg(2, s2), None).unwrap();
    let mut got: Vec<(i32, PortName)> = (0..2)
        .map(|_| {
            let m = recv(&mut k, a, set);
            (m.header.id, m.header.local)
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![(1, p1), (2, p2)]);
    assert_empty(&mut k, a, set);
    // A member cannot be received on directly.
    k.send(b, msg(3, s1), None).unwrap();
    assert_eq!(
        k.receive(a, p1, RecvOptions::default(), None)
            .unwrap_err()
            .code,
        MsgReturn::RcvInSet
    );
    // Taking it out of the set (NULL) makes it receivable again; the set no longer
    // sees it.
    k.port_move_member(a, p1, PortName::NULL).unwrap();
    assert_eq!(
        k.port_get_receive_status(a, p1).unwrap().pset,
        PortName::NULL
    );
    assert_empty(&mut k, a, set);
    assert_eq!(recv(&mut k, a, p1).header.id, 3);
    assert_eq!(
        k.port_move_member(a, p1, PortName::NULL),
        Err(KernReturn::NotInSet)
    );
    // Moving into a name that is not a set, or moving a non-receive right.
    assert_eq!(k.port_move_member(a, p1, p2), Err(KernReturn::InvalidRight));
    assert_eq!(
        k.port_move_member(b, s1, PortName::NULL),
        Err(KernReturn::InvalidRight)
    );
    // A member moves straight from one set to another.
    let set2 = k.port_allocate(a, RightType::PortSet).unwrap();
    k.port_move_member(a, p2, set2).unwrap();
    k.send(b, msg(4, s2), None).unwrap();
    assert_empty(&mut k, a, set);
    assert_eq!(recv(&mut k, a, set2).header.local, p2);
}

#[test]
fn port_set_serves_members_round_robin() {
    let (mut k, a, b) = kernel2();
    let set = k.port_allocate(a, RightType::PortSet).unwrap();
    let members: Vec<PortName> = (0..3).map(|_| port(&mut k, a)).collect();
    let mut sends = Vec::new();
    for &m in &members {
        k.port_move_member(a, m, set).unwrap();
        k.port_set_qlimit(a, m, QLIMIT_MAX).unwrap();
        sends.push(make_send(&mut k, a, m, b));
    }
    // Keep every member non-empty throughout; all must be served in any window
    // of `members.len()` receives.
    for &s in &sends {
        fill_queue(&mut k, b, s, 8);
    }
    let mut served = Vec::new();
    for _ in 0..12 {
        let m = recv(&mut k, a, set);
        served.push(m.header.local);
        let i = members.iter().position(|&p| p == m.header.local).unwrap();
        k.send(b, msg(0, sends[i]), None).unwrap();
    }
    for w in served.windows(members.len()) {
        for m in &members {
            assert!(w.contains(m), "member {m:?} starved in {served:?}");
        }
    }
}

#[test]
fn a_large_set_serves_members_in_the_order_their_messages_came() {
    let (mut k, a, b) = kernel2();
    let set = k.port_allocate(a, RightType::PortSet).unwrap();
    let members: Vec<PortName> = (0..2000).map(|_| port(&mut k, a)).collect();
    let mut sends = Vec::new();
    for &m in &members {
        k.port_move_member(a, m, set).unwrap();
        sends.push(make_send(&mut k, a, m, b));
    }
    // As GNU Mach's set queue: messages come out in the order they arrived,
    // whichever members they are on.
    let order = [1500, 7, 1999, 0, 900];
    for (id, &i) in order.iter().enumerate() {
        k.send(b, msg(id as i32, sends[i]), None).unwrap();
    }
    for (id, &i) in order.iter().enumerate() {
        let m = recv(&mut k, a, set);
        assert_eq!((m.header.id, m.header.local), (id as i32, members[i]));
    }
    assert_empty(&mut k, a, set);
    // A member with a message leaves the set: its message stays with it;
    // one joining with a message is served.
    k.send(b, msg(10, sends[5]), None).unwrap();
    k.port_move_member(a, members[5], PortName::NULL).unwrap();
    assert_empty(&mut k, a, set);
    k.port_move_member(a, members[5], set).unwrap();
    assert_eq!(recv(&mut k, a, set).header.id, 10);
    assert_empty(&mut k, a, set);
}

#[test]
fn destroying_a_set_frees_members() {
    let (mut k, a, b) = kernel2();
    let set = k.port_allocate(a, RightType::PortSet).unwrap();
    let p = port(&mut k, a);
    k.port_move_member(a, p, set).unwrap();
    let s = make_send(&mut k, a, p, b);
    k.send(b, msg(1, s), None).unwrap();
    k.port_destroy(a, set).unwrap();
    assert_eq!(k.port_type(a, set), Err(KernReturn::InvalidName));
    assert_eq!(
        k.port_get_receive_status(a, p).unwrap().pset,
        PortName::NULL
    );
    assert_eq!(recv(&mut k, a, p).header.id, 1);
    // A set also goes away with mod_refs -1.
    let set = k.port_allocate(a, RightType::PortSet).unwrap();
    k.port_move_member(a, p, set).unwrap();
    k.port_mod_refs(a, set, RightType::PortSet, -1).unwrap();
    assert_eq!(
        k.port_move_member(a, p, PortName::NULL),
        Err(KernReturn::NotInSet)
    );
    // A member whose receive right dies leaves the set.
    let set = k.port_allocate(a, RightType::PortSet).unwrap();
    k.port_move_member(a, p, set).unwrap();
    k.port_destroy(a, p).unwrap();
    assert_empty(&mut k, a, set);
}

#[test]
fn hosted_destroying_a_set_wakes_its_receiver_with_an_error() {
    let rt = Runtime::new();
    let t = rt.task();
    let set = t.port_allocate(RightType::PortSet).unwrap();
    let p = t.port_allocate(RightType::Receive).unwrap();
    t.port_move_member(p, set).unwrap();
    let t2 = t.clone();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let r = t2.receive(set).map(|m| m.header.id).map_err(|e| e.code);
        tx.send(r).unwrap();
    });
    thread::sleep(Duration::from_millis(30));
    t.port_destroy(set).unwrap();
    let r = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("receive on a destroyed set hung");
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn hosted_receiver_on_set_wakes_when_a_member_joins_with_messages() {
    let rt = Runtime::new();
    let t = rt.task();
    let set = t.port_allocate(RightType::PortSet).unwrap();
    let p = t.port_allocate(RightType::Receive).unwrap();
    t.send(Message::new(5, p, Disposition::MakeSend)).unwrap();
    let t2 = t.clone();
    let h = thread::spawn(move || t2.receive(set).map(|m| (m.header.id, m.header.local)));
    thread::sleep(Duration::from_millis(20));
    t.port_move_member(p, set).unwrap();
    assert_eq!(h.join().unwrap().unwrap(), (5, p));
}

// ---------------------------------------------------------------------------
// Too-large messages, sequence numbers, invalid receive names
// ---------------------------------------------------------------------------

#[test]
fn too_large_with_large_keeps_the_message_queued() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let m = msg(1, s).with_item(Item::Bytes(vec![0; 100]));
    let size = m.wire_size();
    k.send(b, m, None).unwrap();
    let err = k
        .receive(
            a,
            p,
            RecvOptions {
                max_size: Some(size - 1),
                large: true,
            },
            None,
        )
        .unwrap_err();
    assert_eq!(err.code, MsgReturn::RcvTooLarge);
    assert_eq!(err.size, size);
    let st = k.port_get_receive_status(a, p).unwrap();
    assert_eq!((st.msgcount, st.seqno), (1, 0));
    // Exactly the size fits.
    let m = k
        .receive(
            a,
            p,
            RecvOptions {
                max_size: Some(size),
                large: true,
            },
            None,
        )
        .unwrap();
    assert_eq!(m.header.id, 1);
    assert_eq!(u64::from(m.header.size), size);
}

#[test]
fn too_large_without_large_destroys_the_message_and_its_rights() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let x = port(&mut k, b);
    let n = port(&mut k, b);
    // b asks for no-senders on x (sync 1: none made yet), then gives away x's
    // only send right in a message to p.
    k.request_notification(b, x, NotifyKind::NoSenders, 1, n, Disposition::MakeSendOnce)
        .unwrap();
    k.send(
        b,
        msg(1, s)
            .with_item(Item::port(x, Disposition::MakeSend))
            .with_item(Item::Bytes(vec![0; 64])),
        None,
    )
    .unwrap();
    k.send(b, msg(2, s), None).unwrap();
    assert_empty(&mut k, b, n);
    let err = k
        .receive(
            a,
            p,
            RecvOptions {
                max_size: Some(32),
                large: false,
            },
            None,
        )
        .unwrap_err();
    assert_eq!(err.code, MsgReturn::RcvTooLarge);
    // Dequeued and destroyed: the send right inside is gone.
    assert_eq!(recv_notification(&mut k, b, n), Notification::NoSenders(1));
    assert!(!k.port_get_receive_status(b, x).unwrap().srights);
    assert_eq!(k.port_names(a).unwrap(), vec![(p, PortType::RECEIVE)]);
    let m = recv(&mut k, a, p);
    assert_eq!(m.header.id, 2);
}

#[test]
fn seqno_counts_dequeued_messages() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    fill_queue(&mut k, b, s, 3);
    for i in 0..3 {
        assert_eq!(recv(&mut k, a, p).header.seqno, i);
    }
    assert_eq!(k.port_get_receive_status(a, p).unwrap().seqno, 3);
    k.port_set_seqno(a, p, 1000).unwrap();
    fill_queue(&mut k, b, s, 2);
    assert_eq!(recv(&mut k, a, p).header.seqno, 1000);
    assert_eq!(recv(&mut k, a, p).header.seqno, 1001);
    assert_eq!(k.port_set_seqno(b, s, 0), Err(KernReturn::InvalidRight));
    // A failed (empty) receive does not advance it.
    assert_empty(&mut k, a, p);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().seqno, 1002);
    // Through a set, too.
    let set = k.port_allocate(a, RightType::PortSet).unwrap();
    k.port_move_member(a, p, set).unwrap();
    fill_queue(&mut k, b, s, 1);
    assert_eq!(recv(&mut k, a, set).header.seqno, 1002);
}

#[test]
fn receive_on_a_non_receive_name_is_invalid_name() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    let so = make_send_once(&mut k, a, p, b);
    let dead = k.port_allocate(b, RightType::DeadName).unwrap();
    for n in [
        s,
        so,
        dead,
        PortName(0x5151),
        PortName::NULL,
        PortName::DEAD,
    ] {
        let err = k.receive(b, n, RecvOptions::default(), None).unwrap_err();
        assert_eq!(err.code, MsgReturn::RcvInvalidName, "{n:?}");
    }
}

// ---------------------------------------------------------------------------
// Malformed messages
// ---------------------------------------------------------------------------

#[test]
fn malformed_headers_have_exact_codes_and_change_nothing() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, b);
    let s = make_send(&mut k, b, p, a);
    let r = port(&mut k, a);
    let so = make_send_once(&mut k, b, p, a);
    let dead = k.port_allocate(a, RightType::DeadName).unwrap();
    let (cs, ms, mso, mr, mks, mkso) = (19u32, 17u32, 18u32, 16u32, 20u32, 21u32);
    let cases: Vec<(&str, Message, MsgReturn)> = vec![
        (
            "unknown header bits",
            raw_msg(cs | 0x0001_0000, s, PortName::NULL),
            MsgReturn::SendInvalidHeader,
        ),
        (
            "remote disposition 0",
            raw_msg(0, s, PortName::NULL),
            MsgReturn::SendInvalidHeader,
        ),
        (
            "remote disposition not a port type",
            raw_msg(2, s, PortName::NULL),
            MsgReturn::SendInvalidHeader,
        ),
        (
            "remote disposition MoveReceive",
            raw_msg(mr, r, PortName::NULL),
            MsgReturn::SendInvalidHeader,
        ),
        (
            "local port without a disposition",
            raw_msg(cs, s, r),
            MsgReturn::SendInvalidHeader,
        ),
        (
            "local disposition not a port type",
            raw_msg(cs | (9 << 8), s, r),
            MsgReturn::SendInvalidHeader,
        ),
        (
            "local disposition MoveReceive",
            raw_msg(cs | (mr << 8), s, r),
            MsgReturn::SendInvalidHeader,
        ),
        (
            "dest NULL",
            raw_msg(cs, PortName::NULL, PortName::NULL),
            MsgReturn::SendInvalidDest,
        ),
        (
            "dest DEAD",
            raw_msg(cs, PortName::DEAD, PortName::NULL),
            MsgReturn::SendInvalidDest,
        ),
        (
            "dest unknown",
            raw_msg(cs, PortName(0x999), PortName::NULL),
            MsgReturn::SendInvalidDest,
        ),
        (
            "dest a dead name",
            raw_msg(cs, dead, PortName::NULL),
            MsgReturn::SendInvalidDest,
        ),
        (
            "dest make-send without receive right",
            raw_msg(mks, s, PortName::NULL),
            MsgReturn::SendInvalidDest,
        ),
        (
            "dest move-send-once on a send right",
            raw_msg(mso, s, PortName::NULL),
            MsgReturn::SendInvalidDest,
        ),
        (
            "dest copy-send on a receive right",
            raw_msg(cs, r, PortName::NULL),
            MsgReturn::SendInvalidDest,
        ),
        (
            "reply unknown",
            raw_msg(cs | (mkso << 8), s, PortName(0x999)),
            MsgReturn::SendInvalidReply,
        ),
        (
            "reply make-send-once on a send right",
            raw_msg(cs | (mkso << 8), s, s),
            MsgReturn::SendInvalidReply,
        ),
        (
            "reply move-send on a receive right",
            raw_msg(cs | (ms << 8), s, r),
            MsgReturn::SendInvalidReply,
        ),
        (
            "reply copy-send on a send-once right",
            raw_msg(cs | (cs << 8), s, so),
            MsgReturn::SendInvalidReply,
        ),
        (
            "body right unknown",
            msg(1, s).with_item(Item::port(PortName(0x999), Disposition::CopySend)),
            MsgReturn::SendInvalidRight,
        ),
        (
            "body move-receive on a send right",
            msg(1, s).with_item(Item::port(s, Disposition::MoveReceive)),
            MsgReturn::SendInvalidRight,
        ),
        (
            "body make-send on a send-once right",
            msg(1, s).with_item(Item::port(so, Disposition::MakeSend)),
            MsgReturn::SendInvalidRight,
        ),
        (
            "body make-send-once on a dead name",
            msg(1, s).with_item(Item::port(dead, Disposition::MakeSendOnce)),
            MsgReturn::SendInvalidRight,
        ),
    ];
    let before = snapshot(&mut k, a);
    for (what, m, code) in cases {
        let err = k.send(a, m.clone(), None).unwrap_err();
        assert_eq!(err.code, code, "{what}");
        assert!(!err.code.hands_back_message(), "{what}");
        assert_eq!(err.message, m, "{what}");
        assert_eq!(snapshot(&mut k, a), before, "{what}");
        assert_eq!(k.port_get_receive_status(b, p).unwrap().msgcount, 0);
    }
    // A reply disposition with a NULL reply port is fine and arrives as NULL.
    k.send(a, raw_msg(cs | (mkso << 8), s, PortName::NULL), None)
        .unwrap();
    let m = recv(&mut k, b, p);
    assert_eq!(m.header.remote, PortName::NULL);
    assert_eq!(m.header.local, p);
    // As is a move-send with a reply DEAD name.
    k.send(a, raw_msg(cs | (ms << 8), s, PortName::DEAD), None)
        .unwrap();
    assert_eq!(recv(&mut k, b, p).header.remote, PortName::DEAD);
}

#[test]
fn send_from_a_destroyed_space_fails() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.destroy_space(b);
    assert!(!k.space_exists(b));
    assert!(k.send(b, msg(1, s), None).is_err());
    assert_eq!(
        k.port_allocate(b, RightType::Receive),
        Err(KernReturn::InvalidTask)
    );
}

#[test]
fn message_carrying_its_own_destinations_receive_right_is_destroyed() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.port_insert_right(a, p, a, p, Disposition::MakeSend)
        .unwrap();
    // Accepted, but it could never be received: the message and the port die.
    k.send(
        a,
        msg(1, p).with_item(Item::port(p, Disposition::MoveReceive)),
        None,
    )
    .unwrap();
    assert_eq!(k.port_type(a, p).unwrap(), PortType::DEAD_NAME);
    assert_eq!(k.port_type(b, s).unwrap(), PortType::DEAD_NAME);
    k.destroy_space(a);
    k.destroy_space(b);
    assert_eq!(k.port_count(), 0);
}

#[test]
fn allocate_name_and_receive_right_references() {
    let (mut k, a, _b) = kernel2();
    let n = PortName(3);
    k.port_allocate_name(a, RightType::Receive, n).unwrap();
    assert_eq!(k.port_type(a, n).unwrap(), PortType::RECEIVE);
    assert_eq!(
        k.port_allocate_name(a, RightType::Receive, n),
        Err(KernReturn::NameExists)
    );
    for bad in [PortName::NULL, PortName::DEAD] {
        assert_eq!(
            k.port_allocate_name(a, RightType::Receive, bad),
            Err(KernReturn::InvalidValue)
        );
    }
    assert_eq!(
        k.port_allocate_name(a, RightType::Send, PortName(9)),
        Err(KernReturn::InvalidValue)
    );
    // Fresh names never collide with a chosen one.
    let fresh: Vec<PortName> = (0..6).map(|_| port(&mut k, a)).collect();
    assert!(!fresh.contains(&n));
    // Receive rights have exactly one reference.
    assert_eq!(k.port_get_refs(a, n, RightType::Receive).unwrap(), 1);
    assert_eq!(
        k.port_mod_refs(a, n, RightType::Receive, 1),
        Err(KernReturn::InvalidValue)
    );
    k.port_mod_refs(a, n, RightType::Receive, 0).unwrap();
    assert_eq!(k.port_type(a, n).unwrap(), PortType::RECEIVE);
    k.port_mod_refs(a, n, RightType::Receive, -1).unwrap();
    assert_eq!(k.port_type(a, n), Err(KernReturn::InvalidName));
    // Dead names can be allocated and counted.
    let d = k.port_allocate(a, RightType::DeadName).unwrap();
    k.port_mod_refs(a, d, RightType::DeadName, 2).unwrap();
    assert_eq!(k.port_get_refs(a, d, RightType::DeadName).unwrap(), 3);
}

#[test]
fn receive_right_in_a_destroyed_message_dies() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let q = port(&mut k, b);
    let qs = make_send(&mut k, b, q, a);
    let ps = make_send(&mut k, a, p, b);
    // p holds a message carrying a send right for q.
    let qb = make_send(&mut k, b, q, b);
    assert_eq!(qb, q);
    k.send(
        b,
        msg(1, ps).with_item(Item::port(qb, Disposition::MoveSend)),
        None,
    )
    .unwrap();
    k.send(
        a,
        msg(2, qs).with_item(Item::port(p, Disposition::MoveReceive)),
        None,
    )
    .unwrap();
    // q dies unreceived: p's receive right in its queue dies too, and so does
    // p's own queue.
    k.port_destroy(b, q).unwrap();
    assert_eq!(k.port_type(b, ps).unwrap(), PortType::DEAD_NAME);
    assert_eq!(k.port_type(a, qs).unwrap(), PortType::DEAD_NAME);
    k.destroy_space(a);
    k.destroy_space(b);
    assert_eq!(k.port_count(), 0);
}

#[test]
fn receive_right_in_a_destroyed_message_goes_to_its_port_destroyed_requester() {
    let (mut k, a, b) = kernel2();
    let c = k.create_space();
    let p = port(&mut k, a);
    let n = port(&mut k, c);
    let so = make_send_once(&mut k, c, n, a);
    k.request_notification(
        a,
        p,
        NotifyKind::PortDestroyed,
        0,
        so,
        Disposition::MoveSendOnce,
    )
    .unwrap();
    let ps = make_send(&mut k, a, p, c);
    k.send(c, msg(7, ps), None).unwrap();
    let q = port(&mut k, b);
    let qs = make_send(&mut k, b, q, a);
    k.send(
        a,
        msg(1, qs).with_item(Item::port(p, Disposition::MoveReceive)),
        None,
    )
    .unwrap();
    k.port_destroy(b, q).unwrap();
    let m = recv(&mut k, c, n);
    let Some(Notification::PortDestroyed(r)) = Notification::parse(&m) else {
        panic!("{m:?}")
    };
    // c held a send right for p: the receive right joins that name.
    assert_eq!(r, ps);
    assert_eq!(k.port_type(c, r).unwrap(), PortType::SEND_RECEIVE);
    assert_eq!(recv(&mut k, c, r).header.id, 7);
}

// ---------------------------------------------------------------------------
// insert_right / extract_right
// ---------------------------------------------------------------------------

#[test]
fn insert_right_names_and_errors() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let q = port(&mut k, a);
    // NULL and DEAD are not names one can insert under.
    for n in [PortName::NULL, PortName::DEAD] {
        assert_eq!(
            k.port_insert_right(b, n, a, p, Disposition::MakeSend),
            Err(KernReturn::InvalidValue)
        );
    }
    // Insert under a chosen name.
    let n = PortName(0x1000);
    k.port_insert_right(b, n, a, p, Disposition::MakeSend)
        .unwrap();
    assert_eq!(k.port_type(b, n).unwrap(), PortType::SEND);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().mscount, 1);
    // Again under the same name: the references merge.
    k.port_insert_right(b, n, a, p, Disposition::MakeSend)
        .unwrap();
    assert_eq!(srefs(&mut k, b, n), 2);
    assert_eq!(k.port_get_receive_status(a, p).unwrap().mscount, 2);
    // The same port under another name: RightExists.
    assert_eq!(
        k.port_insert_right(b, PortName(0x1001), a, p, Disposition::MakeSend),
        Err(KernReturn::RightExists)
    );
    // Another port under a used name: NameExists.
    assert_eq!(
        k.port_insert_right(b, n, a, q, Disposition::MakeSend),
        Err(KernReturn::NameExists)
    );
    // A send-once right never merges: NameExists under a used name.
    assert_eq!(
        k.port_insert_right(b, n, a, p, Disposition::MakeSendOnce),
        Err(KernReturn::NameExists)
    );
    let dead = k.port_allocate(b, RightType::DeadName).unwrap();
    assert_eq!(
        k.port_insert_right(b, dead, a, q, Disposition::MakeSend),
        Err(KernReturn::NameExists)
    );
    // None of the failures made a send right.
    assert_eq!(k.port_get_receive_status(a, p).unwrap().mscount, 2);
    assert_eq!(k.port_get_receive_status(a, q).unwrap().mscount, 0);
    // A send-once right under a fresh name.
    let so = PortName(0x2000);
    k.port_insert_right(b, so, a, p, Disposition::MakeSendOnce)
        .unwrap();
    assert_eq!(k.port_type(b, so).unwrap(), PortType::SEND_ONCE);
    // An unknown source name.
    assert_eq!(
        k.port_insert_right(
            b,
            PortName(0x3000),
            a,
            PortName(0x4444),
            Disposition::CopySend
        ),
        Err(KernReturn::InvalidName)
    );
    // Merging past the reference limit.
    k.port_mod_refs(b, n, RightType::Send, i32::from(UREFS_MAX) - 2)
        .unwrap();
    assert_eq!(srefs(&mut k, b, n), UREFS_MAX);
    assert_eq!(
        k.port_insert_right(b, n, a, p, Disposition::MakeSend),
        Err(KernReturn::UrefsOverflow)
    );
}

#[test]
fn insert_right_moves_receive_and_send() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    // Move b's send right back to a under the receive right's name.
    k.port_insert_right(a, p, b, s, Disposition::MoveSend)
        .unwrap();
    assert_eq!(k.port_type(b, s), Err(KernReturn::InvalidName));
    assert_eq!(k.port_type(a, p).unwrap(), PortType::SEND_RECEIVE);
    // Move the receive right into b under a chosen name; a keeps its send right.
    let n = PortName(0x55);
    k.port_insert_right(b, n, a, p, Disposition::MoveReceive)
        .unwrap();
    assert_eq!(k.port_type(b, n).unwrap(), PortType::RECEIVE);
    assert_eq!(k.port_type(a, p).unwrap(), PortType::SEND);
    k.send(a, msg(3, p), None).unwrap();
    let m = recv(&mut k, b, n);
    assert_eq!((m.header.id, m.header.local), (3, n));
    // A receive right into a space that already holds it: RightExists.
    let q = port(&mut k, b);
    assert_eq!(
        k.port_insert_right(b, q, b, q, Disposition::MoveReceive),
        Err(KernReturn::RightExists)
    );
}

#[test]
fn extract_right_every_disposition() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let (s, d) = k
        .port_extract_right(a, p, Disposition::MakeSend, b)
        .unwrap();
    assert_eq!(d, Disposition::PORT_SEND);
    let (s2, _) = k
        .port_extract_right(b, s, Disposition::CopySend, a)
        .unwrap();
    assert_eq!(s2, p);
    assert_eq!(k.port_type(a, p).unwrap(), PortType::SEND_RECEIVE);
    let (so, d) = k
        .port_extract_right(a, p, Disposition::MakeSendOnce, b)
        .unwrap();
    assert_eq!(d, Disposition::PORT_SEND_ONCE);
    let (so2, d) = k
        .port_extract_right(b, so, Disposition::MoveSendOnce, a)
        .unwrap();
    assert_eq!(d, Disposition::PORT_SEND_ONCE);
    assert_eq!(k.port_type(b, so), Err(KernReturn::InvalidName));
    assert_eq!(k.port_type(a, so2).unwrap(), PortType::SEND_ONCE);
    // Extract the receive right: b had a send right, the receive joins it.
    let (r, d) = k
        .port_extract_right(a, p, Disposition::MoveReceive, b)
        .unwrap();
    assert_eq!(d, Disposition::PORT_RECEIVE);
    assert_eq!(r, s);
    assert_eq!(k.port_type(b, s).unwrap(), PortType::SEND_RECEIVE);
    assert_eq!(k.port_type(a, p).unwrap(), PortType::SEND);
    let st = k.port_get_receive_status(b, s).unwrap();
    assert_eq!((st.mscount, st.sorights), (0, 1));
    // Errors.
    assert!(
        k.port_extract_right(a, p, Disposition::MoveReceive, b)
            .is_err()
    );
    assert!(
        k.port_extract_right(a, PortName(0x6666), Disposition::CopySend, b)
            .is_err()
    );
    assert_eq!(srefs(&mut k, a, p), 1);
}

// ---------------------------------------------------------------------------
// Task death (hosted)
// ---------------------------------------------------------------------------

#[test]
fn panicking_task_loses_its_receive_rights() {
    let rt = Runtime::new();
    let client = rt.task();
    let notify = client.port_allocate(RightType::Receive).unwrap();
    let (tx_name, rx_name) = mpsc::channel();
    let (tx_go, rx_go) = mpsc::channel::<()>();
    let c2 = client.clone();
    let h = rt
        .spawn("doomed", move |t| {
            let p = t.port_allocate(RightType::Receive).unwrap();
            let s = t.give_right(p, Disposition::MakeSend, &c2).unwrap();
            tx_name.send(s).unwrap();
            rx_go.recv().unwrap();
            panic!("task dies");
        })
        .unwrap();
    let s = rx_name.recv().unwrap();
    assert_eq!(client.port_type(s).unwrap(), PortType::SEND);
    let prev = client
        .request_notification(
            s,
            NotifyKind::DeadName,
            0,
            notify,
            Disposition::MakeSendOnce,
        )
        .unwrap();
    assert_eq!(prev, PortName::NULL);
    assert!(
        client
            .port_type(s)
            .unwrap()
            .contains(PortType::SEND | PortType::DNREQUEST)
    );
    tx_go.send(()).unwrap();
    assert!(h.join().is_err());
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_secs(5)),
        ..MsgOptions::default()
    };
    let m = client.receive_with(notify, &opts).unwrap();
    assert_eq!(m.header.id, NOTIFY_DEAD_NAME);
    assert_eq!(Notification::parse(&m), Some(Notification::DeadName(s)));
    assert_eq!(client.port_type(s).unwrap(), PortType::DEAD_NAME);
    // One reference from the send right, one from the notification.
    assert_eq!(client.port_get_refs(s, RightType::DeadName).unwrap(), 2);
}

#[test]
fn rpc_to_a_server_that_exits_gets_a_send_once_notification() {
    let rt = Runtime::new();
    let client = rt.task();
    let (tx, rx) = mpsc::channel();
    let c2 = client.clone();
    let h = rt
        .spawn("server", move |t| {
            let p = t.port_allocate(RightType::Receive).unwrap();
            tx.send(t.give_right(p, Disposition::MakeSend, &c2).unwrap())
                .unwrap();
            // Receive one request and exit without replying.
            t.receive(p).unwrap().header.id
        })
        .unwrap();
    let s = rx.recv().unwrap();
    let reply = client.port_allocate(RightType::Receive).unwrap();
    let req = msg(1234, s).with_reply(reply, Disposition::MakeSendOnce);
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_secs(5)),
        ..MsgOptions::default()
    };
    let r = client
        .mach_msg(Some(req), Some(reply), &opts)
        .unwrap()
        .unwrap();
    assert_eq!(r.header.id, NOTIFY_SEND_ONCE);
    assert_eq!(Notification::parse(&r), Some(Notification::SendOnce));
    assert_eq!(h.join().unwrap(), 1234);
    assert_eq!(client.port_type(s).unwrap(), PortType::DEAD_NAME);
}

#[test]
fn rpc_queued_on_a_server_that_exits_gets_a_send_once_notification() {
    let rt = Runtime::new();
    let client = rt.task();
    let (tx, rx) = mpsc::channel();
    let (tx_go, rx_go) = mpsc::channel::<()>();
    let c2 = client.clone();
    let h = rt
        .spawn("server", move |t| {
            let p = t.port_allocate(RightType::Receive).unwrap();
            tx.send(t.give_right(p, Disposition::MakeSend, &c2).unwrap())
                .unwrap();
            // Exit without ever receiving.
            rx_go.recv().unwrap();
        })
        .unwrap();
    let s = rx.recv().unwrap();
    let c3 = client.clone();
    let rpc = thread::spawn(move || {
        let reply = c3.port_allocate(RightType::Receive).unwrap();
        let req = msg(1, s).with_reply(reply, Disposition::MakeSendOnce);
        let opts = MsgOptions {
            rcv_timeout: Some(Duration::from_secs(5)),
            ..MsgOptions::default()
        };
        c3.mach_msg(Some(req), Some(reply), &opts)
            .map(|m| m.unwrap().header.id)
            .map_err(|e| e.code())
    });
    thread::sleep(Duration::from_millis(20));
    tx_go.send(()).unwrap();
    h.join().unwrap();
    assert_eq!(rpc.join().unwrap(), Ok(NOTIFY_SEND_ONCE));
}

// ---------------------------------------------------------------------------
// Bugs (ignored until fixed in src/)
// ---------------------------------------------------------------------------

#[test]
fn insert_send_right_under_a_send_once_name_is_name_exists() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let so = make_send_once(&mut k, a, p, b);
    // Mach (ipc_object_copyout_name → ipc_right_inuse): KERN_NAME_EXISTS.
    assert_eq!(
        k.port_insert_right(b, so, a, p, Disposition::MakeSend),
        Err(KernReturn::NameExists)
    );
    assert_eq!(k.port_type(b, so).unwrap(), PortType::SEND_ONCE);
}

#[test]
fn receive_rights_in_a_cycle_are_destroyed() {
    let (mut k, a, _b) = kernel2();
    let p = port(&mut k, a);
    let q = port(&mut k, a);
    k.port_insert_right(a, p, a, p, Disposition::MakeSend)
        .unwrap();
    k.port_insert_right(a, q, a, q, Disposition::MakeSend)
        .unwrap();
    // q's receive right goes into p's queue, then p's into q's queue: a cycle
    // nobody can ever receive from. Mach's ipc_port_check_circularity catches the
    // second send and destroys the message (and with it both ports).
    k.send(
        a,
        msg(1, p).with_item(Item::port(q, Disposition::MoveReceive)),
        None,
    )
    .unwrap();
    k.send(
        a,
        msg(2, q).with_item(Item::port(p, Disposition::MoveReceive)),
        None,
    )
    .unwrap();
    assert_eq!(k.port_type(a, p).unwrap(), PortType::DEAD_NAME);
    assert_eq!(k.port_type(a, q).unwrap(), PortType::DEAD_NAME);
    k.destroy_space(a);
    assert_eq!(k.port_count(), 0, "ports leaked");
}

#[test]
fn port_destroyed_request_to_itself_destroys_the_port() {
    let (mut k, a, b) = kernel2();
    let p = port(&mut k, a);
    let s = make_send(&mut k, a, p, b);
    k.request_notification(
        a,
        p,
        NotifyKind::PortDestroyed,
        0,
        p,
        Disposition::MakeSendOnce,
    )
    .unwrap();
    // The notification would carry p's receive right into p's own queue: Mach's
    // ipc_port_destroy checks circularity and destroys the port instead.
    k.port_mod_refs(a, p, RightType::Receive, -1).unwrap();
    assert_eq!(k.port_type(b, s).unwrap(), PortType::DEAD_NAME);
    k.destroy_space(b);
    k.destroy_space(a);
    assert_eq!(k.port_count(), 0, "ports leaked");
}

#[test]
fn hosted_moving_a_receive_right_wakes_its_old_receivers() {
    let rt = Runtime::new();
    let a = rt.task();
    let b = rt.task();
    let p = a.port_allocate(RightType::Receive).unwrap();
    let a2 = a.clone();
    // A thread of a blocks receiving on p (no timeout).
    let old = thread::spawn(move || {
        let opts = MsgOptions {
            rcv_interrupt: true,
            ..MsgOptions::default()
        };
        a2.receive_with(p, &opts)
            .map(|m| m.header.id)
            .map_err(|e| e.code)
    });
    thread::sleep(Duration::from_millis(20));
    let n = a.give_right(p, Disposition::MoveReceive, &b).unwrap();
    // Mach (ipc_port_clear_receiver → ipc_mqueue_changed) wakes it with
    // MACH_RCV_PORT_DIED; it must not stay registered on the port. (Waited
    // for up to five seconds: a loaded machine may schedule it late.)
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !old.is_finished() && std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    let finished = old.is_finished();
    // b now waits on the port; a message sent to it must reach b's thread
    // rather than be swallowed by the stale waiter of a.
    let b2 = b.clone();
    let new = thread::spawn(move || {
        let opts = MsgOptions {
            rcv_timeout: Some(Duration::from_secs(5)),
            ..MsgOptions::default()
        };
        b2.receive_with(n, &opts)
            .map(|m| m.header.id)
            .map_err(|e| e.code)
    });
    thread::sleep(Duration::from_millis(20));
    let s = b.give_right(n, Disposition::MakeSend, &a).unwrap();
    a.send(msg(42, s)).unwrap();
    let got = new.join().unwrap();
    let old_result = interrupt_until_done(&a, old);
    assert_eq!(got, Ok(42), "the message went to the stale waiter");
    assert!(finished, "old receiver still blocked after the move");
    assert!(old_result.is_err());
}

#[test]
fn hosted_receive_on_a_destroyed_port_returns_port_died() {
    let rt = Runtime::new();
    let t = rt.task();
    let p = t.port_allocate(RightType::Receive).unwrap();
    let set = t.port_allocate(RightType::PortSet).unwrap();
    let t2 = t.clone();
    let on_port = thread::spawn(move || t2.receive(p).map(|m| m.header.id).map_err(|e| e.code));
    let t3 = t.clone();
    let on_set = thread::spawn(move || t3.receive(set).map(|m| m.header.id).map_err(|e| e.code));
    thread::sleep(Duration::from_millis(30));
    // Mach: MACH_RCV_PORT_DIED ("the port or set was destroyed during the
    // receive", as return_code.rs documents it).
    t.port_destroy(p).unwrap();
    t.port_destroy(set).unwrap();
    assert_eq!(on_port.join().unwrap(), Err(MsgReturn::RcvPortDied));
    assert_eq!(on_set.join().unwrap(), Err(MsgReturn::RcvPortDied));
}

#[test]
fn hosted_receive_on_a_port_moved_into_a_set_returns_port_changed() {
    let rt = Runtime::new();
    let t = rt.task();
    let p = t.port_allocate(RightType::Receive).unwrap();
    let set = t.port_allocate(RightType::PortSet).unwrap();
    let t2 = t.clone();
    let h = thread::spawn(move || t2.receive(p).map(|m| m.header.id).map_err(|e| e.code));
    thread::sleep(Duration::from_millis(30));
    // Mach (ipc_pset_add → ipc_mqueue_changed): MACH_RCV_PORT_CHANGED.
    t.port_move_member(p, set).unwrap();
    assert_eq!(h.join().unwrap(), Err(MsgReturn::RcvPortChanged));
}

#[test]
fn stats_count_sends_receives_and_notifications() {
    let mut k = IpcKernel::new(0);
    let a = k.create_space();
    let p = k.port_allocate(a, RightType::Receive).expect("port");
    let m = Message::new(1, p, Disposition::MakeSend);
    k.send(a, m, None).expect("send");
    // A refused send counts nothing.
    let bad = Message::new(1, PortName(999), Disposition::CopySend);
    assert!(k.send(a, bad, None).is_err());
    assert_eq!(k.stats().sent, 1);
    k.receive(a, p, RecvOptions::default(), None)
        .expect("receive");
    assert_eq!(k.stats().received, 1);
    // A send right dies with its port: a dead-name request fires.
    let b = k.create_space();
    let (s, _) = k
        .port_extract_right(a, p, Disposition::MakeSend, b)
        .expect("give");
    let n = k.port_allocate(b, RightType::Receive).expect("notify port");
    k.request_notification(b, s, NotifyKind::DeadName, 0, n, Disposition::MakeSendOnce)
        .expect("request");
    k.port_destroy(a, p).expect("destroy");
    assert_eq!(k.stats().notifications, 1);
    assert_eq!(k.stats().sent, 1, "notifications are counted apart");
}
