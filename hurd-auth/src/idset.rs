//! [`IdSet`]: what an auth handle stands for — effective and available uids
//! and gids — and [`makeauth`], the rule for making a new one.

use alloc::vec::Vec;

use crate::idvec::{Id, IdVec};
use hurd_ipc::Errno;

/// The most ids one vector of an [`IdSet`] may hold in a request; more is
/// `EINVAL`. It bounds what one handle costs the auth server.
pub const MAX_IDS: usize = 1024;

/// The root user and group id.
pub const ROOT: Id = 0;

/// The identity an auth handle stands for.
///
/// *Effective* ids are the ones permission checks use. *Available* ids are not
/// used for checks, but may be made effective through [`makeauth`]; by
/// convention the first available id is the "real" id and the second the
/// "saved" one. The empty set is legal: it is the "unknown user", who holds no
/// ids at all.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IdSet {
    /// Effective user ids.
    pub euids: IdVec,
    /// Available user ids (real, saved, then others).
    pub auids: IdVec,
    /// Effective group ids.
    pub egids: IdVec,
    /// Available group ids (real, saved, then others).
    pub agids: IdVec,
}

impl IdSet {
    /// The unknown user: no ids.
    pub const fn empty() -> IdSet {
        IdSet {
            euids: IdVec::new(),
            auids: IdVec::new(),
            egids: IdVec::new(),
            agids: IdVec::new(),
        }
    }

    /// Root's first handle, as the Hurd's auth server makes it at boot:
    /// effective uid and gid 0, available uids and gids `[0, 0]`.
    pub fn root() -> IdSet {
        IdSet {
            euids: IdVec::from([ROOT]),
            auids: IdVec::from([ROOT, ROOT]),
            egids: IdVec::from([ROOT]),
            agids: IdVec::from([ROOT, ROOT]),
        }
    }

    /// A plain login identity: effective `uid` and `gids`, real and saved ids
    /// equal to the effective ones (the first gid is the primary group).
    pub fn user(uid: Id, gids: &[Id]) -> IdSet {
        let primary = gids.first().copied();
        IdSet {
            euids: IdVec::from([uid]),
            auids: IdVec::from([uid, uid]),
            egids: IdVec::from_slice(gids),
            agids: primary.map(|g| IdVec::from([g, g])).unwrap_or_default(),
        }
    }

    /// Whether no vector holds an id.
    pub fn is_empty(&self) -> bool {
        self.euids.is_empty()
            && self.auids.is_empty()
            && self.egids.is_empty()
            && self.agids.is_empty()
    }

    /// Whether `uid` is held, effective or available.
    pub fn holds_uid(&self, uid: Id) -> bool {
        self.euids.contains(uid) || self.auids.contains(uid)
    }

    /// Whether `gid` is held, effective or available.
    pub fn holds_gid(&self, gid: Id) -> bool {
        self.egids.contains(gid) || self.agids.contains(gid)
    }

    /// Whether uid 0 is held, effective or available: such a handle may make
    /// any other.
    pub fn is_root(&self) -> bool {
        self.holds_uid(ROOT)
    }

    /// Whether `uid` is an *effective* uid: what permission checks ask.
    pub fn has_euid(&self, uid: Id) -> bool {
        self.euids.contains(uid)
    }

    /// Whether `gid` is an *effective* gid.
    pub fn has_egid(&self, gid: Id) -> bool {
        self.egids.contains(gid)
    }

    /// Merges `other` into this set, vector by vector.
    pub fn merge(&mut self, other: &IdSet) {
        self.euids.merge(&other.euids);
        self.auids.merge(&other.auids);
        self.egids.merge(&other.egids);
        self.agids.merge(&other.agids);
    }

    /// The union of several sets.
    pub fn union<'a>(sets: impl IntoIterator<Item = &'a IdSet>) -> IdSet {
        let mut u = IdSet::empty();
        for s in sets {
            u.merge(s);
        }
        u
    }

    /// Whether every id of this set is held by `holder` (uids against its
    /// effective and available uids, gids likewise): what [`makeauth`] asks of
    /// a non-root caller.
    pub fn is_held_by(&self, holder: &IdSet) -> bool {
        self.euids
            .iter()
            .chain(self.auids.iter())
            .all(|u| holder.holds_uid(u))
            && self
                .egids
                .iter()
                .chain(self.agids.iter())
                .all(|g| holder.holds_gid(g))
    }

    /// Whether any vector is longer than [`MAX_IDS`].
    pub fn exceeds_limit(&self) -> bool {
        [&self.euids, &self.auids, &self.egids, &self.agids]
            .iter()
            .any(|v| v.len() > MAX_IDS)
    }

    /// The four vectors, in the protocol's order (euids, auids, egids, agids).
    pub fn into_vecs(self) -> (Vec<Id>, Vec<Id>, Vec<Id>, Vec<Id>) {
        (
            self.euids.into_vec(),
            self.auids.into_vec(),
            self.egids.into_vec(),
            self.agids.into_vec(),
        )
    }

    /// A set from the four vectors in the protocol's order.
    pub fn from_vecs(euids: Vec<Id>, auids: Vec<Id>, egids: Vec<Id>, agids: Vec<Id>) -> IdSet {
        IdSet {
            euids: euids.into(),
            auids: auids.into(),
            egids: egids.into(),
            agids: agids.into(),
        }
    }
}

/// The `auth_makeauth` rule: what new handle the holder of `presented` handles
/// may make when it asks for `requested`.
///
/// - No ids requested at all: the new handle holds the union of the presented
///   handles (the Hurd's way of merging handles).
/// - The presented handles together hold uid 0 (effective or available): any
///   ids may be asked for.
/// - Otherwise every requested uid must be held (effective or available) by
///   some presented handle, and every requested gid likewise; else `EPERM`.
///
/// More than [`MAX_IDS`] ids in one vector is `EINVAL`.
///
/// # Errors
///
/// `EPERM` and `EINVAL` as above.
pub fn makeauth(presented: &[&IdSet], requested: &IdSet) -> Result<IdSet, Errno> {
    if requested.exceeds_limit() {
        return Err(Errno::Inval);
    }
    let union = IdSet::union(presented.iter().copied());
    if requested.is_empty() {
        return Ok(union);
    }
    if union.is_root() || requested.is_held_by(&union) {
        Ok(requested.clone())
    } else {
        Err(Errno::Perm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(e: &[Id], a: &[Id], eg: &[Id], ag: &[Id]) -> IdSet {
        IdSet::from_vecs(e.to_vec(), a.to_vec(), eg.to_vec(), ag.to_vec())
    }

    #[test]
    fn root_is_zero_effective_or_available() {
        assert!(IdSet::root().is_root());
        assert!(ids(&[], &[1000, 0], &[], &[]).is_root());
        assert!(
            !ids(&[1000], &[1000], &[0], &[0]).is_root(),
            "gid 0 is not root"
        );
        assert!(!IdSet::empty().is_root());
    }

    #[test]
    fn root_may_make_anything() {
        let want = ids(&[5, 6], &[7], &[8], &[9, 9]);
        assert_eq!(makeauth(&[&IdSet::root()], &want), Ok(want.clone()));
        // Root only in available ids (a saved uid 0) is still root.
        let saved_root = ids(&[1000], &[1000, 0], &[], &[]);
        assert_eq!(makeauth(&[&saved_root], &want), Ok(want));
    }

    #[test]
    fn non_root_may_only_rearrange_what_it_holds() {
        let me = IdSet::user(1000, &[100, 20]);
        // Drop to the real id, make an available gid effective.
        let want = ids(&[1000], &[1000], &[100], &[20]);
        assert_eq!(makeauth(&[&me], &want), Ok(want));
        // Minting a uid it does not hold.
        assert_eq!(
            makeauth(&[&me], &ids(&[0], &[], &[], &[])),
            Err(Errno::Perm)
        );
        assert_eq!(
            makeauth(&[&me], &ids(&[], &[1001], &[], &[])),
            Err(Errno::Perm)
        );
        assert_eq!(
            makeauth(&[&me], &ids(&[], &[], &[0], &[])),
            Err(Errno::Perm)
        );
        assert_eq!(
            makeauth(&[&me], &ids(&[], &[], &[], &[21])),
            Err(Errno::Perm)
        );
        // A uid is not a gid.
        assert_eq!(
            makeauth(&[&me], &ids(&[100], &[], &[], &[])),
            Err(Errno::Perm)
        );
    }

    #[test]
    fn the_union_of_presented_handles_counts() {
        let a = IdSet::user(1000, &[100]);
        let b = IdSet::user(2000, &[200]);
        let want = ids(&[1000, 2000], &[], &[100, 200], &[]);
        assert_eq!(makeauth(&[&a], &want), Err(Errno::Perm));
        assert_eq!(makeauth(&[&a, &b], &want), Ok(want));
    }

    #[test]
    fn empty_request_is_the_union() {
        let a = IdSet::user(1000, &[100]);
        let b = IdSet::user(2000, &[200]);
        let u = makeauth(&[&a, &b], &IdSet::empty()).unwrap_or_default();
        assert_eq!(u.euids.as_slice(), &[1000, 2000]);
        assert_eq!(u.auids.as_slice(), &[1000, 2000]);
        assert_eq!(makeauth(&[], &IdSet::empty()), Ok(IdSet::empty()));
    }

    #[test]
    fn the_unknown_user_can_make_only_itself() {
        let none = IdSet::empty();
        assert_eq!(makeauth(&[&none], &none), Ok(IdSet::empty()));
        assert_eq!(
            makeauth(&[&none], &ids(&[65534], &[], &[], &[])),
            Err(Errno::Perm)
        );
    }

    #[test]
    fn too_many_ids_is_einval() {
        let big = IdSet::from_vecs((0..=MAX_IDS as u32).collect(), vec![], vec![], vec![]);
        assert_eq!(makeauth(&[&IdSet::root()], &big), Err(Errno::Inval));
    }
}
