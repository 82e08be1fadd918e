//! Which ELF files run as Linux programs here: statically linked x86_64
//! executables, either fixed-address (`ET_EXEC`, as Debian's busybox-static
//! and `musl-gcc -static` make them) or position-independent (`ET_DYN`
//! without an interpreter: static-pie, Rust's musl target's default),
//! which are loaded at a base address. Dynamically linked programs
//! (`PT_INTERP`) are refused: there is no Linux dynamic loader here.
//!
//! [`LinuxElf::parse`] checks the headers of an untrusted file with every
//! bound checked and gives the segments to map; it never panics.

use alloc::vec::Vec;

use crate::bytes::{u16_at, u32_at, u64_at};

/// `ET_EXEC`.
pub const ET_EXEC: u16 = 2;
/// `ET_DYN`.
pub const ET_DYN: u16 = 3;
/// `EM_X86_64`.
pub const EM_X86_64: u16 = 62;
/// `PT_LOAD`.
pub const PT_LOAD: u32 = 1;
/// `PT_INTERP`.
pub const PT_INTERP: u32 = 3;
/// `PT_PHDR`.
pub const PT_PHDR: u32 = 6;
/// `PT_TLS`.
pub const PT_TLS: u32 = 7;
/// `PT_GNU_STACK`.
pub const PT_GNU_STACK: u32 = 0x6474_e551;
/// `PF_X`.
pub const PF_X: u32 = 1;
/// `PF_W`.
pub const PF_W: u32 = 2;
/// `PF_R`.
pub const PF_R: u32 = 4;

/// Bytes of the ELF64 header.
pub const EHDR_SIZE: usize = 64;
/// Bytes of an ELF64 program header.
pub const PHDR_SIZE: usize = 56;
/// The most program headers accepted.
pub const MAX_PHDRS: usize = 64;
/// The lowest address a segment may use (Linux's `mmap_min_addr`).
pub const MIN_ADDR: u64 = 0x1_0000;
/// The end of user space.
pub const USER_END: u64 = 0x7fff_ffff_f000;
/// Where static-pie programs are loaded (Linux x86_64's `ELF_ET_DYN_BASE`).
pub const PIE_BASE: u64 = 0x5555_5555_4000;
/// The page size.
pub const PAGE: u64 = 4096;

/// The kind of program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// `ET_EXEC`: at its link addresses.
    Exec,
    /// `ET_DYN` without `PT_INTERP`: relocated at a load base; its start
    /// code relocates itself (rcrt1).
    StaticPie,
}

/// A loadable segment, at link addresses (add the load bias).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Segment {
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_offset`.
    pub offset: u64,
    /// `p_filesz` (the rest up to `memsz` is zero).
    pub filesz: u64,
    /// `p_flags` (`PF_R`, `PF_W`, `PF_X`).
    pub flags: u32,
}

/// The thread-local storage template (`PT_TLS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Tls {
    /// `p_vaddr` of the initialised part.
    pub vaddr: u64,
    /// Bytes initialised from the file.
    pub filesz: u64,
    /// Bytes in all.
    pub memsz: u64,
    /// Alignment.
    pub align: u64,
}

/// A checked Linux program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxElf {
    /// Fixed or position-independent.
    pub kind: Kind,
    /// `e_entry` (link address).
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phnum`.
    pub phnum: u16,
    /// `PT_PHDR`'s address, if present.
    pub phdr_vaddr: Option<u64>,
    /// The `PT_LOAD` segments, in file order.
    pub segments: Vec<Segment>,
    /// `PT_TLS`.
    pub tls: Option<Tls>,
    /// Whether `PT_GNU_STACK` asks for an executable stack.
    pub exec_stack: bool,
}

/// Why a file is not a Linux program this system runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ElfError {
    /// Not an ELF file, or not 64-bit little-endian x86_64 (`ENOEXEC`).
    NotElf,
    /// An ELF file of another type (relocatable, core...).
    BadType(u16),
    /// A dynamically linked program (`PT_INTERP`).
    Dynamic,
    /// A header points outside the file or has the wrong size.
    Truncated,
    /// More than [`MAX_PHDRS`] program headers, or no loadable segment.
    BadHeaders,
    /// A segment lies outside user space, wraps, overlaps another, or has
    /// more file bytes than memory bytes or inconsistent alignment.
    BadSegment,
}

impl LinuxElf {
    /// Checks `file` (at least its headers; segment file ranges are checked
    /// against `file_len`, the whole file's length).
    ///
    /// # Errors
    /// See [`ElfError`].
    pub fn parse(file: &[u8], file_len: u64) -> Result<LinuxElf, ElfError> {
        if file.len() < EHDR_SIZE || &file[0..4] != b"\x7fELF" {
            return Err(ElfError::NotElf);
        }
        // EI_CLASS 2 (64-bit), EI_DATA 1 (little-endian), EI_VERSION 1.
        if file[4] != 2 || file[5] != 1 || file[6] != 1 || u16_at(file, 18) != EM_X86_64 {
            return Err(ElfError::NotElf);
        }
        let kind = match u16_at(file, 16) {
            ET_EXEC => Kind::Exec,
            ET_DYN => Kind::StaticPie,
            other => return Err(ElfError::BadType(other)),
        };
        let entry = u64_at(file, 24);
        let phoff = u64_at(file, 32);
        let phentsize = u16_at(file, 54);
        let phnum = u16_at(file, 56);
        if usize::from(phnum) > MAX_PHDRS || phnum == 0 {
            return Err(ElfError::BadHeaders);
        }
        if usize::from(phentsize) != PHDR_SIZE {
            return Err(ElfError::Truncated);
        }
        let table = usize::try_from(phoff).map_err(|_| ElfError::Truncated)?;
        let end = table
            .checked_add(usize::from(phnum) * PHDR_SIZE)
            .ok_or(ElfError::Truncated)?;
        let phdrs = file.get(table..end).ok_or(ElfError::Truncated)?;
        let mut elf = LinuxElf {
            kind,
            entry,
            phoff,
            phnum,
            phdr_vaddr: None,
            segments: Vec::new(),
            tls: None,
            exec_stack: false,
        };
        for ph in phdrs.chunks_exact(PHDR_SIZE) {
            let p_type = u32_at(ph, 0);
            let flags = u32_at(ph, 4);
            let offset = u64_at(ph, 8);
            let vaddr = u64_at(ph, 16);
            let filesz = u64_at(ph, 32);
            let memsz = u64_at(ph, 40);
            let align = u64_at(ph, 48);
            match p_type {
                PT_INTERP => return Err(ElfError::Dynamic),
                PT_LOAD => {
                    if filesz > memsz || offset.checked_add(filesz).is_none_or(|e| e > file_len) {
                        return Err(ElfError::BadSegment);
                    }
                    if align > 1
                        && (align.count_ones() != 1
                            || vaddr % align.min(PAGE) != offset % align.min(PAGE))
                    {
                        return Err(ElfError::BadSegment);
                    }
                    elf.segments.push(Segment {
                        vaddr,
                        memsz,
                        offset,
                        filesz,
                        flags,
                    });
                }
                PT_PHDR => elf.phdr_vaddr = Some(vaddr),
                PT_TLS => {
                    if filesz > memsz || (align > 1 && align.count_ones() != 1) {
                        return Err(ElfError::BadSegment);
                    }
                    elf.tls = Some(Tls {
                        vaddr,
                        filesz,
                        memsz,
                        align,
                    });
                }
                PT_GNU_STACK => elf.exec_stack = flags & PF_X != 0,
                _ => {}
            }
        }
        if elf.segments.is_empty() {
            return Err(ElfError::BadHeaders);
        }
        elf.check_layout()?;
        Ok(elf)
    }

    /// The load bias: 0 for `ET_EXEC`, [`PIE_BASE`] for static-pie.
    pub const fn bias(&self) -> u64 {
        match self.kind {
            Kind::Exec => 0,
            Kind::StaticPie => PIE_BASE,
        }
    }

    /// Segments inside user space (after the bias), none overlapping.
    fn check_layout(&self) -> Result<(), ElfError> {
        let bias = self.bias();
        let mut ranges: Vec<(u64, u64)> = Vec::with_capacity(self.segments.len());
        for s in &self.segments {
            let start = s.vaddr.checked_add(bias).ok_or(ElfError::BadSegment)? & !(PAGE - 1);
            let end = s
                .vaddr
                .checked_add(bias)
                .and_then(|v| v.checked_add(s.memsz))
                .and_then(|v| v.checked_add(PAGE - 1))
                .ok_or(ElfError::BadSegment)?
                & !(PAGE - 1);
            if start < MIN_ADDR || end > USER_END {
                return Err(ElfError::BadSegment);
            }
            ranges.push((start, end));
        }
        ranges.sort_unstable();
        if ranges.windows(2).any(|w| w[0].1 > w[1].0) {
            return Err(ElfError::BadSegment);
        }
        Ok(())
    }

    /// `AT_ENTRY`: the entry point at the load address.
    pub const fn entry_addr(&self) -> u64 {
        self.entry.wrapping_add(self.bias())
    }

    /// `AT_PHDR`: where the program headers are in memory — `PT_PHDR`, or
    /// inside the segment that maps file offset `e_phoff`; `None` if no
    /// segment maps them (the program cannot find its TLS then) or the
    /// address would wrap past the top of the address space.
    pub fn phdr_addr(&self) -> Option<u64> {
        if let Some(v) = self.phdr_vaddr {
            return v.checked_add(self.bias());
        }
        let bytes = u64::from(self.phnum) * PHDR_SIZE as u64;
        let end = self.phoff.checked_add(bytes)?;
        self.segments
            .iter()
            .find(|s| {
                s.offset <= self.phoff && s.offset.checked_add(s.filesz).is_some_and(|e| end <= e)
            })
            .and_then(|s| s.vaddr.checked_add(self.phoff - s.offset))
            .and_then(|v| v.checked_add(self.bias()))
    }

    /// The first address after the last segment, page-aligned: where the
    /// `brk` heap starts (saturating at the last page of the address space
    /// for segments [`LinuxElf::parse`] would not have accepted).
    pub fn brk_start(&self) -> u64 {
        let end = self
            .segments
            .iter()
            .map(|s| s.vaddr.saturating_add(s.memsz))
            .max()
            .unwrap_or(0)
            .saturating_add(self.bias());
        end.saturating_add(PAGE - 1) & !(PAGE - 1)
    }
}
