//! What the kernel's test programs share beyond [`hurd_rt`]: [`raw`] (the
//! bare system calls the tests make with arguments no safe interface would
//! pass), [`call`] (a request of any items to a kernel port, for the same),
//! [`echo`] (the echo interface a server and a client task speak) and
//! [`report`] (how a program says which step failed).
//! The programs are in `src/bin`; `hurd-kernel/src/kernel/tests/user.rs`
//! starts them from the boot modules by name.
#![no_std]

extern crate alloc;

pub mod echo;
pub mod raw;
pub mod report;

use alloc::vec::Vec;

use hurd_ipc::mig::{self, CallOptions};
use hurd_ipc::{Error, Item, PortName};
use hurd_rt::KernelIpc;

/// Sends request `id` with `args` — any items, to test the kernel's
/// checks — to `port` and waits for the reply, which must carry nothing but
/// its return code. Well-formed calls use [`hurd_rt::mach`].
///
/// # Errors
///
/// The call's [`Error`]: `mach_msg`'s (`Error::Msg`), or the reply's code.
pub fn call(port: PortName, id: i32, args: Vec<Item>) -> Result<(), Error> {
    let opts = CallOptions::default();
    mig::call(&KernelIpc::new(), port, id, args, &opts, &[]).map(drop)
}
