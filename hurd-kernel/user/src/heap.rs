//! The program heap: `talc` over a region of the program's bss, claimed on
//! the first allocation, so programs can use `alloc` (hurd-ipc's messages,
//! [`KernelIpc`](crate::ipc::KernelIpc)). A program that never allocates
//! never touches it.

use talc::DefaultBinning;
use talc::source::Claim;
use talc::sync::TalcLock;

/// The heap's size.
pub const HEAP_SIZE: usize = 1 << 20;

/// The heap's memory, handed to the allocator on its first allocation.
static mut HEAP_AREA: [u8; HEAP_SIZE] = [0; HEAP_SIZE];

#[global_allocator]
static ALLOCATOR: TalcLock<spinning_top::RawSpinlock, Claim, DefaultBinning> =
    // SAFETY: HEAP_AREA is used by nothing but the allocator, which claims it
    // once, on its first allocation, and owns it from then on.
    TalcLock::new(unsafe { Claim::array(&raw mut HEAP_AREA) });
