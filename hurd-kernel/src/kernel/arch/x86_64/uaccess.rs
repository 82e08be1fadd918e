//! Reading and writing a task's memory from the kernel.
//!
//! The kernel never dereferences a user pointer. It checks the range lies in
//! user space, then for each page asks the VM for the translation, resolving
//! a missing or insufficient one with [`hurd_vm::Vm::fault`] (zero fill,
//! copy-on-write) exactly as a user access would, and copies through the
//! frame's place in the direct map. A range the task could not access itself is an
//! error, never a kernel fault. A page that must come from a pager is
//! [`UserFault::Pager`]: the caller blocks the thread on the ticket and
//! retries the copy once the page is there.

use hurd_abi::user_range_ok;
use hurd_kernel::frames::FRAME_SIZE;
use hurd_vm::{MapId, VmProt};

use super::mem;
use crate::task::KernelVm;

/// Why a copy did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFault {
    /// The task could not access the range.
    Bad,
    /// A page is on its way from a pager: wait on the ticket, then copy
    /// again (what was copied before it may be copied again).
    Pager(hurd_vm::Ticket),
}

impl UserFault {
    /// Gives up on the copy: a ticket nobody will wait on is released.
    pub fn abandon(self, vm: &mut KernelVm) {
        if let UserFault::Pager(ticket) = self {
            vm.release_ticket(&ticket);
        }
    }
}

// ANCHOR: page_frame
/// The frame of the page holding `addr` in `map` (its address in the direct
/// map), with `access` allowed, faulting it in if needed.
#[inline]
fn page_frame(vm: &mut KernelVm, map: MapId, addr: u64, access: VmProt) -> Result<u64, UserFault> {
    let page = addr & !(FRAME_SIZE - 1);
    let write = access.contains(VmProt::WRITE);
    for _ in 0..2 {
        if let Some(frame) = vm.mmu().translate(map.pmap(), page, write) {
            return Ok(frame);
        }
        if vm.mmu().is_device(map.pmap(), page) {
            // A device's registers are not message data.
            return Err(UserFault::Bad);
        }
        let action = vm.fault(map, page, access);
        if let Some(ticket) = action.ticket() {
            return Err(UserFault::Pager(ticket));
        }
        if !action.is_resolved() {
            return Err(UserFault::Bad);
        }
    }
    Err(UserFault::Bad)
}

// ANCHOR_END: page_frame

// ANCHOR: mapped
/// Reads the `N` bytes at `addr` in `map` when they lie in one page that
/// is mapped and readable now: the RPC fast path's copy, one cached
/// translation and no fault. `None` (nothing read) says only that
/// [`copy_in`] must do it.
#[inline(always)]
pub fn read_mapped<const N: usize>(vm: &KernelVm, map: MapId, addr: u64) -> Option<[u8; N]> {
    let offset = (addr % FRAME_SIZE) as usize;
    if !user_range_ok(addr, N as u64) || offset + N > FRAME_SIZE as usize {
        return None;
    }
    let frame = vm.mmu().translate(map.pmap(), addr, false)?;
    // SAFETY: the frame backs the task's page (the page tables say so) and
    // the reference lives only for this copy, under the kernel lock.
    let page = unsafe { mem::mapped_frame_bytes(frame) };
    page.get(offset..offset + N)?.try_into().ok()
}

/// Writes `data` at `addr` in `map` when it lies in one page that is
/// mapped and writable now (copy-on-write already resolved): the RPC fast
/// path's copy. `false` (nothing written) says only that [`copy_out`] must
/// do it.
#[inline(always)]
pub fn write_mapped(vm: &KernelVm, map: MapId, addr: u64, data: &[u8]) -> bool {
    let offset = (addr % FRAME_SIZE) as usize;
    if !user_range_ok(addr, data.len() as u64) || offset + data.len() > FRAME_SIZE as usize {
        return false;
    }
    let Some(frame) = vm.mmu().translate(map.pmap(), addr, true) else {
        return false;
    };
    // SAFETY: as in `read_mapped`; the page is writable for the task, so
    // writing it is what the task's own store would do.
    let page = unsafe { mem::mapped_frame_bytes(frame) };
    match page.get_mut(offset..offset + data.len()) {
        Some(to) => {
            to.copy_from_slice(data);
            true
        }
        None => false,
    }
}
// ANCHOR_END: mapped

/// Copies `out.len()` bytes at `addr` in `map` into `out`.
pub fn copy_in(vm: &mut KernelVm, map: MapId, addr: u64, out: &mut [u8]) -> Result<(), UserFault> {
    if !user_range_ok(addr, out.len() as u64) {
        return Err(UserFault::Bad);
    }
    let offset = (addr % FRAME_SIZE) as usize;
    if let Some(end) = offset.checked_add(out.len())
        && end <= FRAME_SIZE as usize
    {
        // Within one page (a message header, a small message): one
        // translation, one copy.
        let frame = page_frame(vm, map, addr, VmProt::READ)?;
        // SAFETY: as below.
        let page = unsafe { mem::mapped_frame_bytes(frame) };
        out.copy_from_slice(&page[offset..end]);
        return Ok(());
    }
    let mut done = 0;
    while done < out.len() {
        let at = addr + done as u64;
        let offset = (at % FRAME_SIZE) as usize;
        let chunk = (FRAME_SIZE as usize - offset).min(out.len() - done);
        let frame = page_frame(vm, map, at, VmProt::READ)?;
        // SAFETY: the frame backs the task's page (the VM just said so) and
        // the reference lives only for this copy, under the kernel lock.
        let page = unsafe { mem::mapped_frame_bytes(frame) };
        out[done..done + chunk].copy_from_slice(&page[offset..offset + chunk]);
        done += chunk;
    }
    Ok(())
}

/// Copies `data` to `addr` in `map`.
pub fn copy_out(vm: &mut KernelVm, map: MapId, addr: u64, data: &[u8]) -> Result<(), UserFault> {
    if !user_range_ok(addr, data.len() as u64) {
        return Err(UserFault::Bad);
    }
    let offset = (addr % FRAME_SIZE) as usize;
    if let Some(end) = offset.checked_add(data.len())
        && end <= FRAME_SIZE as usize
    {
        // Within one page: one translation, one copy.
        let frame = page_frame(vm, map, addr, VmProt::WRITE)?;
        // SAFETY: as below.
        let page = unsafe { mem::mapped_frame_bytes(frame) };
        page[offset..end].copy_from_slice(data);
        return Ok(());
    }
    let mut done = 0;
    while done < data.len() {
        let at = addr + done as u64;
        let offset = (at % FRAME_SIZE) as usize;
        let chunk = (FRAME_SIZE as usize - offset).min(data.len() - done);
        let frame = page_frame(vm, map, at, VmProt::WRITE)?;
        // SAFETY: as in `copy_in`; the VM made the page writable for the task
        // (copy-on-write resolved), so writing it is what the task's own
        // store would do.
        let page = unsafe { mem::mapped_frame_bytes(frame) };
        page[offset..offset + chunk].copy_from_slice(&data[done..done + chunk]);
        done += chunk;
    }
    Ok(())
}

/// Makes every page of `[addr, addr + len)` in `map` present with `access`
/// allowed, copying nothing: a copy of the range that follows cannot fail.
pub fn probe(
    vm: &mut KernelVm,
    map: MapId,
    addr: u64,
    len: u64,
    access: VmProt,
) -> Result<(), UserFault> {
    if !user_range_ok(addr, len) {
        return Err(UserFault::Bad);
    }
    let mut page = addr & !(FRAME_SIZE - 1);
    while page < addr + len {
        page_frame(vm, map, page, access)?;
        page += FRAME_SIZE;
    }
    Ok(())
}
