//! The GDT and the TSS.
//!
//! Selector layout, fixed by what `syscall`/`sysret` expect (STAR):
//! kernel code 0x08, kernel data 0x10, user data 0x18, user code 0x20, then
//! the TSS (two slots). `sysret` loads user SS from STAR\[63:48\] + 8 and user
//! CS from STAR\[63:48\] + 16, so STAR\[63:48\] is 0x10.
//!
//! The TSS holds `rsp0`, the kernel stack the processor switches to on an
//! interrupt from ring 3 (updated on every thread switch), and IST 1, the
//! stack double faults run on.

use core::ptr::addr_of_mut;

use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::segmentation::SegmentSelector;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use x86_64::structures::tss::TaskStateSegment;

/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_DS: u16 = 0x10;
/// User data selector (RPL 3).
pub const USER_DS: u16 = 0x18 | 3;
/// User code selector (RPL 3).
pub const USER_CS: u16 = 0x20 | 3;

/// The IST slot (1-based, as the IDT names it) double faults use.
pub const DOUBLE_FAULT_IST: u8 = 1;

const DOUBLE_FAULT_STACK_SIZE: usize = 16 * 1024;

#[repr(C, align(16))]
struct Stack([u8; DOUBLE_FAULT_STACK_SIZE]);

static mut DOUBLE_FAULT_STACK: Stack = Stack([0; DOUBLE_FAULT_STACK_SIZE]);
static mut TSS: TaskStateSegment = TaskStateSegment::new();
static mut GDT: GlobalDescriptorTable = GlobalDescriptorTable::new();

/// Builds and loads the GDT and the TSS, and reloads the segment registers.
/// Called once at boot.
pub fn init() {
    // SAFETY: called once, on the boot processor, before interrupts are
    // enabled: nothing else uses TSS, GDT or the double-fault stack yet, and
    // they are statics, so they live as long as the processor uses them.
    unsafe {
        let tss = addr_of_mut!(TSS);
        let stack_top = addr_of_mut!(DOUBLE_FAULT_STACK) as u64 + DOUBLE_FAULT_STACK_SIZE as u64;
        (*tss).interrupt_stack_table[usize::from(DOUBLE_FAULT_IST - 1)] = VirtAddr::new(stack_top);
        let gdt = &mut *addr_of_mut!(GDT);
        let kernel_cs = gdt.append(Descriptor::kernel_code_segment());
        let kernel_ds = gdt.append(Descriptor::kernel_data_segment());
        let user_ds = gdt.append(Descriptor::user_data_segment());
        let user_cs = gdt.append(Descriptor::user_code_segment());
        let tss_selector = gdt.append(Descriptor::tss_segment_unchecked(tss));
        debug_assert_eq!(kernel_cs.0, KERNEL_CS);
        debug_assert_eq!(kernel_ds.0, KERNEL_DS);
        debug_assert_eq!(user_ds.0, USER_DS);
        debug_assert_eq!(user_cs.0, USER_CS);
        gdt.load_unsafe();
        CS::set_reg(SegmentSelector(KERNEL_CS));
        SS::set_reg(SegmentSelector(KERNEL_DS));
        DS::set_reg(SegmentSelector(KERNEL_DS));
        ES::set_reg(SegmentSelector(KERNEL_DS));
        load_tss(tss_selector);
    }
}

/// Sets the stack the processor switches to when an interrupt or exception
/// arrives in ring 3.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: one processor, interrupts disabled in the kernel: nothing reads
    // the TSS while this writes it except the processor on the next ring
    // change, which sees the whole aligned 8-byte store.
    unsafe {
        (*addr_of_mut!(TSS)).privilege_stack_table[0] = VirtAddr::new(top);
    }
}
