//! The disk as a file: a bootstrap task (given the `virtio-blk` and
//! `storeio` programs as its modules, and the device master port) starts
//! the driver on the test disk, then `storeio vd0` on the driver's master
//! port, and stands as storeio's parent file system: it answers its
//! `fsys_startup` and asks its control port for the file (`fsys_getroot`).
//! Then, through the io interface only: `io_stat` (a block device of the
//! disk's size), reads at offsets that are not a sector's, `io_seek` and a
//! read at the new offset, end of file at the end, a write across two
//! sectors read back (the xtask checks the disk image afterwards), a write
//! at the end refused. `storeio` on a device the driver does not have
//! answers `fsys_getroot` with `ENXIO`. Last, it ends the driver as a
//! crash would: the next read through storeio is an error, not a hang.
//!
//! Returns 0 when all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::time::Duration;

use hurd_abi::device::DEVICE_MASTER_PORT_NAME;
use hurd_ipc::{Disposition, Errno, Error, MsgOptions, PortItem, PortName, RightType, UserIpc};
use hurd_rt::exec::InitialPort;
use hurd_rt::ports::{BOOTSTRAP, SERVICE};
use hurd_rt::{KernelIpc, boot, mach, println};
use hurd_trans::flags::OpenFlags;
use hurd_trans::mode::{S_IFBLK, S_IFMT};
use hurd_trans::protocol::{fsys, io};

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// The test disk's size (the xtask's `TEST_DISK_SIZE`).
const DISK: u64 = 1 << 20;
/// Where the write goes: across sectors 20 and 21.
const WRITE_AT: u64 = 20 * 512 + 500;
/// What it writes (the xtask looks for it in the image).
const WRITTEN: &[u8] = b"written through storeio\n";

/// The byte at `offset` of the test disk as the xtask makes it: sector n
/// is `sector n` and a newline, then the byte n.
fn disk_byte(offset: u64) -> u8 {
    let n = offset / 512;
    let head = alloc::format!("sector {n}\n");
    let at = (offset % 512) as usize;
    head.as_bytes().get(at).copied().unwrap_or(n as u8)
}

fn disk_bytes(offset: u64, len: u64) -> Vec<u8> {
    (offset..offset + len).map(disk_byte).collect()
}

fn main() -> u64 {
    kernel_test_programs::report::status(steps())
}

/// Starts `storeio` with `args` on the driver's master port `master`,
/// answers its `fsys_startup` and returns what `fsys_getroot` on its
/// control port gives for root, opened for reading and writing, with its
/// task port.
fn storeio(
    info: &boot::BootInfo,
    master: PortName,
    args: &[&str],
) -> Result<(PortName, Result<PortName, Error>), u64> {
    let ipc = KernelIpc::new();
    let bootstrap = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(3, "a port"))?;
    let mut argv = alloc::vec!["storeio"];
    argv.extend_from_slice(args);
    let ports = [
        InitialPort {
            name: PortName(DEVICE_MASTER_PORT_NAME),
            right: master,
            disposition: Disposition::CopySend,
        },
        InitialPort {
            name: BOOTSTRAP,
            right: bootstrap,
            disposition: Disposition::MakeSend,
        },
    ];
    let task = start(info, "storeio", &argv, &ports)?;
    // Its fsys_startup: the control port; the node it sits on is none.
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_secs(20)),
        ..MsgOptions::default()
    };
    let msg = ipc
        .receive_with(bootstrap, &opts)
        .map_err(err(4, "fsys_startup"))?;
    let _ = ipc.port_mod_refs(bootstrap, RightType::Receive, -1);
    let (call, req) = fsys::Call::decode(msg).map_err(|e| err(5, "fsys_startup")(e.code))?;
    let fsys::Call::startup { control_port, .. } = call else {
        println!("storeio-client: {call:?} instead of fsys_startup");
        return Err(5);
    };
    let none = PortItem {
        name: PortName::NULL,
        disposition: Disposition::CopySend,
    };
    fsys::reply::startup(&ipc, &req, Ok(none)).map_err(err(6, "answering fsys_startup"))?;
    let root = fsys::Client::new(&ipc, control_port.name).getroot(
        none,
        alloc::vec![0],
        alloc::vec![0],
        (OpenFlags::READ | OpenFlags::WRITE).bits() as i32,
    );
    let _ = ipc.port_deallocate(control_port.name);
    Ok((task, root.map(|(_, _, file)| file.name)))
}

fn steps() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let info = boot::info().ok_or(1u64)?;
    // The driver, serving its master port (a receive right moved to it;
    // the send right stays here).
    let driver_master = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(1, "a port"))?;
    ipc.port_insert_right(driver_master, driver_master, Disposition::MakeSend)
        .map_err(err(1, "a send right"))?;
    let driver = start(
        &info,
        "virtio-blk",
        &["virtio-blk"],
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

    let (server, file) = storeio(&info, driver_master, &["vd0"])?;
    let file = file.map_err(err(7, "fsys_getroot"))?;
    let f = io::Client::new(&ipc, file);
    let st = f.stat().map_err(err(10, "io_stat"))?;
    check(11, "type", st.mode & S_IFMT, S_IFBLK)?;
    check(12, "mode", st.mode & 0o7777, 0o644)?;
    check(13, "size", (st.size, st.blksize), (DISK, 512))?;

    // Reads at any offset.
    check(
        20,
        "100 bytes at 1000",
        f.read(1000, 100),
        Ok(disk_bytes(1000, 100)),
    )?;
    check(
        21,
        "3000 bytes at 70000",
        f.read(70_000, 3000),
        Ok(disk_bytes(70_000, 3000)),
    )?;
    check(22, "io_seek", f.seek(40_000, 0), Ok(40_000))?;
    check(
        23,
        "a read at the offset",
        f.read(-1, 20),
        Ok(disk_bytes(40_000, 20)),
    )?;
    check(24, "the offset moved", f.seek(0, 1), Ok(40_020))?;
    check(
        25,
        "cut at the end",
        f.read((DISK - 10) as i64, 100),
        Ok(disk_bytes(DISK - 10, 10)),
    )?;
    check(26, "end of file", f.read(DISK as i64, 100), Ok(Vec::new()))?;

    // A write across two sectors, read back; what is around it stays.
    check(
        30,
        "a write",
        f.write(WRITTEN.to_vec(), WRITE_AT as i64),
        Ok(WRITTEN.len() as u64),
    )?;
    let mut want = disk_bytes(WRITE_AT - 8, 8);
    want.extend_from_slice(WRITTEN);
    want.extend(disk_bytes(WRITE_AT + WRITTEN.len() as u64, 8));
    check(
        31,
        "read back",
        f.read(WRITE_AT as i64 - 8, WRITTEN.len() as u64 + 16),
        Ok(want),
    )?;
    check(
        32,
        "a write at the end",
        f.write(alloc::vec![1], DISK as i64),
        Err(Error::from(Errno::NoSpc)),
    )?;

    // A device the driver does not have.
    let (other, refused) = storeio(&info, driver_master, &["vd7"])?;
    check(
        40,
        "storeio vd7",
        refused.map(drop),
        Err(Error::from(Errno::NxIo)),
    )?;

    // The driver ends as a crash would: the next read is an error.
    mach::task_terminate(driver).map_err(err(50, "task_terminate of the driver"))?;
    check(
        51,
        "a read after the driver's end",
        f.read(0, 10),
        Err(Error::from(Errno::Io)),
    )?;
    mach::task_terminate(server).map_err(err(52, "task_terminate of storeio"))?;
    // The refusing storeio ends by itself; it may not have yet.
    let _ = mach::task_terminate(other);
    Ok(())
}
