//! A program's standard input, output and error: the I/O ports its starter
//! gave it under [`STDIN`], [`STDOUT`] and [`STDERR`] (a terminal, a file —
//! anything speaking `io_read` and `io_write`). A program given no
//! standard output or error writes to the kernel console instead.

use alloc::vec::Vec;

use hurd_ipc::{PortName, UserIpc};
use hurd_trans::protocol::io;

use crate::ipc::KernelIpc;
use crate::sys;

/// The name under which a program finds its standard input (descriptor 0).
pub const STDIN: u32 = 0x20;

/// The name under which a program finds its standard output (descriptor
/// 1), given by its starter with `mach_port_insert_right`.
pub const STDOUT: u32 = 0x21;

/// The name under which a program finds its standard error (descriptor 2).
pub const STDERR: u32 = 0x22;

/// The most bytes one `io_write` carries.
const CHUNK: usize = 32 * 1024;

/// Writes `data` to standard output; `false` if the port refused it.
pub fn write(data: &[u8]) -> bool {
    write_to(STDOUT, data)
}

/// Writes `data` to standard error; `false` if the port refused it.
pub fn write_err(data: &[u8]) -> bool {
    write_to(STDERR, data)
}

/// Writes `data` to the I/O port named `name`, or the console when there
/// is none.
fn write_to(name: u32, data: &[u8]) -> bool {
    let ipc = KernelIpc::new();
    let port = PortName(name);
    if ipc.port_type(port).is_err() {
        sys::console_write(data);
        return true;
    }
    let out = io::Client::new(&ipc, port);
    let mut at = 0;
    while at < data.len() {
        let end = data.len().min(at + CHUNK);
        match out.write(data[at..end].to_vec(), -1) {
            Ok(n) if n > 0 => at += (n as usize).min(end - at),
            _ => return false,
        }
    }
    true
}

/// Reads up to `max` bytes from standard input (a line, from a terminal);
/// empty at end of file, `None` when there is no standard input or it
/// failed.
pub fn read(max: usize) -> Option<Vec<u8>> {
    let ipc = KernelIpc::new();
    io::Client::new(&ipc, PortName(STDIN))
        .read(-1, max.min(CHUNK) as u64)
        .ok()
}
