//! Sends to [`SERVICE_PORT_NAME`] (without blocking) until the send fails
//! with `MACH_SEND_INVALID_DEST` because the receiver's task died.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{SEND_MSG, SEND_TIMEOUT};
use kernel_user::msg::{COPY_SEND, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// `MACH_SEND_INVALID_DEST`.
const SEND_INVALID_DEST: u64 = 0x1000_0003;
/// `MACH_SEND_TIMED_OUT`.
const SEND_TIMED_OUT: u64 = 0x1000_0004;

fn run(_: u64) -> u64 {
    let mut buf = MsgBuf::new();
    for _ in 0..100_000 {
        buf.start(SERVICE_PORT_NAME, COPY_SEND, 0, 0, 1);
        let rc = sys::mach_msg(buf.as_mut_ptr(), SEND_MSG | SEND_TIMEOUT, 24, 0, 0, 0);
        match rc {
            SEND_INVALID_DEST => {
                println!("dead-port-client: the port died");
                return 0;
            }
            0 | SEND_TIMED_OUT => sys::yield_now(),
            other => {
                println!("dead-port-client: unexpected {other:#x}");
                return 2;
            }
        }
    }
    1
}
