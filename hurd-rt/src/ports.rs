//! The initial ports: the names under which a program finds the rights its
//! starter gave it before it ran (with `mach_port_insert_right` on its task
//! port). A loader (the exec server, `hurd-init`) puts them
//! there; the runtime and the program look them up.
//!
//! On the Hurd a program gets these from the exec server's
//! `exec_startup_get_info` (its `portarray` and descriptor table); here they
//! wait under fixed names. A name the starter left empty holds no right
//! ([`held`] says `None`).

use hurd_ipc::{PortName, PortType, UserIpc};

use crate::KernelIpc;

/// A client's service port, or a server's receive right, as the kernel's
/// tests hand them out ([`hurd_abi::SERVICE_PORT_NAME`]).
pub const SERVICE: PortName = PortName(hurd_abi::SERVICE_PORT_NAME);

/// Standard input (descriptor 0): an I/O port (`io_read`).
pub const STDIN: PortName = PortName(0x20);

/// Standard output (descriptor 1): an I/O port (`io_write`).
pub const STDOUT: PortName = PortName(0x21);

/// Standard error (descriptor 2).
pub const STDERR: PortName = PortName(0x22);

/// The program's proc port (`INIT_PORT_PROC`): a send right to its process
/// at the proc server.
pub const PROC: PortName = PortName(0x23);

/// The program's auth handle (`INIT_PORT_AUTH`).
pub const AUTH: PortName = PortName(0x24);

/// The program's root directory (`INIT_PORT_CRDIR`).
pub const CRDIR: PortName = PortName(0x25);

/// A session program's send right to the password server.
pub const PASSWORD: PortName = PortName(0x26);

/// The program's working directory (`INIT_PORT_CWDIR`); a starter whose
/// working directory is the root leaves it empty (a port has one name in a
/// space) and the program uses [`CRDIR`].
pub const CWDIR: PortName = PortName(0x27);

/// The program's bootstrap port (`INIT_PORT_BOOTSTRAP`): a translator's
/// parent file system (for `fsys_startup`), a server's starter (for its
/// startup handshake).
pub const BOOTSTRAP: PortName = PortName(0x28);

/// `name` if this task holds a right under it, else `None`.
pub fn held(name: PortName) -> Option<PortName> {
    KernelIpc::new()
        .port_type(name)
        .ok()
        .filter(|t| !t.is_empty() && *t != PortType::DEAD_NAME)
        .map(|_| name)
}
