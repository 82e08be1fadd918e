//! `vm_attach` and the paging out of anonymous memory to the default pager,
//! against a scripted pager: the test reads what the kernel queued and
//! answers with hand-made messages.

mod calls;

use hurd_ipc::{Disposition, PortItem, PortName};
use hurd_vm::protocol::{control_item, memory_object, memory_object_default, null_item};
use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{
    KernelCall, MapId, ObjectId, Outgoing, PAGE_SIZE, ProtocolError, Stall, TicketStatus,
    VM_PROT_NO_CHANGE, Vm, VmError, VmInherit, VmProt,
};

type SimVm = Vm<SoftMmu, SoftPhys>;

const PAGER: PortName = PortName(100);
const CONTROL: PortName = PortName(200);
const DEFAULT: PortName = PortName(50);
const MO: PortName = PortName(60);
const MO_CONTROL: PortName = PortName(61);
const PAGE: usize = PAGE_SIZE as usize;

fn page(byte: u8) -> Vec<u8> {
    vec![byte; PAGE]
}

fn supply(vm: &mut SimVm, control: PortName, offset: u64, data: Vec<u8>) {
    vm.handle_pager_message(
        control,
        calls::data_supply(offset, data, 0, false, PortName::NULL),
    )
    .expect("supply");
}

fn load(vm: &mut SimVm, map: MapId, addr: u64, len: usize) -> Result<Vec<u8>, Stall> {
    let mut b = vec![0u8; len];
    vm.load(map, addr, &mut b).map(|()| b)
}

/// A ready external object of the scripted pager.
fn pager_object(vm: &mut SimVm) -> ObjectId {
    let (obj, _ready) = vm.create_external_object(PAGER, CONTROL).expect("object");
    vm.handle_pager_message(CONTROL, calls::ready(false, 2))
        .expect("ready");
    vm.take_outgoing();
    obj
}

// ---- vm_attach ----

#[test]
fn attach_hands_written_pages_to_the_pager_which_then_serves_faults() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 3 * PAGE_SIZE, true).expect("allocate");
    vm.store(map, a + 5, b"first").expect("store");
    vm.store(map, a + 2 * PAGE_SIZE, b"third").expect("store");
    let obj = pager_object(&mut vm);
    vm.attach(map, a, 3 * PAGE_SIZE, obj, 8 * PAGE_SIZE)
        .expect("attach");
    // The two written pages go to the pager, dirty, the kernel keeping a
    // copy; the untouched middle page is not sent.
    let out = vm.take_outgoing();
    let returns: Vec<(u64, Vec<u8>, bool, bool)> = out
        .iter()
        .map(|o| {
            assert_eq!(o.to, PAGER);
            match calls::object_call(o) {
                Some(memory_object::Call::data_return {
                    control,
                    offset,
                    data,
                    dirty,
                    kernel_copy,
                }) => {
                    assert_eq!(*control, control_item(CONTROL));
                    (*offset, data.data.clone(), *dirty, *kernel_copy)
                }
                m => panic!("expected data_return, got {m:?}"),
            }
        })
        .collect();
    assert_eq!(returns.len(), 2);
    assert_eq!(
        (returns[0].0, returns[0].2, returns[0].3),
        (8 * PAGE_SIZE, true, true)
    );
    assert_eq!(&returns[0].1[5..10], b"first");
    assert_eq!(returns[1].0, 10 * PAGE_SIZE);
    assert_eq!(&returns[1].1[..5], b"third");
    // The region now maps the pager's object, shared.
    let r = vm.region(map, a).expect("region");
    assert_eq!(
        (r.object, r.offset, r.size),
        (obj, 8 * PAGE_SIZE, 3 * PAGE_SIZE)
    );
    assert!(r.shared);
    assert_eq!(vm.stats().attached, 2);
    // Kept pages read without a message.
    assert_eq!(load(&mut vm, map, a + 5, 5).expect("load"), b"first");
    assert!(vm.take_outgoing().is_empty());
    // The untouched page comes from the pager.
    let t = match load(&mut vm, map, a + PAGE_SIZE, 1) {
        Err(Stall::Wait(t)) => t,
        r => panic!("expected a wait, got {r:?}"),
    };
    let out = vm.take_outgoing();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, PAGER);
    assert_eq!(
        calls::data_request(&out[0]).map(|r| r.0),
        Some(9 * PAGE_SIZE)
    );
    supply(&mut vm, CONTROL, 9 * PAGE_SIZE, page(b'p'));
    assert_eq!(vm.ticket_status(&t), TicketStatus::Done);
    assert_eq!(load(&mut vm, map, a + PAGE_SIZE, 1).expect("load"), b"p");
    // The pager takes the first page back (flush): the next fault is its.
    vm.handle_pager_message(
        CONTROL,
        calls::lock_request(
            8 * PAGE_SIZE,
            PAGE_SIZE,
            1,
            true,
            VM_PROT_NO_CHANGE,
            PortName::NULL,
        ),
    )
    .expect("lock_request");
    assert!(vm.take_outgoing().is_empty(), "clean: nothing returned");
    let t = match load(&mut vm, map, a, 1) {
        Err(Stall::Wait(t)) => t,
        r => panic!("expected a wait, got {r:?}"),
    };
    vm.take_outgoing();
    let mut d = page(0);
    d[..6].copy_from_slice(b"pager!");
    supply(&mut vm, CONTROL, 8 * PAGE_SIZE, d);
    assert_eq!(vm.ticket_status(&t), TicketStatus::Done);
    assert_eq!(load(&mut vm, map, a, 6).expect("load"), b"pager!");
    // The anonymous object is gone; writes are the pager's to collect.
    assert_eq!(vm.object_count(), 1);
    vm.store(map, a + PAGE_SIZE, b"w").expect("store");
    vm.deallocate(map, a, 3 * PAGE_SIZE).expect("deallocate");
    let out = vm.take_outgoing();
    assert!(out.iter().any(|o| matches!(
        calls::data_return(o),
        Some((offset, data, true)) if offset == 9 * PAGE_SIZE && data[0] == b'w'
    )));
    assert!(out.iter().any(calls::is_terminate));
}

#[test]
fn attach_sends_what_the_task_sees_through_copy_on_write() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    let parent = vm.create_map().expect("map");
    let a = vm
        .allocate(parent, 0, 2 * PAGE_SIZE, true)
        .expect("allocate");
    vm.store(parent, a, b"parent").expect("store");
    vm.store(parent, a + PAGE_SIZE, b"shared").expect("store");
    let child = vm.fork(parent).expect("fork");
    vm.store(child, a, b"child!").expect("store");
    let obj = pager_object(&mut vm);
    vm.attach(child, a, 2 * PAGE_SIZE, obj, 0).expect("attach");
    let got: Vec<(u64, Vec<u8>)> = vm
        .take_outgoing()
        .into_iter()
        .filter_map(|o| {
            calls::data_return(&o).map(|(offset, data, _)| (offset, data[..6].to_vec()))
        })
        .collect();
    assert_eq!(
        got,
        [(0, b"child!".to_vec()), (PAGE_SIZE, b"shared".to_vec())]
    );
    // The parent keeps its own memory.
    assert_eq!(load(&mut vm, parent, a, 6).expect("load"), b"parent");
    vm.store(parent, a + PAGE_SIZE, b"PARENT").expect("store");
    assert_eq!(
        load(&mut vm, child, a + PAGE_SIZE, 6).expect("load"),
        b"shared"
    );
}

#[test]
fn attach_part_of_a_region_clips_it() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 3 * PAGE_SIZE, true).expect("allocate");
    for i in 0..3u8 {
        vm.store(map, a + u64::from(i) * PAGE_SIZE, &[i + 1])
            .expect("store");
    }
    let obj = pager_object(&mut vm);
    vm.attach(map, a + PAGE_SIZE, PAGE_SIZE, obj, 0)
        .expect("attach");
    assert_eq!(vm.take_outgoing().len(), 1);
    assert_eq!(vm.region(map, a).expect("region").size, PAGE_SIZE);
    assert_eq!(vm.region(map, a + PAGE_SIZE).expect("region").object, obj);
    let last = vm.region(map, a + 2 * PAGE_SIZE).expect("region");
    assert_ne!(last.object, obj);
    for i in 0..3u8 {
        assert_eq!(
            load(&mut vm, map, a + u64::from(i) * PAGE_SIZE, 1).expect("load"),
            [i + 1]
        );
    }
}

#[test]
fn attach_errors_change_nothing() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 2 * PAGE_SIZE, true).expect("allocate");
    vm.store(map, a, b"keep").expect("store");
    let anon = vm.region(map, a).expect("region").object;
    let obj = pager_object(&mut vm);
    let err = |e: VmError| Err(Stall::Error(e));
    // Unaligned or empty.
    assert_eq!(
        vm.attach(map, a + 1, PAGE_SIZE, obj, 0),
        err(VmError::InvalidArgument)
    );
    assert_eq!(vm.attach(map, a, 0, obj, 0), err(VmError::InvalidArgument));
    assert_eq!(
        vm.attach(map, a, PAGE_SIZE, obj, 3),
        err(VmError::InvalidArgument)
    );
    assert_eq!(
        vm.attach(map, a, PAGE_SIZE, obj, u64::MAX - PAGE_SIZE + 1),
        err(VmError::InvalidArgument)
    );
    // Partly unmapped.
    assert_eq!(
        vm.attach(map, a, 3 * PAGE_SIZE, obj, 0),
        err(VmError::InvalidAddress)
    );
    // Not an external object, or no such object / map.
    assert_eq!(
        vm.attach(map, a, PAGE_SIZE, anon, 0),
        err(VmError::InvalidArgument)
    );
    assert_eq!(
        vm.attach(map, a, PAGE_SIZE, ObjectId(999), 0),
        err(VmError::InvalidName)
    );
    assert_eq!(
        vm.attach(MapId(999), a, PAGE_SIZE, obj, 0),
        err(VmError::InvalidName)
    );
    // A region a pager already backs.
    let m = vm
        .map_object(
            map,
            0,
            PAGE_SIZE,
            true,
            obj,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("map");
    assert_eq!(
        vm.attach(map, m, PAGE_SIZE, obj, 4 * PAGE_SIZE),
        err(VmError::InvalidArgument)
    );
    // A copy of a pager's memory is managed too.
    let c = vm
        .map_object(
            map,
            0,
            PAGE_SIZE,
            true,
            obj,
            0,
            true,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Copy,
        )
        .expect("map copy");
    assert_eq!(
        vm.attach(map, c, PAGE_SIZE, obj, 4 * PAGE_SIZE),
        err(VmError::InvalidArgument)
    );
    // The object already caches a page where the region would go.
    let mut b = [0u8; 1];
    assert!(matches!(vm.load(map, m, &mut b), Err(Stall::Wait(_))));
    vm.take_outgoing();
    supply(&mut vm, CONTROL, 0, page(1));
    assert_eq!(
        vm.attach(map, a, PAGE_SIZE, obj, 0),
        err(VmError::InvalidArgument)
    );
    // A dead pager.
    vm.pager_died(PAGER);
    assert_eq!(
        vm.attach(map, a, PAGE_SIZE, obj, 4 * PAGE_SIZE),
        err(VmError::MemoryFailure)
    );
    // Nothing changed.
    assert!(vm.take_outgoing().is_empty());
    assert_eq!(vm.region(map, a).expect("region").object, anon);
    assert_eq!(load(&mut vm, map, a, 4).expect("load"), b"keep");
}

#[test]
fn attach_waits_for_ready_and_runs_out_of_frames_cleanly() {
    // Three frames: two written pages, one free; attaching needs two.
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(3));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 2 * PAGE_SIZE, true).expect("allocate");
    vm.store(map, a, b"one").expect("store");
    vm.store(map, a + PAGE_SIZE, b"two").expect("store");
    let (obj, _ready) = vm.create_external_object(PAGER, CONTROL).expect("object");
    vm.take_outgoing();
    let t = match vm.attach(map, a, 2 * PAGE_SIZE, obj, 0) {
        Err(Stall::Wait(t)) => t,
        r => panic!("expected a wait for ready, got {r:?}"),
    };
    vm.handle_pager_message(CONTROL, calls::ready(false, 2))
        .expect("ready");
    assert_eq!(vm.ticket_status(&t), TicketStatus::Done);
    assert_eq!(
        vm.attach(map, a, 2 * PAGE_SIZE, obj, 0),
        Err(Stall::Error(VmError::ResourceShortage))
    );
    assert!(vm.take_outgoing().is_empty());
    assert_eq!(vm.phys().free_frames(), 1);
    assert_eq!(load(&mut vm, map, a + PAGE_SIZE, 3).expect("load"), b"two");
    // One page fits.
    vm.attach(map, a, PAGE_SIZE, obj, 0).expect("attach");
    assert_eq!(vm.take_outgoing().len(), 1);
    assert_eq!(load(&mut vm, map, a, 3).expect("load"), b"one");
}

// ---- anonymous memory and the default pager ----

fn ports(n: &mut u32) -> impl FnMut() -> Option<(PortName, PortName)> + '_ {
    move || {
        *n += 1;
        Some((MO, MO_CONTROL))
    }
}

#[test]
fn anonymous_pageout_goes_to_the_default_pager_and_comes_back() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    vm.set_default_pager(Some(DEFAULT));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 2 * PAGE_SIZE, true).expect("allocate");
    vm.store(map, a + 3, b"hello").expect("store");
    let obj = vm.region(map, a).expect("region").object;
    let mut made = 0;
    assert_eq!(
        vm.pageout_range(map, a, 2 * PAGE_SIZE, &mut ports(&mut made)),
        Ok(1)
    );
    assert_eq!(made, 1);
    assert_eq!(vm.frames_in_use(), 0);
    assert_eq!(vm.phys().free_frames(), 32);
    let out = vm.take_outgoing();
    assert_eq!(out.len(), 2);
    // The memory object's receive right goes to the default pager.
    assert_eq!(
        out[0],
        Outgoing::to_pager(
            DEFAULT,
            KernelCall::Default(memory_object_default::Call::create {
                new_memory_object: PortItem {
                    disposition: Disposition::MoveReceive,
                    name: MO
                },
                new_object_size: 2 * PAGE_SIZE,
                new_control: control_item(MO_CONTROL),
                new_name: null_item(),
                new_page_size: PAGE_SIZE
            })
        )
    );
    match &out[1] {
        Outgoing {
            to: MO,
            call:
                KernelCall::Default(memory_object_default::Call::data_initialize {
                    control,
                    offset: 0,
                    data,
                }),
            ..
        } if *control == control_item(MO_CONTROL) => assert_eq!(&data.data[3..8], b"hello"),
        o => panic!("expected data_initialize, got {o:?}"),
    }
    let o = vm.object(obj).expect("object");
    assert!(o.internal && !o.is_external() && o.is_paged_out(0));
    assert_eq!(vm.object_for_control(MO_CONTROL), Some(obj));
    // A page never paged out is zero-filled without asking.
    assert_eq!(load(&mut vm, map, a + PAGE_SIZE, 2).expect("load"), [0, 0]);
    assert!(vm.take_outgoing().is_empty());
    // Data the pager did not ask for is still rejected.
    let bad = vm.handle_pager_message(
        MO_CONTROL,
        calls::data_supply(0, page(9), 0, false, PortName::NULL),
    );
    assert_eq!(bad, Err(ProtocolError::Unsolicited));
    // The paged-out page is asked for.
    let t = match load(&mut vm, map, a + 3, 5) {
        Err(Stall::Wait(t)) => t,
        r => panic!("expected a wait, got {r:?}"),
    };
    let out = vm.take_outgoing();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, MO);
    assert!(matches!(
        calls::object_call(&out[0]),
        Some(memory_object::Call::data_request { control, offset: 0, .. })
            if *control == control_item(MO_CONTROL)
    ));
    let mut d = page(0);
    d[3..8].copy_from_slice(b"hello");
    supply(&mut vm, MO_CONTROL, 0, d);
    assert_eq!(vm.ticket_status(&t), TicketStatus::Done);
    assert_eq!(load(&mut vm, map, a + 3, 5).expect("load"), b"hello");
    // Clean and held by the pager: dropped without a message. The zero page
    // is initialized.
    assert_eq!(
        vm.pageout_range(map, a, 2 * PAGE_SIZE, &mut ports(&mut made)),
        Ok(2)
    );
    assert_eq!(made, 1, "one memory_object_create per object");
    let out = vm.take_outgoing();
    assert!(matches!(
        &out[..],
        [Outgoing {
            call: KernelCall::Default(memory_object_default::Call::data_initialize { offset, .. }),
            ..
        }] if *offset == PAGE_SIZE
    ));
    // Written again: a dirty data_return.
    let t = match vm.store(map, a, b"H") {
        Err(Stall::Wait(t)) => t,
        r => panic!("expected a wait, got {r:?}"),
    };
    vm.take_outgoing();
    supply(&mut vm, MO_CONTROL, 0, page(0));
    assert_eq!(vm.ticket_status(&t), TicketStatus::Done);
    vm.store(map, a, b"H").expect("store");
    assert_eq!(vm.pageout(obj, 0), Ok(true));
    assert!(matches!(
        &vm.take_outgoing()[..],
        [Outgoing {
            call: KernelCall::Object(memory_object::Call::data_return {
                offset: 0,
                dirty: true,
                kernel_copy: false,
                ..
            }),
            ..
        }]
    ));
    assert_eq!(vm.stats().creates, 1);
    // Deallocation terminates it, returning nothing.
    vm.deallocate(map, a, 2 * PAGE_SIZE).expect("deallocate");
    let out = vm.take_outgoing();
    assert!(matches!(
        &out[..],
        [Outgoing {
            to: MO,
            call: KernelCall::Object(memory_object::Call::terminate { control, .. }),
            ..
        }] if control.name == MO_CONTROL
    ));
}

#[test]
fn pageout_errors() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, PAGE_SIZE, true).expect("allocate");
    vm.store(map, a, b"stay").expect("store");
    let obj = vm.region(map, a).expect("region").object;
    let mut made = 0;
    // No default pager.
    assert_eq!(
        vm.pageout_range(map, a, PAGE_SIZE, &mut ports(&mut made)),
        Err(VmError::Failure)
    );
    assert_eq!(vm.pageout(obj, 0), Err(VmError::InvalidArgument));
    vm.set_default_pager(Some(DEFAULT));
    // No ports.
    assert_eq!(
        vm.pageout_range(map, a, PAGE_SIZE, &mut || None),
        Err(VmError::ResourceShortage)
    );
    assert_eq!(
        vm.pageout_range(map, a + 1, PAGE_SIZE, &mut ports(&mut made)),
        Err(VmError::InvalidArgument)
    );
    assert_eq!(
        vm.pageout_range(MapId(999), a, PAGE_SIZE, &mut ports(&mut made)),
        Err(VmError::InvalidName)
    );
    assert_eq!(vm.create_internal_object(obj, MO, MO_CONTROL), Ok(()));
    assert_eq!(
        vm.create_internal_object(obj, PortName(70), PortName(71)),
        Err(VmError::InvalidArgument),
        "already has a pager"
    );
    // Ports already in use.
    let b = vm.allocate(map, 0, PAGE_SIZE, true).expect("allocate");
    let other = vm.region(map, b).expect("region").object;
    assert_eq!(
        vm.create_internal_object(other, MO, PortName(71)),
        Err(VmError::InvalidArgument)
    );
    assert_eq!(
        vm.create_internal_object(other, PortName(70), MO_CONTROL),
        Err(VmError::InvalidArgument)
    );
    assert_eq!(
        vm.create_internal_object(ObjectId(999), PortName(70), PortName(71)),
        Err(VmError::InvalidName)
    );
    vm.take_outgoing();
    assert_eq!(load(&mut vm, map, a, 4).expect("load"), b"stay");
    // A dead default pager: pages are kept, not thrown away.
    vm.pager_died(MO);
    assert_eq!(vm.pageout(obj, 0), Err(VmError::MemoryFailure));
    assert_eq!(load(&mut vm, map, a, 4).expect("load"), b"stay");
}

#[test]
fn paged_out_page_of_a_dead_default_pager_fails_the_fault() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    vm.set_default_pager(Some(DEFAULT));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 2 * PAGE_SIZE, true).expect("allocate");
    vm.store(map, a, b"gone").expect("store");
    let mut made = 0;
    vm.pageout_range(map, a, PAGE_SIZE, &mut ports(&mut made))
        .expect("pageout");
    vm.take_outgoing();
    let t = match load(&mut vm, map, a, 1) {
        Err(Stall::Wait(t)) => t,
        r => panic!("expected a wait, got {r:?}"),
    };
    vm.pager_died(MO);
    assert_eq!(
        vm.ticket_status(&t),
        TicketStatus::Failed(VmError::MemoryFailure)
    );
    assert_eq!(
        load(&mut vm, map, a, 1),
        Err(Stall::Error(VmError::MemoryFailure))
    );
    // Pages it never had are still zero.
    assert_eq!(load(&mut vm, map, a + PAGE_SIZE, 1).expect("load"), [0]);
}

#[test]
fn fork_after_pageout_copies_on_write() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    vm.set_default_pager(Some(DEFAULT));
    let parent = vm.create_map().expect("map");
    let a = vm.allocate(parent, 0, PAGE_SIZE, true).expect("allocate");
    vm.store(parent, a, b"orig").expect("store");
    let mut made = 0;
    vm.pageout_range(parent, a, PAGE_SIZE, &mut ports(&mut made))
        .expect("pageout");
    vm.take_outgoing();
    let child = vm.fork(parent).expect("fork");
    // The child's first read comes from the default pager.
    let t = match load(&mut vm, child, a, 4) {
        Err(Stall::Wait(t)) => t,
        r => panic!("expected a wait, got {r:?}"),
    };
    let mut d = page(0);
    d[..4].copy_from_slice(b"orig");
    let out = vm.take_outgoing();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, MO);
    assert_eq!(calls::data_request(&out[0]).map(|r| r.0), Some(0));
    supply(&mut vm, MO_CONTROL, 0, d);
    assert_eq!(vm.ticket_status(&t), TicketStatus::Done);
    assert_eq!(load(&mut vm, child, a, 4).expect("load"), b"orig");
    vm.store(child, a, b"kid!").expect("store");
    assert_eq!(load(&mut vm, parent, a, 4).expect("load"), b"orig");
    vm.store(parent, a, b"dad!").expect("store");
    assert_eq!(load(&mut vm, child, a, 4).expect("load"), b"kid!");
}

#[test]
fn attach_fetches_pages_the_default_pager_holds() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    vm.set_default_pager(Some(DEFAULT));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, PAGE_SIZE, true).expect("allocate");
    vm.store(map, a, b"swap").expect("store");
    let mut made = 0;
    vm.pageout_range(map, a, PAGE_SIZE, &mut ports(&mut made))
        .expect("pageout");
    let obj = pager_object(&mut vm);
    let t = match vm.attach(map, a, PAGE_SIZE, obj, 0) {
        Err(Stall::Wait(t)) => t,
        r => panic!("expected a wait, got {r:?}"),
    };
    let mut d = page(0);
    d[..4].copy_from_slice(b"swap");
    supply(&mut vm, MO_CONTROL, 0, d);
    assert_eq!(vm.ticket_status(&t), TicketStatus::Done);
    vm.attach(map, a, PAGE_SIZE, obj, 0).expect("attach");
    let out = vm.take_outgoing();
    assert!(
        out.iter()
            .any(|o| matches!(calls::data_return(o), Some((_, data, _)) if &data[..4] == b"swap"))
    );
    // The temporary object is terminated with the region's old memory.
    assert!(out.iter().any(|o| o.to == MO && calls::is_terminate(o)));
    assert_eq!(load(&mut vm, map, a, 4).expect("load"), b"swap");
}

#[test]
fn default_pager_flush_of_anonymous_pages_asks_it_back() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    vm.set_default_pager(Some(DEFAULT));
    let map = vm.create_map().expect("map");
    let a = vm.allocate(map, 0, 2 * PAGE_SIZE, true).expect("allocate");
    vm.store(map, a, b"zero").expect("store");
    let mut made = 0;
    vm.pageout_range(map, a, PAGE_SIZE, &mut ports(&mut made))
        .expect("pageout");
    vm.store(map, a + PAGE_SIZE, b"one").expect("store");
    vm.take_outgoing();
    // The default pager takes page 1 back with its data, flushing it.
    vm.handle_pager_message(
        MO_CONTROL,
        calls::lock_request(
            PAGE_SIZE,
            PAGE_SIZE,
            1,
            true,
            VM_PROT_NO_CHANGE,
            PortName::NULL,
        ),
    )
    .expect("lock_request");
    let out = vm.take_outgoing();
    assert_eq!(out.len(), 1);
    assert!(matches!(calls::data_return(&out[0]), Some((offset, _, true)) if offset == PAGE_SIZE));
    // The page is the pager's now: asked for, not zero-filled.
    assert!(matches!(
        load(&mut vm, map, a + PAGE_SIZE, 1),
        Err(Stall::Wait(_))
    ));
    // Malformed messages on the control port change nothing.
    for bad in [
        calls::data_supply(1, page(1), 0, false, PortName::NULL),
        calls::data_supply(0, vec![1; 10], 0, false, PortName::NULL),
        calls::data_unavailable(0, PAGE_SIZE),
        calls::lock_request(0, PAGE_SIZE, 9, true, VM_PROT_NO_CHANGE, PortName::NULL),
    ] {
        assert!(vm.handle_pager_message(MO_CONTROL, bad).is_err());
    }
    let mut d = page(0);
    d[..3].copy_from_slice(b"one");
    supply(&mut vm, MO_CONTROL, PAGE_SIZE, d);
    assert_eq!(load(&mut vm, map, a + PAGE_SIZE, 3).expect("load"), b"one");
}

/// Answers the kernel's data_requests to the default pager from `swap`.
fn serve(vm: &mut SimVm, swap: &mut std::collections::BTreeMap<(PortName, u64), Vec<u8>>) {
    for o in vm.take_outgoing() {
        match o.call {
            KernelCall::Default(memory_object_default::Call::data_initialize {
                offset,
                data,
                ..
            })
            | KernelCall::Object(memory_object::Call::data_return { offset, data, .. }) => {
                swap.insert((o.to, offset), data.data);
            }
            KernelCall::Object(memory_object::Call::data_request {
                control, offset, ..
            }) => {
                let data = swap.get(&(o.to, offset)).cloned().expect("paged out");
                supply(vm, control.name, offset, data);
            }
            _ => {}
        }
    }
}

fn read(
    vm: &mut SimVm,
    swap: &mut std::collections::BTreeMap<(PortName, u64), Vec<u8>>,
    map: MapId,
    addr: u64,
) -> Vec<u8> {
    loop {
        match load(vm, map, addr, 4) {
            Ok(b) => return b,
            Err(Stall::Wait(_)) => serve(vm, swap),
            Err(e) => panic!("{e:?}"),
        }
    }
}

fn write(
    vm: &mut SimVm,
    swap: &mut std::collections::BTreeMap<(PortName, u64), Vec<u8>>,
    map: MapId,
    addr: u64,
    data: &[u8],
) {
    loop {
        match vm.store(map, addr, data) {
            Ok(()) => return,
            Err(Stall::Wait(_)) => serve(vm, swap),
            Err(e) => panic!("{e:?}"),
        }
    }
}

#[test]
fn copy_of_shared_paged_out_memory_is_a_snapshot() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    vm.set_default_pager(Some(DEFAULT));
    let mut swap = std::collections::BTreeMap::new();
    let parent = vm.create_map().expect("map");
    let a = vm
        .allocate(parent, 0, 2 * PAGE_SIZE, true)
        .expect("allocate");
    vm.store(parent, a, b"out!").expect("store");
    vm.store(parent, a + PAGE_SIZE, b"in!!").expect("store");
    vm.inherit(parent, a, 2 * PAGE_SIZE, VmInherit::Share)
        .expect("inherit");
    let sharer = vm.fork(parent).expect("fork");
    let mut made = 0;
    vm.pageout_range(parent, a, PAGE_SIZE, &mut ports(&mut made))
        .expect("pageout");
    serve(&mut vm, &mut swap);
    // A copy now, while the object is shared and partly at the default pager.
    vm.inherit(parent, a, 2 * PAGE_SIZE, VmInherit::Copy)
        .expect("inherit");
    let copy = vm.fork(parent).expect("fork");
    // The sharers write; the copy keeps what was there at fork.
    write(&mut vm, &mut swap, sharer, a, b"new0");
    write(&mut vm, &mut swap, parent, a + PAGE_SIZE, b"new1");
    assert_eq!(read(&mut vm, &mut swap, copy, a), b"out!");
    assert_eq!(read(&mut vm, &mut swap, copy, a + PAGE_SIZE), b"in!!");
    assert_eq!(read(&mut vm, &mut swap, parent, a), b"new0");
    assert_eq!(read(&mut vm, &mut swap, sharer, a + PAGE_SIZE), b"new1");
    // And the copy's own writes stay its own.
    write(&mut vm, &mut swap, copy, a + PAGE_SIZE, b"mine");
    assert_eq!(read(&mut vm, &mut swap, parent, a + PAGE_SIZE), b"new1");
    for m in [parent, sharer, copy] {
        vm.destroy_map(m).expect("destroy");
    }
    assert_eq!((vm.object_count(), vm.frames_in_use()), (0, 0));
}
