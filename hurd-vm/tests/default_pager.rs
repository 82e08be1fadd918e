//! The default pager releases every right a request brings, whatever its
//! kind: a right of the wrong kind is destroyed, not left in its space.

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, PortItem, PortName, RightType, UserIpc};
use hurd_vm::default_pager::{DefaultPager, MemStore};
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
