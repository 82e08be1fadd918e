//! What the reference kernel's test programs and the distro's programs
//! share on top of [`hurd_rt`]: [`rpc`] (calls to the kernel's task and
//! thread ports), [`exec`] (an ELF loader building a new task through its
//! task port, the exec server's way), [`exec_server`] (the exec server on
//! the kernel), [`process`] (a program's proc port and signal thread, and
//! the kernel's side of the proc server), [`startup`] (servers started from
//! boot modules), [`translators`] (hurd-trans's translators started as
//! tasks), [`raw`] (the bare system calls the kernel's tests call with bad
//! arguments) and [`echo`] (the echo interface of the tests). The programs
//! in `src/bin` are the kernel's test programs and `hurd-init`, the
//! distro's first task.
#![no_std]
// The workspace warns about public fallible functions without an `# Errors`
// section; this crate's are still to be written. Remove this line when they are.
#![allow(clippy::missing_errors_doc)]

extern crate alloc;

pub mod echo;
pub mod exec;
pub mod exec_server;
pub mod process;
pub mod raw;
pub mod rpc;
pub mod startup;
pub mod translators;

/// Milliseconds, roughly, from the time-stamp counter (for the auth and
/// password servers' deadlines), until the kernel offers a clock.
pub fn now_ms() -> u64 {
    // SAFETY: READ_TSC takes no address.
    unsafe { raw::syscall(hurd_abi::nr::READ_TSC, [0; 6]) }.1 / 1_000_000
}
