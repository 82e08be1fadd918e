//! 4-level page tables for user address spaces: hurd-vm's [`Mmu`].
//!
//! Every space's PML4 shares entry 0 with the boot tables: the kernel's
//! identity map of the first 512 GiB (of which 4 GiB are mapped), supervisor
//! only. User memory lives above it, from [`USER_BASE`] to the end of the
//! lower half. Leaf entries carry the region's protection: no read access is
//! a not-present entry that remembers its frame (software bit), no execute is
//! the NX bit when the processor has it.

use alloc::vec::Vec;
use core::cell::Cell;

use hurd_vm::{Frame, Mmu, PmapId, Pte, VmProt};
use x86_64::registers::control::Cr3;

use crate::mem;

/// The lowest user address: everything below belongs to the kernel.
pub use hurd_abi::USER_BASE;
/// The end of user space (the lower canonical half).
pub use hurd_abi::USER_END;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const ACCESSED: u64 = 1 << 5;
const DIRTY: u64 = 1 << 6;
/// Software bit: a translation with no access (not present, frame kept).
const SOFT_MAPPED: u64 = 1 << 9;
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

/// The kernel's PML4 (the boot tables), physical = virtual.
pub fn kernel_pml4() -> u64 {
    unsafe extern "C" {
        static boot_pml4: [u64; 512];
    }
    core::ptr::addr_of!(boot_pml4) as u64
}

/// The page table at physical address `addr`.
///
/// Page-table frames come from the frame allocator (or are the boot tables),
/// lie in the identity map, and are touched only by this module, under the
/// kernel lock, one reference at a time; every `addr` passed here is a root
/// this MMU created or an address read from a present entry of one of its
/// tables.
fn table(addr: u64) -> &'static mut [u64; 512] {
    // SAFETY: see above.
    unsafe { &mut *(addr as *mut [u64; 512]) }
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
    /// PML4 physical addresses by space number (0: none).
    spaces: Vec<u64>,
    /// The last present leaf entry [`X86Mmu::translate`] found, one slot
    /// per space number modulo [`TRANSLATION_SLOTS`] (so the two tasks of an
    /// RPC keep theirs). Every change to an entry forgets its slot.
    translations: [Cell<Translation>; TRANSLATION_SLOTS],
}

/// How many translations [`X86Mmu`] keeps.
const TRANSLATION_SLOTS: usize = 4;

/// A cached leaf entry: `page` 0 is none (never a user page).
#[derive(Debug, Default, Clone, Copy)]
struct Translation {
    space: u32,
    page: u64,
    entry: u64,
}

impl X86Mmu {
    /// The frame (physical address) behind the user page holding `va` in
    /// `space`, if the task may read it (or write it, with `write`): what
    /// the kernel's copies of user memory use. Served from a small cache
    /// of recent translations before walking the tables.
    pub fn translate(&self, space: PmapId, va: u64, write: bool) -> Option<u64> {
        let page = va & !0xfff;
        let slot = &self.translations[space.0 as usize % TRANSLATION_SLOTS];
        let cached = slot.get();
        let entry = if cached.page == page && cached.space == space.0 && page != 0 {
            cached.entry
        } else {
            if !(USER_BASE..USER_END).contains(&va) {
                return None;
            }
            let mut table_addr = self.root(space)?;
            let idx = indices(va);
            for &i in &idx[..3] {
                let entry = table(table_addr)[i];
                if entry & PRESENT == 0 {
                    return None;
                }
                table_addr = entry & ADDRESS;
            }
            let entry = table(table_addr)[idx[3]];
            if entry & PRESENT == 0 {
                return None;
            }
            slot.set(Translation {
                space: space.0,
                page,
                entry,
            });
            entry
        };
        if write && entry & WRITABLE == 0 {
            return None;
        }
        Some(entry & ADDRESS)
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
        self.spaces
            .get(space.0 as usize)
            .copied()
            .filter(|&r| r != 0)
    }

    /// The leaf entry for `va`, creating the tables above it if `create`.
    fn entry(&mut self, space: PmapId, va: u64, create: bool) -> Option<&'static mut u64> {
        if !(USER_BASE..USER_END).contains(&va) {
            return None;
        }
        let mut table_addr = self.root(space)?;
        let idx = indices(va);
        for &i in &idx[..3] {
            let entry = &mut table(table_addr)[i];
            if *entry & PRESENT == 0 {
                if !create {
                    return None;
                }
                let Some(new) = mem::alloc_zeroed_frame() else {
                    panic!("out of memory for page tables");
                };
                *entry = new | PRESENT | WRITABLE | USER;
            }
            table_addr = *entry & ADDRESS;
        }
        Some(&mut table(table_addr)[idx[3]])
    }

    /// Drops a stale translation from the TLB if `space` is the loaded one.
    fn flush(&self, space: PmapId, va: u64) {
        if self.root(space) == Some(Cr3::read_raw().0.start_address().as_u64()) {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
        }
    }
}

impl Mmu for X86Mmu {
    fn create_pmap(&mut self, space: PmapId) {
        self.forget_space(space);
        let Some(root) = mem::alloc_zeroed_frame() else {
            panic!("out of memory for an address space");
        };
        table(root)[0] = table(kernel_pml4())[0];
        let index = space.0 as usize;
        if self.spaces.len() <= index {
            self.spaces.resize(index + 1, 0);
        }
        self.spaces[index] = root;
    }

    fn destroy_pmap(&mut self, space: PmapId) {
        self.forget_space(space);
        let Some(root) = self.root(space) else {
            return;
        };
        self.spaces[space.0 as usize] = 0;
        // The user half only: entry 0 is the kernel's.
        for &l4 in &table(root)[1..256] {
            if l4 & PRESENT == 0 {
                continue;
            }
            for &l3 in table(l4 & ADDRESS).iter() {
                if l3 & PRESENT == 0 {
                    continue;
                }
                for &l2 in table(l3 & ADDRESS).iter() {
                    if l2 & PRESENT != 0 {
                        mem::free_frame(l2 & ADDRESS);
                    }
                }
                mem::free_frame(l3 & ADDRESS);
            }
            mem::free_frame(l4 & ADDRESS);
        }
        mem::free_frame(root);
    }

    fn map(&mut self, space: PmapId, va: u64, frame: Frame, prot: VmProt) {
        self.forget(space, va);
        let Some(entry) = self.entry(space, va, true) else {
            return;
        };
        *entry = (frame.0 << 12) | leaf_bits(prot);
        self.flush(space, va);
    }

    fn unmap(&mut self, space: PmapId, va: u64) -> Option<Pte> {
        self.forget(space, va);
        let entry = self.entry(space, va, false)?;
        let old = core::mem::replace(entry, 0);
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
        let Some(entry) = self.entry(space, va, false) else {
            return;
        };
        if *entry & (PRESENT | SOFT_MAPPED) == 0 {
            return;
        }
        let keep = *entry & (ADDRESS | DIRTY | ACCESSED);
        *entry = keep | leaf_bits(prot);
        self.flush(space, va);
    }

    fn query(&self, space: PmapId, va: u64) -> Option<Pte> {
        if !(USER_BASE..USER_END).contains(&va) {
            return None;
        }
        let mut table_addr = self.root(space)?;
        let idx = indices(va);
        for &i in &idx[..3] {
            let entry = table(table_addr)[i];
            if entry & PRESENT == 0 {
                return None;
            }
            table_addr = entry & ADDRESS;
        }
        let entry = table(table_addr)[idx[3]];
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
        let Some(entry) = self.entry(space, va, false) else {
            return false;
        };
        let dirty = *entry & DIRTY != 0;
        *entry &= !DIRTY;
        if dirty {
            self.flush(space, va);
        }
        dirty
    }
}
