//! A program as a process of the proc server: the proc port its starter
//! gave it, the signal thread serving its message port, and the kernel's
//! side of the proc server ([`tasks`]).
//!
//! As the Hurd's C library does, the distro's programs start a signal
//! thread before `main` when they have a proc port (under [`PROC`]:
//! [`program!`](crate::program)):
//! it makes a message port, registers it (`proc_setmsgport`) and
//! serves `msg_sig_post` there. A signal whose default action ends the
//! program ([`is_fatal`]) and which the program does not [`ignore`] ends
//! it: the thread answers the sender, announces the wait status with
//! `proc_mark_exit` and ends the task. Others are accepted and dropped.

use core::sync::atomic::{AtomicU64, Ordering};

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hurd_abi::rpc::TASK_EXITED;
use hurd_abi::{EXIT_EXCEPTION_BASE, EXIT_TERMINATED};
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Error, MigReturn, PortItem, PortName, PortType, RightType, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::env::block;
use hurd_servers::proc::{NSIG, Tasks, is_fatal, msg, process};

use hurd_rt::mach;

/// The name under which a program finds its proc port (a send right),
/// given by its starter.
pub const PROC: PortName = hurd_rt::ports::PROC;

/// The exit value of a task a signal ended: this base plus the signal
/// (a convention of this runtime; the wait status comes from
/// `proc_mark_exit`).
pub const EXIT_SIGNAL_BASE: u64 = 0x3000;

/// `SIGILL`, `SIGFPE`, `SIGBUS`, `SIGSEGV`: the signals of a crash.
pub const CRASH_SIGNALS: [i32; 4] = [4, 8, 10, 11];

/// Signals the program ignores, one bit each.
static IGNORED: AtomicU64 = AtomicU64::new(0);

/// Ignores `signal` from now on (a shell ignores the terminal's interrupt
/// while it waits at its prompt).
pub fn ignore(signal: i32) {
    if (1..NSIG).contains(&signal) {
        IGNORED.fetch_or(1 << signal, Ordering::Relaxed);
    }
}

fn ignored(signal: i32) -> bool {
    IGNORED.load(Ordering::Relaxed) & (1 << signal) != 0
}

/// This program's proc port, if its starter gave it one.
pub fn proc_port() -> Option<PortName> {
    let ipc = KernelIpc::new();
    let t = ipc.port_type(PROC).ok()?;
    t.contains(PortType::SEND).then_some(PROC)
}

/// Starts the signal thread when the program has a proc port; the
/// runtime calls this before `main`. `false` when there is none (or it
/// could not start: then signals find no message port, and the proc
/// server's `proc_pid2task` is the way to end the program).
pub fn start_signal_thread() -> bool {
    let Some(proc) = proc_port() else {
        return false;
    };
    let ipc = KernelIpc::new();
    let Ok(port) = ipc.port_allocate(RightType::Receive) else {
        return false;
    };
    let set = process::Client::new(&ipc, proc).setmsgport(PortItem {
        disposition: Disposition::MakeSend,
        name: port,
    });
    match set {
        Ok(old) if old.name.is_valid() => {
            let _ = ipc.port_deallocate(old.name);
        }
        Ok(_) => {}
        Err(_) => {
            let _ = ipc.port_destroy(port);
            return false;
        }
    }
    hurd_rt::thread::spawn(move || {
        let ipc = KernelIpc::new();
        let _ = msg::serve(&SignalThread { ipc: &ipc }, &ipc, port);
    })
    .is_ok()
}

/// The server of a program's message port.
struct SignalThread<'a> {
    ipc: &'a KernelIpc,
}

impl msg::Server for SignalThread<'_> {
    fn sig_post(
        &self,
        req: &Request,
        signal: i32,
        _sigcode: u32,
        refport: PortItem,
    ) -> Result<(), Error> {
        if refport.name.is_valid() {
            let _ = self.ipc.port_deallocate(refport.name);
        }
        if !(1..NSIG).contains(&signal) {
            return Err(hurd_ipc::Errno::Inval.into());
        }
        if ignored(signal) || !is_fatal(signal) {
            return Ok(());
        }
        // Answer first: the sender should not wait on a task that ends.
        let _ = msg::reply::sig_post(self.ipc, req, Ok(()));
        let _ = process::Client::new(self.ipc, PROC).mark_exit(signal & 0x7f, 0);
        hurd_rt::task::exit(EXIT_SIGNAL_BASE + signal as u64)
    }
}

/// Makes `task` (a send right) a child process of the one whose proc port
/// is `parent` (`proc_child`), as a starter does before the task runs.
/// Returns the child's pid and a send right to its proc port (the
/// starter's, to set the child up with and then hand over, see
/// [`give_proc`]).
///
/// # Errors
///
/// The error of the proc server's `proc_child`, `proc_task2pid` or
/// `proc_task2proc`.
pub fn adopt(ipc: &KernelIpc, parent: PortName, task: PortName) -> Result<(i32, PortName), Error> {
    let proc = process::Client::new(ipc, parent);
    let task = PortItem {
        disposition: Disposition::CopySend,
        name: task,
    };
    proc.child(task)?;
    let pid = proc.task2pid(task)?;
    let port = proc.task2proc(task)?.name;
    Ok((pid, port))
}

/// Moves the send right `port` into `task`'s space under [`PROC`], where
/// the runtime finds its proc port. On failure the right is released and
/// the error is `EAGAIN`.
///
/// # Errors
///
/// `EAGAIN` when the right cannot be inserted into `task`.
pub fn give_proc(task: PortName, port: PortName) -> Result<(), Error> {
    if mach::insert_right(task, PROC, (port, Disposition::MoveSend)).is_ok() {
        return Ok(());
    }
    let _ = KernelIpc::new().port_deallocate(port);
    Err(hurd_ipc::Errno::Again.into())
}

/// The wait status (`W_EXITCODE`/`W_TERMSIG` encoding) for a task's exit
/// value as the kernel reports it: an exception (`EXIT_EXCEPTION_BASE`
/// plus its vector) is the signal the Hurd would send for it;
/// `task_terminate` is `SIGKILL`; [`EXIT_SIGNAL_BASE`] plus a signal is
/// that signal; any other value is what `main` returned, an exit status
/// (its low 8 bits, as `exit` keeps).
pub fn wait_status(value: u64) -> i32 {
    const SIGKILL: i32 = 9;
    if value == EXIT_TERMINATED {
        return SIGKILL;
    }
    if (EXIT_SIGNAL_BASE + 1..EXIT_SIGNAL_BASE + NSIG as u64).contains(&value) {
        return (value - EXIT_SIGNAL_BASE) as i32;
    }
    match value.checked_sub(EXIT_EXCEPTION_BASE) {
        Some(0 | 16 | 19) => 8,  // divide error, x87 and SIMD faults: SIGFPE
        Some(6) => 4,            // invalid opcode: SIGILL
        Some(17) => 10,          // alignment check: SIGBUS
        Some(v) if v < 32 => 11, // page and protection faults, the rest: SIGSEGV
        _ => ((value & 0xff) as i32) << 8,
    }
}

/// Asks the kernel to report `task`'s end through a send-once right made
/// from `notify`.
fn watch(_: &KernelIpc, task: PortName, notify: PortName) -> Result<(), Error> {
    mach::task_notify_exit(task, notify).map_err(|_| Error::Mig(MigReturn::RemoteError))
}

/// Reads the arguments block a loader left in `task` (the Hurd's proc
/// reads a process's arguments from its memory too).
fn task_args(_: &KernelIpc, task: PortName) -> Option<(Vec<String>, Vec<String>)> {
    const PAGE: usize = 4096;
    let mut bytes = Vec::new();
    let mut len = PAGE;
    while bytes.len() < len {
        let at = block::ARGS_ADDR + bytes.len() as u64;
        match mach::vm_read(task, at, PAGE as u64) {
            Ok(page) if page.len() == PAGE => bytes.extend_from_slice(&page),
            _ => break,
        }
        if bytes.len() == PAGE {
            len = block::block_len(&bytes).unwrap_or(0);
        }
    }
    let a = block::decode(&bytes)?;
    let own = |v: Vec<&str>| v.into_iter().map(ToString::to_string).collect();
    Some((own(a.argv), own(a.envp)))
}

/// The reference kernel's side of the proc server: `task_notify_exit`
/// and its `TASK_EXITED` report, the exit values' wait statuses, and the
/// arguments block.
pub fn tasks() -> Tasks<KernelIpc> {
    Tasks {
        watch,
        ended: TASK_EXITED,
        wait_status: |v| wait_status(v),
        args: task_args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_servers::exec::WaitStatus;

    #[test]
    fn exit_values_become_wait_statuses() {
        let w = |v| WaitStatus::from_raw(wait_status(v));
        assert_eq!(w(0), WaitStatus::Exited(0));
        assert_eq!(w(42), WaitStatus::Exited(42));
        assert_eq!(
            w(0x1_0001),
            WaitStatus::Exited(1),
            "low 8 bits, as exit keeps"
        );
        assert_eq!(w(EXIT_EXCEPTION_BASE + 14), WaitStatus::Signaled(11));
        assert_eq!(w(EXIT_EXCEPTION_BASE + 6), WaitStatus::Signaled(4));
        assert_eq!(w(EXIT_EXCEPTION_BASE), WaitStatus::Signaled(8));
        assert_eq!(w(EXIT_EXCEPTION_BASE + 0x40), WaitStatus::Exited(0x40));
        assert_eq!(w(EXIT_TERMINATED), WaitStatus::Signaled(9));
        assert_eq!(w(EXIT_SIGNAL_BASE + 2), WaitStatus::Signaled(2));
        assert_eq!(w(EXIT_SIGNAL_BASE), WaitStatus::Exited(0));
    }
}
