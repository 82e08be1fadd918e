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

use hurd_abi::thread_state;
use hurd_ipc::{Error, PortName};
use hurd_rt::mach;
use linux_abi::elf::{ElfError, LinuxElf, PAGE, PF_R, PF_W, PF_X, Segment, USER_END};
use linux_abi::flags::{PROT_READ, PROT_WRITE};
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
    /// The emulator's image is not a hurd-rs program that fits its range.
    Emulator(hurd_abi::elf::ElfError),
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

impl Loaded {
    /// The memory the program has at its start: each segment's pages with
    /// their protection, and the stack (`(first, end, PROT_*)`).
    pub fn regions(&self) -> Vec<(u64, u64, u32)> {
        let mut regions: Vec<(u64, u64, u32)> = self
            .elf
            .segments
            .iter()
            .map(|s| {
                let (first, end) = segment_range(s, self.elf.bias());
                (first, end, protection(s))
            })
            .collect();
        regions.push((STACK_TOP - STACK_SIZE, STACK_TOP, PROT_READ | PROT_WRITE));
        regions
    }
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

/// The emulator's range in a Linux program's task: its image, start block,
/// stack and heap; 1 GiB below the main stack that Linux programs leave
/// alone (their `mmap`s go below it, `MAP_FIXED` into it is refused).
pub const EMULATOR_BASE: u64 = 0x7e00_0000_0000;
/// The end of the emulator's range.
pub const EMULATOR_END: u64 = EMULATOR_BASE + (1 << 30);
/// The page holding the [`Startup`] block.
pub const STARTUP_AT: u64 = EMULATOR_BASE + (256 << 20);
/// The top of the emulator's stack (its first thread's, which it also
/// runs the program's system calls on).
pub const EMULATOR_STACK_TOP: u64 = EMULATOR_BASE + (512 << 20);
/// The emulator's stack.
pub const EMULATOR_STACK_SIZE: u64 = 256 << 10;
/// The emulator's heap: the rest of its range.
pub const EMULATOR_HEAP: (u64, u64) = (EMULATOR_STACK_TOP, EMULATOR_END);

/// What the loader tells the emulator, in the page at [`STARTUP_AT`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Startup {
    /// The program's entry point.
    pub entry: u64,
    /// Its first `rsp` (the initial stack).
    pub rsp: u64,
    /// Where its `brk` heap starts.
    pub brk: u64,
    /// Its process id.
    pub pid: u32,
    /// What is mapped for it: `(start, end, PROT_*)`, page-aligned — its
    /// segments and its stack.
    pub regions: Vec<(u64, u64, u32)>,
}

impl Startup {
    /// "LINUXEMU": the block's first word.
    pub const MAGIC: u64 = u64::from_le_bytes(*b"LINUXEMU");
    /// The most regions a block holds.
    pub const MAX_REGIONS: usize = 64;

    /// The block as a page: the magic, entry, rsp, brk, pid, the number of
    /// regions, then three words per region. `None` with more than
    /// [`Startup::MAX_REGIONS`] regions.
    pub fn to_page(&self) -> Option<[u8; PAGE as usize]> {
        if self.regions.len() > Self::MAX_REGIONS {
            return None;
        }
        let mut words = Vec::with_capacity(6 + 3 * self.regions.len());
        words.extend_from_slice(&[
            Self::MAGIC,
            self.entry,
            self.rsp,
            self.brk,
            u64::from(self.pid),
            self.regions.len() as u64,
        ]);
        for &(start, end, prot) in &self.regions {
            words.extend_from_slice(&[start, end, u64::from(prot)]);
        }
        let mut page = [0u8; PAGE as usize];
        for (chunk, w) in page.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        Some(page)
    }

    /// Reads a block back; `None` when the magic or the region count is
    /// wrong, or a value does not fit its field.
    pub fn from_page(page: &[u8]) -> Option<Startup> {
        let word = |i: usize| {
            page.get(i * 8..i * 8 + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
        };
        if word(0)? != Self::MAGIC {
            return None;
        }
        let count = usize::try_from(word(5)?).ok()?;
        if count > Self::MAX_REGIONS {
            return None;
        }
        let mut regions = Vec::with_capacity(count);
        for i in 0..count {
            let at = 6 + 3 * i;
            regions.push((word(at)?, word(at + 1)?, u32::try_from(word(at + 2)?).ok()?));
        }
        Some(Startup {
            entry: word(1)?,
            rsp: word(2)?,
            brk: word(3)?,
            pid: u32::try_from(word(4)?).ok()?,
            regions,
        })
    }
}

/// Loads `program` into `task` as [`load`] does, and the emulator
/// `emulator` (a hurd-rt program: it relocates itself) at
/// [`EMULATOR_BASE`], with its stack and the [`Startup`] block; makes the
/// task's thread (suspended) to start at the emulator's entry with
/// [`STARTUP_AT`] as its argument. The emulator takes the program from
/// there: it sets the emulation vector and jumps to the program.
///
/// # Errors
///
/// As [`load`]; an emulator image that is not a hurd-rs program or does
/// not fit below [`STARTUP_AT`] is [`LoadError::Emulator`].
pub fn load_emulated(
    task: PortName,
    program: &[u8],
    emulator: &[u8],
    args: &Arguments<'_>,
    pid: u32,
) -> Result<PortName, LoadError> {
    let exe = hurd_abi::elf::parse(emulator, hurd_abi::USER_BASE, hurd_abi::USER_END)
        .map_err(LoadError::Emulator)?;
    if exe.abi != Some(hurd_abi::elf::ABI_VERSION) {
        return Err(LoadError::Emulator(
            hurd_abi::elf::ElfError::NotAnExecutable,
        ));
    }
    let low = exe.segments.iter().map(|s| s.vaddr).min().unwrap_or(0) & !(PAGE - 1);
    let bias = EMULATOR_BASE.wrapping_sub(low);
    let segments: Vec<Segment> = exe
        .segments
        .iter()
        .map(|s| Segment {
            vaddr: s.vaddr,
            memsz: s.mem_size,
            offset: s.offset,
            filesz: s.file_size,
            flags: (u32::from(s.read) * PF_R)
                | (u32::from(s.write) * PF_W)
                | (u32::from(s.execute) * PF_X),
        })
        .collect();
    for seg in &segments {
        let (first, end) = segment_range(seg, bias);
        if first < EMULATOR_BASE || end > STARTUP_AT {
            return Err(LoadError::Emulator(hurd_abi::elf::ElfError::BadSegment));
        }
    }
    let loaded = load(task, program, args)?;
    for seg in &segments {
        map_segment(task, emulator, seg, bias)?;
    }
    let regions = loaded.regions();
    let startup = Startup {
        entry: loaded.entry,
        rsp: loaded.rsp,
        brk: loaded.brk,
        pid,
        regions,
    };
    let page = startup
        .to_page()
        .ok_or(LoadError::Elf(ElfError::BadHeaders))?;
    step(
        "vm_allocate (startup)",
        mach::vm_allocate(task, STARTUP_AT, PAGE, false),
    )?;
    step(
        "vm_write (startup)",
        mach::vm_write(task, STARTUP_AT, &page),
    )?;
    step(
        "vm_allocate (emulator stack)",
        mach::vm_allocate(
            task,
            EMULATOR_STACK_TOP - EMULATOR_STACK_SIZE,
            EMULATOR_STACK_SIZE,
            false,
        ),
    )?;
    let thread = step("thread_create", mach::thread_create(task))?;
    let mut state = [0u64; thread_state::COUNT];
    state[thread_state::RIP] = exe.entry.wrapping_add(bias);
    state[thread_state::RSP] = EMULATOR_STACK_TOP;
    state[thread_state::RDI] = STARTUP_AT;
    step(
        "thread_set_state",
        mach::thread_set_state(thread, thread_state::FLAVOR, &state),
    )?;
    Ok(thread)
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
