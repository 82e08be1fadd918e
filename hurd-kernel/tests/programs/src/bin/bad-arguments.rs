//! Passes bad pointers and arguments to system calls: each must be an error
//! return, and the task must live on.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_abi::msg_option::{RCV_MSG, SEND_MSG};
use hurd_abi::{USER_BASE, USER_END};
use hurd_ipc::{RightType, UserIpc};
use hurd_rt::{KernelIpc, println};
use kernel_test_programs::raw;

hurd_rt::entry!(main);

fn check(what: &str, got: u64, want: u64) -> bool {
    if got != want {
        println!("bad-arguments: {what}: got {got:#x}, want {want:#x}");
    }
    got == want
}

fn main() -> u64 {
    // The kernel image (top 2 GiB) and unmapped user memory.
    let kernel = 0xffff_ffff_8010_0000u64;
    let unmapped = 0x7f00_0000_0000u64;
    let mut ok = true;
    // SAFETY: every raw call below passes addresses that are kernel memory
    // or unmapped, which the kernel refuses, or `garbage`, a buffer of ours.
    unsafe {
        // KERN_INVALID_ADDRESS for console writes from kernel or unmapped memory.
        ok &= check("console kernel", raw::console_write(kernel, 8), 1);
        ok &= check("console unmapped", raw::console_write(unmapped, 8), 1);
        // mach_msg: MACH_SEND_INVALID_DATA, MACH_SEND_MSG_TOO_SMALL, MACH_RCV_INVALID_DATA.
        ok &= check(
            "send kernel buffer",
            raw::mach_msg(kernel as *mut u8, SEND_MSG, 24, 0, 0, 0),
            0x1000_0002,
        );
        ok &= check(
            "send too small",
            raw::mach_msg(unmapped as *mut u8, SEND_MSG, 8, 0, 0, 0),
            0x1000_0008,
        );
    }
    let Ok(port) = KernelIpc::new().port_allocate(RightType::Receive) else {
        return 2;
    };
    // SAFETY: as above.
    unsafe {
        ok &= check(
            "receive into kernel",
            raw::mach_msg(kernel as *mut u8, RCV_MSG, 0, 64, port.0, 0),
            0x1000_4008,
        );
    }
    // vm_allocate outside user space: KERN_INVALID_ADDRESS; no memory.
    ok &= check("vm_allocate page 1", raw::vm_allocate_at(0x1000, 4096), 1);
    ok &= check(
        "vm_allocate below user space",
        raw::vm_allocate_at(USER_BASE - 4096, 4096),
        1,
    );
    ok &= check(
        "vm_allocate at its end",
        raw::vm_allocate_at(USER_END, 4096),
        1,
    );
    ok &= check(
        "vm_allocate across its end",
        raw::vm_allocate_at(USER_END - 4096, 8192),
        1,
    );
    ok &= check("vm_allocate kernel", raw::vm_allocate_at(kernel, 4096), 1);
    ok &= check(
        "vm_allocate direct map",
        raw::vm_allocate_at(0xffff_8000_0000_0000, 4096),
        1,
    );
    // Low user memory (below the native programs' area) is ordinary memory.
    let low = 0x1000_0000u64;
    let allocated = check("vm_allocate low", raw::vm_allocate_at(low, 4096), 0);
    ok &= allocated;
    if allocated {
        // SAFETY: the page at `low` was just allocated, readable and
        // writable, and nothing else of ours is there.
        let word = unsafe {
            (low as *mut u64).write_volatile(0x0123_4567);
            (low as *const u64).read_volatile()
        };
        ok &= check("low memory holds a write", word, 0x0123_4567);
    }
    ok &= check(
        "vm_allocate the last page",
        raw::vm_allocate_at(USER_END - 4096, 4096),
        0,
    );
    // A garbage message: MACH_SEND_INVALID_HEADER (size field wrong).
    let mut garbage = [0xffu8; 32];
    // SAFETY: as above.
    unsafe {
        ok &= check(
            "garbage header",
            raw::mach_msg(garbage.as_mut_ptr(), SEND_MSG, 32, 0, 0, 0),
            0x1000_0010,
        );
        // A trap number no trap has: KERN_INVALID_ARGUMENT.
        ok &= check("unknown trap", raw::syscall((-99i64) as u64, [0; 6]).0, 4);
        // A Linux system call number, in a task with no emulation: -ENOSYS.
        ok &= check("Linux call", raw::syscall(9999, [0; 6]).0, (-38i64) as u64);
    }
    if ok { 0 } else { 1 }
}
