//! Directories as files: looking names up, adding and removing them,
//! listing; and the operations on names — create, link, unlink, rename.
//!
//! Directories are read linearly. A directory with a hashed index
//! (`EXT2_INDEX_FL`, from the `dir_index` feature) reads the same way: its
//! index blocks look like unused records. Adding a name to one clears the
//! flag, as the Hurd's ext2fs does, so the index never disagrees with the
//! names; removing a name or pointing one elsewhere keeps it valid.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::vec::Vec;

use super::device::BlockDevice;
use super::dir::{self, NAME_MAX};
use super::fs::Ext2;
use super::inode::{Inode, ROOT_INO, flags};
use hurd_ipc::Errno;

/// Links an inode may have (`EXT2_LINK_MAX`).
pub const LINK_MAX: u16 = 32000;

/// Where a name was found.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Found {
    /// The directory block (on disk).
    pub block: u32,
    /// The record's offset in it.
    pub off: usize,
    /// The record before it in the block.
    pub prev: Option<usize>,
    /// The inode it names.
    pub ino: u32,
    /// The directory's logical block.
    pub lblk: u64,
}

/// One name of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// The name's bytes.
    pub name: Vec<u8>,
    /// The inode.
    pub ino: u32,
    /// The type byte of the record (0 without the `filetype` feature).
    pub ftype: u8,
}

fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::Inval);
    }
    if name.contains(&0) {
        return Err(Errno::Inval);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::NameTooLong);
    }
    Ok(())
}

impl<D: BlockDevice> Ext2<D> {
    /// A directory's blocks in use (its size in blocks).
    fn dir_blocks(&mut self, dir: &Inode) -> Result<u64, Errno> {
        if !dir.is_dir() {
            return Err(Errno::NotDir);
        }
        Ok(dir.size.div_ceil(self.bs as u64))
    }

    /// The disk block of directory `ino`'s logical block `lblk`: a hole is
    /// corruption.
    fn dir_block(&mut self, ino: u32, dir: &Inode, lblk: u64) -> Result<u32, Errno> {
        match self.bmap(dir, lblk)? {
            0 => Err(self.corrupt(&format!("directory {ino} has a hole at block {lblk}"))),
            b => Ok(b),
        }
    }

    fn dir_corrupt(&mut self, ino: u32, lblk: u64, c: dir::Corrupt) -> Errno {
        self.corrupt(&format!(
            "directory {ino}, block {lblk}: bad record at offset {}",
            c.0
        ))
    }

    /// Finds `name` in directory `ino`: through its index if it has one,
    /// else by reading its blocks in order.
    pub(crate) fn dir_find(
        &mut self,
        ino: u32,
        dir: &Inode,
        name: &[u8],
    ) -> Result<Option<Found>, Errno> {
        let n = self.dir_blocks(dir)?;
        match self.index_lookup(ino, dir, n, name)? {
            None => {}
            Some(None) => return Ok(None),
            Some(Some(lblk)) => {
                if let Some(f) = self.find_in_block(ino, dir, lblk, name)? {
                    return Ok(Some(f));
                }
                // The index disagrees with the disk: the disk wins.
                self.index_drop(ino);
            }
        }
        for lblk in 0..n {
            if let Some(f) = self.find_in_block(ino, dir, lblk, name)? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    fn find_in_block(
        &mut self,
        ino: u32,
        dir: &Inode,
        lblk: u64,
        name: &[u8],
    ) -> Result<Option<Found>, Errno> {
        let block = self.dir_block(ino, dir, lblk)?;
        let found = {
            let data = self.cache.get(&mut self.dev, block)?;
            dir::find(data, name)
        };
        match found {
            Ok(Some((off, prev, i))) => Ok(Some(Found {
                block,
                off,
                prev,
                ino: i,
                lblk,
            })),
            Ok(None) => Ok(None),
            Err(c) => Err(self.dir_corrupt(ino, lblk, c)),
        }
    }

    /// The inode `name` names in directory `dir` ("." and ".." too).
    ///
    /// # Errors
    ///
    /// `ENOENT`, `ENOTDIR`, `EIO`.
    pub fn lookup_name(&mut self, dir: u32, name: &[u8]) -> Result<u32, Errno> {
        let d = self.live_inode(dir)?;
        if !d.is_dir() {
            return Err(Errno::NotDir);
        }
        if d.links == 0 {
            return Err(Errno::NoEnt);
        }
        if name == b"." {
            return Ok(dir);
        }
        match self.dir_find(dir, &d, name)? {
            Some(f) if f.ino > self.sb.inodes_count() => {
                Err(self.corrupt(&format!("directory {dir} names inode {}", f.ino)))
            }
            Some(f) => Ok(f.ino),
            None if name == b".." && dir == ROOT_INO => Ok(ROOT_INO),
            None => Err(Errno::NoEnt),
        }
    }

    /// Every name in directory `ino`, "." and ".." included, in the order
    /// on disk.
    ///
    /// # Errors
    ///
    /// `ENOTDIR`, `EIO` (a corrupt record, a hole, a block used twice).
    pub fn list_dir(&mut self, ino: u32) -> Result<Vec<Name>, Errno> {
        let d = self.live_inode(ino)?;
        let n = self.dir_blocks(&d)?;
        let mut out = Vec::new();
        if d.links == 0 {
            return Ok(out);
        }
        let mut seen = BTreeSet::new();
        for lblk in 0..n {
            let block = self.dir_block(ino, &d, lblk)?;
            if !seen.insert(block) {
                return Err(self.corrupt(&format!("directory {ino} uses block {block} twice")));
            }
            let data = self.cache.get(&mut self.dev, block)?;
            let mut bad = None;
            for e in dir::entries(data) {
                match e {
                    Ok(e) if e.inode != 0 => out.push(Name {
                        name: e.name.to_vec(),
                        ino: e.inode,
                        ftype: e.ftype,
                    }),
                    Ok(_) => {}
                    Err(c) => {
                        bad = Some(c);
                        break;
                    }
                }
            }
            if let Some(c) = bad {
                return Err(self.dir_corrupt(ino, lblk, c));
            }
        }
        Ok(out)
    }

    /// Adds `name` → `target` (of type `ftype`) to directory `ino`, whose
    /// inode the caller holds in `dir` and writes back.
    fn dir_add(
        &mut self,
        ino: u32,
        dir: &mut Inode,
        name: &[u8],
        target: u32,
        ftype: u8,
    ) -> Result<(), Errno> {
        let ftype = if self.filetype { ftype } else { 0 };
        let need = dir::rec_len_for(name.len());
        let n = self.dir_blocks(dir)?;
        dir.flags &= !flags::INDEX;
        let from = self.index_room_from(ino).min(n);
        for lblk in from..n {
            let block = self.dir_block(ino, dir, lblk)?;
            let room = {
                let data = self.cache.get(&mut self.dev, block)?;
                has_room(data, need)
            };
            match room {
                Ok(false) => continue,
                Err(c) => return Err(self.dir_corrupt(ino, lblk, c)),
                Ok(true) => {}
            }
            let data = self.cache.get_mut(&mut self.dev, block)?;
            if dir::insert(data, name, target, ftype) == Ok(true) {
                self.index_added(ino, name, lblk);
                return self.touch_dir(dir);
            }
        }
        // A new block at the end.
        if dir
            .size
            .checked_add(self.bs as u64)
            .is_none_or(|s| s > u32::MAX as u64)
        {
            return Err(Errno::FBig);
        }
        let goal = match n {
            0 => self.inode_goal(ino),
            _ => self.bmap(dir, n - 1)?.saturating_add(1),
        };
        let privileged = dir.uid == 0;
        let (block, _) = self.bmap_alloc(dir, n, goal, privileged)?;
        let data = self.cache.zeroed(&mut self.dev, block)?;
        dir::init_empty(data);
        let _ = dir::insert(data, name, target, ftype);
        dir.size += self.bs as u64;
        self.index_added(ino, name, n);
        self.touch_dir(dir)
    }

    fn touch_dir(&mut self, dir: &mut Inode) -> Result<(), Errno> {
        let now = self.now();
        dir.mtime = now;
        dir.ctime = now;
        Ok(())
    }

    /// Whether directory inode `dir` holds nothing but "." and "..".
    fn dir_is_empty(&mut self, ino: u32, dir: &Inode) -> Result<bool, Errno> {
        let n = self.dir_blocks(dir)?;
        for lblk in 0..n {
            let block = self.dir_block(ino, dir, lblk)?;
            let r = {
                let data = self.cache.get(&mut self.dev, block)?;
                dir::only_dots(data)
            };
            match r {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(c) => return Err(self.dir_corrupt(ino, lblk, c)),
            }
        }
        Ok(true)
    }

    /// Makes a new node named `name` in directory `parent`: a file,
    /// directory, symlink (target written by the caller), device or FIFO,
    /// with `mode`, owner `uid`/`gid` (and author `uid`). With no name
    /// (`dir_mkfile`) the node has no links and lives while open.
    ///
    /// # Errors
    ///
    /// `EEXIST`, `ENOSPC`, `EMLINK` when the parent has too many
    /// subdirectories, `ENOTDIR`, `ENOENT` (a removed directory),
    /// `EINVAL` for a bad name, `EROFS`, `EIO`.
    pub fn create_node(
        &mut self,
        parent: u32,
        name: Option<&[u8]>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<u32, Errno> {
        self.writable()?;
        let mut p = self.live_inode(parent)?;
        if !p.is_dir() {
            return Err(Errno::NotDir);
        }
        if p.links == 0 {
            return Err(Errno::NoEnt);
        }
        if let Some(name) = name {
            check_name(name)?;
            if self.dir_find(parent, &p, name)?.is_some() {
                return Err(Errno::Exist);
            }
        }
        let is_dir = mode & 0o170000 == 0o040000;
        if is_dir && p.links >= LINK_MAX {
            return Err(Errno::MLink);
        }
        let mode = if self.hurd { mode } else { mode & 0xffff };
        let (ino, mut inode) = self.new_inode(parent, mode, uid, gid)?;
        let r = (|| {
            if is_dir {
                let goal = self.inode_goal(ino);
                let (block, _) = self.bmap_alloc(&mut inode, 0, goal, uid == 0)?;
                let data = self.cache.zeroed(&mut self.dev, block)?;
                dir::init_dir(data, ino, parent, dir::ftype_of(mode));
                if !self.filetype {
                    data[7] = 0;
                    data[12 + 7] = 0;
                }
                inode.size = self.bs as u64;
                inode.links = 2;
            } else if name.is_some() {
                inode.links = 1;
            }
            if let Some(name) = name {
                self.dir_add(parent, &mut p, name, ino, dir::ftype_of(mode))?;
            }
            Ok(())
        })();
        if let Err(e) = r {
            // Give back what was taken; the parent is as it was.
            let _ = self.truncate_blocks(&mut inode, 0);
            inode.links = 0;
            inode.dtime = self.deletion_time();
            let _ = self.write_inode(ino, &inode);
            let _ = self.free_inode(ino, is_dir);
            let _ = self.write_inode(parent, &p);
            return Err(e);
        }
        if is_dir {
            p.links += 1;
        }
        self.write_inode(ino, &inode)?;
        self.write_inode(parent, &p)?;
        if name.is_none() {
            // Nameless: it lives as long as it is open.
            self.orphans.insert(ino);
        }
        self.after_change()?;
        Ok(ino)
    }

    /// Gives `target` (not a directory) the name `name` in `dir`; with
    /// `excl` an existing name is `EEXIST`, else it is replaced.
    ///
    /// # Errors
    ///
    /// `EEXIST`, `EPERM` for a directory, `EMLINK`,
    /// `ENOSPC`, `EROFS`, `EIO`.
    pub fn link_node(
        &mut self,
        dir: u32,
        name: &[u8],
        target: u32,
        excl: bool,
    ) -> Result<(), Errno> {
        self.writable()?;
        check_name(name)?;
        let mut t = self.live_inode(target)?;
        if t.is_dir() {
            return Err(Errno::Perm);
        }
        if t.links >= LINK_MAX {
            return Err(Errno::MLink);
        }
        let mut d = self.live_inode(dir)?;
        if !d.is_dir() {
            return Err(Errno::NotDir);
        }
        if d.links == 0 {
            return Err(Errno::NoEnt);
        }
        if let Some(f) = self.dir_find(dir, &d, name)? {
            if excl {
                return Err(Errno::Exist);
            }
            if f.ino == target {
                return Ok(());
            }
            let old = self.live_inode(f.ino)?;
            if old.is_dir() {
                return Err(Errno::IsDir);
            }
            let ft = dir::ftype_of(t.mode);
            let data = self.cache.get_mut(&mut self.dev, f.block)?;
            dir::set_inode(data, f.off, target, if self.filetype { ft } else { 0 });
            self.touch_dir(&mut d)?;
            self.drop_link(f.ino)?;
        } else {
            self.dir_add(dir, &mut d, name, target, dir::ftype_of(t.mode))?;
        }
        self.write_inode(dir, &d)?;
        // Re-read: the target may have been the replaced name's inode.
        t = self.read_inode(target)?;
        t.links += 1;
        t.ctime = self.now();
        self.write_inode(target, &t)?;
        self.orphans.remove(&target);
        self.after_change()
    }

    /// Removes `name` from `dir`. A directory must be empty (`ENOTEMPTY`).
    ///
    /// # Errors
    ///
    /// `ENOENT`, `ENOTEMPTY`, `EROFS`, `EIO`.
    pub fn unlink_name(&mut self, dir: u32, name: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        check_name(name)?;
        let mut d = self.live_inode(dir)?;
        if !d.is_dir() {
            return Err(Errno::NotDir);
        }
        let f = self.dir_find(dir, &d, name)?.ok_or(Errno::NoEnt)?;
        let victim = self.live_inode(f.ino)?;
        if victim.is_dir() {
            if !self.dir_is_empty(f.ino, &victim)? {
                return Err(Errno::NotEmpty);
            }
            if f.ino == ROOT_INO {
                return Err(Errno::Busy);
            }
        }
        let data = self.cache.get_mut(&mut self.dev, f.block)?;
        dir::remove(data, f.off, f.prev);
        self.index_removed(dir, name, f.lblk);
        self.touch_dir(&mut d)?;
        if victim.is_dir() {
            d.links = d.links.saturating_sub(1);
        }
        self.write_inode(dir, &d)?;
        self.drop_link(f.ino)?;
        self.after_change()
    }

    /// One name of `ino` is gone: counts it down (a directory's links all
    /// go), and frees it when nothing names it and no port has it open.
    pub(crate) fn drop_link(&mut self, ino: u32) -> Result<(), Errno> {
        let mut i = self.read_inode(ino)?;
        i.links = if i.is_dir() {
            0
        } else {
            i.links.saturating_sub(1)
        };
        i.ctime = self.now();
        self.write_inode(ino, &i)?;
        if i.links == 0 {
            if self.open.contains(&ino) {
                self.orphans.insert(ino);
            } else {
                self.release_inode(ino)?;
            }
        }
        Ok(())
    }

    /// Frees inode `ino` (no names, no ports): its blocks, attribute and
    /// translator blocks, and the inode, which gets a deletion time.
    pub(crate) fn release_inode(&mut self, ino: u32) -> Result<(), Errno> {
        let mut i = self.read_inode(ino)?;
        if i.links != 0 || i.mode == 0 {
            return Ok(());
        }
        let mut result = Ok(());
        if i.has_block_map(self.bs) {
            result = self.truncate_blocks(&mut i, 0);
        }
        if i.file_acl != 0
            && let Err(e) = self.release_xattr_block(&mut i)
        {
            result = Err(e);
        }
        if i.translator != 0 {
            let b = i.translator;
            i.translator = 0;
            if let Err(e) = self.free_blocks(b, 1) {
                result = Err(e);
            }
        }
        let was_dir = i.is_dir();
        if was_dir {
            self.index_drop(ino);
        }
        i.dtime = self.deletion_time();
        i.size = 0;
        i.blocks = 0;
        self.write_inode(ino, &i)?;
        self.free_inode(ino, was_dir)?;
        self.orphans.remove(&ino);
        result
    }

    /// Moves `from_name` in `from` to `to_name` in `to`, replacing what is
    /// there unless `excl`: a file may replace a file, a directory an
    /// empty directory. A directory cannot move below itself.
    ///
    /// # Errors
    ///
    /// `ENOENT`, `EEXIST`, `EISDIR`, `ENOTDIR`, `ENOTEMPTY`, `EINVAL` (into
    /// itself), `ENOSPC`, `EROFS`, `EIO`.
    pub fn rename_name(
        &mut self,
        from: u32,
        from_name: &[u8],
        to: u32,
        to_name: &[u8],
        excl: bool,
    ) -> Result<(), Errno> {
        self.writable()?;
        check_name(from_name)?;
        check_name(to_name)?;
        let fd = self.live_inode(from)?;
        if !fd.is_dir() {
            return Err(Errno::NotDir);
        }
        let src = self.dir_find(from, &fd, from_name)?.ok_or(Errno::NoEnt)?;
        let moving = self.live_inode(src.ino)?;
        let mut td = self.live_inode(to)?;
        if !td.is_dir() {
            return Err(Errno::NotDir);
        }
        if td.links == 0 {
            return Err(Errno::NoEnt);
        }
        if moving.is_dir() && from != to && self.is_ancestor(src.ino, to)? {
            return Err(Errno::Inval);
        }
        let dst = self.dir_find(to, &td, to_name)?;
        if let Some(d) = dst {
            if excl {
                return Err(Errno::Exist);
            }
            if d.ino == src.ino {
                // Two names of one file: POSIX says do nothing.
                return Ok(());
            }
            let old = self.live_inode(d.ino)?;
            match (moving.is_dir(), old.is_dir()) {
                (true, false) => return Err(Errno::NotDir),
                (false, true) => return Err(Errno::IsDir),
                (true, true) if !self.dir_is_empty(d.ino, &old)? => return Err(Errno::NotEmpty),
                _ => {}
            }
        } else if moving.is_dir() && from != to && td.links >= LINK_MAX {
            return Err(Errno::MLink);
        }
        // The new name first, so a failure leaves the old one.
        let ft = if self.filetype {
            dir::ftype_of(moving.mode)
        } else {
            0
        };
        let replaced = match dst {
            Some(d) => {
                let data = self.cache.get_mut(&mut self.dev, d.block)?;
                dir::set_inode(data, d.off, src.ino, ft);
                self.touch_dir(&mut td)?;
                Some(d.ino)
            }
            None => {
                self.dir_add(to, &mut td, to_name, src.ino, ft)?;
                None
            }
        };
        if moving.is_dir() && from != to {
            td.links += 1;
        }
        if let Some(r) = replaced
            && self.read_inode(r)?.is_dir()
        {
            td.links = td.links.saturating_sub(1);
        }
        self.write_inode(to, &td)?;
        // Now the old name: found again, as adding may have moved nothing
        // but the directory may be the same one.
        let mut fd = self.live_inode(from)?;
        let again = self.dir_find(from, &fd, from_name)?.ok_or(Errno::Io)?;
        let data = self.cache.get_mut(&mut self.dev, again.block)?;
        dir::remove(data, again.off, again.prev);
        self.index_removed(from, from_name, again.lblk);
        self.touch_dir(&mut fd)?;
        if moving.is_dir() && from != to {
            fd.links = fd.links.saturating_sub(1);
        }
        self.write_inode(from, &fd)?;
        if moving.is_dir() && from != to {
            self.set_dotdot(src.ino, to)?;
        }
        let mut m = self.read_inode(src.ino)?;
        m.ctime = self.now();
        self.write_inode(src.ino, &m)?;
        if let Some(r) = replaced {
            self.drop_link(r)?;
        }
        self.after_change()
    }

    /// Points directory `ino`'s ".." at `parent`.
    fn set_dotdot(&mut self, ino: u32, parent: u32) -> Result<(), Errno> {
        let d = self.live_inode(ino)?;
        match self.dir_find(ino, &d, b"..")? {
            Some(f) => {
                let ft = if self.filetype { 2 } else { 0 };
                let data = self.cache.get_mut(&mut self.dev, f.block)?;
                dir::set_inode(data, f.off, parent, ft);
                Ok(())
            }
            None => Err(self.corrupt(&format!("directory {ino} has no \"..\""))),
        }
    }

    /// Whether directory `dir` is `ancestor` or below it, following ".."
    /// (a bounded walk: a loop of ".." records is corruption).
    fn is_ancestor(&mut self, ancestor: u32, dir: u32) -> Result<bool, Errno> {
        let mut cur = dir;
        for _ in 0..=self.sb.inodes_count().min(1 << 16) {
            if cur == ancestor {
                return Ok(true);
            }
            if cur == ROOT_INO {
                return Ok(false);
            }
            let next = self.lookup_name(cur, b"..")?;
            if next == cur {
                return Ok(false);
            }
            cur = next;
        }
        Err(self.corrupt(&format!("the \"..\" records above directory {dir} loop")))
    }
}

/// Whether a record in the block has room for one of `need` bytes.
fn has_room(block: &[u8], need: usize) -> Result<bool, dir::Corrupt> {
    for e in dir::entries(block) {
        let e = e?;
        let free = if e.inode == 0 {
            e.rec_len
        } else {
            e.rec_len - dir::rec_len_for(e.name.len())
        };
        if free >= need {
            return Ok(true);
        }
    }
    Ok(false)
}
