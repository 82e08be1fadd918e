//! Loading an ELF program into a new task from user space, as the Hurd's
//! exec server does on Mach: `task_create` with an empty map, then for each
//! loadable segment `vm_allocate`, `vm_write` of the pages holding file
//! bytes (the rest stays zero-filled) and `vm_protect`; a stack; then
//! `thread_create`, `thread_set_state` and `thread_resume`. Every step is a
//! message to the new task's or thread's port (see [`hurd_abi::rpc`]);
//! nothing here needs the kernel's own loader.
//!
//! The image is untrusted: a file that is not an ELF executable for this
//! kernel is [`ExecError::Elf`], and a failed step terminates the half-built
//! task, so nothing is left behind.

use hurd_abi::elf::{self, ElfError, Segment};
use hurd_abi::thread_state::{COUNT, FLAVOR, RDI, RIP, RSP};
use hurd_abi::{USER_BASE, USER_STACK_SIZE, USER_STACK_TOP};
use hurd_ipc::{Disposition, PortName, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::env::block;

use crate::rpc::{self, Reply};

/// The size of a page.
const PAGE: u64 = 4096;

/// A program started in a new task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Child {
    /// A send right to the new task's port.
    pub task: PortName,
    /// A send right to its thread's port.
    pub thread: PortName,
}

/// Why a program could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// The file is not an ELF executable this kernel can run (`ENOEXEC`).
    Elf(ElfError),
    /// A call to the kernel failed: which, and how.
    Call(&'static str, Reply),
    /// The arguments and environment do not fit (`E2BIG`).
    TooBig,
}

impl From<ExecError> for hurd_ipc::Error {
    /// As an exec server answers: `ENOEXEC` for a file that is no program
    /// here, `E2BIG` for arguments that do not fit, `EAGAIN` when the
    /// kernel refused a step.
    fn from(e: ExecError) -> hurd_ipc::Error {
        match e {
            ExecError::Elf(_) => hurd_ipc::Errno::NoExec.into(),
            ExecError::TooBig => hurd_ipc::Error::Code(hurd_servers::exec::E2BIG),
            ExecError::Call(..) => hurd_ipc::Errno::Again.into(),
        }
    }
}

/// Protection bits of `vm_protect`.
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

fn step<T>(what: &'static str, r: Result<T, Reply>) -> Result<T, ExecError> {
    r.map_err(|e| ExecError::Call(what, e))
}

// ANCHOR: spawn_elf
/// Starts `image` in a new task whose first thread gets `arg` in `rdi`.
/// With `exit_notify` (a receive right of the caller's), the kernel is
/// asked, before the program runs, to send `TASK_EXITED` with its exit
/// status there when it ends (`task_notify_exit`).
pub fn spawn_elf(
    image: &[u8],
    arg: u64,
    exit_notify: Option<PortName>,
) -> Result<Child, ExecError> {
    let child = spawn(image, Start::Arg(arg), exit_notify)?;
    started(child)
}

/// [`spawn_elf`] giving the program `argv` and `envp` (see
/// [`hurd_rt::env::block`]): the block is written into the new task at
/// [`ARGS_ADDR`](block::ARGS_ADDR), whose address is the first thread's
/// argument. Arguments that do not fit are `E2BIG`'s case:
/// [`ExecError::TooBig`].
pub fn spawn_elf_with_args(
    image: &[u8],
    (argv, envp): (&[&str], &[&str]),
    exit_notify: Option<PortName>,
) -> Result<Child, ExecError> {
    spawn_elf_with_ports(image, (argv, envp), &[], exit_notify)
}

/// A port the new task starts with: the caller's `right` used with
/// `disposition` (`CopySend`, `MakeSend`…) goes into the new task under
/// `name` (`mach_port_insert_right`), before it runs — as its standard
/// output at [`hurd_rt::ports::STDOUT`], say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitialPort {
    /// The name in the new task.
    pub name: PortName,
    /// The caller's right.
    pub right: PortName,
    /// How it is taken.
    pub disposition: Disposition,
}

/// [`spawn_elf_with_args`] also giving the new task `ports`.
pub fn spawn_elf_with_ports(
    image: &[u8],
    (argv, envp): (&[&str], &[&str]),
    ports: &[InitialPort],
    exit_notify: Option<PortName>,
) -> Result<Child, ExecError> {
    let block = block::encode(argv, envp).ok_or(ExecError::TooBig)?;
    let child = spawn(image, Start::Args(&block, ports), exit_notify)?;
    started(child)
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

/// [`spawn_elf_with_ports`] leaving the program's thread suspended, so
/// the caller can make it a process first (`proc_child`) and give it
/// more ports; [`resume`] starts it, [`terminate`] gives up.
pub fn load_elf(
    image: &[u8],
    (argv, envp): (&[&str], &[&str]),
    ports: &[InitialPort],
) -> Result<Child, ExecError> {
    let block = block::encode(argv, envp).ok_or(ExecError::TooBig)?;
    spawn(image, Start::Args(&block, ports), None)
}

/// An empty task (`task_create`), for a program to be loaded into later
/// ([`load_elf_into`], or an exec server's `exec_exec` with it as
/// `oldtask`): a send right to its task port.
pub fn create_task() -> Result<PortName, ExecError> {
    step(
        "task_create",
        rpc::task_create(hurd_rt::task::task_self(), false),
    )
}

/// Loads `image` into `task`, an empty task the caller holds (see
/// [`create_task`]), with `argv`, `envp` and `ports`; its thread stays
/// suspended (a send right to its port is returned; [`resume_thread`] with
/// it). On an error the task is left as it is, for its holder to end.
pub fn load_elf_into(
    task: PortName,
    image: &[u8],
    (argv, envp): (&[&str], &[&str]),
    ports: &[InitialPort],
) -> Result<PortName, ExecError> {
    let exe =
        elf::parse(image, USER_BASE, USER_STACK_TOP - USER_STACK_SIZE).map_err(ExecError::Elf)?;
    let block = block::encode(argv, envp).ok_or(ExecError::TooBig)?;
    build(task, image, &exe, (Start::Args(&block, ports), None))
}

/// Starts the thread of a program [`load_elf`] loaded.
pub fn resume(child: &Child) -> Result<(), ExecError> {
    resume_thread(child.thread)
}

/// Starts a suspended `thread` (`thread_resume`).
pub fn resume_thread(thread: PortName) -> Result<(), ExecError> {
    step("thread_resume", rpc::thread_resume(thread))
}

/// Ends a program's task (`task_terminate`) and releases the caller's
/// rights to it.
pub fn terminate(child: Child) {
    let ipc = KernelIpc::new();
    let _ = rpc::task_terminate(child.task);
    let _ = ipc.port_deallocate(child.task);
    let _ = ipc.port_deallocate(child.thread);
}

/// What the first thread gets in `rdi`.
enum Start<'a> {
    /// This value.
    Arg(u64),
    /// An arguments block, written at `ARGS_ADDR`, and the ports to give.
    Args(&'a [u8], &'a [InitialPort]),
}

fn spawn(
    image: &[u8],
    start: Start<'_>,
    exit_notify: Option<PortName>,
) -> Result<Child, ExecError> {
    let exe =
        elf::parse(image, USER_BASE, USER_STACK_TOP - USER_STACK_SIZE).map_err(ExecError::Elf)?;
    let task = create_task()?;
    match build(task, image, &exe, (start, exit_notify)) {
        Ok(thread) => Ok(Child { task, thread }),
        Err(err) => {
            // Nothing half-built is left running.
            let _ = rpc::task_terminate(task);
            let _ = KernelIpc::new().port_deallocate(task);
            Err(err)
        }
    }
}
// ANCHOR_END: spawn_elf

/// Fills `task` with the program and makes its thread (suspended).
fn build(
    task: PortName,
    image: &[u8],
    exe: &elf::Executable,
    (start, exit_notify): (Start<'_>, Option<PortName>),
) -> Result<PortName, ExecError> {
    let mut page = [0u8; PAGE as usize];
    for seg in &exe.segments {
        let start = seg.vaddr & !(PAGE - 1);
        let end = (seg.vaddr + seg.mem_size).div_ceil(PAGE) * PAGE;
        step(
            "vm_allocate",
            rpc::vm_allocate(task, start, end - start, false),
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
                step("vm_write", rpc::vm_write(task, at, &page))?;
            }
            at += PAGE;
        }
        step(
            "vm_protect",
            rpc::vm_protect(task, (start, end - start), false, protection(seg)),
        )?;
    }
    step(
        "vm_allocate (stack)",
        rpc::vm_allocate(
            task,
            USER_STACK_TOP - USER_STACK_SIZE,
            USER_STACK_SIZE,
            false,
        ),
    )?;
    let arg = match start {
        Start::Arg(arg) => arg,
        Start::Args(bytes, ports) => {
            for p in ports {
                step(
                    "mach_port_insert_right",
                    rpc::insert_right(task, p.name, (p.right, p.disposition)),
                )?;
            }
            let at = block::ARGS_ADDR;
            step(
                "vm_allocate (arguments)",
                rpc::vm_allocate(task, at, block::ARGS_MAX as u64, false),
            )?;
            for (i, chunk) in bytes.chunks(PAGE as usize).enumerate() {
                page.fill(0);
                page[..chunk.len()].copy_from_slice(chunk);
                let addr = at + i as u64 * PAGE;
                step("vm_write (arguments)", rpc::vm_write(task, addr, &page))?;
            }
            at
        }
    };
    let thread = step("thread_create", rpc::thread_create(task))?;
    let mut state = [0u64; COUNT];
    state[RIP] = exe.entry;
    state[RSP] = USER_STACK_TOP;
    state[RDI] = arg;
    step("thread_set_state", rpc::set_state(thread, FLAVOR, &state))?;
    if let Some(notify) = exit_notify {
        step("task_notify_exit", rpc::task_notify_exit(task, notify))?;
    }
    Ok(thread)
}
