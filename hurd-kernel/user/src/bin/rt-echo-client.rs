//! Calls the echo interface at [`SERVICE_PORT_NAME`] through the stubs
//! `interface!` generates, over [`KernelIpc`]: `echo`, `reverse` and `stats`
//! with their answers checked, a message of an unknown id answered with
//! `MIG_BAD_ID`, then `shutdown`. Each failed check has its own status.
#![cfg_attr(target_os = "none", no_std, no_main)]

extern crate alloc;

use alloc::string::String;

use hurd_ipc::{Disposition, Error, Item, Message, MigReturn, PortName, UserIpc};
use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::echo::echo;
use kernel_user::ipc::KernelIpc;
use kernel_user::println;

kernel_user::entry!(run);

fn run(_: u64) -> u64 {
    let ipc = KernelIpc::new();
    let port = PortName(SERVICE_PORT_NAME);
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
    if let Err(e) = stub.shutdown() {
        println!("rt-echo-client: shutdown -> {e:?}");
        return 9;
    }
    println!("rt-echo-client: echo, reverse, stats, MIG_BAD_ID and shutdown through KernelIpc");
    0
}
