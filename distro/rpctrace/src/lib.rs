//! rpctrace: runs a program with its ports interposed and prints every RPC
//! it makes, as the Hurd's `rpctrace` does.
//!
//! Each send right the traced program holds is replaced by a right to a
//! *wrapper*, a port the tracer receives on; the tracer prints each message
//! that arrives there and forwards it to the real port. Reply ports are
//! wrapped the same way, so the reply is printed with its return code, and
//! the rights it brings into the program are wrapped in their turn:
//!
//! ```text
//!  fd1->io_write ("hello\n" -1) = 0 6
//! crdir->dir_lookup ("etc/motd" 1 0) = 0 0 "" move-send:9<--21
//! 9<--21->io_read (-1 8192) = 0 "Welcome\n"
//! ```
//!
//! Each line is `PORT->ROUTINE (ARGS) = CODE RESULTS`: the port as the
//! tracer names it (an initial port by its role, `fd1`, `crdir`, `auth`…;
//! one the program got in a reply as `REAL<--WRAPPER`), the routine's name
//! from the `interface!` definitions ([`msgids`]), arguments printed by
//! their kinds, rights as `DISPOSITION:PORT`, then `0` or the error code and
//! its meaning, and the routine's results. A simpleroutine's line ends
//! `);`. When another message comes before a reply, the open line ends with
//! `...N` and the reply's line starts with `N...` (N names the reply
//! port). Unknown ids are printed as numbers, their items as they come.
//!
//! - [`Tracer`]: the engine, on any [`UserIpc`](hurd_ipc::UserIpc) (the
//!   hosted runtime or a task on the kernel);
//! - [`format`](mod@format): how items, strings and return codes are printed;
//! - [`Options`]: the command line, `rpctrace [-o FILE] [-s SIZE] PROGRAM
//!   [ARG...]`;
//! - `hosted` (feature `std`): the `rpctrace` program of the hosted server
//!   set. On the kernel, the reference distro's `/bin/rpctrace`
//!   (`distro-programs`) runs the same [`Tracer`] on hurd-rt, without std.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod format;
#[cfg(feature = "std")]
pub mod hosted;
mod options;
mod tracer;

pub use options::{Options, USAGE};
pub use tracer::{SEND_TIMEOUT, Tracer};

/// The names the trace gives the initial ports, by `INIT_PORT_*` (the
/// descriptors are `fd0`, `fd1`…).
pub const INIT_PORT_LABELS: [&str; hurd_servers::exec::INIT_PORT_MAX] =
    ["cwdir", "crdir", "auth", "proc", "cttyid", "bootstrap"];

use hurd_ipc::msgids::MsgIds;

/// Every interface hurd-rs defines, for naming messages: the kernel's
/// (`mach.defs`, `mach_port.defs`, the device interface), the memory-object
/// protocol, auth and password, io/fs/fsys/socket, and the servers' (exec,
/// proc, msg, the terminal's).
pub fn msgids() -> MsgIds {
    MsgIds::with(&[
        hurd_abi::INTERFACES,
        hurd_vm::protocol::INTERFACES,
        hurd_auth::protocol::INTERFACES,
        hurd_trans::protocol::INTERFACES,
        hurd_servers::INTERFACES,
    ])
}
