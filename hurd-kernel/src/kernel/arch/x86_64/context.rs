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
