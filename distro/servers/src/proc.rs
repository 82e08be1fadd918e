//! The proc server: pids, sessions and process groups, message ports,
//! argument and environment queries, and exit statuses.
//!
//! On the Hurd, the proc server (`process.defs`, subsystem 24000) gives
//! every task a process: a pid, a parent, a session and a process group, an
//! owner, and a message port through which signals are delivered
//! (`msg.defs`). Each process talks to proc through a port of its own (its
//! "proc port"), so a request names its caller by the port it arrives on.
//!
//! [`process`] is that protocol, defined once with [`hurd_ipc::interface!`],
//! keeping the Hurd's routine names and ids; the ids this server does not
//! serve stay reserved (`skip`), so a client of another routine gets
//! `MIG_BAD_ID`. Simplifications, each documented on its routine:
//!
//! - processes are registered by the exec server, which runs in the same
//!   program hosted ([`ProcTable::register`]), where the Hurd's proc learns
//!   of tasks from the kernel and `proc_child`;
//! - `proc_getprocinfo` returns a handful of numbers rather than the Hurd's
//!   `procinfo` structure;
//! - `proc_wait` takes a pid (or -1: any child) and returns the status and
//!   the pid, without `rusage`;
//! - `proc_getmsgport` checks that the caller may signal the process (its
//!   owner or root), where the Hurd leaves that to the process's signal
//!   thread checking the `refport` of `msg_sig_post`.
//!
//! [`ProcTable`] is the `no_std` state machine: every request that names an
//! unknown pid is `ESRCH`, one the caller may not make `EPERM`, a malformed
//! one `EINVAL`; none panics.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc, interface};

interface! {
    /// `process.defs`: the proc server's protocol (subsystem 24000). The
    /// target port of every request is the caller's own proc port.
    pub mod process: subsystem 24000 prefix "proc_" {
        skip sethostid();
        skip gethostid();
        skip sethostname();
        skip gethostname();
        skip getprivports();
        /// `proc_getallpids` (24005): every live process's pid.
        routine getallpids() -> (pids: Vec<u32>);
        skip setexecdata();
        skip getexecdata();
        skip execdata_notify();
        skip uname();
        skip register_version();
        skip reauthenticate();
        /// `proc_child` (24012): makes task `child` (a send right) a child
        /// process of the caller, in its session and group and with its
        /// owner; the process ends when the kernel reports the task's end.
        /// Served when the server knows the kernel's task reports
        /// ([`Tasks`]), else `EOPNOTSUPP`; `EBUSY` for a task that already
        /// has a process.
        routine child(child: PortItem);
        /// `proc_setmsgport` (24013): sets the caller's message port (a
        /// send right, or NULL) and returns the previous one.
        routine setmsgport(newmsgport: PortItem) -> (oldmsgport: PortItem);
        skip reassign();
        /// `proc_setowner` (24015): sets the caller's owner uid; only a
        /// process owned by root may give itself another owner, any may
        /// `clear` it (owner unknown: -1 as u32).
        routine setowner(owner: u32, clear: i32);
        /// `proc_getpids` (24016): the caller's pid, parent pid and whether
        /// it is orphaned (its parent gone).
        routine getpids() -> (pid: i32, ppid: i32, orphaned: i32);
        skip set_arg_locations();
        skip get_arg_locations();
        /// `proc_getmsgport` (24019): a send right to process `pid`'s
        /// message port. Simplified: only its owner or root may have it
        /// (`EPERM`), since holding it is being able to signal.
        routine getmsgport(pid: i32) -> (msgport: PortItem);
        /// `proc_wait` (24020): waits until a child of the caller (`pid`, or
        /// any with -1) has ended and returns its wait status and pid,
        /// reaping it. With `WNOHANG` in `options`, pid 0 when none has ended.
        /// Simplified: no `rusage`, no stopped children.
        routine wait(pid: i32, options: i32) -> (status: i32, pid_status: i32);
        skip dostop();
        skip handle_exceptions();
        skip mark_stop();
        skip mark_cont();
        /// `proc_mark_exit` (24025): the wait status the caller's process
        /// will end with (as `_exit` and a fatal signal announce it), used
        /// instead of what the kernel reports.
        routine mark_exit(status: i32, sigcode: i32);
        skip mark_exec();
        skip mark_traced();
        skip mod_stopchild();
        /// `proc_pid2task` (24029): a send right to process `pid`'s task
        /// (NULL when it has none); only its owner or root may have it.
        routine pid2task(pid: i32) -> (task: PortItem);
        /// `proc_task2pid` (24030): the pid of the process of `task`.
        routine task2pid(task: PortItem) -> (pid: i32);
        /// `proc_task2proc` (24031): a send right to the proc port of the
        /// process of `task` (holding a task's port is controlling it).
        routine task2proc(task: PortItem) -> (proc: PortItem);
        skip proc2task();
        skip pid2proc();
        /// `proc_getprocinfo` (24034), simplified: process `pid`'s parent,
        /// process group, session, owner and state ([`PI_*`](PI_RUNNING)).
        routine getprocinfo(pid: i32) -> (ppid: i32, pgrp: i32, sid: i32, owner: u32, state: i32);
        /// `proc_getprocargs` (24035): process `pid`'s arguments, an argz
        /// vector as recorded when it was started.
        routine getprocargs(pid: i32) -> (procargs: Vec<u8>);
        /// `proc_getprocenv` (24036): process `pid`'s environment (argz).
        routine getprocenv(pid: i32) -> (procenv: Vec<u8>);
        skip make_login_coll();
        skip getloginid();
        skip getloginpids();
        skip setlogin();
        skip getlogin();
        /// `proc_setsid` (24042): makes the caller the leader of a new
        /// session and process group (`EPERM` if it already leads a group).
        routine setsid();
        /// `proc_getsid` (24043): process `pid`'s session id.
        routine getsid(pid: i32) -> (sid: i32);
        skip getsessionpgids();
        skip getsessionpids();
        skip getsessionport();
        /// `proc_setpgrp` (24047): puts process `pid` (the caller or one of
        /// its children, in the caller's session) into group `pgrp` (0:
        /// its own pid), which must exist in the same session or be `pid`.
        routine setpgrp(pid: i32, pgrp: i32);
        /// `proc_getpgrp` (24048): process `pid`'s process group.
        routine getpgrp(pid: i32) -> (pgrp: i32);
        /// `proc_getpgrppids` (24049): the pids in group `pgrp` (0: the
        /// caller's).
        routine getpgrppids(pgrp: i32) -> (pids: Vec<u32>);
    }
}

interface! {
    /// `msg.defs`: a process's message port (subsystem 23000), through
    /// which signals are posted to it. Only `msg_sig_post` is served.
    pub mod msg: subsystem 23000 prefix "msg_" {
        /// `msg_sig_post` (23000): posts `signal` to the process. The Hurd's
        /// `refport` (the task port or session id port proving the right
        /// to signal) is accepted and released unchecked: this server set
        /// checks when the message port is handed out
        /// ([`process::Client::getmsgport`]).
        routine sig_post(signal: i32, sigcode: u32, refport: PortItem);
    }
}

/// `SIGHUP`.
pub const SIGHUP: i32 = 1;
/// `SIGINT`: the terminal's interrupt character.
pub const SIGINT: i32 = 2;
/// `SIGQUIT`.
pub const SIGQUIT: i32 = 3;
/// `SIGKILL`: ends the process; it cannot be caught.
pub const SIGKILL: i32 = 9;
/// `SIGUSR1`.
pub const SIGUSR1: i32 = 30;
/// `SIGUSR2`.
pub const SIGUSR2: i32 = 31;
/// `SIGTERM`: asks the process to end.
pub const SIGTERM: i32 = 15;
/// `NSIG`: signals are 1 to `NSIG - 1`.
pub const NSIG: i32 = 33;

/// Signal names and numbers (the Hurd's, which are BSD's).
pub const SIGNALS: &[(&str, i32)] = &[
    ("HUP", SIGHUP),
    ("INT", SIGINT),
    ("QUIT", SIGQUIT),
    ("ABRT", 6),
    ("KILL", SIGKILL),
    ("ALRM", 14),
    ("TERM", SIGTERM),
    ("STOP", 17),
    ("TSTP", 18),
    ("CONT", 19),
    ("USR1", SIGUSR1),
    ("USR2", SIGUSR2),
];

/// A signal given by name (`TERM`, `SIGTERM`, any case) or number; `None`
/// when it is neither or out of range.
pub fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..NSIG).contains(&n).then_some(n);
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

/// Whether `signal` ends a hosted program at once ([`SIGKILL`], and
/// [`SIGTERM`], [`SIGINT`], [`SIGHUP`] and [`SIGQUIT`], which hosted programs do
/// not catch).
pub fn is_fatal(signal: i32) -> bool {
    matches!(signal, SIGKILL | SIGTERM | SIGINT | SIGHUP | SIGQUIT)
}

/// Posts `signal` to process `pid` as `kill(2)` does on the Hurd: asks the
/// proc server (through the caller's proc port `proc`) for the process's
/// message port, then `msg_sig_post`. `EPERM` when the caller may not
/// signal it, `ESRCH` when it does not exist or has no message port.
///
/// # Errors
///
/// `EPERM` when the caller may not signal the process, `ESRCH` when it
/// does not exist or has no message port; the signal thread's error
/// otherwise.
pub fn post_signal<I: UserIpc + ?Sized>(
    ipc: &I,
    proc: PortName,
    pid: i32,
    signal: i32,
) -> Result<(), Error> {
    let m = process::Client::new(ipc, proc).getmsgport(pid)?;
    if !m.name.is_valid() {
        return Err(Error::Code(ESRCH));
    }
    let r = msg::Client::new(ipc, m.name).sig_post(
        signal,
        0,
        PortItem {
            disposition: Disposition::CopySend,
            name: PortName::NULL,
        },
    );
    let _ = ipc.port_deallocate(m.name);
    r
}

/// Posts `signal` to every process of group `pgrp` that has a message
/// port and that the caller may signal (`kill(-pgrp)`), as a terminal does
/// with its foreground group when the interrupt, quit or suspend character
/// is typed ([`LineDiscipline::input`](crate::term::LineDiscipline::input)
/// says which). Returns how many were signalled; `ESRCH` when none was.
///
/// # Errors
///
/// `ESRCH` when no process of the group was signalled; the proc server's
/// error when it cannot be asked.
pub fn kill_pgrp<I: UserIpc + ?Sized>(
    ipc: &I,
    proc: PortName,
    pgrp: i32,
    signal: i32,
) -> Result<usize, Error> {
    if pgrp <= 0 {
        return Err(hurd_ipc::Errno::Inval.into());
    }
    let pids = process::Client::new(ipc, proc).getpgrppids(pgrp)?;
    let sent = pids
        .into_iter()
        .filter(|&p| post_signal(ipc, proc, p as i32, signal).is_ok())
        .count();
    if sent == 0 {
        return Err(Error::Code(ESRCH));
    }
    Ok(sent)
}

/// `ESRCH`: no such process (the Hurd's value).
pub const ESRCH: i32 = 0x4000_0003;
/// `ECHILD`: no child to wait for (the Hurd's value).
pub const ECHILD: i32 = 0x4000_000a;
/// `WNOHANG`: `proc_wait` does not block.
pub const WNOHANG: i32 = 1;

/// State of a running process, in [`process::Server::getprocinfo`]'s reply.
pub const PI_RUNNING: i32 = 0;
/// State of a process that has ended and not been waited for (a zombie).
pub const PI_ZOMBIE: i32 = 1;

/// The owner of a process whose owner is not known (`proc_setowner` with
/// `clear`).
pub const NO_OWNER: u32 = u32::MAX;

/// The most processes the table holds; registering more is `EAGAIN`.
pub const MAX_PROCS: usize = 4096;

/// One process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    /// Its pid.
    pub pid: i32,
    /// Its parent's pid (0 when it has none: there is no `init` to adopt
    /// orphans here, unlike the Hurd's pid 1).
    pub ppid: i32,
    /// Its process group.
    pub pgrp: i32,
    /// Its session.
    pub sid: i32,
    /// Its owner uid ([`NO_OWNER`] when unknown).
    pub owner: u32,
    /// Its arguments, as recorded when it started.
    pub argv: Vec<String>,
    /// Its environment, as recorded when it started.
    pub envp: Vec<String>,
    /// Its wait status once it has ended (a zombie until waited for).
    pub exit: Option<i32>,
    /// Whether its parent has gone.
    pub orphaned: bool,
}

/// The processes: a `no_std` state machine, the hosted server's core.
#[derive(Debug)]
pub struct ProcTable {
    procs: BTreeMap<i32, Proc>,
    next: i32,
}

fn srch() -> Error {
    Error::Code(ESRCH)
}
fn perm() -> Error {
    hurd_ipc::Errno::Perm.into()
}
fn inval() -> Error {
    hurd_ipc::Errno::Inval.into()
}

impl Default for ProcTable {
    fn default() -> ProcTable {
        ProcTable::new()
    }
}

impl ProcTable {
    /// An empty table; the first process registered gets pid 1.
    pub fn new() -> ProcTable {
        ProcTable {
            procs: BTreeMap::new(),
            next: 1,
        }
    }

    /// Registers a new process, child of `parent` (when it is alive: in its
    /// session and process group; otherwise a session and group of its
    /// own), owned by `owner`, with its arguments and environment. Returns
    /// its pid; `EAGAIN` when the table is full.
    ///
    /// # Errors
    ///
    /// `EAGAIN` when the table is full.
    pub fn register(
        &mut self,
        parent: Option<i32>,
        owner: u32,
        argv: Vec<String>,
        envp: Vec<String>,
    ) -> Result<i32, Error> {
        if self.procs.len() >= MAX_PROCS {
            return Err(hurd_ipc::Errno::Again.into());
        }
        let mut pid = self.next;
        while self.procs.contains_key(&pid) {
            pid = pid.checked_add(1).unwrap_or(2);
        }
        self.next = pid.checked_add(1).unwrap_or(2);
        let parent = parent.and_then(|p| self.live(p));
        let (ppid, pgrp, sid) = match parent {
            Some(p) => (p.pid, p.pgrp, p.sid),
            None => (pid, pid, pid),
        };
        let ppid = if parent.is_some() { ppid } else { 0 };
        self.procs.insert(
            pid,
            Proc {
                pid,
                ppid,
                pgrp,
                sid,
                owner,
                argv,
                envp,
                exit: None,
                orphaned: false,
            },
        );
        Ok(pid)
    }

    fn live(&self, pid: i32) -> Option<&Proc> {
        self.procs.get(&pid).filter(|p| p.exit.is_none())
    }

    /// Process `pid` (running or a zombie).
    ///
    /// # Errors
    ///
    /// `ESRCH` when there is no such process.
    pub fn get(&self, pid: i32) -> Result<&Proc, Error> {
        self.procs.get(&pid).ok_or_else(srch)
    }

    /// Every process's pid, zombies included, in order.
    pub fn pids(&self) -> Vec<u32> {
        self.procs.keys().map(|&p| p as u32).collect()
    }

    /// Records that `pid` ended with wait status `status`: it stays as a
    /// zombie until its parent waits for it (or is removed at once when it
    /// has no live parent); its children are orphaned.
    ///
    /// # Errors
    ///
    /// `ESRCH` when there is no such process.
    pub fn exit(&mut self, pid: i32, status: i32) -> Result<(), Error> {
        let p = self.procs.get_mut(&pid).ok_or_else(srch)?;
        if p.exit.is_some() {
            return Err(inval());
        }
        p.exit = Some(status);
        let ppid = p.ppid;
        if ppid == 0 || self.live(ppid).is_none() {
            self.procs.remove(&pid);
        }
        let orphans: Vec<i32> = self
            .procs
            .values()
            .filter(|c| c.ppid == pid)
            .map(|c| c.pid)
            .collect();
        for c in orphans {
            if self.procs.get(&c).is_some_and(|c| c.exit.is_some()) {
                self.procs.remove(&c);
            } else if let Some(c) = self.procs.get_mut(&c) {
                c.orphaned = true;
                c.ppid = 0;
            }
        }
        Ok(())
    }

    /// `proc_getpids` for `caller`.
    ///
    /// # Errors
    ///
    /// `ESRCH` when `caller` is not a process.
    pub fn getpids(&self, caller: i32) -> Result<(i32, i32, i32), Error> {
        let p = self.get(caller)?;
        Ok((p.pid, p.ppid, i32::from(p.orphaned)))
    }

    /// `proc_setowner` for `caller`: only root may set another owner.
    ///
    /// # Errors
    ///
    /// `ESRCH` when `caller` is not a process; `EPERM` when a caller that is
    /// not root sets another owner.
    pub fn setowner(&mut self, caller: i32, owner: u32, clear: bool) -> Result<(), Error> {
        let p = self.procs.get_mut(&caller).ok_or_else(srch)?;
        if clear {
            p.owner = NO_OWNER;
        } else if p.owner == 0 || p.owner == owner {
            p.owner = owner;
        } else {
            return Err(perm());
        }
        Ok(())
    }

    /// Whether `caller` may signal `pid`: same owner, or root.
    ///
    /// # Errors
    ///
    /// `ESRCH` when `pid` does not exist; `EPERM` when `caller` may not
    /// signal it.
    pub fn may_signal(&self, caller: i32, pid: i32) -> Result<(), Error> {
        let target = self.get(pid)?;
        let me = self.get(caller)?;
        if me.owner == 0 || (me.owner != NO_OWNER && me.owner == target.owner) {
            Ok(())
        } else {
            Err(perm())
        }
    }

    /// `proc_setsid` for `caller`: a new session and group it leads;
    /// `EPERM` if it already leads a process group.
    ///
    /// # Errors
    ///
    /// `ESRCH` when `caller` is not a process; `EPERM` when it already leads
    /// a process group.
    pub fn setsid(&mut self, caller: i32) -> Result<(), Error> {
        let leads = self
            .procs
            .values()
            .any(|p| p.pgrp == caller && p.pid != caller);
        let p = self.procs.get_mut(&caller).ok_or_else(srch)?;
        if p.pgrp == caller && (leads || p.sid == caller) {
            return Err(perm());
        }
        p.sid = caller;
        p.pgrp = caller;
        Ok(())
    }

    /// `proc_getsid`.
    ///
    /// # Errors
    ///
    /// `ESRCH` when there is no such process.
    pub fn getsid(&self, pid: i32) -> Result<i32, Error> {
        Ok(self.get(pid)?.sid)
    }

    /// `proc_getpgrp`.
    ///
    /// # Errors
    ///
    /// `ESRCH` when there is no such process.
    pub fn getpgrp(&self, pid: i32) -> Result<i32, Error> {
        Ok(self.get(pid)?.pgrp)
    }

    /// `proc_setpgrp` for `caller`: `pid` (0: the caller) must be the caller
    /// or its child, in the caller's session, and not a session leader;
    /// `pgrp` (0: `pid`) must be `pid` or a group of that session.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a negative `pid` or `pgrp`; `ESRCH` when `caller` is not
    /// a process or `pid` is neither a live process that is the caller nor
    /// its child; `EPERM` when `pid` leads a session or is in another, or
    /// `pgrp` is no group of the caller's session.
    pub fn setpgrp(&mut self, caller: i32, pid: i32, pgrp: i32) -> Result<(), Error> {
        if pid < 0 || pgrp < 0 {
            return Err(inval());
        }
        let pid = if pid == 0 { caller } else { pid };
        let pgrp = if pgrp == 0 { pid } else { pgrp };
        let me = self.get(caller)?.clone();
        let target = self.live(pid).ok_or_else(srch)?;
        if pid != caller && target.ppid != caller {
            return Err(srch());
        }
        if target.sid != me.sid || target.sid == pid {
            return Err(perm());
        }
        if pgrp != pid
            && !self
                .procs
                .values()
                .any(|p| p.pgrp == pgrp && p.sid == me.sid && p.exit.is_none())
        {
            return Err(perm());
        }
        if let Some(t) = self.procs.get_mut(&pid) {
            t.pgrp = pgrp;
        }
        Ok(())
    }

    /// The live pids of group `pgrp`.
    pub fn pgrp_pids(&self, pgrp: i32) -> Vec<u32> {
        self.procs
            .values()
            .filter(|p| p.pgrp == pgrp && p.exit.is_none())
            .map(|p| p.pid as u32)
            .collect()
    }

    /// `proc_wait` for `caller`, without blocking: `Ok(Some((status,
    /// pid)))` reaps an ended child (`pid`, or any with -1); `Ok(None)` when
    /// the children asked for are all running; `ECHILD` when there is none.
    ///
    /// # Errors
    ///
    /// `ESRCH` when `caller` is not a process; `ECHILD` when it has no child
    /// of those asked for.
    pub fn try_wait(&mut self, caller: i32, pid: i32) -> Result<Option<(i32, i32)>, Error> {
        self.get(caller)?;
        if pid == 0 || pid < -1 {
            return Err(inval());
        }
        let mut any = false;
        let mut found = None;
        for p in self.procs.values() {
            if p.ppid == caller && (pid == -1 || p.pid == pid) {
                any = true;
                if let Some(s) = p.exit {
                    found = Some((s, p.pid));
                    break;
                }
            }
        }
        if !any {
            return Err(Error::Code(ECHILD));
        }
        if let Some((_, p)) = found {
            self.procs.remove(&p);
        }
        Ok(found)
    }
}

mod server;
pub use server::{ArgsEnv, Lock, ProcServer, State, Tasks};

#[cfg(feature = "std")]
mod hosted;
#[cfg(feature = "std")]
pub use hosted::{HostedProc, Signals};

/// The pid whose proc port the caller holds as `port`, asked of the server
/// the Hurd way (`proc_getpids`); `None` for NULL or a port that is not a
/// live process's.
pub fn pid_of(ipc: &(impl UserIpc + ?Sized), port: PortName) -> Option<i32> {
    if !port.is_valid() {
        return None;
    }
    process::Client::new(ipc, port).getpids().ok().map(|p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routine_ids_are_the_hurds() {
        // process.defs as the Hurd has it today: four skipped host
        // routines, then getprivports at 24004.
        assert_eq!(process::id::getallpids, 24005);
        assert_eq!(process::id::setmsgport, 24013);
        assert_eq!(process::id::getpids, 24016);
        assert_eq!(process::id::child, 24012);
        assert_eq!(process::id::getmsgport, 24019);
        assert_eq!(process::id::mark_exit, 24025);
        assert_eq!(process::id::pid2task, 24029);
        assert_eq!(process::id::task2proc, 24031);
        assert_eq!(process::id::wait, 24020);
        assert_eq!(process::id::getprocargs, 24035);
        assert_eq!(process::id::setsid, 24042);
        assert_eq!(process::id::getpgrppids, 24049);
        assert_eq!(msg::id::sig_post, 23000);
    }

    fn code(e: Error) -> Option<i32> {
        match e {
            Error::Code(c) => Some(c),
            _ => None,
        }
    }

    #[test]
    fn processes_get_pids_parents_sessions_and_groups() {
        let mut t = ProcTable::new();
        let sh = t
            .register(None, 1000, vec!["sh".into()], vec![])
            .expect("sh");
        assert_eq!(t.getpids(sh).expect("pids"), (1, 0, 0));
        assert_eq!(
            (t.getsid(sh).expect("sid"), t.getpgrp(sh).expect("pgrp")),
            (1, 1)
        );
        let child = t
            .register(
                Some(sh),
                1000,
                vec!["ls".into(), "-l".into()],
                vec!["A=1".into()],
            )
            .expect("child");
        assert_eq!(t.getpids(child).expect("pids"), (child, sh, 0));
        assert_eq!(t.getsid(child).expect("sid"), sh);
        assert_eq!(t.getpgrp(child).expect("pgrp"), sh);
        assert_eq!(t.get(child).expect("get").argv, ["ls", "-l"]);
        assert_eq!(t.pids(), vec![1, 2]);
        // A dead parent gives no session.
        let orphan = t.register(Some(99), 0, vec![], vec![]).expect("orphan");
        assert_eq!(t.getpids(orphan).expect("pids").1, 0);
        assert_eq!(t.getsid(orphan).expect("sid"), orphan);
    }

    #[test]
    fn unknown_pids_are_esrch_and_bad_arguments_einval() {
        let mut t = ProcTable::new();
        let sh = t.register(None, 0, vec![], vec![]).expect("sh");
        assert_eq!(t.getsid(42).map_err(code), Err(Some(ESRCH)));
        assert_eq!(t.getpgrp(-1).map_err(code), Err(Some(ESRCH)));
        assert_eq!(t.exit(42, 0).map_err(code), Err(Some(ESRCH)));
        assert_eq!(
            t.setpgrp(sh, -3, 0).map_err(code),
            Err(Some(hurd_ipc::Errno::Inval as i32))
        );
        assert_eq!(t.try_wait(sh, 0).map_err(code), Err(Some(0x4000_0016)));
        assert_eq!(t.try_wait(sh, -1).map_err(code), Err(Some(ECHILD)));
        assert_eq!(t.setowner(77, 0, false).map_err(code), Err(Some(ESRCH)));
    }

    #[test]
    fn sessions_and_groups_follow_posix_rules() {
        let mut t = ProcTable::new();
        let sh = t.register(None, 1000, vec![], vec![]).expect("sh");
        // A session leader cannot start another session.
        assert!(t.setsid(sh).is_err());
        let job = t.register(Some(sh), 1000, vec![], vec![]).expect("job");
        // Its own group, then back into the shell's.
        t.setpgrp(sh, job, 0).expect("own group");
        assert_eq!(t.getpgrp(job).expect("pgrp"), job);
        assert_eq!(t.pgrp_pids(job), vec![job as u32]);
        t.setpgrp(sh, job, sh).expect("shell's group");
        assert_eq!(t.getpgrp(job).expect("pgrp"), sh);
        // A group that does not exist is EPERM; the leader cannot move.
        assert_eq!(
            t.setpgrp(sh, job, 1234).map_err(code),
            Err(Some(hurd_ipc::Errno::Perm as i32))
        );
        assert!(t.setpgrp(job, sh, 0).is_err());
        // A child may start its own session, then the parent cannot move it.
        t.setsid(job).expect("setsid");
        assert_eq!(
            (t.getsid(job).expect("sid"), t.getpgrp(job).expect("pgrp")),
            (job, job)
        );
        assert!(t.setpgrp(sh, job, sh).is_err());
    }

    #[test]
    fn owners_and_signal_permission() {
        let mut t = ProcTable::new();
        let root = t.register(None, 0, vec![], vec![]).expect("root");
        let alice = t.register(None, 1000, vec![], vec![]).expect("alice");
        let bob = t.register(None, 1001, vec![], vec![]).expect("bob");
        assert!(t.may_signal(root, bob).is_ok());
        assert!(t.may_signal(alice, alice).is_ok());
        assert_eq!(
            t.may_signal(alice, bob).map_err(code),
            Err(Some(hurd_ipc::Errno::Perm as i32))
        );
        assert_eq!(t.may_signal(alice, 99).map_err(code), Err(Some(ESRCH)));
        assert!(t.setowner(alice, 0, false).is_err());
        t.setowner(root, 1001, false)
            .expect("root gives itself an owner");
        t.setowner(alice, 0, true).expect("clear");
        assert_eq!(t.get(alice).expect("alice").owner, NO_OWNER);
        assert!(t.may_signal(alice, bob).is_err());
    }

    #[test]
    fn exit_statuses_are_waited_for_once() {
        let mut t = ProcTable::new();
        let sh = t.register(None, 0, vec![], vec![]).expect("sh");
        let a = t.register(Some(sh), 0, vec![], vec![]).expect("a");
        let b = t.register(Some(sh), 0, vec![], vec![]).expect("b");
        let grandchild = t.register(Some(b), 0, vec![], vec![]).expect("gc");
        assert_eq!(t.try_wait(sh, -1).expect("none yet"), None);
        t.exit(a, 0x200).expect("exit");
        assert_eq!(t.get(a).expect("zombie").exit, Some(0x200));
        assert!(t.exit(a, 0).is_err(), "a zombie cannot end twice");
        assert_eq!(t.try_wait(sh, a).expect("wait"), Some((0x200, a)));
        assert_eq!(t.get(a).map_err(code), Err(Some(ESRCH)));
        // Not the caller's child: ECHILD.
        assert_eq!(t.try_wait(sh, grandchild).map_err(code), Err(Some(ECHILD)));
        t.exit(b, 9).expect("b");
        assert_eq!(t.getpids(grandchild).expect("orphaned"), (grandchild, 0, 1));
        assert_eq!(t.try_wait(sh, -1).expect("b"), Some((9, b)));
        // An orphan's end leaves nothing behind.
        t.exit(grandchild, 0).expect("gc");
        assert_eq!(t.pids(), vec![sh as u32]);
    }

    #[test]
    fn signals_parse_by_name_and_number() {
        assert_eq!(parse_signal("TERM"), Some(SIGTERM));
        assert_eq!(parse_signal("sigkill"), Some(SIGKILL));
        assert_eq!(parse_signal("2"), Some(SIGINT));
        for bad in ["0", "33", "-1", "BOGUS", ""] {
            assert_eq!(parse_signal(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_table_is_bounded() {
        let mut t = ProcTable::new();
        for _ in 0..MAX_PROCS {
            t.register(None, 0, vec![], vec![]).expect("room");
        }
        assert!(t.register(None, 0, vec![], vec![]).is_err());
    }
}
