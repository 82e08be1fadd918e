//! A program's standard output: the I/O port its starter gave it under
//! [`STDOUT`] (a file, a terminal — anything speaking `io_write`), or, when
//! it has none, the kernel console.

use hurd_ipc::{PortName, UserIpc};
use hurd_trans::protocol::io;

use crate::ipc::KernelIpc;
use crate::sys;

/// The name under which a program finds its standard output (descriptor
/// 1), given by its starter with `mach_port_insert_right`.
pub const STDOUT: u32 = 0x21;

/// The most bytes one `io_write` carries.
const CHUNK: usize = 32 * 1024;

/// Writes `data` to standard output; `false` if the port refused it.
pub fn write(data: &[u8]) -> bool {
    let ipc = KernelIpc::new();
    let port = PortName(STDOUT);
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
