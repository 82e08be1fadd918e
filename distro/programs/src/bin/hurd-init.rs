//! The reference distro's first task on the kernel (the bootstrap task).
//! It starts the Hurd's servers from their boot modules, each as a task of
//! its own and a child process of init's (see [`distro_programs::startup`]):
//! hurd-servers' proc server (init is its process 1), hurd-auth's auth
//! server, and hurd-servers' terminal server for the serial console. It
//! serves the boot file system itself — a hurd-trans tmpfs, whose
//! translators, `/servers/exec`'s exec server among them, are programs of
//! the file system run as tasks of their own, child processes of init's
//! owned by their nodes' owners ([`distro_programs::translators`]) — fills
//! it with the base tree of `hurd_servers::rootfs` (`/etc`, `/tmp`,
//! `/servers/exec`...), and writes the `rootfs` boot module (a tar archive,
//! as an image carries) over it, passive translator records included.
//!
//! Then it mounts the file systems of the system's disks that
//! `/etc/fstab` lists, each served by its translator on its disk's driver
//! ([`distro_programs::disks`]); a disk that does not mount is named on the
//! console and the boot goes on. A disk mounted at `/` holds the root: its
//! root directory becomes the system's, and everything started from then
//! on — the password server, the network, the services, the logins — sees
//! the disk as `/` and runs programs read from it; the boot file system
//! stays in memory, init's alone (the reference image's `rootfs` holds only
//! `/etc`, the shell and the disk's programs). Without a root disk, or when
//! it does not mount, the boot file system is the root. At halt the disks
//! are written back and unmounted, the root last.
//!
//! Then it starts the password server, as root in the root file system: it
//! reads the accounts there. No account is compiled in.
//!
//! Then it starts the network when `/servers/socket/2` carries a passive
//! translator record (the Internet protocol family's server, `pfinet`,
//! and its arguments): the network card's driver and that server, which
//! init attaches to the node ([`distro_programs::network`]); a network
//! that does not start is named on the console and the boot goes on.
//!
//! Then it starts the image's services, as its `/etc/hurd-init/services`
//! lists them (`hurd_servers::services`): each a task of its own, a child
//! process of init's run as root or as the user the manifest names (with
//! the ids a login of theirs gets, from `/etc/passwd` and `/etc/group`),
//! with the console as its output. One that does not start is named on the
//! console, and the boot goes on without it and the services that come
//! after it — unless it is to halt the system. A service that ends is named
//! on the console with its exit status, whenever it ends.
//!
//! Before each login prompt init shows `/etc/issue`, as `getty` does. A
//! login checked by the password server starts the user's shell (the last
//! field of their `/etc/passwd` line, `/bin/sh` if empty) as a task of its
//! own, holding only the user's ports (see `sh`), in their home directory
//! (`HOME`), as a child process of init's that leads a session of its own
//! and is owned by the user. After the login it shows `/etc/motd`.
//! End of file (^D) at the login prompt halts the system.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use distro_programs::{disks, network, startup, translators};
use hurd_auth::{AuthClient, IdSet};
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, PortName, RightType, UserIpc};
use hurd_rt::boot::{self, BootInfo};
use hurd_rt::exec::{self, InitialPort, Program};
use hurd_rt::mach;
use hurd_rt::ports::{AUTH, CRDIR, PASSWORD, STDERR, STDIN, STDOUT};
use hurd_rt::{KernelIpc, println, thread};
use hurd_servers::exec::WaitStatus;
use hurd_servers::proc::process;
use hurd_servers::rootfs;
use hurd_servers::services::{self, OnFailure};
use hurd_servers::shell::Session;
use hurd_servers::term::{set_echo, tioctl_pgrp};
use hurd_servers::untar;
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{NetFs, Options};
use hurd_trans::protocol::io;
use hurd_trans::transbox::Starter;
use hurd_trans::translators::tmpfs::Tmpfs;

hurd_rt::entry!(main);

fn again<T>(_: T) -> Error {
    Error::from(Errno::Again)
}

/// The terminal, as init uses it for logins.
struct Console<'a> {
    ipc: &'a KernelIpc,
    term: PortName,
}

impl Console<'_> {
    /// Writes `data` to the terminal.
    fn write(&self, data: &[u8]) {
        let _ = io::Client::new(self.ipc, self.term).write(data.to_vec(), -1);
    }

    /// Shows `prompt` and reads one line (without its newline), echoing it
    /// if `echo` — set before the prompt shows, so that nothing typed
    /// at once is echoed against the caller's wish; `None` at end of file
    /// or if the terminal cannot be read.
    fn read_line(&self, prompt: &[u8], echo: bool) -> Option<String> {
        let _ = set_echo(self.ipc, self.term, echo);
        self.write(prompt);
        let line = io::Client::new(self.ipc, self.term).read(-1, 1024).ok()?;
        if !echo {
            self.write(b"\n");
        }
        if line.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&line);
        Some(String::from(line.trim_end_matches(['\n', '\r'])))
    }
}

/// What the running system holds (names in this task's one space).
struct System {
    ipc: KernelIpc,
    /// Root's auth handle.
    root_auth: PortName,
    /// The root directory, opened for root: the disk's when a disk holds
    /// the root, else the boot file system's.
    root_dir: PortName,
    /// The boot file system's root directory (in memory), opened for root.
    boot_root: PortName,
    /// The password server (NULL when it did not start).
    password: PortName,
    /// The terminal (a send right).
    term: PortName,
    /// Init's own proc port (a send right).
    proc: PortName,
}

impl System {
    /// A new send reference to `name` (the sessions own theirs); NULL
    /// stays NULL.
    fn share(&self, name: PortName) -> Result<PortName, Error> {
        if name.is_valid() {
            self.ipc.port_mod_refs(name, RightType::Send, 1)?;
        }
        Ok(name)
    }

    /// A session holding `ids`: an auth handle made by the auth server, and
    /// the root directory reauthenticated with it.
    fn session_for(&self, ids: &IdSet) -> Result<Session<'_, KernelIpc>, Error> {
        self.session_in(self.root_dir, ids)
    }

    /// A session holding `ids` with `root_dir` (a root directory held for
    /// root) as its root.
    fn session_in(&self, root_dir: PortName, ids: &IdSet) -> Result<Session<'_, KernelIpc>, Error> {
        let auth = AuthClient::new(&self.ipc, self.root_auth).makeauth(&[], ids)?;
        let copy = io::Client::new(&self.ipc, root_dir).duplicate()?.name;
        let view = Lookup {
            ipc: &self.ipc,
            crdir: root_dir,
            cwdir: root_dir,
            auth,
            fds: &[],
            ctty: PortName::NULL,
        };
        let root = view.reauthenticate(copy)?;
        Session::new(&self.ipc, auth, root, self.share(self.password)?)
    }
}

/// The root file system's size limit: the programs of `/bin` and `/hurd`
/// and what users write.
const ROOT_FS_LIMIT: u64 = 48 << 20;

/// The boot modules init uses: itself, the servers it starts and the root
/// file system.
const MODULES: &[&str] = &[
    "hurd-init",
    "proc-server",
    "auth-server",
    "term-server",
    "password-server",
    "rootfs",
];

/// What is shown before each login prompt (as `getty` shows it).
const ISSUE: &str = "/etc/issue";

/// The file `bench-disk` reads from the disk: on the reference image's
/// disk, mounted at `/home`, where `cargo xtask bench distro` puts it.
const DISK_BENCH_FILE: &str = "/home/disk-bench";

/// Where `bench-disk` copies it, in the boot file system (memory).
const DISK_BENCH_COPY: &str = "/tmp/disk-bench";

/// The bytes of each `io_read` and `io_write` of `bench-disk`: the most
/// one message carries ([`hurd_rt::io::CHUNK`]).
const DISK_BENCH_CHUNK: u64 = hurd_rt::io::CHUNK as u64;

/// The stack of a thread that waits for a service to end.
const WATCHER_STACK: usize = 16 * 1024;

/// The words after the name of boot module `name`'s string (the arguments
/// the manifest gives it), if the loader gave it.
fn module_args<'a>(info: &'a BootInfo, name: &str) -> impl Iterator<Item = &'a str> {
    info.modules
        .iter()
        .find(|(string, _)| boot::module_name(string) == Some(name))
        .into_iter()
        .flat_map(|(string, _)| string.split_whitespace().skip(1))
}

// ANCHOR: boot
/// Starts the server `name` from its boot module (`NAME-server`) as a task
/// of its own, a process of init's (`proc`) unless it is proc itself, with
/// the words after the module's name as its arguments and `ports`; the
/// first port it hands back.
fn start_server(
    info: &BootInfo,
    name: &str,
    ports: &[InitialPort],
    proc: Option<PortName>,
) -> Result<PortName, Error> {
    let ipc = KernelIpc::new();
    let module_name = alloc::format!("{name}-server");
    let image = info.module(&module_name).ok_or_else(|| {
        println!("hurd-init: no `{module_name}` boot module");
        Error::from(Errno::NoEnt)
    })?;
    let mut argv = Vec::from([name]);
    argv.extend(module_args(info, &module_name));
    let started = startup::start_server(image, &argv, ports, proc).inspect_err(|e| {
        println!("hurd-init: the {name} server did not start: {e}");
    })?;
    let _ = ipc.port_deallocate(started.child.task);
    let _ = ipc.port_deallocate(started.child.thread);
    started
        .ports
        .first()
        .copied()
        .ok_or(Error::from(Errno::Inval))
}

/// Starts the servers — each from its boot module as a task of its own,
/// a process of init's, with the words after the module's name as its
/// arguments — and the boot file system, a tmpfs in this task, and fills
/// it (with the `rootfs` module's files when the loader gave one). It is
/// the system's root until a disk holding the root mounts.
fn boot(info: &BootInfo) -> Result<System, Error> {
    let ipc = KernelIpc::new();
    // Proc first: it makes init process 1, and every other server is a
    // child process of init's.
    let init_proc = start_server(info, "proc", &[], None)?;
    let root_auth = start_server(info, "auth", &[], Some(init_proc))?;
    let term = start_server(info, "term", &[], Some(init_proc))?;

    let fs_auth = AuthClient::new(&ipc, root_auth).makeauth(&[], &IdSet::root())?;
    let tmpfs = Tmpfs::new(0, 0, 0o755, ROOT_FS_LIMIT);
    // Translators are programs of the file system, run as tasks of their
    // own, child processes of init's.
    let starter: Box<dyn Starter + Send> = Box::new(translators::TaskStarter::new(Some(init_proc)));
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
    .map_err(again)?;

    let system = System {
        // The servers' clients in this task share one space.
        ipc: KernelIpc::new(),
        root_auth,
        root_dir,
        boot_root: root_dir,
        password: PortName::NULL,
        term,
        proc: init_proc,
    };
    let root = system.session_for(&IdSet::root())?;
    rootfs::fill_base(&root)?;
    // `/servers/exec`: the exec server, started by the first lookup.
    rootfs::install_exec_node(&root)?;
    root.write_file(rootfs::EXAMPLE_ARCHIVE, &rootfs::example_archive(), false)?;
    // Booted by a loader with a root file system module (an image), its
    // files and translator records join the base tree.
    if let Some(archive) = info.module("rootfs") {
        match apply_rootfs(&root, archive) {
            Ok(n) => println!("hurd-init: root file system: {n} entries from the rootfs module"),
            Err(e) => println!("hurd-init: the rootfs module is refused: {e}"),
        }
    }
    drop(root);
    Ok(system)
}

/// Starts the password server, which reads the accounts as root through
/// the system's root directory; without it nobody logs in, but the system
/// runs.
fn start_password(sys: &mut System, info: &BootInfo) -> Result<(), Error> {
    let auth = AuthClient::new(&sys.ipc, sys.root_auth).makeauth(&[], &IdSet::root())?;
    let root = sys.session_for(&IdSet::root())?;
    let ports = [
        InitialPort {
            name: AUTH,
            right: auth,
            disposition: Disposition::MoveSend,
        },
        InitialPort {
            name: CRDIR,
            right: root.crdir,
            disposition: Disposition::CopySend,
        },
    ];
    let password = start_server(info, "password", &ports, Some(sys.proc)).unwrap_or_else(|_| {
        println!("hurd-init: logins are refused: no password server");
        PortName::NULL
    });
    drop(root);
    sys.password = password;
    Ok(())
}
// ANCHOR_END: boot

// ANCHOR: console
/// Logs a user in on the terminal and runs their shell until they leave;
/// `false` when the terminal is closed (end of file at the login prompt).
fn session(sys: &System) -> bool {
    let con = Console {
        ipc: &sys.ipc,
        term: sys.term,
    };
    let (passwd, issue) = match sys.session_for(&IdSet::root()) {
        Ok(root) => (
            root.read_file(rootfs::PASSWD).unwrap_or_default(),
            root.read_file(ISSUE).unwrap_or_default(),
        ),
        Err(_) => (Vec::new(), Vec::new()),
    };
    con.write(&issue);
    let passwd = String::from_utf8_lossy(&passwd);
    let (session, uid, account) = loop {
        let Some(name) = con.read_line(b"login: ", true) else {
            return false;
        };
        let Some(password) = con.read_line(b"Password: ", false) else {
            return false;
        };
        let name = name.trim();
        let ids = rootfs::check_login(&sys.ipc, sys.password, &passwd, name, &password);
        let uid = ids.as_ref().ok().and_then(|i| i.euids.iter().next());
        match ids.and_then(|ids| sys.session_for(&ids)) {
            Ok(s) => {
                let account = rootfs::passwd_entry(&passwd, name);
                break (s, uid.unwrap_or(u32::MAX), account);
            }
            Err(_) => con.write(b"Login incorrect\n\n"),
        }
    };
    if let Ok(motd) = session.read_file("/etc/motd") {
        con.write(&motd);
    }
    let (home, shell) = account.map_or(("/", "/bin/sh"), |a| (a.home, a.shell));
    if let Err(e) = run_shell(sys, &session, uid, (home, shell)) {
        con.write(alloc::format!("hurd-init: the shell did not run: {e}\n").as_bytes());
    }
    true
}

/// Starts the login `shell` for `session` as a task of its own and waits
/// for it: a child process of init's, owned by `uid`, leading a session of
/// its own, in `home`, with the session's ports and the terminal.
fn run_shell(
    sys: &System,
    session: &Session<'_, KernelIpc>,
    uid: u32,
    (home, shell): (&str, &str),
) -> Result<(), Error> {
    let image = session.read_file(shell)?;
    let name = shell.rsplit('/').next().unwrap_or(shell);
    let ipc = &sys.ipc;
    // A port has one name in a space: the terminal once per descriptor.
    let out = io::Client::new(ipc, sys.term).duplicate()?.name;
    let err = match io::Client::new(ipc, sys.term).duplicate() {
        Ok(p) => p.name,
        Err(e) => {
            let _ = ipc.port_deallocate(out);
            return Err(e);
        }
    };
    let r = spawn_shell(sys, session, (uid, home, name), &image, (out, err));
    let _ = ipc.port_deallocate(out);
    let _ = ipc.port_deallocate(err);
    r
}

/// [`run_shell`] with the terminal's ports for standard output and error.
fn spawn_shell(
    sys: &System,
    session: &Session<'_, KernelIpc>,
    (uid, home, name): (u32, &str, &str),
    image: &[u8],
    (out, err): (PortName, PortName),
) -> Result<(), Error> {
    let ipc = &sys.ipc;
    let give = |name, right| InitialPort {
        name,
        right,
        disposition: Disposition::CopySend,
    };
    let ports = [
        give(AUTH, session.auth),
        give(CRDIR, session.crdir),
        give(PASSWORD, session.password),
        give(STDIN, sys.term),
        give(STDOUT, out),
        give(STDERR, err),
    ];
    let home = alloc::format!("HOME={home}");
    let program = Program {
        image,
        argv: &[name],
        envp: &[home.as_str()],
        ports: &ports,
    };
    exec::load(&program)
        .map_err(|e| {
            println!("hurd-init: {name}: {e:?}");
            Error::from(Errno::NoExec)
        })
        .and_then(|child| {
            let r = start_session(sys, child, uid);
            let _ = ipc.port_deallocate(child.task);
            let _ = ipc.port_deallocate(child.thread);
            r
        })
}

/// Makes the loaded shell `child` a process (owned by `uid`, a session
/// leader, the terminal's foreground group), starts it and waits for it.
fn start_session(sys: &System, child: exec::Child, uid: u32) -> Result<(), Error> {
    let ipc = &sys.ipc;
    let proc = process::Client::new(ipc, sys.proc);
    let setup = (|| {
        let (pid, port) = distro_programs::process::adopt(ipc, sys.proc, child.task)?;
        let theirs = process::Client::new(ipc, port);
        let made = theirs.setowner(uid, 0).and_then(|()| theirs.setsid());
        distro_programs::process::give_proc(child.task, port)?;
        made.map(|()| pid)
    })();
    let pid = match setup {
        Ok(pid) => pid,
        Err(e) => {
            let _ = mach::task_terminate(child.task);
            return Err(e);
        }
    };
    let fg = tioctl_pgrp::Client::new(ipc, sys.term);
    let _ = fg.tiocspgrp(pid);
    if exec::resume(&child).is_err() {
        let _ = mach::task_terminate(child.task);
    }
    // Init reaps every child of its own that ends meanwhile (translators
    // killed by their owners, say) while it waits for the shell.
    let status = loop {
        let (status, ended) = proc.wait(-1, 0)?;
        if ended == pid {
            break status;
        }
    };
    let _ = fg.tiocspgrp(0);
    if let WaitStatus::Signaled(s) = WaitStatus::from_raw(status) {
        println!("hurd-init: the shell ended by signal {s}");
    }
    Ok(())
}
// ANCHOR_END: console

// ANCHOR: services
/// Starts the services of [`services::SERVICES`] in order, as
/// [`start_service`] does, each watched by [`watch_service`]; one that does
/// not start is named on the console and the boot goes on without it (and
/// without those that come after it), unless it is to halt the system: then
/// `false`.
fn start_services(sys: &System) -> bool {
    let Ok(root) = sys.session_for(&IdSet::root()) else {
        println!("hurd-init: no services: no root session");
        return true;
    };
    let text = match root.read_file(services::SERVICES) {
        Ok(text) => text,
        Err(e) if e == Error::from(Errno::NoEnt) => return true,
        Err(e) => {
            println!("hurd-init: no services: {}: {e}", services::SERVICES);
            return true;
        }
    };
    let list = match core::str::from_utf8(&text)
        .map_err(|_| alloc::format!("{}: not UTF-8 text", services::SERVICES))
        .and_then(|t| services::parse(t).map_err(|e| alloc::format!("{e}")))
    {
        Ok(list) => list,
        Err(e) => {
            println!("hurd-init: no services: {e}");
            return true;
        }
    };
    let mut started: Vec<&str> = Vec::new();
    for s in &list {
        let r = match s.after.iter().find(|a| !started.contains(&a.as_str())) {
            Some(needed) => Err(alloc::format!("`{needed}`, which it comes after, did not")),
            None => start_service(sys, &root, s),
        };
        match r {
            Ok(pid) => {
                if s.user == services::ROOT {
                    println!("hurd-init: service {}: {} (pid {pid})", s.name, s.program);
                } else {
                    println!(
                        "hurd-init: service {}: {} (pid {pid}, user {})",
                        s.name, s.program, s.user
                    );
                }
                watch_service(sys, &s.name, pid);
                started.push(&s.name);
            }
            Err(why) => {
                println!(
                    "hurd-init: service {} ({}) did not start: {why}",
                    s.name, s.program
                );
                if s.on_failure == OnFailure::Halt {
                    println!("hurd-init: service {} must run: halting", s.name);
                    return false;
                }
            }
        }
    }
    true
}

/// Names the end of service `name` (process `pid`, a child of init's) on
/// the console when it ends, from a thread of its own that waits for it.
fn watch_service(sys: &System, name: &str, pid: i32) {
    let proc = sys.proc;
    let service = String::from(name);
    let watcher = thread::Builder::new()
        .stack_size(WATCHER_STACK)
        .spawn(move || {
            let ipc = KernelIpc::new();
            // Init's other waits are for other children (its shells) or come
            // later, so this one takes the service's end.
            if let Ok((status, _)) = process::Client::new(&ipc, proc).wait(pid, 0) {
                match WaitStatus::from_raw(status) {
                    WaitStatus::Exited(code) => {
                        println!(
                            "hurd-init: service {service} (pid {pid}) exited with status {code}"
                        );
                    }
                    WaitStatus::Signaled(sig) => {
                        println!("hurd-init: service {service} (pid {pid}) ended by signal {sig}");
                    }
                }
            }
        });
    if watcher.is_err() {
        println!("hurd-init: service {name} (pid {pid}): no thread to watch it");
    }
}

/// Starts service `s` as a task of its own, a child process of init's, with
/// the console as its standard output and error and no standard input: as
/// root, with root's auth handle and root directory (from `root`), or as
/// the user it names, with the ids a login of theirs gets (their primary
/// group and the groups listing them, from the accounts `root` reads) and
/// the root directory reauthenticated for them, their process owned by
/// them; its pid, or why it did not start.
fn start_service(
    sys: &System,
    root: &Session<'_, KernelIpc>,
    s: &services::Service,
) -> Result<i32, String> {
    let errno = |e: Error| match Errno::of(e) {
        Some(errno) => alloc::format!("{errno}"),
        None => alloc::format!("{e}"),
    };
    let theirs;
    let (session, uid) = if s.user == services::ROOT {
        (root, 0)
    } else {
        let db = rootfs::read_accounts(root).map_err(|e| alloc::format!("{e}"))?;
        let user = db
            .user_by_name(&s.user)
            .ok_or_else(|| alloc::format!("no user `{}` in {}", s.user, rootfs::PASSWD))?;
        theirs = sys.session_for(&db.login_ids(user)).map_err(errno)?;
        (&theirs, user.uid)
    };
    let image = session.read_file(&s.program).map_err(errno)?;
    spawn_service(sys, session, s, &image, uid).map_err(errno)
}

/// [`start_service`] once the program's `image` is read: loads it with
/// `session`'s ports, makes it a process of init's owned by `uid` and
/// starts it.
fn spawn_service(
    sys: &System,
    session: &Session<'_, KernelIpc>,
    s: &services::Service,
    image: &[u8],
    uid: u32,
) -> Result<i32, Error> {
    let ipc = &sys.ipc;
    let out = io::Client::new(ipc, sys.term).duplicate()?.name;
    let err = match io::Client::new(ipc, sys.term).duplicate() {
        Ok(p) => p.name,
        Err(e) => {
            let _ = ipc.port_deallocate(out);
            return Err(e);
        }
    };
    let give = |name, right| InitialPort {
        name,
        right,
        disposition: Disposition::CopySend,
    };
    let ports = [
        give(AUTH, session.auth),
        give(CRDIR, session.crdir),
        give(STDOUT, out),
        give(STDERR, err),
    ];
    let mut argv: Vec<&str> = Vec::with_capacity(s.args.len() + 1);
    argv.push(&s.program);
    argv.extend(s.args.iter().map(String::as_str));
    let program = Program {
        image,
        argv: &argv,
        envp: &[],
        ports: &ports,
    };
    let loaded = exec::load(&program).map_err(Error::from);
    let _ = ipc.port_deallocate(out);
    let _ = ipc.port_deallocate(err);
    let child = loaded?;
    let r = distro_programs::process::adopt(ipc, sys.proc, child.task).and_then(|(pid, port)| {
        let owned = match uid {
            0 => Ok(()),
            uid => process::Client::new(ipc, port).setowner(uid, 0),
        };
        distro_programs::process::give_proc(child.task, port)?;
        owned?;
        exec::resume(&child)?;
        Ok(pid)
    });
    if r.is_err() {
        let _ = mach::task_terminate(child.task);
    }
    let _ = ipc.port_deallocate(child.task);
    let _ = ipc.port_deallocate(child.thread);
    r
}
// ANCHOR_END: services

/// `bench-disk`: reads [`DISK_BENCH_FILE`] from the disk to its end, then
/// copies it to [`DISK_BENCH_COPY`] in the boot file system (a tmpfs, in
/// memory) and reads the copy, in `io_read`s of
/// [`DISK_BENCH_CHUNK`] bytes. Prints the bytes read and the time-stamp
/// counter's count for each reading (guest instructions under QEMU's
/// `-icount`) as `bench` lines as they are measured; opening the files is
/// not counted. An error names the step that failed.
fn disk_bench(sys: &System) -> Result<(), (&'static str, Error)> {
    let root = sys
        .session_for(&IdSet::root())
        .map_err(|e| ("a session as root", e))?;
    let boot_fs = sys
        .session_in(sys.boot_root, &IdSet::root())
        .map_err(|e| ("a session as root in the boot file system", e))?;
    let file = root
        .open(DISK_BENCH_FILE, OpenFlags::READ)
        .map_err(|e| ("opening the file on the disk", e))?;
    let read = timed_read(&sys.ipc, file, u64::MAX).map_err(|e| ("reading the disk", e));
    let copied = read.and_then(|(bytes, disk)| {
        println!("bench disk_read_bytes {bytes}");
        println!("bench disk_read {disk}");
        copy_to_tmp(&boot_fs, &sys.ipc, file, bytes).map_err(|e| ("copying to /tmp", e))?;
        Ok(bytes)
    });
    root.release(file);
    let bytes = copied?;
    let copy = boot_fs
        .open(DISK_BENCH_COPY, OpenFlags::READ)
        .map_err(|e| ("opening the copy", e))?;
    let memory = timed_read(&sys.ipc, copy, bytes);
    boot_fs.release(copy);
    let (copied, memory) = memory.map_err(|e| ("reading the copy", e))?;
    if copied != bytes {
        return Err(("reading the copy", Errno::Io.into()));
    }
    println!("bench tmpfs_read {memory}");
    Ok(())
}

/// Copies the first `bytes` of `file` to [`DISK_BENCH_COPY`].
fn copy_to_tmp(
    root: &Session<'_, KernelIpc>,
    ipc: &KernelIpc,
    file: PortName,
    bytes: u64,
) -> Result<(), Error> {
    root.write_file(DISK_BENCH_COPY, &[], false)?;
    let c = io::Client::new(ipc, file);
    let mut at = 0;
    while at < bytes {
        let chunk = c.read(at as i64, DISK_BENCH_CHUNK)?;
        if chunk.is_empty() {
            return Err(Errno::Io.into());
        }
        at += chunk.len() as u64;
        root.write_file(DISK_BENCH_COPY, &chunk, true)?;
    }
    Ok(())
}

/// Reads `file` from its start until its end or `limit` bytes, in reads of
/// [`DISK_BENCH_CHUNK`]; returns the bytes read and the time-stamp
/// counter's count.
fn timed_read(ipc: &KernelIpc, file: PortName, limit: u64) -> Result<(u64, u64), Error> {
    let c = io::Client::new(ipc, file);
    // SAFETY: rdtsc reads a counter; CR4.TSD is clear, so ring 3 may.
    let start = unsafe { core::arch::x86_64::_rdtsc() };
    let mut at = 0;
    while at < limit {
        let chunk = c.read(at as i64, DISK_BENCH_CHUNK.min(limit - at))?;
        if chunk.is_empty() {
            break;
        }
        at += chunk.len() as u64;
    }
    // SAFETY: as above.
    let end = unsafe { core::arch::x86_64::_rdtsc() };
    Ok((at, end.wrapping_sub(start)))
}

// ANCHOR: rootfs
/// Writes the `rootfs` boot module (a tar archive: files, directories,
/// passive translator records) into the root file system, as `root`.
fn apply_rootfs(root: &Session<'_, KernelIpc>, archive: &[u8]) -> Result<usize, String> {
    let entries = untar::entries(archive).map_err(|e| alloc::format!("{e:?}"))?;
    rootfs::apply_archive(root, &entries).map_err(|e| alloc::format!("{e:?}"))
}
// ANCHOR_END: rootfs

fn main() -> u64 {
    let boot_info = boot::info();
    let bench = boot_info
        .as_ref()
        .is_some_and(|b| b.has_word("bench-prompt"));
    let Some(info) = boot_info.as_ref() else {
        println!("hurd-init: no boot information (not the bootstrap task?)");
        return 1;
    };
    let mut sys = match boot(info) {
        Ok(sys) => sys,
        Err(e) => {
            println!("hurd-init: the servers did not start: {e:?}");
            return 1;
        }
    };
    // A module nothing starts is named, not silently ignored.
    for (string, _) in &info.modules {
        if let Some(name) = boot::module_name(string).filter(|n| !MODULES.contains(n)) {
            println!(
                "hurd-init: boot module `{name}` is not used (programs to start at boot are services)"
            );
        }
    }
    // The disks; the one holding the root, if one does, is the system's
    // root from now on.
    let disks = match sys.session_for(&IdSet::root()) {
        Ok(root) => disks::mount_all(&sys.ipc, &root, sys.proc),
        Err(e) => {
            println!("hurd-init: no disks: no root session: {e}");
            disks::Disks::default()
        }
    };
    if let Some(top) = disks.root {
        sys.root_dir = top;
    }
    let mounted = disks.mounted;
    if let Err(e) = start_password(&mut sys, info) {
        println!("hurd-init: logins are refused: no root session for the password server: {e}");
    }
    // The network, if the image has one (a record on /servers/socket/2).
    let _network = match sys.session_for(&IdSet::root()) {
        Ok(root) => network::start_network(&sys.ipc, &root, sys.proc),
        Err(_) => None,
    };
    if !start_services(&sys) {
        disks::unmount_all(&sys.ipc, &mounted);
        return 1;
    }
    let con = Console {
        ipc: &sys.ipc,
        term: sys.term,
    };
    if boot_info.as_ref().is_some_and(|b| b.has_word("bench-disk"))
        && let Err((step, e)) = disk_bench(&sys)
    {
        println!("hurd-init: bench-disk: {step}: {e:?}");
    }
    if bench {
        // The time-stamp counter as the prompt would show (instructions
        // under QEMU's -icount), then halt.
        // SAFETY: rdtsc reads a counter; CR4.TSD is clear, so ring 3 may.
        println!("bench boot_to_login_prompt {}", unsafe {
            core::arch::x86_64::_rdtsc()
        });
        disks::unmount_all(&sys.ipc, &mounted);
        return 0;
    }
    while session(&sys) {}
    disks::unmount_all(&sys.ipc, &mounted);
    con.write(b"hurd-init: halting\n");
    0
}
