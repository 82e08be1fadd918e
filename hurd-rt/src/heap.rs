//! The program heap: `talc`, growing on demand with memory from
//! `vm_allocate` (zero-filled, and backed by frames only as pages are
//! touched), so programs can use `alloc` and pay for what they use. A
//! program that never allocates never asks.

use core::alloc::Layout;

use talc::DefaultBinning;
use talc::base::Talc;
use talc::base::binning::Binning;
use talc::source::Source;
use talc::sync::TalcLock;

use hurd_abi::trap::VmAllocate;

use crate::trap;

/// The least the heap grows by at a time.
pub const GROWTH: usize = 4 << 20;

/// Memory for the heap, from `vm_allocate`.
#[derive(Debug)]
pub struct VmSource;

// SAFETY: `acquire` hands talc only fresh memory the kernel just mapped for
// this task (never given out before, never freed), and calls nothing that
// allocates.
unsafe impl Source for VmSource {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        // The request, its alignment, and room for talc's own metadata.
        let needed = layout
            .size()
            .checked_add(layout.align())
            .and_then(|n| n.checked_add(64 * 1024))
            .ok_or(())?;
        let size = needed.max(GROWTH).next_multiple_of(4096);
        let base = trap::call(VmAllocate {
            address: 0,
            size: size as u64,
            anywhere: true,
        })
        .map_err(|_| ())?;
        // SAFETY: `[base, base + size)` is memory the kernel just allocated
        // in this task's map, readable and writable, used by nothing else.
        unsafe { talc.claim(base as *mut u8, size) }.ok_or(())?;
        Ok(())
    }
}

#[global_allocator]
static ALLOCATOR: TalcLock<spinning_top::RawSpinlock, VmSource, DefaultBinning> =
    TalcLock::new(VmSource);
