//! A shell's view of the system: its ports and identity.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hurd_auth::{AuthClient, IdSet};
use hurd_ipc::Errno;
use hurd_ipc::{Error, PortName, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::protocol::io;

/// The largest file `cat` and `cp` read (bounded, so a hostile file system
/// cannot make the shell allocate without end).
pub const MAX_FILE: usize = 16 << 20;

/// The most bytes one `io_write` carries or one `io_read` asks for: a
/// message stays well within what
/// every kernel's `mach_msg` copies (64 KiB on the reference kernel).
pub const WRITE_CHUNK: usize = 32 * 1024;

/// What a shell holds: send rights in `ipc`'s space, owned by the session
/// (released when it is dropped).
pub struct Session<'a, I: UserIpc + ?Sized> {
    /// The task's IPC.
    pub ipc: &'a I,
    /// The auth handle.
    pub auth: PortName,
    /// The root directory.
    pub crdir: PortName,
    /// The working directory.
    pub cwdir: PortName,
    /// The working directory's path, for `pwd` (absolute, normalised).
    pub cwd: String,
    /// The password server (NULL: none), for `su` and `login`.
    pub password: PortName,
    /// The session's own proc port (NULL: no proc server), for `ps` and
    /// `kill`, and handed to the programs it starts as their parent's.
    pub proc: PortName,
    /// Variables the programs it starts get in their environment
    /// (`NAME=value`, set with `export`).
    pub env: Vec<String>,
}

impl<I: UserIpc + ?Sized> Drop for Session<'_, I> {
    fn drop(&mut self) {
        for p in [self.auth, self.crdir, self.cwdir, self.password, self.proc] {
            self.release(p);
        }
    }
}

impl<'a, I: UserIpc + ?Sized> Session<'a, I> {
    /// A session in `/` with `auth` and `root` (both moved in; `root` serves
    /// as root and working directory).
    ///
    /// # Errors
    ///
    /// The kernel's error when `root`'s send right cannot take a second
    /// reference (it is not a send right in `ipc`'s space).
    pub fn new(
        ipc: &'a I,
        auth: PortName,
        root: PortName,
        password: PortName,
    ) -> Result<Session<'a, I>, Error> {
        ipc.port_mod_refs(root, hurd_ipc::RightType::Send, 1)?;
        Ok(Session {
            ipc,
            auth,
            crdir: root,
            cwdir: root,
            cwd: "/".to_string(),
            password,
            proc: PortName::NULL,
            env: Vec::new(),
        })
    }

    /// Releases a send right the session held.
    pub fn release(&self, port: PortName) {
        if port.is_valid() {
            let _ = self.ipc.port_deallocate(port);
        }
    }

    /// The file name resolver for this session.
    pub fn lookup(&self) -> Lookup<'_, I> {
        Lookup {
            ipc: self.ipc,
            crdir: self.crdir,
            cwdir: self.cwdir,
            auth: self.auth,
            fds: &[],
            ctty: PortName::NULL,
        }
    }

    /// Opens `path` (a send right the caller must release).
    ///
    /// # Errors
    ///
    /// The file-name lookup's error (`ENOENT`, `EACCES`...).
    pub fn open(&self, path: &str, flags: OpenFlags) -> Result<PortName, Error> {
        self.lookup().open(path, flags, 0o644)
    }

    /// The ids of the session's auth handle.
    ///
    /// # Errors
    ///
    /// The file-name lookup's error (`ENOENT`, `EACCES`...).
    pub fn ids(&self) -> Result<IdSet, Error> {
        AuthClient::new(self.ipc, self.auth).getids()
    }

    /// Reads a whole file (at most [`MAX_FILE`] bytes).
    ///
    /// # Errors
    ///
    /// The auth server's error.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, Error> {
        let f = self.open(path, OpenFlags::READ)?;
        let r = self.read_port(f);
        self.release(f);
        r
    }

    /// Reads from an open port until end of file.
    ///
    /// # Errors
    ///
    /// The file system's error opening or reading the file, or `EFBIG`
    /// beyond [`MAX_FILE`].
    pub fn read_port(&self, f: PortName) -> Result<Vec<u8>, Error> {
        let c = io::Client::new(self.ipc, f);
        let mut out = Vec::new();
        loop {
            let chunk = c.read(out.len() as i64, WRITE_CHUNK as u64)?;
            if chunk.is_empty() {
                return Ok(out);
            }
            if out.len() + chunk.len() > MAX_FILE {
                return Err(Errno::FBig.into());
            }
            out.extend_from_slice(&chunk);
        }
    }

    /// Writes `data` to `path`: replacing its contents, or at its end with
    /// `append`; creates it if need be.
    ///
    /// # Errors
    ///
    /// The I/O server's error, or `EFBIG` beyond [`MAX_FILE`].
    pub fn write_file(&self, path: &str, data: &[u8], append: bool) -> Result<(), Error> {
        let f = self.open_for_output(path, append)?;
        let c = io::Client::new(self.ipc, f);
        let mut at = 0;
        let r = loop {
            if at == data.len() {
                break Ok(());
            }
            let offset = if append { -1 } else { at as i64 };
            let end = data.len().min(at + WRITE_CHUNK);
            match c.write(data[at..end].to_vec(), offset) {
                Ok(0) => break Err(Errno::Io.into()),
                Ok(n) => at += (n as usize).min(data.len() - at),
                Err(e) => break Err(e),
            }
        };
        self.release(f);
        r
    }

    /// Opens `path` for writing as an output redirection does: created if
    /// need be, and truncated, or with `append` written at its end (a send
    /// right the caller must release).
    ///
    /// # Errors
    ///
    /// The file system's error opening or writing the file.
    pub fn open_for_output(&self, path: &str, append: bool) -> Result<PortName, Error> {
        let mut flags = OpenFlags::WRITE | OpenFlags::CREAT;
        flags |= if append {
            OpenFlags::APPEND
        } else {
            OpenFlags::TRUNC
        };
        self.open(path, flags)
    }

    /// The directory part and the last component of `path`, opening the
    /// directory (a send right the caller must release).
    ///
    /// # Errors
    ///
    /// The file-name lookup's error.
    pub fn parent(&self, path: &str) -> Result<(PortName, String), Error> {
        let trimmed = path.trim_end_matches('/');
        let (dir, name) = match trimmed.rfind('/') {
            Some(0) => ("/", &trimmed[1..]),
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => (".", trimmed),
        };
        if name.is_empty() || name == "." || name == ".." {
            return Err(Errno::Inval.into());
        }
        let d = self.open(dir, OpenFlags::empty())?;
        Ok((d, name.to_string()))
    }

    /// The absolute, normalised form of `path` relative to the working
    /// directory (for `pwd`; symbolic links are not followed).
    pub fn absolute(&self, path: &str) -> String {
        let mut parts: Vec<&str> = if path.starts_with('/') {
            Vec::new()
        } else {
            self.cwd.split('/').filter(|c| !c.is_empty()).collect()
        };
        for c in path.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
        let mut out = String::from("/");
        out.push_str(&parts.join("/"));
        out
    }
}
