//! The initial stack of a Linux process: `argc`, the `argv` and `envp`
//! pointer arrays, the auxiliary vector, and the strings and random bytes
//! they point to (System V x86_64 ABI §3.4.1; Linux `fs/binfmt_elf.c`).
//!
//! [`InitialStack::build`] produces the bytes to copy below a stack's top
//! and the `rsp` the program starts with (16-byte aligned, pointing at
//! `argc`). Pointers in the image are final addresses, so the bytes are
//! copied as they are.

use alloc::vec::Vec;

/// `AT_NULL`: end of the vector.
pub const AT_NULL: u64 = 0;
/// `AT_PHDR`: the program headers' address.
pub const AT_PHDR: u64 = 3;
/// `AT_PHENT`: one program header's size (56).
pub const AT_PHENT: u64 = 4;
/// `AT_PHNUM`: how many program headers.
pub const AT_PHNUM: u64 = 5;
/// `AT_PAGESZ`: the page size.
pub const AT_PAGESZ: u64 = 6;
/// `AT_BASE`: the interpreter's base (0: none).
pub const AT_BASE: u64 = 7;
/// `AT_FLAGS`.
pub const AT_FLAGS: u64 = 8;
/// `AT_ENTRY`: the program's entry point.
pub const AT_ENTRY: u64 = 9;
/// `AT_UID`.
pub const AT_UID: u64 = 11;
/// `AT_EUID`.
pub const AT_EUID: u64 = 12;
/// `AT_GID`.
pub const AT_GID: u64 = 13;
/// `AT_EGID`.
pub const AT_EGID: u64 = 14;
/// `AT_PLATFORM`: address of "x86_64".
pub const AT_PLATFORM: u64 = 15;
/// `AT_HWCAP`: CPUID 1 EDX.
pub const AT_HWCAP: u64 = 16;
/// `AT_CLKTCK`: `times()` ticks per second.
pub const AT_CLKTCK: u64 = 17;
/// `AT_SECURE`: set-id program.
pub const AT_SECURE: u64 = 23;
/// `AT_RANDOM`: address of 16 random bytes (glibc reads it unchecked).
pub const AT_RANDOM: u64 = 25;
/// `AT_HWCAP2`.
pub const AT_HWCAP2: u64 = 26;
/// `AT_EXECFN`: address of the file name executed.
pub const AT_EXECFN: u64 = 31;
/// `AT_MINSIGSTKSZ`: the smallest signal stack the hardware needs.
pub const AT_MINSIGSTKSZ: u64 = 51;

/// The most bytes of arguments and environment strings together (Linux's
/// default `ARG_MAX` is a quarter of an 8 MiB stack; exec says `E2BIG`
/// beyond).
pub const ARG_MAX: usize = 2 * 1024 * 1024;
/// The most strings of `argv` and `envp` together.
pub const MAX_STRINGS: usize = 0x7fff_ffff / 8;

/// What the program is told about itself and the machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramInfo {
    /// `AT_PHDR`.
    pub phdr: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_ENTRY`.
    pub entry: u64,
    /// `AT_UID`, `AT_EUID`, `AT_GID`, `AT_EGID`.
    pub ids: [u32; 4],
    /// `AT_SECURE`.
    pub secure: bool,
    /// `AT_HWCAP` (CPUID 1 EDX).
    pub hwcap: u64,
    /// `AT_HWCAP2`.
    pub hwcap2: u64,
    /// The 16 bytes `AT_RANDOM` points at.
    pub random: [u8; 16],
}

/// The process's arguments and environment.
#[derive(Clone, Copy, Debug)]
pub struct InitialStack<'a> {
    /// `argv`, without NULs.
    pub argv: &'a [&'a [u8]],
    /// `envp` (`NAME=value`), without NULs.
    pub envp: &'a [&'a [u8]],
    /// The file name executed (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// The rest of the auxiliary vector's facts.
    pub info: &'a ProgramInfo,
}

/// The stack image and where the program starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    /// The program's initial `rsp` (16-byte aligned; `[rsp]` is `argc`).
    pub rsp: u64,
    /// The bytes to place at `rsp` .. `rsp + bytes.len()` (= the top given).
    pub bytes: Vec<u8>,
}

/// Why the stack could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StackError {
    /// The strings exceed [`ARG_MAX`] (exec's `E2BIG`).
    TooBig,
    /// A string holds a NUL byte (`EINVAL`).
    Nul,
    /// The top is too low to hold the image, or not 16-byte aligned.
    BadTop,
}

impl InitialStack<'_> {
    /// The auxiliary vector this stack carries, with `random`, `platform`
    /// and `execfn` standing for those strings' addresses.
    pub fn auxv(&self, random: u64, platform: u64, execfn: u64) -> [(u64, u64); 20] {
        let i = self.info;
        [
            (AT_PHDR, i.phdr),
            (AT_PHENT, 56),
            (AT_PHNUM, i.phnum),
            (AT_PAGESZ, 4096),
            (AT_BASE, 0),
            (AT_FLAGS, 0),
            (AT_ENTRY, i.entry),
            (AT_UID, u64::from(i.ids[0])),
            (AT_EUID, u64::from(i.ids[1])),
            (AT_GID, u64::from(i.ids[2])),
            (AT_EGID, u64::from(i.ids[3])),
            (AT_SECURE, u64::from(i.secure)),
            (AT_RANDOM, random),
            (AT_HWCAP, i.hwcap),
            (AT_HWCAP2, i.hwcap2),
            (AT_CLKTCK, 100),
            (AT_PLATFORM, platform),
            (AT_EXECFN, execfn),
            (AT_MINSIGSTKSZ, 2048),
            (AT_NULL, 0),
        ]
    }

    /// Lays the stack out below `top` (16-byte aligned): the strings
    /// (execfn, envp, argv), "x86_64" and the random bytes at the top, then,
    /// 16-byte aligned, `argc`, `argv[]`, NULL, `envp[]`, NULL, the
    /// auxiliary vector and `AT_NULL`.
    ///
    /// # Errors
    /// [`StackError::TooBig`], [`StackError::Nul`], [`StackError::BadTop`].
    pub fn build(&self, top: u64) -> Result<StackImage, StackError> {
        if !top.is_multiple_of(16) {
            return Err(StackError::BadTop);
        }
        let strings = self
            .argv
            .iter()
            .chain(self.envp.iter())
            .chain(core::iter::once(&self.execfn));
        let mut total = 0usize;
        for s in strings {
            if s.contains(&0) {
                return Err(StackError::Nul);
            }
            total = total.checked_add(s.len() + 1).ok_or(StackError::TooBig)?;
        }
        if total > ARG_MAX || self.argv.len() + self.envp.len() > MAX_STRINGS {
            return Err(StackError::TooBig);
        }
        // The string area, built downward from `top`, as addresses.
        let mut area: Vec<u8> = Vec::with_capacity(total + 32);
        let place = |s: &[u8], area: &mut Vec<u8>| -> usize {
            let at = area.len();
            area.extend_from_slice(s);
            area.push(0);
            at
        };
        // Offsets within `area`, turned into addresses once its size is known.
        let execfn_off = place(self.execfn, &mut area);
        let env_offs: Vec<usize> = self.envp.iter().map(|s| place(s, &mut area)).collect();
        let arg_offs: Vec<usize> = self.argv.iter().map(|s| place(s, &mut area)).collect();
        let platform_off = place(b"x86_64", &mut area);
        let random_off = area.len();
        area.extend_from_slice(&self.info.random);
        let area_len = (area.len() + 15) & !15;
        area.resize(area_len, 0);
        let area_base = top.checked_sub(area_len as u64).ok_or(StackError::BadTop)?;
        let addr = |off: usize| area_base + off as u64;

        let auxv = self.auxv(addr(random_off), addr(platform_off), addr(execfn_off));
        let words = 1 + self.argv.len() + 1 + self.envp.len() + 1 + 2 * auxv.len();
        let table_len = ((words * 8) + 15) & !15;
        let rsp = area_base
            .checked_sub(table_len as u64)
            .ok_or(StackError::BadTop)?;
        let mut bytes = Vec::with_capacity(table_len + area_len);
        let mut word = |w: u64| bytes.extend_from_slice(&w.to_le_bytes());
        word(self.argv.len() as u64);
        arg_offs.iter().for_each(|&o| word(addr(o)));
        word(0);
        env_offs.iter().for_each(|&o| word(addr(o)));
        word(0);
        for (k, v) in auxv {
            word(k);
            word(v);
        }
        bytes.resize(table_len, 0);
        bytes.extend_from_slice(&area);
        Ok(StackImage { rsp, bytes })
    }
}
