//! Files and directories as RPCs: the Linux calls on names and descriptors
//! carried out with the Hurd's file protocols (`io.defs`, `fs.defs`) on the
//! process's own ports, as glibc does on the Hurd.
//!
//! - A name is opened with `file_name_lookup`'s protocol
//!   ([`hurd_trans::lookup::Lookup`]: `dir_lookup` from the root or working
//!   directory or a directory descriptor, then its retries —
//!   `FS_RETRY_NORMAL`, `FS_RETRY_REAUTH` with the process's auth handle,
//!   `FS_RETRY_MAGICAL`). The Linux open flags become the Hurd's
//!   ([`linux_abi::flags::open_to_hurd`]); the creation mode loses the
//!   umask's bits here, as glibc clears them before `dir_lookup`;
//!   `O_TRUNC` is a `file_set_size` after the open.
//! - A descriptor is a send right to the server's I/O port: `read`,
//!   `write`, `lseek` are `io_read`, `io_write`, `io_seek` at the server's
//!   file pointer (offset -1), `pread`/`pwrite` at an offset; the stat
//!   family is `io_stat`, converted to Linux's `struct stat`.
//! - `getdents64` is `dir_readdir`: a directory's file pointer is the
//!   index of its next entry, as a directory's offset on Linux is the
//!   cookie of its next entry, so `lseek(fd, 0, SEEK_SET)` (`rewinddir`)
//!   starts the listing again and descriptors sharing the open file share
//!   the position.
//!
//! Errors are Linux's ([`Errno::from_rpc`]): the server's errno values,
//! converted; a dead port is `EBADF`; a port that is no directory (the
//! server lacks `dir_lookup` or `dir_readdir`) is `ENOTDIR`.

use alloc::vec::Vec;

use hurd_ipc::{Error, MigReturn, PortName, RightType, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::decode_entries;
use hurd_trans::protocol::{fs, io};
use linux_abi::Errno;
use linux_abi::flags::{
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL,
    F_SETFD, F_SETFL, FD_CLOEXEC, O_NONBLOCK, O_WRONLY, open_to_hurd, openmodes_to_linux,
    setfl_to_hurd,
};
use linux_abi::layout::dirent::{DirentWriter, dt_from_mode, reclen};
use linux_abi::layout::stat::Stat;

use crate::fdtable::FdTable;

/// The longest name a call takes, with its terminating NUL (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// `SEEK_SET`.
pub const SEEK_SET: i32 = 0;
/// `SEEK_CUR`.
pub const SEEK_CUR: i32 = 1;
/// `SEEK_END`.
pub const SEEK_END: i32 = 2;

/// The most bytes one `io_read` of [`Files::mapping_contents`] asks for.
pub const MAP_READ_CHUNK: u64 = 1 << 20;

/// The umask a process starts with when its starter gives none.
pub const DEFAULT_UMASK: u32 = 0o022;

/// What a descriptor refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum File {
    /// A send right to an I/O port (the descriptor's own reference).
    Port(PortName),
    /// The kernel console: standard output or error when the starter gave
    /// no port for them (writes only).
    Console,
}

/// Where a process's files are: its directories, auth handle, umask and
/// descriptor table. The ports are send rights in the process's space,
/// held by this value.
#[derive(Debug)]
pub struct Files {
    /// The root directory (`INIT_PORT_CRDIR`).
    pub crdir: PortName,
    /// The working directory (`INIT_PORT_CWDIR`).
    pub cwdir: PortName,
    /// The auth handle (`INIT_PORT_AUTH`), for reauthentication.
    pub auth: PortName,
    /// The file-creation mask.
    pub umask: u32,
    /// The descriptors.
    pub table: FdTable<File>,
    /// Writes to the kernel console.
    console: fn(&[u8]),
}

/// `EBADF` for a dead or missing port, else the RPC's error.
pub(crate) fn rpc(e: Error) -> Errno {
    Errno::from_rpc(e)
}

/// The error of a directory call: a server without it is no directory.
pub(crate) fn dir_rpc(e: Error) -> Errno {
    match e {
        Error::Mig(MigReturn::BadId) => Errno::Notdir,
        e => match Errno::from_rpc(e) {
            Errno::Opnotsupp => Errno::Notdir,
            other => other,
        },
    }
}

impl Files {
    /// A process's files: no descriptors yet.
    pub fn new(crdir: PortName, cwdir: PortName, auth: PortName, console: fn(&[u8])) -> Files {
        Files {
            crdir,
            cwdir,
            auth,
            umask: DEFAULT_UMASK,
            table: FdTable::new(),
            console,
        }
    }

    pub(crate) fn lookup<'a, I: UserIpc + ?Sized>(
        &self,
        ipc: &'a I,
        fds: &'a [PortName],
    ) -> Lookup<'a, I> {
        Lookup {
            ipc,
            crdir: self.crdir,
            cwdir: self.cwdir,
            auth: self.auth,
            fds,
            ctty: PortName::NULL,
        }
    }

    /// The ports of the open descriptors, by number (for `fd/N` retries).
    pub(crate) fn fd_ports(&self) -> Vec<PortName> {
        let mut ports = Vec::new();
        for (fd, e) in self.table.iter() {
            let fd = fd as usize;
            if ports.len() <= fd {
                ports.resize(fd + 1, PortName::NULL);
            }
            if let File::Port(p) = e.file {
                ports[fd] = p;
            }
        }
        ports
    }

    /// The port descriptor `fd` holds.
    ///
    /// # Errors
    /// `EBADF` when it is closed or the console.
    pub fn port(&self, fd: i32) -> Result<PortName, Errno> {
        match self.table.get(fd)?.file {
            File::Port(p) => Ok(p),
            File::Console => Err(Errno::Badf),
        }
    }

    /// The directory a `*at` call starts from: the working directory for
    /// `AT_FDCWD`, else descriptor `dirfd`'s port (a name starting with `/`
    /// starts at the root whatever `dirfd` is).
    pub(crate) fn start_dir(&self, dirfd: i32, name: &[u8]) -> Result<PortName, Errno> {
        if name.starts_with(b"/") {
            Ok(self.crdir)
        } else if dirfd == AT_FDCWD {
            Ok(self.cwdir)
        } else {
            self.port(dirfd)
        }
    }

    /// Looks `name` up from `dirfd` with the Hurd's `flags`: a new send right.
    pub(crate) fn open_port<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dirfd: i32,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> Result<PortName, Errno> {
        if name.is_empty() {
            return Err(Errno::Noent);
        }
        if name.len() >= PATH_MAX {
            return Err(Errno::Nametoolong);
        }
        let start = self.start_dir(dirfd, name)?;
        let fds = self.fd_ports();
        self.lookup(ipc, &fds)
            .open_under(start, name, flags, mode)
            .map_err(dir_rpc)
    }

    /// `openat`: a new descriptor (the lowest free) for `name`.
    ///
    /// # Errors
    /// `ENOENT`, `ENOTDIR`, `EISDIR`, `EACCES`, `EEXIST`... as the servers
    /// answer; `EINVAL` for bad flags; `EMFILE` when no descriptor is free;
    /// `EBADF` for a bad `dirfd`.
    pub fn openat<I: UserIpc + ?Sized>(
        &mut self,
        ipc: &I,
        dirfd: i32,
        name: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<i32, Errno> {
        let req = open_to_hurd(flags)?;
        let mode = mode & 0o7777 & !self.umask;
        let port = self.open_port(ipc, dirfd, name, req.flags, mode)?;
        if req.trunc
            && let Err(e) = fs::Client::new(ipc, port).file_set_size(0)
        {
            let _ = ipc.port_deallocate(port);
            return Err(rpc(e));
        }
        self.table
            .insert(File::Port(port), req.cloexec)
            .map_err(|(e, _)| {
                let _ = ipc.port_deallocate(port);
                e
            })
    }

    /// Puts `file` at the lowest free descriptor (a starter's standard
    /// input, output and error).
    ///
    /// # Errors
    /// `EMFILE` when none is free (the file is not kept).
    pub fn insert(&mut self, file: File) -> Result<i32, Errno> {
        self.table.insert(file, false).map_err(|(e, _)| e)
    }

    /// `close`: the descriptor's reference goes.
    ///
    /// # Errors
    /// `EBADF` when it is not open.
    pub fn close<I: UserIpc + ?Sized>(&mut self, ipc: &I, fd: i32) -> Result<(), Errno> {
        if let File::Port(p) = self.table.close(fd)?.file {
            let _ = ipc.port_deallocate(p);
        }
        Ok(())
    }

    /// A new reference to what `fd` holds, for a second descriptor.
    fn duplicate<I: UserIpc + ?Sized>(&self, ipc: &I, fd: i32) -> Result<File, Errno> {
        let file = self.table.get(fd)?.file;
        if let File::Port(p) = file {
            ipc.port_mod_refs(p, RightType::Send, 1)
                .map_err(|_| Errno::Mfile)?;
        }
        Ok(file)
    }

    /// `dup3` (`dup2` with `same_is_error` false): `new` refers to `old`'s
    /// open file; what `new` held is closed.
    ///
    /// # Errors
    /// `EBADF` for a closed `old` or a `new` outside the table's limit;
    /// `EINVAL` for `dup3(fd, fd)`.
    pub fn dup3<I: UserIpc + ?Sized>(
        &mut self,
        ipc: &I,
        old: i32,
        new: i32,
        cloexec: bool,
        same_is_error: bool,
    ) -> Result<i32, Errno> {
        self.table.get(old)?;
        if old == new {
            return if same_is_error {
                Err(Errno::Inval)
            } else {
                Ok(new)
            };
        }
        let file = self.duplicate(ipc, old)?;
        match self.table.dup2(old, new, cloexec, same_is_error) {
            Ok(replaced) => {
                if let Some(File::Port(p)) = replaced.map(|e| e.file) {
                    let _ = ipc.port_deallocate(p);
                }
                Ok(new)
            }
            Err(e) => {
                if let File::Port(p) = file {
                    let _ = ipc.port_deallocate(p);
                }
                Err(e)
            }
        }
    }

    /// `fcntl` with the commands on descriptors and open modes:
    /// `F_DUPFD[_CLOEXEC]`, `F_GETFD`, `F_SETFD`, `F_GETFL` (the port's
    /// open modes, `io_get_openmodes`), `F_SETFL` (`io_set_all_openmodes`).
    ///
    /// # Errors
    /// `EBADF`; `EINVAL` for another command; `EMFILE`; the server's
    /// error.
    pub fn fcntl<I: UserIpc + ?Sized>(
        &mut self,
        ipc: &I,
        fd: i32,
        cmd: u32,
        arg: u64,
    ) -> Result<u64, Errno> {
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                let min = i32::try_from(arg).map_err(|_| Errno::Inval)?;
                let file = self.duplicate(ipc, fd)?;
                match self.table.dup(fd, min, cmd == F_DUPFD_CLOEXEC) {
                    Ok(new) => Ok(new as u64),
                    Err(e) => {
                        if let File::Port(p) = file {
                            let _ = ipc.port_deallocate(p);
                        }
                        Err(e)
                    }
                }
            }
            F_GETFD => Ok(if self.table.get(fd)?.cloexec {
                u64::from(FD_CLOEXEC)
            } else {
                0
            }),
            F_SETFD => {
                self.table.get_mut(fd)?.cloexec = arg as u32 & FD_CLOEXEC != 0;
                Ok(0)
            }
            F_GETFL => match self.table.get(fd)?.file {
                File::Console => Ok(u64::from(O_WRONLY)),
                File::Port(p) => {
                    let bits = io::Client::new(ipc, p).get_openmodes().map_err(rpc)?;
                    Ok(u64::from(openmodes_to_linux(
                        OpenFlags::from_bits_truncate(bits as u32),
                    )))
                }
            },
            F_SETFL => match self.table.get(fd)?.file {
                File::Console => Ok(0),
                File::Port(p) => {
                    let bits = setfl_to_hurd(arg as u32).bits() as i32;
                    io::Client::new(ipc, p)
                        .set_all_openmodes(bits)
                        .map_err(rpc)?;
                    Ok(0)
                }
            },
            _ => Err(Errno::Inval),
        }
    }

    /// The `ioctl`s of any open file: `FIONBIO` sets (`on` true: the
    /// `int` its argument points at is not 0) or clears `O_NONBLOCK` as
    /// `F_SETFL` does; `FIOCLEX` and `FIONCLEX` set and clear
    /// close-on-exec (Rust's `std` uses all three on its pipes). `None`
    /// for another request (a terminal's, or one this system lacks).
    ///
    /// # Errors
    /// `EBADF` for a closed descriptor; `EFAULT` for `FIONBIO` without
    /// `on` (its argument could not be read); the server's error.
    pub fn file_ioctl<I: UserIpc + ?Sized>(
        &mut self,
        ipc: &I,
        fd: i32,
        request: u32,
        on: Option<bool>,
    ) -> Option<Result<u64, Errno>> {
        use linux_abi::layout::termios::{FIOCLEX, FIONBIO, FIONCLEX};
        let r = match request {
            FIOCLEX => self.fcntl(ipc, fd, F_SETFD, u64::from(FD_CLOEXEC)),
            FIONCLEX => self.fcntl(ipc, fd, F_SETFD, 0),
            FIONBIO => self.table.get(fd).map(drop).and_then(|()| {
                let on = on.ok_or(Errno::Fault)?;
                let flags = self.fcntl(ipc, fd, F_GETFL, 0)? as u32;
                let flags = if on {
                    flags | O_NONBLOCK
                } else {
                    flags & !O_NONBLOCK
                };
                self.fcntl(ipc, fd, F_SETFL, u64::from(flags))
            }),
            _ => return None,
        };
        Some(r)
    }

    /// `read` (`offset` `None`: at the file pointer) or `pread`: at most
    /// `amount` bytes.
    ///
    /// # Errors
    /// `EBADF` (closed, not open for reading), `EISDIR`, `EINVAL` for a
    /// negative offset, or the server's error.
    pub fn read<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        fd: i32,
        amount: u64,
        offset: Option<i64>,
    ) -> Result<Vec<u8>, Errno> {
        let port = self.port(fd)?;
        let at = match offset {
            None => -1,
            Some(o) if o < 0 => return Err(Errno::Inval),
            Some(o) => o,
        };
        if amount == 0 {
            return Ok(Vec::new());
        }
        io::Client::new(ipc, port).read(at, amount).map_err(rpc)
    }

    /// `write` or `pwrite`: how many bytes were written.
    ///
    /// # Errors
    /// As [`Files::read`].
    pub fn write<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        fd: i32,
        data: &[u8],
        offset: Option<i64>,
    ) -> Result<u64, Errno> {
        let port = match self.table.get(fd)?.file {
            File::Port(p) => p,
            File::Console if offset.is_none() => {
                (self.console)(data);
                return Ok(data.len() as u64);
            }
            File::Console => return Err(Errno::Spipe),
        };
        let at = match offset {
            None => -1,
            Some(o) if o < 0 => return Err(Errno::Inval),
            Some(o) => o,
        };
        if data.is_empty() {
            return Ok(0);
        }
        io::Client::new(ipc, port)
            .write(data.to_vec(), at)
            .map_err(rpc)
    }

    /// `lseek`: the new file pointer.
    ///
    /// # Errors
    /// `EINVAL` for an unknown `whence` or a position before the start;
    /// `ESPIPE` for the console; the server's error.
    pub fn lseek<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        fd: i32,
        offset: i64,
        whence: i32,
    ) -> Result<i64, Errno> {
        let port = match self.table.get(fd)?.file {
            File::Port(p) => p,
            File::Console => return Err(Errno::Spipe),
        };
        if !matches!(whence, SEEK_SET | SEEK_CUR | SEEK_END) {
            return Err(Errno::Inval);
        }
        io::Client::new(ipc, port).seek(offset, whence).map_err(rpc)
    }

    /// `fstat`: descriptor `fd`'s `struct stat`.
    ///
    /// # Errors
    /// `EBADF`, or the server's error.
    pub fn fstat<I: UserIpc + ?Sized>(&self, ipc: &I, fd: i32) -> Result<Stat, Errno> {
        let port = self.port(fd)?;
        let st = io::Client::new(ipc, port).stat().map_err(rpc)?;
        Ok(Stat::from_hurd(&st))
    }

    /// What a private mapping (`mmap` with `MAP_PRIVATE`) of `len` bytes of
    /// descriptor `fd` at `offset` starts with: the file's bytes there, read
    /// with `io_read` at the time of the call, as far as the file goes (the
    /// caller zero-fills the rest). Later writes to the file do not show in
    /// such a mapping, which POSIX leaves unspecified for private ones.
    ///
    /// # Errors
    /// `EBADF` for no open descriptor; `ENODEV` for one that is no file to
    /// map (the console, a directory); `EACCES` when it is not open for
    /// reading; the server's error for a failed read.
    pub fn mapping_contents<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        fd: i32,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, Errno> {
        let port = match self.table.get(fd)?.file {
            File::Port(p) => p,
            File::Console => return Err(Errno::Nodev),
        };
        let io = io::Client::new(ipc, port);
        let st = io.stat().map_err(rpc)?;
        if hurd_trans::mode::is_dir(st.mode) {
            return Err(Errno::Nodev);
        }
        let modes = io.get_openmodes().map_err(rpc)?;
        if !OpenFlags::from_bits_truncate(modes as u32).contains(OpenFlags::READ) {
            return Err(Errno::Acces);
        }
        let mut out = Vec::new();
        while (out.len() as u64) < len {
            let at = offset.saturating_add(out.len() as u64);
            let Ok(at) = i64::try_from(at) else { break };
            let want = (len - out.len() as u64).min(MAP_READ_CHUNK);
            let data = io.read(at, want).map_err(rpc)?;
            if data.is_empty() {
                break;
            }
            let take = data.len().min(want as usize);
            out.extend_from_slice(&data[..take]);
        }
        Ok(out)
    }

    /// `newfstatat` (and `stat`, `lstat`): `name` looked up from `dirfd`
    /// without asking for access (the Hurd's `stat`), not following a final
    /// symlink under `AT_SYMLINK_NOFOLLOW` (`O_NOLINK`); an empty name with
    /// `AT_EMPTY_PATH` is `dirfd` itself.
    ///
    /// # Errors
    /// `EINVAL` for unknown flags; as [`Files::openat`] otherwise.
    pub fn statat<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        dirfd: i32,
        name: &[u8],
        flags: u32,
    ) -> Result<Stat, Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | linux_abi::flags::AT_NO_AUTOMOUNT) != 0 {
            return Err(Errno::Inval);
        }
        if name.is_empty() && flags & AT_EMPTY_PATH != 0 {
            if dirfd == AT_FDCWD {
                let st = io::Client::new(ipc, self.cwdir).stat().map_err(rpc)?;
                return Ok(Stat::from_hurd(&st));
            }
            return self.fstat(ipc, dirfd);
        }
        let mut hurd = OpenFlags::empty();
        if flags & AT_SYMLINK_NOFOLLOW != 0 {
            hurd |= OpenFlags::NOLINK;
        }
        let port = self.open_port(ipc, dirfd, name, hurd, 0)?;
        let st = io::Client::new(ipc, port).stat();
        let _ = ipc.port_deallocate(port);
        Ok(Stat::from_hurd(&st.map_err(rpc)?))
    }

    /// `getdents64`: the directory's next entries as Linux `dirent64`
    /// records, at most `size` bytes; empty at the end.
    ///
    /// # Errors
    /// `EBADF`; `ENOTDIR` for a file that is no directory; `EINVAL` when
    /// the next entry does not fit in `size`; the server's error.
    pub fn getdents64<I: UserIpc + ?Sized>(
        &self,
        ipc: &I,
        fd: i32,
        size: usize,
    ) -> Result<Vec<u8>, Errno> {
        let port = self.port(fd)?;
        let file = io::Client::new(ipc, port);
        let at = file.seek(0, SEEK_CUR).map_err(rpc)?;
        let index = i32::try_from(at).map_err(|_| Errno::Inval)?;
        // As many entries as can fit: each record takes at least 24 bytes.
        let most = i32::try_from(size / reclen(1)).unwrap_or(i32::MAX);
        if most == 0 {
            return Err(Errno::Inval);
        }
        let (data, _) = fs::Client::new(ipc, port)
            .dir_readdir(index, most, size as u64)
            .map_err(dir_rpc)?;
        let entries = decode_entries(&data).map_err(Errno::from)?;
        let mut out = DirentWriter::new(size);
        let mut next = index;
        for e in &entries {
            let name = e.name.as_bytes();
            // A name no Linux directory can hold (a server's mistake) is
            // passed over.
            let bad = name.is_empty() || name.contains(&0) || name.contains(&b'/');
            if !bad && !out.push(e.ino, i64::from(next) + 1, dt_from_mode(e.kind), name) {
                break;
            }
            next += 1;
        }
        if next == index && !entries.is_empty() {
            // Not even the first entry fits.
            return Err(Errno::Inval);
        }
        if next != index {
            file.seek(i64::from(next), SEEK_SET).map_err(rpc)?;
        }
        Ok(out.into_bytes())
    }
}
