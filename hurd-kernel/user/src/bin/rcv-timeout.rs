//! Receives with a 30 ms timeout on an empty port: must get
//! `MACH_RCV_TIMED_OUT` after the timer ran.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::msg_option::{RCV_MSG, RCV_TIMEOUT};
use kernel_user::msg::MsgBuf;
use kernel_user::{println, sys};

kernel_user::entry!(run);

fn run(_: u64) -> u64 {
    let Ok(port) = sys::port_allocate(1) else {
        return 1;
    };
    let mut buf = MsgBuf::new();
    let rc = sys::mach_msg(
        buf.as_mut_ptr(),
        RCV_MSG | RCV_TIMEOUT,
        0,
        MsgBuf::CAPACITY,
        port,
        30,
    );
    if rc != 0x1000_4003 {
        println!("rcv-timeout: got {rc:#x}");
        return 2;
    }
    0
}
