//! The server set in one process (feature `std`): what
//! `cargo xtask run --hosted` starts.
//!
//! [`System::boot`] starts, as threads of hurd-ipc's hosted runtime, an auth
//! server, a password server for the given accounts, and a tmpfs root file
//! system whose starter knows the translators of hurd-trans (`/hurd/hello`,
//! `null`, `zero`, `tmpfs`, `tarfs`). It fills the root with `/etc/passwd`,
//! `/etc/group`, a home directory per account, `/tmp` and `/hurd`.
//! An exec server runs the programs under `/bin` ([`System::install_program`]
//! adds more); `/servers/exec` holds a passive translator record for
//! `/hurd/exec`, another exec server knowing the same programs. A proc
//! server ([`System::proc`]) gives every program the exec server starts,
//! and every session, a pid.
//! [`System::login`] checks a password with the password server and gives
//! a [`Session`] for a new task, ready for a [`Shell`](crate::shell::Shell).

use hurd_auth::password::{Cost, PasswordConfig, PasswordServer};
use hurd_auth::{AuthClient, IdSet, Limits, StdClock};
use hurd_ipc::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::user::{ReceiveRight, SendRight};
use hurd_ipc::{Disposition, Error, PortName, RightType, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::netfs::{self, Options};
use hurd_trans::transbox::{Program as TransProgram, ThreadStarter};
use hurd_trans::translators::programs;
use hurd_trans::translators::tmpfs::Tmpfs;

use std::sync::{Arc, Mutex};

use hurd_ipc::PortItem;
use hurd_ipc::mig::Request;
use hurd_trans::protocol::io;
use hurd_trans::stat::Stat;

use crate::exec::{
    EXEC_NEWTASK, ExecServer, INIT_PORT_AUTH, INIT_PORT_CRDIR, INIT_PORT_CWDIR, INIT_PORT_MAX,
    INIT_PORT_PROC, SIGABRT, WaitStatus, argz, copy_send, exec, hosted_image,
};
use crate::proc::HostedProc;
use crate::shell::{Exec, Exit, ExitStatus, MAX_FILE, Session};

pub use crate::accounts::{Account, DEMO_ACCOUNTS};

pub use crate::exec::{Program, ProgramContext};

/// The programs every hosted system has: `true`, `false`, `args` (prints
/// its arguments), `crash` (panics, to show a crash ends only its task),
/// `sleep N` (waits N seconds, or until a fatal signal ends it; other
/// signals it reports on standard error),
/// `whoami` (prints the effective uids of its auth handle, asked of the auth
/// server) and `upcase` (copies standard input to standard output in upper
/// case). They write through their standard output and error ports.
pub fn standard_programs() -> Vec<(&'static str, Program)> {
    let args: Program = Arc::new(|ctx: &ProgramContext| {
        let mut line = ctx.argv.get(1..).unwrap_or_default().join(" ");
        line.push('\n');
        i32::from(ctx.print(&line).is_err())
    });
    let whoami: Program = Arc::new(|ctx: &ProgramContext| match ctx.ids() {
        Ok(ids) => {
            let uids: Vec<String> = ids.into_vecs().0.iter().map(u32::to_string).collect();
            i32::from(ctx.print(&format!("{}\n", uids.join(" "))).is_err())
        }
        Err(e) => {
            let _ = ctx.eprint(&format!("whoami: {e}\n"));
            1
        }
    });
    let upcase: Program = Arc::new(|ctx: &ProgramContext| {
        loop {
            match ctx.read(0, 64 * 1024) {
                Ok(data) if data.is_empty() => return 0,
                Ok(data) => {
                    if ctx.write(1, &data.to_ascii_uppercase()).is_err() {
                        return 1;
                    }
                }
                Err(e) => {
                    let _ = ctx.eprint(&format!("upcase: {e}\n"));
                    return 1;
                }
            }
        }
    });
    let sleep: Program = Arc::new(|ctx: &ProgramContext| {
        let Some(secs) = ctx.argv.get(1).and_then(|a| a.parse::<u64>().ok()) else {
            let _ = ctx.eprint("usage: sleep SECONDS\n");
            return 2;
        };
        let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let now = std::time::Instant::now();
            if now >= end || ctx.killed().is_some() {
                return 0;
            }
            if let Some(sig) = ctx.wait_signal(end - now)
                && ctx.killed().is_none()
            {
                let _ = ctx.eprint(&format!("sleep: signal {sig}\n"));
            }
        }
    });
    vec![
        ("/bin/sleep", sleep),
        ("/bin/true", Arc::new(|_: &ProgramContext| 0) as Program),
        ("/bin/false", Arc::new(|_: &ProgramContext| 1) as Program),
        ("/bin/args", args),
        (
            "/bin/crash",
            Arc::new(|_: &ProgramContext| -> i32 { panic!("crash: on purpose") }) as Program,
        ),
        ("/bin/whoami", whoami),
        ("/bin/upcase", upcase),
    ]
}

/// Makes a crashing task (a panicking thread) report itself in one line on
/// standard error — `[task `crash` crashed: why]` — instead of the default
/// panic report; the task ends and the system goes on. For interactive use.
pub fn report_crashes_briefly() {
    std::panic::set_hook(Box::new(|info| {
        let task = std::thread::current().name().unwrap_or("?").to_owned();
        let why = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("panic");
        eprintln!("[task `{task}` crashed: {why}]");
    }));
}

/// The running server set.
pub struct System {
    /// The runtime every task lives in.
    pub rt: Runtime,
    /// The boot task: holds root's auth handle, the file system's control
    /// port and the password server's port.
    boot: Task,
    root_auth: PortName,
    control: PortName,
    password: PortName,
    exec: Arc<ExecServer>,
    /// The proc server.
    proc: Arc<HostedProc>,
    /// A send right to the exec server, in the boot task's space.
    exec_port: PortName,
    /// The root file system's translator starter.
    translators: ThreadStarter,
}

/// `program` as a process: its task is registered with `proc` (with no
/// parent, owned by the first effective uid of its auth handle, with its
/// arguments) and its message port served, so `ps` shows it and its owner
/// may signal it; a fatal signal ends its task, as a translator's death
/// does — the file system starts it again on the next lookup.
fn as_process(proc: &Arc<HostedProc>, program: TransProgram) -> TransProgram {
    let proc = proc.clone();
    Arc::new(
        move |task: Task, argv: Vec<String>, boot: PortName, auth: PortName| {
            let owner = AuthClient::new(&task, auth)
                .getids()
                .ok()
                .and_then(|ids| ids.euids.iter().next())
                .unwrap_or(crate::proc::NO_OWNER);
            let signals = crate::proc::Signals::new();
            // Its proc port dies with its task, which ends the process.
            let _ = proc.attach(None, owner, (argv.clone(), Vec::new()), &task, &signals);
            program(task, argv, boot, auth);
        },
    )
}

fn thread_error(_: std::io::Error) -> Error {
    Errno::Again.into()
}

impl System {
    /// Starts the servers and fills the root file system.
    ///
    /// Passwords are hashed with Argon2id at the small test cost, so a boot
    /// is quick; a real system uses [`Cost::RECOMMENDED`].
    ///
    /// # Errors
    ///
    /// As [`boot_in`](Self::boot_in).
    pub fn boot(accounts: &[Account]) -> Result<System, Error> {
        System::boot_in(Runtime::new(), accounts)
    }

    /// Starts the servers in `rt` (for instance a cluster node's runtime,
    /// whose ports netmsg carries to other nodes) and fills the root file
    /// system.
    ///
    /// # Errors
    ///
    /// The first error of starting a server (a port, a thread) or of writing
    /// the root file system's base tree and accounts.
    pub fn boot_in(rt: Runtime, accounts: &[Account]) -> Result<System, Error> {
        let boot = rt.task();
        let fs_task = rt.task();
        let pw_task = rt.task();

        // auth: root handles for the boot task, the file system and the
        // password server.
        let handles =
            hurd_auth::hosted::spawn(&rt, Limits::default(), &[&boot, &fs_task, &pw_task])?;

        // password: the accounts' hashes.
        let db = crate::accounts::database(accounts)?;
        let pw_port = pw_task.port_allocate(RightType::Receive)?;
        let password = pw_task.give_right(pw_port, Disposition::MakeSend, &boot)?;
        let pw_auth = handles[2];
        std::thread::Builder::new()
            .name("password".into())
            .spawn(move || {
                let config = PasswordConfig::new(200, Cost::TEST);
                PasswordServer::new(pw_task, StdClock::new(), pw_port, pw_auth, db, config).run()
            })
            .map_err(thread_error)?;

        // exec: programs run as tasks of the runtime; `/hurd/exec` starts
        // more exec servers knowing the same programs.
        let exec = ExecServer::new(&rt);
        let exec_port = exec.spawn(&boot)?;
        // proc: every program exec starts, and every session, is a process.
        let proc = HostedProc::spawn(&rt)?;
        exec.set_proc(proc.clone())?;
        // Translators: each a process of its own, its owner's to signal.
        let starter = Box::new(ThreadStarter::new(&rt, &fs_task));
        for (name, program) in programs::all() {
            starter.register(name, as_process(&proc, program));
        }
        let exec_translator = crate::exec::translator(&rt, exec.programs());
        starter.register("/hurd/exec", as_process(&proc, exec_translator));
        let translators = (*starter).clone();

        // The root file system.
        let (_, control) = netfs::spawn(
            fs_task.clone(),
            Tmpfs::new(0, 0, 0o755, 64 << 20),
            handles[1],
            Some(starter),
            Options::default(),
            &boot,
        )?;
        let system = System {
            rt,
            boot,
            root_auth: handles[0],
            control,
            password,
            exec,
            proc,
            exec_port,
            translators,
        };
        system.fill_root(accounts)?;
        for (path, p) in standard_programs() {
            system.install_program(path, p)?;
        }
        Ok(system)
    }

    /// Writes the files every system has, as root.
    fn fill_root(&self, accounts: &[Account]) -> Result<(), Error> {
        let task = self.rt.task();
        let root = self.session_for(&task, IdSet::root())?;
        crate::rootfs::fill_base(&root)?;
        crate::accounts::write_accounts(&root, accounts)?;
        root.write_file("/share/example.tar", &example_archive(), false)?;
        for (name, _) in programs::all() {
            root.write_file(name, b"", false)?;
            chmod(&root, name.trim_start_matches('/'), 0o755)?;
        }
        crate::rootfs::install_exec_node(&root)
    }

    /// Installs `program` at `path`: registers it with the exec server and
    /// writes its [`hosted_image`] there (owned by root, mode 0755).
    ///
    /// # Errors
    ///
    /// The root file system's error writing the file or setting its mode.
    pub fn install_program(&self, path: &str, program: Program) -> Result<(), Error> {
        self.install_program_with_mode(path, program, 0o755)
    }

    /// [`install_program`](Self::install_program) with another mode (0700:
    /// only root may run it).
    ///
    /// # Errors
    ///
    /// The root file system's error writing the file or setting its mode.
    pub fn install_program_with_mode(
        &self,
        path: &str,
        program: Program,
        mode: u32,
    ) -> Result<(), Error> {
        let task = self.rt.task();
        let root = self.session_for(&task, IdSet::root())?;
        self.exec.register(path, program);
        root.write_file(path, &hosted_image(path), false)?;
        chmod(&root, path, mode)
    }

    /// Makes `program` startable as the translator `name` (for instance
    /// `/hurd/myfs`), writing an executable file there.
    ///
    /// # Errors
    ///
    /// The root file system's error writing the file or setting its mode.
    pub fn install_translator(&self, name: &str, program: TransProgram) -> Result<(), Error> {
        let task = self.rt.task();
        let root = self.session_for(&task, IdSet::root())?;
        self.translators
            .register(name, as_process(&self.proc, program));
        root.write_file(name, b"", false)?;
        chmod(&root, name, 0o755)
    }

    /// A send right to the exec server, in `to`'s space.
    ///
    /// # Errors
    ///
    /// The kernel's error when the right cannot be made in `to`'s space.
    pub fn exec_server(&self, to: &Task) -> Result<PortName, Error> {
        Ok(self
            .boot
            .give_right(self.exec_port, Disposition::CopySend, to)?)
    }

    /// The proc server (for instance to list its processes).
    pub fn proc(&self) -> &Arc<HostedProc> {
        &self.proc
    }

    /// A send right to the password server, in `to`'s space.
    ///
    /// # Errors
    ///
    /// The kernel's error when the right cannot be made in `to`'s space.
    pub fn password_server(&self, to: &Task) -> Result<PortName, Error> {
        Ok(self
            .boot
            .give_right(self.password, Disposition::CopySend, to)?)
    }

    /// A port for the root directory opened for `ids`, in `to`'s space.
    ///
    /// # Errors
    ///
    /// The root file system's error (`fsys_getroot`), or the kernel's when
    /// the right cannot be made in `to`'s space.
    pub fn root_dir(&self, to: &Task, ids: &IdSet) -> Result<PortName, Error> {
        let root = netfs::getroot(&self.boot, self.control, ids, OpenFlags::READ)?;
        Ok(self.boot.give_right(root, Disposition::MoveSend, to)?)
    }

    /// A new task in the system's runtime.
    pub fn task(&self) -> Task {
        self.rt.task()
    }

    /// Logs `name` in with `password` (checked by the password server) and
    /// returns a session for `task` with that user's ids, in their home
    /// directory.
    ///
    /// # Errors
    ///
    /// `EPERM` for an unknown name or a wrong password; the servers' errors
    /// when the session cannot be made.
    pub fn login<'a>(
        &self,
        task: &'a Task,
        name: &str,
        password: &str,
    ) -> Result<Session<'a, Task>, Error> {
        let passwd = {
            let t = self.rt.task();
            let root = self.session_for(&t, IdSet::root())?;
            root.read_file("/etc/passwd")?
        };
        let passwd = String::from_utf8_lossy(&passwd).into_owned();
        let ids = crate::rootfs::check_login(&self.boot, self.password, &passwd, name, password)?;
        let uid = ids.euids.iter().next().unwrap_or(0);
        let mut session = self.session_for(task, ids)?;
        let home = if uid == 0 {
            "/root".to_owned()
        } else {
            format!("/home/{name}")
        };
        // A missing home is not fatal: the session stays in `/`.
        let _ = crate::shell::cd(&mut session, &home);
        Ok(session)
    }

    /// A session for `task` holding `ids` (made by the boot task, which holds
    /// root's handle), in `/`, with the password server's port. The session
    /// is a process of its own: the leader of a new session and process
    /// group, owned by its first effective uid; it ends when the session is
    /// dropped (its proc port then has no senders).
    ///
    /// # Errors
    ///
    /// The auth server's error making the handle, or the root file system's
    /// or proc server's when the session's ports cannot be made.
    pub fn session_for<'a>(&self, task: &'a Task, ids: IdSet) -> Result<Session<'a, Task>, Error> {
        let h = AuthClient::new(&self.boot, self.root_auth).makeauth(&[], &ids)?;
        let auth = self.boot.give_right(h, Disposition::MoveSend, task)?;
        let root = netfs::getroot(&self.boot, self.control, &ids, OpenFlags::READ)?;
        let root = self.boot.give_right(root, Disposition::MoveSend, task)?;
        let password = self
            .boot
            .give_right(self.password, Disposition::CopySend, task)?;
        let owner = ids.euids.iter().next().unwrap_or(crate::proc::NO_OWNER);
        let mut session = Session::new(task, auth, root, password)?;
        let (_, proc) = self
            .proc
            .register_in(None, owner, vec!["sh".into()], Vec::new(), task)?;
        session.proc = proc;
        Ok(session)
    }
}

pub use crate::rootfs::example_archive;

use crate::rootfs::chmod;

impl Exec<Task> for System {
    /// Runs `path` through the exec server (`exec_exec_file_name`: the server
    /// opens the file with the session's directories and auth handle, so the
    /// session's ids are checked) as a new task with the session's identity,
    /// and waits for its end. Standard output goes to `stdout` when given,
    /// else to a capture whose bytes come back in [`Exit::output`]; standard
    /// error always to a capture ([`Exit::errors`]). A program that panics is
    /// a crash: its task is terminated and the system goes on.
    fn exec(
        &self,
        session: &Session<'_, Task>,
        path: &str,
        argv: &[String],
        stdout: Option<PortName>,
    ) -> Result<Exit, Error> {
        let task = session.ipc;
        let out_capture = match stdout {
            Some(_) => None,
            None => Some(Capture::start(&self.rt, task)?),
        };
        let err_capture = Capture::start(&self.rt, task)?;
        let out_port =
            stdout.unwrap_or_else(|| out_capture.as_ref().map_or(PortName::NULL, Capture::port));
        let exec_port = self.exec_server(task)?;
        let mut portarray = [PortName::NULL; INIT_PORT_MAX];
        portarray[INIT_PORT_CWDIR] = session.cwdir;
        portarray[INIT_PORT_CRDIR] = session.crdir;
        portarray[INIT_PORT_AUTH] = session.auth;
        portarray[INIT_PORT_PROC] = session.proc;
        let status = exec::Client::new(task, exec_port).exec_file_name(
            PortItem {
                disposition: Disposition::CopySend,
                name: PortName::NULL,
            },
            PortItem {
                disposition: Disposition::CopySend,
                name: PortName::NULL,
            },
            EXEC_NEWTASK,
            path.into(),
            argz(argv),
            argz(&session.env),
            copy_send(&[PortName::NULL, out_port, err_capture.port()]),
            copy_send(&portarray),
        );
        let _ = task.port_deallocate(exec_port);
        let output = out_capture.map(Capture::finish).unwrap_or_default();
        let errors = err_capture.finish();
        Ok(Exit {
            output,
            errors,
            status: match WaitStatus::from_raw(status?) {
                WaitStatus::Exited(c) => ExitStatus::Code(i32::from(c)),
                WaitStatus::Signaled(SIGABRT) => ExitStatus::Crashed,
                WaitStatus::Signaled(sig) => ExitStatus::Killed(sig),
            },
        })
    }
}

/// An I/O port that keeps what is written to it (at most [`MAX_FILE`]
/// bytes; more is `EFBIG`): a program's standard output or error as the
/// shell collects it. Served by a task of its own, ended by
/// [`Capture::finish`] or by dropping it (an error on the way).
struct Capture {
    task: Task,
    /// The holder's send right to the port.
    port: SendRight<Task>,
    data: Arc<Mutex<Vec<u8>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct CaptureServer {
    data: Arc<Mutex<Vec<u8>>>,
}

impl Capture {
    /// Serves a new port and gives `holder` a send right to it.
    ///
    /// # Errors
    ///
    /// What making the port or the holder's right returns, or the thread
    /// not starting; nothing is left behind in either task.
    fn start(rt: &Runtime, holder: &Task) -> Result<Capture, Error> {
        let task = rt.task();
        let recv = ReceiveRight::allocate(task.clone())?;
        let port = SendRight::from_raw(
            holder.clone(),
            task.give_right(recv.name(), Disposition::MakeSend, holder)?,
        );
        let data = Arc::new(Mutex::new(Vec::new()));
        let server = CaptureServer { data: data.clone() };
        let serving = task.clone();
        // On failure the closure (and the receive right in it) is dropped,
        // and `port` releases the holder's right.
        let thread = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || {
                let _ = io::serve(&server, &serving, recv.name());
                drop(recv);
            })
            .map_err(thread_error)?;
        Ok(Capture {
            task,
            port,
            data,
            thread: Some(thread),
        })
    }

    /// The holder's name for the port.
    fn port(&self) -> PortName {
        self.port.name()
    }

    /// Stops serving and gives what was written.
    fn finish(mut self) -> Vec<u8> {
        self.stop();
        std::mem::take(
            &mut *self
                .data
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Ends the serving task and its thread; the holder's right is
    /// released with the value (a dead name by then).
    fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.task.terminate();
            let _ = t.join();
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

fn not_supported<T>() -> Result<T, Error> {
    Err(Errno::OpNotSupp.into())
}

impl io::Server for CaptureServer {
    fn write(&self, _req: &Request, data: Vec<u8>, _offset: i64) -> Result<u64, Error> {
        let mut buf = self
            .data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buf.len().saturating_add(data.len()) > MAX_FILE {
            return Err(Errno::FBig.into());
        }
        buf.extend_from_slice(&data);
        Ok(data.len() as u64)
    }
    fn read(&self, _req: &Request, _offset: i64, _amount: u64) -> Result<Vec<u8>, Error> {
        Err(Errno::BadF.into())
    }
    fn seek(&self, _req: &Request, _offset: i64, _whence: i32) -> Result<i64, Error> {
        Err(Errno::SPipe.into())
    }
    fn readable(&self, _req: &Request) -> Result<u64, Error> {
        Ok(0)
    }
    fn select(&self, _req: &Request, _select_type: i32) -> Result<i32, Error> {
        // Not served: answered as a routine it does not know.
        Err(Error::Mig(hurd_ipc::MigReturn::BadId))
    }
    fn set_all_openmodes(&self, _req: &Request, _newbits: i32) -> Result<(), Error> {
        Ok(())
    }
    fn get_openmodes(&self, _req: &Request) -> Result<i32, Error> {
        Ok(OpenFlags::WRITE.bits() as i32)
    }
    fn set_some_openmodes(&self, _req: &Request, _bits: i32) -> Result<(), Error> {
        Ok(())
    }
    fn clear_some_openmodes(&self, _req: &Request, _bits: i32) -> Result<(), Error> {
        Ok(())
    }
    fn stat(&self, _req: &Request) -> Result<Stat, Error> {
        not_supported()
    }
    fn reauthenticate(&self, _req: &Request, _rendezvous2: PortItem) {}
    fn restrict_auth(
        &self,
        _req: &Request,
        _uids: Vec<u32>,
        _gids: Vec<u32>,
    ) -> Result<PortItem, Error> {
        not_supported()
    }
    fn duplicate(&self, _req: &Request) -> Result<PortItem, Error> {
        not_supported()
    }
    fn server_version(&self, _req: &Request) -> Result<(String, i32, i32, i32), Error> {
        Ok(("capture".into(), 0, 1, 0))
    }
    fn map(&self, _req: &Request) -> Result<(PortItem, PortItem), Error> {
        not_supported()
    }
    fn pathconf(&self, _req: &Request, _name: i32) -> Result<i32, Error> {
        not_supported()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(rt: &Runtime) -> (usize, usize) {
        rt.with_kernel(|k| (k.port_count(), k.space_count()))
    }

    #[test]
    fn a_capture_dropped_unfinished_leaves_nothing_behind() {
        let rt = Runtime::new();
        let holder = rt.task();
        let before = counts(&rt);
        let c = Capture::start(&rt, &holder).expect("capture");
        let port = c.port();
        assert!(holder.port_type(port).is_ok());
        drop(c);
        assert!(
            holder.port_type(port).is_err(),
            "the holder's right is gone"
        );
        assert_eq!(counts(&rt), before);
    }

    #[test]
    fn a_capture_for_a_dead_holder_fails_and_leaves_nothing_behind() {
        let rt = Runtime::new();
        let holder = rt.task();
        holder.terminate();
        let before = counts(&rt);
        assert!(Capture::start(&rt, &holder).is_err());
        assert_eq!(counts(&rt), before);
    }

    #[test]
    fn a_capture_keeps_what_is_written() {
        let rt = Runtime::new();
        let holder = rt.task();
        let c = Capture::start(&rt, &holder).expect("capture");
        let n = io::Client::new(&holder, c.port())
            .write(b"hello".to_vec(), -1)
            .expect("write");
        assert_eq!(n, 5);
        assert_eq!(c.finish(), b"hello");
    }
}
