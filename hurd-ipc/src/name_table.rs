//! The table behind an IPC space: names to entries, as Mach's `ipc_entry`
//! table is.
//!
//! A name the table makes is `index << 8 | generation`: lookups index a
//! vector and compare the generation, with no hashing. Freed slots go on a
//! free list, and a slot's generation moves on each time it is freed, so a
//! just-freed name is not handed out again at once: its slot comes back
//! under the next generation's name. (As in Mach, a slot's names repeat
//! after 256 reuses.)
//!
//! Names a task chooses itself (`mach_port_allocate_name`, inserting a right
//! under a given name) that are not the table's next name live in a side
//! map; the table then never makes a name that is there. Slot 0 is never
//! used, so the table never makes a name below 256, and small names chosen
//! by tasks never meet the table's.

use alloc::vec::Vec;

use crate::PortName;
use crate::small_map::SmallMap;
use crate::space::Entry;

/// Bits of a name that hold the slot's generation.
const GENERATION_BITS: u32 = 8;
/// The most slots the table holds: the slot of `MACH_PORT_DEAD`'s index is
/// never made.
const MAX_SLOTS: usize = (u32::MAX >> GENERATION_BITS) as usize;
/// End of the free list.
const NO_SLOT: u32 = 0;

/// One slot of the table.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// The generation of the slot's current (or next) name.
    generation: u8,
    /// The entry, when the slot is in use.
    entry: Option<Entry>,
    /// The next free slot when this one is free ([`NO_SLOT`] at the end).
    next_free: u32,
}

/// Names to entries (see the module documentation).
pub(crate) struct NameTable {
    /// Slot 0 is a placeholder, never used.
    slots: Vec<Slot>,
    /// First free slot, [`NO_SLOT`] when none.
    free: u32,
    /// Entries under names the table did not make (usually few).
    chosen: SmallMap<PortName, Entry>,
    /// How many of `chosen` have a nonzero index, so could be names the table
    /// makes.
    chosen_in_table: usize,
    /// Entries in the table (not counting `chosen`).
    used: usize,
}

fn split(name: PortName) -> (usize, u8) {
    (
        (name.0 >> GENERATION_BITS) as usize,
        name.0 as u8, // the low byte: the generation
    )
}

fn join(index: usize, generation: u8) -> PortName {
    PortName(((index as u32) << GENERATION_BITS) | u32::from(generation))
}

impl NameTable {
    pub(crate) fn new() -> NameTable {
        NameTable {
            slots: alloc::vec![Slot {
                generation: 0,
                entry: None,
                next_free: NO_SLOT,
            }],
            free: NO_SLOT,
            chosen: SmallMap::new(),
            chosen_in_table: 0,
            used: 0,
        }
    }

    /// The slot of a name the table made and holds.
    #[inline]
    fn slot_of(&self, name: PortName) -> Option<usize> {
        let (index, generation) = split(name);
        let slot = self.slots.get(index)?;
        (index != 0 && slot.generation == generation && slot.entry.is_some()).then_some(index)
    }

    /// The entry under `name`.
    #[inline(always)]
    pub(crate) fn get(&self, name: PortName) -> Option<&Entry> {
        let (index, generation) = split(name);
        match self.slots.get(index) {
            Some(Slot {
                generation: g,
                entry: Some(e),
                ..
            }) if *g == generation && index != 0 => Some(e),
            _ => self.get_chosen(name),
        }
    }

    /// The entry under a name the table did not make.
    #[inline]
    fn get_chosen(&self, name: PortName) -> Option<&Entry> {
        self.chosen.get(name)
    }

    /// The entry under `name`, mutably.
    #[inline(always)]
    pub(crate) fn get_mut(&mut self, name: PortName) -> Option<&mut Entry> {
        let (index, generation) = split(name);
        let in_table = matches!(
            self.slots.get(index),
            Some(Slot { generation: g, entry: Some(_), .. }) if *g == generation && index != 0
        );
        if in_table {
            return self.slots.get_mut(index).and_then(|s| s.entry.as_mut());
        }
        self.get_chosen_mut(name)
    }

    /// The entry under a name the table did not make, mutably.
    #[inline]
    fn get_chosen_mut(&mut self, name: PortName) -> Option<&mut Entry> {
        self.chosen.get_mut(name)
    }

    /// Whether `name` is in use.
    pub(crate) fn contains(&self, name: PortName) -> bool {
        self.get(name).is_some()
    }

    /// The name [`insert_fresh`](Self::insert_fresh) would make now: never
    /// NULL or DEAD, never one in use. Inserting under it with
    /// [`insert`](Self::insert) takes the table's slot.
    pub(crate) fn next_name(&mut self) -> PortName {
        loop {
            let index = if self.free != NO_SLOT {
                self.free as usize
            } else if self.slots.len() < MAX_SLOTS {
                self.slots.len()
            } else {
                // The table is full: any name not in use, from the side.
                return self.unused_chosen_name();
            };
            let generation = self.slots.get(index).map_or(0, |s| s.generation);
            let name = join(index, generation);
            if self.chosen_in_table == 0 || self.chosen.get(name).is_none() {
                return name;
            }
            // A task chose this name itself: skip the slot's generation.
            self.take_slot(index);
            self.release_slot(index);
        }
    }

    /// A name neither the table nor `chosen` uses (the table is full).
    #[cold]
    fn unused_chosen_name(&self) -> PortName {
        (1..=u32::MAX - 1)
            .map(PortName)
            .find(|&n| !self.contains(n))
            .unwrap_or(PortName::NULL)
    }

    /// Takes slot `index` (free, or one past the end) off the free list.
    fn take_slot(&mut self, index: usize) {
        if index == self.slots.len() {
            self.slots.push(Slot {
                generation: 0,
                entry: None,
                next_free: NO_SLOT,
            });
        } else if self.free as usize == index {
            self.free = self.slots[index].next_free;
        }
    }

    /// Puts slot `index` (not in use) back on the free list under its next
    /// generation.
    fn release_slot(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.entry = None;
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = self.free;
        self.free = index as u32;
    }

    /// Stores `entry` under a fresh name and returns the name.
    #[inline]
    pub(crate) fn insert_fresh(&mut self, entry: Entry) -> PortName {
        // The common case first: a free slot, and no name chosen by the task
        // that could be the slot's (what `next_name` and `take_slot` do then).
        if self.free != NO_SLOT && self.chosen_in_table == 0 {
            let index = self.free as usize;
            if let Some(slot) = self.slots.get_mut(index) {
                let name = join(index, slot.generation);
                self.free = slot.next_free;
                slot.entry = Some(entry);
                self.used += 1;
                return name;
            }
        }
        let name = self.next_name();
        let (index, _) = split(name);
        if index == 0 {
            // The table is full: beside it.
            self.insert(name, entry);
            return name;
        }
        self.take_slot(index);
        self.slots[index].entry = Some(entry);
        self.used += 1;
        name
    }

    /// Stores `entry` under `name`, returning what was there.
    pub(crate) fn insert(&mut self, name: PortName, entry: Entry) -> Option<Entry> {
        if let Some(i) = self.slot_of(name) {
            return self.slots[i].entry.replace(entry);
        }
        let (index, generation) = split(name);
        let next = if self.free != NO_SLOT {
            self.free as usize
        } else {
            self.slots.len()
        };
        let fresh = index != 0
            && index == next
            && index < MAX_SLOTS
            && self.slots.get(index).map_or(0, |s| s.generation) == generation
            && (self.chosen_in_table == 0 || self.chosen.get(name).is_none());
        if fresh {
            self.take_slot(index);
            self.slots[index].entry = Some(entry);
            self.used += 1;
            return None;
        }
        let old = self.chosen.insert(name, entry);
        if old.is_none() && index != 0 {
            self.chosen_in_table += 1;
        }
        old
    }

    /// The entry under `name`, inserted from `make` when there is none
    /// (`None` only if the name cannot be used at all).
    pub(crate) fn get_or_insert_with(
        &mut self,
        name: PortName,
        make: impl FnOnce() -> Entry,
    ) -> Option<&mut Entry> {
        if !self.contains(name) {
            self.insert(name, make());
        }
        self.get_mut(name)
    }

    /// Takes the entry under `name` out.
    #[inline]
    pub(crate) fn remove(&mut self, name: PortName) -> Option<Entry> {
        if let Some(i) = self.slot_of(name) {
            let entry = self.slots[i].entry.take();
            self.release_slot(i);
            self.used -= 1;
            return entry;
        }
        let old = self.chosen.remove(name);
        if old.is_some() && split(name).0 != 0 {
            self.chosen_in_table -= 1;
        }
        old
    }

    /// How many names are in use.
    pub(crate) fn len(&self) -> usize {
        self.used + self.chosen.len()
    }

    /// Every name in use with its entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (PortName, &Entry)> {
        let table = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.entry.as_ref().map(|e| (join(i, s.generation), e)));
        table.chain(self.chosen.iter())
    }

    /// Every name and entry, emptying the table.
    pub(crate) fn drain(self) -> impl Iterator<Item = (PortName, Entry)> {
        let table = self
            .slots
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| s.entry.map(|e| (join(i, s.generation), e)));
        table.chain(self.chosen.drain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PortType;
    use crate::space::Object;

    fn dead(urefs: u16) -> Entry {
        Entry {
            object: Object::None,
            bits: PortType::DEAD_NAME,
            urefs,
        }
    }

    #[test]
    fn fresh_names_are_indexed_and_never_null_or_small() {
        let mut t = NameTable::new();
        let a = t.insert_fresh(dead(1));
        let b = t.insert_fresh(dead(2));
        assert_eq!(a, PortName(0x100));
        assert_eq!(b, PortName(0x200));
        assert_eq!(t.get(a).map(|e| e.urefs), Some(1));
        assert_eq!(t.get(b).map(|e| e.urefs), Some(2));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn a_freed_name_comes_back_under_the_next_generation() {
        let mut t = NameTable::new();
        let a = t.insert_fresh(dead(1));
        assert!(t.remove(a).is_some());
        assert!(t.get(a).is_none());
        let b = t.insert_fresh(dead(2));
        assert_ne!(a, b);
        assert_eq!(b, PortName(0x101));
        assert!(t.get(a).is_none());
        assert!(t.remove(a).is_none());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn chosen_names_live_beside_the_table_and_are_never_made() {
        let mut t = NameTable::new();
        assert!(t.insert(PortName(0x10), dead(1)).is_none());
        assert!(t.insert(PortName(0x100), dead(2)).is_none());
        // 0x100 was the table's next name: it took the slot.
        assert!(t.insert(PortName(0x201), dead(3)).is_none());
        // 0x201 is not the next name: beside the table, and never made.
        let made: Vec<PortName> = (0..4).map(|_| t.insert_fresh(dead(9))).collect();
        assert!(!made.contains(&PortName(0x201)));
        assert!(!made.contains(&PortName(0x10)));
        assert_eq!(t.get(PortName(0x201)).map(|e| e.urefs), Some(3));
        assert_eq!(t.len(), 7);
        let mut names: Vec<PortName> = t.iter().map(|(n, _)| n).collect();
        names.sort();
        let mut expected = made.clone();
        expected.extend([PortName(0x10), PortName(0x100), PortName(0x201)]);
        expected.sort();
        assert_eq!(names, expected);
        assert_eq!(t.remove(PortName(0x201)).map(|e| e.urefs), Some(3));
        assert_eq!(t.drain().count(), 6);
    }

    #[test]
    fn next_name_then_insert_takes_the_slot() {
        let mut t = NameTable::new();
        let n = t.next_name();
        assert!(t.insert(n, dead(1)).is_none());
        assert_ne!(t.next_name(), n);
        assert_eq!(t.insert(n, dead(4)).map(|e| e.urefs), Some(1));
        assert_eq!(
            t.get_or_insert_with(n, || dead(7)).map(|e| e.urefs),
            Some(4)
        );
        let m = PortName(0x5005);
        assert_eq!(
            t.get_or_insert_with(m, || dead(7)).map(|e| e.urefs),
            Some(7)
        );
        assert_eq!(t.len(), 2);
    }
}
