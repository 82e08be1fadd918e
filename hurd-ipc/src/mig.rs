//! Run-time support for interfaces defined with [`interface!`](crate::interface):
//! argument encoding, the request context, and the client and server halves of
//! a MIG-style RPC.
//!
//! A request carries the routine's arguments as body items in order; the reply's
//! id is the request's plus 100, and its body is the return code (an
//! `INTEGER_32`) followed, on success only, by the out arguments. A server that
//! does not know the id answers `MIG_BAD_ID`; one that finds the items do not
//! match the routine answers `MIG_BAD_ARGUMENTS`; both destroy the rights the
//! request carried.

use alloc::string::String;
use alloc::vec::{self, Vec};
use core::time::Duration;

use crate::msgids::ArgKind;
use crate::user::{MachMsgError, MsgOptions, UserIpc};
use crate::{
    Disposition, Error, Item, Message, MigReturn, MsgReturn, OolItem, PortArray, PortItem,
    PortName, SendError,
};

/// Added to a request's id to make its reply's id.
pub const REPLY_ID_OFFSET: i32 = 100;

/// A Rust type that travels as one message body item.
pub trait MsgArg: Sized {
    /// Appends the item.
    fn encode(self, body: &mut Vec<Item>);
    /// Whether `item` is a well-formed encoding of this type.
    fn matches(item: &Item) -> bool;
    /// Decodes an item for which [`MsgArg::matches`] returned true. Given any
    /// other item it returns a harmless default rather than panicking.
    fn decode(item: Item) -> Self;
    /// How the type travels, for tools that print messages (see
    /// [`msgids`](crate::msgids)); a structure of its own by default.
    const KIND: ArgKind = ArgKind::Struct;
}

impl MsgArg for u32 {
    const KIND: ArgKind = ArgKind::U32;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::U32(self));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::U32(_))
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::U32(v) => v,
            _ => 0,
        }
    }
}

impl MsgArg for i32 {
    const KIND: ArgKind = ArgKind::I32;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::U32(self as u32));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::U32(_))
    }
    fn decode(item: Item) -> Self {
        u32::decode(item) as i32
    }
}

impl MsgArg for u64 {
    const KIND: ArgKind = ArgKind::U64;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::U64(self));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::U64(_))
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::U64(v) => v,
            _ => 0,
        }
    }
}

impl MsgArg for i64 {
    const KIND: ArgKind = ArgKind::I64;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::U64(self as u64));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::U64(_))
    }
    fn decode(item: Item) -> Self {
        u64::decode(item) as i64
    }
}

impl MsgArg for bool {
    const KIND: ArgKind = ArgKind::Bool;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::U32(u32::from(self)));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::U32(0 | 1))
    }
    fn decode(item: Item) -> Self {
        matches!(item, Item::U32(1))
    }
}

impl MsgArg for Vec<u8> {
    const KIND: ArgKind = ArgKind::Bytes;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Bytes(self));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Bytes(_))
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::Bytes(b) => b,
            _ => Vec::new(),
        }
    }
}

/// Strings travel as in-line bytes and must be UTF-8.
impl MsgArg for String {
    const KIND: ArgKind = ArgKind::Text;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Bytes(self.into_bytes()));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Bytes(b) if core::str::from_utf8(b).is_ok())
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::Bytes(b) => String::from_utf8(b).unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// Arrays of 32-bit integers (id vectors, for instance) travel as in-line bytes,
/// little-endian, a multiple of four long.
impl MsgArg for Vec<u32> {
    const KIND: ArgKind = ArgKind::U32Array;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Bytes(
            self.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Bytes(b) if b.len() % 4 == 0)
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::Bytes(b) => b
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Arrays of 16-bit integers (Mach's `filter_t` arrays, for instance) travel
/// as in-line bytes, little-endian, a multiple of two long.
impl MsgArg for Vec<u16> {
    const KIND: ArgKind = ArgKind::U16Array;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Bytes(
            self.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Bytes(b) if b.len() % 2 == 0)
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::Bytes(b) => b
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A port right: sending, the name and how to transfer it; received, the name
/// in the receiver's space and what it is.
impl MsgArg for PortItem {
    const KIND: ArgKind = ArgKind::Port;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Port(self));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Port(_))
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::Port(p) => p,
            _ => PortItem {
                disposition: Disposition::PORT_SEND,
                name: PortName::NULL,
            },
        }
    }
}

/// An array of port rights with one disposition (`portarray_t`).
impl MsgArg for PortArray {
    const KIND: ArgKind = ArgKind::Ports;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Ports(self));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Ports(_))
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::Ports(a) => a,
            _ => PortArray {
                disposition: Disposition::PORT_SEND,
                names: Vec::new(),
            },
        }
    }
}

/// Out-of-line memory.
impl MsgArg for OolItem {
    const KIND: ArgKind = ArgKind::Ool;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Ool(self));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Ool(_))
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::Ool(o) => o,
            _ => OolItem::default(),
        }
    }
}

/// What a server routine learns about the request it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The message id.
    pub id: i32,
    /// The port the request arrived on, as named in the server's space.
    pub port: PortName,
    /// The request's sequence number on that port.
    pub seqno: u32,
    /// The reply right (a send-once right, or NULL). A routine that answers later
    /// keeps it, returns [`MigReturn::NoReply`], and replies with the interface's
    /// `reply` functions.
    pub reply: PortName,
}

impl Request {
    /// The context of a received message.
    pub fn of(msg: &Message) -> Request {
        Request {
            id: msg.header.id,
            port: msg.header.local,
            seqno: msg.header.seqno,
            reply: msg.header.remote,
        }
    }
}

/// What a demultiplexer did with a request.
#[derive(Debug)]
pub enum Dispatch {
    /// Send this reply.
    Reply(Message),
    /// Nothing to send (a simpleroutine, or a deferred reply).
    NoReply,
    /// The id is outside this interface: try another, or answer with
    /// [`bad_id`].
    NotMine(Message),
}

/// Options for client stubs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallOptions {
    /// Give up the whole RPC (send and reply) after this long; `None` waits forever.
    pub timeout: Option<Duration>,
    /// How the destination right is used: `CopySend` (the default) for a send
    /// right, `MoveSendOnce` for a send-once right such as a `reply_to` port
    /// (MIG's polymorphic request port).
    pub dest: Disposition,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            timeout: None,
            dest: Disposition::CopySend,
        }
    }
}

/// Builds the reply to `req`: the return code, then (on success) `outs`.
/// Returns `None` when the request had no reply right; the out items' rights
/// then go nowhere and are destroyed by [`send_reply`].
pub fn reply_message(req: &Request, result: Result<Vec<Item>, Error>) -> Message {
    let mut body = Vec::new();
    match result {
        Ok(outs) => {
            body.reserve(outs.len() + 1);
            body.push(Item::U32(0));
            body.extend(outs);
        }
        Err(e) => body.push(Item::U32(e.code() as u32)),
    }
    Message {
        body,
        ..Message::new(
            req.id.wrapping_add(REPLY_ID_OFFSET),
            req.reply,
            Disposition::MoveSendOnce,
        )
    }
}

/// Sends a reply built by [`reply_message`]; if it cannot be delivered (no reply
/// right, or the client is gone) the rights it was to move are destroyed.
///
/// # Errors
///
/// `MACH_SEND_INVALID_DEST` when there is no reply right, or the send's
/// failure; either way the reply's rights are destroyed and the returned
/// message is empty.
pub fn send_reply<I: UserIpc + ?Sized>(ipc: &I, reply: Message) -> Result<(), SendError> {
    if !reply.header.remote.is_valid() {
        ipc.destroy_message(reply);
        return Err(SendError {
            code: MsgReturn::SendInvalidDest,
            message: Message::default(),
        });
    }
    let opts = MsgOptions {
        send_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    match ipc.mach_msg(Some(reply), None, &opts) {
        Ok(_) => Ok(()),
        Err(MachMsgError::Send(e)) => {
            let SendError { code, message } = e;
            ipc.destroy_message(message);
            Err(SendError {
                code,
                message: Message::default(),
            })
        }
        Err(MachMsgError::Receive(_)) => Ok(()),
    }
}

/// Answers a request nobody recognised with `MIG_BAD_ID`, destroying the rights
/// it carried.
pub fn bad_id<I: UserIpc + ?Sized>(ipc: &I, msg: Message) -> Dispatch {
    reject(ipc, msg, MigReturn::BadId)
}

/// Answers a request with an error code, destroying the rights it carried.
pub fn reject<I: UserIpc + ?Sized>(ipc: &I, msg: Message, code: MigReturn) -> Dispatch {
    let req = Request::of(&msg);
    let body = msg.body;
    ipc.destroy_message(Message {
        header: crate::MsgHeader {
            remote: PortName::NULL,
            ..msg.header
        },
        body,
    });
    if req.reply.is_valid() {
        Dispatch::Reply(reply_message(&req, Err(Error::Mig(code))))
    } else {
        Dispatch::NoReply
    }
}

/// A message an interface could not decode, handed back exactly as it came:
/// nothing it carries has been released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Why: `MIG_BAD_ID` (a request id that is no routine of the interface),
    /// `MIG_BAD_ARGUMENTS` (a request's items do not match the routine),
    /// `MIG_REPLY_MISMATCH` (an id that is no reply of the interface) or
    /// `MIG_TYPE_ERROR` (a reply's items do not match).
    pub code: MigReturn,
    /// The message.
    pub message: Message,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "message {} not decoded: {}",
            self.message.header.id, self.code
        )
    }
}

impl core::error::Error for DecodeError {}

/// The return code of a reply whose body is well formed: a zero code followed
/// by items `checks` accepts, or a non-zero code alone. `None` otherwise. Used
/// by the generated code.
pub fn reply_code(body: &[Item], checks: &[fn(&Item) -> bool]) -> Option<i32> {
    match body.split_first() {
        Some((Item::U32(0), outs)) if items_match(outs, checks) => Some(0),
        Some((Item::U32(code), [])) if *code != 0 => Some(*code as i32),
        _ => None,
    }
}

/// Checks a request's or reply's items against the argument types and counts:
/// used by the generated code.
pub fn items_match(items: &[Item], checks: &[fn(&Item) -> bool]) -> bool {
    items.len() == checks.len() && items.iter().zip(checks).all(|(i, f)| f(i))
}

/// The client half of an RPC: sends the request with a reply port and returns
/// the reply's out items (after the return code). Used by the generated stubs.
///
/// # Errors
///
/// A send or receive failure (`Error::Msg`), `MIG_REPLY_MISMATCH` or
/// `MIG_TYPE_ERROR` for a reply that is not this routine's, `MIG_SERVER_DIED`
/// when the reply right died unused, or the server's own return code.
pub fn call<I: UserIpc + ?Sized>(
    ipc: &I,
    port: PortName,
    id: i32,
    args: Vec<Item>,
    opts: &CallOptions,
    checks: &[fn(&Item) -> bool],
) -> Result<vec::IntoIter<Item>, Error> {
    let reply_port = ipc.reply_port().map_err(Error::Kern)?;
    let msg = Message {
        body: args,
        ..Message::new(id, port, opts.dest).with_reply(reply_port, Disposition::MakeSendOnce)
    };
    let msg_opts = MsgOptions {
        send_timeout: opts.timeout,
        rcv_timeout: opts.timeout,
        ..MsgOptions::default()
    };
    let reply = match ipc.mach_msg(Some(msg), Some(reply_port), &msg_opts) {
        Ok(Some(r)) => r,
        Ok(None) => {
            ipc.release_reply_port(reply_port, false);
            return Err(Error::Mig(MigReturn::ReplyMismatch));
        }
        Err(MachMsgError::Send(e)) => {
            // Nothing was sent: the made send-once right was never created.
            ipc.release_reply_port(reply_port, true);
            return Err(Error::Msg(e.code));
        }
        Err(MachMsgError::Receive(e)) => {
            ipc.release_reply_port(reply_port, false);
            return Err(Error::Msg(e.code));
        }
    };
    ipc.release_reply_port(reply_port, true);
    if reply.header.id == crate::notify::NOTIFY_SEND_ONCE && reply.body.is_empty() {
        return Err(Error::Mig(MigReturn::ServerDied));
    }
    if reply.header.id != id.wrapping_add(REPLY_ID_OFFSET) {
        ipc.destroy_message(reply);
        return Err(Error::Mig(MigReturn::ReplyMismatch));
    }
    let code = match reply.body.first() {
        Some(Item::U32(c)) => *c as i32,
        _ => {
            ipc.destroy_message(reply);
            return Err(Error::Mig(MigReturn::TypeError));
        }
    };
    if code != 0 {
        let err = Error::from_code(code).unwrap_or(Error::Mig(MigReturn::RemoteError));
        ipc.destroy_message(reply);
        return Err(err);
    }
    if !items_match(&reply.body[1..], checks) {
        ipc.destroy_message(reply);
        return Err(Error::Mig(MigReturn::TypeError));
    }
    let mut items = reply.body.into_iter();
    items.next();
    Ok(items)
}

/// The client half of a simpleroutine: sends the request, expects no reply.
///
/// # Errors
///
/// The send's failure (`Error::Msg`).
pub fn simple_call<I: UserIpc + ?Sized>(
    ipc: &I,
    port: PortName,
    id: i32,
    args: Vec<Item>,
    opts: &CallOptions,
) -> Result<(), Error> {
    let msg = Message {
        body: args,
        ..Message::new(id, port, opts.dest)
    };
    let msg_opts = MsgOptions {
        send_timeout: opts.timeout,
        ..MsgOptions::default()
    };
    match ipc.mach_msg(Some(msg), None, &msg_opts) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Msg(e.code())),
    }
}

/// Receives requests on `port` (a receive right or port set) forever, handing
/// each to `handle` and sending the replies it returns; requests no handler
/// claims get `MIG_BAD_ID`. Returns when receiving fails (the port died).
///
/// As GNU Mach's `mach_msg_server` does, each reply goes out in the same
/// `mach_msg` as the receive of the next request (send with a zero timeout,
/// then receive), so a server makes one call per request. A reply that cannot
/// be delivered is destroyed with the rights it was to move, and the server
/// goes on receiving.
pub fn serve<I: UserIpc + ?Sized>(
    ipc: &I,
    port: PortName,
    mut handle: impl FnMut(Message) -> Dispatch,
) -> MsgReturn {
    let opts = MsgOptions {
        send_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    let mut reply: Option<Message> = None;
    loop {
        let received = match reply.take() {
            Some(r) if r.header.remote.is_valid() => {
                match ipc.mach_msg(Some(r), Some(port), &opts) {
                    Ok(Some(m)) => Ok(m),
                    Ok(None) => ipc.receive(port),
                    Err(MachMsgError::Send(e)) => {
                        ipc.destroy_message(e.message);
                        ipc.receive(port)
                    }
                    Err(MachMsgError::Receive(e)) => Err(e),
                }
            }
            Some(r) => {
                ipc.destroy_message(r);
                ipc.receive(port)
            }
            None => ipc.receive(port),
        };
        let msg = match received {
            Ok(m) => m,
            Err(e) => return e.code,
        };
        let dispatch = match handle(msg) {
            Dispatch::NotMine(m) => bad_id(ipc, m),
            d => d,
        };
        if let Dispatch::Reply(r) = dispatch {
            reply = Some(r);
        }
    }
}
