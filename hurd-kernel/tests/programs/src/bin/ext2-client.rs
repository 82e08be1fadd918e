//! ext2 on the disk: a bootstrap task (given the `virtio-blk` and `ext2fs`
//! programs as its modules, and the device master port) starts the driver
//! on the second disk — an ext2 file system the xtask made with `mke2fs
//! -d` — then `ext2fs vd0` on the driver's master port, and stands as its
//! parent file system (answers `fsys_startup`, asks `fsys_getroot`). Then,
//! by file name: reads the files `mke2fs` put there (a small one, and one
//! reaching through an indirect block), makes a directory and a file in it
//! and writes the file, reads it back, and asks for everything to be
//! written (`fsys_syncfs`) and the file system to go away (`fsys_goaway`).
//! The xtask then checks the image with `e2fsck -fn` and reads the new
//! file with `debugfs`.
//!
//! Booted again as the bootstrap task of a normal boot with the command
//! line `ext2-reboot` (the xtask does, on the same disk), it reads the file
//! it wrote before: what was written survives the reboot.
//!
//! Returns 0 when all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::time::Duration;

use hurd_abi::device::DEVICE_MASTER_PORT_NAME;
use hurd_ipc::{Disposition, Error, MsgOptions, PortItem, PortName, RightType, UserIpc};
use hurd_rt::exec::InitialPort;
use hurd_rt::ports::{BOOTSTRAP, SERVICE};
use hurd_rt::{KernelIpc, boot, mach, println};
use hurd_trans::flags::{FSYS_GOAWAY_FORCE, OpenFlags};
use hurd_trans::lookup::Lookup;
use hurd_trans::protocol::{fs, fsys, io};

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// What the xtask put in `/docs/hello.txt`.
pub const HELLO: &[u8] = b"hello from the host\n";
/// The size of `/docs/big`, whose byte i is `i % 251`.
pub const BIG: usize = 40_000;
/// The file this client makes.
pub const WRITTEN_PATH: &str = "/written/by-hurd-rs.txt";
/// What it writes there (the xtask reads it back with debugfs).
pub const WRITTEN: &[u8] = b"written on hurd-rs through ext2fs\n";
/// A file larger than one kernel message, byte i being `i % 253`.
pub const LARGE_PATH: &str = "/written/large";
/// Its size.
pub const LARGE: usize = 200_000;

fn main() -> u64 {
    kernel_test_programs::report::status(steps())
}

/// The whole contents of the file `port`, read in pieces.
fn read_all(port: PortName) -> Result<Vec<u8>, Error> {
    let ipc = KernelIpc::new();
    let f = io::Client::new(&ipc, port);
    let mut all = Vec::new();
    loop {
        let piece = f.read(all.len() as i64, 16 * 1024)?;
        if piece.is_empty() {
            return Ok(all);
        }
        all.extend_from_slice(&piece);
    }
}

fn steps() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let info = boot::info().ok_or(1u64)?;
    // The driver of the second disk, serving its master port.
    let driver_master = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(1, "a port"))?;
    ipc.port_insert_right(driver_master, driver_master, Disposition::MakeSend)
        .map_err(err(1, "a send right"))?;
    let driver = start(
        &info,
        "virtio-blk",
        &["virtio-blk", "1"],
        &[
            InitialPort {
                name: PortName(DEVICE_MASTER_PORT_NAME),
                right: PortName(DEVICE_MASTER_PORT_NAME),
                disposition: Disposition::CopySend,
            },
            InitialPort {
                name: SERVICE,
                right: driver_master,
                disposition: Disposition::MoveReceive,
            },
        ],
    )?;

    // ext2fs on it, this task its parent.
    let bootstrap = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(3, "a port"))?;
    let server = start(
        &info,
        "ext2fs",
        &["ext2fs", "vd0"],
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
        ],
    )?;
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_secs(30)),
        ..MsgOptions::default()
    };
    let msg = ipc
        .receive_with(bootstrap, &opts)
        .map_err(err(4, "fsys_startup"))?;
    let _ = ipc.port_mod_refs(bootstrap, RightType::Receive, -1);
    let (call, req) = fsys::Call::decode(msg).map_err(|e| err(5, "fsys_startup")(e.code))?;
    let fsys::Call::startup { control_port, .. } = call else {
        println!("ext2-client: {call:?} instead of fsys_startup");
        return Err(5);
    };
    let control = control_port.name;
    let none = PortItem {
        name: PortName::NULL,
        disposition: Disposition::CopySend,
    };
    fsys::reply::startup(&ipc, &req, Ok(none)).map_err(err(6, "answering fsys_startup"))?;
    let (_, _, root) = fsys::Client::new(&ipc, control)
        .getroot(
            none,
            alloc::vec![0],
            alloc::vec![0],
            (OpenFlags::READ | OpenFlags::EXEC).bits() as i32,
        )
        .map_err(err(7, "fsys_getroot"))?;
    let root = root.name;
    let view = Lookup {
        ipc: &ipc,
        crdir: root,
        cwdir: root,
        auth: PortName::NULL,
        fds: &[],
        ctty: PortName::NULL,
    };

    if info.has_word("ext2-reboot") {
        // The file written in the boot before.
        let file = view
            .open(WRITTEN_PATH, OpenFlags::READ, 0)
            .map_err(err(40, WRITTEN_PATH))?;
        check(41, "after the reboot", read_all(file), Ok(WRITTEN.to_vec()))?;
        let _ = ipc.port_deallocate(file);
        let _ = ipc.port_deallocate(root);
        return finish(control, server, driver);
    }

    // What mke2fs put there.
    let hello = view
        .open("/docs/hello.txt", OpenFlags::READ, 0)
        .map_err(err(10, "/docs/hello.txt"))?;
    check(11, "/docs/hello.txt", read_all(hello), Ok(HELLO.to_vec()))?;
    let big = view
        .open("/docs/big", OpenFlags::READ, 0)
        .map_err(err(12, "/docs/big"))?;
    let want: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
    check(13, "/docs/big", read_all(big), Ok(want))?;
    let _ = ipc.port_deallocate(hello);
    let _ = ipc.port_deallocate(big);

    // A directory and a file in it, written and read back.
    fs::Client::new(&ipc, root)
        .dir_mkdir("written".into(), 0o755)
        .map_err(err(20, "mkdir /written"))?;
    let file = view
        .open(
            WRITTEN_PATH,
            OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL,
            0o644,
        )
        .map_err(err(21, WRITTEN_PATH))?;
    check(
        22,
        "the write",
        io::Client::new(&ipc, file).write(WRITTEN.to_vec(), 0),
        Ok(WRITTEN.len() as u64),
    )?;
    check(23, "read back", read_all(file), Ok(WRITTEN.to_vec()))?;
    let _ = ipc.port_deallocate(file);

    // A file larger than a kernel message: a read asking for all of it at
    // once is answered short (as io_read allows), not with a reply the
    // kernel refuses; the rest comes with the next reads.
    let large = view
        .open(
            LARGE_PATH,
            OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL,
            0o644,
        )
        .map_err(err(24, LARGE_PATH))?;
    let want: Vec<u8> = (0..LARGE).map(|i| (i % 253) as u8).collect();
    let f = io::Client::new(&ipc, large);
    for (i, piece) in want.chunks(16 * 1024).enumerate() {
        let at = (i * 16 * 1024) as i64;
        f.write(piece.to_vec(), at)
            .map_err(err(25, "writing the large file"))?;
    }
    let first = f
        .read(0, LARGE as u64)
        .map_err(err(26, "one read of it all"))?;
    if first.is_empty() || first.len() > 64 * 1024 || first[..] != want[..first.len()] {
        println!(
            "ext2-client: one read of {LARGE} bytes gave {} bytes",
            first.len()
        );
        return Err(27);
    }
    check(28, "the large file", read_all(large), Ok(want))?;
    let _ = ipc.port_deallocate(large);
    let _ = ipc.port_deallocate(root);

    finish(control, server, driver)
}

/// Everything written, then a clean unmount (the file system's task
/// ends); the driver ends too.
fn finish(control: PortName, server: PortName, driver: PortName) -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let control_client = fsys::Client::new(&ipc, control);
    control_client
        .syncfs(1, 0)
        .map_err(err(30, "fsys_syncfs"))?;
    control_client
        .goaway(FSYS_GOAWAY_FORCE as i32)
        .map_err(err(31, "fsys_goaway"))?;
    let _ = ipc.port_deallocate(control);
    let _ = mach::task_terminate(server);
    mach::task_terminate(driver).map_err(err(32, "task_terminate of the driver"))?;
    Ok(())
}
