//! What one task may make the kernel hold, and the kernel heap's reserve.
//!
//! The kernel's data (threads' kernel stacks, IPC names and ports, queued
//! messages, address map regions, tasks) lives in a fixed heap, and an
//! allocation that fails there cannot be recovered from. So each request
//! that makes the kernel hold more on a task's behalf is checked first:
//!
//! - against the task's own limits ([`MAX_THREADS`], [`MAX_CHILDREN`],
//!   [`MAX_PORT_NAMES`], [`MAX_REGIONS`]), so one task cannot take what
//!   every task shares;
//! - against the heap: while less than [`HEAP_RESERVE`] would be left after
//!   the request, it is refused. The reserve is what the kernel itself needs
//!   to go on: replies, notifications, ending tasks.
//!
//! A refused request returns `KERN_RESOURCE_SHORTAGE` (Mach's code 6) to
//! the task that made it, or `MACH_SEND_NO_BUFFER` for a message that does
//! not fit; nothing else changes, and every other task goes on. GNU Mach
//! has no per-task limits (its zones are limited per kind of object); these
//! are the kernel's policy, chosen so that the largest programs here (the
//! exec server runs up to 64 programs at once, each from a thread of its
//! own) stay well inside them.

use hurd_ipc::{KernReturn, SpaceId};
use hurd_vm::MapId;

use crate::task::{KERNEL_STACK_SIZE, Kernel, TaskId};

/// The most threads a task may have at once.
pub const MAX_THREADS: usize = 128;
/// The most live tasks one task may have created (with `task_create`).
pub const MAX_CHILDREN: u32 = 128;
/// The most names a task's IPC space may hold when the task asks for
/// another (`mach_port_allocate`, `mach_reply_port`,
/// `mach_port_allocate_name`, `mach_port_insert_right`).
pub const MAX_PORT_NAMES: usize = 8192;
/// The most regions a task's address map may have when the task asks for
/// another (`vm_allocate`, `vm_map`, and `vm_protect`, which may split one).
pub const MAX_REGIONS: usize = 2048;
/// The heap the kernel keeps for itself: a request on a task's behalf that
/// would leave less free is refused.
pub const HEAP_RESERVE: usize = 1 << 20;
/// The physical frames a new task needs free (its page tables' root and
/// the tables its first pages need): below it `task_create` is refused.
pub const FRAME_RESERVE: u64 = 256;

/// What one more thread costs the heap (its kernel stack and the rest).
const THREAD_COST: usize = KERNEL_STACK_SIZE + 1024;
/// What one more task costs the heap at least (space, map, port, tables).
const TASK_COST: usize = 16 * 1024;
/// What one more name or region costs the heap at most, with the growth of
/// the table it goes into.
const ENTRY_COST: usize = 4096;

/// Whether `bytes` more can be taken from the heap on a task's behalf and
/// still leave [`HEAP_RESERVE`] free.
///
/// # Errors
///
/// `KERN_RESOURCE_SHORTAGE` when they cannot.
pub fn heap_room(bytes: usize) -> Result<(), KernReturn> {
    let (used, _) = crate::arch::heap::usage();
    let wanted = used.saturating_add(bytes).saturating_add(HEAP_RESERVE);
    if wanted <= crate::arch::heap::HEAP_SIZE {
        Ok(())
    } else {
        Err(KernReturn::ResourceShortage)
    }
}

impl Kernel {
    /// Whether `task` may have one more thread.
    ///
    /// # Errors
    ///
    /// `KERN_RESOURCE_SHORTAGE` at [`MAX_THREADS`] or when the heap is short;
    /// `KERN_INVALID_TASK` when there is no such task.
    pub fn room_for_thread(&self, task: TaskId) -> Result<(), KernReturn> {
        let t = self.tasks.get(&task).ok_or(KernReturn::InvalidTask)?;
        if t.threads.len() >= MAX_THREADS {
            log::info!("task {task} ({}): at its limit of threads", t.name);
            return Err(KernReturn::ResourceShortage);
        }
        heap_room(THREAD_COST)
    }

    /// Whether `parent` may create one more task.
    ///
    /// # Errors
    ///
    /// `KERN_RESOURCE_SHORTAGE` at [`MAX_CHILDREN`], when fewer than
    /// [`FRAME_RESERVE`] frames are free, or when the heap is short for the
    /// task (and the copy of the parent's regions);
    /// `KERN_INVALID_TASK` when there is no such task.
    pub fn room_for_task(&self, parent: TaskId) -> Result<(), KernReturn> {
        let t = self.tasks.get(&parent).ok_or(KernReturn::InvalidTask)?;
        if t.children >= MAX_CHILDREN {
            log::info!("task {parent} ({}): at its limit of tasks", t.name);
            return Err(KernReturn::ResourceShortage);
        }
        if crate::arch::mem::free_frames() < FRAME_RESERVE {
            log::info!("task {parent} ({}): no frames for another task", t.name);
            return Err(KernReturn::ResourceShortage);
        }
        let regions = self.vm.map(t.map).map_or(0, |m| m.len());
        heap_room(TASK_COST.saturating_add(regions.saturating_mul(ENTRY_COST)))
    }

    /// Whether `space` may hold `more` more names.
    ///
    /// # Errors
    ///
    /// `KERN_RESOURCE_SHORTAGE` beyond [`MAX_PORT_NAMES`] or when the heap is
    /// short; `KERN_INVALID_TASK` when there is no such space.
    pub fn room_for_names(&self, space: SpaceId, more: usize) -> Result<(), KernReturn> {
        let used = self.ipc.space_name_count(space)?;
        if used.saturating_add(more) > MAX_PORT_NAMES {
            return Err(KernReturn::ResourceShortage);
        }
        heap_room(more.saturating_mul(ENTRY_COST))
    }

    /// Whether `map` may have one more region (or one split in two).
    ///
    /// # Errors
    ///
    /// `KERN_RESOURCE_SHORTAGE` at [`MAX_REGIONS`] or when the heap is short.
    pub fn room_for_region(&self, map: MapId) -> Result<(), KernReturn> {
        let regions = self.vm.map(map).map_or(0, |m| m.len());
        if regions >= MAX_REGIONS {
            return Err(KernReturn::ResourceShortage);
        }
        heap_room(ENTRY_COST)
    }
}
