//! Starting a program in a new task from its ELF image, from user space, as
//! the Hurd's exec server does on Mach: `task_create` with an empty map, then
//! for each loadable segment `vm_allocate`, `vm_write` of the pages holding
//! file bytes (the rest stays zero-filled) and `vm_protect`; a stack; the
//! arguments block ([`env::block`](crate::env::block)) and the initial ports
//! ([`crate::ports`]); then `thread_create` and `thread_set_state`, and
//! `thread_resume` when the caller is ready. Every step is a message to the
//! new task's or thread's port ([`crate::mach`]); nothing here needs the
//! kernel's own loader.
//!
//! The image is untrusted: a file that is not an ELF executable for this
//! kernel is [`ExecError::Elf`], one that is not a hurd-rs program of this
//! ABI (no `.note.hurd-rs` naming [`elf::ABI_VERSION`]: a static Linux
//! program, say) is [`ExecError::NotHurdRs`], and a failed step ends the
//! half-built task, so nothing is left behind.

use hurd_abi::elf::{self, ElfError, Executable, Segment};
use hurd_abi::thread_state::{COUNT, FLAVOR, RDI, RIP, RSP};
use hurd_abi::{USER_BASE, USER_STACK_SIZE, USER_STACK_TOP};
use hurd_ipc::{Disposition, Errno, Error, PortName, UserIpc};

use crate::env::block;
use crate::{KernelIpc, mach};

/// The size of a page.
const PAGE: u64 = 4096;

/// A program loaded into a task of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Child {
    /// A send right to the new task's port (the caller's).
    pub task: PortName,
    /// A send right to its thread's port (the caller's).
    pub thread: PortName,
}

/// Why a program could not be started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// The file is not an ELF executable this kernel can run.
    Elf(ElfError),
    /// The executable is not a hurd-rs program of this ABI: the version its
    /// hurd-rs note names, `None` when it has none.
    NotHurdRs(Option<u32>),
    /// A call to the kernel failed: which, and how.
    Call(&'static str, Error),
    /// The arguments and environment do not fit the block
    /// ([`ARGS_MAX`](block::ARGS_MAX)), or a string holds a NUL.
    TooBig,
}

/// `E2BIG` (7 on the Hurd and Linux).
const E2BIG: i32 = 7;

impl From<ExecError> for Error {
    /// As an exec server answers: `ENOEXEC` for a file that is no program
    /// here, `E2BIG` for arguments that do not fit, `EAGAIN` when the kernel
    /// refused a step.
    fn from(e: ExecError) -> Error {
        match e {
            ExecError::Elf(_) | ExecError::NotHurdRs(_) => Errno::NoExec.into(),
            ExecError::TooBig => Error::Code(E2BIG),
            ExecError::Call(..) => Errno::Again.into(),
        }
    }
}

/// A port the new task starts with: the caller's `right`, used with
/// `disposition` (`CopySend`, `MakeSend`, `MoveSend`…), goes into the new
/// task under `name` (`mach_port_insert_right`) before it runs — its
/// standard output at [`ports::STDOUT`](crate::ports::STDOUT), say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitialPort {
    /// The name in the new task.
    pub name: PortName,
    /// The caller's right.
    pub right: PortName,
    /// How it is taken.
    pub disposition: Disposition,
}

/// A program to start: its image, arguments, environment and initial
/// ports.
#[derive(Clone, Copy, Debug)]
pub struct Program<'a> {
    /// The ELF image.
    pub image: &'a [u8],
    /// `argv`, its name first.
    pub argv: &'a [&'a str],
    /// `envp`: `NAME=value` strings.
    pub envp: &'a [&'a str],
    /// The ports it starts with.
    pub ports: &'a [InitialPort],
}

fn step<T>(what: &'static str, r: Result<T, Error>) -> Result<T, ExecError> {
    r.map_err(|e| ExecError::Call(what, e))
}

/// The image's executable, checked to lie in user space below the first
/// stack and to be a hurd-rs program of this ABI.
fn parse(image: &[u8]) -> Result<Executable, ExecError> {
    let exe =
        elf::parse(image, USER_BASE, USER_STACK_TOP - USER_STACK_SIZE).map_err(ExecError::Elf)?;
    if exe.abi != Some(elf::ABI_VERSION) {
        return Err(ExecError::NotHurdRs(exe.abi));
    }
    Ok(exe)
}

/// An empty task (`task_create` on this task's port, inheriting nothing),
/// for a program to be loaded into later ([`load_into`], or an exec server's
/// `exec_exec` with it as `oldtask`): a send right to its task port.
///
/// # Errors
///
/// [`ExecError::Call`] when the kernel refused.
pub fn create_task() -> Result<PortName, ExecError> {
    step(
        "task_create",
        mach::task_create(crate::task::task_self(), false),
    )
}

// ANCHOR: load
/// Loads `program` into a new task and makes its thread, suspended: the
/// caller can make it a process first (`proc_child`) and give it more
/// ports; [`resume`] starts it, [`terminate`] gives up.
///
/// # Errors
///
/// [`ExecError`]: a bad image, arguments that do not fit, or a step the
/// kernel refused (the new task is then ended).
pub fn load(program: &Program<'_>) -> Result<Child, ExecError> {
    let exe = parse(program.image)?;
    let args = block::encode(program.argv, program.envp).ok_or(ExecError::TooBig)?;
    let task = create_task()?;
    match build(task, program.image, &exe, Start::Args(&args, program.ports)) {
        Ok(thread) => Ok(Child { task, thread }),
        Err(err) => {
            // Nothing half-built is left running.
            let _ = mach::task_terminate(task);
            let _ = KernelIpc::new().port_deallocate(task);
            Err(err)
        }
    }
}
// ANCHOR_END: load

/// [`load`], then [`resume`]: the program runs.
///
/// # Errors
///
/// As [`load`]; a thread that cannot be resumed ends the task.
pub fn spawn(program: &Program<'_>) -> Result<Child, ExecError> {
    started(load(program)?)
}

/// Starts `image` in a new task whose first thread gets `arg` in `rdi` and
/// no arguments block or ports: how the kernel's tests start programs.
///
/// # Errors
///
/// As [`spawn`].
pub fn spawn_with_arg(image: &[u8], arg: u64) -> Result<Child, ExecError> {
    let exe = parse(image)?;
    let task = create_task()?;
    match build(task, image, &exe, Start::Arg(arg)) {
        Ok(thread) => started(Child { task, thread }),
        Err(err) => {
            let _ = mach::task_terminate(task);
            let _ = KernelIpc::new().port_deallocate(task);
            Err(err)
        }
    }
}

/// Loads `program` into `task`, an empty task the caller holds (see
/// [`create_task`]); its thread stays suspended (a send right to its port
/// is returned: [`resume_thread`] with it). On an error the task is left as
/// it is, for its holder to end.
///
/// # Errors
///
/// As [`load`].
pub fn load_into(task: PortName, program: &Program<'_>) -> Result<PortName, ExecError> {
    let exe = parse(program.image)?;
    let args = block::encode(program.argv, program.envp).ok_or(ExecError::TooBig)?;
    build(task, program.image, &exe, Start::Args(&args, program.ports))
}

/// Starts the thread of a program [`load`] loaded.
///
/// # Errors
///
/// [`ExecError::Call`] when the kernel refused (`KERN_FAILURE`: it was not
/// suspended).
pub fn resume(child: &Child) -> Result<(), ExecError> {
    resume_thread(child.thread)
}

/// Starts a suspended `thread` (`thread_resume`).
///
/// # Errors
///
/// As [`resume`].
pub fn resume_thread(thread: PortName) -> Result<(), ExecError> {
    step("thread_resume", mach::thread_resume(thread))
}

/// Ends a program's task (`task_terminate`) and releases the caller's
/// rights to it.
pub fn terminate(child: Child) {
    let ipc = KernelIpc::new();
    let _ = mach::task_terminate(child.task);
    let _ = ipc.port_deallocate(child.task);
    let _ = ipc.port_deallocate(child.thread);
}

/// Resumes `child`, or ends it if it cannot run.
fn started(child: Child) -> Result<Child, ExecError> {
    match resume(&child) {
        Ok(()) => Ok(child),
        Err(e) => {
            terminate(child);
            Err(e)
        }
    }
}

/// What the first thread gets in `rdi`.
enum Start<'a> {
    /// This value.
    Arg(u64),
    /// An arguments block, written at `ARGS_ADDR`, and the ports to give.
    Args(&'a [u8], &'a [InitialPort]),
}

/// Protection bits of `vm_protect` for a segment.
fn protection(seg: &Segment) -> u32 {
    let mut prot = 0;
    if seg.read || seg.execute {
        prot |= 1;
    }
    if seg.write {
        prot |= 2;
    }
    if seg.execute {
        prot |= 4;
    }
    prot
}

/// Fills `task` with the program and makes its thread (suspended).
fn build(
    task: PortName,
    image: &[u8],
    exe: &Executable,
    start: Start<'_>,
) -> Result<PortName, ExecError> {
    let mut page = [0u8; PAGE as usize];
    for seg in &exe.segments {
        let start = seg.vaddr & !(PAGE - 1);
        let end = (seg.vaddr + seg.mem_size).div_ceil(PAGE) * PAGE;
        step(
            "vm_allocate",
            mach::vm_allocate(task, start, end - start, false),
        )?;
        let file_end = seg.vaddr + seg.file_size;
        let mut at = start;
        while at < end.min(file_end.div_ceil(PAGE) * PAGE) {
            // The file's bytes that fall in this page; the rest is zero.
            page.fill(0);
            let from = at.max(seg.vaddr);
            let to = (at + PAGE).min(file_end);
            if from < to {
                let offset = (seg.offset + (from - seg.vaddr)) as usize;
                let len = (to - from) as usize;
                let bytes = image
                    .get(offset..offset + len)
                    .ok_or(ExecError::Elf(ElfError::BadSegment))?;
                let inside = (from - at) as usize;
                page[inside..inside + len].copy_from_slice(bytes);
                step("vm_write", mach::vm_write(task, at, &page))?;
            }
            at += PAGE;
        }
        step(
            "vm_protect",
            mach::vm_protect(task, (start, end - start), false, protection(seg)),
        )?;
    }
    step(
        "vm_allocate (stack)",
        mach::vm_allocate(
            task,
            USER_STACK_TOP - USER_STACK_SIZE,
            USER_STACK_SIZE,
            false,
        ),
    )?;
    let arg = match start {
        Start::Arg(arg) => arg,
        Start::Args(args, ports) => {
            for p in ports {
                step(
                    "mach_port_insert_right",
                    mach::insert_right(task, p.name, (p.right, p.disposition)),
                )?;
            }
            let at = block::ARGS_ADDR;
            step(
                "vm_allocate (arguments)",
                mach::vm_allocate(task, at, block::ARGS_MAX as u64, false),
            )?;
            for (i, chunk) in args.chunks(PAGE as usize).enumerate() {
                page.fill(0);
                page[..chunk.len()].copy_from_slice(chunk);
                let addr = at + i as u64 * PAGE;
                step("vm_write (arguments)", mach::vm_write(task, addr, &page))?;
            }
            at
        }
    };
    let thread = step("thread_create", mach::thread_create(task))?;
    let mut state = [0u64; COUNT];
    state[RIP] = exe.entry;
    state[RSP] = USER_STACK_TOP;
    state[RDI] = arg;
    if let Err(e) = mach::thread_set_state(thread, FLAVOR, &state) {
        let _ = KernelIpc::new().port_deallocate(thread);
        return Err(ExecError::Call("thread_set_state", e));
    }
    Ok(thread)
}
