//! Loading an ELF program into a new task from user space, as the Hurd's
//! exec server does on Mach: `task_create` with an empty map, then for each
//! loadable segment `vm_allocate`, `vm_write` of the pages holding file
//! bytes (the rest stays zero-filled) and `vm_protect`; a stack; then
//! `thread_create`, `thread_set_state` and `thread_resume`. Every step is a
//! message to the new task's or thread's port (see
//! [`hurd_abi::rpc`]); nothing here needs the kernel's own loader.
//!
//! The image is untrusted: a file that is not an ELF executable for this
//! kernel is [`ExecError::Elf`], and a failed step terminates the half-built
//! task, so nothing is left behind.

use hurd_abi::elf::{self, ElfError, Segment};
use hurd_abi::rpc::{TASK_CREATE, TASK_NOTIFY_EXIT, TASK_TERMINATE, THREAD_CREATE, THREAD_RESUME};
use hurd_abi::thread_state::{COUNT, FLAVOR, RDI, RIP, RSP};
use hurd_abi::{USER_BASE, USER_STACK_SIZE, USER_STACK_TOP};

use crate::msg::{MAKE_SEND_ONCE, MsgBuf};
use crate::rpc::{self, Reply};
use crate::sys;

/// The size of a page.
const PAGE: u64 = 4096;

/// A program started in a new task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Child {
    /// A send right to the new task's port.
    pub task: u32,
    /// A send right to its thread's port.
    pub thread: u32,
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

fn code(what: &'static str, r: Reply) -> Result<(), ExecError> {
    match r {
        Reply::Code(0) => Ok(()),
        other => Err(ExecError::Call(what, other)),
    }
}

// ANCHOR: spawn_elf
/// Starts `image` in a new task whose first thread gets `arg` in `rdi`;
/// `reply` is a receive right of the caller's for the calls' replies. With
/// `exit_notify` (a receive right of the caller's), the kernel is asked,
/// before the program runs, to send `TASK_EXITED` with its exit status
/// there when it ends (`task_notify_exit`).
pub fn spawn_elf(
    buf: &mut MsgBuf,
    reply: u32,
    image: &[u8],
    arg: u64,
    exit_notify: Option<u32>,
) -> Result<Child, ExecError> {
    let child = spawn(buf, reply, image, Start::Arg(arg), exit_notify)?;
    started(buf, reply, child)
}

/// [`spawn_elf`] giving the program `argv` and `envp` (see
/// [`crate::args`]): the block is written into the new task at
/// [`ARGS_ADDR`](crate::args::ARGS_ADDR), whose address is the first
/// thread's argument. Arguments that do not fit are `E2BIG`'s case:
/// [`ExecError::TooBig`].
pub fn spawn_elf_with_args(
    buf: &mut MsgBuf,
    reply: u32,
    image: &[u8],
    (argv, envp): (&[&str], &[&str]),
    exit_notify: Option<u32>,
) -> Result<Child, ExecError> {
    spawn_elf_with_ports(buf, reply, image, (argv, envp), &[], exit_notify)
}

/// The name under which a session's programs (the shell) find their auth
/// handle; see also [`crate::stdio`] and [`crate::process::PROC`].
pub const INIT_AUTH: u32 = 0x24;
/// The name of a session program's root directory (also its first working
/// directory).
pub const INIT_CRDIR: u32 = 0x25;
/// The name of a session program's send right to the password server.
pub const INIT_PASSWORD: u32 = 0x26;
/// The name of a program's working directory.
pub const INIT_CWDIR: u32 = 0x27;

/// A port the new task starts with: the caller's `right` used with
/// `disposition` (`COPY_SEND`, `MAKE_SEND`…) goes into the new task under
/// `name` (`mach_port_insert_right`), before it runs — as its standard
/// output at [`crate::stdio::STDOUT`], say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitialPort {
    /// The name in the new task.
    pub name: u32,
    /// The caller's right.
    pub right: u32,
    /// How it is taken.
    pub disposition: u32,
}

/// [`spawn_elf_with_args`] also giving the new task `ports`.
pub fn spawn_elf_with_ports(
    buf: &mut MsgBuf,
    reply: u32,
    image: &[u8],
    (argv, envp): (&[&str], &[&str]),
    ports: &[InitialPort],
    exit_notify: Option<u32>,
) -> Result<Child, ExecError> {
    let block = crate::args::encode(argv, envp).ok_or(ExecError::TooBig)?;
    let child = spawn(buf, reply, image, Start::Args(&block, ports), exit_notify)?;
    started(buf, reply, child)
}

/// Resumes `child`, or ends it if it cannot run.
fn started(buf: &mut MsgBuf, reply: u32, child: Child) -> Result<Child, ExecError> {
    match resume(buf, reply, &child) {
        Ok(()) => Ok(child),
        Err(e) => {
            terminate(buf, reply, child);
            Err(e)
        }
    }
}

/// [`spawn_elf_with_ports`] leaving the program's thread suspended, so
/// the caller can make it a process first (`proc_child`) and give it
/// more ports; [`resume`] starts it, [`terminate`] gives up.
pub fn load_elf(
    buf: &mut MsgBuf,
    reply: u32,
    image: &[u8],
    (argv, envp): (&[&str], &[&str]),
    ports: &[InitialPort],
) -> Result<Child, ExecError> {
    let block = crate::args::encode(argv, envp).ok_or(ExecError::TooBig)?;
    spawn(buf, reply, image, Start::Args(&block, ports), None)
}

/// An empty task (`task_create`), for a program to be loaded into later
/// ([`load_elf_into`], or an exec server's `exec_exec` with it as
/// `oldtask`): a send right to its task port.
pub fn create_task(buf: &mut MsgBuf, reply: u32) -> Result<u32, ExecError> {
    rpc::start(buf, sys::task_self(), reply, TASK_CREATE);
    buf.push_u32(0);
    step("task_create", rpc::port_reply(buf, reply))
}

/// Loads `image` into `task`, an empty task the caller holds (see
/// [`create_task`]), with `argv`, `envp` and `ports`; its thread stays
/// suspended (a send right to its port is returned; [`resume`] with it).
/// On an error the task is left as it is, for its holder to end.
pub fn load_elf_into(
    buf: &mut MsgBuf,
    reply: u32,
    task: u32,
    image: &[u8],
    (argv, envp): (&[&str], &[&str]),
    ports: &[InitialPort],
) -> Result<u32, ExecError> {
    let exe =
        elf::parse(image, USER_BASE, USER_STACK_TOP - USER_STACK_SIZE).map_err(ExecError::Elf)?;
    let block = crate::args::encode(argv, envp).ok_or(ExecError::TooBig)?;
    build(
        buf,
        reply,
        task,
        image,
        &exe,
        (Start::Args(&block, ports), None),
    )
}

/// Starts the thread of a program [`load_elf`] loaded.
pub fn resume(buf: &mut MsgBuf, reply: u32, child: &Child) -> Result<(), ExecError> {
    resume_thread(buf, reply, child.thread)
}

/// Starts a suspended `thread` (`thread_resume`).
pub fn resume_thread(buf: &mut MsgBuf, reply: u32, thread: u32) -> Result<(), ExecError> {
    code(
        "thread_resume",
        rpc::simple(buf, thread, reply, THREAD_RESUME),
    )
}

/// Ends a program's task (`task_terminate`) and releases the caller's
/// rights to it.
pub fn terminate(buf: &mut MsgBuf, reply: u32, child: Child) {
    let _ = rpc::simple(buf, child.task, reply, TASK_TERMINATE);
    let _ = sys::port_deallocate(child.task);
    let _ = sys::port_deallocate(child.thread);
}

/// What the first thread gets in `rdi`.
enum Start<'a> {
    /// This value.
    Arg(u64),
    /// An arguments block, written at `ARGS_ADDR`, and the ports to give.
    Args(&'a [u8], &'a [InitialPort]),
}

fn spawn(
    buf: &mut MsgBuf,
    reply: u32,
    image: &[u8],
    start: Start<'_>,
    exit_notify: Option<u32>,
) -> Result<Child, ExecError> {
    let exe =
        elf::parse(image, USER_BASE, USER_STACK_TOP - USER_STACK_SIZE).map_err(ExecError::Elf)?;
    let task = create_task(buf, reply)?;
    match build(buf, reply, task, image, &exe, (start, exit_notify)) {
        Ok(thread) => Ok(Child { task, thread }),
        Err(err) => {
            // Nothing half-built is left running.
            let _ = rpc::simple(buf, task, reply, TASK_TERMINATE);
            let _ = sys::port_deallocate(task);
            Err(err)
        }
    }
}
// ANCHOR_END: spawn_elf

/// Fills `task` with the program and makes its thread (suspended).
fn build(
    buf: &mut MsgBuf,
    reply: u32,
    task: u32,
    image: &[u8],
    exe: &elf::Executable,
    (start, exit_notify): (Start<'_>, Option<u32>),
) -> Result<u32, ExecError> {
    let mut page = [0u8; PAGE as usize];
    for seg in &exe.segments {
        let start = seg.vaddr & !(PAGE - 1);
        let end = (seg.vaddr + seg.mem_size).div_ceil(PAGE) * PAGE;
        step(
            "vm_allocate",
            rpc::vm_allocate(buf, task, reply, start, end - start, false),
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
                code("vm_write", rpc::vm_write(buf, task, reply, at, &page))?;
            }
            at += PAGE;
        }
        code(
            "vm_protect",
            rpc::vm_protect(
                buf,
                task,
                reply,
                (start, end - start),
                false,
                protection(seg),
            ),
        )?;
    }
    step(
        "vm_allocate (stack)",
        rpc::vm_allocate(
            buf,
            task,
            reply,
            USER_STACK_TOP - USER_STACK_SIZE,
            USER_STACK_SIZE,
            false,
        ),
    )?;
    let arg = match start {
        Start::Arg(arg) => arg,
        Start::Args(block, ports) => {
            for p in ports {
                code(
                    "mach_port_insert_right",
                    rpc::insert_right(buf, task, reply, p.name, (p.right, p.disposition)),
                )?;
            }
            let size = crate::args::ARGS_MAX as u64;
            let at = crate::args::ARGS_ADDR;
            step(
                "vm_allocate (arguments)",
                rpc::vm_allocate(buf, task, reply, at, size, false),
            )?;
            for (i, chunk) in block.chunks(PAGE as usize).enumerate() {
                page.fill(0);
                page[..chunk.len()].copy_from_slice(chunk);
                let addr = at + i as u64 * PAGE;
                code(
                    "vm_write (arguments)",
                    rpc::vm_write(buf, task, reply, addr, &page),
                )?;
            }
            at
        }
    };
    rpc::start(buf, task, reply, THREAD_CREATE);
    let thread = step("thread_create", rpc::port_reply(buf, reply))?;
    let mut state = [0u64; COUNT];
    state[RIP] = exe.entry;
    state[RSP] = USER_STACK_TOP;
    state[RDI] = arg;
    code(
        "thread_set_state",
        rpc::set_state(buf, thread, reply, FLAVOR, &state),
    )?;
    if let Some(notify) = exit_notify {
        rpc::start(buf, task, reply, TASK_NOTIFY_EXIT);
        buf.push_port(notify, MAKE_SEND_ONCE);
        code("task_notify_exit", rpc::call(buf, reply))?;
    }
    Ok(thread)
}
