//! The VM calls of GNU Mach's `mach.defs` on a task port: `vm_allocate`,
//! `vm_deallocate`, `vm_protect`, `vm_read` and `vm_write` act on the
//! address map of the task the port names, so one task can build another's
//! memory — what an exec server does to load a program into a new task.
//!
//! Arguments are the items of the request in the routine's order (see
//! [`hurd_abi::rpc`]); addresses and sizes are checked against user
//! space, and `vm_read` / `vm_write` move whole pages, as Mach requires. The
//! kernel answers these requests itself and cannot wait for a pager, so a
//! `vm_read` or `vm_write` that touches a page a pager must supply first is
//! refused with `KERN_MEMORY_ERROR` (nothing is changed).

use alloc::vec;

use hurd_abi::rpc::{VM_ALLOCATE, VM_DEALLOCATE, VM_PROTECT, VM_READ, VM_WRITE};
use hurd_abi::{self as abi, VM_READ_MAX};
use hurd_ipc::{Item, KernReturn, Message, OolItem};
use hurd_vm::{VmError, VmProt};

use crate::task::{Kernel, TaskId};
use crate::taskport::Outcome;
use crate::uaccess::{self, UserFault};

/// The size of a page.
const PAGE: u64 = 4096;

/// Mach's code for a VM error.
pub fn vm_return(err: VmError) -> KernReturn {
    match err {
        VmError::InvalidAddress => KernReturn::InvalidAddress,
        VmError::ProtectionFailure => KernReturn::ProtectionFailure,
        VmError::NoSpace => KernReturn::NoSpace,
        VmError::ResourceShortage => KernReturn::ResourceShortage,
        _ => KernReturn::InvalidArgument,
    }
}

/// Whether `id` is one of the VM calls on a task port.
pub fn is_vm_call(id: i32) -> bool {
    matches!(
        id,
        VM_ALLOCATE | VM_DEALLOCATE | VM_PROTECT | VM_READ | VM_WRITE
    )
}

fn page_aligned(addr: u64, size: u64) -> bool {
    addr.is_multiple_of(PAGE) && size.is_multiple_of(PAGE)
}

impl Kernel {
    /// A VM call (see [`is_vm_call`]) on `task`'s port.
    pub fn task_vm_request(&mut self, task: TaskId, msg: &Message) -> Outcome {
        let Some(map) = self
            .tasks
            .get(&task)
            .filter(|t| t.exit_status.is_none())
            .map(|t| t.map)
        else {
            return Outcome::Code(KernReturn::InvalidTask);
        };
        match (msg.header.id, msg.body.as_slice()) {
            (
                VM_ALLOCATE,
                [
                    Item::U64(addr),
                    Item::U64(size),
                    Item::U32(anywhere @ (0 | 1)),
                ],
            ) => {
                let anywhere = *anywhere == 1;
                let hint = if anywhere {
                    (*addr).max(abi::USER_BASE)
                } else {
                    *addr
                };
                if *size == 0 || !abi::user_range_ok(hint, *size) {
                    return Outcome::Code(KernReturn::InvalidAddress);
                }
                match self.vm.allocate(map, hint, *size, anywhere) {
                    Ok(at) if abi::user_range_ok(at, *size) => Outcome::Item(Item::U64(at)),
                    Ok(at) => {
                        let _ = self.vm.deallocate(map, at, *size);
                        Outcome::Code(KernReturn::NoSpace)
                    }
                    Err(err) => Outcome::Code(vm_return(err)),
                }
            }
            (VM_DEALLOCATE, [Item::U64(addr), Item::U64(size)]) => {
                if !abi::user_range_ok(*addr, *size) {
                    return Outcome::Code(KernReturn::InvalidAddress);
                }
                Outcome::Code(match self.vm.deallocate(map, *addr, *size) {
                    Ok(()) => KernReturn::Success,
                    Err(err) => vm_return(err),
                })
            }
            (
                VM_PROTECT,
                [
                    Item::U64(addr),
                    Item::U64(size),
                    Item::U32(max @ (0 | 1)),
                    Item::U32(prot),
                ],
            ) => {
                if !abi::user_range_ok(*addr, *size) {
                    return Outcome::Code(KernReturn::InvalidAddress);
                }
                let Some(prot) = VmProt::from_bits(*prot) else {
                    return Outcome::Code(KernReturn::InvalidArgument);
                };
                Outcome::Code(match self.vm.protect(map, *addr, *size, *max == 1, prot) {
                    Ok(()) => KernReturn::Success,
                    Err(err) => vm_return(err),
                })
            }
            (VM_READ, [Item::U64(addr), Item::U64(size)]) => {
                if !page_aligned(*addr, *size) || !abi::user_range_ok(*addr, *size) {
                    return Outcome::Code(KernReturn::InvalidAddress);
                }
                if *size > VM_READ_MAX {
                    return Outcome::Code(KernReturn::InvalidArgument);
                }
                let mut data = vec![0u8; *size as usize];
                match uaccess::copy_in(&mut self.vm, map, *addr, &mut data) {
                    Ok(()) => Outcome::Item(Item::Ool(OolItem {
                        data,
                        deallocate: false,
                    })),
                    Err(fault) => {
                        Outcome::Code(self.refused(fault, map, (*addr, *size), VmProt::READ))
                    }
                }
            }
            (VM_WRITE, [Item::U64(addr), Item::Ool(data)]) => {
                let size = data.data.len() as u64;
                if !page_aligned(*addr, size) || !abi::user_range_ok(*addr, size) {
                    return Outcome::Code(KernReturn::InvalidAddress);
                }
                // Every page must be there and writable before any is written.
                let range = (*addr, size);
                if let Err(fault) = uaccess::probe(&mut self.vm, map, *addr, size, VmProt::WRITE) {
                    return Outcome::Code(self.refused(fault, map, range, VmProt::WRITE));
                }
                match uaccess::copy_out(&mut self.vm, map, *addr, &data.data) {
                    Ok(()) => Outcome::Code(KernReturn::Success),
                    Err(fault) => Outcome::Code(self.refused(fault, map, range, VmProt::WRITE)),
                }
            }
            _ => Outcome::BadArguments,
        }
    }

    /// The code for a copy of `range` in `map` that failed: a page only a
    /// pager can give (the wait is given up) is `KERN_MEMORY_ERROR`; a range
    /// whose regions do not allow `access` is `KERN_PROTECTION_FAILURE`;
    /// one with a hole in it is `KERN_INVALID_ADDRESS`.
    fn refused(
        &mut self,
        fault: UserFault,
        map: hurd_vm::MapId,
        (addr, size): (u64, u64),
        access: VmProt,
    ) -> KernReturn {
        if let UserFault::Pager(_) = fault {
            fault.abandon(&mut self.vm);
            return KernReturn::MemoryError;
        }
        let mut at = addr;
        while at < addr + size {
            match self.vm.region(map, at) {
                Ok(r) if r.start <= at => {
                    if !r.prot.contains(access) {
                        return KernReturn::ProtectionFailure;
                    }
                    at = r.start + r.size;
                }
                _ => return KernReturn::InvalidAddress,
            }
        }
        KernReturn::InvalidAddress
    }
}
