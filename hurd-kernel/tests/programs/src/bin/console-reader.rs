//! Reads a line typed on the console: says it is ready, checks that bad
//! arguments are errors, reads (waiting for input) until a newline, and
//! prints what it read. Exits with 0 when the line is the one the test
//! types (`typed on the console`), else with the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_abi::nr;
use hurd_ipc::KernReturn;
use hurd_rt::{console, println};
use kernel_test_programs::raw;

hurd_rt::entry!(main);

fn main() -> u64 {
    // A buffer in kernel memory, and unknown flags, are errors.
    // SAFETY: the kernel refuses the kernel-memory buffer.
    let (code, _) = unsafe { raw::syscall(nr::CONSOLE_READ, [0x1000, 16, 0, 0, 0, 0]) };
    if code != KernReturn::InvalidAddress as u64 {
        return 1;
    }
    let mut buf = [0u8; 64];
    // SAFETY: `buf` is ours and 64 bytes long.
    let (code, _) = unsafe {
        raw::syscall(
            nr::CONSOLE_READ,
            [buf.as_mut_ptr() as u64, 64, 0x10, 0, 0, 0],
        )
    };
    if code != KernReturn::InvalidArgument as u64 {
        return 2;
    }
    println!("console-reader: ready");
    let mut line = [0u8; 128];
    let mut len = 0;
    while !line[..len].contains(&b'\n') {
        if len == line.len() {
            return 3;
        }
        match console::read(&mut line[len..], false) {
            Ok(0) => return 4,
            Ok(n) => len += n,
            Err(_) => return 5,
        }
    }
    let text = core::str::from_utf8(&line[..len]).unwrap_or("?").trim_end();
    println!("console-reader: read {text:?}");
    if text == "typed on the console" { 0 } else { 6 }
}
