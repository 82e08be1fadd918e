//! The registry of blocked waiters: which [`WaiterToken`] waits where.
//!
//! Only a handful of threads wait at any moment in most systems, and every
//! blocking receive registers and every hand-off unregisters one, so the table
//! is a short vector searched linearly; past [`SMALL`] waiters it becomes a hash
//! map (and goes back once empty). Tokens are arbitrary values chosen by the
//! embedder: both forms key on the whole token.

use alloc::vec::Vec;
use hashbrown::HashMap;

use super::WaitSite;
use crate::port::WaiterToken;

/// Most waiters kept in the linear form.
const SMALL: usize = 16;

/// Token → wait site.
pub(super) enum Waiting {
    /// Few waiters: searched linearly.
    Small(Vec<(WaiterToken, WaitSite)>),
    /// Many waiters.
    Large(HashMap<WaiterToken, WaitSite>),
}

impl Waiting {
    pub(super) const fn new() -> Waiting {
        Waiting::Small(Vec::new())
    }

    /// Registers `token` at `site`, replacing any earlier registration.
    #[inline]
    pub(super) fn insert(&mut self, token: WaiterToken, site: WaitSite) {
        if let Waiting::Small(v) = self {
            if let Some(slot) = v.iter_mut().find(|(t, _)| *t == token) {
                slot.1 = site;
                return;
            }
            if v.len() < SMALL {
                v.push((token, site));
                return;
            }
        }
        self.insert_large(token, site);
    }

    /// [`insert`](Self::insert) into the hash map, moving there first if the
    /// vector is full.
    #[cold]
    fn insert_large(&mut self, token: WaiterToken, site: WaitSite) {
        match self {
            Waiting::Small(v) => {
                let mut m: HashMap<WaiterToken, WaitSite> = v.drain(..).collect();
                m.insert(token, site);
                *self = Waiting::Large(m);
            }
            Waiting::Large(m) => {
                m.insert(token, site);
            }
        }
    }

    /// Unregisters `token`, returning where it waited.
    #[inline]
    pub(super) fn remove(&mut self, token: WaiterToken) -> Option<WaitSite> {
        match self {
            Waiting::Small(v) => {
                let i = v.iter().position(|(t, _)| *t == token)?;
                Some(v.swap_remove(i).1)
            }
            Waiting::Large(_) => self.remove_large(token),
        }
    }

    /// [`remove`](Self::remove) from the hash map, going back to the vector
    /// once it is empty.
    #[cold]
    fn remove_large(&mut self, token: WaiterToken) -> Option<WaitSite> {
        let Waiting::Large(m) = self else {
            return None;
        };
        let site = m.remove(&token);
        if m.is_empty() {
            *self = Waiting::Small(Vec::new());
        }
        site
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Slot;

    fn site(i: u32) -> WaitSite {
        WaitSite::Send(Slot {
            index: i,
            generation: 0,
        })
    }

    fn index(s: Option<WaitSite>) -> Option<u32> {
        match s {
            Some(WaitSite::Send(p)) => Some(p.index),
            _ => None,
        }
    }

    #[test]
    fn grows_past_small_and_shrinks_back() {
        let mut w = Waiting::new();
        for t in 0..100u64 {
            w.insert(t * 7919, site(t as u32));
        }
        assert!(matches!(w, Waiting::Large(_)));
        w.insert(7919, site(1000));
        assert_eq!(index(w.remove(7919)), Some(1000));
        assert_eq!(index(w.remove(7919)), None);
        for t in (0..100u64).filter(|&t| t != 1) {
            assert_eq!(index(w.remove(t * 7919)), Some(t as u32));
        }
        assert!(matches!(w, Waiting::Small(_)));
        w.insert(u64::MAX, site(5));
        w.insert(u64::MAX, site(6));
        assert_eq!(index(w.remove(u64::MAX)), Some(6));
        assert_eq!(index(w.remove(u64::MAX)), None);
    }
}
