//! The message-id table: names from `interface!` definitions, replies,
//! skipped ids, overlapping interfaces and ids from anywhere.

use hurd_ipc::msgids::{ArgKind, MsgIds, RoutineKind};
use hurd_ipc::{OolItem, PortArray, PortItem, interface};

interface! {
    /// A protocol of many kinds of arguments.
    pub mod things: subsystem 4200 prefix "thing_" {
        /// Every kind of argument.
        routine all(a: u32, b: i32, c: u64, d: i64, e: bool, f: Vec<u8>, g: String,
            h: Vec<u32>, i: Vec<u16>, j: PortItem, k: PortArray, l: OolItem) -> (n: u32);
        skip gone();
        /// No reply.
        simpleroutine tell(what: String);
    }
}

interface! {
    /// Overlaps `things` at its withdrawn id, as hurd-vm's control calls
    /// overlap `mach.defs`.
    pub mod patch: subsystem 4201 {
        /// The routine at the withdrawn id.
        routine mended() -> (ok: bool);
        /// Clashes with `thing_tell`.
        routine clash();
    }
}

#[test]
fn names_arguments_and_kinds() {
    let mut ids = MsgIds::new();
    ids.add(&things::DESCRIPTION);
    ids.add(&things::DESCRIPTION);
    assert_eq!(ids.subsystems().len(), 1, "added once");
    assert_eq!(things::DESCRIPTION.end(), things::END);

    let all = ids.lookup(4200).expect("named");
    assert_eq!(all.to_string(), "thing_all");
    assert_eq!(all.subsystem.name, "things");
    assert!(!all.reply);
    let kinds: Vec<ArgKind> = all.routine.args.iter().map(|a| a.kind).collect();
    use ArgKind::*;
    assert_eq!(
        kinds,
        [
            U32, I32, U64, I64, Bool, Bytes, Text, U32Array, U16Array, Port, Ports, Ool
        ]
    );
    let names: Vec<&str> = all.routine.args.iter().map(|a| a.name).collect();
    assert_eq!(
        names,
        ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]
    );
    assert_eq!(all.routine.results[0].name, "n");

    let reply = ids.lookup(4300).expect("named");
    assert!(reply.reply);
    assert_eq!(reply.to_string(), "thing_all-reply");

    assert_eq!(
        ids.lookup(4202).expect("named").routine.kind,
        RoutineKind::SimpleRoutine
    );
    assert!(ids.lookup(4302).is_none(), "a simpleroutine has no reply");
    assert!(ids.lookup(4201).is_none(), "a skipped id names nothing");
    assert_eq!(
        things::DESCRIPTION.routine(4201).expect("named").kind,
        RoutineKind::Skip
    );
    assert_eq!(
        things::DESCRIPTION.routine(4201).expect("named").name,
        "thing_gone"
    );
}

#[test]
fn overlaps_prefer_routines_then_the_first_added() {
    let ids = MsgIds::with(&[&[&things::DESCRIPTION, &patch::DESCRIPTION]]);
    assert_eq!(ids.lookup(4201).expect("named").to_string(), "mended");
    assert_eq!(ids.lookup(4301).expect("named").to_string(), "mended-reply");
    assert_eq!(ids.lookup(4202).expect("named").to_string(), "thing_tell");
    // The request table alone says which routine a reply id answers: 4302
    // would be `clash`'s reply if `thing_tell` did not hold 4202.
    assert!(ids.lookup(4302).is_none());
    let other = MsgIds::with(&[&[&patch::DESCRIPTION, &things::DESCRIPTION]]);
    assert_eq!(other.lookup(4202).expect("named").to_string(), "clash");
    assert_eq!(
        other.lookup(4302).expect("named").to_string(),
        "clash-reply"
    );
}

#[test]
fn any_id_is_answered() {
    let ids = MsgIds::with(&[&[&things::DESCRIPTION, &patch::DESCRIPTION]]);
    for id in [
        i32::MIN,
        i32::MIN + 99,
        -4200,
        -1,
        0,
        99,
        100,
        4199,
        4203,
        4299,
        i32::MAX - 1,
        i32::MAX,
    ] {
        assert!(ids.lookup(id).is_none(), "{id}");
    }
    // An id with an even hundreds digit is not taken for a reply (rpctrace's
    // guess), unless the caller knows it is one.
    let low = MsgIds::with(&[&[&patch::DESCRIPTION]]);
    assert_eq!(low.lookup(4202).expect("named").to_string(), "clash");
    assert!(low.lookup(4402).is_none());
    assert!(low.lookup(4302).is_some());
    assert!(ids.reply(4100).is_none());
    assert!(MsgIds::new().lookup(4200).is_none());
}
