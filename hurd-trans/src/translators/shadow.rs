//! `shadow`: a copy-on-write overlay. Reads come from the *lower*
//! directory, every change goes to the *upper* one, and the lower one is
//! never written.
//!
//! - A name in upper hides the same name in lower.
//! - Writing, truncating or changing the mode of a lower file first copies
//!   it up (with the directories above it).
//! - Removing a name that lower has leaves a *whiteout* in upper: an empty
//!   file called `.wh.NAME`, which hides NAME from then on (and persists with
//!   upper). Names starting with `.wh.` are reserved (`EINVAL`).
//! - A directory is the merge of both layers' directories; removing one
//!   needs it empty in the merge.
//! - Renames are `EXDEV` (copy and remove instead).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::RefCell;
use hurd_ipc::Errno;
use hurd_ipc::UserIpc;

use super::ports::{Dir, PathIds, READ_CHUNK, join, read_at, split, to_errno};
use crate::flags::OpenFlags;
use crate::mode::{S_IFDIR, S_IFMT, is_dir, is_lnk};
use crate::name::Name;
use crate::netfs::{AttrChange, DirEntry, NodeId, Tree};
use crate::protocol::{fs, io};
use crate::stat::Stat;

/// The whiteout prefix.
pub const WHITEOUT: &str = ".wh.";

/// Lower read, upper written.
pub struct Shadow<I: UserIpc> {
    ipc: I,
    lower: Dir,
    upper: Dir,
    ids: RefCell<PathIds>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Where {
    Upper,
    Lower,
}

impl<I: UserIpc> Shadow<I> {
    /// An overlay of `upper` (changes) on `lower` (reads).
    pub fn new(ipc: I, lower: Dir, upper: Dir) -> Self {
        Shadow {
            ipc,
            lower,
            upper,
            ids: RefCell::new(PathIds::new()),
        }
    }

    fn path(&self, node: NodeId) -> Result<Vec<u8>, Errno> {
        self.ids.borrow().path(node).map(<[u8]>::to_vec)
    }

    /// The whiteout's name for `name`.
    fn whiteout(name: &[u8]) -> Vec<u8> {
        let mut w = WHITEOUT.as_bytes().to_vec();
        w.extend_from_slice(name);
        w
    }

    fn whiteout_of(path: &[u8]) -> Vec<u8> {
        let (dir, name) = split(path);
        join(dir, &Self::whiteout(name))
    }

    /// The non-empty components of `path`.
    fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
        path.split(|&c| c == b'/').filter(|c| !c.is_empty())
    }

    fn whited_out(&self, path: &[u8]) -> bool {
        // Any component may be whited out.
        let mut at = Vec::new();
        for c in Self::components(path) {
            at = join(&at, c);
            if self.upper.stat(&self.ipc, &Self::whiteout_of(&at)).is_ok() {
                return true;
            }
        }
        false
    }

    fn locate(&self, path: &[u8]) -> Result<(Where, Stat), Errno> {
        if let Ok(s) = self.upper.stat(&self.ipc, path) {
            return Ok((Where::Upper, s));
        }
        if self.whited_out(path) {
            return Err(Errno::NoEnt);
        }
        match self.lower.stat(&self.ipc, path) {
            Ok(s) => Ok((Where::Lower, s)),
            Err(Errno::NotDir) => Err(Errno::NoEnt),
            Err(e) => Err(e),
        }
    }

    /// Makes directory `path` exist in upper (copying the lower's modes).
    fn upper_dir(&self, path: &[u8]) -> Result<(), Errno> {
        let mut at = Vec::new();
        for c in Self::components(path) {
            let next = join(&at, c);
            if self.upper.stat(&self.ipc, &next).is_err() {
                let mode = self
                    .lower
                    .stat(&self.ipc, &next)
                    .map_or(0o755, |s| s.mode & 0o7777);
                let d = self.upper.open(&self.ipc, &at, OpenFlags::READ)?;
                match fs::Client::new(&self.ipc, d.port).dir_mkdir(Name::from(c), mode) {
                    Ok(()) => {}
                    Err(e) if to_errno(e) == Errno::Exist => {}
                    Err(e) => return Err(to_errno(e)),
                }
            }
            at = next;
        }
        Ok(())
    }

    fn remove_whiteout(&self, path: &[u8]) {
        let (dir, name) = split(path);
        if let Ok(d) = self.upper.open(&self.ipc, dir, OpenFlags::READ) {
            let _ = fs::Client::new(&self.ipc, d.port).dir_unlink(Self::whiteout(name).into());
        }
    }

    /// Copies a lower file up, so changes can go to upper.
    fn copy_up(&self, path: &[u8]) -> Result<(), Errno> {
        let (w, s) = self.locate(path)?;
        if w == Where::Upper {
            return Ok(());
        }
        if is_dir(s.mode) {
            return self.upper_dir(path);
        }
        if is_lnk(s.mode) {
            return Err(Errno::OpNotSupp);
        }
        let from = self.lower.open(&self.ipc, path, OpenFlags::READ)?;
        let (dir, name) = split(path);
        self.upper_dir(dir)?;
        let f = self.upper.open(
            &self.ipc,
            path,
            OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL,
        )?;
        let copied = Self::copy_data(
            &io::Client::new(&self.ipc, from.port),
            &io::Client::new(&self.ipc, f.port),
            s.size,
        );
        if let Err(e) = copied {
            // A half copy would hide the lower file: remove it.
            if let Ok(d) = self.upper.open(&self.ipc, dir, OpenFlags::READ) {
                let _ = fs::Client::new(&self.ipc, d.port).dir_unlink(Name::from(name));
            }
            return Err(e);
        }
        let _ = fs::Client::new(&self.ipc, f.port).file_chmod(s.mode & 0o7777);
        Ok(())
    }

    /// Copies the first `size` bytes of `from` to `to`, a chunk at a time.
    /// As Linux's overlayfs, the size the lower file states is what is
    /// copied: a file whose reads never end (a device) stops there.
    fn copy_data(from: &io::Client<'_, I>, to: &io::Client<'_, I>, size: u64) -> Result<(), Errno> {
        let mut at = 0u64;
        while at < size {
            let want = usize::try_from(size - at).map_or(READ_CHUNK, |n| n.min(READ_CHUNK));
            let offset = i64::try_from(at).map_err(|_| Errno::FBig)?;
            let data = read_at(from, offset, want)?;
            if data.is_empty() {
                break;
            }
            let mut done = 0;
            while done < data.len() {
                let offset = i64::try_from(at + done as u64).map_err(|_| Errno::FBig)?;
                let n = to.write(data[done..].to_vec(), offset).map_err(to_errno)?;
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n == 0 || n > data.len() - done {
                    return Err(Errno::Io);
                }
                done += n;
            }
            at += data.len() as u64;
        }
        Ok(())
    }

    fn check_name(name: &[u8]) -> Result<(), Errno> {
        if name.starts_with(WHITEOUT.as_bytes()) {
            Err(Errno::Inval)
        } else {
            Ok(())
        }
    }
}

impl<I: UserIpc> Tree for Shadow<I> {
    fn root(&self) -> NodeId {
        PathIds::ROOT
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        let path = self.path(node)?;
        let (_, mut s) = self.locate(&path)?;
        s.ino = node;
        Ok(s)
    }

    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        let path = self.path(dir)?;
        if name == b".." {
            let parent = split(&path).0;
            return Ok(if path.is_empty() {
                dir
            } else {
                self.ids.borrow_mut().id(parent)
            });
        }
        if name.starts_with(WHITEOUT.as_bytes()) {
            return Err(Errno::NoEnt);
        }
        let child = join(&path, name);
        self.locate(&child)?;
        Ok(self.ids.borrow_mut().id(&child))
    }

    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let path = self.path(node)?;
        match self.locate(&path)?.0 {
            Where::Upper => self.upper.read(&self.ipc, &path, offset, len),
            Where::Lower => self.lower.read(&self.ipc, &path, offset, len),
        }
    }

    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        let path = self.path(dir)?;
        let mut names: BTreeMap<Name, u32> = BTreeMap::new();
        let mut hidden = Vec::new();
        if let Ok(entries) = self.upper.readdir(&self.ipc, &path) {
            for e in entries {
                match e.name.as_bytes().strip_prefix(WHITEOUT.as_bytes()) {
                    Some(h) => hidden.push(Name::from(h)),
                    None => {
                        names.insert(e.name, e.kind);
                    }
                }
            }
        }
        if !self.whited_out(&path)
            && let Ok(entries) = self.lower.readdir(&self.ipc, &path)
        {
            for e in entries {
                if !hidden.contains(&e.name) {
                    names.entry(e.name).or_insert(e.kind);
                }
            }
        }
        Ok(self.ids.borrow_mut().listing(dir, &path, names))
    }

    fn readlink(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        let path = self.path(node)?;
        match self.locate(&path)?.0 {
            Where::Upper => self.upper.readlink(&self.ipc, &path),
            Where::Lower => self.lower.readlink(&self.ipc, &path),
        }
    }

    fn write(&mut self, node: NodeId, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let path = self.path(node)?;
        self.copy_up(&path)?;
        let f = self.upper.open(&self.ipc, &path, OpenFlags::WRITE)?;
        let off = i64::try_from(offset).map_err(|_| Errno::FBig)?;
        io::Client::new(&self.ipc, f.port)
            .write(data.to_vec(), off)
            .map(|n| n as usize)
            .map_err(to_errno)
    }

    fn set_size(&mut self, node: NodeId, size: u64) -> Result<(), Errno> {
        let path = self.path(node)?;
        self.copy_up(&path)?;
        let f = self.upper.open(&self.ipc, &path, OpenFlags::WRITE)?;
        let size = i64::try_from(size).map_err(|_| Errno::FBig)?;
        fs::Client::new(&self.ipc, f.port)
            .file_set_size(size)
            .map_err(to_errno)
    }

    fn create(
        &mut self,
        dir: NodeId,
        name: Option<&[u8]>,
        mode: u32,
        _uid: u32,
        _gid: u32,
    ) -> Result<NodeId, Errno> {
        let name = name.ok_or(Errno::OpNotSupp)?;
        Self::check_name(name)?;
        let path = self.path(dir)?;
        let child = join(&path, name);
        if self.locate(&child).is_ok() {
            return Err(Errno::Exist);
        }
        self.upper_dir(&path)?;
        self.remove_whiteout(&child);
        if mode & S_IFMT == S_IFDIR {
            let d = self.upper.open(&self.ipc, &path, OpenFlags::READ)?;
            fs::Client::new(&self.ipc, d.port)
                .dir_mkdir(Name::from(name), mode & 0o7777)
                .map_err(to_errno)?;
        } else {
            let f = self.upper.open(
                &self.ipc,
                &child,
                OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL,
            )?;
            let _ = fs::Client::new(&self.ipc, f.port).file_chmod(mode & 0o7777);
        }
        Ok(self.ids.borrow_mut().id(&child))
    }

    fn unlink(&mut self, dir: NodeId, name: &[u8]) -> Result<(), Errno> {
        Self::check_name(name)?;
        let path = self.path(dir)?;
        let child = join(&path, name);
        let (w, s) = self.locate(&child)?;
        if is_dir(s.mode) {
            let id = self.ids.borrow_mut().id(&child);
            if self.readdir(id)?.len() > 2 {
                return Err(Errno::NotEmpty);
            }
        }
        if w == Where::Upper {
            let d = self.upper.open(&self.ipc, &path, OpenFlags::READ)?;
            let c = fs::Client::new(&self.ipc, d.port);
            let r = if is_dir(s.mode) {
                // Its whiteouts go first.
                if let Ok(entries) = self.upper.readdir(&self.ipc, &child)
                    && let Ok(sub) = self.upper.open(&self.ipc, &child, OpenFlags::READ)
                {
                    for e in entries {
                        let _ = fs::Client::new(&self.ipc, sub.port).dir_unlink(e.name);
                    }
                }
                c.dir_rmdir(Name::from(name))
            } else {
                c.dir_unlink(Name::from(name))
            };
            r.map_err(to_errno)?;
        }
        if self.lower.stat(&self.ipc, &child).is_ok() {
            self.upper_dir(&path)?;
            let _ = self.upper.open(
                &self.ipc,
                &Self::whiteout_of(&child),
                OpenFlags::WRITE | OpenFlags::CREAT,
            )?;
        }
        Ok(())
    }

    fn rename(&mut self, _: NodeId, _: &[u8], _: NodeId, _: &[u8], _: bool) -> Result<(), Errno> {
        Err(Errno::XDev)
    }

    fn set_attr(&mut self, node: NodeId, change: AttrChange) -> Result<(), Errno> {
        let path = self.path(node)?;
        self.copy_up(&path)?;
        let f = self.upper.open(&self.ipc, &path, OpenFlags::empty())?;
        let c = fs::Client::new(&self.ipc, f.port);
        match change {
            AttrChange::Mode(m) => c.file_chmod(m),
            AttrChange::Author(a) => c.file_chauthor(a),
            AttrChange::Owner(u, g) => c.file_chown(u, g),
            AttrChange::Flags(fl) => c.file_chflags(fl as i32),
            AttrChange::Times(..) => return Err(Errno::OpNotSupp),
        }
        .map_err(to_errno)
    }
}
