//! The descriptor table and the address space against simple models.
#![allow(clippy::unwrap_used)]

use linux_abi::Errno;
use linux_abi::flags::{PROT_EXEC, PROT_READ, PROT_WRITE};
use linux_emulator::fdtable::FdTable;
use linux_emulator::memory::{AddressSpace, Backing, BrkChange, Layout, PAGE};
use proptest::prelude::*;

#[test]
fn descriptors_are_allocated_lowest_first() {
    let mut t: FdTable<&str> = FdTable::new();
    assert_eq!(t.insert("stdin", false), Ok(0));
    assert_eq!(t.insert("stdout", false), Ok(1));
    assert_eq!(t.insert("stderr", false), Ok(2));
    assert_eq!(t.close(0).unwrap().file, "stdin");
    assert_eq!(t.insert("file", true), Ok(0), "the lowest free number");
    assert_eq!(t.dup(1, 0, false), Ok(3));
    assert_eq!(t.dup(1, 10, true), Ok(10), "F_DUPFD with a minimum");
    assert!(t.get(10).unwrap().cloexec);
    assert_eq!(t.get(5), Err(Errno::Badf));
    assert_eq!(t.get(-1), Err(Errno::Badf));
    assert_eq!(t.close(7), Err(Errno::Badf));
    assert_eq!(t.dup(42, 0, false), Err(Errno::Badf));
    assert_eq!(
        t.dup(1, 1024, false),
        Err(Errno::Inval),
        "minimum at the limit"
    );
    // dup2 replaces and hands back what it replaced.
    let old = t.dup2(1, 0, false, false).unwrap().unwrap();
    assert_eq!(old.file, "file");
    assert_eq!(t.get(0).unwrap().file, "stdout");
    assert_eq!(
        t.dup2(1, 1, false, false),
        Ok(None),
        "dup2(fd, fd) is a no-op"
    );
    assert_eq!(
        t.dup2(1, 1, false, true),
        Err(Errno::Inval),
        "dup3(fd, fd) is EINVAL"
    );
    assert_eq!(t.dup2(1, 5000, false, false), Err(Errno::Badf));
    assert_eq!(t.dup2(1, -1, false, false), Err(Errno::Badf));
    // exec keeps what is not close-on-exec.
    let (keep, closed) = t.split_for_exec();
    assert_eq!(
        keep,
        vec![(0, "stdout"), (1, "stdout"), (2, "stderr"), (3, "stdout")]
    );
    assert_eq!(closed, vec!["stdout"]);
    assert_eq!(t.len(), 4);
}

#[test]
fn the_limit_is_enforced() {
    let mut t: FdTable<u32> = FdTable::new();
    t.set_limit(3).unwrap();
    for i in 0..3 {
        assert_eq!(t.insert(i, false), Ok(i as i32));
    }
    assert_eq!(
        t.insert(9, false),
        Err((Errno::Mfile, 9)),
        "the file is handed back"
    );
    assert_eq!(t.dup(0, 0, false), Err(Errno::Mfile));
    assert_eq!(t.set_limit(usize::MAX), Err(Errno::Perm));
}

proptest! {
    #[test]
    fn descriptor_table_matches_a_model(ops in proptest::collection::vec((0u8..5, 0i32..12, 0i32..12), 0..200)) {
        let mut t: FdTable<u32> = FdTable::new();
        t.set_limit(10).unwrap();
        let mut model: Vec<Option<u32>> = vec![None; 10];
        let mut next = 0u32;
        for (op, a, b) in ops {
            match op {
                0 => {
                    next += 1;
                    let want = model.iter().position(Option::is_none);
                    match (t.insert(next, false), want) {
                        (Ok(fd), Some(w)) => { prop_assert_eq!(fd as usize, w); model[w] = Some(next); }
                        (Err((e, _)), None) => prop_assert_eq!(e, Errno::Mfile),
                        (got, want) => prop_assert!(false, "insert: {:?} vs {:?}", got.map_err(|e| e.0), want),
                    }
                }
                1 => {
                    let want = model.get(a as usize).copied().flatten();
                    match t.close(a) {
                        Ok(e) => { prop_assert_eq!(Some(e.file), want); model[a as usize] = None; }
                        Err(e) => { prop_assert_eq!(e, Errno::Badf); prop_assert!(want.is_none()); }
                    }
                }
                2 => {
                    let src = model.get(a as usize).copied().flatten();
                    match t.dup(a, b, false) {
                        Ok(fd) => {
                            prop_assert!(fd >= b);
                            prop_assert!(model[fd as usize].is_none());
                            prop_assert!((b as usize..fd as usize).all(|i| model[i].is_some()));
                            model[fd as usize] = src;
                        }
                        Err(Errno::Badf) => prop_assert!(src.is_none()),
                        Err(Errno::Inval) => prop_assert!(b >= 10),
                        Err(Errno::Mfile) => prop_assert!(model[b as usize..].iter().all(Option::is_some)),
                        Err(e) => prop_assert!(false, "dup: {}", e),
                    }
                }
                3 => {
                    let src = model.get(a as usize).copied().flatten();
                    match t.dup2(a, b, false, false) {
                        Ok(_) => { prop_assert!(src.is_some()); model[b as usize] = src; }
                        Err(e) => { prop_assert_eq!(e, Errno::Badf); prop_assert!(src.is_none() || b >= 10); }
                    }
                }
                _ => {
                    let open: Vec<(i32, u32)> = t.iter().map(|(fd, e)| (fd, e.file)).collect();
                    let want: Vec<(i32, u32)> = model.iter().enumerate().filter_map(|(i, f)| f.map(|f| (i as i32, f))).collect();
                    prop_assert_eq!(open, want);
                }
            }
        }
    }
}

/// A file mapping's backing: the file offset of the region's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileAt(u64);

impl Backing for FileAt {
    fn advance(&self, delta: u64) -> Self {
        FileAt(self.0 + delta)
    }
}

const LAYOUT: Layout = Layout {
    min: 0x1_0000,
    mmap_top: 0x7e00_0000_0000,
    user_end: 0x7fff_ffff_f000,
    reserved: (0x7e00_0000_0000, 0x7e00_4000_0000),
};

#[test]
fn mmap_goes_top_down_and_fixed_replaces() {
    let mut m: AddressSpace<FileAt> = AddressSpace::new(LAYOUT, 0x50_0000);
    let a = m.map(0, 3 * PAGE, false, false, 3, FileAt(0)).unwrap();
    assert_eq!(a.addr, LAYOUT.mmap_top - 3 * PAGE);
    let b = m.map(0, 1, false, false, 1, FileAt(0)).unwrap();
    assert_eq!(b.addr, a.addr - PAGE, "the next one below");
    // A fixed mapping over the middle page of `a` replaces just that page.
    let f = m
        .map(a.addr + PAGE, PAGE, true, false, 7, FileAt(100))
        .unwrap();
    assert_eq!(f.replaced.len(), 1);
    assert_eq!(
        (f.replaced[0].start, f.replaced[0].end),
        (a.addr + PAGE, a.addr + 2 * PAGE)
    );
    assert_eq!(
        f.replaced[0].backing,
        FileAt(PAGE),
        "the replaced piece's file offset"
    );
    let regions: Vec<_> = m.regions().map(|r| (r.start, r.end, r.backing)).collect();
    assert!(regions.contains(&(a.addr, a.addr + PAGE, FileAt(0))));
    assert!(regions.contains(&(a.addr + PAGE, a.addr + 2 * PAGE, FileAt(100))));
    assert!(
        regions.contains(&(a.addr + 2 * PAGE, a.addr + 3 * PAGE, FileAt(2 * PAGE))),
        "the right part keeps its offset"
    );
    assert_eq!(
        m.map(a.addr, PAGE, false, true, 1, FileAt(0)),
        Err(Errno::Exist)
    );
    assert_eq!(
        m.map(LAYOUT.reserved.0, PAGE, true, false, 1, FileAt(0)),
        Err(Errno::Nomem),
        "the emulator's range"
    );
    assert_eq!(
        m.map(0x1000, PAGE, true, false, 1, FileAt(0)),
        Err(Errno::Nomem),
        "below mmap_min_addr"
    );
    assert_eq!(
        m.map(0x10001, PAGE, true, false, 1, FileAt(0)),
        Err(Errno::Inval)
    );
    assert_eq!(m.map(0, 0, false, false, 1, FileAt(0)), Err(Errno::Inval));
    // A free hint is honoured.
    let h = m
        .map(0x2000_0000, PAGE, false, false, 1, FileAt(0))
        .unwrap();
    assert_eq!(h.addr, 0x2000_0000);
}

#[test]
fn accessible_ranges_are_covered_by_regions_with_the_protection() {
    let mut space: AddressSpace<()> = AddressSpace::new(LAYOUT, 0x50_0000);
    assert!(space.accessible(0x40_0000, 0, PROT_READ));
    assert!(!space.accessible(0x40_0000, 1, PROT_READ));
    space
        .map(0x40_0000, 0x2000, true, false, PROT_READ | PROT_EXEC, ())
        .unwrap();
    space
        .map(0x40_2000, 0x1000, true, false, PROT_READ | PROT_WRITE, ())
        .unwrap();
    // Across two regions: readable; writable only in the second.
    assert!(space.accessible(0x40_1ff0, 0x20, PROT_READ));
    assert!(!space.accessible(0x40_1ff0, 0x20, PROT_WRITE));
    assert!(space.accessible(0x40_2000, 0x1000, PROT_WRITE));
    // Past the last byte, and a wrapping range.
    assert!(!space.accessible(0x40_2ff8, 0x10, PROT_READ));
    assert!(!space.accessible(u64::MAX - 4, 8, PROT_READ));
    // The heap, once the break moved.
    assert!(!space.accessible(0x50_0000, 8, PROT_WRITE));
    space.set_brk(0x50_1800);
    assert!(space.accessible(0x50_0000, 0x2000, PROT_READ | PROT_WRITE));
    assert!(!space.accessible(0x50_0000, 0x2001, PROT_READ));
    assert!(!space.accessible(0x50_0000, 8, PROT_EXEC));
    // A fixed mapping over the heap ends the heap there, and is what it
    // says.
    space.map(0x50_1000, 0x1000, true, false, 0, ()).unwrap();
    assert!(space.accessible(0x50_0000, 0x1000, PROT_WRITE));
    assert!(!space.accessible(0x50_0ff8, 0x10, PROT_READ));
    // Unmapped again: no longer.
    space.unmap(0x40_2000, 0x1000).unwrap();
    assert!(!space.accessible(0x40_2000, 1, PROT_READ));
}

#[test]
fn munmap_and_mprotect_split() {
    let mut m: AddressSpace<()> = AddressSpace::new(LAYOUT, 0x50_0000);
    let a = m
        .map(0x1000_0000, 4 * PAGE, true, false, 3, ())
        .unwrap()
        .addr;
    let gone = m.unmap(a + PAGE, PAGE).unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(m.regions().count(), 2);
    assert_eq!(
        m.protect(a, 4 * PAGE, 1),
        Err(Errno::Nomem),
        "a hole in the range"
    );
    assert_eq!(
        m.regions().map(|r| r.prot).collect::<Vec<_>>(),
        vec![3, 3],
        "nothing changed"
    );
    m.protect(a + 2 * PAGE, PAGE, 1).unwrap();
    let prots: Vec<_> = m.regions().map(|r| (r.start - a, r.prot)).collect();
    assert_eq!(prots, vec![(0, 3), (2 * PAGE, 1), (3 * PAGE, 3)]);
    assert_eq!(m.unmap(a + 1, PAGE), Err(Errno::Inval));
    assert_eq!(
        m.unmap(0x7fff_0000, 8 * PAGE).unwrap(),
        vec![],
        "unmapping a hole is fine"
    );
}

#[test]
fn brk_grows_until_a_mapping() {
    let mut m: AddressSpace<()> = AddressSpace::new(LAYOUT, 0x40_1234);
    assert_eq!(
        m.brk(),
        0x40_2000,
        "the break starts page-aligned after the image"
    );
    assert_eq!(m.set_brk(0), (0x40_2000, None), "brk(0) asks");
    assert_eq!(
        m.set_brk(0x40_3010),
        (0x40_3010, Some(BrkChange::Grow(0x40_2000, 0x40_4000)))
    );
    assert_eq!(m.set_brk(0x40_3020), (0x40_3020, None), "within the page");
    m.map(0x50_0000, PAGE, true, false, 3, ()).unwrap();
    assert_eq!(
        m.set_brk(0x60_0000),
        (0x40_3020, None),
        "blocked by a mapping: the old break"
    );
    assert_eq!(
        m.set_brk(0x40_2000),
        (0x40_2000, Some(BrkChange::Shrink(0x40_2000, 0x40_4000)))
    );
    // mmap never lands on the heap.
    let mut n: AddressSpace<()> = AddressSpace::new(
        Layout {
            mmap_top: 0x40_5000,
            ..LAYOUT
        },
        0x40_0000,
    );
    n.set_brk(0x40_3000);
    let r = n.map(0, PAGE, false, false, 3, ()).unwrap();
    assert!(
        r.addr >= 0x40_3000 || r.addr + PAGE <= 0x40_0000,
        "{:#x}",
        r.addr
    );
}

proptest! {
    #[test]
    fn regions_never_overlap(ops in proptest::collection::vec((0u8..4, 0u64..64, 1u64..8), 0..100)) {
        let layout = Layout { min: 0x1_0000, mmap_top: 0x1_0000 + 64 * PAGE, user_end: 0x1_0000 + 64 * PAGE, reserved: (0, 0) };
        let mut m: AddressSpace<FileAt> = AddressSpace::new(layout, layout.user_end);
        let mut pages = [None::<u64>; 64];
        for (op, at, len) in ops {
            let addr = layout.min + at * PAGE;
            let len = len * PAGE;
            match op {
                0 => {
                    if let Ok(r) = m.map(addr, len, true, false, 3, FileAt(addr)) {
                        for p in 0..len / PAGE {
                            pages[((r.addr - layout.min) / PAGE + p) as usize] = Some(addr + p * PAGE);
                        }
                    }
                }
                1 => {
                    if let Ok(r) = m.map(0, len, false, false, 3, FileAt(7 << 40)) {
                        for p in 0..len / PAGE {
                            let i = ((r.addr - layout.min) / PAGE + p) as usize;
                            prop_assert!(pages[i].is_none(), "a free-range mapping landed on a used page");
                            pages[i] = Some((7 << 40) + p * PAGE);
                        }
                    }
                }
                2 => {
                    if m.unmap(addr, len).is_ok() {
                        for p in 0..len / PAGE {
                            if let Some(slot) = pages.get_mut(((addr - layout.min) / PAGE + p) as usize) { *slot = None; }
                        }
                    }
                }
                _ => { let _ = m.protect(addr, len, 1); }
            }
            let mut seen = [None::<u64>; 64];
            let mut last_end = 0;
            for r in m.regions() {
                prop_assert!(r.start >= last_end && r.start < r.end);
                last_end = r.end;
                for p in 0..(r.end - r.start) / PAGE {
                    seen[((r.start - layout.min) / PAGE + p) as usize] = Some(r.backing.0 + p * PAGE);
                }
            }
            prop_assert_eq!(seen, pages, "every page backed by what was mapped there");
        }
    }
}
