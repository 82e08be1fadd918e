//! A pager that dies: it answers `memory_object_init` with `ready`, then
//! exits at the first `data_request` without answering it, so the faults
//! waiting for that page must fail rather than wait forever.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{COPY_SEND, MsgBuf};
use kernel_user::sys;

kernel_user::entry!(run);

/// `memory_object_init`.
const INIT: i32 = 2200;
/// `memory_object_data_request`.
const DATA_REQUEST: i32 = 2203;
/// `memory_object_ready`.
const READY: i32 = 2094;

fn run(_: u64) -> u64 {
    let mut buf = MsgBuf::new();
    loop {
        let rc = sys::mach_msg(
            buf.as_mut_ptr(),
            RCV_MSG,
            0,
            MsgBuf::CAPACITY,
            SERVICE_PORT_NAME,
            0,
        );
        if rc != 0 {
            return 1;
        }
        match buf.id() {
            INIT => {
                let Some((_, control)) = buf.item(0) else {
                    return 2;
                };
                buf.start(control, COPY_SEND, 0, 0, READY);
                buf.push_u32(0);
                buf.push_u32(2);
                if sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0) != 0 {
                    return 3;
                }
            }
            DATA_REQUEST => return 0,
            _ => {}
        }
    }
}
