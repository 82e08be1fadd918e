//! The kernel heap: `talc` over a region reserved in the image's bss, so it
//! exists before the frame allocator does.
//!
//! Talc keeps free chunks in size-binned lists, so the many small, short-lived
//! allocations of the message path (message bodies, wire buffers) cost a few
//! dozen instructions each.

use talc::DefaultBinning;
use talc::source::Claim;
use talc::sync::TalcLock;

/// The heap's size.
pub const HEAP_SIZE: usize = 16 << 20;

/// The heap's memory, handed to the allocator on its first allocation.
static mut HEAP_AREA: [u8; HEAP_SIZE] = [0; HEAP_SIZE];

#[global_allocator]
static ALLOCATOR: TalcLock<spinning_top::RawSpinlock, Claim, DefaultBinning> =
    // SAFETY: HEAP_AREA is used by nothing but the allocator, which claims it
    // once, on its first allocation, and owns it from then on.
    TalcLock::new(unsafe { Claim::array(&raw mut HEAP_AREA) });

/// Nothing to do: the heap claims its memory on the first allocation (kept
/// so boot shows where the heap comes to life).
pub fn init() {}

/// Bytes currently allocated, and the number of live allocations.
pub fn usage() -> (usize, usize) {
    let heap = ALLOCATOR.lock();
    let counters = heap.counters();
    (counters.allocated_bytes, counters.allocation_count)
}
