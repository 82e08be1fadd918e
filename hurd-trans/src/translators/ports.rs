//! Directories reached through ports: what union and shadow are built on.
//! A [`Dir`] is a send right to a directory of some file system; paths are
//! looked up under it with the retry protocol (absolute symlinks lead back
//! to the directory itself).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use hurd_ipc::Errno;
use hurd_ipc::{Error, PortName, UserIpc};

use crate::flags::OpenFlags;
use crate::lookup::Lookup;
use crate::name::Name;
use crate::netfs::{DirEntry, NodeId, decode_entries};
use crate::protocol::{fs, io};
use crate::stat::Stat;
use crate::transbox::{InitDirs, symlink_target};

/// The most [`Dir::read_all`] reads: 64 MiB (as ext2's `MAX_READ`).
pub const READ_ALL_MAX: usize = 64 << 20;

/// The most one `io_read` asks for when a whole file is read.
pub(crate) const READ_CHUNK: usize = 1 << 20;

/// Up to `len` bytes at `offset` through `io`. An answer longer than the
/// question is refused, as glibc's `read` refuses it from a bogus server.
///
/// # Errors
///
/// The server's `errno`; `EGRATUITOUS` for more than `len` bytes.
pub(crate) fn read_at<I: UserIpc + ?Sized>(
    io: &io::Client<'_, I>,
    offset: i64,
    len: usize,
) -> Result<Vec<u8>, Errno> {
    let data = io.read(offset, len as u64).map_err(to_errno)?;
    if data.len() > len {
        return Err(Errno::Gratuitous);
    }
    Ok(data)
}

/// An error from another server, as an errno (Mach errors become `EIO`).
pub fn to_errno(e: Error) -> Errno {
    Errno::of(e).unwrap_or(Errno::Io)
}

/// Opens each of `paths` as a directory for reading, with `auth`'s ids:
/// absolute names under `dirs.crdir`, relative ones under `dirs.cwdir`
/// (`ENOENT` without the directory). On error, nothing stays open.
///
/// # Errors
///
/// `ENOENT` without the directory a path needs, or the first failed
/// open; what was opened is released.
pub fn open_dirs<I: UserIpc + ?Sized>(
    ipc: &I,
    dirs: InitDirs,
    auth: PortName,
    paths: &[String],
) -> Result<Vec<Dir>, Errno> {
    let lk = Lookup {
        ipc,
        crdir: dirs.crdir,
        cwdir: dirs.cwdir,
        auth,
        fds: &[],
        ctty: PortName::NULL,
    };
    let mut out: Vec<Dir> = Vec::new();
    for path in paths {
        let start = if path.starts_with('/') {
            dirs.crdir
        } else {
            dirs.cwdir
        };
        let opened = if path.is_empty() || !start.is_valid() {
            Err(Errno::NoEnt)
        } else {
            lk.open(path, OpenFlags::READ | OpenFlags::DIRECTORY, 0)
                .map_err(to_errno)
        };
        match opened {
            Ok(port) => out.push(Dir { port, auth }),
            Err(e) => {
                for d in out {
                    let _ = ipc.port_deallocate(d.port);
                }
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// A directory port with the identity to look things up under it.
#[derive(Clone, Copy, Debug)]
pub struct Dir {
    /// The directory (a send right, borrowed).
    pub port: PortName,
    /// The auth handle used to reauthenticate.
    pub auth: PortName,
}

/// A port that is deallocated when dropped.
pub struct Held<'a, I: UserIpc + ?Sized> {
    ipc: &'a I,
    /// The send right.
    pub port: PortName,
}

impl<I: UserIpc + ?Sized> Drop for Held<'_, I> {
    fn drop(&mut self) {
        let _ = self.ipc.port_deallocate(self.port);
    }
}

impl Dir {
    /// Opens `path` (relative; "" is the directory itself) with `flags`.
    ///
    /// # Errors
    ///
    /// The server's `errno` for the lookup (`ENOENT`, `EACCES`).
    pub fn open<'a, I: UserIpc + ?Sized>(
        &self,
        ipc: &'a I,
        path: &[u8],
        flags: OpenFlags,
    ) -> Result<Held<'a, I>, Errno> {
        let lk = Lookup {
            ipc,
            crdir: self.port,
            cwdir: self.port,
            auth: self.auth,
            fds: &[],
            ctty: PortName::NULL,
        };
        let port = if path.is_empty() {
            lk.open_under(self.port, b".", flags, 0o644)
        } else {
            lk.open_under(self.port, path, flags, 0o644)
        }
        .map_err(to_errno)?;
        Ok(Held { ipc, port })
    }

    /// The status of `path` (a symlink's own, not its target's).
    ///
    /// # Errors
    ///
    /// The server's `errno`.
    pub fn stat<I: UserIpc + ?Sized>(&self, ipc: &I, path: &[u8]) -> Result<Stat, Errno> {
        let p = self.open(ipc, path, OpenFlags::NOLINK)?;
        io::Client::new(ipc, p.port).stat().map_err(to_errno)
    }

    /// Up to `len` bytes of `path` at `offset`.
    ///
    /// # Errors
    ///
    /// The server's `errno`; `EGRATUITOUS` when it answers more than `len`
    /// bytes.
    pub fn read<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        path: &[u8],
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, Errno> {
        let p = self.open(ipc, path, OpenFlags::READ)?;
        let off = i64::try_from(offset).map_err(|_| Errno::Inval)?;
        read_at(&io::Client::new(ipc, p.port), off, len)
    }

    /// The whole of `path`, at most [`READ_ALL_MAX`] bytes.
    ///
    /// # Errors
    ///
    /// The server's `errno`; `EFBIG` past [`READ_ALL_MAX`] (a file whose
    /// reads never end, such as `/dev/zero`); `EGRATUITOUS` when the server
    /// answers more than was asked.
    pub fn read_all<I: UserIpc + ?Sized>(&self, ipc: &I, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let p = self.open(ipc, path, OpenFlags::READ)?;
        let c = io::Client::new(ipc, p.port);
        let mut out = Vec::new();
        loop {
            let at = i64::try_from(out.len()).map_err(|_| Errno::FBig)?;
            let chunk = read_at(&c, at, READ_CHUNK)?;
            if chunk.is_empty() {
                return Ok(out);
            }
            if out.len() + chunk.len() > READ_ALL_MAX {
                return Err(Errno::FBig);
            }
            out.extend_from_slice(&chunk);
        }
    }

    /// The entries of directory `path`, without "." and "..".
    ///
    /// # Errors
    ///
    /// The server's `errno`; `EGRATUITOUS` for a malformed listing.
    pub fn readdir<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        path: &[u8],
    ) -> Result<Vec<DirEntry>, Errno> {
        let p = self.open(ipc, path, OpenFlags::READ | OpenFlags::DIRECTORY)?;
        let (data, _) = fs::Client::new(ipc, p.port)
            .dir_readdir(0, -1, 0)
            .map_err(to_errno)?;
        let mut e = decode_entries(&data)?;
        e.retain(|e| e.name != "." && e.name != "..");
        Ok(e)
    }

    /// A symlink's target.
    ///
    /// # Errors
    ///
    /// The server's `errno`; `EINVAL` for a node that is no symlink.
    pub fn readlink<I: UserIpc + ?Sized>(&self, ipc: &I, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let p = self.open(ipc, path, OpenFlags::NOLINK)?;
        let argz = fs::Client::new(ipc, p.port)
            .file_get_translator()
            .map_err(to_errno)?;
        symlink_target(&argz)
            .map(<[u8]>::to_vec)
            .ok_or(Errno::Inval)
    }
}

/// Joins a directory path and a name.
pub fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !dir.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// The parent path and last name of a non-empty path.
pub fn split(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&c| c == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (b"", path),
    }
}

/// Node numbers for paths: the root ("") is 1.
#[derive(Default)]
pub struct PathIds {
    by_path: BTreeMap<Vec<u8>, NodeId>,
    by_id: BTreeMap<NodeId, Vec<u8>>,
    last: NodeId,
}

impl PathIds {
    /// The root.
    pub const ROOT: NodeId = 1;

    /// An empty table holding the root.
    pub fn new() -> PathIds {
        let mut t = PathIds::default();
        t.by_path.insert(Vec::new(), Self::ROOT);
        t.by_id.insert(Self::ROOT, Vec::new());
        t.last = Self::ROOT;
        t
    }

    /// A directory listing: `.` and `..` (both numbered `dir`), then each of
    /// `names` (name and file type) under `path`, numbered by its path.
    pub fn listing(
        &mut self,
        dir: NodeId,
        path: &[u8],
        names: BTreeMap<Name, u32>,
    ) -> Vec<DirEntry> {
        let mut out = alloc::vec![
            DirEntry {
                ino: dir,
                kind: crate::mode::S_IFDIR,
                name: ".".into()
            },
            DirEntry {
                ino: dir,
                kind: crate::mode::S_IFDIR,
                name: "..".into()
            },
        ];
        for (name, kind) in names {
            let ino = self.id(&join(path, name.as_bytes()));
            out.push(DirEntry { ino, kind, name });
        }
        out
    }

    /// The number of `path`, made on first use.
    pub fn id(&mut self, path: &[u8]) -> NodeId {
        if let Some(&n) = self.by_path.get(path) {
            return n;
        }
        self.last += 1;
        let n = self.last;
        self.by_path.insert(path.to_vec(), n);
        self.by_id.insert(n, path.to_vec());
        n
    }

    /// Records that `old` (and everything below it) is now `new`; whatever
    /// `new` named before is forgotten.
    pub fn rename(&mut self, old: &[u8], new: &[u8]) {
        let under = |p: &[u8], base: &[u8]| {
            p == base || (p.len() > base.len() && p.starts_with(base) && p[base.len()] == b'/')
        };
        let stale: Vec<Vec<u8>> = self
            .by_path
            .keys()
            .filter(|p| under(p, new))
            .cloned()
            .collect();
        for p in stale {
            if let Some(id) = self.by_path.remove(&p) {
                self.by_id.remove(&id);
            }
        }
        let moving: Vec<(Vec<u8>, NodeId)> = self
            .by_path
            .iter()
            .filter(|(p, _)| under(p, old))
            .map(|(p, id)| (p.clone(), *id))
            .collect();
        for (p, id) in moving {
            let mut moved = new.to_vec();
            moved.extend_from_slice(&p[old.len()..]);
            self.by_path.remove(&p);
            self.by_path.insert(moved.clone(), id);
            self.by_id.insert(id, moved);
        }
    }

    /// The path of a node.
    ///
    /// # Errors
    ///
    /// `ENOENT` for a node with no known path.
    pub fn path(&self, node: NodeId) -> Result<&[u8], Errno> {
        self.by_id.get(&node).map(Vec::as_slice).ok_or(Errno::NoEnt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_moves_subtrees_and_forgets_the_target() {
        let mut t = PathIds::new();
        let a = t.id(b"a");
        let ab = t.id(b"a/b");
        let ax = t.id(b"ax");
        let c = t.id(b"c");
        t.rename(b"a", b"c");
        assert_eq!(t.path(a), Ok(&b"c"[..]));
        assert_eq!(t.path(ab), Ok(&b"c/b"[..]));
        assert_eq!(t.path(ax), Ok(&b"ax"[..]));
        assert_eq!(t.path(c), Err(Errno::NoEnt));
        assert_eq!(t.id(b"c"), a);
        assert_ne!(t.id(b"a"), a);
    }
}
