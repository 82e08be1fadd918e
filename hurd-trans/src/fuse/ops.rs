//! The FUSE requests, each answered through the translator's ports.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::SystemTime;

use fuser::{
    FileType, Filesystem, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
};
use hurd_ipc::{Disposition, Errno, PortItem, UserIpc};

use super::answer::Answer;
use super::attr::{err, kind, timespec};
use super::bridge::{Bridge, Handle, read_full};
use crate::flags::{
    FSYS_GOAWAY_FORCE, HURD_BLKDEV, HURD_CHRDEV, HURD_FIFO, HURD_IFSOCK, HURD_SYMLINK, OpenFlags,
};
use crate::mode::{S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, S_IFSOCK};
use crate::name::Name;
use crate::netfs::decode_entries;
use crate::protocol::{fs, fsys, io};
use crate::transbox::symlink_target;

impl Filesystem for Bridge {
    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        reply.answer(self.ttl, self.lookup_node(parent, name))
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
        reply.answer(self.ttl, self.stat_node(ino))
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
                let r = fs::Client::new(&self.task, port).file_chmod(mode & 0o7777);
                // The kernel checked who may change the mode (it mounts
                // with default_permissions); a change it sends for one who
                // may not is its own, clearing set-id bits before a write
                // or truncation (the caller may write, not chmod): made
                // with the bridge's port, as a local file system makes it.
                let set_id = crate::mode::S_ISUID | crate::mode::S_ISGID;
                let kill_priv = || {
                    self.stat_node(ino).is_ok_and(|a| {
                        let (now, new) = (u32::from(a.perm), mode & 0o7777);
                        new != now && new & !set_id == now & !set_id && new & !now == 0
                    })
                };
                match r {
                    Err(e) if err(e) == libc::EPERM && held._own.is_some() && kill_priv() => {
                        fs::Client::new(&self.task, self.port(ino)?)
                            .file_chmod(mode & 0o7777)
                            .map_err(err)?;
                    }
                    r => r.map_err(err)?,
                }
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
        reply.answer(self.ttl, r)
    }

    fn readlink(&mut self, _req: &Request<'_>, ino: u64, reply: ReplyData) {
        let r = self.port(ino).and_then(|p| {
            let argz = fs::Client::new(&self.task, p)
                .file_get_translator()
                .map_err(err)?;
            symlink_target(&argz)
                .map(<[u8]>::to_vec)
                .ok_or(libc::EINVAL)
        });
        reply.answer(self.ttl, r)
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
            let n = name.as_bytes();
            let dir = self.as_caller(req, self.port(parent)?)?;
            fs::Client::new(&self.task, dir.name)
                .dir_mkdir(Name::from(n), mode & !umask & 0o7777)
                .map_err(err)?;
            drop(dir);
            let (ino, mut a) = self.lookup_node(parent, name)?;
            self.settle_group(req, parent, ino, &mut a);
            Ok((ino, a))
        })();
        reply.answer(self.ttl, r)
    }

    fn unlink(&mut self, req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let r = (|| {
            let dir = self.as_caller(req, self.port(parent)?)?;
            let n = name.as_bytes();
            fs::Client::new(&self.task, dir.name)
                .dir_unlink(Name::from(n))
                .map_err(err)
        })();
        reply.answer(self.ttl, r)
    }

    fn rmdir(&mut self, req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let r = (|| {
            let dir = self.as_caller(req, self.port(parent)?)?;
            let n = name.as_bytes();
            fs::Client::new(&self.task, dir.name)
                .dir_rmdir(Name::from(n))
                .map_err(err)
        })();
        reply.answer(self.ttl, r)
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
            let (n, nn) = (name.as_bytes(), newname.as_bytes());
            fs::Client::new(&self.task, from)
                .dir_rename(
                    Name::from(n),
                    PortItem {
                        disposition: Disposition::CopySend,
                        name: to,
                    },
                    Name::from(nn),
                    0,
                )
                .map_err(err)
        })();
        reply.answer(self.ttl, r)
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
            let port = self.open_under(node.name, b"", f | OpenFlags::NOLINK, 0)?;
            drop(node);
            Ok::<u64, i32>(self.add_handle(Handle::File(port)))
        })();
        match r {
            Ok(fh) => reply.opened(fh, self.open_flags),
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
                (ino, FileType::Directory, Name::from(".")),
                (ino, FileType::Directory, Name::from("..")),
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
            if reply.add(*ino, i as i64 + 1, *k, OsStr::from_bytes(name.as_bytes())) {
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
            let n = name.as_bytes();
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
            Ok((fh, a)) => reply.created(&self.ttl, &a, 0, fh, self.open_flags),
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
        let record = [HURD_SYMLINK.as_bytes(), target.as_os_str().as_bytes()];
        let r = self.make_special(req, parent, link_name, 0o777, &record);
        reply.answer(self.ttl, r)
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
        let record = |prog: &'static str| [prog.as_bytes(), major.as_bytes(), minor.as_bytes()];
        let r = match mode & S_IFMT {
            S_IFCHR => self.make_special(req, parent, name, perm, &record(HURD_CHRDEV)),
            S_IFBLK => self.make_special(req, parent, name, perm, &record(HURD_BLKDEV)),
            S_IFIFO => self.make_special(req, parent, name, perm, &[HURD_FIFO.as_bytes()]),
            S_IFSOCK => self.make_special(req, parent, name, perm, &[HURD_IFSOCK.as_bytes()]),
            0 | crate::mode::S_IFREG => (|| {
                let n = name.as_bytes();
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
        reply.answer(self.ttl, r)
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
            let n = newname.as_bytes();
            let file = self.port(ino)?;
            let dir = self.as_caller(req, self.port(newparent)?)?;
            fs::Client::new(&self.task, dir.name)
                .dir_link(
                    PortItem {
                        disposition: Disposition::CopySend,
                        name: file,
                    },
                    Name::from(n),
                    1,
                )
                .map_err(err)?;
            drop(dir);
            self.lookup_node(newparent, newname)
        })();
        reply.answer(self.ttl, r)
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
        reply.answer(self.ttl, r)
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
        reply.answer(self.ttl, r)
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
