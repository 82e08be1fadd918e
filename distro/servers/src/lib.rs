//! The reference hurd-rs server set.
//!
//! - [`exec`]: the exec server's protocol (`exec.defs`) and, with feature
//!   `std`, the hosted exec server: programs run as tasks with the caller's
//!   ports as their standard input, output and error and the caller's auth
//!   handle, also across the nodes of a cluster; `#!` scripts.
//! - [`proc`]: the proc server's protocol (`process.defs`) and the
//!   message port's `msg_sig_post` (`msg.defs`): pids, sessions and process
//!   groups, owners, argv/env queries, `proc_wait`, and signals; with feature
//!   `std`, the hosted proc server that the exec server registers programs
//!   with.
//! - [`fstab`]: the file systems of the system's disks that `hurd-init`
//!   mounts at boot (`/etc/fstab`).
//! - [`rootfs`]: what every root file system holds (accounts, `/etc`,
//!   homes) and the login check, hosted and on the kernel.
//! - [`shell`]: a small shell for trying the system by hand — files,
//!   translators and identities (`su` adds a user's ids to the running
//!   session through the auth server); `ps` and `kill` through proc.
//! - `hosted` (feature `std`): the server set in one process — auth,
//!   password and a tmpfs root with the translators — for
//!   `cargo xtask run --hosted` and the tests.
//! - [`untar`]: a root file system that comes as a tar archive (a boot
//!   module), read with `hurd_trans::tar` and written into the root.
//! - [`term`]: the terminal's line discipline — canonical input with line
//!   editing, echo, output processing, and the job-control characters that
//!   become signals to the foreground process group.
//!
//! The servers are `no_std` + `alloc` state machines, so the same code runs
//! hosted (tests, `cargo xtask run --hosted`) and on the reference kernel.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(feature = "std")]
mod accounts;
pub mod exec;
pub mod fstab;
#[cfg(feature = "std")]
pub mod hosted;
mod port;
pub mod proc;
pub mod rootfs;
pub mod services;
pub mod shell;
pub mod term;
pub mod untar;

/// The interfaces of this crate (exec, proc, the message port, the
/// terminal's), for tools that name messages (see [`hurd_ipc::msgids`]).
pub static INTERFACES: &[&hurd_ipc::msgids::Subsystem] = &[
    &exec::exec::DESCRIPTION,
    &proc::process::DESCRIPTION,
    &proc::msg::DESCRIPTION,
    &term::tioctl_modes::DESCRIPTION,
    &term::tioctl_pgrp::DESCRIPTION,
    &term::device_reply::DESCRIPTION,
];

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
