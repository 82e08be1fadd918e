//! `ext2`: the second extended file system, read and written, as a
//! translator — the Hurd's own disk file system.
//!
//! [`Ext2`] is the file system on a [`BlockDevice`]; [`Ext2Tree`] serves
//! it through [`netfs`](crate::netfs) (and so through the FUSE bridge:
//! `hurd-fuse ext2 IMAGE DIR`). [`pager`] gives mapped files their memory
//! objects on hurd-pager — a file pager per node and a disk pager for the
//! device, as the Hurd's ext2fs has — and, with feature `std`, [`mapper`]
//! serves them for `io_map`.
//!
//! # Format
//!
//! What `mke2fs -t ext2` writes on Debian 12 — `ext_attr`, `resize_inode`
//! and `dir_index` (compatible), `filetype` (incompatible), `sparse_super`
//! and `large_file` (read-only compatible), 256-byte inodes, 1 KiB or
//! 4 KiB blocks — and what `mke2fs -o hurd` writes (128-byte inodes, the
//! Hurd as creator, no `filetype`). Incompatible features other than
//! `filetype` are refused at mount; unknown read-only-compatible ones mount
//! read-only. Files map their blocks directly and through single, double
//! and triple indirect blocks; holes stay holes. Directories are linear; a
//! directory's hash index is dropped (its flag cleared, as the Hurd's
//! ext2fs does) when a name is added. Blocks and inodes are allocated from
//! the groups' bitmaps, with the descriptors' and the superblock's counts
//! kept exact, so `e2fsck -fn` finds nothing to fix.
//!
//! On file systems the Hurd made, inodes carry the Hurd's fields, read and
//! written as its ext2fs does: the passive translator record (the
//! `gnu.translator` attribute with `ext_attr`, else the translator block),
//! the author, and the mode bits above the sixteenth. User and group ids
//! use their high halves everywhere, as Linux does.
//!
//! # Untrusted images
//!
//! The superblock and group descriptors are checked at mount
//! ([`MountError`]); everything else — block numbers, directory records,
//! attribute blocks, sizes — is checked where it is used, and a bad value is
//! `EIO` for that call (logged, and recorded in the superblock's state so
//! the next `e2fsck` looks), never a panic, an endless loop or an
//! allocation the image alone can make unbounded.
//!
//! # Writing back
//!
//! File data goes straight to the device. Metadata (bitmaps, inode tables,
//! directories, indirect blocks) is held in a write-back cache and written
//! by [`Ext2::sync_all`] — every 30 seconds by default, after every change
//! with `--sync`, only when asked with `--no-sync` ([`SyncPolicy`]). A file
//! system is marked as in use while mounted writable and clean again when
//! unmounted ([`Ext2::unmount`], `fsys_goaway`); one not cleanly unmounted
//! mounts read-only unless [`Options::writable_unclean`], as the Hurd's
//! ext2fs does, so `e2fsck` gets to look first.

mod alloc;
mod attr;
mod bmap;
mod bytes;
mod cache;
pub mod device;
mod dir;
mod dirindex;
mod file;
mod fs;
mod group;
pub mod inode;
mod namei;
pub mod superblock;
mod tree;
mod xattr;

#[cfg(feature = "std")]
pub mod hosted;
#[cfg(feature = "std")]
pub mod mapper;
pub mod pager;
#[cfg(test)]
mod testfs;
#[cfg(test)]
mod tests;

pub use attr::{Change, UF_APPEND, UF_IMMUTABLE, UF_NODUMP};
#[cfg(feature = "std")]
pub use device::FileDevice;
pub use device::{BlockDevice, MemDevice};
pub use file::MAX_READ;
pub use fs::{AtimePolicy, Clock, Ext2, Options, SyncPolicy};
pub use group::GroupDesc;
pub use namei::{LINK_MAX, Name};
pub use superblock::{MountError, Superblock};
pub use tree::{Ext2Tree, Shared};
