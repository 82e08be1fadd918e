//! Takes memory until there is none: writes one byte every 2 MiB of a huge
//! region, so that each page it touches needs a frame for itself and one for
//! the page table that maps it. The kernel must end the task at the fault
//! it cannot serve (exit status `EXIT_EXCEPTION_BASE + 14`) and go on.
//! Returns 1 if the region was allocated and never ran out, 2 if it could
//! not be allocated.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_rt::{mach, task};

hurd_rt::entry!(main);

/// The region: far more than the machine's memory.
const SIZE: u64 = 64 << 30;
/// One touch per page table's reach.
const STRIDE: u64 = 2 << 20;

fn main() -> u64 {
    let Ok(base) = mach::vm_allocate(task::task_self(), 0, SIZE, true) else {
        return 2;
    };
    let mut at = base;
    while at < base + SIZE {
        // SAFETY: inside the region just allocated, which nothing else uses.
        unsafe { (at as *mut u8).write_volatile(1) };
        at += STRIDE;
    }
    1
}
