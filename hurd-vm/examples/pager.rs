//! Memory objects and pagers: copy-on-write in one VM, then two simulated
//! kernels sharing one pager over the memory_object protocol.
//!
//! Run it with `cargo run -p hurd-vm --example pager`.

use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, RightType, UserIpc};
use hurd_vm::default_pager::{DefaultPager, MemStore};
use hurd_vm::hosted::SimKernel;
use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{PAGE_SIZE, Stall, Vm, VmError, VmInherit, VmProt};

fn copy_on_write() -> Result<(), Stall> {
    // ANCHOR: cow
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(64));
    let parent = vm.create_map()?;
    let private = vm.allocate(parent, 0, PAGE_SIZE, true)?; // inherited as a copy
    let shared = vm.allocate(parent, 0, PAGE_SIZE, true)?;
    vm.inherit(parent, shared, PAGE_SIZE, VmInherit::Share)?;
    vm.store(parent, private, b"parent data")?; // zero-fill fault, then the store

    let child = vm.fork(parent)?;
    vm.store(child, private, b"child data!")?; // copy-on-write: shadow, copy up
    vm.store(child, shared, b"both")?; // shared: no copy

    let mut buf = [0u8; 11];
    vm.load(parent, private, &mut buf)?;
    assert_eq!(&buf, b"parent data");
    vm.load(parent, shared, &mut buf[..4])?;
    assert_eq!(&buf[..4], b"both");
    let stats = vm.stats();
    assert_eq!((stats.shadows, stats.copy_ups), (1, 1));
    println!("cow: {stats:?}");
    // ANCHOR_END: cow
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    copy_on_write().map_err(|e| format!("{e:?}"))?;

    // ANCHOR: kernels
    let rt = Runtime::new();
    let node_a = SimKernel::new(&rt, 64)?;
    let node_b = SimKernel::new(&rt, 64)?;
    // ANCHOR_END: kernels

    // ANCHOR: pager
    let pager = rt.task();
    let object = pager.port_allocate(RightType::Receive)?;
    let in_a = pager.give_right(object, Disposition::MakeSend, node_a.task())?;
    let in_b = pager.give_right(object, Disposition::MakeSend, node_b.task())?;
    std::thread::spawn(move || {
        DefaultPager::new(&pager, MemStore::new()).serve(object);
    });
    // ANCHOR_END: pager

    // ANCHOR: map
    let (map_a, map_b) = (node_a.create_map()?, node_b.create_map()?);
    let rw = VmProt::DEFAULT;
    // The first vm_map sends memory_object_init and waits for ready.
    let addr_a = node_a.vm_map(
        map_a,
        4 * PAGE_SIZE,
        in_a,
        0,
        false,
        rw,
        VmProt::ALL,
        VmInherit::Share,
    )?;
    // A load faults: data_request, answered with data_unavailable (zeros).
    assert_eq!(node_a.load(map_a, addr_a, 4)?, [0; 4]);
    node_a.store(map_a, addr_a, b"from node a")?;
    // ANCHOR_END: map

    // ANCHOR: pageout
    // Page it out: the dirty page goes back with data_return...
    node_a.with_vm(|vm| {
        let obj = vm.object_for_pager(in_a).ok_or(VmError::InvalidName)?;
        vm.pageout(obj, 0)
    })?;
    // ...and the other node's fault brings it in with data_supply.
    let addr_b = node_b.vm_map(
        map_b,
        4 * PAGE_SIZE,
        in_b,
        0,
        false,
        rw,
        VmProt::ALL,
        VmInherit::Share,
    )?;
    let seen = node_b.load(map_b, addr_b, 11)?;
    println!("node b reads {:?}", String::from_utf8_lossy(&seen));
    assert_eq!(seen, b"from node a");
    // ANCHOR_END: pageout
    println!("pager demo: done");
    Ok(())
}
