//! Serves the port at [`SERVICE`]: echoes each request's first integer in a
//! reply (id + 100), sends a message to any send right it is given (id
//! 2000 → 2001), and exits on id 999.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Disposition, Item, Message, MsgOptions, UserIpc};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, println};

hurd_rt::entry!(main);

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let mut next = ipc.receive(SERVICE);
    loop {
        let request = match next {
            Ok(m) => m,
            Err(e) => {
                println!("echo-server: receive failed: {:?}", e.code);
                return 1;
            }
        };
        match request.header.id {
            999 => return 0,
            2000 => {
                let [Item::Port(given)] = request.body.as_slice() else {
                    return 2;
                };
                let note = Message::new(2001, given.name, Disposition::CopySend);
                if let Err(e) = ipc.send(note) {
                    println!("echo-server: send to a given right failed: {:?}", e.code);
                    return 3;
                }
                next = ipc.receive(SERVICE);
            }
            id => {
                let value = match request.body.first() {
                    Some(Item::U32(v)) => *v,
                    _ => 0,
                };
                let reply =
                    Message::new(id + 100, request.header.remote, Disposition::MoveSendOnce)
                        .with_item(Item::U32(value));
                // Reply and wait for the next request in one call.
                next = match ipc.mach_msg(Some(reply), Some(SERVICE), &MsgOptions::default()) {
                    Ok(Some(m)) => Ok(m),
                    Ok(None) => return 4,
                    Err(e) => {
                        println!("echo-server: reply failed: {:?}", e.code());
                        return 5;
                    }
                };
            }
        }
    }
}
