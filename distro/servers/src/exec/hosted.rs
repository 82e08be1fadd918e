//! The exec server on hurd-ipc's hosted runtime.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::string::{String, ToString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use std::vec::Vec;

use hurd_auth::{AuthClient, IdSet};
use hurd_ipc::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::user::{ReceiveRight, SendRight};
use hurd_ipc::{Disposition, Error, MigReturn, PortName, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{NetFs, Options};
use hurd_trans::protocol::io;
use hurd_trans::transbox::Program as TransProgram;
use hurd_trans::translators::programs::own_ids;
use hurd_trans::trivfs::Single;

use crate::proc::{HostedProc, NO_OWNER, Signals};

use super::{
    Arrived, ExecNode, ExecRequest, Found, INIT_PORT_AUTH, INIT_PORT_CRDIR, INIT_PORT_CWDIR,
    INIT_PORT_MAX, INIT_PORT_PROC, MAX_RUNNING, Routine, SIGABRT, StartExec, WaitStatus, exec,
};

/// A hosted program: runs as a new task with its context and returns its
/// exit status. On the kernel, ELF files loaded by the exec server take the
/// place of these; hosted, a file holding [`hosted_image`](super::hosted_image)
/// of a name stands for the program registered under it.
pub type Program = Arc<dyn Fn(&ProgramContext) -> i32 + Send + Sync>;

/// The programs an exec server knows, by the name their image holds; shared
/// by clones (a system's exec server and the `/hurd/exec` translators started
/// from it know the same programs).
#[derive(Clone, Default)]
pub struct ProgramTable {
    programs: Arc<Mutex<HashMap<String, Program>>>,
}

impl ProgramTable {
    /// An empty table.
    pub fn new() -> ProgramTable {
        ProgramTable::default()
    }

    /// Registers `program` under `name`: a file holding
    /// [`hosted_image(name)`](super::hosted_image) runs it.
    pub fn register(&self, name: &str, program: Program) {
        lock(&self.programs).insert(name.to_string(), program);
    }

    /// The program registered under `name`.
    pub fn get(&self, name: &str) -> Option<Program> {
        lock(&self.programs).get(name).cloned()
    }
}

/// What a running program holds: its task, arguments and environment, and
/// the ports the caller handed over, named in the program's own space.
pub struct ProgramContext {
    /// The program's task (terminated when the program returns or panics).
    pub task: Task,
    /// The arguments (`argv[0]` first).
    pub argv: Vec<String>,
    /// The environment, `NAME=value` strings.
    pub envp: Vec<String>,
    /// The descriptor table: `dtable[n]` is descriptor n's port (NULL:
    /// closed).
    pub dtable: Vec<PortName>,
    /// The initial ports, indexed by `INIT_PORT_*` (NULL when not given).
    /// With a proc server, `INIT_PORT_PROC` is the program's own proc port.
    pub portarray: [PortName; INIT_PORT_MAX],
    /// The program's pid (0 when the exec server has no proc server).
    pub pid: i32,
    /// The signals posted to its message port.
    signals: Arc<Signals>,
}

impl ProgramContext {
    /// Descriptor `n`'s port (NULL when closed).
    pub fn fd(&self, n: usize) -> PortName {
        self.dtable.get(n).copied().unwrap_or(PortName::NULL)
    }

    /// Takes the oldest signal posted to the program and not yet taken.
    pub fn signalled(&self) -> Option<i32> {
        self.signals.take()
    }

    /// Waits up to `timeout` for a signal and takes it (`None`: none came).
    /// A program that waits for something should wait here, or check
    /// [`killed`](Self::killed) between its RPCs.
    pub fn wait_signal(&self, timeout: Duration) -> Option<i32> {
        self.signals.wait(timeout)
    }

    /// The fatal signal (`SIGKILL`, `SIGTERM`, `SIGINT`, `SIGHUP`,
    /// `SIGQUIT`) that ended the program, if one came: its task is already
    /// terminated, so its RPCs fail, and whatever it returns its wait status
    /// names that signal.
    pub fn killed(&self) -> Option<i32> {
        self.signals.fatal()
    }

    /// The auth handle the program runs with.
    pub fn auth(&self) -> PortName {
        self.portarray[INIT_PORT_AUTH]
    }

    /// The ids of the program's auth handle (`auth_getids`).
    ///
    /// # Errors
    ///
    /// The auth server's error (the handle is not one of its ports).
    pub fn ids(&self) -> Result<IdSet, Error> {
        AuthClient::new(&self.task, self.auth()).getids()
    }

    /// `NAME`'s value in the environment.
    pub fn getenv(&self, name: &str) -> Option<&str> {
        self.envp.iter().find_map(|e| {
            e.split_once('=')
                .and_then(|(n, v)| (n == name).then_some(v))
        })
    }

    /// The program's file name resolver: its root and working directories
    /// and auth handle, and its descriptors (for `/dev/fd/N`).
    pub fn lookup(&self) -> Lookup<'_, Task> {
        Lookup {
            ipc: &self.task,
            crdir: self.portarray[INIT_PORT_CRDIR],
            cwdir: self.portarray[INIT_PORT_CWDIR],
            auth: self.auth(),
            fds: &self.dtable,
            ctty: PortName::NULL,
        }
    }

    /// Writes all of `data` to descriptor `fd` (`io_write` at the file
    /// pointer).
    ///
    /// # Errors
    ///
    /// `EBADF` when `fd` is not an open descriptor, `EIO` when the server
    /// takes no byte; the I/O server's error otherwise.
    pub fn write(&self, fd: usize, data: &[u8]) -> Result<(), Error> {
        let port = self.fd(fd);
        if !port.is_valid() {
            return Err(Errno::BadF.into());
        }
        let c = io::Client::new(&self.task, port);
        let mut at = 0;
        while at < data.len() {
            match c.write(data[at..].to_vec(), -1)? {
                0 => return Err(Errno::Io.into()),
                n => {
                    at += usize::try_from(n)
                        .unwrap_or(usize::MAX)
                        .min(data.len() - at)
                }
            }
        }
        Ok(())
    }

    /// Writes `text` to standard output.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn print(&self, text: &str) -> Result<(), Error> {
        self.write(1, text.as_bytes())
    }

    /// Writes `text` to standard error.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn eprint(&self, text: &str) -> Result<(), Error> {
        self.write(2, text.as_bytes())
    }

    /// Reads up to `max` bytes from descriptor `fd` (`io_read` at the file
    /// pointer); empty at end of file.
    ///
    /// # Errors
    ///
    /// `EBADF` when `fd` is not an open descriptor; the I/O server's error
    /// otherwise.
    pub fn read(&self, fd: usize, max: usize) -> Result<Vec<u8>, Error> {
        let port = self.fd(fd);
        if !port.is_valid() {
            return Err(Errno::BadF.into());
        }
        io::Client::new(&self.task, port).read(-1, max as u64)
    }
}

/// The exec server: the programs it knows, and the runtime their tasks are
/// made in.
pub struct ExecServer {
    task: Task,
    rt: Runtime,
    programs: ProgramTable,
    running: Arc<AtomicUsize>,
    proc: OnceLock<Arc<HostedProc>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ExecServer {
    /// A server whose programs run as tasks of `rt`, knowing no programs yet.
    pub fn new(rt: &Runtime) -> Arc<ExecServer> {
        Arc::new(ExecServer::new_in(rt, rt.task(), ProgramTable::new()))
    }

    /// A server answering as `task` (requests arrive in its space) and
    /// knowing `programs`.
    pub fn new_in(rt: &Runtime, task: Task, programs: ProgramTable) -> ExecServer {
        ExecServer {
            task,
            rt: rt.clone(),
            programs,
            running: Arc::new(AtomicUsize::new(0)),
            proc: OnceLock::new(),
        }
    }

    /// Registers `program` under `name`: a file holding
    /// [`hosted_image(name)`](super::hosted_image) runs it.
    pub fn register(&self, name: &str, program: Program) {
        self.programs.register(name, program);
    }

    /// Registers every program the server starts from now on with `proc`:
    /// a pid whose parent is the caller's (the process behind the request's
    /// `INIT_PORT_PROC`), owned by the first effective uid of its auth
    /// handle, with its arguments and environment; its message port; and
    /// its end. Set once; later calls are `EBUSY`.
    ///
    /// # Errors
    ///
    /// `EBUSY` when a proc server was set before.
    pub fn set_proc(&self, proc: Arc<HostedProc>) -> Result<(), Error> {
        self.proc.set(proc).map_err(|_| Error::from(Errno::Busy))
    }

    /// The server's program table (shared).
    pub fn programs(&self) -> ProgramTable {
        self.programs.clone()
    }

    /// Handles one message if it is a request of the exec protocol; others
    /// come back as [`Dispatch::NotMine`] (for a server answering several
    /// protocols on its ports, as the translator does).
    pub fn demux(&self, msg: hurd_ipc::Message) -> Dispatch {
        exec::demux(self, &self.task, msg)
    }

    /// Starts serving on a thread of its own; returns a send right to the
    /// server's port in `holder`'s space.
    ///
    /// # Errors
    ///
    /// The kernel's error when the server's port or its right for `holder`
    /// cannot be made, or `EAGAIN` when its thread cannot start.
    pub fn spawn(self: &Arc<Self>, holder: &Task) -> Result<PortName, Error> {
        let port = ReceiveRight::allocate(self.task.clone())?;
        let send = SendRight::from_raw(
            holder.clone(),
            self.task
                .give_right(port.name(), Disposition::MakeSend, holder)?,
        );
        let server = self.clone();
        // The serving thread owns the port: it dies when the thread ends.
        std::thread::Builder::new()
            .name("exec".into())
            .spawn(move || {
                let _ = exec::serve(&*server, &server.task, port.name());
            })
            .map_err(|_| Error::from(Errno::Again))?;
        Ok(send.into_raw())
    }

    /// Programs running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }
}

impl StartExec for ExecServer {
    /// Checks a request ([`ExecRequest::check`]) and hands it to a thread
    /// of its own, which finds the program (reading the file may block on
    /// its server), runs it and replies. Every right the request carried is
    /// released on an error.
    fn start(&self, req: &Request, routine: Routine, arrived: Arrived) -> Result<i32, Error> {
        let request = ExecRequest::check(self.task.clone(), arrived)?;
        // No task ports here: the program always gets a new task.
        if request.oldtask.is_valid() {
            return Err(Errno::OpNotSupp.into());
        }
        if self
            .running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_RUNNING).then_some(n + 1)
            })
            .is_err()
        {
            return Err(Errno::Again.into());
        }
        let (rt, running) = (self.rt.clone(), self.running.clone());
        let programs = self.programs.clone();
        let proc = self.proc.get().cloned();
        let req = *req;
        let name = request
            .argv
            .first()
            .cloned()
            .unwrap_or_else(|| "exec".into());
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let server_task = request.ipc.clone();
            let status = run(request, &rt, &programs, proc.as_deref());
            running.fetch_sub(1, Ordering::AcqRel);
            let _ = routine.reply(&server_task, &req, status);
        });
        match spawned {
            Ok(_) => Err(Error::Mig(MigReturn::NoReply)),
            Err(_) => {
                // The request (and its rights) was dropped with the closure.
                self.running.fetch_sub(1, Ordering::AcqRel);
                Err(Errno::Again.into())
            }
        }
    }
}

/// Finds the program (after the caller's own exec servers, following `#!`
/// lines), runs it in a new task and gives its wait status. The request's
/// rights are released or moved to the program whatever happens.
fn run(
    mut held: ExecRequest<Task>,
    rt: &Runtime,
    programs: &ProgramTable,
    proc: Option<&HostedProc>,
) -> Result<i32, Error> {
    if let Some(r) = held.forward() {
        return r;
    }
    let program = match held.find_program()? {
        Found::Hosted(prog) => programs.get(&prog).ok_or(Errno::NoExec)?,
        // No ELF loader in the hosted world.
        Found::Elf(_) => return Err(Errno::NoExec.into()),
    };
    let server = held.ipc.clone();
    let server = &server;
    let argv = core::mem::take(&mut held.argv);
    let envp = core::mem::take(&mut held.envp);
    // The program's task and its ports.
    let task = rt.task();
    // Its process: the caller's proc port gives way to its own.
    let parent_port = match proc {
        Some(_) => core::mem::replace(&mut held.portarray[INIT_PORT_PROC], PortName::NULL),
        None => PortName::NULL,
    };
    let signals = Signals::new();
    let process = proc.and_then(|proc| {
        let parent = crate::proc::pid_of(server, parent_port);
        let owner = AuthClient::new(server, held.portarray[INIT_PORT_AUTH])
            .getids()
            .ok()
            .and_then(|ids| ids.euids.iter().next())
            .unwrap_or(NO_OWNER);
        // Its message port is served by a signal thread of its task.
        let (pid, port) = proc
            .attach(parent, owner, (argv.clone(), envp.clone()), &task, &signals)
            .ok()?;
        Some((proc, pid, port))
    });
    if parent_port.is_valid() {
        let _ = server.port_deallocate(parent_port);
    }
    let mut give = |n: PortName| -> PortName {
        if !n.is_valid() {
            return n;
        }
        match server.give_right(n, Disposition::MoveSend, &task) {
            Ok(m) => m,
            Err(_) => {
                let _ = server.port_deallocate(n);
                PortName::NULL
            }
        }
    };
    let dtable: Vec<PortName> = held.dtable.drain(..).map(&mut give).collect();
    let mut portarray = [PortName::NULL; INIT_PORT_MAX];
    for (to, from) in portarray.iter_mut().zip(held.portarray.iter_mut()) {
        *to = give(core::mem::replace(from, PortName::NULL));
    }
    drop(held);
    if let Some((_, _, port)) = process {
        portarray[INIT_PORT_PROC] = port;
    }
    let ctx = ProgramContext {
        task: task.clone(),
        argv,
        envp,
        dtable,
        portarray,
        pid: process.as_ref().map_or(0, |p| p.1),
        signals: signals.clone(),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| program(&ctx)));
    drop(ctx);
    // Its rights die with it, as a task's do.
    task.terminate();
    let status = match (signals.fatal(), outcome) {
        (Some(sig), _) => WaitStatus::Signaled(sig).raw(),
        (None, Ok(code)) => WaitStatus::exited(code).raw(),
        (None, Err(_)) => WaitStatus::Signaled(SIGABRT).raw(),
    };
    if let Some((proc, pid, _)) = process {
        let _ = proc.exit(pid, status);
    }
    Ok(status)
}

/// The exec server as a translator (`settrans NODE /hurd/exec`), as the
/// Hurd's is on `/servers/exec`: a one-file node whose ports also answer the
/// exec protocol, knowing `programs` and running them as tasks of `rt`. A
/// user may start one of their own on a node they own and name it in
/// `EXEC_SERVERS`.
pub fn translator(rt: &Runtime, programs: ProgramTable) -> TransProgram {
    let rt = rt.clone();
    Arc::new(
        move |task: Task, _argv: Vec<String>, bootstrap: PortName, auth: PortName| {
            let (uid, gid) = own_ids(&task, auth);
            let server = ExecServer::new_in(&rt, task.clone(), programs.clone());
            let opts = Options {
                name: "exec",
                ..Options::default()
            };
            let Ok(fs) = NetFs::new(task, Single::new(ExecNode, uid, gid), auth, None, opts) else {
                return;
            };
            if fs.startup(bootstrap, OpenFlags::READ).is_err() {
                return;
            }
            let _ = hurd_ipc::mig::serve(fs.ipc(), fs.port_set(), |msg| match server.demux(msg) {
                Dispatch::NotMine(m) => fs.handle(m),
                d => d,
            });
        },
    )
}
