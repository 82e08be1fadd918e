//! GNU Hurd translators as a `no_std` + `alloc` crate.
//!
//! On the Hurd any user may attach a program — a *translator* — to a file node
//! they own; everyone who opens the node then talks to the program, which runs
//! with the node owner's identity and gains nothing by being mounted. This
//! crate holds what that takes:
//!
//! - [`protocol`]: the `io` (21000), `fs` (20000) and `fsys` (22000) interfaces
//!   with the Hurd's routine ids, defined with [`hurd_ipc::interface!`];
//!   [`stat`] (the Hurd `struct stat`, with `st_author`), [`flags`] (open
//!   flags, `FS_TRANS_*`, `FSYS_GOAWAY_*`), [`statfs`] (`struct statfs`),
//!   [`retry`] (the `dir_lookup` retry
//!   triple), [`name`] (file names: bytes, as `string_t` carries them) and [`mode`] (file type, permission and Hurd-specific mode bits).
//! - [`access`]: permission checks — owner, group, other, the *unknown user*
//!   (`S_IUSEUNK`) and root.
//! - [`netfs`]: a framework for tree file systems: a [`netfs::Tree`] trait for
//!   the data, and a server doing the protocol (per-open state, permissions,
//!   symlinks, translator records, reauthentication).
//! - [`trivfs`]: single-node translators on the same server.
//! - [`transbox`]: translator records — passive (a command line on the node)
//!   and active (a control port) — and the [`transbox::Starter`] trait that
//!   starts programs.
//! - [`lookup`]: the client side, `file_name_lookup` with the retry protocol.
//! - [`tar`]: one tar reader and writer — what GNU tar and bsdtar write (pax,
//!   GNU long names, sparse files, base-256, hard links), read on demand
//!   from a [`tar::Source`], untrusted input refused with the entry, offset
//!   and reason.
//! - [`translators`]: tmpfs, hello, null, zero, random, tarfs, union, shadow and
//!   ext2 (the Hurd's disk file system, read-write, on a block device).
//!
//! - [`mapping`] (feature `std`): `io_map` on hurd-pager.
//! - `fuse` (feature): the FUSE bridge, mounting a translator on Linux.
//!
//! Errors are the Hurd's `errno` values, [`hurd_ipc::Errno`].
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// The `hurd-ipc` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_ipc;

/// The `hurd-auth` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_auth;

/// The `hurd-pager` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_pager;

pub mod access;
mod fields;
pub mod flags;
#[cfg(feature = "fuse")]
pub mod fuse;
pub mod lookup;
#[cfg(feature = "std")]
pub mod mapping;
pub mod mode;
pub mod name;
pub mod netfs;
pub mod protocol;
pub mod retry;
pub mod stat;
pub mod statfs;
pub mod tar;
pub mod transbox;
pub mod translators;
pub mod trivfs;

pub use name::Name;
pub use retry::{Retry, RetryType};
pub use stat::Stat;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
