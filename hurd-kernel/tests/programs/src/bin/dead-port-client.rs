//! Sends to [`SERVICE`] (without blocking) until the send fails with
//! `MACH_SEND_INVALID_DEST` because the receiver's task died.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use core::time::Duration;

use hurd_ipc::{Disposition, Message, MsgOptions, MsgReturn, UserIpc};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, println, thread};

hurd_rt::entry!(main);

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let now = MsgOptions {
        send_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    for _ in 0..100_000 {
        let msg = Message::new(1, SERVICE, Disposition::CopySend);
        match ipc.mach_msg(Some(msg), None, &now) {
            Err(e) if e.code() == MsgReturn::SendInvalidDest => {
                println!("dead-port-client: the port died");
                return 0;
            }
            Ok(_) => thread::yield_now(),
            Err(e) if e.code() == MsgReturn::SendTimedOut => thread::yield_now(),
            Err(e) => {
                println!("dead-port-client: unexpected {:?}", e.code());
                return 2;
            }
        }
    }
    1
}
