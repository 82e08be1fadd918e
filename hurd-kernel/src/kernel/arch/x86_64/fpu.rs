//! The x87, MMX and SSE registers of user threads, switched lazily.
//!
//! The kernel and every hurd-rs program are built without floating point
//! or SSE (`x86_64-unknown-none`), but ordinary x86-64 programs (a static
//! Linux program's `memset` or `printf`) use the SSE registers freely. At
//! boot [`init`] enables SSE (`CR4.OSFXSR`, `CR4.OSXMMEXCPT`, `CR0.MP`, no
//! `CR0.EM`) and sets `CR0.TS`, so the first such instruction of a thread
//! traps (#NM, vector 7). The trap gives the thread the registers
//! ([`take`]): the previous user's are saved with `fxsave` in its thread's
//! area, the thread's own are loaded with `fxrstor` (a clean state, all
//! registers zero, the first time — nothing of another task shows through),
//! and the thread becomes the owner. A switch to the owner clears `CR0.TS`,
//! a switch to anyone else sets it ([`switched_to`]); a kernel that only
//! ever runs programs that never touch the registers never writes `CR0`
//! after boot.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use alloc::boxed::Box;

/// A thread's saved registers: the 512-byte `fxsave` image.
#[repr(C, align(16))]
pub struct FpuArea([u8; 512]);

/// The state a thread starts with: the x87 control word of `fninit`
/// (0x037f: every exception masked, extended precision) and `MXCSR` 0x1f80
/// (every SSE exception masked, round to nearest), every register zero.
static CLEAN: FpuArea = {
    let mut image = [0u8; 512];
    image[0] = 0x7f;
    image[1] = 0x03;
    image[24] = 0x80;
    image[25] = 0x1f;
    FpuArea(image)
};

/// The thread whose registers the processor holds (0: none).
static OWNER: AtomicU32 = AtomicU32::new(0);

/// Whether `CR0.TS` is set.
static TRAPPING: AtomicBool = AtomicBool::new(false);

/// `CR0.MP`, `CR0.EM`, `CR0.TS`.
const CR0_MP: u64 = 1 << 1;
const CR0_EM: u64 = 1 << 2;
const CR0_TS: u64 = 1 << 3;
/// `CR4.OSFXSR`, `CR4.OSXMMEXCPT`.
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;

/// Enables SSE for user mode, trapping on first use. Called once at boot.
pub fn init() {
    // SAFETY: these bits change only how the processor treats x87 and SSE
    // instructions and `fxsave`/`fxrstor` (which the kernel does not use
    // outside this module); paging, protection and caching are untouched.
    unsafe {
        let cr4 = x86_64::registers::control::Cr4::read_raw();
        x86_64::registers::control::Cr4::write_raw(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
        let cr0 = x86_64::registers::control::Cr0::read_raw();
        x86_64::registers::control::Cr0::write_raw((cr0 & !CR0_EM) | CR0_MP | CR0_TS);
    }
    TRAPPING.store(true, Ordering::Relaxed);
}

/// Sets or clears `CR0.TS` when it is not so already.
#[inline(always)]
fn set_trapping(on: bool) {
    if TRAPPING.load(Ordering::Relaxed) != on {
        write_trapping(on);
    }
}

/// See [`set_trapping`].
#[cold]
#[inline(never)]
fn write_trapping(on: bool) {
    // SAFETY: only `CR0.TS` changes, which makes x87/SSE instructions trap
    // (#NM) or not.
    unsafe {
        let cr0 = x86_64::registers::control::Cr0::read_raw();
        let cr0 = if on { cr0 | CR0_TS } else { cr0 & !CR0_TS };
        x86_64::registers::control::Cr0::write_raw(cr0);
    }
    TRAPPING.store(on, Ordering::Relaxed);
}

/// The scheduler switched to `thread`, whose saved registers are
/// `has_area` (it has used them before): they are in the processor only
/// when it is the owner.
#[inline(always)]
pub fn switched_to(thread: u32, has_area: bool) {
    set_trapping(!(has_area && OWNER.load(Ordering::Relaxed) == thread));
}

/// #NM in `thread`, whose area is `mine` (allocated here the first time):
/// the previous owner's registers go to `theirs(owner)` when it still
/// exists, `thread`'s are loaded, and it owns them.
pub fn take(
    thread: u32,
    mine: &mut Option<Box<FpuArea>>,
    theirs: impl FnOnce(u32) -> Option<*mut FpuArea>,
) {
    write_trapping(false);
    let owner = OWNER.load(Ordering::Relaxed);
    if owner == thread && mine.is_some() {
        // Its registers are in the processor already.
        return;
    }
    if owner != 0
        && owner != thread
        && let Some(area) = theirs(owner)
    {
        // SAFETY: `area` is the owner's live, 16-byte aligned 512-byte
        // area (the caller's thread table holds it), and the processor
        // holds the owner's registers.
        unsafe {
            core::arch::asm!("fxsave64 [{}]", in(reg) area, options(nostack));
        }
    }
    let from: *const FpuArea = match mine {
        Some(area) => &raw const **area,
        None => {
            *mine = Some(Box::new(FpuArea([0; 512])));
            &raw const CLEAN
        }
    };
    // SAFETY: `from` is a 16-byte aligned 512-byte image: the thread's
    // own saved registers, or the clean state (whose reserved bits are
    // zero, so `fxrstor` takes it).
    unsafe {
        core::arch::asm!("fxrstor64 [{}]", in(reg) from, options(nostack, readonly));
    }
    OWNER.store(thread, Ordering::Relaxed);
}
