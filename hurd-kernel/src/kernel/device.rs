//! Devices for drivers in user space: the device master port and the PCI
//! functions it opens (the interfaces are in [`hurd_abi::device`]).
//!
//! The kernel finds the PCI functions at boot and serves them as Mach
//! devices: `device_open` on the master port gives a port per function
//! (or the bus device `"pci"`, which lists them); on a function's port the
//! driver reads and writes its configuration space (never its base
//! address registers), maps its memory regions into a task uncached,
//! and has its interrupt line sent to a port as messages, the line masked
//! until it acknowledges. DMA memory comes from the master port
//! (`vm_allocate_contiguous`). Holding the master port is the privilege:
//! the bootstrap task gets it and hands it to the drivers it starts; no
//! other task can name it.
//!
//! Regions and DMA memory are entered in the task's page tables beside the
//! VM's translations, in a range the VM holds reserved; the DMA frames are
//! the task's until it ends, when they return to the allocator.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use hurd_abi::device::{
    D_INVALID_OPERATION, D_INVALID_RECNUM, D_INVALID_SIZE, D_NO_SUCH_DEVICE, MAX_CONTIGUOUS,
    MAX_INBAND, PCI_FUNCTIONS, PCI_REGIONS, PciAddress, device, gnumach, hurd_device, mach_intr,
};
use hurd_ipc::mig::Request;
use hurd_ipc::{Disposition, Error, Item, KernReturn, PortItem, PortName, PortType};
use hurd_kernel::frames::FRAME_SIZE;
use hurd_kernel::pci::{self, ConfigError, Function};

use crate::arch::pci::CONFIG;
use crate::arch::trap::TrapFrame;
use crate::arch::{mem, timer};
use crate::rpc::Object;
use crate::sched::{self, Reason};
use crate::task::{Kernel, TaskId};

/// The largest region `device_map_region` maps (page tables for it are
/// made at once).
const MAX_REGION: u64 = 256 << 20;
/// The most DMA memory one task may hold.
const MAX_DMA_PER_TASK: u64 = 64 << 20;
/// The command register's bus master enable bit.
pub const BUS_MASTER: u16 = 0x4;
/// The most status words one `device_get_status` returns.
const MAX_STATUS_WORDS: u32 = 4096;

/// What a kernel device port stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeviceKind {
    /// The bus device `"pci"`.
    Bus,
    /// The PCI function at this index of [`Devices::functions`].
    Function(usize),
}

/// A port an interrupt line is sent to.
#[derive(Debug)]
struct IrqHandler {
    /// The line.
    line: u8,
    /// A send right in the kernel's space.
    port: PortName,
    /// Sent and not yet acknowledged.
    pending: bool,
}

/// DMA memory a task holds.
#[derive(Debug)]
struct DmaRegion {
    task: TaskId,
    first: u64,
    frames: u64,
}

/// The kernel's devices.
#[derive(Debug, Default)]
pub struct Devices {
    /// The PCI functions found at boot.
    pub functions: Vec<Function>,
    /// The device master port (a receive right in the kernel's space).
    pub master: PortName,
    /// Device ports (receive rights in the kernel's space).
    ports: BTreeMap<PortName, DeviceKind>,
    /// Each device's port, once made.
    port_of: BTreeMap<DeviceKind, PortName>,
    irqs: Vec<IrqHandler>,
    /// Interrupts taken on each PIC line that a driver registered for
    /// (see [`Devices::interrupt_counts`]).
    interrupts: [u64; 16],
    dma: Vec<DmaRegion>,
    /// Functions whose registers were mapped into a task (its driver),
    /// by index: their bus mastering goes off when that task ends.
    drivers: Vec<(TaskId, usize)>,
}

impl Devices {
    /// The interrupts taken so far on each line a driver registered for,
    /// as (line, count), lines with none left out. A line a device holds
    /// asserted while its driver never clears it (a shared line, a driver
    /// that polls) shows as a count that grows without end: every
    /// acknowledgement unmasks it and it fires again.
    pub fn interrupt_counts(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        (0u8..)
            .zip(self.interrupts.iter().copied())
            .filter(|&(_, n)| n != 0)
    }
}

/// A device error as its reply carries it.
fn d(code: i32) -> Error {
    Error::Code(code)
}

/// Finds the PCI functions and makes the device master port. Called once
/// at boot, after the kernel state exists.
pub fn init() {
    let functions = pci::enumerate(&mut *CONFIG.lock());
    for f in &functions {
        let r = &f.record;
        log::debug!(
            "{} {:04x}:{:04x} class {:08x} irq {} pin {}, {} regions",
            r.address,
            r.vendor,
            r.device,
            r.class,
            r.irq_line,
            r.irq_pin,
            f.regions.len()
        );
    }
    log::info!("{} PCI functions", functions.len());
    crate::task::with_kernel(|k| {
        k.devices.functions = functions;
        match k.make_kernel_port() {
            Ok(port) => k.devices.master = port,
            Err(err) => log::error!("no device master port: {err:?}"),
        }
    });
}

/// An interrupt on PIC line `line` (other than the timer's and COM1's):
/// masked and sent to the ports registered for it, or just acknowledged
/// when none is.
pub fn interrupt(frame: &mut TrapFrame, line: u8) -> *mut TrapFrame {
    let mut guard = crate::task::KERNEL.lock();
    let Some(k) = guard.as_mut() else {
        timer::end_of_interrupt(line);
        return frame;
    };
    if !k.devices.irqs.iter().any(|h| h.line == line) {
        timer::end_of_interrupt(line);
        return frame;
    }
    if let Some(n) = k.devices.interrupts.get_mut(usize::from(line)) {
        *n += 1;
    }
    timer::set_line_masked(line, true);
    timer::end_of_interrupt(line);
    k.notify_interrupt(line);
    k.process_ipc_events();
    sched::schedule(k, frame, Reason::Return)
}

impl Kernel {
    /// The device a kernel port (a name in the kernel's space) stands for.
    pub fn device_object(&self, name: PortName) -> Option<Object> {
        if name.is_valid() && name == self.devices.master {
            return Some(Object::DeviceMaster);
        }
        self.devices
            .ports
            .get(&name)
            .map(|&kind| Object::Device(kind))
    }

    /// Gives `space` a send right to the device master port under `name`.
    pub fn give_device_master(
        &mut self,
        space: hurd_ipc::SpaceId,
        name: PortName,
    ) -> Result<(), KernReturn> {
        let kp = self.kport.ok_or(KernReturn::Failure)?;
        if !self.devices.master.is_valid() {
            return Err(KernReturn::Failure);
        }
        self.ipc.port_insert_right(
            space,
            name,
            kp.space,
            self.devices.master,
            Disposition::MakeSend,
        )
    }

    /// The task a task-port argument names; the right it came in is
    /// released either way.
    fn task_argument(&mut self, port: PortItem) -> Option<TaskId> {
        let task = self
            .task_for_port(port.name)
            .filter(|&t| self.live_task(t).is_some());
        self.release_rights([Item::Port(port)]);
        task
    }

    /// Sends the interrupt on `line` to every port registered for it that
    /// has acknowledged the last one; forgets ports that are gone.
    fn notify_interrupt(&mut self, line: u8) {
        let Some(kp) = self.kport else { return };
        let mut gone = Vec::new();
        for (i, h) in self.devices.irqs.iter_mut().enumerate() {
            if h.line != line || h.pending {
                continue;
            }
            let msg = mach_intr::Call::mach_intr_notify {
                line: i32::from(line),
            }
            .encode(h.port, Disposition::CopySend);
            match self.ipc.send(kp.space, msg, None) {
                Ok(()) => h.pending = true,
                Err(err) => {
                    log::info!("interrupt {line}: its port is gone ({:?})", err.code);
                    gone.push(i);
                }
            }
        }
        for i in gone.into_iter().rev() {
            let h = self.devices.irqs.remove(i);
            let _ = self.ipc.port_deallocate(kp.space, h.port);
        }
    }

    /// Forgets the registrations whose port is gone (their driver ended):
    /// one left waiting for an acknowledgement that cannot come would
    /// keep its line masked for the next driver.
    fn forget_dead_handlers(&mut self) {
        let Some(kp) = self.kport else { return };
        let ipc = &mut self.ipc;
        let mut gone = Vec::new();
        self.devices.irqs.retain(|h| {
            let dead = ipc
                .port_type(kp.space, h.port)
                .map_or(true, |t| t.contains(PortType::DEAD_NAME));
            if dead {
                gone.push(h.port);
            }
            !dead
        });
        for port in gone {
            let _ = self.ipc.port_deallocate(kp.space, port);
        }
    }

    /// Unmasks `line` if every port registered for it has acknowledged
    /// (a line with no port left stays masked: nobody would quiet it).
    fn maybe_unmask(&self, line: u8) {
        let mut handlers = self.devices.irqs.iter().filter(|h| h.line == line);
        if handlers.clone().next().is_some() && handlers.all(|h| !h.pending) {
            timer::set_line_masked(line, false);
        }
    }

    /// What a task held of the devices, released as it ends: the devices
    /// it drove stop reaching memory (bus mastering off: a device left
    /// running would go on writing into frames given to others), then its
    /// DMA memory is freed (its page tables are gone by now). The next
    /// driver turns bus mastering on again.
    pub fn release_devices(&mut self, task: TaskId) {
        let functions = &self.devices.functions;
        self.devices.drivers.retain(|&(t, i)| {
            if t != task {
                return true;
            }
            if let Some(f) = functions.get(i) {
                let mut config = CONFIG.lock();
                let command = pci::read_bytes(&mut *config, f.record.address, 4, 2);
                if let [low, high] = command[..] {
                    let command = u16::from_le_bytes([low, high]) & !BUS_MASTER;
                    pci::write_bytes(&mut *config, f.record.address, 4, &command.to_le_bytes());
                }
            }
            false
        });
        self.devices.dma.retain(|r| {
            if r.task != task {
                return true;
            }
            for i in 0..r.frames {
                mem::free_frame(r.first + i * FRAME_SIZE);
            }
            false
        });
    }

    /// The port of device `kind`, made on first use.
    fn device_port(&mut self, kind: DeviceKind) -> Result<PortName, Error> {
        if let Some(&port) = self.devices.port_of.get(&kind) {
            return Ok(port);
        }
        let port = self.make_kernel_port().map_err(Error::Kern)?;
        self.devices.ports.insert(port, kind);
        self.devices.port_of.insert(kind, port);
        Ok(port)
    }

    /// The PCI function a device object is.
    fn function_of(&self, object: Object) -> Result<(usize, PciAddress), Error> {
        match object {
            Object::Device(DeviceKind::Function(i)) => self
                .devices
                .functions
                .get(i)
                .map(|f| (i, f.record.address))
                .ok_or(d(D_NO_SUCH_DEVICE)),
            _ => Err(d(D_INVALID_OPERATION)),
        }
    }

    /// A routine of `device.defs` on the master or a device port.
    pub fn device_call(&mut self, object: Object, call: device::Call, req: &Request) {
        use device::{Call, Reply};
        let reply = match call {
            Call::device_open { mode: _, name } => match self.device_open(object, &name) {
                Ok(port) => Reply::device_open(Ok(PortItem {
                    name: port,
                    disposition: Disposition::MakeSend,
                })),
                Err(err) => Reply::device_open(Err(err)),
            },
            Call::device_close {} => Reply::device_close(match object {
                Object::Device(_) => Ok(()),
                _ => Err(d(D_INVALID_OPERATION)),
            }),
            Call::device_write { .. } => Reply::device_write(Err(d(D_INVALID_OPERATION))),
            Call::device_read { .. } => Reply::device_read(Err(d(D_INVALID_OPERATION))),
            Call::device_write_inband {
                mode: _,
                recnum,
                data,
            } => Reply::device_write_inband(self.config_write(object, recnum, &data)),
            Call::device_read_inband {
                mode: _,
                recnum,
                bytes_wanted,
            } => Reply::device_read_inband(self.config_read(object, recnum, bytes_wanted)),
            Call::device_set_status { .. } => Reply::device_set_status(Err(d(D_INVALID_OPERATION))),
            Call::device_get_status {
                flavor,
                status_count,
            } => Reply::device_get_status(self.device_status(object, flavor, status_count)),
            Call::device_set_filter { receive_port, .. } => {
                // The kernel's devices are no network devices.
                self.release_rights([Item::Port(receive_port)]);
                Reply::device_set_filter(Err(d(D_INVALID_OPERATION)))
            }
            Call::device_intr_register {
                id,
                flags,
                receive_port,
            } => Reply::device_intr_register(self.intr_register(object, id, flags, receive_port)),
            Call::device_intr_ack { receive_port } => {
                Reply::device_intr_ack(self.intr_ack(object, receive_port))
            }
        };
        self.answer(req, Ok(reply.encode(req)));
    }

    /// `device_open`: the bus or a function, by name, from the master port.
    fn device_open(&mut self, object: Object, name: &str) -> Result<PortName, Error> {
        if object != Object::DeviceMaster {
            return Err(d(D_INVALID_OPERATION));
        }
        let kind = if name == "pci" {
            DeviceKind::Bus
        } else {
            let addr: PciAddress = name.parse().map_err(|_| d(D_NO_SUCH_DEVICE))?;
            let index = self
                .devices
                .functions
                .iter()
                .position(|f| f.record.address == addr)
                .ok_or(d(D_NO_SUCH_DEVICE))?;
            DeviceKind::Function(index)
        };
        self.device_port(kind)
    }

    /// `device_read_inband` on a function: its configuration bytes.
    fn config_read(&mut self, object: Object, recnum: u32, wanted: i32) -> Result<Vec<u8>, Error> {
        let (_, addr) = self.function_of(object)?;
        let len = u32::try_from(wanted).map_err(|_| d(D_INVALID_SIZE))?;
        if len as usize > MAX_INBAND {
            return Err(d(D_INVALID_SIZE));
        }
        pci::check_read(recnum, len).map_err(|_| d(D_INVALID_RECNUM))?;
        Ok(pci::read_bytes(&mut *CONFIG.lock(), addr, recnum, len))
    }

    /// `device_write_inband` on a function: 1, 2 or 4 configuration bytes.
    fn config_write(&mut self, object: Object, recnum: u32, data: &[u8]) -> Result<i32, Error> {
        let (_, addr) = self.function_of(object)?;
        let len = u32::try_from(data.len()).map_err(|_| d(D_INVALID_SIZE))?;
        pci::check_write(recnum, len).map_err(|err| {
            d(match err {
                ConfigError::OutOfRange => D_INVALID_RECNUM,
                ConfigError::BadSize => D_INVALID_SIZE,
                ConfigError::Protected => D_INVALID_OPERATION,
            })
        })?;
        pci::write_bytes(&mut *CONFIG.lock(), addr, recnum, data);
        Ok(len as i32)
    }

    /// `device_get_status`: the bus's functions or a function's regions,
    /// whole records within `count` words.
    fn device_status(
        &mut self,
        object: Object,
        flavor: u32,
        count: u32,
    ) -> Result<Vec<u32>, Error> {
        let count = count.min(MAX_STATUS_WORDS) as usize;
        let words: Vec<u32> = match (object, flavor) {
            (Object::Device(DeviceKind::Bus), PCI_FUNCTIONS) => self
                .devices
                .functions
                .iter()
                .flat_map(|f| f.record.to_words())
                .take(count - count % hurd_abi::device::PciFunctionRecord::WORDS)
                .collect(),
            (Object::Device(DeviceKind::Function(_)), PCI_REGIONS) => {
                let (i, _) = self.function_of(object)?;
                self.devices.functions[i]
                    .regions
                    .iter()
                    .flat_map(|r| r.to_words())
                    .take(count - count % hurd_abi::device::PciRegion::WORDS)
                    .collect()
            }
            _ => return Err(d(D_INVALID_OPERATION)),
        };
        Ok(words)
    }

    /// `device_intr_register` on a function: its own line only.
    fn intr_register(
        &mut self,
        object: Object,
        id: i32,
        flags: i32,
        port: PortItem,
    ) -> Result<(), Error> {
        let checked = self.function_of(object).and_then(|(i, _)| {
            let record = &self.devices.functions[i].record;
            let line = record.irq_line;
            if record.irq_pin == 0 || line >= 16 || i32::from(line) != id || flags != 0 {
                return Err(Error::Kern(KernReturn::InvalidArgument));
            }
            if u64::from(line) == timer::IRQ || u64::from(line) == crate::arch::serial::IRQ {
                return Err(Error::Kern(KernReturn::InvalidArgument));
            }
            if !port.name.is_valid() || !matches!(port.disposition, Disposition::MoveSend) {
                return Err(Error::Kern(KernReturn::InvalidCapability));
            }
            Ok(line)
        });
        let line = match checked {
            Ok(line) => line,
            Err(err) => {
                self.release_rights([Item::Port(port)]);
                return Err(err);
            }
        };
        self.forget_dead_handlers();
        if self
            .devices
            .irqs
            .iter()
            .any(|h| h.line == line && h.port == port.name)
        {
            // Registered already: the new reference goes.
            self.release_rights([Item::Port(port)]);
        } else {
            self.devices.irqs.push(IrqHandler {
                line,
                port: port.name,
                pending: false,
            });
        }
        self.maybe_unmask(line);
        Ok(())
    }

    /// `device_intr_ack`: the port's notification is handled.
    fn intr_ack(&mut self, object: Object, port: PortItem) -> Result<(), Error> {
        let name = port.name;
        self.release_rights([Item::Port(port)]);
        let (i, _) = self.function_of(object)?;
        let line = self.devices.functions[i].record.irq_line;
        let handler = self
            .devices
            .irqs
            .iter_mut()
            .find(|h| h.line == line && h.port == name)
            .ok_or(Error::Kern(KernReturn::InvalidArgument))?;
        handler.pending = false;
        self.maybe_unmask(line);
        Ok(())
    }

    /// A routine of `gnumach.defs`: `vm_allocate_contiguous` on the master.
    pub fn gnumach_call(&mut self, object: Object, call: gnumach::Call, req: &Request) {
        use gnumach::{Call, Reply};
        let reply = match call {
            Call::vm_allocate_contiguous {
                target_task,
                size,
                pmin,
                pmax,
                palign,
            } => {
                let task = self.task_argument(target_task);
                Reply::vm_allocate_contiguous(if object != Object::DeviceMaster {
                    Err(Error::Kern(KernReturn::InvalidHost))
                } else {
                    match task {
                        Some(task) => self.allocate_contiguous(task, size, (pmin, pmax), palign),
                        None => Err(Error::Kern(KernReturn::InvalidTask)),
                    }
                })
            }
        };
        self.answer(req, Ok(reply.encode(req)));
    }

    /// Contiguous zeroed frames mapped into `task`.
    fn allocate_contiguous(
        &mut self,
        task: TaskId,
        size: u64,
        (pmin, pmax): (u64, u64),
        palign: u64,
    ) -> Result<(u64, u64), Error> {
        if size == 0 || size > MAX_CONTIGUOUS || (palign != 0 && !palign.is_power_of_two()) {
            return Err(Error::Kern(KernReturn::InvalidArgument));
        }
        let frames = size.div_ceil(FRAME_SIZE);
        let held: u64 = self
            .devices
            .dma
            .iter()
            .filter(|r| r.task == task)
            .map(|r| r.frames)
            .sum();
        if (held + frames) * FRAME_SIZE > MAX_DMA_PER_TASK {
            return Err(Error::Kern(KernReturn::ResourceShortage));
        }
        let pmax = if pmax == 0 { u64::MAX } else { pmax };
        let first = mem::alloc_contiguous(frames, palign, pmin, pmax)
            .ok_or(Error::Kern(KernReturn::ResourceShortage))?;
        match self.map_physical(task, first, frames, true) {
            Ok(vaddr) => {
                self.devices.dma.push(DmaRegion {
                    task,
                    first,
                    frames,
                });
                Ok((vaddr, first))
            }
            Err(err) => {
                for i in 0..frames {
                    mem::free_frame(first + i * FRAME_SIZE);
                }
                Err(err)
            }
        }
    }

    /// Reserves room for `pages` pages in `task`'s map and enters the
    /// physical pages from `phys` there; the address.
    fn map_physical(
        &mut self,
        task: TaskId,
        phys: u64,
        pages: u64,
        cached: bool,
    ) -> Result<u64, Error> {
        let map = self
            .live_task(task)
            .map(|t| t.map)
            .ok_or(Error::Kern(KernReturn::InvalidTask))?;
        let size = pages * FRAME_SIZE;
        let vaddr = self
            .vm
            .allocate(map, hurd_abi::USER_BASE, size, true)
            .map_err(|e| Error::Kern(e.kern_return()))?;
        for i in 0..pages {
            let at = i * FRAME_SIZE;
            let entered = self
                .vm
                .mmu()
                .map_physical(map.pmap(), vaddr + at, phys + at, cached);
            if let Err(err) = entered {
                // The pages entered so far go too: the VM does not know of
                // them, and the caller may free their frames.
                for j in 0..i {
                    self.vm
                        .mmu()
                        .unmap_physical(map.pmap(), vaddr + j * FRAME_SIZE);
                }
                let _ = self.vm.deallocate(map, vaddr, size);
                return Err(Error::Kern(err.kern_return()));
            }
        }
        Ok(vaddr)
    }

    /// A routine of hurd-rs's device interface: `device_map_region`.
    pub fn hurd_device_call(&mut self, object: Object, call: hurd_device::Call, req: &Request) {
        use hurd_device::{Call, Reply};
        let reply = match call {
            Call::device_map_region {
                target_task,
                region,
            } => {
                let task = self.task_argument(target_task);
                Reply::device_map_region(self.map_region(object, task, region))
            }
        };
        self.answer(req, Ok(reply.encode(req)));
    }

    /// One memory region of a function, mapped uncached into `task`.
    fn map_region(
        &mut self,
        object: Object,
        task: Option<TaskId>,
        region: u32,
    ) -> Result<(u64, u64), Error> {
        let (i, _) = self.function_of(object)?;
        let task = task.ok_or(Error::Kern(KernReturn::InvalidTask))?;
        let r = *self.devices.functions[i]
            .region(region)
            .ok_or(d(D_INVALID_OPERATION))?;
        if r.io || r.size < FRAME_SIZE || r.size > MAX_REGION || !r.base.is_multiple_of(FRAME_SIZE)
        {
            return Err(d(D_INVALID_OPERATION));
        }
        let pages = r.size / FRAME_SIZE;
        let vaddr = self.map_physical(task, r.base, pages, false)?;
        if !self.devices.drivers.contains(&(task, i)) {
            self.devices.drivers.push((task, i));
        }
        Ok((vaddr, r.size))
    }
}
