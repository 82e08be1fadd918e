//! [`Ext2Tree`]: an [`Ext2`] as a netfs [`Tree`], so [`NetFs`] serves it
//! over the io, fs and fsys protocols (and the FUSE bridge mounts it).
//!
//! The file system sits behind a [`Shared`] handle: a `RefCell` when the
//! server is its only user, an `Arc<Mutex<_>>` (feature `std`) when the
//! pagers of mapped files reach it too.
//!
//! [`NetFs`]: crate::netfs::NetFs

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use super::attr::Change;
use super::device::BlockDevice;
use super::dir::mode_of_ftype;
use super::fs::Ext2;
use super::inode::ROOT_INO;
use crate::name::Name;
use crate::netfs::{AttrChange, DirEntry, NodeId, Tree};
use crate::stat::{Stat, TimeSpec};
use crate::statfs::Statfs;
use hurd_ipc::Errno;

/// Access to a file system that more than one holder may share.
pub trait Shared {
    /// The device it is on.
    type Device: BlockDevice;
    /// Runs `f` on the file system (exclusively).
    fn with<R>(&self, f: impl FnOnce(&mut Ext2<Self::Device>) -> R) -> R;
}

impl<D: BlockDevice> Shared for RefCell<Ext2<D>> {
    type Device = D;
    fn with<R>(&self, f: impl FnOnce(&mut Ext2<D>) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

#[cfg(feature = "std")]
impl<D: BlockDevice> Shared for std::sync::Arc<std::sync::Mutex<Ext2<D>>> {
    type Device = D;
    fn with<R>(&self, f: impl FnOnce(&mut Ext2<D>) -> R) -> R {
        // A holder that panicked left the file system as it was between
        // calls: go on with it.
        let mut g = match self.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut g)
    }
}

/// An ext2 file system as a [`Tree`]: node ids are inode numbers.
pub struct Ext2Tree<S: Shared> {
    fs: S,
}

impl<D: BlockDevice> Ext2Tree<RefCell<Ext2<D>>> {
    /// The tree of `fs`, its only user.
    pub fn new(fs: Ext2<D>) -> Self {
        Ext2Tree {
            fs: RefCell::new(fs),
        }
    }
}

impl<S: Shared> Ext2Tree<S> {
    /// The tree of a shared file system.
    pub fn shared(fs: S) -> Self {
        Ext2Tree { fs }
    }

    /// The file system's handle.
    pub fn handle(&self) -> &S {
        &self.fs
    }

    /// Runs `f` on the file system.
    pub fn with<R>(&self, f: impl FnOnce(&mut Ext2<S::Device>) -> R) -> R {
        self.fs.with(f)
    }
}

fn ino(node: NodeId) -> Result<u32, Errno> {
    u32::try_from(node).map_err(|_| Errno::NoEnt)
}

impl<S: Shared> Tree for Ext2Tree<S> {
    fn root(&self) -> NodeId {
        ROOT_INO as NodeId
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        let n = ino(node)?;
        self.fs.with(|fs| fs.stat_inode(n))
    }

    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        let d = ino(dir)?;
        self.fs.with(|fs| fs.lookup_name(d, name)).map(NodeId::from)
    }

    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let n = ino(node)?;
        self.fs.with(|fs| fs.read_file(n, offset, len))
    }

    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        let d = ino(dir)?;
        self.fs.with(|fs| {
            let names = fs.list_dir(d)?;
            let mut dots = Vec::new();
            let mut rest = Vec::with_capacity(names.len());
            for n in names {
                let kind = if fs.filetype && n.ftype != 0 {
                    mode_of_ftype(n.ftype)
                } else {
                    // Without file types in the records, ask the inode.
                    fs.read_inode(n.ino).map(|i| i.kind()).unwrap_or(0)
                };
                let e = DirEntry {
                    ino: n.ino as u64,
                    kind,
                    name: Name::from(n.name),
                };
                if e.name == "." || e.name == ".." {
                    dots.push(e);
                } else {
                    rest.push(e);
                }
            }
            dots.sort_by_key(|a| a.name.len());
            dots.extend(rest);
            Ok(dots)
        })
    }

    fn readlink(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        let n = ino(node)?;
        self.fs.with(|fs| fs.read_symlink(n))
    }

    fn write(&mut self, node: NodeId, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let n = ino(node)?;
        self.fs.with(|fs| fs.write_file(n, offset, data))
    }

    fn set_size(&mut self, node: NodeId, size: u64) -> Result<(), Errno> {
        let n = ino(node)?;
        self.fs.with(|fs| fs.set_size(n, size))
    }

    fn create(
        &mut self,
        dir: NodeId,
        name: Option<&[u8]>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<NodeId, Errno> {
        let d = ino(dir)?;
        self.fs
            .with(|fs| fs.create_node(d, name, mode, uid, gid))
            .map(NodeId::from)
    }

    fn link(&mut self, dir: NodeId, name: &[u8], node: NodeId, excl: bool) -> Result<(), Errno> {
        let (d, n) = (ino(dir)?, ino(node)?);
        self.fs.with(|fs| fs.link_node(d, name, n, excl))
    }

    fn unlink(&mut self, dir: NodeId, name: &[u8]) -> Result<(), Errno> {
        let d = ino(dir)?;
        self.fs.with(|fs| fs.unlink_name(d, name))
    }

    fn rename(
        &mut self,
        from_dir: NodeId,
        from: &[u8],
        to_dir: NodeId,
        to: &[u8],
        excl: bool,
    ) -> Result<(), Errno> {
        let (f, t) = (ino(from_dir)?, ino(to_dir)?);
        self.fs.with(|fs| fs.rename_name(f, from, t, to, excl))
    }

    fn set_attr(&mut self, node: NodeId, change: AttrChange) -> Result<(), Errno> {
        let n = ino(node)?;
        let c = match change {
            AttrChange::Mode(m) => Change::Mode(m),
            AttrChange::Owner(u, g) => Change::Owner(u, g),
            AttrChange::Author(a) => Change::Author(a),
            AttrChange::Flags(f) => Change::Flags(f),
            AttrChange::Times(a, m) => Change::Times(a, m),
        };
        self.fs.with(|fs| fs.change_attr(n, c))
    }

    fn set_symlink(&mut self, node: NodeId, target: &[u8]) -> Result<(), Errno> {
        let n = ino(node)?;
        self.fs.with(|fs| fs.make_symlink(n, target))
    }

    fn passive(&self, node: NodeId) -> Option<Vec<u8>> {
        let n = ino(node).ok()?;
        self.fs.with(|fs| fs.translator(n)).ok().flatten()
    }

    fn set_passive(&mut self, node: NodeId, argz: Option<Vec<u8>>) -> Result<(), Errno> {
        let n = ino(node)?;
        self.fs.with(|fs| fs.set_translator(n, argz.as_deref()))
    }

    fn statfs(&mut self) -> Result<Statfs, Errno> {
        Ok(self.fs.with(|fs| fs.statfs()))
    }

    fn clock(&self) -> Option<TimeSpec> {
        Some(self.fs.with(|fs| fs.now()))
    }

    fn sync(&mut self, _node: Option<NodeId>, _wait: bool) -> Result<(), Errno> {
        self.fs.with(|fs| fs.sync_all())
    }

    fn options(&self) -> Vec<String> {
        self.fs.with(|fs| fs.options())
    }

    fn set_options(&mut self, argv: &[&str]) -> Result<(), Errno> {
        self.fs.with(|fs| fs.set_options(argv))
    }

    fn goaway(&mut self) -> Result<(), Errno> {
        self.fs.with(|fs| fs.unmount())
    }

    fn node_opened(&mut self, node: NodeId) {
        if let Ok(n) = ino(node) {
            self.fs.with(|fs| fs.open_node(n));
        }
    }

    fn node_released(&mut self, node: NodeId) {
        if let Ok(n) = ino(node) {
            // An error freeing it is recorded by the file system itself.
            let _ = self.fs.with(|fs| fs.close_node(n));
        }
    }
}
