//! A node's status and attributes, and the Hurd's own: passive translator
//! records (the `gnu.translator` attribute when the file system has
//! `ext_attr`, else the inode's translator block), the author and the high
//! mode bits — on file systems the Hurd created, as its ext2fs reads and
//! writes them. Elsewhere a node's author is its owner and it can hold no
//! translator, as with the Hurd's ext2fs.
//!
//! The records the Hurd treats as node types (`/hurd/chrdev`,
//! `/hurd/blkdev`, `/hurd/fifo`, `/hurd/ifsock`) make device, FIFO and
//! socket nodes on any ext2 file system, as libdiskfs's short-circuited
//! translators do.

use alloc::vec::Vec;

use super::bytes::{get16, put16};
use super::device::BlockDevice;
use super::fs::Ext2;
use super::inode::{Inode, flags};
use super::superblock::compat;
use super::xattr::{INDEX_GNU, TRANSLATOR};
use crate::mode::{S_IFBLK, S_IFCHR, S_IFLNK, S_IFMT, S_IFREG, S_ITRANS};
use crate::stat::{Stat, TimeSpec};
use crate::statfs::FSTYPE_EXT2FS;
use hurd_ipc::Errno;

/// `st_flags`: not to be dumped (`UF_NODUMP`).
pub const UF_NODUMP: u32 = 0x0000_0001;
/// `st_flags`: immutable (`UF_IMMUTABLE`).
pub const UF_IMMUTABLE: u32 = 0x0000_0002;
/// `st_flags`: append only (`UF_APPEND`).
pub const UF_APPEND: u32 = 0x0000_0004;

/// A change of attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Permission bits (and, on Hurd file systems, the bits above 16).
    Mode(u32),
    /// Owner and group.
    Owner(u32, u32),
    /// The author.
    Author(u32),
    /// `st_flags` (`UF_*`).
    Flags(u32),
    /// Access and modification times (`None`: unchanged).
    Times(Option<TimeSpec>, Option<TimeSpec>),
}

impl<D: BlockDevice> Ext2<D> {
    /// Inode `ino`'s status (without the translator bits, which the server
    /// adds).
    ///
    /// # Errors
    ///
    /// `ENOENT` for an inode not in use, `EIO`.
    pub fn stat_inode(&mut self, ino: u32) -> Result<Stat, Errno> {
        let i = self.live_inode(ino)?;
        Ok(self.stat_of(ino, &i))
    }

    pub(crate) fn stat_of(&self, ino: u32, i: &Inode) -> Stat {
        let mut uflags = 0;
        if i.flags & flags::NODUMP != 0 {
            uflags |= UF_NODUMP;
        }
        if i.flags & flags::IMMUTABLE != 0 {
            uflags |= UF_IMMUTABLE;
        }
        if i.flags & flags::APPEND != 0 {
            uflags |= UF_APPEND;
        }
        Stat {
            fstype: FSTYPE_EXT2FS,
            fsid: 0,
            ino: ino as u64,
            gen_: i.generation,
            rdev: if i.is_device() { i.rdev() } else { 0 },
            mode: i.mode & !S_ITRANS,
            nlink: i.links as u32,
            uid: i.uid,
            gid: i.gid,
            size: if i.is_device() { 0 } else { i.size },
            atime: i.atime,
            mtime: i.mtime,
            ctime: i.ctime,
            blksize: self.bs as u32,
            blocks: i.blocks as u64,
            author: i.author,
            flags: uflags,
        }
    }

    /// Changes an attribute of `ino` (permission checks are the caller's).
    ///
    /// # Errors
    ///
    /// `EINVAL` for bits a Linux-made file system cannot hold (mode bits
    /// above 16, an author other than the owner) or unknown flags, `EROFS`,
    /// `EIO`.
    pub fn change_attr(&mut self, ino: u32, change: Change) -> Result<(), Errno> {
        self.writable()?;
        let mut i = self.live_inode(ino)?;
        let now = self.now();
        match change {
            Change::Mode(m) => {
                if !self.hurd && m & !0o7777 != 0 {
                    return Err(Errno::Inval);
                }
                let keep = i.mode & (S_IFMT | S_ITRANS);
                i.mode = keep | (m & !(S_IFMT | S_ITRANS));
            }
            Change::Owner(uid, gid) => {
                let author_follows = !self.hurd || i.author == i.uid;
                i.uid = uid;
                i.gid = gid;
                if author_follows {
                    i.author = uid;
                }
            }
            Change::Author(a) => {
                if !self.hurd && a != i.uid {
                    return Err(Errno::Inval);
                }
                i.author = a;
            }
            Change::Flags(f) => {
                if f & !(UF_NODUMP | UF_IMMUTABLE | UF_APPEND) != 0 {
                    return Err(Errno::Inval);
                }
                i.flags &= !(flags::NODUMP | flags::IMMUTABLE | flags::APPEND);
                if f & UF_NODUMP != 0 {
                    i.flags |= flags::NODUMP;
                }
                if f & UF_IMMUTABLE != 0 {
                    i.flags |= flags::IMMUTABLE;
                }
                if f & UF_APPEND != 0 {
                    i.flags |= flags::APPEND;
                }
            }
            Change::Times(a, m) => {
                if let Some(a) = a {
                    i.atime = a;
                }
                if let Some(m) = m {
                    i.mtime = m;
                }
            }
        }
        i.ctime = now;
        self.write_inode(ino, &i)?;
        self.after_change()
    }

    /// Inode `ino`'s passive translator record (an argz vector), if the
    /// file system is the Hurd's and the node has one.
    ///
    /// # Errors
    ///
    /// `EIO` for a malformed record.
    pub fn translator(&mut self, ino: u32) -> Result<Option<Vec<u8>>, Errno> {
        if !self.hurd {
            return Ok(None);
        }
        let i = self.live_inode(ino)?;
        if i.translator != 0 {
            let b = self.check_block(i.translator)?;
            let bs = self.bs;
            let data = self.cache.get(&mut self.dev, b)?;
            let len = get16(data, 0) as usize;
            if len > bs - 2 {
                return Err(self.corrupt(&alloc::format!("inode {ino}'s translator block")));
            }
            return Ok(Some(data[2..2 + len].to_vec()).filter(|v| !v.is_empty()));
        }
        if !self.sb.has_compat(compat::EXT_ATTR) {
            return Ok(None);
        }
        Ok(self
            .get_xattr(ino, &i, INDEX_GNU, TRANSLATOR)?
            .filter(|v| !v.is_empty()))
    }

    /// Sets (`Some`) or clears (`None`) inode `ino`'s passive translator
    /// record, as the Hurd's ext2fs does: in `gnu.translator` with
    /// `ext_attr` (clearing an old translator block), else in a translator
    /// block. The node-type records make a device, FIFO or socket of an
    /// empty regular file instead, on any file system.
    ///
    /// # Errors
    ///
    /// `EOPNOTSUPP` for a translator on a file system not made by the
    /// Hurd, `ENAMETOOLONG` for a record longer than a block, `EINVAL` for
    /// a malformed node-type record, `ENOSPC`, `EROFS`, `EIO`.
    pub fn set_translator(&mut self, ino: u32, argz: Option<&[u8]>) -> Result<(), Errno> {
        self.writable()?;
        if let Some(argz) = argz
            && let Some(kind) = self.node_type_record(ino, argz)?
        {
            return self.make_special(ino, kind);
        }
        if !self.hurd {
            return Err(Errno::OpNotSupp);
        }
        let mut i = self.live_inode(ino)?;
        let argz = argz.filter(|a| !a.is_empty());
        let r = if self.sb.has_compat(compat::EXT_ATTR) {
            if i.translator != 0 {
                let b = i.translator;
                i.translator = 0;
                i.blocks = i.blocks.saturating_sub(self.sectors_per_block());
                self.free_blocks(b, 1)?;
            }
            self.set_xattr(ino, &mut i, INDEX_GNU, TRANSLATOR, argz)
        } else {
            self.set_translator_block(ino, &mut i, argz)
        };
        i.ctime = self.now();
        self.write_inode(ino, &i)?;
        r?;
        self.after_change()
    }

    fn set_translator_block(
        &mut self,
        ino: u32,
        i: &mut Inode,
        argz: Option<&[u8]>,
    ) -> Result<(), Errno> {
        match argz {
            None => {
                if i.translator != 0 {
                    let b = i.translator;
                    i.translator = 0;
                    i.blocks = i.blocks.saturating_sub(self.sectors_per_block());
                    self.free_blocks(b, 1)?;
                }
                Ok(())
            }
            Some(a) => {
                if a.len() + 2 > self.bs {
                    return Err(Errno::NameTooLong);
                }
                if i.is_symlink() {
                    // e2fsck takes a symlink with a translator for damage:
                    // the node becomes an (empty) file, as on the Hurd.
                    if !i.is_fast_symlink(self.bs) {
                        self.truncate_blocks(i, 0)?;
                    }
                    i.block = [0; super::inode::N_BLOCKS];
                    i.size = 0;
                    i.mode = (i.mode & !S_IFMT) | S_IFREG;
                }
                let b = if i.translator != 0 {
                    self.check_block(i.translator)?
                } else {
                    let goal = self.inode_goal(ino);
                    let privileged = self.privileged(i.uid, i.gid);
                    let b = self.alloc_block(goal, privileged)?;
                    self.cache.zeroed(&mut self.dev, b)?;
                    i.translator = b;
                    i.blocks = i.blocks.saturating_add(self.sectors_per_block());
                    b
                };
                let data = self.cache.get_mut(&mut self.dev, b)?;
                data.fill(0);
                put16(data, 0, a.len() as u16);
                data[2..2 + a.len()].copy_from_slice(a);
                Ok(())
            }
        }
    }

    /// The node type a record stands for, with its device number, if it is
    /// one of the short-circuited ones and `ino` is an empty regular file.
    fn node_type_record(&mut self, ino: u32, argz: &[u8]) -> Result<Option<(u32, u32)>, Errno> {
        let special = crate::transbox::special_node(argz);
        if let Ok(None) = special {
            return Ok(None);
        }
        let i = self.live_inode(ino)?;
        if !i.is_reg() || i.size != 0 {
            return Ok(None);
        }
        special
    }

    fn make_special(&mut self, ino: u32, (kind, dev): (u32, u32)) -> Result<(), Errno> {
        let mut i = self.live_inode(ino)?;
        self.truncate_blocks(&mut i, 0)?;
        i.mode = (i.mode & !S_IFMT) | kind;
        i.block = [0; super::inode::N_BLOCKS];
        if kind == S_IFCHR || kind == S_IFBLK {
            i.set_rdev(dev);
        }
        i.size = 0;
        i.ctime = self.now();
        self.write_inode(ino, &i)?;
        self.after_change()
    }

    /// Turns `ino`, an empty regular file, into a symlink to `target` (what
    /// the `/hurd/symlink` record does).
    ///
    /// # Errors
    ///
    /// `EINVAL` unless `ino` is an empty regular file or for an empty
    /// target, `ENAMETOOLONG`, `ENOSPC`, `EROFS`, `EIO`.
    pub fn make_symlink(&mut self, ino: u32, target: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let mut i = self.live_inode(ino)?;
        if !i.is_reg() || i.size != 0 || i.blocks != 0 && i.file_acl == 0 && i.translator == 0 {
            return Err(Errno::Inval);
        }
        self.truncate_blocks(&mut i, 0)?;
        i.mode = (i.mode & !S_IFMT) | S_IFLNK;
        i.block = [0; super::inode::N_BLOCKS];
        let r = self.store_symlink(ino, &mut i, target);
        if r.is_err() {
            i.mode = (i.mode & !S_IFMT) | S_IFREG;
            i.block = [0; super::inode::N_BLOCKS];
            i.size = 0;
        }
        let now = self.now();
        i.mtime = now;
        i.ctime = now;
        self.write_inode(ino, &i)?;
        r?;
        self.after_change()
    }
}
