//! Sends more messages than a port's queue holds (its limit is 5): with
//! `arg` = 0 the sends block until the receiver makes room (all 20 must
//! arrive); with `arg` = 1 nothing receives, and a send with a 30 ms
//! timeout must fail with `MACH_SEND_TIMED_OUT` once the queue is full.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use core::time::Duration;

use hurd_ipc::{Disposition, Item, Message, MsgOptions, MsgReturn, UserIpc};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, env, println};

hurd_rt::entry!(main);

fn main() -> u64 {
    let mode = env::start_arg();
    let ipc = KernelIpc::new();
    let opts = MsgOptions {
        send_timeout: (mode != 0).then_some(Duration::from_millis(30)),
        ..MsgOptions::default()
    };
    for i in 0..20u32 {
        let msg = Message::new(3000, SERVICE, Disposition::CopySend).with_item(Item::U32(i));
        match (mode, ipc.mach_msg(Some(msg), None, &opts)) {
            (_, Ok(_)) => {}
            (1, Err(e)) if e.code() == MsgReturn::SendTimedOut && i >= 5 => return 0,
            (_, Err(e)) => {
                println!("flood-client: send {i} got {:?}", e.code());
                return 1;
            }
        }
    }
    if mode == 0 { 0 } else { 2 }
}
