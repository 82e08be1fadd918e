//! The hosted runtime's blocking behaviour: receive timeouts and polls,
//! interruptible and non-interruptible receives, many threads of one task
//! receiving on one port, task termination, and [`Runtime::spawn`].
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{
    Disposition, KernReturn, Message, MsgOptions, MsgReturn, PortName, PortType, RightType, UserIpc,
};

fn rcv_timeout(d: Duration) -> MsgOptions {
    MsgOptions {
        rcv_timeout: Some(d),
        ..MsgOptions::default()
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

#[test]
fn receive_times_out_after_the_timeout() {
    let rt = Runtime::new();
    let t = rt.task();
    let p = t.port_allocate(RightType::Receive).unwrap();
    let t0 = Instant::now();
    let err = t
        .receive_with(p, &rcv_timeout(Duration::from_millis(10)))
        .unwrap_err();
    let elapsed = t0.elapsed();
    assert_eq!(err.code, MsgReturn::RcvTimedOut);
    assert!(elapsed >= Duration::from_millis(10), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn receive_with_timeout_gets_a_message_sent_while_waiting() {
    let rt = Runtime::new();
    let t = rt.task();
    let p = t.port_allocate(RightType::Receive).unwrap();
    let t2 = t.clone();
    let h = thread::spawn(move || {
        t2.receive_with(p, &rcv_timeout(Duration::from_secs(5)))
            .map(|m| m.header.id)
    });
    thread::sleep(Duration::from_millis(10));
    t.send(Message::new(3, p, Disposition::MakeSend)).unwrap();
    assert_eq!(h.join().unwrap().unwrap(), 3);
}

#[test]
fn zero_timeout_polls() {
    let rt = Runtime::new();
    let t = rt.task();
    let p = t.port_allocate(RightType::Receive).unwrap();
    let poll = rcv_timeout(Duration::ZERO);
    let t0 = Instant::now();
    assert_eq!(
        t.receive_with(p, &poll).unwrap_err().code,
        MsgReturn::RcvTimedOut
    );
    assert!(t0.elapsed() < Duration::from_millis(500));
    t.send(Message::new(1, p, Disposition::MakeSend)).unwrap();
    assert_eq!(t.receive_with(p, &poll).unwrap().header.id, 1);
    assert_eq!(
        t.receive_with(p, &poll).unwrap_err().code,
        MsgReturn::RcvTimedOut
    );
    // A zero send timeout polls too.
    t.port_set_qlimit(p, 1).unwrap();
    let send_poll = MsgOptions {
        send_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    t.mach_msg(
        Some(Message::new(1, p, Disposition::MakeSend)),
        None,
        &send_poll,
    )
    .unwrap();
    let err = t
        .mach_msg(
            Some(Message::new(2, p, Disposition::MakeSend)),
            None,
            &send_poll,
        )
        .unwrap_err();
    assert_eq!(err.code(), MsgReturn::SendTimedOut);
}

#[test]
fn interruptible_receive_returns_when_interrupted() {
    let rt = Runtime::new();
    let t = rt.task();
    let p = t.port_allocate(RightType::Receive).unwrap();
    let t2 = t.clone();
    let h = thread::spawn(move || {
        let opts = MsgOptions {
            rcv_interrupt: true,
            ..MsgOptions::default()
        };
        t2.receive_with(p, &opts).map(|m| m.header.id)
    });
    thread::sleep(Duration::from_millis(20));
    assert!(!h.is_finished());
    assert_eq!(
        interrupt_until_done(&t, h).unwrap_err().code,
        MsgReturn::RcvInterrupted
    );
    // The port is unaffected, and the interrupt does not linger.
    t.send(Message::new(4, p, Disposition::MakeSend)).unwrap();
    let opts = MsgOptions {
        rcv_interrupt: true,
        rcv_timeout: Some(Duration::from_secs(5)),
        ..MsgOptions::default()
    };
    assert_eq!(t.receive_with(p, &opts).unwrap().header.id, 4);
}

#[test]
fn interrupting_another_task_does_not_disturb_this_one() {
    let rt = Runtime::new();
    let t = rt.task();
    let other = rt.task();
    let p = t.port_allocate(RightType::Receive).unwrap();
    let t2 = t.clone();
    let h = thread::spawn(move || {
        let opts = MsgOptions {
            rcv_interrupt: true,
            rcv_timeout: Some(Duration::from_millis(100)),
            ..MsgOptions::default()
        };
        t2.receive_with(p, &opts).map(|m| m.header.id)
    });
    thread::sleep(Duration::from_millis(20));
    other.interrupt();
    assert_eq!(h.join().unwrap().unwrap_err().code, MsgReturn::RcvTimedOut);
}

#[test]
fn non_interruptible_receive_keeps_waiting() {
    let rt = Runtime::new();
    let t = rt.task();
    let p = t.port_allocate(RightType::Receive).unwrap();
    let t2 = t.clone();
    let h = thread::spawn(move || t2.receive(p).map(|m| m.header.id));
    thread::sleep(Duration::from_millis(20));
    t.interrupt();
    thread::sleep(Duration::from_millis(20));
    assert!(!h.is_finished(), "a non-interruptible receive returned");
    t.send(Message::new(8, p, Disposition::MakeSend)).unwrap();
    assert_eq!(h.join().unwrap().unwrap(), 8);
}

#[test]
fn many_threads_receive_each_message_exactly_once() {
    const THREADS: usize = 4;
    const MESSAGES: i32 = 400;
    let rt = Runtime::new();
    let server = rt.task();
    let client = rt.task();
    let p = server.port_allocate(RightType::Receive).unwrap();
    server.port_set_qlimit(p, hurd_ipc::QLIMIT_MAX).unwrap();
    let s = server
        .give_right(p, Disposition::MakeSend, &client)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let srv = server.clone();
            let tx = tx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let m = srv.receive(p).unwrap();
                    if m.header.id < 0 {
                        break;
                    }
                    got.push((m.header.id, m.header.seqno));
                }
                tx.send(got).unwrap();
            })
        })
        .collect();
    drop(tx);
    for i in 0..MESSAGES {
        client
            .send(Message::new(i, s, Disposition::CopySend))
            .unwrap();
    }
    for _ in 0..THREADS {
        client
            .send(Message::new(-1, s, Disposition::CopySend))
            .unwrap();
    }
    for w in workers {
        w.join().unwrap();
    }
    let all: Vec<(i32, u32)> = rx.iter().flatten().collect();
    assert_eq!(all.len(), MESSAGES as usize);
    let ids: HashSet<i32> = all.iter().map(|&(id, _)| id).collect();
    assert_eq!(ids, (0..MESSAGES).collect::<HashSet<_>>());
    // Sequence numbers are unique and follow the queue order.
    for &(id, seqno) in &all {
        assert_eq!(u32::try_from(id).unwrap(), seqno);
    }
    assert_eq!(server.port_get_receive_status(p).unwrap().msgcount, 0);
}

#[test]
fn spawn_returns_the_closures_value() {
    let rt = Runtime::new();
    let h = rt
        .spawn("adder", |t| {
            let p = t.port_allocate(RightType::Receive).unwrap();
            t.send(Message::new(20, p, Disposition::MakeSend)).unwrap();
            t.receive(p).unwrap().header.id + 22
        })
        .unwrap();
    assert_eq!(h.join().unwrap(), 42);
    // The task's port died with it.
    rt.with_kernel(|k| assert_eq!(k.port_count(), 0));
}

#[test]
fn terminate_wakes_blocked_threads_and_kills_rights() {
    let rt = Runtime::new();
    let server = rt.task();
    let client = rt.task();
    let p = server.port_allocate(RightType::Receive).unwrap();
    let s = server
        .give_right(p, Disposition::MakeSend, &client)
        .unwrap();
    let srv = server.clone();
    // Even a non-interruptible receive returns when its task ends.
    let h = thread::spawn(move || srv.receive(p).map(|m| m.header.id));
    thread::sleep(Duration::from_millis(20));
    server.terminate();
    assert!(server.is_terminated());
    assert!(h.join().unwrap().is_err());
    assert_eq!(client.port_type(s).unwrap(), PortType::DEAD_NAME);
    assert!(server.port_allocate(RightType::Receive).is_err());
}

#[test]
fn dropping_the_last_task_handle_destroys_its_space() {
    let rt = Runtime::new();
    let client = rt.task();
    let s = {
        let server = rt.task();
        let p = server.port_allocate(RightType::Receive).unwrap();
        let s = server
            .give_right(p, Disposition::MakeSend, &client)
            .unwrap();
        let extra = server.clone();
        drop(server);
        assert_eq!(client.port_type(s).unwrap(), PortType::SEND);
        drop(extra);
        s
    };
    assert_eq!(client.port_type(s).unwrap(), PortType::DEAD_NAME);
    rt.with_kernel(|k| assert_eq!(k.space_count(), 1));
}

#[test]
fn rpc_round_trips_between_spawned_tasks() {
    let rt = Runtime::new();
    let client = rt.task();
    let (tx, rx) = mpsc::channel();
    let c2 = client.clone();
    let h = rt
        .spawn("server", move |t| {
            let p = t.port_allocate(RightType::Receive).unwrap();
            tx.send(t.give_right(p, Disposition::MakeSend, &c2).unwrap())
                .unwrap();
            let mut served = 0;
            loop {
                let m = t.receive(p).unwrap();
                if m.header.id == 0 {
                    return served;
                }
                served += 1;
                t.send(Message::new(
                    m.header.id + 100,
                    m.header.remote,
                    Disposition::MoveSendOnce,
                ))
                .unwrap();
            }
        })
        .unwrap();
    let s = rx.recv().unwrap();
    let reply = client.reply_port().unwrap();
    for i in 1..=50 {
        let m =
            Message::new(i, s, Disposition::CopySend).with_reply(reply, Disposition::MakeSendOnce);
        let r = client
            .mach_msg(Some(m), Some(reply), &MsgOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(r.header.id, i + 100);
        assert_eq!(r.header.local, reply);
    }
    client
        .send(Message::new(0, s, Disposition::CopySend))
        .unwrap();
    assert_eq!(h.join().unwrap(), 50);
}

#[test]
fn user_api_names_and_counters() {
    let rt = Runtime::new();
    let t = rt.task();
    t.port_allocate_name(RightType::Receive, PortName(0x100))
        .unwrap();
    assert_eq!(
        t.port_allocate_name(RightType::Receive, PortName(0x100)),
        Err(KernReturn::NameExists)
    );
    assert_eq!(
        t.port_allocate_name(RightType::Send, PortName(0x101)),
        Err(KernReturn::InvalidValue)
    );
    t.port_allocate_name(RightType::DeadName, PortName(0x102))
        .unwrap();
    assert_eq!(
        t.port_names().unwrap(),
        vec![
            (PortName(0x100), PortType::RECEIVE),
            (PortName(0x102), PortType::DEAD_NAME)
        ]
    );
    t.port_set_mscount(PortName(0x100), 7).unwrap();
    t.port_set_seqno(PortName(0x100), 9).unwrap();
    let st = t.port_get_receive_status(PortName(0x100)).unwrap();
    assert_eq!((st.mscount, st.seqno), (7, 9));
    assert_eq!(
        t.port_set_seqno(PortName(0x102), 1),
        Err(KernReturn::InvalidRight)
    );
}

/// Two runtimes used from one thread (nodes of a cluster in one process):
/// the cached reply port of one task is never handed to another runtime's task.
#[test]
fn reply_ports_are_not_shared_between_runtimes() {
    let rt1 = Runtime::new();
    let rt2 = Runtime::with_node(2);
    let t1 = rt1.task();
    let t2 = rt2.task();
    let r1 = t1.reply_port().unwrap();
    t1.release_reply_port(r1, true);
    let r2 = t2.reply_port().unwrap();
    assert!(
        t2.port_type(r2).unwrap().contains(PortType::RECEIVE),
        "the reply port belongs to the task's own space"
    );
    t2.release_reply_port(r2, true);
}

#[test]
fn a_set_receiver_outlives_a_dying_member() {
    // Mach drops a dead member from its port set; a thread receiving on the
    // set keeps waiting and gets the next message of another member.
    let rt = Runtime::new();
    let server = rt.task();
    let set = server.port_allocate(RightType::PortSet).expect("port set");
    let (a, b) = (
        server.port_allocate(RightType::Receive).expect("a"),
        server.port_allocate(RightType::Receive).expect("b"),
    );
    server.port_move_member(a, set).expect("a in set");
    server.port_move_member(b, set).expect("b in set");
    let client = rt.task();
    let to_a = server
        .give_right(a, Disposition::MakeSend, &client)
        .expect("send a");
    let to_b = server
        .give_right(b, Disposition::MakeSend, &client)
        .expect("send b");
    let s = server.clone();
    let waiter = thread::spawn(move || s.receive(set));
    thread::sleep(Duration::from_millis(50));
    // A message queued on `a`, then `a` dies with it.
    client
        .send(Message::new(1, to_a, Disposition::CopySend))
        .ok();
    server.port_destroy(a).expect("destroy a");
    client
        .send(Message::new(2, to_b, Disposition::CopySend))
        .expect("send to b");
    let got = waiter.join().expect("waiter");
    match got {
        // The message to `a` may have been received before `a` died.
        Ok(m) => assert!(m.header.id == 1 || m.header.id == 2, "{m:?}"),
        Err(e) => panic!("the set's receiver failed: {e}"),
    }
    // Whatever happened, the set still works.
    client
        .send(Message::new(3, to_b, Disposition::CopySend))
        .expect("send to b");
    let mut ids = Vec::new();
    while let Ok(m) = server.receive_with(set, &rcv_timeout(Duration::from_millis(200))) {
        ids.push(m.header.id);
    }
    assert!(ids.contains(&3), "{ids:?}");
}
