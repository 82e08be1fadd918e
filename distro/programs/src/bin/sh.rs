//! The distro's shell on the kernel: hurd-servers' shell as a task of its
//! own, holding nothing but what its starter (the login in `hurd-init`)
//! gave it — the user's auth handle, root and working directory, the
//! password server (for `su`), its proc port, and the terminal as standard
//! input, output and error (see [`hurd_rt::ports`] for the names).
//!
//! For each program it makes an empty task (the Hurd's fork), makes it a
//! child process of its own (`proc_child`) in a process group of its own,
//! puts that group in the terminal's foreground (`TIOCSPGRP`) so the
//! interrupt character reaches it, and asks the exec server at
//! `/servers/exec` to load the program into the task (`exec_exec_file_name`
//! with the task, its proc port, the user's ports and the variables
//! `export` set — `EXEC_SERVERS` among them); then it waits with
//! `proc_wait`. The shell itself ignores the interrupt and quit characters.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use distro_programs::process::{CRASH_SIGNALS, PROC};
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::ports::{AUTH, CRDIR, PASSWORD, STDERR, STDIN, STDOUT};
use hurd_rt::{exec, mach};
use hurd_servers::exec::{WaitStatus, argz, copy_send, exec as exec_protocol};
use hurd_servers::proc::{SIGINT, SIGQUIT, process};
use hurd_servers::shell::{self, Exec, Exit, ExitStatus, Flow, Session, Shell};
use hurd_servers::term::{set_echo, tioctl_pgrp};
use hurd_trans::flags::OpenFlags;

distro_programs::program!(main);

/// Writes to standard output; a terminal gone is noticed at the next read.
fn write(data: &[u8]) {
    let _ = hurd_rt::io::stdout().write_all(data);
}

// ANCHOR: programs
/// Runs programs for the shell as child processes in the terminal's
/// foreground, through the exec server at `/servers/exec`.
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
        let ipc = session.ipc;
        let server = session.open("/servers/exec", OpenFlags::empty())?;
        // The Hurd's fork: an empty task, a child process of the shell's.
        let r = exec::create_task().map_err(Error::from).and_then(|task| {
            let job = Job { session, task };
            let r = self.run(job, server, path, argv, stdout);
            let _ = ipc.port_deallocate(task);
            r
        });
        session.release(server);
        r
    }
}

/// A program being started: its task, and what it takes to talk to the
/// kernel about it.
struct Job<'s, 'a> {
    session: &'s Session<'a, KernelIpc>,
    task: PortName,
}

impl Job<'_, '_> {
    /// Ends the task (the program could not start).
    fn terminate(&mut self) {
        let _ = mach::task_terminate(self.task);
    }
}

impl KernelExec {
    /// Makes the task a process in a group of its own, in the foreground,
    /// has the exec server load the program into it, and waits for it.
    fn run(
        &self,
        mut job: Job<'_, '_>,
        server: PortName,
        path: &str,
        argv: &[String],
        stdout: Option<PortName>,
    ) -> Result<Exit, Error> {
        let session = job.session;
        let ipc = session.ipc;
        let proc = process::Client::new(ipc, session.proc);
        let task = PortItem {
            disposition: Disposition::CopySend,
            name: job.task,
        };
        let setup = (|| {
            let (pid, port) = distro_programs::process::adopt(ipc, session.proc, job.task)?;
            if let Err(e) = proc.setpgrp(pid, pid) {
                let _ = ipc.port_deallocate(port);
                return Err(e);
            }
            Ok((pid, port))
        })();
        let (pid, child_proc) = match setup {
            Ok(p) => p,
            Err(e) => {
                job.terminate();
                return Err(e);
            }
        };
        let fg = tioctl_pgrp::Client::new(ipc, self.term);
        let _ = fg.tiocspgrp(pid);
        let user = session.ids().ok().and_then(|ids| ids.euids.iter().next());
        let mut envp = alloc::vec![alloc::format!("UID={}", user.unwrap_or(0))];
        envp.extend(session.env.iter().cloned());
        let portarray = [
            session.cwdir,
            session.crdir,
            session.auth,
            child_proc,
            PortName::NULL,
            PortName::NULL,
        ];
        let dtable = [STDIN, stdout.unwrap_or(STDOUT), STDERR];
        let started = exec_protocol::Client::new(ipc, server).exec_file_name(
            PortItem {
                disposition: Disposition::CopySend,
                name: PortName::NULL,
            },
            task,
            0,
            path.into(),
            argz(argv),
            argz(&envp),
            copy_send(&dtable),
            copy_send(&portarray),
        );
        let _ = ipc.port_deallocate(child_proc);
        if started.is_err() {
            job.terminate();
        }
        // Reaps the child whether it ran or not.
        let waited = proc.wait(pid, 0);
        let _ = fg.tiocspgrp(self.pgrp);
        started?;
        let status = match WaitStatus::from_raw(waited?.0) {
            WaitStatus::Exited(c) => ExitStatus::Code(i32::from(c)),
            WaitStatus::Signaled(s) if CRASH_SIGNALS.contains(&s) => ExitStatus::Crashed,
            WaitStatus::Signaled(s) => {
                // The terminal echoed ^C; the report starts a line.
                if s == SIGINT {
                    write(b"\n");
                }
                ExitStatus::Killed(s)
            }
        };
        Ok(Exit {
            output: Vec::new(),
            errors: Vec::new(),
            status,
        })
    }
}
// ANCHOR_END: programs

fn main() -> u64 {
    distro_programs::process::ignore(SIGINT);
    distro_programs::process::ignore(SIGQUIT);
    let ipc = KernelIpc::new();
    let term = STDIN;
    let home = hurd_rt::env::var("HOME").map(String::from);
    let Ok(mut session) = Session::new(&ipc, AUTH, CRDIR, PASSWORD) else {
        let _ = hurd_rt::io::stderr().write_all(b"sh: no session ports\n");
        return 1;
    };
    session.proc = PROC;
    let pgrp = process::Client::new(&ipc, session.proc)
        .getpids()
        .map_or(0, |p| p.0);
    if let Some(home) = home {
        let _ = shell::cd(&mut session, &home);
    }
    let exec = KernelExec { term, pgrp };
    let mut shell = Shell::with_exec(session, &exec);
    loop {
        // Echo is set before the prompt shows: what is typed as soon as it
        // does is echoed (or not, for a password) as it should be.
        let _ = set_echo(&ipc, term, !shell.wants_password());
        write(shell.prompt().as_bytes());
        let line = match hurd_rt::io::stdin().read(1024) {
            Ok(l) if !l.is_empty() => l,
            // End of file (^D) or a terminal gone: log out.
            _ => break,
        };
        if shell.wants_password() {
            write(b"\n");
        }
        let line = String::from_utf8_lossy(&line);
        let mut out = Vec::new();
        let flow = shell.feed(line.trim_end_matches(['\n', '\r']), &mut out);
        write(&out);
        if flow == Flow::Exit {
            break;
        }
    }
    let _ = set_echo(&ipc, term, true);
    write(b"\n");
    0
}
