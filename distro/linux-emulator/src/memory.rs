//! The address space as a Linux program sees it: the `brk` heap and the
//! `mmap` regions.
//!
//! The emulator keeps this bookkeeping and asks the kernel for the memory
//! (`vm_allocate`, `vm_map` of a memory object, `vm_deallocate`,
//! `vm_protect`); the kernel's own map stays the authority on what is
//! mapped, this is what Linux's semantics need on top: where an `mmap`
//! without `MAP_FIXED` goes (top-down from [`Layout::mmap_top`], as Linux
//! lays memory out), what `MAP_FIXED` replaces, which parts of which
//! regions `munmap` and `mprotect` touch, and where the break is.
//!
//! Every call returns the pieces the caller must hand to the kernel, so a
//! failure changes nothing here.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use linux_abi::Errno;

/// The page size.
pub const PAGE: u64 = 4096;

/// What a region holds, and how it divides when a region is split.
pub trait Backing: Clone {
    /// The backing of the part that starts `delta` bytes into a region
    /// (for a file mapping: the file offset moves by `delta`).
    fn advance(&self, delta: u64) -> Self;
}

/// Anonymous memory: nothing to track.
impl Backing for () {
    fn advance(&self, _delta: u64) -> Self {}
}

/// A mapped region `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region<T> {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// `PROT_*`.
    pub prot: u32,
    /// What backs it.
    pub backing: T,
}

/// Where things go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The lowest address a mapping may use (`mmap_min_addr`).
    pub min: u64,
    /// Where top-down `mmap` allocation starts (exclusive).
    pub mmap_top: u64,
    /// The end of what a program may map at all.
    pub user_end: u64,
    /// A range no program mapping may touch (the emulator's own).
    pub reserved: (u64, u64),
}

/// The bookkeeping.
#[derive(Clone, Debug)]
pub struct AddressSpace<T> {
    layout: Layout,
    regions: BTreeMap<u64, Region<T>>,
    brk_start: u64,
    brk: u64,
}

/// What changed for the kernel: pieces to release, and where the new
/// mapping is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped<T> {
    /// The new mapping's address.
    pub addr: u64,
    /// Pieces of earlier regions it replaced (`MAP_FIXED`): deallocate them
    /// before mapping.
    pub replaced: Vec<Region<T>>,
}

const fn page_up(v: u64) -> Option<u64> {
    match v.checked_add(PAGE - 1) {
        Some(x) => Some(x & !(PAGE - 1)),
        None => None,
    }
}

impl<T: Backing> AddressSpace<T> {
    /// An empty space whose break starts (and stays until `brk` moves it) at
    /// `brk_start`, the page after the program's last segment.
    pub fn new(layout: Layout, brk_start: u64) -> AddressSpace<T> {
        let brk_start = page_up(brk_start).unwrap_or(layout.user_end);
        AddressSpace {
            layout,
            regions: BTreeMap::new(),
            brk_start,
            brk: brk_start,
        }
    }

    /// The regions, in address order.
    pub fn regions(&self) -> impl Iterator<Item = &Region<T>> {
        self.regions.values()
    }

    /// Whether `[start, end)` is a range a program may map.
    fn allowed(&self, start: u64, end: u64) -> bool {
        let (rs, re) = self.layout.reserved;
        start >= self.layout.min
            && end <= self.layout.user_end
            && start < end
            && (end <= rs || start >= re)
    }

    /// Whether anything is mapped in `[start, end)` (the heap included).
    fn overlaps(&self, start: u64, end: u64) -> bool {
        if start < page_up(self.brk).unwrap_or(u64::MAX) && end > self.brk_start {
            return true;
        }
        self.regions
            .range(..end)
            .next_back()
            .is_some_and(|(_, r)| r.end > start)
    }

    /// Removes `[start, end)` from every region, splitting at the edges;
    /// returns the pieces removed.
    fn carve(&mut self, start: u64, end: u64) -> Vec<Region<T>> {
        let hit: Vec<u64> = self
            .regions
            .range(..end)
            .filter(|(_, r)| r.end > start)
            .map(|(&s, _)| s)
            .collect();
        let mut removed = Vec::new();
        for s in hit {
            let Some(r) = self.regions.remove(&s) else {
                continue;
            };
            if r.start < start {
                let left = Region {
                    start: r.start,
                    end: start,
                    prot: r.prot,
                    backing: r.backing.clone(),
                };
                self.regions.insert(left.start, left);
            }
            if r.end > end {
                let right = Region {
                    start: end,
                    end: r.end,
                    prot: r.prot,
                    backing: r.backing.advance(end - r.start),
                };
                self.regions.insert(right.start, right);
            }
            let from = r.start.max(start);
            removed.push(Region {
                start: from,
                end: r.end.min(end),
                prot: r.prot,
                backing: r.backing.advance(from - r.start),
            });
        }
        removed
    }

    /// The highest free range of `len` bytes below `top`.
    fn find_free(&self, len: u64, top: u64) -> Option<u64> {
        let mut hi = top;
        loop {
            let lo = hi.checked_sub(len)?;
            if lo < self.layout.min {
                return None;
            }
            let (rs, re) = self.layout.reserved;
            if hi > rs && lo < re {
                hi = rs;
                continue;
            }
            if lo < page_up(self.brk).unwrap_or(u64::MAX) && hi > self.brk_start {
                hi = self.brk_start;
                continue;
            }
            match self.regions.range(..hi).next_back() {
                Some((_, r)) if r.end > lo => hi = r.start,
                _ => return Some(lo),
            }
        }
    }

    /// `mmap`: places `len` bytes (rounded up to pages). With `fixed`, at
    /// `addr` exactly, replacing what is there; with `noreplace`, at `addr`
    /// or `EEXIST`; otherwise at `addr` if it is free, else the highest free
    /// range below [`Layout::mmap_top`].
    ///
    /// # Errors
    /// `EINVAL` for a zero length or an unaligned fixed address; `ENOMEM`
    /// for a fixed range outside what programs may map, or no room;
    /// `EEXIST` as above.
    pub fn map(
        &mut self,
        addr: u64,
        len: u64,
        fixed: bool,
        noreplace: bool,
        prot: u32,
        backing: T,
    ) -> Result<Mapped<T>, Errno> {
        let len = page_up(len).filter(|&l| l > 0).ok_or(Errno::Inval)?;
        if fixed || noreplace {
            if !addr.is_multiple_of(PAGE) {
                return Err(Errno::Inval);
            }
            let end = addr.checked_add(len).ok_or(Errno::Nomem)?;
            if !self.allowed(addr, end) {
                return Err(Errno::Nomem);
            }
            if noreplace && self.overlaps(addr, end) {
                return Err(Errno::Exist);
            }
            if self.brk_start < end && addr < page_up(self.brk).unwrap_or(u64::MAX) {
                // A fixed mapping over the heap ends the heap there.
                self.brk = self.brk.min(addr).max(self.brk_start);
            }
            let replaced = self.carve(addr, end);
            self.regions.insert(
                addr,
                Region {
                    start: addr,
                    end,
                    prot,
                    backing,
                },
            );
            return Ok(Mapped { addr, replaced });
        }
        let hint = addr & !(PAGE - 1);
        let start = match hint.checked_add(len) {
            Some(end) if hint != 0 && self.allowed(hint, end) && !self.overlaps(hint, end) => hint,
            _ => self
                .find_free(len, self.layout.mmap_top)
                .ok_or(Errno::Nomem)?,
        };
        self.regions.insert(
            start,
            Region {
                start,
                end: start + len,
                prot,
                backing,
            },
        );
        Ok(Mapped {
            addr: start,
            replaced: Vec::new(),
        })
    }

    /// `munmap`: removes `[addr, addr + len)` wherever it is mapped (holes
    /// are fine) and returns the pieces to deallocate.
    ///
    /// # Errors
    /// `EINVAL` for an unaligned address, a zero length, or a range outside
    /// what programs may map.
    pub fn unmap(&mut self, addr: u64, len: u64) -> Result<Vec<Region<T>>, Errno> {
        if !addr.is_multiple_of(PAGE) || len == 0 {
            return Err(Errno::Inval);
        }
        let end = page_up(len)
            .and_then(|l| addr.checked_add(l))
            .ok_or(Errno::Inval)?;
        if !self.allowed(addr, end) {
            return Err(Errno::Inval);
        }
        Ok(self.carve(addr, end))
    }

    /// `mprotect`: sets the protection of `[addr, addr + len)`, which must
    /// be mapped throughout.
    ///
    /// # Errors
    /// `EINVAL` for an unaligned address; `ENOMEM` if part of the range is
    /// not mapped (nothing changes then).
    pub fn protect(&mut self, addr: u64, len: u64, prot: u32) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno::Inval);
        }
        let end = page_up(len)
            .and_then(|l| addr.checked_add(l))
            .ok_or(Errno::Nomem)?;
        if end == addr {
            return Ok(());
        }
        let mut at = addr;
        for r in self
            .regions
            .range(..end)
            .filter(|(_, r)| r.end > addr)
            .map(|(_, r)| r)
        {
            if r.start > at {
                return Err(Errno::Nomem);
            }
            at = r.end;
        }
        if at < end {
            return Err(Errno::Nomem);
        }
        let pieces = self.carve(addr, end);
        for mut p in pieces {
            p.prot = prot;
            self.regions.insert(p.start, p);
        }
        Ok(())
    }

    /// Whether every byte of `[addr, addr + len)` lies in a region whose
    /// protection has all the bits of `prot`, or in the heap (readable and
    /// writable) where no region covers it: memory the emulator may read
    /// (`PROT_READ`) or write (`PROT_WRITE`) for the program, since every
    /// mapping the program has went through this bookkeeping. An empty
    /// range always is; a range that wraps never is.
    pub fn accessible(&self, addr: u64, len: u64, prot: u32) -> bool {
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        let heap_end = page_up(self.brk).unwrap_or(self.brk_start);
        let mut at = addr;
        while at < end {
            if let Some((_, r)) = self.regions.range(..=at).next_back()
                && r.end > at
            {
                if r.prot & prot != prot {
                    return false;
                }
                at = r.end;
            } else if (self.brk_start..heap_end).contains(&at) && prot & !0b11 == 0 {
                // Up to the heap's end, or a region mapped over it.
                at = self
                    .regions
                    .range(at..)
                    .next()
                    .map_or(heap_end, |(&start, _)| start.min(heap_end));
            } else {
                return false;
            }
        }
        true
    }

    /// The current break.
    pub fn brk(&self) -> u64 {
        self.brk
    }

    /// The pages the `brk` heap covers now: `[start, end)` (empty when it
    /// has not grown).
    pub fn heap(&self) -> (u64, u64) {
        let end = page_up(self.brk).unwrap_or(self.brk_start);
        (self.brk_start, end.max(self.brk_start))
    }

    /// `brk(new)`: moves the break if `[start, new)` stays clear of every
    /// mapping and of the reserved range, and returns the break (the old
    /// one on failure, as Linux does) with the page range to allocate
    /// (growing) or deallocate (shrinking), if any.
    pub fn set_brk(&mut self, new: u64) -> (u64, Option<BrkChange>) {
        if new < self.brk_start {
            return (self.brk, None);
        }
        let (Some(old_end), Some(new_end)) = (page_up(self.brk), page_up(new)) else {
            return (self.brk, None);
        };
        if new_end > old_end {
            if !self.allowed(old_end, new_end)
                || self
                    .regions
                    .range(..new_end)
                    .next_back()
                    .is_some_and(|(_, r)| r.end > old_end)
            {
                return (self.brk, None);
            }
            self.brk = new;
            return (new, Some(BrkChange::Grow(old_end, new_end)));
        }
        self.brk = new;
        let change = (new_end < old_end).then_some(BrkChange::Shrink(new_end, old_end));
        (new, change)
    }
}

/// Memory a `brk` call adds or removes: `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrkChange {
    /// Allocate `[from, to)` (zero-filled).
    Grow(u64, u64),
    /// Deallocate `[from, to)`.
    Shrink(u64, u64),
}
