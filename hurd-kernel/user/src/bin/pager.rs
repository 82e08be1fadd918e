//! A user-space pager: serves the memory object whose port is
//! [`SERVICE_PORT_NAME`] (its receive right). It answers `memory_object_init`
//! with `ready` and each `data_request` with `data_supply` of pages filled
//! with [`pattern`]; it exits on id 999.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{COPY_SEND, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// `memory_object_init`.
const INIT: i32 = 2200;
/// `memory_object_data_request`.
const DATA_REQUEST: i32 = 2203;
/// `memory_object_data_supply`.
const DATA_SUPPLY: i32 = 2093;
/// `memory_object_ready`.
const READY: i32 = 2094;

/// Byte `i` of page `page` of the object.
pub fn pattern(page: u64, i: usize) -> u8 {
    (page as u8).wrapping_mul(31).wrapping_add(i as u8)
}

fn run(_: u64) -> u64 {
    let mut buf = MsgBuf::new();
    let mut requests = 0;
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
            println!("pager: receive failed: {rc:#x}");
            return 1;
        }
        match buf.id() {
            INIT => {
                let Some((_, control)) = buf.item(0) else {
                    return 2;
                };
                buf.start(control, COPY_SEND, 0, 0, READY);
                buf.push_u32(0); // may_cache
                buf.push_u32(2); // MEMORY_OBJECT_COPY_DELAY
            }
            DATA_REQUEST => {
                let (Some((_, control)), Some(offset), Some(length)) =
                    (buf.item(0), buf.item_u64(1), buf.item_u64(2))
                else {
                    return 3;
                };
                requests += 1;
                let page = offset / 4096;
                buf.start(control, COPY_SEND, 0, 0, DATA_SUPPLY);
                buf.push_u64(offset);
                buf.push_ool(length.min(4096) as usize, |i| pattern(page, i));
                buf.push_u32(0); // lock_value: nothing withheld
                buf.push_u32(0); // not precious
                buf.push_port(0, COPY_SEND); // no reply wanted
            }
            999 => {
                println!("pager: served {requests} data requests");
                return 0;
            }
            _ => continue,
        }
        let rc = sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0);
        if rc != 0 {
            println!("pager: answer failed: {rc:#x}");
            return 4;
        }
    }
}
