//! Writes to an address of the kernel's: the kernel kills the task, and the
//! shell reports the crash (`SIGSEGV`) while the system goes on.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

distro_programs::program!(main);

fn main() -> u64 {
    let kernel_address = 0x10_0000 as *mut u64;
    // SAFETY: none; this is the point of the program. The kernel kills the
    // task at the write.
    unsafe { kernel_address.write_volatile(0xbad) };
    0
}
