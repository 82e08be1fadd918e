//! Serves the port at [`SERVICE_PORT_NAME`]: echoes each request's first
//! integer in a reply (id + 100), sends a message to any send right it is
//! given (id 2000 → 2001), and exits on id 999.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{COPY_SEND, MOVE_SEND_ONCE, MsgBuf};
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
            kernel_user::println!("echo-server: receive failed: {rc:#x}");
            return 1;
        }
        match buf.id() {
            999 => return 0,
            2000 => {
                let Some((_, port)) = buf.item(0) else {
                    return 2;
                };
                buf.start(port, COPY_SEND, 0, 0, 2001);
                let sent =
                    sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0);
                if sent != 0 {
                    kernel_user::println!("echo-server: send to a given right failed: {sent:#x}");
                    return 3;
                }
                rc = sys::mach_msg(
                    buf.as_mut_ptr(),
                    RCV_MSG,
                    0,
                    MsgBuf::CAPACITY,
                    SERVICE_PORT_NAME,
                    0,
                );
            }
            id => {
                let value = buf.item(0).map_or(0, |(_, v)| v);
                let reply = buf.remote();
                buf.start(reply, MOVE_SEND_ONCE, 0, 0, id + 100);
                buf.push_u32(value);
                // Reply and wait for the next request in one call.
                rc = sys::mach_msg(
                    buf.as_mut_ptr(),
                    SEND_MSG | RCV_MSG,
                    u64::from(buf.size()),
                    MsgBuf::CAPACITY,
                    SERVICE_PORT_NAME,
                    0,
                );
            }
        }
    }
}
