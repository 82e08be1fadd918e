//! A driver's view of the kernel's devices, against QEMU's virtio-blk-pci.
//!
//! With argument 0 the task holds the device master port (the kernel test
//! gives it, as the bootstrap task gives it to drivers): it lists the PCI
//! functions, opens the virtio block device, reads and writes its
//! configuration space (its base address registers refused), maps its
//! modern register region and resets and acknowledges the device through
//! it, gets DMA memory with physical addresses, registers for its
//! interrupt; and every refusal: names that are no device, regions that
//! are not the device's (another function's, I/O ports, none), routines
//! sent to the wrong port, bad sizes.
//!
//! With argument 1 it holds nothing: the master port's name is no right of
//! its own, and its task port does not serve the master's routines.
//!
//! Returns 0 when all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::ToString;

use hurd_abi::device::{
    D_INVALID_OPERATION, D_INVALID_RECNUM, D_INVALID_SIZE, D_NO_SUCH_DEVICE, D_READ, D_WRITE,
    DEVICE_MASTER_PORT_NAME, MAX_CONTIGUOUS, PCI_FUNCTIONS, PCI_REGIONS, PciFunctionRecord,
    PciRegion, device, gnumach, hurd_device,
};
use hurd_ipc::{Disposition, Error, KernReturn, MsgReturn, PortItem, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, task};

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// virtio's PCI vendor id.
const VIRTIO_VENDOR: u16 = 0x1af4;
/// virtio's vendor-specific capability (`VIRTIO_PCI_CAP_*` follow).
const CAP_VENDOR: u8 = 0x09;
/// `VIRTIO_PCI_CAP_COMMON_CFG`.
const COMMON_CFG: u8 = 1;
/// The common configuration's `num_queues` (u16) and `device_status` (u8).
const NUM_QUEUES: u64 = 0x12;
const DEVICE_STATUS: u64 = 0x14;

fn main() -> u64 {
    let result = match hurd_rt::env::start_arg() {
        0 => driver(),
        _ => outsider(),
    };
    kernel_test_programs::report::status(result)
}

/// A send right to this task's port, as a routine's argument.
fn me() -> PortItem {
    PortItem {
        name: task::task_self(),
        disposition: Disposition::CopySend,
    }
}

fn code<T>(r: Result<T, Error>) -> Result<(), Error> {
    r.map(drop)
}

/// A task without the master port is refused everything.
fn outsider() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let master = PortName(DEVICE_MASTER_PORT_NAME);
    check(
        1,
        "device_open without the master port",
        code(device::Client::new(&ipc, master).device_open(D_READ, "pci".to_string())),
        Err(Error::Msg(MsgReturn::SendInvalidDest)),
    )?;
    check(
        2,
        "device_open on its own task port",
        code(device::Client::new(&ipc, task::task_self()).device_open(D_READ, "pci".to_string())),
        Err(Error::Code(D_INVALID_OPERATION)),
    )?;
    check(
        3,
        "vm_allocate_contiguous on its own task port",
        code(
            gnumach::Client::new(&ipc, task::task_self()).vm_allocate_contiguous(
                me(),
                4096,
                0,
                0,
                0,
            ),
        ),
        Err(Error::Kern(KernReturn::InvalidHost)),
    )?;
    Ok(())
}

fn driver() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let master = PortName(DEVICE_MASTER_PORT_NAME);
    let open = |name: &str| {
        device::Client::new(&ipc, master)
            .device_open(D_READ | D_WRITE, name.to_string())
            .map(|p| p.name)
    };

    // The bus lists its functions; a short count gets whole records.
    let bus = open("pci").map_err(err(10, "open pci"))?;
    let words = device::Client::new(&ipc, bus)
        .device_get_status(PCI_FUNCTIONS, 4096)
        .map_err(|_| fail(11, "PCI_FUNCTIONS"))?;
    let functions = PciFunctionRecord::parse_all(&words);
    check(
        12,
        "records",
        words.len(),
        functions.len() * PciFunctionRecord::WORDS,
    )?;
    let short = device::Client::new(&ipc, bus).device_get_status(PCI_FUNCTIONS, 7);
    check(13, "a short status", short.map(|w| w.len()), Ok(4))?;
    let Some(blk) = functions
        .iter()
        .find(|f| f.vendor == VIRTIO_VENDOR && (f.device == 0x1001 || f.device == 0x1042))
    else {
        return Err(fail(14, "no virtio-blk function on the bus"));
    };
    let host = functions
        .iter()
        .find(|f| f.address != blk.address && f.class >> 24 == 0x06)
        .ok_or_else(|| fail(15, "no bridge on the bus"))?;

    // Configuration space: the device's ids, its command register; never
    // its base address registers.
    let dev = open(&blk.address.to_string()).map_err(|_| fail(20, "open the virtio function"))?;
    let blkdev = device::Client::new(&ipc, dev);
    let ids = blkdev.device_read_inband(0, 0, 4);
    let mut want = blk.vendor.to_le_bytes().to_vec();
    want.extend(blk.device.to_le_bytes());
    check(21, "vendor and device ids", ids, Ok(want))?;
    check(
        22,
        "a read past the configuration space",
        code(blkdev.device_read_inband(0, 0xff, 2)),
        Err(Error::Code(D_INVALID_RECNUM)),
    )?;
    check(
        23,
        "a write to a base address register",
        blkdev.device_write_inband(0, 0x10, alloc::vec![0; 4]),
        Err(Error::Code(D_INVALID_OPERATION)),
    )?;
    check(
        24,
        "a misaligned write",
        blkdev.device_write_inband(0, 0x05, alloc::vec![0; 2]),
        Err(Error::Code(D_INVALID_SIZE)),
    )?;
    let command = blkdev
        .device_read_inband(0, 4, 2)
        .map_err(|_| fail(25, "read the command register"))?;
    let command = u16::from_le_bytes([command[0], command[1]]) | 0x6;
    check(
        26,
        "memory decoding and bus mastering on",
        blkdev.device_write_inband(0, 4, command.to_le_bytes().to_vec()),
        Ok(2),
    )?;
    check(
        27,
        "the command register reads back",
        blkdev.device_read_inband(0, 4, 2),
        Ok(command.to_le_bytes().to_vec()),
    )?;

    // The common configuration capability says which region and where.
    let (bar, offset) =
        common_cfg(&blkdev).ok_or_else(|| fail(30, "no common configuration capability"))?;
    let regions = blkdev
        .device_get_status(PCI_REGIONS, 64)
        .map(|w| PciRegion::parse_all(&w))
        .map_err(|_| fail(31, "PCI_REGIONS"))?;
    let region = regions
        .iter()
        .find(|r| u32::from(r.index) == bar)
        .ok_or_else(|| fail(32, "the capability's region is not listed"))?;
    // ANCHOR: map
    let mapper = hurd_device::Client::new(&ipc, dev);
    let (addr, size) = mapper
        .device_map_region(me(), bar)
        .map_err(|e| fail(33, format_args!("map region {bar}: {e:?}")))?;
    check(34, "the mapped size", size, region.size)?;
    let reg = |at: u64| (addr + u64::from(offset) + at) as *mut u8;
    // SAFETY: the kernel mapped the device's region at `addr` (uncached,
    // `size` bytes); the capability's offset lies inside it.
    let (queues, status) = unsafe {
        core::ptr::write_volatile(reg(DEVICE_STATUS), 0); // reset
        let reset = core::ptr::read_volatile(reg(DEVICE_STATUS));
        core::ptr::write_volatile(reg(DEVICE_STATUS), 1); // ACKNOWLEDGE
        let acked = core::ptr::read_volatile(reg(DEVICE_STATUS));
        core::ptr::write_volatile(reg(DEVICE_STATUS), 0);
        let queues = core::ptr::read_volatile(reg(NUM_QUEUES) as *mut u16);
        (queues, (reset, acked))
    };
    check(35, "device status through the mapping", status, (0, 1))?;
    // ANCHOR_END: map
    if queues == 0 {
        return Err(fail(36, "the device has no queues"));
    }
    // SAFETY: the kernel only reads the range (and refuses it).
    let echoed = unsafe { kernel_test_programs::raw::console_write(addr, 16) };
    if echoed == 0 {
        return Err(fail(
            37,
            "the kernel copied a device's registers for a task",
        ));
    }

    // Regions that are not this device's memory are refused.
    let io = regions
        .iter()
        .find(|r| r.io)
        .map_or(0, |r| u32::from(r.index));
    for (step, region) in [(40, io), (41, 6), (42, u32::MAX)] {
        check(
            step,
            "a region that cannot be mapped",
            code(mapper.device_map_region(me(), region)),
            Err(Error::Code(D_INVALID_OPERATION)),
        )?;
    }
    let other = open(&host.address.to_string()).map_err(|_| fail(43, "open the bridge"))?;
    check(
        44,
        "the bridge's region",
        code(hurd_device::Client::new(&ipc, other).device_map_region(me(), bar)),
        Err(Error::Code(D_INVALID_OPERATION)),
    )?;
    check(
        45,
        "a region mapped into a task that is not one",
        code(mapper.device_map_region(
            PortItem {
                name: bus,
                disposition: Disposition::CopySend,
            },
            bar,
        )),
        Err(Error::Kern(KernReturn::InvalidTask)),
    )?;
    for (step, name) in [
        (46, "pci/0000:00:1f.7"),
        (47, "disk"),
        (48, "pci/0000:00:04"),
    ] {
        check(
            step,
            "no such device",
            code(open(name)),
            Err(Error::Code(D_NO_SUCH_DEVICE)),
        )?;
    }
    check(
        49,
        "device_open on a device port",
        code(device::Client::new(&ipc, bus).device_open(D_READ, "pci".to_string())),
        Err(Error::Code(D_INVALID_OPERATION)),
    )?;

    // DMA memory: contiguous, aligned, inside the bounds, usable.
    let dma = gnumach::Client::new(&ipc, master);
    let (va, pa) = dma
        .vm_allocate_contiguous(me(), 3 * 4096, 0, 1 << 32, 0)
        .map_err(err(50, "vm_allocate_contiguous"))?;
    if pa % 4096 != 0 || pa + 3 * 4096 > 1 << 32 {
        return Err(fail(51, "DMA memory out of its bounds"));
    }
    // SAFETY: three pages the kernel mapped at `va` for this task.
    let buf = unsafe { core::slice::from_raw_parts_mut(va as *mut u8, 3 * 4096) };
    check(
        52,
        "DMA memory is zeroed",
        buf.iter().all(|&b| b == 0),
        true,
    )?;
    for (i, b) in buf.iter_mut().enumerate() {
        *b = i as u8;
    }
    check(53, "DMA memory holds what was written", buf[4097], 1)?;
    let (_, aligned) = dma
        .vm_allocate_contiguous(me(), 4096, 0, 0, 0x1_0000)
        .map_err(|_| fail(54, "aligned DMA memory"))?;
    check(55, "64 KiB alignment", aligned % 0x1_0000, 0)?;
    let bad = Err(Error::Kern(KernReturn::InvalidArgument));
    for (step, size, align) in [(56, 0, 0), (57, MAX_CONTIGUOUS + 1, 0), (58, 4096, 3)] {
        check(
            step,
            "a bad DMA request",
            code(dma.vm_allocate_contiguous(me(), size, 0, 0, align)),
            bad,
        )?;
    }
    check(
        59,
        "vm_allocate_contiguous on a device port",
        code(gnumach::Client::new(&ipc, bus).vm_allocate_contiguous(me(), 4096, 0, 0, 0)),
        Err(Error::Kern(KernReturn::InvalidHost)),
    )?;

    // The interrupt: only the device's own line, to a send right.
    let notify = ipc
        .port_allocate(RightType::Receive)
        .map_err(|_| fail(60, "a port"))?;
    let send = || PortItem {
        name: notify,
        disposition: Disposition::MakeSend,
    };
    let line = i32::from(blk.irq_line);
    let intr = device::Client::new(&ipc, dev);
    check(
        61,
        "another line",
        intr.device_intr_register(line ^ 1, 0, send()),
        Err(Error::Kern(KernReturn::InvalidArgument)),
    )?;
    check(
        62,
        "flags",
        intr.device_intr_register(line, 1, send()),
        Err(Error::Kern(KernReturn::InvalidArgument)),
    )?;
    check(
        63,
        "its own line",
        intr.device_intr_register(line, 0, send()),
        Ok(()),
    )?;
    check(
        64,
        "an acknowledgement",
        intr.device_intr_ack(send()),
        Ok(()),
    )?;
    check(
        65,
        "device_close",
        device::Client::new(&ipc, dev).device_close(),
        Ok(()),
    )?;
    Ok(())
}

/// The common configuration's region and offset, from the function's
/// capability list.
fn common_cfg(dev: &device::Client<'_, KernelIpc>) -> Option<(u32, u32)> {
    let byte = |at: u32| dev.device_read_inband(0, at, 1).ok()?.first().copied();
    let mut at = u32::from(byte(0x34)? & 0xfc);
    for _ in 0..48 {
        if at < 0x40 {
            return None;
        }
        let cap = dev.device_read_inband(0, at, 16).ok()?;
        if cap.len() == 16 && cap[0] == CAP_VENDOR && cap[3] == COMMON_CFG {
            let offset = u32::from_le_bytes([cap[8], cap[9], cap[10], cap[11]]);
            return Some((u32::from(cap[4]), offset));
        }
        at = u32::from(cap[1] & 0xfc);
    }
    None
}
