//! The Linux emulator: a hurd-rt program that lives in a static Linux
//! program's own task, at [`EMULATOR_BASE`](load::EMULATOR_BASE), and
//! carries out the program's system calls. The loader
//! ([`load::load_emulated`]) maps the program, its stack and this image,
//! and starts the task's thread here with the [`Startup`] block's address.
//!
//! Start: the heap is kept inside the emulator's range
//! ([`hurd_rt::heap::place`]), the emulator's own view of the program's
//! memory is made from the block, the thread's GS base is set to its
//! thread block (the program owns FS, for its thread pointer), the task's
//! emulation vector sends every Linux system call number to [`entry`], and
//! the emulator jumps to the program with its initial stack.
//!
//! A call: the kernel sends the thread to the entry with every register as
//! `syscall` left them. The entry saves the program's `rsp` in the thread
//! block, switches to the emulator's stack (the block's `stack_top`),
//! saves the argument registers, `rcx` (the return address) and `r11` (the
//! flags), and calls [`emulate`]; on return it restores them, puts the
//! result in `rax`, the flags back, the program's `rsp`, and jumps to
//! `rcx`. Nothing is written on the program's stack, so its red zone is
//! safe; `rcx` and `r11` hold what `syscall` put there, as on Linux.
//!
//! Every pointer the program passes is checked against the emulator's view
//! of its memory before it is read or written (`EFAULT` otherwise), and
//! every length is bounded. A call the emulator does not know is `-ENOSYS`,
//! reported once per number on the kernel console.
//!
//! Files are the process's own: the starter gives the task its root and
//! working directories, auth handle and standard input, output and error
//! as initial ports (`INIT_PORT_CRDIR`, `INIT_PORT_CWDIR`,
//! `INIT_PORT_AUTH`, [`hurd_rt::ports`]), and the file calls become RPCs
//! on them ([`linux_emulator::files`]), and so do the changes to the name
//! space (`mkdir`, `unlink`, `rename`, `link`, `symlink`, `readlink`,
//! `truncate`, `chmod`, `chdir`, `getcwd`…: [`linux_emulator::dirs`]).
//!
//! Processes are the Hurd's: `fork`, `vfork` and `clone` of a process
//! make a new task with a copy-on-write copy of this one's memory
//! (`task_create`), a child process at the proc server (`proc_child`),
//! the same rights under the same names in its space, and a thread that
//! starts at the child entry with the program's registers (the entry
//! saves them all), `rax` 0; `wait4` and `waitid` are `proc_wait`, `exit_group`
//! announces its status with `proc_mark_exit`; `execve` loads the new
//! program into this same task (same ports, same pid), `#!` scripts
//! included. One thread per program for now: threads (`clone` with
//! `CLONE_THREAD`) are `-ENOSYS`.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use core::time::Duration;
use hurd_abi::EmulationVector;
use hurd_abi::thread_state::{self, FLAVOR, FSGS_FLAVOR};
use hurd_ipc::PortName;
use hurd_ipc::{Disposition, PortItem, RightType, UserIpc};
use hurd_rt::{KernelIpc, console, mach, ports, task, thread};
use hurd_servers::proc;
use hurd_trans::hurd_auth::AuthClient;
use linux_abi::flags::{
    ARCH_GET_FS, ARCH_SET_FS, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, CLOCK_MONOTONIC,
    F_DUPFD, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED,
    MAP_SHARED_VALIDATE, O_CLOEXEC, O_RDONLY, PROT_EXEC, PROT_READ, PROT_WRITE,
};

use linux_abi::layout::misc::{PollFd, Rusage, Timespec, Timeval, Utsname};
use linux_abi::layout::termios::FIONBIO;
use linux_abi::layout::{KSigaction, SigInfo, StackT};
use linux_abi::signal::SigSet;
use linux_abi::signal::WaitStatus;
use linux_abi::{Errno, Sysno};
use linux_emulator::files::{File, Files, PATH_MAX};
use linux_emulator::ids::Ids;
use linux_emulator::load::{self, Startup};
use linux_emulator::memory::{AddressSpace, BrkChange, Layout};
use linux_emulator::process::{
    self as procs, Executable, ForkRequest, OwnNames, PortCopy, Refused,
};
use linux_emulator::random;
use linux_emulator::signals::{AltStack, SignalState};
use linux_emulator::time;
use spinning_top::Spinlock;

hurd_rt::entry!(main);

/// A thread's block, at its GS base: what the entry needs before it has a
/// stack.
#[repr(C)]
struct ThreadBlock {
    /// The program's `rsp` at the call.
    user_rsp: AtomicU64,
    /// The top of the emulator's stack for this thread.
    stack_top: AtomicU64,
}

/// The first (only) thread's block.
static BLOCK: ThreadBlock = ThreadBlock {
    user_rsp: AtomicU64::new(0),
    stack_top: AtomicU64::new(0),
};

/// The registers of a call as the entry saved them: every register the
/// program had but `rsp` (in the thread block), so that a `fork`'s child
/// can start with them.
#[repr(C)]
#[derive(Debug)]
pub struct Frame {
    /// `rax`: the call's number.
    nr: u64,
    /// The arguments: `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`.
    args: [u64; 6],
    /// `rcx`: where the program continues.
    rip: u64,
    /// `r11`: its flags.
    rflags: u64,
    /// The registers a call keeps: `rbx`, `rbp`, `r12` to `r15`.
    kept: [u64; 6],
}

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
core::arch::global_asm!(
    ".section .text.linux_emulation_entry, \"ax\", @progbits",
    ".globl linux_emulation_entry",
    "linux_emulation_entry:",
    "mov qword ptr gs:[{user_rsp}], rsp",
    "mov rsp, qword ptr gs:[{stack_top}]",
    "push r15",
    "push r14",
    "push r13",
    "push r12",
    "push rbp",
    "push rbx",
    "push r11",
    "push rcx",
    "push r9",
    "push r8",
    "push r10",
    "push rdx",
    "push rsi",
    "push rdi",
    "push rax",
    "cld",
    "mov rdi, rsp",
    // Fifteen words pushed on a 16-byte aligned top: align for the call.
    "sub rsp, 8",
    "call {emulate}",
    "add rsp, 16",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop r10",
    "pop r8",
    "pop r9",
    "pop rcx",
    "mov r11, qword ptr [rsp]",
    "popfq",
    // (`rbx`, `rbp`, `r12`-`r15`: `emulate` kept them.)
    "mov rsp, qword ptr gs:[{user_rsp}]",
    "jmp rcx",
    // A fork's child starts here, on its emulator stack, with the
    // program's registers as the parent's call had them and `rax` 0:
    // `fork_child` sets the child's state up, then the program goes on.
    ".globl linux_emulation_fork_child",
    "linux_emulation_fork_child:",
    "push r15",
    "push r14",
    "push r13",
    "push r12",
    "push rbp",
    "push rbx",
    "push r11",
    "push rcx",
    "push r9",
    "push r8",
    "push r10",
    "push rdx",
    "push rsi",
    "push rdi",
    "push rax",
    "cld",
    "sub rsp, 8",
    "call {fork_child}",
    "add rsp, 8",
    "pop rax",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop r10",
    "pop r8",
    "pop r9",
    "pop rcx",
    "pop r11",
    "pop rbx",
    "pop rbp",
    "pop r12",
    "pop r13",
    "pop r14",
    "pop r15",
    "push r11",
    "popfq",
    "mov rsp, qword ptr gs:[{user_rsp}]",
    "jmp rcx",
    user_rsp = const core::mem::offset_of!(ThreadBlock, user_rsp),
    stack_top = const core::mem::offset_of!(ThreadBlock, stack_top),
    emulate = sym emulate,
    fork_child = sym fork_child,
);

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
unsafe extern "C" {
    fn linux_emulation_entry();
    fn linux_emulation_fork_child();
}

/// The entry's address.
fn entry() -> u64 {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    return linux_emulation_entry as *const () as u64;
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    {
        // Off the kernel nothing calls it, but it is the program.
        let _: extern "C" fn(&mut Frame) -> u64 = emulate;
        0
    }
}

/// Where a fork's child starts.
fn fork_child_entry() -> u64 {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    return linux_emulation_fork_child as *const () as u64;
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    {
        let _: extern "C" fn() = fork_child;
        0
    }
}

/// The program's state: what Linux keeps for a process.
struct Process {
    /// Its memory, as it sees it.
    space: AddressSpace<()>,
    /// Its process (and thread) id.
    pid: u32,
    /// Its FS base (`arch_prctl`).
    fs_base: u64,
    /// `set_tid_address`'s address.
    clear_tid: u64,
    /// This thread's port.
    thread: PortName,
    /// Its files: directories and descriptors.
    files: Files,
    /// Its ids, once asked of its auth handle.
    ids: Option<Ids>,
    /// Its signal actions and mask (kept and reported; nothing delivers
    /// signals to the program yet).
    signals: SignalState,
    /// The thread's alternate signal stack.
    altstack: AltStack,
    /// The numbers of unknown calls already reported.
    reported: [u64; 8],
}

static PROCESS: Spinlock<Option<Process>> = Spinlock::new(None);

/// The most bytes one call reads from or writes to the program's memory.
const MAX_COPY: u64 = 1 << 20;
/// The most vectors of a `writev` (`IOV_MAX`).
const IOV_MAX: u64 = 1024;
/// The longest pause between two passes of a waiting `poll`.
const POLL_PAUSE: Duration = Duration::from_millis(10);
/// The entries of the emulation vector: every Linux system call number.
const ENTRIES: usize = 512;

/// The emulator's status when it cannot start the program.
const EXIT_NO_START: u64 = 126;

fn say(text: &str) {
    let _ = console::write(format!("linux: {text}\n").as_bytes());
}

fn main() -> u64 {
    // Before anything allocates: the heap stays in the emulator's range.
    let (heap, heap_end) = load::EMULATOR_HEAP;
    if hurd_rt::heap::place(heap, heap_end).is_err() {
        return EXIT_NO_START;
    }
    let Some(start) = startup() else {
        say("no start block");
        return EXIT_NO_START;
    };
    match prepare(&start) {
        Ok(()) => run_program(start.entry, start.rsp),
        Err(what) => {
            say(what);
            EXIT_NO_START
        }
    }
}

/// The start block the loader wrote.
fn startup() -> Option<Startup> {
    if hurd_rt::env::start_arg() != load::STARTUP_AT {
        return None;
    }
    // SAFETY: the loader mapped and wrote this page before starting the
    // thread (its address came as the thread's argument), and nothing
    // unmaps it.
    let page = unsafe { core::slice::from_raw_parts(load::STARTUP_AT as *const u8, 4096) };
    Startup::from_page(page)
}

/// The emulator's view of a program's memory at its start: its regions
/// (`(first, end, PROT_*)`), and the break at `brk`.
fn program_space(brk: u64, regions: &[(u64, u64, u32)]) -> Result<AddressSpace<()>, &'static str> {
    let layout = Layout {
        min: linux_abi::elf::MIN_ADDR,
        mmap_top: load::EMULATOR_BASE,
        user_end: linux_abi::elf::USER_END,
        reserved: (load::EMULATOR_BASE, load::EMULATOR_END),
    };
    let mut space = AddressSpace::new(layout, brk);
    for &(first, end, prot) in regions {
        space
            .map(first, end - first, true, false, prot, ())
            .map_err(|_| "a region of the program cannot be mapped")?;
    }
    Ok(space)
}

/// The process state, the GS base and the emulation vector.
fn prepare(start: &Startup) -> Result<(), &'static str> {
    let space = program_space(start.brk, &start.regions)?;
    let thread = thread::thread_self().map_err(|_| "no thread port")?;
    BLOCK
        .stack_top
        .store(load::EMULATOR_STACK_TOP, Ordering::SeqCst);
    let gs = &raw const BLOCK as u64;
    mach::thread_set_state(thread, FSGS_FLAVOR, &[0, gs])
        .map_err(|_| "setting the GS base failed")?;
    // A process of the proc server's knows its pid from it, as the Hurd's
    // C library asks at start (`proc_getpids`); else the loader's number.
    let pid = ports::held(ports::PROC)
        .and_then(|proc| hurd_servers::proc::pid_of(&KernelIpc::new(), proc))
        .and_then(|pid| u32::try_from(pid).ok())
        .unwrap_or(start.pid);
    *PROCESS.lock() = Some(Process {
        space,
        pid,
        fs_base: 0,
        clear_tid: 0,
        thread,
        files: initial_files()?,
        ids: None,
        signals: SignalState::new(pid as i32),
        altstack: AltStack::default(),
        reported: [0; 8],
    });
    let vector = EmulationVector::new(&[entry(); ENTRIES]).ok_or("no vector")?;
    hurd_abi::mach::Client::new(&hurd_rt::KernelIpc::new(), task::task_self())
        .task_set_emulation_vector(0, vector)
        .map_err(|_| "task_set_emulation_vector failed")
}

/// Writes a program's output on the kernel console.
fn to_console(data: &[u8]) {
    let _ = console::write(data);
}

/// The files the starter gave: the directories and auth handle, and
/// descriptors 0, 1 and 2 on the standard input, output and error ports
/// (the console for output and error when there are none).
fn initial_files() -> Result<Files, &'static str> {
    let held = |name| ports::held(name).unwrap_or(PortName::NULL);
    let crdir = held(ports::CRDIR);
    let mut cwdir = held(ports::CWDIR);
    if !cwdir.is_valid()
        && crdir.is_valid()
        && KernelIpc::new()
            .port_mod_refs(crdir, RightType::Send, 1)
            .is_ok()
    {
        // The root is the working directory (a port has one name in a
        // space): a reference of its own.
        cwdir = crdir;
    }
    let mut files = Files::new(crdir, cwdir, held(ports::AUTH), to_console);
    for (name, fallback) in [
        (ports::STDIN, File::Console),
        (ports::STDOUT, File::Console),
        (ports::STDERR, File::Console),
    ] {
        let file = ports::held(name).map_or(fallback, File::Port);
        files
            .insert(file)
            .map_err(|_| "no room for the standard descriptors")?;
    }
    Ok(files)
}

/// Leaves the emulator's stack for good: the program starts at `entry`
/// with `rsp`, and `rdx` = 0 (no function for `atexit`).
fn run_program(entry: u64, rsp: u64) -> ! {
    #[cfg(all(target_arch = "x86_64", target_os = "none"))]
    // SAFETY: `entry` and `rsp` are the program's entry point and initial
    // stack, which the loader mapped; from here on this thread runs the
    // program, and the emulator only through its entry.
    unsafe {
        core::arch::asm!(
            "mov rsp, rsi",
            "xor edx, edx",
            "xor ebp, ebp",
            "jmp rdi",
            in("rdi") entry,
            in("rsi") rsp,
            options(noreturn),
        )
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
    {
        let _ = (entry, rsp);
        task::exit(EXIT_NO_START)
    }
}

/// One call: its result for `rax` (a value, or `-errno`).
extern "C" fn emulate(frame: &mut Frame) -> u64 {
    let sysno = Sysno::from_raw(frame.nr);
    if let Some(s @ (Sysno::Fork | Sysno::Vfork | Sysno::Clone)) = sysno {
        // It takes the lock itself: the child's copy of it must be free.
        return fork(frame, s).unwrap_or_else(Errno::to_rax);
    }
    let mut guard = PROCESS.lock();
    let Some(p) = guard.as_mut() else {
        return Errno::Nosys.to_rax();
    };
    if sysno == Some(Sysno::Execve) {
        let (entry, rsp) = match execve(p, frame.args) {
            Ok(start) => start,
            Err(e) => return e.to_rax(),
        };
        drop(guard);
        run_program(entry, rsp);
    }
    let rsp = BLOCK.user_rsp.load(Ordering::Relaxed);
    let Some(sysno) = sysno else {
        return unsupported(p, frame.nr).unwrap_or_else(Errno::to_rax);
    };
    match call(p, sysno, frame.args, rsp) {
        Ok(v) => v,
        Err(e) => e.to_rax(),
    }
}

/// Carries out call `sysno` with `a` (its number looked up once, by
/// [`emulate`]; `rsp` is the program's stack pointer at the call).
fn call(p: &mut Process, sysno: Sysno, a: [u64; 6], rsp: u64) -> Result<u64, Errno> {
    let nr = u64::from(sysno.raw());
    let ipc = KernelIpc::new();
    // A descriptor argument is an `int`.
    let fd = |i: usize| a[i] as i32;
    match sysno {
        Sysno::Read => read(p, fd(0), a[1], a[2], None),
        Sysno::Pread64 => read(p, fd(0), a[1], a[2], Some(a[3] as i64)),
        Sysno::Readv => readv(p, fd(0), a[1], a[2]),
        Sysno::Write => {
            let data = copy_in(p, a[1], a[2].min(MAX_COPY))?;
            p.files.write(&ipc, fd(0), &data, None)
        }
        Sysno::Pwrite64 => {
            let data = copy_in(p, a[1], a[2].min(MAX_COPY))?;
            p.files.write(&ipc, fd(0), &data, Some(a[3] as i64))
        }
        Sysno::Writev => writev(p, fd(0), a[1], a[2]),
        Sysno::Open => {
            let name = copy_in_path(p, a[0])?;
            let fd = p
                .files
                .openat(&ipc, AT_FDCWD, &name, a[1] as u32, a[2] as u32)?;
            Ok(fd as u64)
        }
        Sysno::Openat => {
            let name = copy_in_path(p, a[1])?;
            let fd = p
                .files
                .openat(&ipc, fd(0), &name, a[2] as u32, a[3] as u32)?;
            Ok(fd as u64)
        }
        Sysno::Close => p.files.close(&ipc, fd(0)).map(|()| 0),
        Sysno::Fcntl => p.files.fcntl(&ipc, fd(0), a[1] as u32, a[2]),
        Sysno::Dup => p.files.fcntl(&ipc, fd(0), F_DUPFD, 0),
        Sysno::Dup2 => p
            .files
            .dup3(&ipc, fd(0), fd(1), false, false)
            .map(|fd| fd as u64),
        Sysno::Dup3 => {
            let flags = a[2] as u32;
            if flags & !O_CLOEXEC != 0 {
                return Err(Errno::Inval);
            }
            p.files
                .dup3(&ipc, fd(0), fd(1), flags != 0, true)
                .map(|fd| fd as u64)
        }
        Sysno::Lseek => p
            .files
            .lseek(&ipc, fd(0), a[1] as i64, a[2] as i32)
            .map(|at| at as u64),
        Sysno::Fstat => {
            let st = p.files.fstat(&ipc, fd(0))?;
            copy_out(p, a[1], &st.to_bytes()).map(|()| 0)
        }
        Sysno::Stat | Sysno::Lstat => {
            let name = copy_in_path(p, a[0])?;
            let flags = if sysno == Sysno::Lstat {
                AT_SYMLINK_NOFOLLOW
            } else {
                0
            };
            let st = p.files.statat(&ipc, AT_FDCWD, &name, flags)?;
            copy_out(p, a[1], &st.to_bytes()).map(|()| 0)
        }
        Sysno::Newfstatat => {
            let name = copy_in_path(p, a[1])?;
            let st = p.files.statat(&ipc, fd(0), &name, a[3] as u32)?;
            copy_out(p, a[2], &st.to_bytes()).map(|()| 0)
        }
        Sysno::Getdents64 => {
            let size = a[2].min(MAX_COPY);
            if !p.space.accessible(a[1], size.max(1), PROT_WRITE) {
                return Err(Errno::Fault);
            }
            let data = p.files.getdents64(&ipc, fd(0), size as usize)?;
            copy_out(p, a[1], &data)?;
            Ok(data.len() as u64)
        }
        Sysno::Mkdir => {
            let name = copy_in_path(p, a[0])?;
            p.files
                .mkdirat(&ipc, AT_FDCWD, &name, a[1] as u32)
                .map(|()| 0)
        }
        Sysno::Mkdirat => {
            let name = copy_in_path(p, a[1])?;
            p.files.mkdirat(&ipc, fd(0), &name, a[2] as u32).map(|()| 0)
        }
        Sysno::Unlink | Sysno::Rmdir => {
            let name = copy_in_path(p, a[0])?;
            let flags = if sysno == Sysno::Rmdir {
                AT_REMOVEDIR
            } else {
                0
            };
            p.files.unlinkat(&ipc, AT_FDCWD, &name, flags).map(|()| 0)
        }
        Sysno::Unlinkat => {
            let name = copy_in_path(p, a[1])?;
            p.files
                .unlinkat(&ipc, fd(0), &name, a[2] as u32)
                .map(|()| 0)
        }
        Sysno::Rename => {
            let (old, new) = (copy_in_path(p, a[0])?, copy_in_path(p, a[1])?);
            p.files
                .renameat2(&ipc, AT_FDCWD, &old, AT_FDCWD, &new, 0)
                .map(|()| 0)
        }
        Sysno::Renameat | Sysno::Renameat2 => {
            let (old, new) = (copy_in_path(p, a[1])?, copy_in_path(p, a[3])?);
            let flags = if sysno == Sysno::Renameat2 {
                a[4] as u32
            } else {
                0
            };
            p.files
                .renameat2(&ipc, fd(0), &old, fd(2), &new, flags)
                .map(|()| 0)
        }
        Sysno::Link => {
            let (old, new) = (copy_in_path(p, a[0])?, copy_in_path(p, a[1])?);
            p.files
                .linkat(&ipc, AT_FDCWD, &old, AT_FDCWD, &new, 0)
                .map(|()| 0)
        }
        Sysno::Linkat => {
            let (old, new) = (copy_in_path(p, a[1])?, copy_in_path(p, a[3])?);
            p.files
                .linkat(&ipc, fd(0), &old, fd(2), &new, a[4] as u32)
                .map(|()| 0)
        }
        Sysno::Symlink => {
            let (target, name) = (copy_in_path(p, a[0])?, copy_in_path(p, a[1])?);
            p.files
                .symlinkat(&ipc, &target, AT_FDCWD, &name)
                .map(|()| 0)
        }
        Sysno::Symlinkat => {
            let (target, name) = (copy_in_path(p, a[0])?, copy_in_path(p, a[2])?);
            p.files.symlinkat(&ipc, &target, fd(1), &name).map(|()| 0)
        }
        Sysno::Readlink => readlink(p, AT_FDCWD, a[0], a[1], a[2]),
        Sysno::Readlinkat => readlink(p, fd(0), a[1], a[2], a[3]),
        Sysno::Truncate => {
            let name = copy_in_path(p, a[0])?;
            p.files.truncate(&ipc, &name, a[1] as i64).map(|()| 0)
        }
        Sysno::Ftruncate => p.files.ftruncate(&ipc, fd(0), a[1] as i64).map(|()| 0),
        Sysno::Chmod => {
            let name = copy_in_path(p, a[0])?;
            p.files
                .chmodat(&ipc, AT_FDCWD, &name, a[1] as u32)
                .map(|()| 0)
        }
        Sysno::Fchmodat => {
            let name = copy_in_path(p, a[1])?;
            p.files.chmodat(&ipc, fd(0), &name, a[2] as u32).map(|()| 0)
        }
        Sysno::Fchmod => p.files.fchmod(&ipc, fd(0), a[1] as u32).map(|()| 0),
        Sysno::Chdir => {
            let name = copy_in_path(p, a[0])?;
            p.files.chdir(&ipc, &name).map(|()| 0)
        }
        Sysno::Fchdir => p.files.fchdir(&ipc, fd(0)).map(|()| 0),
        Sysno::Getcwd => {
            let mut path = p.files.getcwd(&ipc)?;
            path.push(0);
            if a[1] < path.len() as u64 {
                return Err(Errno::Range);
            }
            copy_out(p, a[0], &path)?;
            Ok(path.len() as u64)
        }
        Sysno::Pipe => pipe_fds(p, a[0], |f| f.pipe2(&ipc, 0)),
        Sysno::Pipe2 => pipe_fds(p, a[0], |f| f.pipe2(&ipc, a[1] as u32)),
        Sysno::Socketpair => pipe_fds(p, a[3], |f| {
            f.socketpair(&ipc, a[0] as u32, a[1] as u32, a[2] as u32)
        }),
        Sysno::Poll => {
            // `timeout` is an `int` of milliseconds; negative: forever.
            let timeout = u64::try_from(a[2] as i32).ok().map(Duration::from_millis);
            poll(p, a[0], a[1], timeout)
        }
        Sysno::Ppoll => {
            if a[3] != 0 && a[4] != SIGSET_SIZE {
                return Err(Errno::Inval);
            }
            let timeout = match a[2] {
                0 => None,
                at => {
                    let ts = Timespec::from_bytes(&copy_in(p, at, Timespec::SIZE as u64)?)
                        .ok_or(Errno::Fault)?;
                    if ts.sec < 0 || !(0..1_000_000_000).contains(&ts.nsec) {
                        return Err(Errno::Inval);
                    }
                    Some(Duration::new(ts.sec as u64, ts.nsec as u32))
                }
            };
            // The signal mask would matter while waiting; no signal is
            // delivered yet.
            poll(p, a[0], a[1], timeout)
        }
        Sysno::ClockGettime => {
            let (clock, _) = time::Clock::from_id(a[0] as i32)?;
            let now = clock.read(hurd_rt::time::uptime());
            copy_out(p, a[1], &now.to_bytes()).map(|()| 0)
        }
        Sysno::ClockGetres => {
            let res = time::resolution(a[0] as i32)?;
            if a[1] != 0 {
                copy_out(p, a[1], &res.to_bytes())?;
            }
            Ok(0)
        }
        Sysno::Gettimeofday => {
            let now = time::Clock::Realtime.read(hurd_rt::time::uptime());
            if a[0] != 0 {
                let tv = Timeval {
                    sec: now.sec,
                    usec: now.nsec / 1000,
                };
                copy_out(p, a[0], &tv.to_bytes())?;
            }
            if a[1] != 0 {
                // struct timezone: no offset, no daylight saving time.
                copy_out(p, a[1], &[0; 8])?;
            }
            Ok(0)
        }
        Sysno::Time => {
            let now = time::Clock::Realtime.read(hurd_rt::time::uptime());
            if a[0] != 0 {
                copy_out(p, a[0], &now.sec.to_le_bytes())?;
            }
            Ok(now.sec as u64)
        }
        Sysno::Nanosleep => nanosleep(p, CLOCK_MONOTONIC as i32, 0, a[0]),
        Sysno::ClockNanosleep => nanosleep(p, a[0] as i32, a[1] as u32, a[2]),
        Sysno::Umask => {
            let old = p.files.umask;
            p.files.umask = (a[0] as u32) & 0o777;
            Ok(u64::from(old))
        }
        Sysno::ExitGroup | Sysno::Exit => exit(a[0]),
        Sysno::Getpid | Sysno::Gettid => Ok(u64::from(p.pid)),
        Sysno::Getppid => Ok(ports::held(ports::PROC)
            .and_then(|proc| proc::process::Client::new(&ipc, proc).getpids().ok())
            .map_or(0, |(_, ppid, _)| ppid as u64)),
        Sysno::Wait4 => wait4(p, a),
        Sysno::Waitid => waitid(p, nr, a),
        Sysno::Getuid => Ok(u64::from(ids(p).uid[0])),
        Sysno::Geteuid => Ok(u64::from(ids(p).uid[1])),
        Sysno::Getgid => Ok(u64::from(ids(p).gid[0])),
        Sysno::Getegid => Ok(u64::from(ids(p).gid[1])),
        Sysno::Getresuid => {
            let uid = ids(p).uid;
            put_ids(p, [a[0], a[1], a[2]], uid)
        }
        Sysno::Getresgid => {
            let gid = ids(p).gid;
            put_ids(p, [a[0], a[1], a[2]], gid)
        }
        Sysno::Getgroups => getgroups(p, a[0] as i32, a[1]),
        Sysno::SetTidAddress => {
            p.clear_tid = a[0];
            Ok(u64::from(p.pid))
        }
        Sysno::ArchPrctl => arch_prctl(p, a[0], a[1]),
        Sysno::RtSigaction => rt_sigaction(p, a),
        Sysno::RtSigprocmask => rt_sigprocmask(p, a),
        Sysno::Sigaltstack => {
            let new = match a[0] {
                0 => None,
                at => Some(
                    StackT::from_bytes(&copy_in(p, at, StackT::SIZE as u64)?)
                        .ok_or(Errno::Fault)?,
                ),
            };
            if a[1] != 0 && !p.space.accessible(a[1], StackT::SIZE as u64, PROT_WRITE) {
                return Err(Errno::Fault);
            }
            let old = match new {
                Some(new) => p.altstack.set(new, rsp)?,
                None => p.altstack.report(rsp),
            };
            if a[1] != 0 {
                copy_out(p, a[1], &old.to_bytes())?;
            }
            Ok(0)
        }
        // The ioctls of any file; no terminals yet: an open descriptor is
        // no terminal.
        Sysno::Ioctl => {
            p.files.table.get(fd(0))?;
            let request = a[1] as u32;
            let on = if request == FIONBIO {
                let word = copy_in(p, a[2], 4)?;
                Some(word.iter().any(|&b| b != 0))
            } else {
                None
            };
            p.files
                .file_ioctl(&ipc, fd(0), request, on)
                .unwrap_or(Err(Errno::Notty))
        }
        Sysno::Getrandom => getrandom(p, a[0], a[1], a[2] as u32),
        Sysno::Uname => {
            let uts = Utsname {
                sysname: "GNU",
                nodename: "hurd-rs",
                release: env!("CARGO_PKG_VERSION"),
                version: "hurd-rs",
                machine: "x86_64",
                domainname: "(none)",
            };
            copy_out(p, a[0], &uts.to_bytes())?;
            Ok(0)
        }
        Sysno::Brk => Ok(brk(p, a[0])),
        Sysno::Mmap => mmap(p, a),
        Sysno::Munmap => {
            let gone = p.space.unmap(a[0], a[1])?;
            for r in gone {
                let _ = mach::vm_deallocate(task::task_self(), r.start, r.end - r.start);
            }
            Ok(0)
        }
        Sysno::Mprotect => {
            let prot = u32::try_from(a[2]).map_err(|_| Errno::Inval)?;
            if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
                return Err(Errno::Inval);
            }
            p.space.protect(a[0], a[1], prot)?;
            let len = a[1].next_multiple_of(4096);
            mach::vm_protect(task::task_self(), (a[0], len), false, vm_prot(prot))
                .map_err(|_| Errno::Nomem)?;
            Ok(0)
        }
        _ => unsupported(p, nr),
    }
}

/// `-ENOSYS`, reported the first time.
fn unsupported(p: &mut Process, nr: u64) -> Result<u64, Errno> {
    report(p, nr, "unsupported system call");
    Err(Errno::Nosys)
}

/// Reports on the console, the first time for call `nr`, that `what`
/// is not carried out.
fn report(p: &mut Process, nr: u64, what: &str) {
    let name = Sysno::from_raw(nr).map_or("?", Sysno::name);
    let fresh = match usize::try_from(nr) {
        Ok(n) if n < 64 * p.reported.len() => {
            let (word, bit) = (n / 64, 1u64 << (n % 64));
            let fresh = p.reported[word] & bit == 0;
            p.reported[word] |= bit;
            fresh
        }
        _ => true,
    };
    if fresh {
        say(&format!("pid {}: {what}: {nr} ({name})", p.pid));
    }
}

/// The program's bytes at `[addr, addr + len)`.
fn copy_in(p: &Process, addr: u64, len: u64) -> Result<Vec<u8>, Errno> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if len > MAX_COPY || !p.space.accessible(addr, len, PROT_READ) {
        return Err(Errno::Fault);
    }
    // SAFETY: the range lies in memory of this task that the program has
    // mapped readable: every mapping it has went through `p.space` (the
    // loader's regions, brk, mmap), and one thread runs, so nothing unmaps
    // it meanwhile.
    let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, len as usize) };
    Ok(bytes.to_vec())
}

/// Writes `data` to the program's memory at `addr`.
fn copy_out(p: &Process, addr: u64, data: &[u8]) -> Result<(), Errno> {
    let len = data.len() as u64;
    if len == 0 {
        return Ok(());
    }
    if len > MAX_COPY || !p.space.accessible(addr, len, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    // SAFETY: as in `copy_in`, for memory mapped writable; the emulator's
    // own memory is outside every range the program can map.
    let to = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, data.len()) };
    to.copy_from_slice(data);
    Ok(())
}

/// `pipe`, `pipe2`, `socketpair`: two new descriptors, written to `to` as
/// two `int`s; if they cannot be written (`EFAULT`), they are closed again,
/// as Linux does.
fn pipe_fds(
    p: &mut Process,
    to: u64,
    make: impl FnOnce(&mut Files) -> Result<[i32; 2], Errno>,
) -> Result<u64, Errno> {
    let fds = make(&mut p.files)?;
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&fds[0].to_ne_bytes());
    bytes[4..].copy_from_slice(&fds[1].to_ne_bytes());
    if let Err(e) = copy_out(p, to, &bytes) {
        let ipc = KernelIpc::new();
        for fd in fds {
            let _ = p.files.close(&ipc, fd);
        }
        return Err(e);
    }
    Ok(0)
}

/// `clock_nanosleep(clock, flags, req)` (`nanosleep` on the monotonic
/// clock): waits with receives that time out until the clock has passed
/// the time asked for (a timeout may end at a timer tick a little early).
/// Nothing interrupts it yet, so the remaining time is never written.
fn nanosleep(p: &Process, clock: i32, flags: u32, req: u64) -> Result<u64, Errno> {
    let req = Timespec::from_bytes(&copy_in(p, req, Timespec::SIZE as u64)?).ok_or(Errno::Fault)?;
    let start = hurd_rt::time::uptime();
    let wait = time::sleep_time(clock, flags, &req, start)?;
    let Some(end) = start.checked_add(wait) else {
        // Longer than the machine will run: forever.
        loop {
            hurd_rt::thread::sleep(Duration::from_secs(3600));
        }
    };
    loop {
        let now = hurd_rt::time::uptime();
        if now >= end {
            return Ok(0);
        }
        // An hour at a most: any length fits the kernel's timeouts.
        hurd_rt::thread::sleep((end - now).min(Duration::from_secs(3600)));
    }
}

/// A NUL-terminated name in the program's memory (without the NUL).
fn copy_in_path(p: &Process, addr: u64) -> Result<Vec<u8>, Errno> {
    copy_in_bounded(p, addr, PATH_MAX, Errno::Nametoolong)
}

/// A NUL-terminated string of `argv` or `envp` (without the NUL), of at
/// most `max` bytes (`E2BIG`).
fn copy_in_string(p: &Process, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    copy_in_bounded(p, addr, max, Errno::TooBig)
}

/// A NUL-terminated string of less than `max` bytes, else `too_long`.
fn copy_in_bounded(p: &Process, addr: u64, max: usize, too_long: Errno) -> Result<Vec<u8>, Errno> {
    let mut name = Vec::new();
    let mut at = addr;
    loop {
        if name.len() >= max {
            return Err(too_long);
        }
        // Up to the end of this page: the next may not be mapped.
        let len = (4096 - at % 4096).min((max - name.len()) as u64);
        let chunk = copy_in(p, at, len)?;
        if let Some(end) = chunk.iter().position(|&c| c == 0) {
            name.extend_from_slice(&chunk[..end]);
            return Ok(name);
        }
        name.extend_from_slice(&chunk);
        at = at.checked_add(len).ok_or(Errno::Fault)?;
    }
}

/// `read` or `pread64` into the program's buffer.
fn read(p: &Process, fd: i32, buf: u64, count: u64, at: Option<i64>) -> Result<u64, Errno> {
    let count = count.min(MAX_COPY);
    if count > 0 && !p.space.accessible(buf, count, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    let data = p.files.read(&KernelIpc::new(), fd, count, at)?;
    let data = &data[..data.len().min(count as usize)];
    copy_out(p, buf, data)?;
    Ok(data.len() as u64)
}

/// The process's ids, asked of its auth handle once (`auth_getids`) and
/// kept, as glibc keeps `_hurd_id` until the handle changes.
fn ids(p: &mut Process) -> &Ids {
    p.ids.get_or_insert_with(|| {
        AuthClient::new(&KernelIpc::new(), p.files.auth)
            .getids()
            .map_or_else(|_| Ids::nobody(), |set| Ids::of(&set))
    })
}

/// `getresuid`/`getresgid`: the three ids to the three addresses.
fn put_ids(p: &Process, at: [u64; 3], ids: [u32; 3]) -> Result<u64, Errno> {
    for (addr, id) in at.into_iter().zip(ids) {
        copy_out(p, addr, &id.to_le_bytes())?;
    }
    Ok(0)
}

/// `getgroups(size, list)`: how many groups with `size` 0, else the groups
/// (`EINVAL` when `size` is negative or too small).
fn getgroups(p: &mut Process, size: i32, list: u64) -> Result<u64, Errno> {
    let groups = ids(p).groups.clone();
    let count = groups.len() as u64;
    if size == 0 {
        return Ok(count);
    }
    if size < 0 || (size as u64) < count {
        return Err(Errno::Inval);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
    copy_out(p, list, &bytes)?;
    Ok(count)
}

/// `getrandom`: the flags checked first, then the buffer, as Linux does.
fn getrandom(p: &Process, buf: u64, len: u64, flags: u32) -> Result<u64, Errno> {
    random::node(flags)?;
    let len = len.min(MAX_COPY);
    if len > 0 && !p.space.accessible(buf, len, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    let data = random::getrandom(&p.files, &KernelIpc::new(), len, flags, MAX_COPY)?;
    copy_out(p, buf, &data)?;
    Ok(data.len() as u64)
}

/// The `(base, length)` pairs of an `iovec` array, the lengths' sum
/// bounded by [`MAX_COPY`] (the last cut short).
fn iovecs(p: &Process, iov: u64, count: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if count > IOV_MAX {
        return Err(Errno::Inval);
    }
    let table = copy_in(p, iov, count * 16)?;
    let mut out = Vec::new();
    let mut total = 0;
    for v in table.chunks_exact(16) {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&v[i..i + 8]);
            u64::from_le_bytes(w)
        };
        if word(8) > i64::MAX as u64 {
            return Err(Errno::Inval);
        }
        let take = word(8).min(MAX_COPY - total);
        out.push((word(0), take));
        total += take;
    }
    Ok(out)
}

/// `readv`: one read of the vectors' total, scattered over them.
fn readv(p: &Process, fd: i32, iov: u64, count: u64) -> Result<u64, Errno> {
    let vecs = iovecs(p, iov, count)?;
    for &(base, len) in &vecs {
        if len > 0 && !p.space.accessible(base, len, PROT_WRITE) {
            return Err(Errno::Fault);
        }
    }
    let total = vecs.iter().map(|v| v.1).sum();
    let data = p.files.read(&KernelIpc::new(), fd, total, None)?;
    let mut rest = &data[..data.len().min(total as usize)];
    for (base, len) in vecs {
        let (now, later) = rest.split_at(rest.len().min(len as usize));
        copy_out(p, base, now)?;
        rest = later;
    }
    Ok(data.len().min(total as usize) as u64)
}

/// `writev`: the vectors gathered into one write (at most [`MAX_COPY`]
/// bytes: a short write beyond).
fn writev(p: &Process, fd: i32, iov: u64, count: u64) -> Result<u64, Errno> {
    let mut data = Vec::new();
    for (base, len) in iovecs(p, iov, count)? {
        data.extend_from_slice(&copy_in(p, base, len)?);
    }
    p.files.write(&KernelIpc::new(), fd, &data, None)
}

/// `readlinkat(dirfd, name, buf, size)`: the target, cut to `size` bytes
/// and without a NUL, as Linux writes it.
fn readlink(p: &Process, dirfd: i32, name: u64, buf: u64, size: u64) -> Result<u64, Errno> {
    let name = copy_in_path(p, name)?;
    // `bufsiz` is an `int`.
    let size = size as i32;
    if size <= 0 {
        return Err(Errno::Inval);
    }
    let target = p.files.readlinkat(&KernelIpc::new(), dirfd, &name)?;
    let take = &target[..target.len().min(size as usize)];
    copy_out(p, buf, take)?;
    Ok(take.len() as u64)
}

/// `poll(fds, nfds, timeout)`: passes ([`Files::poll_once`]) until one
/// finds a descriptor ready or `timeout` (`None`: forever) has passed,
/// a pause of at most [`POLL_PAUSE`] between them; the entries' `revents`
/// are written back.
fn poll(p: &Process, fds: u64, nfds: u64, timeout: Option<Duration>) -> Result<u64, Errno> {
    if nfds > p.files.table.limit() as u64 {
        return Err(Errno::Inval);
    }
    let size = nfds * PollFd::SIZE as u64;
    if size > 0 && !p.space.accessible(fds, size, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    let mut entries: Vec<PollFd> = copy_in(p, fds, size)?
        .chunks_exact(PollFd::SIZE)
        .filter_map(PollFd::from_bytes)
        .collect();
    let ipc = KernelIpc::new();
    let start = hurd_rt::time::uptime();
    let ready = loop {
        let ready = p.files.poll_once(&ipc, &mut entries);
        let waited = hurd_rt::time::uptime().saturating_sub(start);
        match timeout {
            _ if ready > 0 => break ready,
            Some(t) if waited >= t => break 0,
            Some(t) => hurd_rt::thread::sleep((t - waited).min(POLL_PAUSE)),
            None => hurd_rt::thread::sleep(POLL_PAUSE),
        }
    };
    let mut out = Vec::with_capacity(size as usize);
    for e in &entries {
        out.extend_from_slice(&e.to_bytes());
    }
    copy_out(p, fds, &out)?;
    Ok(ready as u64)
}

/// The size of a signal set as the kernel takes it (`sigsetsize`).
const SIGSET_SIZE: u64 = 8;

/// `rt_sigaction(sig, act, oact, sigsetsize)`: the action is kept (and
/// the old one reported), as Linux does; no signal reaches a handler yet.
fn rt_sigaction(p: &mut Process, a: [u64; 6]) -> Result<u64, Errno> {
    let [sig, act, oact, size, ..] = a;
    if size != SIGSET_SIZE {
        return Err(Errno::Inval);
    }
    let sig = u32::try_from(sig).map_err(|_| Errno::Inval)?;
    let new = match act {
        0 => None,
        at => Some(
            KSigaction::from_bytes(&copy_in(p, at, KSigaction::SIZE as u64)?)
                .ok_or(Errno::Fault)?,
        ),
    };
    if oact != 0
        && !p
            .space
            .accessible(oact, KSigaction::SIZE as u64, PROT_WRITE)
    {
        return Err(Errno::Fault);
    }
    let old = p.signals.set_action(sig, new).map_err(|_| Errno::Inval)?;
    if oact != 0 {
        copy_out(p, oact, &old.to_bytes())?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oset, sigsetsize)` for the (one) thread.
fn rt_sigprocmask(p: &mut Process, a: [u64; 6]) -> Result<u64, Errno> {
    let [how, set, oset, size, ..] = a;
    if size != SIGSET_SIZE {
        return Err(Errno::Inval);
    }
    let set = match set {
        0 => None,
        at => {
            let bytes = copy_in(p, at, SIGSET_SIZE)?;
            let word = bytes.try_into().map_err(|_| Errno::Fault)?;
            Some(SigSet(u64::from_le_bytes(word)))
        }
    };
    if oset != 0 && !p.space.accessible(oset, SIGSET_SIZE, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    let how = u32::try_from(how).unwrap_or(u32::MAX);
    let old = p
        .signals
        .set_mask(p.pid as i32, how, set)
        .map_err(|_| Errno::Inval)?;
    if oset != 0 {
        copy_out(p, oset, &old.0.to_le_bytes())?;
    }
    Ok(0)
}

/// `arch_prctl`: the FS base is the program's; GS is the emulator's.
fn arch_prctl(p: &mut Process, code: u64, addr: u64) -> Result<u64, Errno> {
    match u32::try_from(code) {
        Ok(ARCH_SET_FS) => {
            let gs = &raw const BLOCK as u64;
            mach::thread_set_state(p.thread, FSGS_FLAVOR, &[addr, gs]).map_err(|_| Errno::Perm)?;
            p.fs_base = addr;
            Ok(0)
        }
        Ok(ARCH_GET_FS) => {
            copy_out(p, addr, &p.fs_base.to_le_bytes())?;
            Ok(0)
        }
        _ => Err(Errno::Inval),
    }
}

/// `brk`: the new break, or the old one when it cannot move.
fn brk(p: &mut Process, new: u64) -> u64 {
    let old = p.space.brk();
    let (now, change) = p.space.set_brk(new);
    let me = task::task_self();
    let done = match change {
        Some(BrkChange::Grow(from, to)) => mach::vm_allocate(me, from, to - from, false).map(drop),
        Some(BrkChange::Shrink(from, to)) => mach::vm_deallocate(me, from, to - from),
        None => Ok(()),
    };
    if done.is_err() {
        p.space.set_brk(old);
        return old;
    }
    now
}

/// `vm_protect`'s bits for `PROT_*` (the same numbers).
fn vm_prot(prot: u32) -> u32 {
    prot & (PROT_READ | PROT_WRITE | PROT_EXEC)
}

/// `mmap`: anonymous memory (files come with the file system; with no
/// `fork` yet, shared anonymous memory is private memory).
fn mmap(p: &mut Process, a: [u64; 6]) -> Result<u64, Errno> {
    let [addr, len, prot, flags, fd, offset] = a;
    let prot = u32::try_from(prot).map_err(|_| Errno::Inval)?;
    let flags = u32::try_from(flags).map_err(|_| Errno::Inval)?;
    let kind = flags & MAP_SHARED_VALIDATE;
    let file = flags & MAP_ANONYMOUS == 0;
    if (kind != MAP_PRIVATE && kind != MAP_SHARED)
        || offset % 4096 != 0
        || (!file && offset != 0)
        || prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0
        || len == 0
    {
        return Err(Errno::Inval);
    }
    // A file's private mapping starts with the file's bytes, read now; a
    // shared one would need the file's memory object (`io_map`), which the
    // file systems on the kernel do not give yet: ENODEV, as Linux answers
    // for a file that cannot be mapped.
    let contents = if file {
        let fd = fd as i32;
        if kind == MAP_SHARED {
            p.files.table.get(fd)?;
            return Err(Errno::Nodev);
        }
        Some(
            p.files
                .mapping_contents(&KernelIpc::new(), fd, offset, len)?,
        )
    } else {
        None
    };
    let fixed = flags & MAP_FIXED != 0;
    let noreplace = flags & MAP_FIXED_NOREPLACE != 0;
    let mapped = p.space.map(addr, len, fixed, noreplace, prot, ())?;
    let me = task::task_self();
    let size = len.next_multiple_of(4096);
    if fixed {
        // Whatever was there goes: regions it replaced, and any of the
        // heap under it (musl puts a guard page at the break so).
        let _ = mach::vm_deallocate(me, mapped.addr, size);
    }
    for r in &mapped.replaced {
        let _ = mach::vm_deallocate(me, r.start, r.end - r.start);
    }
    let placed = mach::vm_allocate(me, mapped.addr, size, false).and_then(|_| {
        if let Some(mut bytes) = contents.filter(|c| !c.is_empty()) {
            // Whole pages: the rest of the last one reads as zeros.
            bytes.resize(bytes.len().next_multiple_of(4096), 0);
            mach::vm_write(me, mapped.addr, &bytes)?;
        }
        if vm_prot(prot) == PROT_READ | PROT_WRITE {
            Ok(())
        } else {
            mach::vm_protect(me, (mapped.addr, size), false, vm_prot(prot))
        }
    });
    if placed.is_err() {
        let _ = p.space.unmap(mapped.addr, size);
        let _ = mach::vm_deallocate(me, mapped.addr, size);
        return Err(Errno::Nomem);
    }
    Ok(mapped.addr)
}

/// What a fork's child needs once it runs: written before `task_create`
/// copies the memory, read by the child from its copy.
#[derive(Clone, Copy, Debug)]
struct ChildStart {
    /// The program's stack pointer in the child.
    rsp: u64,
    /// What the call asked for.
    request: ForkRequest,
}

static CHILD_START: Spinlock<Option<ChildStart>> = Spinlock::new(None);

/// `fork`, `vfork`, `clone` of a process, as the Hurd's C library forks: a
/// new task with a copy-on-write copy of this one's memory
/// (`task_create`), made a child process of this one at the proc server
/// (`proc_child`), its IPC space given the same rights under the same
/// names ([`procs::port_copy`]), and a thread starting with the program's
/// registers at the call, `rax` 0. The child's pid, or the error.
fn fork(frame: &Frame, sysno: Sysno) -> Result<u64, Errno> {
    let (request, thread, fs_base) = {
        let mut guard = PROCESS.lock();
        let p = guard.as_mut().ok_or(Errno::Nosys)?;
        let request = match ForkRequest::from_call(sysno, frame.args) {
            Ok(r) => r,
            Err(refused) => {
                if let Refused::Unsupported(what) = refused {
                    report(p, frame.nr, what);
                }
                return Err(refused.errno());
            }
        };
        if ports::held(ports::PROC).is_none() {
            // A child needs a process of its own to be waited for.
            report(p, frame.nr, "no proc port: no child processes");
            return Err(Errno::Nosys);
        }
        (request, p.thread, p.fs_base)
    };
    let rsp = match request.stack {
        0 => BLOCK.user_rsp.load(Ordering::Relaxed),
        stack => stack,
    };
    *CHILD_START.lock() = Some(ChildStart { rsp, request });
    // The lock is free now, in this task and in the child's copy.
    let me = task::task_self();
    let child = mach::task_create(me, true).map_err(|_| Errno::Again)?;
    let started = start_child(child, frame, &request, thread, fs_base);
    let ipc = KernelIpc::new();
    if started.is_err() {
        let _ = mach::task_terminate(child);
    }
    let _ = ipc.port_deallocate(child);
    let pid = started?;
    let mut guard = PROCESS.lock();
    let p = guard.as_mut().ok_or(Errno::Nosys)?;
    if let Some(at) = request.parent_tid {
        // As Linux: the call has succeeded whether or not this lands.
        let _ = copy_out(p, at, &pid.to_le_bytes());
    }
    Ok(u64::from(pid))
}

/// Makes `child` (a new task holding a copy of this one's memory) a
/// process and starts its thread; its pid.
fn start_child(
    child: PortName,
    frame: &Frame,
    request: &ForkRequest,
    thread: PortName,
    fs_base: u64,
) -> Result<u32, Errno> {
    let ipc = KernelIpc::new();
    let proc = proc::process::Client::new(&ipc, ports::PROC);
    let task = PortItem {
        disposition: Disposition::CopySend,
        name: child,
    };
    proc.child(task).map_err(Errno::from_rpc)?;
    let pid = proc.task2pid(task).map_err(Errno::from_rpc)?;
    let pid = u32::try_from(pid).map_err(|_| Errno::Again)?;
    let child_proc = proc.task2proc(task).map_err(Errno::from_rpc)?.name;
    let child_thread = match mach::thread_create(child) {
        Ok(t) => t,
        Err(_) => {
            let _ = ipc.port_deallocate(child_proc);
            return Err(Errno::Again);
        }
    };
    let own = OwnNames {
        task: task::task_self(),
        thread,
        proc: ports::PROC,
        child: [child, child_thread, child_proc],
    };
    let started = copy_ports(child, &own).and_then(|()| {
        let gs = &raw const BLOCK as u64;
        let fs = request.tls.unwrap_or(fs_base);
        mach::thread_set_state(child_thread, FLAVOR, &child_registers(frame))?;
        mach::thread_set_state(child_thread, FSGS_FLAVOR, &[fs, gs])?;
        mach::thread_resume(child_thread)
    });
    let _ = ipc.port_deallocate(child_proc);
    let _ = ipc.port_deallocate(child_thread);
    started.map_err(|_| Errno::Again)?;
    Ok(pid)
}

/// Gives the child's space what [`procs::port_copy`] says for each of
/// this space's names.
fn copy_ports(child: PortName, own: &OwnNames) -> Result<(), hurd_ipc::Error> {
    let ipc = KernelIpc::new();
    let space = hurd_abi::mach_port::Client::new(&ipc, child);
    let [child_task, child_thread, child_proc] = own.child;
    for (name, ty) in ipc.port_names()? {
        let given = |right| mach::insert_right(child, name, (right, Disposition::CopySend));
        match procs::port_copy(name, ty, own) {
            PortCopy::Send => {
                given(name)?;
                let refs = ipc.port_get_refs(name, RightType::Send).unwrap_or(1);
                if refs > 1 {
                    space.mach_port_mod_refs(
                        name.0,
                        RightType::Send.into(),
                        i32::from(refs) - 1,
                    )?;
                }
            }
            PortCopy::Receive => {
                space.mach_port_allocate_name(RightType::Receive.into(), name.0)?;
            }
            PortCopy::Task => given(child_task)?,
            PortCopy::Thread => given(child_thread)?,
            PortCopy::Proc => given(child_proc)?,
            PortCopy::Nothing => {}
        }
    }
    Ok(())
}

/// The registers a fork's child starts with: the program's at the call,
/// `rax` 0, on the emulator's stack at [`fork_child_entry`], which
/// restores them.
fn child_registers(frame: &Frame) -> [u64; thread_state::COUNT] {
    let [rdi, rsi, rdx, r10, r8, r9] = frame.args;
    let [rbx, rbp, r12, r13, r14, r15] = frame.kept;
    [
        0,
        rbx,
        frame.rip,
        rdx,
        rsi,
        rdi,
        rbp,
        load::EMULATOR_STACK_TOP,
        r8,
        r9,
        r10,
        frame.rflags,
        r12,
        r13,
        r14,
        r15,
        fork_child_entry(),
        0,
    ]
}

/// The child's side of a fork, before its program goes on: its own pid
/// (asked of its proc port), its thread's signal state, what `clone`
/// asked for the child (`CLONE_CHILD_SETTID`, `CLONE_CHILD_CLEARTID`,
/// `CLONE_SETTLS`), and the program's stack pointer for the return.
extern "C" fn fork_child() {
    let start = CHILD_START.lock().take();
    let mut guard = PROCESS.lock();
    let (Some(p), Some(start)) = (guard.as_mut(), start) else {
        task::exit(EXIT_NO_START)
    };
    let old = p.pid;
    let pid = ports::held(ports::PROC)
        .and_then(|proc| proc::pid_of(&KernelIpc::new(), proc))
        .and_then(|pid| u32::try_from(pid).ok())
        .unwrap_or(old);
    p.pid = pid;
    let mask = p
        .signals
        .thread(old as i32)
        .map(|t| t.mask)
        .unwrap_or_default();
    p.signals.remove_thread(old as i32);
    p.signals.add_thread(pid as i32, mask);
    let request = start.request;
    p.clear_tid = request.child_clear_tid.unwrap_or(0);
    if let Some(tls) = request.tls {
        p.fs_base = tls;
    }
    if let Some(at) = request.child_set_tid {
        let _ = copy_out(p, at, &pid.to_le_bytes());
    }
    BLOCK.user_rsp.store(start.rsp, Ordering::Relaxed);
}

/// `exit`, `exit_group`: the status goes to the proc server first
/// (`proc_mark_exit`, as the Hurd's C library's `_exit` does), where the
/// parent's `wait4` finds it.
fn exit(status: u64) -> ! {
    let code = (status & 0xff) as u8;
    if let Some(proc) = ports::held(ports::PROC)
        && let Some(hurd) = WaitStatus::Exited(code).to_hurd()
    {
        let _ = proc::process::Client::new(&KernelIpc::new(), proc).mark_exit(hurd, 0);
    }
    task::exit(u64::from(code))
}

/// `wait4(pid, wstatus, options, rusage)` through `proc_wait`: the
/// child's pid (0 with `WNOHANG` when none has ended), its status as
/// Linux encodes it; `ECHILD` when there is no such child (or no proc
/// server); no resource figures (zero).
fn wait4(p: &Process, a: [u64; 6]) -> Result<u64, Errno> {
    let [pid, wstatus, options, rusage, ..] = a;
    let (pid, options) = procs::wait_request(pid as i32, options as u32)?;
    // Checked before waiting: a child reaped is not lost to a bad pointer.
    if wstatus != 0 && !p.space.accessible(wstatus, 4, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    if rusage != 0 && !p.space.accessible(rusage, Rusage::SIZE as u64, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    let proc = ports::held(ports::PROC).ok_or(Errno::Child)?;
    let (status, child) = proc::process::Client::new(&KernelIpc::new(), proc)
        .wait(pid, options)
        .map_err(Errno::from_rpc)?;
    if child == 0 {
        return Ok(0);
    }
    if wstatus != 0 {
        copy_out(p, wstatus, &procs::linux_status(status).to_le_bytes())?;
    }
    if rusage != 0 {
        copy_out(p, rusage, &Rusage::default().to_bytes())?;
    }
    Ok(child as u64)
}

/// `waitid(idtype, id, infop, options, rusage)` through `proc_wait`: 0,
/// the child's `siginfo_t` at `infop` (zeros with `WNOHANG` when none has
/// ended, as Linux writes); `ECHILD` when there is no such child.
fn waitid(p: &mut Process, nr: u64, a: [u64; 6]) -> Result<u64, Errno> {
    let [idtype, id, infop, options, rusage, _] = a;
    let (pid, options) = match procs::waitid_request(idtype as u32, id as i32, options as u32) {
        Ok(r) => r,
        Err(refused) => {
            if let Refused::Unsupported(what) = refused {
                report(p, nr, what);
            }
            return Err(refused.errno());
        }
    };
    if infop != 0 && !p.space.accessible(infop, SigInfo::SIZE as u64, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    if rusage != 0 && !p.space.accessible(rusage, Rusage::SIZE as u64, PROT_WRITE) {
        return Err(Errno::Fault);
    }
    let proc = ports::held(ports::PROC).ok_or(Errno::Child)?;
    let (status, child) = proc::process::Client::new(&KernelIpc::new(), proc)
        .wait(pid, options)
        .map_err(Errno::from_rpc)?;
    let info = match child {
        0 => [0; SigInfo::SIZE],
        child => procs::child_siginfo(status, child, ids(p).uid[0]).to_bytes(),
    };
    if infop != 0 {
        copy_out(p, infop, &info)?;
    }
    if rusage != 0 {
        copy_out(p, rusage, &Rusage::default().to_bytes())?;
    }
    Ok(0)
}

/// The largest program `execve` reads.
const MAX_EXECUTABLE: u64 = 64 << 20;

/// `execve(filename, argv, envp)`, in this task as the Hurd's exec server
/// does it for a task it is given: the file is looked up with the
/// process's own ports, checked (`ENOENT`, `EACCES`, `ENOEXEC`), `#!`
/// lines followed to their interpreter; then descriptors marked
/// close-on-exec are closed, handlers go back to `SIG_DFL`, the old
/// program's memory goes and the new one is loaded with its initial stack
/// ([`load::load`]). Same task, same ports, same pid. Where the program
/// starts (its entry and stack pointer), or the error with nothing changed.
fn execve(p: &mut Process, a: [u64; 6]) -> Result<(u64, u64), Errno> {
    let filename = copy_in_path(p, a[0])?;
    let mut argv = copy_in_strings(p, a[1])?;
    let envp = copy_in_strings(p, a[2])?;
    let total: usize = argv.iter().chain(&envp).map(|s| s.len() + 1).sum();
    if argv.len() + envp.len() > procs::MAX_ARG_STRINGS || total > procs::MAX_ARG_BYTES {
        return Err(Errno::TooBig);
    }
    let mut path = filename.clone();
    let mut depth = 0;
    let image = loop {
        let image = read_executable(p, &path)?;
        match procs::classify(&image)? {
            Executable::Elf => break image,
            Executable::Script { interpreter, arg } => {
                depth += 1;
                if depth > procs::MAX_INTERPRETERS {
                    return Err(Errno::Loop);
                }
                argv = procs::script_argv(&interpreter, arg.as_deref(), &path, &argv);
                path = interpreter;
            }
        }
    };
    // A hurd-rs program is no Linux program (the exec server starts it).
    if hurd_abi::elf::note_abi(&image).is_ok_and(|abi| abi.is_some())
        || linux_abi::elf::LinuxElf::parse(&image, image.len() as u64).is_err()
    {
        return Err(Errno::Noexec);
    }
    let auxv_ids = ids(p).auxv();
    // From here on there is no way back.
    let ipc = KernelIpc::new();
    let (_, closing) = p.files.table.split_for_exec();
    for file in closing {
        if let File::Port(port) = file {
            let _ = ipc.port_deallocate(port);
        }
    }
    p.signals.exec();
    p.altstack = AltStack::default();
    let me = task::task_self();
    for r in p.space.regions() {
        let _ = mach::vm_deallocate(me, r.start, r.end - r.start);
    }
    let (heap, heap_end) = p.space.heap();
    if heap_end > heap {
        let _ = mach::vm_deallocate(me, heap, heap_end - heap);
    }
    let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let envp: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
    let mut random = [0; 16];
    hurd_rt::entropy::gather(&mut random);
    let args = load::Arguments {
        argv: &argv,
        envp: &envp,
        execfn: &filename,
        ids: auxv_ids,
        random,
    };
    let loaded = load::load(me, &image, &args).map_err(|e| format!("{e:?}"));
    let space = loaded
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|l| program_space(l.brk, &l.regions()).map_err(Into::into));
    let (Ok(loaded), Ok(space)) = (loaded, space) else {
        // The old program is gone: the process ends, as on Linux, with
        // SIGKILL.
        say("execve: the new program could not be loaded");
        if let Some(proc) = ports::held(ports::PROC)
            && let Some(hurd) = (WaitStatus::Signaled {
                sig: linux_abi::signal::SIGKILL,
                core: false,
            })
            .to_hurd()
        {
            let _ = proc::process::Client::new(&ipc, proc).mark_exit(hurd, 0);
        }
        task::exit(EXIT_NO_START)
    };
    p.space = space;
    p.fs_base = 0;
    p.clear_tid = 0;
    let gs = &raw const BLOCK as u64;
    let _ = mach::thread_set_state(p.thread, FSGS_FLAVOR, &[0, gs]);
    Ok((loaded.entry, loaded.rsp))
}

/// The whole file `path` names, if the process may execute it: looked up
/// from the working directory with the process's ports, a regular file
/// with an execute bit for its ids.
fn read_executable(p: &mut Process, path: &[u8]) -> Result<Vec<u8>, Errno> {
    let ids = ids(p).clone();
    let ipc = KernelIpc::new();
    let fd = p
        .files
        .openat(&ipc, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0)?;
    let read = (|| {
        let st = p.files.fstat(&ipc, fd)?;
        let mut groups = alloc::vec![ids.gid[1]];
        groups.extend_from_slice(&ids.groups);
        procs::may_execute(st.mode, st.uid, st.gid, ids.uid[1], &groups)?;
        let size = u64::try_from(st.size).unwrap_or(0);
        if size > MAX_EXECUTABLE {
            return Err(Errno::Nomem);
        }
        let mut image = Vec::new();
        while (image.len() as u64) < size {
            let want = (size - image.len() as u64).min(MAX_COPY);
            let data = p.files.read(&ipc, fd, want, Some(image.len() as i64))?;
            if data.is_empty() {
                break;
            }
            image.extend_from_slice(&data[..data.len().min(want as usize)]);
        }
        Ok(image)
    })();
    let _ = p.files.close(&ipc, fd);
    read
}

/// A NULL-terminated array of strings in the program's memory (`argv`,
/// `envp`; a NULL array is an empty one, as Linux takes it), bounded by
/// [`procs::MAX_ARG_STRINGS`] and [`procs::MAX_ARG_BYTES`] (`E2BIG`).
fn copy_in_strings(p: &Process, addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0;
    for i in 0.. {
        if i >= procs::MAX_ARG_STRINGS {
            return Err(Errno::TooBig);
        }
        let at = addr.checked_add(8 * i as u64).ok_or(Errno::Fault)?;
        let word = copy_in(p, at, 8)?;
        let ptr = u64::from_le_bytes(word.try_into().map_err(|_| Errno::Fault)?);
        if ptr == 0 {
            break;
        }
        let s = copy_in_string(p, ptr, procs::MAX_ARG_BYTES - total)?;
        total += s.len() + 1;
        out.push(s);
    }
    Ok(out)
}
