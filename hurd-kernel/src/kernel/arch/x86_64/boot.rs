//! The way in: the multiboot headers and the 32-bit entry trampoline.
//!
//! The kernel image is linked in the top 2 GiB of the address space, at
//! [`KERNEL_OFFSET`] plus its physical load address (1 MiB), as the `kernel`
//! code model wants; the boot loader loads it at its physical address.
//!
//! A multiboot loader (QEMU's `-kernel`, GRUB's `multiboot` or `multiboot2`)
//! enters `_start32` in 32-bit protected mode with paging off, `eax` holding
//! the multiboot magic and `ebx` the physical address of the boot
//! information. Until paging is on, the trampoline runs at its physical
//! address, so it names every symbol by its physical address (its link
//! address minus [`KERNEL_OFFSET`]). It builds the boot page tables: the
//! first 4 GiB with 2 MiB pages, mapped three ways — at their own addresses
//! (PML4 entry 0, only for the jump into the upper half), at
//! [`super::physmem::DIRECT_MAP`] (entry 256, the direct map) and, for the
//! first 2 GiB, at [`KERNEL_OFFSET`] (entry 511, the image). It turns on
//! PAE, long mode (EFER.LME, and EFER.SCE for `syscall`) and paging, loads a
//! minimal GDT, far-jumps to 64-bit code still at its physical address,
//! jumps to the image's link address, and calls [`crate::kernel_main`] with
//! the magic and the info address. Once the kernel's own GDT is loaded,
//! [`super::paging::drop_identity_map`] takes the low mapping away, so the
//! whole lower half is left to user space.
//!
//! The multiboot v1 header carries the address fields (flag bit 16), all
//! physical: with them QEMU loads an ELF64 file as a flat image at
//! `load_addr` (see `link.ld`). A multiboot2 header follows for GRUB, which
//! loads the ELF segment at its physical address (`p_paddr`) and enters the
//! same trampoline, found through the entry point's place in that segment,
//! with the multiboot2 magic; [`hurd_kernel::multiboot::parse`] reads either
//! kind of boot information.

use core::arch::global_asm;

/// The size of the stack the boot processor starts on.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

/// The virtual address of physical address 0 in the image's mapping: the
/// image is linked at `KERNEL_OFFSET + 1 MiB` (`link.ld` says the same).
pub const KERNEL_OFFSET: u64 = 0xffff_ffff_8000_0000;

global_asm!(
    r#"
    .set MB1_MAGIC, 0x1BADB002
    # page-align modules, memory information, address fields
    .set MB1_FLAGS, 0x00010003
    # A symbol's physical address is its link address minus this.
    .set OFFSET, {offset}

    # ANCHOR: header
    .section .boot_header, "a"
    .balign 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)
    .long mb1_header - OFFSET
    .long __image_start - OFFSET
    .long __load_end - OFFSET
    .long __bss_end - OFFSET
    .long _start32 - OFFSET
    # ANCHOR_END: header

    # The multiboot2 header (GRUB's `multiboot2`), which loads the ELF
    # segments itself: the magic, the architecture (i386), the header's
    # length and checksum, page-aligned modules (tag 6), the end tag.
    .set MB2_MAGIC, 0xE85250D6
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long 0
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + (mb2_header_end - mb2_header))
    .word 6, 0
    .long 8
    .word 0, 0
    .long 8
mb2_header_end:

    .section .text.boot32, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov %eax, %edi
    mov %ebx, %esi
    mov $(boot_stack_top - OFFSET), %esp

    # PML4[0] (the identity map, for the jump) and PML4[256] (the direct
    # map) -> the PDPT of the first 4 GiB.
    mov $(boot_pdpt - OFFSET), %eax
    or $3, %eax
    mov %eax, (boot_pml4 - OFFSET)
    mov %eax, (boot_pml4 - OFFSET + 256 * 8)

    # PML4[511] -> the image's PDPT, whose last two entries (-2 GiB and
    # -1 GiB) -> the first two page directories: physical 0..2 GiB.
    mov $(boot_pdpt_image - OFFSET), %eax
    or $3, %eax
    mov %eax, (boot_pml4 - OFFSET + 511 * 8)
    mov $(boot_pd - OFFSET), %eax
    or $3, %eax
    mov %eax, (boot_pdpt_image - OFFSET + 510 * 8)
    add $4096, %eax
    mov %eax, (boot_pdpt_image - OFFSET + 511 * 8)

    # PDPT[0..4] -> the four page directories.
    mov $(boot_pd - OFFSET), %eax
    or $3, %eax
    mov $(boot_pdpt - OFFSET), %ebx
    mov $4, %ecx
1:
    mov %eax, (%ebx)
    movl $0, 4(%ebx)
    add $4096, %eax
    add $8, %ebx
    loop 1b

    # 2048 directory entries: 2 MiB pages, present + writable + huge.
    mov $(boot_pd - OFFSET), %ebx
    mov $0x83, %eax
    mov $2048, %ecx
2:
    mov %eax, (%ebx)
    movl $0, 4(%ebx)
    add $0x200000, %eax
    add $8, %ebx
    loop 2b

    # ANCHOR: long_mode
    # PAE on, the PML4 in CR3.
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $(boot_pml4 - OFFSET), %eax
    mov %eax, %cr3

    # EFER: long mode enable (bit 8), syscall enable (bit 0).
    mov $0xC0000080, %ecx
    rdmsr
    or $0x101, %eax
    wrmsr

    # Paging, write protection in ring 0, protected mode.
    mov %cr0, %eax
    or $0x80010001, %eax
    mov %eax, %cr0

    lgdt (boot_gdt_ptr - OFFSET)
    ljmp $0x08, $(start64_low - OFFSET)

    .code64
start64_low:
    # Still at the physical address: on to the link address.
    movabs $start64, %rax
    jmp *%rax
start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov $boot_stack_top, %rsp
    # The upper halves of registers are undefined after the mode switch.
    mov %edi, %edi
    mov %esi, %esi
    xor %ebp, %ebp
    call kernel_main
    # ANCHOR_END: long_mode
3:
    cli
    hlt
    jmp 3b

    .section .rodata.boot_gdt, "a"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt - OFFSET

    .section .bss.boot_tables, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pdpt_image:
    .skip 4096
boot_pd:
    .skip 4 * 4096

    .section .bss.boot_stack, "aw", @nobits
    .balign 16
    .global boot_stack_bottom
boot_stack_bottom:
    .skip {stack_size}
    .global boot_stack_top
boot_stack_top:
    "#,
    stack_size = const BOOT_STACK_SIZE,
    offset = const KERNEL_OFFSET,
    options(att_syntax)
);

unsafe extern "C" {
    /// The first byte of the image (at its link address).
    pub static __image_start: u8;
    /// The end of the image, bss included, page aligned.
    pub static __image_end: u8;
}

/// The physical address of `addr`, an address inside the kernel image.
#[inline]
pub fn image_phys(addr: u64) -> u64 {
    addr - KERNEL_OFFSET
}

/// The physical range `[start, end)` the kernel image occupies, bss included.
pub fn image_range() -> (u64, u64) {
    (
        image_phys(core::ptr::addr_of!(__image_start) as u64),
        image_phys(core::ptr::addr_of!(__image_end) as u64),
    )
}
