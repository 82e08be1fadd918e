//! The kernel heap: `linked_list_allocator` over a region reserved in the
//! image's bss, so it exists before the frame allocator does.

use linked_list_allocator::LockedHeap;

/// The heap's size.
pub const HEAP_SIZE: usize = 16 << 20;

/// The heap's memory, 4 KiB aligned.
#[repr(C, align(4096))]
struct HeapArea([u8; HEAP_SIZE]);

/// Handed to the allocator once, by [`init`].
static mut HEAP_AREA: HeapArea = HeapArea([0; HEAP_SIZE]);

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Gives the heap its memory. Called once, first thing at boot.
pub fn init() {
    // SAFETY: called once before any allocation; HEAP_AREA is used by nothing
    // else, so the allocator owns it for the rest of the kernel's life.
    unsafe {
        let start = core::ptr::addr_of_mut!(HEAP_AREA).cast::<u8>();
        ALLOCATOR.lock().init(start, HEAP_SIZE);
    }
}

/// Bytes currently allocated and free in the heap.
pub fn usage() -> (usize, usize) {
    let heap = ALLOCATOR.lock();
    (heap.used(), heap.free())
}
