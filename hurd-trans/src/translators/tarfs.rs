//! `tarfs`: a tar archive (ustar, with GNU long names and pax `path` /
//! `linkpath` records) as a read-only directory tree.
//!
//! Archives are untrusted. Parsing checks every header (checksum, octal
//! fields, sizes against the archive's length) and every name (no ".."
//! components, nothing below a file, bounded length and count); anything
//! wrong makes the whole archive unusable with `EFTYPE` — never a panic.
//! File data is not copied: nodes point into the archive.
//!
//! Rules for odd but well-formed archives: leading "/" and "./" are dropped;
//! directories a name implies are made; a later entry replaces an earlier
//! file of the same name (as extracting would), but a directory holding
//! entries cannot be replaced; hard links must name an earlier file;
//! device, FIFO and unknown entries are skipped; global pax headers are
//! ignored.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use hurd_ipc::Errno;

use crate::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::netfs::{DirEntry, NodeId, Tree};
use crate::stat::{Stat, TimeSpec};

/// The most entries an archive may make.
pub const MAX_NODES: usize = 1 << 20;
/// The longest path in an archive.
pub const MAX_PATH: usize = 4096;

const BLOCK: usize = 512;
const ROOT: NodeId = 1;

enum Kind {
    Dir {
        entries: BTreeMap<String, NodeId>,
        parent: NodeId,
    },
    /// Data at `offset..offset + len` of the archive.
    File {
        offset: usize,
        len: usize,
    },
    Symlink(String),
}

struct Node {
    stat: Stat,
    kind: Kind,
}

/// A parsed archive.
pub struct Tarfs {
    archive: Vec<u8>,
    nodes: BTreeMap<NodeId, Node>,
    next: NodeId,
    /// Set when the archive could not be parsed: every call fails with it.
    broken: Option<Errno>,
}

/// One header, decoded.
struct Header {
    name: String,
    mode: u32,
    uid: u32,
    gid: u32,
    size: usize,
    mtime: i64,
    typeflag: u8,
    linkname: String,
}

fn field(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

fn text(b: &[u8]) -> Result<String, Errno> {
    core::str::from_utf8(field(b))
        .map(String::from)
        .map_err(|_| Errno::FType)
}

/// An octal number field (or GNU base-256 when the high bit is set).
fn number(b: &[u8]) -> Result<u64, Errno> {
    if b.first().is_some_and(|&c| c & 0x80 != 0) {
        let mut v: u64 = u64::from(b[0] & 0x7f);
        for &c in &b[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(c)))
                .ok_or(Errno::FType)?;
        }
        return Ok(v);
    }
    let digits = field(b);
    let digits = digits
        .iter()
        .skip_while(|&&c| c == b' ')
        .take_while(|&&c| c != b' ')
        .copied();
    let mut v: u64 = 0;
    for c in digits {
        if !(b'0'..=b'7').contains(&c) {
            return Err(Errno::FType);
        }
        v = v
            .checked_mul(8)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or(Errno::FType)?;
    }
    Ok(v)
}

fn parse_header(h: &[u8]) -> Result<Header, Errno> {
    let stored = number(&h[148..156])?;
    let unsigned: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &c)| u64::from(if (148..156).contains(&i) { b' ' } else { c }))
        .sum();
    let signed: i64 = h
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            i64::from(if (148..156).contains(&i) {
                b' ' as i8
            } else {
                c as i8
            })
        })
        .sum();
    if stored != unsigned && stored as i64 != signed {
        return Err(Errno::FType);
    }
    let mut name = text(&h[0..100])?;
    if &h[257..262] == b"ustar" {
        let prefix = text(&h[345..500])?;
        if !prefix.is_empty() {
            name = alloc::format!("{prefix}/{name}");
        }
    }
    let size = usize::try_from(number(&h[124..136])?).map_err(|_| Errno::FType)?;
    Ok(Header {
        name,
        mode: u32::try_from(number(&h[100..108])? & 0o7777).map_err(|_| Errno::FType)?,
        uid: u32::try_from(number(&h[108..116])?).map_err(|_| Errno::FType)?,
        gid: u32::try_from(number(&h[116..124])?).map_err(|_| Errno::FType)?,
        size,
        mtime: i64::try_from(number(&h[136..148])?).map_err(|_| Errno::FType)?,
        typeflag: h[156],
        linkname: text(&h[157..257])?,
    })
}

/// The components of an archive path; `EFTYPE` for ".." or an overlong path.
fn components(path: &str) -> Result<Vec<&str>, Errno> {
    if path.len() > MAX_PATH {
        return Err(Errno::FType);
    }
    let mut out = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(Errno::FType),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Pax extended header records: "LEN key=value\n"...
fn pax_records(data: &[u8]) -> Result<Vec<(String, String)>, Errno> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&c| c == b' ').ok_or(Errno::FType)?;
        let len: usize = core::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::FType)?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(Errno::FType);
        }
        let rec = core::str::from_utf8(&rest[sp + 1..len - 1]).map_err(|_| Errno::FType)?;
        let (k, v) = rec.split_once('=').ok_or(Errno::FType)?;
        out.push((k.into(), v.into()));
        rest = &rest[len..];
    }
    Ok(out)
}

impl Tarfs {
    /// Parses `archive`. A bad archive is an `Err(EFTYPE)`.
    pub fn parse(archive: Vec<u8>) -> Result<Tarfs, Errno> {
        let mut t = Tarfs::empty(0, 0);
        t.archive = archive;
        t.load()?;
        Ok(t)
    }

    /// Parses `archive`; a bad one gives a file system whose every call
    /// fails with the error (so a translator can start and say why).
    pub fn parse_or_broken(archive: Vec<u8>) -> Tarfs {
        match Tarfs::parse(archive) {
            Ok(t) => t,
            Err(e) => {
                let mut t = Tarfs::empty(0, 0);
                t.broken = Some(e);
                t
            }
        }
    }

    /// An empty archive: a root directory owned by `uid`/`gid`.
    pub fn empty(uid: u32, gid: u32) -> Tarfs {
        let mut nodes = BTreeMap::new();
        nodes.insert(ROOT, Tarfs::dir_node(ROOT, ROOT, 0o755, uid, gid, 0));
        Tarfs {
            archive: Vec::new(),
            nodes,
            next: ROOT + 1,
            broken: None,
        }
    }

    fn dir_node(ino: NodeId, parent: NodeId, mode: u32, uid: u32, gid: u32, mtime: i64) -> Node {
        Node {
            stat: Stat {
                ino,
                mode: S_IFDIR | mode,
                nlink: 2,
                uid,
                gid,
                author: uid,
                blksize: 4096,
                mtime: TimeSpec {
                    sec: mtime,
                    nsec: 0,
                },
                ..Stat::default()
            },
            kind: Kind::Dir {
                entries: BTreeMap::new(),
                parent,
            },
        }
    }

    fn entries(&mut self, dir: NodeId) -> Result<&mut BTreeMap<String, NodeId>, Errno> {
        match self.nodes.get_mut(&dir).map(|n| &mut n.kind) {
            Some(Kind::Dir { entries, .. }) => Ok(entries),
            _ => Err(Errno::FType),
        }
    }

    fn alloc(&mut self) -> Result<NodeId, Errno> {
        if self.nodes.len() >= MAX_NODES {
            return Err(Errno::FType);
        }
        let id = self.next;
        self.next += 1;
        Ok(id)
    }

    /// The directory for `parts`, made as needed.
    fn make_dirs(&mut self, parts: &[&str], uid: u32, gid: u32) -> Result<NodeId, Errno> {
        let mut dir = ROOT;
        for p in parts {
            dir = match self.entries(dir)?.get(*p).copied() {
                Some(n) => match self.nodes.get(&n).map(|x| &x.kind) {
                    Some(Kind::Dir { .. }) => n,
                    _ => return Err(Errno::FType),
                },
                None => {
                    let id = self.alloc()?;
                    self.nodes
                        .insert(id, Tarfs::dir_node(id, dir, 0o755, uid, gid, 0));
                    self.entries(dir)?.insert((*p).into(), id);
                    id
                }
            };
        }
        Ok(dir)
    }

    fn resolve(&self, parts: &[&str]) -> Option<NodeId> {
        let mut n = ROOT;
        for p in parts {
            match &self.nodes.get(&n)?.kind {
                Kind::Dir { entries, .. } => n = *entries.get(*p)?,
                _ => return None,
            }
        }
        Some(n)
    }

    fn insert(&mut self, h: &Header, kind: Kind) -> Result<(), Errno> {
        let parts = components(&h.name)?;
        let is_dir = matches!(kind, Kind::Dir { .. });
        let Some((last, parents)) = parts.split_last() else {
            // The root itself: only a directory may name it.
            return if is_dir { Ok(()) } else { Err(Errno::FType) };
        };
        let dir = self.make_dirs(parents, h.uid, h.gid)?;
        if let Some(old) = self.entries(dir)?.get(*last).copied() {
            match (&self.nodes.get(&old).ok_or(Errno::FType)?.kind, is_dir) {
                (Kind::Dir { .. }, true) => {
                    // A directory entry for an existing directory: its attributes.
                    if let Some(n) = self.nodes.get_mut(&old) {
                        n.stat.mode = S_IFDIR | h.mode;
                        n.stat.uid = h.uid;
                        n.stat.gid = h.gid;
                        n.stat.mtime.sec = h.mtime;
                    }
                    return Ok(());
                }
                (Kind::Dir { entries, .. }, false) if !entries.is_empty() => {
                    return Err(Errno::FType);
                }
                _ => {}
            }
        }
        let id = self.alloc()?;
        let (mode, size) = match &kind {
            Kind::Dir { .. } => (S_IFDIR | h.mode, 0),
            Kind::File { len, .. } => (S_IFREG | h.mode, *len as u64),
            Kind::Symlink(t) => (S_IFLNK | 0o777, t.len() as u64),
        };
        let kind = match kind {
            Kind::Dir { entries, .. } => Kind::Dir {
                entries,
                parent: dir,
            },
            k => k,
        };
        self.nodes.insert(
            id,
            Node {
                stat: Stat {
                    ino: id,
                    mode,
                    nlink: if is_dir { 2 } else { 1 },
                    uid: h.uid,
                    gid: h.gid,
                    author: h.uid,
                    size,
                    blocks: size.div_ceil(512),
                    blksize: 4096,
                    mtime: TimeSpec {
                        sec: h.mtime,
                        nsec: 0,
                    },
                    ..Stat::default()
                },
                kind,
            },
        );
        self.entries(dir)?.insert((*last).into(), id);
        Ok(())
    }

    fn load(&mut self) -> Result<(), Errno> {
        let mut at = 0usize;
        let mut long_name: Option<String> = None;
        let mut long_link: Option<String> = None;
        loop {
            let Some(block) = self.archive.get(at..at + BLOCK) else {
                // End of data without the end blocks: accept only at a block
                // boundary with nothing pending.
                if at == self.archive.len() && long_name.is_none() && long_link.is_none() {
                    return Ok(());
                }
                return Err(Errno::FType);
            };
            if block.iter().all(|&b| b == 0) {
                return Ok(());
            }
            let mut h = parse_header(block)?;
            let data_start = at + BLOCK;
            let data_end = data_start.checked_add(h.size).ok_or(Errno::FType)?;
            if data_end > self.archive.len() {
                return Err(Errno::FType);
            }
            let next = data_start
                .checked_add(h.size.div_ceil(BLOCK) * BLOCK)
                .ok_or(Errno::FType)?;
            let data = &self.archive[data_start..data_end];
            match h.typeflag {
                b'L' | b'K' => {
                    if h.size > MAX_PATH {
                        return Err(Errno::FType);
                    }
                    let s = text(data)?;
                    if h.typeflag == b'L' {
                        long_name = Some(s);
                    } else {
                        long_link = Some(s);
                    }
                    at = next;
                    continue;
                }
                b'x' => {
                    for (k, v) in pax_records(data)? {
                        match k.as_str() {
                            "path" => long_name = Some(v),
                            "linkpath" => long_link = Some(v),
                            _ => {}
                        }
                    }
                    at = next;
                    continue;
                }
                b'g' => {
                    at = next;
                    continue;
                }
                _ => {}
            }
            if let Some(n) = long_name.take() {
                h.name = n;
            }
            if let Some(l) = long_link.take() {
                h.linkname = l;
            }
            match h.typeflag {
                b'0' | 0 | b'7' => {
                    // A trailing slash on an old-style entry means a directory.
                    let kind = if h.typeflag == 0 && h.name.ends_with('/') {
                        Kind::Dir {
                            entries: BTreeMap::new(),
                            parent: ROOT,
                        }
                    } else {
                        Kind::File {
                            offset: data_start,
                            len: h.size,
                        }
                    };
                    self.insert(&h, kind)?;
                }
                b'5' => self.insert(
                    &h,
                    Kind::Dir {
                        entries: BTreeMap::new(),
                        parent: ROOT,
                    },
                )?,
                b'2' => {
                    if h.linkname.is_empty() || h.linkname.len() > MAX_PATH {
                        return Err(Errno::FType);
                    }
                    self.insert(&h, Kind::Symlink(h.linkname.clone()))?;
                }
                b'1' => {
                    let target = self
                        .resolve(&components(&h.linkname)?)
                        .ok_or(Errno::FType)?;
                    let (offset, len) = match self.nodes.get(&target).map(|n| &n.kind) {
                        Some(Kind::File { offset, len }) => (*offset, *len),
                        _ => return Err(Errno::FType),
                    };
                    self.insert(&h, Kind::File { offset, len })?;
                }
                // Devices, FIFOs, contiguous files' kin and unknown types.
                _ => {}
            }
            at = next;
        }
    }

    fn node(&self, n: NodeId) -> Result<&Node, Errno> {
        if let Some(e) = self.broken {
            return Err(e);
        }
        self.nodes.get(&n).ok_or(Errno::NoEnt)
    }
}

impl Tree for Tarfs {
    fn root(&self) -> NodeId {
        ROOT
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        Ok(self.node(node)?.stat)
    }

    fn lookup(&mut self, dir: NodeId, name: &str) -> Result<NodeId, Errno> {
        match &self.node(dir)?.kind {
            Kind::Dir { parent, .. } if name == ".." => Ok(*parent),
            Kind::Dir { entries, .. } => entries.get(name).copied().ok_or(Errno::NoEnt),
            _ => Err(Errno::NotDir),
        }
    }

    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        match &self.node(node)?.kind {
            Kind::File { offset: o, len: l } => {
                let start = usize::try_from(offset).map_or(*l, |x| x.min(*l));
                let end = start.saturating_add(len).min(*l);
                Ok(self
                    .archive
                    .get(o + start..o + end)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default())
            }
            Kind::Dir { .. } => Err(Errno::IsDir),
            Kind::Symlink(_) => Err(Errno::Inval),
        }
    }

    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        let Kind::Dir { entries, parent } = &self.node(dir)?.kind else {
            return Err(Errno::NotDir);
        };
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
}

/// Builds archives (for tests, examples and benchmarks): ustar entries.
pub mod build {
    use alloc::vec::Vec;

    fn octal(out: &mut [u8], v: u64) {
        let w = out.len() - 1;
        let s = alloc::format!("{v:0w$o}");
        let b = s.as_bytes();
        let b = &b[b.len().saturating_sub(w)..];
        out[..b.len()].copy_from_slice(b);
        out[w] = 0;
    }

    /// One header block for `name` (at most 100 bytes) of `typeflag`.
    pub fn header(name: &str, typeflag: u8, size: u64, link: &str) -> [u8; 512] {
        let mut h = [0u8; 512];
        let n = name.as_bytes();
        h[..n.len().min(100)].copy_from_slice(&n[..n.len().min(100)]);
        octal(
            &mut h[100..108],
            if typeflag == b'5' { 0o755 } else { 0o644 },
        );
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], 0);
        h[156] = typeflag;
        let l = link.as_bytes();
        h[157..157 + l.len().min(100)].copy_from_slice(&l[..l.len().min(100)]);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        octal(&mut h[148..155], sum);
        h[155] = b' ';
        h
    }

    /// An archive builder.
    #[derive(Default)]
    pub struct Builder {
        out: Vec<u8>,
    }

    impl Builder {
        /// A regular file.
        pub fn file(mut self, name: &str, data: &[u8]) -> Self {
            self.out
                .extend_from_slice(&header(name, b'0', data.len() as u64, ""));
            self.out.extend_from_slice(data);
            let pad = data.len().next_multiple_of(512) - data.len();
            self.out.resize(self.out.len() + pad, 0);
            self
        }
        /// A directory.
        pub fn dir(mut self, name: &str) -> Self {
            self.out.extend_from_slice(&header(name, b'5', 0, ""));
            self
        }
        /// A symlink.
        pub fn symlink(mut self, name: &str, target: &str) -> Self {
            self.out.extend_from_slice(&header(name, b'2', 0, target));
            self
        }
        /// A hard link to an earlier entry.
        pub fn hardlink(mut self, name: &str, target: &str) -> Self {
            self.out.extend_from_slice(&header(name, b'1', 0, target));
            self
        }
        /// The archive, with its two end blocks.
        pub fn finish(mut self) -> Vec<u8> {
            self.out.resize(self.out.len() + 1024, 0);
            self.out
        }
    }
}
