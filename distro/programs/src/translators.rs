//! Starting translators on the kernel: the file system's passive records
//! (`settrans`, then a lookup) and active translators (`settrans -a`) start
//! through a [`TaskStarter`]; `settrans -g`, or the translator's end, lets
//! the next lookup start it again.
//!
//! Any executable file can be a translator: the starter opens the program
//! `argv[0]` names as the node's owner (through the owner's root directory
//! the file system gives it), makes an empty task — a child process of the
//! file system's owner (`hurd-init`), owned by the node's owner, so `ps`
//! shows it and its owner may `kill` it, as on the Hurd — and asks the exec
//! server at `/servers/exec` to load the program into it (`exec_exec`), with
//! the translator's bootstrap port as `INIT_PORT_BOOTSTRAP`, the owner's
//! auth handle and directories, and the task's proc port. The program finds
//! them under [`hurd_rt::ports`]' names ([`hurd_rt::translator::start`]).
//!
//! The exec server itself ([`EXEC_SERVER`], the translator on
//! `/servers/exec`) cannot be asked to start itself: the starter loads that
//! program into the task directly ([`hurd_rt::exec`]), as the Hurd's boot
//! loads its exec server.
//!
//! A file system that is not the system's root (an ext2 disk mounted on
//! `/home`) gives the starter the root directory it was started with
//! ([`TaskStarter::with_root`]): each translator gets that directory
//! reauthenticated with the node owner's ids (`io_reauthenticate`), as the
//! Hurd's libfshelp hands a translator its file system's `getcrdir()`, so
//! `/hurd/hello` and `/servers/exec` are the system's.
//!
//! A start runs on a thread of its own, since opening the program and
//! asking the exec server are requests the calling file system must be free
//! to answer; a start that fails releases the bootstrap port, and the
//! lookups waiting for the translator learn that it died (`EDIED`).

use alloc::string::String;
use alloc::vec::Vec;

use hurd_auth::AuthClient;
use hurd_ipc::{Disposition, Errno, Error, PortItem, PortName, RightType, UserIpc};
use hurd_rt::exec::{self, InitialPort, Program};
use hurd_rt::ports::{AUTH, BOOTSTRAP, CRDIR, CWDIR, PROC};
use hurd_rt::{KernelIpc, mach};
use hurd_servers::exec::{INIT_PORT_MAX, argz, copy_send, exec as exec_protocol};
use hurd_servers::proc::process;
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::protocol::io;
use hurd_trans::transbox::{InitDirs, Starter};

/// The exec server's program: loaded by the starter itself.
pub const EXEC_SERVER: &str = "/hurd/exec";

/// Where the exec server is found.
pub const EXEC_SERVER_NODE: &str = "/servers/exec";

/// The largest program the starter loads itself.
const MAX_PROGRAM: usize = 16 << 20;

/// The most bytes one `io_read` asks for: a reply that fits a message.
const READ_CHUNK: u64 = 32 * 1024;

/// Starts translators as tasks of their own, exec'd from the file system.
/// See the [module documentation](self).
#[derive(Debug, Clone, Copy)]
pub struct TaskStarter {
    proc: Option<PortName>,
    root: Option<PortName>,
}

impl TaskStarter {
    /// A starter whose translators are child processes of the caller's
    /// (`proc`, its proc port: a send right the starter uses and never
    /// releases), or of nobody's when `None`.
    pub fn new(proc: Option<PortName>) -> TaskStarter {
        TaskStarter { proc, root: None }
    }

    /// The same starter, giving each translator `root` (a send right to a
    /// directory the starter uses and never releases) reauthenticated with
    /// the translator's ids as its root directory, instead of the root of
    /// the file system that starts it.
    #[must_use]
    pub fn with_root(self, root: PortName) -> TaskStarter {
        TaskStarter {
            root: Some(root),
            ..self
        }
    }
}

/// How long [`reap_children`] waits before asking again when the caller has
/// no child.
const REAP_IDLE: core::time::Duration = core::time::Duration::from_secs(1);

/// Reaps the caller's ended children — the translators a [`TaskStarter`]
/// made child processes of the caller's (`proc`, its proc port), and the
/// tasks a start that failed left — on a thread of its own, as init reaps
/// its own: a translator that ends (killed by its owner, gone away) leaves
/// no zombie in `ps`. For a file system other than init's root (the
/// disk's ext2fs). The thread waits in `proc_wait` for any child; with none
/// (`ECHILD`) it asks again a second later.
///
/// # Errors
///
/// What starting the thread returns.
pub fn reap_children(proc: PortName) -> Result<(), hurd_ipc::KernReturn> {
    hurd_rt::thread::spawn(move || {
        let ipc = KernelIpc::new();
        let client = process::Client::new(&ipc, proc);
        loop {
            match client.wait(-1, 0) {
                Ok(_) => {}
                Err(hurd_ipc::Error::Code(hurd_servers::proc::ECHILD)) => {
                    hurd_rt::thread::sleep(REAP_IDLE);
                }
                // The proc server is gone: nothing to reap any more.
                Err(_) => return,
            }
        }
    })
    .map(drop)
}

/// What one start holds: references of its own to every right it uses,
/// released when it is dropped (the start done, or never begun).
struct Job {
    argv: Vec<String>,
    bootstrap: PortName,
    auth: PortName,
    dirs: InitDirs,
    proc: Option<PortName>,
}

impl Drop for Job {
    fn drop(&mut self) {
        let ipc = KernelIpc::new();
        for p in [self.bootstrap, self.auth, self.dirs.crdir, self.dirs.cwdir] {
            if p.is_valid() {
                let _ = ipc.port_deallocate(p);
            }
        }
    }
}

impl Starter for TaskStarter {
    fn start(&self, argv: &[String], bootstrap: PortName, auth: PortName) -> Result<(), Errno> {
        self.start_with_dirs(argv, bootstrap, auth, InitDirs::NONE)
    }

    fn start_with_dirs(
        &self,
        argv: &[String],
        bootstrap: PortName,
        auth: PortName,
        dirs: InitDirs,
    ) -> Result<(), Errno> {
        let ipc = KernelIpc::new();
        // References of the job's own: the caller keeps its rights (the
        // auth handle is the job's already).
        let copy = |p: PortName| {
            if p.is_valid() && ipc.port_mod_refs(p, RightType::Send, 1).is_ok() {
                p
            } else {
                PortName::NULL
            }
        };
        let job = Job {
            argv: argv.to_vec(),
            bootstrap: copy(bootstrap),
            auth,
            dirs: InitDirs {
                crdir: copy(dirs.crdir),
                cwdir: copy(dirs.cwdir),
            },
            proc: self.proc,
        };
        if argv.is_empty() || !job.bootstrap.is_valid() {
            return Err(Errno::Inval);
        }
        let root = self.root;
        // A thread that cannot be made drops the job, releasing it.
        hurd_rt::thread::spawn(move || {
            let mut job = job;
            let done = match root {
                Some(root) => root_as_owner(&mut job, root),
                None => Ok(()),
            };
            if let Err(e) = done.and_then(|()| run(&job)) {
                hurd_rt::println!("translators: {} did not start: {e:?}", job.argv[0]);
            }
        })
        .map(drop)
        .map_err(|_| Errno::Again)
    }
}

/// Makes `root`, reauthenticated with the job's ids (`io_reauthenticate`
/// and the auth server's rendezvous), the job's root directory in place
/// of the one the file system gave, which stays its working directory.
fn root_as_owner(job: &mut Job, root: PortName) -> Result<(), Error> {
    let ipc = KernelIpc::new();
    let crdir = hurd_auth::reauthenticate(&ipc, job.auth, |rendezvous| {
        io::Client::new(&ipc, root).reauthenticate(rendezvous)
    })?;
    // The working directory stays the one the file system gave (the job
    // holds a reference of its own to it, also when it is the same port).
    let old = core::mem::replace(&mut job.dirs.crdir, crdir);
    if old.is_valid() {
        let _ = ipc.port_deallocate(old);
    }
    Ok(())
}

/// Starts the translator of `job`: an empty task, made a process, with the
/// program loaded into it (by the exec server, or here for the exec
/// server's own).
fn run(job: &Job) -> Result<(), Error> {
    let ipc = KernelIpc::new();
    // A working directory that is the root directory is given once: a port
    // has one name in a space.
    let cwdir = if job.dirs.cwdir == job.dirs.crdir {
        PortName::NULL
    } else {
        job.dirs.cwdir
    };
    let owner = Lookup {
        ipc: &ipc,
        crdir: job.dirs.crdir,
        cwdir: if cwdir.is_valid() {
            cwdir
        } else {
            job.dirs.crdir
        },
        auth: job.auth,
        fds: &[],
        ctty: PortName::NULL,
    };
    let file = owner.open(&job.argv[0], OpenFlags::READ | OpenFlags::EXEC, 0)?;
    let task = match exec::create_task() {
        Ok(t) => t,
        Err(e) => {
            let _ = ipc.port_deallocate(file);
            return Err(e.into());
        }
    };
    let started = make_process(job, task).and_then(|proc_port| {
        let r = if job.argv[0] == EXEC_SERVER {
            load_here(job, task, file, cwdir, proc_port)
        } else {
            exec_there(job, &owner, task, file, cwdir, proc_port)
        };
        if proc_port.is_valid() {
            let _ = ipc.port_deallocate(proc_port);
        }
        r
    });
    if started.is_err() {
        let _ = mach::task_terminate(task);
    }
    let _ = ipc.port_deallocate(task);
    let _ = ipc.port_deallocate(file);
    started
}

/// Makes `task` a child process of the starter's, owned by the node's
/// owner; its proc port (NULL without a proc server).
fn make_process(job: &Job, task: PortName) -> Result<PortName, Error> {
    let Some(parent) = job.proc else {
        return Ok(PortName::NULL);
    };
    let ipc = KernelIpc::new();
    let (_, port) = crate::process::adopt(&ipc, parent, task)?;
    let owner = AuthClient::new(&ipc, job.auth)
        .getids()
        .ok()
        .and_then(|ids| ids.euids.iter().next());
    if let Some(uid) = owner {
        let _ = process::Client::new(&ipc, port).setowner(uid, 0);
    }
    Ok(port)
}

/// Has the exec server at `/servers/exec` load the program in `file` into
/// `task` (`exec_exec`), the translator's ports in its `portarray`.
fn exec_there(
    job: &Job,
    owner: &Lookup<'_, KernelIpc>,
    task: PortName,
    file: PortName,
    cwdir: PortName,
    proc_port: PortName,
) -> Result<(), Error> {
    let ipc = KernelIpc::new();
    let server = owner.open(EXEC_SERVER_NODE, OpenFlags::empty(), 0)?;
    let mut portarray = [PortName::NULL; INIT_PORT_MAX];
    portarray[hurd_servers::exec::INIT_PORT_CWDIR] = cwdir;
    portarray[hurd_servers::exec::INIT_PORT_CRDIR] = job.dirs.crdir;
    portarray[hurd_servers::exec::INIT_PORT_AUTH] = job.auth;
    portarray[hurd_servers::exec::INIT_PORT_PROC] = proc_port;
    portarray[hurd_servers::exec::INIT_PORT_BOOTSTRAP] = job.bootstrap;
    let item = |name| PortItem {
        disposition: Disposition::CopySend,
        name,
    };
    let r = exec_protocol::Client::new(&ipc, server).exec(
        item(file),
        item(task),
        0,
        argz(&job.argv),
        Vec::new(),
        copy_send(&[]),
        copy_send(&portarray),
    );
    let _ = ipc.port_deallocate(server);
    match r? {
        0 => Ok(()),
        status => Err(Error::Code(status)),
    }
}

/// Loads the program in `file` into `task` here and starts it: for the
/// exec server itself.
fn load_here(
    job: &Job,
    task: PortName,
    file: PortName,
    cwdir: PortName,
    proc_port: PortName,
) -> Result<(), Error> {
    let image = read_file(file, MAX_PROGRAM)?;
    let given = [
        (BOOTSTRAP, job.bootstrap),
        (AUTH, job.auth),
        (CRDIR, job.dirs.crdir),
        (CWDIR, cwdir),
        (PROC, proc_port),
    ];
    let ports: Vec<InitialPort> = given
        .into_iter()
        .filter(|(_, right)| right.is_valid())
        .map(|(name, right)| InitialPort {
            name,
            right,
            disposition: Disposition::CopySend,
        })
        .collect();
    let argv: Vec<&str> = job.argv.iter().map(String::as_str).collect();
    let program = Program {
        image: &image,
        argv: &argv,
        envp: &[],
        ports: &ports,
    };
    let thread = exec::load_into(task, &program)?;
    let resumed = exec::resume_thread(thread);
    let _ = KernelIpc::new().port_deallocate(thread);
    Ok(resumed?)
}

/// The whole file behind `file`, through `io_read`: at most `limit` bytes
/// (`EFBIG`).
fn read_file(file: PortName, limit: usize) -> Result<Vec<u8>, Error> {
    let ipc = KernelIpc::new();
    let io = io::Client::new(&ipc, file);
    let mut out = Vec::new();
    loop {
        let chunk = io.read(out.len() as i64, READ_CHUNK)?;
        if chunk.is_empty() {
            return Ok(out);
        }
        if out.len() + chunk.len() > limit {
            return Err(Errno::FBig.into());
        }
        out.extend_from_slice(&chunk);
    }
}
