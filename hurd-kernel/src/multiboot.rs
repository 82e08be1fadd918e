//! The boot information of multiboot v1 (QEMU's `-kernel`) and multiboot2
//! (GRUB's `multiboot2`): memory map, modules, command line.
//!
//! The loader leaves a structure in physical memory whose fields point at
//! more structures (the memory map, the module list, strings). None of it is
//! trusted: every read goes through [`PhysMemory`], which refuses accesses
//! outside the memory it can reach, every count is bounded, and anything
//! malformed is a [`BootInfoError`], never a panic.

use arrayvec::{ArrayString, ArrayVec};

/// The value a multiboot v1 loader leaves in `eax`.
pub const LOADER_MAGIC: u32 = 0x2BAD_B002;

/// The value a multiboot2 loader leaves in `eax`.
pub const LOADER_MAGIC2: u32 = 0x36D7_6289;

/// The largest multiboot2 information structure accepted (bytes).
pub const MAX_INFO2: u32 = 64 * 1024;

/// At most this many memory-map regions are kept.
pub const MAX_REGIONS: usize = 64;
/// At most this many modules are kept.
pub const MAX_MODULES: usize = 64;
/// The longest command line (bytes).
pub const MAX_CMDLINE: usize = 512;
/// The longest module string (bytes).
pub const MAX_MODULE_NAME: usize = 256;

/// Flag bits of the info structure's `flags` field.
mod flag {
    pub const MEMORY: u32 = 1 << 0;
    pub const CMDLINE: u32 = 1 << 2;
    pub const MODULES: u32 = 1 << 3;
    pub const MMAP: u32 = 1 << 6;
}

/// Read access to physical memory, refusing what is out of reach.
pub trait PhysMemory {
    /// Fills `buf` from physical address `addr`, or fails (nothing read
    /// counts) if any byte of the range is out of reach.
    ///
    /// # Errors
    ///
    /// [`OutOfReach`] when any byte of the range cannot be read.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), OutOfReach>;
}

/// A physical access outside the memory a [`PhysMemory`] can reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OutOfReach;

/// What kind of memory a region is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MemoryKind {
    /// Free RAM (type 1).
    Available,
    /// ACPI tables, reclaimable after they are read (type 3).
    AcpiReclaimable,
    /// ACPI non-volatile storage (type 4).
    AcpiNvs,
    /// Defective RAM (type 5).
    Bad,
    /// Reserved (type 2, and every type this parser does not know).
    Reserved(u32),
}

impl MemoryKind {
    fn from_type(ty: u32) -> MemoryKind {
        match ty {
            1 => MemoryKind::Available,
            3 => MemoryKind::AcpiReclaimable,
            4 => MemoryKind::AcpiNvs,
            5 => MemoryKind::Bad,
            other => MemoryKind::Reserved(other),
        }
    }
}

/// One entry of the memory map: `[start, start + len)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MemoryRegion {
    /// The first physical address.
    pub start: u64,
    /// The length in bytes.
    pub len: u64,
    /// What it is.
    pub kind: MemoryKind,
}

impl MemoryRegion {
    /// The address after the last byte, saturating at `u64::MAX`.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.len)
    }
}

/// A boot module: a file the loader put in memory, and its string (the
/// module's command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// The first physical address.
    pub start: u64,
    /// The address after the last byte.
    pub end: u64,
    /// The module's string.
    pub name: ArrayString<MAX_MODULE_NAME>,
}

/// The boot information the kernel uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootInfo {
    /// The kernel command line (empty if the loader gave none).
    pub cmdline: ArrayString<MAX_CMDLINE>,
    /// The memory map. If the loader gave none, the two classic regions
    /// (low memory and memory above 1 MiB) from `mem_lower`/`mem_upper`.
    pub memory: ArrayVec<MemoryRegion, MAX_REGIONS>,
    /// The modules, in the loader's order.
    pub modules: ArrayVec<Module, MAX_MODULES>,
}

/// Why the boot information could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BootInfoError {
    /// `eax` held neither multiboot magic.
    BadMagic(u32),
    /// A multiboot2 structure or tag has an impossible size.
    BadTag {
        /// Where.
        addr: u64,
    },
    /// A structure lies (partly) outside reachable memory.
    OutOfReach {
        /// Which structure.
        what: &'static str,
        /// Its address.
        addr: u64,
    },
    /// Neither a memory map nor the basic memory fields were given.
    NoMemoryInformation,
    /// A memory-map entry is too small to hold its fields.
    BadMapEntry {
        /// The entry's address.
        addr: u64,
    },
    /// More memory-map entries than [`MAX_REGIONS`].
    TooManyRegions,
    /// More modules than [`MAX_MODULES`].
    TooManyModules,
    /// A module ends before it starts.
    BadModuleRange {
        /// The module's index.
        index: u32,
    },
    /// A string has no terminating NUL within its maximum length.
    StringTooLong {
        /// Which string.
        what: &'static str,
    },
    /// A string is not UTF-8.
    NotUtf8 {
        /// Which string.
        what: &'static str,
    },
}

impl core::fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootInfoError::BadMagic(magic) => {
                write!(f, "not started by a multiboot loader (magic {magic:#x})")
            }
            BootInfoError::BadTag { addr } => write!(f, "bad multiboot2 tag at {addr:#x}"),
            BootInfoError::OutOfReach { what, addr } => {
                write!(f, "{what} at {addr:#x} is out of reach")
            }
            BootInfoError::NoMemoryInformation => write!(f, "no memory information"),
            BootInfoError::BadMapEntry { addr } => write!(f, "bad memory-map entry at {addr:#x}"),
            BootInfoError::TooManyRegions => write!(f, "more than {MAX_REGIONS} memory regions"),
            BootInfoError::TooManyModules => write!(f, "more than {MAX_MODULES} modules"),
            BootInfoError::BadModuleRange { index } => {
                write!(f, "module {index} ends before it starts")
            }
            BootInfoError::StringTooLong { what } => write!(f, "{what} is too long"),
            BootInfoError::NotUtf8 { what } => write!(f, "{what} is not UTF-8"),
        }
    }
}

/// Reads little-endian fields through a [`PhysMemory`].
struct Reader<'a, M: PhysMemory + ?Sized> {
    memory: &'a M,
}

impl<M: PhysMemory + ?Sized> Reader<'_, M> {
    fn bytes<const N: usize>(
        &self,
        what: &'static str,
        addr: u64,
    ) -> Result<[u8; N], BootInfoError> {
        let mut buf = [0; N];
        self.memory
            .read(addr, &mut buf)
            .map_err(|OutOfReach| BootInfoError::OutOfReach { what, addr })?;
        Ok(buf)
    }

    fn u32(&self, what: &'static str, addr: u64) -> Result<u32, BootInfoError> {
        self.bytes(what, addr).map(u32::from_le_bytes)
    }

    fn u64(&self, what: &'static str, addr: u64) -> Result<u64, BootInfoError> {
        self.bytes(what, addr).map(u64::from_le_bytes)
    }

    /// A NUL-terminated UTF-8 string of at most `N` bytes that must end
    /// before `limit`.
    fn string_within<const N: usize>(
        &self,
        what: &'static str,
        addr: u64,
        limit: u64,
    ) -> Result<ArrayString<N>, BootInfoError> {
        let text: ArrayString<N> = self.string(what, addr)?;
        if addr + text.len() as u64 >= limit {
            return Err(BootInfoError::StringTooLong { what });
        }
        Ok(text)
    }

    /// A NUL-terminated UTF-8 string of at most `N` bytes.
    fn string<const N: usize>(
        &self,
        what: &'static str,
        addr: u64,
    ) -> Result<ArrayString<N>, BootInfoError> {
        let mut buf = [0u8; N];
        let mut len = 0;
        loop {
            let [byte] = self.bytes::<1>(what, addr.wrapping_add(len as u64))?;
            if byte == 0 {
                break;
            }
            if len == N {
                return Err(BootInfoError::StringTooLong { what });
            }
            buf[len] = byte;
            len += 1;
        }
        let text =
            core::str::from_utf8(&buf[..len]).map_err(|_| BootInfoError::NotUtf8 { what })?;
        ArrayString::from(text).map_err(|_| BootInfoError::StringTooLong { what })
    }
}

/// Parses the boot information at `info` left by a loader that put `magic`
/// in `eax` (multiboot v1 or multiboot2).
///
/// # Errors
///
/// A [`BootInfoError`] for an unknown magic, information out of reach or
/// malformed, or strings that are not UTF-8 or too long.
pub fn parse<M: PhysMemory + ?Sized>(
    memory: &M,
    magic: u32,
    info: u32,
) -> Result<BootInfo, BootInfoError> {
    match magic {
        LOADER_MAGIC => parse_v1(memory, info),
        LOADER_MAGIC2 => parse_v2(memory, info),
        other => Err(BootInfoError::BadMagic(other)),
    }
}

/// Multiboot2: a size, then tags (type, size, payload), each 8-aligned,
/// ending with tag 0.
fn parse_v2<M: PhysMemory + ?Sized>(memory: &M, info: u32) -> Result<BootInfo, BootInfoError> {
    let r = Reader { memory };
    let base = u64::from(info);
    let total = r.u32("boot information", base)?;
    if !(16..=MAX_INFO2).contains(&total) {
        return Err(BootInfoError::BadTag { addr: base });
    }
    let end = base + u64::from(total);
    let mut boot = BootInfo::default();
    let mut basic = None;
    let mut have_map = false;
    let mut tag = base + 8;
    loop {
        if tag + 8 > end {
            return Err(BootInfoError::BadTag { addr: tag });
        }
        let kind = r.u32("boot information", tag)?;
        let size = u64::from(r.u32("boot information", tag + 4)?);
        if size < 8 || tag + size > end {
            return Err(BootInfoError::BadTag { addr: tag });
        }
        match kind {
            0 => break,
            1 => boot.cmdline = r.string_within("command line", tag + 8, tag + size)?,
            3 if size >= 17 => {
                let start = u64::from(r.u32("module list", tag + 8)?);
                let mod_end = u64::from(r.u32("module list", tag + 12)?);
                if mod_end < start {
                    return Err(BootInfoError::BadModuleRange {
                        index: boot.modules.len() as u32,
                    });
                }
                let name = r.string_within("module string", tag + 16, tag + size)?;
                boot.modules
                    .try_push(Module {
                        start,
                        end: mod_end,
                        name,
                    })
                    .map_err(|_| BootInfoError::TooManyModules)?;
            }
            4 if size >= 16 => {
                basic = Some((
                    u64::from(r.u32("boot information", tag + 8)?),
                    u64::from(r.u32("boot information", tag + 12)?),
                ));
            }
            6 if size >= 16 => {
                let entry_size = u64::from(r.u32("memory map", tag + 8)?);
                if entry_size < 24 {
                    return Err(BootInfoError::BadMapEntry { addr: tag });
                }
                let mut entry = tag + 16;
                while entry + entry_size <= tag + size {
                    let region = MemoryRegion {
                        start: r.u64("memory map", entry)?,
                        len: r.u64("memory map", entry + 8)?,
                        kind: MemoryKind::from_type(r.u32("memory map", entry + 16)?),
                    };
                    boot.memory
                        .try_push(region)
                        .map_err(|_| BootInfoError::TooManyRegions)?;
                    entry += entry_size;
                }
                have_map = true;
            }
            3 | 4 | 6 => return Err(BootInfoError::BadTag { addr: tag }),
            _ => {} // tags the kernel does not use
        }
        tag += size.div_ceil(8) * 8;
    }
    if !have_map {
        let (lower, upper) = basic.ok_or(BootInfoError::NoMemoryInformation)?;
        boot.memory.push(MemoryRegion {
            start: 0,
            len: lower * 1024,
            kind: MemoryKind::Available,
        });
        boot.memory.push(MemoryRegion {
            start: 0x10_0000,
            len: upper * 1024,
            kind: MemoryKind::Available,
        });
    }
    Ok(boot)
}

/// Multiboot v1: a flags word saying which fields are valid.
fn parse_v1<M: PhysMemory + ?Sized>(memory: &M, info: u32) -> Result<BootInfo, BootInfoError> {
    // Every address below is a 32-bit field plus a small offset: no overflow.
    let info = u64::from(info);
    let r = Reader { memory };
    let flags = r.u32("boot information", info)?;
    let mut boot = BootInfo::default();

    if flags & flag::CMDLINE != 0 {
        let addr = r.u32("boot information", info + 16)?;
        boot.cmdline = r.string("command line", u64::from(addr))?;
    }

    if flags & flag::MMAP != 0 {
        let length = u64::from(r.u32("boot information", info + 44)?);
        let base = u64::from(r.u32("boot information", info + 48)?);
        let end = base + length;
        let mut entry = base;
        // Each entry: size (u32, not counting itself), base (u64), length
        // (u64), type (u32).
        while entry < end {
            let size = u64::from(r.u32("memory map", entry)?);
            if size < 20 {
                return Err(BootInfoError::BadMapEntry { addr: entry });
            }
            let region = MemoryRegion {
                start: r.u64("memory map", entry + 4)?,
                len: r.u64("memory map", entry + 12)?,
                kind: MemoryKind::from_type(r.u32("memory map", entry + 20)?),
            };
            boot.memory
                .try_push(region)
                .map_err(|_| BootInfoError::TooManyRegions)?;
            entry += size + 4;
        }
    } else if flags & flag::MEMORY != 0 {
        let lower = u64::from(r.u32("boot information", info + 4)?);
        let upper = u64::from(r.u32("boot information", info + 8)?);
        boot.memory.push(MemoryRegion {
            start: 0,
            len: lower * 1024,
            kind: MemoryKind::Available,
        });
        boot.memory.push(MemoryRegion {
            start: 0x10_0000,
            len: upper * 1024,
            kind: MemoryKind::Available,
        });
    } else {
        return Err(BootInfoError::NoMemoryInformation);
    }

    if flags & flag::MODULES != 0 {
        let count = r.u32("boot information", info + 20)?;
        let base = u64::from(r.u32("boot information", info + 24)?);
        if count as usize > MAX_MODULES {
            return Err(BootInfoError::TooManyModules);
        }
        for index in 0..count {
            let entry = base + u64::from(index) * 16;
            let start = u64::from(r.u32("module list", entry)?);
            let end = u64::from(r.u32("module list", entry + 4)?);
            if end < start {
                return Err(BootInfoError::BadModuleRange { index });
            }
            let string = r.u32("module list", entry + 8)?;
            let name = if string == 0 {
                ArrayString::new()
            } else {
                r.string("module string", u64::from(string))?
            };
            boot.modules.push(Module { start, end, name });
        }
    }
    Ok(boot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Physical memory `[base, base + bytes.len())`.
    struct Image {
        base: u64,
        bytes: Vec<u8>,
    }

    impl PhysMemory for Image {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), OutOfReach> {
            let offset = addr.checked_sub(self.base).ok_or(OutOfReach)?;
            let offset = usize::try_from(offset).map_err(|_| OutOfReach)?;
            let end = offset.checked_add(buf.len()).ok_or(OutOfReach)?;
            buf.copy_from_slice(self.bytes.get(offset..end).ok_or(OutOfReach)?);
            Ok(())
        }
    }

    const BASE: u32 = 0x9000;

    /// Builds an image: the info structure at BASE, then the given pieces.
    struct Builder {
        bytes: Vec<u8>,
    }

    impl Builder {
        fn new() -> Builder {
            Builder {
                bytes: vec![0; 128],
            }
        }
        fn put32(&mut self, offset: usize, value: u32) {
            self.bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        }
        fn flags(&mut self, flags: u32) {
            let old = u32::from_le_bytes(self.bytes[0..4].try_into().unwrap_or_default());
            self.put32(0, old | flags);
        }
        /// Appends bytes, returning their physical address.
        fn append(&mut self, data: &[u8]) -> u32 {
            let addr = BASE as usize + self.bytes.len();
            self.bytes.extend_from_slice(data);
            addr as u32
        }
        fn cmdline(&mut self, text: &str) {
            let mut data = text.as_bytes().to_vec();
            data.push(0);
            let addr = self.append(&data);
            self.flags(flag::CMDLINE);
            self.put32(16, addr);
        }
        fn mmap(&mut self, regions: &[(u64, u64, u32)]) {
            let mut data = Vec::new();
            for &(start, len, ty) in regions {
                data.extend_from_slice(&20u32.to_le_bytes());
                data.extend_from_slice(&start.to_le_bytes());
                data.extend_from_slice(&len.to_le_bytes());
                data.extend_from_slice(&ty.to_le_bytes());
            }
            let addr = self.append(&data);
            self.flags(flag::MMAP);
            self.put32(44, data.len() as u32);
            self.put32(48, addr);
        }
        fn modules(&mut self, modules: &[(u32, u32, &str)]) {
            let mut entries = Vec::new();
            for &(start, end, name) in modules {
                let mut text = name.as_bytes().to_vec();
                text.push(0);
                let string = self.append(&text);
                for v in [start, end, string, 0] {
                    entries.extend_from_slice(&v.to_le_bytes());
                }
            }
            let addr = self.append(&entries);
            self.flags(flag::MODULES);
            self.put32(20, modules.len() as u32);
            self.put32(24, addr);
        }
        fn image(self) -> Image {
            Image {
                base: u64::from(BASE),
                bytes: self.bytes,
            }
        }
    }

    #[test]
    fn reads_cmdline_memory_map_and_modules() {
        let mut b = Builder::new();
        b.cmdline("test verbose");
        b.mmap(&[
            (0, 0x9fc00, 1),
            (0xf0000, 0x10000, 2),
            (0x10_0000, 0x7ee_0000, 1),
        ]);
        b.modules(&[
            (0x20_0000, 0x20_1000, "bootstrap --x"),
            (0x20_1000, 0x20_1000, ""),
        ]);
        let info = parse(&b.image(), LOADER_MAGIC, BASE);
        let info = info.expect("valid boot information");
        assert_eq!(info.cmdline.as_str(), "test verbose");
        assert_eq!(info.memory.len(), 3);
        assert_eq!(info.memory[1].kind, MemoryKind::Reserved(2));
        assert_eq!(info.memory[2].start, 0x10_0000);
        assert_eq!(info.memory[2].end(), 0x7fe_0000);
        assert_eq!(info.modules.len(), 2);
        assert_eq!(info.modules[0].name.as_str(), "bootstrap --x");
        assert_eq!(info.modules[1].start, info.modules[1].end);
    }

    #[test]
    fn basic_memory_fields_without_a_map() {
        let mut b = Builder::new();
        b.flags(flag::MEMORY);
        b.put32(4, 639);
        b.put32(8, 1024);
        let info = parse(&b.image(), LOADER_MAGIC, BASE).expect("valid");
        assert_eq!(info.memory[1].start, 0x10_0000);
        assert_eq!(info.memory[1].len, 1024 * 1024);
        assert!(info.cmdline.is_empty());
    }

    #[test]
    fn wrong_magic_is_refused() {
        let b = Builder::new();
        assert_eq!(
            parse(&b.image(), 0x1bad_b002, BASE),
            Err(BootInfoError::BadMagic(0x1bad_b002))
        );
    }

    #[test]
    fn no_memory_information_is_an_error() {
        let mut b = Builder::new();
        b.cmdline("x");
        assert_eq!(
            parse(&b.image(), LOADER_MAGIC, BASE),
            Err(BootInfoError::NoMemoryInformation)
        );
    }

    #[test]
    fn info_out_of_reach() {
        let b = Builder::new();
        assert_eq!(
            parse(&b.image(), LOADER_MAGIC, 0x10),
            Err(BootInfoError::OutOfReach {
                what: "boot information",
                addr: 0x10
            })
        );
    }

    #[test]
    fn cmdline_pointer_out_of_reach() {
        let mut b = Builder::new();
        b.flags(flag::CMDLINE | flag::MEMORY);
        b.put32(16, 0xdead_0000);
        assert!(matches!(
            parse(&b.image(), LOADER_MAGIC, BASE),
            Err(BootInfoError::OutOfReach {
                what: "command line",
                ..
            })
        ));
    }

    #[test]
    fn unterminated_or_long_cmdline() {
        let mut b = Builder::new();
        b.flags(flag::MEMORY);
        let addr = b.append(&[b'a'; MAX_CMDLINE + 1]);
        b.flags(flag::CMDLINE);
        b.put32(16, addr);
        // No NUL at all: the read runs off the end of memory.
        let image = b.image();
        assert!(matches!(
            parse(&image, LOADER_MAGIC, BASE),
            Err(BootInfoError::StringTooLong { .. } | BootInfoError::OutOfReach { .. })
        ));
        let mut bytes = image.bytes;
        bytes.push(0);
        let image = Image {
            base: u64::from(BASE),
            bytes,
        };
        assert_eq!(
            parse(&image, LOADER_MAGIC, BASE),
            Err(BootInfoError::StringTooLong {
                what: "command line"
            })
        );
    }

    #[test]
    fn cmdline_not_utf8() {
        let mut b = Builder::new();
        b.flags(flag::MEMORY);
        let addr = b.append(&[0xff, 0xfe, 0]);
        b.flags(flag::CMDLINE);
        b.put32(16, addr);
        assert_eq!(
            parse(&b.image(), LOADER_MAGIC, BASE),
            Err(BootInfoError::NotUtf8 {
                what: "command line"
            })
        );
    }

    #[test]
    fn short_map_entry_is_refused() {
        let mut b = Builder::new();
        let addr = b.append(&[4, 0, 0, 0, 0, 0, 0, 0]);
        b.flags(flag::MMAP);
        b.put32(44, 8);
        b.put32(48, addr);
        assert_eq!(
            parse(&b.image(), LOADER_MAGIC, BASE),
            Err(BootInfoError::BadMapEntry {
                addr: u64::from(addr)
            })
        );
    }

    #[test]
    fn too_many_regions_and_modules() {
        let mut b = Builder::new();
        let regions: Vec<_> = (0..=MAX_REGIONS as u64)
            .map(|i| (i << 12, 4096, 1))
            .collect();
        b.mmap(&regions);
        assert_eq!(
            parse(&b.image(), LOADER_MAGIC, BASE),
            Err(BootInfoError::TooManyRegions)
        );
        let mut b = Builder::new();
        b.mmap(&[(0, 4096, 1)]);
        b.flags(flag::MODULES);
        b.put32(20, MAX_MODULES as u32 + 1);
        assert_eq!(
            parse(&b.image(), LOADER_MAGIC, BASE),
            Err(BootInfoError::TooManyModules)
        );
    }

    #[test]
    fn module_ending_before_its_start() {
        let mut b = Builder::new();
        b.mmap(&[(0, 4096, 1)]);
        b.modules(&[(0x1000, 0x2000, "a"), (0x3000, 0x2fff, "b")]);
        assert_eq!(
            parse(&b.image(), LOADER_MAGIC, BASE),
            Err(BootInfoError::BadModuleRange { index: 1 })
        );
    }

    /// A multiboot2 structure at BASE from tags (type, payload).
    fn mb2(tags: &[(u32, Vec<u8>)]) -> Image {
        let mut bytes = vec![0u8; 8];
        for (kind, payload) in tags {
            let size = 8 + payload.len() as u32;
            bytes.extend_from_slice(&kind.to_le_bytes());
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes.extend_from_slice(payload);
            while !bytes.len().is_multiple_of(8) {
                bytes.push(0);
            }
        }
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&8u32.to_le_bytes());
        let total = bytes.len() as u32;
        bytes[0..4].copy_from_slice(&total.to_le_bytes());
        Image {
            base: u64::from(BASE),
            bytes,
        }
    }

    fn mmap2(regions: &[(u64, u64, u32)]) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&24u32.to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes());
        for &(start, len, ty) in regions {
            p.extend_from_slice(&start.to_le_bytes());
            p.extend_from_slice(&len.to_le_bytes());
            p.extend_from_slice(&ty.to_le_bytes());
            p.extend_from_slice(&0u32.to_le_bytes());
        }
        p
    }

    fn module2(start: u32, end: u32, name: &str) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&start.to_le_bytes());
        p.extend_from_slice(&end.to_le_bytes());
        p.extend_from_slice(name.as_bytes());
        p.push(0);
        p
    }

    #[test]
    fn multiboot2_cmdline_modules_and_map() {
        let image = mb2(&[
            (1, b"test quiet\0".to_vec()),
            (3, module2(0x20_0000, 0x20_1000, "bootstrap")),
            (21, vec![1, 2, 3]), // a tag the kernel ignores
            (
                6,
                mmap2(&[
                    (0, 0x9fc00, 1),
                    (0x10_0000, 0x7ee_0000, 1),
                    (0xfffc_0000, 0x4_0000, 2),
                ]),
            ),
        ]);
        let info = parse(&image, LOADER_MAGIC2, BASE).expect("valid");
        assert_eq!(info.cmdline.as_str(), "test quiet");
        assert_eq!(info.modules.len(), 1);
        assert_eq!(info.modules[0].name.as_str(), "bootstrap");
        assert_eq!(info.modules[0].end, 0x20_1000);
        assert_eq!(info.memory.len(), 3);
        assert_eq!(info.memory[2].kind, MemoryKind::Reserved(2));
    }

    #[test]
    fn multiboot2_basic_memory_fallback() {
        let mut basic = Vec::new();
        basic.extend_from_slice(&639u32.to_le_bytes());
        basic.extend_from_slice(&2048u32.to_le_bytes());
        let info = parse(&mb2(&[(4, basic)]), LOADER_MAGIC2, BASE).expect("valid");
        assert_eq!(info.memory[1].len, 2048 * 1024);
        assert_eq!(
            parse(&mb2(&[]), LOADER_MAGIC2, BASE),
            Err(BootInfoError::NoMemoryInformation)
        );
    }

    #[test]
    fn multiboot2_bad_sizes_are_refused() {
        // Total size too small.
        let mut image = mb2(&[]);
        image.bytes[0..4].copy_from_slice(&8u32.to_le_bytes());
        assert!(matches!(
            parse(&image, LOADER_MAGIC2, BASE),
            Err(BootInfoError::BadTag { .. })
        ));
        // A tag claiming to be larger than the structure.
        let mut image = mb2(&[(1, b"x\0".to_vec())]);
        image.bytes[12..16].copy_from_slice(&4096u32.to_le_bytes());
        assert!(matches!(
            parse(&image, LOADER_MAGIC2, BASE),
            Err(BootInfoError::BadTag { .. })
        ));
        // A tag smaller than its own header.
        let mut image = mb2(&[(1, b"x\0".to_vec())]);
        image.bytes[12..16].copy_from_slice(&4u32.to_le_bytes());
        assert!(matches!(
            parse(&image, LOADER_MAGIC2, BASE),
            Err(BootInfoError::BadTag { .. })
        ));
        // No end tag: the total size cuts it off.
        let mut image = mb2(&[(1, b"x\0".to_vec())]);
        let total = image.bytes.len() as u32 - 8;
        image.bytes[0..4].copy_from_slice(&total.to_le_bytes());
        assert!(matches!(
            parse(&image, LOADER_MAGIC2, BASE),
            Err(BootInfoError::BadTag { .. })
        ));
    }

    #[test]
    fn multiboot2_strings_must_end_in_their_tag() {
        // The command line runs into the next tag.
        let image = mb2(&[(1, b"abc".to_vec()), (21, b"def\0".to_vec())]);
        assert!(matches!(
            parse(&image, LOADER_MAGIC2, BASE),
            Err(BootInfoError::StringTooLong { .. } | BootInfoError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn multiboot2_module_ending_before_its_start() {
        let image = mb2(&[
            (3, module2(0x3000, 0x2000, "m")),
            (6, mmap2(&[(0, 4096, 1)])),
        ]);
        assert_eq!(
            parse(&image, LOADER_MAGIC2, BASE),
            Err(BootInfoError::BadModuleRange { index: 0 })
        );
    }

    proptest! {
        /// Arbitrary bytes never make the parser panic or loop forever.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512),
                                       flags in any::<u32>()) {
            let mut bytes = bytes;
            if bytes.len() >= 4 {
                bytes[0..4].copy_from_slice(&flags.to_le_bytes());
            }
            let image = Image { base: u64::from(BASE), bytes };
            let _ = parse(&image, LOADER_MAGIC, BASE);
            let _ = parse(&image, LOADER_MAGIC2, BASE);
        }
    }
}
