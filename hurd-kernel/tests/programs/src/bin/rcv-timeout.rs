//! Receives with a 30 ms timeout on an empty port: must get
//! `MACH_RCV_TIMED_OUT` after the timer ran, and the kernel's clock must
//! have moved on by about as much (at least 20 ms: the timer's resolution
//! is 10 ms).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use core::time::Duration;

use hurd_ipc::{MsgOptions, MsgReturn, RightType, UserIpc};
use hurd_rt::time::Instant;
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
    let start = Instant::now();
    match ipc.receive_with(port, &opts) {
        Err(e) if e.code == MsgReturn::RcvTimedOut => {}
        other => {
            println!("rcv-timeout: got {other:?}");
            return 2;
        }
    }
    let waited = start.elapsed();
    if waited < Duration::from_millis(20) || waited > Duration::from_secs(5) {
        println!("rcv-timeout: the clock says the wait took {waited:?}");
        return 3;
    }
    0
}
