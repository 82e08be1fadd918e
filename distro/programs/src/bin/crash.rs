//! Writes to an address of the kernel's: the kernel kills the task, and the
//! shell reports the crash (`SIGSEGV`) while the system goes on.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

distro_programs::program!(main);

fn main() -> u64 {
    // The kernel's image, in the top 2 GiB (supervisor pages).
    let kernel_address = 0xffff_ffff_8010_0000u64 as *mut u64;
    // SAFETY: none; this is the point of the program. The kernel kills the
    // task at the write.
    unsafe { kernel_address.write_volatile(0xbad) };
    0
}
