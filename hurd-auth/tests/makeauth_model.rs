//! Property tests: `makeauth` against a model in plain set algebra, as a
//! function and over RPC to a hosted auth server with several handles presented
//! in one call.

mod common;

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use common::*;
use hurd_auth::{AuthClient, IdSet, Limits, makeauth};
use hurd_ipc::Errno;
use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, PortName, RightType, UserIpc};
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

/// What one presented element is: a handle (by index into the handles made
/// for the case) or a port that is no handle.
#[derive(Clone, Copy, Debug)]
enum Other {
    Handle(usize),
    Stranger,
}

fn other() -> impl Strategy<Value = Other> {
    prop_oneof![
        8 => (0usize..4).prop_map(Other::Handle),
        1 => Just(Other::Stranger),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn makeauth_over_rpc_matches_the_model(
        handles in prop::collection::vec(idset(), 1..4),
        others in prop::collection::vec(other(), 0..5),
        req in idset(),
    ) {
        let rt = Runtime::new();
        let (auth_task, client) = (rt.task(), rt.task());
        let server = auth_server(&auth_task, Limits::default());
        let before = names(&rt, &auth_task);
        let names_of: Vec<PortName> =
            handles.iter().map(|h| give_handle(&server, h.clone(), &client)).collect();
        let stranger = client.port_allocate(RightType::Receive).expect("port");
        let stranger = client
            .give_right(stranger, Disposition::MakeSend, &client)
            .expect("send");
        let presented: Vec<Option<usize>> = others
            .iter()
            .map(|o| match o {
                Other::Handle(i) => Some(i % handles.len()),
                Other::Stranger => None,
            })
            .collect();
        let array: Vec<PortName> = presented
            .iter()
            .map(|p| p.map_or(stranger, |i| names_of[i]))
            .collect();
        // The handle called, then every presented one.
        let sets: Vec<IdSet> = core::iter::once(&handles[0])
            .chain(presented.iter().flatten().map(|&i| &handles[i]))
            .cloned()
            .collect();
        let expected = if presented.iter().any(Option::is_none) {
            Err(Errno::Inval)
        } else {
            model(&sets, &req)
        };

        let c = client.clone();
        let (first, r) = (names_of[0], req.clone());
        let call = thread::spawn(move || {
            let made = AuthClient::new(&c, first).makeauth(&array, &r)?;
            let ids = AuthClient::new(&c, made).getids();
            c.port_deallocate(made).expect("drop new handle");
            ids
        });
        while !call.is_finished() {
            server.run_until_idle(Duration::from_millis(2)).expect("serve");
        }
        let got = call.join().expect("client thread");
        prop_assert_eq!(
            got.as_ref().map(|_| ()).map_err(|e| Errno::of(*e)),
            expected.map_err(Some)
        );
        if let Ok(made) = got {
            let want = if req.is_empty() {
                IdSet::union(&sets)
            } else {
                req
            };
            prop_assert_eq!(made, want);
        }
        // The client kept its rights; once it drops them every handle dies and
        // the server's space is as it was: nothing received was kept.
        for &h in names_of.iter().chain([&stranger]) {
            prop_assert_eq!(client.port_get_refs(h, RightType::Send), Ok(1));
        }
        for &h in &names_of {
            client.port_deallocate(h).expect("drop handle");
        }
        pump_until(&server, || server.stats().handles == 0);
        prop_assert_eq!(names(&rt, &auth_task), before);
    }
}
