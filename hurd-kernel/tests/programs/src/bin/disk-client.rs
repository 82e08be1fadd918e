//! A client of the `virtio-blk` driver (a distro program) through Mach's
//! device interface: it opens `vd0` on the driver's port
//! (`SERVICE_PORT_NAME`), checks its size, reads sectors the test disk was
//! made with (in-line and out of line, and a read cut short at the end),
//! writes sectors and reads them back (the xtask checks the disk image
//! afterwards), and gets each refusal's `D_*` code. Then it terminates the
//! driver (a send right to its task port waits under [`DRIVER_TASK`]) as a
//! crash would end it, and its next request fails at once, not hangs.
//!
//! Returns 0 when all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use hurd_abi::device::{
    D_INVALID_OPERATION, D_INVALID_RECNUM, D_INVALID_SIZE, D_NO_SUCH_DEVICE, D_READ, D_WRITE,
    DEV_GET_RECORDS, DEV_GET_SIZE, device,
};
use hurd_ipc::{Error, MsgReturn, OolItem, PortName};
use hurd_rt::{KernelIpc, mach, println};

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// Where the test leaves a send right to the driver's task port.
pub const DRIVER_TASK: PortName = PortName(0x12);
/// The test disk's records (1 MiB).
const RECORDS: u32 = 2048;
/// What a sector written here holds.
pub const WRITTEN: &[u8] = b"written by disk-client\n";

/// What sector `n` of the test disk holds (as the xtask makes it).
fn sector(n: u32) -> Vec<u8> {
    let mut s = alloc::vec![n as u8; 512];
    let head = format!("sector {n}\n");
    s[..head.len()].copy_from_slice(head.as_bytes());
    s
}

/// A sector this client writes: [`WRITTEN`], then `fill`.
fn written(fill: u8) -> Vec<u8> {
    let mut s = alloc::vec![fill; 512];
    s[..WRITTEN.len()].copy_from_slice(WRITTEN);
    s
}

fn main() -> u64 {
    kernel_test_programs::report::status(steps())
}

fn steps() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let master = device::Client::new(&ipc, hurd_rt::ports::SERVICE);
    let rw = D_READ | D_WRITE;
    let dev = master.device_open(rw, "vd0".to_string()).map_err(|e| {
        println!("disk-client: device_open vd0: {e:?}");
        1u64
    })?;
    let disk = device::Client::new(&ipc, dev.name);
    check(
        2,
        "another name",
        master.device_open(rw, "vd1".to_string()).map(drop),
        Err(Error::Code(D_NO_SUCH_DEVICE)),
    )?;
    check(
        3,
        "records",
        disk.device_get_status(DEV_GET_RECORDS, 2),
        Ok(alloc::vec![RECORDS, 512]),
    )?;
    check(
        4,
        "size",
        disk.device_get_status(DEV_GET_SIZE, 8),
        Ok(alloc::vec![RECORDS * 512, 512]),
    )?;

    // Reads: in-line, out of line, cut at the end.
    check(
        10,
        "sector 1",
        disk.device_read_inband(0, 1, 512),
        Ok(sector(1)),
    )?;
    let many = disk.device_read(0, 100, 8 * 512).map(|o| o.data);
    let want: Vec<u8> = (100..108).flat_map(sector).collect();
    check(11, "sectors 100-107", many, Ok(want))?;
    check(
        12,
        "a read past the end is cut",
        disk.device_read(0, RECORDS - 1, 1024).map(|o| o.data),
        Ok(sector(RECORDS - 1)),
    )?;

    // Writes, read back.
    check(
        20,
        "write sector 5",
        disk.device_write_inband(0, 5, written(0xa5)),
        Ok(512),
    )?;
    check(
        21,
        "sector 5 again",
        disk.device_read_inband(0, 5, 512),
        Ok(written(0xa5)),
    )?;
    let two: Vec<u8> = [written(0x5a), written(0x3c)].concat();
    let ool = OolItem {
        data: two.clone(),
        deallocate: false,
    };
    check(
        22,
        "write sectors 6-7",
        disk.device_write(0, 6, ool),
        Ok(1024),
    )?;
    check(
        23,
        "sectors 6-7 again",
        disk.device_read(0, 6, 1024).map(|o| o.data),
        Ok(two),
    )?;
    check(
        24,
        "sector 8 untouched",
        disk.device_read_inband(0, 8, 512),
        Ok(sector(8)),
    )?;

    // Refusals.
    let refused = |step, what, got: Result<Vec<u8>, Error>, code| {
        check(step, what, got.map(drop), Err(Error::Code(code)))
    };
    refused(
        30,
        "past the end",
        disk.device_read_inband(0, RECORDS, 512),
        D_INVALID_RECNUM,
    )?;
    refused(
        31,
        "part of a record",
        disk.device_read_inband(0, 0, 100),
        D_INVALID_SIZE,
    )?;
    refused(
        32,
        "nothing",
        disk.device_read_inband(0, 0, 0),
        D_INVALID_SIZE,
    )?;
    refused(
        33,
        "a negative size",
        disk.device_read_inband(0, 0, -512),
        D_INVALID_SIZE,
    )?;
    refused(
        34,
        "too much at once",
        disk.device_read(0, 0, 64 * 1024 + 512).map(|o| o.data),
        D_INVALID_SIZE,
    )?;
    check(
        35,
        "a partial record written",
        disk.device_write_inband(0, 9, alloc::vec![0; 100]),
        Err(Error::Code(D_INVALID_SIZE)),
    )?;
    check(
        36,
        "device_set_status",
        disk.device_set_status(0, alloc::vec![]),
        Err(Error::Code(D_INVALID_OPERATION)),
    )?;
    check(
        37,
        "a read on the master port",
        master.device_read_inband(0, 0, 512).map(drop),
        Err(Error::Code(D_INVALID_OPERATION)),
    )?;
    check(38, "device_close", disk.device_close(), Ok(()))?;

    // The driver ends as a crash would end it: the next request is an
    // error at once.
    mach::task_terminate(DRIVER_TASK).map_err(|e| {
        println!("disk-client: task_terminate of the driver: {e:?}");
        40u64
    })?;
    check(
        41,
        "a read after the driver's end",
        disk.device_read_inband(0, 1, 512).map(drop),
        Err(Error::Msg(MsgReturn::SendInvalidDest)),
    )?;
    Ok(())
}
