//! The proc server on hurd-ipc's hosted runtime, and the signal thread of a
//! hosted program.

use std::collections::HashMap;
use std::string::String;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use std::vec::Vec;

use hurd_auth::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::notify::NOTIFY_NO_SENDERS;
use hurd_ipc::{Disposition, Error, MigReturn, NotifyKind, PortItem, PortName, RightType, UserIpc};

use super::{ProcTable, WNOHANG, is_fatal, msg, process};
use crate::exec::argz;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the server holds besides the table, all in its own space.
#[derive(Default)]
struct Inner {
    table: ProcTable,
    /// Each process's proc port (a receive right in the server's space).
    by_port: HashMap<PortName, i32>,
    ports: HashMap<i32, PortName>,
    /// Each process's message port (a send right).
    msgports: HashMap<i32, PortName>,
    /// `proc_wait` requests waiting for a child's end: the caller, the pid
    /// asked for, and the request to answer.
    waiting: Vec<(i32, i32, Request)>,
}

/// The proc server: a [`ProcTable`] served on a port set holding one port
/// per process (a request's caller is the process whose port it arrived
/// on).
pub struct ProcServer {
    task: Task,
    portset: PortName,
    inner: Mutex<Inner>,
}

impl ProcServer {
    /// Starts a proc server in `rt`, serving on a thread of its own.
    pub fn spawn(rt: &Runtime) -> Result<Arc<ProcServer>, Error> {
        let task = rt.task();
        let portset = task.port_allocate(RightType::PortSet)?;
        let server = Arc::new(ProcServer {
            task,
            portset,
            inner: Mutex::new(Inner {
                table: ProcTable::new(),
                ..Inner::default()
            }),
        });
        let s = server.clone();
        std::thread::Builder::new()
            .name("proc".into())
            .spawn(move || {
                let _ = hurd_ipc::mig::serve(&s.task, s.portset, |m| {
                    if m.header.id == NOTIFY_NO_SENDERS {
                        s.no_senders(m.header.local);
                        return Dispatch::NoReply;
                    }
                    process::demux(&*s, &s.task, m)
                });
            })
            .map_err(|_| Error::from(Errno::Again))?;
        Ok(server)
    }

    /// Registers a new process (see [`ProcTable::register`]) and gives a
    /// send right to its proc port in `to`'s space. On the Hurd proc learns
    /// of tasks from the kernel; here the exec server and the system, in the
    /// same program, call this.
    pub fn register(
        &self,
        parent: Option<i32>,
        owner: u32,
        argv: Vec<String>,
        envp: Vec<String>,
        to: &Task,
    ) -> Result<(i32, PortName), Error> {
        let port = self.task.port_allocate(RightType::Receive)?;
        let given = self
            .task
            .port_move_member(port, self.portset)
            .and_then(|()| {
                self.task.request_notification(
                    port,
                    NotifyKind::NoSenders,
                    1,
                    port,
                    Disposition::MakeSendOnce,
                )
            })
            .map_err(Error::from)
            .and_then(|_| Ok(self.task.give_right(port, Disposition::MakeSend, to)?));
        let given = match given {
            Ok(g) => g,
            Err(e) => {
                let _ = self.task.port_mod_refs(port, RightType::Receive, -1);
                return Err(e);
            }
        };
        let mut inner = lock(&self.inner);
        match inner.table.register(parent, owner, argv, envp) {
            Ok(pid) => {
                inner.by_port.insert(port, pid);
                inner.ports.insert(pid, port);
                Ok((pid, given))
            }
            Err(e) => {
                drop(inner);
                let _ = self.task.port_mod_refs(port, RightType::Receive, -1);
                let _ = to.port_deallocate(given);
                Err(e)
            }
        }
    }

    /// Records that `pid` ended with wait status `status`: its proc port
    /// and message port are released and a parent waiting in `proc_wait`
    /// is answered.
    pub fn exit(&self, pid: i32, status: i32) -> Result<(), Error> {
        let mut inner = lock(&self.inner);
        inner.table.exit(pid, status)?;
        let mut release = Vec::new();
        if let Some(port) = inner.ports.remove(&pid) {
            inner.by_port.remove(&port);
            release.push((port, RightType::Receive));
        }
        if let Some(m) = inner.msgports.remove(&pid) {
            release.push((m, RightType::Send));
        }
        // Answer the waits this end satisfies (or makes hopeless).
        let waiting = core::mem::take(&mut inner.waiting);
        let mut answers = Vec::new();
        for (caller, asked, req) in waiting {
            match inner.table.try_wait(caller, asked) {
                Ok(None) => inner.waiting.push((caller, asked, req)),
                Ok(Some(r)) => answers.push((req, Ok(r))),
                Err(e) => answers.push((req, Err(e))),
            }
        }
        drop(inner);
        for (port, right) in release {
            let _ = match right {
                RightType::Receive => self.task.port_mod_refs(port, right, -1),
                _ => self.task.port_deallocate(port),
            };
        }
        for (req, r) in answers {
            let _ = process::reply::wait(&self.task, &req, r);
        }
        Ok(())
    }

    /// A process's proc port has no senders left: every task that held it
    /// is gone, so the process has ended (status 0 when nobody recorded
    /// another). This is how a shell session's process ends hosted.
    fn no_senders(&self, port: PortName) {
        let pid = lock(&self.inner).by_port.get(&port).copied();
        if let Some(pid) = pid {
            let _ = self.exit(pid, 0);
        }
    }

    /// Sets `pid`'s message port to a send right made from `port` in
    /// `from`'s space with `disposition` (`MakeSend` from a receive right,
    /// `MoveSend` or `CopySend` of a send right); the previous one is
    /// released.
    pub fn set_msgport(
        &self,
        pid: i32,
        from: &Task,
        port: PortName,
        disposition: Disposition,
    ) -> Result<(), Error> {
        let mine = from.give_right(port, disposition, &self.task)?;
        let mut inner = lock(&self.inner);
        if inner.table.get(pid).is_err() {
            drop(inner);
            let _ = self.task.port_deallocate(mine);
            return Err(Error::Code(super::ESRCH));
        }
        let old = inner.msgports.insert(pid, mine);
        drop(inner);
        if let Some(old) = old {
            let _ = self.task.port_deallocate(old);
        }
        Ok(())
    }

    /// The pid whose proc port `to` holds as `port`, asked of the server
    /// the Hurd way (`proc_getpids`); `None` for NULL or a port that is not
    /// a live process's.
    pub fn pid_of(ipc: &impl UserIpc, port: PortName) -> Option<i32> {
        if !port.is_valid() {
            return None;
        }
        process::Client::new(ipc, port).getpids().ok().map(|p| p.0)
    }

    /// A snapshot of the table's processes.
    pub fn processes(&self) -> Vec<super::Proc> {
        let inner = lock(&self.inner);
        inner
            .table
            .pids()
            .into_iter()
            .filter_map(|p| inner.table.get(p as i32).ok().cloned())
            .collect()
    }

    fn caller(&self, req: &Request) -> Result<i32, Error> {
        lock(&self.inner)
            .by_port
            .get(&req.port)
            .copied()
            .ok_or(Error::Code(super::ESRCH))
    }

    fn release_item(&self, item: PortItem) {
        if !item.name.is_valid() {
            return;
        }
        if item.disposition == Disposition::PORT_RECEIVE {
            let _ = self.task.port_mod_refs(item.name, RightType::Receive, -1);
        } else {
            let _ = self.task.port_deallocate(item.name);
        }
    }
}

fn null_item() -> PortItem {
    PortItem {
        disposition: Disposition::MoveSend,
        name: PortName::NULL,
    }
}

impl process::Server for ProcServer {
    fn getallpids(&self, req: &Request) -> Result<Vec<u32>, Error> {
        self.caller(req)?;
        Ok(lock(&self.inner).table.pids())
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
        let mut inner = lock(&self.inner);
        let old = if newmsgport.name.is_valid() {
            inner.msgports.insert(caller, newmsgport.name)
        } else {
            inner.msgports.remove(&caller)
        };
        Ok(PortItem {
            disposition: Disposition::MoveSend,
            name: old.unwrap_or(PortName::NULL),
        })
    }

    fn setowner(&self, req: &Request, owner: u32, clear: i32) -> Result<(), Error> {
        let caller = self.caller(req)?;
        lock(&self.inner).table.setowner(caller, owner, clear != 0)
    }

    fn getpids(&self, req: &Request) -> Result<(i32, i32, i32), Error> {
        let caller = self.caller(req)?;
        lock(&self.inner).table.getpids(caller)
    }

    fn getmsgport(&self, req: &Request, pid: i32) -> Result<PortItem, Error> {
        let caller = self.caller(req)?;
        let inner = lock(&self.inner);
        inner.table.may_signal(caller, pid)?;
        Ok(match inner.msgports.get(&pid) {
            Some(&m) => PortItem {
                disposition: Disposition::CopySend,
                name: m,
            },
            None => null_item(),
        })
    }

    fn wait(&self, req: &Request, pid: i32, options: i32) -> Result<(i32, i32), Error> {
        let caller = self.caller(req)?;
        let mut inner = lock(&self.inner);
        match inner.table.try_wait(caller, pid)? {
            Some(r) => Ok(r),
            None if options & WNOHANG != 0 => Ok((0, 0)),
            // Each waiting request holds a reply right: bounded.
            None if inner.waiting.len() >= super::MAX_PROCS => Err(Errno::Again.into()),
            None => {
                inner.waiting.push((caller, pid, *req));
                Err(Error::Mig(MigReturn::NoReply))
            }
        }
    }

    fn getprocinfo(&self, req: &Request, pid: i32) -> Result<(i32, i32, i32, u32, i32), Error> {
        self.caller(req)?;
        let inner = lock(&self.inner);
        let p = inner.table.get(pid)?;
        let state = if p.exit.is_some() {
            super::PI_ZOMBIE
        } else {
            super::PI_RUNNING
        };
        Ok((p.ppid, p.pgrp, p.sid, p.owner, state))
    }

    fn getprocargs(&self, req: &Request, pid: i32) -> Result<Vec<u8>, Error> {
        self.caller(req)?;
        Ok(argz(&lock(&self.inner).table.get(pid)?.argv))
    }

    fn getprocenv(&self, req: &Request, pid: i32) -> Result<Vec<u8>, Error> {
        self.caller(req)?;
        Ok(argz(&lock(&self.inner).table.get(pid)?.envp))
    }

    fn setsid(&self, req: &Request) -> Result<(), Error> {
        let caller = self.caller(req)?;
        lock(&self.inner).table.setsid(caller)
    }

    fn getsid(&self, req: &Request, pid: i32) -> Result<i32, Error> {
        self.caller(req)?;
        lock(&self.inner).table.getsid(pid)
    }

    fn setpgrp(&self, req: &Request, pid: i32, pgrp: i32) -> Result<(), Error> {
        let caller = self.caller(req)?;
        lock(&self.inner).table.setpgrp(caller, pid, pgrp)
    }

    fn getpgrp(&self, req: &Request, pid: i32) -> Result<i32, Error> {
        self.caller(req)?;
        lock(&self.inner).table.getpgrp(pid)
    }

    fn getpgrppids(&self, req: &Request, pgrp: i32) -> Result<Vec<u32>, Error> {
        let caller = self.caller(req)?;
        let inner = lock(&self.inner);
        let pgrp = if pgrp == 0 {
            inner.table.getpgrp(caller)?
        } else {
            pgrp
        };
        Ok(inner.table.pgrp_pids(pgrp))
    }
}

/// The signals posted to a hosted program, shared by its signal thread
/// (which serves its message port) and its [`ProgramContext`](crate::exec::ProgramContext).
#[derive(Default)]
pub struct Signals {
    state: Mutex<SigState>,
    cond: Condvar,
}

#[derive(Default)]
struct SigState {
    pending: Vec<i32>,
    fatal: Option<i32>,
}

impl Signals {
    /// No signal yet.
    pub fn new() -> Arc<Signals> {
        Arc::new(Signals::default())
    }

    /// Records `signal` and wakes a waiting program.
    pub fn post(&self, signal: i32) {
        let mut s = lock(&self.state);
        if is_fatal(signal) && s.fatal.is_none() {
            s.fatal = Some(signal);
        }
        if s.pending.len() < 64 {
            s.pending.push(signal);
        }
        self.cond.notify_all();
    }

    /// The signal that ended the program, if one did.
    pub fn fatal(&self) -> Option<i32> {
        lock(&self.state).fatal
    }

    /// Takes the oldest pending signal.
    pub fn take(&self) -> Option<i32> {
        let mut s = lock(&self.state);
        (!s.pending.is_empty()).then(|| s.pending.remove(0))
    }

    /// Waits up to `timeout` for a signal and takes it; `None` on timeout.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        let end = Instant::now() + timeout;
        let mut s = lock(&self.state);
        loop {
            if !s.pending.is_empty() {
                return Some(s.pending.remove(0));
            }
            let now = Instant::now();
            if now >= end {
                return None;
            }
            s = self
                .cond
                .wait_timeout(s, end - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Serves `port` (a receive right in `task`'s space) as the message
    /// port of a program on a thread of its own, until the task ends; a
    /// fatal signal terminates `task` (so the program's RPCs fail and it
    /// ends).
    pub fn serve(self: &Arc<Self>, task: &Task, port: PortName) -> Result<(), Error> {
        let server = SigServer {
            signals: self.clone(),
            task: task.clone(),
        };
        std::thread::Builder::new()
            .name("msgport".into())
            .spawn(move || {
                let _ = msg::serve(&server, &server.task, port);
            })
            .map(|_| ())
            .map_err(|_| Error::from(Errno::Again))
    }
}

struct SigServer {
    signals: Arc<Signals>,
    task: Task,
}

impl msg::Server for SigServer {
    fn sig_post(
        &self,
        req: &Request,
        signal: i32,
        _sigcode: u32,
        refport: PortItem,
    ) -> Result<(), Error> {
        if refport.name.is_valid() {
            if refport.disposition == Disposition::PORT_RECEIVE {
                let _ = self
                    .task
                    .port_mod_refs(refport.name, RightType::Receive, -1);
            } else {
                let _ = self.task.port_deallocate(refport.name);
            }
        }
        if !(1..super::NSIG).contains(&signal) {
            return Err(Errno::Inval.into());
        }
        if !is_fatal(signal) {
            self.signals.post(signal);
            return Ok(());
        }
        // A fatal signal: answer the sender first (the program, woken, may
        // end its task at once), then record it and end the task, so a
        // program blocked in an RPC sees it fail and returns.
        let _ = msg::reply::sig_post(&self.task, req, Ok(()));
        self.signals.post(signal);
        self.task.terminate();
        Err(Error::Mig(MigReturn::NoReply))
    }
}
