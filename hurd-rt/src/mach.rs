//! The kernel's task and thread ports: GNU Mach's `mach.defs` routines the
//! hurd-rs kernel serves (see [`hurd_abi::rpc`]), called as typed functions.
//! Each sends a request to the port with a send-once reply right made from
//! the runtime's reply port and takes the reply's return code and out
//! arguments.
//!
//! # Errors
//!
//! Every function fails with the [`Error`] of the call: `Error::Msg` when
//! `mach_msg` itself failed (`MACH_SEND_INVALID_DEST` for a dead task or
//! thread), the reply's return code otherwise (`Error::Kern` for `KERN_*`,
//! `Error::Mig` for `MIG_BAD_ARGUMENTS`, `MIG_BAD_ID`…), and
//! `MIG_TYPE_ERROR` for a reply whose items are not the routine's.
// The section above is every function's: one list, not sixteen copies.
#![allow(clippy::missing_errors_doc)]

use alloc::vec;
use alloc::vec::Vec;

use hurd_abi::{rpc as id, thread_state};
use hurd_ipc::mig::{self, CallOptions};
use hurd_ipc::{Disposition, Error, Item, MigReturn, OolItem, PortItem, PortName};

use crate::KernelIpc;

/// One call: the reply's out items, checked against `checks`.
fn call(
    port: PortName,
    routine: i32,
    args: Vec<Item>,
    checks: &[fn(&Item) -> bool],
) -> Result<vec::IntoIter<Item>, Error> {
    mig::call(
        &KernelIpc::new(),
        port,
        routine,
        args,
        &CallOptions::default(),
        checks,
    )
}

fn is_port(i: &Item) -> bool {
    matches!(i, Item::Port(_))
}

fn is_u64(i: &Item) -> bool {
    matches!(i, Item::U64(_))
}

fn is_bytes(i: &Item) -> bool {
    matches!(i, Item::Bytes(_) | Item::Ool(_))
}

/// The port right of a reply checked to hold one.
fn port(mut items: vec::IntoIter<Item>) -> Result<PortName, Error> {
    match items.next() {
        Some(Item::Port(p)) => Ok(p.name),
        _ => Err(Error::Mig(MigReturn::TypeError)),
    }
}

/// `task_create(task, inherit_memory)`: a new task with no threads, an
/// empty address space or (with `inherit`) a copy of `task`'s; a send right
/// to its port, now the caller's.
pub fn task_create(task: PortName, inherit: bool) -> Result<PortName, Error> {
    port(call(
        task,
        id::TASK_CREATE,
        vec![Item::U32(u32::from(inherit))],
        &[is_port],
    )?)
}

/// `task_terminate(task)`.
pub fn task_terminate(task: PortName) -> Result<(), Error> {
    call(task, id::TASK_TERMINATE, Vec::new(), &[]).map(drop)
}

/// `task_suspend(task)`.
pub fn task_suspend(task: PortName) -> Result<(), Error> {
    call(task, id::TASK_SUSPEND, Vec::new(), &[]).map(drop)
}

/// `task_resume(task)`.
pub fn task_resume(task: PortName) -> Result<(), Error> {
    call(task, id::TASK_RESUME, Vec::new(), &[]).map(drop)
}

/// `thread_create(task)`: a new thread of `task`, suspended once, with a
/// zero state; a send right to its port, now the caller's.
pub fn thread_create(task: PortName) -> Result<PortName, Error> {
    port(call(task, id::THREAD_CREATE, Vec::new(), &[is_port])?)
}

/// `thread_resume(thread)`.
pub fn thread_resume(thread: PortName) -> Result<(), Error> {
    call(thread, id::THREAD_RESUME, Vec::new(), &[]).map(drop)
}

/// `thread_suspend(thread)`.
pub fn thread_suspend(thread: PortName) -> Result<(), Error> {
    call(thread, id::THREAD_SUSPEND, Vec::new(), &[]).map(drop)
}

/// `thread_terminate(thread)`.
pub fn thread_terminate(thread: PortName) -> Result<(), Error> {
    call(thread, id::THREAD_TERMINATE, Vec::new(), &[]).map(drop)
}

/// `thread_get_state` of `flavor`, asking for `count` words: the registers
/// (see [`thread_state`]).
pub fn thread_get_state(
    thread: PortName,
    flavor: u32,
    count: u32,
) -> Result<[u64; thread_state::COUNT], Error> {
    let mut items = call(
        thread,
        id::THREAD_GET_STATE,
        vec![Item::U32(flavor), Item::U32(count)],
        &[is_bytes],
    )?;
    let bytes = match items.next() {
        Some(Item::Bytes(b)) => b,
        Some(Item::Ool(o)) => o.data,
        _ => return Err(Error::Mig(MigReturn::TypeError)),
    };
    if bytes.len() != thread_state::COUNT * 8 {
        return Err(Error::Mig(MigReturn::TypeError));
    }
    let mut state = [0u64; thread_state::COUNT];
    for (w, b) in state.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut le = [0u8; 8];
        le.copy_from_slice(b);
        *w = u64::from_le_bytes(le);
    }
    Ok(state)
}

/// `thread_set_state` of `flavor` with `words` (the kernel checks their
/// number and values).
pub fn thread_set_state(thread: PortName, flavor: u32, words: &[u64]) -> Result<(), Error> {
    let bytes = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    call(
        thread,
        id::THREAD_SET_STATE,
        vec![Item::U32(flavor), Item::Bytes(bytes)],
        &[],
    )
    .map(drop)
}

/// `vm_allocate(task, address, size, anywhere)`: zero-filled memory in
/// `task`'s map; the address.
pub fn vm_allocate(task: PortName, address: u64, size: u64, anywhere: bool) -> Result<u64, Error> {
    let args = vec![
        Item::U64(address),
        Item::U64(size),
        Item::U32(u32::from(anywhere)),
    ];
    match call(task, id::VM_ALLOCATE, args, &[is_u64])?.next() {
        Some(Item::U64(a)) => Ok(a),
        _ => Err(Error::Mig(MigReturn::TypeError)),
    }
}

/// `vm_deallocate(task, address, size)`.
pub fn vm_deallocate(task: PortName, address: u64, size: u64) -> Result<(), Error> {
    let args = vec![Item::U64(address), Item::U64(size)];
    call(task, id::VM_DEALLOCATE, args, &[]).map(drop)
}

/// `vm_protect(task, address, size, set_maximum, protection)` (read 1,
/// write 2, execute 4).
pub fn vm_protect(
    task: PortName,
    (address, size): (u64, u64),
    set_maximum: bool,
    protection: u32,
) -> Result<(), Error> {
    let args = vec![
        Item::U64(address),
        Item::U64(size),
        Item::U32(u32::from(set_maximum)),
        Item::U32(protection),
    ];
    call(task, id::VM_PROTECT, args, &[]).map(drop)
}

/// `vm_write(task, address, data)`: whole pages, all allocated and writable.
pub fn vm_write(task: PortName, address: u64, data: &[u8]) -> Result<(), Error> {
    let ool = Item::Ool(OolItem {
        data: data.to_vec(),
        deallocate: false,
    });
    call(task, id::VM_WRITE, vec![Item::U64(address), ool], &[]).map(drop)
}

/// `vm_read(task, address, size)` of whole pages: their bytes.
pub fn vm_read(task: PortName, address: u64, size: u64) -> Result<Vec<u8>, Error> {
    let args = vec![Item::U64(address), Item::U64(size)];
    match call(task, id::VM_READ, args, &[is_bytes])?.next() {
        Some(Item::Ool(o)) => Ok(o.data),
        Some(Item::Bytes(b)) => Ok(b),
        _ => Err(Error::Mig(MigReturn::TypeError)),
    }
}

/// `mach_port_insert_right(task, name, right)`: the caller's `right`, used
/// with `disposition` (`CopySend`, `MakeSend`, `MoveSend`…), goes into
/// `task`'s space under `name`.
pub fn insert_right(
    task: PortName,
    name: PortName,
    (right, disposition): (PortName, Disposition),
) -> Result<(), Error> {
    let right = Item::Port(PortItem {
        disposition,
        name: right,
    });
    call(
        task,
        id::MACH_PORT_INSERT_RIGHT,
        vec![Item::U32(name.0), right],
        &[],
    )
    .map(drop)
}

/// `task_notify_exit(task, notify)` (hurd-rs's own routine): a send-once
/// right made from `notify`, a receive right of the caller's, gets
/// `TASK_EXITED` with the task's exit status when it ends.
pub fn task_notify_exit(task: PortName, notify: PortName) -> Result<(), Error> {
    let notify = Item::Port(PortItem {
        disposition: Disposition::MakeSendOnce,
        name: notify,
    });
    call(task, id::TASK_NOTIFY_EXIT, vec![notify], &[]).map(drop)
}
