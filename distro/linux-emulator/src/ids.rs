//! The ids a Linux program is told, from the process's auth handle as
//! glibc keeps them on the Hurd (`_hurd_id`): the effective ids are the
//! handle's first effective ids, the real and saved ones its first two
//! available ids, the supplementary groups its effective group ids.
//!
//! Linux's calls cannot fail where glibc's `EGRATUITOUS` would say "there
//! is no such id" (a handle without ids, or without available ids): the
//! real and saved ids are then the effective ones, and an id that is not
//! there at all is the overflow id 65534 (`nobody`), as Linux shows an id
//! it cannot map.

use alloc::vec::Vec;

use hurd_trans::hurd_auth::IdSet;

/// The id shown for one the handle does not hold (Linux's `overflowuid`).
pub const OVERFLOW_ID: u32 = 65534;

/// A process's ids as Linux reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ids {
    /// Real, effective and saved user ids (`getresuid`).
    pub uid: [u32; 3],
    /// Real, effective and saved group ids (`getresgid`).
    pub gid: [u32; 3],
    /// The supplementary groups (`getgroups`).
    pub groups: Vec<u32>,
}

impl Ids {
    /// The ids of an auth handle holding `set`.
    pub fn of(set: &IdSet) -> Ids {
        let first = |v: &[u32]| v.first().copied();
        let euid = first(set.euids.as_slice()).unwrap_or(OVERFLOW_ID);
        let egid = first(set.egids.as_slice()).unwrap_or(OVERFLOW_ID);
        let auids = set.auids.as_slice();
        let agids = set.agids.as_slice();
        let ruid = auids.first().copied().unwrap_or(euid);
        let rgid = agids.first().copied().unwrap_or(egid);
        Ids {
            uid: [ruid, euid, auids.get(1).copied().unwrap_or(ruid)],
            gid: [rgid, egid, agids.get(1).copied().unwrap_or(rgid)],
            groups: set.egids.as_slice().to_vec(),
        }
    }

    /// The ids of a handle that could not be asked (a dead or missing auth
    /// port): nobody's.
    pub fn nobody() -> Ids {
        Ids {
            uid: [OVERFLOW_ID; 3],
            gid: [OVERFLOW_ID; 3],
            groups: Vec::new(),
        }
    }

    /// What the auxiliary vector tells a program at start (`AT_UID`,
    /// `AT_EUID`, `AT_GID`, `AT_EGID`).
    pub fn auxv(&self) -> [u32; 4] {
        [self.uid[0], self.uid[1], self.gid[0], self.gid[1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_trans::hurd_auth::IdVec;

    #[test]
    fn a_login_handle_gives_its_user_everywhere() {
        let ids = Ids::of(&IdSet::user(1000, &[100, 27]));
        assert_eq!(ids.uid, [1000, 1000, 1000]);
        assert_eq!(ids.gid, [100, 100, 100]);
        assert_eq!(ids.groups, [100, 27]);
        assert_eq!(ids.auxv(), [1000, 1000, 100, 100]);
        assert_eq!(Ids::of(&IdSet::root()).uid, [0, 0, 0]);
    }

    #[test]
    fn real_and_saved_ids_are_the_available_ones() {
        let set = IdSet {
            euids: IdVec::from([0]),
            auids: IdVec::from([1000, 1001]),
            egids: IdVec::from([0]),
            agids: IdVec::from([100]),
        };
        let ids = Ids::of(&set);
        assert_eq!(ids.uid, [1000, 0, 1001]);
        assert_eq!(ids.gid, [100, 0, 100]);
    }

    #[test]
    fn missing_ids_are_the_overflow_id() {
        let ids = Ids::of(&IdSet::empty());
        assert_eq!(ids, Ids::nobody());
        let only_available = IdSet {
            euids: IdVec::new(),
            auids: IdVec::from([5]),
            egids: IdVec::new(),
            agids: IdVec::new(),
        };
        assert_eq!(Ids::of(&only_available).uid, [5, OVERFLOW_ID, 5]);
    }
}
