//! Calls to the kernel's task and thread ports (see
//! [`hurd_abi::rpc`]): a request with a send-once reply right, the
//! reply received on the same port.

use hurd_abi::msg_option::{RCV_MSG, SEND_MSG};
use hurd_abi::rpc::REPLY_OFFSET;
use hurd_abi::thread_state;

use crate::msg::{COPY_SEND, MAKE_SEND_ONCE, MsgBuf};
use crate::sys;

/// What a call came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// `mach_msg` itself failed with this code (a dead port gives
    /// `MACH_SEND_INVALID_DEST`).
    Msg(u64),
    /// The reply's return code (its first item).
    Code(i32),
}

/// `MACH_SEND_INVALID_DEST`.
pub const SEND_INVALID_DEST: u64 = 0x1000_0003;

/// Sends the request in `buf` (started with [`start`]) and receives the
/// reply on `reply`; returns the code.
pub fn call(buf: &mut MsgBuf, reply: u32) -> Reply {
    let id = buf.id();
    let rc = sys::mach_msg(
        buf.as_mut_ptr(),
        SEND_MSG | RCV_MSG,
        u64::from(buf.size()),
        MsgBuf::CAPACITY,
        reply,
        0,
    );
    if rc != 0 {
        return Reply::Msg(rc);
    }
    if buf.id() != id + REPLY_OFFSET {
        return Reply::Msg(u64::MAX);
    }
    match buf.item(0) {
        Some((_, code)) => Reply::Code(code as i32),
        None => Reply::Msg(u64::MAX),
    }
}

/// Starts request `id` to `port` with the reply port `reply`.
pub fn start(buf: &mut MsgBuf, port: u32, reply: u32, id: i32) {
    buf.start(port, COPY_SEND, reply, MAKE_SEND_ONCE, id);
}

/// A request with no arguments.
pub fn simple(buf: &mut MsgBuf, port: u32, reply: u32, id: i32) -> Reply {
    start(buf, port, reply, id);
    call(buf, reply)
}

/// A request whose reply carries a port right (`task_create`,
/// `thread_create`): the right's name on success.
pub fn port_reply(buf: &mut MsgBuf, reply: u32) -> Result<u32, Reply> {
    match call(buf, reply) {
        Reply::Code(0) => buf
            .item(1)
            .map(|(_, name)| name)
            .ok_or(Reply::Msg(u64::MAX)),
        other => Err(other),
    }
}

/// `thread_get_state` of the one flavor, taking `count` words.
pub fn get_state(
    buf: &mut MsgBuf,
    thread: u32,
    reply: u32,
    flavor: u32,
    count: u32,
) -> Result<[u64; thread_state::COUNT], Reply> {
    start(buf, thread, reply, hurd_abi::rpc::THREAD_GET_STATE);
    buf.push_u32(flavor);
    buf.push_u32(count);
    match call(buf, reply) {
        Reply::Code(0) => {}
        other => return Err(other),
    }
    let bytes = buf.bytes_item(1).ok_or(Reply::Msg(u64::MAX))?;
    if bytes.len() != thread_state::COUNT * 8 {
        return Err(Reply::Msg(u64::MAX));
    }
    let mut state = [0u64; thread_state::COUNT];
    for (w, b) in state.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut le = [0u8; 8];
        le.copy_from_slice(b);
        *w = u64::from_le_bytes(le);
    }
    Ok(state)
}

/// `thread_set_state` with `words` (any number, to test the kernel's checks).
pub fn set_state(buf: &mut MsgBuf, thread: u32, reply: u32, flavor: u32, words: &[u64]) -> Reply {
    start(buf, thread, reply, hurd_abi::rpc::THREAD_SET_STATE);
    buf.push_u32(flavor);
    let mut bytes = [0u8; 8 * (thread_state::COUNT + 2)];
    let n = words.len().min(thread_state::COUNT + 2);
    for (i, w) in words[..n].iter().enumerate() {
        bytes[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    buf.push_bytes(&bytes[..n * 8]);
    call(buf, reply)
}

/// `vm_allocate(task, address, size, anywhere)`: the address allocated.
pub fn vm_allocate(
    buf: &mut MsgBuf,
    task: u32,
    reply: u32,
    address: u64,
    size: u64,
    anywhere: bool,
) -> Result<u64, Reply> {
    start(buf, task, reply, hurd_abi::rpc::VM_ALLOCATE);
    buf.push_u64(address);
    buf.push_u64(size);
    buf.push_u32(u32::from(anywhere));
    match call(buf, reply) {
        Reply::Code(0) => buf.item_u64(1).ok_or(Reply::Msg(u64::MAX)),
        other => Err(other),
    }
}

/// `vm_protect(task, address, size, set_maximum, protection)`.
pub fn vm_protect(
    buf: &mut MsgBuf,
    task: u32,
    reply: u32,
    (address, size): (u64, u64),
    set_maximum: bool,
    protection: u32,
) -> Reply {
    start(buf, task, reply, hurd_abi::rpc::VM_PROTECT);
    buf.push_u64(address);
    buf.push_u64(size);
    buf.push_u32(u32::from(set_maximum));
    buf.push_u32(protection);
    call(buf, reply)
}

/// `vm_write(task, address, data)`: `data` whole pages.
pub fn vm_write(buf: &mut MsgBuf, task: u32, reply: u32, address: u64, data: &[u8]) -> Reply {
    start(buf, task, reply, hurd_abi::rpc::VM_WRITE);
    buf.push_u64(address);
    buf.push_ool(data.len(), |i| data[i]);
    call(buf, reply)
}

/// `vm_read(task, address, size)` of whole pages: the reply's out-of-line
/// bytes are left in `buf` (see [`MsgBuf::bytes_item`], item 1).
pub fn vm_read(buf: &mut MsgBuf, task: u32, reply: u32, address: u64, size: u64) -> Reply {
    start(buf, task, reply, hurd_abi::rpc::VM_READ);
    buf.push_u64(address);
    buf.push_u64(size);
    call(buf, reply)
}

/// `mach_port_insert_right(task, name, right)`: the caller's `right`, with
/// `disposition` (`COPY_SEND`, `MAKE_SEND`, `MOVE_SEND`…), goes into
/// `task`'s space under `name`.
pub fn insert_right(
    buf: &mut MsgBuf,
    task: u32,
    reply: u32,
    name: u32,
    (right, disposition): (u32, u32),
) -> Reply {
    start(buf, task, reply, hurd_abi::rpc::MACH_PORT_INSERT_RIGHT);
    buf.push_u32(name);
    buf.push_port(right, disposition);
    call(buf, reply)
}
