//! Two threads of one task: the main thread starts a second one, which sends
//! it a message through a right made from the main thread's receive right
//! (same IPC space) and returns a value; the main thread receives the
//! message and joins the thread for its value.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Disposition, Item, Message, RightType, UserIpc};
use hurd_rt::{KernelIpc, println, thread};

hurd_rt::entry!(main);

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let Ok(port) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    let worker = thread::Builder::new().stack_size(64 * 1024).spawn(move || {
        let msg = Message::new(42, port, Disposition::MakeSend).with_item(Item::U32(7));
        match KernelIpc::new().send(msg) {
            Ok(()) => 6u32,
            Err(e) => {
                println!("threads: worker send failed: {:?}", e.code);
                0
            }
        }
    });
    let Ok(worker) = worker else {
        return 3;
    };
    match ipc.receive(port) {
        Ok(m) if m.header.id == 42 && m.body == [Item::U32(7)] => {}
        other => {
            println!("threads: no message from the second thread: {other:?}");
            return 4;
        }
    }
    if worker.join() != 6 {
        return 5;
    }
    // Threads that ended give their stacks back: many more than fit at once.
    for i in 0..64u32 {
        match thread::spawn(move || i * 2).map(thread::JoinHandle::join) {
            Ok(v) if v == i * 2 => {}
            other => {
                println!("threads: thread {i}: {other:?}");
                return 6;
            }
        }
    }
    0
}
