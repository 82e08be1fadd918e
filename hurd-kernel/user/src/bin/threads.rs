//! Two threads of one task: the main thread starts a second one, which sends
//! it a message through a right made from the main thread's receive right
//! (same IPC space) and ends; the main thread receives it.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{MAKE_SEND, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// The second thread's stack size.
const STACK: u64 = 64 * 1024;

/// The second thread: `port` is the main thread's receive right.
extern "C" fn worker(port: u64) -> ! {
    let mut buf = MsgBuf::new();
    buf.start(port as u32, MAKE_SEND, 0, 0, 42);
    buf.push_u32(7);
    let rc = sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0);
    if rc != 0 {
        println!("threads: worker send failed: {rc:#x}");
    }
    sys::thread_exit()
}

fn run(_: u64) -> u64 {
    let Ok(port) = sys::port_allocate(1) else {
        return 1;
    };
    // Room for a few message buffers (8 KiB each), even unoptimised.
    let Ok(stack) = sys::vm_allocate(0, STACK, true) else {
        return 2;
    };
    // As if called: the return address slot makes the stack 16-byte aligned
    // minus 8 at entry.
    let top = stack + STACK - 8;
    if sys::thread_spawn(worker, top, u64::from(port)).is_err() {
        return 3;
    }
    let mut buf = MsgBuf::new();
    let rc = sys::mach_msg(buf.as_mut_ptr(), RCV_MSG, 0, MsgBuf::CAPACITY, port, 0);
    if rc != 0 || buf.id() != 42 || buf.item(0).map(|(_, v)| v) != Some(7) {
        println!("threads: no message from the second thread ({rc:#x})");
        return 4;
    }
    0
}
