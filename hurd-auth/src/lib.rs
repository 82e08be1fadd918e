//! The GNU Hurd's authentication, as a `no_std` + `alloc` crate.
//!
//! On the Hurd nobody trusts anybody's word about who they are. An *auth
//! handle* is a port of the auth server that stands for a set of ids
//! ([`IdSet`]: effective and available uids and gids); holding a send right to
//! it is the identity. A client proves who it is to a server it does not trust
//! — and the server learns it without trusting the client — through the
//! *rendezvous*: both call the auth server (the one the *server* trusts) with a
//! send right to the same fresh port, the server learns the client's ids and
//! the client receives the server's new port for it.
//!
//! - [`idvec`], [`idset`]: ids and the `makeauth` rule.
//! - [`protocol`]: `auth.defs` (subsystem 25000) and `password.defs` (38000),
//!   defined with [`hurd_ipc::interface!`].
//! - [`server`]: the auth server; [`pending`]: its bounded rendezvous table.
//! - [`client`]: calls on a handle, and [`client::reauthenticate`], the user's
//!   half of `io_reauthenticate`.
//! - [`password`]: the password server — (user, password) for an auth handle.
//!
//! The protocols answer with the Hurd's error numbers, [`hurd_ipc::Errno`].
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// The `hurd-ipc` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_ipc;

pub mod client;
pub mod clock;
#[cfg(feature = "std")]
pub mod hosted;
pub mod idset;
pub mod idvec;
pub mod password;
pub mod pending;
pub mod protocol;
pub mod server;

pub use client::{AuthClient, reauthenticate};
pub use clock::Clock;
#[cfg(feature = "std")]
pub use clock::StdClock;
pub use idset::{IdSet, makeauth};
pub use idvec::{Id, IdVec};
pub use server::{AuthServer, Limits, Stats};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
