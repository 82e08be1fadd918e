//! The FUSE bridge: a translator built with this crate, mounted on Linux.
//!
//! [`Bridge`] is a FUSE file system that is a *client* of a translator's
//! root directory port: every FUSE request becomes `dir_lookup`, `io_read`,
//! `io_write`, `dir_readdir`... on that port, so anything speaking the
//! protocols can be mounted. [`spawn_mount`] does the whole set-up in one
//! process: hurd-ipc's hosted runtime, an auth server, the translator served
//! by [`NetFs`](crate::netfs::NetFs), and the FUSE session.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io as stdio;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    FileAttr, FileType, Filesystem, MountOption, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
};
use hurd_auth::{AuthServer, IdSet, Limits, StdClock};
use hurd_ipc::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::user::SendRight;
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};

use crate::flags::{
    FS_TRANS_SET, FSYS_GOAWAY_FORCE, HURD_BLKDEV, HURD_CHRDEV, HURD_FIFO, HURD_IFSOCK,
    HURD_SYMLINK, OpenFlags,
};
use crate::lookup::Lookup;
use crate::mode::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK};
use crate::netfs::{self, Options, Tree, decode_entries};
use crate::protocol::{fs, fsys, io};
use crate::stat::{Stat, TimeSpec};
use crate::transbox::{argv_to_argz, argz_to_argv};
use crate::translators::ports::to_errno;

const TTL: Duration = Duration::from_secs(1);

fn err(e: Error) -> i32 {
    to_errno(e).linux()
}

fn time(t: TimeSpec) -> SystemTime {
    let whole = Duration::from_secs(t.sec.unsigned_abs());
    let at = if t.sec >= 0 {
        UNIX_EPOCH.checked_add(whole)
    } else {
        // Before 1970 (an archive's old files).
        UNIX_EPOCH.checked_sub(whole)
    };
    at.and_then(|a| a.checked_add(Duration::from_nanos(u64::from(t.nsec))))
        .unwrap_or(UNIX_EPOCH)
}

fn kind(mode: u32) -> FileType {
    match mode & S_IFMT {
        S_IFDIR => FileType::Directory,
        S_IFLNK => FileType::Symlink,
        S_IFCHR => FileType::CharDevice,
        S_IFBLK => FileType::BlockDevice,
        S_IFIFO => FileType::NamedPipe,
        S_IFSOCK => FileType::Socket,
        _ => FileType::RegularFile,
    }
}

fn attr(ino: u64, s: &Stat) -> FileAttr {
    FileAttr {
        ino,
        size: s.size,
        blocks: s.blocks,
        atime: time(s.atime),
        mtime: time(s.mtime),
        ctime: time(s.ctime),
        crtime: time(s.ctime),
        kind: kind(s.mode),
        perm: (s.mode & 0o7777) as u16,
        nlink: s.nlink,
        uid: s.uid,
        gid: s.gid,
        rdev: s.rdev,
        blksize: if s.blksize == 0 { 4096 } else { s.blksize },
        flags: 0,
    }
}

/// How files are opened: `FOPEN_DIRECT_IO`. The kernel keeps no pages of
/// the translator's files: every read and write goes to the translator, in
/// requests as large as the caller's (up to `max_pages`), so what other
/// clients of the translator change is seen at once. Private mappings
/// (executables) still work; shared ones are `ENODEV`.
const OPEN_FLAGS: u32 = fuser::consts::FOPEN_DIRECT_IO;

/// Up to `size` bytes at `offset` through `io_read`, asking again after a
/// short answer: FUSE takes a short read for the end of the file.
fn read_full(task: &Task, port: PortName, offset: i64, size: usize) -> Result<Vec<u8>, Error> {
    let io = io::Client::new(task, port);
    let mut data = io.read(offset, size as u64)?;
    while !data.is_empty() && data.len() < size {
        let at = offset.saturating_add(data.len() as i64);
        let more = io.read(at, (size - data.len()) as u64)?;
        if more.is_empty() {
            break;
        }
        data.extend_from_slice(&more);
    }
    Ok(data)
}

/// Who sent a FUSE request, as Linux checked it: the file-system user and
/// group ids and the supplementary groups.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Caller {
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
}

impl Caller {
    /// The sender of `req`; its supplementary groups are read from
    /// `/proc/PID/status` (none if the process is already gone).
    fn of(req: &Request<'_>) -> Caller {
        let groups = std::fs::read_to_string(format!("/proc/{}/status", req.pid()))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| l.strip_prefix("Groups:")).map(|g| {
                    g.split_whitespace()
                        .filter_map(|n| n.parse().ok())
                        .collect()
                })
            })
            .unwrap_or_default();
        Caller {
            uid: req.uid(),
            gid: req.gid(),
            groups,
        }
    }

    /// The group ids as the translator is given them: the effective group
    /// first, then the others.
    fn gids(&self) -> Vec<u32> {
        let mut g = vec![self.gid];
        g.extend(self.groups.iter().copied().filter(|x| *x != self.gid));
        g
    }
}

/// A port used for one request: one of the bridge's own, or one made for
/// the request's caller (released when dropped).
struct Held<'a> {
    name: PortName,
    _own: Option<SendRight<&'a Task>>,
}

/// A node the kernel knows: the port the bridge holds for it and how many
/// lookups the kernel has yet to forget.
struct Node {
    port: PortName,
    key: (u64, u64),
    lookups: u64,
}

/// Node ids from here up are the bridge's own, for nodes whose `st_ino`
/// is taken (by the root's id 1, or by a node of another file system).
const SYNTHETIC: u64 = 1 << 62;

/// An open file or directory.
enum Handle {
    /// A port opened with the file's open modes.
    File(PortName),
    /// A directory's entries, read when it was opened.
    Dir(Vec<(u64, FileType, String)>),
}

/// A FUSE file system forwarding to a translator's root directory.
///
/// Every node the kernel has looked up has a port the bridge holds until
/// the kernel forgets the node, as an open file on the Hurd holds its node:
/// requests about a node go to its port, requests about a name to its
/// directory's port, so no path is resolved twice and a rename moves
/// nothing in the bridge. There is one FUSE node per (`st_fsid`,
/// `st_ino`), so hard links are one node; its id (which Linux shows as
/// `st_ino`) is the translator's `st_ino` unless that is taken — by the
/// root, which FUSE numbers 1, or by a node of another file system below
/// the mount — when the bridge numbers it itself.
pub struct Bridge {
    task: Task,
    /// The user id of the ids the bridge's ports carry (the mounter's).
    mounter: u32,
    control: PortName,
    auth: PortName,
    nodes: BTreeMap<u64, Node>,
    ids: BTreeMap<(u64, u64), u64>,
    next_id: u64,
    handles: BTreeMap<u64, Handle>,
    next_fh: u64,
    /// Dropped with the bridge, after `destroy` has sent `fsys_goaway`:
    /// [`Mounted`]'s drop waits for that.
    gone: Option<mpsc::Sender<()>>,
}

impl Bridge {
    /// A bridge to the directory `root` (a send right in `task`'s space,
    /// which the bridge takes), reauthenticating with `auth` when a lookup
    /// asks for it.
    pub fn new(task: Task, root: PortName, auth: PortName) -> Bridge {
        let key = io::Client::new(&task, root)
            .stat()
            .map_or((0, 0), |s| (s.fsid, s.ino));
        let mut nodes = BTreeMap::new();
        nodes.insert(
            fuser::FUSE_ROOT_ID,
            Node {
                port: root,
                key,
                lookups: 1,
            },
        );
        let mut ids = BTreeMap::new();
        ids.insert(key, fuser::FUSE_ROOT_ID);
        Bridge {
            task,
            mounter: 0,
            control: PortName::NULL,
            auth,
            nodes,
            ids,
            next_id: SYNTHETIC,
            handles: BTreeMap::new(),
            next_fh: 1,
            gone: None,
        }
    }

    /// Gives the bridge the translator's control port (a send right in the
    /// bridge's task): `fsync` of a directory syncs the whole file system
    /// through it, and unmounting sends `fsys_goaway`, so the translator
    /// leaves its storage clean.
    pub fn with_control(mut self, control: PortName) -> Bridge {
        self.control = control;
        self
    }

    /// Says whose ids the bridge's ports carry: requests from `uid` are
    /// served with them as they are; other callers get ports restricted to
    /// their own ids (which takes a root mounter to grant).
    pub fn with_mounter(mut self, uid: u32) -> Bridge {
        self.mounter = uid;
        self
    }

    /// `port` as the caller of `req` would hold it: the bridge's own when
    /// the caller is the mounter, else a new port to the same open file
    /// with the caller's user and group ids (`io_restrict_auth`), so that
    /// the translator checks access, owns new nodes and clears set-id bits
    /// as for that user.
    fn as_caller(&self, req: &Request<'_>, port: PortName) -> Result<Held<'_>, i32> {
        if req.uid() == self.mounter && (self.mounter != 0 || req.gid() == 0) {
            return Ok(Held {
                name: port,
                _own: None,
            });
        }
        let c = Caller::of(req);
        let item = io::Client::new(&self.task, port)
            .restrict_auth(vec![c.uid], c.gids())
            .map_err(err)?;
        Ok(Held {
            name: item.name,
            _own: Some(SendRight::from_raw(&self.task, item.name)),
        })
    }

    /// Gives the new node `ino` (just made in `parent` for `req`) the group
    /// Linux gives it: the caller's, unless the directory is set-group-id
    /// (then the directory's, which the translator gave it).
    fn settle_group(&self, req: &Request<'_>, parent: u64, ino: u64, a: &mut FileAttr) {
        if a.gid == req.gid() {
            return;
        }
        let (Ok(dir), Ok(node)) = (self.port(parent), self.port(ino)) else {
            return;
        };
        let sgid = io::Client::new(&self.task, dir)
            .stat()
            .is_ok_and(|s| s.mode & crate::mode::S_ISGID != 0);
        if !sgid
            && fs::Client::new(&self.task, node)
                .file_chown(u32::MAX, req.gid())
                .is_ok()
            && let Ok(n) = self.stat_node(ino)
        {
            *a = n;
        }
    }

    fn lookup_ctx(&self, port: PortName) -> Lookup<'_, Task> {
        Lookup {
            ipc: &self.task,
            crdir: port,
            cwdir: port,
            auth: self.auth,
            fds: &[],
            ctty: PortName::NULL,
        }
    }

    /// The port of node `ino`.
    fn port(&self, ino: u64) -> Result<PortName, i32> {
        self.nodes.get(&ino).map(|n| n.port).ok_or(libc::ESTALE)
    }

    /// `name` under `dir` (one component, or "" for `dir` itself), opened
    /// with `flags`: a new send right.
    fn open_under(
        &self,
        dir: PortName,
        name: &str,
        flags: OpenFlags,
        mode: u32,
    ) -> Result<PortName, i32> {
        self.lookup_ctx(dir)
            .open_under(dir, name, flags, mode)
            .map_err(err)
    }

    /// Takes `port` (a node just looked up) as a node the kernel now knows
    /// once more; returns its node id and attributes.
    fn remember(&mut self, port: PortName) -> Result<(u64, FileAttr), i32> {
        let s = match io::Client::new(&self.task, port).stat() {
            Ok(s) => s,
            Err(e) => {
                let _ = self.task.port_deallocate(port);
                return Err(err(e));
            }
        };
        let key = (s.fsid, s.ino);
        let id = match self.ids.get(&key).copied() {
            Some(id) => {
                // Known already: keep the port held, drop the new one.
                let _ = self.task.port_deallocate(port);
                if let Some(n) = self.nodes.get_mut(&id) {
                    n.lookups += 1;
                }
                id
            }
            None => {
                // The translator's own number where it is free (so `st_ino`
                // is the translator's), else one of the bridge's.
                let id = if s.ino > fuser::FUSE_ROOT_ID
                    && s.ino < SYNTHETIC
                    && !self.nodes.contains_key(&s.ino)
                {
                    s.ino
                } else {
                    self.next_id += 1;
                    self.next_id
                };
                self.ids.insert(key, id);
                self.nodes.insert(
                    id,
                    Node {
                        port,
                        key,
                        lookups: 1,
                    },
                );
                id
            }
        };
        Ok((id, attr(id, &s)))
    }

    /// Looks `name` up in node `parent` for the kernel.
    fn lookup_node(&mut self, parent: u64, name: &OsStr) -> Result<(u64, FileAttr), i32> {
        let n = name.to_str().ok_or(libc::EINVAL)?;
        let dir = self.port(parent)?;
        let port = self.open_under(dir, n, OpenFlags::NOLINK, 0)?;
        self.remember(port)
    }

    fn stat_node(&self, ino: u64) -> Result<FileAttr, i32> {
        let s = io::Client::new(&self.task, self.port(ino)?)
            .stat()
            .map_err(err)?;
        Ok(attr(ino, &s))
    }

    /// Makes `name` in `parent` a node of a kind only a translator record
    /// stands for (a symlink, a device, a FIFO, a socket), as glibc does on
    /// the Hurd: `dir_mkfile`, `file_set_translator` with the record (the
    /// file system may keep it as a node of that kind), then `dir_link`.
    fn make_special(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        record: &[&str],
    ) -> Result<(u64, FileAttr), i32> {
        let n = name.to_str().ok_or(libc::EINVAL)?;
        let held = self.as_caller(req, self.port(parent)?)?;
        let dir = held.name;
        let file = fs::Client::new(&self.task, dir)
            .dir_mkfile(OpenFlags::WRITE.bits() as i32, mode & 0o7777)
            .map_err(err)?;
        let set = fs::Client::new(&self.task, file.name).file_set_translator(
            FS_TRANS_SET as i32,
            0,
            0,
            argv_to_argz(record),
            PortItem {
                disposition: Disposition::CopySend,
                name: PortName::NULL,
            },
        );
        let linked = set.and_then(|()| {
            fs::Client::new(&self.task, dir).dir_link(
                PortItem {
                    disposition: Disposition::CopySend,
                    name: file.name,
                },
                n.into(),
                1,
            )
        });
        let _ = self.task.port_deallocate(file.name);
        drop(held);
        linked.map_err(err)?;
        let (ino, mut a) = self.lookup_node(parent, name)?;
        self.settle_group(req, parent, ino, &mut a);
        Ok((ino, a))
    }

    fn access(flags: i32) -> OpenFlags {
        match flags & libc::O_ACCMODE {
            libc::O_WRONLY => OpenFlags::WRITE,
            libc::O_RDWR => OpenFlags::RDWR,
            _ => OpenFlags::READ,
        }
    }

    fn add_handle(&mut self, h: Handle) -> u64 {
        let fh = self.next_fh;
        self.next_fh += 1;
        self.handles.insert(fh, h);
        fh
    }

    fn file_port(&self, fh: u64) -> Result<PortName, i32> {
        match self.handles.get(&fh) {
            Some(Handle::File(p)) => Ok(*p),
            _ => Err(libc::EBADF),
        }
    }

    fn drop_handle(&mut self, fh: u64) {
        if let Some(Handle::File(p)) = self.handles.remove(&fh) {
            let _ = self.task.port_deallocate(p);
        }
    }

    /// A change through a fresh port to node `ino` opened with `flags`
    /// for `req`'s caller.
    fn with_open<R>(
        &self,
        req: &Request<'_>,
        ino: u64,
        flags: OpenFlags,
        f: impl FnOnce(PortName) -> Result<R, Error>,
    ) -> Result<R, i32> {
        let held = self.as_caller(req, self.port(ino)?)?;
        let p = self.open_under(held.name, "", flags | OpenFlags::NOLINK, 0)?;
        let r = f(p);
        let _ = self.task.port_deallocate(p);
        r.map_err(err)
    }
}

impl Filesystem for Bridge {
    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        match self.lookup_node(parent, name) {
            Ok((_, a)) => reply.entry(&TTL, &a, 0),
            Err(e) => reply.error(e),
        }
    }

    fn forget(&mut self, _req: &Request<'_>, ino: u64, nlookup: u64) {
        if ino == fuser::FUSE_ROOT_ID {
            return;
        }
        let gone = match self.nodes.get_mut(&ino) {
            Some(n) => {
                n.lookups = n.lookups.saturating_sub(nlookup);
                n.lookups == 0
            }
            None => false,
        };
        if gone && let Some(n) = self.nodes.remove(&ino) {
            self.ids.remove(&n.key);
            let _ = self.task.port_deallocate(n.port);
        }
    }

    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        match self.stat_node(ino) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &mut self,
        req: &Request<'_>,
        ino: u64,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        let r = (|| {
            if let Some(size) = size {
                let size = size as i64;
                // Through the open file if it is open for writing.
                match fh.map(|fh| self.file_port(fh)) {
                    Some(Ok(p)) if fs::Client::new(&self.task, p).file_set_size(size).is_ok() => {}
                    _ => self.with_open(req, ino, OpenFlags::WRITE, |p| {
                        fs::Client::new(&self.task, p).file_set_size(size)
                    })?,
                }
            }
            let held = self.as_caller(req, self.port(ino)?)?;
            let port = held.name;
            if let Some(mode) = mode {
                fs::Client::new(&self.task, port)
                    .file_chmod(mode & 0o7777)
                    .map_err(err)?;
            }
            if uid.is_some() || gid.is_some() {
                fs::Client::new(&self.task, port)
                    .file_chown(uid.unwrap_or(u32::MAX), gid.unwrap_or(u32::MAX))
                    .map_err(err)?;
            }
            if atime.is_some() || mtime.is_some() {
                // UTIME_OMIT is -1, UTIME_NOW -2: "now" is the translator's
                // clock, and the translator lets anyone who may write set it.
                let t = |t: Option<TimeOrNow>| match t {
                    None => (0, -1),
                    Some(TimeOrNow::Now) => (0, -2),
                    Some(TimeOrNow::SpecificTime(t)) => timespec(t),
                };
                let ((asec, ansec), (msec, mnsec)) = (t(atime), t(mtime));
                fs::Client::new(&self.task, port)
                    .file_utimens(asec, ansec, msec, mnsec)
                    .map_err(err)?;
            }
            drop(held);
            self.stat_node(ino)
        })();
        match r {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn readlink(&mut self, _req: &Request<'_>, ino: u64, reply: ReplyData) {
        let r = self.port(ino).and_then(|p| {
            let argz = fs::Client::new(&self.task, p)
                .file_get_translator()
                .map_err(err)?;
            match argz_to_argv(&argz).as_deref() {
                Some([prog, target]) if prog == HURD_SYMLINK => Ok(target.clone()),
                _ => Err(libc::EINVAL),
            }
        });
        match r {
            Ok(t) => reply.data(t.as_bytes()),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let r = (|| {
            let n = name.to_str().ok_or(libc::EINVAL)?;
            let dir = self.as_caller(req, self.port(parent)?)?;
            fs::Client::new(&self.task, dir.name)
                .dir_mkdir(n.into(), mode & !umask & 0o7777)
                .map_err(err)?;
            drop(dir);
            let (ino, mut a) = self.lookup_node(parent, name)?;
            self.settle_group(req, parent, ino, &mut a);
            Ok((ino, a))
        })();
        match r {
            Ok((_, a)) => reply.entry(&TTL, &a, 0),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&mut self, req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let r = (|| {
            let dir = self.as_caller(req, self.port(parent)?)?;
            let n = name.to_str().ok_or(libc::EINVAL)?;
            fs::Client::new(&self.task, dir.name)
                .dir_unlink(n.into())
                .map_err(err)
        })();
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&mut self, req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let r = (|| {
            let dir = self.as_caller(req, self.port(parent)?)?;
            let n = name.to_str().ok_or(libc::EINVAL)?;
            fs::Client::new(&self.task, dir.name)
                .dir_rmdir(n.into())
                .map_err(err)
        })();
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rename(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        _flags: u32,
        reply: ReplyEmpty,
    ) {
        let r = (|| {
            let from = self.as_caller(req, self.port(parent)?)?;
            let to = self.as_caller(req, self.port(newparent)?)?;
            let (from, to) = (from.name, to.name);
            let (n, nn) = (
                name.to_str().ok_or(libc::EINVAL)?,
                newname.to_str().ok_or(libc::EINVAL)?,
            );
            fs::Client::new(&self.task, from)
                .dir_rename(
                    n.into(),
                    PortItem {
                        disposition: Disposition::CopySend,
                        name: to,
                    },
                    nn.into(),
                    0,
                )
                .map_err(err)
        })();
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn open(&mut self, req: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        let r = (|| {
            let mut f = Self::access(flags);
            if flags & libc::O_APPEND != 0 {
                f |= OpenFlags::APPEND;
            }
            if flags & libc::O_TRUNC != 0 {
                f |= OpenFlags::TRUNC;
            }
            let node = self.as_caller(req, self.port(ino)?)?;
            let port = self.open_under(node.name, "", f | OpenFlags::NOLINK, 0)?;
            drop(node);
            Ok::<u64, i32>(self.add_handle(Handle::File(port)))
        })();
        match r {
            Ok(fh) => reply.opened(fh, OPEN_FLAGS),
            Err(e) => reply.error(e),
        }
    }

    // ANCHOR: read
    fn read(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        let port = match self.file_port(fh) {
            Ok(p) => p,
            Err(e) => return reply.error(e),
        };
        match read_full(&self.task, port, offset, size as usize) {
            Ok(d) => reply.data(&d),
            Err(e) => reply.error(err(e)),
        }
    }
    // ANCHOR_END: read

    fn write(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        offset: i64,
        data: &[u8],
        _write_flags: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyWrite,
    ) {
        let port = match self.file_port(fh) {
            Ok(p) => p,
            Err(e) => return reply.error(e),
        };
        match io::Client::new(&self.task, port).write(data.to_vec(), offset) {
            Ok(n) => reply.written(n as u32),
            Err(e) => reply.error(err(e)),
        }
    }

    fn release(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        _flags: i32,
        _lock_owner: Option<u64>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.drop_handle(fh);
        reply.ok();
    }

    fn opendir(&mut self, req: &Request<'_>, ino: u64, _flags: i32, reply: ReplyOpen) {
        let r = (|| {
            let (data, _) = self.with_open(req, ino, OpenFlags::READ, |p| {
                fs::Client::new(&self.task, p).dir_readdir(0, -1, 0)
            })?;
            let entries = decode_entries(&data).map_err(Errno::linux)?;
            let mut all = vec![
                (ino, FileType::Directory, ".".to_string()),
                (ino, FileType::Directory, "..".to_string()),
            ];
            all.extend(
                entries
                    .into_iter()
                    .filter(|e| e.name != "." && e.name != "..")
                    .map(|e| (e.ino, kind(e.kind), e.name)),
            );
            Ok::<u64, i32>(self.add_handle(Handle::Dir(all)))
        })();
        match r {
            Ok(fh) => reply.opened(fh, 0),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        let Some(Handle::Dir(all)) = self.handles.get(&fh) else {
            return reply.error(libc::EBADF);
        };
        for (i, (ino, k, name)) in all.iter().enumerate().skip(offset.max(0) as usize) {
            if reply.add(*ino, i as i64 + 1, *k, name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        _flags: i32,
        reply: ReplyEmpty,
    ) {
        self.handles.remove(&fh);
        reply.ok();
    }

    fn create(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let r = (|| {
            let n = name.to_str().ok_or(libc::EINVAL)?;
            let dir = self.port(parent)?;
            let mut f = Self::access(flags) | OpenFlags::CREAT;
            if flags & libc::O_EXCL != 0 {
                f |= OpenFlags::EXCL;
            }
            let cdir = self.as_caller(req, dir)?;
            let port = self.open_under(cdir.name, n, f, mode & !umask & 0o7777)?;
            // The bridge's port for the node: the open file's when it
            // carries the bridge's ids, else a lookup of its own.
            let node = if cdir._own.is_none() {
                if self
                    .task
                    .port_mod_refs(port, hurd_ipc::RightType::Send, 1)
                    .is_err()
                {
                    let _ = self.task.port_deallocate(port);
                    return Err(libc::ENOMEM);
                }
                Ok(port)
            } else {
                self.open_under(dir, n, OpenFlags::NOLINK, 0)
            };
            drop(cdir);
            let remembered = node.and_then(|node| self.remember(node));
            let (ino, mut a) = match remembered {
                Ok(x) => x,
                Err(e) => {
                    let _ = self.task.port_deallocate(port);
                    return Err(e);
                }
            };
            self.settle_group(req, parent, ino, &mut a);
            let fh = self.add_handle(Handle::File(port));
            Ok::<_, i32>((fh, a))
        })();
        match r {
            Ok((fh, a)) => reply.created(&TTL, &a, 0, fh, OPEN_FLAGS),
            Err(e) => reply.error(e),
        }
    }

    fn symlink(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let r = match target.to_str() {
            Some(t) => self.make_special(req, parent, link_name, 0o777, &[HURD_SYMLINK, t]),
            None => Err(libc::EINVAL),
        };
        match r {
            Ok((_, a)) => reply.entry(&TTL, &a, 0),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        let perm = mode & !umask & 0o7777;
        let (major, minor) = (
            ((rdev >> 8) & 0xfff).to_string(),
            ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)).to_string(),
        );
        let r = match mode & S_IFMT {
            S_IFCHR => self.make_special(req, parent, name, perm, &[HURD_CHRDEV, &major, &minor]),
            S_IFBLK => self.make_special(req, parent, name, perm, &[HURD_BLKDEV, &major, &minor]),
            S_IFIFO => self.make_special(req, parent, name, perm, &[HURD_FIFO]),
            S_IFSOCK => self.make_special(req, parent, name, perm, &[HURD_IFSOCK]),
            0 | crate::mode::S_IFREG => (|| {
                let n = name.to_str().ok_or(libc::EINVAL)?;
                let dir = self.as_caller(req, self.port(parent)?)?;
                let f = OpenFlags::CREAT | OpenFlags::EXCL;
                let port = self.open_under(dir.name, n, f, perm)?;
                let _ = self.task.port_deallocate(port);
                drop(dir);
                let (ino, mut a) = self.lookup_node(parent, name)?;
                self.settle_group(req, parent, ino, &mut a);
                Ok((ino, a))
            })(),
            _ => Err(libc::EINVAL),
        };
        match r {
            Ok((_, a)) => reply.entry(&TTL, &a, 0),
            Err(e) => reply.error(e),
        }
    }

    fn link(
        &mut self,
        req: &Request<'_>,
        ino: u64,
        newparent: u64,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let r = (|| {
            let n = newname.to_str().ok_or(libc::EINVAL)?;
            let file = self.port(ino)?;
            let dir = self.as_caller(req, self.port(newparent)?)?;
            fs::Client::new(&self.task, dir.name)
                .dir_link(
                    PortItem {
                        disposition: Disposition::CopySend,
                        name: file,
                    },
                    n.into(),
                    1,
                )
                .map_err(err)?;
            drop(dir);
            self.lookup_node(newparent, newname)
        })();
        match r {
            Ok((_, a)) => reply.entry(&TTL, &a, 0),
            Err(e) => reply.error(e),
        }
    }

    fn statfs(&mut self, _req: &Request<'_>, _ino: u64, reply: ReplyStatfs) {
        let r = self
            .port(fuser::FUSE_ROOT_ID)
            .and_then(|p| fs::Client::new(&self.task, p).file_statfs().map_err(err));
        match r {
            Ok(s) => reply.statfs(
                s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.bsize, s.namelen, s.frsize,
            ),
            Err(e) => reply.error(e),
        }
    }

    fn fsync(&mut self, _req: &Request<'_>, _ino: u64, fh: u64, datasync: bool, reply: ReplyEmpty) {
        let r = self.file_port(fh).and_then(|p| {
            fs::Client::new(&self.task, p)
                .file_sync(1, datasync as i32)
                .map_err(err)
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn fsyncdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let r = self.port(ino).and_then(|p| {
            fs::Client::new(&self.task, p)
                .file_syncfs(1, 0)
                .map_err(err)
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn destroy(&mut self) {
        let fhs: Vec<u64> = self.handles.keys().copied().collect();
        for fh in fhs {
            self.drop_handle(fh);
        }
        for (_, n) in core::mem::take(&mut self.nodes) {
            let _ = self.task.port_deallocate(n.port);
        }
        self.ids.clear();
        if self.control.is_valid() {
            let _ = fsys::Client::new(&self.task, self.control).goaway(FSYS_GOAWAY_FORCE as i32);
        }
    }
}

/// Seconds and nanoseconds since the epoch (negative before it).
fn timespec(t: SystemTime) -> (i64, i64) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos() as i64),
        Err(e) => {
            let d = e.duration();
            let (s, n) = (d.as_secs() as i64, d.subsec_nanos() as i64);
            if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - n)
            }
        }
    }
}

/// A translator mounted by [`spawn_mount`]; unmounted when dropped.
///
/// Dropping it unmounts the file system and waits (up to a minute) until
/// the bridge has told the translator to go away, so the translator's
/// storage is clean when the drop returns.
pub struct Mounted {
    session: Option<fuser::BackgroundSession>,
    gone: mpsc::Receiver<()>,
    _runtime: Runtime,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        // Unmounting ends the session thread, which calls `destroy` and
        // then drops the bridge, closing the channel.
        drop(self.session.take());
        let _ = self.gone.recv_timeout(Duration::from_secs(60));
    }
}

/// Serves `tree` with a [`NetFs`](crate::netfs::NetFs) in hurd-ipc's hosted
/// runtime (with an auth server, root's identity for the server, `user` for
/// the bridge) and mounts it at `mountpoint` through FUSE, in background
/// threads.
///
/// # Errors
///
/// The mount's failure (no `/dev/fuse`, a bad mount point) or the
/// set-up's, as an I/O error.
pub fn spawn_mount<T: Tree + Send + 'static>(
    tree: T,
    user: IdSet,
    mountpoint: &Path,
    name: &'static str,
) -> stdio::Result<Mounted> {
    let (rt, mut bridge) = bridge_for(tree, user, name).map_err(stdio::Error::other)?;
    let (tx, gone) = mpsc::channel();
    bridge.gone = Some(tx);
    let session = fuser::spawn_mount2(bridge, mountpoint, &mount_options(name))?;
    Ok(Mounted {
        session: Some(session),
        gone,
        _runtime: rt,
    })
}

/// Like [`spawn_mount`] but in the calling thread, until unmounted.
///
/// # Errors
///
/// As [`spawn_mount`].
pub fn mount<T: Tree + Send + 'static>(
    tree: T,
    user: IdSet,
    mountpoint: &Path,
    name: &'static str,
) -> stdio::Result<()> {
    let (_rt, bridge) = bridge_for(tree, user, name).map_err(stdio::Error::other)?;
    fuser::mount2(bridge, mountpoint, &mount_options(name))
}

/// How the bridge mounts: the kernel checks permissions against the
/// attributes (`default_permissions`), as it does for a local file system,
/// and the translator checks them again with the caller's ids. Every user
/// may use the mount (`allow_other`) where the mounter may grant it: root,
/// or any user when `/etc/fuse.conf` says `user_allow_other`. Root's mounts
/// also honour set-id bits and device nodes, as a local file system does.
fn mount_options(name: &str) -> Vec<MountOption> {
    let mut o = vec![
        MountOption::FSName(name.into()),
        MountOption::DefaultPermissions,
    ];
    // The effective user id, the second of `Uid:` in /proc/self/status.
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|u| u.split_whitespace().nth(1))
            == Some("0")
    });
    let allowed = root
        || std::fs::read_to_string("/etc/fuse.conf").is_ok_and(|c| {
            c.lines()
                .any(|l| l.split('#').next().unwrap_or("").trim() == "user_allow_other")
        });
    if allowed {
        o.push(MountOption::AllowOther);
    }
    if root {
        o.extend([MountOption::Dev, MountOption::Suid]);
    }
    o
}

/// The hosted set-up: an auth server, the server for `tree`, and a bridge
/// holding a root port for `user`.
///
/// # Errors
///
/// What starting the auth server or the file system server returns.
pub fn bridge_for<T: Tree + Send + 'static>(
    tree: T,
    user: IdSet,
    name: &'static str,
) -> Result<(Runtime, Bridge), String> {
    let rt = Runtime::new();
    let (fs_task, client) = (rt.task(), rt.task());
    let (tx, rx) = mpsc::channel();
    let to = [
        (fs_task.clone(), IdSet::root()),
        (client.clone(), user.clone()),
    ];
    rt.spawn("auth", move |task| {
        let server = AuthServer::new(task.clone(), StdClock::new(), Limits::default())?;
        let mut handles = Vec::new();
        for (who, ids) in &to {
            let h = server.create_handle(ids.clone())?;
            handles.push(task.give_right(h, Disposition::MoveSend, who)?);
        }
        let _ = tx.send(handles);
        server.run();
        Ok::<(), Error>(())
    })
    .map_err(|e| e.to_string())?;
    let handles = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|e| e.to_string())?;
    let opts = Options {
        name,
        ..Options::default()
    };
    let (_, control) = netfs::spawn(fs_task, tree, handles[0], None, opts, &client)
        .map_err(|e| alloc::format!("{e}"))?;
    let root = netfs::getroot(&client, control, &user, OpenFlags::READ)
        .map_err(|e| alloc::format!("{e}"))?;
    let mounter = user.euids.iter().next().unwrap_or(u32::MAX);
    Ok((
        rt,
        Bridge::new(client, root, handles[1])
            .with_control(control)
            .with_mounter(mounter),
    ))
}
