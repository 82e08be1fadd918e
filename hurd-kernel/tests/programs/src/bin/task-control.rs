//! Controls another task through its task port (a send right at
//! [`TASK_PORT_NAME`]): suspends it, sees that its requests are not answered
//! while it is suspended, resumes it, gets the answer, and terminates it.
//! Also checks its own task port with `mach_task_self`.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use core::time::Duration;

use hurd_abi::rpc::{TASK_RESUME, TASK_SUSPEND, TASK_TERMINATE};
use hurd_ipc::{
    Disposition, Error, Item, KernReturn, Message, MigReturn, MsgOptions, MsgReturn, PortName,
    RightType, UserIpc,
};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, println, task};
use kernel_test_programs::call;

hurd_rt::entry!(main);

/// Where the harness puts the send right to the other task's port.
const TASK_PORT_NAME: PortName = PortName(0x20);

/// Sends task request `id` to `task`: the reply's code.
fn task_call(task: PortName, id: i32) -> Result<(), Error> {
    let r = call(task, id, alloc::vec::Vec::new());
    if let Err(e) = r {
        println!("task-control: request {id}: {e:?}");
    }
    r
}

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let Ok(reply) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    if task_call(TASK_PORT_NAME, TASK_SUSPEND).is_err() {
        return 2;
    }
    // A request to the suspended server is not answered...
    let request = Message::new(1000, SERVICE, Disposition::CopySend)
        .with_reply(reply, Disposition::MakeSendOnce)
        .with_item(Item::U32(5));
    let wait = MsgOptions {
        rcv_timeout: Some(Duration::from_millis(50)),
        ..MsgOptions::default()
    };
    match ipc.mach_msg(Some(request), Some(reply), &wait) {
        Err(e) if e.code() == MsgReturn::RcvTimedOut => {}
        other => {
            println!("task-control: a suspended server answered ({other:?})");
            return 3;
        }
    }
    // ...until it is resumed: task_resume(other), then the answer comes.
    if task_call(TASK_PORT_NAME, TASK_RESUME).is_err() {
        return 5;
    }
    match ipc.receive(reply) {
        Ok(m) if m.header.id == 1100 => {}
        other => {
            println!("task-control: no answer after resume ({other:?})");
            return 6;
        }
    }
    // Resuming again is an error (KERN_FAILURE).
    let again = call(TASK_PORT_NAME, TASK_RESUME, alloc::vec::Vec::new());
    if again != Err(Error::Kern(KernReturn::Failure)) {
        return 7;
    }
    if task_call(TASK_PORT_NAME, TASK_TERMINATE).is_err() {
        return 8;
    }
    // Our own task port: a request with a bad id gets MIG_BAD_ID (-303).
    let me = task::task_self();
    let bad_id = call(me, 2999, alloc::vec::Vec::new());
    if !me.is_valid() || bad_id != Err(Error::Mig(MigReturn::BadId)) {
        return 9;
    }
    0
}
