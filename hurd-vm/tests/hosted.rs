//! The simulated kernel against pager threads on hurd-ipc's hosted runtime.

use std::time::Duration;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Item, PortName, RightType, UserIpc};
use hurd_vm::default_pager::{DefaultPager, MemStore};
use hurd_vm::hosted::SimKernel;
use hurd_vm::protocol::{control, memory_object};
use hurd_vm::{PAGE_SIZE, VmError, VmInherit, VmProt};

/// Starts a default pager thread; returns its memory object port as a send
/// right in each kernel's task.
fn start_default_pager(rt: &Runtime, kernels: &[&SimKernel]) -> Vec<PortName> {
    let pager = rt.task();
    let port = pager.port_allocate(RightType::Receive).expect("port");
    let names = kernels
        .iter()
        .map(|k| {
            pager
                .give_right(port, Disposition::MakeSend, k.task())
                .expect("give")
        })
        .collect();
    std::thread::spawn(move || {
        let p = DefaultPager::new(&pager, MemStore::new());
        p.serve(port);
    });
    names
}

#[test]
fn two_kernels_share_a_pager() {
    let rt = Runtime::new();
    let a = SimKernel::new(&rt, 64).expect("kernel a");
    let b = SimKernel::new(&rt, 64).expect("kernel b");
    let names = start_default_pager(&rt, &[&a, &b]);
    let (ma, mb) = (a.create_map().expect("map"), b.create_map().expect("map"));
    let map = |k: &SimKernel, m, name| {
        k.vm_map(
            m,
            4 * PAGE_SIZE,
            name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map")
    };
    let addr_a = map(&a, ma, names[0]);
    // Fresh memory reads as zeros (data_unavailable), writes stay in kernel a.
    assert_eq!(a.load(ma, addr_a + 100, 4).expect("load"), [0; 4]);
    a.store(ma, addr_a + 100, b"node").expect("store");
    // Page it out: the dirty page reaches the pager with data_return...
    a.with_vm(|vm| {
        let obj = vm.object_for_pager(names[0]).expect("object");
        assert_eq!(vm.pageout(obj, 0), Ok(true));
    });
    // ...and kernel b, mapping the same pager, gets it with data_supply.
    let addr_b = map(&b, mb, names[1]);
    assert_eq!(b.load(mb, addr_b + 100, 4).expect("load b"), b"node");
    // Kernel a faults it back in the same way.
    assert_eq!(a.load(ma, addr_a + 100, 4).expect("load a"), b"node");
    assert_eq!(
        a.store(ma, 0x10, b"x"),
        Err(VmError::InvalidAddress),
        "unmapped address"
    );
}

/// A pager that answers init with ready, then handles one data_request with
/// `answer`, then keeps serving until the port dies.
fn scripted_pager(rt: &Runtime, kernel: &SimKernel, answer: fn(&Task, PortName, u64)) -> PortName {
    let pager = rt.task();
    let port = pager.port_allocate(RightType::Receive).expect("port");
    let name = pager
        .give_right(port, Disposition::MakeSend, kernel.task())
        .expect("give");
    rt.spawn("scripted-pager", move |_me| {
        loop {
            let Ok(m) = pager.receive(port) else { return };
            let ctl = match m.body.first() {
                Some(Item::Port(p)) => p.name,
                _ => PortName::NULL,
            };
            if m.header.id == memory_object::id::init {
                control::Client::new(&pager, ctl)
                    .ready(false, 2)
                    .expect("ready");
            } else if m.header.id == memory_object::id::data_request {
                let offset = match m.body.get(1) {
                    Some(Item::U64(o)) => *o,
                    _ => 0,
                };
                answer(&pager, ctl, offset);
            }
        }
    })
    .expect("spawn");
    name
}

#[test]
fn pager_that_dies_fails_the_fault() {
    let rt = Runtime::new();
    let k = SimKernel::new(&rt, 16).expect("kernel");
    let name = scripted_pager(&rt, &k, |pager, _ctl, _off| pager.terminate());
    let m = k.create_map().expect("map");
    let addr = k
        .vm_map(
            m,
            PAGE_SIZE,
            name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Copy,
        )
        .expect("vm_map");
    let start = std::time::Instant::now();
    assert_eq!(k.load(m, addr, 1), Err(VmError::MemoryFailure));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "failed fast, not by timeout"
    );
    // And stays failed.
    assert_eq!(k.load(m, addr, 1), Err(VmError::MemoryFailure));
}

#[test]
fn pager_data_error_fails_the_fault() {
    let rt = Runtime::new();
    let k = SimKernel::new(&rt, 16).expect("kernel");
    let name = scripted_pager(&rt, &k, |pager, ctl, off| {
        control::Client::new(pager, ctl)
            .data_error(off, PAGE_SIZE, 5)
            .expect("data_error");
    });
    let m = k.create_map().expect("map");
    let addr = k
        .vm_map(
            m,
            PAGE_SIZE,
            name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Copy,
        )
        .expect("vm_map");
    assert_eq!(k.load(m, addr, 1), Err(VmError::MemoryError));
}

#[test]
fn silent_pager_times_out_instead_of_hanging() {
    let rt = Runtime::new();
    let k = SimKernel::with_timeout(&rt, 16, Duration::from_millis(200)).expect("kernel");
    let name = scripted_pager(&rt, &k, |_pager, _ctl, _off| {});
    let m = k.create_map().expect("map");
    let addr = k
        .vm_map(
            m,
            PAGE_SIZE,
            name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Copy,
        )
        .expect("vm_map");
    assert_eq!(k.load(m, addr, 1), Err(VmError::TimedOut));
}

#[test]
fn pager_that_never_answers_init_times_out_vm_map() {
    let rt = Runtime::new();
    let k = SimKernel::with_timeout(&rt, 16, Duration::from_millis(200)).expect("kernel");
    let pager = rt.task();
    let port = pager.port_allocate(RightType::Receive).expect("port");
    let name = pager
        .give_right(port, Disposition::MakeSend, k.task())
        .expect("give");
    let m = k.create_map().expect("map");
    assert_eq!(
        k.vm_map(
            m,
            PAGE_SIZE,
            name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Copy
        ),
        Err(VmError::TimedOut)
    );
    drop(pager);
}

/// Starts a default pager thread; returns its task (to kill it) and its port
/// as a send right in the kernel's task.
fn start_killable_default_pager(rt: &Runtime, k: &SimKernel) -> (Task, PortName) {
    let pager = rt.task();
    let port = pager.port_allocate(RightType::Receive).expect("port");
    let name = pager
        .give_right(port, Disposition::MakeSend, k.task())
        .expect("give");
    let t = pager.clone();
    std::thread::spawn(move || {
        DefaultPager::new(&t, MemStore::new()).serve(port);
    });
    (pager, name)
}

#[test]
fn anonymous_memory_pages_out_to_the_default_pager_and_back() {
    let rt = Runtime::new();
    let k = SimKernel::new(&rt, 16).expect("kernel");
    let (_pager, dp) = start_killable_default_pager(&rt, &k);
    let m = k.create_map().expect("map");
    let a = k.allocate(m, 4 * PAGE_SIZE).expect("allocate");
    let pattern = |i: u64| -> Vec<u8> { (0..64).map(|j| (i * 7 + j) as u8).collect() };
    for i in 0..3 {
        k.store(m, a + i * PAGE_SIZE + 100, &pattern(i))
            .expect("store");
    }
    // No default pager yet.
    assert_eq!(k.pageout(m, a, 4 * PAGE_SIZE), Err(VmError::Failure));
    k.set_default_pager(Some(dp));
    assert_eq!(k.pageout(m, a, 4 * PAGE_SIZE), Ok(3));
    assert_eq!(k.with_vm(|vm| vm.frames_in_use()), 0);
    for i in 0..3 {
        assert_eq!(
            k.load(m, a + i * PAGE_SIZE + 100, 64).expect("load"),
            pattern(i)
        );
    }
    assert_eq!(k.load(m, a + 3 * PAGE_SIZE, 8).expect("load"), [0; 8]);
    // Again, with a change: the default pager keeps the newer data.
    k.store(m, a + 100, b"newer").expect("store");
    assert_eq!(k.pageout(m, a, 4 * PAGE_SIZE), Ok(4));
    assert_eq!(k.load(m, a + 100, 5).expect("load"), b"newer");
    assert_eq!(
        k.load(m, a + PAGE_SIZE + 100, 64).expect("load"),
        pattern(1)
    );
    assert_eq!(k.with_vm(|vm| vm.stats().creates), 1);
    k.deallocate(m, a, 4 * PAGE_SIZE).expect("deallocate");
}

#[test]
fn dead_default_pager_fails_the_fault() {
    let rt = Runtime::new();
    let k = SimKernel::with_timeout(&rt, 16, Duration::from_secs(5)).expect("kernel");
    let (pager, dp) = start_killable_default_pager(&rt, &k);
    k.set_default_pager(Some(dp));
    let m = k.create_map().expect("map");
    let a = k.allocate(m, 2 * PAGE_SIZE).expect("allocate");
    k.store(m, a, b"lost").expect("store");
    k.store(m, a + PAGE_SIZE, b"kept").expect("store");
    assert_eq!(k.pageout(m, a, PAGE_SIZE), Ok(1));
    pager.terminate();
    let start = std::time::Instant::now();
    assert_eq!(k.load(m, a, 4), Err(VmError::MemoryFailure));
    assert!(start.elapsed() < Duration::from_secs(4), "not by timeout");
    // Resident pages stay usable; the next pageout keeps them.
    assert_eq!(k.load(m, a + PAGE_SIZE, 4).expect("load"), b"kept");
    assert_eq!(
        k.pageout(m, a + PAGE_SIZE, PAGE_SIZE),
        Err(VmError::MemoryFailure)
    );
    assert_eq!(k.load(m, a + PAGE_SIZE, 4).expect("load"), b"kept");
}

#[test]
fn vm_attach_lets_another_node_map_a_tasks_memory() {
    let rt = Runtime::new();
    let a = SimKernel::new(&rt, 32).expect("kernel a");
    let b = SimKernel::new(&rt, 32).expect("kernel b");
    // Node a pages anonymous memory to its default pager...
    let (_dp_task, dp) = start_killable_default_pager(&rt, &a);
    a.set_default_pager(Some(dp));
    // ...and a shared pager both nodes can map.
    let names = start_default_pager(&rt, &[&a, &b]);
    let ma = a.create_map().expect("map");
    let addr = a.allocate(ma, 3 * PAGE_SIZE).expect("allocate");
    a.store(ma, addr + 1, b"paged").expect("store");
    a.store(ma, addr + PAGE_SIZE + 2, b"resident")
        .expect("store");
    assert_eq!(a.pageout(ma, addr, PAGE_SIZE), Ok(1));
    // Attach: the paged-out page is fetched back first, then both go to the
    // pager.
    a.vm_attach(ma, addr, 3 * PAGE_SIZE, names[0], 0)
        .expect("vm_attach");
    assert!(a.region(ma, addr).expect("region").shared);
    // Node b maps the pager and sees the task's memory.
    let mb = b.create_map().expect("map");
    let addr_b = b
        .vm_map(
            mb,
            3 * PAGE_SIZE,
            names[1],
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Copy,
        )
        .expect("vm_map");
    assert_eq!(b.load(mb, addr_b + 1, 5).expect("load"), b"paged");
    assert_eq!(
        b.load(mb, addr_b + PAGE_SIZE + 2, 8).expect("load"),
        b"resident"
    );
    assert_eq!(b.load(mb, addr_b + 2 * PAGE_SIZE, 4).expect("load"), [0; 4]);
    // Node a still reads its memory, and errors are reported.
    assert_eq!(a.load(ma, addr + 1, 5).expect("load"), b"paged");
    // Like vm_map, each call takes a reference to the pager's send right.
    a.task()
        .port_mod_refs(names[0], RightType::Send, 1)
        .expect("ref");
    assert_eq!(
        a.vm_attach(ma, addr, PAGE_SIZE, names[0], 8 * PAGE_SIZE),
        Err(VmError::InvalidArgument),
        "already backed by a pager"
    );
}

/// Messages a kernel's threads queue reach the pager in the order queued:
/// a page's `data_return` (a pageout on one thread) always arrives before
/// the `data_request` that faults it back in (a load on another), which a
/// pager serving several kernels relies on.
#[test]
fn messages_of_different_threads_arrive_in_queue_order() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    let rt = Runtime::new();
    let k = Arc::new(SimKernel::new(&rt, 16).expect("kernel"));
    let pager = rt.task();
    let port = pager.port_allocate(RightType::Receive).expect("port");
    let name = pager
        .give_right(port, Disposition::MakeSend, k.task())
        .expect("give");
    let overtaken = Arc::new(AtomicU32::new(0));
    let seen = overtaken.clone();
    rt.spawn("ordering-pager", move |_me| {
        // Whether the kernel holds page 0 (supplied, not yet returned).
        let mut held = false;
        let mut data = vec![0u8; PAGE_SIZE as usize];
        loop {
            let Ok(m) = pager.receive(port) else { return };
            let ctl = match m.body.first() {
                Some(Item::Port(p)) => p.name,
                _ => PortName::NULL,
            };
            match m.header.id {
                id if id == memory_object::id::init => {
                    control::Client::new(&pager, ctl)
                        .ready(false, 2)
                        .expect("ready");
                }
                id if id == memory_object::id::data_request => {
                    if held {
                        seen.fetch_add(1, Ordering::Relaxed);
                    }
                    held = true;
                    control::Client::new(&pager, ctl)
                        .data_supply(
                            0,
                            hurd_ipc::OolItem {
                                data: data.clone(),
                                deallocate: true,
                            },
                            0,
                            false,
                            hurd_ipc::PortItem {
                                disposition: Disposition::MakeSendOnce,
                                name: PortName::NULL,
                            },
                        )
                        .expect("supply");
                }
                id if id == memory_object::id::data_return => {
                    if let Some(Item::Ool(o)) = m.body.get(2) {
                        data.clone_from(&o.data);
                    }
                    held = false;
                }
                _ => {}
            }
            if ctl.is_valid() && m.header.id != memory_object::id::init {
                let _ = pager.port_deallocate(ctl);
            }
        }
    })
    .expect("spawn");
    let map = k.create_map().expect("map");
    let addr = k
        .vm_map(
            map,
            PAGE_SIZE,
            name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map");
    let stop = Arc::new(AtomicBool::new(false));
    let (k2, stop2) = (k.clone(), stop.clone());
    let loader = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            k2.load(map, addr, 1).expect("load");
        }
    });
    for i in 0..300u32 {
        k.store(map, addr, &i.to_le_bytes()).expect("store");
        k.pageout(map, addr, PAGE_SIZE).expect("pageout");
    }
    stop.store(true, Ordering::Relaxed);
    loader.join().expect("loader");
    assert_eq!(
        overtaken.load(Ordering::Relaxed),
        0,
        "a request overtook a return"
    );
    let last = k.load(map, addr, 4).expect("load");
    assert_eq!(last, 299u32.to_le_bytes());
}

#[test]
fn a_kernel_leaves_no_ports_or_space_behind() {
    let rt = Runtime::new();
    let before = rt.with_kernel(|k| (k.port_count(), k.space_count()));
    let k = SimKernel::with_timeout(&rt, 16, Duration::from_secs(1)).expect("kernel");
    let during = rt.with_kernel(|k| (k.port_count(), k.space_count()));
    assert_eq!(during.1, before.1 + 1, "the kernel task's space");
    assert!(during.0 > before.0, "its notify port");
    drop(k);
    assert_eq!(
        rt.with_kernel(|k| (k.port_count(), k.space_count())),
        before
    );
}

#[test]
fn a_timeout_longer_than_the_clock_counts_waits_as_long_as_it_takes() {
    let rt = Runtime::new();
    let k = SimKernel::with_timeout(&rt, 16, Duration::MAX).expect("kernel");
    let names = start_default_pager(&rt, &[&k]);
    let m = k.create_map().expect("map");
    let addr = k
        .vm_map(
            m,
            PAGE_SIZE,
            names[0],
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map");
    // The fault waits for the pager's answer with that timeout.
    assert_eq!(k.load(m, addr, 4).expect("load"), [0; 4]);
}
