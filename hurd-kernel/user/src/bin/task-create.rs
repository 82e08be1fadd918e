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
#![cfg_attr(target_os = "none", no_std, no_main)]

use core::sync::atomic::{AtomicU64, Ordering};

use kernel_user::abi::USER_BASE;
use kernel_user::abi::rpc::*;
use kernel_user::abi::thread_state::{COUNT, FLAVOR, RDI, RIP, RSP};
use kernel_user::msg::MsgBuf;
use kernel_user::rpc::{self, Reply, SEND_INVALID_DEST};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// `MIG_BAD_ARGUMENTS`.
const BAD_ARGUMENTS: Reply = Reply::Code(-304);
/// The status the inheriting child exits with.
pub const CHILD_STATUS: u64 = 7;
/// The stack size of the inheriting child's thread.
const STACK: u64 = 64 * 1024;

/// Written by the child (in its copy of this memory) only.
static MARKER: AtomicU64 = AtomicU64::new(0);

/// The inheriting child's thread: marks its memory and exits with the
/// marker.
extern "C" fn child(status: u64) -> ! {
    MARKER.store(status, Ordering::SeqCst);
    sys::exit(MARKER.load(Ordering::SeqCst))
}

fn check(step: u64, what: &str, got: Reply, want: Reply) -> Result<(), u64> {
    if got == want {
        Ok(())
    } else {
        println!("task-create: {what}: {got:?}, expected {want:?}");
        Err(step)
    }
}

/// `task_create(self, inherit)` → the child's task port.
fn create(buf: &mut MsgBuf, reply: u32, inherit: u32) -> Result<u32, Reply> {
    rpc::start(buf, sys::task_self(), reply, TASK_CREATE);
    buf.push_u32(inherit);
    rpc::port_reply(buf, reply)
}

/// A thread in `task` started at `rip` with `rsp` and `rdi`.
fn start_thread(
    buf: &mut MsgBuf,
    reply: u32,
    task: u32,
    rip: u64,
    rsp: u64,
    rdi: u64,
) -> Result<u32, Reply> {
    rpc::start(buf, task, reply, THREAD_CREATE);
    let thread = rpc::port_reply(buf, reply)?;
    let mut state = [0u64; COUNT];
    state[RIP] = rip;
    state[RSP] = rsp;
    state[RDI] = rdi;
    match rpc::set_state(buf, thread, reply, FLAVOR, &state) {
        Reply::Code(0) => {}
        other => return Err(other),
    }
    match rpc::simple(buf, thread, reply, THREAD_RESUME) {
        Reply::Code(0) => Ok(thread),
        other => Err(other),
    }
}

/// Waits until requests to `port` fail as to a dead port (a bad id is the
/// probe: it changes nothing).
fn wait_dead(buf: &mut MsgBuf, reply: u32, port: u32) -> bool {
    for _ in 0..100_000 {
        match rpc::simple(buf, port, reply, 2999) {
            Reply::Msg(SEND_INVALID_DEST) => return true,
            Reply::Code(-303) => sys::yield_now(),
            other => {
                println!("task-create: probe: {other:?}");
                return false;
            }
        }
    }
    false
}

fn run(_: u64) -> u64 {
    match steps() {
        Ok(()) => 0,
        Err(step) => step,
    }
}

fn steps() -> Result<(), u64> {
    let mut buf = MsgBuf::new();
    let reply = sys::port_allocate(1).map_err(|_| 1u64)?;
    let me = sys::task_self();
    let dead = Reply::Msg(SEND_INVALID_DEST);

    // Malformed requests: nothing is created.
    for (step, inherit) in [(2, 2), (3, u32::MAX)] {
        check(
            step,
            "task_create with a bad boolean",
            create(&mut buf, reply, inherit)
                .err()
                .unwrap_or(Reply::Code(0)),
            BAD_ARGUMENTS,
        )?;
    }
    check(
        4,
        "task_create without an argument",
        rpc::simple(&mut buf, me, reply, TASK_CREATE),
        BAD_ARGUMENTS,
    )?;
    rpc::start(&mut buf, me, reply, TASK_CREATE);
    buf.push_u64(0);
    check(
        5,
        "task_create with a u64",
        rpc::call(&mut buf, reply),
        BAD_ARGUMENTS,
    )?;

    // An empty task: its thread faults at once and the task is killed.
    let empty = create(&mut buf, reply, 0).map_err(|e| {
        println!("task-create: task_create: {e:?}");
        6u64
    })?;
    let thread = start_thread(
        &mut buf,
        reply,
        empty,
        USER_BASE + 0x1000,
        USER_BASE + 0x10000,
        0,
    )
    .map_err(|e| {
        println!("task-create: starting a thread in the empty task: {e:?}");
        7u64
    })?;
    if !wait_dead(&mut buf, reply, empty) {
        return Err(8);
    }
    check(
        9,
        "resume a thread of a dead task",
        rpc::simple(&mut buf, thread, reply, THREAD_RESUME),
        dead,
    )?;
    check(
        10,
        "thread_create in a dead task",
        rpc::simple(&mut buf, empty, reply, THREAD_CREATE),
        dead,
    )?;
    check(
        11,
        "terminate a dead task",
        rpc::simple(&mut buf, empty, reply, TASK_TERMINATE),
        dead,
    )?;

    // A task with a copy of this one's memory runs our code.
    let stack = sys::vm_allocate(0, STACK, true).map_err(|_| 12u64)?;
    let copy = create(&mut buf, reply, 1).map_err(|_| 13u64)?;
    start_thread(
        &mut buf,
        reply,
        copy,
        child as *const () as u64,
        stack + STACK - 8,
        CHILD_STATUS,
    )
    .map_err(|e| {
        println!("task-create: starting a thread in the copied task: {e:?}");
        14u64
    })?;
    if !wait_dead(&mut buf, reply, copy) {
        return Err(15);
    }
    if MARKER.load(Ordering::SeqCst) != 0 {
        println!("task-create: the child's write reached the parent");
        return Err(16);
    }

    // A task with no thread: its memory built by the VM calls on its port,
    // then terminated.
    let idle = create(&mut buf, reply, 0).map_err(|_| 17u64)?;
    vm_calls(&mut buf, reply, idle)?;
    insert_rights(&mut buf, reply, idle)?;
    check(
        18,
        "task_terminate",
        rpc::simple(&mut buf, idle, reply, TASK_TERMINATE),
        Reply::Code(0),
    )?;
    check(
        19,
        "suspend a terminated task",
        rpc::simple(&mut buf, idle, reply, TASK_SUSPEND),
        dead,
    )?;
    Ok(())
}

/// `vm_allocate`, `vm_write`, `vm_read`, `vm_protect` and `vm_deallocate`
/// on `task`'s port, with the refusals Mach gives.
fn vm_calls(buf: &mut MsgBuf, reply: u32, task: u32) -> Result<(), u64> {
    const INVALID_ADDRESS: Reply = Reply::Code(1);
    const PROTECTION_FAILURE: Reply = Reply::Code(2);
    const INVALID_ARGUMENT: Reply = Reply::Code(4);
    let at = USER_BASE + (1 << 32);
    let code = |r: Result<u64, Reply>| r.err().unwrap_or(Reply::Code(0));
    check(
        20,
        "vm_allocate of nothing",
        code(rpc::vm_allocate(buf, task, reply, at, 0, false)),
        INVALID_ADDRESS,
    )?;
    let got = rpc::vm_allocate(buf, task, reply, at, 8192, false);
    if got != Ok(at) {
        println!("task-create: vm_allocate in the child: {got:?}");
        return Err(21);
    }
    let page: [u8; 4096] = core::array::from_fn(|i| (i % 251) as u8);
    check(
        22,
        "vm_write",
        rpc::vm_write(buf, task, reply, at, &page),
        Reply::Code(0),
    )?;
    check(
        23,
        "vm_read",
        rpc::vm_read(buf, task, reply, at, 4096),
        Reply::Code(0),
    )?;
    if buf.bytes_item(1) != Some(&page[..]) {
        println!("task-create: vm_read did not give back what vm_write wrote");
        return Err(24);
    }
    check(
        25,
        "vm_write off a page boundary",
        rpc::vm_write(buf, task, reply, at + 8, &page),
        INVALID_ADDRESS,
    )?;
    check(
        26,
        "vm_write where nothing is allocated",
        rpc::vm_write(buf, task, reply, at + (1 << 20), &page),
        INVALID_ADDRESS,
    )?;
    check(
        27,
        "vm_protect read-only",
        rpc::vm_protect(buf, task, reply, (at, 8192), false, 1),
        Reply::Code(0),
    )?;
    check(
        28,
        "vm_write to a read-only page",
        rpc::vm_write(buf, task, reply, at + 4096, &page),
        PROTECTION_FAILURE,
    )?;
    check(
        29,
        "vm_protect with unknown bits",
        rpc::vm_protect(buf, task, reply, (at, 8192), false, 0x100),
        INVALID_ARGUMENT,
    )?;
    check(
        30,
        "vm_read of too much",
        rpc::vm_read(buf, task, reply, at, 1 << 20),
        INVALID_ARGUMENT,
    )?;
    rpc::start(buf, task, reply, VM_ALLOCATE);
    buf.push_u64(at);
    buf.push_u64(4096);
    buf.push_u32(2);
    check(
        31,
        "vm_allocate with a bad boolean",
        rpc::call(buf, reply),
        BAD_ARGUMENTS,
    )?;
    rpc::start(buf, task, reply, VM_DEALLOCATE);
    buf.push_u64(at);
    buf.push_u64(8192);
    check(32, "vm_deallocate", rpc::call(buf, reply), Reply::Code(0))?;
    check(
        33,
        "vm_read of freed memory",
        rpc::vm_read(buf, task, reply, at, 4096),
        INVALID_ADDRESS,
    )
}

/// `mach_port_insert_right` into `task`'s space.
fn insert_rights(buf: &mut MsgBuf, reply: u32, task: u32) -> Result<(), u64> {
    use kernel_user::msg::MAKE_SEND;
    let port = sys::port_allocate(1).map_err(|_| 40u64)?;
    check(
        41,
        "insert a send right",
        rpc::insert_right(buf, task, reply, 0x30, (port, MAKE_SEND)),
        Reply::Code(0),
    )?;
    // The same port again under the same name: one more reference, as in
    // Mach. Another port under that name: refused (KERN_NAME_EXISTS, 13,
    // or KERN_RIGHT_EXISTS, 21).
    check(
        44,
        "the same right again",
        rpc::insert_right(buf, task, reply, 0x30, (port, MAKE_SEND)),
        Reply::Code(0),
    )?;
    let other = sys::port_allocate(1).map_err(|_| 45u64)?;
    match rpc::insert_right(buf, task, reply, 0x30, (other, MAKE_SEND)) {
        Reply::Code(13 | 21) => {}
        other => {
            println!("task-create: a taken name: {other:?}");
            return Err(42);
        }
    }
    rpc::start(buf, task, reply, MACH_PORT_INSERT_RIGHT);
    buf.push_u32(0x31);
    check(
        43,
        "insert with no right",
        rpc::call(buf, reply),
        BAD_ARGUMENTS,
    )?;
    Ok(())
}
