//! [`IdVec`]: an ordered vector of user or group ids (the Hurd's `struct idvec`).

use alloc::vec::Vec;

/// A user or group id. The Hurd's `uid_t` and `gid_t` are 32 bits.
pub type Id = u32;

/// An ordered vector of ids.
///
/// Order matters and duplicates are allowed: in an *available* vector the first
/// id is by convention the "real" id and the second the "saved" one, so root's
/// available uids are `[0, 0]`. As a set (for [`contains`](IdVec::contains),
/// [`merge`](IdVec::merge) and [`is_subset_of`](IdVec::is_subset_of)) only
/// membership counts.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct IdVec {
    ids: Vec<Id>,
}

impl IdVec {
    /// The empty vector.
    pub const fn new() -> IdVec {
        IdVec { ids: Vec::new() }
    }

    /// The ids in `ids`, in order, duplicates kept.
    pub fn from_slice(ids: &[Id]) -> IdVec {
        IdVec { ids: ids.to_vec() }
    }

    /// The ids, in order.
    pub fn as_slice(&self) -> &[Id] {
        &self.ids
    }

    /// The ids, as a vector (for a reply).
    pub fn into_vec(self) -> Vec<Id> {
        self.ids
    }

    /// How many ids (duplicates counted).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether `id` is in the vector (`idvec_contains`).
    pub fn contains(&self, id: Id) -> bool {
        self.ids.contains(&id)
    }

    /// Appends `id`, even if present (`idvec_add`).
    pub fn push(&mut self, id: Id) {
        self.ids.push(id);
    }

    /// Appends `id` unless present (`idvec_add_new`); returns whether it was added.
    pub fn add_new(&mut self, id: Id) -> bool {
        if self.contains(id) {
            false
        } else {
            self.ids.push(id);
            true
        }
    }

    /// Appends the ids of `other` that are not present yet, in `other`'s order
    /// (`idvec_merge`): a set union that keeps this vector's order.
    pub fn merge(&mut self, other: &IdVec) {
        for &id in &other.ids {
            self.add_new(id);
        }
    }

    /// Whether every id of this vector is in `other`.
    pub fn is_subset_of(&self, other: &IdVec) -> bool {
        self.ids.iter().all(|&id| other.contains(id))
    }

    /// The "real" id: the first, by convention, of an available vector.
    pub fn real(&self) -> Option<Id> {
        self.ids.first().copied()
    }

    /// The "saved" id: the second, by convention, of an available vector.
    pub fn saved(&self) -> Option<Id> {
        self.ids.get(1).copied()
    }

    /// Iterates over the ids in order.
    pub fn iter(&self) -> core::iter::Copied<core::slice::Iter<'_, Id>> {
        self.ids.iter().copied()
    }
}

impl From<Vec<Id>> for IdVec {
    fn from(ids: Vec<Id>) -> IdVec {
        IdVec { ids }
    }
}

impl From<&[Id]> for IdVec {
    fn from(ids: &[Id]) -> IdVec {
        IdVec::from_slice(ids)
    }
}

impl<const N: usize> From<[Id; N]> for IdVec {
    fn from(ids: [Id; N]) -> IdVec {
        IdVec::from_slice(&ids)
    }
}

impl FromIterator<Id> for IdVec {
    fn from_iter<T: IntoIterator<Item = Id>>(iter: T) -> IdVec {
        IdVec {
            ids: iter.into_iter().collect(),
        }
    }
}

impl<'a> IntoIterator for &'a IdVec {
    type Item = Id;
    type IntoIter = core::iter::Copied<core::slice::Iter<'a, Id>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for IdVec {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[?]}", self.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_and_saved_are_first_and_second() {
        let v = IdVec::from([1000, 0, 5]);
        assert_eq!(v.real(), Some(1000));
        assert_eq!(v.saved(), Some(0));
        assert_eq!(IdVec::new().real(), None);
        assert_eq!(IdVec::from([7]).saved(), None);
    }

    #[test]
    fn duplicates_are_kept_by_push_not_by_add_new() {
        let mut v = IdVec::new();
        v.push(0);
        v.push(0);
        assert_eq!(v.as_slice(), &[0, 0]);
        assert!(!v.add_new(0));
        assert!(v.add_new(3));
        assert_eq!(v.as_slice(), &[0, 0, 3]);
    }

    #[test]
    fn merge_is_an_order_keeping_union() {
        let mut a = IdVec::from([3, 1]);
        a.merge(&IdVec::from([1, 2, 3, 4, 2]));
        assert_eq!(a.as_slice(), &[3, 1, 2, 4]);
    }

    #[test]
    fn subset_ignores_order_and_duplicates() {
        assert!(IdVec::from([2, 2, 1]).is_subset_of(&IdVec::from([1, 2])));
        assert!(IdVec::new().is_subset_of(&IdVec::new()));
        assert!(!IdVec::from([5]).is_subset_of(&IdVec::from([1, 2])));
    }
}
