//! Maps the memory object at [`SERVICE_PORT_NAME`] (served by the `pager`
//! program) and reads its pages: every fault is served by the pager task.
//! Checks the contents, writes and reads back, then tells the pager to quit.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::SEND_MSG;
use kernel_user::msg::{COPY_SEND, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// Byte `i` of page `page`, as the pager fills it.
fn pattern(page: u64, i: usize) -> u8 {
    (page as u8).wrapping_mul(31).wrapping_add(i as u8)
}

fn run(_: u64) -> u64 {
    const PAGES: u64 = 4;
    let addr = match sys::vm_map(PAGES * 4096, SERVICE_PORT_NAME, 0) {
        Ok(addr) => addr,
        Err(code) => {
            println!("pager-client: vm_map failed: {code:#x}");
            return 1;
        }
    };
    let mut status = 0;
    for page in (0..PAGES).rev() {
        let base = addr + page * 4096;
        for i in [0usize, 1, 2047, 4095] {
            // SAFETY: the range was just mapped; a fault on it is served by
            // the pager.
            let got = unsafe { ((base + i as u64) as *const u8).read_volatile() };
            if got != pattern(page, i) {
                println!("pager-client: page {page} byte {i}: {got:#x}");
                status = 2;
            }
        }
    }
    // SAFETY: mapped read/write (above).
    unsafe {
        (addr as *mut u64).write_volatile(0x1234);
        if (addr as *const u64).read_volatile() != 0x1234 {
            status = 3;
        }
    }
    let mut buf = MsgBuf::new();
    buf.start(SERVICE_PORT_NAME, COPY_SEND, 0, 0, 999);
    if sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, 24, 0, 0, 0) != 0 {
        status = 4;
    }
    if status == 0 {
        println!("pager-client: {PAGES} pages from the pager, contents right");
    }
    status
}
