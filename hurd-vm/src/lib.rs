//! Mach virtual memory as a `no_std` + `alloc` crate.
//!
//! In the Hurd, memory is a cache of *memory objects* whose contents come from
//! *pagers* — ordinary servers speaking the memory_object protocol. hurd-vm is
//! that machinery:
//!
//! - [`VmObject`]s with their resident pages (lock value, dirty, precious),
//!   pager and control ports, shadow chains for copy-on-write;
//! - [`AddressMap`]s of regions with protection, maximum protection and
//!   inheritance, and the `vm_*` operations on them in [`Vm`] (allocate,
//!   deallocate, protect, inherit, map an object, fork, region);
//! - [`Vm::fault`], which says what to do about a fault ([`FaultAction`]);
//! - the kernel side of the memory_object protocol ([`protocol`],
//!   [`Vm::handle_pager_message`]);
//! - the hardware behind the [`Mmu`] and [`FrameAllocator`] traits, with a
//!   software implementation ([`soft_mmu`]) whose loads and stores fault;
//! - a default pager for anonymous memory ([`default_pager`]);
//! - hosted (feature `std`), a simulated kernel ([`hosted::SimKernel`]) that
//!   runs the protocol against real pager threads on hurd-ipc's runtime.
//!
//! The core is plain data with `&mut self` methods that never block: what needs
//! a pager is queued as an [`Outgoing`] message and a [`Ticket`] to wait on.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// The `hurd-ipc` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_ipc;

mod access;
mod attach;
pub mod default_pager;
mod error;
pub mod fault;
#[cfg(feature = "std")]
pub mod hosted;
pub mod inherit;
pub mod map;
mod memory_object;
pub mod mmu;
pub mod object;
pub mod page;
pub mod prot;
pub mod protocol;
pub mod soft_mmu;
mod vm;

pub use access::Stall;
pub use error::{ProtocolError, VmError};
pub use fault::{FaultAction, Ticket, TicketStatus};
pub use inherit::VmInherit;
pub use map::{AddressMap, MapEntry, MapId, RegionInfo};
pub use mmu::{Frame, FrameAllocator, Mmu, PmapId, Pte};
pub use object::{ObjectId, ObjectState, PagerLink, VmObject};
pub use page::{PAGE_SIZE, Page, PageState};
pub use prot::{VM_PROT_NO_CHANGE, VmProt};
pub use protocol::{ControlCall, CopyStrategy, KernelCall, Outgoing, ReturnPolicy};
pub use vm::{OBJECT_CACHE_LIMIT, Vm, VmStats};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
