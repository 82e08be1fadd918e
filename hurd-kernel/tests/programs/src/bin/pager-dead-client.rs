//! Maps the memory object of a pager that dies at its first `data_request`
//! (`pager-dies`). A system call whose buffer lies on the missing page waits
//! for the pager and, when it dies, fails with an error; a message sent from
//! another page of the dead object is refused; then touching the memory
//! itself kills this task (status `EXIT_EXCEPTION_BASE + 14`). Any other
//! outcome is an exit with the step that went wrong.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_abi::msg_option::SEND_MSG;
use hurd_rt::ports::SERVICE;
use hurd_rt::println;
use kernel_test_programs::raw;

hurd_rt::entry!(main);

/// `KERN_INVALID_ADDRESS`.
const INVALID_ADDRESS: u64 = 1;
/// `MACH_SEND_INVALID_DATA`.
const SEND_INVALID_DATA: u64 = 0x1000_0002;

fn main() -> u64 {
    let Ok(addr) = raw::vm_map(4 * 4096, SERVICE.0, 0) else {
        return 1;
    };
    // SAFETY: the kernel reads the range, a page of the mapping above.
    let rc = unsafe { raw::console_write(addr, 8) };
    if rc != INVALID_ADDRESS {
        println!("pager-dead-client: console_write from a dead pager's page: {rc:#x}");
        return 2;
    }
    // SAFETY: as above: the kernel reads a page of the mapping.
    let rc = unsafe { raw::mach_msg((addr + 4096) as *mut u8, SEND_MSG, 24, 0, 0, 0) };
    if rc != SEND_INVALID_DATA {
        println!("pager-dead-client: a send from a dead pager's page: {rc:#x}");
        return 3;
    }
    // SAFETY: mapped (above); the fault kills this task.
    let _ = unsafe { ((addr + 2 * 4096) as *const u8).read_volatile() };
    println!("pager-dead-client: a dead pager's page was read");
    4
}
