//! A static Linux program run on the hurd-rs kernel with nothing of Linux in
//! the kernel: this program loads the boot module `linux-exit42` (built by
//! `musl-gcc -static` from `distro/linux-tests/c/exit42.c`) into a new task
//! from user space ([`linux_emulator::load`]: its segments at their
//! addresses, Linux's initial stack with its auxiliary vector), gives the
//! task an emulation vector whose every entry is a handler page, and starts
//! its thread.
//!
//! Each system call the program makes has no hurd-rs trap number, so the
//! kernel sends the thread to the handler with every register as `syscall`
//! left them. The handler steps over the program's red zone, saves the
//! registers it uses on the program's stack and forwards the call as a
//! message (the number, the six arguments and the return address) to this
//! program, which answers it: `arch_prctl(ARCH_SET_FS)` sets the thread's FS
//! base (`thread_set_state`, flavor `i386_FSGS_BASE_STATE`),
//! `set_tid_address` answers a thread id, `exit_group` tells the handler to
//! end the task with the status, anything else is `-ENOSYS`. The handler
//! restores the registers and flags and returns after the `syscall`.
//!
//! The program makes the calls musl's start and `exit` make on Linux
//! (`arch_prctl`, `set_tid_address`, `exit_group(42)`), and its stack
//! protector reads the FS base the first call set: exit status 42 comes
//! only if all of it worked. Returns 0 when the task ended with 42 after
//! exactly those calls, each from the program's own code, else the step
//! that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::time::Duration;

use hurd_abi::thread_state::{COUNT, FLAVOR, FSGS_FLAVOR, RIP, RSP};
use hurd_abi::{EmulationVector, hurd_task, mach_port};
use hurd_ipc::{Disposition, Item, Message, MsgOptions, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, boot, mach, println, task};
use linux_abi::elf::{PF_W, PF_X};
use linux_abi::flags::ARCH_SET_FS;
use linux_abi::{Errno, Sysno};
use linux_emulator::load::{self, Arguments, Loaded};

hurd_rt::entry!(main);

/// The boot module holding the Linux program.
const PROGRAM: &str = "linux-exit42";
/// The status it exits with.
const STATUS: u64 = 42;
/// Where the handler page goes in the program's task: the range the
/// emulator will hold, which Linux programs never use.
const HANDLER_AT: u64 = 0x7e00_0000_0000;
/// The page size.
const PAGE: usize = 4096;
/// The program's name for the send right to our port.
const SERVER_NAME: u32 = 0x30;
/// The program's name for the port the handler receives its answers on.
const REPLY_NAME: u32 = 0x31;
/// The id of a forwarded call (its reply's is 100 more, as MIG's).
const FORWARDED: i32 = 7100;
/// The registers a forwarded call carries: the number, six arguments and
/// the return address.
const WORDS: u32 = 8;
/// The message the handler sends: the header, one item of bytes holding
/// [`WORDS`] words.
const CALL_SIZE: u32 = 24 + 8 + 8 * WORDS;
/// The entries of the emulation vector: every Linux system call number.
const ENTRIES: usize = 512;
/// The thread id the program is told.
const TID: u64 = 1;
/// What the answer tells the handler: return the result, or end the task
/// with it as the status.
const RETURN: u64 = 0;
const EXIT: u64 = 1;

// The handler (position-independent: copied into the program's task). On
// entry rax is the call's number, rdi, rsi, rdx, r10, r8, r9 its arguments,
// rcx the address after the `syscall` and r11 the flags; rsp is the
// program's, with its red zone below it.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
core::arch::global_asm!(
    ".section .text.linux_forward_handler, \"ax\", @progbits",
    ".globl linux_forward_handler",
    ".globl linux_forward_handler_end",
    "linux_forward_handler:",
    // Over the red zone; `lea` leaves the flags alone.
    "lea rsp, [rsp - 128]",
    "push r11",
    "push rcx",
    "push r9",
    "push r8",
    "push r10",
    "push rdx",
    "push rsi",
    "push rdi",
    "sub rsp, {size}",
    // The request: COPY_SEND to our port, MAKE_SEND_ONCE of the reply port.
    "mov dword ptr [rsp], {bits}",
    "mov dword ptr [rsp + 4], {size}",
    "mov dword ptr [rsp + 8], {server}",
    "mov dword ptr [rsp + 12], {reply}",
    "mov dword ptr [rsp + 16], 0",
    "mov dword ptr [rsp + 20], {id}",
    "mov dword ptr [rsp + 24], {bytes}",
    "mov dword ptr [rsp + 28], {payload}",
    "mov qword ptr [rsp + 32], rax",
    "mov qword ptr [rsp + 40], rdi",
    "mov qword ptr [rsp + 48], rsi",
    "mov qword ptr [rsp + 56], rdx",
    "mov qword ptr [rsp + 64], r10",
    "mov qword ptr [rsp + 72], r8",
    "mov qword ptr [rsp + 80], r9",
    "mov qword ptr [rsp + 88], rcx",
    // mach_msg(msg, SEND | RCV, size, size, reply, 0).
    "mov rdi, rsp",
    "mov esi, {option}",
    "mov edx, {size}",
    "mov r10d, {size}",
    "mov r8d, {reply}",
    "xor r9d, r9d",
    "mov rax, {mach_msg}",
    "syscall",
    "test rax, rax",
    "jnz 3f",
    // The answer: two 64-bit items, the result and what to do with it.
    "mov rax, qword ptr [rsp + 32]",
    "cmp qword ptr [rsp + 48], {ret}",
    "jne 2f",
    "add rsp, {size}",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop r10",
    "pop r8",
    "pop r9",
    "pop rcx",
    "mov r11, qword ptr [rsp]",
    "popfq",
    "lea rsp, [rsp + 128]",
    "jmp rcx",
    // exit_group: the task ends with the status.
    "2:",
    "mov rdi, rax",
    "mov rax, {exit}",
    "syscall",
    "ud2",
    // mach_msg failed: the task ends with its code above the byte a
    // program's status has.
    "3:",
    "mov rdi, rax",
    "shl rdi, 8",
    "mov rax, {exit}",
    "syscall",
    "ud2",
    "linux_forward_handler_end:",
    size = const CALL_SIZE,
    payload = const 8 * WORDS,
    bits = const 19 | (21 << 8),
    server = const SERVER_NAME,
    reply = const REPLY_NAME,
    id = const FORWARDED,
    bytes = const hurd_ipc::wire::MSG_TYPE_BYTE as u32
        | ((hurd_ipc::wire::FLAG_INLINE as u32) << 8),
    option = const hurd_abi::msg_option::SEND_MSG | hurd_abi::msg_option::RCV_MSG,
    mach_msg = const hurd_abi::nr::MACH_MSG as i64,
    exit = const hurd_abi::nr::EXIT as i64,
    ret = const RETURN,
);

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
unsafe extern "C" {
    static linux_forward_handler: u8;
    static linux_forward_handler_end: u8;
}

/// The handler's code.
fn handler_code() -> &'static [u8] {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    {
        let start = &raw const linux_forward_handler;
        let end = &raw const linux_forward_handler_end;
        let len = (end as usize).saturating_sub(start as usize);
        // SAFETY: both symbols label the handler's code in this program's
        // text, which is mapped and never written; `len` bytes lie between
        // them.
        unsafe { core::slice::from_raw_parts(start, len) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    &[]
}

fn fail(step: u64, what: core::fmt::Arguments) -> u64 {
    println!("linux-forward: {what}");
    step
}

fn main() -> u64 {
    match run() {
        Ok(()) => 0,
        Err(step) => step,
    }
}

/// A call the program made: its number, arguments and return address.
#[derive(Clone, Copy, Debug)]
struct Call {
    nr: u64,
    args: [u64; 6],
    rip: u64,
}

fn run() -> Result<(), u64> {
    let Some(image) = boot::info().and_then(|b| b.module(PROGRAM)) else {
        return Err(fail(1, format_args!("no boot module {PROGRAM}")));
    };
    let ipc = KernelIpc::new();
    let port = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| fail(2, format_args!("port_allocate: {e:?}")))?;
    let child = mach::task_create(task::task_self(), false)
        .map_err(|e| fail(3, format_args!("task_create: {e:?}")))?;
    let started = start(&ipc, child, port, image);
    let result = started.and_then(|(thread, loaded)| serve(&ipc, port, thread, &loaded));
    let _ = mach::task_terminate(child);
    result
}

/// Loads the program into `child`, installs the handler and the ports, and
/// starts its thread: the thread's port and what was loaded.
fn start(
    ipc: &KernelIpc,
    child: PortName,
    port: PortName,
    image: &[u8],
) -> Result<(PortName, Loaded), u64> {
    let argv: [&[u8]; 1] = [PROGRAM.as_bytes()];
    let envp: [&[u8]; 1] = [b"PATH=/bin"];
    let args = Arguments {
        argv: &argv,
        envp: &envp,
        execfn: PROGRAM.as_bytes(),
        ids: [0; 4],
        random: *b"not very random!",
    };
    let loaded = load::load(child, image, &args)
        .map_err(|e| fail(4, format_args!("loading {PROGRAM}: {e:?}")))?;
    println!(
        "linux-forward: {PROGRAM} loaded, entry {:#x}, stack {:#x}",
        loaded.entry, loaded.rsp
    );
    // The handler page, read and execute only.
    let code = handler_code();
    if code.is_empty() || code.len() > PAGE {
        return Err(fail(5, format_args!("a handler of {} bytes", code.len())));
    }
    let mut page = [0u8; PAGE];
    page[..code.len()].copy_from_slice(code);
    mach::vm_allocate(child, HANDLER_AT, PAGE as u64, false)
        .and_then(|_| mach::vm_write(child, HANDLER_AT, &page))
        .and_then(|()| mach::vm_protect(child, (HANDLER_AT, PAGE as u64), false, 5))
        .map_err(|e| fail(5, format_args!("the handler page: {e:?}")))?;
    // Its ports: a send right to ours, a receive right for the answers.
    mach_port::Client::new(ipc, child)
        .mach_port_allocate_name(RightType::Receive as u32, REPLY_NAME)
        .and_then(|()| {
            mach::insert_right(child, PortName(SERVER_NAME), (port, Disposition::MakeSend))
        })
        .map_err(|e| fail(6, format_args!("the program's ports: {e:?}")))?;
    let vector = EmulationVector::new(&[HANDLER_AT; ENTRIES]).ok_or(7u64)?;
    hurd_abi::mach::Client::new(ipc, child)
        .task_set_emulation_vector(0, vector)
        .map_err(|e| fail(7, format_args!("task_set_emulation_vector: {e:?}")))?;
    mach::task_notify_exit(child, port)
        .map_err(|e| fail(8, format_args!("task_notify_exit: {e:?}")))?;
    let thread =
        mach::thread_create(child).map_err(|e| fail(9, format_args!("thread_create: {e:?}")))?;
    // Every other register 0: rdx too (no function for atexit).
    let mut state = [0u64; COUNT];
    state[RIP] = loaded.entry;
    state[RSP] = loaded.rsp;
    mach::thread_set_state(thread, FLAVOR, &state)
        .and_then(|()| mach::thread_resume(thread))
        .map_err(|e| fail(9, format_args!("starting the thread: {e:?}")))?;
    Ok((thread, loaded))
}

/// Answers the program's calls until its task ends; checks what it did.
fn serve(ipc: &KernelIpc, port: PortName, thread: PortName, loaded: &Loaded) -> Result<(), u64> {
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_secs(10)),
        ..MsgOptions::default()
    };
    let mut calls: Vec<Call> = Vec::new();
    let status = loop {
        let msg = ipc
            .receive_with(port, &opts)
            .map_err(|e| fail(10, format_args!("waiting for the program: {:?}", e.code)))?;
        if msg.header.id == hurd_task::id::task_exited {
            match msg.body.first() {
                Some(Item::U64(status)) => break *status,
                _ => return Err(fail(11, format_args!("a bad exit notification"))),
            }
        }
        let call = match (msg.header.id, msg.body.first()) {
            (FORWARDED, Some(Item::Bytes(b)))
                if msg.header.size == CALL_SIZE && b.len() == 8 * WORDS as usize =>
            {
                let w = |i: usize| {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(&b[i * 8..i * 8 + 8]);
                    u64::from_le_bytes(word)
                };
                Call {
                    nr: w(0),
                    args: [w(1), w(2), w(3), w(4), w(5), w(6)],
                    rip: w(7),
                }
            }
            (id, _) => return Err(fail(12, format_args!("an unexpected message {id}"))),
        };
        let (result, action) = answer(thread, &call);
        let name = Sysno::from_raw(call.nr).map_or("?", Sysno::name);
        println!(
            "linux-forward: {name}({:#x}, {:#x}, {:#x}) = {:#x} (from {:#x})",
            call.args[0], call.args[1], call.args[2], result, call.rip
        );
        calls.push(call);
        let reply = Message::new(
            FORWARDED + 100,
            msg.header.remote,
            Disposition::MoveSendOnce,
        )
        .with_item(Item::U64(result))
        .with_item(Item::U64(action));
        ipc.send(reply)
            .map_err(|e| fail(13, format_args!("answering: {e:?}")))?;
    };
    check(status, &calls, loaded)
}

/// The answer to one call: (result, what the handler does with it).
fn answer(thread: PortName, call: &Call) -> (u64, u64) {
    let errno = |e: Errno| (e.to_rax(), RETURN);
    match Sysno::from_raw(call.nr) {
        Some(Sysno::ArchPrctl) if call.args[0] == u64::from(ARCH_SET_FS) => {
            match mach::thread_set_state(thread, FSGS_FLAVOR, &[call.args[1], 0]) {
                Ok(()) => (0, RETURN),
                Err(_) => errno(Errno::Perm),
            }
        }
        Some(Sysno::SetTidAddress) => (TID, RETURN),
        Some(Sysno::ExitGroup | Sysno::Exit) => (call.args[0] & 0xff, EXIT),
        _ => errno(Errno::Nosys),
    }
}

/// The program ended with [`STATUS`] after musl's three calls, each made
/// from its text, and the FS base it set lies in its data.
fn check(status: u64, calls: &[Call], loaded: &Loaded) -> Result<(), u64> {
    if status != STATUS {
        return Err(fail(20, format_args!("{PROGRAM} ended with {status:#x}")));
    }
    let numbers: Vec<Option<Sysno>> = calls.iter().map(|c| Sysno::from_raw(c.nr)).collect();
    let want = [
        Some(Sysno::ArchPrctl),
        Some(Sysno::SetTidAddress),
        Some(Sysno::ExitGroup),
    ];
    if numbers != want {
        return Err(fail(21, format_args!("the calls were {numbers:?}")));
    }
    let inside = |addr: u64, flag: u32| {
        loaded.elf.segments.iter().any(|s| {
            let (first, end) = load::segment_range(s, loaded.elf.bias());
            s.flags & flag != 0 && (first..end).contains(&addr)
        })
    };
    if let Some(c) = calls.iter().find(|c| !inside(c.rip, PF_X)) {
        return Err(fail(22, format_args!("a call returns to {:#x}", c.rip)));
    }
    if !inside(calls[0].args[1], PF_W) || calls[2].args[0] != STATUS {
        return Err(fail(23, format_args!("the calls' arguments: {calls:x?}")));
    }
    println!("linux-forward: {PROGRAM} exited with {status} through the emulation vector");
    Ok(())
}
