//! Calls the echo interface at [`SERVICE`] through the stubs
//! `interface!` generates, over [`KernelIpc`]: `echo`, `reverse` and `stats`
//! with their answers checked, a message of an unknown id answered with
//! `MIG_BAD_ID`; then the calls and errors of [`KernelIpc`] itself (a send
//! right made under a receive right's name, a failed send handing its
//! message back, a receive timing out, a message too large destroyed, one
//! kept by `MACH_RCV_LARGE` with its size and then received whole, the
//! name's type); then `shutdown`. Each failed check has its own status.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use core::time::Duration;

use hurd_ipc::{
    Disposition, Error, Item, Message, MigReturn, MsgOptions, MsgReturn, PortName, RecvOptions,
    RightType, UserIpc,
};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, println};
use kernel_test_programs::echo::echo;

hurd_rt::entry!(main);

fn main() -> u64 {
    // ANCHOR: client
    let ipc = KernelIpc::new();
    let port = SERVICE;
    let stub = echo::Client::new(&ipc, port);
    match stub.echo(b"hello, Hurd".to_vec()) {
        Ok(data) if data == b"hello, Hurd" => {}
        other => {
            println!("rt-echo-client: echo -> {other:?}");
            return 2;
        }
    }
    match stub.reverse(String::from("translators")) {
        Ok(text) if text == "srotalsnart" => {}
        other => {
            println!("rt-echo-client: reverse -> {other:?}");
            return 3;
        }
    }
    // ANCHOR_END: client
    // Many calls reuse the cached reply port.
    for i in 0..100u8 {
        let data = alloc::vec![i; usize::from(i) * 10];
        if stub.echo(data.clone()).ok() != Some(data) {
            println!("rt-echo-client: echo {i} failed");
            return 4;
        }
    }
    let expected_bytes = 11 + (0..100u64).map(|i| i * 10).sum::<u64>();
    match stub.stats() {
        Ok((102, bytes)) if bytes == expected_bytes => {}
        other => {
            println!("rt-echo-client: stats -> {other:?}");
            return 5;
        }
    }
    // An id no routine has: the generated demux answers MIG_BAD_ID.
    let Ok(reply) = ipc.reply_port() else {
        return 6;
    };
    let stray = Message::new(9999, port, Disposition::CopySend)
        .with_reply(reply, Disposition::MakeSendOnce);
    let answer = match ipc.mach_msg(Some(stray), Some(reply), &Default::default()) {
        Ok(Some(answer)) => answer,
        other => {
            println!("rt-echo-client: message 9999 -> {other:?}");
            return 7;
        }
    };
    let code = match answer.body.first() {
        Some(Item::U32(c)) => Error::from_code(*c as i32),
        _ => None,
    };
    if answer.header.id != 10099 || code != Some(Error::Mig(MigReturn::BadId)) {
        println!(
            "rt-echo-client: message 9999 -> reply {} with {code:?}",
            answer.header.id
        );
        return 8;
    }
    ipc.release_reply_port(reply, true);
    if let Err(status) = calls_and_errors(&ipc) {
        return status;
    }
    if let Err(e) = stub.shutdown() {
        println!("rt-echo-client: shutdown -> {e:?}");
        return 9;
    }
    println!("rt-echo-client: echo, reverse, stats, MIG_BAD_ID and shutdown through KernelIpc");
    0
}

/// Checks [`KernelIpc`]'s own calls and error paths; the status of the first
/// that goes wrong.
fn calls_and_errors(ipc: &KernelIpc) -> Result<(), u64> {
    let fail = |status: u64, what: &str| {
        println!("rt-echo-client: {what}");
        status
    };
    let port = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| fail(20, &alloc::format!("port_allocate -> {e:?}")))?;
    // A send right under the receive right's name, then a message through it.
    ipc.port_insert_right(port, port, Disposition::MakeSend)
        .map_err(|e| fail(21, &alloc::format!("port_insert_right -> {e:?}")))?;
    let msg = Message::new(77, port, Disposition::CopySend).with_item(Item::U32(5));
    ipc.send(msg)
        .map_err(|e| fail(22, &alloc::format!("send through the made right -> {e:?}")))?;
    match ipc.receive(port) {
        Ok(m) if m.header.id == 77 && m.body == [Item::U32(5)] => {}
        other => return Err(fail(23, &alloc::format!("receive -> {other:?}"))),
    }
    // A send to a name that holds nothing: the message comes back intact.
    let stray = Message::new(78, PortName(0x7777), Disposition::CopySend).with_item(Item::U32(9));
    match ipc.send(stray) {
        Err(e)
            if e.code == MsgReturn::SendInvalidDest
                && e.message.header.id == 78
                && e.message.body == [Item::U32(9)] => {}
        other => return Err(fail(24, &alloc::format!("send to nothing -> {other:?}"))),
    }
    // A receive on an empty port with a timeout times out.
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_millis(20)),
        ..MsgOptions::default()
    };
    match ipc.receive_with(port, &opts) {
        Err(e) if e.code == MsgReturn::RcvTimedOut => {}
        other => return Err(fail(25, &alloc::format!("timed receive -> {other:?}"))),
    }
    // A zero send timeout with no receive is a plain send that may not block.
    let opts = MsgOptions {
        send_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    let big =
        Message::new(79, port, Disposition::CopySend).with_item(Item::Bytes(alloc::vec![1; 200]));
    match ipc.mach_msg(Some(big), None, &opts) {
        Ok(None) => {}
        other => {
            return Err(fail(
                26,
                &alloc::format!("send with a zero timeout -> {other:?}"),
            ));
        }
    }
    // A message larger than the receive limit.
    let opts = MsgOptions {
        rcv: RecvOptions {
            max_size: Some(64),
            large: false,
        },
        ..MsgOptions::default()
    };
    match ipc.receive_with(port, &opts) {
        Err(e) if e.code == MsgReturn::RcvTooLarge => {}
        other => return Err(fail(27, &alloc::format!("receive too large -> {other:?}"))),
    }
    // It was destroyed, as Mach destroys a message too large without
    // MACH_RCV_LARGE.
    let now = MsgOptions {
        rcv_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    match ipc.receive_with(port, &now) {
        Err(e) if e.code == MsgReturn::RcvTimedOut => {}
        other => return Err(fail(31, &alloc::format!("after too large -> {other:?}"))),
    }
    // With MACH_RCV_LARGE it stays queued and its size is reported.
    let large =
        Message::new(80, port, Disposition::CopySend).with_item(Item::Bytes(alloc::vec![7; 6000]));
    let size = hurd_ipc::wire::encode(&large).map_or(0, |b| b.len() as u64);
    let body = large.body.clone();
    ipc.send(large)
        .map_err(|e| fail(32, &alloc::format!("send of 6000 bytes -> {e:?}")))?;
    let opts = MsgOptions {
        rcv: RecvOptions {
            max_size: Some(64),
            large: true,
        },
        ..MsgOptions::default()
    };
    match ipc.receive_with(port, &opts) {
        Err(e) if e.code == MsgReturn::RcvTooLarge && e.size == size => {}
        other => {
            let what = alloc::format!("MACH_RCV_LARGE, {size} bytes -> {other:?}");
            return Err(fail(33, &what));
        }
    }
    // Received whole: the runtime's receive buffer grows to it.
    match ipc.receive_with(port, &now) {
        Ok(m) if m.header.id == 80 && m.body == body => {}
        other => return Err(fail(34, &alloc::format!("the kept message -> {other:?}"))),
    }
    // The name's type, through port_call.
    match ipc.port_type(port) {
        Ok(t) if t.contains(hurd_ipc::PortType::RECEIVE) => {}
        other => return Err(fail(28, &alloc::format!("port_type -> {other:?}"))),
    }
    ipc.port_destroy(port)
        .map_err(|e| fail(29, &alloc::format!("port_destroy -> {e:?}")))?;
    // The name is gone.
    match ipc.receive(port) {
        Err(e) if e.code == MsgReturn::RcvInvalidName => {}
        other => {
            return Err(fail(
                30,
                &alloc::format!("receive on a destroyed name -> {other:?}"),
            ));
        }
    }
    Ok(())
}
