//! `task_create`: an empty task whose one thread (made by `thread_create`,
//! started by `thread_set_state` and `thread_resume`) faults at once and is
//! killed; a task that inherits a copy of this one's memory, whose thread
//! runs a function of this program and exits with the status it was given
//! (its writes stay its own); a task terminated with no thread. Requests to
//! the dead tasks and threads fail with `MACH_SEND_INVALID_DEST`; malformed
//! requests get `MIG_BAD_ARGUMENTS`. The VM calls on a task port build the
//! memory of a task with no thread: allocate, write and read back whole
//! pages, protect, deallocate, and each refusal's code; and
//! `mach_port_insert_right` on its port gives it a right under a chosen
//! name (a name taken by another port and a request without a right are
//! refused). The kernel test checks the children's
//! exit statuses. Returns 0 when all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use hurd_abi::USER_BASE;
use hurd_abi::rpc::*;
use hurd_abi::thread_state::{COUNT, FLAVOR, RDI, RIP, RSP};
use hurd_ipc::{
    Disposition, Error, Item, KernReturn, MigReturn, MsgReturn, PortName, RightType, UserIpc,
};
use hurd_rt::{KernelIpc, mach, println, task, thread, vm};
use kernel_test_programs::call;

/// What a call came to: `Ok(())`, or its error.
type Reply = Result<(), Error>;

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// `MIG_BAD_ARGUMENTS`.
const BAD_ARGUMENTS: Reply = Err(Error::Mig(MigReturn::BadArguments));
/// The status the inheriting child exits with.
pub const CHILD_STATUS: u64 = 7;
/// The stack size of the inheriting child's thread.
const STACK: usize = 64 * 1024;

/// Written by the child (in its copy of this memory) only.
static MARKER: AtomicU64 = AtomicU64::new(0);

/// The inheriting child's thread: marks its memory and exits with the
/// marker.
extern "C" fn child(status: u64) -> ! {
    MARKER.store(status, Ordering::SeqCst);
    task::exit(MARKER.load(Ordering::SeqCst))
}

/// A call's outcome, its value dropped.
fn outcome<T>(r: Result<T, Error>) -> Reply {
    r.map(drop)
}

/// A thread in `task` started at `rip` with `rsp` and `rdi`.
fn start_thread(task: PortName, rip: u64, rsp: u64, rdi: u64) -> Result<PortName, Error> {
    let thread = mach::thread_create(task)?;
    let mut state = [0u64; COUNT];
    state[RIP] = rip;
    state[RSP] = rsp;
    state[RDI] = rdi;
    mach::thread_set_state(thread, FLAVOR, &state)?;
    mach::thread_resume(thread)?;
    Ok(thread)
}

/// Waits until requests to `port` fail as to a dead port (a bad id is the
/// probe: it changes nothing).
fn wait_dead(port: PortName) -> bool {
    for _ in 0..100_000 {
        match call(port, 2999, Vec::new()) {
            Err(Error::Msg(MsgReturn::SendInvalidDest)) => return true,
            Err(Error::Mig(MigReturn::BadId)) => thread::yield_now(),
            other => {
                println!("task-create: probe: {other:?}");
                return false;
            }
        }
    }
    false
}

fn main() -> u64 {
    kernel_test_programs::report::status(steps())
}

fn steps() -> Result<(), u64> {
    let me = task::task_self();
    let dead: Reply = Err(Error::Msg(MsgReturn::SendInvalidDest));
    let raw = |port, id, args| call(port, id, args);

    // Malformed requests: nothing is created.
    for (step, inherit) in [(2, 2), (3, u32::MAX)] {
        check(
            step,
            "task_create with a bad boolean",
            raw(me, TASK_CREATE, vec![Item::U32(inherit)]),
            BAD_ARGUMENTS,
        )?;
    }
    check(
        4,
        "task_create without an argument",
        raw(me, TASK_CREATE, vec![]),
        BAD_ARGUMENTS,
    )?;
    check(
        5,
        "task_create with a u64",
        raw(me, TASK_CREATE, vec![Item::U64(0)]),
        BAD_ARGUMENTS,
    )?;

    // An empty task: its thread faults at once and the task is killed.
    let empty = mach::task_create(me, false).map_err(|e| {
        println!("task-create: task_create: {e:?}");
        6u64
    })?;
    let thread = start_thread(empty, USER_BASE + 0x1000, USER_BASE + 0x10000, 0).map_err(|e| {
        println!("task-create: starting a thread in the empty task: {e:?}");
        7u64
    })?;
    if !wait_dead(empty) {
        return Err(8);
    }
    let simple = |port, id| call(port, id, Vec::new());
    check(
        9,
        "resume a thread of a dead task",
        simple(thread, THREAD_RESUME),
        dead,
    )?;
    check(
        10,
        "thread_create in a dead task",
        simple(empty, THREAD_CREATE),
        dead,
    )?;
    check(
        11,
        "terminate a dead task",
        simple(empty, TASK_TERMINATE),
        dead,
    )?;

    // A task with a copy of this one's memory runs our code.
    let (stack, _) = vm::allocate(STACK).map_err(|_| 12u64)?.into_raw();
    let copy = mach::task_create(me, true).map_err(|_| 13u64)?;
    start_thread(
        copy,
        child as *const () as u64,
        stack + STACK as u64 - 8,
        CHILD_STATUS,
    )
    .map_err(|e| {
        println!("task-create: starting a thread in the copied task: {e:?}");
        14u64
    })?;
    if !wait_dead(copy) {
        return Err(15);
    }
    if MARKER.load(Ordering::SeqCst) != 0 {
        println!("task-create: the child's write reached the parent");
        return Err(16);
    }

    // A task with no thread: its memory built by the VM calls on its port,
    // then terminated.
    let idle = mach::task_create(me, false).map_err(|_| 17u64)?;
    vm_calls(idle)?;
    insert_rights(idle)?;
    check(18, "task_terminate", simple(idle, TASK_TERMINATE), Ok(()))?;
    check(
        19,
        "suspend a terminated task",
        simple(idle, TASK_SUSPEND),
        dead,
    )?;
    Ok(())
}

/// `vm_allocate`, `vm_write`, `vm_read`, `vm_protect` and `vm_deallocate`
/// on `task`'s port, with the refusals Mach gives.
fn vm_calls(task: PortName) -> Result<(), u64> {
    const INVALID_ADDRESS: Reply = Err(Error::Kern(KernReturn::InvalidAddress));
    const PROTECTION_FAILURE: Reply = Err(Error::Kern(KernReturn::ProtectionFailure));
    const INVALID_ARGUMENT: Reply = Err(Error::Kern(KernReturn::InvalidArgument));
    let at = USER_BASE + (1 << 32);
    check(
        20,
        "vm_allocate of nothing",
        outcome(mach::vm_allocate(task, at, 0, false)),
        INVALID_ADDRESS,
    )?;
    let got = mach::vm_allocate(task, at, 8192, false);
    if got != Ok(at) {
        println!("task-create: vm_allocate in the child: {got:?}");
        return Err(21);
    }
    let page: [u8; 4096] = core::array::from_fn(|i| (i % 251) as u8);
    check(
        22,
        "vm_write",
        outcome(mach::vm_write(task, at, &page)),
        Ok(()),
    )?;
    match mach::vm_read(task, at, 4096) {
        Ok(read) if read == page => {}
        Ok(_) => {
            println!("task-create: vm_read did not give back what vm_write wrote");
            return Err(24);
        }
        Err(e) => return check(23, "vm_read", Err(e), Ok(())),
    }
    check(
        25,
        "vm_write off a page boundary",
        outcome(mach::vm_write(task, at + 8, &page)),
        INVALID_ADDRESS,
    )?;
    check(
        26,
        "vm_write where nothing is allocated",
        outcome(mach::vm_write(task, at + (1 << 20), &page)),
        INVALID_ADDRESS,
    )?;
    check(
        27,
        "vm_protect read-only",
        outcome(mach::vm_protect(task, (at, 8192), false, 1)),
        Ok(()),
    )?;
    check(
        28,
        "vm_write to a read-only page",
        outcome(mach::vm_write(task, at + 4096, &page)),
        PROTECTION_FAILURE,
    )?;
    check(
        29,
        "vm_protect with unknown bits",
        outcome(mach::vm_protect(task, (at, 8192), false, 0x100)),
        INVALID_ARGUMENT,
    )?;
    check(
        30,
        "vm_read of too much",
        outcome(mach::vm_read(task, at, 1 << 20)),
        INVALID_ARGUMENT,
    )?;
    let bad_boolean = vec![Item::U64(at), Item::U64(4096), Item::U32(2)];
    check(
        31,
        "vm_allocate with a bad boolean",
        call(task, VM_ALLOCATE, bad_boolean),
        BAD_ARGUMENTS,
    )?;
    check(
        32,
        "vm_deallocate",
        outcome(mach::vm_deallocate(task, at, 8192)),
        Ok(()),
    )?;
    check(
        33,
        "vm_read of freed memory",
        outcome(mach::vm_read(task, at, 4096)),
        INVALID_ADDRESS,
    )
}

/// `mach_port_insert_right` into `task`'s space.
fn insert_rights(task: PortName) -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let name = PortName(0x30);
    let port = ipc.port_allocate(RightType::Receive).map_err(|_| 40u64)?;
    let give = |right| {
        outcome(mach::insert_right(
            task,
            name,
            (right, Disposition::MakeSend),
        ))
    };
    check(41, "insert a send right", give(port), Ok(()))?;
    // The same port again under the same name: one more reference, as in
    // Mach. Another port under that name: refused (KERN_NAME_EXISTS, 13,
    // or KERN_RIGHT_EXISTS, 21).
    check(44, "the same right again", give(port), Ok(()))?;
    let other = ipc.port_allocate(RightType::Receive).map_err(|_| 45u64)?;
    match give(other) {
        Err(Error::Kern(KernReturn::NameExists | KernReturn::RightExists)) => {}
        other => {
            println!("task-create: a taken name: {other:?}");
            return Err(42);
        }
    }
    check(
        43,
        "insert with no right",
        call(task, MACH_PORT_INSERT_RIGHT, vec![Item::U32(0x31)]),
        BAD_ARGUMENTS,
    )?;
    Ok(())
}
