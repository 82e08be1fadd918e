//! Sends its own task port requests the kernel refuses, hundreds of times,
//! each carrying rights: a send right, a send-once right and a receive
//! right of a port made for it, under an id no interface has, as the wrong
//! arguments of a routine, and with a reply port given as a send right
//! (`MACH_MSG_TYPE_MAKE_SEND`) rather than a send-once right. Every request
//! must be answered (by its reply port) and the rights must not stay in the
//! kernel: the kernel test compares the kernel's names and heap before and
//! after. Returns 0 when every answer came as expected, else the step that
//! failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use hurd_abi::mach;
use hurd_ipc::mig::REPLY_ID_OFFSET;
use hurd_ipc::{Disposition, Item, Message, MigReturn, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, println, task};

hurd_rt::entry!(main);

/// How many times each kind of request is sent.
pub const ROUNDS: u32 = 500;

/// Sends `msg` to the task port with `reply` made as `how`, and checks the
/// answer's id and code.
fn ask(
    ipc: &KernelIpc,
    msg: Message,
    reply: PortName,
    how: Disposition,
    want: i32,
) -> Result<(), u64> {
    let id = msg.header.id;
    ipc.send(msg.with_reply(reply, how)).map_err(|e| {
        println!("rights-to-kernel: send {id}: {:?}", e.code);
        1u64
    })?;
    let answer = ipc.receive(reply).map_err(|_| 2u64)?;
    let code = match answer.body.first() {
        Some(Item::U32(code)) => *code as i32,
        _ => return Err(3),
    };
    // A reply that came by a send right leaves that right with the sender:
    // nothing of it is in this space but the receive right.
    if answer.header.id != id + REPLY_ID_OFFSET || code != want {
        println!(
            "rights-to-kernel: {id}: answered {} with {code}",
            answer.header.id
        );
        return Err(4);
    }
    Ok(())
}

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let me = task::task_self();
    let Ok(reply) = ipc.port_allocate(RightType::Receive) else {
        return 10;
    };
    let bad_id = MigReturn::BadId as i32;
    let bad_arguments = MigReturn::BadArguments as i32;
    for round in 0..ROUNDS {
        let Ok(port) = ipc.port_allocate(RightType::Receive) else {
            return 11;
        };
        let Ok(other) = ipc.port_allocate(RightType::Receive) else {
            return 11;
        };
        let request = |id| Message::new(id, me, Disposition::CopySend);
        let steps = [
            // An id no interface has, with a send and a send-once right.
            (
                request(2999)
                    .with_item(Item::port(port, Disposition::MakeSend))
                    .with_item(Item::port(port, Disposition::MakeSendOnce)),
                Disposition::MakeSendOnce,
                bad_id,
            ),
            // task_create given a port for its boolean, answered through a
            // send right to the reply port.
            (
                request(mach::id::task_create).with_item(Item::port(port, Disposition::MakeSend)),
                Disposition::MakeSend,
                bad_arguments,
            ),
            // A receive right moved to the kernel with a bad request.
            (
                request(2999).with_item(Item::port(other, Disposition::MoveReceive)),
                Disposition::MakeSend,
                bad_id,
            ),
        ];
        for (msg, how, want) in steps {
            if let Err(step) = ask(&ipc, msg, reply, how, want) {
                println!("rights-to-kernel: round {round} failed");
                return step;
            }
        }
        // The send-once right released unused sent its notification.
        match ipc.receive(port) {
            Ok(m) if m.header.id == hurd_ipc::notify::NOTIFY_SEND_ONCE => {}
            _ => return 12,
        }
        // No send right is left anywhere: the port has no senders.
        match ipc.port_get_receive_status(port) {
            Ok(s) if !s.srights && s.sorights == 0 => {}
            Ok(s) => {
                println!("rights-to-kernel: rights left: {s:?}");
                return 13;
            }
            Err(_) => return 13,
        }
        // The receive right moved to the kernel was destroyed: the name
        // here is gone (a moved receive right leaves no name behind).
        if ipc.port_type(other).is_ok() {
            return 14;
        }
        if ipc.port_destroy(port).is_err() {
            return 15;
        }
    }
    0
}
