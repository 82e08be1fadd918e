//! Malformed, unsolicited and out-of-turn inputs: each is rejected without
//! effect, and the pager keeps serving.

use std::time::Duration;

use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, Item, Message, OolItem, PortItem, PortName, RightType, UserIpc};
use hurd_pager::hosted::PagerServer;
use hurd_pager::{
    Action, Call, Coherence, Config, Event, KernelId, MemBackend, PAGE_SIZE, PageRead, PagerError,
};
use hurd_vm::hosted::SimKernel;
use hurd_vm::protocol::memory_object;
use hurd_vm::{VmInherit, VmProt};

const A: KernelId = KernelId(0);
const B: KernelId = KernelId(1);

fn page(b: u8) -> Vec<u8> {
    vec![b; PAGE_SIZE as usize]
}

/// Two kernels; `A` reads page 0.
fn core() -> Coherence {
    let mut c = Coherence::new(Config::default());
    for k in [A, B] {
        c.handle(
            0,
            Event::Init {
                kernel: k,
                read_only: false,
            },
        );
    }
    c.handle(
        0,
        Event::DataRequest {
            kernel: A,
            page: 0,
            access: VmProt::READ,
        },
    );
    c.handle(
        0,
        Event::ReadDone {
            page: 0,
            result: Ok(PageRead {
                data: page(0),
                write_lock: false,
            }),
        },
    );
    assert_eq!(c.holders(0), [(A, false)]);
    c
}

fn rejected(c: &mut Coherence, ev: Event) -> Vec<Action> {
    let before = c.stats().rejected;
    let out = c.handle(1, ev);
    assert_eq!(c.stats().rejected, before + 1, "not rejected");
    out
}

#[test]
fn core_rejects_what_no_one_asked_for() {
    let mut c = core();
    let unknown = KernelId(7);
    assert!(
        rejected(
            &mut c,
            Event::DataRequest {
                kernel: unknown,
                page: 0,
                access: VmProt::READ
            }
        )
        .is_empty()
    );
    assert!(
        rejected(
            &mut c,
            Event::DataUnlock {
                kernel: unknown,
                page: 0,
                access: VmProt::WRITE
            }
        )
        .is_empty()
    );
    assert!(
        rejected(
            &mut c,
            Event::Init {
                kernel: A,
                read_only: false
            }
        )
        .is_empty()
    );
    // Data of the wrong size, from a non-holder, dirty from a reader.
    let bad = Event::DataReturn {
        kernel: A,
        page: 0,
        data: vec![1; 10],
        dirty: true,
        kernel_copy: false,
    };
    assert!(rejected(&mut c, bad).is_empty());
    let bad = Event::DataReturn {
        kernel: B,
        page: 0,
        data: page(1),
        dirty: true,
        kernel_copy: false,
    };
    assert!(rejected(&mut c, bad).is_empty());
    let bad = Event::DataReturn {
        kernel: A,
        page: 0,
        data: page(1),
        dirty: true,
        kernel_copy: false,
    };
    assert!(rejected(&mut c, bad).is_empty());
    // Completions nobody asked for.
    assert!(
        rejected(
            &mut c,
            Event::LockCompleted {
                kernel: A,
                page: 0,
                count: 1
            }
        )
        .is_empty()
    );
    assert!(
        rejected(
            &mut c,
            Event::ChangeCompleted {
                may_cache: false,
                copy_strategy: 2
            }
        )
        .is_empty()
    );
    assert!(
        rejected(
            &mut c,
            Event::ReadDone {
                page: 3,
                result: Ok(PageRead {
                    data: page(0),
                    write_lock: false
                })
            }
        )
        .is_empty()
    );
    assert!(rejected(&mut c, Event::WriteDone { result: Ok(()) }).is_empty());
    assert!(
        rejected(
            &mut c,
            Event::UnlockDone {
                page: 0,
                result: Ok(())
            }
        )
        .is_empty()
    );
    // Nothing changed: A still reads page 0, nothing was written.
    assert_eq!(c.holders(0), [(A, false)]);
    assert!(c.is_quiescent());
}

#[test]
fn a_short_backend_page_is_an_io_error() {
    let mut c = Coherence::new(Config::default());
    c.handle(
        0,
        Event::Init {
            kernel: A,
            read_only: false,
        },
    );
    c.handle(
        0,
        Event::DataRequest {
            kernel: A,
            page: 0,
            access: VmProt::READ,
        },
    );
    let out = c.handle(
        0,
        Event::ReadDone {
            page: 0,
            result: Ok(PageRead {
                data: vec![0; 5],
                write_lock: false,
            }),
        },
    );
    assert_eq!(
        out,
        [Action::DataError {
            kernel: A,
            page: 0,
            error: PagerError::Io
        }]
    );
}

#[test]
fn offering_a_malformed_page_fails_the_call() {
    let mut c = core();
    let (op, out) = c.call(
        0,
        Call::OfferPage {
            page: 0,
            data: vec![1; 3],
            precious: false,
            write_lock: false,
        },
    );
    assert_eq!(
        out,
        [Action::Done {
            op,
            result: Err(PagerError::InvalidArgument)
        }]
    );
}

#[test]
fn read_only_kernels_never_write() {
    let mut c = Coherence::new(Config::default());
    c.handle(
        0,
        Event::Init {
            kernel: A,
            read_only: true,
        },
    );
    c.handle(
        0,
        Event::DataRequest {
            kernel: A,
            page: 0,
            access: VmProt::DEFAULT,
        },
    );
    let out = c.handle(
        0,
        Event::ReadDone {
            page: 0,
            result: Ok(PageRead {
                data: page(0),
                write_lock: false,
            }),
        },
    );
    assert!(matches!(out[..], [Action::Supply { lock, .. }] if lock == VmProt::WRITE));
    let out = c.handle(
        0,
        Event::DataUnlock {
            kernel: A,
            page: 0,
            access: VmProt::WRITE,
        },
    );
    assert_eq!(
        out,
        [Action::DataError {
            kernel: A,
            page: 0,
            error: PagerError::ReadOnly
        }]
    );
}

/// Hand-made messages from a rogue task to a served pager: none changes
/// anything, none leaks a right, and a real kernel is served afterwards.
#[test]
fn hosted_pager_survives_malformed_messages() {
    let rt = Runtime::new();
    let fs = rt.task();
    let server = PagerServer::new(&fs).expect("server");
    let pager = server
        .create(MemBackend::new(4 * PAGE_SIZE), Config::default())
        .expect("pager");
    let rogue = rt.task();
    let obj = pager.send_right_for(&rogue).expect("send right");
    let fake = rogue.port_allocate(RightType::Receive).expect("port");
    let ctl = |name| PortItem {
        disposition: Disposition::MakeSend,
        name,
    };
    let names_before = fs.port_names().expect("names").len();
    let c = memory_object::Client::new(&rogue, obj);
    // From a control port the pager never saw.
    c.data_request(ctl(fake), 0, PAGE_SIZE, 1).expect("send");
    c.data_unlock(ctl(fake), 0, PAGE_SIZE, 3).expect("send");
    c.lock_completed(ctl(fake), 0, PAGE_SIZE).expect("send");
    c.data_return(
        ctl(fake),
        0,
        OolItem {
            data: page(1),
            deallocate: true,
        },
        true,
        false,
    )
    .expect("send");
    // init with a page size the pager does not use: no ready, right released.
    c.init(
        ctl(fake),
        PortItem {
            disposition: Disposition::CopySend,
            name: PortName::NULL,
        },
        512,
    )
    .expect("send");
    // Wrong argument types: MIG_BAD_ARGUMENTS, rights destroyed.
    let bad = Message::new(memory_object::id::data_request, obj, Disposition::CopySend)
        .with_item(Item::Port(ctl(fake)))
        .with_item(Item::U32(7));
    rogue.send(bad).expect("send");
    // An id outside the interface.
    rogue
        .send(Message::new(4242, obj, Disposition::CopySend))
        .expect("send");
    // A real kernel is served.
    let kernel = SimKernel::with_timeout(&rt, 16, Duration::from_secs(30)).expect("kernel");
    let name = pager.send_right_for(kernel.task()).expect("send right");
    let map = kernel.create_map().expect("map");
    let addr = kernel
        .vm_map(
            map,
            4 * PAGE_SIZE,
            name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map");
    kernel.store(map, addr, b"fine").expect("store");
    pager.sync(true).expect("sync");
    let stored = pager.with_backend(|b| b.read_page(0)).expect("read");
    assert_eq!(&stored.data[..4], b"fine");
    assert_eq!(pager.kernels(), 1);
    // The rogue's rights were all released: only the kernel's control port
    // (and its dead-name request's bookkeeping) was added.
    let names_after = fs.port_names().expect("names").len();
    assert_eq!(names_after, names_before + 1, "leaked rights");
}
