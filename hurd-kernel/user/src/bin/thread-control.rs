//! Thread ports: `mach_thread_self`, then a thread made with
//! `thread_create` on its own task port, given its state with
//! `thread_set_state` (after refused bad states), run by `thread_resume`,
//! suspended and resumed, read back with `thread_get_state`, and ended with
//! `thread_terminate`, after which its port is dead. Bad arguments get
//! error codes at every step. Returns 0 when all of it held, else the step
//! that failed.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::msg_option::{RCV_MSG, RCV_TIMEOUT, SEND_MSG};
use kernel_user::abi::rpc::*;
use kernel_user::abi::thread_state::{self, COUNT, FLAVOR, RDI, RFLAGS, RIP, RSP};
use kernel_user::abi::{USER_BASE, USER_END};
use kernel_user::msg::{MAKE_SEND, MsgBuf};
use kernel_user::rpc::{self, Reply, SEND_INVALID_DEST};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// `KERN_FAILURE`.
const FAILURE: Reply = Reply::Code(5);
/// `KERN_INVALID_ARGUMENT`.
const INVALID_ARGUMENT: Reply = Reply::Code(4);
/// `MIG_BAD_ARGUMENTS`.
const BAD_ARGUMENTS: Reply = Reply::Code(-304);
/// `MIG_BAD_ID`.
const BAD_ID: Reply = Reply::Code(-303);
/// `MACH_RCV_TIMED_OUT`.
const RCV_TIMED_OUT: u64 = 0x1000_4003;
/// The new thread's stack size.
const STACK: u64 = 64 * 1024;

/// The new thread: sends one message (id 42) to `port`, then waits for a
/// message that never comes.
extern "C" fn worker(port: u64) -> ! {
    let mut buf = MsgBuf::new();
    buf.start(port as u32, MAKE_SEND, 0, 0, 42);
    let rc = sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, 24, 0, 0, 0);
    if rc != 0 {
        println!("thread-control: worker send failed: {rc:#x}");
    }
    let Ok(never) = sys::port_allocate(1) else {
        sys::thread_exit()
    };
    sys::mach_msg(buf.as_mut_ptr(), RCV_MSG, 0, MsgBuf::CAPACITY, never, 0);
    println!("thread-control: the worker's receive returned");
    sys::thread_exit()
}

/// Where a waiting worker is sent by `thread_set_state`: sends id 43 to
/// `port`, then waits for a message that never comes.
extern "C" fn redirected(port: u64) -> ! {
    let mut buf = MsgBuf::new();
    buf.start(port as u32, MAKE_SEND, 0, 0, 43);
    sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, 24, 0, 0, 0);
    if let Ok(never) = sys::port_allocate(1) {
        sys::mach_msg(buf.as_mut_ptr(), RCV_MSG, 0, MsgBuf::CAPACITY, never, 0);
    }
    println!("thread-control: the redirected thread's receive returned");
    sys::thread_exit()
}

/// Receives on `port` for up to `ms` milliseconds: the code and message id.
fn receive(buf: &mut MsgBuf, port: u32, ms: u64) -> (u64, i32) {
    let rc = sys::mach_msg(
        buf.as_mut_ptr(),
        RCV_MSG | RCV_TIMEOUT,
        0,
        MsgBuf::CAPACITY,
        port,
        ms,
    );
    (rc, buf.id())
}

fn check(step: u64, what: &str, got: Reply, want: Reply) -> Result<(), u64> {
    if got == want {
        Ok(())
    } else {
        println!("thread-control: {what}: {got:?}, expected {want:?}");
        Err(step)
    }
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
    let port = sys::port_allocate(1).map_err(|_| 1u64)?;
    // mach_thread_self: one name for the thread's port.
    let me = sys::thread_self();
    if me == 0 || sys::thread_self() != me {
        return Err(2);
    }
    // Getting or setting one's own state this way is refused.
    let own = rpc::get_state(&mut buf, me, reply, FLAVOR, COUNT as u32).err();
    check(
        3,
        "own get_state",
        own.unwrap_or(Reply::Code(0)),
        INVALID_ARGUMENT,
    )?;
    check(4, "bad id", rpc::simple(&mut buf, me, reply, 2999), BAD_ID)?;

    // thread_create on our own task port: a suspended thread, zero state.
    let task = sys::task_self();
    rpc::start(&mut buf, task, reply, THREAD_CREATE);
    let thread = rpc::port_reply(&mut buf, reply).map_err(|e| {
        println!("thread-control: thread_create: {e:?}");
        5u64
    })?;
    rpc::start(&mut buf, task, reply, THREAD_CREATE);
    buf.push_u32(1);
    check(
        6,
        "thread_create with an argument",
        rpc::call(&mut buf, reply),
        BAD_ARGUMENTS,
    )?;
    let state = rpc::get_state(&mut buf, thread, reply, FLAVOR, COUNT as u32).map_err(|e| {
        println!("thread-control: get_state: {e:?}");
        7u64
    })?;
    if state[RIP] != 0 || state[RSP] != 0 || state[RFLAGS] & 0x200 == 0 {
        println!("thread-control: a new thread's state {state:x?}");
        return Err(8);
    }

    // Bad requests.
    let bad_flavor = rpc::get_state(&mut buf, thread, reply, 99, COUNT as u32).err();
    check(
        9,
        "get_state flavor 99",
        bad_flavor.unwrap_or(Reply::Code(0)),
        INVALID_ARGUMENT,
    )?;
    let short = rpc::get_state(&mut buf, thread, reply, FLAVOR, 3).err();
    check(
        10,
        "get_state count 3",
        short.unwrap_or(Reply::Code(0)),
        INVALID_ARGUMENT,
    )?;
    rpc::start(&mut buf, thread, reply, THREAD_GET_STATE);
    buf.push_u32(FLAVOR);
    check(
        11,
        "get_state without a count",
        rpc::call(&mut buf, reply),
        BAD_ARGUMENTS,
    )?;
    rpc::start(&mut buf, thread, reply, THREAD_SET_STATE);
    buf.push_u32(FLAVOR);
    buf.push_u64(0);
    check(
        12,
        "set_state with a u64",
        rpc::call(&mut buf, reply),
        BAD_ARGUMENTS,
    )?;

    let stack = sys::vm_allocate(0, STACK, true).map_err(|_| 13u64)?;
    let mut good = [0u64; COUNT];
    good[RIP] = worker as *const () as u64;
    good[RSP] = stack + STACK - 8;
    good[RDI] = u64::from(port);
    // Carry, with trap, IOPL 3, nested task and alignment check, which are
    // not taken: the thread gets carry and interrupts enabled.
    good[RFLAGS] = 0x1 | 0x100 | 0x3000 | 0x4000 | 0x4_0000;
    let mut bad = good;
    let set = |buf: &mut MsgBuf, words: &[u64]| rpc::set_state(buf, thread, reply, FLAVOR, words);
    check(
        14,
        "set_state short",
        set(&mut buf, &good[..COUNT - 1]),
        INVALID_ARGUMENT,
    )?;
    check(
        15,
        "set_state flavor 2",
        rpc::set_state(&mut buf, thread, reply, 2, &good),
        INVALID_ARGUMENT,
    )?;
    for (i, (reg, value)) in [
        (RIP, 0x1000),
        (RIP, USER_END),
        (RIP, 0xffff_8000_0000_0000),
        (RSP, USER_BASE - 8),
        (RSP, 1 << 63),
    ]
    .into_iter()
    .enumerate()
    {
        bad[reg] = value;
        if set(&mut buf, &bad) != INVALID_ARGUMENT {
            println!(
                "thread-control: {} = {value:#x} accepted",
                thread_state::REGISTERS[reg]
            );
            return Err(16 + i as u64);
        }
        bad = good;
    }
    check(21, "set_state", set(&mut buf, &good), Reply::Code(0))?;
    let state =
        rpc::get_state(&mut buf, thread, reply, FLAVOR, COUNT as u32 + 4).map_err(|_| 22u64)?;
    if state[RIP] != good[RIP] || state[RDI] != good[RDI] || state[RFLAGS] != 0x203 {
        println!("thread-control: state read back {state:x?}");
        return Err(23);
    }

    // Still suspended (once): it does not run.
    if receive(&mut buf, port, 30).0 != RCV_TIMED_OUT {
        return Err(24);
    }
    check(
        25,
        "thread_suspend",
        rpc::simple(&mut buf, thread, reply, THREAD_SUSPEND),
        Reply::Code(0),
    )?;
    check(
        26,
        "thread_resume",
        rpc::simple(&mut buf, thread, reply, THREAD_RESUME),
        Reply::Code(0),
    )?;
    if receive(&mut buf, port, 30).0 != RCV_TIMED_OUT {
        println!("thread-control: a thread suspended once more ran");
        return Err(27);
    }
    check(
        28,
        "thread_resume",
        rpc::simple(&mut buf, thread, reply, THREAD_RESUME),
        Reply::Code(0),
    )?;
    let (rc, id) = receive(&mut buf, port, 5000);
    if rc != 0 || id != 42 {
        println!("thread-control: no message from the resumed thread ({rc:#x})");
        return Err(29);
    }
    check(
        30,
        "resume unsuspended",
        rpc::simple(&mut buf, thread, reply, THREAD_RESUME),
        FAILURE,
    )?;
    // It waits in mach_msg now: its state can be read; setting it ends the
    // wait and the thread runs from the new state (and waits again).
    let mut moved =
        rpc::get_state(&mut buf, thread, reply, FLAVOR, COUNT as u32).map_err(|_| 31u64)?;
    moved[RIP] = redirected as *const () as u64;
    moved[RSP] = stack + STACK / 2 - 8;
    moved[RDI] = u64::from(port);
    check(
        37,
        "set_state of a waiting thread",
        set(&mut buf, &moved),
        Reply::Code(0),
    )?;
    let (rc, id) = receive(&mut buf, port, 5000);
    if rc != 0 || id != 43 {
        println!("thread-control: the redirected thread did not run ({rc:#x}, id {id})");
        return Err(38);
    }
    for _ in 0..5 {
        sys::yield_now();
    }
    // Waiting again: terminated there.
    check(
        32,
        "thread_terminate",
        rpc::simple(&mut buf, thread, reply, THREAD_TERMINATE),
        Reply::Code(0),
    )?;
    // Its port is dead.
    let dead = Reply::Msg(SEND_INVALID_DEST);
    check(
        33,
        "resume a dead thread",
        rpc::simple(&mut buf, thread, reply, THREAD_RESUME),
        dead,
    )?;
    check(
        34,
        "terminate a dead thread",
        rpc::simple(&mut buf, thread, reply, THREAD_TERMINATE),
        dead,
    )?;
    let gone = rpc::get_state(&mut buf, thread, reply, FLAVOR, COUNT as u32).err();
    check(
        35,
        "get_state of a dead thread",
        gone.unwrap_or(Reply::Code(0)),
        dead,
    )?;
    // Our own thread goes on, and its port still answers.
    check(36, "bad id", rpc::simple(&mut buf, me, reply, 2999), BAD_ID)?;
    Ok(())
}
