//! The bare system calls, for the kernel's tests that pass them what no safe
//! interface would: addresses in kernel memory, unmapped memory, pages a
//! dead pager never supplied, unknown numbers and flags, threads started at
//! a function of their own. Every call returns the kernel's `rax` as it is.
//!
//! Programs use [`hurd_rt`]; only tests of the kernel's checks need this.

use hurd_abi::nr;

/// Traps into the kernel with call `n` and `args`; returns (`rax`, `rdx`).
///
/// # Safety
///
/// Memory the arguments describe may be read or written by the kernel as
/// call `n` does: it must be memory the program lets the kernel change, or
/// memory the kernel will refuse (outside user space, unmapped).
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[inline(always)]
pub unsafe fn syscall(n: u64, args: [u64; 6]) -> (u64, u64) {
    let code: u64;
    let value: u64;
    // SAFETY: the caller's contract; `syscall` preserves every register but
    // rax, rdx, rcx and r11.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") n => code,
            in("rdi") args[0],
            in("rsi") args[1],
            inlateout("rdx") args[2] => value,
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    (code, value)
}

/// Off the kernel there is no kernel: `KERN_FAILURE`.
///
/// # Safety
///
/// Always safe.
#[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
#[inline(always)]
pub unsafe fn syscall(n: u64, args: [u64; 6]) -> (u64, u64) {
    let _ = (n, args);
    (5, 0)
}

/// `mach_msg` on the buffer at `buf`; returns the code.
///
/// # Safety
///
/// As [`syscall`]: the kernel reads `send_size` bytes at `buf` and writes up
/// to `rcv_size` there.
pub unsafe fn mach_msg(
    buf: *mut u8,
    option: u64,
    send_size: u64,
    rcv_size: u64,
    rcv_name: u32,
    timeout_ms: u64,
) -> u64 {
    let args = [
        buf as u64,
        option,
        send_size,
        rcv_size,
        u64::from(rcv_name),
        timeout_ms,
    ];
    // SAFETY: the caller's contract.
    unsafe { syscall(nr::MACH_MSG, args) }.0
}

/// `console_write` of `len` bytes at `addr`; returns the code.
///
/// # Safety
///
/// As [`syscall`] (the kernel only reads).
pub unsafe fn console_write(addr: u64, len: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { syscall(nr::CONSOLE_WRITE, [addr, len, 0, 0, 0, 0]) }.0
}

/// Starts a thread of this task at `entry` with stack pointer `stack` and
/// `arg` as its argument → its id, or the code.
///
/// # Errors
///
/// The kernel's code when it cannot start the thread.
///
/// # Safety
///
/// `stack` must be the top of memory the new thread alone uses, for as
/// long as it runs; `entry` must not return.
pub unsafe fn thread_spawn(
    entry: extern "C" fn(u64) -> !,
    stack: u64,
    arg: u64,
) -> Result<u64, u64> {
    // SAFETY: the caller's contract.
    match unsafe {
        syscall(
            nr::THREAD_SPAWN,
            [entry as *const () as u64, stack, arg, 0, 0, 0],
        )
    } {
        (0, id) => Ok(id),
        (code, _) => Err(code),
    }
}

/// Ends the calling thread (the task ends with its last thread).
pub fn thread_exit() -> ! {
    // SAFETY: THREAD_EXIT takes no address and does not return.
    unsafe { syscall(nr::THREAD_EXIT, [0; 6]) };
    loop {
        core::hint::spin_loop();
    }
}

/// `vm_map` of `size` bytes of the memory object `pager` from `offset`,
/// anywhere: the address (the caller decides what touches it), or the code.
///
/// # Errors
///
/// The kernel's code when `pager` is no memory object or the region
/// cannot be mapped.
pub fn vm_map(size: u64, pager: u32, offset: u64) -> Result<u64, u64> {
    // SAFETY: VM_MAP takes no address of the caller's (it picks one).
    match unsafe { syscall(nr::VM_MAP, [0, size, u64::from(pager), offset, 0, 0]) } {
        (0, addr) => Ok(addr),
        (code, _) => Err(code),
    }
}

/// `vm_allocate` of `size` bytes anywhere: the address, or the code.
///
/// # Errors
///
/// The kernel's code when the region cannot be allocated.
pub fn vm_allocate(size: u64) -> Result<u64, u64> {
    // SAFETY: a fresh region changes no memory in use.
    match unsafe { syscall(nr::VM_ALLOCATE, [0, size, 1, 0, 0, 0]) } {
        (0, addr) => Ok(addr),
        (code, _) => Err(code),
    }
}

/// `vm_allocate` at exactly `addr`: the code (0 on success).
pub fn vm_allocate_at(addr: u64, size: u64) -> u64 {
    // SAFETY: allocating where nothing is mapped changes no memory in use;
    // where something is, the kernel refuses.
    unsafe { syscall(nr::VM_ALLOCATE, [addr, size, 0, 0, 0, 0]) }.0
}

/// The null system call (for measurements): its code.
#[inline(always)]
pub fn null() -> u64 {
    // SAFETY: NULL takes nothing and does nothing.
    unsafe { syscall(nr::NULL, [0; 6]) }.0
}
