//! A table indexed by small numbers (thread and task ids): O(1) lookups on
//! the message path, where a `BTreeMap` walk per lookup showed in profiles.
//!
//! The table hands out the ids. An id is a slot's index (the low
//! [`INDEX_BITS`] bits) and the slot's generation (the high bits), which
//! changes each time the slot is emptied: a slot is used again once its
//! value is gone, so the table is as large as the most values held at once,
//! not the number ever made, and an id kept after its value went (a waiter
//! token, a thread's task) finds nothing rather than its successor. Empty
//! slots are reused oldest first, so one slot comes back with the same
//! generation only after 2^16 values have come and gone through it.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// The bits of an id that name its slot: at most 2^16 values at once.
pub const INDEX_BITS: u32 = 16;
/// The most values a table holds at once.
pub const MAX_SLOTS: usize = 1 << INDEX_BITS;

const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;

#[derive(Debug)]
struct Slot<T> {
    generation: u16,
    value: Option<T>,
}

/// Values by `u32` id.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Empty slots, the longest empty first.
    free: VecDeque<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: VecDeque::new(),
            len: 0,
        }
    }
}

/// The slot index and generation of `id`.
fn split(id: u32) -> (usize, u16) {
    ((id & INDEX_MASK) as usize, (id >> INDEX_BITS) as u16)
}

impl<T> Slab<T> {
    /// Stores `value` under a new id, which it returns (the first id of an
    /// empty table is 0); `None`, with `value` dropped, when [`MAX_SLOTS`]
    /// values are held.
    pub fn insert(&mut self, value: T) -> Option<u32> {
        let index = match self.free.pop_front() {
            Some(index) => index,
            None if self.slots.len() < MAX_SLOTS => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                (self.slots.len() - 1) as u32
            }
            None => return None,
        };
        let slot = &mut self.slots[index as usize];
        slot.value = Some(value);
        self.len += 1;
        Some((u32::from(slot.generation) << INDEX_BITS) | index)
    }

    /// The value under `id`.
    pub fn get(&self, id: &u32) -> Option<&T> {
        let (index, generation) = split(*id);
        let slot = self.slots.get(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_ref()
    }

    /// The value under `id`, mutably.
    pub fn get_mut(&mut self, id: &u32) -> Option<&mut T> {
        let (index, generation) = split(*id);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// Takes the value under `id` out; its slot is free for another id.
    pub fn remove(&mut self, id: &u32) -> Option<T> {
        let (index, generation) = split(*id);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push_back(index as u32);
        self.len -= 1;
        Some(value)
    }

    /// How many values it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The heap bytes its slots take (one per value held at the most).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * core::mem::size_of::<Slot<T>>()
            + self.free.capacity() * core::mem::size_of::<u32>()
    }

    /// Every id and value, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, slot)| {
            let id = (u32::from(slot.generation) << INDEX_BITS) | i as u32;
            slot.value.as_ref().map(|v| (id, v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    #[test]
    fn ids_are_reused_with_a_new_generation() {
        let mut slab = Slab::default();
        assert_eq!(slab.insert("boot"), Some(0));
        let a = slab.insert("a").expect("room");
        assert_eq!(slab.remove(&a), Some("a"));
        let b = slab.insert("b").expect("room");
        assert_ne!(a, b, "a reused slot has a new id");
        assert_eq!(a & INDEX_MASK, b & INDEX_MASK, "the slot is reused");
        assert_eq!(slab.get(&a), None, "the old id finds nothing");
        assert_eq!(slab.remove(&a), None);
        assert_eq!(slab.get(&b), Some(&"b"));
        assert_eq!(slab.len(), 2);
    }

    #[test]
    fn the_table_stays_as_large_as_what_it_holds() {
        let mut slab = Slab::default();
        for round in 0..10_000u32 {
            let ids: Vec<u32> = (0..8)
                .map(|i| slab.insert(round + i).expect("room"))
                .collect();
            for id in ids {
                assert!(slab.remove(&id).is_some());
            }
        }
        assert!(slab.is_empty());
        assert!(slab.slots.len() <= 8);
    }

    #[test]
    fn a_full_table_refuses() {
        let mut slab = Slab::default();
        for _ in 0..MAX_SLOTS {
            assert!(slab.insert(()).is_some());
        }
        assert_eq!(slab.insert(()), None);
        slab.remove(&5);
        assert!(slab.insert(()).is_some());
    }

    proptest! {
        /// Against a map from ids ever handed out: a live id finds its
        /// value, an id whose value went finds nothing, and no live id is
        /// handed out twice.
        #[test]
        fn matches_a_model(ops in proptest::collection::vec((any::<bool>(), any::<u8>()), 1..400)) {
            let mut slab = Slab::default();
            let mut live: BTreeMap<u32, u32> = BTreeMap::new();
            let mut gone: Vec<u32> = Vec::new();
            for (n, (add, pick)) in ops.into_iter().enumerate() {
                if add || live.is_empty() {
                    let id = slab.insert(n as u32).expect("room");
                    prop_assert!(live.insert(id, n as u32).is_none());
                } else {
                    let id = *live.keys().nth(usize::from(pick) % live.len()).expect("live");
                    prop_assert_eq!(slab.remove(&id), live.remove(&id));
                    gone.push(id);
                }
                for (id, v) in &live {
                    prop_assert_eq!(slab.get(id), Some(v));
                }
                for id in gone.iter().filter(|id| !live.contains_key(id)) {
                    prop_assert_eq!(slab.get(id), None);
                }
                prop_assert_eq!(slab.len(), live.len());
                prop_assert_eq!(slab.iter().count(), live.len());
            }
        }
    }
}
