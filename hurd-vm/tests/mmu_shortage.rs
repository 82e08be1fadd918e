//! When the MMU has no memory left for page tables, creating a map and
//! entering a translation fail with `ResourceShortage`: the faulting access
//! gets the error, nothing is lost, and the same access works once there is
//! room again.

use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{FaultAction, Mmu, PAGE_SIZE, Stall, Vm, VmError, VmProt};

#[test]
fn a_translation_without_room_is_a_resource_shortage() {
    // Room for one space and two translations.
    let mut vm = Vm::new(SoftMmu::limited(3), SoftPhys::new(64));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 3 * PAGE_SIZE, true).expect("allocate");
    vm.store(map, a, b"first").expect("first page");
    vm.store(map, a + PAGE_SIZE, b"second")
        .expect("second page");

    // The third page is zero-filled, but its translation cannot be made.
    assert_eq!(
        vm.store(map, a + 2 * PAGE_SIZE, b"third"),
        Err(Stall::Error(VmError::ResourceShortage))
    );
    assert_eq!(
        vm.fault(map, a + 2 * PAGE_SIZE, VmProt::READ),
        FaultAction::Error(VmError::ResourceShortage)
    );
    assert_eq!(vm.mmu().query(map.pmap(), a + 2 * PAGE_SIZE), None);
    // Nor can another map.
    assert_eq!(vm.create_map(), Err(VmError::ResourceShortage));

    // Giving back a page makes room: the third page is reached, and the
    // others kept their contents.
    vm.deallocate(map, a, PAGE_SIZE).expect("deallocate");
    vm.store(map, a + 2 * PAGE_SIZE, b"third")
        .expect("third page");
    let mut buf = [0u8; 6];
    vm.load(map, a + PAGE_SIZE, &mut buf).expect("load");
    assert_eq!(&buf, b"second");
    vm.load(map, a + 2 * PAGE_SIZE, &mut buf[..5])
        .expect("load");
    assert_eq!(&buf[..5], b"third");

    // Every frame comes back with the map.
    vm.destroy_map(map).expect("destroy");
    assert_eq!(vm.phys().free_frames(), vm.phys().total_frames());
}

#[test]
fn a_fork_without_room_for_the_child_fails_and_leaves_the_parent() {
    let mut vm = Vm::new(SoftMmu::limited(2), SoftPhys::new(64));
    let parent = vm.create_map().expect("map");
    let a = vm.allocate(parent, 0, PAGE_SIZE, true).expect("allocate");
    vm.store(parent, a, b"kept").expect("store");
    assert_eq!(vm.fork(parent), Err(VmError::ResourceShortage));
    let mut buf = [0u8; 4];
    vm.load(parent, a, &mut buf).expect("load");
    assert_eq!(&buf, b"kept");
}
