//! tmpfs as a state machine: random operations against a simple model of
//! paths, checked after every step (names, types, contents, link counts of
//! directories, space accounting: pages of 4 KiB, held only where written).

use std::collections::{BTreeMap, BTreeSet};

use hurd_ipc::Errno;
use hurd_trans::mode::{S_IFDIR, S_IFMT, S_IFREG};
use hurd_trans::netfs::{NodeId, Tree};
use hurd_trans::translators::tmpfs::Tmpfs;
use proptest::prelude::*;

#[derive(Clone, Debug, PartialEq)]
enum Entry {
    Dir,
    /// The contents and the pages written (and not truncated away).
    File(Vec<u8>, BTreeSet<u64>),
}

const PAGE: u64 = 4096;

/// The pages a write of `len` bytes at `offset` touches.
fn pages(offset: u64, len: u64) -> BTreeSet<u64> {
    if len == 0 {
        return BTreeSet::new();
    }
    (offset / PAGE..(offset + len).div_ceil(PAGE)).collect()
}

#[derive(Clone, Debug)]
enum Op {
    Create(usize, u8),
    Mkdir(usize, u8),
    Write(usize, u16, Vec<u8>),
    Truncate(usize, u16),
    Unlink(usize),
    Rename(usize, usize, u8),
}

const NAMES: [&str; 4] = ["a", "b", "c", "d"];
const LIMIT: u64 = 4 * PAGE;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<usize>(), 0u8..4).prop_map(|(d, n)| Op::Create(d, n)),
        (any::<usize>(), 0u8..4).prop_map(|(d, n)| Op::Mkdir(d, n)),
        (
            any::<usize>(),
            0u16..20000,
            proptest::collection::vec(any::<u8>(), 0..600)
        )
            .prop_map(|(f, o, d)| Op::Write(f, o, d)),
        (any::<usize>(), 0u16..20000).prop_map(|(f, s)| Op::Truncate(f, s)),
        any::<usize>().prop_map(Op::Unlink),
        (any::<usize>(), any::<usize>(), 0u8..4).prop_map(|(a, b, n)| Op::Rename(a, b, n)),
    ]
}

fn walk(t: &mut Tmpfs, path: &str) -> Result<NodeId, Errno> {
    let mut n = t.root();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        n = t.lookup(n, c.as_bytes())?;
    }
    Ok(n)
}

fn parent(p: &str) -> (&str, &str) {
    p.rsplit_once('/').unwrap_or(("", p))
}

fn join(d: &str, n: &str) -> String {
    if d.is_empty() {
        n.into()
    } else {
        format!("{d}/{n}")
    }
}

struct Model {
    entries: BTreeMap<String, Entry>,
}

impl Model {
    fn dirs(&self) -> Vec<String> {
        std::iter::once(String::new())
            .chain(
                self.entries
                    .iter()
                    .filter(|(_, e)| **e == Entry::Dir)
                    .map(|(p, _)| p.clone()),
            )
            .collect()
    }
    fn files(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::File(..)))
            .map(|(p, _)| p.clone())
            .collect()
    }
    fn all(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }
    fn used(&self) -> u64 {
        self.entries
            .values()
            .map(|e| match e {
                Entry::File(_, p) => p.len() as u64 * PAGE,
                _ => 0,
            })
            .sum()
    }
    fn children(&self, dir: &str) -> Vec<String> {
        self.entries
            .keys()
            .filter(|p| parent(p).0 == dir)
            .map(|p| parent(p).1.to_string())
            .collect()
    }
}

fn pick(v: &[String], i: usize) -> Option<String> {
    if v.is_empty() {
        None
    } else {
        Some(v[i % v.len()].clone())
    }
}

fn apply(t: &mut Tmpfs, m: &mut Model, op: &Op) {
    match op {
        Op::Create(d, n) | Op::Mkdir(d, n) => {
            let dir = pick(&m.dirs(), *d).unwrap_or_default();
            let p = join(&dir, NAMES[*n as usize]);
            let is_dir = matches!(op, Op::Mkdir(..));
            let mode = if is_dir {
                S_IFDIR | 0o755
            } else {
                S_IFREG | 0o644
            };
            let dn = walk(t, &dir).expect("dir");
            let r = t.create(dn, Some(NAMES[*n as usize].as_bytes()), mode, 1, 1);
            match m.entries.entry(p) {
                std::collections::btree_map::Entry::Occupied(_) => {
                    assert_eq!(r.err(), Some(Errno::Exist));
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    r.expect("create");
                    v.insert(if is_dir {
                        Entry::Dir
                    } else {
                        Entry::File(vec![], BTreeSet::new())
                    });
                }
            }
        }
        Op::Write(f, off, data) => {
            let Some(p) = pick(&m.files(), *f) else {
                return;
            };
            let n = walk(t, &p).expect("file");
            let Some(Entry::File(cur, held)) = m.entries.get(&p).cloned() else {
                return;
            };
            let end = *off as usize + data.len();
            let touched = pages(u64::from(*off), data.len() as u64);
            let grow = touched.difference(&held).count() as u64 * PAGE;
            let r = t.write(n, u64::from(*off), data);
            if m.used() + grow > LIMIT {
                assert_eq!(r, Err(Errno::NoSpc));
            } else {
                assert_eq!(r, Ok(data.len()));
                let mut d = cur;
                if d.len() < end {
                    d.resize(end, 0);
                }
                d[*off as usize..end].copy_from_slice(data);
                m.entries
                    .insert(p, Entry::File(d, held.union(&touched).copied().collect()));
            }
        }
        Op::Truncate(f, size) => {
            let Some(p) = pick(&m.files(), *f) else {
                return;
            };
            let n = walk(t, &p).expect("file");
            let Some(Entry::File(mut d, mut held)) = m.entries.get(&p).cloned() else {
                return;
            };
            // Growing makes a hole: no space, never ENOSPC.
            t.set_size(n, u64::from(*size)).expect("truncate");
            d.resize(*size as usize, 0);
            held.retain(|i| *i < u64::from(*size).div_ceil(PAGE));
            m.entries.insert(p, Entry::File(d, held));
        }
        Op::Unlink(i) => {
            let Some(p) = pick(&m.all(), *i) else { return };
            let (dir, name) = parent(&p);
            let dn = walk(t, dir).expect("dir");
            let r = t.unlink(dn, name.as_bytes());
            if m.entries[&p] == Entry::Dir && !m.children(&p).is_empty() {
                assert_eq!(r, Err(Errno::NotEmpty));
            } else {
                r.expect("unlink");
                m.entries.remove(&p);
            }
        }
        Op::Rename(a, b, n) => {
            let Some(from) = pick(&m.all(), *a) else {
                return;
            };
            let to_dir = pick(&m.dirs(), *b).unwrap_or_default();
            let to = join(&to_dir, NAMES[*n as usize]);
            let (fd, fname) = parent(&from);
            let (fdn, tdn) = (walk(t, fd).expect("from"), walk(t, &to_dir).expect("to"));
            let r = t.rename(
                fdn,
                fname.as_bytes(),
                tdn,
                NAMES[*n as usize].as_bytes(),
                false,
            );
            let moving_dir = m.entries[&from] == Entry::Dir;
            let into_itself =
                moving_dir && (to_dir == from || to_dir.starts_with(&format!("{from}/")));
            let expect: Result<(), Errno> = if from == to {
                Ok(())
            } else if into_itself {
                Err(Errno::Inval)
            } else {
                match (m.entries.get(&to), moving_dir) {
                    (Some(Entry::Dir), true) if !m.children(&to).is_empty() => Err(Errno::NotEmpty),
                    (Some(Entry::Dir), false) => Err(Errno::IsDir),
                    (Some(Entry::File(..)), true) => Err(Errno::NotDir),
                    _ => Ok(()),
                }
            };
            assert_eq!(r, expect, "rename {from} -> {to}");
            if r.is_ok() && from != to {
                m.entries.remove(&to);
                let moved: Vec<(String, Entry)> = m
                    .entries
                    .iter()
                    .filter(|(p, _)| **p == from || p.starts_with(&format!("{from}/")))
                    .map(|(p, e)| (p.clone(), e.clone()))
                    .collect();
                for (p, e) in moved {
                    m.entries.remove(&p);
                    m.entries.insert(format!("{to}{}", &p[from.len()..]), e);
                }
            }
        }
    }
}

fn check(t: &mut Tmpfs, m: &Model) {
    for (p, e) in &m.entries {
        let n = walk(t, p).expect("present");
        let st = t.stat(n).expect("stat");
        match e {
            Entry::Dir => {
                assert_eq!(st.mode & S_IFMT, S_IFDIR, "{p}");
                let subdirs = m
                    .children(p)
                    .iter()
                    .filter(|c| m.entries[&join(p, c)] == Entry::Dir)
                    .count();
                assert_eq!(st.nlink as usize, 2 + subdirs, "nlink of {p}");
            }
            Entry::File(d, held) => {
                assert_eq!(st.mode & S_IFMT, S_IFREG, "{p}");
                assert_eq!(st.size, d.len() as u64);
                assert_eq!(st.blocks, held.len() as u64 * (PAGE / 512), "{p}");
                assert_eq!(&t.read(n, 0, 1 << 16).expect("read"), d, "{p}");
            }
        }
    }
    for d in m.dirs() {
        let n = walk(t, &d).expect("dir");
        let mut got: Vec<String> = t
            .readdir(n)
            .expect("readdir")
            .into_iter()
            .skip(2)
            .map(|e| e.name.to_string())
            .collect();
        got.sort();
        let mut want = m.children(&d);
        want.sort();
        assert_eq!(got, want, "entries of {d:?}");
    }
    assert_eq!(t.used(), m.used());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn tmpfs_follows_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let mut t = Tmpfs::new(0, 0, 0o755, LIMIT);
        let mut m = Model { entries: BTreeMap::new() };
        for o in &ops {
            apply(&mut t, &mut m, o);
            check(&mut t, &m);
        }
    }
}
