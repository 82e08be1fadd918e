//! `rpctrace [-o FILE] [-s SIZE] PROGRAM [ARG...]` on the kernel: runs
//! `PROGRAM` as a child process with every port it starts with replaced by
//! a wrapper of the tracer, and prints each RPC it makes through them and
//! each reply (the [`rpctrace`] crate's engine and format), on standard
//! output or `FILE`.
//!
//! It starts the program as the shell does (an empty task made a child
//! process of rpctrace's, loaded by the exec server at `/servers/exec`
//! with `exec_exec_file_name`), but the descriptors (`fd0`–`fd2`) and the
//! initial ports (`cwdir`, `crdir`, `auth`, `proc`) it hands the exec
//! server are send rights to wrappers: ports rpctrace receives on, each
//! forwarding to the real port. The rights replies carry into the program
//! are wrapped in their turn, and wrappers the program passes on are
//! unwrapped, so servers only ever see real ports.
//!
//! The tracer serves on a thread of its own while the first thread waits
//! for the exec server and then for the program (`proc_wait`): the exec
//! server's own calls on the ports it is given, and whatever the program
//! asks while it runs, pass through the tracer while those calls wait.
//! The tracer never waits on a server itself — it forwards with a bounded
//! send and goes back to receiving — so a server that calls back (a pager
//! answering the kernel, a file system asking the auth server) cannot
//! deadlock it. The trace ends when the program does; rpctrace exits with
//! the program's status (128 + the signal that killed it).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use distro_programs::process::PROC;
use hurd_ipc::{Disposition, Errno, Error, PortArray, PortItem, PortName, RightType, UserIpc};
use hurd_rt::ports::{AUTH, CRDIR, CWDIR, STDERR, STDIN, STDOUT, held};
use hurd_rt::{KernelIpc, exec, mach};
use hurd_servers::exec::{WaitStatus, argz, exec as exec_protocol};
use hurd_servers::proc::process;
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::protocol::io;
use rpctrace::{INIT_PORT_LABELS, Options, Tracer, USAGE};

distro_programs::program!(main);

/// The task's IPC, for the tracer's thread as for the first.
static IPC: KernelIpc = KernelIpc::new();

fn main() -> u64 {
    let args: Vec<String> = hurd_rt::env::args()
        .iter()
        .skip(1)
        .map(|a| String::from(*a))
        .collect();
    let opts = match Options::parse(&args) {
        Ok(opts) => opts,
        Err(e) => {
            complain(&format!("rpctrace: {e}\n{USAGE}"));
            return 1;
        }
    };
    match trace(&opts) {
        Ok(status) => match WaitStatus::from_raw(status) {
            WaitStatus::Exited(code) => u64::from(code),
            WaitStatus::Signaled(sig) => 128 + u64::from(sig.unsigned_abs()),
        },
        Err(e) => {
            complain(&format!("rpctrace: {e}\n"));
            1
        }
    }
}

/// An error as the user reads it: an `errno` by its meaning.
fn describe(e: Error) -> String {
    match Errno::of(e) {
        Some(errno) => format!("{errno}"),
        None => format!("{e}"),
    }
}

fn complain(text: &str) {
    let _ = hurd_rt::io::stderr().write_all(text.as_bytes());
}

/// Where the trace goes: standard output, or the file of `-o`.
#[derive(Clone, Copy)]
enum Sink {
    Stdout,
    File(PortName),
}

impl Sink {
    /// Writes `text` whole (a failure drops the rest: the trace goes on
    /// even when nobody reads it).
    fn write(self, text: &str) {
        match self {
            Sink::Stdout => {
                let _ = hurd_rt::io::stdout().write_all(text.as_bytes());
            }
            Sink::File(port) => {
                let client = io::Client::new(&IPC, port);
                let mut rest = text.as_bytes();
                while !rest.is_empty() {
                    match client.write(rest.to_vec(), -1) {
                        Ok(n) if n > 0 => {
                            let n = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
                            rest = &rest[n..];
                        }
                        _ => return,
                    }
                }
            }
        }
    }
}

/// Runs the program traced; gives its wait status.
fn trace(opts: &Options) -> Result<i32, String> {
    let ipc = &IPC;
    if held(PROC).is_none() {
        return Err("no proc port to make the program a child process with".into());
    }
    let cwdir = held(CWDIR).unwrap_or(CRDIR);
    let fds = [STDIN, STDOUT, STDERR];
    let lookup = Lookup {
        ipc,
        crdir: CRDIR,
        cwdir,
        auth: AUTH,
        fds: &fds,
        ctty: PortName::NULL,
    };
    let sink = match &opts.output {
        Some(path) => Sink::File(
            lookup
                .open(
                    path,
                    OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC,
                    0o644,
                )
                .map_err(|e| format!("{path}: {}", describe(e)))?,
        ),
        None => Sink::Stdout,
    };
    let name = &opts.argv[0];
    let path = if name.contains('/') {
        name.clone()
    } else {
        format!("/bin/{name}")
    };
    let server = lookup
        .open("/servers/exec", OpenFlags::empty(), 0)
        .map_err(|e| format!("/servers/exec: {}", describe(e)))?;
    let r = start_and_wait(opts, sink, server, &path);
    let _ = ipc.port_deallocate(server);
    if let Sink::File(port) = sink {
        let _ = ipc.port_deallocate(port);
    }
    r
}

/// Makes the task, wraps its ports, has the exec server load `path` into
/// it while the tracer serves, and waits for the program.
fn start_and_wait(opts: &Options, sink: Sink, server: PortName, path: &str) -> Result<i32, String> {
    let ipc = &IPC;
    let task = exec::create_task().map_err(|e| format!("cannot make a task: {e:?}"))?;
    let (pid, child_proc) = match distro_programs::process::adopt(ipc, PROC, task) {
        Ok(p) => p,
        Err(e) => {
            let _ = mach::task_terminate(task);
            let _ = ipc.port_deallocate(task);
            return Err(format!("proc_child: {}", describe(e)));
        }
    };

    let mut tracer = match Tracer::new(ipc, rpctrace::msgids()) {
        Ok(t) => t,
        Err(e) => {
            let _ = ipc.port_deallocate(child_proc);
            let _ = mach::task_terminate(task);
            let _ = ipc.port_deallocate(task);
            return Err(format!("no port set: {e:?}"));
        }
    };
    tracer.set_strsize(opts.strsize);
    // A wrapper for one of rpctrace's own rights (a reference of its own
    // for the tracer to forward to), or NULL for a name it does not hold.
    let mut wrap = |port: PortName, label: &str| -> PortName {
        if held(port).is_none() || ipc.port_mod_refs(port, RightType::Send, 1).is_err() {
            return PortName::NULL;
        }
        tracer.wrap(port, label).unwrap_or(PortName::NULL)
    };
    let dtable: Vec<PortName> = [STDIN, STDOUT, STDERR]
        .iter()
        .enumerate()
        .map(|(n, &p)| wrap(p, &format!("fd{n}")))
        .collect();
    let cwdir = held(CWDIR).unwrap_or(CRDIR);
    let mut portarray: Vec<PortName> = [cwdir, CRDIR, AUTH]
        .iter()
        .zip(INIT_PORT_LABELS)
        .map(|(&p, label)| wrap(p, label))
        .collect();
    // The child's proc port: the tracer takes over rpctrace's reference.
    portarray.push(
        tracer
            .wrap(child_proc, INIT_PORT_LABELS[3])
            .unwrap_or(PortName::NULL),
    );
    portarray.extend([PortName::NULL, PortName::NULL]);

    let done = Arc::new(AtomicBool::new(false));
    let finished = Arc::clone(&done);
    let serving = hurd_rt::thread::spawn(move || {
        let served = tracer.serve(|| finished.load(Ordering::Acquire), |text| sink.write(text));
        drop(tracer);
        served.map_err(|e| format!("{e:?}"))
    });
    let serving = match serving {
        Ok(handle) => handle,
        Err(e) => {
            let _ = mach::task_terminate(task);
            let _ = process::Client::new(ipc, PROC).wait(pid, 0);
            let _ = ipc.port_deallocate(task);
            return Err(format!("no thread for the tracer: {e:?}"));
        }
    };

    let envp: Vec<String> = hurd_rt::env::vars()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let started = exec_protocol::Client::new(ipc, server).exec_file_name(
        PortItem {
            disposition: Disposition::CopySend,
            name: PortName::NULL,
        },
        PortItem {
            disposition: Disposition::CopySend,
            name: task,
        },
        0,
        path.into(),
        argz(&opts.argv),
        argz(&envp),
        PortArray {
            disposition: Disposition::MakeSend,
            names: dtable,
        },
        PortArray {
            disposition: Disposition::MakeSend,
            names: portarray,
        },
    );
    if started.is_err() {
        let _ = mach::task_terminate(task);
    }
    // Reaps the child whether it ran or not.
    let waited = process::Client::new(ipc, PROC).wait(pid, 0);
    let _ = ipc.port_deallocate(task);
    done.store(true, Ordering::Release);
    let served = serving.join();
    started.map_err(|e| format!("cannot exec `{}': {}", opts.argv[0], describe(e)))?;
    served?;
    waited
        .map(|w| w.0)
        .map_err(|e| format!("proc_wait: {}", describe(e)))
}
