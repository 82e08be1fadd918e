//! What a switch between threads changes in the processor: the kernel stack
//! that traps and `syscall` enter on, and the page tables; and the boot
//! thread's way into the scheduler.

use x86_64::registers::control::Cr3;

use super::{gdt, paging};

/// The kernel stack the `syscall` entry switches to (the running thread's).
#[unsafe(no_mangle)]
static mut SYSCALL_KERNEL_RSP: u64 = 0;

/// Makes `top` the kernel stack of traps from ring 3 (the TSS's `rsp0`) and
/// of the `syscall` entry.
#[inline]
pub fn set_kernel_stack(top: u64) {
    gdt::set_kernel_stack(top);
    // SAFETY: one processor with interrupts disabled: the syscall entry
    // cannot read this while it is written.
    unsafe { SYSCALL_KERNEL_RSP = top };
}

/// The physical address of the loaded PML4.
#[inline]
pub fn loaded_root() -> u64 {
    Cr3::read_raw().0.start_address().as_u64()
}

/// Loads `root` (a PML4's physical address: the boot tables or a space's
/// from [`paging::X86Mmu::root`], all of which map the kernel alike), or the
/// kernel's tables.
#[inline]
pub fn load_address_space(root: Option<u64>) {
    let root = root.unwrap_or_else(paging::kernel_pml4);
    let (current, flags) = Cr3::read_raw();
    if current.start_address().as_u64() != root {
        let frame =
            x86_64::structures::paging::PhysFrame::containing_address(x86_64::PhysAddr::new(root));
        // SAFETY: every address space maps the kernel identically (the upper
        // half of the PML4 is shared), so the kernel keeps running after the
        // switch.
        unsafe { Cr3::write_raw(frame, flags) };
    }
}

/// Whether a user FS or GS base other than 0 may be loaded (the last
/// [`load_segment_bases`] set one). A task can only ever clear a base
/// itself (by loading a segment selector; CR4.FSGSBASE stays off), so when
/// this is false both bases are 0.
static SEGMENT_BASES_SET: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Loads a thread's user FS and GS bases (user addresses or 0, checked by
/// whoever stored them). Costs a test when they and the loaded ones are 0
/// (every hurd-rs program's).
#[inline(always)]
pub fn load_segment_bases(fs_base: u64, gs_base: u64) {
    if fs_base | gs_base != 0 || SEGMENT_BASES_SET.load(core::sync::atomic::Ordering::Relaxed) {
        write_segment_bases(fs_base, gs_base);
    }
}

/// See [`load_segment_bases`].
#[cold]
#[inline(never)]
fn write_segment_bases(fs_base: u64, gs_base: u64) {
    // SAFETY: IA32_FS_BASE and IA32_GS_BASE (the kernel uses neither
    // segment, and never `swapgs`) take any canonical address; the callers
    // pass user addresses or 0.
    unsafe {
        x86_64::registers::model_specific::Msr::new(0xC000_0100).write(fs_base);
        x86_64::registers::model_specific::Msr::new(0xC000_0101).write(gs_base);
    }
    SEGMENT_BASES_SET.store(
        fs_base | gs_base != 0,
        core::sync::atomic::Ordering::Relaxed,
    );
}

/// The time-stamp counter.
#[inline(always)]
pub fn read_tsc() -> u64 {
    // SAFETY: rdtsc has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Waits with interrupts enabled until one arrives (and has been handled);
/// returns with interrupts disabled again.
pub fn wait_for_interrupt() {
    x86_64::instructions::interrupts::enable_and_hlt();
    x86_64::instructions::interrupts::disable();
}

/// The vector number of the boot thread's yield frames.
pub const YIELD_VECTOR: u64 = 48;

/// Enters the scheduler from the boot thread as an interrupt would: builds
/// an interrupt frame for the instruction after this one (vector
/// [`YIELD_VECTOR`]) and jumps to the common trap entry, which returns here
/// with `iretq` when the boot thread runs again.
///
/// (A software interrupt, `int 48`, would be the obvious way; under nested
/// KVM on these machines `int n` instructions never complete.)
pub fn enter_scheduler() {
    // SAFETY: the frame built here is exactly what the processor pushes for
    // an interrupt in ring 0 (stack aligned, then SS, RSP, RFLAGS, CS, RIP),
    // plus the error code and vector the stubs push; trap_common saves every
    // register and its iretq resumes at label 2 with the original stack
    // pointer and flags. Only rax is used as scratch.
    unsafe {
        core::arch::asm!(
            "mov rax, rsp",
            "and rsp, -16",
            "push {ss}",
            "push rax",
            "pushfq",
            "push {cs}",
            "lea rax, [rip + 2f]",
            "push rax",
            "push 0",
            "push {vector}",
            "jmp trap_common",
            "2:",
            ss = const gdt::KERNEL_DS as u64,
            cs = const gdt::KERNEL_CS as u64,
            vector = const YIELD_VECTOR,
            out("rax") _,
        );
    }
}
