//! Controls another task through its task port (a send right at
//! [`TASK_PORT_NAME`]): suspends it, sees that its requests are not answered
//! while it is suspended, resumes it, gets the answer, and terminates it.
//! Also checks its own task port with `mach_task_self`.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, RCV_TIMEOUT, SEND_MSG};
use kernel_user::msg::{COPY_SEND, MAKE_SEND_ONCE, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// Where the harness puts the send right to the other task's port.
const TASK_PORT_NAME: u32 = 0x20;
/// `MACH_RCV_TIMED_OUT`.
const RCV_TIMED_OUT: u64 = 0x1000_4003;

/// Sends task request `id` to `task` and returns the code in the reply.
fn task_call(buf: &mut MsgBuf, task: u32, reply: u32, id: i32) -> Option<u32> {
    buf.start(task, COPY_SEND, reply, MAKE_SEND_ONCE, id);
    let rc = sys::mach_msg(
        buf.as_mut_ptr(),
        SEND_MSG | RCV_MSG,
        24,
        MsgBuf::CAPACITY,
        reply,
        0,
    );
    if rc != 0 || buf.id() != id + 100 {
        println!("task-control: request {id} failed: {rc:#x}");
        return None;
    }
    buf.item(0).map(|(_, code)| code)
}

fn run(_: u64) -> u64 {
    let Ok(reply) = sys::port_allocate(1) else {
        return 1;
    };
    let mut buf = MsgBuf::new();
    // task_suspend(other)
    if task_call(&mut buf, TASK_PORT_NAME, reply, 2056) != Some(0) {
        return 2;
    }
    // A request to the suspended server is not answered...
    buf.start(SERVICE_PORT_NAME, COPY_SEND, reply, MAKE_SEND_ONCE, 1000);
    buf.push_u32(5);
    let rc = sys::mach_msg(
        buf.as_mut_ptr(),
        SEND_MSG | RCV_MSG | RCV_TIMEOUT,
        u64::from(buf.size()),
        MsgBuf::CAPACITY,
        reply,
        50,
    );
    if rc != RCV_TIMED_OUT {
        println!("task-control: a suspended server answered ({rc:#x})");
        return 3;
    }
    // ...until it is resumed: task_resume(other), then the answer comes.
    let Ok(reply2) = sys::port_allocate(1) else {
        return 4;
    };
    if task_call(&mut buf, TASK_PORT_NAME, reply2, 2057) != Some(0) {
        return 5;
    }
    let rc = sys::mach_msg(buf.as_mut_ptr(), RCV_MSG, 0, MsgBuf::CAPACITY, reply, 0);
    if rc != 0 || buf.id() != 1100 {
        println!("task-control: no answer after resume ({rc:#x})");
        return 6;
    }
    // Resuming again is an error (KERN_FAILURE).
    if task_call(&mut buf, TASK_PORT_NAME, reply2, 2057) != Some(5) {
        return 7;
    }
    // task_terminate(other)
    if task_call(&mut buf, TASK_PORT_NAME, reply2, 2008) != Some(0) {
        return 8;
    }
    // Our own task port: a request with a bad id gets MIG_BAD_ID (-303).
    let (code, me) = sys::syscall(kernel_user::abi::nr::TASK_SELF, [0; 6]);
    if code != 0 || task_call(&mut buf, me as u32, reply2, 2999) != Some(-303i32 as u32) {
        return 9;
    }
    0
}
