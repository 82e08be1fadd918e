//! Maps the memory object at [`SERVICE`] (served by the `pager` program)
//! and reads its pages: every fault is served by the pager task. Checks the
//! contents, writes and reads back, then tells the pager to quit.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Disposition, Message, UserIpc};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, println, vm};

hurd_rt::entry!(main);

/// Byte `i` of page `page`, as the pager fills it.
fn pattern(page: usize, i: usize) -> u8 {
    (page as u8).wrapping_mul(31).wrapping_add(i as u8)
}

fn main() -> u64 {
    const PAGES: usize = 4;
    let mapping = match vm::map(SERVICE, 0, PAGES * vm::PAGE_SIZE) {
        Ok(m) => m,
        Err(code) => {
            println!("pager-client: vm_map failed: {code:?}");
            return 1;
        }
    };
    let mut status = 0;
    for page in (0..PAGES).rev() {
        for i in [0usize, 1, 2047, 4095] {
            let mut got = [0u8];
            if !mapping.read(page * vm::PAGE_SIZE + i, &mut got) || got[0] != pattern(page, i) {
                println!("pager-client: page {page} byte {i}: {:#x}", got[0]);
                status = 2;
            }
        }
    }
    let mut back = [0u8; 8];
    if !mapping.write(0, &0x1234u64.to_le_bytes())
        || !mapping.read(0, &mut back)
        || u64::from_le_bytes(back) != 0x1234
    {
        status = 3;
    }
    // Kept mapped until the end, as the task ends.
    core::mem::forget(mapping);
    if KernelIpc::new()
        .send(Message::new(999, SERVICE, Disposition::CopySend))
        .is_err()
    {
        status = 4;
    }
    if status == 0 {
        println!("pager-client: {PAGES} pages from the pager, contents right");
    }
    status
}
