//! The system's disks at boot: `hurd-init` mounts the file systems
//! `/etc/fstab` lists ([`hurd_servers::fstab`]), each on a disk of its own.
//!
//! For `device:vdN` the disk is the machine's N-th virtio block device:
//! init starts its driver, [`DRIVER`] `N`, with the kernel's device master
//! port (which init holds, as the bootstrap task) and a receive right of
//! its own making as the driver's master port; then the file system's
//! translator (`/hurd/ext2fs device:vd0`, the driver's one device) with the
//! driver's master port as its `DEVICE_MASTER_PORT_NAME`, root's auth
//! handle, and a bootstrap port init answers as the translator's parent
//! (`fsys_startup`). Both are tasks of their own, child processes of
//! init's. A `fsys_getroot` checks that the file system is served, and
//! init then attaches the translator's control port to the mount point as
//! its active translator (`file_set_translator`), as the Hurd's `settrans
//! -a` and `mount` do. A disk that does not mount — no such device, a
//! driver or translator missing from the image, a disk holding no file
//! system the translator can serve — is named on the console, and the boot
//! goes on without it.
//!
//! At halt, [`unmount_all`] asks each file system to write everything
//! back (`fsys_syncfs`) and to go away (`fsys_goaway`), which leaves it
//! clean on its disk.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use hurd_abi::device::DEVICE_MASTER_PORT_NAME;
use hurd_ipc::{Disposition, Errno, Error, MsgOptions, PortItem, PortName, RightType, UserIpc};
use hurd_rt::exec::{self, InitialPort, Program};
use hurd_rt::ports::{AUTH, BOOTSTRAP, SERVICE};
use hurd_rt::{KernelIpc, mach, println};
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

/// Mounts what `/etc/fstab` lists, as root (`root`), the tasks started
/// child processes of `proc`'s (init's proc port); each one mounted and
/// each one refused is named on the console.
pub fn mount_all(ipc: &KernelIpc, root: &Session<'_, KernelIpc>, proc: PortName) -> Vec<Mounted> {
    let text = match root.read_file(fstab::FSTAB) {
        Ok(text) => text,
        Err(e) if e == Error::from(Errno::NoEnt) => return Vec::new(),
        Err(e) => {
            println!("hurd-init: no disks: {}: {e}", fstab::FSTAB);
            return Vec::new();
        }
    };
    let list = match core::str::from_utf8(&text)
        .map_err(|_| format!("{}: not UTF-8 text", fstab::FSTAB))
        .and_then(|t| fstab::parse(t).map_err(|e| format!("{e}")))
    {
        Ok(list) => list,
        Err(e) => {
            println!("hurd-init: no disks: {e}");
            return Vec::new();
        }
    };
    let mut mounted = Vec::new();
    for m in &list {
        match mount(ipc, root, proc, m) {
            Ok(done) => {
                println!(
                    "hurd-init: {}: {} on device:{} (driver pid {}, file system pid {})",
                    m.dir, m.fs_type, m.device, done.pids.1, done.pids.0
                );
                mounted.push(done);
            }
            Err(why) => println!(
                "hurd-init: {}: device:{} is not mounted: {why}",
                m.dir, m.device
            ),
        }
    }
    mounted
}

/// Writes back and unmounts each of `mounted`, naming on the console any
/// that does not go away cleanly.
pub fn unmount_all(ipc: &KernelIpc, mounted: &[Mounted]) {
    for m in mounted {
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
fn why(e: Error) -> String {
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

/// Mounts `m`: see the [module documentation](self).
fn mount(
    ipc: &KernelIpc,
    root: &Session<'_, KernelIpc>,
    proc: PortName,
    m: &Mount,
) -> Result<Mounted, String> {
    let program = m
        .program()
        .ok_or_else(|| format!("no translator serves `{}` file systems", m.fs_type))?;
    let index = disk_index(&m.device)
        .ok_or_else(|| format!("`{}` is not a virtio disk (vdN)", m.device))?;
    let kernel_master = hurd_rt::ports::held(PortName(DEVICE_MASTER_PORT_NAME))
        .ok_or("init holds no device master port")?;
    let driver_image = root
        .read_file(DRIVER)
        .map_err(|e| format!("{DRIVER}: {}", why(e)))?;
    let fs_image = root
        .read_file(program)
        .map_err(|e| format!("{program}: {}", why(e)))?;

    // The driver, serving its master port.
    let driver_master = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| format!("a port: {e:?}"))?;
    if let Err(e) = ipc.port_insert_right(driver_master, driver_master, Disposition::MakeSend) {
        let _ = ipc.port_mod_refs(driver_master, RightType::Receive, -1);
        return Err(format!("a port: {e:?}"));
    }
    let index = format!("{index}");
    let driver = start(
        ipc,
        proc,
        &driver_image,
        &[DRIVER, index.as_str()],
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
    );
    let driver = match driver {
        Ok(pid) => pid,
        Err(e) => {
            let _ = ipc.port_deallocate(driver_master);
            let _ = ipc.port_mod_refs(driver_master, RightType::Receive, -1);
            return Err(format!("{DRIVER}: {e}"));
        }
    };
    let served = serve(ipc, root, proc, &fs_image, program, m, driver_master);
    let _ = ipc.port_deallocate(driver_master);
    let (pid, control) = served?;
    Ok(Mounted {
        dir: m.dir.clone(),
        control,
        pids: (pid, driver),
    })
}

/// Starts the translator `program` on the driver's device (its master port
/// `driver_master`), answers its `fsys_startup`, checks that it serves and
/// attaches it at the mount point; its pid and control port.
fn serve(
    ipc: &KernelIpc,
    root: &Session<'_, KernelIpc>,
    proc: PortName,
    image: &[u8],
    program: &str,
    m: &Mount,
    driver_master: PortName,
) -> Result<(i32, PortName), String> {
    let bootstrap = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| format!("a port: {e:?}"))?;
    let device = format!("device:{DRIVER_DEVICE}");
    let mut argv = alloc::vec![program];
    if m.readonly {
        argv.push("--readonly");
    }
    argv.push(&device);
    let started = start(
        ipc,
        proc,
        image,
        &argv,
        &[
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
                right: root.auth,
                disposition: Disposition::CopySend,
            },
        ],
    );
    let pid = match started {
        Ok(pid) => pid,
        Err(e) => {
            let _ = ipc.port_mod_refs(bootstrap, RightType::Receive, -1);
            return Err(format!("{program}: {e}"));
        }
    };
    let control = startup(ipc, bootstrap);
    let _ = ipc.port_mod_refs(bootstrap, RightType::Receive, -1);
    let control = control.map_err(|e| format!("{program}: {e}"))?;
    attach(ipc, root, control, &m.dir).inspect_err(|_| {
        let _ = fsys::Client::new(ipc, control).goaway(FSYS_GOAWAY_FORCE as i32);
        let _ = ipc.port_deallocate(control);
    })?;
    Ok((pid, control))
}

/// Answers the translator's `fsys_startup` on `bootstrap` as its parent;
/// its control port.
fn startup(ipc: &KernelIpc, bootstrap: PortName) -> Result<PortName, String> {
    let opts = MsgOptions {
        rcv_timeout: Some(STARTUP_TIMEOUT),
        ..MsgOptions::default()
    };
    let msg = ipc
        .receive_with(bootstrap, &opts)
        .map_err(|e| format!("did not start ({e:?})"))?;
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
fn attach(
    ipc: &KernelIpc,
    root: &Session<'_, KernelIpc>,
    control: PortName,
    dir: &str,
) -> Result<(), String> {
    let none = PortItem {
        name: PortName::NULL,
        disposition: Disposition::CopySend,
    };
    let (_, _, top) = fsys::Client::new(ipc, control)
        .getroot(
            none,
            alloc::vec![0],
            alloc::vec![0],
            OpenFlags::READ.bits() as i32,
        )
        .map_err(why)?;
    let _ = ipc.port_deallocate(top.name);
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

/// Loads `image` into a task of its own with `argv` and `ports`, makes it a
/// child process of init's (`proc`) and starts it; its pid.
fn start(
    ipc: &KernelIpc,
    proc: PortName,
    image: &[u8],
    argv: &[&str],
    ports: &[InitialPort],
) -> Result<i32, String> {
    let child = exec::load(&Program {
        image,
        argv,
        envp: &[],
        ports,
    })
    .map_err(|e| format!("{e:?}"))?;
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
