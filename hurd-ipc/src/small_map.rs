//! A map for few keys: a short vector searched linearly, becoming a hash
//! map past [`SMALL`] entries (and going back once empty).
//!
//! The kernel keeps several tables that hold a handful of entries nearly
//! always and are used on every message: blocked waiters (every blocking
//! receive registers one, every hand-off removes one) and the names a task
//! chose itself. A linear search of a few entries beats hashing them.

use alloc::vec::Vec;
use core::hash::Hash;
use hashbrown::HashMap;

/// Most entries kept in the linear form.
pub(crate) const SMALL: usize = 16;

/// Keys to values, for few keys (see the module documentation).
pub(crate) enum SmallMap<K, V> {
    /// Few entries: searched linearly.
    Small(Vec<(K, V)>),
    /// Many entries.
    Large(HashMap<K, V>),
}

impl<K: Copy + Eq + Hash, V> SmallMap<K, V> {
    pub(crate) const fn new() -> SmallMap<K, V> {
        SmallMap::Small(Vec::new())
    }

    /// How many entries there are.
    pub(crate) fn len(&self) -> usize {
        match self {
            SmallMap::Small(v) => v.len(),
            SmallMap::Large(m) => m.len(),
        }
    }

    /// The value under `key`.
    #[inline(always)]
    pub(crate) fn get(&self, key: K) -> Option<&V> {
        match self {
            SmallMap::Small(v) => v.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            SmallMap::Large(m) => m.get(&key),
        }
    }

    /// The value under `key`, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: K) -> Option<&mut V> {
        match self {
            SmallMap::Small(v) => v.iter_mut().find(|(k, _)| *k == key).map(|(_, v)| v),
            SmallMap::Large(m) => m.get_mut(&key),
        }
    }

    /// Stores `value` under `key`, returning what was there.
    #[inline]
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let SmallMap::Small(v) = self {
            if let Some(slot) = v.iter_mut().find(|(k, _)| *k == key) {
                return Some(core::mem::replace(&mut slot.1, value));
            }
            if v.len() < SMALL {
                v.push((key, value));
                return None;
            }
        }
        self.insert_large(key, value)
    }

    /// [`insert`](Self::insert) into the hash map, moving there first if the
    /// vector is full.
    #[cold]
    fn insert_large(&mut self, key: K, value: V) -> Option<V> {
        match self {
            SmallMap::Small(v) => {
                let mut m: HashMap<K, V> = v.drain(..).collect();
                m.insert(key, value);
                *self = SmallMap::Large(m);
                None
            }
            SmallMap::Large(m) => m.insert(key, value),
        }
    }

    /// Takes the value under `key` out.
    #[inline]
    pub(crate) fn remove(&mut self, key: K) -> Option<V> {
        match self {
            SmallMap::Small(v) => {
                let i = v.iter().position(|(k, _)| *k == key)?;
                Some(v.swap_remove(i).1)
            }
            SmallMap::Large(_) => self.remove_large(key),
        }
    }

    /// Removes `old`'s entry and inserts `new` → `value`: the same map as
    /// [`remove`](Self::remove) then [`insert`](Self::insert), with the entry
    /// of a small map rewritten in place. Returns `old`'s value.
    #[inline]
    pub(crate) fn rekey(&mut self, old: K, new: K, value: V) -> Option<V> {
        if let SmallMap::Small(v) = self
            && (new == old || !v.iter().any(|(k, _)| *k == new))
            && let Some(slot) = v.iter_mut().find(|(k, _)| *k == old)
        {
            return Some(core::mem::replace(slot, (new, value)).1);
        }
        let was = self.remove(old);
        self.insert(new, value);
        was
    }

    /// The value under `key` when `new` (the key it is to take) has no
    /// entry of its own, or is `key`; with where [`rekey_at`](Self::rekey_at)
    /// finds the entry: its index in the vector (`None` in the hash map).
    #[inline(always)]
    pub(crate) fn get_for_rekey(&self, key: K, new: K) -> Option<(&V, Option<usize>)> {
        match self {
            SmallMap::Small(v) => {
                let i = v.iter().position(|(k, _)| *k == key)?;
                if new != key && v.iter().any(|(k, _)| *k == new) {
                    return None;
                }
                Some((&v.get(i)?.1, Some(i)))
            }
            SmallMap::Large(m) if new != key && m.contains_key(&new) => None,
            SmallMap::Large(m) => m.get(&key).map(|value| (value, None)),
        }
    }

    /// [`rekey`](Self::rekey) with the place [`get_for_rekey`](Self::get_for_rekey)
    /// gave for `old` and `new`, the map unchanged since: the entry is
    /// rewritten where it is, with no search. Without a place (or one that
    /// no longer holds `old`), the same as `rekey`.
    #[inline(always)]
    pub(crate) fn rekey_at(&mut self, at: Option<usize>, old: K, new: K, value: V) -> Option<V> {
        if let (SmallMap::Small(v), Some(i)) = (&mut *self, at)
            && let Some(slot) = v.get_mut(i)
            && slot.0 == old
        {
            return Some(core::mem::replace(slot, (new, value)).1);
        }
        self.rekey(old, new, value)
    }

    /// [`remove`](Self::remove) from the hash map, going back to the vector
    /// once it is empty.
    #[cold]
    fn remove_large(&mut self, key: K) -> Option<V> {
        let SmallMap::Large(m) = self else {
            return None;
        };
        let value = m.remove(&key);
        if m.is_empty() {
            *self = SmallMap::Small(Vec::new());
        }
        value
    }

    /// Every key and value, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, &V)> {
        let (small, large) = match self {
            SmallMap::Small(v) => (Some(v.iter().map(|(k, v)| (*k, v))), None),
            SmallMap::Large(m) => (None, Some(m.iter().map(|(k, v)| (*k, v)))),
        };
        small
            .into_iter()
            .flatten()
            .chain(large.into_iter().flatten())
    }

    /// Every key and value, emptying the map.
    pub(crate) fn drain(self) -> impl Iterator<Item = (K, V)> {
        let (small, large) = match self {
            SmallMap::Small(v) => (Some(v), None),
            SmallMap::Large(m) => (None, Some(m)),
        };
        small
            .into_iter()
            .flatten()
            .chain(large.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_past_small_and_shrinks_back() {
        let mut m: SmallMap<u64, u32> = SmallMap::new();
        for t in 0..100u64 {
            assert_eq!(m.insert(t * 7919, t as u32), None);
        }
        assert!(matches!(m, SmallMap::Large(_)));
        assert_eq!(m.len(), 100);
        assert_eq!(m.insert(7919, 1000), Some(1));
        assert_eq!(m.remove(7919), Some(1000));
        assert_eq!(m.remove(7919), None);
        assert_eq!(m.iter().count(), 99);
        for t in (0..100u64).filter(|&t| t != 1) {
            assert_eq!(m.get(t * 7919), Some(&(t as u32)));
            assert_eq!(m.remove(t * 7919), Some(t as u32));
        }
        assert!(matches!(m, SmallMap::Small(_)));
        assert_eq!(m.len(), 0);
        m.insert(u64::MAX, 5);
        m.insert(u64::MAX, 6);
        if let Some(v) = m.get_mut(u64::MAX) {
            *v += 1;
        }
        assert_eq!(m.drain().collect::<Vec<_>>(), alloc::vec![(u64::MAX, 7)]);
    }

    /// `get_for_rekey` finds the old key's value when the new key is free
    /// (or the same), and `rekey_at` then leaves the map, and returns, what
    /// `remove` then `insert` would: old key present or not, new key
    /// present or not, the two equal, small or large.
    #[test]
    fn rekey_at_its_place_is_remove_then_insert() {
        let sorted = |m: &SmallMap<u64, u32>| {
            let mut all: Vec<(u64, u32)> = m.iter().map(|(k, v)| (k, *v)).collect();
            all.sort_unstable();
            all
        };
        for size in [0u64, 1, 3, 16, 40] {
            for (old, new) in [(1, 2), (1, 1), (2, 1), (99, 1), (1, 99), (98, 99), (0, 2)] {
                let mut a: SmallMap<u64, u32> = SmallMap::new();
                let mut b: SmallMap<u64, u32> = SmallMap::new();
                for k in 0..size {
                    a.insert(k, k as u32);
                    b.insert(k, k as u32);
                }
                let new_free = old == new || a.get(new).is_none();
                let value = a.get(old).copied().filter(|_| new_free);
                let was = a.remove(old);
                a.insert(new, 500);
                let found = b.get_for_rekey(old, new).map(|(v, at)| (*v, at));
                assert_eq!(found.map(|(v, _)| v), value, "{size} {old} {new}");
                let at = found.and_then(|(_, at)| at);
                let small = size <= SMALL as u64;
                assert_eq!(at.is_some(), small && value.is_some(), "{size} {old} {new}");
                assert_eq!(b.rekey_at(at, old, new, 500), was, "{size} {old} {new}");
                assert_eq!(sorted(&a), sorted(&b), "{size} {old} {new}");
            }
        }
        // A place that no longer holds the old key: searched for instead.
        let mut m: SmallMap<u64, u32> = SmallMap::new();
        m.insert(1, 1);
        m.insert(2, 2);
        assert_eq!(m.rekey_at(Some(0), 2, 3, 30), Some(2));
        assert_eq!(m.rekey_at(Some(7), 1, 4, 40), Some(1));
        assert_eq!(sorted(&m), alloc::vec![(3, 30), (4, 40)]);
    }

    /// `rekey` leaves the map `remove` then `insert` would: old key present
    /// or not, new key present or not, the two equal, small or large.
    #[test]
    fn rekey_is_remove_then_insert() {
        let sorted = |m: &SmallMap<u64, u32>| {
            let mut all: Vec<(u64, u32)> = m.iter().map(|(k, v)| (k, *v)).collect();
            all.sort_unstable();
            all
        };
        for size in [0u64, 1, 3, 16, 40] {
            for (old, new) in [(1, 2), (1, 1), (2, 1), (99, 1), (1, 99), (98, 99)] {
                let mut a: SmallMap<u64, u32> = SmallMap::new();
                for k in 0..size {
                    a.insert(k, k as u32);
                }
                let mut b: SmallMap<u64, u32> = SmallMap::new();
                for k in 0..size {
                    b.insert(k, k as u32);
                }
                let was = a.remove(old);
                a.insert(new, 500);
                assert_eq!(b.rekey(old, new, 500), was, "{size} {old} {new}");
                assert_eq!(sorted(&a), sorted(&b), "{size} {old} {new}");
            }
        }
    }
}
