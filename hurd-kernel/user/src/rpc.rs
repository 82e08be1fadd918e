//! Calls to the kernel's task and thread ports (see [`hurd_abi::rpc`]): a
//! request with a send-once reply right made from the runtime's reply port,
//! the reply received there, its return code first.

use alloc::vec;
use alloc::vec::Vec;

use hurd_abi::rpc as id;
use hurd_abi::thread_state;
use hurd_ipc::{
    Disposition, Item, MachMsgError, Message, MsgOptions, MsgReturn, OolItem, PortItem, PortName,
    UserIpc,
};
use hurd_rt::KernelIpc;

/// What a call came back with, when it did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// `mach_msg` itself failed with this code (a dead port gives
    /// `MACH_SEND_INVALID_DEST`).
    Msg(MsgReturn),
    /// The reply's return code (its first item), not zero.
    Code(i32),
    /// The reply was not the request's (wrong id, no return code, or
    /// items of other types than the routine's).
    Malformed,
}

/// Sends request `id` with `args` to `port` and returns the reply's items
/// after a return code of 0. Rights in a failed reply are released.
pub fn call(port: PortName, id: i32, args: Vec<Item>) -> Result<Vec<Item>, Reply> {
    let ipc = KernelIpc::new();
    let reply_port = ipc
        .reply_port()
        .map_err(|_| Reply::Msg(MsgReturn::SendNoBuffer))?;
    let msg = Message {
        body: args,
        ..Message::new(id, port, Disposition::CopySend)
            .with_reply(reply_port, Disposition::MakeSendOnce)
    };
    let reply = match ipc.mach_msg(Some(msg), Some(reply_port), &MsgOptions::default()) {
        Ok(Some(r)) => r,
        Ok(None) => {
            ipc.release_reply_port(reply_port, false);
            return Err(Reply::Malformed);
        }
        Err(MachMsgError::Send(e)) => {
            ipc.release_reply_port(reply_port, true);
            ipc.destroy_message(e.message);
            return Err(Reply::Msg(e.code));
        }
        Err(MachMsgError::Receive(e)) => {
            ipc.release_reply_port(reply_port, false);
            return Err(Reply::Msg(e.code));
        }
    };
    ipc.release_reply_port(reply_port, true);
    let code = match reply.body.first() {
        Some(Item::U32(c)) if reply.header.id == id + id::REPLY_OFFSET => *c as i32,
        _ => {
            ipc.destroy_message(reply);
            return Err(Reply::Malformed);
        }
    };
    if code != 0 {
        ipc.destroy_message(reply);
        return Err(Reply::Code(code));
    }
    let mut items = reply.body;
    items.remove(0);
    Ok(items)
}

/// A request whose reply carries nothing but the return code.
pub fn simple(port: PortName, id: i32, args: Vec<Item>) -> Result<(), Reply> {
    match call(port, id, args)?.as_slice() {
        [] => Ok(()),
        _ => Err(Reply::Malformed),
    }
}

/// A request whose reply carries one port right (`task_create`,
/// `thread_create`): its name, now the caller's.
fn port_reply(port: PortName, id: i32, args: Vec<Item>) -> Result<PortName, Reply> {
    match call(port, id, args)?.as_slice() {
        [Item::Port(p)] => Ok(p.name),
        _ => Err(Reply::Malformed),
    }
}

/// `task_create(task, inherit_memory)`: a send right to the new task's
/// port.
pub fn task_create(task: PortName, inherit: bool) -> Result<PortName, Reply> {
    port_reply(task, id::TASK_CREATE, vec![Item::U32(u32::from(inherit))])
}

/// `task_terminate(task)`.
pub fn task_terminate(task: PortName) -> Result<(), Reply> {
    simple(task, id::TASK_TERMINATE, Vec::new())
}

/// `thread_create(task)`: a send right to the new (suspended) thread's port.
pub fn thread_create(task: PortName) -> Result<PortName, Reply> {
    port_reply(task, id::THREAD_CREATE, Vec::new())
}

/// `thread_resume(thread)`.
pub fn thread_resume(thread: PortName) -> Result<(), Reply> {
    simple(thread, id::THREAD_RESUME, Vec::new())
}

/// `thread_get_state` of `flavor`, asking for `count` words.
pub fn get_state(
    thread: PortName,
    flavor: u32,
    count: u32,
) -> Result<[u64; thread_state::COUNT], Reply> {
    let items = call(
        thread,
        id::THREAD_GET_STATE,
        vec![Item::U32(flavor), Item::U32(count)],
    )?;
    let [Item::Bytes(bytes)] = items.as_slice() else {
        return Err(Reply::Malformed);
    };
    if bytes.len() != thread_state::COUNT * 8 {
        return Err(Reply::Malformed);
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
pub fn set_state(thread: PortName, flavor: u32, words: &[u64]) -> Result<(), Reply> {
    let bytes = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    simple(
        thread,
        id::THREAD_SET_STATE,
        vec![Item::U32(flavor), Item::Bytes(bytes)],
    )
}

/// `vm_allocate(task, address, size, anywhere)`: the address allocated.
pub fn vm_allocate(task: PortName, address: u64, size: u64, anywhere: bool) -> Result<u64, Reply> {
    let args = vec![
        Item::U64(address),
        Item::U64(size),
        Item::U32(u32::from(anywhere)),
    ];
    match call(task, id::VM_ALLOCATE, args)?.as_slice() {
        [Item::U64(a)] => Ok(*a),
        _ => Err(Reply::Malformed),
    }
}

/// `vm_protect(task, address, size, set_maximum, protection)`.
pub fn vm_protect(
    task: PortName,
    (address, size): (u64, u64),
    set_maximum: bool,
    protection: u32,
) -> Result<(), Reply> {
    let args = vec![
        Item::U64(address),
        Item::U64(size),
        Item::U32(u32::from(set_maximum)),
        Item::U32(protection),
    ];
    simple(task, id::VM_PROTECT, args)
}

/// `vm_write(task, address, data)`: `data` whole pages.
pub fn vm_write(task: PortName, address: u64, data: &[u8]) -> Result<(), Reply> {
    let ool = Item::Ool(OolItem {
        data: data.to_vec(),
        deallocate: false,
    });
    simple(task, id::VM_WRITE, vec![Item::U64(address), ool])
}

/// `vm_read(task, address, size)` of whole pages: their bytes.
pub fn vm_read(task: PortName, address: u64, size: u64) -> Result<Vec<u8>, Reply> {
    let items = call(task, id::VM_READ, vec![Item::U64(address), Item::U64(size)])?;
    match items.into_iter().next() {
        Some(Item::Ool(o)) => Ok(o.data),
        Some(Item::Bytes(b)) => Ok(b),
        _ => Err(Reply::Malformed),
    }
}

/// `mach_port_insert_right(task, name, right)`: the caller's `right`, used
/// with `disposition` (`CopySend`, `MakeSend`, `MoveSend`…), goes into
/// `task`'s space under `name`.
pub fn insert_right(
    task: PortName,
    name: PortName,
    (right, disposition): (PortName, Disposition),
) -> Result<(), Reply> {
    let right = Item::Port(PortItem {
        disposition,
        name: right,
    });
    simple(
        task,
        id::MACH_PORT_INSERT_RIGHT,
        vec![Item::U32(name.0), right],
    )
}

/// `task_notify_exit(task, notify)`: a send-once right made from `notify`
/// (a receive right of the caller's) gets `TASK_EXITED` when `task` ends.
pub fn task_notify_exit(task: PortName, notify: PortName) -> Result<(), Reply> {
    let notify = Item::Port(PortItem {
        disposition: Disposition::MakeSendOnce,
        name: notify,
    });
    simple(task, id::TASK_NOTIFY_EXIT, vec![notify])
}
