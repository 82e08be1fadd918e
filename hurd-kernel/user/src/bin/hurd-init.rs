//! The reference distro's first task on the kernel: it starts the Hurd's
//! servers — hurd-auth's auth and password servers and a hurd-trans tmpfs
//! as the root file system — as threads of its own, fills the root with the
//! base tree of `hurd_servers::rootfs` (accounts, `/etc`, homes, `/tmp`,
//! the translators under `/hurd`, started as threads by
//! [`kernel_user::translators`]),
//! and runs the console: the serial line through hurd-servers' terminal
//! line discipline (echo, line editing, no echo for passwords), a login
//! checked by the password server, and hurd-servers' shell for the user
//! logged in. A `rootfs` boot module (a tar archive, as an image carries)
//! is written into the root file system first, passive translator records
//! included. End of file (^D) at the login prompt halts the system.
#![cfg_attr(target_os = "none", no_std, no_main)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use hurd_auth::password::{Cost, PasswordConfig, PasswordServer};
use hurd_auth::{AuthClient, AuthServer, Errno, IdSet, Limits};
use hurd_ipc::{Disposition, Error, Item, PortName, RightType, UserIpc};
use hurd_servers::exec::{HEADER_MAX, Image, MAX_INTERPRETERS, classify};
use hurd_servers::rootfs::{self, DEMO_ACCOUNTS};
use hurd_servers::shell::{self, Exec, Exit, ExitStatus, Flow, Session, Shell};
use hurd_servers::term::{LineDiscipline, LocalFlags, Read};
use hurd_servers::untar;
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{NetFs, Options};
use hurd_trans::protocol::io;
use hurd_trans::translators::tmpfs::Tmpfs;
use kernel_user::abi::EXIT_EXCEPTION_BASE;
use kernel_user::abi::rpc::TASK_EXITED;
use kernel_user::exec;
use kernel_user::ipc::KernelIpc;
use kernel_user::msg::{COPY_SEND, MsgBuf};
use kernel_user::stdio;
use kernel_user::{bootinfo, println, sys, thread, translators};

kernel_user::entry!(run);

/// Milliseconds, roughly, from the time-stamp counter.
fn now_ms() -> u64 {
    sys::read_tsc() / 1_000_000
}

/// The serial console as a terminal.
struct Console {
    ld: LineDiscipline,
}

impl Console {
    /// Writes `data` with the terminal's output processing.
    fn write(&self, data: &[u8]) {
        let mut out = Vec::new();
        self.ld.output(data, &mut out);
        for chunk in out.chunks(4096) {
            sys::console_write(chunk);
        }
    }

    /// Reads one line (without its newline), echoing it if `echo`; `None`
    /// at end of file or if the console cannot be read.
    fn read_line(&mut self, echo: bool) -> Option<String> {
        let mut t = self.ld.termios().clone();
        t.lflag.set(LocalFlags::ECHO, echo);
        self.ld.set_termios(t);
        loop {
            match self.ld.read(1024) {
                Read::Data(d) => {
                    if !echo {
                        self.write(b"\n");
                    }
                    let line = String::from_utf8_lossy(&d);
                    return Some(String::from(line.trim_end_matches(['\n', '\r'])));
                }
                Read::Eof => return None,
                Read::Empty => {}
            }
            let mut buf = [0u8; 256];
            let n = sys::console_read(&mut buf, false).ok()?;
            for &b in &buf[..n] {
                let mut echoed = Vec::new();
                // Job-control characters have no foreground job to signal
                // yet: the line discipline's own handling (discarding the
                // line) is all they do.
                let _ = self.ld.input(b, &mut echoed);
                if !echoed.is_empty() {
                    sys::console_write(&echoed);
                }
            }
        }
    }
}

/// What the running system holds (names in this task's one space).
struct System {
    ipc: KernelIpc,
    /// Root's auth handle.
    root_auth: PortName,
    /// The root directory, opened for root.
    root_dir: PortName,
    /// The password server.
    password: PortName,
}

impl System {
    /// A new send reference to `name` (the sessions own theirs).
    fn share(&self, name: PortName) -> Result<PortName, Error> {
        self.ipc.port_mod_refs(name, RightType::Send, 1)?;
        Ok(name)
    }

    /// A session holding `ids`: an auth handle made by the auth server, and
    /// the root directory reauthenticated with it.
    fn session_for(&self, ids: &IdSet) -> Result<Session<'_, KernelIpc>, Error> {
        let auth = AuthClient::new(&self.ipc, self.root_auth).makeauth(&[], ids)?;
        let copy = io::Client::new(&self.ipc, self.root_dir).duplicate()?.name;
        let view = Lookup {
            ipc: &self.ipc,
            crdir: self.root_dir,
            cwdir: self.root_dir,
            auth,
            fds: &[],
            ctty: PortName::NULL,
        };
        let root = view.reauthenticate(copy)?;
        Session::new(&self.ipc, auth, root, self.share(self.password)?)
    }
}

// ANCHOR: programs
/// Runs programs for the shell: the file is read through the session's
/// ports (so its file system checks the session's ids and `O_EXEC`), loaded
/// into a new task by [`kernel_user::exec::spawn_elf`], which asks the
/// kernel to report the task's end before it runs; the shell then waits for
/// that report. The program gets its arguments and an environment
/// (`kernel_user::args`) and, for an output redirection, the file's port
/// as its standard output; otherwise programs write to the console
/// themselves, so nothing is captured for `Exit::output`.
struct KernelExec;

impl Exec<KernelIpc> for KernelExec {
    fn exec(
        &self,
        session: &Session<'_, KernelIpc>,
        path: &str,
        argv: &[String],
        stdout: Option<PortName>,
    ) -> Result<Exit, Error> {
        let (image, argv) = resolve_scripts(session, path, argv)?;
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let user = session.ids().ok().and_then(|ids| ids.euids.iter().next());
        let user = alloc::format!("UID={}", user.unwrap_or(0));
        let ipc = session.ipc;
        let reply = ipc.port_allocate(RightType::Receive)?;
        let notify = ipc.port_allocate(RightType::Receive)?;
        let mut buf = MsgBuf::new();
        // Standard output: the shell's port for a redirection (the
        // program writes to the file itself), else the console.
        let ports: Vec<exec::InitialPort> = stdout
            .into_iter()
            .map(|p| exec::InitialPort {
                name: stdio::STDOUT,
                right: p.0,
                disposition: COPY_SEND,
            })
            .collect();
        let started = exec::spawn_elf_with_ports(
            &mut buf,
            reply.0,
            &image,
            (&argv, &[user.as_str()]),
            &ports,
            Some(notify.0),
        );
        let _ = ipc.port_destroy(reply);
        let child = match started {
            Ok(child) => child,
            Err(e) => {
                let _ = ipc.port_destroy(notify);
                return Err(match e {
                    exec::ExecError::Elf(_) => Errno::NoExec.into(),
                    exec::ExecError::TooBig => Error::Code(hurd_servers::exec::E2BIG),
                    exec::ExecError::Call(..) => Errno::Again.into(),
                });
            }
        };
        let ended = ipc.receive(notify);
        let _ = ipc.port_destroy(notify);
        let _ = ipc.port_deallocate(PortName(child.task));
        let _ = ipc.port_deallocate(PortName(child.thread));
        let status = match ended.map(|m| (m.header.id, m.body.first().cloned())) {
            Ok((TASK_EXITED, Some(Item::U64(s)))) if s < EXIT_EXCEPTION_BASE => {
                ExitStatus::Code(s as i32)
            }
            Ok((TASK_EXITED, Some(Item::U64(_)))) => ExitStatus::Crashed,
            _ => return Err(Errno::Io.into()),
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

// ANCHOR: boot
/// Starts the servers and fills the root file system.
fn boot() -> Result<System, Error> {
    let ipc = KernelIpc::new();
    let auth = AuthServer::new(KernelIpc::new(), now_ms, Limits::default())?;
    let fs_auth = auth.create_handle(IdSet::root())?;
    let pw_auth = auth.create_handle(IdSet::root())?;
    let root_auth = auth.create_handle(IdSet::root())?;
    thread::spawn(move || {
        auth.run();
    })
    .map_err(|_| Error::from(hurd_auth::Errno::Again))?;

    let password = ipc.port_allocate(RightType::Receive)?;
    ipc.port_insert_right(password, password, Disposition::MakeSend)?;
    let db = rootfs::database(DEMO_ACCOUNTS)?;
    let config = PasswordConfig::new(200, Cost::TEST);
    thread::spawn(move || {
        PasswordServer::new(KernelIpc::new(), now_ms, password, pw_auth, db, config).run();
    })
    .map_err(|_| Error::from(hurd_auth::Errno::Again))?;

    let tmpfs = Tmpfs::new(0, 0, 0o755, 16 << 20);
    let starter = Box::new(translators::ThreadStarter);
    let fs = NetFs::new(
        KernelIpc::new(),
        tmpfs,
        fs_auth,
        Some(starter),
        Options::default(),
    )?;
    let root_dir = fs.root_port(IdSet::root(), OpenFlags::READ | OpenFlags::EXEC)?;
    // The server holds the receive right; its clients in this task hold
    // send rights under the same name.
    ipc.port_insert_right(root_dir, root_dir, Disposition::MakeSend)?;
    thread::spawn(move || {
        fs.serve();
    })
    .map_err(|_| Error::from(hurd_auth::Errno::Again))?;

    let system = System {
        ipc,
        root_auth,
        root_dir,
        password,
    };
    {
        let root = system.session_for(&IdSet::root())?;
        rootfs::fill_base(&root, DEMO_ACCOUNTS)?;
        for program in translators::PROGRAMS {
            root.write_file(program, b"", false)?;
            rootfs::chmod(&root, program, 0o755)?;
        }
        root.write_file("/share/example.tar", &rootfs::example_archive(), false)?;
    }
    Ok(system)
}
// ANCHOR_END: boot

// ANCHOR: console
/// Logs a user in on the console and runs their shell until they leave;
/// `false` when the console is closed (end of file at the login prompt).
fn session(sys: &System, con: &mut Console) -> bool {
    let passwd = match sys.session_for(&IdSet::root()) {
        Ok(root) => root.read_file("/etc/passwd").unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let passwd = String::from_utf8_lossy(&passwd);
    let session = loop {
        con.write(b"login: ");
        let Some(name) = con.read_line(true) else {
            return false;
        };
        con.write(b"Password: ");
        let Some(password) = con.read_line(false) else {
            return false;
        };
        let name = name.trim();
        let ids = rootfs::check_login(&sys.ipc, sys.password, &passwd, name, &password);
        match ids.and_then(|ids| sys.session_for(&ids)) {
            Ok(mut s) => {
                let home = DEMO_ACCOUNTS
                    .iter()
                    .find(|a| a.name == name)
                    .map(rootfs::home);
                if let Some(home) = home {
                    let _ = shell::cd(&mut s, &home);
                }
                break s;
            }
            Err(_) => con.write(b"Login incorrect\n\n"),
        }
    };
    if let Ok(motd) = session.read_file("/etc/motd") {
        con.write(&motd);
    }
    let mut shell = Shell::with_exec(session, &KernelExec);
    loop {
        con.write(shell.prompt().as_bytes());
        let Some(line) = con.read_line(!shell.wants_password()) else {
            con.write(b"\n");
            return true;
        };
        let mut out = Vec::new();
        let flow = shell.feed(&line, &mut out);
        con.write(&out);
        if flow == Flow::Exit {
            return true;
        }
    }
}
// ANCHOR_END: console

// ANCHOR: rootfs
/// Writes the `rootfs` boot module (a tar archive: files, directories,
/// passive translator records) into the root file system.
fn apply_rootfs(sys: &System, archive: &[u8]) -> Result<usize, String> {
    let entries = untar::entries(archive).map_err(|e| alloc::format!("{e:?}"))?;
    let root = sys
        .session_for(&IdSet::root())
        .map_err(|e| alloc::format!("{e:?}"))?;
    rootfs::apply_archive(&root, &entries).map_err(|e| alloc::format!("{e:?}"))
}
// ANCHOR_END: rootfs

fn run(info: u64) -> u64 {
    let boot_info = bootinfo::read(info);
    let bench = boot_info
        .as_ref()
        .is_some_and(|b| b.cmdline.split_whitespace().any(|w| w == "bench-prompt"));
    let sys = match boot() {
        Ok(sys) => sys,
        Err(e) => {
            println!("hurd-init: the servers did not start: {e:?}");
            return 1;
        }
    };
    // Booted by a loader with a root file system module (an image), its
    // files and translator records join the base tree.
    if let Some(archive) = boot_info.as_ref().and_then(|b| b.module("rootfs")) {
        match apply_rootfs(&sys, archive) {
            Ok(n) => println!("hurd-init: root file system: {n} entries from the rootfs module"),
            Err(e) => println!("hurd-init: the rootfs module is refused: {e}"),
        }
    }
    let mut con = Console {
        ld: LineDiscipline::new(),
    };
    con.write(b"hurd-rs: auth, password and a tmpfs root are running on the kernel.\n");
    con.write(b"Accounts: alice/wonderland, bob/builder, root/hurd. ^D at login: halt.\n\n");
    if bench {
        // The time-stamp counter as the prompt would show (instructions
        // under QEMU's -icount), then halt.
        println!("bench boot_to_login_prompt {}", sys::read_tsc());
        return 0;
    }
    while session(&sys, &mut con) {}
    con.write(b"hurd-init: halting\n");
    0
}
