//! An exec request as every exec server handles it, whatever runs the
//! program: the checks on what arrived, `EXEC_SERVERS`, and following `#!`
//! lines to the program's image. `no_std`, over any [`UserIpc`].

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use hurd_ipc::Errno;
use hurd_ipc::mig::Request;
use hurd_ipc::{
    Disposition, Error, MigReturn, PortArray, PortItem, PortName, RightType, SendError, UserIpc,
};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::protocol::io;

use super::{
    ARG_MAX, DTABLE_MAX, E2BIG, EXEC_FLAGS, EXEC_SECURE, HEADER_MAX, INIT_PORT_AUTH,
    INIT_PORT_CRDIR, INIT_PORT_CWDIR, INIT_PORT_MAX, Image, MAX_INTERPRETERS, argz, classify,
    copy_send, exec, parse_argz,
};

/// How long reading a program's file may take (its file system may be
/// anyone's).
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest program image read into memory (an ELF file).
pub const IMAGE_MAX: usize = 16 << 20;

/// A checked request: its rights in the server's space, released when it
/// is dropped unless taken.
pub struct ExecRequest<I: UserIpc> {
    /// The server's IPC.
    pub ipc: I,
    /// The file given as a port (NULL: by name).
    pub file: PortName,
    /// The task to load the program into (NULL: a new one).
    pub oldtask: PortName,
    /// The request's flags.
    pub flags: i32,
    /// The file's name, when it came by name.
    pub filename: Option<String>,
    /// The arguments.
    pub argv: Vec<String>,
    /// The environment.
    pub envp: Vec<String>,
    /// The descriptor table.
    pub dtable: Vec<PortName>,
    /// The initial ports, indexed by `INIT_PORT_*`.
    pub portarray: [PortName; INIT_PORT_MAX],
    /// Files opened while finding the program.
    pub opened: Vec<PortName>,
}

impl<I: UserIpc> Drop for ExecRequest<I> {
    fn drop(&mut self) {
        let names = [self.file, self.oldtask]
            .into_iter()
            .chain(self.dtable.drain(..))
            .chain(self.portarray)
            .chain(self.opened.drain(..));
        for n in names {
            if n.is_valid() {
                let _ = self.ipc.port_deallocate(n);
            }
        }
    }
}

/// Releases a right of a disposition the server does not take (receive or
/// send-once rights sent where send rights belong).
fn release_item<I: UserIpc>(ipc: &I, disposition: Disposition, name: PortName) {
    if !name.is_valid() {
        return;
    }
    if disposition == Disposition::PORT_RECEIVE {
        let _ = ipc.port_mod_refs(name, RightType::Receive, -1);
    } else {
        let _ = ipc.port_deallocate(name);
    }
}

/// What a request's program turned out to be.
#[derive(Debug)]
pub enum Found {
    /// A hosted program image naming a registered program.
    Hosted(String),
    /// An ELF file's bytes.
    Elf(Vec<u8>),
}

/// Which routine a request came as (their replies differ in id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routine {
    /// `exec_exec`.
    Exec,
    /// `exec_exec_file_name`.
    ExecFileName,
}

impl Routine {
    /// Sends the reply to `req`, a request of this routine answered later.
    ///
    /// # Errors
    ///
    /// The send's error when the reply cannot be sent (the client's reply
    /// port is gone).
    pub fn reply<I: UserIpc + ?Sized>(
        self,
        ipc: &I,
        req: &Request,
        status: Result<i32, Error>,
    ) -> Result<(), SendError> {
        match self {
            Routine::Exec => exec::reply::exec(ipc, req, status),
            Routine::ExecFileName => exec::reply::exec_file_name(ipc, req, status),
        }
    }
}

/// An exec server: what it does with a request of either routine. Every
/// `StartExec` serves the exec protocol ([`exec::Server`]); a server that
/// answers later returns `MIG_NO_REPLY` and uses [`Routine::reply`].
pub trait StartExec {
    /// Handles a request that came as `routine` with `arrived`.
    ///
    /// # Errors
    ///
    /// The error the client is to be answered with.
    fn start(&self, req: &Request, routine: Routine, arrived: Arrived) -> Result<i32, Error>;
}

impl<T: StartExec> exec::Server for T {
    fn exec(
        &self,
        req: &Request,
        file: PortItem,
        oldtask: PortItem,
        flags: i32,
        argv: Vec<u8>,
        envp: Vec<u8>,
        dtable: PortArray,
        portarray: PortArray,
    ) -> Result<i32, Error> {
        let arrived = Arrived {
            file,
            oldtask,
            flags,
            filename: None,
            argv,
            envp,
            dtable,
            portarray,
        };
        self.start(req, Routine::Exec, arrived)
    }

    fn exec_file_name(
        &self,
        req: &Request,
        file: PortItem,
        oldtask: PortItem,
        flags: i32,
        filename: String,
        argv: Vec<u8>,
        envp: Vec<u8>,
        dtable: PortArray,
        portarray: PortArray,
    ) -> Result<i32, Error> {
        let arrived = Arrived {
            file,
            oldtask,
            flags,
            filename: Some(filename),
            argv,
            envp,
            dtable,
            portarray,
        };
        self.start(req, Routine::ExecFileName, arrived)
    }
}

/// What arrived with an `exec_exec` or `exec_exec_file_name` request.
pub struct Arrived {
    /// The file as a port.
    pub file: PortItem,
    /// The task to load into.
    pub oldtask: PortItem,
    /// The flags.
    pub flags: i32,
    /// The file's name (`exec_exec_file_name`).
    pub filename: Option<String>,
    /// `argv` as an argz vector.
    pub argv: Vec<u8>,
    /// `envp` as an argz vector.
    pub envp: Vec<u8>,
    /// The descriptors.
    pub dtable: PortArray,
    /// The initial ports.
    pub portarray: PortArray,
}

impl<I: UserIpc> ExecRequest<I> {
    /// Checks what arrived: rights of the wrong kind, unknown flags, extra
    /// initial ports or too many descriptors are `EINVAL`, arguments beyond
    /// [`ARG_MAX`] `E2BIG`, malformed argz `EINVAL`, neither a file nor a
    /// name `EBADF`. On an error every right that arrived is released.
    ///
    /// # Errors
    ///
    /// `EINVAL`, `E2BIG` or `EBADF`, as above; every right that arrived is
    /// then released.
    pub fn check(ipc: I, a: Arrived) -> Result<ExecRequest<I>, Error> {
        let send_ok = |d: Disposition, n: PortName| !n.is_valid() || d == Disposition::PORT_SEND;
        if !send_ok(a.file.disposition, a.file.name)
            || !send_ok(a.oldtask.disposition, a.oldtask.name)
            || (!a.dtable.names.is_empty() && a.dtable.disposition != Disposition::PORT_SEND)
            || (!a.portarray.names.is_empty() && a.portarray.disposition != Disposition::PORT_SEND)
        {
            release_item(&ipc, a.file.disposition, a.file.name);
            release_item(&ipc, a.oldtask.disposition, a.oldtask.name);
            for n in a.dtable.names {
                release_item(&ipc, a.dtable.disposition, n);
            }
            for n in a.portarray.names {
                release_item(&ipc, a.portarray.disposition, n);
            }
            return Err(Errno::Inval.into());
        }
        let mut r = ExecRequest {
            ipc,
            file: a.file.name,
            oldtask: a.oldtask.name,
            flags: a.flags,
            filename: a.filename,
            argv: Vec::new(),
            envp: Vec::new(),
            dtable: a.dtable.names,
            portarray: [PortName::NULL; INIT_PORT_MAX],
            opened: Vec::new(),
        };
        let mut given = a.portarray.names.into_iter();
        for slot in r.portarray.iter_mut() {
            *slot = given.next().unwrap_or(PortName::NULL);
        }
        r.opened.extend(given);
        if !r.opened.is_empty() || r.dtable.len() > DTABLE_MAX || a.flags & !EXEC_FLAGS != 0 {
            return Err(Errno::Inval.into());
        }
        if a.argv.len().saturating_add(a.envp.len()) > ARG_MAX {
            return Err(Error::Code(E2BIG));
        }
        r.argv = parse_argz(&a.argv)?;
        r.envp = parse_argz(&a.envp)?;
        if !r.file.is_valid() && r.filename.is_none() {
            return Err(Errno::BadF.into());
        }
        Ok(r)
    }

    /// `NAME`'s value in the request's environment.
    pub fn getenv(&self, name: &str) -> Option<&str> {
        self.envp.iter().find_map(|e| {
            e.split_once('=')
                .and_then(|(n, v)| (n == name).then_some(v))
        })
    }

    /// The file name resolver of the caller's initial ports.
    pub fn lookup(&self) -> Lookup<'_, I> {
        Lookup {
            ipc: &self.ipc,
            crdir: self.portarray[INIT_PORT_CRDIR],
            cwdir: self.portarray[INIT_PORT_CWDIR],
            auth: self.portarray[INIT_PORT_AUTH],
            fds: &[],
            ctty: PortName::NULL,
        }
    }

    /// Hands the request to the caller's own exec servers, unless it is
    /// secure: `EXEC_SERVERS` is a `:`-separated list of file names of exec
    /// servers, opened with the caller's ports; each in turn gets the
    /// request (with `EXEC_SECURE`, so it runs the program itself rather
    /// than handing it on again) until one answers something other than
    /// `ENOEXEC`. Names that cannot be opened are skipped; if servers were
    /// asked and all said `ENOEXEC`, so does this one; if none could be
    /// asked, `None`: this server runs the program.
    pub fn forward(&self) -> Option<Result<i32, Error>> {
        if self.flags & EXEC_SECURE != 0 {
            return None;
        }
        let list = self.getenv("EXEC_SERVERS")?;
        let lookup = self.lookup();
        let mut tried = false;
        for name in list.split(':').filter(|n| !n.is_empty()) {
            let Ok(port) = lookup.open(name, OpenFlags::empty(), 0) else {
                continue;
            };
            let send = |name| PortItem {
                disposition: Disposition::CopySend,
                name,
            };
            let r = exec::Client::new(&self.ipc, port).exec_file_name(
                send(self.file),
                send(self.oldtask),
                self.flags | EXEC_SECURE,
                self.filename.clone().unwrap_or_default(),
                argz(&self.argv),
                argz(&self.envp),
                copy_send(&self.dtable),
                copy_send(&self.portarray),
            );
            let _ = self.ipc.port_deallocate(port);
            match r {
                Err(e) if Errno::of(e) == Some(Errno::NoExec) => tried = true,
                // Not an exec server at all: the next one.
                Err(Error::Mig(MigReturn::BadId)) => {}
                r => return Some(r),
            }
        }
        tried.then(|| Err(Errno::NoExec.into()))
    }

    /// Reads the file `path` names, opened for execution and reading with
    /// the caller's ports (its root and working directories and its ids),
    /// as the Hurd's exec opens a program's interpreter: the whole file, at
    /// most [`IMAGE_MAX`] bytes.
    ///
    /// # Errors
    ///
    /// The file system's error opening or reading the file, `EFBIG` beyond
    /// [`IMAGE_MAX`].
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, Error> {
        let file = self
            .lookup()
            .open(path, OpenFlags::EXEC | OpenFlags::READ, 0)?;
        let image = read_all(&self.ipc, file);
        let _ = self.ipc.port_deallocate(file);
        image
    }

    /// Finds the program: opens the file by name with the caller's ports
    /// when it came without a port, and follows `#!` lines (the script's
    /// name and the interpreter's argument join `argv`), at most
    /// [`MAX_INTERPRETERS`] (`ELOOP` beyond). A script given only as a port
    /// is `ENOEXEC` (its interpreter would have no name to open it by).
    ///
    /// # Errors
    ///
    /// The file system's error opening the program or an interpreter,
    /// `ELOOP` beyond [`MAX_INTERPRETERS`], `ENOEXEC` for a script given only
    /// as a port or a file that is no program.
    pub fn find_program(&mut self) -> Result<Found, Error> {
        let mut file = core::mem::replace(&mut self.file, PortName::NULL);
        let mut opened = false;
        let mut interpreters = 0;
        loop {
            if !file.is_valid() {
                let path = self.filename.as_deref().ok_or(Error::from(Errno::BadF))?;
                file = self
                    .lookup()
                    .open(path, OpenFlags::EXEC | OpenFlags::READ, 0)?;
                opened = true;
            }
            self.opened.push(file);
            let head = read_head(&self.ipc, file, opened)?;
            if head.starts_with(b"\x7fELF") {
                return Ok(Found::Elf(read_all(&self.ipc, file)?));
            }
            match classify(&head)? {
                Image::Hosted(name) => return Ok(Found::Hosted(name)),
                Image::Script { interpreter, arg } => {
                    let script = self.filename.take().ok_or(Errno::NoExec)?;
                    interpreters += 1;
                    if interpreters > MAX_INTERPRETERS {
                        return Err(Errno::Loop.into());
                    }
                    let mut next = vec![interpreter.clone()];
                    next.extend(arg);
                    next.push(script);
                    next.extend(core::mem::take(&mut self.argv).into_iter().skip(1));
                    self.argv = next;
                    self.filename = Some(interpreter);
                    file = PortName::NULL;
                }
            }
        }
    }
}

/// Reads the beginning of `file`. A port the caller opened must have been
/// opened for execution (`EACCES` otherwise); one the server `opened`
/// itself was, with the caller's ids.
fn read_head<I: UserIpc>(ipc: &I, file: PortName, opened: bool) -> Result<Vec<u8>, Error> {
    let c = io::Client::new(ipc, file).with_timeout(READ_TIMEOUT);
    if !opened {
        let modes = c.get_openmodes()?;
        if !OpenFlags::from_bits_truncate(modes as u32).contains(OpenFlags::EXEC) {
            return Err(Errno::Access.into());
        }
    }
    let mut head = Vec::new();
    while head.len() < HEADER_MAX {
        let chunk = c.read(head.len() as i64, (HEADER_MAX - head.len()) as u64)?;
        if chunk.is_empty() {
            break;
        }
        head.extend_from_slice(&chunk);
    }
    head.truncate(HEADER_MAX);
    Ok(head)
}

/// Reads all of `file` (at most [`IMAGE_MAX`] bytes; more is `EFBIG`).
fn read_all<I: UserIpc>(ipc: &I, file: PortName) -> Result<Vec<u8>, Error> {
    let c = io::Client::new(ipc, file).with_timeout(READ_TIMEOUT);
    let mut out = Vec::new();
    loop {
        let chunk = c.read(out.len() as i64, crate::shell::WRITE_CHUNK as u64)?;
        if chunk.is_empty() {
            return Ok(out);
        }
        if out.len() + chunk.len() > IMAGE_MAX {
            return Err(Errno::FBig.into());
        }
        out.extend_from_slice(&chunk);
    }
}
