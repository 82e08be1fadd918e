//! `virtio-blk`: the driver of a virtio block device (QEMU's
//! `virtio-blk-pci`), a task serving the disk through Mach's device
//! interface, as the Hurd's rumpdisk does.
//!
//! The device is driven by the `virtio-drivers` crate over the kernel's
//! device master port (see `hurd_abi::device`): its configuration space
//! through `device_read_inband`/`device_write_inband` on the function's
//! port (the base address registers, which the kernel never lets a driver
//! write, are answered from the regions the kernel sized), its registers
//! mapped with `device_map_region`, and its queues and transfers in DMA
//! memory from `vm_allocate_contiguous` (requests go through bounce
//! buffers there: the driver cannot know where its other memory lies).
//!
//! It serves, on the port it was started with (`SERVICE_PORT_NAME`, as
//! the kernel's tests give it, or a port its starter inserted there),
//! `device_open(master, mode, "vd0")`, then on the device port
//! `device_read`/`device_read_inband`/`device_write`/`device_write_inband`
//! in records of 512 bytes (a transfer crossing the end of the disk is
//! short; one starting past it is `D_INVALID_RECNUM`; one not a whole
//! number of records, or over [`MAX_TRANSFER`] bytes, `D_INVALID_SIZE`;
//! a write to a read-only disk `D_READ_ONLY`; a failed request
//! `D_IO_ERROR`), `device_get_status` of `DEV_GET_SIZE` and
//! `DEV_GET_RECORDS`, and `device_close`.
//!
//! The device is reached through [`distro_programs::virtio`] (shared with
//! `virtio-net`), which says why `virtio-drivers`.
//!
//! Its argument (`argv[1]`): N to drive the N-th virtio block function on
//! the bus, counting from 0 in the bus's order; the first without one.
//!
//! As a process, it ends on a fatal signal (`kill`), as every distro
//! program does; its starter (`hurd-init`) starts it again.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use distro_programs::virtio::{self, KernelHal, Polled};
use hurd_abi::device::{
    D_INVALID_OPERATION, D_INVALID_RECNUM, D_INVALID_SIZE, D_IO_ERROR, D_NO_SUCH_DEVICE,
    D_READ_ONLY, DEV_GET_RECORDS, DEV_GET_SIZE, MAX_INBAND, device,
};
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Error, OolItem, PortItem, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, println};
use virtio_drivers::PAGE_SIZE;
use virtio_drivers::device::blk::{SECTOR_SIZE, VirtIOBlk};
use virtio_drivers::transport::pci::PciTransport;

distro_programs::program!(main);

/// The name clients open.
const DEVICE_NAME: &str = "vd0";
/// The most bytes one request moves.
const MAX_TRANSFER: usize = 64 * 1024;
/// The bounce buffers' DMA memory.
const BOUNCE_SIZE: usize = 2 * MAX_TRANSFER + 2 * PAGE_SIZE;
/// The record size.
const RECORD: usize = SECTOR_SIZE;

/// The disk being served.
struct Driver {
    blk: RefCell<VirtIOBlk<KernelHal, Polled<PciTransport>>>,
    /// The port `device_open` goes to.
    master: PortName,
    /// The device port it gives.
    device: PortName,
    records: u64,
}

fn code(c: i32) -> Error {
    Error::Code(c)
}

impl Driver {
    /// The records `[recnum, recnum + bytes / RECORD)` cut at the end of
    /// the disk.
    fn span(&self, req: &Request, recnum: u32, bytes: usize) -> Result<usize, Error> {
        if req.port != self.device {
            return Err(code(D_INVALID_OPERATION));
        }
        if bytes == 0 || !bytes.is_multiple_of(RECORD) || bytes > MAX_TRANSFER {
            return Err(code(D_INVALID_SIZE));
        }
        let recnum = u64::from(recnum);
        if recnum >= self.records {
            return Err(code(D_INVALID_RECNUM));
        }
        let left = (self.records - recnum) as usize;
        Ok(bytes.min(left * RECORD))
    }

    // ANCHOR: read
    fn read(&self, req: &Request, recnum: u32, wanted: i32) -> Result<Vec<u8>, Error> {
        let wanted = usize::try_from(wanted).map_err(|_| code(D_INVALID_SIZE))?;
        let len = self.span(req, recnum, wanted)?;
        let mut data = vec![0u8; len];
        let mut blk = self.blk.borrow_mut();
        let read = blk.read_blocks(recnum as usize, &mut data);
        quiet(&mut blk);
        read.map_err(|_| code(D_IO_ERROR))?;
        Ok(data)
    }
    // ANCHOR_END: read

    fn write(&self, req: &Request, recnum: u32, data: &[u8]) -> Result<i32, Error> {
        let len = self.span(req, recnum, data.len())?;
        let mut blk = self.blk.borrow_mut();
        if blk.readonly() {
            return Err(code(D_READ_ONLY));
        }
        let written = blk.write_blocks(recnum as usize, &data[..len]);
        quiet(&mut blk);
        written.map_err(|_| code(D_IO_ERROR))?;
        Ok(len as i32)
    }
}

/// Clears the device's interrupt status after a request. The driver waits
/// for each request by polling its completion and asks the device for no
/// interrupts (without event indexes: see [`Polled`]), but a device may
/// raise one anyway (the request is only a hint to it), and its line is
/// shared: PCI interrupts are level-triggered,
/// so a status left set holds the line asserted, and the driver sharing it
/// (the network card's, on QEMU's PC) would be interrupted without end.
fn quiet(blk: &mut VirtIOBlk<KernelHal, Polled<PciTransport>>) {
    let _ = blk.ack_interrupt();
}

impl device::Server for Driver {
    fn device_open(&self, req: &Request, _mode: u32, name: String) -> Result<PortItem, Error> {
        if req.port != self.master {
            return Err(code(D_INVALID_OPERATION));
        }
        if name != DEVICE_NAME {
            return Err(code(D_NO_SUCH_DEVICE));
        }
        Ok(PortItem {
            name: self.device,
            disposition: Disposition::MakeSend,
        })
    }

    fn device_close(&self, req: &Request) -> Result<(), Error> {
        if req.port != self.device {
            return Err(code(D_INVALID_OPERATION));
        }
        Ok(())
    }

    fn device_write(
        &self,
        req: &Request,
        _mode: u32,
        recnum: u32,
        data: OolItem,
    ) -> Result<i32, Error> {
        self.write(req, recnum, &data.data)
    }

    fn device_write_inband(
        &self,
        req: &Request,
        _mode: u32,
        recnum: u32,
        data: Vec<u8>,
    ) -> Result<i32, Error> {
        self.write(req, recnum, &data)
    }

    fn device_read(
        &self,
        req: &Request,
        _mode: u32,
        recnum: u32,
        bytes_wanted: i32,
    ) -> Result<OolItem, Error> {
        let data = self.read(req, recnum, bytes_wanted)?;
        Ok(OolItem {
            data,
            deallocate: true,
        })
    }

    fn device_read_inband(
        &self,
        req: &Request,
        _mode: u32,
        recnum: u32,
        bytes_wanted: i32,
    ) -> Result<Vec<u8>, Error> {
        if usize::try_from(bytes_wanted).is_ok_and(|n| n > MAX_INBAND) {
            return Err(code(D_INVALID_SIZE));
        }
        self.read(req, recnum, bytes_wanted)
    }

    fn device_set_status(
        &self,
        _req: &Request,
        _flavor: u32,
        _status: Vec<u32>,
    ) -> Result<(), Error> {
        Err(code(D_INVALID_OPERATION))
    }

    fn device_get_status(&self, req: &Request, flavor: u32, count: u32) -> Result<Vec<u32>, Error> {
        if req.port != self.device {
            return Err(code(D_INVALID_OPERATION));
        }
        let saturated = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let status = match flavor {
            DEV_GET_SIZE => vec![saturated(self.records * RECORD as u64), RECORD as u32],
            DEV_GET_RECORDS => vec![saturated(self.records), RECORD as u32],
            _ => return Err(code(D_INVALID_OPERATION)),
        };
        if (count as usize) < status.len() {
            return Err(code(D_INVALID_SIZE));
        }
        Ok(status)
    }

    fn device_set_filter(
        &self,
        _req: &Request,
        receive_port: PortItem,
        _priority: i32,
        _filter: Vec<u16>,
    ) -> Result<(), Error> {
        // A disk sends no frames.
        let _ = KernelIpc::new().port_deallocate(receive_port.name);
        Err(code(D_INVALID_OPERATION))
    }

    fn device_intr_register(
        &self,
        _req: &Request,
        _id: i32,
        _flags: i32,
        port: PortItem,
    ) -> Result<(), Error> {
        let _ = KernelIpc::new().port_deallocate(port.name);
        Err(code(D_INVALID_OPERATION))
    }

    fn device_intr_ack(&self, _req: &Request, port: PortItem) -> Result<(), Error> {
        let _ = KernelIpc::new().port_deallocate(port.name);
        Err(code(D_INVALID_OPERATION))
    }
}

/// Finds the disk, sets up the device, and returns it with its size.
fn start(ipc: &KernelIpc) -> Result<(VirtIOBlk<KernelHal, Polled<PciTransport>>, u64), String> {
    let index: usize = match hurd_rt::env::args().get(1) {
        Some(n) => n.parse().map_err(|_| alloc::format!("{n}: not a number"))?,
        None => 0,
    };
    // The functions are offered in the bus's order: the index-th disk.
    let disks = Cell::new(0);
    let opened = virtio::open(
        ipc,
        |f| {
            let disk = f.vendor == 0x1af4 && (f.device == 0x1001 || f.device == 0x1042);
            let n = disks.get();
            disks.set(n + usize::from(disk));
            disk && n == index
        },
        BOUNCE_SIZE,
    )?;
    let mut blk = VirtIOBlk::<KernelHal, _>::new(Polled(opened.transport))
        .map_err(|e| alloc::format!("virtio-blk: {e:?}"))?;
    // Completions are polled: no interrupts (see `quiet`).
    blk.disable_interrupts();
    quiet(&mut blk);
    let records = blk.capacity();
    Ok((blk, records))
}

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let (blk, records) = match start(&ipc) {
        Ok(started) => started,
        Err(why) => {
            println!("virtio-blk: {why}");
            return 1;
        }
    };
    let master = PortName(hurd_abi::SERVICE_PORT_NAME);
    let ports = (|| {
        let device = ipc.port_allocate(RightType::Receive)?;
        let set = ipc.port_allocate(RightType::PortSet)?;
        ipc.port_move_member(master, set)?;
        ipc.port_move_member(device, set)?;
        Ok::<_, hurd_ipc::KernReturn>((device, set))
    })();
    let Ok((device, set)) = ports else {
        println!("virtio-blk: no service port");
        return 2;
    };
    println!("virtio-blk: {DEVICE_NAME}: {records} records of {RECORD} bytes");
    let driver = Driver {
        blk: RefCell::new(blk),
        master,
        device,
        records,
    };
    let ret = device::serve(&driver, &ipc, set);
    println!("virtio-blk: receive failed: {ret:?}");
    3
}
