//! Directory listings kept between the chunks of one reader's
//! `dir_readdir` calls, so that reading a directory chunk by chunk costs
//! one [`Tree::readdir`](super::Tree::readdir) rather than one a chunk (a
//! 40,000-entry directory read 4 KiB at a time was quadratic).
//!
//! A listing is taken when a peropen reads from entry 0 (or from anywhere
//! without a kept listing) and served on while the same peropen asks for
//! the entry after the last it got; what changes in the directory meanwhile
//! may or may not show, as POSIX allows between `rewinddir` calls. At most
//! [`KEPT`] listings are kept, the least recently used dropped first: many
//! readers at once cost time, never memory beyond that.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::netfs::DirEntry;

/// How many listings are kept at most.
pub(super) const KEPT: usize = 4;

/// One peropen's listing and where its reader is in it.
struct Kept {
    po: u64,
    next: usize,
    entries: Vec<DirEntry>,
}

/// The kept listings, most recently used first.
#[derive(Default)]
pub(super) struct Listings {
    kept: VecDeque<Kept>,
}

impl Listings {
    /// The listing peropen `po` has read up to `entry`, if kept (it is
    /// taken out: give it back with [`Listings::keep`]).
    pub(super) fn take(&mut self, po: u64, entry: usize) -> Option<Vec<DirEntry>> {
        let i = self
            .kept
            .iter()
            .position(|k| k.po == po && k.next == entry)?;
        self.kept.remove(i).map(|k| k.entries)
    }

    /// Keeps `entries` for peropen `po`, read up to `next`; drops the
    /// peropen's older listing and the least recently used beyond [`KEPT`].
    pub(super) fn keep(&mut self, po: u64, next: usize, entries: Vec<DirEntry>) {
        self.kept.retain(|k| k.po != po);
        self.kept.push_front(Kept { po, next, entries });
        self.kept.truncate(KEPT);
    }

    /// Forgets peropen `po`'s listing (it closed).
    pub(super) fn forget(&mut self, po: u64) {
        self.kept.retain(|k| k.po != po);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(n: usize) -> Vec<DirEntry> {
        (0..n)
            .map(|i| DirEntry {
                ino: i as u64 + 1,
                kind: crate::mode::S_IFREG,
                name: alloc::format!("f{i}").as_str().into(),
            })
            .collect()
    }

    #[test]
    fn served_on_only_from_where_the_same_reader_stopped() {
        let mut l = Listings::default();
        l.keep(1, 10, listing(30));
        assert!(l.take(2, 10).is_none(), "another peropen");
        assert!(l.take(1, 11).is_none(), "another place");
        assert_eq!(l.take(1, 10).map(|e| e.len()), Some(30));
        assert!(l.take(1, 10).is_none(), "taken out");
    }

    #[test]
    fn at_most_kept_listings_least_recently_used_dropped() {
        let mut l = Listings::default();
        for po in 0..(KEPT as u64 + 3) {
            l.keep(po, 1, listing(2));
        }
        assert_eq!(l.kept.len(), KEPT);
        assert!(l.take(0, 1).is_none());
        assert!(l.take(KEPT as u64 + 2, 1).is_some());
        l.keep(9, 1, listing(2));
        l.keep(9, 2, listing(2));
        assert_eq!(l.kept.iter().filter(|k| k.po == 9).count(), 1);
        l.forget(9);
        assert!(l.take(9, 2).is_none());
    }
}
