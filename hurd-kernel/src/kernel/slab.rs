//! A table indexed by small numbers (thread and task ids): O(1) lookups on
//! the message path, where a `BTreeMap` walk per lookup showed in profiles.
//!
//! Ids are handed out in increasing order and not reused, so the table grows
//! by one slot per thread or task ever created.

use alloc::vec::Vec;

/// Values by `u32` id.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { slots: Vec::new() }
    }
}

impl<T> Slab<T> {
    /// The value under `id`.
    pub fn get(&self, id: &u32) -> Option<&T> {
        self.slots.get(*id as usize)?.as_ref()
    }

    /// The value under `id`, mutably.
    pub fn get_mut(&mut self, id: &u32) -> Option<&mut T> {
        self.slots.get_mut(*id as usize)?.as_mut()
    }

    /// Puts `value` under `id`, returning what was there.
    pub fn insert(&mut self, id: u32, value: T) -> Option<T> {
        let index = id as usize;
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, || None);
        }
        self.slots[index].replace(value)
    }

    /// Takes the value under `id` out.
    pub fn remove(&mut self, id: &u32) -> Option<T> {
        self.slots.get_mut(*id as usize)?.take()
    }

    /// The heap bytes its slots take (one per id ever used).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * core::mem::size_of::<Option<T>>()
    }

    /// Every id and value, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| slot.as_ref().map(|v| (i as u32, v)))
    }
}
