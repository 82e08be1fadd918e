//! What a program running another system's binaries needs from the kernel:
//! the emulation vector (system calls with no hurd-rs trap sent to a
//! handler in the task, with every register as `syscall` left them), the
//! FS and GS bases as a thread state of their own, `thread_abort`
//! ending a wait in `mach_msg`, and SSE registers of each thread's own
//! (ordinary x86-64 code uses them; hurd-rs programs do not). Returns 0
//! when all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;

use hurd_abi::mach::Client;
use hurd_abi::thread_state::{FSGS_COUNT, FSGS_FLAVOR};
use hurd_abi::{EmulationVector, USER_END, mach, mach_port};
use hurd_ipc::{
    Disposition, Error, Item, KernReturn, Message, MigReturn, MsgOptions, MsgReturn, PortName,
    RightType, UserIpc,
};
use hurd_rt::{KernelIpc, task, thread, vm};
use kernel_test_programs::{call, raw};

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// What `rax` holds after a system call nothing handles: `-ENOSYS`.
const ENOSYS: u64 = (-38i64) as u64;
/// `KERN_INVALID_ARGUMENT`.
const INVALID_ARGUMENT: Result<(), Error> = Err(Error::Kern(KernReturn::InvalidArgument));

// The handler of the emulated calls: answers `rax + rdi + rsi` and returns
// to the instruction after the `syscall` (in `rcx`), touching nothing else,
// as a real emulator's entry would before switching stacks.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
core::arch::global_asm!(
    ".global emulation_handler",
    "emulation_handler:",
    "add rax, rdi",
    "add rax, rsi",
    "jmp rcx",
);

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
unsafe extern "C" {
    fn emulation_handler();
}

/// The handler's address.
fn handler() -> u64 {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    return emulation_handler as *const () as u64;
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    0x40_0000
}

/// A system call with number `n` (no hurd-rs trap): (`rax`, `rdx`).
fn linux_call(n: u64, rdi: u64, rsi: u64, rdx: u64) -> (u64, u64) {
    // SAFETY: no hurd-rs trap has a non-negative number: the kernel reads
    // and writes no memory for it, and the handler touches none.
    unsafe { raw::syscall(n, [rdi, rsi, rdx, 0, 0, 0]) }
}

/// The FS- and GS-relative words at offset 0.
fn segment_words() -> (u64, u64) {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    {
        let (fs, gs): (u64, u64);
        // SAFETY: reads one word at each base, which the caller set to
        // memory of ours.
        unsafe {
            core::arch::asm!(
                "mov {fs}, qword ptr fs:[0]",
                "mov {gs}, qword ptr gs:[0]",
                fs = out(reg) fs,
                gs = out(reg) gs,
                options(nostack, readonly),
            );
        }
        (fs, gs)
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    (0, 0)
}

fn main() -> u64 {
    kernel_test_programs::report::status(
        emulation()
            .and_then(|()| segment_bases())
            .and_then(|()| abort())
            .and_then(|()| sse()),
    )
}

/// The emulation vector.
fn emulation() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let me = task::task_self();
    let mach = Client::new(&ipc, me);
    let h = handler();
    // No vector: -ENOSYS, and the registers the call does not return are
    // untouched.
    if linux_call(39, 100, 20, 5) != (ENOSYS, 5) {
        return Err(fail(1, format_args!("a call with no vector did not fail")));
    }
    match mach.task_get_emulation_vector() {
        Ok((0, v)) if v.entries().is_empty() => {}
        other => return Err(fail(2, format_args!("the empty vector: {other:?}"))),
    }
    let vector = EmulationVector::new(&[h; 64]).ok_or(3u64)?;
    if let Err(e) = mach.task_set_emulation_vector(0, vector) {
        return Err(fail(3, format_args!("task_set_emulation_vector: {e:?}")));
    }
    // The handler runs with the caller's registers: rax (the number), rdi
    // and rsi reach it, rdx comes back unchanged, and it returns after the
    // `syscall`.
    let got = linux_call(39, 100, 20, 5);
    if got != (39 + 120, 5) {
        return Err(fail(4, format_args!("emulated call 39: {got:?}")));
    }
    if linux_call(63, 1, 2, 0).0 != 66 {
        return Err(fail(5, format_args!("the last entry was not emulated")));
    }
    // Beyond the vector, and with the upper half of rax set: -ENOSYS.
    for n in [64, 1000, (1 << 32) | 39] {
        if linux_call(n, 0, 0, 0).0 != ENOSYS {
            return Err(fail(6, format_args!("call {n:#x} did not fail")));
        }
    }
    // hurd-rs's own traps are never forwarded.
    if raw::null() != 0 {
        return Err(fail(7, format_args!("the null trap went to the emulator")));
    }
    // One entry cleared with task_set_emulation.
    if let Err(e) = mach.task_set_emulation(0, 40) {
        return Err(fail(8, format_args!("task_set_emulation: {e:?}")));
    }
    if linux_call(40, 0, 0, 0).0 != ENOSYS || linux_call(41, 1, 0, 0).0 != 42 {
        return Err(fail(9, format_args!("entry 40 was not cleared alone")));
    }
    // Refused, changing nothing: a negative start, a handler outside user
    // space, a vector spanning more than the bound, one too long to be a
    // vector at all.
    let one = |h| EmulationVector::new(&[h]).unwrap_or_default();
    let refused = [
        mach.task_set_emulation_vector(-1, one(h)),
        mach.task_set_emulation_vector(1, one(0xffff_ffff_8010_0000)),
        mach.task_set_emulation_vector(1, one(8)),
        mach.task_set_emulation_vector(EmulationVector::MAX as i32, one(h)),
        mach.task_set_emulation(USER_END, 3),
    ];
    for (i, r) in refused.into_iter().enumerate() {
        if r != INVALID_ARGUMENT {
            return Err(fail(10, format_args!("bad vector {i} accepted: {r:?}")));
        }
    }
    let long = vec![
        Item::U32(0),
        Item::Bytes(vec![0; (EmulationVector::MAX + 1) * 8]),
    ];
    let got = call(me, mach::id::task_set_emulation_vector, long);
    if got != Err(Error::Mig(MigReturn::BadArguments)) {
        return Err(fail(11, format_args!("an over-long vector: {got:?}")));
    }
    let mut want = [h; 64];
    want[40] = 0;
    match mach.task_get_emulation_vector() {
        Ok((0, v)) if v.entries() == want => {}
        other => return Err(fail(12, format_args!("the vector read back: {other:?}"))),
    }
    // A task made by task_create starts with its parent's vector.
    let child = mach.task_create(false).map_err(|_| 13u64)?.name;
    let inherited = Client::new(&ipc, child).task_get_emulation_vector();
    let _ = Client::new(&ipc, child).task_terminate();
    let _ = ipc.port_deallocate(child);
    match inherited {
        Ok((0, v)) if v.entries() == want => {}
        other => return Err(fail(14, format_args!("the child's vector: {other:?}"))),
    }
    // A task port's routine on a thread port is refused.
    let me_thread = thread::thread_self().map_err(|_| 15u64)?;
    let got = Client::new(&ipc, me_thread).task_get_emulation_vector();
    if !matches!(got, Err(Error::Kern(KernReturn::InvalidArgument))) {
        return Err(fail(
            15,
            format_args!("a thread's emulation vector: {got:?}"),
        ));
    }
    Ok(())
}

/// The FS and GS bases.
fn segment_bases() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let me = thread::thread_self().map_err(|_| 20u64)?;
    let mach = Client::new(&ipc, me);
    let get = || {
        mach.thread_get_state(FSGS_FLAVOR, FSGS_COUNT as u32)
            .map(|s| s.words().to_vec())
    };
    match get() {
        Ok(words) if words == [0, 0] => {}
        other => return Err(fail(21, format_args!("the first bases: {other:?}"))),
    }
    let (page, _) = vm::allocate(4096).map_err(|_| 22u64)?.into_raw();
    // SAFETY: a fresh page of ours.
    unsafe {
        (page as *mut u64).write_volatile(0x1111);
        ((page + 8) as *mut u64).write_volatile(0x2222);
        ((page + 16) as *mut u64).write_volatile(0x3333);
    }
    let set = |fs: u64, gs: u64| {
        let state = hurd_abi::ThreadState::from_words(&[fs, gs]).unwrap_or_default();
        mach.thread_set_state(FSGS_FLAVOR, state)
    };
    if let Err(e) = set(page, page + 8) {
        return Err(fail(23, format_args!("setting our own bases: {e:?}")));
    }
    if segment_words() != (0x1111, 0x2222) {
        return Err(fail(24, format_args!("the bases did not take effect")));
    }
    match get() {
        Ok(words) if words == [page, page + 8] => {}
        other => return Err(fail(25, format_args!("the bases read back: {other:?}"))),
    }
    for (i, (fs, gs)) in [(USER_END, 0), (0, 0xffff_8000_0000_0000), (1 << 63, 0)]
        .into_iter()
        .enumerate()
    {
        if set(fs, gs) != INVALID_ARGUMENT {
            return Err(fail(26, format_args!("bad bases {i} accepted")));
        }
    }
    let short = hurd_abi::ThreadState::from_words(&[page]).unwrap_or_default();
    if mach.thread_set_state(FSGS_FLAVOR, short) != INVALID_ARGUMENT {
        return Err(fail(27, format_args!("one word accepted as the bases")));
    }
    if !matches!(
        mach.thread_get_state(FSGS_FLAVOR, 1),
        Err(Error::Kern(KernReturn::InvalidArgument))
    ) {
        return Err(fail(28, format_args!("the bases fit in one word?")));
    }
    // Each thread has its own, kept across switches.
    let other = thread::spawn(move || {
        let ipc = KernelIpc::new();
        let Ok(me) = thread::thread_self() else {
            return (0, 0);
        };
        let state = hurd_abi::ThreadState::from_words(&[page + 16, page]).unwrap_or_default();
        if Client::new(&ipc, me)
            .thread_set_state(FSGS_FLAVOR, state)
            .is_err()
        {
            return (0, 0);
        }
        for _ in 0..10 {
            thread::yield_now();
        }
        segment_words()
    })
    .map_err(|_| 29u64)?;
    for _ in 0..10 {
        thread::yield_now();
    }
    let mine = segment_words();
    let theirs = other.join();
    if mine != (0x1111, 0x2222) || theirs != (0x3333, 0x1111) {
        return Err(fail(
            30,
            format_args!("after switching: ours {mine:x?}, theirs {theirs:x?}"),
        ));
    }
    // Another thread's bases, set from here.
    set(0, 0).map_err(|_| 31u64)?;
    match get() {
        Ok(words) if words == [0, 0] => Ok(()),
        other => Err(fail(31, format_args!("the cleared bases: {other:?}"))),
    }
}

/// `thread_abort`.
fn abort() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let me = task::task_self();
    // A thread waiting to receive: MACH_RCV_INTERRUPTED.
    let port = ipc.port_allocate(RightType::Receive).map_err(|_| 40u64)?;
    static WAITER: AtomicU32 = AtomicU32::new(0);
    let receiver = thread::spawn(move || {
        let ipc = KernelIpc::new();
        WAITER.store(thread::thread_self().map_or(0, |p| p.0), Ordering::SeqCst);
        let opts = MsgOptions {
            rcv_interrupt: true,
            ..MsgOptions::default()
        };
        match ipc.receive_with(port, &opts) {
            Ok(_) => None,
            Err(e) => Some(e.code),
        }
    })
    .map_err(|_| 41u64)?;
    let waiter = wait_for(&WAITER)?;
    let got = Client::new(&ipc, waiter).thread_abort();
    if got.is_err() {
        return Err(fail(42, format_args!("thread_abort: {got:?}")));
    }
    let code = receiver.join();
    if code != Some(MsgReturn::RcvInterrupted) {
        return Err(fail(43, format_args!("the aborted receive: {code:?}")));
    }
    // A thread waiting for room in a full queue: MACH_SEND_INTERRUPTED,
    // and the queue holds only the first message.
    let full = ipc.port_allocate(RightType::Receive).map_err(|_| 44u64)?;
    mach_port::Client::new(&ipc, me)
        .mach_port_set_qlimit(full.0, 1)
        .map_err(|_| 44u64)?;
    ipc.send(Message::new(1, full, Disposition::MakeSend))
        .map_err(|_| 45u64)?;
    static SENDER: AtomicU32 = AtomicU32::new(0);
    let sender = thread::spawn(move || {
        let ipc = KernelIpc::new();
        SENDER.store(thread::thread_self().map_or(0, |p| p.0), Ordering::SeqCst);
        let opts = MsgOptions {
            send_interrupt: true,
            ..MsgOptions::default()
        };
        let msg = Message::new(2, full, Disposition::MakeSend);
        match ipc.mach_msg(Some(msg), None, &opts) {
            Ok(_) => None,
            Err(e) => Some(e.code()),
        }
    })
    .map_err(|_| 46u64)?;
    let waiter = wait_for(&SENDER)?;
    Client::new(&ipc, waiter)
        .thread_abort()
        .map_err(|_| 47u64)?;
    let code = sender.join();
    if code != Some(MsgReturn::SendInterrupted) {
        return Err(fail(48, format_args!("the aborted send: {code:?}")));
    }
    let first = ipc.receive(full).ok().map(|m| m.header.id);
    let second = ipc.receive_with(
        full,
        &MsgOptions {
            rcv_timeout: Some(Duration::ZERO),
            ..MsgOptions::default()
        },
    );
    if first != Some(1) || second.is_ok() {
        return Err(fail(49, format_args!("the queue after the abort")));
    }
    // A thread not waiting (this one) is left alone; a task port is no
    // thread.
    let own = thread::thread_self().map_err(|_| 50u64)?;
    if Client::new(&ipc, own).thread_abort().is_err() {
        return Err(fail(50, format_args!("aborting ourselves failed")));
    }
    if Client::new(&ipc, me).thread_abort() != INVALID_ARGUMENT {
        return Err(fail(51, format_args!("a task port was aborted")));
    }
    Ok(())
}

/// Waits until a thread has put its port in `slot`, then a little more
/// (so it is blocked in the kernel): its port.
fn wait_for(slot: &AtomicU32) -> Result<PortName, u64> {
    for _ in 0..1000 {
        let port = slot.load(Ordering::SeqCst);
        if port != 0 {
            thread::sleep(Duration::from_millis(50));
            return Ok(PortName(port));
        }
        thread::yield_now();
    }
    Err(fail(52, format_args!("a thread never started")))
}

/// `xmm0`'s low half.
fn xmm0() -> u64 {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    {
        let v: u64;
        // SAFETY: reads a register (the kernel enables SSE for user mode).
        unsafe { core::arch::asm!("movq {}, xmm0", out(reg) v, options(nostack, nomem)) };
        v
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    0
}

/// Sets `xmm0` to `v` (this program's code never uses the register).
fn set_xmm0(v: u64) {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    // SAFETY: writes a register no compiled code of this program uses
    // (it is built without SSE).
    unsafe {
        core::arch::asm!("movq xmm0, {}", in(reg) v, options(nostack, nomem))
    };
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    let _ = v;
}

/// The SSE registers: a thread starts with them clear (nothing of another
/// thread shows), and each keeps its own across switches.
fn sse() -> Result<(), u64> {
    let other = thread::spawn(|| {
        let first = xmm0();
        set_xmm0(0xbbbb_bbbb);
        for _ in 0..10 {
            thread::yield_now();
        }
        (first, xmm0())
    })
    .map_err(|_| 60u64)?;
    set_xmm0(0xaaaa_aaaa);
    for _ in 0..10 {
        thread::yield_now();
    }
    let mine = xmm0();
    let (first, theirs) = other.join();
    if first != 0 || mine != 0xaaaa_aaaa || theirs != 0xbbbb_bbbb {
        return Err(fail(
            61,
            format_args!("xmm0: first {first:#x}, ours {mine:#x}, theirs {theirs:#x}"),
        ));
    }
    Ok(())
}
