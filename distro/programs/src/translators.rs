//! Starting hurd-trans's translators on the kernel. The file system's
//! passive records (`settrans`, then a lookup) and active translators
//! (`settrans -a`) start through a [`Starter`]; `settrans -g`, or the
//! translator's end, lets the next lookup start it again.
//!
//! - [`TaskStarter`] runs each translator as a task of its own, loaded from
//!   the `translators` program (one program serving every translator named
//!   below, by its `argv[0]`), a child process of the file system's owner
//!   (`hurd-init`) owned by the node's owner — so `ps` shows it and its
//!   owner may `kill` it, as on the Hurd.
//! - [`ThreadStarter`] runs each as a thread of the calling task with its
//!   own [`KernelIpc`] (for a system without that program).
//!
//! Known programs: `/hurd/hello [TEXT]`, `/hurd/null`, `/hurd/zero`,
//! `/hurd/tmpfs [LIMIT]`, `/hurd/tarfs` (the archive is the node the
//! translator sits on), `/hurd/exec [--announce]` (the exec server),
//! `/hurd/union DIR...` and `/hurd/shadow LOWER UPPER`
//! (directories opened with the node owner's ids, names resolved under the
//! directories the file system gives). Any other is `ENOENT`. The translator
//! runs with the node owner's identity: the auth handle it is given.

use alloc::string::String;
use alloc::vec::Vec;

use hurd_auth::AuthClient;
use hurd_ipc::Errno;
use hurd_ipc::{PortName, RightType, UserIpc};
use hurd_trans::flags::OpenFlags;

use hurd_trans::netfs::{NetFs, Options, Tree};
use hurd_trans::transbox::{InitDirs, Starter};
use hurd_trans::translators::hello::{HELLO, Hello};
use hurd_trans::translators::null::{Null, Zero};
use hurd_trans::translators::ports::open_dirs;
use hurd_trans::translators::shadow::Shadow;
use hurd_trans::translators::tarfs::{NodeSource, Tarfs};
use hurd_trans::translators::tmpfs::Tmpfs;
use hurd_trans::translators::union::Union;
use hurd_trans::trivfs::Single;

use hurd_ipc::Disposition;
use hurd_rt::KernelIpc;
use hurd_rt::ports::{AUTH, BOOTSTRAP, CRDIR, CWDIR};

use crate::process;
use hurd_rt::exec::{self, InitialPort, Program};

/// The programs this starter knows.
pub const PROGRAMS: &[&str] = &[
    "/hurd/hello",
    "/hurd/null",
    "/hurd/zero",
    "/hurd/tmpfs",
    "/hurd/tarfs",
    "/hurd/union",
    "/hurd/shadow",
    "/hurd/exec",
];

/// Starts translators as threads of this task.
#[derive(Debug, Default, Clone, Copy)]
pub struct ThreadStarter;

impl Starter for ThreadStarter {
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
        let known = argv.first().is_some_and(|p| PROGRAMS.contains(&p.as_str()));
        if !known {
            let _ = ipc.port_deallocate(auth);
            return Err(Errno::NoEnt);
        }
        // The bootstrap right stays the caller's: the translator gets a
        // reference of its own (this task has one space).
        if ipc.port_mod_refs(bootstrap, RightType::Send, 1).is_err() {
            let _ = ipc.port_deallocate(auth);
            return Err(Errno::Inval);
        }
        // The directories too: references of the translator's own.
        let copy = |d: PortName| {
            if d.is_valid() && ipc.port_mod_refs(d, RightType::Send, 1).is_ok() {
                d
            } else {
                PortName::NULL
            }
        };
        let dirs = InitDirs {
            crdir: copy(dirs.crdir),
            cwdir: copy(dirs.cwdir),
        };
        let argv = argv.to_vec();
        hurd_rt::thread::spawn(move || run(&argv, bootstrap, auth, dirs))
            .map(drop)
            .map_err(|_| {
                for p in [bootstrap, auth, dirs.crdir, dirs.cwdir] {
                    if p.is_valid() {
                        let _ = ipc.port_deallocate(p);
                    }
                }
                Errno::Again
            })
    }
}

/// Starts translators as tasks of their own, loaded from `image` (the
/// `translators` program): the bootstrap port under [`BOOTSTRAP`], the
/// auth handle under [`AUTH`], the directories under [`CRDIR`] and
/// [`CWDIR`] (the latter only when it differs from the root), and — when
/// the starter has a proc port — a proc
/// port of the task's own under [`process::PROC`], as a child process of
/// the starter's owned by the handle's first effective uid.
#[derive(Debug, Clone, Copy)]
pub struct TaskStarter {
    image: &'static [u8],
    proc: Option<PortName>,
}

impl TaskStarter {
    /// A starter loading `image`; `proc` is the caller's proc port (a send
    /// right the starter uses, never releases).
    pub fn new(image: &'static [u8], proc: Option<PortName>) -> TaskStarter {
        TaskStarter { image, proc }
    }

    /// Loads, registers and resumes the task; `auth` is moved to it.
    fn spawn(&self, argv: &[&str], owner: Option<u32>, ports: &[InitialPort]) -> Result<(), Errno> {
        let ipc = KernelIpc::new();
        let name = argv.first().copied().unwrap_or("?");
        let program = Program {
            image: self.image,
            argv,
            envp: &[],
            ports,
        };
        match exec::load(&program) {
            Err(e) => {
                hurd_rt::println!("translators: {name} did not load: {e:?}");
                Err(match e {
                    exec::ExecError::Call(..) => Errno::Again,
                    _ => Errno::NoExec,
                })
            }
            Ok(child) => {
                let made = match self.proc {
                    Some(proc) => self.make_process(&ipc, proc, &child, owner),
                    None => Ok(()),
                };
                if let Err(e) = made {
                    hurd_rt::println!("translators: {name} is no process: {e:?}");
                }
                let r = made.and_then(|()| exec::resume(&child).map_err(|_| Errno::Again));
                if r.is_err() {
                    exec::terminate(child);
                } else {
                    let _ = ipc.port_deallocate(child.task);
                    let _ = ipc.port_deallocate(child.thread);
                }
                r
            }
        }
    }

    /// Makes the loaded `child` a child process of the starter's, owned by
    /// `owner`, with its proc port.
    fn make_process(
        &self,
        ipc: &KernelIpc,
        proc: PortName,
        child: &exec::Child,
        owner: Option<u32>,
    ) -> Result<(), Errno> {
        let (_, port) = process::adopt(ipc, proc, child.task).map_err(|e| {
            hurd_rt::println!("translators: proc_child: {e:?}");
            Errno::Again
        })?;
        if let Some(uid) = owner {
            let _ = hurd_servers::proc::process::Client::new(ipc, port).setowner(uid, 0);
        }
        process::give_proc(child.task, port).map_err(|_| Errno::Again)
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
        if !argv.first().is_some_and(|p| PROGRAMS.contains(&p.as_str())) {
            let _ = ipc.port_deallocate(auth);
            return Err(Errno::NoEnt);
        }
        let owner = AuthClient::new(&ipc, auth)
            .getids()
            .ok()
            .and_then(|ids| ids.euids.iter().next());
        let port = |name, right, disposition| InitialPort {
            name,
            right,
            disposition,
        };
        let mut ports = alloc::vec![
            port(BOOTSTRAP, bootstrap, Disposition::CopySend),
            port(AUTH, auth, Disposition::MoveSend),
        ];
        // A port has one name in a space: a working directory that is the
        // root directory is given once (the program finds it there).
        if dirs.crdir.is_valid() {
            ports.push(port(CRDIR, dirs.crdir, Disposition::CopySend));
        }
        if dirs.cwdir.is_valid() && dirs.cwdir != dirs.crdir {
            ports.push(port(CWDIR, dirs.cwdir, Disposition::CopySend));
        }
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        let r = self.spawn(&words, owner, &ports);
        if r.is_err() {
            // Whether or not the task took it, the handle is not ours.
            let _ = ipc.port_deallocate(auth);
        }
        r
    }
}

/// The `main` of the `translators` program: serves the translator its
/// `argv[0]` names with the ports a [`TaskStarter`] gave it. Returns when
/// the translator is told to go away (or could not start).
pub fn main_of_task(argv: &[String]) {
    let ipc = KernelIpc::new();
    let held = |name| hurd_rt::ports::held(name).unwrap_or(PortName::NULL);
    let crdir = held(CRDIR);
    let mut cwdir = held(CWDIR);
    // No working directory of its own: the root, under a reference of its
    // own (each is released once).
    if !cwdir.is_valid() && ipc.port_mod_refs(crdir, RightType::Send, 1).is_ok() {
        cwdir = crdir;
    }
    run(argv, held(BOOTSTRAP), held(AUTH), InitDirs { crdir, cwdir });
}

/// A translator's thread.
fn run(argv: &[String], bootstrap: PortName, auth: PortName, dirs: InitDirs) {
    let ipc = KernelIpc::new();
    let ids = AuthClient::new(&ipc, auth).getids().unwrap_or_default();
    let uid = ids.euids.iter().next().unwrap_or(0);
    let gid = ids.egids.iter().next().unwrap_or(0);
    let arg = argv.get(1);
    match argv.first().map(String::as_str) {
        Some("/hurd/hello") => {
            let text = arg.map_or(HELLO.to_vec(), |t| t.as_bytes().to_vec());
            serve(
                Single::new(Hello::new(&text), uid, gid),
                auth,
                bootstrap,
                "hello",
            );
        }
        Some("/hurd/null") => {
            let full = argv.iter().any(|a| a == "--full");
            serve(
                Single::new(Null { full }, uid, gid),
                auth,
                bootstrap,
                "null",
            );
        }
        Some("/hurd/zero") => serve(Single::new(Zero, uid, gid), auth, bootstrap, "zero"),
        Some("/hurd/tmpfs") => {
            let limit = arg.and_then(|l| l.parse().ok()).unwrap_or(16 << 20);
            serve(Tmpfs::new(uid, gid, 0o755, limit), auth, bootstrap, "tmpfs");
        }
        Some("/hurd/tarfs") => tarfs(uid, gid, auth, bootstrap),
        Some("/hurd/union") if argv.len() > 1 => {
            if let Ok(layers) = open_dirs(&ipc, dirs, auth, &argv[1..]) {
                serve(
                    Union::new(KernelIpc::new(), layers),
                    auth,
                    bootstrap,
                    "union",
                );
            }
        }
        Some("/hurd/exec") => exec(argv, uid, gid, auth, bootstrap),
        Some("/hurd/shadow") => {
            if let Ok([lower, upper]) = open_dirs(&ipc, dirs, auth, &argv[1..]).as_deref() {
                let tree = Shadow::new(KernelIpc::new(), *lower, *upper);
                serve(tree, auth, bootstrap, "shadow");
            }
        }
        _ => {}
    }
    for p in [bootstrap, dirs.crdir, dirs.cwdir] {
        if p.is_valid() {
            let _ = ipc.port_deallocate(p);
        }
    }
}

/// Serves `tree`: `fsys_startup` on `bootstrap`, then requests until told
/// to go away.
/// `/hurd/exec [--announce]`: the exec server as a one-file translator, as
/// the Hurd's is on `/servers/exec` — its node's ports also answer
/// `exec.defs` ([`crate::exec_server`]).
fn exec(argv: &[String], uid: u32, gid: u32, auth: PortName, bootstrap: PortName) {
    let server = crate::exec_server::ExecServer::new(argv.iter().any(|a| a == "--announce"));
    let opts = Options {
        name: "exec",
        ..Options::default()
    };
    let node = Single::new(hurd_servers::exec::ExecNode, uid, gid);
    let Ok(fs) = NetFs::new(KernelIpc::new(), node, auth, None, opts) else {
        return;
    };
    if let Ok(node) = fs.startup(bootstrap, OpenFlags::READ) {
        let _ = fs.ipc().port_deallocate(node);
        let ipc = KernelIpc::new();
        let _ =
            hurd_ipc::mig::serve(
                fs.ipc(),
                fs.port_set(),
                |m| match hurd_servers::exec::exec::demux(&server, &ipc, m) {
                    hurd_ipc::mig::Dispatch::NotMine(m) => fs.handle(m),
                    d => d,
                },
            );
    }
}

fn serve<T: Tree>(tree: T, auth: PortName, bootstrap: PortName, name: &'static str) {
    let opts = Options {
        name,
        ..Options::default()
    };
    let Ok(fs) = NetFs::new(KernelIpc::new(), tree, auth, None, opts) else {
        return;
    };
    if let Ok(node) = fs.startup(bootstrap, OpenFlags::READ) {
        let _ = fs.ipc().port_deallocate(node);
        fs.serve();
    }
}

/// `tarfs`: the archive is the node underneath, its data read through
/// `io_read` when clients read.
fn tarfs(uid: u32, gid: u32, auth: PortName, bootstrap: PortName) {
    let opts = Options {
        name: "tarfs",
        ..Options::default()
    };
    let Ok(fs) = NetFs::new(KernelIpc::new(), Tarfs::empty(uid, gid), auth, None, opts) else {
        return;
    };
    let Ok(node) = fs.startup(bootstrap, OpenFlags::READ) else {
        return;
    };
    let source = NodeSource::new(KernelIpc::new(), node);
    fs.with_tree(|t| *t = Tarfs::open_or_broken(source, uid, gid));
    fs.serve();
}
