//! Reads a line typed on the console: says it is ready, checks that bad
//! arguments are errors, reads (waiting for input) until a newline, and
//! prints what it read. Exits with 0 when the line is the one the test
//! types (`typed on the console`), else with the step that failed.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::{println, sys};

kernel_user::entry!(run);

/// `KERN_INVALID_ADDRESS`, `KERN_INVALID_ARGUMENT`.
const INVALID_ADDRESS: u64 = 1;
const INVALID_ARGUMENT: u64 = 4;

fn run(_: u64) -> u64 {
    // A buffer in kernel memory, and unknown flags, are errors.
    // SAFETY: the pointer is never dereferenced here; the kernel checks it.
    let kernel = unsafe { core::slice::from_raw_parts_mut(0x1000 as *mut u8, 16) };
    if sys::console_read(kernel, false) != Err(INVALID_ADDRESS) {
        return 1;
    }
    let mut buf = [0u8; 64];
    let (code, _) = sys::syscall(
        kernel_user::abi::nr::CONSOLE_READ,
        [buf.as_mut_ptr() as u64, 64, 0x10, 0, 0, 0],
    );
    if code != INVALID_ARGUMENT {
        return 2;
    }
    println!("console-reader: ready");
    let mut line = [0u8; 128];
    let mut len = 0;
    while !line[..len].contains(&b'\n') {
        if len == line.len() {
            return 3;
        }
        match sys::console_read(&mut line[len..], false) {
            Ok(0) => return 4,
            Ok(n) => len += n,
            Err(_) => return 5,
        }
    }
    let text = core::str::from_utf8(&line[..len]).unwrap_or("?").trim_end();
    println!("console-reader: read {text:?}");
    if text == "typed on the console" { 0 } else { 6 }
}
