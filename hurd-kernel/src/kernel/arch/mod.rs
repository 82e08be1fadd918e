//! What depends on the processor and the PC: one module per architecture,
//! re-exported here so the rest of the kernel names `crate::arch::paging`
//! and so on. Only x86_64 exists.

#[macro_use]
mod x86_64;

pub use self::x86_64::*;
