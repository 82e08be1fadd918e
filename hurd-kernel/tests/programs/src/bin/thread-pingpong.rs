//! Two threads of one task in RPC: the main thread sends `arg` pings to a
//! port a second thread receives on, each with a send-once reply right, and
//! waits for the pong; the second thread answers each with a separate send
//! and goes back to receive. Exits 0 when every ping was answered in order,
//! and prints the timer ticks the round trips took.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Disposition, Item, Message, MsgOptions, RightType, UserIpc};
use hurd_rt::{KernelIpc, println, thread};

hurd_rt::entry!(main);

const PING: i32 = 7000;
const PONG: i32 = 7100;

fn main() -> u64 {
    let rounds = hurd_rt::env::start_arg();
    let ipc = KernelIpc::new();
    let Ok(port) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    if ipc
        .port_insert_right(port, port, Disposition::MakeSend)
        .is_err()
    {
        return 2;
    }
    let server = thread::spawn(move || {
        let ipc = KernelIpc::new();
        let mut answered = 0u64;
        while let Ok(request) = ipc.receive(port) {
            let [Item::U64(n)] = request.body.as_slice() else {
                ipc.destroy_message(request);
                continue;
            };
            let pong = Message::new(PONG, request.header.remote, Disposition::MoveSendOnce)
                .with_item(Item::U64(n + 1));
            match ipc.send(pong) {
                Ok(()) => answered += 1,
                Err(failed) => ipc.destroy_message(failed.message),
            }
        }
        answered
    });
    let Ok(server) = server else {
        return 3;
    };
    let start = hurd_rt::time::Instant::now();
    for n in 0..rounds {
        let Ok(reply) = ipc.reply_port() else {
            return 4;
        };
        let ping = Message::new(PING, port, Disposition::CopySend)
            .with_reply(reply, Disposition::MakeSendOnce)
            .with_item(Item::U64(n));
        let answer = ipc.mach_msg(Some(ping), Some(reply), &MsgOptions::default());
        ipc.release_reply_port(reply, answer.is_ok());
        match answer {
            Ok(Some(pong)) if pong.header.id == PONG && pong.body == [Item::U64(n + 1)] => {}
            other => {
                println!("thread-pingpong: round {n}: {other:?}");
                return 5;
            }
        }
    }
    let took = start.elapsed();
    if ipc.port_destroy(port).is_err() {
        return 6;
    }
    let answered = server.join();
    println!(
        "thread-pingpong: {answered} of {rounds} answered, {} us in all",
        took.as_micros()
    );
    if answered == rounds { 0 } else { 7 }
}
