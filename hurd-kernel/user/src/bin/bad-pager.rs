//! A pager that answers `init` with `ready` and every `data_request` with
//! `data_error`, and also sends the kernel a malformed message: the faulting
//! task must be killed (the page cannot be had), the garbage refused, and the
//! kernel must go on. Exits when its port has no more senders to wait for
//! (after 999).
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{COPY_SEND, MsgBuf};
use kernel_user::sys;

kernel_user::entry!(run);

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
            2200 => {
                let Some((_, control)) = buf.item(0) else {
                    return 2;
                };
                buf.start(control, COPY_SEND, 0, 0, 2094);
                buf.push_u32(0);
                buf.push_u32(2);
            }
            2203 => {
                let (Some((_, control)), Some(offset)) = (buf.item(0), buf.item_u64(1)) else {
                    return 3;
                };
                // First garbage: a data_supply with the wrong items.
                buf.start(control, COPY_SEND, 0, 0, 2093);
                buf.push_u32(0xdead);
                if sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0) != 0 {
                    return 4;
                }
                buf.start(control, COPY_SEND, 0, 0, 2090);
                buf.push_u64(offset);
                buf.push_u64(4096);
                buf.push_u32(5); // KERN_FAILURE
            }
            999 => return 0,
            _ => continue,
        }
        if sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0) != 0 {
            return 5;
        }
    }
}
