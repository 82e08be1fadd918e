//! The proc server itself, for either world: a [`ProcTable`] served on a
//! port set holding one port per process (a request's caller is the
//! process whose port it arrived on), over any [`UserIpc`].
//!
//! Its state sits behind a [`Lock`]: a `RefCell` when one thread serves and
//! nobody else touches it (on the kernel), a `Mutex` when other threads of
//! the same program register processes directly (hosted, see
//! [`HostedProc`](super::HostedProc)).
//!
//! Given [`Tasks`] — what the kernel offers for tasks — it also serves the
//! Hurd's routines on task ports: `proc_child` makes a task a child process
//! of the caller, and the kernel's report of the task's end ends the
//! process; `proc_task2proc`, `proc_task2pid` and `proc_pid2task` map
//! between them, and `proc_mark_exit` records the wait status a process
//! chose before it ends.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use hurd_ipc::Errno;
use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::notify::NOTIFY_NO_SENDERS;
use hurd_ipc::user::{ReceiveRight, Right, SendRight};
use hurd_ipc::{
    Disposition, Error, Item, Message, MigReturn, PortItem, PortName, RightType, UserIpc,
};

use super::{ESRCH, MAX_PROCS, PI_RUNNING, PI_ZOMBIE, Proc, ProcTable, WNOHANG, process};
use crate::exec::argz;

/// Exclusive access to a value, however the world provides it.
pub trait Lock<T> {
    /// Runs `f` with the value.
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
}

impl<T> Lock<T> for RefCell<T> {
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

#[cfg(feature = "std")]
impl<T> Lock<T> for std::sync::Mutex<T> {
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// A process's arguments and environment.
pub type ArgsEnv = (Vec<String>, Vec<String>);

/// What the proc server needs of the kernel to keep processes for tasks:
/// on the Hurd proc learns of tasks and their ends from Mach; these are the
/// reference kernel's (or any other's) ways of doing so.
pub struct Tasks<I: ?Sized> {
    /// Asks the kernel to report the end of `task` (a send right in the
    /// server's space) with a message through a send-once right made from
    /// `notify` (a receive right of the server's).
    pub watch: fn(&I, task: PortName, notify: PortName) -> Result<(), Error>,
    /// The id of that report; its body is one 64-bit exit value.
    pub ended: i32,
    /// The wait status for an exit value the kernel reported.
    pub wait_status: fn(u64) -> i32,
    /// The arguments and environment a task was started with, read from
    /// its memory as the Hurd's proc does (`None`: not readable).
    pub args: fn(&I, task: PortName) -> Option<ArgsEnv>,
}

impl<I: ?Sized> Clone for Tasks<I> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<I: ?Sized> Copy for Tasks<I> {}

/// What the server holds besides the table, all in its own space.
#[derive(Debug, Default)]
pub struct State {
    table: ProcTable,
    /// Each process's proc port (a receive right in the server's space).
    by_port: BTreeMap<PortName, i32>,
    ports: BTreeMap<i32, PortName>,
    /// Each process's message port (a send right).
    msgports: BTreeMap<i32, PortName>,
    /// Each task-backed process's task port (a send right), both ways.
    tasks: BTreeMap<i32, PortName>,
    by_task: BTreeMap<PortName, i32>,
    /// Wait statuses processes announced with `proc_mark_exit`.
    marked: BTreeMap<i32, i32>,
    /// `proc_wait` requests waiting for a child's end: the caller, the pid
    /// asked for, and the request to answer.
    waiting: Vec<(i32, i32, Request)>,
}

/// The proc server over `I`, its state behind `L`.
pub struct ProcServer<I: UserIpc, L: Lock<State> = RefCell<State>> {
    ipc: I,
    portset: PortName,
    state: L,
    tasks: Option<Tasks<I>>,
}

/// A reply item carrying no right.
fn null_item() -> PortItem {
    PortItem {
        disposition: Disposition::MoveSend,
        name: PortName::NULL,
    }
}

impl<I: UserIpc, L: Lock<State> + From<State>> ProcServer<I, L> {
    /// A proc server in `ipc`'s space (serve it with [`serve`](Self::serve));
    /// with `tasks`, it also keeps processes for tasks.
    ///
    /// # Errors
    ///
    /// The kernel's error when the server's port set cannot be made.
    pub fn new(ipc: I, tasks: Option<Tasks<I>>) -> Result<Self, Error> {
        let portset = ipc.port_allocate(RightType::PortSet)?;
        Ok(ProcServer {
            ipc,
            portset,
            state: L::from(State::default()),
            tasks,
        })
    }
}

impl<I: UserIpc, L: Lock<State>> ProcServer<I, L> {
    /// The server's IPC (its own space).
    pub fn ipc(&self) -> &I {
        &self.ipc
    }

    /// Serves requests until the port set dies.
    pub fn serve(&self) {
        let _ = hurd_ipc::mig::serve(&self.ipc, self.portset, |m| self.handle(m));
    }

    /// One request or notification.
    pub fn handle(&self, m: Message) -> Dispatch {
        if m.header.id == NOTIFY_NO_SENDERS {
            self.no_senders(m.header.local);
            self.ipc.destroy_message(m);
            return Dispatch::NoReply;
        }
        // Only the kernel holds a send-once right made from a proc port;
        // a process faking the report with its send right is not heard.
        if let Some(t) = self.tasks
            && m.header.id == t.ended
            && m.header.bits.local() == Some(Disposition::PORT_SEND_ONCE)
        {
            self.task_ended(&m, t);
            self.ipc.destroy_message(m);
            return Dispatch::NoReply;
        }
        process::demux(self, &self.ipc, m)
    }

    /// Registers a new process (see [`ProcTable::register`]); returns its
    /// pid and its proc port, a receive right in the server's space (give
    /// the process a send right made from it).
    ///
    /// # Errors
    ///
    /// `EAGAIN` when the table is full; the kernel's error when the proc port
    /// cannot be made (nothing is then registered).
    pub fn register(
        &self,
        parent: Option<i32>,
        owner: u32,
        argv: Vec<String>,
        envp: Vec<String>,
    ) -> Result<(i32, PortName), Error> {
        // Destroyed if the table refuses the process.
        let port = ReceiveRight::from_raw(
            &self.ipc,
            crate::port::served_port(&self.ipc, self.portset)?,
        );
        let pid = self
            .state
            .with(|s| s.table.register(parent, owner, argv, envp))?;
        let port = port.into_raw();
        self.state.with(|s| {
            s.by_port.insert(port, pid);
            s.ports.insert(pid, port);
        });
        Ok((pid, port))
    }

    /// Records that `pid` ended with wait status `status`: its proc port,
    /// message port and task port are released and a parent waiting in
    /// `proc_wait` is answered.
    ///
    /// # Errors
    ///
    /// `ESRCH` when there is no such process.
    pub fn exit(&self, pid: i32, status: i32) -> Result<(), Error> {
        let (release, answers) = self.state.with(|s| {
            s.table.exit(pid, status)?;
            let mut release = Vec::new();
            if let Some(port) = s.ports.remove(&pid) {
                s.by_port.remove(&port);
                release.push((port, RightType::Receive));
            }
            if let Some(m) = s.msgports.remove(&pid) {
                release.push((m, RightType::Send));
            }
            if let Some(t) = s.tasks.remove(&pid) {
                s.by_task.remove(&t);
                release.push((t, RightType::Send));
            }
            s.marked.remove(&pid);
            // Answer the waits this end satisfies (or makes hopeless).
            let mut answers = Vec::new();
            for (caller, asked, req) in core::mem::take(&mut s.waiting) {
                match s.table.try_wait(caller, asked) {
                    Ok(None) => s.waiting.push((caller, asked, req)),
                    Ok(Some(r)) => answers.push((req, Ok(r))),
                    Err(e) => answers.push((req, Err(e))),
                }
            }
            Ok::<_, Error>((release, answers))
        })?;
        for (port, right) in release {
            let _ = match right {
                RightType::Receive => self.ipc.port_mod_refs(port, right, -1),
                _ => self.ipc.port_deallocate(port),
            };
        }
        for (req, r) in answers {
            let _ = process::reply::wait(&self.ipc, &req, r);
        }
        Ok(())
    }

    /// A process's proc port has no senders left: every holder is gone, so
    /// a process without a task has ended (status 0 when nobody recorded
    /// another). This is how a hosted shell session's process ends; a
    /// task's process ends when the kernel reports the task's end.
    fn no_senders(&self, port: PortName) {
        let pid = self.state.with(|s| {
            let pid = s.by_port.get(&port).copied()?;
            (!s.tasks.contains_key(&pid)).then(|| (pid, s.marked.get(&pid).copied()))
        });
        if let Some((pid, marked)) = pid {
            let _ = self.exit(pid, marked.unwrap_or(0));
        }
    }

    /// The kernel reports a task's end on its process's proc port.
    fn task_ended(&self, m: &Message, tasks: Tasks<I>) {
        let Some(Item::U64(value)) = m.body.first() else {
            return;
        };
        let found = self.state.with(|s| {
            let pid = s.by_port.get(&m.header.local).copied()?;
            s.tasks
                .contains_key(&pid)
                .then(|| (pid, s.marked.get(&pid).copied()))
        });
        if let Some((pid, marked)) = found {
            let _ = self.exit(pid, marked.unwrap_or((tasks.wait_status)(*value)));
        }
    }

    /// Sets `pid`'s message port to `port`, a send right in the server's
    /// space that it takes; the previous one is released.
    ///
    /// # Errors
    ///
    /// `ESRCH` when there is no such process (the right is then released).
    pub fn set_msgport_right(&self, pid: i32, port: PortName) -> Result<(), Error> {
        let r = self.state.with(|s| {
            s.table.get(pid)?;
            Ok::<_, Error>(s.msgports.insert(pid, port))
        });
        // The right released: the previous one, or the one refused.
        let released = match &r {
            Ok(old) => old.unwrap_or(PortName::NULL),
            Err(_) => port,
        };
        drop(SendRight::from_raw(&self.ipc, released));
        r.map(|_| ())
    }

    /// A snapshot of the table's processes.
    pub fn processes(&self) -> Vec<Proc> {
        self.state.with(|s| {
            s.table
                .pids()
                .into_iter()
                .filter_map(|p| s.table.get(p as i32).ok().cloned())
                .collect()
        })
    }

    fn caller(&self, req: &Request) -> Result<i32, Error> {
        self.state
            .with(|s| s.by_port.get(&req.port).copied())
            .ok_or(Error::Code(ESRCH))
    }

    fn release_item(&self, item: PortItem) {
        drop(Right::received(&self.ipc, item));
    }

    /// The caller, and a task send right from `task` (released on error).
    fn caller_and_task(
        &self,
        req: &Request,
        task: PortItem,
    ) -> Result<(i32, SendRight<&I>), Error> {
        let checked = if task.disposition != Disposition::PORT_SEND || !task.name.is_valid() {
            Err(Errno::Inval.into())
        } else {
            self.caller(req)
        };
        match checked {
            Ok(c) => Ok((c, SendRight::from_raw(&self.ipc, task.name))),
            Err(e) => {
                self.release_item(task);
                Err(e)
            }
        }
    }

    /// A task-backed process's arguments and environment, read from its
    /// task now (a program loaded after `proc_child` has its own by then).
    fn task_args(&self, pid: i32) -> Option<ArgsEnv> {
        let tasks = self.tasks?;
        let task = self.state.with(|s| s.tasks.get(&pid).copied())?;
        (tasks.args)(&self.ipc, task)
    }

    /// The process of task `task` (the server's name for its port).
    fn pid_of_task(&self, task: PortName) -> Result<i32, Error> {
        self.state
            .with(|s| s.by_task.get(&task).copied())
            .ok_or(Error::Code(ESRCH))
    }
}

impl<I: UserIpc, L: Lock<State>> process::Server for ProcServer<I, L> {
    fn getallpids(&self, req: &Request) -> Result<Vec<u32>, Error> {
        self.caller(req)?;
        Ok(self.state.with(|s| s.table.pids()))
    }

    fn child(&self, req: &Request, child: PortItem) -> Result<(), Error> {
        // The task's right is released on every refusal below.
        let (caller, task) = self.caller_and_task(req, child)?;
        let Some(tasks) = self.tasks else {
            return Err(Errno::OpNotSupp.into());
        };
        // The same port again: the name we already hold for it (the new
        // reference goes).
        if self.pid_of_task(task.name()).is_ok() {
            return Err(Errno::Busy.into());
        }
        let owner = self.state.with(|s| s.table.get(caller).map(|p| p.owner));
        let (argv, envp) = (tasks.args)(&self.ipc, task.name()).unwrap_or_default();
        let (pid, port) = owner.and_then(|o| self.register(Some(caller), o, argv, envp))?;
        let task = task.into_raw();
        self.state.with(|s| {
            s.tasks.insert(pid, task);
            s.by_task.insert(task, pid);
        });
        if let Err(e) = (tasks.watch)(&self.ipc, task, port) {
            // Without the kernel's report the process could never end.
            let _ = self.exit(pid, 0);
            return Err(e);
        }
        Ok(())
    }

    fn setmsgport(&self, req: &Request, newmsgport: PortItem) -> Result<PortItem, Error> {
        let valid = !newmsgport.name.is_valid() || newmsgport.disposition == Disposition::PORT_SEND;
        let caller = match self.caller(req) {
            Ok(c) if valid => c,
            Ok(_) => {
                self.release_item(newmsgport);
                return Err(Errno::Inval.into());
            }
            Err(e) => {
                self.release_item(newmsgport);
                return Err(e);
            }
        };
        let old = self.state.with(|s| {
            if newmsgport.name.is_valid() {
                s.msgports.insert(caller, newmsgport.name)
            } else {
                s.msgports.remove(&caller)
            }
        });
        Ok(PortItem {
            disposition: Disposition::MoveSend,
            name: old.unwrap_or(PortName::NULL),
        })
    }

    fn setowner(&self, req: &Request, owner: u32, clear: i32) -> Result<(), Error> {
        let caller = self.caller(req)?;
        self.state
            .with(|s| s.table.setowner(caller, owner, clear != 0))
    }

    fn getpids(&self, req: &Request) -> Result<(i32, i32, i32), Error> {
        let caller = self.caller(req)?;
        self.state.with(|s| s.table.getpids(caller))
    }

    fn getmsgport(&self, req: &Request, pid: i32) -> Result<PortItem, Error> {
        let caller = self.caller(req)?;
        self.state.with(|s| {
            s.table.may_signal(caller, pid)?;
            Ok(match s.msgports.get(&pid) {
                Some(&m) => PortItem {
                    disposition: Disposition::CopySend,
                    name: m,
                },
                None => null_item(),
            })
        })
    }

    fn wait(&self, req: &Request, pid: i32, options: i32) -> Result<(i32, i32), Error> {
        let caller = self.caller(req)?;
        self.state.with(|s| match s.table.try_wait(caller, pid)? {
            Some(r) => Ok(r),
            None if options & WNOHANG != 0 => Ok((0, 0)),
            // Each waiting request holds a reply right: bounded.
            None if s.waiting.len() >= MAX_PROCS => Err(Errno::Again.into()),
            None => {
                s.waiting.push((caller, pid, *req));
                Err(Error::Mig(MigReturn::NoReply))
            }
        })
    }

    fn mark_exit(&self, req: &Request, status: i32, _sigcode: i32) -> Result<(), Error> {
        let caller = self.caller(req)?;
        self.state.with(|s| s.marked.insert(caller, status));
        Ok(())
    }

    fn pid2task(&self, req: &Request, pid: i32) -> Result<PortItem, Error> {
        let caller = self.caller(req)?;
        self.state.with(|s| {
            s.table.may_signal(caller, pid)?;
            Ok(match s.tasks.get(&pid) {
                Some(&t) => PortItem {
                    disposition: Disposition::CopySend,
                    name: t,
                },
                None => null_item(),
            })
        })
    }

    fn task2pid(&self, req: &Request, task: PortItem) -> Result<i32, Error> {
        let (_, task) = self.caller_and_task(req, task)?;
        self.pid_of_task(task.name())
    }

    fn task2proc(&self, req: &Request, task: PortItem) -> Result<PortItem, Error> {
        let (_, task) = self.caller_and_task(req, task)?;
        let r = self.pid_of_task(task.name()).and_then(|pid| {
            self.state
                .with(|s| s.ports.get(&pid).copied())
                .ok_or(Error::Code(ESRCH))
        });
        drop(task);
        Ok(PortItem {
            disposition: Disposition::MakeSend,
            name: r?,
        })
    }

    fn getprocinfo(&self, req: &Request, pid: i32) -> Result<(i32, i32, i32, u32, i32), Error> {
        self.caller(req)?;
        self.state.with(|s| {
            let p = s.table.get(pid)?;
            let state = if p.exit.is_some() {
                PI_ZOMBIE
            } else {
                PI_RUNNING
            };
            Ok((p.ppid, p.pgrp, p.sid, p.owner, state))
        })
    }

    fn getprocargs(&self, req: &Request, pid: i32) -> Result<Vec<u8>, Error> {
        self.caller(req)?;
        if let Some((argv, _)) = self.task_args(pid) {
            return Ok(argz(&argv));
        }
        self.state.with(|s| Ok(argz(&s.table.get(pid)?.argv)))
    }

    fn getprocenv(&self, req: &Request, pid: i32) -> Result<Vec<u8>, Error> {
        self.caller(req)?;
        if let Some((_, envp)) = self.task_args(pid) {
            return Ok(argz(&envp));
        }
        self.state.with(|s| Ok(argz(&s.table.get(pid)?.envp)))
    }

    fn setsid(&self, req: &Request) -> Result<(), Error> {
        let caller = self.caller(req)?;
        self.state.with(|s| s.table.setsid(caller))
    }

    fn getsid(&self, req: &Request, pid: i32) -> Result<i32, Error> {
        self.caller(req)?;
        self.state.with(|s| s.table.getsid(pid))
    }

    fn setpgrp(&self, req: &Request, pid: i32, pgrp: i32) -> Result<(), Error> {
        let caller = self.caller(req)?;
        self.state.with(|s| s.table.setpgrp(caller, pid, pgrp))
    }

    fn getpgrp(&self, req: &Request, pid: i32) -> Result<i32, Error> {
        self.caller(req)?;
        self.state.with(|s| s.table.getpgrp(pid))
    }

    fn getpgrppids(&self, req: &Request, pgrp: i32) -> Result<Vec<u32>, Error> {
        let caller = self.caller(req)?;
        self.state.with(|s| {
            let pgrp = if pgrp == 0 {
                s.table.getpgrp(caller)?
            } else {
                pgrp
            };
            Ok(s.table.pgrp_pids(pgrp))
        })
    }
}
