//! The PCI bus as the kernel sees it at boot: the functions present, their
//! regions (base address registers, sized by the standard probe), their
//! interrupt routing, and which configuration writes a driver may make.
//!
//! Reaching the configuration space is the machine's business (x86's
//! `0xCF8`/`0xCFC` ports, in the kernel's `arch`); this module works on any
//! [`ConfigSpace`], so it is tested on the host against a simulated bus.

use alloc::vec::Vec;

use hurd_abi::device::{PciAddress, PciFunctionRecord, PciRegion};

/// Configuration-space access, 32 bits at a time (`offset` a multiple of 4
/// below 256).
pub trait ConfigSpace {
    /// The dword at `offset` of `function`'s configuration space.
    fn read(&mut self, function: PciAddress, offset: u8) -> u32;
    /// Writes the dword at `offset`.
    fn write(&mut self, function: PciAddress, offset: u8, value: u32);
}

/// The command register's memory-space and I/O-space decode bits.
const DECODE: u32 = 0b11;
/// The first base address register.
pub const BAR0: u8 = 0x10;
/// The expansion ROM base address (type 0 header).
pub const ROM: u8 = 0x30;

/// A function found on the bus.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Function {
    /// What the bus device lists about it.
    pub record: PciFunctionRecord,
    /// Its regions (for a type 0 header; bridges list none).
    pub regions: Vec<PciRegion>,
}

impl Function {
    /// Its region `index`, if it has one.
    pub fn region(&self, index: u32) -> Option<&PciRegion> {
        self.regions.iter().find(|r| u32::from(r.index) == index)
    }
}

/// Every function on bus 0 and the buses behind its bridges (a device's
/// functions 1–7 only when function 0 says it has several), with type 0
/// headers' regions sized. Sizing writes all ones to each base address
/// register with the function's decoding turned off, then puts everything
/// back. Each bus is scanned once, whatever the bridges claim.
pub fn enumerate(config: &mut impl ConfigSpace) -> Vec<Function> {
    let mut found = Vec::new();
    let mut scanned = [false; 256];
    let mut buses = alloc::vec![0u8];
    while let Some(bus) = buses.pop() {
        if core::mem::replace(&mut scanned[usize::from(bus)], true) {
            continue;
        }
        for device in 0..32u8 {
            for function in 0..8u8 {
                let Some(addr) = PciAddress::new(bus, device, function) else {
                    continue;
                };
                let id = config.read(addr, 0);
                if id & 0xffff == 0xffff {
                    if function == 0 {
                        break;
                    }
                    continue;
                }
                let header = (config.read(addr, 0x0c) >> 16) as u8;
                if header & 0x7f == 1 {
                    // A PCI-to-PCI bridge: its secondary bus.
                    buses.push((config.read(addr, 0x18) >> 8) as u8);
                }
                found.push(probe(config, addr, id, header));
                if function == 0 && header & 0x80 == 0 {
                    break;
                }
            }
        }
    }
    found.sort_by_key(|f| f.record.address);
    found
}

/// One present function.
fn probe(config: &mut impl ConfigSpace, addr: PciAddress, id: u32, header: u8) -> Function {
    let interrupt = config.read(addr, 0x3c);
    let record = PciFunctionRecord {
        address: addr,
        vendor: id as u16,
        device: (id >> 16) as u16,
        class: config.read(addr, 0x08),
        irq_line: interrupt as u8,
        irq_pin: (interrupt >> 8) as u8,
    };
    let regions = if header & 0x7f == 0 {
        size_regions(config, addr)
    } else {
        Vec::new()
    };
    Function { record, regions }
}

/// Sizes the six base address registers of a type 0 header.
fn size_regions(config: &mut impl ConfigSpace, addr: PciAddress) -> Vec<PciRegion> {
    let command = config.read(addr, 0x04);
    config.write(addr, 0x04, command & !DECODE);
    let mut regions = Vec::new();
    let mut index = 0u8;
    while index < 6 {
        let offset = BAR0 + 4 * index;
        let low = config.read(addr, offset);
        config.write(addr, offset, u32::MAX);
        let low_mask = config.read(addr, offset);
        config.write(addr, offset, low);
        let io = low & 1 != 0;
        let wide = !io && (low >> 1) & 3 == 2 && index < 5;
        let (high, high_mask) = if wide {
            let high = config.read(addr, offset + 4);
            config.write(addr, offset + 4, u32::MAX);
            let mask = config.read(addr, offset + 4);
            config.write(addr, offset + 4, high);
            (high, mask)
        } else {
            (0, 0)
        };
        if let Some(region) = decode_bar(index, low, low_mask, high, high_mask) {
            regions.push(region);
        }
        index += if wide { 2 } else { 1 };
    }
    config.write(addr, 0x04, command);
    regions
}

/// A base address register from its value and what it read back after all
/// ones were written (`high`/`high_mask`: the next register, for a 64-bit
/// one); `None` when it is not implemented.
pub fn decode_bar(
    index: u8,
    low: u32,
    low_mask: u32,
    high: u32,
    high_mask: u32,
) -> Option<PciRegion> {
    if low & 1 != 0 {
        let mask = low_mask & !3 & 0xffff;
        if mask == 0 {
            return None;
        }
        // The lowest writable address bit is the size (a register with
        // holes in its mask is read by that bit, as the PCI rules say).
        let size = u64::from(mask & mask.wrapping_neg());
        return Some(PciRegion {
            index,
            io: true,
            wide: false,
            prefetchable: false,
            base: u64::from(low & !3 & 0xffff),
            size,
        });
    }
    let wide = (low >> 1) & 3 == 2;
    let prefetchable = low & 8 != 0;
    let mask = if wide {
        u64::from(low_mask & !0xf) | u64::from(high_mask) << 32
    } else {
        u64::from(low_mask & !0xf) | 0xffff_ffff_0000_0000
    };
    if mask & 0xffff_ffff == 0 && (!wide || high_mask == 0) {
        return None;
    }
    let size = mask & mask.wrapping_neg();
    if size == 0 {
        return None;
    }
    let base = u64::from(low & !0xf) | if wide { u64::from(high) << 32 } else { 0 };
    Some(PciRegion {
        index,
        io: false,
        wide,
        prefetchable,
        base,
        size,
    })
}

/// Why a driver's configuration access is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Past the 256 bytes of the configuration space.
    OutOfRange,
    /// Not 1, 2 or 4 bytes, or not aligned to its size.
    BadSize,
    /// A register only the firmware sets (base addresses, expansion ROM).
    Protected,
}

/// Whether a driver may read `len` bytes at `offset` (any bytes inside the
/// 256).
///
/// # Errors
///
/// [`ConfigError::OutOfRange`] past the end.
pub fn check_read(offset: u32, len: u32) -> Result<(), ConfigError> {
    match offset.checked_add(len) {
        Some(end) if end <= 256 => Ok(()),
        _ => Err(ConfigError::OutOfRange),
    }
}

/// Whether a driver may write `len` bytes at `offset`: 1, 2 or 4 aligned
/// bytes, not touching the base address registers or the expansion ROM
/// address (moving a region would let the driver map memory that is not
/// its device's).
///
/// # Errors
///
/// As [`ConfigError`] says.
pub fn check_write(offset: u32, len: u32) -> Result<(), ConfigError> {
    check_read(offset, len)?;
    if !matches!(len, 1 | 2 | 4) || !offset.is_multiple_of(len) {
        return Err(ConfigError::BadSize);
    }
    let end = offset + len;
    let touches = |start: u32, stop: u32| offset < stop && end > start;
    if touches(u32::from(BAR0), u32::from(BAR0) + 24) || touches(u32::from(ROM), u32::from(ROM) + 4)
    {
        return Err(ConfigError::Protected);
    }
    Ok(())
}

/// Reads `len` bytes at `offset` through dword accesses.
pub fn read_bytes(
    config: &mut impl ConfigSpace,
    addr: PciAddress,
    offset: u32,
    len: u32,
) -> Vec<u8> {
    (offset..offset.saturating_add(len).min(256))
        .map(|at| {
            let dword = config.read(addr, (at & !3) as u8);
            (dword >> (8 * (at & 3))) as u8
        })
        .collect()
}

/// Writes `bytes` (1, 2 or 4, aligned: see [`check_write`]) at `offset`,
/// as a read-modify-write of the dword holding them.
pub fn write_bytes(config: &mut impl ConfigSpace, addr: PciAddress, offset: u32, bytes: &[u8]) {
    let base = (offset & !3) as u8;
    let mut dword = config.read(addr, base).to_le_bytes();
    let at = (offset & 3) as usize;
    for (i, &b) in bytes.iter().enumerate().take(4 - at) {
        dword[at + i] = b;
    }
    config.write(addr, base, u32::from_le_bytes(dword));
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    /// A simulated bus: each function a 256-byte space, base address
    /// registers answering the sizing probe by their size.
    #[derive(Default)]
    struct Bus {
        spaces: BTreeMap<PciAddress, [u32; 64]>,
        /// Per function and register: the writable bits of a BAR.
        masks: BTreeMap<(PciAddress, u8), u32>,
        writes: usize,
    }

    impl ConfigSpace for Bus {
        fn read(&mut self, f: PciAddress, offset: u8) -> u32 {
            self.spaces
                .get(&f)
                .map_or(u32::MAX, |s| s[usize::from(offset / 4)])
        }
        fn write(&mut self, f: PciAddress, offset: u8, value: u32) {
            self.writes += 1;
            let mask = self.masks.get(&(f, offset)).copied();
            if let Some(s) = self.spaces.get_mut(&f) {
                let slot = &mut s[usize::from(offset / 4)];
                *slot = match mask {
                    Some(m) => (*slot & !m) | (value & m),
                    None => value,
                };
            }
        }
    }

    fn at(bus: u8, device: u8, function: u8) -> PciAddress {
        PciAddress::new(bus, device, function).expect("in range")
    }

    #[test]
    fn finds_functions_and_sizes_their_regions() {
        let mut bus = Bus::default();
        // 00:00.0 a host bridge, no BARs.
        let mut host = [0u32; 64];
        host[0] = 0x1237_8086;
        host[2] = 0x0600_0000;
        bus.spaces.insert(at(0, 0, 0), host);
        // 00:04.0 a virtio-blk: BAR0 I/O 0xc040 (64 ports), BAR1 32-bit
        // memory 0xfebf1000 (4 KiB), BAR4/5 64-bit prefetchable 0xfe000000
        // (16 KiB); IRQ 11, pin A; command: memory and I/O decode.
        let mut blk = [0u32; 64];
        blk[0] = 0x1001_1af4;
        blk[1] = 0x0000_0007;
        blk[2] = 0x0100_0000;
        blk[4] = 0xc041;
        blk[5] = 0xfebf_1000;
        blk[8] = 0xfe00_000c;
        blk[9] = 0;
        blk[15] = 0x0000_010b;
        let f = at(0, 4, 0);
        bus.spaces.insert(f, blk);
        bus.masks.insert((f, 0x10), 0xffff_ffc0 | 1);
        bus.masks.insert((f, 0x14), 0xffff_f000);
        bus.masks.insert((f, 0x20), 0xffff_c000 | 0xc);
        bus.masks.insert((f, 0x24), 0xffff_ffff);
        bus.masks.insert((f, 0x18), 0);
        bus.masks.insert((f, 0x1c), 0);
        // 00:05.0 a multi-function device with function 3 present.
        let mut multi = [0u32; 64];
        multi[0] = 0x0001_1234;
        multi[3] = 0x0080_0000;
        bus.spaces.insert(at(0, 5, 0), multi);
        let mut third = [0u32; 64];
        third[0] = 0x0003_1234;
        bus.spaces.insert(at(0, 5, 3), third);
        // 00:06.0 a bridge to bus 2, where 02:01.0 is a bridge back to bus
        // 0 (a loop, scanned once); a device at 03:00.0 nobody leads to.
        let mut bridge = [0u32; 64];
        bridge[0] = 0x0001_1b36;
        bridge[2] = 0x0604_0000;
        bridge[3] = 0x0001_0000;
        bridge[6] = 0x0000_0200;
        bus.spaces.insert(at(0, 6, 0), bridge);
        let mut back = bridge;
        back[6] = 0;
        bus.spaces.insert(at(2, 1, 0), back);
        bus.spaces.insert(at(3, 0, 0), third);
        let before = bus.spaces.clone();

        let found = enumerate(&mut bus);
        let addrs: Vec<_> = found.iter().map(|f| f.record.address).collect();
        assert_eq!(
            addrs,
            [
                at(0, 0, 0),
                at(0, 4, 0),
                at(0, 5, 0),
                at(0, 5, 3),
                at(0, 6, 0),
                at(2, 1, 0)
            ]
        );
        assert!(found[4].regions.is_empty());
        let blk = &found[1];
        assert_eq!((blk.record.vendor, blk.record.device), (0x1af4, 0x1001));
        assert_eq!((blk.record.irq_line, blk.record.irq_pin), (11, 1));
        assert_eq!(blk.record.class, 0x0100_0000);
        assert_eq!(
            blk.regions,
            [
                PciRegion {
                    index: 0,
                    io: true,
                    wide: false,
                    prefetchable: false,
                    base: 0xc040,
                    size: 64
                },
                PciRegion {
                    index: 1,
                    io: false,
                    wide: false,
                    prefetchable: false,
                    base: 0xfebf_1000,
                    size: 0x1000
                },
                PciRegion {
                    index: 4,
                    io: false,
                    wide: true,
                    prefetchable: true,
                    base: 0xfe00_0000,
                    size: 0x4000
                },
            ]
        );
        assert!(blk.region(4).is_some() && blk.region(2).is_none());
        // Every register is as it was, the command register included.
        assert_eq!(bus.spaces, before);
    }

    #[test]
    fn writes_are_checked() {
        assert_eq!(check_write(0x04, 2), Ok(()));
        assert_eq!(check_write(0x3c, 1), Ok(()));
        assert_eq!(check_write(0x40, 4), Ok(()));
        assert_eq!(check_write(0xff, 1), Ok(()));
        assert_eq!(check_write(0x10, 4), Err(ConfigError::Protected));
        assert_eq!(check_write(0x27, 1), Err(ConfigError::Protected));
        assert_eq!(check_write(0x30, 2), Err(ConfigError::Protected));
        assert_eq!(check_write(0x0e, 2), Ok(()));
        assert_eq!(check_write(0x05, 2), Err(ConfigError::BadSize));
        assert_eq!(check_write(0x04, 3), Err(ConfigError::BadSize));
        assert_eq!(check_write(0x04, 0), Err(ConfigError::BadSize));
        assert_eq!(check_write(0x100, 1), Err(ConfigError::OutOfRange));
        assert_eq!(check_write(u32::MAX, 4), Err(ConfigError::OutOfRange));
        assert_eq!(check_read(0xfc, 4), Ok(()));
        assert_eq!(check_read(0xfd, 4), Err(ConfigError::OutOfRange));
    }

    #[test]
    fn bytes_through_dwords() {
        let mut bus = Bus::default();
        let f = at(0, 1, 0);
        let mut space = [0u32; 64];
        space[1] = 0x0290_0007;
        bus.spaces.insert(f, space);
        assert_eq!(read_bytes(&mut bus, f, 4, 4), [7, 0, 0x90, 2]);
        assert_eq!(read_bytes(&mut bus, f, 0xfe, 8).len(), 2);
        write_bytes(&mut bus, f, 6, &[0xff, 0xff]);
        assert_eq!(bus.read(f, 4), 0xffff_0007);
        write_bytes(&mut bus, f, 4, &[0x06]);
        assert_eq!(bus.read(f, 4), 0xffff_0006);
    }

    proptest! {
        /// Any register values give a region or none, never a panic, and a
        /// region's size is a power of two.
        #[test]
        fn any_bar_decodes(low: u32, low_mask: u32, high: u32, high_mask: u32) {
            if let Some(r) = decode_bar(0, low, low_mask, high, high_mask) {
                prop_assert!(r.size.is_power_of_two());
            }
        }

        /// No accepted write touches a protected register or leaves the space.
        #[test]
        fn accepted_writes_are_safe(offset in 0u32..300, len in 0u32..6) {
            if check_write(offset, len).is_ok() {
                prop_assert!(offset + len <= 256);
                prop_assert!(offset + len <= 0x10 || offset >= 0x28);
                prop_assert!(offset + len <= 0x30 || offset >= 0x34);
            }
        }
    }
}
