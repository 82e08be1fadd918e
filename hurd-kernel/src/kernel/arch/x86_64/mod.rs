//! x86_64 on a PC (QEMU's `q35`/`pc`): everything that touches the
//! hardware, and the kernel's `unsafe` code. (Outside it: a thread's saved
//! frame, reached in [`crate::task`] through the pointer the trap entry
//! left, and the test run's deliberate accesses.)
//!
//! - [`boot`]: the multiboot header and the 32-bit trampoline into long mode;
//! - [`gdt`], [`idt`], [`trap`]: segments and the TSS, the interrupt table,
//!   the common trap entry and exit;
//! - [`entry`]: the `syscall` entry and exceptions from ring 3;
//! - [`fpu`]: user threads' x87 and SSE registers, switched lazily;
//! - [`context`]: what a switch between threads changes in the processor;
//! - [`paging`]: the page tables (`hurd_vm::Mmu`);
//! - [`mem`], [`physmem`], [`heap`]: physical frames, reading physical
//!   memory, the kernel heap;
//! - [`pci`]: PCI configuration space by the `0xCF8`/`0xCFC` ports;
//! - [`uaccess`]: copying to and from a task's memory;
//! - [`timer`], [`serial`], [`qemu`], [`panic`]: the PIT and PICs, the COM1
//!   console, QEMU's exit device, the panic handler;
//! - [`trace`] (feature `trace`): defmt frames on COM2.

#[macro_use]
pub mod serial;

pub mod boot;
pub mod context;
pub mod entry;
pub mod fpu;
pub mod gdt;
pub mod heap;
pub mod idt;
pub mod mem;
pub mod paging;
pub mod panic;
pub mod pci;
pub mod physmem;
pub mod qemu;
pub mod timer;
#[cfg(feature = "trace")]
pub mod trace;
pub mod trap;
pub mod uaccess;
