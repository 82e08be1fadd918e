//! The proc server on hurd-ipc's hosted runtime, and the signal thread of a
//! hosted program.

use std::string::String;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use std::vec::Vec;

use hurd_ipc::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Error, MigReturn, PortItem, PortName, RightType, UserIpc};

use super::{ProcServer, State, is_fatal, msg};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The proc server on the hosted runtime: [`ProcServer`] in a task of its
/// own, its state behind a `Mutex` so the exec server and the system (in
/// the same program) can register processes directly — on the Hurd, proc
/// learns of tasks from the kernel and `proc_child`.
pub type HostedProc = ProcServer<Task, Mutex<State>>;

impl ProcServer<Task, Mutex<State>> {
    /// Starts a proc server in `rt`, serving on a thread of its own.
    ///
    /// # Errors
    ///
    /// The kernel's error when the server's ports cannot be made, or `EAGAIN`
    /// when its thread cannot start.
    pub fn spawn(rt: &Runtime) -> Result<Arc<HostedProc>, Error> {
        let server = Arc::new(ProcServer::new(rt.task(), None)?);
        let s = server.clone();
        std::thread::Builder::new()
            .name("proc".into())
            .spawn(move || s.serve())
            .map_err(|_| Error::from(Errno::Again))?;
        Ok(server)
    }

    /// Registers a new process (see [`ProcTable::register`](super::ProcTable::register))
    /// and gives a send right to its proc port in `to`'s space.
    ///
    /// # Errors
    ///
    /// `EAGAIN` when the table is full; the kernel's error when the proc port
    /// or the right in `to`'s space cannot be made (the process is then not
    /// registered).
    pub fn register_in(
        &self,
        parent: Option<i32>,
        owner: u32,
        argv: Vec<String>,
        envp: Vec<String>,
        to: &Task,
    ) -> Result<(i32, PortName), Error> {
        let (pid, port) = self.register(parent, owner, argv, envp)?;
        match self.ipc().give_right(port, Disposition::MakeSend, to) {
            Ok(given) => Ok((pid, given)),
            Err(e) => {
                let _ = self.exit(pid, 0);
                Err(e.into())
            }
        }
    }

    /// Registers the program running in `task` as a new process, as
    /// [`register_in`](Self::register_in) does, and serves its message
    /// port on a signal thread of the task ([`Signals::serve`]): `signals`
    /// gets what is posted, and a fatal signal ends the task. Returns the
    /// pid and the task's send right to its proc port. A process whose
    /// message port could not be set up is still registered (signals to it
    /// then fail).
    ///
    /// # Errors
    ///
    /// As [`register_in`](Self::register_in).
    pub fn attach(
        &self,
        parent: Option<i32>,
        owner: u32,
        (argv, envp): (Vec<String>, Vec<String>),
        task: &Task,
        signals: &Arc<Signals>,
    ) -> Result<(i32, PortName), Error> {
        let (pid, port) = self.register_in(parent, owner, argv, envp, task)?;
        if let Ok(recv) = task.port_allocate(RightType::Receive) {
            let served = signals
                .serve(task, recv)
                .and_then(|()| self.set_msgport(pid, task, recv, Disposition::MakeSend));
            if served.is_err() {
                let _ = task.port_mod_refs(recv, RightType::Receive, -1);
            }
        }
        Ok((pid, port))
    }

    /// Sets `pid`'s message port to a send right made from `port` in
    /// `from`'s space with `disposition` (`MakeSend` from a receive right,
    /// `MoveSend` or `CopySend` of a send right); the previous one is
    /// released.
    ///
    /// # Errors
    ///
    /// `ESRCH` when there is no such process; the kernel's error when the
    /// right cannot be made from `from`'s space.
    pub fn set_msgport(
        &self,
        pid: i32,
        from: &Task,
        port: PortName,
        disposition: Disposition,
    ) -> Result<(), Error> {
        let mine = from.give_right(port, disposition, self.ipc())?;
        self.set_msgport_right(pid, mine)
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
    ///
    /// # Errors
    ///
    /// The kernel's error when the port cannot be moved into the server's
    /// set, or `EAGAIN` when the thread cannot start.
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
