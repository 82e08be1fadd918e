//! Devices: the Mach device interface (`device.defs`, subsystem 2800)
//! between a device's server and its clients, and what the kernel gives
//! the drivers it trusts (the device master port).
//!
//! On hurd-rs, as on the Hurd with rumpdisk, drivers are tasks. The kernel
//! serves the PCI bus itself, through the same interface: the holder of
//! the **device master port** (a send right the bootstrap task is given
//! under [`DEVICE_MASTER_PORT_NAME`], and may hand on) opens a PCI function
//! by its name with `device_open`, and from the device port it gets:
//!
//! - the function's configuration space, as the device's records (one byte
//!   each): `device_read_inband` at a byte offset, and `device_write_inband`
//!   of 1, 2 or 4 aligned bytes — except the base address registers and
//!   the expansion ROM address, which only the firmware sets (refused with
//!   [`D_INVALID_OPERATION`]);
//! - its regions (base address registers), listed by `device_get_status`
//!   of flavor [`PCI_REGIONS`], one mapped into a task, uncached, with
//!   [`hurd_device::Call::device_map_region`] — only regions of this
//!   function, so a driver cannot reach another device's registers;
//! - its interrupt, delivered as a [`mach_intr::Call::mach_intr_notify`]
//!   message to a port given with `device_intr_register`; the line stays
//!   masked until `device_intr_ack` (GNU Mach's protocol).
//!
//! Memory a device can reach by DMA comes from the master port with
//! [`gnumach::Call::vm_allocate_contiguous`] (GNU Mach's routine, the
//! device master standing for `host_priv`): physically contiguous, wired,
//! with its physical address, freed when the task ends.
//!
//! The bus device `"pci"` lists the functions (`device_get_status` of
//! flavor [`PCI_FUNCTIONS`]); a function is named as on Linux,
//! `pci/DDDD:BB:DD.F` ([`PciAddress`]).
//!
//! A disk driver serves the same interface to its clients with records of
//! 512 bytes ([`DEV_GET_SIZE`], [`DEV_GET_RECORDS`]) and Mach's `D_*`
//! error codes.
//!
//! ```
//! use hurd_abi::device::{self, PciAddress};
//!
//! assert_eq!(device::device::id::device_open, 2800);
//! assert_eq!(device::device::id::device_get_status, 2811);
//! assert_eq!(device::gnumach::id::vm_allocate_contiguous, 4210);
//! let addr: PciAddress = "pci/0000:00:04.0".parse().unwrap();
//! assert_eq!((addr.bus, addr.device, addr.function), (0, 4, 0));
//! assert_eq!(addr.to_string(), "pci/0000:00:04.0");
//! ```

use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use hurd_ipc::{OolItem, PortItem};

hurd_ipc::interface! {
    /// GNU Mach's `device.defs` (subsystem 2800): a device port's routines.
    /// `device_open` goes to a master port (the kernel's device master, or
    /// a driver's own), the rest to the device port it returned.
    pub mod device: subsystem 2800 {
        /// `device_open(master_port, mode, name) → device`: `mode` is
        /// [`D_READ`] | [`D_WRITE`]; [`D_NO_SUCH_DEVICE`] for a name the
        /// master does not know.
        routine device_open(mode: u32, name: alloc::string::String) -> (device: PortItem);
        /// `device_close(device)`.
        routine device_close();
        /// `device_write(device, mode, recnum, data) → bytes_written`: the
        /// data out of line, starting at record `recnum`.
        routine device_write(mode: u32, recnum: u32, data: OolItem) -> (bytes_written: i32);
        /// `device_write_inband(device, mode, recnum, data) →
        /// bytes_written`: the data in the message.
        routine device_write_inband(mode: u32, recnum: u32, data: Vec<u8>) -> (bytes_written: i32);
        /// `device_read(device, mode, recnum, bytes_wanted) → data`: out of
        /// line.
        routine device_read(mode: u32, recnum: u32, bytes_wanted: i32) -> (data: OolItem);
        /// `device_read_inband(device, mode, recnum, bytes_wanted) →
        /// data`: in the message (at most [`MAX_INBAND`] bytes).
        routine device_read_inband(mode: u32, recnum: u32, bytes_wanted: i32) -> (data: Vec<u8>);
        skip xxx_device_set_status();
        skip xxx_device_get_status();
        skip xxx_device_set_filter();
        skip device_map();
        /// `device_set_status(device, flavor, status)`.
        routine device_set_status(flavor: u32, status: Vec<u32>);
        /// `device_get_status(device, flavor, status_count) → status`: at
        /// most `status_count` words (MIG's `CountInOut`).
        routine device_get_status(flavor: u32, status_count: u32) -> (status: Vec<u32>);
        /// `device_set_filter(device, receive_port, priority, filter)`: a
        /// network device sends the frames `filter` accepts to
        /// `receive_port` (a send right, which the device keeps) as
        /// [`net_rcv::Call::net_rcv_msg`] messages. The filter is a packet
        /// filter program in Mach's `filter_t` words (see
        /// [`net`](crate::net)); a second filter for the same port
        /// replaces the first.
        routine device_set_filter(receive_port: PortItem, priority: i32, filter: Vec<u16>);
        /// `device_intr_register(device, id, flags, receive_port)`: the
        /// device's interrupt (line `id`, which must be the device's own)
        /// is sent to `receive_port` (a send right) as
        /// [`mach_intr::Call::mach_intr_notify`]; `flags` must be 0.
        routine device_intr_register(id: i32, flags: i32, receive_port: PortItem);
        /// `device_intr_ack(device, receive_port)`: the notification sent
        /// to `receive_port` is handled; the line is unmasked once every
        /// port registered on it has acknowledged.
        routine device_intr_ack(receive_port: PortItem);
    }
}

hurd_ipc::interface! {
    /// GNU Mach's `gnumach.defs` (subsystem 4200), as far as drivers need
    /// it: sent to the device master port, which stands for `host_priv`.
    pub mod gnumach: subsystem 4200 {
        skip vm_cache_statistics();
        skip thread_terminate_release();
        skip task_set_name();
        skip register_new_task_notification();
        skip gsync_wait();
        skip gsync_wake();
        skip gsync_requeue();
        skip vm_wire_all();
        skip vm_object_sync();
        skip vm_msync();
        /// `vm_allocate_contiguous(host_priv, target_task, size, pmin,
        /// pmax, palign) → vaddr, paddr`: `size` bytes (whole pages, at
        /// most [`MAX_CONTIGUOUS`]) of zeroed, wired, physically contiguous
        /// memory in the target task (a send right to its task port), in
        /// physical memory `[pmin, pmax)` (`pmax` 0: anywhere) aligned to
        /// `palign` (0 or a power of two); the task gets it at `vaddr`, a
        /// device reaches it at `paddr`. It is freed when the task ends.
        routine vm_allocate_contiguous(target_task: PortItem, size: u64, pmin: u64, pmax: u64, palign: u64) -> (vaddr: u64, paddr: u64);
    }
}

hurd_ipc::interface! {
    /// hurd-rs's own routine on a kernel device port (subsystem 4100):
    /// GNU Mach maps device memory by `device_map` and `vm_map` of the
    /// memory object it returns; hurd-rs maps a region directly.
    pub mod hurd_device: subsystem 4100 {
        /// `device_map_region(device, target_task, region) → address,
        /// size`: the memory region `region` (a base address register
        /// index, 0–5) of the device, mapped uncached, readable and
        /// writable, into the target task (a send right to its task port)
        /// wherever there is room, whole pages. An I/O-port region, a
        /// region the device does not have, or one smaller than a page is
        /// refused ([`D_INVALID_OPERATION`]). The mapping stays until the
        /// task ends.
        routine device_map_region(target_task: PortItem, region: u32) -> (address: u64, size: u64);
    }
}

hurd_ipc::interface! {
    /// The interrupt notification (GNU Mach's `mach_intr_notification_t`,
    /// id `MACH_INTR_NOTIFY` = 424242), sent by the kernel.
    pub mod mach_intr: subsystem 424242 {
        /// Interrupt line `line` fired; answer with `device_intr_ack`.
        simpleroutine mach_intr_notify(line: i32);
    }
}

hurd_ipc::interface! {
    /// A frame from a network device (GNU Mach's `struct net_rcv_msg`, id
    /// `NET_RCV_MSG_ID` = 2999, in `device.defs`' reply range), sent by the
    /// device to each port whose filter accepted it.
    pub mod net_rcv: subsystem 2999 {
        /// `header` is the frame's link header (14 bytes for Ethernet);
        /// `packet` starts with Mach's `struct packet_header` (the length of
        /// `packet`, host order, then the Ethernet type, network order),
        /// followed by the frame's data after the link header.
        simpleroutine net_rcv_msg(header: Vec<u8>, packet: Vec<u8>);
    }
}

/// The name under which the bootstrap task finds its send right to the
/// kernel's device master port.
pub const DEVICE_MASTER_PORT_NAME: u32 = 0x11;

/// `D_READ`: open for reading.
pub const D_READ: u32 = 0x1;
/// `D_WRITE`: open for writing.
pub const D_WRITE: u32 = 0x2;
/// `D_NODELAY`: do not wait (for a reply).
pub const D_NODELAY: u32 = 0x4;

/// `D_IO_ERROR`: the device failed the transfer.
pub const D_IO_ERROR: i32 = 2500;
/// `D_WOULD_BLOCK`: the operation would block.
pub const D_WOULD_BLOCK: i32 = 2501;
/// `D_NO_SUCH_DEVICE`: no device of that name.
pub const D_NO_SUCH_DEVICE: i32 = 2502;
/// `D_ALREADY_OPEN`: the device is open exclusively.
pub const D_ALREADY_OPEN: i32 = 2503;
/// `D_DEVICE_DOWN`: the device (or its driver) is gone.
pub const D_DEVICE_DOWN: i32 = 2504;
/// `D_INVALID_OPERATION`: the device does not do that.
pub const D_INVALID_OPERATION: i32 = 2505;
/// `D_INVALID_RECNUM`: the record number is beyond the device.
pub const D_INVALID_RECNUM: i32 = 2506;
/// `D_INVALID_SIZE`: the size is not a whole number of records, or too big.
pub const D_INVALID_SIZE: i32 = 2507;
/// `D_NO_MEMORY`: no memory for the transfer.
pub const D_NO_MEMORY: i32 = 2508;
/// `D_READ_ONLY`: the device is read-only.
pub const D_READ_ONLY: i32 = 2509;

/// `device_get_status` flavor `DEV_GET_SIZE`: two words, the device's size
/// in bytes (saturated at `u32::MAX`) and its record size.
pub const DEV_GET_SIZE: u32 = 0;
/// `device_get_status` flavor `DEV_GET_RECORDS`: two words, the number of
/// records (saturated) and the record size.
pub const DEV_GET_RECORDS: u32 = 1;

/// The most bytes `device_read_inband` returns (Mach's
/// `io_buf_ptr_inband_t` is 128 bytes; hurd-rs messages allow more).
pub const MAX_INBAND: usize = 4096;

/// The largest `vm_allocate_contiguous` (bytes).
pub const MAX_CONTIGUOUS: u64 = 4 << 20;

/// `device_get_status` flavor on the bus device `"pci"`: the functions
/// present, [`PciFunctionRecord::WORDS`] words each (see
/// [`PciFunctionRecord`]).
pub const PCI_FUNCTIONS: u32 = 0x5043_0001;
/// `device_get_status` flavor on a PCI function: its regions,
/// [`PciRegion::WORDS`] words each (see [`PciRegion`]).
pub const PCI_REGIONS: u32 = 0x5043_0002;

/// The size of a PCI function's configuration space (the records of its
/// device port).
pub const PCI_CONFIG_SIZE: u32 = 256;

/// A PCI function's location: segment 0, bus, device (slot), function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PciAddress {
    /// The bus (0–255).
    pub bus: u8,
    /// The device on the bus (0–31).
    pub device: u8,
    /// The function of the device (0–7).
    pub function: u8,
}

/// Why a device name is not a PCI function's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BadPciName;

impl fmt::Display for BadPciName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a PCI function's name (pci/DDDD:BB:DD.F)")
    }
}

impl PciAddress {
    /// The function, if its numbers are in range.
    pub fn new(bus: u8, device: u8, function: u8) -> Option<PciAddress> {
        (device < 32 && function < 8).then_some(PciAddress {
            bus,
            device,
            function,
        })
    }

    /// The 16-bit form `bus << 8 | device << 3 | function` (what
    /// [`PciFunctionRecord`] carries).
    pub fn to_bits(self) -> u16 {
        u16::from(self.bus) << 8 | u16::from(self.device) << 3 | u16::from(self.function)
    }

    /// Reads [`PciAddress::to_bits`].
    pub fn from_bits(bits: u16) -> PciAddress {
        PciAddress {
            bus: (bits >> 8) as u8,
            device: ((bits >> 3) & 0x1f) as u8,
            function: (bits & 7) as u8,
        }
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pci/0000:{:02x}:{:02x}.{}",
            self.bus, self.device, self.function
        )
    }
}

impl FromStr for PciAddress {
    type Err = BadPciName;

    /// `pci/DDDD:BB:DD.F` (hexadecimal; segment 0 only).
    fn from_str(name: &str) -> Result<PciAddress, BadPciName> {
        let rest = name.strip_prefix("pci/").ok_or(BadPciName)?;
        let hex = |s: &str, len: usize| {
            if s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                u16::from_str_radix(s, 16).map_err(|_| BadPciName)
            } else {
                Err(BadPciName)
            }
        };
        let mut parts = rest.split(':');
        let (Some(segment), Some(bus), Some(slot), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(BadPciName);
        };
        let (device, function) = slot.split_once('.').ok_or(BadPciName)?;
        if hex(segment, 4)? != 0 {
            return Err(BadPciName);
        }
        let bus = u8::try_from(hex(bus, 2)?).map_err(|_| BadPciName)?;
        let device = u8::try_from(hex(device, 2)?).map_err(|_| BadPciName)?;
        let function = u8::try_from(hex(function, 1)?).map_err(|_| BadPciName)?;
        PciAddress::new(bus, device, function).ok_or(BadPciName)
    }
}

/// One function in the [`PCI_FUNCTIONS`] status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PciFunctionRecord {
    /// Where it is.
    pub address: PciAddress,
    /// Its vendor id.
    pub vendor: u16,
    /// Its device id.
    pub device: u16,
    /// Class, subclass, programming interface, revision (configuration
    /// dword 2, high byte first).
    pub class: u32,
    /// The interrupt line the firmware routed it to (0xff: none).
    pub irq_line: u8,
    /// Its interrupt pin (0: none, 1–4: INTA–INTD).
    pub irq_pin: u8,
}

impl PciFunctionRecord {
    /// Words per record.
    pub const WORDS: usize = 4;

    /// The record's words.
    pub fn to_words(self) -> [u32; Self::WORDS] {
        [
            u32::from(self.address.to_bits()),
            u32::from(self.vendor) | u32::from(self.device) << 16,
            self.class,
            u32::from(self.irq_line) | u32::from(self.irq_pin) << 8,
        ]
    }

    /// Reads [`PciFunctionRecord::to_words`]; `None` when a reserved bit is
    /// set.
    pub fn from_words(w: [u32; Self::WORDS]) -> Option<PciFunctionRecord> {
        if w[0] > 0xffff || w[3] > 0xffff {
            return None;
        }
        Some(PciFunctionRecord {
            address: PciAddress::from_bits(w[0] as u16),
            vendor: w[1] as u16,
            device: (w[1] >> 16) as u16,
            class: w[2],
            irq_line: w[3] as u8,
            irq_pin: (w[3] >> 8) as u8,
        })
    }

    /// The records of a [`PCI_FUNCTIONS`] status (a ragged tail or a bad
    /// record ends the list).
    pub fn parse_all(words: &[u32]) -> Vec<PciFunctionRecord> {
        words
            .chunks_exact(Self::WORDS)
            .map_while(|c| Self::from_words([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

/// One region (base address register) in the [`PCI_REGIONS`] status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PciRegion {
    /// The base address register's index (0–5).
    pub index: u8,
    /// I/O ports rather than memory.
    pub io: bool,
    /// A 64-bit memory region (it takes two registers).
    pub wide: bool,
    /// Prefetchable memory.
    pub prefetchable: bool,
    /// Its physical (or I/O port) address.
    pub base: u64,
    /// Its size in bytes.
    pub size: u64,
}

impl PciRegion {
    /// Words per record.
    pub const WORDS: usize = 6;

    /// The record's words: index, flags (1 I/O, 2 64-bit, 4 prefetchable),
    /// base low and high, size low and high.
    pub fn to_words(self) -> [u32; Self::WORDS] {
        let flags =
            u32::from(self.io) | u32::from(self.wide) << 1 | u32::from(self.prefetchable) << 2;
        [
            u32::from(self.index),
            flags,
            self.base as u32,
            (self.base >> 32) as u32,
            self.size as u32,
            (self.size >> 32) as u32,
        ]
    }

    /// Reads [`PciRegion::to_words`]; `None` for an index above 5 or an
    /// unknown flag.
    pub fn from_words(w: [u32; Self::WORDS]) -> Option<PciRegion> {
        if w[0] > 5 || w[1] > 7 {
            return None;
        }
        Some(PciRegion {
            index: w[0] as u8,
            io: w[1] & 1 != 0,
            wide: w[1] & 2 != 0,
            prefetchable: w[1] & 4 != 0,
            base: u64::from(w[2]) | u64::from(w[3]) << 32,
            size: u64::from(w[4]) | u64::from(w[5]) << 32,
        })
    }

    /// The records of a [`PCI_REGIONS`] status.
    pub fn parse_all(words: &[u32]) -> Vec<PciRegion> {
        words
            .chunks_exact(Self::WORDS)
            .map_while(|c| Self::from_words([c[0], c[1], c[2], c[3], c[4], c[5]]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn ids_are_gnu_machs() {
        assert_eq!(
            [
                device::id::device_open,
                device::id::device_close,
                device::id::device_write,
                device::id::device_write_inband,
                device::id::device_read,
                device::id::device_read_inband,
                device::id::device_set_status,
                device::id::device_get_status,
                device::id::device_set_filter,
                device::id::device_intr_register,
                device::id::device_intr_ack,
            ],
            [
                2800, 2801, 2802, 2803, 2804, 2805, 2810, 2811, 2812, 2813, 2814
            ]
        );
        assert_eq!(net_rcv::id::net_rcv_msg, 2999);
        assert_eq!(gnumach::id::vm_allocate_contiguous, 4210);
        assert_eq!(mach_intr::id::mach_intr_notify, 424242);
        assert_eq!(hurd_device::id::device_map_region, 4100);
    }

    #[test]
    fn filters_travel_as_sixteen_bit_words() {
        use hurd_ipc::{Disposition, Item, MigReturn, PortName};
        let call = device::Call::device_set_filter {
            receive_port: PortItem {
                name: PortName(7),
                disposition: Disposition::MakeSend,
            },
            priority: 0,
            filter: alloc::vec![0x401, 0, 0xffff, 0x8001],
        };
        let msg = call.clone().encode(PortName(5), Disposition::CopySend);
        assert_eq!(msg.header.id, 2812);
        assert_eq!(device::Call::decode(msg.clone()).map(|(c, _)| c), Ok(call));
        // An odd number of bytes is no array of filter words.
        let mut odd = msg;
        if let Some(Item::Bytes(b)) = odd.body.last_mut() {
            b.pop();
        }
        let err = device::Call::decode(odd)
            .map(|_| ())
            .expect_err("odd bytes");
        assert_eq!(err.code, MigReturn::BadArguments);
    }

    #[test]
    fn pci_names() {
        let a = PciAddress::new(0x1f, 31, 7).expect("in range");
        assert_eq!(a.to_string(), "pci/0000:1f:1f.7");
        assert_eq!("pci/0000:1f:1f.7".parse(), Ok(a));
        assert_eq!(PciAddress::from_bits(a.to_bits()), a);
        for bad in [
            "",
            "pci",
            "pci/",
            "pci/0000:00:20.0",
            "pci/0000:00:04.8",
            "pci/0001:00:04.0",
            "pci/0000:00:04",
            "pci/0000:00:04.0:1",
            "pci/0000:0:04.0",
            "pci/0000:+1:04.0",
            "pci/0000:00:04.0 ",
            "disk/0000:00:04.0",
            "pci/0000:00:0é.0",
        ] {
            assert_eq!(bad.parse::<PciAddress>(), Err(BadPciName), "{bad:?}");
        }
    }

    #[test]
    fn records_round_trip() {
        let f = PciFunctionRecord {
            address: PciAddress::new(0, 4, 0).expect("in range"),
            vendor: 0x1af4,
            device: 0x1042,
            class: 0x0100_0000,
            irq_line: 11,
            irq_pin: 1,
        };
        let mut words = f.to_words().to_vec();
        words.extend(f.to_words());
        words.push(9); // a ragged tail
        assert_eq!(PciFunctionRecord::parse_all(&words), [f, f]);
        assert_eq!(PciFunctionRecord::from_words([0x1_0000, 0, 0, 0]), None);
        let r = PciRegion {
            index: 4,
            io: false,
            wide: true,
            prefetchable: true,
            base: 0xfe00_0000_1000,
            size: 0x4000,
        };
        assert_eq!(PciRegion::parse_all(&r.to_words()), [r]);
        assert_eq!(PciRegion::from_words([6, 0, 0, 0, 0, 0]), None);
        assert_eq!(PciRegion::from_words([0, 8, 0, 0, 0, 0]), None);
    }
}
