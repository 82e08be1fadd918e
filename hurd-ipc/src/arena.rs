//! A generational slab: objects addressed by index plus generation, so a stale
//! reference to a freed slot is detected instead of reaching a new object.

use alloc::vec::Vec;

/// A reference into an [`Arena`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub(crate) struct Slot {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

enum Cell<T> {
    Used { generation: u32, value: T },
    Free { generation: u32, next: Option<u32> },
}

/// Objects of one kind, with stable generational references.
pub(crate) struct Arena<T> {
    cells: Vec<Cell<T>>,
    free: Option<u32>,
    len: usize,
}

impl<T> Arena<T> {
    pub(crate) const fn new() -> Self {
        Arena {
            cells: Vec::new(),
            free: None,
            len: 0,
        }
    }

    /// Stores `value`; `None` when the arena already holds 2^32 objects.
    pub(crate) fn insert(&mut self, value: T) -> Option<Slot> {
        if let Some(index) = self.free {
            self.len += 1;
            let cell = &mut self.cells[index as usize];
            let (generation, next) = match *cell {
                Cell::Free { generation, next } => (generation, next),
                Cell::Used { .. } => unreachable!("free list points at a used cell"),
            };
            self.free = next;
            *cell = Cell::Used { generation, value };
            Some(Slot { index, generation })
        } else {
            let index = u32::try_from(self.cells.len()).ok()?;
            self.len += 1;
            self.cells.push(Cell::Used {
                generation: 0,
                value,
            });
            Some(Slot {
                index,
                generation: 0,
            })
        }
    }

    pub(crate) fn get(&self, slot: Slot) -> Option<&T> {
        match self.cells.get(slot.index as usize) {
            Some(Cell::Used { generation, value }) if *generation == slot.generation => Some(value),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, slot: Slot) -> Option<&mut T> {
        match self.cells.get_mut(slot.index as usize) {
            Some(Cell::Used { generation, value }) if *generation == slot.generation => Some(value),
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, slot: Slot) -> Option<T> {
        let cell = self.cells.get_mut(slot.index as usize)?;
        match cell {
            Cell::Used { generation, .. } if *generation == slot.generation => {}
            _ => return None,
        }
        let next_gen = slot.generation.wrapping_add(1);
        let old = core::mem::replace(
            cell,
            Cell::Free {
                generation: next_gen,
                next: self.free,
            },
        );
        self.free = Some(slot.index);
        self.len -= 1;
        match old {
            Cell::Used { value, .. } => Some(value),
            Cell::Free { .. } => None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_slots_miss() {
        let mut a = Arena::new();
        let s = a.insert(1).unwrap_or_else(|| unreachable!());
        assert_eq!(a.remove(s), Some(1));
        let t = a.insert(2).unwrap_or_else(|| unreachable!());
        assert_eq!(t.index, s.index);
        assert!(a.get(s).is_none());
        assert_eq!(a.get(t), Some(&2));
        assert_eq!(a.len(), 1);
    }
}
