//! Thread ports: `mach_thread_self`, then a thread made with
//! `thread_create` on its own task port, given its state with
//! `thread_set_state` (after refused bad states), run by `thread_resume`,
//! suspended and resumed, read back with `thread_get_state`, and ended with
//! `thread_terminate`, after which its port is dead. Bad arguments get
//! error codes at every step. Returns 0 when all of it held, else the step
//! that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use hurd_abi::rpc::*;
use hurd_abi::thread_state::{self, COUNT, FLAVOR, RDI, RFLAGS, RIP, RSP};
use hurd_abi::{USER_BASE, USER_END};
use hurd_ipc::{
    Disposition, Error, Item, KernReturn, Message, MigReturn, MsgOptions, MsgReturn, PortName,
    RightType, UserIpc,
};
use hurd_rt::{KernelIpc, mach, println, task, thread, vm};
use kernel_test_programs::{call, raw};

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// `KERN_FAILURE`.
const FAILURE: Reply = Err(Error::Kern(KernReturn::Failure));
/// `KERN_INVALID_ARGUMENT`.
const INVALID_ARGUMENT: Reply = Err(Error::Kern(KernReturn::InvalidArgument));
/// `MIG_BAD_ARGUMENTS`.
const BAD_ARGUMENTS: Reply = Err(Error::Mig(MigReturn::BadArguments));
/// `MIG_BAD_ID`.
const BAD_ID: Reply = Err(Error::Mig(MigReturn::BadId));
/// The new thread's stack size.
const STACK: usize = 64 * 1024;

/// What a call came to: `Ok(())`, or its error.
type Reply = Result<(), Error>;

/// A call's outcome, its value dropped.
fn outcome<T>(r: Result<T, Error>) -> Reply {
    r.map(drop)
}

/// Sends an empty message with id `id` to the receive right `port`.
fn post(port: u32, id: i32) {
    let _ = KernelIpc::new().send(Message::new(id, PortName(port), Disposition::MakeSend));
}

/// Waits forever for a message on a new port.
fn wait_forever() {
    let ipc = KernelIpc::new();
    if let Ok(never) = ipc.port_allocate(RightType::Receive) {
        let _ = ipc.receive(never);
    }
}

/// The new thread: sends one message (id 42) to `port`, then waits for a
/// message that never comes.
extern "C" fn worker(port: u64) -> ! {
    post(port as u32, 42);
    wait_forever();
    println!("thread-control: the worker's receive returned");
    raw::thread_exit()
}

/// Where a waiting worker is sent by `thread_set_state`: sends id 43 to
/// `port`, then waits for a message that never comes.
extern "C" fn redirected(port: u64) -> ! {
    post(port as u32, 43);
    wait_forever();
    println!("thread-control: the redirected thread's receive returned");
    raw::thread_exit()
}

/// Receives on `port` for up to `ms` milliseconds: the message's id, or
/// why none came.
fn receive(port: PortName, ms: u64) -> Result<i32, MsgReturn> {
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_millis(ms)),
        ..MsgOptions::default()
    };
    match KernelIpc::new().receive_with(port, &opts) {
        Ok(m) => Ok(m.header.id),
        Err(e) => Err(e.code),
    }
}

fn main() -> u64 {
    kernel_test_programs::report::status(steps())
}

fn steps() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let port = ipc.port_allocate(RightType::Receive).map_err(|_| 1u64)?;
    // mach_thread_self: one name for the thread's port.
    let me = thread::thread_self().map_err(|_| 2u64)?;
    if !me.is_valid() || thread::thread_self() != Ok(me) {
        return Err(2);
    }
    // Getting or setting one's own state this way is refused.
    let own = outcome(mach::thread_get_state(me, FLAVOR, COUNT as u32));
    check(3, "own get_state", own, INVALID_ARGUMENT)?;
    check(4, "bad id", call(me, 2999, vec![]), BAD_ID)?;

    // thread_create on our own task port: a suspended thread, zero state.
    let task = task::task_self();
    let thread = mach::thread_create(task).map_err(|e| {
        println!("thread-control: thread_create: {e:?}");
        5u64
    })?;
    check(
        6,
        "thread_create with an argument",
        call(task, THREAD_CREATE, vec![Item::U32(1)]),
        BAD_ARGUMENTS,
    )?;
    let state = mach::thread_get_state(thread, FLAVOR, COUNT as u32).map_err(|e| {
        println!("thread-control: get_state: {e:?}");
        7u64
    })?;
    if state[RIP] != 0 || state[RSP] != 0 || state[RFLAGS] & 0x200 == 0 {
        println!("thread-control: a new thread's state {state:x?}");
        return Err(8);
    }

    // Bad requests.
    let bad_flavor = outcome(mach::thread_get_state(thread, 99, COUNT as u32));
    check(9, "get_state flavor 99", bad_flavor, INVALID_ARGUMENT)?;
    let short = outcome(mach::thread_get_state(thread, FLAVOR, 3));
    check(10, "get_state count 3", short, INVALID_ARGUMENT)?;
    check(
        11,
        "get_state without a count",
        call(thread, THREAD_GET_STATE, vec![Item::U32(FLAVOR)]),
        BAD_ARGUMENTS,
    )?;
    check(
        12,
        "set_state with a u64",
        call(
            thread,
            THREAD_SET_STATE,
            vec![Item::U32(FLAVOR), Item::U64(0)],
        ),
        BAD_ARGUMENTS,
    )?;

    // The stack the thread runs on: never given back (the thread is ended
    // by thread_terminate, not by returning).
    let stack = vm::allocate(STACK).map_err(|_| 13u64)?;
    let (stack, _) = stack.into_raw();
    let top = stack + STACK as u64;
    let mut good = [0u64; COUNT];
    good[RIP] = worker as *const () as u64;
    good[RSP] = top - 8;
    good[RDI] = u64::from(port.0);
    // Carry, with trap, IOPL 3, nested task and alignment check, which are
    // not taken: the thread gets carry and interrupts enabled.
    good[RFLAGS] = 0x1 | 0x100 | 0x3000 | 0x4000 | 0x4_0000;
    let mut bad = good;
    let set = |words: &[u64]| outcome(mach::thread_set_state(thread, FLAVOR, words));
    check(
        14,
        "set_state short",
        set(&good[..COUNT - 1]),
        INVALID_ARGUMENT,
    )?;
    check(
        15,
        "set_state flavor 2",
        outcome(mach::thread_set_state(thread, 2, &good)),
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
        if set(&bad) != INVALID_ARGUMENT {
            println!(
                "thread-control: {} = {value:#x} accepted",
                thread_state::REGISTERS[reg]
            );
            return Err(16 + i as u64);
        }
        bad = good;
    }
    check(21, "set_state", set(&good), Ok(()))?;
    let state = mach::thread_get_state(thread, FLAVOR, COUNT as u32 + 4).map_err(|_| 22u64)?;
    if state[RIP] != good[RIP] || state[RDI] != good[RDI] || state[RFLAGS] != 0x203 {
        println!("thread-control: state read back {state:x?}");
        return Err(23);
    }

    // Still suspended (once): it does not run.
    if receive(port, 30) != Err(MsgReturn::RcvTimedOut) {
        return Err(24);
    }
    let simple = |id| call(thread, id, Vec::new());
    check(25, "thread_suspend", simple(THREAD_SUSPEND), Ok(()))?;
    check(26, "thread_resume", simple(THREAD_RESUME), Ok(()))?;
    if receive(port, 30) != Err(MsgReturn::RcvTimedOut) {
        println!("thread-control: a thread suspended once more ran");
        return Err(27);
    }
    check(28, "thread_resume", simple(THREAD_RESUME), Ok(()))?;
    let got = receive(port, 5000);
    if got != Ok(42) {
        println!("thread-control: no message from the resumed thread ({got:?})");
        return Err(29);
    }
    check(30, "resume unsuspended", simple(THREAD_RESUME), FAILURE)?;
    // It waits in mach_msg now: its state can be read; setting it ends the
    // wait and the thread runs from the new state (and waits again).
    let mut moved = mach::thread_get_state(thread, FLAVOR, COUNT as u32).map_err(|_| 31u64)?;
    moved[RIP] = redirected as *const () as u64;
    moved[RSP] = top - STACK as u64 / 2 - 8;
    moved[RDI] = u64::from(port.0);
    check(37, "set_state of a waiting thread", set(&moved), Ok(()))?;
    let got = receive(port, 5000);
    if got != Ok(43) {
        println!("thread-control: the redirected thread did not run ({got:?})");
        return Err(38);
    }
    for _ in 0..5 {
        thread::yield_now();
    }
    // Waiting again: terminated there.
    check(32, "thread_terminate", simple(THREAD_TERMINATE), Ok(()))?;
    // Its port is dead.
    let dead: Reply = Err(Error::Msg(MsgReturn::SendInvalidDest));
    check(33, "resume a dead thread", simple(THREAD_RESUME), dead)?;
    check(
        34,
        "terminate a dead thread",
        simple(THREAD_TERMINATE),
        dead,
    )?;
    let gone = outcome(mach::thread_get_state(thread, FLAVOR, COUNT as u32));
    check(35, "get_state of a dead thread", gone, dead)?;
    // Our own thread goes on, and its port still answers.
    check(36, "bad id", call(me, 2999, vec![]), BAD_ID)?;
    Ok(())
}
