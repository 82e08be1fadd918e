//! A pager that answers `init` with `ready` and every `data_request` with
//! `data_error`, and also sends the kernel a malformed message: the faulting
//! task must be killed (the page cannot be had), the garbage refused, and the
//! kernel must go on. Exits when its port has no more senders to wait for
//! (after 999).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Disposition, Item, Message, PortName, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::ports::SERVICE;

hurd_rt::entry!(main);

/// The memory control port a request names (its first item).
fn control(m: &Message) -> Option<PortName> {
    match m.body.first() {
        Some(Item::Port(p)) => Some(p.name),
        _ => None,
    }
}

fn main() -> u64 {
    let ipc = KernelIpc::new();
    loop {
        let Ok(request) = ipc.receive(SERVICE) else {
            return 1;
        };
        let answer = match request.header.id {
            2200 => {
                let Some(control) = control(&request) else {
                    return 2;
                };
                Message::new(2094, control, Disposition::CopySend)
                    .with_item(Item::U32(0))
                    .with_item(Item::U32(2))
            }
            2203 => {
                let (Some(control), Some(Item::U64(offset))) =
                    (control(&request), request.body.get(1))
                else {
                    return 3;
                };
                // First garbage: a data_supply with the wrong items.
                let garbage =
                    Message::new(2093, control, Disposition::CopySend).with_item(Item::U32(0xdead));
                if ipc.send(garbage).is_err() {
                    return 4;
                }
                Message::new(2090, control, Disposition::CopySend)
                    .with_item(Item::U64(*offset))
                    .with_item(Item::U64(4096))
                    .with_item(Item::U32(5)) // KERN_FAILURE
            }
            999 => return 0,
            _ => continue,
        };
        if ipc.send(answer).is_err() {
            return 5;
        }
    }
}
