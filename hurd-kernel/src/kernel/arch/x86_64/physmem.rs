//! Physical memory as the kernel reaches it: identity-mapped below 4 GiB.

use hurd_kernel::multiboot::{OutOfReach, PhysMemory};

/// The top of the identity map the boot trampoline sets up.
pub const IDENTITY_LIMIT: u64 = 4 << 30;

/// Reads physical memory through the identity map.
pub struct Identity;

impl PhysMemory for Identity {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), OutOfReach> {
        let end = addr.checked_add(buf.len() as u64).ok_or(OutOfReach)?;
        if addr == 0 || end > IDENTITY_LIMIT {
            return Err(OutOfReach);
        }
        // SAFETY: `[addr, end)` is inside the identity map (checked above), so
        // the reads touch mapped memory; reading RAM or an unbacked hole has
        // no side effects, and the bytes are copied out, never referenced.
        unsafe {
            core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len());
        }
        Ok(())
    }
}
