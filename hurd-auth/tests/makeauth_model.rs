//! Property tests: `makeauth` against a model in plain set algebra.

use std::collections::BTreeSet;

use hurd_auth::{Errno, IdSet, makeauth};
use proptest::prelude::*;

fn idvec() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(0u32..6, 0..4)
}

fn idset() -> impl Strategy<Value = IdSet> {
    (idvec(), idvec(), idvec(), idvec()).prop_map(|(e, a, eg, ag)| IdSet::from_vecs(e, a, eg, ag))
}

fn set(v: &[u32]) -> BTreeSet<u32> {
    v.iter().copied().collect()
}

/// The model: uids held = ∪ (euids ∪ auids), gids held likewise.
fn model(presented: &[IdSet], req: &IdSet) -> Result<(), Errno> {
    let uids: BTreeSet<u32> = presented
        .iter()
        .flat_map(|s| {
            set(s.euids.as_slice())
                .union(&set(s.auids.as_slice()))
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    let gids: BTreeSet<u32> = presented
        .iter()
        .flat_map(|s| {
            set(s.egids.as_slice())
                .union(&set(s.agids.as_slice()))
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    let want_u = set(req.euids.as_slice())
        .union(&set(req.auids.as_slice()))
        .copied()
        .collect::<BTreeSet<_>>();
    let want_g = set(req.egids.as_slice())
        .union(&set(req.agids.as_slice()))
        .copied()
        .collect::<BTreeSet<_>>();
    if req.is_empty() || uids.contains(&0) || (want_u.is_subset(&uids) && want_g.is_subset(&gids)) {
        Ok(())
    } else {
        Err(Errno::Perm)
    }
}

proptest! {
    #[test]
    fn makeauth_matches_the_model(presented in prop::collection::vec(idset(), 0..4), req in idset()) {
        let refs: Vec<&IdSet> = presented.iter().collect();
        let got = makeauth(&refs, &req);
        prop_assert_eq!(got.as_ref().map(|_| ()).map_err(|e| *e), model(&presented, &req));
        if let Ok(made) = got {
            if req.is_empty() {
                // The union: every presented id, each vector a set.
                for s in &presented {
                    prop_assert!(s.euids.is_subset_of(&made.euids));
                    prop_assert!(s.agids.is_subset_of(&made.agids));
                }
                prop_assert!(made.euids.iter().all(|u| presented.iter().any(|s| s.euids.contains(u))));
            } else {
                // Exactly what was asked for, order and duplicates kept.
                prop_assert_eq!(made, req);
            }
        }
    }

    #[test]
    fn a_made_handle_never_exceeds_its_makers_without_root(presented in prop::collection::vec(idset(), 1..4), req in idset()) {
        let refs: Vec<&IdSet> = presented.iter().collect();
        let union = IdSet::union(refs.iter().copied());
        if let Ok(made) = makeauth(&refs, &req) {
            prop_assert!(union.is_root() || made.is_held_by(&union));
        }
    }

    #[test]
    fn makeauth_is_monotonic_in_what_is_presented(a in idset(), b in idset(), req in idset()) {
        // Presenting more handles never takes a permission away.
        if makeauth(&[&a], &req).is_ok() && !req.is_empty() {
            prop_assert!(makeauth(&[&a, &b], &req).is_ok());
        }
    }
}
