//! Receives `arg` messages on [`SERVICE`], yielding between receives so
//! senders fill the queue, and checks they arrive in order.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Item, UserIpc};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, env, println, thread};

hurd_rt::entry!(main);

fn main() -> u64 {
    let ipc = KernelIpc::new();
    for i in 0..env::start_arg() as u32 {
        for _ in 0..3 {
            thread::yield_now();
        }
        match ipc.receive(SERVICE) {
            Ok(m) if m.body == [Item::U32(i)] => {}
            other => {
                println!("sink: message {i}: {other:?}");
                return 1;
            }
        }
    }
    0
}
