//! libpager for Rust: the pager side of Mach's memory_object protocol,
//! serving one memory object to any number of kernels coherently.
//!
//! In the Hurd a file's contents reach a program's address space through a
//! *pager*: `io_map` hands out a memory object port, the kernel maps it, and
//! page faults become `memory_object_data_request`s the pager answers with
//! `data_supply`. The stock libpager serves one kernel per object. hurd-pager
//! serves several — the nodes of a cluster, say — keeping each page coherent:
//! one kernel may write it, or any number may read it; the others are asked
//! to give it back first.
//!
//! The crate has three layers:
//!
//! - [`Coherence`], the protocol as a pure state machine: [`Event`]s in,
//!   [`Action`]s out, no threads and no IPC, so it is property-tested over
//!   random interleavings of many kernels;
//! - [`Backend`], what a file system implements (read a page, write pages,
//!   unlock, extent, eviction notice), and [`protocol`], which turns
//!   memory_object messages into events and actions into messages through
//!   hurd-ipc's [`UserIpc`](hurd_ipc::UserIpc);
//! - [`hosted`] (feature `std`): worker threads serving any number of pagers
//!   on one port set, with the library calls (sync, return, flush, offer,
//!   change attributes, read-only port, shutdown); and [`PagerPort`], one
//!   pager served by the calling thread over any `UserIpc`, without `std`.
//!
//! Message definitions are hurd-vm's ([`hurd_vm::protocol`]), so the pager
//! and the kernel cannot disagree about them.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// The `hurd-ipc` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_ipc;

/// The `hurd-vm` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_vm;

mod action;
pub mod backend;
pub mod coherence;
mod config;
pub mod deaths;
mod error;
mod event;
mod kernel;
mod locks;
mod ops;
mod page;
pub mod protocol;
pub mod serve;
mod writeback;

#[cfg(feature = "std")]
pub mod hosted;

pub use action::Action;
pub use backend::{Backend, MemBackend};
pub use coherence::{Coherence, Stats};
pub use config::Config;
pub use error::PagerError;
pub use event::{Call, Event, PageRange, PageRead};
pub use hurd_vm::PAGE_SIZE;
pub use kernel::KernelId;
pub use ops::OpId;
pub use serve::PagerPort;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
