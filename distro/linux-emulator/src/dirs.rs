//! Changes to the name space as RPCs, as glibc makes them on the Hurd: the
//! directory holding a name's last component is looked up
//! (`file_name_split`) and asked to change (`fs.defs`), with the process's
//! own ports.
//!
//! - `mkdirat` is `dir_mkdir` (the mode without the umask's bits),
//!   `unlinkat` `dir_unlink` or, with `AT_REMOVEDIR`, `dir_rmdir`;
//!   `renameat2` is `dir_rename` (`RENAME_NOREPLACE`: exclusive);
//!   `linkat` opens the file (following a final symlink only with
//!   `AT_SYMLINK_FOLLOW`) and gives it to `dir_link`, exclusive.
//! - `symlinkat` makes an anonymous file with the passive translator
//!   `/hurd/symlink TARGET` and links it (the Hurd's symlinks);
//!   `readlinkat` reads that record back (`file_get_translator`) from the
//!   node itself (`O_NOLINK`).
//! - `truncate`, `ftruncate` are `file_set_size`; `fchmodat`, `fchmod`
//!   `file_chmod`; `chdir` looks up `NAME/.` (so a file is `ENOTDIR`) and
//!   keeps the port as the working directory, `fchdir` a descriptor's;
//!   `getcwd` finds the name from the working directory up through `..`
//!   (the Hurd keeps no names of directories: each is the entry of its
//!   parent with its file number), to the root's.
//!
//! The Hurd's servers answer with the Hurd's errors where Linux differs,
//! and the errors are Linux's here: `unlink` of a directory is `EISDIR`
//! (the servers say `EPERM`), a last component `.` or `..` in `rename` is
//! `EBUSY`.

use alloc::vec::Vec;

use hurd_ipc::{Disposition, PortItem, PortName, RightType, UserIpc};
use hurd_trans::Name;
use hurd_trans::flags::OpenFlags;
use hurd_trans::mode::{is_dir, is_lnk};
use hurd_trans::netfs::decode_entries;
use hurd_trans::protocol::{fs, io};
use hurd_trans::transbox::symlink_target;
use linux_abi::Errno;
use linux_abi::flags::{AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW};

use crate::files::{Files, PATH_MAX, dir_rpc, rpc};

/// `RENAME_NOREPLACE` (`renameat2`): fail with `EEXIST` rather than
/// replace the new name.
pub const RENAME_NOREPLACE: u32 = 1;

/// The directory holding a name's last component, and that component.
struct Parent {
    /// A send right to the directory.
    dir: PortName,
    /// Whether `dir` was looked up for this call (and must be released).
    owned: bool,
    /// The last component.
    last: Vec<u8>,
    /// Whether the name ended with `/`.
    slash: bool,
}

impl Parent {
    fn release<I: UserIpc + ?Sized>(self, ipc: &I) {
        if self.owned {
            let _ = ipc.port_deallocate(self.dir);
        }
    }
}

/// A copy of `port` for a call's argument (the right stays ours).
fn copy(port: PortName) -> PortItem {
    PortItem {
        disposition: Disposition::CopySend,
        name: port,
    }
}

/// Whether `last` is `.` or `..`.
fn is_dot(last: &[u8]) -> bool {
    last == b"." || last == b".."
}

impl Files {
    /// `file_name_split`: the directory that holds `name`'s last component
    /// (looked up from `dirfd`), and the component; `/` alone stands for
    /// the root's `.`.
    fn split<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dirfd: i32,
        name: &[u8],
    ) -> Result<Parent, Errno> {
        if name.is_empty() {
            return Err(Errno::Noent);
        }
        if name.len() >= PATH_MAX {
            return Err(Errno::Nametoolong);
        }
        let end = name.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
        let slash = end < name.len();
        let trimmed = &name[..end];
        if trimmed.is_empty() {
            return Ok(Parent {
                dir: self.crdir,
                owned: false,
                last: b".".to_vec(),
                slash,
            });
        }
        match trimmed.iter().rposition(|&c| c == b'/') {
            None => Ok(Parent {
                dir: self.start_dir(dirfd, name)?,
                owned: false,
                last: trimmed.to_vec(),
                slash,
            }),
            Some(i) => {
                let dir_name: &[u8] = if trimmed[..i].iter().all(|&c| c == b'/') {
                    b"/"
                } else {
                    &trimmed[..i]
                };
                let dir = self.open_port(ipc, dirfd, dir_name, OpenFlags::empty(), 0)?;
                Ok(Parent {
                    dir,
                    owned: true,
                    last: trimmed[i + 1..].to_vec(),
                    slash,
                })
            }
        }
    }

    /// The `io_stat` mode of `last` in `dir`, not following a symlink.
    fn mode_in<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dir: PortName,
        last: &[u8],
    ) -> Result<u32, Errno> {
        let fds = self.fd_ports();
        let port = self
            .lookup(ipc, &fds)
            .open_under(dir, last, OpenFlags::NOLINK, 0)
            .map_err(dir_rpc)?;
        let st = io::Client::new(ipc, port).stat();
        let _ = ipc.port_deallocate(port);
        Ok(st.map_err(rpc)?.mode)
    }

    /// `mkdirat`: a new directory with `mode` (its permission and sticky
    /// bits) less the umask's bits.
    ///
    /// # Errors
    /// `EEXIST`, `ENOENT`, `ENOTDIR`, `EACCES`... as the servers answer;
    /// `EBADF` for a bad `dirfd`.
    pub fn mkdirat<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dirfd: i32,
        name: &[u8],
        mode: u32,
    ) -> Result<(), Errno> {
        let p = self.split(ipc, dirfd, name)?;
        let r = fs::Client::new(ipc, p.dir)
            .dir_mkdir(Name::from(p.last.as_slice()), mode & 0o1777 & !self.umask)
            .map_err(dir_rpc);
        p.release(ipc);
        r
    }

    /// `unlinkat`: removes a name, or with `AT_REMOVEDIR` an empty
    /// directory.
    ///
    /// # Errors
    /// `EINVAL` for other flags; `EISDIR` for a directory without
    /// `AT_REMOVEDIR`, `ENOTDIR` for a name with a final `/` that is no
    /// directory; `ENOTEMPTY`, `ENOENT`, `EACCES`... as the servers answer.
    pub fn unlinkat<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dirfd: i32,
        name: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !AT_REMOVEDIR != 0 {
            return Err(Errno::Inval);
        }
        let p = self.split(ipc, dirfd, name)?;
        let dir = fs::Client::new(ipc, p.dir);
        let last = Name::from(p.last.as_slice());
        let r = if flags & AT_REMOVEDIR != 0 {
            dir.dir_rmdir(last).map_err(dir_rpc)
        } else if p.slash || is_dot(&p.last) {
            // Linux looks at what the name is before it refuses.
            match self.mode_in(ipc, p.dir, &p.last) {
                Ok(mode) if is_dir(mode) => Err(Errno::Isdir),
                Ok(_) => Err(Errno::Notdir),
                Err(e) => Err(e),
            }
        } else {
            match dir.dir_unlink(last).map_err(dir_rpc) {
                // The Hurd's answer for a directory; Linux's is EISDIR.
                Err(Errno::Perm) => match self.mode_in(ipc, p.dir, &p.last) {
                    Ok(mode) if is_dir(mode) => Err(Errno::Isdir),
                    _ => Err(Errno::Perm),
                },
                r => r,
            }
        };
        p.release(ipc);
        r
    }

    /// `renameat2`: moves `old` (from `olddirfd`) to `new` (from
    /// `newdirfd`), replacing what `new` named unless `RENAME_NOREPLACE`.
    ///
    /// # Errors
    /// `EINVAL` for other flags; `EBUSY` for `.` or `..`; `EXDEV` across
    /// file systems; `EEXIST`, `ENOTEMPTY`, `EISDIR`, `ENOTDIR`,
    /// `ENOENT`... as the servers answer.
    pub fn renameat2<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        olddirfd: i32,
        old: &[u8],
        newdirfd: i32,
        new: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !RENAME_NOREPLACE != 0 {
            return Err(Errno::Inval);
        }
        let from = self.split(ipc, olddirfd, old)?;
        let to = match self.split(ipc, newdirfd, new) {
            Ok(to) => to,
            Err(e) => {
                from.release(ipc);
                return Err(e);
            }
        };
        let r = if is_dot(&from.last) || is_dot(&to.last) {
            Err(Errno::Busy)
        } else {
            fs::Client::new(ipc, from.dir)
                .dir_rename(
                    Name::from(from.last.as_slice()),
                    copy(to.dir),
                    Name::from(to.last.as_slice()),
                    i32::from(flags & RENAME_NOREPLACE != 0),
                )
                .map_err(dir_rpc)
        };
        from.release(ipc);
        to.release(ipc);
        r
    }

    /// `linkat`: a new name `new` for the file `old` names (a final
    /// symlink itself unless `AT_SYMLINK_FOLLOW`).
    ///
    /// # Errors
    /// `EINVAL` for other flags; `EEXIST` when `new` is taken; `EPERM` for
    /// a directory; `EXDEV` across file systems; `ENOENT`... as the
    /// servers answer.
    pub fn linkat<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        olddirfd: i32,
        old: &[u8],
        newdirfd: i32,
        new: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::Inval);
        }
        let file = if old.is_empty() && flags & AT_EMPTY_PATH != 0 {
            let port = if olddirfd == AT_FDCWD {
                self.cwdir
            } else {
                self.port(olddirfd)?
            };
            ipc.port_mod_refs(port, RightType::Send, 1)
                .map_err(|_| Errno::Nomem)?;
            port
        } else {
            let follow = if flags & AT_SYMLINK_FOLLOW != 0 {
                OpenFlags::empty()
            } else {
                OpenFlags::NOLINK
            };
            self.open_port(ipc, olddirfd, old, follow, 0)?
        };
        let r = self.split(ipc, newdirfd, new).and_then(|to| {
            let r = fs::Client::new(ipc, to.dir)
                .dir_link(copy(file), Name::from(to.last.as_slice()), 1)
                .map_err(dir_rpc);
            to.release(ipc);
            r
        });
        let _ = ipc.port_deallocate(file);
        r
    }

    /// `symlinkat`: `name` (from `dirfd`) becomes a symlink to `target`.
    ///
    /// # Errors
    /// `ENOENT` for an empty target; `EEXIST` when `name` is taken; the
    /// servers' errors.
    pub fn symlinkat<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        target: &[u8],
        dirfd: i32,
        name: &[u8],
    ) -> Result<(), Errno> {
        if target.is_empty() {
            return Err(Errno::Noent);
        }
        let p = self.split(ipc, dirfd, name)?;
        let r = if p.slash || is_dot(&p.last) {
            Err(Errno::Exist)
        } else {
            hurd_trans::lookup::symlink(ipc, p.dir, &p.last, target).map_err(dir_rpc)
        };
        p.release(ipc);
        r
    }

    /// `readlinkat`: the target of the symlink `name` names.
    ///
    /// # Errors
    /// `EINVAL` for a node that is no symlink; `ENOENT` for an empty name;
    /// as [`Files::openat`] otherwise.
    pub fn readlinkat<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dirfd: i32,
        name: &[u8],
    ) -> Result<Vec<u8>, Errno> {
        let port = self.open_port(ipc, dirfd, name, OpenFlags::NOLINK, 0)?;
        let r = io::Client::new(ipc, port)
            .stat()
            .map_err(rpc)
            .and_then(|st| {
                if !is_lnk(st.mode) {
                    return Err(Errno::Inval);
                }
                let argz = fs::Client::new(ipc, port)
                    .file_get_translator()
                    .map_err(rpc)?;
                symlink_target(&argz)
                    .map(<[u8]>::to_vec)
                    .ok_or(Errno::Inval)
            });
        let _ = ipc.port_deallocate(port);
        r
    }

    /// `truncate`: the file `name` names gets `length` bytes.
    ///
    /// # Errors
    /// `EINVAL` for a negative length; `EISDIR`, `EACCES`, `ENOENT`... as
    /// the servers answer.
    pub fn truncate<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        name: &[u8],
        length: i64,
    ) -> Result<(), Errno> {
        if length < 0 {
            return Err(Errno::Inval);
        }
        let port = self.open_port(ipc, AT_FDCWD, name, OpenFlags::WRITE, 0)?;
        let r = fs::Client::new(ipc, port)
            .file_set_size(length)
            .map_err(rpc);
        let _ = ipc.port_deallocate(port);
        r
    }

    /// `ftruncate`: descriptor `fd`'s file gets `length` bytes.
    ///
    /// # Errors
    /// `EBADF`; `EINVAL` for a negative length or a descriptor not open
    /// for writing.
    pub fn ftruncate<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        fd: i32,
        length: i64,
    ) -> Result<(), Errno> {
        let port = self.port(fd).map_err(|e| match self.table.get(fd) {
            // The console: no file to cut.
            Ok(_) => Errno::Inval,
            Err(_) => e,
        })?;
        if length < 0 {
            return Err(Errno::Inval);
        }
        fs::Client::new(ipc, port)
            .file_set_size(length)
            .map_err(rpc)
    }

    /// `fchmodat` (and `chmod`): the mode of the file `name` names.
    ///
    /// # Errors
    /// `EPERM` for a file of another user; as [`Files::openat`].
    pub fn chmodat<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dirfd: i32,
        name: &[u8],
        mode: u32,
    ) -> Result<(), Errno> {
        let port = self.open_port(ipc, dirfd, name, OpenFlags::empty(), 0)?;
        let r = fs::Client::new(ipc, port)
            .file_chmod(mode & 0o7777)
            .map_err(rpc);
        let _ = ipc.port_deallocate(port);
        r
    }

    /// `fchmod`: the mode of descriptor `fd`'s file.
    ///
    /// # Errors
    /// `EBADF`; `EPERM` for a file of another user.
    pub fn fchmod<I: UserIpc + ?Sized>(&self, ipc: &I, fd: i32, mode: u32) -> Result<(), Errno> {
        let port = self.port(fd)?;
        fs::Client::new(ipc, port)
            .file_chmod(mode & 0o7777)
            .map_err(rpc)
    }

    /// Makes `port` (a reference given to us) the working directory; the
    /// old one's reference goes, unless it is the root's (a starter may
    /// give one reference for both).
    fn set_cwd<I: UserIpc + ?Sized>(&mut self, ipc: &I, port: PortName) {
        let old = core::mem::replace(&mut self.cwdir, port);
        if old != self.crdir {
            let _ = ipc.port_deallocate(old);
        }
    }

    /// `chdir`: the directory `name` names becomes the working directory
    /// (looked up as `NAME/.`, so a file is `ENOTDIR`).
    ///
    /// # Errors
    /// `ENOENT`, `ENOTDIR`, `EACCES`... as the servers answer.
    pub fn chdir<I: UserIpc + ?Sized>(&mut self, ipc: &I, name: &[u8]) -> Result<(), Errno> {
        if name.is_empty() {
            return Err(Errno::Noent);
        }
        let mut dot = name.to_vec();
        dot.extend_from_slice(b"/.");
        let port = self.open_port(ipc, AT_FDCWD, &dot, OpenFlags::empty(), 0)?;
        self.set_cwd(ipc, port);
        Ok(())
    }

    /// `fchdir`: descriptor `fd`'s directory becomes the working directory.
    ///
    /// # Errors
    /// `EBADF`; `ENOTDIR` for a file that is no directory.
    pub fn fchdir<I: UserIpc + ?Sized>(&mut self, ipc: &I, fd: i32) -> Result<(), Errno> {
        let port = self.port(fd)?;
        let st = io::Client::new(ipc, port).stat().map_err(rpc)?;
        if !is_dir(st.mode) {
            return Err(Errno::Notdir);
        }
        ipc.port_mod_refs(port, RightType::Send, 1)
            .map_err(|_| Errno::Nomem)?;
        self.set_cwd(ipc, port);
        Ok(())
    }

    /// `getcwd`: the working directory's name from the root, found as the
    /// Hurd's C library finds it (the kernel keeps no names): from the
    /// working directory up through `..`, each directory's name being the
    /// entry of its parent with its file number, until the root's (file
    /// system id, file number).
    ///
    /// # Errors
    /// `ENOENT` when the working directory is no longer reachable from the
    /// root (removed, or outside it); `ENAMETOOLONG` beyond [`PATH_MAX`];
    /// the servers' errors (`EACCES` for a directory that cannot be
    /// read).
    pub fn getcwd<I: UserIpc + ?Sized>(&self, ipc: &I) -> Result<Vec<u8>, Errno> {
        let id = |port: PortName| -> Result<(u64, u64), Errno> {
            let st = io::Client::new(ipc, port).stat().map_err(rpc)?;
            Ok((st.fsid, st.ino))
        };
        let root = id(self.crdir)?;
        let fds = self.fd_ports();
        let lookup = self.lookup(ipc, &fds);
        // The names from the working directory up, and the directory
        // reached (a reference of ours once it is not the working one).
        let mut names: Vec<Vec<u8>> = Vec::new();
        let mut len = 0;
        let mut here = self.cwdir;
        let mut at = id(here)?;
        let release = |port: PortName| {
            if port != self.cwdir {
                let _ = ipc.port_deallocate(port);
            }
        };
        let found = loop {
            if at == root {
                break Ok(());
            }
            let up = match lookup.open_under(here, b"..", OpenFlags::READ, 0) {
                Ok(up) => up,
                Err(e) => break Err(dir_rpc(e)),
            };
            release(here);
            here = up;
            let child = at;
            at = match id(here) {
                Ok(at) => at,
                Err(e) => break Err(e),
            };
            if at == child {
                // A root that is not ours: outside the process's root.
                break Err(Errno::Noent);
            }
            match self.name_in(ipc, here, child) {
                Ok(name) => {
                    len += name.len() + 1;
                    if len >= PATH_MAX {
                        break Err(Errno::Nametoolong);
                    }
                    names.push(name);
                }
                Err(e) => break Err(e),
            }
        };
        release(here);
        found?;
        if names.is_empty() {
            return Ok(b"/".to_vec());
        }
        let mut path = Vec::with_capacity(len);
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        Ok(path)
    }

    /// The name in directory `dir` of the node `child` (file system id,
    /// file number): the entry with its file number, checked with
    /// `io_stat` (a node of another file system mounted there has a number
    /// of its own, so every entry is looked at when none matches).
    fn name_in<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dir: PortName,
        child: (u64, u64),
    ) -> Result<Vec<u8>, Errno> {
        let (data, _) = fs::Client::new(ipc, dir)
            .dir_readdir(0, -1, 0)
            .map_err(dir_rpc)?;
        let entries = decode_entries(&data).map_err(Errno::from)?;
        let fds = self.fd_ports();
        let lookup = self.lookup(ipc, &fds);
        let is_child = |name: &[u8]| -> bool {
            let Ok(port) = lookup.open_under(dir, name, OpenFlags::NOLINK, 0) else {
                return false;
            };
            let st = io::Client::new(ipc, port).stat();
            let _ = ipc.port_deallocate(port);
            st.is_ok_and(|st| (st.fsid, st.ino) == child)
        };
        let names = entries
            .iter()
            .map(|e| (e.ino, e.name.as_bytes()))
            .filter(|(_, n)| *n != b"." && *n != b"..");
        if let Some((_, name)) = names
            .clone()
            .find(|&(ino, n)| ino == child.1 && is_child(n))
        {
            return Ok(name.to_vec());
        }
        names
            .map(|(_, n)| n)
            .find(|n| is_child(n))
            .map(<[u8]>::to_vec)
            .ok_or(Errno::Noent)
    }
}
