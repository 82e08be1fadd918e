//! `vm_protect` as Mach's `vm_map_protect` defines it: the new protection
//! must lie within every region's maximum, with or without `set_max`, and a
//! maximum protection can only be lowered.

use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{PAGE_SIZE, Stall, Vm, VmError, VmProt};

#[test]
fn the_maximum_protection_is_only_lowered() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(64));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 2 * PAGE_SIZE, true).expect("allocate");
    // Lower the maximum to read-only: the current protection follows.
    assert_eq!(vm.protect(map, a, PAGE_SIZE, true, VmProt::READ), Ok(()));
    let r = vm.region(map, a).expect("region");
    assert_eq!((r.max_prot, r.prot), (VmProt::READ, VmProt::READ));
    assert_eq!(
        vm.store(map, a, b"x"),
        Err(Stall::Error(VmError::ProtectionFailure))
    );
    // Raising it again, as the maximum or the current protection, fails
    // and changes nothing.
    for set_max in [true, false] {
        assert_eq!(
            vm.protect(map, a, PAGE_SIZE, set_max, VmProt::DEFAULT),
            Err(VmError::ProtectionFailure)
        );
        let r = vm.region(map, a).expect("region");
        assert_eq!((r.max_prot, r.prot), (VmProt::READ, VmProt::READ));
    }
    // A range over both pages fails as a whole: the second page, whose
    // maximum is still everything, keeps its protection.
    assert_eq!(
        vm.protect(map, a, 2 * PAGE_SIZE, true, VmProt::ALL),
        Err(VmError::ProtectionFailure)
    );
    let r = vm.region(map, a + PAGE_SIZE).expect("region");
    assert_eq!((r.max_prot, r.prot), (VmProt::ALL, VmProt::DEFAULT));
    assert_eq!(vm.store(map, a + PAGE_SIZE, b"y"), Ok(()));
    // Lowering further, and setting the same maximum again, work.
    assert_eq!(vm.protect(map, a, PAGE_SIZE, true, VmProt::READ), Ok(()));
    assert_eq!(vm.protect(map, a, PAGE_SIZE, true, VmProt::NONE), Ok(()));
    let r = vm.region(map, a).expect("region");
    assert_eq!((r.max_prot, r.prot), (VmProt::NONE, VmProt::NONE));
}
