//! The IDT and the interrupt entry stubs, written by hand (the
//! `x86-interrupt` ABI is unstable).
//!
//! Every vector 0–47 has a stub that pushes a zero error code when the
//! processor does not push one, then the vector number, and jumps to
//! `trap_common`. That saves the general registers, making a
//! [`TrapFrame`](super::trap::TrapFrame) on the stack, calls
//! [`trap_dispatch`](super::trap::trap_dispatch), switches to the frame it
//! returns (the same one, or another thread's after a switch), restores it
//! and `iretq`s. The `syscall` entry builds the same frame (see
//! [`crate::syscall`]) and leaves through the same path.

use core::arch::global_asm;
use core::ptr::addr_of_mut;

use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

use super::gdt;

/// Vectors with a stub: the 32 exceptions and the 16 PIC interrupts.
pub const STUB_COUNT: usize = 48;

global_asm!(
    r#"
    .macro TRAP_NOERR n
    .balign 16
trap_stub_\n:
    push 0
    push \n
    jmp trap_common
    .endm

    .macro TRAP_ERR n
    .balign 16
trap_stub_\n:
    push \n
    jmp trap_common
    .endm

    .section .text.trap, "ax"
    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    TRAP_NOERR \n
    .endr
    .irp n, 8,10,11,12,13,14,17,21,29,30
    TRAP_ERR \n
    .endr
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    TRAP_NOERR \n
    .endr

    # ANCHOR: trap_common
    .global trap_common
trap_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    cld
    call trap_dispatch
    mov rsp, rax
    .global trap_return
trap_return:
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq
    # ANCHOR_END: trap_common

    .section .rodata.trap, "a"
    .balign 8
    .global trap_stub_table
trap_stub_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad trap_stub_\n
    .endr
    "#
);

unsafe extern "C" {
    /// The stubs' addresses, by vector.
    static trap_stub_table: [u64; STUB_COUNT];
}

/// One IDT gate (16 bytes).
#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    /// IST index (bits 0–2).
    ist: u8,
    /// Type (0xE: interrupt gate, interrupts disabled on entry), DPL, present.
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

impl Gate {
    const MISSING: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        attributes: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    fn interrupt(handler: u64, ist: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: gdt::KERNEL_CS,
            ist,
            attributes: 0x8E,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

static mut IDT: [Gate; 256] = [Gate::MISSING; 256];

/// The double fault vector.
const DOUBLE_FAULT: usize = 8;

/// Fills and loads the IDT. Called once at boot, after [`gdt::init`].
pub fn init() {
    // SAFETY: called once before interrupts are enabled; the IDT is a static,
    // so it outlives its use by the processor, and the stub table is filled
    // in by the assembler.
    unsafe {
        let idt = &mut *addr_of_mut!(IDT);
        for (vector, &stub) in trap_stub_table.iter().enumerate() {
            let ist = if vector == DOUBLE_FAULT {
                gdt::DOUBLE_FAULT_IST
            } else {
                0
            };
            idt[vector] = Gate::interrupt(stub, ist);
        }
        lidt(&DescriptorTablePointer {
            limit: (core::mem::size_of::<[Gate; 256]>() - 1) as u16,
            base: VirtAddr::new(idt.as_ptr() as u64),
        });
    }
}
