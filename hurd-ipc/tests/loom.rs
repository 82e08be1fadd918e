//! Loom models of the hosted runtime's blocking: the interleavings of a few
//! threads sending, receiving and interrupting are explored, and each must end
//! with every thread returned and every message delivered exactly once.
//!
//! Compiled only with `--cfg loom`, which swaps the runtime's mutex, atomics and
//! threads for loom's:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p hurd-ipc --features std --test loom \
//!     --release --target-dir target/loom
//! ```
//!
//! A lost wakeup shows up as a deadlock (every thread parked), which loom
//! reports as a failure. The models are kept small: all but one are explored
//! exhaustively, and the whole run takes seconds. `--nocapture` prints how
//! many executions each model took.
#![cfg(loom)]
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Message, MsgOptions, MsgReturn, PortName, RightType, UserIpc};
use loom::thread;

/// Explores `f` with at most `preemptions` forced preemptions per execution
/// (`None`: every interleaving).
fn model(preemptions: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = preemptions;
    // Count executions (a plain atomic, outside the model) to show the
    // coverage with `--nocapture`.
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    builder.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        f();
    });
    let test = std::thread::current();
    let name = test.name().unwrap_or("model");
    eprintln!("{name}: {} executions", runs.load(Ordering::Relaxed));
}

/// A server task with a receive right and a client task holding a send right
/// to it: `(server, client, receive name, send name)`.
fn pair(rt: &Runtime) -> (Task, Task, PortName, PortName) {
    let server = rt.task();
    let client = rt.task();
    let port = server.port_allocate(RightType::Receive).unwrap();
    let send = server
        .give_right(port, Disposition::MakeSend, &client)
        .unwrap();
    (server, client, port, send)
}

/// Receives without waiting.
fn poll(task: &Task, port: PortName) -> Result<Message, MsgReturn> {
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    task.receive_with(port, &opts).map_err(|e| e.code)
}

/// (a) A blocking receive racing with one send always gets the message.
#[test]
fn receive_gets_a_concurrent_send() {
    model(None, || {
        let rt = Runtime::new();
        let (server, client, port, send) = pair(&rt);
        let receiver = thread::spawn(move || server.receive(port).unwrap().header.id);
        client
            .send(Message::new(7, send, Disposition::CopySend))
            .unwrap();
        assert_eq!(receiver.join().unwrap(), 7);
    });
}

/// (b) Two receivers, two messages: both receivers return, and each message is
/// delivered exactly once. Three threads: explored up to four preemptions
/// (exhaustively it is about 90,000 executions today, but grows fast with any
/// atomic added to the runtime).
#[test]
fn two_receivers_two_messages() {
    model(Some(4), || {
        let rt = Runtime::new();
        let (server, client, port, send) = pair(&rt);
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let server = server.clone();
                thread::spawn(move || server.receive(port).unwrap().header.id)
            })
            .collect();
        for id in [1, 2] {
            client
                .send(Message::new(id, send, Disposition::CopySend))
                .unwrap();
        }
        let mut got: Vec<i32> = receivers.into_iter().map(|r| r.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        assert_eq!(poll(&server, port).err(), Some(MsgReturn::RcvTimedOut));
    });
}

/// (c) A sender blocked on a full queue is woken when the receiver dequeues.
#[test]
fn blocked_sender_is_woken_by_dequeue() {
    model(None, || {
        let rt = Runtime::new();
        let (server, client, port, send) = pair(&rt);
        server.port_set_qlimit(port, 1).unwrap();
        client
            .send(Message::new(1, send, Disposition::CopySend))
            .unwrap();
        // The queue is full: this send blocks until the first message is taken.
        let sender = thread::spawn(move || {
            client
                .send(Message::new(2, send, Disposition::CopySend))
                .unwrap();
        });
        assert_eq!(server.receive(port).unwrap().header.id, 1);
        assert_eq!(server.receive(port).unwrap().header.id, 2);
        sender.join().unwrap();
    });
}

/// (d) An interrupt racing with the wakeup of an interruptible receive: the
/// receiver returns the message or `RcvInterrupted`, and in the second case the
/// message is still queued.
#[test]
fn interrupt_racing_with_send_loses_no_message() {
    // How often each outcome was seen (plain atomics, outside the model).
    static RECEIVED: AtomicUsize = AtomicUsize::new(0);
    static INTERRUPTED: AtomicUsize = AtomicUsize::new(0);
    model(None, || {
        let rt = Runtime::new();
        let (server, client, port, send) = pair(&rt);
        let opts = MsgOptions {
            rcv_interrupt: true,
            ..MsgOptions::default()
        };
        let rcv_task = server.clone();
        let receiver =
            thread::spawn(move || rcv_task.receive_with(port, &opts).map_err(|e| e.code));
        let sender = thread::spawn(move || {
            client
                .send(Message::new(9, send, Disposition::CopySend))
                .unwrap();
        });
        server.interrupt();
        sender.join().unwrap();
        match receiver.join().unwrap() {
            Ok(m) => {
                assert_eq!(m.header.id, 9);
                assert_eq!(poll(&server, port).err(), Some(MsgReturn::RcvTimedOut));
                RECEIVED.fetch_add(1, Ordering::Relaxed);
            }
            Err(code) => {
                assert_eq!(code, MsgReturn::RcvInterrupted);
                assert_eq!(poll(&server, port).unwrap().header.id, 9);
                INTERRUPTED.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // Both outcomes are reachable; the model must have explored both.
    assert!(RECEIVED.load(Ordering::Relaxed) > 0);
    assert!(INTERRUPTED.load(Ordering::Relaxed) > 0);
}
