//! The hardware behind traits: physical frames and the MMU.
//!
//! The VM core never touches memory itself: it asks a [`FrameAllocator`] for
//! frames and to copy, zero, read and write them, and an [`Mmu`] to enter and
//! remove translations. A kernel implements both over real page tables and
//! physical memory; [`crate::soft_mmu`] implements them in software.

use crate::error::VmError;
use crate::prot::VmProt;

/// A physical frame (page frame number).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Frame(pub u64);

/// A physical map: the page tables of one address map, as the VM names them
/// to the [`Mmu`] (Mach's `pmap`, one per map; see [`crate::MapId::pmap`]).
///
/// Not to be confused with `hurd_ipc::SpaceId`, a task's IPC space: a Mach
/// task has both, an IPC space for its port names and an address map (with
/// its pmap) for its memory, and they share nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PmapId(pub u32);

/// Physical memory: allocates frames and moves their bytes.
pub trait FrameAllocator {
    /// A free frame, or `None` when memory is exhausted. Its contents are
    /// unspecified.
    fn alloc_frame(&mut self) -> Option<Frame>;
    /// Returns a frame.
    fn free_frame(&mut self, frame: Frame);
    /// Fills the frame with zeros.
    fn zero_frame(&mut self, frame: Frame);
    /// Copies a whole frame.
    fn copy_frame(&mut self, from: Frame, to: Frame);
    /// Reads `buf.len()` bytes at `offset` in the frame (`offset + len <= PAGE_SIZE`).
    fn read_frame(&self, frame: Frame, offset: usize, buf: &mut [u8]);
    /// Writes `data` at `offset` in the frame (`offset + len <= PAGE_SIZE`).
    fn write_frame(&mut self, frame: Frame, offset: usize, data: &[u8]);
}

/// One translation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pte {
    /// The frame.
    pub frame: Frame,
    /// The accesses allowed.
    pub prot: VmProt,
    /// Written through this translation since the bit was last cleared.
    pub dirty: bool,
    /// Accessed through this translation since the bit was last cleared.
    pub accessed: bool,
}

/// The MMU: page tables of several address spaces.
///
/// Page tables take memory: creating a space and entering a translation may
/// find none left. Both then fail with [`VmError::ResourceShortage`] and
/// change nothing, and the VM hands the error to whoever asked (the task
/// creating a map, the faulting access): running out of memory is never a
/// reason for the kernel to stop.
pub trait Mmu {
    /// Creates the page tables of a new address space.
    ///
    /// # Errors
    ///
    /// [`VmError::ResourceShortage`] when there is no memory for them.
    fn create_pmap(&mut self, space: PmapId) -> Result<(), VmError>;
    /// Destroys an address space's page tables (its translations must be gone).
    fn destroy_pmap(&mut self, space: PmapId);
    /// Enters (or replaces) a translation, with clear dirty and accessed bits.
    ///
    /// # Errors
    ///
    /// [`VmError::ResourceShortage`] when the tables the translation needs
    /// cannot be made, [`VmError::InvalidAddress`] for an address the MMU
    /// cannot map; nothing was entered. (Replacing a translation needs no
    /// new table and does not fail.)
    fn map(&mut self, space: PmapId, va: u64, frame: Frame, prot: VmProt) -> Result<(), VmError>;
    /// Removes a translation, returning it (with its dirty bit) if there was one.
    fn unmap(&mut self, space: PmapId, va: u64) -> Option<Pte>;
    /// Changes the protection of a translation, if there is one.
    fn protect(&mut self, space: PmapId, va: u64, prot: VmProt);
    /// The translation at `va`.
    fn query(&self, space: PmapId, va: u64) -> Option<Pte>;
    /// Reads and clears the dirty bit of a translation.
    fn take_dirty(&mut self, space: PmapId, va: u64) -> bool;
}
