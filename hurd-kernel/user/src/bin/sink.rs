//! Receives `arg` messages on [`SERVICE_PORT_NAME`], yielding between
//! receives so senders fill the queue, and checks they arrive in order.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::RCV_MSG;
use kernel_user::msg::MsgBuf;
use kernel_user::{println, sys};

kernel_user::entry!(run);

fn run(count: u64) -> u64 {
    let mut buf = MsgBuf::new();
    for i in 0..count as u32 {
        for _ in 0..3 {
            sys::yield_now();
        }
        let rc = sys::mach_msg(
            buf.as_mut_ptr(),
            RCV_MSG,
            0,
            MsgBuf::CAPACITY,
            SERVICE_PORT_NAME,
            0,
        );
        if rc != 0 || buf.item(0).map(|(_, v)| v) != Some(i) {
            println!("sink: message {i}: {rc:#x}");
            return 1;
        }
    }
    0
}
