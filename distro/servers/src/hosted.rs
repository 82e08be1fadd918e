//! The server set in one process (feature `std`): what
//! `cargo xtask run --hosted` starts.
//!
//! [`System::boot`] starts, as threads of hurd-ipc's hosted runtime, an auth
//! server, a password server for the given accounts, and a tmpfs root file
//! system whose starter knows the translators of hurd-trans (`/hurd/hello`,
//! `null`, `zero`, `tmpfs`, `tarfs`). It fills the root with `/etc/passwd`,
//! `/etc/group`, a home directory per account, `/tmp` and `/hurd`.
//! [`System::login`] checks a password with the password server and gives
//! a [`Session`] for a new task, ready for a [`Shell`](crate::shell::Shell).

use hurd_auth::password::{Cost, Database, PasswordConfig, PasswordServer, hash_password};
use hurd_auth::protocol::password;
use hurd_auth::{AuthClient, Errno, IdSet, Limits, StdClock};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Error, PortName, RightType, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::netfs::{self, Options};
use hurd_trans::protocol::fs;
use hurd_trans::translators::programs;
use hurd_trans::translators::tmpfs::Tmpfs;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::shell::{Exec, Exit, ExitStatus, Session};

/// An account of the system.
#[derive(Clone, Debug)]
pub struct Account {
    /// Login name.
    pub name: &'static str,
    /// Password (hashed at boot; only the password server sees the hash).
    pub password: &'static str,
    /// User id.
    pub uid: u32,
    /// Primary group.
    pub gid: u32,
}

/// The demonstration accounts: root, alice and bob.
pub const DEMO_ACCOUNTS: &[Account] = &[
    Account {
        name: "root",
        password: "hurd",
        uid: 0,
        gid: 0,
    },
    Account {
        name: "alice",
        password: "wonderland",
        uid: 1000,
        gid: 100,
    },
    Account {
        name: "bob",
        password: "builder",
        uid: 1001,
        gid: 100,
    },
];

/// A program of the hosted system: it runs as a new task (a thread) with
/// its arguments and returns what it printed and its exit status. On the
/// kernel, the exec server loads ELF files instead; hosted, the files under
/// `/bin` are placeholders whose programs are registered here, as the
/// translators under `/hurd` are with the file system's starter.
pub type Program = Arc<dyn Fn(Task, Vec<String>) -> (Vec<u8>, i32) + Send + Sync>;

/// The programs every hosted system has: `true`, `false`, `args` (prints
/// its arguments) and `crash` (panics, to show a crash ends only its task).
pub fn standard_programs() -> Vec<(&'static str, Program)> {
    let args: Program = Arc::new(|_task, argv| {
        let mut out = argv.get(1..).unwrap_or_default().join(" ").into_bytes();
        out.push(b'\n');
        (out, 0)
    });
    vec![
        ("/bin/true", Arc::new(|_, _| (Vec::new(), 0)) as Program),
        ("/bin/false", Arc::new(|_, _| (Vec::new(), 1)) as Program),
        ("/bin/args", args),
        (
            "/bin/crash",
            Arc::new(|_, _| -> (Vec<u8>, i32) { panic!("crash: on purpose") }) as Program,
        ),
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
    programs: Mutex<HashMap<String, Program>>,
}

fn thread_error(_: std::io::Error) -> Error {
    Errno::Again.into()
}

impl System {
    /// Starts the servers and fills the root file system.
    ///
    /// Passwords are hashed with Argon2id at the small test cost, so a boot
    /// is quick; a real system uses [`Cost::RECOMMENDED`].
    pub fn boot(accounts: &[Account]) -> Result<System, Error> {
        let rt = Runtime::new();
        let boot = rt.task();
        let fs_task = rt.task();
        let pw_task = rt.task();

        // auth: root handles for the boot task, the file system and the
        // password server.
        let handles =
            hurd_auth::hosted::spawn(&rt, Limits::default(), &[&boot, &fs_task, &pw_task])?;

        // password: the accounts' hashes.
        let db = database(accounts)?;
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

        // The root file system.
        let (_, control) = netfs::spawn(
            fs_task.clone(),
            Tmpfs::new(0, 0, 0o755, 64 << 20),
            handles[1],
            Some(programs::starter(&rt, &fs_task)),
            Options::default(),
            &boot,
        )?;
        let system = System {
            rt,
            boot,
            root_auth: handles[0],
            control,
            password,
            programs: Mutex::new(HashMap::new()),
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
        let passwd: String = accounts
            .iter()
            .map(|a| {
                let home = if a.uid == 0 {
                    "/root".to_owned()
                } else {
                    format!("/home/{}", a.name)
                };
                format!("{}:x:{}:{}::{home}:/bin/sh\n", a.name, a.uid, a.gid)
            })
            .collect();
        for d in [
            "bin", "etc", "tmp", "home", "hurd", "root", "servers", "share",
        ] {
            mkdir(&root, d, 0o755)?;
        }
        chmod(&root, "tmp", 0o1777)?;
        chmod(&root, "root", 0o700)?;
        root.write_file("/etc/passwd", passwd.as_bytes(), false)?;
        root.write_file("/etc/group", b"root:x:0:\nusers:x:100:\n", false)?;
        root.write_file("/share/example.tar", &example_archive(), false)?;
        root.write_file(
            "/etc/motd",
            b"Welcome to hurd-rs. Try: ls /, id, settrans /tmp/hi /hurd/hello, cat /tmp/hi, su.\n",
            false,
        )?;
        for (name, _) in programs::all() {
            root.write_file(name, b"", false)?;
            chmod(&root, name.trim_start_matches('/'), 0o755)?;
        }
        for a in accounts.iter().filter(|a| a.uid != 0) {
            let home = format!("home/{}", a.name);
            mkdir(&root, &home, 0o755)?;
            let node = root.open(&home, OpenFlags::NOTRANS)?;
            let r = fs::Client::new(root.ipc, node).file_chown(a.uid, a.gid);
            root.release(node);
            r?;
        }
        Ok(())
    }

    /// Installs `program` at `path` (an executable placeholder file, owned by
    /// root, mode 0755).
    pub fn install_program(&self, path: &str, program: Program) -> Result<(), Error> {
        let task = self.rt.task();
        let root = self.session_for(&task, IdSet::root())?;
        root.write_file(path, b"", false)?;
        chmod(&root, path, 0o755)?;
        self.programs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(path.to_owned(), program);
        Ok(())
    }

    /// A new task in the system's runtime.
    pub fn task(&self) -> Task {
        self.rt.task()
    }

    /// Logs `name` in with `password` (checked by the password server) and
    /// returns a session for `task` with that user's ids, in their home
    /// directory.
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
        let uid = crate::shell::passwd_uid(&passwd, name).ok_or(Error::from(Errno::Perm))?;
        let handle = password::Client::new(&self.boot, self.password)
            .check_user(uid, password.into())?
            .name;
        let ids = AuthClient::new(&self.boot, handle).getids();
        let _ = self.boot.port_deallocate(handle);
        let mut session = self.session_for(task, ids?)?;
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
    /// root's handle), in `/`, with the password server's port.
    pub fn session_for<'a>(&self, task: &'a Task, ids: IdSet) -> Result<Session<'a, Task>, Error> {
        let h = AuthClient::new(&self.boot, self.root_auth).makeauth(&[], &ids)?;
        let auth = self.boot.give_right(h, Disposition::MoveSend, task)?;
        let root = netfs::getroot(&self.boot, self.control, &ids, OpenFlags::READ)?;
        let root = self.boot.give_right(root, Disposition::MoveSend, task)?;
        let password = self
            .boot
            .give_right(self.password, Disposition::CopySend, task)?;
        Session::new(task, auth, root, password)
    }
}

/// A small tar archive to mount with `/hurd/tarfs`.
pub fn example_archive() -> Vec<u8> {
    use crate::tar::{Header, Kind, TarWriter};
    let mut w = TarWriter::new();
    let entry = |path: &str, kind| Header {
        path: path.into(),
        kind,
        mode: if kind == Kind::Dir { 0o755 } else { 0o644 },
        uid: 0,
        gid: 0,
        pax: Vec::new(),
    };
    w.append(&entry("docs", Kind::Dir), b"");
    w.append(
        &entry("docs/hello.txt", Kind::File),
        b"Hello from inside a tar archive.\n",
    );
    w.append(
        &entry("README", Kind::File),
        b"Mount me: settrans FILE /hurd/tarfs\n",
    );
    w.finish()
}

fn mkdir(s: &Session<'_, Task>, path: &str, mode: u32) -> Result<(), Error> {
    let (dir, name) = s.parent(path)?;
    let r = fs::Client::new(s.ipc, dir).dir_mkdir(name, mode);
    s.release(dir);
    r
}

fn chmod(s: &Session<'_, Task>, path: &str, mode: u32) -> Result<(), Error> {
    let node = s.open(path, OpenFlags::NOTRANS)?;
    let r = fs::Client::new(s.ipc, node).file_chmod(mode);
    s.release(node);
    r
}

/// The password server's database for `accounts`.
fn database(accounts: &[Account]) -> Result<Database, Error> {
    let mut passwd = String::new();
    let mut shadow = String::new();
    for a in accounts {
        let salt = format!("hurd-rs-{}-salt", a.name);
        let hash = hash_password(a.password.as_bytes(), salt.as_bytes(), Cost::TEST)
            .map_err(|_| Error::from(Errno::Inval))?;
        passwd.push_str(&format!("{}:x:{}:{}::/:/bin/sh\n", a.name, a.uid, a.gid));
        shadow.push_str(&format!("{}:{hash}:19000::::::\n", a.name));
    }
    Database::parse(&passwd, &shadow, "root:x:0:\nusers:x:100:\n").map_err(|_| Errno::Inval.into())
}

impl Exec<Task> for System {
    /// Runs the program registered at `path` as a new task and waits for it.
    /// A program that panics is a crash: its task is terminated, its rights
    /// die, and the system goes on. A file with no registered program is
    /// `ENOEXEC`.
    fn exec(
        &self,
        _session: &Session<'_, Task>,
        path: &str,
        argv: &[String],
    ) -> Result<Exit, Error> {
        let program = self
            .programs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(path)
            .cloned()
            .ok_or(Error::from(Errno::NoExec))?;
        let argv = argv.to_vec();
        let name = argv.first().cloned().unwrap_or_default();
        let handle = self
            .rt
            .spawn(&name, move |task| program(task, argv))
            .map_err(thread_error)?;
        Ok(match handle.join() {
            Ok((output, code)) => Exit {
                output,
                status: ExitStatus::Code(code),
            },
            Err(_) => Exit {
                output: Vec::new(),
                status: ExitStatus::Crashed,
            },
        })
    }
}
