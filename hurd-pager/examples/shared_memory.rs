//! Sharing memory between kernels: one object, three simulated kernels,
//! coherent page by page; then the coherence core on its own.
//!
//! Run it with `cargo run -p hurd-pager --example shared_memory`.

use hurd_ipc::hosted::Runtime;
use hurd_pager::hosted::PagerServer;
use hurd_pager::{Action, Coherence, Config, Event, KernelId, MemBackend, PAGE_SIZE, PageRead};
use hurd_vm::hosted::SimKernel;
use hurd_vm::{MapId, VmInherit, VmProt};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: nodes
    let rt = Runtime::new();
    let server = PagerServer::new(&rt.task())?;
    let pager = server.create(MemBackend::new(4 * PAGE_SIZE), Config::default())?;
    let mut nodes: Vec<(SimKernel, MapId, u64)> = Vec::new();
    for _ in 0..3 {
        let kernel = SimKernel::new(&rt, 64)?;
        let object = pager.send_right_for(kernel.task())?;
        let map = kernel.create_map()?;
        // Every kernel's memory_object_init is answered with ready.
        let addr = kernel.vm_map(
            map,
            4 * PAGE_SIZE,
            object,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )?;
        nodes.push((kernel, map, addr));
    }
    // ANCHOR_END: nodes

    // ANCHOR: share
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    a.0.store(a.1, a.2, b"written on a")?; // a holds page 0 for writing
    // b's read fault takes the page from a (lock_request: flush and return)
    // and gets a's data.
    assert_eq!(b.0.load(b.1, b.2, 12)?, b"written on a");
    assert_eq!(c.0.load(c.1, c.2, 12)?, b"written on a"); // a second reader
    // c writes: b's copy is revoked first, then c gets write access.
    c.0.store(c.1, c.2, b"written on c")?;
    assert_eq!(a.0.load(a.1, a.2, 12)?, b"written on c");
    println!("{:?}", pager.stats());
    // ANCHOR_END: share

    // ANCHOR: death
    // c writes again, then its kernel dies before giving the page back: its
    // unreturned change is lost, but nobody waits on it.
    c.0.store(c.1, c.2, b"lost with c!")?;
    let (dead, _, _) = nodes.pop().ok_or("no node")?;
    drop(dead);
    let b = &nodes[1];
    assert_eq!(b.0.load(b.1, b.2, 12)?, b"written on c");
    // ANCHOR_END: death

    core_alone();
    Ok(())
}

fn core_alone() {
    // ANCHOR: core
    let mut core = Coherence::new(Config {
        min_hold: 10,
        ..Config::default()
    });
    let (a, b) = (KernelId(0), KernelId(1));
    for k in [a, b] {
        core.handle(
            0,
            Event::Init {
                kernel: k,
                read_only: false,
            },
        );
    }
    let page = vec![0; PAGE_SIZE as usize];
    // a faults for writing; the page comes from the backend.
    let out = core.handle(
        0,
        Event::DataRequest {
            kernel: a,
            page: 0,
            access: VmProt::WRITE,
        },
    );
    assert_eq!(out, [Action::Read { page: 0 }]);
    let out = core.handle(
        0,
        Event::ReadDone {
            page: 0,
            result: Ok(PageRead {
                data: page.clone(),
                write_lock: false,
            }),
        },
    );
    assert!(
        matches!(out[..], [Action::Supply { kernel, lock, .. }] if kernel == a && lock == VmProt::NONE)
    );
    // b wants it at time 3: a's grant stands until time 10 (the minimum hold).
    let out = core.handle(
        3,
        Event::DataRequest {
            kernel: b,
            page: 0,
            access: VmProt::READ,
        },
    );
    assert!(out.is_empty());
    assert_eq!(core.next_deadline(), Some(10));
    let out = core.handle(10, Event::Tick);
    assert!(
        matches!(out[..], [Action::Lock { kernel, flush: true, reply: true, .. }] if kernel == a)
    );
    // a returns its dirty page (having dropped it, kernel_copy false): b
    // gets the data at once, and the backend write goes out; then a's
    // lock_completed closes the revocation.
    let mut dirty = page.clone();
    dirty[0] = 42;
    let out = core.handle(
        11,
        Event::DataReturn {
            kernel: a,
            page: 0,
            data: dirty,
            dirty: true,
            kernel_copy: false,
        },
    );
    assert!(out.iter().any(
        |x| matches!(x, Action::Supply { kernel, data, .. } if *kernel == b && data[0] == 42)
    ));
    assert!(
        out.iter()
            .any(|x| matches!(x, Action::Write { page: 0, .. }))
    );
    core.handle(
        11,
        Event::LockCompleted {
            kernel: a,
            page: 0,
            count: 1,
        },
    );
    assert_eq!(core.outstanding_locks(), 0);
    // ANCHOR_END: core
    println!("core: {:?}", core.stats());
}
