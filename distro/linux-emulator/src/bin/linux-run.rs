//! Static Linux programs run by the emulator in their own task: this
//! program loads each (boot modules `linux-hello`, `linux-files`,
//! `linux-time` and `linux-fork`, built by `musl-gcc -static` from
//! `distro/linux-tests/c/`, and `linux-hello-rs`, a Rust `std` program
//! built for `x86_64-unknown-linux-musl`) and the emulator
//! (`linux-emulation`) into a new task with
//! [`linux_emulator::load::load_emulated`], gives it a port of ours as its
//! standard output and the root of a tmpfs holding a copy of
//! `distro/linux-tests/tree` (with a `/dev/urandom` of random bytes) as
//! its root and working directory, and starts
//! it. The emulator sets the task's emulation vector and runs the program;
//! its system calls (`mmap`, `brk`, `uname`, `writev`, `openat`, `read`,
//! `getdents64`…) are carried out in the task itself, the file calls as
//! RPCs to the tmpfs, which this program serves (hurd-trans's netfs) while
//! it takes what the program writes as `io_write`. Each program is a
//! process of a proc server this program runs on a thread of its own
//! (hurd-servers' `ProcServer`, keeping processes for tasks), so that
//! `linux-fork`'s children are processes too (`proc_child`) and its
//! `wait4` is `proc_wait`; its file is in the tmpfs too, for its
//! `execve` of itself.
//!
//! Returns 0 when each program printed what it prints on Linux (the
//! recorded output, `distro/linux-tests/expected/`) and ended with status
//! 0, else the step that failed. With the word `bench` on the command line
//! it runs `linux-getpid` instead and copies what it prints (`bench
//! linux_getpid N`) to the console, for `cargo xtask bench kernel`.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use hurd_ipc::{Error, MigReturn};
use hurd_servers::proc::{Lock, ProcServer, State, Tasks};
use spinning_top::Spinlock;

use hurd_abi::hurd_task;
use hurd_ipc::mig::{self, Dispatch};
use hurd_ipc::{Disposition, Item, MsgOptions, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, boot, mach, ports, println, task};
use hurd_trans::flags::OpenFlags;
use hurd_trans::hurd_auth::IdSet;
use hurd_trans::mode::{S_IFDIR, S_IFREG};
use hurd_trans::netfs::{NetFs, Options, Tree};
use hurd_trans::protocol::io;
use hurd_trans::translators::tmpfs::Tmpfs;
use linux_emulator::load::{self, Arguments};

hurd_rt::entry!(main);

/// The boot module holding the emulator.
const EMULATOR: &str = "linux-emulation";
/// The programs (boot modules) and what each prints (on Linux too).
const PROGRAMS: [(&str, &[u8]); 5] = [
    (
        "linux-hello",
        b"hello, world\nx86_64 x\ngetrandom: 16 bytes\n",
    ),
    (
        "linux-files",
        include_bytes!("../../../linux-tests/expected/files.out"),
    ),
    (
        "linux-time",
        include_bytes!("../../../linux-tests/expected/time.out"),
    ),
    (
        "linux-hello-rs",
        include_bytes!("../../../linux-tests/expected/hello-rs.out"),
    ),
    (
        "linux-fork",
        include_bytes!("../../../linux-tests/expected/fork.out"),
    ),
];
/// The program that runs itself again with `execve`: its file is in the
/// tmpfs too, executable, under its name.
const SELF_EXEC: &str = "linux-fork";
/// The program run with the word `bench` on the command line: its output
/// (`bench linux_getpid N`) goes to the console.
const BENCH: &str = "linux-getpid";
/// The files of the tmpfs each program starts in (and `/dev/urandom`, see
/// [`URANDOM`]).
const TREE: [(&str, Option<&[u8]>); 5] = [
    (
        "motd",
        Some(include_bytes!("../../../linux-tests/tree/motd")),
    ),
    ("etc", None),
    ("dev", None),
    (
        "etc/hostname",
        Some(include_bytes!("../../../linux-tests/tree/etc/hostname")),
    ),
    (
        "etc/empty",
        Some(include_bytes!("../../../linux-tests/tree/etc/empty")),
    ),
];
/// How many random bytes `/dev/urandom` holds: a file standing for the
/// random translator (which the image has), filled from
/// `hurd_rt::entropy`, so that `getrandom` has a node to read.
const URANDOM: usize = 4096;
/// The most output kept.
const MAX_OUTPUT: usize = 4096;
/// The program's process id, when the proc server has none for it.
const PID: u32 = 7;

/// The proc server's state behind a spin lock: the server thread and the
/// main thread (which registers each program) share it.
struct Locked(Spinlock<State>);

impl From<State> for Locked {
    fn from(state: State) -> Locked {
        Locked(Spinlock::new(state))
    }
}

impl Lock<State> for Locked {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.0.lock())
    }
}

/// The proc server the programs are processes of.
type Proc = ProcServer<KernelIpc, Locked>;

/// The wait status of a task's exit value: `exit`'s status (the
/// emulator announces it with `proc_mark_exit` first), `SIGKILL` for
/// `task_terminate`.
fn wait_status(value: u64) -> i32 {
    if value == hurd_abi::EXIT_TERMINATED {
        9
    } else {
        ((value & 0xff) as i32) << 8
    }
}

/// A proc server, served by a thread of its own, which keeps processes for
/// tasks (`proc_child`, the kernel's report of their end).
fn proc_server() -> Result<&'static Proc, u64> {
    let tasks = Tasks {
        watch: |_, task, notify| {
            mach::task_notify_exit(task, notify).map_err(|_| Error::Mig(MigReturn::RemoteError))
        },
        ended: hurd_abi::rpc::TASK_EXITED,
        wait_status,
        args: |_, _| None,
    };
    let server = ProcServer::new(KernelIpc::new(), Some(tasks))
        .map_err(|e| fail(2, format_args!("the proc server: {e:?}")))?;
    let server: &'static Proc = Box::leak(Box::new(server));
    hurd_rt::thread::spawn(move || server.serve())
        .map_err(|e| fail(2, format_args!("the proc server's thread: {e:?}")))?;
    Ok(server)
}

fn fail(step: u64, what: core::fmt::Arguments) -> u64 {
    println!("linux-run: {what}");
    step
}

fn main() -> u64 {
    match run() {
        Ok(()) => 0,
        Err(step) => step,
    }
}

fn run() -> Result<(), u64> {
    let proc = proc_server()?;
    let modules = boot::info();
    let module = |name| modules.as_ref().and_then(|b| b.module(name));
    let Some(emulator) = module(EMULATOR) else {
        return Err(fail(1, format_args!("no boot module {EMULATOR}")));
    };
    if modules.as_ref().is_some_and(|b| b.has_word("bench")) {
        let Some(program) = module(BENCH) else {
            return Err(fail(1, format_args!("no boot module {BENCH}")));
        };
        let output = run_one(proc, BENCH, program, emulator)?;
        let _ = hurd_rt::console::write(&output);
        return Ok(());
    }
    for (name, expected) in PROGRAMS {
        let Some(program) = module(name) else {
            return Err(fail(1, format_args!("no boot module {name}")));
        };
        let output = run_one(proc, name, program, emulator)?;
        if output != expected {
            return Err(fail(
                20,
                format_args!(
                    "expected {:?}",
                    core::str::from_utf8(expected).unwrap_or("(not UTF-8)")
                ),
            ));
        }
    }
    Ok(())
}

/// A tmpfs holding [`TREE`], owned by root, and `program` as the
/// executable file `name` when it is [`SELF_EXEC`].
fn file_system(name: &str, program: &[u8]) -> Result<NetFs<Tmpfs, KernelIpc>, u64> {
    let fs = NetFs::new(
        KernelIpc::new(),
        Tmpfs::new(0, 0, 0o755, 1 << 20),
        PortName::NULL,
        None,
        Options::default(),
    )
    .map_err(|e| fail(2, format_args!("the file system: {e:?}")))?;
    fs.with_tree(|t| {
        for (path, data) in TREE {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            let mut at = t.root();
            if !dir.is_empty() {
                at = t.lookup(at, dir.as_bytes())?;
            }
            let mode = if data.is_some() {
                S_IFREG | 0o644
            } else {
                S_IFDIR | 0o755
            };
            let node = t.create(at, Some(name.as_bytes()), mode, 0, 0)?;
            if let Some(data) = data {
                t.write(node, 0, data)?;
            }
        }
        let mut bytes = alloc::vec![0; URANDOM];
        hurd_rt::entropy::gather(&mut bytes);
        let dev = t.lookup(t.root(), b"dev")?;
        let node = t.create(dev, Some(b"urandom"), S_IFREG | 0o444, 0, 0)?;
        t.write(node, 0, &bytes)?;
        if name == SELF_EXEC {
            let node = t.create(t.root(), Some(name.as_bytes()), S_IFREG | 0o755, 0, 0)?;
            t.write(node, 0, program)?;
        }
        Ok(())
    })
    .map_err(|e: hurd_ipc::Errno| fail(2, format_args!("filling the file system: {e:?}")))?;
    Ok(fs)
}

/// Runs `program` as `name` with the emulator, a process of `proc`'s;
/// what it printed, if it ended with status 0.
fn run_one(proc: &Proc, name: &str, program: &[u8], emulator: &[u8]) -> Result<Vec<u8>, u64> {
    let ipc = KernelIpc::new();
    let fs = file_system(name, program)?;
    let root = fs
        .root_port(IdSet::root(), OpenFlags::READ)
        .map_err(|e| fail(2, format_args!("the root directory: {e:?}")))?;
    let port = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| fail(2, format_args!("port_allocate: {e:?}")))?;
    ipc.port_move_member(port, fs.port_set())
        .map_err(|e| fail(2, format_args!("port_move_member: {e:?}")))?;
    let child = mach::task_create(task::task_self(), false)
        .map_err(|e| fail(3, format_args!("task_create: {e:?}")))?;
    let argv = alloc::vec![String::from(name)];
    let process = proc
        .register(None, 0, argv, Vec::new())
        .map_err(|e| fail(3, format_args!("registering the process: {e:?}")))?;
    let result = start(child, name, (port, root, process.1), program, emulator)
        .and_then(|()| serve(&ipc, &fs, port));
    let _ = mach::task_terminate(child);
    let _ = ipc.port_mod_refs(port, RightType::Receive, -1);
    let (status, output) = result?;
    println!(
        "linux-run: {name} printed {:?} and exited with {status}",
        core::str::from_utf8(&output).unwrap_or("(not UTF-8)")
    );
    if status != 0 {
        return Err(fail(21, format_args!("{name} ended with {status}, not 0")));
    }
    Ok(output)
}

/// Loads the program and the emulator into `child`, gives it `port` as
/// standard output, `root` as its root and working directory and a send
/// right made from `proc` (its process's proc port, a receive right of
/// the proc server's) as its proc port, and starts it.
fn start(
    child: PortName,
    name: &str,
    (port, root, proc): (PortName, PortName, PortName),
    program: &[u8],
    emulator: &[u8],
) -> Result<(), u64> {
    let argv: [&[u8]; 1] = [name.as_bytes()];
    let envp: [&[u8]; 1] = [b"PATH=/bin"];
    let args = Arguments {
        argv: &argv,
        envp: &envp,
        execfn: name.as_bytes(),
        ids: [0; 4],
        random: {
            let mut random = [0; 16];
            hurd_rt::entropy::gather(&mut random);
            random
        },
    };
    let thread = load::load_emulated(child, program, emulator, &args, PID)
        .map_err(|e| fail(4, format_args!("loading: {e:?}")))?;
    // (A port has one name in a space: standard error, with none given,
    // goes to the console, and the working directory is the root.)
    mach::insert_right(child, ports::STDOUT, (port, Disposition::MakeSend))
        .and_then(|()| mach::insert_right(child, ports::CRDIR, (root, Disposition::MakeSend)))
        .and_then(|()| mach::insert_right(child, ports::PROC, (proc, Disposition::MakeSend)))
        .map_err(|e| fail(5, format_args!("the initial ports: {e:?}")))?;
    mach::task_notify_exit(child, port)
        .and_then(|()| mach::thread_resume(thread))
        .map_err(|e| fail(6, format_args!("starting: {e:?}")))
}

/// Serves the file system and takes what the program writes until its
/// task ends: the status and the output.
fn serve(
    ipc: &KernelIpc,
    fs: &NetFs<Tmpfs, KernelIpc>,
    port: PortName,
) -> Result<(u64, Vec<u8>), u64> {
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_secs(10)),
        ..MsgOptions::default()
    };
    let mut output = Vec::new();
    loop {
        let msg = ipc
            .receive_with(fs.port_set(), &opts)
            .map_err(|e| fail(10, format_args!("waiting for the program: {:?}", e.code)))?;
        if msg.header.local != port {
            let reply = match fs.handle(msg) {
                Dispatch::Reply(r) => Some(r),
                Dispatch::NoReply => None,
                Dispatch::NotMine(m) => match mig::bad_id(ipc, m) {
                    Dispatch::Reply(r) => Some(r),
                    _ => None,
                },
            };
            if let Some(r) = reply
                && r.header.remote.is_valid()
                && let Err(e) = ipc.send(r)
            {
                return Err(fail(
                    15,
                    format_args!("answering the program's file call: {e:?}"),
                ));
            }
            continue;
        }
        if msg.header.id == hurd_task::id::task_exited {
            return match msg.body.first() {
                Some(Item::U64(status)) => Ok((*status, output)),
                _ => Err(fail(11, format_args!("a bad exit notification"))),
            };
        }
        match io::Call::decode(msg) {
            Ok((io::Call::write { data, .. }, req)) => {
                let room = MAX_OUTPUT - output.len().min(MAX_OUTPUT);
                output.extend_from_slice(&data[..data.len().min(room)]);
                let reply = io::Reply::write(Ok(data.len() as u64)).encode(&req);
                ipc.send(reply)
                    .map_err(|e| fail(12, format_args!("answering io_write: {e:?}")))?;
            }
            Ok((call, _)) => return Err(fail(13, format_args!("unexpected {call:?}"))),
            Err(e) => return Err(fail(14, format_args!("a bad message: {:?}", e.code))),
        }
    }
}
