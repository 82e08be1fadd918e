//! The server side of the null RPC benchmark: answers every request on
//! [`SERVICE_PORT_NAME`] with an empty reply (id + 100), replying and
//! receiving the next request in one `mach_msg`; exits on id 999.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{MOVE_SEND_ONCE, MsgBuf};
use kernel_user::sys;

kernel_user::entry!(run);

fn run(_: u64) -> u64 {
    let mut buf = MsgBuf::new();
    let mut rc = sys::mach_msg(
        buf.as_mut_ptr(),
        RCV_MSG,
        0,
        MsgBuf::CAPACITY,
        SERVICE_PORT_NAME,
        0,
    );
    loop {
        if rc != 0 {
            return 1;
        }
        let id = buf.id();
        if id == 999 {
            return 0;
        }
        let reply = buf.remote();
        buf.start(reply, MOVE_SEND_ONCE, 0, 0, id + 100);
        rc = sys::mach_msg(
            buf.as_mut_ptr(),
            SEND_MSG | RCV_MSG,
            24,
            MsgBuf::CAPACITY,
            SERVICE_PORT_NAME,
            0,
        );
    }
}
