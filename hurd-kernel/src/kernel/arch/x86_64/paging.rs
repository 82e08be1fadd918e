//! 4-level page tables for user address spaces: hurd-vm's [`Mmu`].
//!
//! Every space's PML4 shares its upper half (entries 256 to 511) with the
//! boot tables: the kernel's direct map of physical memory and its image,
//! supervisor only. User memory lives in the lower half, from [`USER_BASE`]
//! to [`USER_END`]. Leaf entries carry the region's protection: no read
//! access is a not-present entry that remembers its frame (software bit), no
//! execute is the NX bit when the processor has it.

use alloc::collections::BTreeMap;
use core::cell::Cell;

use hurd_vm::{Frame, Mmu, PmapId, Pte, VmError, VmProt};
use x86_64::registers::control::Cr3;

use super::{boot, mem, physmem};

/// The lowest user address: everything below belongs to the kernel.
pub use hurd_abi::USER_BASE;
/// The end of user space (the lower canonical half).
pub use hurd_abi::USER_END;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const WRITE_THROUGH: u64 = 1 << 3;
const NO_CACHE: u64 = 1 << 4;
const ACCESSED: u64 = 1 << 5;
const DIRTY: u64 = 1 << 6;
/// Software bit: a translation with no access (not present, frame kept).
const SOFT_MAPPED: u64 = 1 << 9;
/// Software bit: a device's registers (see [`X86Mmu::map_physical`]),
/// which the kernel never reads or writes for a task.
const DEVICE: u64 = 1 << 10;
const NO_EXECUTE: u64 = 1 << 63;
const ADDRESS: u64 = 0x000f_ffff_ffff_f000;

/// Whether the NX bit may be used (EFER.NXE set at boot when supported).
static NX: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Turns on no-execute pages if the processor has them.
pub fn init() {
    // CPUID 0x8000_0001, EDX bit 20: NX.
    let nx = core::arch::x86_64::__cpuid(0x8000_0001).edx & (1 << 20) != 0;
    if nx {
        // SAFETY: the processor supports NX (checked), and setting EFER.NXE
        // changes nothing for existing entries, none of which set bit 63.
        unsafe {
            x86_64::registers::model_specific::Efer::update(|flags| {
                flags.insert(x86_64::registers::model_specific::EferFlags::NO_EXECUTE_ENABLE);
            });
        }
    }
    NX.store(nx, core::sync::atomic::Ordering::Relaxed);
}

/// The physical address of the kernel's PML4 (the boot tables).
pub fn kernel_pml4() -> u64 {
    unsafe extern "C" {
        static boot_pml4: [u64; 512];
    }
    boot::image_phys(core::ptr::addr_of!(boot_pml4) as u64)
}

/// The first PML4 entry of the upper half: the kernel's.
const KERNEL_HALF: usize = 256;

/// Takes away the boot tables' identity map of low memory (PML4 entry 0),
/// which only the jump into the upper half needed: from then on the whole
/// lower half belongs to user space. Called once at boot, after the kernel's
/// GDT (in the image) replaced the trampoline's (in low memory), and before
/// any address space is created.
pub fn drop_identity_map() {
    // SAFETY: the boot PML4.
    let boot = unsafe { Table::at(kernel_pml4()) };
    boot.set(0, 0);
    x86_64::instructions::tlb::flush_all();
}

/// A page table (any level): 512 entries in one frame, named by its
/// physical address and reached through the direct map.
///
/// Page-table frames come from the frame allocator (or are the boot tables)
/// and lie in the direct map; only this module touches them, under the
/// kernel lock, entry by entry (no reference to a table is ever made, so the
/// processor's own accesses alias nothing).
#[derive(Debug, Clone, Copy)]
struct Table(u64);

impl Table {
    /// The table at physical address `addr`.
    ///
    /// # Safety
    ///
    /// `addr` is the boot PML4, a root this MMU allocated and has not freed,
    /// or the address in a present entry of such a table above the leaves.
    unsafe fn at(addr: u64) -> Table {
        Table(addr)
    }

    /// The table the present non-leaf entry `i` points to, if it is present.
    fn next(self, i: usize) -> Option<Table> {
        let entry = self.get(i);
        // SAFETY: a present entry of a table above the leaves holds the
        // address of the table below (only this module writes them).
        (entry & PRESENT != 0).then(|| unsafe { Table::at(entry & ADDRESS) })
    }

    /// Where the table's entries are (through the direct map).
    #[inline]
    fn entries(self) -> *mut u64 {
        physmem::virt(self.0) as *mut u64
    }

    /// Entry `i` (`i` < 512).
    fn get(self, i: usize) -> u64 {
        assert!(i < 512);
        // SAFETY: `Table::at`'s contract: a live table of 512 entries in the
        // direct map; `i` is in bounds.
        unsafe { self.entries().add(i).read() }
    }

    /// Sets entry `i` (`i` < 512).
    fn set(self, i: usize, value: u64) {
        assert!(i < 512);
        // SAFETY: as in `get`; nothing holds a reference into the table.
        unsafe { self.entries().add(i).write(value) }
    }
}

fn leaf_bits(prot: VmProt) -> u64 {
    if !prot.contains(VmProt::READ) && !prot.contains(VmProt::WRITE) {
        return SOFT_MAPPED;
    }
    let mut bits = PRESENT | USER;
    if prot.contains(VmProt::WRITE) {
        bits |= WRITABLE;
    }
    if !prot.contains(VmProt::EXECUTE) && NX.load(core::sync::atomic::Ordering::Relaxed) {
        bits |= NO_EXECUTE;
    }
    bits
}

fn leaf_prot(entry: u64) -> VmProt {
    if entry & PRESENT == 0 {
        return VmProt::NONE;
    }
    let mut prot = VmProt::READ;
    if entry & WRITABLE != 0 {
        prot |= VmProt::WRITE;
    }
    if entry & NO_EXECUTE == 0 {
        prot |= VmProt::EXECUTE;
    }
    prot
}

fn indices(va: u64) -> [usize; 4] {
    [
        ((va >> 39) & 511) as usize,
        ((va >> 30) & 511) as usize,
        ((va >> 21) & 511) as usize,
        ((va >> 12) & 511) as usize,
    ]
}

/// The x86-64 MMU: a PML4 per address space.
#[derive(Debug, Default)]
pub struct X86Mmu {
    /// PML4 physical addresses by space number, for the spaces that exist.
    spaces: BTreeMap<u32, u64>,
    /// The last present page [`X86Mmu::translate`] found, one slot
    /// per space number modulo [`TRANSLATION_SLOTS`] (so the two tasks of an
    /// RPC keep theirs). Every change to an entry forgets its slot.
    translations: [Cell<Translation>; TRANSLATION_SLOTS],
}

/// How many translations [`X86Mmu`] keeps.
const TRANSLATION_SLOTS: usize = 4;

/// A cached translation: `page` 0 is none (never a user page).
#[derive(Debug, Default, Clone, Copy)]
struct Translation {
    space: u32,
    writable: bool,
    page: u64,
    /// The frame's address in the direct map.
    frame: u64,
}

impl X86Mmu {
    /// The frame behind the user page holding `va` in `space`, as its
    /// address in the direct map, if the task may read it (or write it,
    /// with `write`): what the kernel's copies of user memory use. Served
    /// from a small cache of recent translations before walking the tables.
    pub fn translate(&self, space: PmapId, va: u64, write: bool) -> Option<u64> {
        let page = va & !0xfff;
        let slot = &self.translations[space.0 as usize % TRANSLATION_SLOTS];
        let cached = slot.get();
        let found = if cached.page == page && cached.space == space.0 && page != 0 {
            cached
        } else {
            if !(USER_BASE..USER_END).contains(&va) {
                return None;
            }
            let mut table = self.root_table(space)?;
            let idx = indices(va);
            for &i in &idx[..3] {
                table = table.next(i)?;
            }
            let entry = table.get(idx[3]);
            if entry & PRESENT == 0 || entry & DEVICE != 0 {
                return None;
            }
            let found = Translation {
                space: space.0,
                writable: entry & WRITABLE != 0,
                page,
                frame: physmem::virt(entry & ADDRESS),
            };
            slot.set(found);
            found
        };
        if write && !found.writable {
            return None;
        }
        Some(found.frame)
    }

    /// Forgets the cached translation of `va` in `space` (its entry changes).
    fn forget(&self, space: PmapId, va: u64) {
        let slot = &self.translations[space.0 as usize % TRANSLATION_SLOTS];
        let cached = slot.get();
        if cached.space == space.0 && cached.page == va & !0xfff {
            slot.set(Translation::default());
        }
    }

    /// Forgets every cached translation of `space`.
    fn forget_space(&self, space: PmapId) {
        let slot = &self.translations[space.0 as usize % TRANSLATION_SLOTS];
        if slot.get().space == space.0 {
            slot.set(Translation::default());
        }
    }

    /// The physical address of a space's PML4 (what CR3 gets).
    pub fn root(&self, space: PmapId) -> Option<u64> {
        self.spaces.get(&space.0).copied()
    }

    /// A space's PML4.
    fn root_table(&self, space: PmapId) -> Option<Table> {
        // SAFETY: a root this MMU allocated (destroy_pmap forgets it).
        self.root(space).map(|root| unsafe { Table::at(root) })
    }

    /// The leaf table and index of `va`'s entry, if the tables above it
    /// exist.
    fn leaf(&self, space: PmapId, va: u64) -> Option<(Table, usize)> {
        if !(USER_BASE..USER_END).contains(&va) {
            return None;
        }
        let mut table = self.root_table(space)?;
        let idx = indices(va);
        for &i in &idx[..3] {
            table = table.next(i)?;
        }
        Some((table, idx[3]))
    }

    /// The leaf table and index of `va`'s entry, making the tables above it
    /// that are missing.
    ///
    /// # Errors
    ///
    /// `InvalidAddress` outside user space or in a space that does not
    /// exist; `ResourceShortage` when no frame is left for a table (the
    /// tables made before it stay, empty, until the space goes).
    fn leaf_or_create(&self, space: PmapId, va: u64) -> Result<(Table, usize), VmError> {
        if !(USER_BASE..USER_END).contains(&va) {
            return Err(VmError::InvalidAddress);
        }
        let mut table = self.root_table(space).ok_or(VmError::InvalidAddress)?;
        let idx = indices(va);
        for &i in &idx[..3] {
            table = match table.next(i) {
                Some(next) => next,
                None => {
                    let new = mem::alloc_table_frame().ok_or(VmError::ResourceShortage)?;
                    table.set(i, new | PRESENT | WRITABLE | USER);
                    // SAFETY: a zeroed frame just linked into the tree.
                    unsafe { Table::at(new) }
                }
            };
        }
        Ok((table, idx[3]))
    }

    /// Maps the page at `va` in `space` to physical address `phys`, user
    /// readable and writable, not executable, and (unless `cached`) with
    /// caching off: a device's registers or DMA memory, entered beside the
    /// VM's own translations (the VM holds the range reserved and never
    /// frees these frames).
    ///
    /// # Errors
    ///
    /// `InvalidArgument` when `phys` is not a page's address;
    /// `InvalidAddress` when `va` is not in user space; `ResourceShortage`
    /// when no frame is left for a table. Nothing is entered.
    pub fn map_physical(
        &self,
        space: PmapId,
        va: u64,
        phys: u64,
        cached: bool,
    ) -> Result<(), VmError> {
        if !phys.is_multiple_of(0x1000) || phys & !ADDRESS != 0 {
            return Err(VmError::InvalidArgument);
        }
        self.forget(space, va);
        let (table, i) = self.leaf_or_create(space, va)?;
        let mut bits = phys | PRESENT | WRITABLE | USER;
        if !cached {
            bits |= WRITE_THROUGH | NO_CACHE | DEVICE;
        }
        if NX.load(core::sync::atomic::Ordering::Relaxed) {
            bits |= NO_EXECUTE;
        }
        table.set(i, bits);
        self.flush(space, va);
        Ok(())
    }

    /// Removes the entry [`X86Mmu::map_physical`] made at `va` in `space`
    /// (the VM does not know of it).
    pub fn unmap_physical(&self, space: PmapId, va: u64) {
        self.forget(space, va);
        if let Some((table, i)) = self.leaf(space, va) {
            table.set(i, 0);
            self.flush(space, va);
        }
    }

    /// Whether the page at `va` in `space` is a device's registers: the
    /// kernel's copies of a task's memory refuse it (reading registers has
    /// side effects, and they need not lie in the kernel's map of memory).
    pub fn is_device(&self, space: PmapId, va: u64) -> bool {
        if !(USER_BASE..USER_END).contains(&va) {
            return false;
        }
        let Some(mut table) = self.root_table(space) else {
            return false;
        };
        let idx = indices(va);
        for &i in &idx[..3] {
            match table.next(i) {
                Some(next) => table = next,
                None => return false,
            }
        }
        table.get(idx[3]) & (PRESENT | DEVICE) == PRESENT | DEVICE
    }

    /// Drops a stale translation from the TLB if `space` is the loaded one.
    fn flush(&self, space: PmapId, va: u64) {
        if self.root(space) == Some(Cr3::read_raw().0.start_address().as_u64()) {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
        }
    }
}

impl Mmu for X86Mmu {
    fn create_pmap(&mut self, space: PmapId) -> Result<(), VmError> {
        self.forget_space(space);
        if self.spaces.contains_key(&space.0) {
            // A space made twice keeps the tables it has.
            return Ok(());
        }
        let root = mem::alloc_table_frame().ok_or(VmError::ResourceShortage)?;
        // SAFETY: a zeroed frame that becomes this space's root, and the
        // boot PML4.
        let (table, boot) = unsafe { (Table::at(root), Table::at(kernel_pml4())) };
        for i in KERNEL_HALF..512 {
            table.set(i, boot.get(i));
        }
        self.spaces.insert(space.0, root);
        Ok(())
    }

    fn destroy_pmap(&mut self, space: PmapId) {
        self.forget_space(space);
        let Some(root) = self.spaces.remove(&space.0) else {
            return;
        };
        // SAFETY: the space's root, forgotten above, freed below.
        let table = unsafe { Table::at(root) };
        // The user half only: the upper half is the kernel's.
        for pdpt in (0..KERNEL_HALF).filter_map(|i| table.next(i)) {
            for pd in (0..512).filter_map(|i| pdpt.next(i)) {
                for pt in (0..512).filter_map(|i| pd.next(i)) {
                    mem::free_frame(pt.0);
                }
                mem::free_frame(pd.0);
            }
            mem::free_frame(pdpt.0);
        }
        mem::free_frame(root);
    }

    fn map(&mut self, space: PmapId, va: u64, frame: Frame, prot: VmProt) -> Result<(), VmError> {
        self.forget(space, va);
        let (table, i) = self.leaf_or_create(space, va)?;
        table.set(i, (frame.0 << 12) | leaf_bits(prot));
        self.flush(space, va);
        Ok(())
    }

    fn unmap(&mut self, space: PmapId, va: u64) -> Option<Pte> {
        self.forget(space, va);
        let (table, i) = self.leaf(space, va)?;
        let old = table.get(i);
        table.set(i, 0);
        if old & (PRESENT | SOFT_MAPPED) == 0 {
            return None;
        }
        self.flush(space, va);
        Some(Pte {
            frame: Frame((old & ADDRESS) >> 12),
            prot: leaf_prot(old),
            dirty: old & DIRTY != 0,
            accessed: old & ACCESSED != 0,
        })
    }

    fn protect(&mut self, space: PmapId, va: u64, prot: VmProt) {
        self.forget(space, va);
        let Some((table, i)) = self.leaf(space, va) else {
            return;
        };
        let entry = table.get(i);
        if entry & (PRESENT | SOFT_MAPPED) == 0 {
            return;
        }
        let keep = entry & (ADDRESS | DIRTY | ACCESSED);
        table.set(i, keep | leaf_bits(prot));
        self.flush(space, va);
    }

    fn query(&self, space: PmapId, va: u64) -> Option<Pte> {
        if !(USER_BASE..USER_END).contains(&va) {
            return None;
        }
        let mut table = self.root_table(space)?;
        let idx = indices(va);
        for &i in &idx[..3] {
            table = table.next(i)?;
        }
        let entry = table.get(idx[3]);
        if entry & (PRESENT | SOFT_MAPPED) == 0 {
            return None;
        }
        Some(Pte {
            frame: Frame((entry & ADDRESS) >> 12),
            prot: leaf_prot(entry),
            dirty: entry & DIRTY != 0,
            accessed: entry & ACCESSED != 0,
        })
    }

    fn take_dirty(&mut self, space: PmapId, va: u64) -> bool {
        self.forget(space, va);
        let Some((table, i)) = self.leaf(space, va) else {
            return false;
        };
        let entry = table.get(i);
        let dirty = entry & DIRTY != 0;
        table.set(i, entry & !DIRTY);
        if dirty {
            self.flush(space, va);
        }
        dirty
    }
}
