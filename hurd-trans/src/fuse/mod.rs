//! The FUSE bridge: a translator built with this crate, mounted on Linux.
//!
//! [`Bridge`] is a FUSE file system that is a *client* of a translator's
//! root directory port: every FUSE request becomes `dir_lookup`, `io_read`,
//! `io_write`, `dir_readdir`... on that port, so anything speaking the
//! protocols can be mounted. [`spawn_mount`] does the whole set-up in one
//! process: hurd-ipc's hosted runtime, an auth server, the translator served
//! by [`NetFs`](crate::netfs::NetFs), and the FUSE session.
//!
//! Its parts: `bridge` holds the bridge's tables (the nodes the kernel
//! knows, the open handles), `ops` answers each FUSE request, `caller`
//! serves a request with its sender's ids, `attr` turns the translator's
//! status into FUSE's attributes, and `mount` does the set-up.

mod answer;
mod attr;
mod bridge;
mod caller;
mod mount;
mod ops;

pub use bridge::Bridge;
pub use mount::{Mounted, bridge_for, mount, spawn_mount, spawn_mount_as};
