//! The distro's shell on the kernel: hurd-servers' shell as a task of its
//! own, holding nothing but what its starter (the login in `hurd-init`)
//! gave it — the user's auth handle, root and working directory, the
//! password server (for `su`), its proc port, and the terminal as standard
//! input, output and error (see [`kernel_user::exec`] for the names).
//!
//! Each program it runs is a task it loads itself ([`exec::load_elf`]),
//! then makes a child process of its own (`proc_child`), gives it its proc
//! port and a process group of its own, puts that group in the terminal's
//! foreground (`TIOCSPGRP`) so the interrupt character reaches it, starts
//! it, and waits for it with `proc_wait`. The shell itself ignores the
//! interrupt and quit characters.
#![cfg_attr(target_os = "none", no_std, no_main)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use hurd_auth::Errno;
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};
use hurd_servers::exec::{HEADER_MAX, Image, MAX_INTERPRETERS, WaitStatus, classify};
use hurd_servers::proc::{SIGINT, SIGQUIT, process};
use hurd_servers::shell::{self, Exec, Exit, ExitStatus, Flow, Session, Shell};
use hurd_servers::term::{set_echo, tioctl_pgrp};
use hurd_trans::flags::OpenFlags;
use kernel_user::exec::{self, INIT_AUTH, INIT_CRDIR, INIT_PASSWORD, InitialPort};
use kernel_user::ipc::KernelIpc;
use kernel_user::msg::{COPY_SEND, MOVE_SEND, MsgBuf};
use kernel_user::process::{CRASH_SIGNALS, PROC};
use kernel_user::stdio::{self, STDERR, STDIN, STDOUT};
use kernel_user::{args, rpc};

kernel_user::entry!(run);

// ANCHOR: programs
/// Runs programs for the shell as child processes in the terminal's
/// foreground.
struct KernelExec {
    /// The terminal (standard input).
    term: PortName,
    /// The shell's own process group, given the terminal back after a job.
    pgrp: i32,
}

impl Exec<KernelIpc> for KernelExec {
    fn exec(
        &self,
        session: &Session<'_, KernelIpc>,
        path: &str,
        argv: &[String],
        stdout: Option<PortName>,
    ) -> Result<Exit, Error> {
        if !session.proc.is_valid() {
            return Err(Errno::OpNotSupp.into());
        }
        let (image, argv) = resolve_scripts(session, path, argv)?;
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let user = session.ids().ok().and_then(|ids| ids.euids.iter().next());
        let user = alloc::format!("UID={}", user.unwrap_or(0));
        let ipc = session.ipc;
        let reply = ipc.port_allocate(hurd_ipc::RightType::Receive)?;
        let mut buf = MsgBuf::new();
        // The terminal, unless standard output is redirected to a file.
        let give = |name, right: PortName| InitialPort {
            name,
            right: right.0,
            disposition: COPY_SEND,
        };
        // A port has one name in a space: standard input, output and
        // error are three ports for the terminal (`io_duplicate`).
        let ports = [
            give(STDIN, PortName(STDIN)),
            give(STDOUT, stdout.unwrap_or(PortName(STDOUT))),
            give(STDERR, PortName(STDERR)),
        ];
        let r = match exec::load_elf(&mut buf, reply.0, &image, (&argv, &[user.as_str()]), &ports) {
            Ok(child) => self.run_child(session, &mut buf, reply, child),
            Err(exec::ExecError::Elf(_)) => Err(Errno::NoExec.into()),
            Err(exec::ExecError::TooBig) => Err(Error::Code(hurd_servers::exec::E2BIG)),
            Err(exec::ExecError::Call(..)) => Err(Errno::Again.into()),
        };
        let _ = ipc.port_destroy(reply);
        r
    }
}

impl KernelExec {
    /// Makes `child` a process in a group of its own, in the foreground,
    /// starts it and waits for it.
    fn run_child(
        &self,
        session: &Session<'_, KernelIpc>,
        buf: &mut MsgBuf,
        reply: PortName,
        child: exec::Child,
    ) -> Result<Exit, Error> {
        let ipc = session.ipc;
        let proc = process::Client::new(ipc, session.proc);
        let task = PortItem {
            disposition: Disposition::CopySend,
            name: PortName(child.task),
        };
        let setup = (|| {
            proc.child(task)?;
            let pid = proc.task2pid(task)?;
            let port = proc.task2proc(task)?.name;
            let given = rpc::insert_right(buf, child.task, reply.0, PROC, (port.0, MOVE_SEND));
            if given != rpc::Reply::Code(0) {
                let _ = ipc.port_deallocate(port);
                return Err(Error::from(Errno::Again));
            }
            proc.setpgrp(pid, pid)?;
            Ok(pid)
        })();
        let pid = match setup {
            Ok(pid) => pid,
            Err(e) => {
                exec::terminate(buf, reply.0, child);
                return Err(e);
            }
        };
        let fg = tioctl_pgrp::Client::new(ipc, self.term);
        let _ = fg.tiocspgrp(pid);
        if exec::resume(buf, reply.0, &child).is_err() {
            let _ = rpc::simple(
                buf,
                child.task,
                reply.0,
                hurd_kernel::abi::rpc::TASK_TERMINATE,
            );
        }
        let waited = proc.wait(pid, 0);
        let _ = fg.tiocspgrp(self.pgrp);
        let _ = ipc.port_deallocate(PortName(child.task));
        let _ = ipc.port_deallocate(PortName(child.thread));
        let status = match WaitStatus::from_raw(waited?.0) {
            WaitStatus::Exited(c) => ExitStatus::Code(i32::from(c)),
            WaitStatus::Signaled(s) if CRASH_SIGNALS.contains(&s) => ExitStatus::Crashed,
            WaitStatus::Signaled(s) => ExitStatus::Killed(s),
        };
        Ok(Exit {
            output: Vec::new(),
            errors: Vec::new(),
            status,
        })
    }
}
// ANCHOR_END: programs

/// The ELF image to run for `path` and its arguments: a `#!` script runs
/// its interpreter (which must be executable for the session too) with the
/// interpreter's optional argument and the script's name before the
/// script's own arguments, as the Hurd's exec server does; at most
/// `MAX_INTERPRETERS` in a row (`ELOOP` beyond), anything else that is not
/// ELF is `ENOEXEC`.
fn resolve_scripts(
    session: &Session<'_, KernelIpc>,
    path: &str,
    argv: &[String],
) -> Result<(Vec<u8>, Vec<String>), Error> {
    let mut path = String::from(path);
    let mut argv = argv.to_vec();
    for _ in 0..=MAX_INTERPRETERS {
        let image = session.read_file(&path)?;
        if image.starts_with(b"\x7fELF") {
            return Ok((image, argv));
        }
        let head = &image[..image.len().min(HEADER_MAX)];
        let Ok(Image::Script { interpreter, arg }) = classify(head) else {
            return Err(Errno::NoExec.into());
        };
        // The interpreter must be executable for this user.
        let port = session.open(&interpreter, OpenFlags::EXEC)?;
        session.release(port);
        let mut next = alloc::vec![interpreter.clone()];
        next.extend(arg);
        next.push(path);
        next.extend(argv.into_iter().skip(1));
        argv = next;
        path = interpreter;
    }
    Err(Errno::Loop.into())
}

fn run(arg: u64) -> u64 {
    kernel_user::process::ignore(SIGINT);
    kernel_user::process::ignore(SIGQUIT);
    let ipc = KernelIpc::new();
    let term = PortName(STDIN);
    let home = args::read(arg)
        .and_then(|a| a.envp.iter().find_map(|e| e.strip_prefix("HOME=")))
        .map(String::from);
    let Ok(mut session) = Session::new(
        &ipc,
        PortName(INIT_AUTH),
        PortName(INIT_CRDIR),
        PortName(INIT_PASSWORD),
    ) else {
        stdio::write_err(b"sh: no session ports\n");
        return 1;
    };
    session.proc = PortName(PROC);
    let pgrp = process::Client::new(&ipc, session.proc)
        .getpids()
        .map_or(0, |p| p.0);
    if let Some(home) = home {
        let _ = shell::cd(&mut session, &home);
    }
    let exec = KernelExec { term, pgrp };
    let mut shell = Shell::with_exec(session, &exec);
    loop {
        stdio::write(shell.prompt().as_bytes());
        let _ = set_echo(&ipc, term, !shell.wants_password());
        let line = match stdio::read(1024) {
            Some(l) if !l.is_empty() => l,
            // End of file (^D) or a terminal gone: log out.
            _ => break,
        };
        if shell.wants_password() {
            stdio::write(b"\n");
        }
        let line = String::from_utf8_lossy(&line);
        let mut out = Vec::new();
        let flow = shell.feed(line.trim_end_matches(['\n', '\r']), &mut out);
        stdio::write(&out);
        if flow == Flow::Exit {
            break;
        }
    }
    let _ = set_echo(&ipc, term, true);
    stdio::write(b"\n");
    0
}
