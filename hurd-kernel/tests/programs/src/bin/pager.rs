//! A user-space pager: serves the memory object whose port is [`SERVICE`]
//! (its receive right). It answers `memory_object_init` with `ready` and
//! each `data_request` with `data_supply` of pages filled with [`pattern`];
//! it exits on id 999.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use hurd_ipc::{Disposition, Item, Message, PortName, UserIpc};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, println};

hurd_rt::entry!(main);

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

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let mut requests = 0;
    loop {
        let request = match ipc.receive(SERVICE) {
            Ok(m) => m,
            Err(e) => {
                println!("pager: receive failed: {:?}", e.code);
                return 1;
            }
        };
        let control = |m: &Message| match m.body.first() {
            Some(Item::Port(p)) => Some(p.name),
            _ => None,
        };
        let answer = match request.header.id {
            INIT => {
                let Some(control) = control(&request) else {
                    return 2;
                };
                Message::new(READY, control, Disposition::CopySend)
                    .with_item(Item::U32(0)) // may_cache
                    .with_item(Item::U32(2)) // MEMORY_OBJECT_COPY_DELAY
            }
            DATA_REQUEST => {
                let (Some(control), Some(Item::U64(offset)), Some(Item::U64(length))) =
                    (control(&request), request.body.get(1), request.body.get(2))
                else {
                    return 3;
                };
                requests += 1;
                let page = offset / 4096;
                let data: Vec<u8> = (0..(*length).min(4096) as usize)
                    .map(|i| pattern(page, i))
                    .collect();
                Message::new(DATA_SUPPLY, control, Disposition::CopySend)
                    .with_item(Item::U64(*offset))
                    .with_item(Item::ool(data, false))
                    .with_item(Item::U32(0)) // lock_value: nothing withheld
                    .with_item(Item::U32(0)) // not precious
                    .with_item(Item::port(PortName::NULL, Disposition::CopySend)) // no reply wanted
            }
            999 => {
                println!("pager: served {requests} data requests");
                return 0;
            }
            _ => {
                ipc.destroy_message(request);
                continue;
            }
        };
        if let Err(e) = ipc.send(answer) {
            println!("pager: answer failed: {:?}", e.code);
            return 4;
        }
    }
}
