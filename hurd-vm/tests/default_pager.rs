//! The default pager releases every right a request brings, whatever its
//! kind: a right of the wrong kind is destroyed, not left in its space; and
//! requests another task makes up (past the last offset, longer than a
//! cluster) are dropped, not served without end.

use std::time::Duration;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, MsgOptions, OolItem, PortItem, PortName, RightType, UserIpc};
use hurd_vm::default_pager::{DefaultPager, MAX_REQUEST_PAGES, MemStore, PagerStats};
use hurd_vm::page::PAGE_BYTES;
use hurd_vm::protocol::memory_object;

/// A pager task with an object port, and a client holding a send right to it.
fn world() -> (Runtime, Task, PortName, Task, PortName) {
    let rt = Runtime::new();
    let pager = rt.task();
    let object = pager.port_allocate(RightType::Receive).expect("object");
    let client = rt.task();
    let to_object = pager
        .give_right(object, Disposition::MakeSend, &client)
        .expect("send right");
    (rt, pager, object, client, to_object)
}

/// Has the pager take in `call` as the client sends it.
fn serve(
    pager: &Task,
    object: PortName,
    client: &Task,
    to_object: PortName,
    call: memory_object::Call,
) {
    client
        .send(call.encode(to_object, Disposition::CopySend))
        .expect("sent");
    let msg = pager.receive(object).expect("request");
    let dp = DefaultPager::new(pager, MemStore::new());
    dp.demux(msg);
}

fn made_send(client: &Task) -> (PortName, PortItem) {
    let port = client.port_allocate(RightType::Receive).expect("port");
    let item = PortItem {
        disposition: Disposition::MakeSend,
        name: port,
    };
    (port, item)
}

#[test]
fn terminate_with_a_send_right_for_the_control_port_leaves_nothing() {
    let (_rt, pager, object, client, to_object) = world();
    let before = pager.port_names().expect("names");
    let (control, control_item) = made_send(&client);
    let (name, name_item) = made_send(&client);
    let call = memory_object::Call::terminate {
        control: control_item,
        name: name_item,
    };
    serve(&pager, object, &client, to_object, call);
    assert_eq!(pager.port_names(), Ok(before));
    for port in [control, name] {
        let status = client.port_get_receive_status(port).expect("status");
        assert!(!status.srights, "the pager kept a send right");
    }
}

#[test]
fn terminate_with_the_control_port_destroys_it() {
    let (_rt, pager, object, client, to_object) = world();
    let before = pager.port_names().expect("names");
    let control = client.port_allocate(RightType::Receive).expect("port");
    let call = memory_object::Call::terminate {
        control: PortItem {
            disposition: Disposition::MoveReceive,
            name: control,
        },
        name: PortItem {
            disposition: Disposition::MakeSend,
            name: PortName::NULL,
        },
    };
    serve(&pager, object, &client, to_object, call);
    assert_eq!(pager.port_names(), Ok(before));
}

#[test]
fn copy_with_a_send_right_for_the_new_object_leaves_nothing() {
    let (_rt, pager, object, client, to_object) = world();
    let before = pager.port_names().expect("names");
    let (old, old_item) = made_send(&client);
    let (new, new_item) = made_send(&client);
    let call = memory_object::Call::copy {
        old_control: old_item,
        offset: 0,
        length: 4096,
        new_object: new_item,
    };
    serve(&pager, object, &client, to_object, call);
    assert_eq!(pager.port_names(), Ok(before));
    for port in [old, new] {
        let status = client.port_get_receive_status(port).expect("status");
        assert!(!status.srights, "the pager kept a send right");
    }
}

/// Has a pager with its own store take in `call`; returns what it counted
/// and the pages it holds.
fn serve_counted(
    pager: &Task,
    object: PortName,
    client: &Task,
    to_object: PortName,
    call: memory_object::Call,
) -> (PagerStats, usize) {
    client
        .send(call.encode(to_object, Disposition::CopySend))
        .expect("sent");
    let msg = pager.receive(object).expect("request");
    let dp = DefaultPager::new(pager, MemStore::new());
    dp.demux(msg);
    (dp.stats(), dp.into_store().len())
}

/// The last page-aligned offset there is.
const LAST_PAGE: u64 = u64::MAX - (PAGE_BYTES as u64 - 1);

#[test]
fn a_return_past_the_last_offset_is_dropped() {
    let (_rt, pager, object, client, to_object) = world();
    let before = pager.port_names().expect("names");
    let (_control, control_item) = made_send(&client);
    let call = memory_object::Call::data_return {
        control: control_item,
        offset: LAST_PAGE,
        data: OolItem {
            data: vec![7; 2 * PAGE_BYTES],
            deallocate: true,
        },
        dirty: true,
        kernel_copy: false,
    };
    let (stats, pages) = serve_counted(&pager, object, &client, to_object, call);
    assert_eq!((stats.returned, pages), (0, 0));
    assert_eq!(pager.port_names(), Ok(before));
}

#[test]
fn a_return_ending_at_the_last_offset_is_kept() {
    let (_rt, pager, object, client, to_object) = world();
    let (_control, control_item) = made_send(&client);
    // Its end, offset + size, is the last page's offset: it fits.
    let call = memory_object::Call::data_return {
        control: control_item,
        offset: LAST_PAGE - PAGE_BYTES as u64,
        data: OolItem {
            data: vec![7; PAGE_BYTES],
            deallocate: true,
        },
        dirty: true,
        kernel_copy: false,
    };
    let (stats, pages) = serve_counted(&pager, object, &client, to_object, call);
    assert_eq!((stats.returned, pages), (1, 1));
}

/// What arrived on `port` without waiting: the message ids.
fn queued(task: &Task, port: PortName) -> Vec<i32> {
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    let mut ids = Vec::new();
    while let Ok(msg) = task.receive_with(port, &opts) {
        ids.push(msg.header.id);
        task.destroy_message(msg);
    }
    ids
}

#[test]
fn requests_beyond_a_cluster_or_the_last_offset_are_dropped() {
    let (_rt, pager, object, client, to_object) = world();
    let before = pager.port_names().expect("names");
    let page = PAGE_BYTES as u64;
    for (offset, length) in [
        // Every page there is (answered page by page, it never ended).
        (0, LAST_PAGE),
        (0, (MAX_REQUEST_PAGES + 1) * page),
        // Past the last offset.
        (LAST_PAGE, 2 * page),
        // Not whole pages.
        (1, page),
        (0, page + 1),
    ] {
        let (control, control_item) = made_send(&client);
        let call = memory_object::Call::data_request {
            control: control_item,
            offset,
            length,
            desired_access: 1,
        };
        let (stats, _) = serve_counted(&pager, object, &client, to_object, call);
        assert_eq!(stats.requests, 1);
        assert_eq!(
            (stats.supplied, stats.unavailable),
            (0, 0),
            "{offset:#x}+{length:#x}"
        );
        assert_eq!(queued(&client, control), Vec::<i32>::new());
        assert_eq!(pager.port_names(), Ok(before.clone()));
    }
}

#[test]
fn a_request_of_a_few_pages_is_answered_page_by_page() {
    let (_rt, pager, object, client, to_object) = world();
    let (control, control_item) = made_send(&client);
    // No more than the control port's queue holds: the test is one thread.
    let call = memory_object::Call::data_request {
        control: control_item,
        offset: 0,
        length: 4 * PAGE_BYTES as u64,
        desired_access: 1,
    };
    let (stats, _) = serve_counted(&pager, object, &client, to_object, call);
    assert_eq!((stats.requests, stats.unavailable), (1, 4));
    assert_eq!(queued(&client, control).len(), 4);
}
