//! End to end: hurd-vm simulated kernels (software MMU) mapping one object
//! through a hosted pager, with threads reading and writing concurrently.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hurd_ipc::hosted::Runtime;
use hurd_pager::hosted::{Pager, PagerServer, Timeouts};
use hurd_pager::{Config, MemBackend, PAGE_SIZE};
use hurd_vm::hosted::SimKernel;
use hurd_vm::{MapId, VmError, VmInherit, VmProt};

const PAGES: u64 = 4;

struct Node {
    kernel: SimKernel,
    map: MapId,
    addr: u64,
    /// The pager's port in the kernel's space.
    name: hurd_ipc::PortName,
}

fn map(rt: &Runtime, pager: &Pager, n: usize, read_only: bool) -> Vec<Node> {
    (0..n)
        .map(|_| {
            let kernel = SimKernel::with_timeout(rt, 64, Duration::from_secs(60)).expect("kernel");
            let name = if read_only {
                pager
                    .read_only_send_right_for(kernel.task())
                    .expect("ro send right")
            } else {
                pager.send_right_for(kernel.task()).expect("send right")
            };
            let map = kernel.create_map().expect("map");
            let addr = kernel
                .vm_map(
                    map,
                    PAGES * PAGE_SIZE,
                    name,
                    0,
                    false,
                    VmProt::DEFAULT,
                    VmProt::ALL,
                    VmInherit::Share,
                )
                .expect("vm_map");
            Node {
                kernel,
                map,
                addr,
                name,
            }
        })
        .collect()
}

fn setup(backend: MemBackend) -> (Runtime, PagerServer, Pager) {
    let rt = Runtime::new();
    let task = rt.task();
    let server = PagerServer::new(&task).expect("server");
    let pager = server.create(backend, Config::default()).expect("pager");
    (rt, server, pager)
}

/// A small deterministic generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random reads and writes from every kernel at once, page by page in turn
/// (a test lock orders the operations on one page, so a model can say what
/// each read must return), then one concurrent phase where each kernel
/// writes its own slot of every page (false sharing: the pages ping-pong)
/// and every read of any slot must never go backwards. Kernels also page
/// out at random, returning dirty pages on their own.
fn random_traffic(kernels: usize, ops: usize, seed: u64) {
    let (rt, _server, pager) = setup(MemBackend::new(PAGES * PAGE_SIZE));
    let nodes = Arc::new(map(&rt, &pager, kernels, false));
    let model: Arc<Vec<Mutex<u64>>> = Arc::new((0..PAGES).map(|_| Mutex::new(0)).collect());
    let version = Arc::new(AtomicU64::new(1));
    let threads: Vec<_> = (0..kernels)
        .map(|k| {
            let (nodes, model, version) = (nodes.clone(), model.clone(), version.clone());
            std::thread::spawn(move || {
                let n = &nodes[k];
                let mut rng = Rng(seed ^ (k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                for _ in 0..ops {
                    let page = rng.next() % PAGES;
                    let at = n.addr + page * PAGE_SIZE + 64 * 8;
                    let mut m = model[page as usize].lock().expect("model");
                    if rng.next().is_multiple_of(7) {
                        // The kernel evicts it (a dirty page goes back).
                        n.kernel
                            .pageout(n.map, n.addr + page * PAGE_SIZE, PAGE_SIZE)
                            .expect("pageout");
                    } else if rng.next().is_multiple_of(3) {
                        let v = version.fetch_add(1, Ordering::Relaxed);
                        n.kernel.store(n.map, at, &v.to_le_bytes()).expect("store");
                        *m = v;
                    } else {
                        let b = n.kernel.load(n.map, at, 8).expect("load");
                        let v = u64::from_le_bytes(b.try_into().expect("8"));
                        assert_eq!(v, *m, "kernel {k} read a stale page {page}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    // Concurrent phase: slot k of each page belongs to kernel k.
    let threads: Vec<_> = (0..kernels)
        .map(|k| {
            let nodes = nodes.clone();
            std::thread::spawn(move || {
                let n = &nodes[k];
                let mut rng = Rng(seed ^ 77 ^ k as u64);
                let mut seen = vec![[0u64; 8]; PAGES as usize];
                let mut mine = vec![0u64; PAGES as usize];
                for _ in 0..ops {
                    let page = rng.next() % PAGES;
                    let base = n.addr + page * PAGE_SIZE;
                    if rng.next().is_multiple_of(9) {
                        n.kernel.pageout(n.map, base, PAGE_SIZE).expect("pageout");
                    } else if rng.next().is_multiple_of(2) {
                        mine[page as usize] += 1;
                        let v = mine[page as usize];
                        n.kernel
                            .store(n.map, base + 8 * k as u64, &v.to_le_bytes())
                            .expect("store");
                    } else {
                        let b = n.kernel.load(n.map, base, 64).expect("load");
                        for (j, c) in b.chunks(8).enumerate().take(kernels) {
                            let v = u64::from_le_bytes(c.try_into().expect("8"));
                            let s = &mut seen[page as usize][j];
                            assert!(v >= *s, "kernel {k}: slot {j} of page {page} went back");
                            *s = v;
                        }
                        assert_eq!(seen[page as usize][k], mine[page as usize]);
                    }
                }
                mine
            })
        })
        .collect();
    let finals: Vec<Vec<u64>> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    // Everything reaches the backend with a sync.
    pager.sync(true).expect("sync");
    for page in 0..PAGES {
        let stored = pager
            .with_backend(|b| b.read_page(page * PAGE_SIZE))
            .expect("read back");
        for (k, f) in finals.iter().enumerate() {
            let c = &stored.data[8 * k..8 * k + 8];
            assert_eq!(
                u64::from_le_bytes(c.try_into().expect("8")),
                f[page as usize]
            );
        }
        let v = u64::from_le_bytes(stored.data[512..520].try_into().expect("8"));
        assert_eq!(v, *model[page as usize].lock().expect("model"));
    }
    assert_eq!(pager.kernels(), kernels);
    assert_eq!(pager.stats().rejected, 0);
}

#[test]
fn two_kernels_random_traffic() {
    random_traffic(2, 150, 1);
}

#[test]
fn five_kernels_random_traffic() {
    random_traffic(5, 80, 2);
}

#[test]
fn eight_kernels_random_traffic() {
    random_traffic(8, 50, 3);
}

#[test]
fn a_dead_kernel_does_not_stop_the_others() {
    let (rt, _server, pager) = setup(MemBackend::new(PAGES * PAGE_SIZE));
    let mut nodes = map(&rt, &pager, 3, false);
    nodes[0]
        .kernel
        .store(nodes[0].map, nodes[0].addr, b"zero")
        .expect("store");
    pager.sync(true).expect("sync");
    nodes[0]
        .kernel
        .store(nodes[0].map, nodes[0].addr, b"lost")
        .expect("store");
    // Kernel 0 dies holding the page for writing, its change unreturned.
    drop(nodes.remove(0));
    let n = &nodes[0];
    assert_eq!(n.kernel.load(n.map, n.addr, 4).expect("load"), b"zero");
    n.kernel.store(n.map, n.addr, b"next").expect("store");
    let m = &nodes[1];
    assert_eq!(m.kernel.load(m.map, m.addr, 4).expect("load"), b"next");
    // The pager noticed.
    for _ in 0..1000 {
        if pager.kernels() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(pager.kernels(), 2);
}

#[test]
fn read_only_port_never_grants_write() {
    let (rt, _server, pager) = setup(MemBackend::new(PAGES * PAGE_SIZE));
    let writer = map(&rt, &pager, 1, false);
    let reader = map(&rt, &pager, 1, true);
    let (w, r) = (&writer[0], &reader[0]);
    w.kernel.store(w.map, w.addr, b"data").expect("store");
    assert_eq!(r.kernel.load(r.map, r.addr, 4).expect("load"), b"data");
    assert_eq!(
        r.kernel.store(r.map, r.addr, b"nope"),
        Err(VmError::MemoryError)
    );
    assert_eq!(w.kernel.load(w.map, w.addr, 4).expect("load"), b"data");
}

#[test]
fn library_calls() {
    let (rt, _server, pager) = setup(MemBackend::new(PAGES * PAGE_SIZE).write_locked());
    let nodes = map(&rt, &pager, 2, false);
    for n in &nodes {
        n.kernel.with_vm(|vm| vm.accept_unrequested_supply = true);
    }
    let (a, b) = (&nodes[0], &nodes[1]);
    // Write-locked pages are unlocked in the backend on the first write.
    a.kernel
        .store(a.map, a.addr + PAGE_SIZE, b"one")
        .expect("store");
    // sync writes back, the kernel keeps the page.
    pager.sync(true).expect("sync");
    let page = |p: &Pager, off| p.with_backend(|be| be.read_page(off)).expect("read").data;
    assert_eq!(&page(&pager, PAGE_SIZE)[..3], b"one");
    // return takes it back from everyone.
    pager.return_all(true).expect("return");
    assert!(pager.with_core(|c| c.holders(1).is_empty()));
    // flush: the backend changed underneath; kernels refetch.
    b.kernel.load(b.map, b.addr + PAGE_SIZE, 3).expect("load");
    pager.with_backend(|be| {
        be.unlock_page(PAGE_SIZE).expect("unlock");
        let mut d = vec![0; PAGE_SIZE as usize];
        d[..3].copy_from_slice(b"two");
        be.write_page(PAGE_SIZE, &d).expect("write")
    });
    pager.flush(true).expect("flush");
    assert_eq!(
        b.kernel.load(b.map, b.addr + PAGE_SIZE, 3).expect("load"),
        b"two"
    );
    // offer_page pushes a page nobody asked for.
    let before = pager.stats().requests;
    let mut d = vec![0; PAGE_SIZE as usize];
    d[..5].copy_from_slice(b"offer");
    pager
        .offer_page(2 * PAGE_SIZE, d, false, false)
        .expect("offer");
    // The offer reaches the kernels asynchronously.
    let resident = |n: &Node| {
        n.kernel.with_vm(|vm| {
            vm.object_for_pager(n.name)
                .and_then(|o| vm.object(o))
                .is_some_and(|o| o.pages.get(&2).is_some_and(|p| p.frame().is_some()))
        })
    };
    for _ in 0..1000 {
        if resident(a) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        a.kernel
            .load(a.map, a.addr + 2 * PAGE_SIZE, 5)
            .expect("load"),
        b"offer"
    );
    assert_eq!(pager.stats().requests, before, "served without a request");
    // change_attributes reaches every kernel.
    pager
        .change_attributes(true, hurd_vm::CopyStrategy::Delay, true)
        .expect("change");
    // shutdown returns everything and kills the object.
    a.kernel.store(a.map, a.addr, b"last").expect("store");
    pager.shutdown().expect("shutdown");
    assert_eq!(&page(&pager, 0)[..4], b"last");
    assert!(pager.offer_page(3, vec![], false, false).is_err());
}

/// With precious pages the kernel returns even clean pages it evicts, and
/// the backend hears of it.
#[test]
fn precious_pages_report_evictions() {
    #[derive(Clone)]
    struct Evictions(MemBackend, Arc<Mutex<Vec<u64>>>);
    impl hurd_pager::Backend for Evictions {
        fn read_page(&mut self, o: u64) -> Result<hurd_pager::PageRead, hurd_pager::PagerError> {
            self.0.read_page(o)
        }
        fn write_page(&mut self, o: u64, d: &[u8]) -> Result<(), hurd_pager::PagerError> {
            self.0.write_page(o, d)
        }
        fn extent(&self) -> u64 {
            self.0.extent()
        }
        fn notify_evict(&mut self, o: u64) {
            self.1.lock().expect("log").push(o);
        }
    }
    let rt = Runtime::new();
    let task = rt.task();
    let server = PagerServer::new(&task).expect("server");
    let log = Arc::new(Mutex::new(Vec::new()));
    let config = Config {
        precious: true,
        ..Config::default()
    };
    let backend = Evictions(MemBackend::new(PAGES * PAGE_SIZE), log.clone());
    let pager = server.create(backend, config).expect("pager");
    let nodes = map(&rt, &pager, 1, false);
    let n = &nodes[0];
    n.kernel.load(n.map, n.addr + PAGE_SIZE, 1).expect("load");
    n.kernel
        .pageout(n.map, n.addr + PAGE_SIZE, PAGE_SIZE)
        .expect("pageout");
    for _ in 0..1000 {
        if !log.lock().expect("log").is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(*log.lock().expect("log"), [PAGE_SIZE]);
    assert!(pager.with_core(|c| c.holders(1).is_empty()));
}

/// The single-threaded, `no_std` server: one thread serves the pager while
/// two kernels share its object.
#[test]
fn single_threaded_pager_port() {
    use hurd_pager::PagerPort;

    let rt = Runtime::new();
    let a = SimKernel::with_timeout(&rt, 16, Duration::from_secs(60)).expect("kernel a");
    let b = SimKernel::with_timeout(&rt, 16, Duration::from_secs(60)).expect("kernel b");
    let (ta, tb) = (a.task().clone(), b.task().clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let server = rt.task();
    let stop = server.clone();
    let thread = std::thread::spawn(move || {
        let mut p = PagerPort::new(
            &server,
            MemBackend::new(PAGES * PAGE_SIZE),
            Config::default(),
        )
        .expect("pager");
        let give = |t: &hurd_ipc::hosted::Task| {
            server
                .give_right(p.port(), hurd_ipc::Disposition::MakeSend, t)
                .expect("give")
        };
        tx.send((give(&ta), give(&tb))).expect("send names");
        let epoch = std::time::Instant::now();
        p.serve(&mut || epoch.elapsed().as_nanos() as u64);
        p.core().stats()
    });
    let (na, nb) = rx.recv().expect("names");
    let mapped = |k: &SimKernel, name| {
        let m = k.create_map().expect("map");
        let addr = k
            .vm_map(
                m,
                PAGES * PAGE_SIZE,
                name,
                0,
                false,
                VmProt::DEFAULT,
                VmProt::ALL,
                VmInherit::Share,
            )
            .expect("vm_map");
        (m, addr)
    };
    let (ma, aa) = mapped(&a, na);
    let (mb, ab) = mapped(&b, nb);
    for i in 0..20u32 {
        a.store(ma, aa, &i.to_le_bytes()).expect("store a");
        assert_eq!(b.load(mb, ab, 4).expect("load b"), i.to_le_bytes());
        b.store(mb, ab + PAGE_SIZE, &i.to_le_bytes())
            .expect("store b");
        assert_eq!(
            a.load(ma, aa + PAGE_SIZE, 4).expect("load a"),
            i.to_le_bytes()
        );
    }
    stop.terminate();
    let stats = thread.join().expect("server thread");
    assert_eq!(stats.rejected, 0);
    assert!(stats.revocations >= 40, "{stats:?}");
}

/// The single-threaded server leaves nothing in its task: not when one of
/// its ports cannot be allocated, not when it is dropped.
#[test]
fn pager_port_leaves_no_rights_behind() {
    use hurd_ipc::UserIpc;
    use hurd_ipc::hosted::FaultyTask;
    use hurd_pager::PagerPort;

    let rt = Runtime::new();
    let task = FaultyTask::new(rt.task());
    for n in 0..3 {
        task.fail_allocations_after(n);
        let r = PagerPort::new(&task, MemBackend::new(PAGE_SIZE), Config::default());
        assert_eq!(
            r.err(),
            Some(hurd_ipc::KernReturn::NoSpace),
            "allocation {n}"
        );
        assert_eq!(task.port_names(), Ok(vec![]), "after allocation {n} failed");
    }
    task.heal();
    let mut p =
        PagerPort::new(&task, MemBackend::new(PAGE_SIZE), Config::default()).expect("pager");
    p.read_only_port().expect("read-only port");
    assert_eq!(task.port_names().expect("names").len(), 4);
    drop(p);
    assert_eq!(task.port_names(), Ok(vec![]));
}

/// A kernel that unmaps the object returns its dirty pages and terminates:
/// the pager forgets it, and the others read what it wrote.
#[test]
fn unmapping_terminates_and_returns_data() {
    let (rt, _server, pager) = setup(MemBackend::new(PAGES * PAGE_SIZE));
    let nodes = map(&rt, &pager, 2, false);
    let (a, b) = (&nodes[0], &nodes[1]);
    a.kernel
        .store(a.map, a.addr + 2 * PAGE_SIZE, b"bye")
        .expect("store");
    a.kernel
        .deallocate(a.map, a.addr, PAGES * PAGE_SIZE)
        .expect("deallocate");
    for _ in 0..1000 {
        if pager.kernels() == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(pager.kernels(), 1);
    assert_eq!(
        b.kernel
            .load(b.map, b.addr + 2 * PAGE_SIZE, 3)
            .expect("load"),
        b"bye"
    );
    assert_eq!(pager.stats().rejected, 0);
}

/// Two kernels storing to the same page as fast as they can, at the same
/// time: the minimum hold lets both finish.
#[test]
fn concurrent_writers_both_progress() {
    let (rt, _server, pager) = setup(MemBackend::new(PAGES * PAGE_SIZE));
    let nodes = Arc::new(map(&rt, &pager, 2, false));
    let threads: Vec<_> = (0..2)
        .map(|k| {
            let nodes = nodes.clone();
            std::thread::spawn(move || {
                let n = &nodes[k];
                for i in 0..200u64 {
                    n.kernel
                        .store(n.map, n.addr + 8 * k as u64, &i.to_le_bytes())
                        .expect("store");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer");
    }
    let n = &nodes[0];
    let b = n.kernel.load(n.map, n.addr, 16).expect("load");
    assert_eq!(b[..8], 199u64.to_le_bytes());
    assert_eq!(b[8..], 199u64.to_le_bytes());
}

/// Calls waiting on a pager whose server is gone fail at once.
#[test]
fn calls_after_the_server_stopped_fail() {
    let (rt, server, pager) = setup(MemBackend::new(PAGES * PAGE_SIZE));
    let nodes = map(&rt, &pager, 1, false);
    nodes[0]
        .kernel
        .store(nodes[0].map, nodes[0].addr, b"x")
        .expect("store");
    drop(server);
    let start = std::time::Instant::now();
    assert_eq!(pager.sync(true), Err(hurd_pager::PagerError::ShutDown));
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// One server, several pagers (one per file), each mapped by several
/// kernels: their pages never mix.
#[test]
fn many_pagers_in_one_server() {
    let rt = Runtime::new();
    let task = rt.task();
    let server = PagerServer::new(&task).expect("server");
    let pagers: Vec<Pager> = (0..3)
        .map(|_| {
            server
                .create(MemBackend::new(PAGES * PAGE_SIZE), Config::default())
                .expect("pager")
        })
        .collect();
    let kernels: Vec<SimKernel> = (0..2)
        .map(|_| SimKernel::with_timeout(&rt, 64, Duration::from_secs(60)).expect("kernel"))
        .collect();
    // Each kernel maps each pager's object.
    let mut at = Vec::new();
    for k in &kernels {
        let map = k.create_map().expect("map");
        let addrs: Vec<u64> = pagers
            .iter()
            .map(|p| {
                let name = p.send_right_for(k.task()).expect("send right");
                k.vm_map(
                    map,
                    PAGES * PAGE_SIZE,
                    name,
                    0,
                    false,
                    VmProt::DEFAULT,
                    VmProt::ALL,
                    VmInherit::Share,
                )
                .expect("vm_map")
            })
            .collect();
        at.push((map, addrs));
    }
    for (i, _) in pagers.iter().enumerate() {
        let (map, addrs) = &at[i % 2];
        kernels[i % 2]
            .store(*map, addrs[i], format!("file {i}").as_bytes())
            .expect("store");
    }
    for (i, p) in pagers.iter().enumerate() {
        let (map, addrs) = &at[(i + 1) % 2];
        let got = kernels[(i + 1) % 2].load(*map, addrs[i], 6).expect("load");
        assert_eq!(got, format!("file {i}").as_bytes());
        assert_eq!(p.kernels(), 2);
    }
}

#[test]
fn timeouts_longer_than_the_clock_counts_wait_as_long_as_it_takes() {
    let rt = Runtime::new();
    let task = rt.task();
    let forever = Timeouts {
        send: Duration::MAX,
        call: Duration::MAX,
    };
    let server = PagerServer::with_timeouts(&task, forever).expect("server");
    let pager = server
        .create(MemBackend::new(PAGES * PAGE_SIZE), Config::default())
        .expect("pager");
    let nodes = map(&rt, &pager, 1, false);
    let n = &nodes[0];
    n.kernel.store(n.map, n.addr, b"kept").expect("store");
    // Both wait for the kernel's answers with those timeouts.
    pager.sync(true).expect("sync");
    pager.return_all(true).expect("return");
    let page = pager.with_backend(|be| be.read_page(0)).expect("read").data;
    assert_eq!(&page[..4], b"kept");
}
