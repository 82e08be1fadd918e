//! Tells you when the ping-pong works: on the host, in hurd-ipc's hosted
//! runtime, a server thread answers a client task's pings, refuses what is
//! not a ping, and is an error to ping once its port is gone.

use std::sync::mpsc;
use std::thread::JoinHandle;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{
    Disposition, Error, Item, Message, MsgOptions, MsgReturn, PortName, RightType, UserIpc,
};
use pingpong::{PING, PONG, ping, pong, serve};

// ANCHOR: start
/// A server task answering pings with `serve` on a port of its own, in a
/// thread; `client` gets a send right to the port. If the server panics,
/// its task ends and its rights die, as a crashed task's would: a client
/// waiting for a pong is told instead of waiting forever.
struct Server {
    task: Task,
    port: PortName,
    thread: JoinHandle<u64>,
}

fn start_server(rt: &Runtime, client: &Task) -> (Server, PortName) {
    let (tx, rx) = mpsc::channel();
    let client = client.clone();
    let thread = rt
        .spawn("pingpong", move |task| {
            let port = task.port_allocate(RightType::Receive).expect("a port");
            let send = task.give_right(port, Disposition::MakeSend, &client);
            let send = send.expect("a send right");
            tx.send((task.clone(), port, send)).expect("the test waits");
            serve(&task, port)
        })
        .expect("a thread");
    let (task, port, send) = rx.recv().expect("the server's port");
    (Server { task, port, thread }, send)
}

impl Server {
    /// Destroys the port (as the program on the kernel does) and returns
    /// how many pings `serve` answered before its loop ended.
    fn stop(self) -> u64 {
        let _ = self.task.port_destroy(self.port);
        self.thread.join().unwrap_or(u64::MAX)
    }
}
// ANCHOR_END: start

// ANCHOR: test
#[test]
fn each_ping_gets_its_pong() -> Result<(), Error> {
    let rt = Runtime::new();
    let client = rt.task();
    let (server, send) = start_server(&rt, &client);

    assert_eq!(ping(&client, send, 41)?, 42);
    let mut last = 0;
    for _ in 0..100 {
        last = ping(&client, send, last)?;
    }
    assert_eq!(last, 100);
    // The number wraps around rather than overflowing.
    assert_eq!(ping(&client, send, u64::MAX)?, 0);
    assert_eq!(server.stop(), 102);
    Ok(())
}
// ANCHOR_END: test

#[test]
fn a_pong_answers_a_ping_only() {
    let reply = PortName(9);
    let asked = |id: i32, items: &[Item]| {
        let mut m = Message::new(id, PortName(3), Disposition::CopySend)
            .with_reply(reply, Disposition::MakeSendOnce);
        m.body = items.to_vec();
        // As received: the reply right is named in `remote`.
        m.header.remote = reply;
        m
    };
    let answer = pong(&asked(PING, &[Item::U64(7)]));
    let answer = answer.expect("a ping is answered");
    assert_eq!(answer.header.id, PONG);
    assert_eq!(answer.header.remote, reply);
    assert_eq!(answer.header.bits.remote(), Some(Disposition::MoveSendOnce));
    assert_eq!(answer.body, [Item::U64(8)]);

    assert_eq!(pong(&asked(PING + 1, &[Item::U64(7)])), None, "another id");
    assert_eq!(pong(&asked(PING, &[Item::U32(7)])), None, "not a u64");
    assert_eq!(pong(&asked(PING, &[])), None, "no number");
    let two = [Item::U64(1), Item::U64(2)];
    assert_eq!(pong(&asked(PING, &two)), None, "two numbers");
    let mut no_reply = asked(PING, &[Item::U64(7)]);
    no_reply.header.remote = PortName::NULL;
    assert_eq!(pong(&no_reply), None, "nowhere to answer");
}

#[test]
fn what_is_not_a_ping_goes_unanswered() -> Result<(), Error> {
    let rt = Runtime::new();
    let client = rt.task();
    let (server, send) = start_server(&rt, &client);

    // A message of another id, with a reply right: the server destroys it,
    // and the kernel tells the reply port that the send-once right died
    // unused (a MACH_NOTIFY_SEND_ONCE, id 71) instead of a pong.
    let reply = client
        .port_allocate(RightType::Receive)
        .map_err(Error::Kern)?;
    let stray = Message::new(PING + 1, send, Disposition::CopySend)
        .with_reply(reply, Disposition::MakeSendOnce)
        .with_item(Item::U64(1));
    let answer = client
        .mach_msg(Some(stray), Some(reply), &MsgOptions::default())
        .map_err(|e| Error::Msg(e.code()))?;
    assert_eq!(answer.map(|m| m.header.id), Some(71));

    // The server goes on answering pings.
    assert_eq!(ping(&client, send, 1)?, 2);
    assert_eq!(server.stop(), 1);
    Ok(())
}

#[test]
fn a_ping_to_a_dead_server_is_an_error() -> Result<(), Error> {
    let rt = Runtime::new();
    let client = rt.task();
    let (server, send) = start_server(&rt, &client);
    assert_eq!(ping(&client, send, 1)?, 2);
    assert_eq!(server.stop(), 1);

    // The send right became a dead name.
    assert_eq!(
        ping(&client, send, 1),
        Err(Error::Msg(MsgReturn::SendInvalidDest))
    );
    Ok(())
}
