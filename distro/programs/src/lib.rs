//! The reference distro's side of running on the hurd-rs kernel, shared by
//! its programs (in `src/bin`): [`process`] (a program's proc port and signal
//! thread, and the kernel's side of the proc server), [`startup`] (servers
//! started from boot modules and their handshake), [`exec_server`] (the exec
//! server, hurd-servers' `exec.defs` served with ELF images) and
//! [`translators`] (hurd-trans's translators started as tasks) and
//! [`virtio`] (what the virtio drivers share: DMA, registers and
//! configuration space over the kernel's device master port) and [`disks`]
//! (the file systems `/etc/fstab` lists, mounted at boot on their disks)
//! and [`network`] (the network card's driver and the Internet protocol
//! family's server on `/servers/socket/2`, started at boot).
//!
//! What every program needs (entry point, heap, threads, the kernel's calls,
//! the ELF loader) is [`hurd_rt`]'s; what is here is this distro's choice.
//! The distro's programs start with [`program!`], which starts the signal
//! thread before `main`.
#![no_std]

extern crate alloc;

pub mod disks;
pub mod exec_server;
pub mod network;
pub mod process;
pub mod startup;
pub mod store;
pub mod translators;
pub mod virtio;

/// Defines a distro program's entry point: [`hurd_rt::entry!`] with the
/// signal thread started before `main` ([`process::start_signal_thread`]).
#[macro_export]
macro_rules! program {
    ($main:path) => {
        hurd_rt::entry!($main, init = $crate::process::start_signal_thread);
    };
}
