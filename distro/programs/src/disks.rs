//! The system's disks at boot: `hurd-init` mounts the file systems
//! `/etc/fstab` lists ([`hurd_servers::fstab`]), each on a disk of its own.
//!
//! For `device:vdN` the disk is the machine's N-th virtio block device:
//! init starts its driver, [`DRIVER`] `N`, with the kernel's device master
//! port (which init holds, as the bootstrap task) and a receive right of
//! its own making as the driver's master port; then the file system's
//! translator (`/hurd/ext2fs device:vd0`, the driver's one device) with the
//! driver's master port as its `DEVICE_MASTER_PORT_NAME`, root's auth
//! handle, the system's root directory (where the translators it starts
//! find their programs) and a bootstrap port init answers as the
//! translator's parent (`fsys_startup`). Both are tasks of their own, child processes of
//! init's. A `fsys_getroot` checks that the file system is served, and
//! init then attaches the translator's control port to the mount point as
//! its active translator (`file_set_translator`), as the Hurd's `settrans
//! -a` and `mount` do. A disk that does not mount — no such device, a
//! driver or translator missing from the image, a disk holding no file
//! system the translator can serve — is named on the console, and the boot
//! goes on without it.
//!
//! A driver that ends is started again. Init asks the kernel to report
//! each driver's end (`task_notify_exit`, registered before the driver
//! runs) and keeps answering the file system's bootstrap port, as the
//! parent of a bootstrap file system does: on `fsys_getpriv` it hands out
//! the driver's master port — after starting the driver again, with a new
//! master port, when the old one is dead. The file system's store opens
//! its device again there and retries the request (see [`crate::store`]):
//! its clients see no error, or `EIO` when the driver cannot be had. A
//! driver that ends [`QUICK_ENDS`] times in a row within [`QUICK`] of its
//! start is not started again. A thread of init's, started by
//! [`mount_all`], does this; each end and start is named on the console.
//!
//! A disk mounted at `/` holds the system's root: it is mounted first,
//! from the boot file system in memory (the `rootfs` module: `/etc/fstab`,
//! the driver and the file system's program), and its translator gets no
//! root directory but its own, so that the translators it starts — the
//! exec server on `/servers/exec` first — find their programs on the disk.
//! It is attached nowhere: [`mount_all`] hands its root directory to init,
//! which gives it to everything it starts from then on, and the disks
//! below it are mounted on it.
//!
//! At halt, [`unmount_all`] asks each file system, the root last, to write
//! everything back (`fsys_syncfs`) and to go away (`fsys_goaway`), which
//! leaves it clean on its disk.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use hurd_abi::device::DEVICE_MASTER_PORT_NAME;
use hurd_abi::rpc::TASK_EXITED;
use hurd_ipc::mig::{self, Dispatch, Request};
use hurd_ipc::notify::{NOTIFY_NO_SENDERS, NotifyKind};
use hurd_ipc::{
    Disposition, Errno, Error, Item, Message, MsgOptions, PortItem, PortName, PortType, RightType,
    UserIpc,
};
use hurd_rt::exec::{self, InitialPort, Program};
use hurd_rt::ports::{AUTH, BOOTSTRAP, CRDIR, SERVICE};
use hurd_rt::{KernelIpc, mach, println, thread};
use hurd_servers::fstab::{self, Mount};
use hurd_servers::shell::Session;
use hurd_trans::flags::{FS_TRANS_SET, FSYS_GOAWAY_FORCE, OpenFlags};
use hurd_trans::protocol::{fs, fsys};

/// The driver of `device:vdN` disks.
pub const DRIVER: &str = "/hurd/virtio-blk";

/// The name the driver gives its one device.
pub const DRIVER_DEVICE: &str = "vd0";

/// How long a file system's translator may take to start (it mounts its
/// disk first).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A driver that ends within this time of its start ends "quickly".
pub const QUICK: Duration = Duration::from_secs(5);

/// A driver that ends quickly this many times in a row is not started
/// again.
pub const QUICK_ENDS: u32 = 3;

/// What the console shows when the disk holding the root does not mount:
/// the system goes on with the boot file system as its root.
pub const ROOT_IN_MEMORY: &str = "hurd-init: the root stays on the boot file system, in memory";

/// A mounted file system.
#[derive(Debug)]
pub struct Mounted {
    /// Its mount point.
    pub dir: String,
    /// Its translator's control port (a send right).
    pub control: PortName,
    /// Its translator's pid and its driver's.
    pub pids: (i32, i32),
}

/// The file systems mounted at boot.
#[derive(Debug, Default)]
pub struct Disks {
    /// Each mounted file system, in the order they were mounted.
    pub mounted: Vec<Mounted>,
    /// The root directory of the disk mounted at `/`, opened for root (a
    /// send right of the caller's), if one is.
    pub root: Option<PortName>,
}

/// Mounts what `/etc/fstab` lists — the root (`/`) first, the others on it
/// when it mounted — as root (`root`: the boot file system, which holds
/// the programs), the tasks started child processes of `proc`'s (init's
/// proc port); each one mounted and each one refused is named on the
/// console.
pub fn mount_all(ipc: &KernelIpc, root: &Session<'_, KernelIpc>, proc: PortName) -> Disks {
    let text = match root.read_file(fstab::FSTAB) {
        Ok(text) => text,
        Err(e) if e == Error::from(Errno::NoEnt) => return Disks::default(),
        Err(e) => {
            println!("hurd-init: no disks: {}: {e}", fstab::FSTAB);
            return Disks::default();
        }
    };
    let mut list = match core::str::from_utf8(&text)
        .map_err(|_| format!("{}: not UTF-8 text", fstab::FSTAB))
        .and_then(|t| fstab::parse(t).map_err(|e| format!("{e}")))
    {
        Ok(list) => list,
        Err(e) => {
            println!("hurd-init: no disks: {e}");
            return Disks::default();
        }
    };
    list.sort_by_key(|m| m.dir != "/");
    let mut disks = Disks::default();
    let mut drivers = Vec::new();
    // The system's root once the disk holding it is mounted.
    let mut new_root: Option<Session<'_, KernelIpc>> = None;
    for m in &list {
        let system = new_root.as_ref().unwrap_or(root);
        match mount(ipc, (root, system), proc, m) {
            Ok((done, driver, top)) => {
                println!(
                    "hurd-init: {}: {} on device:{} (driver pid {}, file system pid {})",
                    m.dir, m.fs_type, m.device, done.pids.1, done.pids.0
                );
                if let Some(top) = top {
                    new_root = root_session(ipc, root, top);
                    disks.root = Some(top);
                }
                disks.mounted.push(done);
                drivers.push(driver);
            }
            Err(why) => {
                println!(
                    "hurd-init: {}: device:{} is not mounted: {why}",
                    m.dir, m.device
                );
                if m.dir == "/" {
                    println!("{ROOT_IN_MEMORY}");
                }
            }
        }
    }
    if !drivers.is_empty() {
        watch(proc, drivers);
    }
    disks
}

/// A session as root (`boot`'s auth handle) in the root directory `top`
/// (a send right the caller keeps: the session has references of its
/// own).
fn root_session<'a>(
    ipc: &'a KernelIpc,
    boot: &Session<'_, KernelIpc>,
    top: PortName,
) -> Option<Session<'a, KernelIpc>> {
    ipc.port_mod_refs(boot.auth, RightType::Send, 1).ok()?;
    if ipc.port_mod_refs(top, RightType::Send, 1).is_err() {
        let _ = ipc.port_deallocate(boot.auth);
        return None;
    }
    // The session takes `auth` and `top` and releases both when dropped.
    Session::new(ipc, boot.auth, top, PortName::NULL)
        .inspect_err(|_| {
            let _ = ipc.port_deallocate(boot.auth);
            let _ = ipc.port_deallocate(top);
        })
        .ok()
}

/// Writes back and unmounts each of `mounted`, the last mounted first,
/// naming on the console any that does not go away cleanly.
pub fn unmount_all(ipc: &KernelIpc, mounted: &[Mounted]) {
    for m in mounted.iter().rev() {
        let control = fsys::Client::new(ipc, m.control);
        let done = control
            .syncfs(1, 0)
            .and_then(|()| control.goaway(FSYS_GOAWAY_FORCE as i32));
        match done {
            Ok(()) => println!("hurd-init: {}: written back and unmounted", m.dir),
            Err(e) => println!("hurd-init: {}: not unmounted cleanly: {}", m.dir, why(e)),
        }
    }
}

/// An error as the console shows it: its errno's text when it has one.
pub(crate) fn why(e: Error) -> String {
    match Errno::of(e) {
        Some(errno) => format!("{errno}"),
        None => format!("{e}"),
    }
}

/// The N of `vdN`.
fn disk_index(device: &str) -> Option<u32> {
    let n = device.strip_prefix("vd")?;
    if n.is_empty() || n.len() > 3 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Mounts `m`: see the [module documentation](self). The programs are read
/// from `boot`; the mount point is in `root` (the system's root so far).
/// The mount, its driver for [`watch`], and for `/` the disk's root
/// directory.
fn mount(
    ipc: &KernelIpc,
    (boot, root): (&Session<'_, KernelIpc>, &Session<'_, KernelIpc>),
    proc: PortName,
    m: &Mount,
) -> Result<(Mounted, Driver, Option<PortName>), String> {
    let program = m
        .program()
        .ok_or_else(|| format!("no translator serves `{}` file systems", m.fs_type))?;
    let index = disk_index(&m.device)
        .ok_or_else(|| format!("`{}` is not a virtio disk (vdN)", m.device))?;
    let kernel_master = hurd_rt::ports::held(PortName(DEVICE_MASTER_PORT_NAME))
        .ok_or("init holds no device master port")?;
    let driver_image = boot
        .read_file(DRIVER)
        .map_err(|e| format!("{DRIVER}: {}", why(e)))?;
    let fs_image = boot
        .read_file(program)
        .map_err(|e| format!("{program}: {}", why(e)))?;

    // The driver, serving its master port, its end reported on `ended`.
    let ended = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| format!("a port: {e:?}"))?;
    let (driver, driver_master) = match start_driver(
        ipc,
        proc,
        kernel_master,
        DRIVER,
        &driver_image,
        index,
        ended,
    ) {
        Ok(started) => started,
        Err(e) => {
            let _ = ipc.port_mod_refs(ended, RightType::Receive, -1);
            return Err(e);
        }
    };
    // A driver that finds no disk ends at once (saying why): its master
    // port is then dead.
    if ipc.port_type(driver_master) == Ok(PortType::DEAD_NAME) {
        let _ = ipc.port_deallocate(driver_master);
        let _ = ipc.port_mod_refs(ended, RightType::Receive, -1);
        return Err(format!("{DRIVER} ended"));
    }
    match serve(ipc, root, proc, &fs_image, program, m, driver_master) {
        Ok((pid, control, bootstrap, top)) => Ok((
            Mounted {
                dir: m.dir.clone(),
                control,
                pids: (pid, driver),
            },
            Driver {
                dir: m.dir.clone(),
                device: m.device.clone(),
                index,
                image: driver_image,
                kernel_master,
                master: driver_master,
                ended,
                bootstrap,
                pid: driver,
                started: hurd_rt::time::uptime(),
                quick_ends: 0,
                waiting: Vec::new(),
            },
            top,
        )),
        Err(e) => {
            // The driver ending is why, when it did.
            let gone = ipc.port_type(driver_master) == Ok(PortType::DEAD_NAME);
            let _ = ipc.port_deallocate(driver_master);
            let _ = ipc.port_mod_refs(ended, RightType::Receive, -1);
            Err(if gone { format!("{DRIVER} ended") } else { e })
        }
    }
}

/// Starts the driver program `driver` (`image`) of the `index`-th device
/// of its kind with the kernel's device master port, its end reported on
/// `ended` (unless that is null); its pid and its master
/// port (a send right init holds: the driver holds the receive right).
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_driver(
    ipc: &KernelIpc,
    proc: PortName,
    kernel_master: PortName,
    driver: &str,
    image: &[u8],
    index: u32,
    ended: PortName,
) -> Result<(i32, PortName), String> {
    let driver_master = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| format!("a port: {e:?}"))?;
    if let Err(e) = ipc.port_insert_right(driver_master, driver_master, Disposition::MakeSend) {
        let _ = ipc.port_mod_refs(driver_master, RightType::Receive, -1);
        return Err(format!("a port: {e:?}"));
    }
    let index = format!("{index}");
    let started = start(
        ipc,
        proc,
        image,
        &[driver, index.as_str()],
        &[
            InitialPort {
                name: PortName(DEVICE_MASTER_PORT_NAME),
                right: kernel_master,
                disposition: Disposition::CopySend,
            },
            InitialPort {
                name: SERVICE,
                right: driver_master,
                disposition: Disposition::MoveReceive,
            },
        ],
        ended,
    );
    match started {
        Ok(pid) => Ok((pid, driver_master)),
        Err(e) => {
            let _ = ipc.port_deallocate(driver_master);
            let _ = ipc.port_mod_refs(driver_master, RightType::Receive, -1);
            Err(format!("{driver}: {e}"))
        }
    }
}

/// Starts the translator `program` on the driver's device (its master port
/// `driver_master`), answers its `fsys_startup`, checks that it serves and
/// attaches it at the mount point; its pid, its control port, its
/// bootstrap port (the receive right: init answers it on) and, mounted at
/// `/`, its root directory (attached nowhere).
fn serve(
    ipc: &KernelIpc,
    root: &Session<'_, KernelIpc>,
    proc: PortName,
    image: &[u8],
    program: &str,
    m: &Mount,
    driver_master: PortName,
) -> Result<(i32, PortName, PortName, Option<PortName>), String> {
    let bootstrap = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| format!("a port: {e:?}"))?;
    let device = format!("device:{DRIVER_DEVICE}");
    let mut argv = alloc::vec![program];
    if m.readonly {
        argv.push("--readonly");
    }
    argv.push(&device);
    // The root's translator has no root directory but its own.
    let is_root = m.dir == "/";
    let crdir = if is_root { PortName::NULL } else { root.crdir };
    let pid = start_translator(
        ipc,
        (root.auth, crdir),
        proc,
        image,
        program,
        &argv,
        driver_master,
        bootstrap,
    )?;
    let served = startup(ipc, bootstrap)
        .map_err(|e| format!("{program}: {e}"))
        .and_then(|control| {
            let attached = if is_root {
                getroot(ipc, control, OpenFlags::READ | OpenFlags::EXEC)
                    .map(Some)
                    .map_err(why)
            } else {
                attach(ipc, root, control, &m.dir).map(|()| None)
            };
            let top = attached.inspect_err(|_| {
                let _ = fsys::Client::new(ipc, control).goaway(FSYS_GOAWAY_FORCE as i32);
                let _ = ipc.port_deallocate(control);
            })?;
            Ok((control, top))
        });
    match served {
        Ok((control, top)) => Ok((pid, control, bootstrap, top)),
        Err(e) => {
            let _ = ipc.port_mod_refs(bootstrap, RightType::Receive, -1);
            Err(e)
        }
    }
}

/// Starts the translator `image` (`argv`) as a child process of init's
/// (`proc`) with root's auth handle and the system's root directory
/// (`auth`, `crdir`: none when null), a driver's master port at
/// `DEVICE_MASTER_PORT_NAME` and `bootstrap` (a receive right of init's)
/// as its bootstrap port; its pid. If it cannot start, `bootstrap` is
/// released and the error names `program`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_translator(
    ipc: &KernelIpc,
    (auth, crdir): (PortName, PortName),
    proc: PortName,
    image: &[u8],
    program: &str,
    argv: &[&str],
    driver_master: PortName,
    bootstrap: PortName,
) -> Result<i32, String> {
    let mut ports = alloc::vec![
        InitialPort {
            name: PortName(DEVICE_MASTER_PORT_NAME),
            right: driver_master,
            disposition: Disposition::CopySend,
        },
        InitialPort {
            name: BOOTSTRAP,
            right: bootstrap,
            disposition: Disposition::MakeSend,
        },
        InitialPort {
            name: AUTH,
            right: auth,
            disposition: Disposition::CopySend,
        },
    ];
    // The system's root directory: the translators it starts find
    // their programs and the exec server there.
    if crdir.is_valid() {
        ports.push(InitialPort {
            name: CRDIR,
            right: crdir,
            disposition: Disposition::CopySend,
        });
    }
    start(ipc, proc, image, argv, &ports, PortName::NULL).map_err(|e| {
        let _ = ipc.port_mod_refs(bootstrap, RightType::Receive, -1);
        format!("{program}: {e}")
    })
}

/// A translator's bootstrap port: a receive right (its send right is made
/// for the translator only) with a no-senders request, so that a translator
/// that ends before its `fsys_startup` is known at once.
pub(crate) fn bootstrap_port(ipc: &KernelIpc) -> Result<PortName, String> {
    let bootstrap = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| format!("a port: {e:?}"))?;
    if let Err(e) = ipc.request_notification(
        bootstrap,
        NotifyKind::NoSenders,
        1,
        bootstrap,
        Disposition::MakeSendOnce,
    ) {
        let _ = ipc.port_mod_refs(bootstrap, RightType::Receive, -1);
        return Err(format!("a port: {e:?}"));
    }
    Ok(bootstrap)
}

/// Answers the translator's `fsys_startup` on `bootstrap` as its parent
/// (a no-senders notification there, asked for by [`bootstrap_port`], is
/// a translator that ended first); its control port.
pub(crate) fn startup(ipc: &KernelIpc, bootstrap: PortName) -> Result<PortName, String> {
    let opts = MsgOptions {
        rcv_timeout: Some(STARTUP_TIMEOUT),
        ..MsgOptions::default()
    };
    let msg = ipc
        .receive_with(bootstrap, &opts)
        .map_err(|e| format!("did not start ({e:?})"))?;
    if msg.header.id == NOTIFY_NO_SENDERS {
        ipc.destroy_message(msg);
        return Err("ended before it started".into());
    }
    let (call, req) = fsys::Call::decode(msg).map_err(|e| format!("{:?}", e.code))?;
    let fsys::Call::startup { control_port, .. } = call else {
        return Err("asked its parent something other than fsys_startup".into());
    };
    let none = PortItem {
        name: PortName::NULL,
        disposition: Disposition::CopySend,
    };
    fsys::reply::startup(ipc, &req, Ok(none)).map_err(|e| format!("{e:?}"))?;
    Ok(control_port.name)
}

/// Checks that the translator behind `control` serves (`fsys_getroot` as
/// root: one that could not mount its disk answers its error), then sets
/// it as the active translator of the directory `dir`.
pub(crate) fn attach(
    ipc: &KernelIpc,
    root: &Session<'_, KernelIpc>,
    control: PortName,
    dir: &str,
) -> Result<(), String> {
    let top = getroot(ipc, control, OpenFlags::READ).map_err(why)?;
    let _ = ipc.port_deallocate(top);
    let node = root
        .open(dir, OpenFlags::NOTRANS)
        .map_err(|e| format!("the mount point {dir}: {}", why(e)))?;
    let set = fs::Client::new(ipc, node).file_set_translator(
        0,
        FS_TRANS_SET as i32,
        0,
        Vec::new(),
        PortItem {
            name: control,
            disposition: Disposition::CopySend,
        },
    );
    root.release(node);
    set.map_err(|e| format!("attaching it at {dir}: {}", why(e)))
}

/// The root node of the file system behind `control`, opened for root
/// (`fsys_getroot` with uid and gid 0) with `flags`: a send right. One
/// that could not mount its disk answers its error.
pub(crate) fn getroot(
    ipc: &KernelIpc,
    control: PortName,
    flags: OpenFlags,
) -> Result<PortName, Error> {
    let none = PortItem {
        name: PortName::NULL,
        disposition: Disposition::CopySend,
    };
    let (_, _, top) = fsys::Client::new(ipc, control).getroot(
        none,
        alloc::vec![0],
        alloc::vec![0],
        flags.bits() as i32,
    )?;
    Ok(top.name)
}

/// Loads `image` into a task of its own with `argv` and `ports`, makes it a
/// child process of init's (`proc`) and starts it; its pid. Its end is
/// reported on `ended` (a receive right of init's) unless that is null.
pub(crate) fn start(
    ipc: &KernelIpc,
    proc: PortName,
    image: &[u8],
    argv: &[&str],
    ports: &[InitialPort],
    ended: PortName,
) -> Result<i32, String> {
    let child = exec::load(&Program {
        image,
        argv,
        envp: &[],
        ports,
    })
    .map_err(|e| format!("{e:?}"))?;
    if ended.is_valid()
        && let Err(e) = mach::task_notify_exit(child.task, ended)
    {
        exec::terminate(child);
        return Err(format!("task_notify_exit: {}", why(e)));
    }
    let r = crate::process::adopt(ipc, proc, child.task).and_then(|(pid, port)| {
        crate::process::give_proc(child.task, port)?;
        exec::resume(&child)?;
        Ok(pid)
    });
    if r.is_err() {
        let _ = mach::task_terminate(child.task);
    }
    let _ = ipc.port_deallocate(child.task);
    let _ = ipc.port_deallocate(child.thread);
    r.map_err(why)
}

/// A disk's driver as init keeps it: see the [module documentation](self).
struct Driver {
    /// The mount point and the device, for the console.
    dir: String,
    device: String,
    /// The N of `vdN`.
    index: u32,
    /// The driver's program.
    image: Vec<u8>,
    /// The kernel's device master port (init's).
    kernel_master: PortName,
    /// The driver's master port (a send right; null when the driver is
    /// not started again).
    master: PortName,
    /// Where its end is reported (a receive right).
    ended: PortName,
    /// The file system's bootstrap port (a receive right).
    bootstrap: PortName,
    /// The driver's pid, and when it started (the kernel's uptime).
    pid: i32,
    started: Duration,
    /// How many times in a row it ended quickly.
    quick_ends: u32,
    /// `fsys_getpriv` requests waiting for the driver to start again.
    waiting: Vec<Request>,
}

/// Starts the thread that watches `drivers` (a thread of init's); one that
/// does not start is named on the console, and the drivers are then not
/// started again.
fn watch(proc: PortName, drivers: Vec<Driver>) {
    if thread::spawn(move || supervise(proc, drivers)).is_err() {
        println!("hurd-init: no thread to watch the disks' drivers: they are not started again");
    }
}

/// Answers the file systems' bootstrap ports and starts each driver again
/// when it ends.
fn supervise(proc: PortName, mut drivers: Vec<Driver>) {
    let ipc = KernelIpc::new();
    let Ok(set) = ipc.port_allocate(RightType::PortSet) else {
        println!("hurd-init: no port set to watch the disks' drivers");
        return;
    };
    for d in &drivers {
        let _ = ipc.port_move_member(d.ended, set);
        let _ = ipc.port_move_member(d.bootstrap, set);
    }
    while let Ok(msg) = ipc.receive(set) {
        let port = msg.header.local;
        let Some(d) = drivers
            .iter_mut()
            .find(|d| d.ended == port || d.bootstrap == port)
        else {
            ipc.destroy_message(msg);
            continue;
        };
        if port == d.ended {
            match (msg.header.id, msg.body.first()) {
                (TASK_EXITED, Some(&Item::U64(status))) => d.ended(&ipc, proc, status),
                _ => ipc.destroy_message(msg),
            }
        } else {
            d.request(&ipc, msg);
        }
    }
}

impl Driver {
    /// A request on the file system's bootstrap port: `fsys_getpriv` is
    /// answered with the driver's master port (once the driver is started
    /// again, if it is gone); anything else is `MIG_BAD_ID`.
    fn request(&mut self, ipc: &KernelIpc, msg: Message) {
        if msg.header.id != fsys::id::getpriv {
            if let Dispatch::Reply(r) = mig::bad_id(ipc, msg) {
                let _ = mig::send_reply(ipc, r);
            }
            return;
        }
        let req = match fsys::Call::decode(msg) {
            Ok((_, req)) => req,
            Err(e) => {
                if let Dispatch::Reply(r) = mig::reject(ipc, e.message, e.code) {
                    let _ = mig::send_reply(ipc, r);
                }
                return;
            }
        };
        let dead = ipc.port_type(self.master) == Ok(PortType::DEAD_NAME);
        if dead {
            // Its end is about to be reported: answered then.
            self.waiting.push(req);
        } else {
            self.answer(ipc, &req);
        }
    }

    /// Answers a `fsys_getpriv`: the driver's master port, or `EIO` when
    /// there is none.
    fn answer(&self, ipc: &KernelIpc, req: &Request) {
        let item = |name| PortItem {
            name,
            disposition: Disposition::CopySend,
        };
        let reply = match self.master.is_valid() {
            true => Ok((
                item(PortName::NULL),
                item(self.master),
                item(PortName::NULL),
            )),
            false => Err(Error::from(Errno::Io)),
        };
        let _ = fsys::reply::getpriv(ipc, req, reply);
    }

    /// The driver ended with `status`: started again (unless it keeps
    /// ending quickly), and the requests waiting for it answered.
    fn ended(&mut self, ipc: &KernelIpc, proc: PortName, status: u64) {
        println!(
            "hurd-init: {}: the driver of device:{} (pid {}) ended (status {status:#x})",
            self.dir, self.device, self.pid
        );
        if self.master.is_valid() {
            let _ = ipc.port_deallocate(self.master);
            self.master = PortName::NULL;
        }
        let now = hurd_rt::time::uptime();
        self.quick_ends = match now.saturating_sub(self.started) < QUICK {
            true => self.quick_ends + 1,
            false => 0,
        };
        if self.quick_ends >= QUICK_ENDS {
            println!(
                "hurd-init: {}: the driver of device:{} keeps ending: not started again",
                self.dir, self.device
            );
        } else {
            match start_driver(
                ipc,
                proc,
                self.kernel_master,
                DRIVER,
                &self.image,
                self.index,
                self.ended,
            ) {
                Ok((pid, master)) => {
                    println!(
                        "hurd-init: {}: the driver of device:{} started again (pid {pid})",
                        self.dir, self.device
                    );
                    self.pid = pid;
                    self.master = master;
                    self.started = now;
                }
                Err(e) => println!(
                    "hurd-init: {}: the driver of device:{} did not start again: {e}",
                    self.dir, self.device
                ),
            }
        }
        for req in core::mem::take(&mut self.waiting) {
            self.answer(ipc, &req);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::disk_index;

    #[test]
    fn virtio_disks_are_numbered() {
        assert_eq!(disk_index("vd0"), Some(0));
        assert_eq!(disk_index("vd12"), Some(12));
        for bad in ["vd", "hd0", "vd-1", "vd1a", "vd0000"] {
            assert_eq!(disk_index(bad), None, "{bad}");
        }
    }
}
