//! `tmpfs`: a file system in memory, on the [`Tree`] framework. Files,
//! directories, symlinks, hard links, device nodes, FIFOs, sockets and
//! passive translator records; a size limit (`ENOSPC` beyond it).
//!
//! It behaves as Linux's tmpfs where POSIX leaves room: files are sparse
//! (pages of 4 KiB held only where written, so a byte written at 2 GiB
//! costs one page), times move as Linux's do (creation, writes,
//! truncation, links, renames and attribute changes; access times as
//! `relatime`), names longer than 255 bytes are `ENAMETOOLONG`, files
//! larger than `i64::MAX` bytes `EFBIG`. Directories are ordered maps:
//! a lookup costs `O(log n)`, a listing `O(n)`.
//!
//! A node lives while it has a name or an open port, as on the Hurd: a file
//! unlinked while open stays readable and writable through its open ports
//! (link count 0) and its data counts against the size limit until the last
//! of them is released; a directory removed while open reads as empty and
//! takes no new entries. A file made by `dir_mkfile` lives while open or
//! linked.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use hurd_ipc::Errno;

use crate::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::name::Name;
use crate::netfs::{AttrChange, DirEntry, NodeId, Tree};
use crate::stat::{Stat, TimeSpec};
use crate::statfs::{FSTYPE_MEMFS, Statfs};

/// Bytes of a page: the unit of file data held and of `statfs`'s blocks.
const PAGE: usize = 4096;
/// The longest name, in bytes (Linux's `NAME_MAX`).
const NAME_MAX: usize = 255;

enum Kind {
    Dir {
        entries: BTreeMap<Name, NodeId>,
        parent: NodeId,
    },
    File(Pages),
    Symlink(Vec<u8>),
    /// A device node, FIFO or socket: its type and device number are in
    /// its status; it holds no data.
    Special,
}

/// A file's data: the pages written, by index. What was never written (a
/// hole, or the part a truncation extended) reads as zeros and holds no
/// memory.
#[derive(Default)]
struct Pages(BTreeMap<u64, Box<[u8; PAGE]>>);

impl Pages {
    /// Bytes `offset..offset + buf.len()` into `buf` (zeros in holes).
    fn read(&self, offset: u64, buf: &mut [u8]) {
        buf.fill(0);
        let end = offset + buf.len() as u64;
        let (first, last) = (offset / PAGE as u64, end.div_ceil(PAGE as u64));
        for (&i, page) in self.0.range(first..last) {
            let at = i * PAGE as u64;
            let from = offset.max(at);
            let to = end.min(at + PAGE as u64);
            buf[(from - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&page[(from - at) as usize..(to - at) as usize]);
        }
    }

    /// Pages `offset..offset + len` would add.
    fn missing(&self, offset: u64, len: u64) -> u64 {
        if len == 0 {
            return 0;
        }
        let (first, last) = (offset / PAGE as u64, (offset + len).div_ceil(PAGE as u64));
        (last - first) - self.0.range(first..last).count() as u64
    }

    /// Writes `data` at `offset`, adding the pages it needs.
    fn write(&mut self, offset: u64, data: &[u8]) {
        let mut at = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let (i, o) = (at / PAGE as u64, (at % PAGE as u64) as usize);
            let n = rest.len().min(PAGE - o);
            let page = self.0.entry(i).or_insert_with(|| Box::new([0; PAGE]));
            page[o..o + n].copy_from_slice(&rest[..n]);
            at += n as u64;
            rest = &rest[n..];
        }
    }

    /// Drops what lies at or beyond `size`; returns the pages freed.
    fn truncate(&mut self, size: u64) -> u64 {
        let keep = size.div_ceil(PAGE as u64);
        let gone = self.0.split_off(&keep).len() as u64;
        let o = (size % PAGE as u64) as usize;
        if o != 0
            && let Some(last) = self.0.get_mut(&(keep - 1))
        {
            last[o..].fill(0);
        }
        gone
    }

    fn len(&self) -> u64 {
        self.0.len() as u64
    }
}

struct Node {
    stat: Stat,
    kind: Kind,
    passive: Option<Vec<u8>>,
}

/// What tells a [`Tmpfs`] the time: seconds and nanoseconds since the
/// epoch.
pub type Clock = Box<dyn Fn() -> TimeSpec + Send>;

/// Which of a node's times to set to now.
#[derive(Clone, Copy)]
struct Touch {
    atime: bool,
    mtime: bool,
    ctime: bool,
}

/// `st_mtime` and `st_ctime`: the node's data changed.
const MODIFIED: Touch = Touch {
    atime: false,
    mtime: true,
    ctime: true,
};
/// `st_ctime`: the node's status changed.
const CHANGED: Touch = Touch {
    atime: false,
    mtime: false,
    ctime: true,
};
/// All three: a new node.
const CREATED: Touch = Touch {
    atime: true,
    mtime: true,
    ctime: true,
};

/// An in-memory file system.
pub struct Tmpfs {
    nodes: BTreeMap<NodeId, Node>,
    next: NodeId,
    /// Pages of file data held.
    pages: u64,
    limit: u64,
    /// Nodes with open ports (see [`Tree::node_opened`]).
    open: BTreeSet<NodeId>,
    clock: Option<Clock>,
}

const ROOT: NodeId = 1;

/// The largest file size (Linux's `MAX_LFS_FILESIZE` on 64-bit machines):
/// beyond it writes and truncations are `EFBIG`.
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// The most bytes one read returns; a larger request gets a short read,
/// as from a pipe, and asks again.
const MAX_READ: usize = 4 << 20;

/// A name longer than Linux's `NAME_MAX` is `ENAMETOOLONG`.
fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.len() > NAME_MAX {
        Err(Errno::NameTooLong)
    } else {
        Ok(())
    }
}

impl Tmpfs {
    /// An empty file system whose root directory has `mode` (permission
    /// bits) and belongs to `uid`/`gid`; `limit` bytes of file data at most
    /// (counted in whole pages of 4 KiB, as written: holes cost nothing).
    ///
    /// With the `std` feature its times are the system's clock; without,
    /// every time is the epoch until a clock is given
    /// ([`Tmpfs::with_clock`]).
    pub fn new(uid: u32, gid: u32, mode: u32, limit: u64) -> Tmpfs {
        #[cfg(feature = "std")]
        let clock: Option<Clock> = Some(Box::new(system_time));
        #[cfg(not(feature = "std"))]
        let clock: Option<Clock> = None;
        let mut t = Tmpfs {
            nodes: BTreeMap::new(),
            next: ROOT + 1,
            pages: 0,
            limit,
            open: BTreeSet::new(),
            clock,
        };
        let now = t.now();
        t.nodes.insert(
            ROOT,
            Node {
                stat: Stat {
                    ino: ROOT,
                    mode: S_IFDIR | (mode & 0o7777),
                    nlink: 2,
                    uid,
                    gid,
                    author: uid,
                    blksize: PAGE as u32,
                    atime: now,
                    mtime: now,
                    ctime: now,
                    ..Stat::default()
                },
                kind: Kind::Dir {
                    entries: BTreeMap::new(),
                    parent: ROOT,
                },
                passive: None,
            },
        );
        t
    }

    /// The same file system telling the time with `clock` (say, a
    /// kernel's clock where there is no `std`).
    pub fn with_clock(mut self, clock: Clock) -> Tmpfs {
        self.clock = Some(clock);
        let now = self.now();
        if let Some(root) = self.nodes.get_mut(&ROOT) {
            root.stat.atime = now;
            root.stat.mtime = now;
            root.stat.ctime = now;
        }
        self
    }

    /// Bytes of file data held (whole pages).
    pub fn used(&self) -> u64 {
        self.pages * PAGE as u64
    }

    fn now(&self) -> TimeSpec {
        self.clock.as_ref().map_or_else(TimeSpec::default, |c| c())
    }

    /// Sets the times `what` names of `n` to now.
    fn touch(&mut self, n: NodeId, what: Touch) {
        let now = self.now();
        if let Some(node) = self.nodes.get_mut(&n) {
            let s = &mut node.stat;
            if what.atime {
                s.atime = now;
            }
            if what.mtime {
                s.mtime = now;
            }
            if what.ctime {
                s.ctime = now;
            }
        }
    }

    fn node(&self, n: NodeId) -> Result<&Node, Errno> {
        self.nodes.get(&n).ok_or(Errno::NoEnt)
    }

    fn node_mut(&mut self, n: NodeId) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&n).ok_or(Errno::NoEnt)
    }

    /// A directory's entries; `ENOENT` if it has been removed.
    fn entries(&mut self, dir: NodeId) -> Result<&mut BTreeMap<Name, NodeId>, Errno> {
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
        self.touch(n, CHANGED);
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
            self.pages -= d.len();
        }
    }

    /// Whether `more` pages fit in the limit.
    fn fits(&self, more: u64) -> bool {
        more == 0
            || self
                .pages
                .checked_add(more)
                .and_then(|p| p.checked_mul(PAGE as u64))
                .is_some_and(|bytes| bytes <= self.limit)
    }

    fn resize(&mut self, n: NodeId, size: u64) -> Result<(), Errno> {
        if size > MAX_FILE_SIZE {
            return Err(Errno::FBig);
        }
        let node = self.node_mut(n)?;
        let Kind::File(data) = &mut node.kind else {
            return Err(Errno::IsDir);
        };
        // Growing adds a hole; shrinking frees the pages beyond the end.
        let freed = data.truncate(size);
        node.stat.size = size;
        node.stat.blocks = data.len() * (PAGE as u64 / 512);
        self.pages -= freed;
        self.touch(n, MODIFIED);
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

    /// The node type a passive record stands for (as the Hurd's ext2fs and
    /// libdiskfs keep device nodes, FIFOs and sockets), with its device
    /// number.
    fn special_record(argz: &[u8]) -> Result<Option<(u32, u32)>, Errno> {
        crate::transbox::special_node(argz)
    }
}

/// The system's clock.
#[cfg(feature = "std")]
fn system_time() -> TimeSpec {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => TimeSpec {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        },
        Err(_) => TimeSpec::default(),
    }
}

impl Tree for Tmpfs {
    fn root(&self) -> NodeId {
        ROOT
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        Ok(self.node(node)?.stat)
    }

    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        let node = self.node(dir)?;
        match &node.kind {
            Kind::Dir { .. } if node.stat.nlink == 0 => Err(Errno::NoEnt),
            Kind::Dir { parent, .. } if name == b".." => Ok(*parent),
            Kind::Dir { entries, .. } => match entries.get(name) {
                Some(n) => Ok(*n),
                None => {
                    check_name(name)?;
                    Err(Errno::NoEnt)
                }
            },
            _ => Err(Errno::NotDir),
        }
    }

    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let n = self.node(node)?;
        let data = match &n.kind {
            Kind::File(pages) => {
                let size = n.stat.size;
                let len = (len.min(MAX_READ) as u64).min(size.saturating_sub(offset));
                let mut buf = alloc::vec![0; len as usize];
                pages.read(offset, &mut buf);
                buf
            }
            Kind::Dir { .. } => return Err(Errno::IsDir),
            Kind::Symlink(_) | Kind::Special => return Err(Errno::Inval),
        };
        // relatime, Linux's default: the access time moves when it is
        // older than the last change.
        let s = &self.node(node)?.stat;
        if s.atime <= s.mtime || s.atime <= s.ctime {
            self.touch(
                node,
                Touch {
                    atime: true,
                    mtime: false,
                    ctime: false,
                },
            );
        }
        Ok(data)
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
        let mut out = Vec::with_capacity(entries.len() + 2);
        out.push(DirEntry {
            ino: dir,
            kind: S_IFDIR,
            name: ".".into(),
        });
        out.push(DirEntry {
            ino: *parent,
            kind: S_IFDIR,
            name: "..".into(),
        });
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

    fn readlink(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        match &self.node(node)?.kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::Inval),
        }
    }

    fn write(&mut self, node: NodeId, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let end = offset
            .checked_add(data.len() as u64)
            .filter(|e| *e <= MAX_FILE_SIZE)
            .ok_or(Errno::FBig)?;
        let more = match &self.node(node)?.kind {
            Kind::File(pages) => pages.missing(offset, data.len() as u64),
            Kind::Dir { .. } => return Err(Errno::IsDir),
            Kind::Symlink(_) | Kind::Special => return Err(Errno::Inval),
        };
        if !self.fits(more) {
            return Err(Errno::NoSpc);
        }
        let n = self.node_mut(node)?;
        let Kind::File(pages) = &mut n.kind else {
            return Err(Errno::IsDir);
        };
        pages.write(offset, data);
        n.stat.size = n.stat.size.max(end);
        n.stat.blocks = pages.len() * (PAGE as u64 / 512);
        self.pages += more;
        self.touch(node, MODIFIED);
        Ok(data.len())
    }

    fn set_size(&mut self, node: NodeId, size: u64) -> Result<(), Errno> {
        self.resize(node, size)
    }

    fn create(
        &mut self,
        dir: NodeId,
        name: Option<&[u8]>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<NodeId, Errno> {
        let is_dir = mode & S_IFMT == S_IFDIR;
        if let Some(name) = name {
            check_name(name)?;
            if self.entries(dir)?.contains_key(name) {
                return Err(Errno::Exist);
            }
        }
        let id = self.next;
        self.next += 1;
        let kind = if is_dir {
            Kind::Dir {
                entries: BTreeMap::new(),
                parent: dir,
            }
        } else {
            Kind::File(Pages::default())
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
                    blksize: PAGE as u32,
                    ..Stat::default()
                },
                kind,
                passive: None,
            },
        );
        self.touch(id, CREATED);
        if let Some(name) = name {
            self.entries(dir)?.insert(name.into(), id);
            if is_dir {
                self.node_mut(dir)?.stat.nlink += 1;
            }
            self.touch(dir, MODIFIED);
        }
        Ok(id)
    }

    fn link(&mut self, dir: NodeId, name: &[u8], node: NodeId, excl: bool) -> Result<(), Errno> {
        check_name(name)?;
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
        self.touch(node, CHANGED);
        self.touch(dir, MODIFIED);
        Ok(())
    }

    fn unlink(&mut self, dir: NodeId, name: &[u8]) -> Result<(), Errno> {
        let n = match self.entries(dir)?.get(name).copied() {
            Some(n) => n,
            None => {
                check_name(name)?;
                return Err(Errno::NoEnt);
            }
        };
        if let Kind::Dir { entries, .. } = &self.node(n)?.kind {
            if !entries.is_empty() {
                return Err(Errno::NotEmpty);
            }
            self.node_mut(dir)?.stat.nlink -= 1;
        }
        self.entries(dir)?.remove(name);
        self.drop_link(n);
        self.touch(dir, MODIFIED);
        Ok(())
    }

    fn rename(
        &mut self,
        from_dir: NodeId,
        from: &[u8],
        to_dir: NodeId,
        to: &[u8],
        excl: bool,
    ) -> Result<(), Errno> {
        let n = match self.entries(from_dir)?.get(from).copied() {
            Some(n) => n,
            None => {
                check_name(from)?;
                return Err(Errno::NoEnt);
            }
        };
        check_name(to)?;
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
        // As Linux's tmpfs: both directories modified, the node changed.
        self.touch(from_dir, MODIFIED);
        self.touch(to_dir, MODIFIED);
        self.touch(n, CHANGED);
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
        self.touch(node, CHANGED);
        Ok(())
    }

    fn set_symlink(&mut self, node: NodeId, target: &[u8]) -> Result<(), Errno> {
        let n = self.node_mut(node)?;
        if !matches!(&n.kind, Kind::File(d) if d.len() == 0) || n.stat.size != 0 {
            return Err(Errno::Inval);
        }
        n.kind = Kind::Symlink(target.into());
        n.stat.mode = (n.stat.mode & !S_IFMT) | S_IFLNK;
        n.stat.size = target.len() as u64;
        self.touch(node, CHANGED);
        Ok(())
    }

    fn passive(&self, node: NodeId) -> Option<Vec<u8>> {
        self.nodes.get(&node).and_then(|n| n.passive.clone())
    }

    fn set_passive(&mut self, node: NodeId, argz: Option<Vec<u8>>) -> Result<(), Errno> {
        // A device, FIFO or socket record on an empty file makes it a node
        // of that type, with no translator to start.
        if let Some(a) = &argz
            && let Some((kind, dev)) = Self::special_record(a)?
        {
            let n = self.node_mut(node)?;
            if matches!(&n.kind, Kind::File(d) if d.len() == 0) && n.stat.size == 0 {
                n.kind = Kind::Special;
                n.stat.mode = (n.stat.mode & !S_IFMT) | kind;
                n.stat.rdev = dev;
                n.passive = None;
                self.touch(node, CHANGED);
                return Ok(());
            }
        }
        self.node_mut(node)?.passive = argz;
        self.touch(node, CHANGED);
        Ok(())
    }

    fn clock(&self) -> Option<TimeSpec> {
        self.clock.as_ref().map(|c| c())
    }

    fn statfs(&mut self) -> Result<Statfs, Errno> {
        // As Linux's tmpfs: the size limit in pages, and as many more nodes
        // as there are free pages.
        let bsize = PAGE as u64;
        let blocks = self.limit / bsize;
        let bfree = blocks.saturating_sub(self.pages);
        Ok(Statfs {
            fstype: FSTYPE_MEMFS,
            bsize: PAGE as u32,
            blocks,
            bfree,
            bavail: bfree,
            files: self.nodes.len() as u64 + bfree,
            ffree: bfree,
            favail: bfree,
            namelen: NAME_MAX as u32,
            frsize: PAGE as u32,
            ..Statfs::default()
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::{HURD_BLKDEV, HURD_CHRDEV, HURD_FIFO};
    use crate::mode::{S_IFCHR, S_IFIFO};
    use crate::transbox::argv_to_argz;
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicI64, Ordering};

    /// A tmpfs whose clock reads the returned counter, in seconds.
    fn ticking() -> (Tmpfs, Arc<AtomicI64>) {
        let now = Arc::new(AtomicI64::new(100));
        let n = now.clone();
        let t = Tmpfs::new(0, 0, 0o755, 1 << 20).with_clock(Box::new(move || TimeSpec {
            sec: n.load(Ordering::SeqCst),
            nsec: 0,
        }));
        (t, now)
    }

    fn times(t: &Tmpfs, n: NodeId) -> (i64, i64, i64) {
        let s = t.stat(n).expect("stat");
        (s.atime.sec, s.mtime.sec, s.ctime.sec)
    }

    #[test]
    fn a_byte_at_two_gib_costs_one_page() {
        let mut t = Tmpfs::new(0, 0, 0o755, 1 << 20);
        let f = t
            .create(ROOT, Some("f".as_bytes()), S_IFREG | 0o644, 0, 0)
            .expect("create");
        assert_eq!(t.write(f, 2 << 30, b"x"), Ok(1));
        let s = t.stat(f).expect("stat");
        assert_eq!((s.size, s.blocks, t.used()), ((2 << 30) + 1, 8, 4096));
        assert_eq!(t.read(f, (2 << 30) - 2, 10), Ok(alloc::vec![0, 0, b'x']));
        // A huge truncation is a hole, not ENOSPC.
        assert_eq!(t.set_size(f, 1 << 40), Ok(()));
        assert_eq!(t.used(), 4096);
        assert_eq!(t.read(f, 1 << 39, 4).map(|d| d.len()), Ok(4));
        // Shrinking frees the pages beyond, and zeros the tail of the last.
        assert_eq!(t.set_size(f, 2 << 30), Ok(()));
        assert_eq!(t.used(), 0);
        assert_eq!(t.write(f, 0, &[9; 100]), Ok(100));
        assert_eq!(t.set_size(f, 10), Ok(()));
        assert_eq!(t.set_size(f, 100), Ok(()));
        assert_eq!(t.read(f, 8, 4), Ok(alloc::vec![9, 9, 0, 0]));
    }

    #[test]
    fn limits_give_linux_errors() {
        let mut t = Tmpfs::new(0, 0, 0o755, 8192);
        let f = t
            .create(ROOT, Some("f".as_bytes()), S_IFREG | 0o644, 0, 0)
            .expect("create");
        assert_eq!(t.write(f, MAX_FILE_SIZE, b"x"), Err(Errno::FBig));
        assert_eq!(t.write(f, u64::MAX, b"x"), Err(Errno::FBig));
        assert_eq!(t.set_size(f, MAX_FILE_SIZE + 1), Err(Errno::FBig));
        assert_eq!(t.write(f, 0, &[1; 3 * 4096]), Err(Errno::NoSpc));
        let long = "n".repeat(NAME_MAX + 1);
        let ok = "n".repeat(NAME_MAX);
        let mode = S_IFREG | 0o644;
        assert_eq!(
            t.create(ROOT, Some(long.as_bytes()), mode, 0, 0),
            Err(Errno::NameTooLong)
        );
        assert_eq!(t.lookup(ROOT, long.as_bytes()), Err(Errno::NameTooLong));
        assert_eq!(
            t.link(ROOT, long.as_bytes(), f, true),
            Err(Errno::NameTooLong)
        );
        assert_eq!(
            t.rename(ROOT, b"f", ROOT, long.as_bytes(), false),
            Err(Errno::NameTooLong)
        );
        assert!(t.create(ROOT, Some(ok.as_bytes()), mode, 0, 0).is_ok());
        assert_eq!(t.statfs().map(|s| s.namelen), Ok(NAME_MAX as u32));
    }

    #[test]
    fn times_move_as_linux_tmpfs_moves_them() {
        let (mut t, now) = ticking();
        let f = t
            .create(ROOT, Some("f".as_bytes()), S_IFREG | 0o644, 0, 0)
            .expect("create");
        assert_eq!(times(&t, f), (100, 100, 100));
        assert_eq!(times(&t, ROOT).1, 100);
        now.store(200, Ordering::SeqCst);
        assert_eq!(t.write(f, 0, b"data"), Ok(4));
        assert_eq!(times(&t, f), (100, 200, 200));
        now.store(300, Ordering::SeqCst);
        assert_eq!(t.read(f, 0, 4), Ok(b"data".to_vec()));
        assert_eq!(times(&t, f), (300, 200, 200), "relatime");
        now.store(400, Ordering::SeqCst);
        assert_eq!(t.set_attr(f, AttrChange::Mode(0o600)), Ok(()));
        assert_eq!(times(&t, f), (300, 200, 400));
        now.store(500, Ordering::SeqCst);
        assert_eq!(t.set_size(f, 2), Ok(()));
        assert_eq!(times(&t, f), (300, 500, 500));
        now.store(600, Ordering::SeqCst);
        assert_eq!(t.link(ROOT, b"g", f, true), Ok(()));
        assert_eq!(times(&t, f).2, 600);
        assert_eq!(times(&t, ROOT).1, 600);
        now.store(700, Ordering::SeqCst);
        let d = t
            .create(ROOT, Some("d".as_bytes()), S_IFDIR | 0o755, 0, 0)
            .expect("mkdir");
        now.store(800, Ordering::SeqCst);
        assert_eq!(t.rename(ROOT, b"g", d, b"g", false), Ok(()));
        assert_eq!(
            (times(&t, ROOT).1, times(&t, d).1, times(&t, f).2),
            (800, 800, 800)
        );
        now.store(900, Ordering::SeqCst);
        assert_eq!(t.unlink(d, b"g"), Ok(()));
        assert_eq!((times(&t, d).1, times(&t, f).2), (900, 900));
        let given = TimeSpec { sec: 5, nsec: 6 };
        assert_eq!(t.set_attr(f, AttrChange::Times(Some(given), None)), Ok(()));
        let s = t.stat(f).expect("stat");
        assert_eq!((s.atime, s.mtime.sec, s.ctime.sec), (given, 500, 900));
    }

    #[test]
    fn device_and_fifo_records_make_nodes_of_their_type() {
        let mut t = Tmpfs::new(0, 0, 0o755, 1 << 20);
        let mode = S_IFREG | 0o644;
        let c = t
            .create(ROOT, Some("c".as_bytes()), mode, 0, 0)
            .expect("create");
        let rec = argv_to_argz(&[HURD_CHRDEV, "4", "300"]);
        assert_eq!(t.set_passive(c, Some(rec)), Ok(()));
        let s = t.stat(c).expect("stat");
        assert_eq!(s.mode & S_IFMT, S_IFCHR);
        // Linux's dev_t: minor's low byte, major, minor's high bits.
        assert_eq!(s.rdev, (300 & 0xff) | (4 << 8) | ((300 & !0xff) << 12));
        assert_eq!(t.passive(c), None);
        assert_eq!(t.read(c, 0, 1), Err(Errno::Inval));
        let p = t
            .create(ROOT, Some("p".as_bytes()), mode, 0, 0)
            .expect("create");
        assert_eq!(t.set_passive(p, Some(argv_to_argz(&[HURD_FIFO]))), Ok(()));
        assert_eq!(t.stat(p).map(|s| s.mode & S_IFMT), Ok(S_IFIFO));
        let bad = t
            .create(ROOT, Some("b".as_bytes()), mode, 0, 0)
            .expect("create");
        let rec = argv_to_argz(&[HURD_BLKDEV, "x", "1"]);
        assert_eq!(t.set_passive(bad, Some(rec)), Err(Errno::Inval));
        // Another record is kept as a passive translator.
        let rec = argv_to_argz(&["/hurd/hello"]);
        assert_eq!(t.set_passive(bad, Some(rec.clone())), Ok(()));
        assert_eq!(t.passive(bad), Some(rec));
    }
}
