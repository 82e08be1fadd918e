//! The traps: `syscall` with a call of [`hurd_abi::trap`] — its number in
//! `rax`, its fields in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` — and the
//! kernel's answer, a return code in `rax` and the call's value in `rdx`.
//!
//! Private: [`trap`] is `unsafe` (a field may be an address the kernel
//! reads or writes, or the call may change memory the program uses); the
//! calls that touch none of the caller's memory are marked [`Harmless`] and
//! made through the safe [`call`]. The rest of the crate wraps every call in
//! a safe function taking slices and returning typed results.

use hurd_abi::trap::{
    Call, Exit, MachReplyPort, Null, PortAllocate, PortDeallocate, PortDestroy, Register, TaskSelf,
    ThreadSelf, Uptime, VmAllocate, VmMap, Yield,
};
use hurd_ipc::KernReturn;

/// Traps into the kernel with call number `nr` and the argument registers;
/// returns (`rax`, `rdx`).
///
/// # Safety
///
/// Every address among `args` must be valid for what call `nr` does with it
/// (the kernel reads or writes that memory as the call describes), and the
/// call must not unmap or change memory the program still uses.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[inline(always)]
unsafe fn syscall(nr: u64, args: [u64; 6]) -> (u64, u64) {
    let code: u64;
    let value: u64;
    // SAFETY: `syscall` enters the kernel, which checks every argument and
    // returns with every register but rax, rdx, rcx and r11 preserved. The
    // memory the arguments describe is valid for the call (the caller's
    // contract), so what the kernel reads or writes there is allowed; the asm
    // is not marked as leaving memory alone for that reason.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr => code,
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

/// Off the hurd-rs kernel (host builds: tests, documentation) there is no
/// kernel to call: every call fails with `KERN_FAILURE`.
///
/// # Safety
///
/// Always safe; `unsafe` only to match the real one.
#[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
#[inline(always)]
unsafe fn syscall(nr: u64, args: [u64; 6]) -> (u64, u64) {
    let _ = (nr, args);
    (KernReturn::Failure as u64, 0)
}

/// Makes `call`: its value, or the kernel's return code as it is (for
/// `mach_msg`, a `MACH_SEND_*`/`MACH_RCV_*` code).
///
/// # Safety
///
/// As [`syscall`], for the addresses among the call's fields and what the
/// call does to the caller's memory.
#[inline(always)]
pub(crate) unsafe fn trap<C: Call>(call: C) -> Result<C::Value, u64> {
    // SAFETY: the caller's contract.
    let (code, value) = unsafe { syscall(C::NUMBER, call.to_registers()) };
    if code != 0 {
        return Err(code);
    }
    C::Value::from_register(value).ok_or(KernReturn::Failure as u64)
}

/// A call that passes the kernel no address of the caller's and changes no
/// memory the program uses: safe with any values of its fields.
pub(crate) trait Harmless: Call {}

impl Harmless for Null {}
impl Harmless for Exit {}
impl Harmless for Yield {}
impl Harmless for TaskSelf {}
impl Harmless for ThreadSelf {}
impl Harmless for MachReplyPort {}
impl Harmless for PortAllocate {}
impl Harmless for PortDeallocate {}
impl Harmless for PortDestroy {}
impl Harmless for Uptime {}
// A fresh region, where nothing of the program's is: anywhere, or at an
// address the kernel refuses when it is taken.
impl Harmless for VmAllocate {}
// The kernel picks an address where nothing is.
impl Harmless for VmMap {}

/// Makes a [`Harmless`] call: its value, or the return code as a
/// [`KernReturn`].
#[inline(always)]
pub(crate) fn call<C: Harmless>(call: C) -> Result<C::Value, KernReturn> {
    // SAFETY: a harmless call passes no address and changes no memory the
    // program uses.
    unsafe { trap(call) }.map_err(kern_error)
}

/// A nonzero return code as a [`KernReturn`]; a code the kernel should never
/// give reads as `KERN_FAILURE`.
pub(crate) fn kern_error(code: u64) -> KernReturn {
    i32::try_from(code)
        .ok()
        .and_then(|c| KernReturn::try_from(c).ok())
        .filter(|k| *k != KernReturn::Success)
        .unwrap_or(KernReturn::Failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kern_returns() {
        assert_eq!(kern_error(15), KernReturn::InvalidName);
        assert_eq!(kern_error(0), KernReturn::Failure);
        assert_eq!(kern_error(9999), KernReturn::Failure);
        assert_eq!(kern_error(u64::MAX), KernReturn::Failure);
    }

    #[test]
    fn off_the_kernel_every_call_fails() {
        assert_eq!(call(Null {}), Err(KernReturn::Failure));
        assert_eq!(call(Uptime {}), Err(KernReturn::Failure));
    }
}
