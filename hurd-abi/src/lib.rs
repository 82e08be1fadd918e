//! The contract between the hurd-rs reference kernel and the programs it
//! runs: what both sides must agree on, defined once, with no code of
//! either side (as Hubris's `abi` crate is for its kernel and tasks).
//!
//! - [`trap`]: the system calls, one definition each, from which the kernel
//!   decodes registers into a typed [`Trap`](trap::Trap) and the runtime
//!   builds its raw traps;
//! - [`mach`], [`mach_port`], [`hurd_task`]: the kernel's RPCs on task and
//!   thread ports, defined once with `interface!` (GNU Mach's ids);
//!   [`port_call`]: the transitional trap for `mach_port` calls on a task's
//!   own space;
//! - [`device`]: the Mach device interface between drivers and their
//!   clients, and what the kernel's device master port gives drivers (PCI
//!   functions, their regions and interrupts, DMA memory);
//! - [`net`]: network devices on that interface (GNU Mach's
//!   `net_status.h`): status flavors, the frames sent to clients, and the
//!   BPF packet filters clients give (validated and run here, so that what
//!   a filter means is defined once);
//! - [`thread_state`]: the register state `thread_get_state` moves;
//! - [`BootstrapInfo`]: what the first task is given;
//! - [`elf`]: the executables the kernel and the user loaders take;
//! - the address-space layout ([`USER_BASE`], [`USER_END`], the first
//!   stack) and [`user_range_ok`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// The `hurd-ipc` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_ipc;

pub mod device;
pub mod elf;
pub mod interfaces;
pub mod net;
pub mod trap;

pub use interfaces::{EmulationVector, ReceiveStatus, ThreadState, hurd_task, mach, mach_port};
pub use trap::nr;

/// The interfaces of this crate (the kernel's RPCs and the device
/// interface), for tools that name messages (see [`hurd_ipc::msgids`]).
pub static INTERFACES: &[&hurd_ipc::msgids::Subsystem] = &[
    &mach::DESCRIPTION,
    &mach_port::DESCRIPTION,
    &hurd_task::DESCRIPTION,
    &device::device::DESCRIPTION,
    &device::gnumach::DESCRIPTION,
    &device::hurd_device::DESCRIPTION,
    &device::mach_intr::DESCRIPTION,
    &device::net_rcv::DESCRIPTION,
];

/// The message ids of the kernel's RPCs, by their old names: each is the id
/// of a routine of [`mach`], [`mach_port`] or [`hurd_task`], where the
/// routines are defined (use those; these remain for code that builds its
/// messages by hand). The reply has the id + 100.
pub mod rpc {
    use crate::{hurd_task, mach, mach_port};

    /// [`mach::Call::task_create`].
    pub const TASK_CREATE: i32 = mach::id::task_create;
    /// [`mach::Call::task_terminate`].
    pub const TASK_TERMINATE: i32 = mach::id::task_terminate;
    /// [`mach::Call::thread_terminate`].
    pub const THREAD_TERMINATE: i32 = mach::id::thread_terminate;
    /// [`mach::Call::thread_get_state`].
    pub const THREAD_GET_STATE: i32 = mach::id::thread_get_state;
    /// [`mach::Call::thread_set_state`].
    pub const THREAD_SET_STATE: i32 = mach::id::thread_set_state;
    /// [`mach::Call::vm_allocate`].
    pub const VM_ALLOCATE: i32 = mach::id::vm_allocate;
    /// [`mach::Call::vm_deallocate`].
    pub const VM_DEALLOCATE: i32 = mach::id::vm_deallocate;
    /// [`mach::Call::vm_protect`].
    pub const VM_PROTECT: i32 = mach::id::vm_protect;
    /// [`mach::Call::vm_read`].
    pub const VM_READ: i32 = mach::id::vm_read;
    /// [`mach::Call::vm_write`].
    pub const VM_WRITE: i32 = mach::id::vm_write;
    /// [`mach::Call::task_suspend`].
    pub const TASK_SUSPEND: i32 = mach::id::task_suspend;
    /// [`mach::Call::task_resume`].
    pub const TASK_RESUME: i32 = mach::id::task_resume;
    /// [`mach::Call::thread_create`].
    pub const THREAD_CREATE: i32 = mach::id::thread_create;
    /// [`mach::Call::thread_suspend`].
    pub const THREAD_SUSPEND: i32 = mach::id::thread_suspend;
    /// [`mach::Call::thread_resume`].
    pub const THREAD_RESUME: i32 = mach::id::thread_resume;
    /// [`hurd_task::Call::task_notify_exit`].
    pub const TASK_NOTIFY_EXIT: i32 = hurd_task::id::task_notify_exit;
    /// [`hurd_task::Call::task_exited`].
    pub const TASK_EXITED: i32 = hurd_task::id::task_exited;
    /// [`mach_port::Call::mach_port_insert_right`].
    pub const MACH_PORT_INSERT_RIGHT: i32 = mach_port::id::mach_port_insert_right;
    /// What a reply's id adds to the request's.
    pub const REPLY_OFFSET: i32 = hurd_ipc::mig::REPLY_ID_OFFSET;
}

/// The register state `thread_get_state` / `thread_set_state` move.
pub mod thread_state {
    /// The one flavor (GNU Mach's `i386_THREAD_STATE` number): the
    /// general registers, `rip` and `rflags`, as [`COUNT`] little-endian
    /// 64-bit words in the order of [`REGISTERS`].
    pub const FLAVOR: u32 = 1;
    /// The state's size in 64-bit words.
    pub const COUNT: usize = 18;
    /// The registers, in the order the state holds them.
    pub const REGISTERS: [&str; COUNT] = [
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15", "rip", "rflags",
    ];
    /// The index of `rsp`.
    pub const RSP: usize = 7;
    /// The index of `rdi` (a new thread's first argument).
    pub const RDI: usize = 5;
    /// The index of `rip`.
    pub const RIP: usize = 16;
    /// The index of `rflags`.
    pub const RFLAGS: usize = 17;
    /// The `rflags` bits a task may set (carry, parity, adjust, zero, sign,
    /// direction, overflow); interrupts stay enabled and the rest clear.
    pub const USER_FLAGS: u64 = 0xcd5;
    /// The segment-base flavor (GNU Mach's `i386_FSGS_BASE_STATE`): the
    /// thread's FS and GS bases, [`FSGS_COUNT`] words (`fs_base`,
    /// `gs_base`), what thread-local storage is addressed by. A thread may
    /// get and set its own. A base must be a canonical address of the lower
    /// half (or 0).
    pub const FSGS_FLAVOR: u32 = 7;
    /// The segment-base state's size in 64-bit words.
    pub const FSGS_COUNT: usize = 2;
}

/// `mach_msg` option bits (as in Mach).
pub mod msg_option {
    /// Send the message in the buffer.
    pub const SEND_MSG: u64 = 0x1;
    /// Then receive into the same buffer.
    pub const RCV_MSG: u64 = 0x2;
    /// Give up a blocked send after the timeout.
    pub const SEND_TIMEOUT: u64 = 0x10;
    /// Give up a blocked receive after the timeout.
    pub const RCV_TIMEOUT: u64 = 0x100;
    /// A message too large for the receive buffer stays queued, and its
    /// size is written into the buffer's `msgh_size` (the call returns
    /// `MACH_RCV_TOO_LARGE`); without it such a message is destroyed.
    pub const RCV_LARGE: u64 = 0x800;
}

/// The name under which a task finds the port right it was started with (its
/// bootstrap port): a receive right for a server, a send right for a client.
pub const SERVICE_PORT_NAME: u32 = 0x10;

/// Where the kernel puts the boot information of the bootstrap task (its
/// argument points here): see [`BootstrapInfo`].
pub const BOOTSTRAP_INFO_ADDR: u64 = NATIVE_AREA + (32 << 30);

/// `BootstrapInfo::magic`: "HURDBOOT".
pub const BOOTSTRAP_MAGIC: u64 = u64::from_le_bytes(*b"HURDBOOT");

/// The head of the boot information handed to the bootstrap task, as the
/// Hurd's first server gets the boot modules and the command line. It is
/// followed by `module_count` [`BootstrapModule`]s; every address points into
/// the bootstrap task's own memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct BootstrapInfo {
    /// [`BOOTSTRAP_MAGIC`].
    pub magic: u64,
    /// The kernel command line (UTF-8, not NUL-terminated).
    pub cmdline_addr: u64,
    /// Its length in bytes.
    pub cmdline_len: u64,
    /// How many modules follow.
    pub module_count: u64,
}

/// One boot module as the bootstrap task sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct BootstrapModule {
    /// Where its contents are mapped.
    pub addr: u64,
    /// Their size.
    pub size: u64,
    /// Its string (the loader's module command line).
    pub name_addr: u64,
    /// The string's length.
    pub name_len: u64,
}

/// The status a task has when the kernel killed it for an exception: this
/// base plus the vector (so a page fault is `EXIT_EXCEPTION_BASE + 14`).
pub const EXIT_EXCEPTION_BASE: u64 = 0x1000;

/// The status of a task ended by `task_terminate` on its task port.
pub const EXIT_TERMINATED: u64 = 0x2000;

/// The largest message `mach_msg` copies in or out, in bytes.
pub const MAX_MESSAGE: u64 = 64 * 1024;

/// The calls of the [`PortCall`](trap::PortCall) system call: the few
/// `mach_port.defs` routines a server makes for every port it hands out,
/// on the caller's own IPC space, by their GNU Mach routine ids, with the
/// routine's arguments (after the name) in order and its one out value in
/// `rdx`. Every other `mach_port` call is the RPC to the task port
/// ([`mach_port`]); these four are the same operations
/// as a trap because the RPC costs several times as much (see
/// [`PortCall`](trap::PortCall)). None takes an address. Right types are
/// `MACH_PORT_RIGHT_*` (send 0, receive 1, send-once 2, port set 3, dead
/// name 4), dispositions `MACH_MSG_TYPE_*`, notifications `MACH_NOTIFY_*`
/// message ids.
pub mod port_call {
    /// `mach_port_mod_refs(name, right, delta)` (`delta` sign-extended).
    pub const MOD_REFS: u64 = 3208;
    /// `mach_port_move_member(member, after)` (`after` 0: out of its set).
    pub const MOVE_MEMBER: u64 = 3213;
    /// `mach_port_request_notification(name, id, sync, notify,
    /// notify_disposition) → previous`: the previous request's send-once
    /// right, now the caller's (0 when none).
    pub const REQUEST_NOTIFICATION: u64 = 3214;
    /// `mach_port_insert_right(name, right_name, disposition)`: the right
    /// taken from the caller's `right_name`, under `name`.
    pub const INSERT_RIGHT: u64 = 3215;
}

/// `console_read` flag: do not wait for input.
pub const CONSOLE_NOWAIT: u64 = 1;

/// The most bytes one `vm_read` returns (its reply must fit a message).
pub const VM_READ_MAX: u64 = 32 * 1024;

/// The top of a program's stack: the kernel's loader and user-space loaders
/// put it here.
pub const USER_STACK_TOP: u64 = NATIVE_AREA + (64 << 30);
/// The size of a program's first stack.
pub const USER_STACK_SIZE: u64 = 64 * 1024;

/// The lowest user address: 64 KiB, Linux's default `mmap_min_addr`, so
/// that page 0 and its neighbours stay unmapped and a null pointer faults.
///
/// The kernel lives in the upper half of the address space, so user space
/// reaches down to here and programs linked at Linux's usual addresses
/// (`0x400000`) fit.
pub const USER_BASE: u64 = 0x1_0000;
/// The end of user space: the lower canonical half minus its top page
/// (Linux's `TASK_SIZE`). That page stays unmapped because `sysret` to a
/// non-canonical `rip` faults in ring 0 on some processors: a thread can
/// never run off the end of user space into the next page.
pub const USER_END: u64 = 0x7fff_ffff_f000;

/// Where hurd-rs's own programs live: hurd-rt links them 4 MiB above it,
/// the first stack ends at [`USER_STACK_TOP`] and the bootstrap information
/// lies at [`BOOTSTRAP_INFO_ADDR`], all far above the addresses other
/// executables are linked at.
pub const NATIVE_AREA: u64 = 512 << 30;

// The bootstrap information lies in the native area, below the first stack.
const _: () = assert!(
    NATIVE_AREA < BOOTSTRAP_INFO_ADDR && BOOTSTRAP_INFO_ADDR < USER_STACK_TOP - USER_STACK_SIZE
);

/// Whether `[addr, addr + len)` lies inside user space (and does not wrap).
pub fn user_range_ok(addr: u64, len: u64) -> bool {
    match addr.checked_add(len) {
        Some(end) => addr >= USER_BASE && end <= USER_END,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_state_indices_name_their_registers() {
        use thread_state::*;
        assert_eq!(REGISTERS[RSP], "rsp");
        assert_eq!(REGISTERS[RDI], "rdi");
        assert_eq!(REGISTERS[RIP], "rip");
        assert_eq!(REGISTERS[RFLAGS], "rflags");
        // Interrupts, IOPL, trap, nested task, alignment check: never taken.
        assert_eq!(USER_FLAGS & (0x200 | 0x3000 | 0x100 | 0x4000 | 0x4_0000), 0);
    }

    #[test]
    fn ids_name_gnu_machs_routines() {
        use hurd_ipc::msgids::{ArgKind, MsgIds};

        let ids = MsgIds::with(&[INTERFACES]);
        let name = |id| ids.lookup(id).map(|found| found.to_string());
        assert_eq!(name(2007).as_deref(), Some("task_create"));
        assert_eq!(name(2107).as_deref(), Some("task_create-reply"));
        assert_eq!(name(2021).as_deref(), Some("vm_allocate"));
        assert_eq!(name(3204).as_deref(), Some("mach_port_allocate"));
        assert_eq!(name(3206).as_deref(), Some("mach_port_deallocate"));
        assert_eq!(name(2800).as_deref(), Some("device_open"));
        assert_eq!(name(2000), None, "old_port_allocate is withdrawn");
        assert_eq!(name(i32::MIN), None);
        assert_eq!(name(i32::MAX), None);
        let create = ids.lookup(2007).expect("named").routine;
        assert_eq!(create.args[0].kind, ArgKind::Bool);
        assert_eq!(create.results[0].kind, ArgKind::Port);
    }

    #[test]
    fn user_ranges() {
        assert!(user_range_ok(USER_BASE, 4096));
        assert!(user_range_ok(USER_END - 1, 1));
        assert!(user_range_ok(USER_BASE, 0));
        assert!(!user_range_ok(USER_BASE - 1, 2));
        assert!(!user_range_ok(0, 8));
        assert!(!user_range_ok(USER_END - 1, 2));
        assert!(!user_range_ok(u64::MAX - 3, 8));
        assert!(!user_range_ok(0xffff_8000_0000_0000, 8));
        assert!(!user_range_ok(0xffff_ffff_8000_0000, 8));
    }

    #[test]
    fn layout_keeps_linux_addresses_free() {
        // A Linux ET_EXEC is linked at 0x400000; Linux's highest user page
        // ends at 0x7fff_ffff_f000.
        assert!(user_range_ok(0x40_0000, 0x1000));
        assert!(user_range_ok(USER_BASE, USER_END - USER_BASE));
        assert!(!user_range_ok(0, 4096));
        assert!(!user_range_ok(0xf000, 4096));
        assert!(!user_range_ok(USER_END, 4096));
        // The native programs' area lies wholly inside user space.
        assert!(user_range_ok(NATIVE_AREA, USER_STACK_TOP - NATIVE_AREA));
    }
}

/// The README's example, compiled and run as a test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
