//! The kernel side of the memory_object protocol against a scripted pager:
//! the test plays the pager, reading what the kernel queued and answering
//! with hand-made messages.

mod calls;

use hurd_ipc::{Disposition, PortItem, PortName};
use hurd_vm::protocol::{control_item, memory_object, null_item};
use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{
    KernelCall, MapId, ObjectId, Outgoing, PAGE_SIZE, ProtocolError, Stall, Ticket, TicketStatus,
    VM_PROT_NO_CHANGE, Vm, VmError, VmInherit, VmProt,
};

const PAGER: PortName = PortName(100);
const CONTROL: PortName = PortName(200);
const REPLY: PortName = PortName(300);
const PAGE: usize = PAGE_SIZE as usize;

struct Setup {
    vm: Vm<SoftMmu, SoftPhys>,
    map: MapId,
    obj: ObjectId,
    addr: u64,
}

/// A kernel with a 4-page external object mapped shared and read-write.
fn setup() -> Setup {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    let map = vm.create_map().expect("map");
    let (obj, ready) = vm.create_external_object(PAGER, CONTROL).expect("object");
    assert_eq!(
        vm.take_outgoing(),
        [Outgoing::to_pager(
            PAGER,
            KernelCall::Object(memory_object::Call::init {
                control: control_item(CONTROL),
                name: null_item(),
                page_size: PAGE_SIZE
            })
        )]
    );
    assert_eq!(vm.ticket_status(&ready), TicketStatus::Pending);
    vm.handle_pager_message(CONTROL, calls::ready(false, 2))
        .expect("ready");
    assert_eq!(vm.ticket_status(&ready), TicketStatus::Done);
    let addr = vm
        .map_object(
            map,
            0,
            4 * PAGE_SIZE,
            true,
            obj,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("map");
    Setup { vm, map, obj, addr }
}

fn page(byte: u8) -> Vec<u8> {
    vec![byte; PAGE]
}

fn supply(
    vm: &mut Vm<SoftMmu, SoftPhys>,
    offset: u64,
    data: Vec<u8>,
    lock: VmProt,
    precious: bool,
) {
    vm.handle_pager_message(
        CONTROL,
        calls::data_supply(offset, data, lock.bits(), precious, PortName::NULL),
    )
    .expect("supply");
}

fn lock_request(
    vm: &mut Vm<SoftMmu, SoftPhys>,
    offset: u64,
    size: u64,
    should_return: u32,
    should_flush: bool,
    lock_value: u32,
) -> Result<(), ProtocolError> {
    vm.handle_pager_message(
        CONTROL,
        calls::lock_request(offset, size, should_return, should_flush, lock_value, REPLY),
    )
}

fn wait_ticket(r: Result<(), Stall>) -> Ticket {
    match r {
        Err(Stall::Wait(t)) => t,
        other => panic!("expected a wait, got {other:?}"),
    }
}

/// Faults page `offset` in through data_request / data_supply.
fn fault_in(s: &mut Setup, offset: u64, fill: u8, lock: VmProt, precious: bool) {
    let mut b = [0u8; 1];
    let t = wait_ticket(s.vm.load(s.map, s.addr + offset, &mut b));
    s.vm.take_outgoing();
    supply(&mut s.vm, offset, page(fill), lock, precious);
    assert_eq!(s.vm.ticket_status(&t), TicketStatus::Done);
    s.vm.load(s.map, s.addr + offset, &mut b)
        .expect("load after supply");
    assert_eq!(b[0], fill);
}

#[test]
fn data_request_once_then_supply() {
    let mut s = setup();
    let mut b = [0u8; 4];
    let t1 = wait_ticket(s.vm.load(s.map, s.addr + 10, &mut b));
    let out = s.vm.take_outgoing();
    assert_eq!(
        out,
        [Outgoing::to_pager(
            PAGER,
            KernelCall::Object(memory_object::Call::data_request {
                control: control_item(CONTROL),
                offset: 0,
                length: PAGE_SIZE,
                desired_access: 1
            })
        )]
    );
    // A second fault on the same page waits; it is not requested twice.
    let t2 = wait_ticket(s.vm.load(s.map, s.addr + 20, &mut b));
    assert!(s.vm.take_outgoing().is_empty());
    assert_eq!(t1.id, t2.id);
    let mut data = page(0);
    data[10..14].copy_from_slice(b"mach");
    supply(&mut s.vm, 0, data, VmProt::NONE, false);
    assert_eq!(s.vm.ticket_status(&t1), TicketStatus::Done);
    assert_eq!(s.vm.ticket_status(&t2), TicketStatus::Done);
    s.vm.load(s.map, s.addr + 10, &mut b).expect("load");
    assert_eq!(&b, b"mach");
}

#[test]
fn lock_request_returns_dirty_pages_and_flushes() {
    let mut s = setup();
    fault_in(&mut s, 0, 7, VmProt::NONE, false);
    // Clean page: RETURN_DIRTY sends nothing back, but the reply comes.
    lock_request(&mut s.vm, 0, PAGE_SIZE, 1, false, VM_PROT_NO_CHANGE).expect("lock");
    assert_eq!(
        s.vm.take_outgoing(),
        [Outgoing::reply(
            REPLY,
            memory_object::Call::lock_completed {
                control: control_item(CONTROL),
                offset: 0,
                length: PAGE_SIZE
            }
        )]
    );
    // Write: the MMU's dirty bit makes the page dirty; it goes back, kept.
    s.vm.store(s.map, s.addr + 1, b"xy").expect("store");
    lock_request(&mut s.vm, 0, PAGE_SIZE, 1, false, VM_PROT_NO_CHANGE).expect("lock");
    let out = s.vm.take_outgoing();
    assert_eq!(out.len(), 2);
    match calls::object_call(&out[0]) {
        Some(memory_object::Call::data_return {
            offset,
            data,
            dirty,
            kernel_copy,
            ..
        }) => {
            assert_eq!((*offset, *dirty, *kernel_copy), (0, true, true));
            assert_eq!(&data.data[..3], &[7, b'x', b'y']);
        }
        m => panic!("expected data_return, got {m:?}"),
    }
    // Now clean again: nothing to return.
    lock_request(&mut s.vm, 0, PAGE_SIZE, 1, false, VM_PROT_NO_CHANGE).expect("lock");
    assert_eq!(s.vm.take_outgoing().len(), 1);
    // Write, then return-and-flush: returned without a kernel copy, and gone.
    s.vm.store(s.map, s.addr, b"z").expect("store");
    lock_request(&mut s.vm, 0, PAGE_SIZE, 1, true, VM_PROT_NO_CHANGE).expect("lock");
    let out = s.vm.take_outgoing();
    assert!(matches!(
        calls::object_call(&out[0]),
        Some(memory_object::Call::data_return {
            dirty: true,
            kernel_copy: false,
            ..
        })
    ));
    assert_eq!(s.vm.object(s.obj).map(|o| o.resident_pages()), Some(0));
    // The next access asks the pager again.
    let mut b = [0u8; 1];
    wait_ticket(s.vm.load(s.map, s.addr, &mut b));
    assert_eq!(
        calls::data_request(&s.vm.take_outgoing()[0]).map(|r| r.0),
        Some(0)
    );
}

#[test]
fn flush_without_return_discards_dirty_data() {
    let mut s = setup();
    fault_in(&mut s, PAGE_SIZE, 1, VmProt::NONE, false);
    s.vm.store(s.map, s.addr + PAGE_SIZE, b"lost")
        .expect("store");
    lock_request(&mut s.vm, 0, 4 * PAGE_SIZE, 0, true, VM_PROT_NO_CHANGE).expect("lock");
    let out = s.vm.take_outgoing();
    assert_eq!(out.len(), 1, "only lock_completed: {out:?}");
    assert_eq!(s.vm.object(s.obj).map(|o| o.resident_pages()), Some(0));
}

#[test]
fn return_all_returns_precious_clean_pages() {
    let mut s = setup();
    fault_in(&mut s, 0, 3, VmProt::NONE, true);
    fault_in(&mut s, PAGE_SIZE, 4, VmProt::NONE, false);
    lock_request(&mut s.vm, 0, 2 * PAGE_SIZE, 2, false, VM_PROT_NO_CHANGE).expect("lock");
    let out = s.vm.take_outgoing();
    let returns: Vec<_> = out
        .iter()
        .filter_map(|o| calls::data_return(o).map(|(offset, _, dirty)| (offset, dirty)))
        .collect();
    assert_eq!(returns, [(0, false)]);
}

#[test]
fn write_lock_then_unlock() {
    let mut s = setup();
    fault_in(&mut s, 0, 9, VmProt::WRITE, false);
    // The pager withheld write: a store asks for an unlock.
    let t = wait_ticket(s.vm.store(s.map, s.addr, b"w"));
    assert_eq!(
        s.vm.take_outgoing()[0].call,
        KernelCall::Object(memory_object::Call::data_unlock {
            control: control_item(CONTROL),
            offset: 0,
            length: PAGE_SIZE,
            desired_access: 2
        })
    );
    let t2 = wait_ticket(s.vm.store(s.map, s.addr, b"w"));
    assert!(s.vm.take_outgoing().is_empty(), "unlock asked once");
    lock_request(&mut s.vm, 0, PAGE_SIZE, 0, false, 0).expect("unlock");
    let out = s.vm.take_outgoing();
    assert!(matches!(
        out.iter().map(calls::object_call).collect::<Vec<_>>()[..],
        [Some(memory_object::Call::lock_completed { .. })]
    ));
    assert_eq!(s.vm.ticket_status(&t), TicketStatus::Done);
    assert_eq!(s.vm.ticket_status(&t2), TicketStatus::Done);
    s.vm.store(s.map, s.addr, b"w").expect("store after unlock");
    // Locking again revokes write from the existing translation.
    lock_request(&mut s.vm, 0, PAGE_SIZE, 1, false, VmProt::WRITE.bits()).expect("lock");
    assert!(matches!(
        calls::data_return(&s.vm.take_outgoing()[0]),
        Some((_, _, true))
    ));
    wait_ticket(s.vm.store(s.map, s.addr, b"w"));
}

#[test]
fn data_error_fails_the_fault() {
    let mut s = setup();
    let mut b = [0u8; 1];
    let t = wait_ticket(s.vm.load(s.map, s.addr, &mut b));
    s.vm.handle_pager_message(CONTROL, calls::data_error(0, PAGE_SIZE, 5))
        .expect("error");
    assert_eq!(
        s.vm.ticket_status(&t),
        TicketStatus::Failed(VmError::MemoryError)
    );
    // Only waiters at the time are affected: a new fault asks again.
    wait_ticket(s.vm.load(s.map, s.addr, &mut b));
}

#[test]
fn data_unavailable_zero_fills() {
    let mut s = setup();
    let mut b = [1u8; 1];
    let t = wait_ticket(s.vm.load(s.map, s.addr + 2 * PAGE_SIZE, &mut b));
    s.vm.handle_pager_message(CONTROL, calls::data_unavailable(2 * PAGE_SIZE, PAGE_SIZE))
        .expect("unavailable");
    assert_eq!(s.vm.ticket_status(&t), TicketStatus::Done);
    s.vm.load(s.map, s.addr + 2 * PAGE_SIZE, &mut b)
        .expect("load");
    assert_eq!(b[0], 0);
}

#[test]
fn dead_pager_fails_waiters_and_later_faults() {
    let mut s = setup();
    fault_in(&mut s, 0, 5, VmProt::NONE, false);
    let mut b = [0u8; 1];
    let t = wait_ticket(s.vm.load(s.map, s.addr + PAGE_SIZE, &mut b));
    s.vm.pager_died(PAGER);
    assert_eq!(
        s.vm.ticket_status(&t),
        TicketStatus::Failed(VmError::MemoryFailure)
    );
    assert_eq!(
        s.vm.load(s.map, s.addr + PAGE_SIZE, &mut b),
        Err(Stall::Error(VmError::MemoryFailure))
    );
    // What was resident stays readable.
    s.vm.load(s.map, s.addr, &mut b).expect("resident page");
    assert_eq!(b[0], 5);
}

#[test]
fn destroy_fails_everything_and_terminates() {
    let mut s = setup();
    fault_in(&mut s, 0, 5, VmProt::NONE, false);
    s.vm.handle_pager_message(CONTROL, calls::destroy(0))
        .expect("destroy");
    let out = s.vm.take_outgoing();
    assert!(out.last().is_some_and(calls::is_terminate));
    let mut b = [0u8; 1];
    assert_eq!(
        s.vm.load(s.map, s.addr, &mut b),
        Err(Stall::Error(VmError::MemoryFailure))
    );
    assert_eq!(
        lock_request(&mut s.vm, 0, PAGE_SIZE, 0, true, VM_PROT_NO_CHANGE),
        Err(ProtocolError::Terminated)
    );
}

#[test]
fn unmapping_returns_dirty_pages_then_terminates() {
    let mut s = setup();
    fault_in(&mut s, 0, 1, VmProt::NONE, false);
    fault_in(&mut s, PAGE_SIZE, 2, VmProt::NONE, false);
    s.vm.store(s.map, s.addr + PAGE_SIZE, b"dirty")
        .expect("store");
    s.vm.deallocate(s.map, s.addr, 4 * PAGE_SIZE)
        .expect("deallocate");
    let out = s.vm.take_outgoing();
    assert_eq!(out.len(), 2, "{out:?}");
    match calls::object_call(&out[0]) {
        Some(memory_object::Call::data_return {
            offset,
            data,
            dirty: true,
            kernel_copy: false,
            ..
        }) => {
            assert_eq!(*offset, PAGE_SIZE);
            assert_eq!(&data.data[..5], b"dirty");
        }
        m => panic!("expected data_return, got {m:?}"),
    }
    // The control port's receive right goes back with the kernel's reference.
    assert_eq!(
        out[1],
        Outgoing {
            to: PAGER,
            disposition: Disposition::MoveSend,
            call: KernelCall::Object(memory_object::Call::terminate {
                control: PortItem {
                    disposition: Disposition::MoveReceive,
                    name: CONTROL
                },
                name: null_item()
            })
        }
    );
    assert_eq!(s.vm.frames_in_use(), 0);
    // The control port is dead now: later messages on it are rejected.
    assert_eq!(
        lock_request(&mut s.vm, 0, PAGE_SIZE, 0, true, VM_PROT_NO_CHANGE),
        Err(ProtocolError::Terminated)
    );
}

#[test]
fn malformed_and_unsolicited_messages_are_rejected_without_effect() {
    let mut s = setup();
    fault_in(&mut s, 0, 8, VmProt::NONE, false);
    let mut b = [0u8; 1];
    let t = wait_ticket(s.vm.load(s.map, s.addr + PAGE_SIZE, &mut b));
    s.vm.take_outgoing();
    let before = s.vm.frames_in_use();
    let bad = |offset, data: Vec<u8>, lock: u32| {
        calls::data_supply(offset, data, lock, false, PortName::NULL)
    };
    let cases = [
        (
            CONTROL,
            bad(PAGE_SIZE + 1, page(1), 0),
            ProtocolError::Unaligned,
        ),
        (
            CONTROL,
            bad(PAGE_SIZE, vec![1; 100], 0),
            ProtocolError::WrongSize,
        ),
        (
            CONTROL,
            bad(PAGE_SIZE, Vec::new(), 0),
            ProtocolError::WrongSize,
        ),
        (
            CONTROL,
            bad(PAGE_SIZE, page(1), 99),
            ProtocolError::BadValue,
        ),
        // Page 0 is resident and page 2 was never asked for.
        (CONTROL, bad(0, page(1), 0), ProtocolError::Unsolicited),
        (
            CONTROL,
            bad(2 * PAGE_SIZE, page(1), 0),
            ProtocolError::Unsolicited,
        ),
        // Covers the requested page and an unrequested one: all or nothing.
        (
            CONTROL,
            bad(PAGE_SIZE, page(1).repeat(2), 0),
            ProtocolError::Unsolicited,
        ),
        (
            CONTROL,
            bad(64 * PAGE_SIZE, page(1), 0),
            ProtocolError::OutOfRange,
        ),
        (
            PortName(999),
            bad(PAGE_SIZE, page(1), 0),
            ProtocolError::UnknownControl,
        ),
        (
            CONTROL,
            calls::data_unavailable(0, PAGE_SIZE),
            ProtocolError::Unsolicited,
        ),
        (
            CONTROL,
            calls::lock_request(0, PAGE_SIZE, 7, true, 0, REPLY),
            ProtocolError::BadValue,
        ),
        (
            CONTROL,
            calls::lock_request(3, PAGE_SIZE, 0, true, 0, REPLY),
            ProtocolError::Unaligned,
        ),
        (CONTROL, calls::ready(true, 17), ProtocolError::BadValue),
    ];
    for (control, msg, want) in cases {
        assert_eq!(
            s.vm.handle_pager_message(control, msg.clone()),
            Err(want),
            "{msg:?}"
        );
    }
    assert!(
        s.vm.take_outgoing().is_empty(),
        "rejected messages send nothing"
    );
    assert_eq!(s.vm.frames_in_use(), before);
    assert_eq!(s.vm.stats().rejected, 13);
    // A data_error for a page nothing waits on is stale (the answer to an
    // unlock whose page was paged out meanwhile), not malformed: ignored.
    let stale = calls::data_error(3 * PAGE_SIZE, PAGE_SIZE, 5);
    assert_eq!(s.vm.handle_pager_message(CONTROL, stale), Ok(()));
    assert!(s.vm.take_outgoing().is_empty());
    assert_eq!(s.vm.stats().rejected, 13);
    // The object is as it was: page 0 still holds the pager's data and the
    // request for page 1 is still pending.
    s.vm.load(s.map, s.addr, &mut b).expect("load");
    assert_eq!(b[0], 8);
    assert_eq!(s.vm.ticket_status(&t), TicketStatus::Pending);
    supply(&mut s.vm, PAGE_SIZE, page(2), VmProt::NONE, false);
    assert_eq!(s.vm.ticket_status(&t), TicketStatus::Done);
}

#[test]
fn copy_mapping_of_external_object_is_copy_on_write() {
    let mut s = setup();
    fault_in(&mut s, 0, 6, VmProt::NONE, false);
    let copy =
        s.vm.map_object(
            s.map,
            0,
            PAGE_SIZE,
            true,
            s.obj,
            0,
            true,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Copy,
        )
        .expect("copy map");
    s.vm.store(s.map, copy, b"private")
        .expect("store into copy");
    let mut b = [0u8; 1];
    s.vm.load(s.map, s.addr, &mut b).expect("load shared");
    assert_eq!(b[0], 6, "the pager's object is untouched");
    // Nothing dirty in the pager's object.
    lock_request(&mut s.vm, 0, PAGE_SIZE, 1, false, VM_PROT_NO_CHANGE).expect("lock");
    assert_eq!(s.vm.take_outgoing().len(), 1);
}

#[test]
fn change_attributes_and_get_attributes() {
    let mut s = setup();
    s.vm.handle_pager_message(CONTROL, calls::change_attributes(true, 0, REPLY))
        .expect("change");
    assert_eq!(
        s.vm.take_outgoing(),
        [Outgoing::reply(
            REPLY,
            memory_object::Call::change_completed {
                may_cache: true,
                copy_strategy: 0
            }
        )]
    );
    assert_eq!(s.vm.object_attributes(CONTROL), Ok((true, true, 0)));
}

// ---- may_cache ----

const PAGER2: PortName = PortName(101);
const CONTROL2: PortName = PortName(201);

/// A ready object of `pager` with may_cache, mapped at a fresh address.
fn cached_setup(
    vm: &mut Vm<SoftMmu, SoftPhys>,
    map: MapId,
    pager: PortName,
    control: PortName,
) -> (ObjectId, u64) {
    let (obj, _) = vm.create_external_object(pager, control).expect("object");
    vm.handle_pager_message(control, calls::ready(true, 2))
        .expect("ready");
    vm.take_outgoing();
    (obj, map_it(vm, map, obj))
}

fn map_it(vm: &mut Vm<SoftMmu, SoftPhys>, map: MapId, obj: ObjectId) -> u64 {
    vm.map_object(
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
    .expect("map")
}

fn terminates(out: &[Outgoing], pager: PortName) -> bool {
    out.iter().any(|o| o.to == pager && calls::is_terminate(o))
}

#[test]
fn may_cache_keeps_the_object_after_unmapping() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    let map = vm.create_map().expect("map");
    let (obj, a) = cached_setup(&mut vm, map, PAGER, CONTROL);
    let mut b = [0u8; 1];
    wait_ticket(vm.load(map, a, &mut b));
    vm.take_outgoing();
    supply(&mut vm, 0, page(4), VmProt::NONE, false);
    vm.store(map, a + 1, b"d").expect("store");
    vm.deallocate(map, a, PAGE_SIZE).expect("deallocate");
    // Kept: no data_return, no terminate; pages stay resident.
    assert!(vm.take_outgoing().is_empty());
    assert_eq!(vm.cached_objects(), [obj]);
    assert_eq!(vm.object_for_pager(PAGER), Some(obj));
    assert_eq!(vm.object(obj).map(|o| o.resident_pages()), Some(1));
    // Mapped again: no init, and the page is there without a data_request.
    let a = map_it(&mut vm, map, obj);
    assert!(vm.cached_objects().is_empty());
    let mut d = [0u8; 2];
    vm.load(map, a, &mut d).expect("load");
    assert_eq!(&d, &[4, b'd']);
    assert!(vm.take_outgoing().is_empty());
    // The pager still sees its dirty data when the object finally goes.
    vm.deallocate(map, a, PAGE_SIZE).expect("deallocate");
    vm.handle_pager_message(CONTROL, calls::change_attributes(false, 2, PortName::NULL))
        .expect("change_attributes");
    let out = vm.take_outgoing();
    assert!(
        out.iter()
            .any(|o| matches!(calls::data_return(o), Some((_, data, true)) if data[1] == b'd'))
    );
    assert!(terminates(&out, PAGER));
    assert!(vm.cached_objects().is_empty());
    assert_eq!(vm.object_count(), 0);
    assert_eq!(vm.frames_in_use(), 0);
    // Its control port is dead now.
    assert_eq!(
        vm.handle_pager_message(CONTROL, calls::data_unavailable(0, PAGE_SIZE)),
        Err(ProtocolError::Terminated)
    );
}

#[test]
fn without_may_cache_unmapping_terminates() {
    let mut s = setup();
    s.vm.deallocate(s.map, s.addr, 4 * PAGE_SIZE)
        .expect("deallocate");
    assert!(terminates(&s.vm.take_outgoing(), PAGER));
    assert!(s.vm.cached_objects().is_empty());
    assert_eq!(s.vm.object_for_pager(PAGER), None);
}

#[test]
fn object_cache_is_bounded_and_drops_dead_or_destroyed_objects() {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(32));
    let map = vm.create_map().expect("map");
    vm.set_object_cache_limit(1);
    let (o1, a1) = cached_setup(&mut vm, map, PAGER, CONTROL);
    let (o2, a2) = cached_setup(&mut vm, map, PAGER2, CONTROL2);
    vm.deallocate(map, a1, PAGE_SIZE).expect("deallocate");
    assert_eq!(vm.cached_objects(), [o1]);
    // A second one pushes the oldest out.
    vm.deallocate(map, a2, PAGE_SIZE).expect("deallocate");
    assert_eq!(vm.cached_objects(), [o2]);
    let out = vm.take_outgoing();
    assert!(terminates(&out, PAGER) && !terminates(&out, PAGER2));
    assert_eq!(vm.object(o1).map(|_| ()), None);
    // A cached object whose pager dies goes.
    vm.pager_died(PAGER2);
    assert!(vm.cached_objects().is_empty());
    assert_eq!(vm.object_count(), 0);
    // So does one the pager destroys.
    vm.take_outgoing();
    let (o3, a3) = cached_setup(&mut vm, map, PortName(102), PortName(202));
    vm.deallocate(map, a3, PAGE_SIZE).expect("deallocate");
    assert_eq!(vm.cached_objects(), [o3]);
    vm.handle_pager_message(PortName(202), calls::destroy(0))
        .expect("destroy");
    assert!(vm.cached_objects().is_empty());
    assert_eq!(vm.object_count(), 0);
    // A limit of zero caches nothing.
    vm.set_object_cache_limit(0);
    let (_, a4) = cached_setup(&mut vm, map, PortName(103), PortName(203));
    vm.take_outgoing();
    vm.deallocate(map, a4, PAGE_SIZE).expect("deallocate");
    assert!(terminates(&vm.take_outgoing(), PortName(103)));
    assert_eq!(vm.object_count(), 0);
}
