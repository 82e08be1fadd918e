//! The client side of name resolution: `file_name_lookup` and the retry
//! protocol (glibc's `hurd/lookup-retry.c`).
//!
//! A lookup starts at the root directory (absolute names) or the working
//! directory, and each `dir_lookup` answer says what next:
//!
//! - `FS_RETRY_NORMAL` with an empty name: done; otherwise go on with the
//!   name at the returned port (crossing into a translator).
//! - `FS_RETRY_REAUTH`: reauthenticate the returned port with our auth
//!   handle first (".." out of a translator's root leads to a port made for
//!   the translator, not for us), then as `NORMAL` — one more lookup even of
//!   "" so the parent can make a port for *our* ids.
//! - `FS_RETRY_MAGICAL`: `/...` restarts at the root directory (absolute
//!   symlinks), `fd/N` continues at descriptor N, `tty` at the controlling
//!   terminal; anything else is `EGRATUITOUS`.
//!
//! Every retry counts towards [`ELOOP_THRESHOLD`] (`ELOOP` beyond it).

use hurd_ipc::Errno;
use hurd_ipc::{Error, MigReturn, PortName, RightType, UserIpc};

use crate::flags::OpenFlags;
use crate::mode::{S_IATRANS, S_IPTRANS, is_dir, is_lnk};
use crate::name::Name;
use crate::protocol::{fs, io};
use crate::retry::{Retry, RetryType};

/// Retries one name resolution may take (glibc's `__eloop_threshold`).
pub const ELOOP_THRESHOLD: u32 = 40;

/// A task's view of the file name space: its root and working directories,
/// its auth handle, its file descriptors and its controlling terminal (all
/// send rights in `ipc`'s space, borrowed: the lookup never consumes them).
pub struct Lookup<'a, I: UserIpc + ?Sized> {
    /// The task's IPC.
    pub ipc: &'a I,
    /// The root directory (`INIT_PORT_CRDIR`).
    pub crdir: PortName,
    /// The working directory (`INIT_PORT_CWDIR`).
    pub cwdir: PortName,
    /// The auth handle (`INIT_PORT_AUTH`), for reauthentication.
    pub auth: PortName,
    /// File descriptors: `fds[n]` is descriptor n's port (NULL: closed).
    pub fds: &'a [PortName],
    /// The controlling terminal's port (NULL: none).
    pub ctty: PortName,
}

/// Errors as the user sees them: a server that does not know `dir_lookup`
/// is not a directory.
fn lookup_error(e: Error) -> Error {
    match e {
        Error::Mig(MigReturn::BadId) => Errno::NotDir.into(),
        e if Errno::of(e) == Some(Errno::OpNotSupp) => Errno::NotDir.into(),
        e => e,
    }
}

impl<I: UserIpc + ?Sized> Lookup<'_, I> {
    /// `file_name_lookup`: opens `name` with `flags` (creating with `mode`
    /// under `O_CREAT`). Returns a send right for the file.
    ///
    /// # Errors
    ///
    /// The first RPC that fails, with the server's `errno` (`ENOENT`,
    /// `EACCES`, `ENOTDIR`, ...), or `ELOOP` after too many retries or symlinks.
    pub fn open(
        &self,
        name: impl AsRef<[u8]>,
        flags: OpenFlags,
        mode: u32,
    ) -> Result<PortName, Error> {
        let name = name.as_ref();
        if name.is_empty() {
            return Err(Errno::NoEnt.into());
        }
        let mut flags = flags;
        if flags.contains(OpenFlags::NOFOLLOW) {
            // Look at the node itself, then refuse symlinks (lookup-retry.c).
            flags |= OpenFlags::NOTRANS;
        }
        let start = if name.starts_with(b"/") {
            self.crdir
        } else {
            self.cwdir
        };
        let r = self.dir_lookup(start, name, flags, mode)?;
        self.retry(r, flags, mode)
    }

    /// `file_name_lookup_under`: `name` relative to `dir` (a borrowed send
    /// right) instead of the working directory.
    ///
    /// # Errors
    ///
    /// As [`Lookup::open`].
    pub fn open_under(
        &self,
        dir: PortName,
        name: impl AsRef<[u8]>,
        flags: OpenFlags,
        mode: u32,
    ) -> Result<PortName, Error> {
        let name = name.as_ref();
        let start = if name.starts_with(b"/") {
            self.crdir
        } else {
            dir
        };
        let r = self.dir_lookup(start, name, flags, mode)?;
        self.retry(r, flags, mode)
    }

    fn dir_lookup(
        &self,
        dir: PortName,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> Result<Retry, Error> {
        let start = name.iter().position(|&c| c != b'/').unwrap_or(name.len());
        let (kind, name, port) = fs::Client::new(self.ipc, dir)
            .dir_lookup(Name::from(&name[start..]), flags.bits() as i32, mode)
            .map_err(lookup_error)?;
        let Ok(kind) = RetryType::try_from(kind) else {
            if port.name.is_valid() {
                let _ = self.ipc.port_deallocate(port.name);
            }
            return Err(Errno::Gratuitous.into());
        };
        Ok(Retry {
            kind,
            name,
            port: port.name,
        })
    }

    fn release(&self, port: PortName) {
        if port.is_valid() {
            let _ = self.ipc.port_deallocate(port);
        }
    }

    /// `io_reauthenticate` + `auth_user_authenticate`: the server's port for
    /// the same object with our ids. Consumes `port`.
    ///
    /// # Errors
    ///
    /// The failure of `io_reauthenticate` or of the rendezvous; `port` is
    /// released either way.
    pub fn reauthenticate(&self, port: PortName) -> Result<PortName, Error> {
        let r = hurd_auth::reauthenticate(self.ipc, self.auth, |rendezvous| {
            io::Client::new(self.ipc, port).reauthenticate(rendezvous)
        });
        self.release(port);
        r
    }

    /// `hurd_file_name_lookup_retry`: follows a `dir_lookup` answer to the
    /// end. Consumes the answer's port.
    ///
    /// # Errors
    ///
    /// As [`Lookup::open`]; a malformed magic retry is `EGRATUITOUS`.
    pub fn retry(&self, first: Retry, flags: OpenFlags, mode: u32) -> Result<PortName, Error> {
        let mut r = first;
        let mut nloops = 0u32;
        loop {
            // Every answer counts, whatever its kind: a server that answers
            // `fd/N/...` or `tty/...` leading back to itself is a loop too.
            nloops += 1;
            if nloops > ELOOP_THRESHOLD {
                self.release(r.port);
                return Err(Errno::Loop.into());
            }
            // Where to look next: (start port, owned?, name).
            let (start, owned, name): (PortName, bool, Name) = match r.kind {
                RetryType::Reauth | RetryType::Normal => {
                    let port = if r.kind == RetryType::Reauth {
                        self.reauthenticate(r.port)?
                    } else {
                        r.port
                    };
                    if r.name.is_empty() && r.kind == RetryType::Normal {
                        return self.finish(port, flags);
                    }
                    (port, true, r.name)
                }
                RetryType::Magical => {
                    let name = r.name;
                    let name = name.as_bytes();
                    if let Some(rest) = name.strip_prefix(b"/") {
                        self.release(r.port);
                        (self.crdir, false, Name::from(rest))
                    } else if let Some(rest) = name.strip_prefix(b"fd/") {
                        self.release(r.port);
                        let (num, tail) = match rest.iter().position(|&c| c == b'/') {
                            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                            None => (rest, None),
                        };
                        if num.is_empty() || !num.iter().all(|b| b.is_ascii_digit()) {
                            return Err(Errno::NoEnt.into());
                        }
                        let fd = core::str::from_utf8(num)
                            .ok()
                            .and_then(|n| n.parse::<usize>().ok())
                            .and_then(|n| self.fds.get(n).copied())
                            .filter(|p| p.is_valid())
                            .ok_or(Error::from(Errno::BadF))?;
                        self.ipc
                            .port_mod_refs(fd, RightType::Send, 1)
                            .map_err(|_| Error::from(Errno::BadF))?;
                        match tail {
                            None => return Ok(fd),
                            Some(t) => (fd, true, Name::from(t)),
                        }
                    } else if name == b"tty" || name.starts_with(b"tty/") {
                        self.release(r.port);
                        if !self.ctty.is_valid() {
                            return Err(Errno::NxIo.into());
                        }
                        let t = self.dir_lookup(self.ctty, b"", flags, mode)?;
                        if t.kind != RetryType::Normal || !t.name.is_empty() {
                            self.release(t.port);
                            return Err(Errno::Gratuitous.into());
                        }
                        let tty = self.reauthenticate(t.port)?;
                        match name.strip_prefix(b"tty/") {
                            None => return Ok(tty),
                            Some(rest) => (tty, true, Name::from(rest)),
                        }
                    } else {
                        self.release(r.port);
                        return Err(Errno::Gratuitous.into());
                    }
                }
            };
            let next = self.dir_lookup(start, name.as_bytes(), flags, mode);
            if owned {
                self.release(start);
            }
            r = next?;
        }
    }

    /// The final port: apply `O_NOFOLLOW`, `O_DIRECTORY` and `O_TRUNC`.
    fn finish(&self, port: PortName, flags: OpenFlags) -> Result<PortName, Error> {
        let check = || -> Result<(), Error> {
            if flags.contains(OpenFlags::NOFOLLOW) {
                let st = io::Client::new(self.ipc, port).stat()?;
                if flags.contains(OpenFlags::DIRECTORY) && !is_dir(st.mode) {
                    return Err(Errno::NotDir.into());
                }
                if is_lnk(st.mode) || (st.mode & (S_IPTRANS | S_IATRANS) != 0 && st.uid != 0) {
                    return Err(Errno::Loop.into());
                }
            }
            if flags.contains(OpenFlags::TRUNC) {
                fs::Client::new(self.ipc, port).file_set_size(0)?;
            }
            Ok(())
        };
        match check() {
            Ok(()) => Ok(port),
            Err(e) => {
                self.release(port);
                Err(e)
            }
        }
    }
}

/// Makes a symlink `name` → `target` in `dir`, as the Hurd's `symlink()`
/// does: an anonymous file (`dir_mkfile`), the passive translator
/// `/hurd/symlink target` on it, then `dir_link`.
///
/// # Errors
///
/// The failure of `dir_mkfile`, `file_set_translator` or `dir_link`
/// (`EEXIST` when `name` is taken); the anonymous file is released.
pub fn symlink<I: UserIpc + ?Sized>(
    ipc: &I,
    dir: PortName,
    name: impl AsRef<[u8]>,
    target: impl AsRef<[u8]>,
) -> Result<(), Error> {
    use hurd_ipc::user::SendRight;
    use hurd_ipc::{Disposition, PortItem};
    let file = fs::Client::new(ipc, dir).dir_mkfile(OpenFlags::WRITE.bits() as i32, 0o777)?;
    // The anonymous file: released whatever happens next.
    let file = SendRight::from_raw(ipc, file.name);
    let argz =
        crate::transbox::argv_to_argz(&[crate::flags::HURD_SYMLINK.as_bytes(), target.as_ref()]);
    let null = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    fs::Client::new(ipc, file.name()).file_set_translator(
        crate::flags::FS_TRANS_SET as i32,
        0,
        0,
        argz,
        null,
    )?;
    fs::Client::new(ipc, dir).dir_link(file.copy_item(), Name::from(name.as_ref()), 1)
}
