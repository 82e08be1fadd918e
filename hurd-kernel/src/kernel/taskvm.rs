//! The VM calls of GNU Mach's `mach.defs` on a task port: `vm_allocate`,
//! `vm_deallocate`, `vm_protect`, `vm_read` and `vm_write` act on the
//! address map of the task the port names, so one task can build another's
//! memory — what an exec server does to load a program into a new task.
//!
//! The routines are defined in [`hurd_abi::mach`] and decoded by
//! [`crate::rpc`]; addresses and sizes are checked against user
//! space, and `vm_read` / `vm_write` move whole pages, as Mach requires. The
//! kernel answers these requests itself and cannot wait for a pager, so a
//! `vm_read` or `vm_write` that touches a page a pager must supply first is
//! refused with `KERN_MEMORY_ERROR` (nothing is changed).

use alloc::vec;

use hurd_abi::{self as abi, VM_READ_MAX};
use hurd_ipc::{KernReturn, OolItem};
use hurd_vm::{MapId, VmError, VmProt};

use crate::arch::uaccess::{self, UserFault};
use crate::task::{Kernel, TaskId};

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

fn page_aligned(addr: u64, size: u64) -> bool {
    addr.is_multiple_of(PAGE) && size.is_multiple_of(PAGE)
}

impl Kernel {
    /// The map of `task`, if it has not ended.
    fn live_map(&self, task: TaskId) -> Result<MapId, KernReturn> {
        self.live_task(task)
            .map(|t| t.map)
            .ok_or(KernReturn::InvalidTask)
    }

    /// `vm_allocate` in `task`'s map.
    pub fn task_vm_allocate(
        &mut self,
        task: TaskId,
        address: u64,
        size: u64,
        anywhere: bool,
    ) -> Result<u64, KernReturn> {
        let map = self.live_map(task)?;
        let hint = if anywhere {
            address.max(abi::USER_BASE)
        } else {
            address
        };
        if size == 0 || !abi::user_range_ok(hint, size) {
            return Err(KernReturn::InvalidAddress);
        }
        self.room_for_region(map)?;
        match self.vm.allocate(map, hint, size, anywhere) {
            Ok(at) if abi::user_range_ok(at, size) => Ok(at),
            Ok(at) => {
                let _ = self.vm.deallocate(map, at, size);
                Err(KernReturn::NoSpace)
            }
            Err(err) => Err(vm_return(err)),
        }
    }

    /// `vm_deallocate` in `task`'s map.
    pub fn task_vm_deallocate(
        &mut self,
        task: TaskId,
        address: u64,
        size: u64,
    ) -> Result<(), KernReturn> {
        let map = self.live_map(task)?;
        if !abi::user_range_ok(address, size) {
            return Err(KernReturn::InvalidAddress);
        }
        self.vm.deallocate(map, address, size).map_err(vm_return)
    }

    /// `vm_protect` in `task`'s map.
    pub fn task_vm_protect(
        &mut self,
        task: TaskId,
        (address, size): (u64, u64),
        set_maximum: bool,
        protection: u32,
    ) -> Result<(), KernReturn> {
        let map = self.live_map(task)?;
        if !abi::user_range_ok(address, size) {
            return Err(KernReturn::InvalidAddress);
        }
        let prot = VmProt::from_bits(protection).ok_or(KernReturn::InvalidArgument)?;
        self.room_for_region(map)?;
        self.vm
            .protect(map, address, size, set_maximum, prot)
            .map_err(vm_return)
    }

    /// `vm_read` of `task`'s memory: whole pages, out of line.
    pub fn task_vm_read(
        &mut self,
        task: TaskId,
        address: u64,
        size: u64,
    ) -> Result<OolItem, KernReturn> {
        let map = self.live_map(task)?;
        if !page_aligned(address, size) || !abi::user_range_ok(address, size) {
            return Err(KernReturn::InvalidAddress);
        }
        if size > VM_READ_MAX {
            return Err(KernReturn::InvalidArgument);
        }
        let mut data = vec![0u8; size as usize];
        match uaccess::copy_in(&mut self.vm, map, address, &mut data) {
            Ok(()) => Ok(OolItem {
                data,
                deallocate: false,
            }),
            Err(fault) => Err(self.refused(fault, map, (address, size), VmProt::READ)),
        }
    }

    /// `vm_write` of whole pages into `task`'s memory: all or nothing.
    pub fn task_vm_write(
        &mut self,
        task: TaskId,
        address: u64,
        data: &[u8],
    ) -> Result<(), KernReturn> {
        let map = self.live_map(task)?;
        let size = data.len() as u64;
        if !page_aligned(address, size) || !abi::user_range_ok(address, size) {
            return Err(KernReturn::InvalidAddress);
        }
        // Every page must be there and writable before any is written.
        let range = (address, size);
        if let Err(fault) = uaccess::probe(&mut self.vm, map, address, size, VmProt::WRITE) {
            return Err(self.refused(fault, map, range, VmProt::WRITE));
        }
        uaccess::copy_out(&mut self.vm, map, address, data)
            .map_err(|fault| self.refused(fault, map, range, VmProt::WRITE))
    }

    /// The code for a copy of `range` in `map` that failed: a page only a
    /// pager can give (the wait is given up) is `KERN_MEMORY_ERROR`; a range
    /// whose regions do not allow `access` is `KERN_PROTECTION_FAILURE`;
    /// one with a hole in it is `KERN_INVALID_ADDRESS`.
    fn refused(
        &mut self,
        fault: UserFault,
        map: MapId,
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
