//! `tarfs`: a tar archive as a read-only directory tree.
//!
//! The archive is read with [`crate::tar`], so tarfs sees what GNU tar and
//! bsdtar write (every header format, pax records, GNU long names, sparse
//! files, hard links). At start the archive's headers are read once into an
//! index (names, attributes and where each file's bytes lie); file data is
//! read from the archive's [`Source`] when a client reads it — on the Hurd
//! the node the translator sits on, through `io_read` ([`NodeSource`]). So
//! the memory tarfs holds grows with the number of entries, never with the
//! size of the archive (bounded by [`Limits`]).
//!
//! The tree is what `tar -x` of the archive into an empty directory makes:
//! leading `/` and `./` are dropped; directories a name implies are made
//! (owned as the root is, mode `0755`); a later entry replaces an earlier
//! one of the same name (an earlier directory only if it is empty; an
//! entry for an existing directory sets its attributes); a hard link is
//! another name for the same node (same file number, link count counted);
//! an entry named `.` gives the root its attributes; devices and FIFOs are
//! nodes of their kind (reading them is `EOPNOTSUPP`).
//!
//! A bad archive is refused whole: every call fails with
//! [`TarError::errno`] (`EFTYPE`, or the source's error), and
//! [`Tarfs::error`] says which entry, where and why.
//!
//! Names are bytes in the archive and bytes through the [`Tree`]
//! interface: a name that is not UTF-8 is listed and found as it is. A
//! symlink target that is not UTF-8 reads with U+FFFD in place of its bad
//! bytes (targets are strings in the [`Tree`] interface).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use hurd_ipc::{PortName, UserIpc};

use crate::mode::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG};
use crate::name::Name;
use crate::netfs::{DirEntry, NodeId, Tree};
use crate::stat::{Stat, TimeSpec};
use crate::tar::{Data, Entry, EntryKind, Limits, Reader, Reason, Source, TarError, path};
use hurd_ipc::Errno;

const ROOT: NodeId = 1;

/// The most bytes one read asks the source for: what a message carries on
/// every kernel.
const READ_CHUNK: usize = 32 * 1024;

enum Kind {
    Dir {
        entries: BTreeMap<Box<[u8]>, NodeId>,
        parent: NodeId,
    },
    File(Data),
    Symlink(Box<[u8]>),
    /// A device or FIFO: attributes only.
    Special,
}

struct Node {
    stat: Stat,
    kind: Kind,
}

/// A tar archive as a [`Tree`]: the index of its entries, and the archive
/// to read their data from.
pub struct Tarfs<S> {
    source: Option<S>,
    nodes: BTreeMap<NodeId, Node>,
    next: NodeId,
    owner: (u32, u32),
    /// Set when the archive was refused: every call fails with it.
    error: Option<TarError>,
}

/// Linux's 32-bit device number encoding (what `st_rdev` carries to FUSE).
fn makedev(major: u32, minor: u32) -> u32 {
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12)
}

fn dir_stat(ino: NodeId, mode: u32, uid: u32, gid: u32, mtime: TimeSpec) -> Stat {
    Stat {
        ino,
        mode: S_IFDIR | mode,
        nlink: 2,
        uid,
        gid,
        author: uid,
        blksize: 4096,
        mtime,
        atime: mtime,
        ctime: mtime,
        ..Stat::default()
    }
}

impl<S: Source> Tarfs<S> {
    /// An empty file system: a root directory owned by `uid`/`gid` and no
    /// archive (what a translator serves until it has read its node).
    pub fn empty(uid: u32, gid: u32) -> Tarfs<S> {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            ROOT,
            Node {
                stat: dir_stat(ROOT, 0o755, uid, gid, TimeSpec::default()),
                kind: Kind::Dir {
                    entries: BTreeMap::new(),
                    parent: ROOT,
                },
            },
        );
        Tarfs {
            source: None,
            nodes,
            next: ROOT + 1,
            owner: (uid, gid),
            error: None,
        }
    }

    /// Indexes the archive `source` (default [`Limits`]); directories the
    /// archive only implies, and the root unless the archive names `.`, are
    /// owned by `uid`/`gid`.
    ///
    /// # Errors
    ///
    /// The [`TarError`] of the first entry refused.
    pub fn open(source: S, uid: u32, gid: u32) -> Result<Tarfs<S>, TarError> {
        Tarfs::open_with_limits(source, uid, gid, Limits::default())
    }

    /// [`Tarfs::open`] with `limits`.
    ///
    /// # Errors
    ///
    /// The [`TarError`] of the first entry refused.
    pub fn open_with_limits(
        source: S,
        uid: u32,
        gid: u32,
        limits: Limits,
    ) -> Result<Tarfs<S>, TarError> {
        let mut t = Tarfs::empty(uid, gid);
        let mut reader = Reader::with_limits(source, limits);
        while let Some(e) = reader.next_entry()? {
            t.add(&e, &limits)
                .map_err(|reason| TarError::new(e.offset, &e.header.path, reason))?;
        }
        t.source = Some(reader.into_source());
        Ok(t)
    }

    /// [`Tarfs::open`], or, for an archive refused, a file system whose
    /// every call fails with the refusal's `errno` (so a translator can
    /// start and say why).
    pub fn open_or_broken(source: S, uid: u32, gid: u32) -> Tarfs<S> {
        Tarfs::open(source, uid, gid).unwrap_or_else(|e| Tarfs::broken(e, uid, gid))
    }

    /// A file system whose every call fails with `error`'s `errno`.
    pub fn broken(error: TarError, uid: u32, gid: u32) -> Tarfs<S> {
        let mut t = Tarfs::empty(uid, gid);
        t.error = Some(error);
        t
    }

    /// Why the archive was refused, if it was.
    pub fn error(&self) -> Option<&TarError> {
        self.error.as_ref()
    }

    /// How many nodes the index holds (the root included).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn alloc(&mut self, limits: &Limits) -> Result<NodeId, Reason> {
        if self.nodes.len() > limits.max_entries {
            return Err(Reason::TooManyEntries);
        }
        let id = self.next;
        self.next += 1;
        Ok(id)
    }

    fn entries_mut(&mut self, dir: NodeId) -> Result<&mut BTreeMap<Box<[u8]>, NodeId>, Reason> {
        match self.nodes.get_mut(&dir).map(|n| &mut n.kind) {
            Some(Kind::Dir { entries, .. }) => Ok(entries),
            _ => Err(Reason::NotADirectory),
        }
    }

    fn is_dir(&self, n: NodeId) -> bool {
        matches!(self.nodes.get(&n).map(|n| &n.kind), Some(Kind::Dir { .. }))
    }

    /// The directory `parts` names, made (as the root's owner) as needed.
    fn make_dirs(&mut self, parts: &[&[u8]], limits: &Limits) -> Result<NodeId, Reason> {
        let mut dir = ROOT;
        for p in parts {
            dir = match self.entries_mut(dir)?.get(*p).copied() {
                Some(n) if self.is_dir(n) => n,
                Some(_) => return Err(Reason::NotADirectory),
                None => {
                    let id = self.alloc(limits)?;
                    let (uid, gid) = self.owner;
                    self.link_new(
                        dir,
                        p,
                        id,
                        Node {
                            stat: dir_stat(id, 0o755, uid, gid, TimeSpec::default()),
                            kind: Kind::Dir {
                                entries: BTreeMap::new(),
                                parent: dir,
                            },
                        },
                    )?;
                    id
                }
            };
        }
        Ok(dir)
    }

    /// Enters a new node under `name` in `dir`.
    fn link_new(&mut self, dir: NodeId, name: &[u8], id: NodeId, node: Node) -> Result<(), Reason> {
        let is_dir = matches!(node.kind, Kind::Dir { .. });
        self.nodes.insert(id, node);
        self.entries_mut(dir)?.insert(name.into(), id);
        if is_dir && let Some(d) = self.nodes.get_mut(&dir) {
            d.stat.nlink += 1;
        }
        Ok(())
    }

    /// The node `parts` names, if any (no symlinks followed, as `link`
    /// targets are resolved by `tar -x`).
    fn resolve(&self, parts: &[&[u8]]) -> Option<NodeId> {
        let mut n = ROOT;
        for p in parts {
            match &self.nodes.get(&n)?.kind {
                Kind::Dir { entries, .. } => n = *entries.get(*p)?,
                _ => return None,
            }
        }
        Some(n)
    }

    /// Removes `name` from `dir` (one link of its node): what extracting a
    /// later entry of the same name does first.
    fn unlink(&mut self, dir: NodeId, name: &[u8], old: NodeId) -> Result<(), Reason> {
        let old_is_dir = self.is_dir(old);
        if let Some(Kind::Dir { entries, .. }) = self.nodes.get(&old).map(|n| &n.kind)
            && !entries.is_empty()
        {
            return Err(Reason::DirectoryNotEmpty);
        }
        self.entries_mut(dir)?.remove(name);
        if old_is_dir {
            self.nodes.remove(&old);
            if let Some(d) = self.nodes.get_mut(&dir) {
                d.stat.nlink -= 1;
            }
        } else if let Some(n) = self.nodes.get_mut(&old) {
            n.stat.nlink -= 1;
            if n.stat.nlink == 0 {
                self.nodes.remove(&old);
            }
        }
        Ok(())
    }

    fn stat_of(&self, ino: NodeId, e: &Entry, type_bits: u32) -> Stat {
        let h = &e.header;
        let size = match h.kind {
            EntryKind::File => h.size,
            EntryKind::Symlink => h.link.len() as u64,
            _ => 0,
        };
        let stored = if h.kind == EntryKind::File {
            e.data.stored
        } else {
            0
        };
        Stat {
            ino,
            mode: type_bits | (h.mode & 0o7777),
            nlink: 1,
            uid: h.uid,
            gid: h.gid,
            author: h.uid,
            size,
            blocks: stored.div_ceil(512),
            blksize: 4096,
            mtime: h.mtime,
            atime: h.atime.unwrap_or(h.mtime),
            ctime: h.ctime.unwrap_or(h.mtime),
            rdev: if matches!(h.kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
                makedev(h.devmajor, h.devminor)
            } else {
                0
            },
            ..Stat::default()
        }
    }

    /// Adds one entry to the tree.
    fn add(&mut self, e: &Entry, limits: &Limits) -> Result<(), Reason> {
        let h = &e.header;
        let parts = path::components(&h.path)?;
        let Some((last, parents)) = parts.split_last() else {
            // `.`: the root's own attributes.
            if h.kind != EntryKind::Dir {
                return Err(Reason::RootNotADirectory);
            }
            let stat = self.stat_of(ROOT, e, S_IFDIR);
            if let Some(root) = self.nodes.get_mut(&ROOT) {
                root.stat = Stat {
                    nlink: root.stat.nlink,
                    ..stat
                };
            }
            return Ok(());
        };
        if h.kind == EntryKind::Symlink && h.link.is_empty() {
            return Err(Reason::EmptyLinkTarget);
        }
        let dir = self.make_dirs(parents, limits)?;
        let existing = self.entries_mut(dir)?.get(*last).copied();
        if h.kind == EntryKind::HardLink {
            let target = self
                .resolve(&path::components(&h.link)?)
                .ok_or(Reason::LinkTargetMissing)?;
            if self.is_dir(target) {
                return Err(Reason::LinkToDirectory);
            }
            if existing == Some(target) {
                return Ok(());
            }
            if let Some(old) = existing {
                self.unlink(dir, last, old)?;
            }
            self.entries_mut(dir)?.insert((*last).into(), target);
            if let Some(n) = self.nodes.get_mut(&target) {
                n.stat.nlink += 1;
            }
            return Ok(());
        }
        if h.kind == EntryKind::Dir
            && let Some(old) = existing.filter(|&o| self.is_dir(o))
        {
            // An entry for an existing directory: its attributes.
            let stat = self.stat_of(old, e, S_IFDIR);
            if let Some(n) = self.nodes.get_mut(&old) {
                n.stat = Stat {
                    nlink: n.stat.nlink,
                    ..stat
                };
            }
            return Ok(());
        }
        if let Some(old) = existing {
            self.unlink(dir, last, old)?;
        }
        let id = self.alloc(limits)?;
        let (bits, kind) = match h.kind {
            EntryKind::Dir => (
                S_IFDIR,
                Kind::Dir {
                    entries: BTreeMap::new(),
                    parent: dir,
                },
            ),
            EntryKind::File => (S_IFREG, Kind::File(e.data.clone())),
            EntryKind::Symlink => (S_IFLNK, Kind::Symlink(h.link.as_slice().into())),
            EntryKind::CharDevice => (S_IFCHR, Kind::Special),
            EntryKind::BlockDevice => (S_IFBLK, Kind::Special),
            EntryKind::Fifo => (S_IFIFO, Kind::Special),
            EntryKind::HardLink => return Err(Reason::LinkTargetMissing),
        };
        let mut stat = self.stat_of(id, e, bits);
        if bits == S_IFDIR {
            stat.nlink = 2;
        }
        self.link_new(dir, last, id, Node { stat, kind })
    }

    fn node(&self, n: NodeId) -> Result<&Node, Errno> {
        if let Some(e) = &self.error {
            return Err(e.errno());
        }
        self.nodes.get(&n).ok_or(Errno::NoEnt)
    }
}

impl<S: Source> Tree for Tarfs<S> {
    fn root(&self) -> NodeId {
        ROOT
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        Ok(self.node(node)?.stat)
    }

    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        let Kind::Dir { entries, parent } = &self.node(dir)?.kind else {
            return Err(Errno::NotDir);
        };
        match name {
            b"." | b"" => Ok(dir),
            b".." => Ok(*parent),
            _ => entries.get(name).copied().ok_or(Errno::NoEnt),
        }
    }

    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let data = match &self.node(node)?.kind {
            Kind::File(d) => d.clone(),
            Kind::Dir { .. } => return Err(Errno::IsDir),
            Kind::Symlink(_) => return Err(Errno::Inval),
            Kind::Special => return Err(Errno::OpNotSupp),
        };
        let want = usize::try_from(data.size.saturating_sub(offset)).map_or(len, |r| r.min(len));
        let source = self.source.as_mut().ok_or(Errno::Io)?;
        let mut out = vec![0u8; want];
        let mut done = 0;
        while done < want {
            let end = want.min(done + READ_CHUNK);
            let n = data.read(source, offset + done as u64, &mut out[done..end])?;
            if n == 0 {
                break;
            }
            done += n;
        }
        out.truncate(done);
        Ok(out)
    }

    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        let Kind::Dir { entries, parent } = &self.node(dir)?.kind else {
            return Err(Errno::NotDir);
        };
        let mut out = vec![
            DirEntry {
                ino: dir,
                kind: S_IFDIR,
                name: ".".into(),
            },
            DirEntry {
                ino: *parent,
                kind: S_IFDIR,
                name: "..".into(),
            },
        ];
        for (name, n) in entries {
            let kind = self.nodes.get(n).map_or(S_IFREG, |x| x.stat.mode & S_IFMT);
            out.push(DirEntry {
                ino: *n,
                kind,
                name: Name::from(&name[..]),
            });
        }
        Ok(out)
    }

    fn readlink(&mut self, node: NodeId) -> Result<Vec<u8>, Errno> {
        match &self.node(node)?.kind {
            Kind::Symlink(t) => Ok(t.to_vec()),
            _ => Err(Errno::Inval),
        }
    }
}

/// An archive read through `io_read` on a file port (the node a translator
/// sits on), in chunks a message carries. Dropping it releases the port.
pub struct NodeSource<I: UserIpc> {
    ipc: I,
    node: PortName,
}

impl<I: UserIpc> NodeSource<I> {
    /// Reads `node` (a send right, moved in) through `ipc`.
    pub fn new(ipc: I, node: PortName) -> NodeSource<I> {
        NodeSource { ipc, node }
    }
}

impl<I: UserIpc> Drop for NodeSource<I> {
    fn drop(&mut self) {
        if self.node.is_valid() {
            let _ = self.ipc.port_deallocate(self.node);
        }
    }
}

impl<I: UserIpc> Source for NodeSource<I> {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let io = crate::protocol::io::Client::new(&self.ipc, self.node);
        let mut done = 0;
        while done < buf.len() {
            let at = i64::try_from(offset + done as u64).map_err(|_| Errno::Inval)?;
            let want = (buf.len() - done).min(READ_CHUNK);
            let chunk = io
                .read(at, want as u64)
                .map_err(|e| Errno::of(e).unwrap_or(Errno::Io))?;
            if chunk.is_empty() {
                break;
            }
            let n = chunk.len().min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&chunk[..n]);
            done += n;
        }
        Ok(done)
    }

    fn archive_size(&mut self) -> Option<u64> {
        let io = crate::protocol::io::Client::new(&self.ipc, self.node);
        io.stat().ok().map(|s| s.size)
    }
}

/// Builds archives for tests, examples and benchmarks.
pub mod build {
    use alloc::vec::Vec;

    use crate::tar::{Header, Writer};

    /// One ustar header block as given, unchecked (for making hostile
    /// archives): `name` and `link` cut to 100 bytes, mode 0644 (0755 for
    /// a directory), checksum set.
    pub fn header(name: &str, typeflag: u8, size: u64, link: &str) -> [u8; 512] {
        crate::tar::raw_header(name.as_bytes(), typeflag, size, link.as_bytes())
    }

    /// An archive builder (entries owned by root, mode 0644 or 0755).
    #[derive(Default)]
    pub struct Builder {
        w: Writer,
    }

    impl Builder {
        fn with(mut self, h: &Header, data: &[u8]) -> Self {
            // Every entry a builder makes is writable.
            let _ = self.w.append(h, data);
            self
        }
        /// A regular file.
        pub fn file(self, name: &str, data: &[u8]) -> Self {
            self.with(&Header::file(name, 0o644), data)
        }
        /// A directory.
        pub fn dir(self, name: &str) -> Self {
            self.with(&Header::dir(name, 0o755), b"")
        }
        /// A symlink.
        pub fn symlink(self, name: &str, target: &str) -> Self {
            self.with(&Header::symlink(name, target), b"")
        }
        /// A hard link to an earlier entry.
        pub fn hardlink(self, name: &str, target: &str) -> Self {
            self.with(&Header::hard_link(name, target), b"")
        }
        /// The archive, with its two end blocks.
        pub fn finish(self) -> Vec<u8> {
            self.w.finish()
        }
    }
}
