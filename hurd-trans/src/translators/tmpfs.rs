//! `tmpfs`: a file system in memory, on the [`Tree`] framework. Files,
//! directories, symlinks, hard links and passive translator records; an
//! optional size limit (`ENOSPC` beyond it).
//!
//! A node lives while it has a name or an open port, as on the Hurd: a file
//! unlinked while open stays readable and writable through its open ports
//! (link count 0) and its data counts against the size limit until the last
//! of them is released; a directory removed while open reads as empty and
//! takes no new entries. A file made by `dir_mkfile` lives while open or
//! linked.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use hurd_ipc::Errno;

use crate::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::netfs::{AttrChange, DirEntry, NodeId, Tree};
use crate::stat::Stat;

enum Kind {
    Dir {
        entries: BTreeMap<String, NodeId>,
        parent: NodeId,
    },
    File(Vec<u8>),
    Symlink(String),
}

struct Node {
    stat: Stat,
    kind: Kind,
    passive: Option<Vec<u8>>,
}

/// An in-memory file system.
pub struct Tmpfs {
    nodes: BTreeMap<NodeId, Node>,
    next: NodeId,
    used: u64,
    limit: u64,
    /// Nodes with open ports (see [`Tree::node_opened`]).
    open: BTreeSet<NodeId>,
}

const ROOT: NodeId = 1;

impl Tmpfs {
    /// An empty file system whose root directory has `mode` (permission
    /// bits) and belongs to `uid`/`gid`; `limit` bytes of file data at most.
    pub fn new(uid: u32, gid: u32, mode: u32, limit: u64) -> Tmpfs {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            ROOT,
            Node {
                stat: Stat {
                    ino: ROOT,
                    mode: S_IFDIR | (mode & 0o7777),
                    nlink: 2,
                    uid,
                    gid,
                    author: uid,
                    blksize: 4096,
                    ..Stat::default()
                },
                kind: Kind::Dir {
                    entries: BTreeMap::new(),
                    parent: ROOT,
                },
                passive: None,
            },
        );
        Tmpfs {
            nodes,
            next: ROOT + 1,
            used: 0,
            limit,
            open: BTreeSet::new(),
        }
    }

    /// Bytes of file data held.
    pub fn used(&self) -> u64 {
        self.used
    }

    fn node(&self, n: NodeId) -> Result<&Node, Errno> {
        self.nodes.get(&n).ok_or(Errno::NoEnt)
    }

    fn node_mut(&mut self, n: NodeId) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&n).ok_or(Errno::NoEnt)
    }

    /// A directory's entries; `ENOENT` if it has been removed.
    fn entries(&mut self, dir: NodeId) -> Result<&mut BTreeMap<String, NodeId>, Errno> {
        let node = self.node_mut(dir)?;
        let removed = node.stat.nlink == 0;
        match &mut node.kind {
            Kind::Dir { .. } if removed => Err(Errno::NoEnt),
            Kind::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::NotDir),
        }
    }

    /// Takes away one of `n`'s names (a directory's only one) and frees it
    /// if that was the last and no port to it is open.
    fn drop_link(&mut self, n: NodeId) {
        if let Some(node) = self.nodes.get_mut(&n) {
            node.stat.nlink = match node.kind {
                Kind::Dir { .. } => 0,
                _ => node.stat.nlink.saturating_sub(1),
            };
        }
        self.free_if_unused(n);
    }

    /// Frees `n` (and its data's share of the limit) if it has neither a
    /// name nor an open port.
    fn free_if_unused(&mut self, n: NodeId) {
        let unused = n != ROOT
            && !self.open.contains(&n)
            && self.nodes.get(&n).is_some_and(|x| x.stat.nlink == 0);
        if unused
            && let Some(node) = self.nodes.remove(&n)
            && let Kind::File(d) = node.kind
        {
            self.used -= d.len() as u64;
        }
    }

    fn resize(&mut self, n: NodeId, size: u64) -> Result<(), Errno> {
        let limit = self.limit;
        let used = self.used;
        let node = self.node_mut(n)?;
        let Kind::File(data) = &mut node.kind else {
            return Err(Errno::IsDir);
        };
        let old = data.len() as u64;
        if size > old && used + (size - old) > limit {
            return Err(Errno::NoSpc);
        }
        let size_usize = usize::try_from(size).map_err(|_| Errno::FBig)?;
        data.resize(size_usize, 0);
        node.stat.size = size;
        node.stat.blocks = size.div_ceil(512);
        self.used = used + size - old;
        Ok(())
    }

    /// Whether `anc` is `n` or one of its ancestors.
    fn is_ancestor(&self, anc: NodeId, mut n: NodeId) -> bool {
        loop {
            if n == anc {
                return true;
            }
            match self.nodes.get(&n).map(|x| &x.kind) {
                Some(Kind::Dir { parent, .. }) if *parent != n => n = *parent,
                _ => return false,
            }
        }
    }
}

impl Tree for Tmpfs {
    fn root(&self) -> NodeId {
        ROOT
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        Ok(self.node(node)?.stat)
    }

    fn lookup(&mut self, dir: NodeId, name: &str) -> Result<NodeId, Errno> {
        let node = self.node(dir)?;
        match &node.kind {
            Kind::Dir { .. } if node.stat.nlink == 0 => Err(Errno::NoEnt),
            Kind::Dir { parent, .. } if name == ".." => Ok(*parent),
            Kind::Dir { entries, .. } => entries.get(name).copied().ok_or(Errno::NoEnt),
            _ => Err(Errno::NotDir),
        }
    }

    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        match &self.node(node)?.kind {
            Kind::File(data) => {
                let start = usize::try_from(offset).map_or(data.len(), |o| o.min(data.len()));
                let end = start.saturating_add(len).min(data.len());
                Ok(data[start..end].to_vec())
            }
            Kind::Dir { .. } => Err(Errno::IsDir),
            Kind::Symlink(_) => Err(Errno::Inval),
        }
    }

    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        let node = self.node(dir)?;
        let Kind::Dir { entries, parent } = &node.kind else {
            return Err(Errno::NotDir);
        };
        if node.stat.nlink == 0 {
            // Removed while open: nothing, not even "." and "..".
            return Ok(Vec::new());
        }
        let mut out = alloc::vec![
            DirEntry {
                ino: dir,
                kind: S_IFDIR,
                name: ".".into()
            },
            DirEntry {
                ino: *parent,
                kind: S_IFDIR,
                name: "..".into()
            },
        ];
        for (name, n) in entries {
            let kind = self.nodes.get(n).map_or(S_IFREG, |x| x.stat.mode & S_IFMT);
            out.push(DirEntry {
                ino: *n,
                kind,
                name: name.clone(),
            });
        }
        Ok(out)
    }

    fn readlink(&mut self, node: NodeId) -> Result<String, Errno> {
        match &self.node(node)?.kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::Inval),
        }
    }

    fn write(&mut self, node: NodeId, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::FBig)?;
        let size = self.node(node)?.stat.size;
        if end > size {
            self.resize(node, end)?;
        }
        let n = self.node_mut(node)?;
        let Kind::File(buf) = &mut n.kind else {
            return Err(Errno::IsDir);
        };
        let start = usize::try_from(offset).map_err(|_| Errno::FBig)?;
        buf[start..start + data.len()].copy_from_slice(data);
        Ok(data.len())
    }

    fn set_size(&mut self, node: NodeId, size: u64) -> Result<(), Errno> {
        self.resize(node, size)
    }

    fn create(
        &mut self,
        dir: NodeId,
        name: Option<&str>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<NodeId, Errno> {
        let is_dir = mode & S_IFMT == S_IFDIR;
        if let Some(name) = name
            && self.entries(dir)?.contains_key(name)
        {
            return Err(Errno::Exist);
        }
        let id = self.next;
        self.next += 1;
        let kind = if is_dir {
            Kind::Dir {
                entries: BTreeMap::new(),
                parent: dir,
            }
        } else {
            Kind::File(Vec::new())
        };
        let nlink = match (name, is_dir) {
            (None, _) => 0,
            (Some(_), true) => 2,
            (Some(_), false) => 1,
        };
        self.nodes.insert(
            id,
            Node {
                stat: Stat {
                    ino: id,
                    mode,
                    nlink,
                    uid,
                    gid,
                    author: uid,
                    blksize: 4096,
                    ..Stat::default()
                },
                kind,
                passive: None,
            },
        );
        if let Some(name) = name {
            self.entries(dir)?.insert(name.into(), id);
            if is_dir {
                self.node_mut(dir)?.stat.nlink += 1;
            }
        }
        Ok(id)
    }

    fn link(&mut self, dir: NodeId, name: &str, node: NodeId, excl: bool) -> Result<(), Errno> {
        self.node(node)?;
        if let Some(old) = self.entries(dir)?.get(name).copied() {
            if excl {
                return Err(Errno::Exist);
            }
            if old == node {
                return Ok(());
            }
            if matches!(self.node(old)?.kind, Kind::Dir { .. }) {
                return Err(Errno::IsDir);
            }
            self.drop_link(old);
        }
        self.entries(dir)?.insert(name.into(), node);
        self.node_mut(node)?.stat.nlink += 1;
        Ok(())
    }

    fn unlink(&mut self, dir: NodeId, name: &str) -> Result<(), Errno> {
        let n = self.entries(dir)?.get(name).copied().ok_or(Errno::NoEnt)?;
        if let Kind::Dir { entries, .. } = &self.node(n)?.kind {
            if !entries.is_empty() {
                return Err(Errno::NotEmpty);
            }
            self.node_mut(dir)?.stat.nlink -= 1;
        }
        self.entries(dir)?.remove(name);
        self.drop_link(n);
        Ok(())
    }

    fn rename(
        &mut self,
        from_dir: NodeId,
        from: &str,
        to_dir: NodeId,
        to: &str,
        excl: bool,
    ) -> Result<(), Errno> {
        let n = self
            .entries(from_dir)?
            .get(from)
            .copied()
            .ok_or(Errno::NoEnt)?;
        let moving_dir = matches!(self.node(n)?.kind, Kind::Dir { .. });
        if moving_dir && self.is_ancestor(n, to_dir) {
            return Err(Errno::Inval);
        }
        if let Some(old) = self.entries(to_dir)?.get(to).copied() {
            if excl {
                return Err(Errno::Exist);
            }
            if old == n {
                return Ok(());
            }
            match (&self.node(old)?.kind, moving_dir) {
                (Kind::Dir { entries, .. }, true) if !entries.is_empty() => {
                    return Err(Errno::NotEmpty);
                }
                (Kind::Dir { .. }, false) => return Err(Errno::IsDir),
                (_, true) if !matches!(self.node(old)?.kind, Kind::Dir { .. }) => {
                    return Err(Errno::NotDir);
                }
                _ => {}
            }
            self.unlink(to_dir, to)?;
        }
        self.entries(from_dir)?.remove(from);
        self.entries(to_dir)?.insert(to.into(), n);
        if moving_dir {
            if let Kind::Dir { parent, .. } = &mut self.node_mut(n)?.kind {
                *parent = to_dir;
            }
            self.node_mut(from_dir)?.stat.nlink -= 1;
            self.node_mut(to_dir)?.stat.nlink += 1;
        }
        Ok(())
    }

    fn set_attr(&mut self, node: NodeId, change: AttrChange) -> Result<(), Errno> {
        let s = &mut self.node_mut(node)?.stat;
        match change {
            AttrChange::Mode(m) => s.mode = (s.mode & S_IFMT) | m,
            AttrChange::Owner(u, g) => {
                s.uid = u;
                s.gid = g;
            }
            AttrChange::Author(a) => s.author = a,
            AttrChange::Flags(f) => s.flags = f,
            AttrChange::Times(a, m) => {
                if let Some(a) = a {
                    s.atime = a;
                }
                if let Some(m) = m {
                    s.mtime = m;
                }
            }
        }
        Ok(())
    }

    fn set_symlink(&mut self, node: NodeId, target: &str) -> Result<(), Errno> {
        let n = self.node_mut(node)?;
        if !matches!(&n.kind, Kind::File(d) if d.is_empty()) {
            return Err(Errno::Inval);
        }
        n.kind = Kind::Symlink(target.into());
        n.stat.mode = (n.stat.mode & !S_IFMT) | S_IFLNK;
        n.stat.size = target.len() as u64;
        Ok(())
    }

    fn passive(&self, node: NodeId) -> Option<Vec<u8>> {
        self.nodes.get(&node).and_then(|n| n.passive.clone())
    }

    fn set_passive(&mut self, node: NodeId, argz: Option<Vec<u8>>) -> Result<(), Errno> {
        self.node_mut(node)?.passive = argz;
        Ok(())
    }

    fn node_opened(&mut self, node: NodeId) {
        if self.nodes.contains_key(&node) {
            self.open.insert(node);
        }
    }

    fn node_released(&mut self, node: NodeId) {
        self.open.remove(&node);
        self.free_if_unused(node);
    }
}
