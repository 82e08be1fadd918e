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
//! Why `virtio-drivers` (pinned to 0.13.0): it is the maintained no_std
//! virtio implementation (rcore-os), builds on stable Rust for
//! `x86_64-unknown-none`, and its PCI transport takes the configuration
//! space through a trait, so the kernel's device port can stand behind it;
//! its `Hal` trait is all it asks of the system. The pin is because those
//! traits change between minor versions.
//!
//! Its argument: 0 to drive the first virtio block function on the bus.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::ptr::NonNull;

use hurd_abi::device::{
    D_INVALID_OPERATION, D_INVALID_RECNUM, D_INVALID_SIZE, D_IO_ERROR, D_NO_SUCH_DEVICE,
    D_READ_ONLY, DEV_GET_RECORDS, DEV_GET_SIZE, DEVICE_MASTER_PORT_NAME, MAX_INBAND, PCI_FUNCTIONS,
    PCI_REGIONS, PciAddress, PciFunctionRecord, PciRegion, device, gnumach, hurd_device,
};
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Error, OolItem, PortItem, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, println, task};
use spinning_top::Spinlock;
use virtio_drivers::device::blk::{SECTOR_SIZE, VirtIOBlk};
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::{BufferDirection, Hal, PAGE_SIZE, PhysAddr};

hurd_rt::entry!(main);

/// The name clients open.
const DEVICE_NAME: &str = "vd0";
/// The most bytes one request moves.
const MAX_TRANSFER: usize = 64 * 1024;
/// The bounce buffers' DMA memory.
const BOUNCE_SIZE: usize = 2 * MAX_TRANSFER + 2 * PAGE_SIZE;
/// The record size.
const RECORD: usize = SECTOR_SIZE;

/// What the Hal's functions (which take no `self`) reach: the device's
/// ports and regions, the mappings made, the DMA memory.
struct Shared {
    master: PortName,
    device: PortName,
    regions: Vec<PciRegion>,
    /// Where each region is mapped, by index.
    mapped: [Option<u64>; 6],
    /// Freed DMA allocations (address, physical address, pages), reused.
    free: Vec<(u64, u64, usize)>,
    /// The bounce area: address, physical address, bytes handed out, and
    /// how many shares are outstanding.
    bounce: (u64, u64, usize, usize),
}

static SHARED: Spinlock<Option<Shared>> = Spinlock::new(None);

/// A send right to this task's port, as a routine's argument.
fn me() -> PortItem {
    PortItem {
        name: task::task_self(),
        disposition: Disposition::CopySend,
    }
}

/// DMA memory from the kernel.
fn contiguous(master: PortName, bytes: usize) -> Option<(u64, u64)> {
    gnumach::Client::new(&KernelIpc::new(), master)
        .vm_allocate_contiguous(me(), bytes as u64, 0, 0, 0)
        .ok()
}

/// The Hal of `virtio-drivers` over the kernel's device master port.
struct KernelHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned, physically contiguous
// memory the kernel keeps wired for this task and gives nobody else;
// `mmio_phys_to_virt` returns the kernel's uncached mapping of the
// device's own region; `share` gives the device a bounce buffer in DMA
// memory, copied back by `unshare`.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let mut shared = SHARED.lock();
        let Some(s) = shared.as_mut() else {
            panic!("virtio-blk: DMA before the device is set up");
        };
        let reused = s.free.iter().position(|&(_, _, p)| p == pages);
        let (va, pa) = match reused {
            Some(i) => {
                let (va, pa, _) = s.free.swap_remove(i);
                // SAFETY: a freed allocation of `pages` pages of this task's
                // DMA memory, no longer shared with the device.
                unsafe { core::ptr::write_bytes(va as *mut u8, 0, pages * PAGE_SIZE) };
                (va, pa)
            }
            None => match contiguous(s.master, pages * PAGE_SIZE) {
                Some(got) => got,
                None => panic!("virtio-blk: no DMA memory for {pages} pages"),
            },
        };
        match NonNull::new(va as *mut u8) {
            Some(ptr) => (pa as PhysAddr, ptr),
            None => panic!("virtio-blk: DMA memory at 0"),
        }
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        if let Some(s) = SHARED.lock().as_mut() {
            s.free.push((vaddr.as_ptr() as u64, paddr, pages));
        }
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        let mut shared = SHARED.lock();
        let Some(s) = shared.as_mut() else {
            panic!("virtio-blk: registers before the device is set up");
        };
        let Some(region) = s
            .regions
            .iter()
            .find(|r| !r.io && paddr >= r.base && paddr + size as u64 <= r.base + r.size)
            .copied()
        else {
            panic!("virtio-blk: {paddr:#x} is in none of the device's regions");
        };
        let index = usize::from(region.index);
        let base = match s.mapped[index] {
            Some(base) => base,
            None => {
                let mapped = hurd_device::Client::new(&KernelIpc::new(), s.device)
                    .device_map_region(me(), u32::from(region.index));
                match mapped {
                    Ok((base, _)) => {
                        s.mapped[index] = Some(base);
                        base
                    }
                    Err(err) => panic!("virtio-blk: mapping region {index}: {err:?}"),
                }
            }
        };
        match NonNull::new((base + (paddr - region.base)) as *mut u8) {
            Some(ptr) => ptr,
            None => panic!("virtio-blk: a region mapped at 0"),
        }
    }

    // ANCHOR: share
    unsafe fn share(buffer: NonNull<[u8]>, direction: BufferDirection) -> PhysAddr {
        let mut shared = SHARED.lock();
        let Some(s) = shared.as_mut() else {
            panic!("virtio-blk: a transfer before the device is set up");
        };
        let len = buffer.len();
        let (va, pa, used, outstanding) = &mut s.bounce;
        let at = used.next_multiple_of(64);
        if at + len > BOUNCE_SIZE {
            panic!("virtio-blk: a transfer of {len} bytes does not fit the bounce buffers");
        }
        if direction != BufferDirection::DeviceToDriver {
            // SAFETY: `buffer` is valid for reads (the caller's promise);
            // the bounce area is this task's DMA memory, `at + len` inside.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    buffer.as_ptr() as *const u8,
                    (*va as usize + at) as *mut u8,
                    len,
                );
            }
        }
        *used = at + len;
        *outstanding += 1;
        (*pa as usize + at) as PhysAddr
    }
    // ANCHOR_END: share

    unsafe fn unshare(paddr: PhysAddr, buffer: NonNull<[u8]>, direction: BufferDirection) {
        let mut shared = SHARED.lock();
        let Some(s) = shared.as_mut() else { return };
        let (va, pa, used, outstanding) = &mut s.bounce;
        let at = paddr - *pa;
        if direction != BufferDirection::DriverToDevice {
            // SAFETY: the bounce buffer `share` handed out for `buffer`
            // (same length), and `buffer` is valid for writes.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    (*va + at) as *const u8,
                    buffer.as_ptr() as *mut u8,
                    buffer.len(),
                );
            }
        }
        *outstanding = outstanding.saturating_sub(1);
        if *outstanding == 0 {
            *used = 0;
        }
    }
}

/// The function's configuration space through its device port. The base
/// address registers are the kernel's to set: their sizing probe is
/// answered here from the regions it reported, and never reaches it.
struct DeviceConfig {
    port: PortName,
    address: PciAddress,
    regions: Vec<PciRegion>,
    /// Registers written all ones (being sized).
    probing: Cell<[bool; 6]>,
}

impl DeviceConfig {
    fn ours(&self, f: DeviceFunction) -> bool {
        (f.bus, f.device, f.function)
            == (self.address.bus, self.address.device, self.address.function)
    }

    /// What a sized base address register reads back.
    fn size_mask(&self, index: usize) -> u32 {
        for r in &self.regions {
            let i = usize::from(r.index);
            let mask = !(r.size - 1);
            if i == index {
                let flags = if r.io {
                    1
                } else {
                    u32::from(r.wide) << 2 | u32::from(r.prefetchable) << 3
                };
                let kept = if r.io { !3 } else { !0xf };
                return ((mask as u32) & kept) | flags;
            }
            if r.wide && i + 1 == index {
                return (mask >> 32) as u32;
            }
        }
        0
    }
}

impl ConfigurationAccess for DeviceConfig {
    fn read_word(&self, f: DeviceFunction, offset: u8) -> u32 {
        if !self.ours(f) {
            return u32::MAX;
        }
        let bar = usize::from(offset.wrapping_sub(0x10) / 4);
        if (0x10..0x28).contains(&offset) && self.probing.get()[bar] {
            return self.size_mask(bar);
        }
        let bytes = device::Client::new(&KernelIpc::new(), self.port).device_read_inband(
            0,
            u32::from(offset & 0xfc),
            4,
        );
        match bytes.as_deref() {
            Ok([a, b, c, d]) => u32::from_le_bytes([*a, *b, *c, *d]),
            _ => u32::MAX,
        }
    }

    fn write_word(&mut self, f: DeviceFunction, offset: u8, data: u32) {
        if !self.ours(f) {
            return;
        }
        if (0x10..0x28).contains(&offset) {
            let mut probing = self.probing.get();
            probing[usize::from((offset - 0x10) / 4)] = data == u32::MAX;
            self.probing.set(probing);
            return;
        }
        let written = device::Client::new(&KernelIpc::new(), self.port).device_write_inband(
            0,
            u32::from(offset & 0xfc),
            data.to_le_bytes().to_vec(),
        );
        if let Err(err) = written {
            println!("virtio-blk: configuration write at {offset:#x} refused: {err:?}");
        }
    }

    unsafe fn unsafe_clone(&self) -> Self {
        DeviceConfig {
            port: self.port,
            address: self.address,
            regions: self.regions.clone(),
            probing: Cell::new(self.probing.get()),
        }
    }
}

/// The disk being served.
struct Driver {
    blk: RefCell<VirtIOBlk<KernelHal, PciTransport>>,
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
        self.blk
            .borrow_mut()
            .read_blocks(recnum as usize, &mut data)
            .map_err(|_| code(D_IO_ERROR))?;
        Ok(data)
    }
    // ANCHOR_END: read

    fn write(&self, req: &Request, recnum: u32, data: &[u8]) -> Result<i32, Error> {
        let len = self.span(req, recnum, data.len())?;
        let mut blk = self.blk.borrow_mut();
        if blk.readonly() {
            return Err(code(D_READ_ONLY));
        }
        blk.write_blocks(recnum as usize, &data[..len])
            .map_err(|_| code(D_IO_ERROR))?;
        Ok(len as i32)
    }
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
fn start(ipc: &KernelIpc) -> Result<(VirtIOBlk<KernelHal, PciTransport>, u64), String> {
    let master = PortName(DEVICE_MASTER_PORT_NAME);
    let open = |name: &str| {
        device::Client::new(ipc, master)
            .device_open(
                hurd_abi::device::D_READ | hurd_abi::device::D_WRITE,
                name.to_string(),
            )
            .map(|p| p.name)
            .map_err(|e| alloc::format!("device_open {name}: {e:?}"))
    };
    let bus = open("pci")?;
    let words = device::Client::new(ipc, bus)
        .device_get_status(PCI_FUNCTIONS, 4096)
        .map_err(|e| alloc::format!("listing the PCI functions: {e:?}"))?;
    let function = PciFunctionRecord::parse_all(&words)
        .into_iter()
        .find(|f| f.vendor == 0x1af4 && (f.device == 0x1001 || f.device == 0x1042))
        .ok_or("no virtio block device")?;
    let port = open(&function.address.to_string())?;
    let regions = device::Client::new(ipc, port)
        .device_get_status(PCI_REGIONS, 64)
        .map(|w| PciRegion::parse_all(&w))
        .map_err(|e| alloc::format!("its regions: {e:?}"))?;
    // Memory decoding and bus mastering on (the device reaches the DMA
    // memory only then).
    let config = device::Client::new(ipc, port);
    let command = config
        .device_read_inband(0, 4, 2)
        .map_err(|e| alloc::format!("its command register: {e:?}"))?;
    let [low, high] = command[..] else {
        return Err("its command register reads short".to_string());
    };
    let command = u16::from_le_bytes([low, high]) | 0x6;
    config
        .device_write_inband(0, 4, command.to_le_bytes().to_vec())
        .map_err(|e| alloc::format!("enabling the device: {e:?}"))?;
    let (va, pa) = contiguous(master, BOUNCE_SIZE).ok_or("no DMA memory for bounce buffers")?;
    *SHARED.lock() = Some(Shared {
        master,
        device: port,
        regions: regions.clone(),
        mapped: [None; 6],
        free: Vec::new(),
        bounce: (va, pa, 0, 0),
    });
    let config = DeviceConfig {
        port,
        address: function.address,
        regions,
        probing: Cell::new([false; 6]),
    };
    let mut root = PciRoot::new(config);
    let df = DeviceFunction {
        bus: function.address.bus,
        device: function.address.device,
        function: function.address.function,
    };
    let transport = PciTransport::new::<KernelHal, _>(&mut root, df)
        .map_err(|e| alloc::format!("virtio transport: {e:?}"))?;
    let blk = VirtIOBlk::<KernelHal, _>::new(transport)
        .map_err(|e| alloc::format!("virtio-blk: {e:?}"))?;
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
