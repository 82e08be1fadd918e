//! Receives with a 30 ms timeout on an empty port: must get
//! `MACH_RCV_TIMED_OUT` after the timer ran.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use core::time::Duration;

use hurd_ipc::{MsgOptions, MsgReturn, RightType, UserIpc};
use hurd_rt::{KernelIpc, println};

hurd_rt::entry!(main);

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let Ok(port) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_millis(30)),
        ..MsgOptions::default()
    };
    match ipc.receive_with(port, &opts) {
        Err(e) if e.code == MsgReturn::RcvTimedOut => 0,
        other => {
            println!("rcv-timeout: got {other:?}");
            2
        }
    }
}
