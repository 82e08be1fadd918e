//! Physical memory: the frame allocator built from the boot memory map, and
//! frames as the kernel reaches them (through the direct map).

use hurd_kernel::frames::{FRAME_SIZE, FrameBitmap};
use hurd_kernel::multiboot::BootInfo;
use spin::Mutex;

use super::physmem::{self, DIRECT_MAP_SIZE};

/// Bitmap words for every frame the direct map covers.
const BITMAP_WORDS: usize = (DIRECT_MAP_SIZE / FRAME_SIZE / 64) as usize;

static mut BITMAP: [u64; BITMAP_WORDS] = [0; BITMAP_WORDS];

static FRAMES: Mutex<Option<FrameBitmap<'static>>> = Mutex::new(None);

/// Builds the frame allocator: the available memory below 4 GiB, minus the
/// first megabyte, the kernel image and the boot modules.
pub fn init(boot: &BootInfo) {
    let (image_start, image_end) = super::boot::image_range();
    let mut reserved =
        arrayvec::ArrayVec::<(u64, u64), { 2 + hurd_kernel::multiboot::MAX_MODULES }>::new();
    reserved.push((0, 0x10_0000));
    reserved.push((image_start, image_end));
    for module in &boot.modules {
        reserved.push((module.start, module.end));
    }
    // SAFETY: called once at boot; BITMAP is handed to the allocator, which
    // owns it from then on (nothing else names it).
    let storage = unsafe { &mut *core::ptr::addr_of_mut!(BITMAP) };
    let frames = FrameBitmap::from_memory_map(storage, &boot.memory, &reserved);
    log::info!(
        "{} MiB free in {} frames",
        (frames.free_count() * FRAME_SIZE) >> 20,
        frames.free_count()
    );
    *FRAMES.lock() = Some(frames);
}

/// Frames only page tables may take: every other allocation is refused
/// while no more than this many are free. A task filling memory then meets
/// the end at a page of its own (the fault kills it, or a call returns
/// `KERN_RESOURCE_SHORTAGE`) while the tables that every task's next page
/// needs can still be made; a table allocation that finds even these gone
/// fails the same way (see [`super::paging`]), it does not stop the kernel.
pub const TABLE_RESERVE: u64 = 64;

/// A free frame's physical address, or `None` when memory is exhausted
/// (no more than [`TABLE_RESERVE`] frames free).
pub fn alloc_frame() -> Option<u64> {
    let mut frames = FRAMES.lock();
    let frames = frames.as_mut()?;
    if frames.free_count() <= TABLE_RESERVE {
        return None;
    }
    frames.alloc()
}

/// A zeroed frame for a page table: its physical address, or `None` when
/// no frame at all is left (the [`TABLE_RESERVE`] may be used).
pub fn alloc_table_frame() -> Option<u64> {
    let frame = FRAMES.lock().as_mut()?.alloc()?;
    // SAFETY: just allocated: nobody else knows this frame.
    unsafe { frame_bytes(frame) }.fill(0);
    Some(frame)
}

/// `count` physically contiguous zeroed frames inside `[min, max)`, the
/// first aligned to `align` (see `FrameBitmap::alloc_contiguous`): memory
/// for DMA. The first frame's address; `None` when there are no such
/// frames or taking them would leave fewer than [`TABLE_RESERVE`] free.
pub fn alloc_contiguous(count: u64, align: u64, min: u64, max: u64) -> Option<u64> {
    let first = {
        let mut frames = FRAMES.lock();
        let frames = frames.as_mut()?;
        if frames.free_count() < count.saturating_add(TABLE_RESERVE) {
            return None;
        }
        frames.alloc_contiguous(count, align, min, max)?
    };
    for i in 0..count {
        // SAFETY: just allocated: nobody else knows these frames.
        unsafe { frame_bytes(first + i * FRAME_SIZE) }.fill(0);
    }
    Some(first)
}

/// Returns a frame. Freeing a frame that is not allocated is a kernel bug.
pub fn free_frame(addr: u64) {
    if let Some(frames) = FRAMES.lock().as_mut()
        && let Err(err) = frames.free(addr)
    {
        panic!("freeing frame {addr:#x}: {err:?}");
    }
}

/// Free frames.
pub fn free_frames() -> u64 {
    FRAMES.lock().as_ref().map_or(0, FrameBitmap::free_count)
}

/// The bytes of the frame at physical address `addr`, through the direct
/// map.
///
/// # Safety
///
/// The frame must be one the caller owns — handed out by the allocator for
/// the use the caller makes of it (a page of a VM object, a page table) —
/// and no other reference to it may be live while the returned one is.
pub unsafe fn frame_bytes(addr: u64) -> &'static mut [u8; FRAME_SIZE as usize] {
    assert!(addr.is_multiple_of(FRAME_SIZE) && addr + FRAME_SIZE <= DIRECT_MAP_SIZE);
    // SAFETY: the frame lies in the direct map (checked); exclusivity is
    // the caller's promise.
    unsafe { &mut *(physmem::virt(addr) as *mut [u8; FRAME_SIZE as usize]) }
}

/// The bytes of the frame at `addr` in the direct map (a frame's address
/// as [`super::paging::X86Mmu::translate`] gives it).
///
/// # Safety
///
/// As for [`frame_bytes`].
#[inline]
pub unsafe fn mapped_frame_bytes(addr: u64) -> &'static mut [u8; FRAME_SIZE as usize] {
    let phys = addr.wrapping_sub(physmem::DIRECT_MAP);
    assert!(phys.is_multiple_of(FRAME_SIZE) && phys < DIRECT_MAP_SIZE);
    // SAFETY: the frame lies in the direct map (checked: the direct map's
    // size is a multiple of the frame size); exclusivity is the caller's
    // promise.
    unsafe { &mut *(addr as *mut [u8; FRAME_SIZE as usize]) }
}

/// The frame allocator as hurd-vm sees it.
#[derive(Debug, Default)]
pub struct KernelPhys;

impl hurd_vm::FrameAllocator for KernelPhys {
    fn alloc_frame(&mut self) -> Option<hurd_vm::Frame> {
        alloc_frame().map(|addr| hurd_vm::Frame(addr / FRAME_SIZE))
    }

    fn free_frame(&mut self, frame: hurd_vm::Frame) {
        free_frame(frame.0 * FRAME_SIZE);
    }

    // SAFETY (all four): hurd-vm passes frames it got from `alloc_frame`
    // and still holds, and uses each reference only within the call; the
    // VM lock serialises every access to frames.
    fn zero_frame(&mut self, frame: hurd_vm::Frame) {
        // SAFETY: see above.
        unsafe { frame_bytes(frame.0 * FRAME_SIZE) }.fill(0);
    }

    fn copy_frame(&mut self, from: hurd_vm::Frame, to: hurd_vm::Frame) {
        // SAFETY: see above; the source is copied out before the
        // destination is borrowed.
        let source = *unsafe { frame_bytes(from.0 * FRAME_SIZE) };
        // SAFETY: see above.
        unsafe { frame_bytes(to.0 * FRAME_SIZE) }.copy_from_slice(&source);
    }

    fn read_frame(&self, frame: hurd_vm::Frame, offset: usize, buf: &mut [u8]) {
        // SAFETY: see above.
        let bytes = unsafe { frame_bytes(frame.0 * FRAME_SIZE) };
        buf.copy_from_slice(&bytes[offset..offset + buf.len()]);
    }

    fn write_frame(&mut self, frame: hurd_vm::Frame, offset: usize, data: &[u8]) {
        // SAFETY: see above.
        let bytes = unsafe { frame_bytes(frame.0 * FRAME_SIZE) };
        bytes[offset..offset + data.len()].copy_from_slice(data);
    }
}
