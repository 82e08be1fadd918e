//! Processes as the Hurd's C library makes them, for a Linux program:
//! what `fork`, `vfork`, `clone`, `wait4` and `execve` ask for, decided
//! as data before any RPC.
//!
//! - [`ForkRequest::from_call`]: which child a `fork`, `vfork` or `clone`
//!   asks for. A child process is a new task with a copy-on-write copy of
//!   the parent's memory (`task_create` inheriting it); `CLONE_VM |
//!   CLONE_VFORK` (`vfork`, musl's `posix_spawn`, Rust's `Command`) is
//!   carried out as such a copy too, as the Hurd's C library carries out
//!   `vfork`: the child runs on the stack it was given until it execs or
//!   exits, and a program cannot tell the difference. Threads are not
//!   here yet (`ENOSYS`).
//! - [`port_copy`]: what the child's IPC space gets for each name of the
//!   parent's, as glibc's `fork` copies it on the Hurd: the same send
//!   rights under the same names (with their user references), new
//!   receive rights where the parent holds one, and the child's own task,
//!   thread and proc ports under the names the parent uses for its own.
//! - [`wait_request`] and [`linux_status`]: `wait4` as `proc_wait`;
//!   [`waitid_request`] and [`child_siginfo`]: `waitid` as `proc_wait`.
//! - [`classify`], [`script_argv`] and [`may_execute`]: `execve`'s checks
//!   and `#!` scripts.

use alloc::vec::Vec;

use hurd_ipc::{PortName, PortType};
use linux_abi::flags::{
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_FS, CLONE_PARENT_SETTID,
    CLONE_SETTLS, CloneKind, classify_clone,
};
use linux_abi::layout::SigInfo;
use linux_abi::signal::{SIGCHLD, WaitStatus, wait_options_to_hurd};
use linux_abi::{Errno, Sysno};

/// The child a `fork`, `vfork` or `clone` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForkRequest {
    /// `CLONE_VFORK` (`vfork`): carried out as a copy, like `fork`.
    pub vfork: bool,
    /// The signal the parent is sent when the child ends.
    pub exit_signal: u32,
    /// The child's stack pointer (`clone`'s `newsp`); 0: the parent's.
    pub stack: u64,
    /// `CLONE_PARENT_SETTID`: where the child's id goes in the parent.
    pub parent_tid: Option<u64>,
    /// `CLONE_CHILD_SETTID`: where the child's id goes in the child.
    pub child_set_tid: Option<u64>,
    /// `CLONE_CHILD_CLEARTID`: the child's `set_tid_address`.
    pub child_clear_tid: Option<u64>,
    /// `CLONE_SETTLS`: the child's FS base.
    pub tls: Option<u64>,
}

/// Why a `clone` is not carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Linux refuses it too: this error.
    Linux(Errno),
    /// Linux has it and this system does not (yet): `ENOSYS`, reported
    /// once, with what is missing.
    Unsupported(&'static str),
}

impl Refused {
    /// The program's error.
    pub fn errno(self) -> Errno {
        match self {
            Refused::Linux(e) => e,
            Refused::Unsupported(_) => Errno::Nosys,
        }
    }
}

impl ForkRequest {
    /// The request of call `sysno` (`fork`, `vfork` or `clone`) with
    /// arguments `a` (`clone(flags, newsp, parent_tid, child_tid, tls)`
    /// on x86-64).
    ///
    /// # Errors
    /// [`Refused::Linux`] with `EINVAL` for flags Linux refuses (see
    /// [`classify_clone`]); [`Refused::Unsupported`] for a thread, and for
    /// a process sharing its working directory or descriptor table with
    /// its parent (`CLONE_FS`, `CLONE_FILES`), which two tasks cannot.
    pub fn from_call(sysno: Sysno, a: [u64; 6]) -> Result<ForkRequest, Refused> {
        match sysno {
            Sysno::Fork => Ok(ForkRequest {
                exit_signal: SIGCHLD,
                ..ForkRequest::default()
            }),
            Sysno::Vfork => Ok(ForkRequest {
                vfork: true,
                exit_signal: SIGCHLD,
                ..ForkRequest::default()
            }),
            Sysno::Clone => Self::clone(a),
            _ => Err(Refused::Linux(Errno::Nosys)),
        }
    }

    fn clone(a: [u64; 6]) -> Result<ForkRequest, Refused> {
        let [flags, stack, parent_tid, child_tid, tls, _] = a;
        let (vfork, exit_signal) = match classify_clone(flags).map_err(Refused::Linux)? {
            CloneKind::Thread => return Err(Refused::Unsupported("threads (CLONE_THREAD)")),
            CloneKind::Process { vfork, exit_signal } => (vfork, exit_signal),
        };
        if flags & (CLONE_FS | CLONE_FILES) != 0 {
            return Err(Refused::Unsupported(
                "a process sharing files with its parent (CLONE_FS, CLONE_FILES)",
            ));
        }
        let when = |bit: u64, v: u64| (flags & bit != 0).then_some(v);
        Ok(ForkRequest {
            vfork,
            exit_signal,
            stack,
            parent_tid: when(CLONE_PARENT_SETTID, parent_tid),
            child_set_tid: when(CLONE_CHILD_SETTID, child_tid),
            child_clear_tid: when(CLONE_CHILD_CLEARTID, child_tid),
            tls: when(CLONE_SETTLS, tls),
        })
    }
}

/// The parent's own names that the child gets its own rights under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnNames {
    /// The parent's name for its task port (`mach_task_self`).
    pub task: PortName,
    /// Its name for the forking thread's port.
    pub thread: PortName,
    /// Its proc port.
    pub proc: PortName,
    /// The names the parent holds for the child's task, thread and proc
    /// ports (made for the fork; not copied).
    pub child: [PortName; 3],
}

/// What the child's space gets under one of the parent's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortCopy {
    /// A copy of the parent's send right, with as many user references.
    Send,
    /// A new receive right of its own (a reply port, a port it serves):
    /// messages to the parent's do not reach it.
    Receive,
    /// The child's own task port (the child's `mach_task_self`).
    Task,
    /// The child's own thread port.
    Thread,
    /// The child's own proc port.
    Proc,
    /// Nothing: a send-once right (one message, the parent's), a dead
    /// name, a port set, or a name made for the fork.
    Nothing,
}

/// What the child gets under `name`, a name of type `ty` in the parent.
pub fn port_copy(name: PortName, ty: PortType, own: &OwnNames) -> PortCopy {
    if own.child.contains(&name) {
        PortCopy::Nothing
    } else if name == own.task {
        PortCopy::Task
    } else if name == own.thread {
        PortCopy::Thread
    } else if name == own.proc {
        PortCopy::Proc
    } else if ty.contains(PortType::RECEIVE) {
        PortCopy::Receive
    } else if ty.contains(PortType::SEND) {
        PortCopy::Send
    } else {
        PortCopy::Nothing
    }
}

/// `wait4(pid, _, options, _)` as `proc_wait(pid, options)`: the pid
/// asked of proc and its options.
///
/// Linux's pid 0 (a child in the caller's process group) and `-pgid` (a
/// child in that group) are asked as -1 (any child): this system's
/// children stay in their parent's group unless they leave it, which
/// `setpgid` does not do yet.
///
/// # Errors
/// `EINVAL` for options Linux does not define.
pub fn wait_request(pid: i32, options: u32) -> Result<(i32, i32), Errno> {
    let options = wait_options_to_hurd(options).ok_or(Errno::Inval)?;
    let pid = if pid > 0 { pid } else { -1 };
    Ok((pid, options))
}

/// The wait status a Linux program decodes, from proc's (the Hurd's
/// encoding: the same bits with the Hurd's signal numbers). A malformed
/// status, which proc never gives, reads as an end by `SIGSYS` rather
/// than as a success.
pub fn linux_status(hurd: i32) -> i32 {
    WaitStatus::from_hurd(hurd)
        .unwrap_or(WaitStatus::Signaled {
            sig: linux_abi::signal::SIGSYS,
            core: false,
        })
        .raw()
}

/// `waitid`'s `idtype` `P_ALL`: any child.
pub const P_ALL: u32 = 0;
/// `P_PID`: the child `id`.
pub const P_PID: u32 = 1;
/// `P_PGID`: a child in process group `id`.
pub const P_PGID: u32 = 2;
/// `WSTOPPED`.
pub const WSTOPPED: u32 = 2;
/// `WEXITED`.
pub const WEXITED: u32 = 4;
/// `WNOWAIT`: leave the child waitable.
pub const WNOWAIT: u32 = 0x0100_0000;

/// `waitid(idtype, id, _, options, _)` as `proc_wait(pid, options)`: the
/// pid asked of proc and its options (`WNOHANG` alone: proc reports ended
/// children only). A process group is asked as any child, as in
/// [`wait_request`].
///
/// # Errors
/// [`Refused::Linux`] with `EINVAL` for an unknown `idtype` (`P_PIDFD`
/// included: no pidfds here), a pid that is not positive, unknown
/// options, or none of `WEXITED`, `WSTOPPED`, `WCONTINUED`;
/// [`Refused::Unsupported`] for waiting without `WEXITED` (proc reports no
/// stops or continues to a parent yet) and for `WNOWAIT`.
pub fn waitid_request(idtype: u32, id: i32, options: u32) -> Result<(i32, i32), Refused> {
    use linux_abi::signal::{WALL_CLONE, WCONTINUED, WNOHANG};
    let inval = Refused::Linux(Errno::Inval);
    if options & !(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WALL_CLONE) != 0
        || options & (WSTOPPED | WEXITED | WCONTINUED) == 0
    {
        return Err(inval);
    }
    let pid = match idtype {
        P_ALL | P_PGID => -1,
        P_PID if id > 0 => id,
        _ => return Err(inval),
    };
    if options & WEXITED == 0 {
        return Err(Refused::Unsupported("waitid for stops or continues alone"));
    }
    if options & WNOWAIT != 0 {
        return Err(Refused::Unsupported("waitid with WNOWAIT"));
    }
    Ok((pid, (options & WNOHANG) as i32))
}

/// The `siginfo_t` `waitid` writes for child `pid` (of user `uid`) that
/// ended with proc's status `hurd`: `SIGCHLD`, `CLD_EXITED` and the exit
/// status, or `CLD_KILLED`/`CLD_DUMPED` and the (Linux) signal.
pub fn child_siginfo(hurd: i32, pid: i32, uid: u32) -> SigInfo {
    use linux_abi::layout::sigframe::{CLD_DUMPED, CLD_EXITED, CLD_KILLED};
    let (code, status) = match WaitStatus::from_hurd(hurd) {
        Some(WaitStatus::Exited(code)) => (CLD_EXITED, i32::from(code)),
        Some(WaitStatus::Signaled { sig, core: false }) => (CLD_KILLED, sig as i32),
        Some(WaitStatus::Signaled { sig, core: true }) => (CLD_DUMPED, sig as i32),
        _ => (CLD_KILLED, linux_abi::signal::SIGSYS as i32),
    };
    SigInfo {
        signo: SIGCHLD as i32,
        errno: 0,
        code,
        pid,
        uid,
        status,
        addr: None,
    }
}

/// How many `#!` interpreters may follow one another before `ELOOP`
/// (Linux allows four levels).
pub const MAX_INTERPRETERS: usize = 4;
/// How much of a file's start a `#!` line must fit in (Linux's
/// `BINPRM_BUF_SIZE`).
pub const SCRIPT_LINE_MAX: usize = 256;

/// What a file's first bytes make it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Executable {
    /// An ELF file (the loader checks the rest).
    Elf,
    /// A `#!` script: its interpreter and the interpreter's one optional
    /// argument.
    Script {
        /// The interpreter's file name.
        interpreter: Vec<u8>,
        /// Everything after it on the line, trimmed.
        arg: Option<Vec<u8>>,
    },
}

/// Classifies a file by its first bytes as Linux's `execve` does.
///
/// # Errors
/// `ENOEXEC` for anything else, and for a `#!` line that names no
/// interpreter or does not end within [`SCRIPT_LINE_MAX`] bytes.
pub fn classify(head: &[u8]) -> Result<Executable, Errno> {
    if head.starts_with(b"\x7fELF") {
        return Ok(Executable::Elf);
    }
    let Some(rest) = head.strip_prefix(b"#!") else {
        return Err(Errno::Noexec);
    };
    let head = &head[..head.len().min(SCRIPT_LINE_MAX)];
    let rest = &rest[..rest.len().min(head.len() - 2)];
    let line = match rest.iter().position(|&c| c == b'\n') {
        Some(end) => &rest[..end],
        // The whole file is the line, if it is that short.
        None if head.len() < SCRIPT_LINE_MAX => rest,
        None => return Err(Errno::Noexec),
    };
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = line.iter().position(|c| !blank(c)).unwrap_or(line.len());
    let line = &line[start..];
    let end = line.iter().position(blank).unwrap_or(line.len());
    let (interpreter, rest) = line.split_at(end);
    if interpreter.is_empty() {
        return Err(Errno::Noexec);
    }
    let first = rest.iter().position(|c| !blank(c));
    let last = rest.iter().rposition(|c| !blank(c));
    let arg = match (first, last) {
        (Some(f), Some(l)) => Some(rest[f..=l].to_vec()),
        _ => None,
    };
    Ok(Executable::Script {
        interpreter: interpreter.to_vec(),
        arg,
    })
}

/// The arguments a script's interpreter gets: itself, its argument, the
/// script's file name as `execve` was given it, then the script's
/// arguments after the first.
pub fn script_argv(
    interpreter: &[u8],
    arg: Option<&[u8]>,
    filename: &[u8],
    argv: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(argv.len() + 2);
    out.push(interpreter.to_vec());
    if let Some(a) = arg {
        out.push(a.to_vec());
    }
    out.push(filename.to_vec());
    out.extend(argv.iter().skip(1).cloned());
    out
}

/// `S_IFMT` and `S_IFREG`.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;

/// Whether a file with `mode`, owner `uid` and group `gid` may be
/// executed by effective user `euid` with groups `groups` (the effective
/// group first): a regular file with the execute bit of its class; root
/// needs any execute bit.
///
/// # Errors
/// `EACCES` otherwise (a directory, a device, no execute bit).
pub fn may_execute(mode: u32, uid: u32, gid: u32, euid: u32, groups: &[u32]) -> Result<(), Errno> {
    if mode & S_IFMT != S_IFREG {
        return Err(Errno::Acces);
    }
    let bits = if euid == 0 {
        mode & 0o111
    } else if euid == uid {
        mode & 0o100
    } else if groups.contains(&gid) {
        mode & 0o010
    } else {
        mode & 0o001
    };
    if bits == 0 {
        return Err(Errno::Acces);
    }
    Ok(())
}

/// The most strings `argv` and `envp` may hold together.
pub const MAX_ARG_STRINGS: usize = 4096;
/// The most bytes they may hold together (Linux: a quarter of the 8 MiB
/// stack).
pub const MAX_ARG_BYTES: usize = 2 << 20;
