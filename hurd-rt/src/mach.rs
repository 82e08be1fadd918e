//! The kernel's task and thread ports: GNU Mach's `mach.defs` and
//! `mach_port.defs` routines and hurd-rs's own that the kernel serves,
//! called through the clients [`hurd_abi`]'s interface definitions generate
//! ([`hurd_abi::mach`], [`hurd_abi::mach_port`], [`hurd_abi::hurd_task`]),
//! over [`KernelIpc`]. These functions take and give port names and byte
//! slices; a program that wants the messages themselves uses the generated
//! `Client`s, `Call`s and `Reply`s directly.
//!
//! # Errors
//!
//! Every function fails with the [`Error`] of the call: `Error::Msg` when
//! `mach_msg` itself failed (`MACH_SEND_INVALID_DEST` for a dead task or
//! thread), the reply's return code otherwise (`Error::Kern` for `KERN_*`,
//! `Error::Mig` for `MIG_BAD_ARGUMENTS`, `MIG_BAD_ID`…, and
//! `MIG_TYPE_ERROR` for a reply whose items are not the routine's).
// The section above is every function's: one list, not sixteen copies.
#![allow(clippy::missing_errors_doc)]

use alloc::vec::Vec;

use hurd_abi::{ThreadState, hurd_task, mach, mach_port, thread_state};
use hurd_ipc::{Disposition, Error, MigReturn, OolItem, PortItem, PortName};

use crate::KernelIpc;

/// The `mach.defs` client for `port` (a task or thread port).
fn client(ipc: &KernelIpc, port: PortName) -> mach::Client<'_, KernelIpc> {
    mach::Client::new(ipc, port)
}

/// `task_create(task, inherit_memory)`: a new task with no threads, an
/// empty address space or (with `inherit`) a copy of `task`'s; a send right
/// to its port, now the caller's.
pub fn task_create(task: PortName, inherit: bool) -> Result<PortName, Error> {
    Ok(client(&KernelIpc::new(), task).task_create(inherit)?.name)
}

/// `task_terminate(task)`.
pub fn task_terminate(task: PortName) -> Result<(), Error> {
    client(&KernelIpc::new(), task).task_terminate()
}

/// `task_suspend(task)`.
pub fn task_suspend(task: PortName) -> Result<(), Error> {
    client(&KernelIpc::new(), task).task_suspend()
}

/// `task_resume(task)`.
pub fn task_resume(task: PortName) -> Result<(), Error> {
    client(&KernelIpc::new(), task).task_resume()
}

/// `thread_create(task)`: a new thread of `task`, suspended once, with a
/// zero state; a send right to its port, now the caller's.
pub fn thread_create(task: PortName) -> Result<PortName, Error> {
    Ok(client(&KernelIpc::new(), task).thread_create()?.name)
}

/// `thread_resume(thread)`.
pub fn thread_resume(thread: PortName) -> Result<(), Error> {
    client(&KernelIpc::new(), thread).thread_resume()
}

/// `thread_suspend(thread)`.
pub fn thread_suspend(thread: PortName) -> Result<(), Error> {
    client(&KernelIpc::new(), thread).thread_suspend()
}

/// `thread_terminate(thread)`.
pub fn thread_terminate(thread: PortName) -> Result<(), Error> {
    client(&KernelIpc::new(), thread).thread_terminate()
}

/// `thread_get_state` of `flavor`, asking for `count` words: the registers
/// (see [`thread_state`]); `MIG_TYPE_ERROR` when the state is not
/// [`thread_state::COUNT`] words.
pub fn thread_get_state(
    thread: PortName,
    flavor: u32,
    count: u32,
) -> Result<[u64; thread_state::COUNT], Error> {
    client(&KernelIpc::new(), thread)
        .thread_get_state(flavor, count)?
        .registers()
        .ok_or(Error::Mig(MigReturn::TypeError))
}

/// `thread_set_state` of `flavor` with `words` (the kernel checks their
/// number and values; more than [`ThreadState::MAX`] is `MIG_BAD_ARGUMENTS`
/// here).
pub fn thread_set_state(thread: PortName, flavor: u32, words: &[u64]) -> Result<(), Error> {
    let state = ThreadState::from_words(words).ok_or(Error::Mig(MigReturn::BadArguments))?;
    client(&KernelIpc::new(), thread).thread_set_state(flavor, state)
}

/// `vm_allocate(task, address, size, anywhere)`: zero-filled memory in
/// `task`'s map; the address.
pub fn vm_allocate(task: PortName, address: u64, size: u64, anywhere: bool) -> Result<u64, Error> {
    client(&KernelIpc::new(), task).vm_allocate(address, size, anywhere)
}

/// `vm_deallocate(task, address, size)`.
pub fn vm_deallocate(task: PortName, address: u64, size: u64) -> Result<(), Error> {
    client(&KernelIpc::new(), task).vm_deallocate(address, size)
}

/// `vm_protect(task, address, size, set_maximum, protection)` (read 1,
/// write 2, execute 4).
pub fn vm_protect(
    task: PortName,
    (address, size): (u64, u64),
    set_maximum: bool,
    protection: u32,
) -> Result<(), Error> {
    client(&KernelIpc::new(), task).vm_protect(address, size, set_maximum, protection)
}

/// `vm_write(task, address, data)`: whole pages, all allocated and writable.
pub fn vm_write(task: PortName, address: u64, data: &[u8]) -> Result<(), Error> {
    let data = OolItem {
        data: data.to_vec(),
        deallocate: false,
    };
    client(&KernelIpc::new(), task).vm_write(address, data)
}

/// `vm_read(task, address, size)` of whole pages: their bytes.
pub fn vm_read(task: PortName, address: u64, size: u64) -> Result<Vec<u8>, Error> {
    Ok(client(&KernelIpc::new(), task).vm_read(address, size)?.data)
}

/// `mach_port_insert_right(task, name, right)`: the caller's `right`, used
/// with `disposition` (`CopySend`, `MakeSend`, `MoveSend`…), goes into
/// `task`'s space under `name`.
pub fn insert_right(
    task: PortName,
    name: PortName,
    (right, disposition): (PortName, Disposition),
) -> Result<(), Error> {
    let right = PortItem {
        disposition,
        name: right,
    };
    mach_port::Client::new(&KernelIpc::new(), task).mach_port_insert_right(name.0, right)
}

/// `task_notify_exit(task, notify)` (hurd-rs's own routine): a send-once
/// right made from `notify`, a receive right of the caller's, gets
/// [`hurd_task::Call::task_exited`] with the task's exit status when it
/// ends.
pub fn task_notify_exit(task: PortName, notify: PortName) -> Result<(), Error> {
    let notify = PortItem {
        disposition: Disposition::MakeSendOnce,
        name: notify,
    };
    hurd_task::Client::new(&KernelIpc::new(), task).task_notify_exit(notify)
}
