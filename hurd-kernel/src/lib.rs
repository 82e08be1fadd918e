//! The parts of the hurd-rs reference kernel that do not need the hardware.
//!
//! The kernel itself is this crate's binary (`src/kernel/`), built for
//! `x86_64-unknown-none` by `cargo xtask kernel` / `cargo xtask test`. What it
//! does with untrusted bytes or plain data structures lives here, in a
//! `no_std` library with unit tests that run on the host:
//!
//! - [`multiboot`]: the multiboot v1 boot information (memory map, modules,
//!   command line), read through bounds-checked physical memory accesses;
//! - [`frames`]: the physical frame allocator, a bitmap built from the memory
//!   map;
//! - [`pci`]: the PCI bus found at boot (functions, their regions sized,
//!   interrupt routing) and the configuration writes a driver may make;
//! - [`runq`]: the scheduler's run queues (one per priority);
//! - [`slab`]: the tables of threads and tasks, by ids they hand out and
//!   reuse;
//! - [`emulation`]: a task's system-call emulation vector;
//! - [`testing`]: the line protocol the kernel's test run prints and the
//!   xtask reads.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod emulation;
pub mod frames;
pub mod multiboot;
pub mod pci;
pub mod runq;
pub mod slab;
pub mod testing;
