//! The [`Tree`] trait: what a tree file system provides.

use alloc::string::String;
use alloc::vec::Vec;
use hurd_ipc::Errno;

use super::DirEntry;
use crate::stat::{Stat, TimeSpec};
use crate::statfs::Statfs;

/// A node's number in its tree (its `st_ino` is a good choice).
pub type NodeId = u64;

/// A change of attributes, checked by the server before the tree sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AttrChange {
    /// New permission bits ([`crate::mode::CHMOD_BITS`]); the type stays.
    Mode(u32),
    /// New owner and group.
    Owner(u32, u32),
    /// A new author.
    Author(u32),
    /// New user flags.
    Flags(u32),
    /// New access and modification times (`None`: unchanged).
    Times(Option<TimeSpec>, Option<TimeSpec>),
}

/// A tree of nodes, as a netfs translator sees its data.
///
/// Names given to the tree are single components: bytes (not necessarily
/// UTF-8, as on any Unix file system), never empty, never ".", never
/// containing '/' or NUL. Methods that change the tree default to `EROFS`, so
/// a read-only tree implements only the first five.
pub trait Tree {
    /// The root directory.
    fn root(&self) -> NodeId;
    /// A node's status. The server adds the translator bits and `S_IROOT`.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `ENOENT` for a node that is gone.
    fn stat(&self, node: NodeId) -> Result<Stat, Errno>;
    /// The node called `name` in directory `dir`; ".." is the parent (the
    /// root's ".." is the root). `ENOENT` if there is none, `ENOTDIR` if
    /// `dir` is not a directory.
    ///
    /// # Errors
    ///
    /// The tree's `errno`, as above.
    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno>;
    /// Up to `len` bytes at `offset`; fewer (or none) at the end.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EISDIR` for a directory.
    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno>;
    /// The entries of a directory, "." and ".." first.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `ENOTDIR` for a non-directory.
    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno>;

    /// A symlink's target: bytes, as Linux keeps them (any byte but NUL).
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EINVAL` (the default) for a node that is no symlink.
    fn readlink(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        let _ = node;
        Err(Errno::Inval)
    }
    /// Writes `data` at `offset`, growing the file; returns the bytes written.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default) for a read-only tree, `ENOSPC`,
    /// `EFBIG`.
    fn write(&mut self, node: NodeId, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let _ = (node, offset, data);
        Err(Errno::RoFs)
    }
    /// Truncates or extends a file.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default), `ENOSPC`, `EFBIG`.
    fn set_size(&mut self, node: NodeId, size: u64) -> Result<(), Errno> {
        let _ = (node, size);
        Err(Errno::RoFs)
    }
    /// Creates a node (`mode` holds the type: file or directory) owned by
    /// `uid`/`gid` with author `uid`, named `name` in `dir` — or with no name
    /// (`None`, for `dir_mkfile`). `EEXIST` if the name is taken.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default), `EEXIST`, `ENOSPC`.
    fn create(
        &mut self,
        dir: NodeId,
        name: Option<&[u8]>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<NodeId, Errno> {
        let _ = (dir, name, mode, uid, gid);
        Err(Errno::RoFs)
    }
    /// Gives `node` (not a directory) another name.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default), `EEXIST`, `EISDIR`.
    fn link(&mut self, dir: NodeId, name: &[u8], node: NodeId, excl: bool) -> Result<(), Errno> {
        let _ = (dir, name, node, excl);
        Err(Errno::RoFs)
    }
    /// Removes the name; a directory must be empty (`ENOTEMPTY`).
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default), `ENOENT`, `ENOTEMPTY`.
    fn unlink(&mut self, dir: NodeId, name: &[u8]) -> Result<(), Errno> {
        let _ = (dir, name);
        Err(Errno::RoFs)
    }
    /// Moves a name (replacing the target unless `excl`).
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default), `ENOENT`, `EEXIST`, `ENOTEMPTY`,
    /// `EINVAL` (a directory into itself).
    fn rename(
        &mut self,
        from_dir: NodeId,
        from: &[u8],
        to_dir: NodeId,
        to: &[u8],
        excl: bool,
    ) -> Result<(), Errno> {
        let _ = (from_dir, from, to_dir, to, excl);
        Err(Errno::RoFs)
    }
    /// Changes attributes.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default).
    fn set_attr(&mut self, node: NodeId, change: AttrChange) -> Result<(), Errno> {
        let _ = (node, change);
        Err(Errno::RoFs)
    }
    /// Turns an empty regular file into a symlink to `target` (what setting
    /// the passive translator `/hurd/symlink target` does).
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default), `EINVAL` for a non-empty or
    /// non-regular file.
    fn set_symlink(&mut self, node: NodeId, target: &[u8]) -> Result<(), Errno> {
        let _ = (node, target);
        Err(Errno::RoFs)
    }
    /// The passive translator record (an argz command line), if any.
    fn passive(&self, node: NodeId) -> Option<Vec<u8>> {
        let _ = node;
        None
    }
    /// Sets (`Some`) or clears (`None`) the passive translator record.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EROFS` (the default), `ENOSPC`.
    fn set_passive(&mut self, node: NodeId, argz: Option<Vec<u8>>) -> Result<(), Errno> {
        let _ = (node, argz);
        Err(Errno::RoFs)
    }
    /// The server opened `node` while no port to it was open: from now until
    /// [`Tree::node_released`], the node must outlive its names (an unlinked
    /// file stays readable and writable through its open ports, with link
    /// count 0), as libnetfs's node references keep it.
    fn node_opened(&mut self, node: NodeId) {
        let _ = node;
    }
    /// The time it is now by the tree's clock, for times set to "now"
    /// (`file_utimens` with `UTIME_NOW`). The default: no clock (such
    /// times are left as they are).
    fn clock(&self) -> Option<TimeSpec> {
        None
    }
    /// The file system's status, for `file_statfs` (what `df` shows). The
    /// server sets `fsid`. The default: `EOPNOTSUPP`.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EOPNOTSUPP` (the default).
    fn statfs(&mut self) -> Result<Statfs, Errno> {
        Err(Errno::OpNotSupp)
    }
    /// Writes what the tree holds in memory back to its storage: `node`'s
    /// data and status (`file_sync`) or, for `None`, everything
    /// (`file_syncfs`, `fsys_syncfs`). With `wait`, returns only once it is
    /// there. The default: nothing to write.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: what writing back met (`EIO`).
    fn sync(&mut self, node: Option<NodeId>, wait: bool) -> Result<(), Errno> {
        let _ = (node, wait);
        Ok(())
    }
    /// The file system's options as `fsys_get_options` lists them after the
    /// server's name (say `--writable`, `--sync=30`). The default: none.
    fn options(&self) -> Vec<String> {
        Vec::new()
    }
    /// Applies run-time options from `fsys_set_options` (what `fsysopts`
    /// sends, without the server's name). The default knows none:
    /// `EINVAL` for any.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EINVAL` for an option it does not know.
    fn set_options(&mut self, argv: &[&str]) -> Result<(), Errno> {
        if argv.is_empty() {
            Ok(())
        } else {
            Err(Errno::Inval)
        }
    }
    /// The server is going away (`fsys_goaway`): write everything back and
    /// leave the storage as a clean unmount does. An error keeps the server
    /// running. The default: nothing to do.
    ///
    /// # Errors
    ///
    /// The tree's `errno`: `EBUSY` or what writing back met; the server goes on.
    fn goaway(&mut self) -> Result<(), Errno> {
        Ok(())
    }
    /// The last open port to `node` is gone. A node with no names left may
    /// now be freed (what libdiskfs does when both its link count and its
    /// references reach zero).
    fn node_released(&mut self, node: NodeId) {
        let _ = node;
    }
}
