//! The exec server on the kernel: hurd-servers' `exec.defs` served with
//! ELF images, as the Hurd's exec server does on Mach.
//!
//! A request is checked and its program found by hurd-servers'
//! [`ExecRequest`] — the caller's own exec servers first (`EXEC_SERVERS`),
//! the file opened with the caller's ports, `#!` lines followed — and then
//! loaded here, each request on a thread of its own (reading a file may
//! block on its server), at most [`MAX_RUNNING`] at once:
//!
//! - into `oldtask`, the empty task the caller made (and made a process of
//!   its own with `proc_child`, giving the task's proc port as
//!   `INIT_PORT_PROC`): the program starts and the reply, status 0, comes
//!   at once; the caller waits with `proc_wait`, as on the Hurd;
//! - or into a new task (`EXEC_NEWTASK`): made a child process of the
//!   caller's (`INIT_PORT_PROC`) when it gave its proc port, else watched
//!   with `task_notify_exit`; the reply comes when it ends, with its wait
//!   status.
//!
//! A static Linux program (an x86-64 ELF without hurd-rs's note, `ET_EXEC`
//! or a static-pie) is started with the Linux emulator in its task, as the
//! Hurd's exec maps a program's interpreter: the emulator's file,
//! [`LINUX_EMULATOR`], is read with the caller's ports, and
//! [`linux_emulator::load::load_emulated`] maps the program (a static-pie
//! at its load base: it relocates itself), its initial stack (`AT_PHDR` and
//! `AT_ENTRY` at the load base, `AT_BASE` 0) and the emulator, whose thread
//! then starts the program.
//!
//! The program gets its descriptors 0–2, the caller's auth handle and
//! directories, and the bootstrap port it was given (`INIT_PORT_BOOTSTRAP`:
//! a translator's parent file system) under [`hurd_rt::ports`]' names.
//! Started as `/hurd/exec --announce`, the server first writes `exec: NAME`
//! to the program's standard error (a user's own exec server, named in
//! `EXEC_SERVERS`, can be seen at work).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use hurd_abi::rpc::TASK_EXITED;
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Errno, Error, Item, MigReturn, PortName, RightType, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::ports::{AUTH, BOOTSTRAP, CRDIR, CWDIR, PROC, STDERR, STDIN, STDOUT};
use hurd_servers::exec::{
    Arrived, EXEC_NEWTASK, ExecRequest, Found, INIT_PORT_AUTH, INIT_PORT_BOOTSTRAP,
    INIT_PORT_CRDIR, INIT_PORT_CWDIR, INIT_PORT_PROC, MAX_RUNNING, Routine, StartExec,
};
use hurd_servers::proc::process;
use hurd_trans::hurd_auth::AuthClient;
use hurd_trans::protocol::io;

use hurd_rt::exec::{self, Child, InitialPort, Program};
use hurd_rt::mach;
use linux_abi::elf::LinuxElf;
use linux_emulator::ids::Ids;
use linux_emulator::load::{self as linux_load, Arguments, LoadError};

use crate::process::wait_status;

/// Where the Linux emulator is installed: the file read and mapped into
/// each static Linux program's task (linux-abi's, which the image builder
/// checks too).
pub const LINUX_EMULATOR: &str = linux_abi::EMULATOR_PATH;

/// The exec server. See the [module documentation](self).
#[derive(Debug, Default)]
pub struct ExecServer {
    running: Arc<AtomicUsize>,
    announce: bool,
}

impl ExecServer {
    /// A server; with `announce` it names each program on the program's
    /// standard error before it runs.
    pub fn new(announce: bool) -> ExecServer {
        ExecServer {
            running: Arc::new(AtomicUsize::new(0)),
            announce,
        }
    }

    /// Programs running (or being loaded) now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }
}

impl StartExec for ExecServer {
    fn start(&self, req: &Request, routine: Routine, arrived: Arrived) -> Result<i32, Error> {
        let request = ExecRequest::check(KernelIpc::new(), arrived)?;
        if self
            .running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_RUNNING).then_some(n + 1)
            })
            .is_err()
        {
            return Err(Errno::Again.into());
        }
        let (running, announce, req) = (self.running.clone(), self.announce, *req);
        let started = hurd_rt::thread::spawn(move || {
            let status = run(request, announce);
            running.fetch_sub(1, Ordering::AcqRel);
            let ipc = KernelIpc::new();
            let _ = routine.reply(&ipc, &req, status);
        });
        match started {
            Ok(_) => Err(Error::Mig(MigReturn::NoReply)),
            Err(_) => {
                // The request (and its rights) went with the closure.
                self.running.fetch_sub(1, Ordering::AcqRel);
                Err(Errno::Again.into())
            }
        }
    }
}

/// Finds, loads and starts the program of `r`; its wait status, or 0 when
/// it runs in the caller's task.
fn run(mut r: ExecRequest<KernelIpc>, announce: bool) -> Result<i32, Error> {
    if let Some(forwarded) = r.forward() {
        return forwarded;
    }
    let image = match r.find_program()? {
        Found::Elf(image) => image,
        Found::Hosted(_) => return Err(Errno::NoExec.into()),
    };
    if announce && let Some(&err) = r.dtable.get(2) {
        let name = r.argv.first().map_or("?", String::as_str);
        let _ = io::Client::new(&r.ipc, err).write(format!("exec: {name}\n").into_bytes(), -1);
    }
    let into_old = r.oldtask.is_valid() && r.flags & EXEC_NEWTASK == 0;
    let fd = |i: usize| r.dtable.get(i).copied().unwrap_or(PortName::NULL);
    let cwdir = match r.portarray[INIT_PORT_CWDIR] {
        same if same == r.portarray[INIT_PORT_CRDIR] => PortName::NULL,
        other => other,
    };
    let mut given = alloc::vec![
        (STDIN, fd(0)),
        (STDOUT, fd(1)),
        (STDERR, fd(2)),
        (AUTH, r.portarray[INIT_PORT_AUTH]),
        (CRDIR, r.portarray[INIT_PORT_CRDIR]),
        // A port has one name in a space: a working directory that is the
        // root directory is given once (the program finds it as its root).
        (CWDIR, cwdir),
        (BOOTSTRAP, r.portarray[INIT_PORT_BOOTSTRAP]),
    ];
    // Into the caller's task, the proc port it gave is the program's own.
    if into_old {
        given.push((PROC, r.portarray[INIT_PORT_PROC]));
    }
    let ports: Vec<InitialPort> = given
        .into_iter()
        .filter(|(_, p)| p.is_valid())
        .map(|(name, right)| InitialPort {
            name,
            right,
            disposition: Disposition::CopySend,
        })
        .collect();
    let argv: Vec<&str> = r.argv.iter().map(String::as_str).collect();
    let envp: Vec<&str> = r.envp.iter().map(String::as_str).collect();
    let program = Program {
        image: &image,
        argv: &argv,
        envp: &envp,
        ports: &ports,
    };
    if is_linux(&image) {
        return run_linux(&r, &image, &ports, into_old);
    }
    if into_old {
        exec::load_into(r.oldtask, &program)
            .and_then(|thread| {
                let started = exec::resume_thread(thread);
                let _ = r.ipc.port_deallocate(thread);
                started
            })
            .map(|()| 0)
            .map_err(Error::from)
    } else {
        new_task(&r, || exec::load(&program).map_err(Error::from))
    }
}

/// Whether `image` is a static Linux program: an x86-64 executable without
/// hurd-rs's note (a hurd-rs program has one) that the emulator runs
/// (`ET_EXEC`, or `ET_DYN` without an interpreter).
pub fn is_linux(image: &[u8]) -> bool {
    // The note alone tells a hurd-rs program (a Linux one may have more
    // segments than a hurd-rs program may).
    hurd_abi::elf::note_abi(image).is_ok_and(|abi| abi.is_none())
        && LinuxElf::parse(image, image.len() as u64).is_ok()
}

/// As an exec server answers for a Linux program that cannot be loaded:
/// `ENOEXEC` for a file that is no program here (or an emulator that is
/// none), `E2BIG` for arguments that do not fit its stack, `EAGAIN` when
/// the kernel refused a step.
fn linux_error(e: LoadError) -> Error {
    match e {
        LoadError::Elf(_) | LoadError::Emulator(_) => Errno::NoExec.into(),
        LoadError::Stack(_) => Error::Code(hurd_servers::exec::E2BIG),
        LoadError::Call(..) => Errno::Again.into(),
    }
}

/// 16 bytes for `AT_RANDOM`, which the program's C library takes for its
/// stack protector's canary and its pointer guard: from the processor's
/// random number instructions (`hurd_rt::entropy`; only the timer's jitter
/// on a processor without them).
fn random_bytes() -> [u8; 16] {
    let mut out = [0; 16];
    hurd_rt::entropy::gather(&mut out);
    out
}

/// Starts the static Linux program `image` with the emulator: into the
/// caller's task, or a new one as [`new_task`] does; the program's initial
/// ports are `ports`, as a hurd-rs program's.
fn run_linux(
    r: &ExecRequest<KernelIpc>,
    image: &[u8],
    ports: &[InitialPort],
    into_old: bool,
) -> Result<i32, Error> {
    let emulator = r.read_file(LINUX_EMULATOR)?;
    // The ids the auxiliary vector tells the program: its auth handle's.
    let ids = ports
        .iter()
        .find(|p| p.name == AUTH && p.right.is_valid())
        .and_then(|p| AuthClient::new(&r.ipc, p.right).getids().ok())
        .map_or_else(Ids::nobody, |set| Ids::of(&set));
    let argv: Vec<&[u8]> = r.argv.iter().map(String::as_bytes).collect();
    let envp: Vec<&[u8]> = r.envp.iter().map(String::as_bytes).collect();
    let execfn = r
        .filename
        .as_deref()
        .or(r.argv.first().map(String::as_str))
        .unwrap_or_default();
    let load = |task: PortName| -> Result<PortName, Error> {
        let args = Arguments {
            argv: &argv,
            envp: &envp,
            execfn: execfn.as_bytes(),
            // It asks for them again (getuid...), which the emulator
            // answers from the same handle.
            ids: ids.auxv(),
            random: random_bytes(),
        };
        // The pid comes from the proc server once the program runs.
        let thread =
            linux_load::load_emulated(task, image, &emulator, &args, 0).map_err(linux_error)?;
        let given = ports.iter().try_for_each(|p| {
            mach::insert_right(task, p.name, (p.right, p.disposition))
                .map_err(|_| Error::from(Errno::Again))
        });
        if let Err(e) = given {
            let _ = r.ipc.port_deallocate(thread);
            return Err(e);
        }
        Ok(thread)
    };
    if into_old {
        let thread = load(r.oldtask)?;
        let started = exec::resume_thread(thread).map_err(Error::from);
        let _ = r.ipc.port_deallocate(thread);
        return started.map(|()| 0);
    }
    new_task(r, || {
        let task = exec::create_task()?;
        match load(task) {
            Ok(thread) => Ok(Child { task, thread }),
            Err(e) => {
                let _ = mach::task_terminate(task);
                let _ = r.ipc.port_deallocate(task);
                Err(e)
            }
        }
    })
}

/// Runs the program in a new task and waits for its end: as a child
/// process of the caller's when it gave its proc port, else watched with
/// `task_notify_exit`.
fn new_task(
    r: &ExecRequest<KernelIpc>,
    load: impl FnOnce() -> Result<Child, Error>,
) -> Result<i32, Error> {
    let ipc = &r.ipc;
    let parent = r.portarray[INIT_PORT_PROC];
    if !parent.is_valid() {
        let notify = ipc.port_allocate(RightType::Receive)?;
        // Watched before it runs, so its end cannot be missed.
        let child = load().and_then(|c| {
            let watched = mach::task_notify_exit(c.task, notify)
                .map_err(|e| exec::ExecError::Call("task_notify_exit", e))
                .and_then(|()| exec::resume(&c))
                .map_err(Error::from);
            match watched {
                Ok(()) => Ok(c),
                Err(e) => {
                    exec::terminate(c);
                    Err(e)
                }
            }
        });
        let ended = child.and_then(|c| {
            let _ = ipc.port_deallocate(c.task);
            let _ = ipc.port_deallocate(c.thread);
            ipc.receive(notify).map_err(|e| Error::Msg(e.code))
        });
        let _ = ipc.port_destroy(notify);
        let ended = ended?;
        return match ended.body.first() {
            Some(Item::U64(v)) if ended.header.id == TASK_EXITED => Ok(wait_status(*v)),
            _ => Err(Errno::Io.into()),
        };
    }
    let child = load()?;
    let proc = process::Client::new(ipc, parent);
    let setup = (|| {
        let (pid, port) = crate::process::adopt(ipc, parent, child.task)?;
        crate::process::give_proc(child.task, port)?;
        exec::resume(&child)?;
        Ok(pid)
    })();
    let r = match setup {
        // The caller's process is the parent: reap the child for it.
        Ok(pid) => proc.wait(pid, 0).map(|(status, _)| status),
        Err(e) => {
            let _ = mach::task_terminate(child.task);
            Err(e)
        }
    };
    let _ = ipc.port_deallocate(child.task);
    let _ = ipc.port_deallocate(child.thread);
    r
}
