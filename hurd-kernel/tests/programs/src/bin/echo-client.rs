//! Talks to the echo server at [`SERVICE`]: round trips (as many as its
//! argument says), each request built in the wire form and sent with one
//! `mach_msg` that also receives the reply; then gives the server a send
//! right to a new port and waits for its message there, then tells it to
//! quit.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use hurd_ipc::{Disposition, Item, Message, RightType, UserIpc, wire};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, env, msg, println};

hurd_rt::entry!(main);

fn main() -> u64 {
    let rounds = env::start_arg();
    let ipc = KernelIpc::new();
    let Ok(reply) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    let mut buf = alloc::vec![0u8; 256];
    // ANCHOR: round_trip
    for i in 0..rounds as u32 {
        let id = 1000 + (i % 50) as i32;
        let request = Message::new(id, SERVICE, Disposition::CopySend)
            .with_reply(reply, Disposition::MakeSendOnce)
            .with_item(Item::U32(i));
        let Ok(bytes) = wire::encode(&request) else {
            return 2;
        };
        buf[..bytes.len()].copy_from_slice(&bytes);
        let call = msg::Options {
            send: Some(bytes.len()),
            receive: Some(reply),
            ..msg::Options::default()
        };
        let answer = match msg::mach_msg(&mut buf, &call) {
            Ok(size) => wire::decode(&buf[..size], &wire::Limits::UNLIMITED),
            Err(code) => {
                println!("echo-client: round trip {i} failed: {code:?}");
                return 2;
            }
        };
        match answer {
            Ok(m) if m.header.id == id + 100 && m.body == [Item::U32(i)] => {}
            other => {
                println!("echo-client: wrong reply in round {i}: {other:?}");
                return 3;
            }
        }
    }
    // ANCHOR_END: round_trip
    // Right transfer: the server gets a send right to `mine` and uses it.
    let Ok(mine) = ipc.port_allocate(RightType::Receive) else {
        return 4;
    };
    let give = Message::new(2000, SERVICE, Disposition::CopySend)
        .with_item(Item::port(mine, Disposition::MakeSend));
    if let Err(e) = ipc.send(give) {
        println!("echo-client: sending a right failed: {:?}", e.code);
        return 5;
    }
    match ipc.receive(mine) {
        Ok(m) if m.header.id == 2001 => {}
        other => {
            println!("echo-client: no message through the given right: {other:?}");
            return 6;
        }
    }
    if ipc
        .send(Message::new(999, SERVICE, Disposition::CopySend))
        .is_err()
    {
        return 7;
    }
    println!("echo-client: {rounds} round trips and a right transfer done");
    0
}
