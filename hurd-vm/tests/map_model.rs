//! Property test: random allocate / write / read / fork / protect / inherit /
//! deallocate sequences on address maps, checked against a flat-memory model
//! in which every page is a cell that maps share (share inheritance) or copy
//! (copy inheritance). Pageouts to a default pager the harness plays are
//! mixed in: they must change nothing the tasks see.

use std::collections::BTreeMap;

mod calls;

use hurd_ipc::PortName;
use hurd_vm::protocol::{memory_object, memory_object_default};
use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{KernelCall, MapId, PAGE_SIZE, Stall, Vm, VmError, VmInherit, VmProt};
use proptest::prelude::*;

const BASE: u64 = 0x10_0000;
const WINDOW: u64 = 24; // pages
const MAX_MAPS: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    Allocate {
        map: usize,
        page: u64,
        pages: u64,
        anywhere: bool,
    },
    Deallocate {
        map: usize,
        page: u64,
        pages: u64,
    },
    Write {
        map: usize,
        page: u64,
        offset: u64,
        len: u64,
        val: u8,
    },
    Read {
        map: usize,
        page: u64,
        offset: u64,
    },
    Protect {
        map: usize,
        page: u64,
        pages: u64,
        set_max: bool,
        prot: u32,
    },
    Inherit {
        map: usize,
        page: u64,
        pages: u64,
        inherit: u32,
    },
    Fork {
        map: usize,
    },
    Pageout {
        map: usize,
        page: u64,
        pages: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let map = 0..MAX_MAPS;
    let page = 0..WINDOW;
    prop_oneof![
        3 => (map.clone(), page.clone(), 1..5u64, any::<bool>())
            .prop_map(|(map, page, pages, anywhere)| Op::Allocate { map, page, pages, anywhere }),
        1 => (map.clone(), page.clone(), 1..5u64)
            .prop_map(|(map, page, pages)| Op::Deallocate { map, page, pages }),
        6 => (map.clone(), page.clone(), 0..PAGE_SIZE, 1..64u64, any::<u8>())
            .prop_map(|(map, page, offset, len, val)| Op::Write { map, page, offset, len, val }),
        3 => (map.clone(), page.clone(), 0..PAGE_SIZE)
            .prop_map(|(map, page, offset)| Op::Read { map, page, offset }),
        3 => (map.clone(), page.clone(), 1..4u64, prop::bool::weighted(0.3), prop::sample::select(vec![0u32, 1, 3, 5, 7]))
            .prop_map(|(map, page, pages, set_max, prot)| Op::Protect { map, page, pages, set_max, prot }),
        2 => (map.clone(), page.clone(), 1..4u64, 0..3u32)
            .prop_map(|(map, page, pages, inherit)| Op::Inherit { map, page, pages, inherit }),
        2 => map.clone().prop_map(|map| Op::Fork { map }),
        2 => (map, page, 1..8u64)
            .prop_map(|(map, page, pages)| Op::Pageout { map, page, pages }),
    ]
}

/// A page of the model: a shared cell of bytes and the region's attributes.
#[derive(Clone, Copy, Debug)]
struct MPage {
    cell: usize,
    prot: VmProt,
    max_prot: VmProt,
    inherit: VmInherit,
}

#[derive(Default)]
struct Model {
    cells: Vec<Vec<u8>>,
    maps: Vec<BTreeMap<u64, MPage>>,
}

impl Model {
    fn new_cell(&mut self, data: Vec<u8>) -> usize {
        self.cells.push(data);
        self.cells.len() - 1
    }

    fn free(&self, m: usize, first: u64, n: u64) -> bool {
        first >= 1 && (first..first + n).all(|p| !self.maps[m].contains_key(&p))
    }
}

fn page_of(addr: u64) -> u64 {
    addr / PAGE_SIZE
}

const DEFAULT_PAGER: PortName = PortName(1);

struct Harness {
    vm: Vm<SoftMmu, SoftPhys>,
    maps: Vec<MapId>,
    model: Model,
    /// The default pager's store, by memory object port and offset.
    swap: BTreeMap<(PortName, u64), Vec<u8>>,
    next_port: u32,
}

impl Harness {
    fn new() -> Harness {
        let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(4096));
        vm.set_default_pager(Some(DEFAULT_PAGER));
        let m = vm.create_map().expect("map");
        Harness {
            vm,
            maps: vec![m],
            model: Model {
                cells: Vec::new(),
                maps: vec![BTreeMap::new()],
            },
            swap: BTreeMap::new(),
            next_port: 1000,
        }
    }

    /// Plays the default pager: answers what the kernel sent.
    fn serve_pager(&mut self) {
        loop {
            let out = self.vm.take_outgoing();
            if out.is_empty() {
                return;
            }
            for o in out {
                let mo = o.to;
                match o.call {
                    KernelCall::Default(memory_object_default::Call::create { .. }) => {
                        assert_eq!(mo, DEFAULT_PAGER)
                    }
                    KernelCall::Default(memory_object_default::Call::data_initialize {
                        offset,
                        data,
                        ..
                    }) => {
                        assert!(self.swap.insert((mo, offset), data.data).is_none());
                    }
                    KernelCall::Object(memory_object::Call::data_return {
                        offset, data, ..
                    }) => {
                        self.swap.insert((mo, offset), data.data);
                    }
                    KernelCall::Object(memory_object::Call::terminate { .. }) => {
                        self.swap.retain(|(p, _), _| *p != mo);
                    }
                    KernelCall::Object(memory_object::Call::data_request {
                        control,
                        offset,
                        ..
                    }) => {
                        let control = control.name;
                        let msg = match self.swap.get(&(mo, offset)) {
                            Some(d) => {
                                calls::data_supply(offset, d.clone(), 0, false, PortName::NULL)
                            }
                            None => calls::data_unavailable(offset, PAGE_SIZE),
                        };
                        assert_eq!(self.vm.handle_pager_message(control, msg), Ok(()));
                    }
                    m => panic!("unexpected {m:?}"),
                }
            }
        }
    }

    fn load(&mut self, m: usize, addr: u64, buf: &mut [u8]) -> Result<(), VmError> {
        for _ in 0..8 {
            match self.vm.load(self.maps[m], addr, buf) {
                Ok(()) => return Ok(()),
                Err(Stall::Error(e)) => return Err(e),
                Err(Stall::Wait(_)) => self.serve_pager(),
            }
        }
        panic!("load at {addr:#x} keeps waiting");
    }

    fn store(&mut self, m: usize, addr: u64, data: &[u8]) -> Result<(), VmError> {
        for _ in 0..8 {
            match self.vm.store(self.maps[m], addr, data) {
                Ok(()) => return Ok(()),
                Err(Stall::Error(e)) => return Err(e),
                Err(Stall::Wait(_)) => self.serve_pager(),
            }
        }
        panic!("store at {addr:#x} keeps waiting");
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let nmaps = self.maps.len();
        match *op {
            Op::Allocate {
                map,
                page,
                pages,
                anywhere,
            } => {
                let m = map % nmaps;
                let addr = BASE + page * PAGE_SIZE;
                let got = self
                    .vm
                    .allocate(self.maps[m], addr, pages * PAGE_SIZE, anywhere);
                let first = page_of(addr);
                let want = if anywhere {
                    let mut a = first;
                    while !self.model.free(m, a, pages) {
                        a += 1;
                    }
                    Ok(a)
                } else if self.model.free(m, first, pages) {
                    Ok(first)
                } else {
                    Err(VmError::NoSpace)
                };
                prop_assert_eq!(got.map(page_of), want, "{:?}", op);
                if let Ok(a) = want {
                    for p in a..a + pages {
                        let cell = self.model.new_cell(vec![0; PAGE_SIZE as usize]);
                        self.model.maps[m].insert(
                            p,
                            MPage {
                                cell,
                                prot: VmProt::DEFAULT,
                                max_prot: VmProt::ALL,
                                inherit: VmInherit::Copy,
                            },
                        );
                    }
                }
            }
            Op::Deallocate { map, page, pages } => {
                let m = map % nmaps;
                let addr = BASE + page * PAGE_SIZE;
                prop_assert_eq!(
                    self.vm.deallocate(self.maps[m], addr, pages * PAGE_SIZE),
                    Ok(())
                );
                for p in page_of(addr)..page_of(addr) + pages {
                    self.model.maps[m].remove(&p);
                }
            }
            Op::Write {
                map,
                page,
                offset,
                len,
                val,
            } => {
                let m = map % nmaps;
                let len = len.min(PAGE_SIZE - offset);
                let addr = BASE + page * PAGE_SIZE + offset;
                let data: Vec<u8> = (0..len).map(|i| val.wrapping_add(i as u8)).collect();
                let got = self.store(m, addr, &data);
                let want = match self.model.maps[m].get(&page_of(addr)) {
                    None => Err(VmError::InvalidAddress),
                    Some(p) if !p.prot.contains(VmProt::WRITE) => Err(VmError::ProtectionFailure),
                    Some(p) => {
                        let cell = &mut self.model.cells[p.cell];
                        cell[offset as usize..(offset + len) as usize].copy_from_slice(&data);
                        Ok(())
                    }
                };
                prop_assert_eq!(got, want, "{:?}", op);
            }
            Op::Read { map, page, offset } => {
                let m = map % nmaps;
                let addr = BASE + page * PAGE_SIZE + offset;
                let mut b = [0u8; 1];
                let got = self.load(m, addr, &mut b).map(|()| b[0]);
                let want = match self.model.maps[m].get(&page_of(addr)) {
                    None => Err(VmError::InvalidAddress),
                    Some(p) if !p.prot.contains(VmProt::READ) => Err(VmError::ProtectionFailure),
                    Some(p) => Ok(self.model.cells[p.cell][offset as usize]),
                };
                prop_assert_eq!(got, want, "{:?}", op);
            }
            Op::Protect {
                map,
                page,
                pages,
                set_max,
                prot,
            } => {
                // Mach's vm_map_protect: the new protection must lie within
                // every region's maximum, or nothing changes; `set_max`
                // makes it the new maximum (which can only go down) and
                // lowers the current protection to fit.
                let m = map % nmaps;
                let addr = BASE + page * PAGE_SIZE;
                let prot = VmProt::from_bits_truncate(prot);
                let got = self
                    .vm
                    .protect(self.maps[m], addr, pages * PAGE_SIZE, set_max, prot);
                let first = page_of(addr);
                let range = first..first + pages;
                let covered = range.clone().all(|p| self.model.maps[m].contains_key(&p));
                let within = range
                    .clone()
                    .filter_map(|p| self.model.maps[m].get(&p))
                    .all(|mp| mp.max_prot.contains(prot));
                if !covered {
                    prop_assert_eq!(got, Err(VmError::InvalidAddress), "{:?}", op);
                } else if !within {
                    prop_assert_eq!(got, Err(VmError::ProtectionFailure), "{:?}", op);
                } else {
                    prop_assert_eq!(got, Ok(()), "{:?}", op);
                    for p in range {
                        if let Some(mp) = self.model.maps[m].get_mut(&p) {
                            if set_max {
                                mp.max_prot = prot;
                                mp.prot &= prot;
                            } else {
                                mp.prot = prot;
                            }
                        }
                    }
                }
            }
            Op::Inherit {
                map,
                page,
                pages,
                inherit,
            } => {
                let m = map % nmaps;
                let addr = BASE + page * PAGE_SIZE;
                let inherit = VmInherit::try_from(inherit).unwrap_or_default();
                let got = self
                    .vm
                    .inherit(self.maps[m], addr, pages * PAGE_SIZE, inherit);
                let first = page_of(addr);
                let covered = (first..first + pages).all(|p| self.model.maps[m].contains_key(&p));
                if covered {
                    prop_assert_eq!(got, Ok(()), "{:?}", op);
                    for p in first..first + pages {
                        if let Some(mp) = self.model.maps[m].get_mut(&p) {
                            mp.inherit = inherit;
                        }
                    }
                } else {
                    prop_assert_eq!(got, Err(VmError::InvalidAddress), "{:?}", op);
                }
            }
            Op::Pageout { map, page, pages } => {
                let m = map % nmaps;
                let addr = BASE + page * PAGE_SIZE;
                let next = &mut self.next_port;
                let got = self
                    .vm
                    .pageout_range(self.maps[m], addr, pages * PAGE_SIZE, &mut || {
                        *next += 2;
                        Some((PortName(*next), PortName(*next + 1)))
                    });
                prop_assert!(got.is_ok(), "{:?}: {:?}", op, got);
                self.serve_pager();
            }
            Op::Fork { map } => {
                if nmaps >= MAX_MAPS {
                    return Ok(());
                }
                let m = map % nmaps;
                let child = self.vm.fork(self.maps[m]);
                prop_assert!(child.is_ok());
                self.maps.push(child.unwrap_or(MapId(0)));
                let mut cm = BTreeMap::new();
                let parent: Vec<(u64, MPage)> =
                    self.model.maps[m].iter().map(|(k, v)| (*k, *v)).collect();
                for (p, mp) in parent {
                    match mp.inherit {
                        VmInherit::None => {}
                        VmInherit::Share => {
                            cm.insert(p, mp);
                        }
                        VmInherit::Copy => {
                            let data = self.model.cells[mp.cell].clone();
                            let cell = self.model.new_cell(data);
                            cm.insert(p, MPage { cell, ..mp });
                        }
                    }
                }
                self.model.maps.push(cm);
            }
        }
        Ok(())
    }

    /// Every page of every map reads as the model says (where readable).
    fn check_all(&mut self) -> Result<(), TestCaseError> {
        for m in 0..self.maps.len() {
            let pages: Vec<(u64, MPage)> =
                self.model.maps[m].iter().map(|(k, v)| (*k, *v)).collect();
            for (p, mp) in pages {
                let mut buf = vec![0u8; PAGE_SIZE as usize];
                let got = self.load(m, p * PAGE_SIZE, &mut buf);
                if mp.prot.contains(VmProt::READ) {
                    prop_assert_eq!(got, Ok(()));
                    prop_assert!(
                        buf == self.model.cells[mp.cell],
                        "map {} page {:#x} differs",
                        m,
                        p
                    );
                } else {
                    prop_assert_eq!(got, Err(VmError::ProtectionFailure));
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn map_matches_flat_memory(ops in prop::collection::vec(op(), 1..60)) {
        let mut h = Harness::new();
        for op in &ops {
            h.apply(op)?;
        }
        h.check_all()?;
        // Everything goes away with the maps: no frame or object leaks.
        for m in h.maps.clone() {
            prop_assert_eq!(h.vm.destroy_map(m), Ok(()));
        }
        h.serve_pager();
        prop_assert!(h.swap.is_empty(), "every temporary object terminated");
        prop_assert_eq!(h.vm.frames_in_use(), 0);
        prop_assert_eq!(h.vm.object_count(), 0);
        prop_assert_eq!(h.vm.phys().free_frames(), h.vm.phys().total_frames());
    }
}

#[test]
fn fork_copy_is_isolated_and_share_is_shared() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(64));
    let parent = vm.create_map().expect("map");
    let a = vm
        .allocate(parent, 0, 2 * PAGE_SIZE, true)
        .expect("allocate");
    vm.store(parent, a, b"parent").expect("store");
    vm.inherit(parent, a + PAGE_SIZE, PAGE_SIZE, VmInherit::Share)
        .expect("inherit");
    let child = vm.fork(parent).expect("fork");
    vm.store(child, a, b"child!").expect("child store");
    vm.store(child, a + PAGE_SIZE, b"shared")
        .expect("shared store");
    let mut buf = [0u8; 6];
    vm.load(parent, a, &mut buf).expect("load");
    assert_eq!(&buf, b"parent");
    vm.load(parent, a + PAGE_SIZE, &mut buf).expect("load");
    assert_eq!(&buf, b"shared");
    // The clipped object had two entries: the copy was made eagerly.
    assert_eq!(vm.stats().shadows, 0);
    let r = vm.region(parent, a + PAGE_SIZE).expect("region");
    assert!(r.shared);
    assert_eq!(r.inherit, VmInherit::Share);
}

#[test]
fn copy_up_removes_stale_translations_of_the_shadowed_page() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(64));
    let m0 = vm.create_map().expect("map");
    let a = vm.allocate(m0, 0, PAGE_SIZE, true).expect("allocate");
    let _m1 = vm.fork(m0).expect("fork");
    vm.inherit(m0, a, PAGE_SIZE, VmInherit::Share)
        .expect("inherit");
    let mut b = [0u8; 1];
    // m0 maps the shared original read-only...
    vm.load(m0, a, &mut b).expect("load");
    // ...then shares a shadow of it with m2, which copies the page up.
    let m2 = vm.fork(m0).expect("fork");
    vm.store(m2, a, b"x").expect("store");
    vm.load(m0, a, &mut b).expect("load");
    assert_eq!(&b, b"x");
}
