//! `union`: several directories seen as one, read-only.
//!
//! Collision rules: the layers are searched in the order given, and the
//! first layer that has a name decides what it is — its contents, status and
//! type. A directory lists the names of every layer in which that path is a
//! directory; a name that is a file in an earlier layer hides a directory of
//! the same name in later ones (and everything below it). Changes are
//! refused (`EROFS`); use shadow for a writable overlay.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::RefCell;
use hurd_ipc::Errno;
use hurd_ipc::UserIpc;

use super::ports::{Dir, PathIds, join};
use crate::mode::is_dir;
use crate::name::Name;
use crate::netfs::{DirEntry, NodeId, Tree};
use crate::stat::Stat;

/// The union of `layers`, first wins.
pub struct Union<I: UserIpc> {
    ipc: I,
    layers: Vec<Dir>,
    ids: RefCell<PathIds>,
}

impl<I: UserIpc> Union<I> {
    /// A union of `layers` (directory ports in `ipc`'s space), in order.
    pub fn new(ipc: I, layers: Vec<Dir>) -> Self {
        Union {
            ipc,
            layers,
            ids: RefCell::new(PathIds::new()),
        }
    }

    /// The layer that decides `path`, and the status it gives.
    fn winner(&self, path: &[u8]) -> Result<(Dir, Stat), Errno> {
        let mut last = Errno::NoEnt;
        for l in &self.layers {
            match l.stat(&self.ipc, path) {
                Ok(s) => return Ok((*l, s)),
                Err(e) => last = e,
            }
        }
        Err(if last == Errno::NotDir {
            Errno::NoEnt
        } else {
            last
        })
    }

    fn path(&self, node: NodeId) -> Result<Vec<u8>, Errno> {
        self.ids.borrow().path(node).map(<[u8]>::to_vec)
    }
}

impl<I: UserIpc> Tree for Union<I> {
    fn root(&self) -> NodeId {
        PathIds::ROOT
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        let path = self.path(node)?;
        let (_, mut s) = self.winner(&path)?;
        s.ino = node;
        Ok(s)
    }

    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        let path = self.path(dir)?;
        if name == b".." {
            let parent = super::ports::split(&path).0;
            return Ok(if path.is_empty() {
                dir
            } else {
                self.ids.borrow_mut().id(parent)
            });
        }
        let child = join(&path, name);
        self.winner(&child)?;
        Ok(self.ids.borrow_mut().id(&child))
    }

    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let path = self.path(node)?;
        let (l, _) = self.winner(&path)?;
        l.read(&self.ipc, &path, offset, len)
    }

    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        let path = self.path(dir)?;
        let mut seen: BTreeMap<Name, u32> = BTreeMap::new();
        let mut any = false;
        for l in &self.layers {
            match l.stat(&self.ipc, &path) {
                Ok(s) if is_dir(s.mode) => {}
                _ => continue,
            }
            any = true;
            for e in l.readdir(&self.ipc, &path)? {
                seen.entry(e.name).or_insert(e.kind);
            }
        }
        if !any {
            return Err(Errno::NotDir);
        }
        Ok(self.ids.borrow_mut().listing(dir, &path, seen))
    }

    fn readlink(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        let path = self.path(node)?;
        let (l, _) = self.winner(&path)?;
        l.readlink(&self.ipc, &path)
    }
}
