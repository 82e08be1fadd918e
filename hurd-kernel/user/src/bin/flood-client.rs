//! Sends more messages than a port's queue holds (its limit is 5): with
//! `arg` = 0 the sends block until the receiver makes room (all 20 must
//! arrive); with `arg` = 1 nothing receives, and a send with a 30 ms
//! timeout must fail with `MACH_SEND_TIMED_OUT` once the queue is full.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{SEND_MSG, SEND_TIMEOUT};
use kernel_user::msg::{COPY_SEND, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// `MACH_SEND_TIMED_OUT`.
const SEND_TIMED_OUT: u64 = 0x1000_0004;

fn run(mode: u64) -> u64 {
    let mut buf = MsgBuf::new();
    for i in 0..20u32 {
        buf.start(SERVICE_PORT_NAME, COPY_SEND, 0, 0, 3000);
        buf.push_u32(i);
        let (option, timeout) = if mode == 0 {
            (SEND_MSG, 0)
        } else {
            (SEND_MSG | SEND_TIMEOUT, 30)
        };
        let rc = sys::mach_msg(
            buf.as_mut_ptr(),
            option,
            u64::from(buf.size()),
            0,
            0,
            timeout,
        );
        match (mode, rc) {
            (_, 0) => {}
            (1, SEND_TIMED_OUT) if i >= 5 => return 0,
            _ => {
                println!("flood-client: send {i} got {rc:#x}");
                return 1;
            }
        }
    }
    if mode == 0 { 0 } else { 2 }
}
