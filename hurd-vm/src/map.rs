//! Address maps: the regions of one address space.
//!
//! An [`AddressMap`] is the sorted set of [`MapEntry`]s: each maps a page range
//! onto a VM object at an offset, with a protection, a maximum protection and
//! an inheritance. This module is the pure bookkeeping (lookup, free space,
//! clipping); [`crate::Vm`] adds the objects, the MMU and faults.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::inherit::VmInherit;
use crate::mmu::PmapId;
use crate::object::ObjectId;
use crate::page::PAGE_SIZE;
use crate::prot::VmProt;

/// Names an address map inside one [`crate::Vm`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MapId(pub u32);

impl MapId {
    /// The physical map (page tables) of this map.
    pub const fn pmap(self) -> PmapId {
        PmapId(self.0)
    }
}

/// One region.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MapEntry {
    /// First address (page-aligned).
    pub start: u64,
    /// One past the last address (page-aligned).
    pub end: u64,
    /// The object mapped.
    pub object: ObjectId,
    /// Byte offset in the object of `start`.
    pub offset: u64,
    /// Current protection.
    pub prot: VmProt,
    /// Maximum protection.
    pub max_prot: VmProt,
    /// What a child gets at fork.
    pub inherit: VmInherit,
    /// Copy-on-write pending: the object is shared with a copy and must be
    /// shadowed before the first write through this entry.
    pub needs_copy: bool,
}

impl MapEntry {
    /// The object offset of `addr` (which must lie in the entry).
    pub fn object_offset(&self, addr: u64) -> u64 {
        self.offset + (addr - self.start)
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the entry is empty (never, for entries in a map).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A region as `vm_region` reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegionInfo {
    /// Start address.
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// Current protection.
    pub prot: VmProt,
    /// Maximum protection.
    pub max_prot: VmProt,
    /// Inheritance.
    pub inherit: VmInherit,
    /// Whether the object is mapped by other entries too.
    pub shared: bool,
    /// The object.
    pub object: ObjectId,
    /// Offset of `start` in the object.
    pub offset: u64,
}

/// The regions of an address space, between `min` and `max`.
#[derive(Clone, Debug)]
pub struct AddressMap {
    entries: BTreeMap<u64, MapEntry>,
    min: u64,
    max: u64,
}

impl AddressMap {
    /// An empty map covering `[min, max)` (both page-aligned).
    pub fn new(min: u64, max: u64) -> AddressMap {
        AddressMap {
            entries: BTreeMap::new(),
            min,
            max,
        }
    }

    /// Lowest usable address.
    pub fn min(&self) -> u64 {
        self.min
    }

    /// One past the highest usable address.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The entry containing `addr`.
    pub fn lookup(&self, addr: u64) -> Option<&MapEntry> {
        self.entries
            .range(..=addr)
            .next_back()
            .map(|(_, e)| e)
            .filter(|e| addr < e.end)
    }

    /// The entry containing `addr`, mutably.
    pub fn lookup_mut(&mut self, addr: u64) -> Option<&mut MapEntry> {
        self.entries
            .range_mut(..=addr)
            .next_back()
            .map(|(_, e)| e)
            .filter(|e| addr < e.end)
    }

    /// The first entry ending after `addr`.
    pub fn next_from(&self, addr: u64) -> Option<&MapEntry> {
        self.lookup(addr)
            .or_else(|| self.entries.range(addr..).next().map(|(_, e)| e))
    }

    /// Whether `[start, end)` lies in the map's range and touches no entry.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        if start < self.min || end > self.max || start >= end {
            return false;
        }
        match self.next_from(start) {
            Some(e) => e.start >= end,
            None => true,
        }
    }

    /// Whether every address of `[start, end)` is in some entry.
    pub fn is_covered(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.lookup(at) {
                Some(e) => at = e.end,
                None => return false,
            }
        }
        true
    }

    /// The lowest free range of `size` bytes at or above `hint`.
    pub fn find_space(&self, size: u64, hint: u64) -> Option<u64> {
        let mut at = hint.max(self.min);
        loop {
            let end = at.checked_add(size)?;
            if end > self.max {
                return None;
            }
            match self.next_from(at) {
                Some(e) if e.start < end => at = e.end,
                _ => return Some(at),
            }
        }
    }

    /// Inserts an entry (its range must be free).
    pub fn insert(&mut self, entry: MapEntry) {
        self.entries.insert(entry.start, entry);
    }

    /// Removes the entry starting at `start`.
    pub fn remove(&mut self, start: u64) -> Option<MapEntry> {
        self.entries.remove(&start)
    }

    /// Splits the entry containing `addr` so that an entry starts at `addr`.
    /// Returns the object that gained a reference (the two halves both refer
    /// to it), which the caller must count.
    pub fn clip(&mut self, addr: u64) -> Option<ObjectId> {
        let e = *self.lookup(addr)?;
        if e.start == addr {
            return None;
        }
        let mut low = e;
        low.end = addr;
        let mut high = e;
        high.start = addr;
        high.offset = e.offset + (addr - e.start);
        self.entries.insert(low.start, low);
        self.entries.insert(high.start, high);
        Some(e.object)
    }

    /// Starts of the entries that intersect `[start, end)`.
    pub fn starts_in(&self, start: u64, end: u64) -> Vec<u64> {
        let mut v = Vec::new();
        let first = self.lookup(start).map(|e| e.start);
        v.extend(first);
        v.extend(
            self.entries
                .range(start..end)
                .map(|(s, _)| *s)
                .filter(|s| Some(*s) != first),
        );
        v
    }

    /// All entries, in address order.
    pub fn entries(&self) -> impl Iterator<Item = &MapEntry> {
        self.entries.values()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The default range of user maps: from the second page up to 2⁴⁷.
pub const USER_MIN: u64 = PAGE_SIZE;
/// One past the last user address.
pub const USER_MAX: u64 = 1 << 47;

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(start: u64, end: u64) -> MapEntry {
        MapEntry {
            start,
            end,
            object: ObjectId(1),
            offset: 0,
            prot: VmProt::DEFAULT,
            max_prot: VmProt::ALL,
            inherit: VmInherit::Copy,
            needs_copy: false,
        }
    }

    #[test]
    fn space_lookup_and_clip() {
        let mut m = AddressMap::new(0x1000, 0x10000);
        assert_eq!(m.find_space(0x2000, 0), Some(0x1000));
        m.insert(entry(0x1000, 0x3000));
        assert_eq!(m.find_space(0x2000, 0), Some(0x3000));
        assert!(m.is_free(0x3000, 0x4000));
        assert!(!m.is_free(0x2000, 0x4000));
        assert_eq!(m.clip(0x2000), Some(ObjectId(1)));
        assert_eq!(m.len(), 2);
        assert_eq!(m.lookup(0x2800).map(|e| e.offset), Some(0x1000));
        assert_eq!(m.starts_in(0x1800, 0x2800), [0x1000, 0x2000]);
        assert!(m.is_covered(0x1000, 0x3000));
        assert!(!m.is_covered(0x1000, 0x3001));
        assert_eq!(m.find_space(0x10000, 0), None);
    }
}
