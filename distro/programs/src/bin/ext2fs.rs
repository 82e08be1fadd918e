//! `/hurd/ext2fs [OPTION...] [device:]NAME`: the ext2 file system on a
//! disk, as a translator — the Hurd's ext2fs, on hurd-trans's ext2.
//!
//! The disk is the device NAME (`vd0`) opened with `device_open` on the
//! device master port the program's starter gave it under
//! `DEVICE_MASTER_PORT_NAME` (as the Hurd's file systems take
//! `--device-master-port`): a driver's, such as `virtio-blk`'s (see
//! `distro_programs::store`). The options are the Hurd's ext2fs's:
//! `--readonly`/`-r`, `--writable`/`-w` (also a file system not cleanly
//! unmounted), `--sync[=N]`/`-s`, `--no-sync`/`-n`, `--atime`,
//! `--relatime`, `--no-atime`. Changes are written back every N seconds
//! (30 by default) by a thread of its own, on `fsys_syncfs` (`sync`) and
//! when it goes away (`fsys_goaway`, which leaves the file system clean).
//!
//! When the disk's driver ends, the device is opened again on the master
//! port the bootstrap port hands out (`fsys_getpriv`: the parent that
//! started the driver, `hurd-init`, starts it again) and the request sent
//! there once more (see `distro_programs::store`); the request fails with
//! `EIO` only when that does not work.
//!
//! Bad arguments (`EINVAL`), no device master port (`EPERM`), a device
//! that does not open (its error) or a disk holding no ext2 file system it
//! can mount (`EFTYPE`, the reason on the console) answer the first
//! `fsys_getroot`, and the program ends.
//!
//! Passive translators recorded on the disk start on a lookup, as tasks
//! of their own (child processes of this one), with the root directory
//! this program was given (the system's) as theirs, reauthenticated with
//! the node owner's ids (see `distro_programs::translators`).
//!
//! The kernel has no wall clock yet: the time stamps files get, and the
//! sync interval, count the kernel's uptime (as seconds after 1970).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use distro_programs::store::DeviceStore;
use distro_programs::translators::{self, TaskStarter};
use hurd_abi::device::DEVICE_MASTER_PORT_NAME;
use hurd_ipc::{Errno, PortName, UserIpc};
use hurd_rt::{KernelIpc, ports, println, thread};
use hurd_trans::flags::OpenFlags;
use hurd_trans::netfs::{NetFs, Options as NetFsOptions};
use hurd_trans::stat::TimeSpec;
use hurd_trans::translators::ext2::{Ext2, Ext2Tree, MountError, Options, Shared};
use hurd_trans::translators::programs::refuse;
use spinning_top::Spinlock;

distro_programs::program!(main);

/// The file system on its disk.
type Fs = Ext2<DeviceStore<KernelIpc>>;

/// The file system, shared by the server and the thread that writes
/// changes back. A holder waiting for it yields its time slice instead of
/// spinning: the holder may be waiting for the disk's driver.
struct Locked(Arc<Spinlock<Fs>>);

impl Shared for Locked {
    type Device = DeviceStore<KernelIpc>;

    fn with<R>(&self, f: impl FnOnce(&mut Fs) -> R) -> R {
        loop {
            if let Some(mut fs) = self.0.try_lock() {
                return f(&mut fs);
            }
            thread::yield_now();
        }
    }
}

/// Mounts the file system `args` name, with their options; the device is
/// opened again through `bootstrap` when its driver ends.
fn mount(ipc: KernelIpc, args: &[&str], bootstrap: PortName) -> Result<Fs, Errno> {
    let (mut opts, rest) = Options::parse(args).map_err(|why| {
        println!("ext2fs: {why}");
        Errno::Inval
    })?;
    opts.clock = Box::new(|| {
        let t = hurd_rt::time::uptime();
        TimeSpec {
            sec: t.as_secs() as i64,
            nsec: t.subsec_nanos(),
        }
    });
    let [name] = rest[..] else {
        println!("ext2fs: usage: ext2fs [OPTION...] [device:]NAME");
        return Err(Errno::Inval);
    };
    let name = name.strip_prefix("device:").unwrap_or(name);
    let master = ports::held(PortName(DEVICE_MASTER_PORT_NAME)).ok_or(Errno::Perm)?;
    let store = DeviceStore::open(ipc, master, name, opts.readonly)
        .inspect_err(|e| {
            println!("ext2fs: {name}: {e}");
        })?
        .reopen_through(bootstrap);
    Ext2::mount(store, opts).map_err(|e| {
        println!("ext2fs: {name}: {e}");
        match e {
            MountError::Io(errno) => errno,
            _ => Errno::FType,
        }
    })
}

/// Writes changes back once a second when they are due (the sync
/// interval has passed), until the file system is gone.
fn start_syncer(fs: &Arc<Spinlock<Fs>>) {
    let weak = Arc::downgrade(fs);
    let started = thread::spawn(move || {
        while let Some(fs) = weak.upgrade() {
            if let Err(e) = Locked(fs).with(|fs| fs.write_back_due()) {
                println!("ext2fs: writing back: {e}");
            }
            thread::sleep(Duration::from_secs(1));
        }
    });
    if started.is_err() {
        println!("ext2fs: no thread to write changes back: only sync and unmount will");
    }
}

/// Serves `tree` after answering the parent on `bootstrap`. Passive
/// translators on the disk start as tasks of their own, child processes of
/// this one, with the system's root directory `crdir` (the one this
/// program was given) as theirs.
fn serve(
    ipc: KernelIpc,
    tree: Ext2Tree<Locked>,
    auth: PortName,
    bootstrap: PortName,
    crdir: PortName,
) {
    let proc = ports::held(ports::PROC);
    let mut starter = TaskStarter::new(proc);
    // The translators it starts are its children: reaped when they end.
    if let Some(proc) = proc
        && translators::reap_children(proc).is_err()
    {
        println!("ext2fs: no thread to reap ended translators");
    }
    if crdir.is_valid() {
        starter = starter.with_root(crdir);
    }
    let opts = NetFsOptions {
        name: "ext2fs",
        ..NetFsOptions::default()
    };
    let Ok(fs) = NetFs::new(ipc, tree, auth, Some(Box::new(starter)), opts) else {
        return;
    };
    if let Ok(node) = fs.startup(bootstrap, OpenFlags::READ) {
        let _ = fs.ipc().port_deallocate(node);
        fs.serve();
    }
}

fn main() {
    let s = hurd_rt::translator::start();
    let args: Vec<&str> = s.argv.iter().skip(1).map(String::as_str).collect();
    match mount(s.ipc, &args, s.bootstrap) {
        Ok(fs) => {
            let fs = Arc::new(Spinlock::new(fs));
            start_syncer(&fs);
            serve(
                s.ipc,
                Ext2Tree::shared(Locked(fs)),
                s.auth,
                s.bootstrap,
                s.dirs.crdir,
            );
        }
        Err(e) => refuse(s.ipc, s.auth, s.bootstrap, "ext2fs", e),
    }
}
