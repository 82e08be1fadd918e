//! Talks to the echo server at [`SERVICE_PORT_NAME`]: `arg` request/reply
//! round trips, then gives the server a send right to a new port and waits
//! for its message there, then tells it to quit.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{COPY_SEND, MAKE_SEND, MAKE_SEND_ONCE, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

fn run(rounds: u64) -> u64 {
    let Ok(reply) = sys::port_allocate(1) else {
        return 1;
    };
    let mut buf = MsgBuf::new();
    // ANCHOR: round_trip
    for i in 0..rounds as u32 {
        let id = 1000 + (i % 50) as i32;
        buf.start(SERVICE_PORT_NAME, COPY_SEND, reply, MAKE_SEND_ONCE, id);
        buf.push_u32(i);
        let rc = sys::mach_msg(
            buf.as_mut_ptr(),
            SEND_MSG | RCV_MSG,
            u64::from(buf.size()),
            MsgBuf::CAPACITY,
            reply,
            0,
        );
        if rc != 0 {
            println!("echo-client: round trip {i} failed: {rc:#x}");
            return 2;
        }
        if buf.id() != id + 100 || buf.item(0).map(|(_, v)| v) != Some(i) {
            println!("echo-client: wrong reply {} in round {i}", buf.id());
            return 3;
        }
    }
    // ANCHOR_END: round_trip
    // Right transfer: the server gets a send right to `mine` and uses it.
    let Ok(mine) = sys::port_allocate(1) else {
        return 4;
    };
    buf.start(SERVICE_PORT_NAME, COPY_SEND, 0, 0, 2000);
    buf.push_port(mine, MAKE_SEND);
    let rc = sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0);
    if rc != 0 {
        println!("echo-client: sending a right failed: {rc:#x}");
        return 5;
    }
    let rc = sys::mach_msg(buf.as_mut_ptr(), RCV_MSG, 0, MsgBuf::CAPACITY, mine, 0);
    if rc != 0 || buf.id() != 2001 {
        println!("echo-client: no message through the given right: {rc:#x}");
        return 6;
    }
    buf.start(SERVICE_PORT_NAME, COPY_SEND, 0, 0, 999);
    let rc = sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0);
    if rc != 0 {
        return 7;
    }
    println!("echo-client: {rounds} round trips and a right transfer done");
    0
}
