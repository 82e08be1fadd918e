//! Reading and writing a task's memory from the kernel.
//!
//! The kernel never dereferences a user pointer. It checks the range lies in
//! user space, then for each page asks the VM for the translation, resolving
//! a missing or insufficient one with [`hurd_vm::Vm::fault`] (zero fill,
//! copy-on-write) exactly as a user access would, and copies through the
//! frame's identity mapping. A range the task could not access itself is an
//! error, never a kernel fault.

use hurd_kernel::abi::user_range_ok;
use hurd_kernel::frames::FRAME_SIZE;
use hurd_vm::{MapId, Mmu, VmProt};

use crate::mem;
use crate::task::KernelVm;

/// The task could not access the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress;

// ANCHOR: page_frame
/// The physical address of the page holding `addr` in `map`, with `access`
/// allowed, faulting it in if needed.
fn page_frame(vm: &mut KernelVm, map: MapId, addr: u64, access: VmProt) -> Result<u64, BadAddress> {
    let page = addr & !(FRAME_SIZE - 1);
    for _ in 0..2 {
        if let Some(pte) = vm.mmu().query(map.space(), page)
            && pte.prot.contains(access)
        {
            return Ok(pte.frame.0 * FRAME_SIZE);
        }
        if !vm.fault(map, page, access).is_resolved() {
            return Err(BadAddress);
        }
    }
    Err(BadAddress)
}

// ANCHOR_END: page_frame

/// Copies `out.len()` bytes at `addr` in `map` into `out`.
pub fn copy_in(vm: &mut KernelVm, map: MapId, addr: u64, out: &mut [u8]) -> Result<(), BadAddress> {
    if !user_range_ok(addr, out.len() as u64) {
        return Err(BadAddress);
    }
    let mut done = 0;
    while done < out.len() {
        let at = addr + done as u64;
        let offset = (at % FRAME_SIZE) as usize;
        let chunk = (FRAME_SIZE as usize - offset).min(out.len() - done);
        let frame = page_frame(vm, map, at, VmProt::READ)?;
        // SAFETY: the frame backs the task's page (the VM just said so) and
        // the reference lives only for this copy, under the kernel lock.
        let page = unsafe { mem::frame_bytes(frame) };
        out[done..done + chunk].copy_from_slice(&page[offset..offset + chunk]);
        done += chunk;
    }
    Ok(())
}

/// Copies `data` to `addr` in `map`.
pub fn copy_out(vm: &mut KernelVm, map: MapId, addr: u64, data: &[u8]) -> Result<(), BadAddress> {
    if !user_range_ok(addr, data.len() as u64) {
        return Err(BadAddress);
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
        let page = unsafe { mem::frame_bytes(frame) };
        page[offset..offset + chunk].copy_from_slice(&data[done..done + chunk]);
        done += chunk;
    }
    Ok(())
}
