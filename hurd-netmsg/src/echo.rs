//! The echo service `netmsg serve` registers as `"echo"`: a diagnostic port
//! (like an ICMP echo) that sends every message back to its reply right with
//! everything it carried, rights and out-of-line memory included; or, for
//! [`ID_FORWARD`], passes it on to the port in its first item. Used to check a
//! cluster end to end, and by the tests and benchmark.

use hurd_ipc::{Disposition, Item, Message, MsgBits, MsgReturn, PortName, UserIpc};

/// A message with this id is forwarded: its first item is a send right to
/// the next port; the rest, with the reply right, goes there with id
/// [`ID_FORWARDED`].
pub const ID_FORWARD: i32 = 2990;
/// The id of a forwarded message.
pub const ID_FORWARDED: i32 = 2991;
/// Replies carry the request's id plus this (as MIG replies do).
pub const REPLY_OFFSET: i32 = 100;

/// Turns a received message's header into a send header to `dest`
/// (used with `dest_disp`), keeping the reply right it holds.
fn resend(
    msg: Message,
    dest: PortName,
    dest_disp: Disposition,
    id: i32,
    keep_reply: bool,
) -> Message {
    let h = msg.header;
    let (reply, reply_disp) = if keep_reply {
        (h.remote, h.bits.remote())
    } else {
        (PortName::NULL, None)
    };
    Message {
        header: hurd_ipc::MsgHeader {
            bits: MsgBits::new(dest_disp, if reply.is_null() { None } else { reply_disp }),
            remote: dest,
            local: reply,
            id,
            ..Default::default()
        },
        body: msg.body,
    }
}

/// Answers one received message.
pub fn handle<I: UserIpc + ?Sized>(ipc: &I, msg: Message) {
    let h = msg.header;
    let out = if h.id == ID_FORWARD {
        match msg.body.first() {
            Some(Item::Port(p)) if p.disposition == Disposition::PORT_SEND => {
                let next = p.name;
                let mut msg = msg;
                msg.body.remove(0);
                resend(msg, next, Disposition::MoveSend, ID_FORWARDED, true)
            }
            _ => {
                ipc.destroy_message(msg);
                return;
            }
        }
    } else if h.remote.is_valid() {
        let disp = h.bits.remote().unwrap_or(Disposition::MoveSendOnce);
        resend(msg, h.remote, disp, h.id.wrapping_add(REPLY_OFFSET), false)
    } else {
        ipc.destroy_message(msg);
        return;
    };
    if let Err(e) = ipc.send(out) {
        ipc.destroy_message(e.message);
    }
}

/// Serves `port` until it dies.
pub fn serve<I: UserIpc + ?Sized>(ipc: &I, port: PortName) -> MsgReturn {
    loop {
        match ipc.receive(port) {
            Ok(m) => handle(ipc, m),
            Err(e) => return e.code,
        }
    }
}
