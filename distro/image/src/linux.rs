//! Linux programs in an image: which `[[program]]` files are static Linux
//! executables, which the exec server starts with the Linux emulator in
//! their task, and the checks that make a mistake with one a build error
//! naming its line rather than an `exec format error` on the running
//! system.

use hurd_abi::elf as native;
use linux_abi::elf::{ElfError, LinuxElf};

/// Where the exec server finds the Linux emulator, which it maps into the
/// task of each static Linux program it starts (the `/lib/hurd-rs/linux`
/// of `distro-programs`' exec server): an image with a static Linux
/// program must have a `[[program]]` there (package `linux-emulator`, bin
/// `linux-emulation`).
pub const LINUX_EMULATOR: &str = linux_abi::EMULATOR_PATH;

/// What a program file is to the exec server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramKind {
    /// A hurd-rs program (an ELF executable with the `hurd-rs` note).
    HurdRs,
    /// A static Linux program (an x86-64 executable without that note,
    /// `ET_EXEC` or a static-pie), started with the emulator.
    Linux,
    /// A dynamically linked Linux program (one with `PT_INTERP`): there is
    /// no dynamic linker, so it never runs.
    LinuxDynamic,
    /// Anything else (a script, data, an ELF file of another machine): the
    /// exec server decides at run time.
    Other,
}

/// What `data` is to the exec server, decided as it decides: a file with
/// the hurd-rs note is a hurd-rs program; an x86-64 executable without it
/// that [`LinuxElf`] accepts is a static Linux program.
pub fn program_kind(data: &[u8]) -> ProgramKind {
    let linux = LinuxElf::parse(data, data.len() as u64);
    let noted = native::note_abi(data).is_ok_and(|abi| abi.is_some());
    match native::parse(data, 0, u64::MAX) {
        Ok(e) if e.abi.is_some() => ProgramKind::HurdRs,
        // The note alone tells a hurd-rs program: a Linux one may have
        // more segments than a hurd-rs one may.
        _ if noted => ProgramKind::Other,
        _ if linux.is_ok() => ProgramKind::Linux,
        _ if matches!(linux, Err(ElfError::Dynamic)) => ProgramKind::LinuxDynamic,
        _ => ProgramKind::Other,
    }
}
