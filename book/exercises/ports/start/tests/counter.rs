//! Tells you when the counter works: a client task adds, reads the total,
//! is refused an overflow, and sends a message the interface does not know.

use std::sync::mpsc;
use std::thread::JoinHandle;

use counter::counter::Client;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{
    Disposition, Errno, Error, Item, Message, MigReturn, MsgReturn, PortName, RightType, UserIpc,
};

// ANCHOR: start
/// Starts a counter server as a task of its own, serving a new port, and
/// gives `client` a send right to it. If the server panics, its task ends
/// and its ports die, as a crashed task's would: a waiting client gets an
/// error instead of waiting forever.
fn start_counter(rt: &Runtime, client: &Task) -> (PortName, JoinHandle<MsgReturn>) {
    let (tx, rx) = mpsc::channel();
    let client = client.clone();
    let server = rt
        .spawn("counter", move |task| {
            let port = task.port_allocate(RightType::Receive).expect("a port");
            let send = task.give_right(port, Disposition::MakeSend, &client);
            tx.send(send.expect("a send right"))
                .expect("the test waits");
            counter::serve(&task, port)
        })
        .expect("a thread");
    (rx.recv().expect("the server's port"), server)
}
// ANCHOR_END: start

// ANCHOR: test
#[test]
fn a_client_adds_and_reads_the_total() -> Result<(), Error> {
    let rt = Runtime::new();
    let client = rt.task();
    let (send, server) = start_counter(&rt, &client);

    let stub = Client::new(&client, send);
    assert_eq!(stub.add(2)?, 2);
    assert_eq!(stub.add(40)?, 42);
    assert_eq!(stub.total()?, 42);
    // An overflow is refused and changes nothing.
    assert_eq!(stub.add(u64::MAX), Err(Errno::Inval.into()));
    assert_eq!(stub.total()?, 42);

    // A second client shares the same counter.
    let other = rt.task();
    let copy = client.give_right(send, Disposition::CopySend, &other)?;
    assert_eq!(Client::new(&other, copy).add(8)?, 50);
    assert_eq!(stub.total()?, 50);
    drop(server);
    Ok(())
}
// ANCHOR_END: test

#[test]
fn a_message_the_interface_does_not_know_gets_mig_bad_id() -> Result<(), Error> {
    let rt = Runtime::new();
    let client = rt.task();
    let (send, _server) = start_counter(&rt, &client);

    let reply = client.reply_port()?;
    let stray = Message::new(5099, send, Disposition::CopySend)
        .with_reply(reply, Disposition::MakeSendOnce);
    let answer = client
        .mach_msg(Some(stray), Some(reply), &Default::default())
        .map_err(|e| Error::Msg(e.code()))?;
    let code = match answer.as_ref().and_then(|m| m.body.first()) {
        Some(Item::U32(code)) => Error::from_code(*code as i32),
        _ => None,
    };
    assert_eq!(code, Some(Error::Mig(MigReturn::BadId)));
    // The counter still works.
    assert_eq!(Client::new(&client, send).add(1)?, 1);
    Ok(())
}
