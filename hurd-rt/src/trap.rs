//! The raw system calls: `syscall` with the call number in `rax` and up to
//! six arguments in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` (see
//! [`hurd_abi::nr`]); the kernel answers with a return code in `rax` and a
//! value in `rdx`.
//!
//! Private and `unsafe`: an argument may be an address the kernel reads or
//! writes. The rest of the crate wraps each call in a safe function taking
//! slices and returning typed results.

/// Traps into the kernel with call `nr` and `args`; returns (`rax`, `rdx`).
///
/// # Safety
///
/// Every address among `args` must be valid for what call `nr` does with it
/// (the kernel reads or writes that memory as the call describes), and the
/// call must not unmap or change memory the program still uses.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[inline(always)]
pub(crate) unsafe fn syscall(nr: u64, args: [u64; 6]) -> (u64, u64) {
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
pub(crate) unsafe fn syscall(nr: u64, args: [u64; 6]) -> (u64, u64) {
    let _ = (nr, args);
    (hurd_ipc::KernReturn::Failure as u64, 0)
}

/// A call that takes no address: safe to make with any arguments.
#[inline(always)]
pub(crate) fn plain(nr: u64, args: [u64; 6]) -> (u64, u64) {
    // SAFETY: the callers pass no addresses (only names, sizes, flags and
    // values the kernel checks), so no memory of the program is touched.
    unsafe { syscall(nr, args) }
}

/// A return code as a [`KernReturn`](hurd_ipc::KernReturn) result; a code
/// the kernel should never give reads as `KERN_FAILURE`.
pub(crate) fn kern(code: u64) -> Result<(), hurd_ipc::KernReturn> {
    match code {
        0 => Ok(()),
        c => Err(i32::try_from(c)
            .ok()
            .and_then(|c| hurd_ipc::KernReturn::try_from(c).ok())
            .filter(|k| *k != hurd_ipc::KernReturn::Success)
            .unwrap_or(hurd_ipc::KernReturn::Failure)),
    }
}

/// A call's (`rax`, `rdx`) as the value in `rdx` or the return code.
pub(crate) fn value((code, value): (u64, u64)) -> Result<u64, hurd_ipc::KernReturn> {
    kern(code).map(|()| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_ipc::KernReturn;

    #[test]
    fn codes_map_to_kern_returns() {
        assert_eq!(kern(0), Ok(()));
        assert_eq!(kern(15), Err(KernReturn::InvalidName));
        assert_eq!(kern(9999), Err(KernReturn::Failure));
        assert_eq!(kern(u64::MAX), Err(KernReturn::Failure));
        assert_eq!(value((0, 7)), Ok(7));
        assert_eq!(value((4, 7)), Err(KernReturn::InvalidArgument));
    }

    #[test]
    fn off_the_kernel_every_call_fails() {
        assert_eq!(plain(0, [0; 6]).0, KernReturn::Failure as u64);
    }
}
