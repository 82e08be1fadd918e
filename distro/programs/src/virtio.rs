//! What the distro's virtio drivers (`virtio-blk`, `virtio-net`) share: the
//! `virtio-drivers` crate's [`Hal`] and PCI configuration access over the
//! kernel's device master port (see `hurd_abi::device`).
//!
//! - DMA memory comes from `vm_allocate_contiguous` (freed allocations are
//!   reused, zeroed);
//! - registers are mapped uncached with `device_map_region` on demand;
//! - a buffer handed to the device that lies in DMA memory is given to it
//!   as it is (a network driver keeps its frames there); any other buffer
//!   goes through a bounce area in DMA memory, copied in by `share` and
//!   back by `unshare` (the driver cannot know where its heap lies);
//! - the configuration space is read and written through the function's
//!   device port; the base address registers are the kernel's to set, so
//!   `virtio-drivers`' sizing probe is answered from the regions the
//!   kernel reported.
//!
//! One device per task: the [`Hal`]'s functions take no `self`, so what
//! they reach is this module's state, set up by [`open`].
//!
//! Why `virtio-drivers` (pinned to 0.13.0): it is the maintained no_std
//! virtio implementation (rcore-os), builds on stable Rust for
//! `x86_64-unknown-none`, and its PCI transport takes the configuration
//! space through a trait, so the kernel's device port can stand behind it;
//! its `Hal` trait is all it asks of the system. The pin is because those
//! traits change between minor versions.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::Cell;
use core::ptr::NonNull;

use hurd_abi::device::{
    D_READ, D_WRITE, DEVICE_MASTER_PORT_NAME, PCI_FUNCTIONS, PCI_REGIONS, PciAddress,
    PciFunctionRecord, PciRegion, device, gnumach, hurd_device,
};
use hurd_ipc::{Disposition, PortItem, PortName};
use hurd_rt::{KernelIpc, println, task};
use spinning_top::Spinlock;
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{BufferDirection, Hal, PAGE_SIZE, PhysAddr};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// What the Hal's functions reach: the device's ports and regions, the
/// mappings made, the DMA memory.
struct Shared {
    master: PortName,
    device: PortName,
    regions: Vec<PciRegion>,
    /// Where each region is mapped, by index.
    mapped: [Option<u64>; 6],
    /// Every DMA allocation (address, physical address, bytes): a buffer
    /// inside one is shared as it is.
    dma: Vec<(u64, u64, usize)>,
    /// Freed DMA allocations (address, physical address, pages), reused.
    free: Vec<(u64, u64, usize)>,
    /// The bounce area: address, physical address, size, bytes handed out,
    /// and how many shares are outstanding.
    bounce: (u64, u64, usize, usize, usize),
}

static SHARED: Spinlock<Option<Shared>> = Spinlock::new(None);

/// A send right to this task's port, as a routine's argument.
fn me() -> PortItem {
    PortItem {
        name: task::task_self(),
        disposition: Disposition::CopySend,
    }
}

/// DMA memory from the kernel: (address, physical address).
fn contiguous(master: PortName, bytes: usize) -> Option<(u64, u64)> {
    gnumach::Client::new(&KernelIpc::new(), master)
        .vm_allocate_contiguous(me(), bytes as u64, 0, 0, 0)
        .ok()
}

/// DMA memory for the driver's own use (frames a device reads or writes
/// in place): `bytes` rounded up to pages, zeroed; `None` when the kernel
/// has none left for this task.
pub fn dma_buffer(bytes: usize) -> Option<&'static mut [u8]> {
    let bytes = bytes.next_multiple_of(PAGE_SIZE);
    let mut shared = SHARED.lock();
    let s = shared.as_mut()?;
    let (va, pa) = contiguous(s.master, bytes)?;
    s.dma.push((va, pa, bytes));
    // SAFETY: `bytes` bytes of zeroed memory the kernel mapped for this
    // task alone at `va`, never freed while the task lives, and handed out
    // here once.
    Some(unsafe { core::slice::from_raw_parts_mut(va as *mut u8, bytes) })
}

/// The Hal of `virtio-drivers` over the kernel's device master port.
pub struct KernelHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned, physically contiguous
// memory the kernel keeps wired for this task and gives nobody else;
// `mmio_phys_to_virt` returns the kernel's uncached mapping of the
// device's own region; `share` gives the device the buffer's own physical
// address when it lies in such memory, else a bounce buffer in it, copied
// back by `unshare`.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let mut shared = SHARED.lock();
        let Some(s) = shared.as_mut() else {
            panic!("virtio: DMA before the device is set up");
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
                Some(got) => {
                    s.dma.push((got.0, got.1, pages * PAGE_SIZE));
                    got
                }
                None => panic!("virtio: no DMA memory for {pages} pages"),
            },
        };
        match NonNull::new(va as *mut u8) {
            Some(ptr) => (pa as PhysAddr, ptr),
            None => panic!("virtio: DMA memory at 0"),
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
            panic!("virtio: registers before the device is set up");
        };
        let Some(region) = s
            .regions
            .iter()
            .find(|r| !r.io && paddr >= r.base && paddr + size as u64 <= r.base + r.size)
            .copied()
        else {
            panic!("virtio: {paddr:#x} is in none of the device's regions");
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
                    Err(err) => panic!("virtio: mapping region {index}: {err:?}"),
                }
            }
        };
        match NonNull::new((base + (paddr - region.base)) as *mut u8) {
            Some(ptr) => ptr,
            None => panic!("virtio: a region mapped at 0"),
        }
    }

    // ANCHOR: share
    unsafe fn share(buffer: NonNull<[u8]>, direction: BufferDirection) -> PhysAddr {
        let mut shared = SHARED.lock();
        let Some(s) = shared.as_mut() else {
            panic!("virtio: a transfer before the device is set up");
        };
        let len = buffer.len();
        let start = buffer.as_ptr() as *const u8 as u64;
        // A buffer in DMA memory goes to the device as it is.
        if let Some(&(va, pa, _)) = s
            .dma
            .iter()
            .find(|&&(va, _, size)| start >= va && start + len as u64 <= va + size as u64)
        {
            return (pa + (start - va)) as PhysAddr;
        }
        let (va, pa, size, used, outstanding) = &mut s.bounce;
        let at = used.next_multiple_of(64);
        if at + len > *size {
            panic!("virtio: a transfer of {len} bytes does not fit the bounce buffers");
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
        let (va, pa, size, used, outstanding) = &mut s.bounce;
        if paddr < *pa || paddr >= *pa + *size as u64 {
            // Shared as it was, from DMA memory: nothing to copy.
            return;
        }
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
pub struct DeviceConfig {
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
            println!("virtio: configuration write at {offset:#x} refused: {err:?}");
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

/// A virtio function opened for its driver.
pub struct Opened {
    /// Its transport, for `virtio-drivers`' device types.
    pub transport: PciTransport,
    /// The function as the kernel lists it (its interrupt line, say).
    pub function: PciFunctionRecord,
    /// Its device port from the kernel (configuration space, interrupt
    /// registration).
    pub port: PortName,
}

/// Opens the first PCI function `wanted` accepts on the kernel's device
/// master port (`DEVICE_MASTER_PORT_NAME`), turns on its memory decoding
/// and bus mastering, sets this task's [`KernelHal`] up for it with a
/// bounce area of `bounce` bytes, and makes its virtio transport.
///
/// # Errors
///
/// What failed, as text for the driver's console line.
pub fn open(
    ipc: &KernelIpc,
    wanted: impl Fn(&PciFunctionRecord) -> bool,
    bounce: usize,
) -> Result<Opened, String> {
    let master = PortName(DEVICE_MASTER_PORT_NAME);
    let open = |name: &str| {
        device::Client::new(ipc, master)
            .device_open(D_READ | D_WRITE, name.to_string())
            .map(|p| p.name)
            .map_err(|e| alloc::format!("device_open {name}: {e:?}"))
    };
    let bus = open("pci")?;
    let words = device::Client::new(ipc, bus)
        .device_get_status(PCI_FUNCTIONS, 4096)
        .map_err(|e| alloc::format!("listing the PCI functions: {e:?}"))?;
    let function = PciFunctionRecord::parse_all(&words)
        .into_iter()
        .find(|f| wanted(f))
        .ok_or("no such device on the bus")?;
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
    let (va, pa) = contiguous(master, bounce).ok_or("no DMA memory for bounce buffers")?;
    *SHARED.lock() = Some(Shared {
        master,
        device: port,
        regions: regions.clone(),
        mapped: [None; 6],
        dma: Vec::new(),
        free: Vec::new(),
        bounce: (va, pa, bounce, 0, 0),
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
    Ok(Opened {
        transport,
        function,
        port,
    })
}

/// `VIRTIO_F_RING_EVENT_IDX` (bit 29): the driver says, in the rings, at
/// which entries it wants to be notified or interrupted.
const RING_EVENT_IDX: u64 = 1 << 29;

/// A transport whose device never offers `VIRTIO_F_RING_EVENT_IDX`: for a
/// driver that polls its completions. With event indexes,
/// `virtio-drivers` asks for an interrupt at each completion and
/// `disable_interrupts` does nothing; without them it sets the ring's
/// no-interrupt flag, which QEMU honours. On a shared PCI line every
/// completion's interrupt would wake the other drivers there for nothing
/// (a boot whose root is on the disk: 1,248 interrupts a second on the
/// network card's line, against a few dozen).
#[derive(Debug)]
pub struct Polled<T>(pub T);

impl<T: Transport> Transport for Polled<T> {
    fn device_type(&self) -> DeviceType {
        self.0.device_type()
    }
    fn read_device_features(&mut self) -> u64 {
        self.0.read_device_features() & !RING_EVENT_IDX
    }
    fn write_driver_features(&mut self, driver_features: u64) {
        self.0.write_driver_features(driver_features);
    }
    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.0.max_queue_size(queue)
    }
    fn notify(&mut self, queue: u16) {
        self.0.notify(queue);
    }
    fn get_status(&self) -> DeviceStatus {
        self.0.get_status()
    }
    fn set_status(&mut self, status: DeviceStatus) {
        self.0.set_status(status);
    }
    fn set_guest_page_size(&mut self, guest_page_size: u32) {
        self.0.set_guest_page_size(guest_page_size);
    }
    fn requires_legacy_layout(&self) -> bool {
        self.0.requires_legacy_layout()
    }
    fn queue_set(
        &mut self,
        queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver_area: PhysAddr,
        device_area: PhysAddr,
    ) {
        self.0
            .queue_set(queue, size, descriptors, driver_area, device_area);
    }
    fn queue_unset(&mut self, queue: u16) {
        self.0.queue_unset(queue);
    }
    fn queue_used(&mut self, queue: u16) -> bool {
        self.0.queue_used(queue)
    }
    fn ack_interrupt(&mut self) -> InterruptStatus {
        self.0.ack_interrupt()
    }
    fn read_config_generation(&self) -> u32 {
        self.0.read_config_generation()
    }
    fn read_config_space<C: FromBytes + IntoBytes>(
        &self,
        offset: usize,
    ) -> virtio_drivers::Result<C> {
        self.0.read_config_space(offset)
    }
    fn write_config_space<C: IntoBytes + Immutable>(
        &mut self,
        offset: usize,
        value: C,
    ) -> virtio_drivers::Result<()> {
        self.0.write_config_space(offset, value)
    }
}
