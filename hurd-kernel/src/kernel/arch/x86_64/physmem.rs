//! Physical memory as the kernel reaches it: the direct map.
//!
//! The kernel lives in the upper half of every address space. The boot
//! tables map the first [`DIRECT_MAP_SIZE`] bytes of physical memory at
//! [`DIRECT_MAP`] (PML4 entry 256, 2 MiB pages, supervisor only), so the
//! frame at physical address `p` is at `DIRECT_MAP + p`: page tables, the
//! pages of VM objects, the boot information and modules are all reached
//! there. The kernel image itself is mapped a second time in the top 2 GiB
//! (see [`super::boot`]).

use hurd_kernel::multiboot::{OutOfReach, PhysMemory};

/// The virtual address of physical address 0: the start of the upper
/// (kernel) half, `0xffff_8000_0000_0000`.
pub const DIRECT_MAP: u64 = 0xffff_8000_0000_0000;

/// How much physical memory the direct map covers (from address 0): the
/// frames the kernel can use lie below this.
pub const DIRECT_MAP_SIZE: u64 = 4 << 30;

/// The virtual address of the physical address `phys`, which the caller
/// knows lies below [`DIRECT_MAP_SIZE`] (a frame from the allocator, a page
/// table, a boot module): not checked here, on the hot paths, but where the
/// address comes from.
#[inline(always)]
pub const fn virt(phys: u64) -> u64 {
    DIRECT_MAP.wrapping_add(phys)
}

/// Reads physical memory through the direct map.
pub struct DirectMap;

impl PhysMemory for DirectMap {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), OutOfReach> {
        let end = addr.checked_add(buf.len() as u64).ok_or(OutOfReach)?;
        if addr == 0 || end > DIRECT_MAP_SIZE {
            return Err(OutOfReach);
        }
        // SAFETY: `[addr, end)` lies in the direct map (checked above), so
        // the reads touch mapped memory; reading RAM or an unbacked hole has
        // no side effects, and the bytes are copied out, never referenced.
        unsafe {
            let from = (DIRECT_MAP + addr) as *const u8;
            core::ptr::copy_nonoverlapping(from, buf.as_mut_ptr(), buf.len());
        }
        Ok(())
    }
}
