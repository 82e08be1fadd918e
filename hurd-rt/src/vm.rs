//! Memory of the calling task: regions from `vm_allocate` owned as values
//! ([`Allocation`]), and memory objects mapped with `vm_map` ([`Mapping`]).
//! Both are given back (`vm_deallocate`) when dropped.
//!
//! Taking away memory the program may still use is not something a safe
//! function can do, so [`deallocate`] of an arbitrary range is `unsafe`.

use core::ptr::NonNull;

use hurd_abi::trap::{VmAllocate, VmDeallocate, VmMap, VmProtect};
use hurd_ipc::{KernReturn, PortName};

use crate::trap;

/// The size of a page.
pub const PAGE_SIZE: usize = 4096;

/// `vm_protect` protection bits (`VM_PROT_*`).
pub mod prot {
    /// No access.
    pub const NONE: u64 = 0;
    /// `VM_PROT_READ`.
    pub const READ: u64 = 1;
    /// `VM_PROT_WRITE`.
    pub const WRITE: u64 = 2;
    /// `VM_PROT_EXECUTE`.
    pub const EXECUTE: u64 = 4;
}

/// `size` rounded up to whole pages; `None` if that overflows.
fn pages(size: usize) -> Option<usize> {
    size.checked_next_multiple_of(PAGE_SIZE)
}

/// Zero-filled memory of this task, from `vm_allocate`, given back when
/// dropped. Pages are backed by frames only as they are touched.
#[derive(Debug)]
pub struct Allocation {
    addr: NonNull<u8>,
    len: usize,
}

// SAFETY: an Allocation owns its pages like a Box<[u8]> owns its bytes;
// moving or sharing it between threads is as safe as for a Box.
unsafe impl Send for Allocation {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Allocation {}

/// `vm_allocate(mach_task_self(), anywhere)` of at least `size` bytes
/// (whole pages): readable and writable, zero-filled.
///
/// # Errors
///
/// `KERN_INVALID_ARGUMENT` for a size of 0 or one that overflows,
/// `KERN_NO_SPACE` when the address space has no room, or another code the
/// kernel gives.
pub fn allocate(size: usize) -> Result<Allocation, KernReturn> {
    let len = pages(size)
        .filter(|&n| n > 0)
        .ok_or(KernReturn::InvalidArgument)?;
    let addr = trap::call(VmAllocate {
        address: 0,
        size: len as u64,
        anywhere: true,
    })?;
    let addr = NonNull::new(addr as *mut u8).ok_or(KernReturn::Failure)?;
    Ok(Allocation { addr, len })
}

impl Allocation {
    /// Where the region starts.
    pub fn addr(&self) -> u64 {
        self.addr.as_ptr() as u64
    }

    /// Its size in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never: an allocation holds at least a page.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The region's bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the kernel mapped `len` readable and writable bytes at
        // `addr` for this task, and only this value hands them out.
        unsafe { core::slice::from_raw_parts(self.addr.as_ptr(), self.len) }
    }

    /// The region's bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes this borrow the
        // only one.
        unsafe { core::slice::from_raw_parts_mut(self.addr.as_ptr(), self.len) }
    }

    /// Makes the region's first `pages` pages inaccessible (`vm_protect` to
    /// no access) and gives back the rest as its own allocation: a guard
    /// below a stack. The guard pages stay allocated until the returned
    /// value is dropped.
    ///
    /// # Errors
    ///
    /// `KERN_INVALID_ARGUMENT` unless at least one page is left; the
    /// kernel's code if it refused the protection (the region is then
    /// given back).
    pub fn with_guard(self, pages: usize) -> Result<Guarded, KernReturn> {
        let guard = pages
            .checked_mul(PAGE_SIZE)
            .filter(|&g| g < self.len)
            .ok_or(KernReturn::InvalidArgument)?;
        if guard > 0 {
            let protect = VmProtect {
                address: self.addr(),
                size: guard as u64,
                set_maximum: false,
                protection: prot::NONE as u32,
            };
            // SAFETY: the pages are this allocation's, consumed here, and
            // nothing refers to them; from now on nothing hands them out.
            unsafe { trap::trap(protect) }.map_err(trap::kern_error)?;
        }
        Ok(Guarded { whole: self, guard })
    }

    /// Gives up ownership: the region stays allocated; returns its address
    /// and size.
    pub fn into_raw(self) -> (u64, usize) {
        let raw = (self.addr(), self.len);
        core::mem::forget(self);
        raw
    }

    /// Takes ownership of a region made by [`Allocation::into_raw`].
    ///
    /// # Safety
    ///
    /// `(addr, len)` must come from `into_raw` and be owned by nothing else
    /// (in particular, not taken back twice).
    pub unsafe fn from_raw(addr: u64, len: usize) -> Allocation {
        Allocation {
            addr: NonNull::new(addr as *mut u8).unwrap_or(NonNull::dangling()),
            len,
        }
    }
}

impl Drop for Allocation {
    fn drop(&mut self) {
        // SAFETY: the region is this value's alone, and it is going away.
        let _ = unsafe { deallocate(self.addr(), self.len) };
    }
}

/// An [`Allocation`] whose first pages are an inaccessible guard.
#[derive(Debug)]
pub struct Guarded {
    whole: Allocation,
    guard: usize,
}

impl Guarded {
    /// Where the usable part starts (above the guard).
    pub fn addr(&self) -> u64 {
        self.whole.addr() + self.guard as u64
    }

    /// Where the usable part ends (the whole region's end).
    pub fn end(&self) -> u64 {
        self.whole.addr() + self.whole.len() as u64
    }

    /// The usable part's size in bytes.
    pub fn len(&self) -> usize {
        self.whole.len() - self.guard
    }

    /// Never: at least one page is usable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `vm_deallocate(mach_task_self(), addr, size)`: the pages go away.
///
/// # Errors
///
/// `KERN_INVALID_ADDRESS` for a range outside user space, or the kernel's
/// code.
///
/// # Safety
///
/// Nothing may use memory in the range afterwards: no reference, no heap
/// block, no stack, no mapping owned by a value ([`Allocation`],
/// [`Mapping`]) may point into it.
pub unsafe fn deallocate(addr: u64, size: usize) -> Result<(), KernReturn> {
    let dealloc = VmDeallocate {
        address: addr,
        size: size as u64,
    };
    // SAFETY: nothing uses the range (the caller's contract).
    unsafe { trap::trap(dealloc) }.map_err(trap::kern_error)
}

/// A memory object (a pager's port) mapped into this task with `vm_map`:
/// its pages come from the pager as they are touched. Unmapped when dropped.
///
/// The memory is shared with the pager and whoever else maps the object, so
/// it is read and written by copying ([`Mapping::read`], [`Mapping::write`]),
/// never lent out as a slice.
#[derive(Debug)]
pub struct Mapping {
    addr: NonNull<u8>,
    len: usize,
}

// SAFETY: a Mapping owns its range; access goes through copies.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

/// `vm_map(mach_task_self(), anywhere, size, object, offset, copy =
/// FALSE)`: `size` bytes (whole pages) of the memory object `object` (a send
/// right of this task's, which the kernel uses and leaves to the caller) from
/// `offset`, readable and writable, shared. The first mapping of an object
/// sends its pager `memory_object_init`.
///
/// # Errors
///
/// `KERN_INVALID_ARGUMENT` for a size of 0, or the kernel's code
/// (`KERN_INVALID_NAME`, `KERN_INVALID_RIGHT` for a bad object).
pub fn map(object: PortName, offset: u64, size: usize) -> Result<Mapping, KernReturn> {
    let len = pages(size)
        .filter(|&n| n > 0)
        .ok_or(KernReturn::InvalidArgument)?;
    let addr = trap::call(VmMap {
        address: 0,
        size: len as u64,
        memory_object: object,
        offset,
    })?;
    let addr = NonNull::new(addr as *mut u8).ok_or(KernReturn::Failure)?;
    Ok(Mapping { addr, len })
}

impl Mapping {
    /// Where the mapping starts (for system calls on it, or to hand the
    /// range to another call as a buffer).
    pub fn addr(&self) -> u64 {
        self.addr.as_ptr() as u64
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never: a mapping holds at least a page.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The range `[offset, offset + n)` inside the mapping, as a pointer.
    fn range(&self, offset: usize, n: usize) -> Option<*mut u8> {
        let end = offset.checked_add(n)?;
        // SAFETY: `offset <= end <= len`: inside the mapping.
        (end <= self.len).then(|| unsafe { self.addr.as_ptr().add(offset) })
    }

    /// Copies bytes from `offset` into `buf` (faulting pages in from the
    /// pager as needed); `false` if the range passes the end.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> bool {
        let Some(from) = self.range(offset, buf.len()) else {
            return false;
        };
        for (i, b) in buf.iter_mut().enumerate() {
            // SAFETY: inside the mapping (checked above), which stays mapped
            // while `self` lives; volatile, as others may change it.
            *b = unsafe { from.add(i).read_volatile() };
        }
        true
    }

    /// Copies `data` to `offset`; `false` if the range passes the end.
    pub fn write(&self, offset: usize, data: &[u8]) -> bool {
        let Some(to) = self.range(offset, data.len()) else {
            return false;
        };
        for (i, b) in data.iter().enumerate() {
            // SAFETY: as in `read`.
            unsafe { to.add(i).write_volatile(*b) };
        }
        true
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range is this mapping's alone and nothing borrowed it.
        let _ = unsafe { deallocate(self.addr(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_to_pages() {
        assert_eq!(pages(1), Some(4096));
        assert_eq!(pages(4096), Some(4096));
        assert_eq!(pages(0), Some(0));
        assert_eq!(pages(usize::MAX), None);
        // Off the kernel, every allocation fails; bad sizes fail first.
        assert_eq!(allocate(0).err(), Some(KernReturn::InvalidArgument));
        assert_eq!(
            allocate(usize::MAX).err(),
            Some(KernReturn::InvalidArgument)
        );
        assert_eq!(allocate(1).err(), Some(KernReturn::Failure));
    }
}
