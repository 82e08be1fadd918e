//! A static Linux program loaded into a task from outside it, through the
//! task's port, as the Hurd's exec server loads a program on Mach: each
//! `PT_LOAD` segment `vm_allocate`d at its address (an `ET_EXEC` program)
//! or at [`PIE_BASE`](linux_abi::elf::PIE_BASE) plus its address (a static-pie), the pages holding
//! file bytes written with `vm_write` (the rest stays zero-filled), then
//! `vm_protect`ed as its flags say; the main thread's stack, [`STACK_SIZE`]
//! bytes ending at [`STACK_TOP`], with Linux's initial stack (`argc`,
//! `argv`, `envp`, the auxiliary vector and its strings, built by
//! [`linux_abi::stack`]) written at its top.
//!
//! The thread is the caller's to make: a Linux program starts at
//! [`Loaded::entry`] with `rsp` = [`Loaded::rsp`] and `rdx` = 0 (no
//! function for `atexit`, as the x86-64 psABI has it); its system calls
//! reach nothing until the task has an emulation vector.
//!
//! The file is untrusted: [`LinuxElf::parse`] has checked every header
//! before anything is mapped, and a file range that is not in the image is
//! [`LoadError::Elf`]. What was mapped before a failing step stays: the
//! caller ends the task.

use alloc::vec::Vec;

use hurd_ipc::{Error, PortName};
use hurd_rt::mach;
use linux_abi::elf::{ElfError, LinuxElf, PAGE, PF_R, PF_W, PF_X, Segment, USER_END};
use linux_abi::stack::{InitialStack, ProgramInfo, StackError, StackImage};

/// The end of the main thread's stack: the end of user space, as on Linux
/// (`TASK_SIZE`; `STACK_TOP` without randomisation).
pub const STACK_TOP: u64 = USER_END;

/// The main thread's stack: Linux's default `RLIMIT_STACK`, 8 MiB
/// (zero-filled memory costs nothing until it is touched).
pub const STACK_SIZE: u64 = 8 << 20;

/// `vm_protect`'s bits.
const VM_PROT_READ: u32 = 1;
const VM_PROT_WRITE: u32 = 2;
const VM_PROT_EXECUTE: u32 = 4;

/// Why a program could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The file is not a static Linux program this system runs.
    Elf(ElfError),
    /// The arguments and environment do not make a stack.
    Stack(StackError),
    /// A call on the task's port failed: which, and how.
    Call(&'static str, Error),
}

/// A program in its task, ready for its first thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The program's headers.
    pub elf: LinuxElf,
    /// Where the first thread starts (`AT_ENTRY`).
    pub entry: u64,
    /// Its `rsp`: `argc`, then the rest of the initial stack.
    pub rsp: u64,
    /// Where the `brk` heap begins: the page after the last segment.
    pub brk: u64,
}

/// What the program is told, besides its headers (which [`load`] fills in).
#[derive(Clone, Copy, Debug)]
pub struct Arguments<'a> {
    /// `argv`, its name first.
    pub argv: &'a [&'a [u8]],
    /// `envp`: `NAME=value` strings.
    pub envp: &'a [&'a [u8]],
    /// The name the program was executed as (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// The user and group ids (`AT_UID`, `AT_EUID`, `AT_GID`, `AT_EGID`).
    pub ids: [u32; 4],
    /// The 16 bytes `AT_RANDOM` points at (the program seeds its stack
    /// protector and hashing from them).
    pub random: [u8; 16],
}

fn step<T>(what: &'static str, r: Result<T, Error>) -> Result<T, LoadError> {
    r.map_err(|e| LoadError::Call(what, e))
}

/// Loads `image` into `task` (an empty task the caller holds) with `args`.
///
/// # Errors
///
/// [`LoadError`]: a file that is no static x86-64 Linux program, arguments
/// that do not fit, or a step the kernel refused.
pub fn load(task: PortName, image: &[u8], args: &Arguments<'_>) -> Result<Loaded, LoadError> {
    let elf = LinuxElf::parse(image, image.len() as u64).map_err(LoadError::Elf)?;
    let phdr = elf
        .phdr_addr()
        .ok_or(LoadError::Elf(ElfError::BadHeaders))?;
    let bias = elf.bias();
    for seg in &elf.segments {
        map_segment(task, image, seg, bias)?;
    }
    let info = ProgramInfo {
        phdr,
        phnum: u64::from(elf.phnum),
        entry: elf.entry_addr(),
        ids: args.ids,
        random: args.random,
        ..ProgramInfo::default()
    };
    let stack = InitialStack {
        argv: args.argv,
        envp: args.envp,
        execfn: args.execfn,
        info: &info,
    }
    .build(STACK_TOP)
    .map_err(LoadError::Stack)?;
    step(
        "vm_allocate (stack)",
        mach::vm_allocate(task, STACK_TOP - STACK_SIZE, STACK_SIZE, false),
    )?;
    for (at, page) in stack_pages(&stack) {
        step("vm_write (stack)", mach::vm_write(task, at, &page))?;
    }
    Ok(Loaded {
        entry: elf.entry_addr(),
        rsp: stack.rsp,
        brk: elf.brk_start(),
        elf,
    })
}

/// The pages of memory a segment covers, at `bias`: (first, end).
pub fn segment_range(seg: &Segment, bias: u64) -> (u64, u64) {
    let start = seg.vaddr.wrapping_add(bias);
    let first = start & !(PAGE - 1);
    let end = start.saturating_add(seg.memsz).saturating_add(PAGE - 1) & !(PAGE - 1);
    (first, end)
}

/// `vm_protect`'s bits for a segment's `p_flags` (anything readable or
/// executable can be read, as on x86).
pub fn protection(seg: &Segment) -> u32 {
    let mut prot = 0;
    if seg.flags & (PF_R | PF_X) != 0 {
        prot |= VM_PROT_READ;
    }
    if seg.flags & PF_W != 0 {
        prot |= VM_PROT_WRITE;
    }
    if seg.flags & PF_X != 0 {
        prot |= VM_PROT_EXECUTE;
    }
    prot
}

/// The pages of a segment that hold file bytes, each with its contents
/// (zero around the file's bytes: the rest of the segment is `.bss`).
///
/// # Errors
///
/// [`ElfError::BadSegment`] when the segment's file range is not in `image`.
pub fn segment_pages(
    image: &[u8],
    seg: &Segment,
    bias: u64,
) -> Result<Vec<(u64, [u8; PAGE as usize])>, ElfError> {
    let start = seg.vaddr.wrapping_add(bias);
    let file_end = start.saturating_add(seg.filesz);
    let (first, _) = segment_range(seg, bias);
    let mut pages = Vec::new();
    let mut at = first;
    while at < file_end {
        let mut page = [0u8; PAGE as usize];
        let from = at.max(start);
        let to = (at + PAGE).min(file_end);
        let offset =
            usize::try_from(seg.offset + (from - start)).map_err(|_| ElfError::BadSegment)?;
        let len = (to - from) as usize;
        let bytes = offset
            .checked_add(len)
            .and_then(|end| image.get(offset..end))
            .ok_or(ElfError::BadSegment)?;
        let inside = (from - at) as usize;
        page[inside..inside + len].copy_from_slice(bytes);
        pages.push((at, page));
        at += PAGE;
    }
    Ok(pages)
}

/// The pages of the stack image, each with its contents (zero below
/// `rsp`).
pub fn stack_pages(stack: &StackImage) -> Vec<(u64, [u8; PAGE as usize])> {
    let end = stack.rsp + stack.bytes.len() as u64;
    let mut pages = Vec::new();
    let mut at = stack.rsp & !(PAGE - 1);
    while at < end {
        let mut page = [0u8; PAGE as usize];
        let from = at.max(stack.rsp);
        let to = (at + PAGE).min(end);
        let src = (from - stack.rsp) as usize;
        let inside = (from - at) as usize;
        let len = (to - from) as usize;
        page[inside..inside + len].copy_from_slice(&stack.bytes[src..src + len]);
        pages.push((at, page));
        at += PAGE;
    }
    pages
}

/// Maps one segment: allocate, write the file's pages, protect.
fn map_segment(task: PortName, image: &[u8], seg: &Segment, bias: u64) -> Result<(), LoadError> {
    let (first, end) = segment_range(seg, bias);
    step(
        "vm_allocate",
        mach::vm_allocate(task, first, end - first, false),
    )?;
    for (at, page) in segment_pages(image, seg, bias).map_err(LoadError::Elf)? {
        step("vm_write", mach::vm_write(task, at, &page))?;
    }
    step(
        "vm_protect",
        mach::vm_protect(task, (first, end - first), false, protection(seg)),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use linux_abi::elf::PIE_BASE;

    fn seg(vaddr: u64, offset: u64, filesz: u64, memsz: u64, flags: u32) -> Segment {
        Segment {
            vaddr,
            memsz,
            offset,
            filesz,
            flags,
        }
    }

    #[test]
    fn a_segment_s_file_bytes_land_in_their_pages_and_the_rest_is_zero() {
        // As musl-gcc's data segment: starts mid-page, file bytes cross a
        // page, .bss runs on.
        let image: Vec<u8> = (0..0x4000u32).map(|i| (i % 251) as u8).collect();
        let s = seg(0x40_3fd0, 0x2fd0, 0x40, 0x2a8, PF_R | PF_W);
        assert_eq!(segment_range(&s, 0), (0x40_3000, 0x40_5000));
        let pages = segment_pages(&image, &s, 0).unwrap();
        assert_eq!(pages.len(), 2);
        let (at, first) = &pages[0];
        assert_eq!(*at, 0x40_3000);
        assert!(first[..0xfd0].iter().all(|&b| b == 0));
        assert_eq!(&first[0xfd0..], &image[0x2fd0..0x3000]);
        let (at, second) = &pages[1];
        assert_eq!(*at, 0x40_4000);
        assert_eq!(&second[..0x10], &image[0x3000..0x3010]);
        assert!(second[0x10..].iter().all(|&b| b == 0));
        // A static-pie's pages move by the bias.
        let pie = segment_pages(&image, &seg(0x1000, 0x1000, 0x10, 0x10, PF_R), PIE_BASE).unwrap();
        assert_eq!(pie[0].0, PIE_BASE + 0x1000);
        assert_eq!(&pie[0].1[..0x10], &image[0x1000..0x1010]);
    }

    #[test]
    fn file_ranges_outside_the_image_are_refused() {
        let image = [0u8; 100];
        let s = seg(0x40_0000, 90, 20, 20, PF_R);
        assert_eq!(segment_pages(&image, &s, 0), Err(ElfError::BadSegment));
        let huge = seg(0x40_0000, u64::MAX - 4, 20, 20, PF_R);
        assert_eq!(segment_pages(&image, &huge, 0), Err(ElfError::BadSegment));
    }

    #[test]
    fn protections_follow_the_flags() {
        let p = |flags| protection(&seg(0, 0, 0, 0, flags));
        assert_eq!(p(PF_R), 1);
        assert_eq!(p(PF_R | PF_X), 5);
        assert_eq!(p(PF_X), 5);
        assert_eq!(p(PF_R | PF_W), 3);
        assert_eq!(p(0), 0);
    }

    #[test]
    fn the_stack_image_is_written_in_whole_pages_ending_at_its_top() {
        let info = ProgramInfo {
            phdr: 0x40_0040,
            phnum: 6,
            entry: 0x40_1036,
            ..ProgramInfo::default()
        };
        let long = [b'x'; 5000];
        let argv: [&[u8]; 2] = [b"prog", &long];
        let stack = InitialStack {
            argv: &argv,
            envp: &[b"HOME=/"],
            execfn: b"/bin/prog",
            info: &info,
        }
        .build(STACK_TOP)
        .unwrap();
        let pages = stack_pages(&stack);
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[1].0 + PAGE, STACK_TOP);
        let mut memory = Vec::new();
        for (_, page) in &pages {
            memory.extend_from_slice(page);
        }
        let rsp = (stack.rsp - pages[0].0) as usize;
        assert!(memory[..rsp].iter().all(|&b| b == 0));
        assert_eq!(&memory[rsp..], &stack.bytes[..]);
        // argc first.
        assert_eq!(memory[rsp..rsp + 8], 2u64.to_le_bytes());
    }
}
