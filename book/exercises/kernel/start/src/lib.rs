//! A ping-pong of messages written by hand: the hands-on exercise of Part V
//! of the book.
//!
//! Fill in the two functions marked TODO, then run
//! `cargo test -p pingpong-start --test pingpong`.
//!
//! A ping carries a number and a reply right; the server answers it with a
//! pong carrying the number plus one, sent to that reply right. The code is
//! generic over [`UserIpc`], so the same functions run on the host (the
//! tests, with hurd-ipc's hosted runtime) and as a program on the kernel
//! (`src/main.rs`, with `hurd_rt::KernelIpc`).
#![no_std]
// The parameters and imports are unused until the TODOs are done.
#![allow(unused_variables, unused_imports)]

use hurd_ipc::{Disposition, Error, Item, Message, MigReturn, MsgOptions, PortName, UserIpc};

// ANCHOR: given
/// The id of a ping: a request carrying one number (`Item::U64`).
pub const PING: i32 = 7000;

/// The id of a pong, the answer to a ping: the request's id plus 100, as
/// MIG numbers its replies.
pub const PONG: i32 = PING + 100;

/// Answers the pings arriving on `port`, a receive right of `ipc`'s task,
/// until the port dies (its task destroys it); returns how many it
/// answered. A message that is not a ping is destroyed unanswered, with
/// the rights it carried.
pub fn serve<I: UserIpc>(ipc: &I, port: PortName) -> u64 {
    let mut answered = 0;
    while let Ok(request) = ipc.receive(port) {
        match pong(&request) {
            Some(reply) => match ipc.send(reply) {
                Ok(()) => answered += 1,
                // The pinger went away: the reply's right goes with it.
                Err(failed) => ipc.destroy_message(failed.message),
            },
            None => ipc.destroy_message(request),
        }
    }
    answered
}
// ANCHOR_END: given

// ANCHOR: todo
/// The pong that answers `request`, or `None` if `request` is not a ping:
/// another id, no reply port, or a body other than one `Item::U64`.
pub fn pong(request: &Message) -> Option<Message> {
    // TODO: a pong to the reply right the ping brought (named in
    // `request.header.remote`, a send-once right: move it), carrying the
    // ping's number plus one (wrapping around at `u64::MAX`).
    todo!("pong")
}

/// Sends `n` to `server` in a ping and waits for the pong, in one
/// `mach_msg` call; returns the pong's number.
///
/// # Errors
///
/// The `MACH_SEND_*` or `MACH_RCV_*` code of the call (a dead server:
/// `MACH_SEND_INVALID_DEST`), the code of a reply port not made, and
/// `MIG_REPLY_MISMATCH` for an answer that is not a pong with one number.
pub fn ping<I: UserIpc>(ipc: &I, server: PortName, n: u64) -> Result<u64, Error> {
    // TODO: take a reply port (`ipc.reply_port()`), send the ping with a
    // send-once right made from it, receive the answer on it in the same
    // call, give the port back (`ipc.release_reply_port`), and return the
    // pong's number.
    todo!("ping")
}
// ANCHOR_END: todo
