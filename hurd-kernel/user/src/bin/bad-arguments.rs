//! Passes bad pointers and arguments to system calls: each must be an error
//! return, and the task must live on.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::abi::nr;
use kernel_user::{println, sys};

kernel_user::entry!(run);

fn check(what: &str, got: u64, want: u64) -> bool {
    if got != want {
        println!("bad-arguments: {what}: got {got:#x}, want {want:#x}");
    }
    got == want
}

fn run(_: u64) -> u64 {
    let kernel = 0x10_0000 as *mut u8;
    let unmapped = 0x7f00_0000_0000 as *mut u8;
    let mut ok = true;
    // KERN_INVALID_ADDRESS for console writes from kernel or unmapped memory
    // (raw addresses: no slice may be made of memory the task cannot read).
    let console_write = |at: *mut u8| sys::syscall(nr::CONSOLE_WRITE, [at as u64, 8, 0, 0, 0, 0]).0;
    ok &= check("console kernel", console_write(kernel), 1);
    ok &= check("console unmapped", console_write(unmapped), 1);
    // mach_msg: MACH_SEND_INVALID_DATA, MACH_SEND_MSG_TOO_SMALL, MACH_RCV_INVALID_DATA.
    ok &= check(
        "send kernel buffer",
        sys::mach_msg(kernel, SEND_MSG, 24, 0, 0, 0),
        0x1000_0002,
    );
    ok &= check(
        "send too small",
        sys::mach_msg(unmapped, SEND_MSG, 8, 0, 0, 0),
        0x1000_0008,
    );
    let Ok(port) = sys::port_allocate(1) else {
        return 2;
    };
    ok &= check(
        "receive into kernel",
        sys::mach_msg(kernel, RCV_MSG, 0, 64, port, 0),
        0x1000_4008,
    );
    // vm_allocate in the kernel's range: KERN_INVALID_ADDRESS; no memory.
    ok &= check(
        "vm_allocate kernel",
        sys::vm_allocate(0x1000, 4096, false).err().unwrap_or(0),
        1,
    );
    // A garbage message: MACH_SEND_INVALID_HEADER (size field wrong).
    let mut garbage = [0xffu8; 32];
    ok &= check(
        "garbage header",
        sys::mach_msg(garbage.as_mut_ptr(), SEND_MSG, 32, 0, 0, 0),
        0x1000_0010,
    );
    // A trap number no trap has: KERN_INVALID_ARGUMENT.
    ok &= check("unknown trap", sys::syscall((-99i64) as u64, [0; 6]).0, 4);
    // A Linux system call number, in a task with no emulation: -ENOSYS.
    ok &= check("Linux call", sys::syscall(9999, [0; 6]).0, (-38i64) as u64);
    if ok { 0 } else { 1 }
}
