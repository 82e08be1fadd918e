//! Single-node translators, in the manner of libtrivfs: the translator *is*
//! one file. Implement [`TrivFs`] and serve it with [`NetFs`](crate::netfs::NetFs)
//! through [`Single`], which presents the node as a [`Tree`] whose root is the
//! file itself: `dir_lookup` with an empty name reopens it, any other name is
//! `ENOTDIR`.

use alloc::vec::Vec;
use hurd_ipc::Errno;

use crate::netfs::{AttrChange, DirEntry, NodeId, Tree};
use crate::stat::Stat;

/// A one-file translator.
pub trait TrivFs {
    /// The file's status (type, permissions, size...). The server fills in
    /// `st_ino` and the owner from [`Single`].
    fn stat(&self) -> Stat;
    /// Up to `len` bytes at `offset`.
    ///
    /// # Errors
    ///
    /// The translator's `errno` (`EIO`).
    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Errno>;
    /// Writes `data` at `offset`; returns the bytes taken.
    ///
    /// # Errors
    ///
    /// The translator's `errno`: `EROFS` (the default), `ENOSPC`.
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let _ = (offset, data);
        Err(Errno::RoFs)
    }
    /// Truncates or extends.
    ///
    /// # Errors
    ///
    /// The translator's `errno`: `EROFS` (the default).
    fn set_size(&mut self, size: u64) -> Result<(), Errno> {
        let _ = size;
        Err(Errno::RoFs)
    }
}

/// A [`TrivFs`] as a one-node [`Tree`], owned by `uid`/`gid`.
pub struct Single<F> {
    file: F,
    uid: u32,
    gid: u32,
    mode_override: Option<u32>,
}

impl<F: TrivFs> Single<F> {
    /// The node, owned by `uid` and `gid` (the translator's owner).
    pub fn new(file: F, uid: u32, gid: u32) -> Self {
        Single {
            file,
            uid,
            gid,
            mode_override: None,
        }
    }

    /// The file.
    pub fn file(&mut self) -> &mut F {
        &mut self.file
    }
}

/// The root's number.
const ROOT: NodeId = 1;

impl<F: TrivFs> Tree for Single<F> {
    fn root(&self) -> NodeId {
        ROOT
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        if node != ROOT {
            return Err(Errno::NoEnt);
        }
        let mut s = self.file.stat();
        s.ino = ROOT;
        s.uid = self.uid;
        s.gid = self.gid;
        s.author = self.uid;
        if s.nlink == 0 {
            s.nlink = 1;
        }
        if let Some(m) = self.mode_override {
            s.mode = (s.mode & crate::mode::S_IFMT) | m;
        }
        Ok(s)
    }

    fn lookup(&mut self, _dir: NodeId, _name: &[u8]) -> Result<NodeId, Errno> {
        Err(Errno::NotDir)
    }

    fn read(&mut self, _node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        self.file.read(offset, len)
    }

    fn readdir(&mut self, _dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::NotDir)
    }

    fn write(&mut self, _node: NodeId, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.file.write(offset, data)
    }

    fn set_size(&mut self, _node: NodeId, size: u64) -> Result<(), Errno> {
        self.file.set_size(size)
    }

    fn set_attr(&mut self, _node: NodeId, change: AttrChange) -> Result<(), Errno> {
        match change {
            AttrChange::Mode(m) => {
                self.mode_override = Some(m);
                Ok(())
            }
            AttrChange::Owner(u, g) => {
                self.uid = u;
                self.gid = g;
                Ok(())
            }
            _ => Err(Errno::OpNotSupp),
        }
    }
}
