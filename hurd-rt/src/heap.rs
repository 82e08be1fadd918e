//! The program heap: `talc`, growing on demand with memory from
//! `vm_allocate` (zero-filled, and backed by frames only as pages are
//! touched), so programs can use `alloc` and pay for what they use. A
//! program that never allocates never asks.
//!
//! The heap grows wherever the kernel finds room, unless the program has
//! [`place`]d it: a runtime that lives inside another program's address
//! space (an emulator sharing a task with the program it runs) keeps its
//! memory in a range of its own, out of the program's way.

use core::sync::atomic::{AtomicU64, Ordering};

/// The least the heap grows by at a time.
pub const GROWTH: usize = 4 << 20;

/// The next address of a placed heap (0: not placed).
static NEXT: AtomicU64 = AtomicU64::new(0);
/// The end of a placed heap's range.
static END: AtomicU64 = AtomicU64::new(0);

/// Why [`place`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceError {
    /// The range is empty, not page-aligned, or not in user space.
    BadRange,
    /// The heap is placed already.
    Placed,
}

/// Makes the heap grow only inside `[start, end)` (page-aligned, in user
/// space), at fixed addresses from `start` up: memory the heap already
/// holds stays where it is, so call this before the first allocation.
/// Once the range is used up, allocations fail.
///
/// # Errors
///
/// [`PlaceError::BadRange`] for a range that is empty, unaligned or not in
/// user space; [`PlaceError::Placed`] when a range was placed before.
pub fn place(start: u64, end: u64) -> Result<(), PlaceError> {
    let aligned = start.is_multiple_of(4096) && end.is_multiple_of(4096);
    if !aligned || start == 0 || end <= start || !hurd_abi::user_range_ok(start, end - start) {
        return Err(PlaceError::BadRange);
    }
    END.compare_exchange(0, end, Ordering::SeqCst, Ordering::SeqCst)
        .map_err(|_| PlaceError::Placed)?;
    NEXT.store(start, Ordering::SeqCst);
    Ok(())
}

#[cfg(any(target_os = "none", test))]
/// Where the next `size` bytes of heap go: `(address, anywhere)` for
/// `vm_allocate`, or `None` when a placed range has no room left.
fn next_region(size: u64) -> Option<(u64, bool)> {
    let end = END.load(Ordering::SeqCst);
    if end == 0 {
        return Some((0, true));
    }
    let next = NEXT.load(Ordering::SeqCst);
    next.checked_add(size).filter(|&e| e <= end)?;
    Some((next, false))
}

#[cfg(any(target_os = "none", test))]
/// The placed range's next address moves past `size` bytes just
/// allocated at `at`.
fn advance(at: u64, size: u64) {
    if END.load(Ordering::SeqCst) != 0 {
        NEXT.store(at + size, Ordering::SeqCst);
    }
}

#[cfg(target_os = "none")]
mod allocator {
    use core::alloc::Layout;

    use talc::DefaultBinning;
    use talc::base::Talc;
    use talc::base::binning::Binning;
    use talc::source::Source;
    use talc::sync::TalcLock;

    use hurd_abi::trap::VmAllocate;

    use super::{GROWTH, advance, next_region};
    use crate::trap;

    /// Memory for the heap, from `vm_allocate`.
    #[derive(Debug)]
    pub struct VmSource;

    // SAFETY: `acquire` hands talc only fresh memory the kernel just mapped
    // for this task (never given out before, never freed), and calls
    // nothing that allocates.
    unsafe impl Source for VmSource {
        fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
            // The request, its alignment, and room for talc's own metadata.
            let needed = layout
                .size()
                .checked_add(layout.align())
                .and_then(|n| n.checked_add(64 * 1024))
                .ok_or(())?;
            let size = needed.max(GROWTH).next_multiple_of(4096);
            // Under talc's lock: one acquire at a time.
            let (address, anywhere) = next_region(size as u64).ok_or(())?;
            let base = trap::call(VmAllocate {
                address,
                size: size as u64,
                anywhere,
            })
            .map_err(|_| ())?;
            advance(base, size as u64);
            // SAFETY: `[base, base + size)` is memory the kernel just
            // allocated in this task's map, readable and writable, used by
            // nothing else.
            unsafe { talc.claim(base as *mut u8, size) }.ok_or(())?;
            Ok(())
        }
    }

    #[global_allocator]
    static ALLOCATOR: TalcLock<spinning_top::RawSpinlock, VmSource, DefaultBinning> =
        TalcLock::new(VmSource);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placed_heap_grows_inside_its_range_only() {
        assert_eq!(next_region(4096), Some((0, true)));
        assert_eq!(place(0x1001, 0x2000), Err(PlaceError::BadRange));
        assert_eq!(place(0x2000, 0x2000), Err(PlaceError::BadRange));
        assert_eq!(place(0, 0x2000), Err(PlaceError::BadRange));
        assert_eq!(place(0x7e00_0000_0000, 0x7e00_0010_0000), Ok(()));
        assert_eq!(
            place(0x7e00_0000_0000, 0x7e00_0010_0000),
            Err(PlaceError::Placed)
        );
        assert_eq!(next_region(0x8_0000), Some((0x7e00_0000_0000, false)));
        advance(0x7e00_0000_0000, 0x8_0000);
        assert_eq!(next_region(0x8_0000), Some((0x7e00_0008_0000, false)));
        advance(0x7e00_0008_0000, 0x8_0000);
        assert_eq!(next_region(4096), None);
    }
}
