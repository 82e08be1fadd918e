//! A pager that dies: it answers `memory_object_init` with `ready`, then
//! exits at the first `data_request` without answering it, so the faults
//! waiting for that page must fail rather than wait forever.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Disposition, Item, Message, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::ports::SERVICE;

hurd_rt::entry!(main);

/// `memory_object_init`.
const INIT: i32 = 2200;
/// `memory_object_data_request`.
const DATA_REQUEST: i32 = 2203;
/// `memory_object_ready`.
const READY: i32 = 2094;

fn main() -> u64 {
    let ipc = KernelIpc::new();
    loop {
        let Ok(request) = ipc.receive(SERVICE) else {
            return 1;
        };
        match request.header.id {
            INIT => {
                let Some(Item::Port(control)) = request.body.first() else {
                    return 2;
                };
                let ready = Message::new(READY, control.name, Disposition::CopySend)
                    .with_item(Item::U32(0))
                    .with_item(Item::U32(2));
                if ipc.send(ready).is_err() {
                    return 3;
                }
            }
            DATA_REQUEST => return 0,
            _ => {}
        }
    }
}
