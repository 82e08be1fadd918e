//! Two nodes in one process: messages, rights and notifications across them.

mod common;

use std::time::Duration;

use common::{WAIT, call, lookup, pair, register};
use hurd_ipc::{
    Disposition, Item, Message, MsgOptions, Notification, NotifyKind, PortItem, PortName, PortType,
    RightType, UserIpc,
};

#[test]
fn echo_round_trip_with_data_and_ool() {
    let (n1, _n2) = pair();
    let task = n1.runtime().task();
    let echo = lookup(&n1, 2, &task, "echo");
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let msg = Message::new(7, echo, Disposition::CopySend)
        .with_item(Item::U32(42))
        .with_item(Item::Bytes(b"hello".to_vec()))
        .with_item(Item::ool(big.clone(), true));
    let reply = call(&task, msg).expect("rpc");
    assert_eq!(reply.header.id, 107);
    assert_eq!(reply.body[0], Item::U32(42));
    assert_eq!(reply.body[1], Item::Bytes(b"hello".to_vec()));
    match &reply.body[2] {
        Item::Ool(o) => assert_eq!(o.data, big),
        other => panic!("expected out-of-line memory, got {other:?}"),
    }
}

#[test]
fn rights_come_home_as_themselves() {
    let (n1, _n2) = pair();
    let task = n1.runtime().task();
    let echo = lookup(&n1, 2, &task, "echo");
    let p = task.port_allocate(RightType::Receive).expect("port");
    let q = task.port_allocate(RightType::Receive).expect("port");
    let so = task.port_allocate(RightType::Receive).expect("port");
    let q_sender = task
        .give_right(q, Disposition::MakeSend, &task)
        .expect("send right");
    let msg = Message::new(1, echo, Disposition::CopySend)
        .with_item(Item::port(p, Disposition::MakeSend))
        .with_item(Item::port(q, Disposition::MoveReceive))
        .with_item(Item::port(so, Disposition::MakeSendOnce));
    let reply = call(&task, msg).expect("rpc");
    let names: Vec<(PortName, Disposition)> = reply
        .body
        .iter()
        .map(|i| match i {
            Item::Port(p) => (p.name, p.disposition),
            other => panic!("{other:?}"),
        })
        .collect();
    // The send right is the original port's; the receive right came back.
    assert_eq!(names[0], (p, Disposition::PORT_SEND));
    assert_eq!(names[1].1, Disposition::PORT_RECEIVE);
    let q2 = names[1].0;
    assert!(
        task.port_type(q2)
            .expect("type")
            .contains(PortType::RECEIVE)
    );
    // The moved port's senders reach it where it is now.
    task.send(Message::new(66, q_sender, Disposition::CopySend))
        .expect("send to the moved port");
    let long = MsgOptions {
        rcv_timeout: Some(WAIT),
        ..MsgOptions::default()
    };
    assert_eq!(task.receive_with(q2, &long).expect("message").header.id, 66);
    // The send-once right still reaches `so`.
    assert_eq!(names[2].1, Disposition::PORT_SEND_ONCE);
    task.send(Message::new(55, names[2].0, Disposition::MoveSendOnce))
        .expect("send once");
    let got = task
        .receive_with(
            so,
            &MsgOptions {
                rcv_timeout: Some(WAIT),
                ..MsgOptions::default()
            },
        )
        .expect("message through the send-once right");
    assert_eq!(got.header.id, 55);
}

#[test]
fn no_senders_waits_for_the_remote_right() {
    let (n1, n2) = pair();
    let task = n1.runtime().task();
    let p = task.port_allocate(RightType::Receive).expect("port");
    let notify = task.port_allocate(RightType::Receive).expect("port");
    task.request_notification(
        p,
        NotifyKind::NoSenders,
        1,
        notify,
        Disposition::MakeSendOnce,
    )
    .expect("request");
    register(
        &n1,
        2,
        &task,
        "p",
        PortItem {
            disposition: Disposition::MakeSend,
            name: p,
        },
    );
    // Node 2 holds the only send right: no notification.
    let short = MsgOptions {
        rcv_timeout: Some(Duration::from_millis(300)),
        ..MsgOptions::default()
    };
    assert!(task.receive_with(notify, &short).is_err());
    // Node 2's own task sends through it: it reaches p.
    let t2 = n2.runtime().task();
    let via2 = lookup(&n2, 2, &t2, "p");
    t2.send(Message::new(9, via2, Disposition::CopySend))
        .expect("send");
    let long = MsgOptions {
        rcv_timeout: Some(WAIT),
        ..MsgOptions::default()
    };
    assert_eq!(task.receive_with(p, &long).expect("message").header.id, 9);
    drop(t2);
    // Replacing the registration drops node 2's last right: now it comes.
    let other = task.port_allocate(RightType::Receive).expect("port");
    register(
        &n1,
        2,
        &task,
        "p",
        PortItem {
            disposition: Disposition::MakeSend,
            name: other,
        },
    );
    let n = task.receive_with(notify, &long).expect("no-senders");
    assert!(matches!(
        Notification::parse(&n),
        Some(Notification::NoSenders(_))
    ));
}

#[test]
fn remote_port_death_gives_dead_names() {
    let (n1, n2) = pair();
    let t2 = n2.runtime().task();
    let victim = t2.port_allocate(RightType::Receive).expect("port");
    register(
        &n2,
        2,
        &t2,
        "victim",
        PortItem {
            disposition: Disposition::MakeSend,
            name: victim,
        },
    );
    let task = n1.runtime().task();
    let v = lookup(&n1, 2, &task, "victim");
    let notify = task.port_allocate(RightType::Receive).expect("port");
    task.request_notification(
        v,
        NotifyKind::DeadName,
        0,
        notify,
        Disposition::MakeSendOnce,
    )
    .expect("dead-name request");
    t2.port_destroy(victim).expect("destroy");
    let long = MsgOptions {
        rcv_timeout: Some(WAIT),
        ..MsgOptions::default()
    };
    let n = task
        .receive_with(notify, &long)
        .expect("dead-name notification");
    assert_eq!(Notification::parse(&n), Some(Notification::DeadName(v)));
    assert!(
        task.port_type(v)
            .expect("type")
            .contains(PortType::DEAD_NAME)
    );
}

#[test]
fn queue_limits_hold_end_to_end() {
    let (n1, n2) = pair();
    // A port on node 2 with room for one message, which nobody receives from.
    let t2 = n2.runtime().task();
    let slow = t2.port_allocate(RightType::Receive).expect("port");
    t2.port_set_qlimit(slow, 1).expect("qlimit");
    register(
        &n2,
        2,
        &t2,
        "slow",
        PortItem {
            disposition: Disposition::MakeSend,
            name: slow,
        },
    );
    let task = n1.runtime().task();
    let to = lookup(&n1, 2, &task, "slow");
    let opts = MsgOptions {
        send_timeout: Some(Duration::from_secs(2)),
        ..MsgOptions::default()
    };
    let send = |i: u32| {
        let msg = Message::new(1, to, Disposition::CopySend)
            .with_item(Item::U32(i))
            .with_item(Item::ool(vec![0u8; 1 << 20], true));
        task.mach_msg(Some(msg), None, &opts)
    };
    // Sends go through until every buffer on the way is full, then block.
    let mut sent = 0;
    while sent < 200 {
        match send(sent) {
            Ok(_) => sent += 1,
            Err(e) => {
                assert_eq!(e.code(), hurd_ipc::MsgReturn::SendTimedOut);
                break;
            }
        }
    }
    assert!(
        sent < 200,
        "the sender was stopped by the receiver's queue limit"
    );
    // Other ports of the same node are not held up behind the full one (the
    // memory_object init/ready exchange relies on this).
    let echo = lookup(&n1, 2, &task, "echo");
    let reply = call(&task, Message::new(4, echo, Disposition::CopySend)).expect("rpc");
    assert_eq!(reply.header.id, 104);
    // Receiving makes room, in order, all the way back.
    let long = MsgOptions {
        rcv_timeout: Some(WAIT),
        ..MsgOptions::default()
    };
    for i in 0..sent {
        let m = t2.receive_with(slow, &long).expect("queued message");
        assert_eq!(m.body[0], Item::U32(i), "per-port order");
    }
    send(sent).expect("room again");
    let m = t2.receive_with(slow, &long).expect("the last one");
    assert_eq!(m.body[0], Item::U32(sent));
}

#[test]
fn waiting_for_a_peer_takes_any_timeout() {
    let (n1, n2) = pair();
    assert!(n1.wait_for_peer(2, Duration::MAX));
    assert!(n2.wait_for_peer(1, Duration::MAX));
}
