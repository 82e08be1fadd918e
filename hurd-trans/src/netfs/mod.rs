//! A framework for tree file systems, in the manner of libnetfs: the
//! translator writer implements [`Tree`] — nodes, their status, their data —
//! and [`NetFs`] does the protocol: `dir_lookup` with its retries, per-open
//! state (file pointer, open modes, the parent of a translator's root),
//! permission checks, symlinks, translator records and their starting,
//! reauthentication and the control port.
//!
//! The tree is trusted to keep its data; it enforces no permissions: the
//! server checks them (with [`crate::access`]) before calling it.

mod dirent;
mod server;
mod tree;

pub use dirent::{DirEntry, decode_entries, encode_entries};
pub use server::{Mapper, NetFs, Options};
pub use tree::{AttrChange, NodeId, Tree};

#[cfg(feature = "std")]
mod hosted;
#[cfg(feature = "std")]
pub use hosted::{getroot, spawn};
