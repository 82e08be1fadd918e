//! Port arrays: several rights in one item, copied in all or nothing.
#![allow(clippy::unwrap_used)]

use hurd_ipc::{
    Disposition, IpcKernel, Item, Message, MsgReturn, PortArray, PortName, PortType, RecvOptions,
    RightType,
};

#[test]
fn an_array_moves_every_right_and_arrives_as_names() {
    let mut k = IpcKernel::new(0);
    let (a, b) = (k.create_space(), k.create_space());
    let dest = k.port_allocate(b, RightType::Receive).unwrap();
    let (to_b, _) = k
        .port_extract_right(b, dest, Disposition::MakeSend, a)
        .unwrap();
    let p1 = k.port_allocate(a, RightType::Receive).unwrap();
    let p2 = k.port_allocate(a, RightType::Receive).unwrap();
    let msg = Message::new(1, to_b, Disposition::CopySend).with_item(Item::Ports(PortArray {
        disposition: Disposition::MakeSend,
        names: vec![p1, PortName::NULL, p2, p1],
    }));
    k.send(a, msg, None).unwrap();
    let got = k.receive(b, dest, RecvOptions::default(), None).unwrap();
    let Item::Ports(arr) = &got.body[0] else {
        panic!("{:?}", got.body)
    };
    assert_eq!(arr.disposition, Disposition::PORT_SEND);
    assert_eq!(arr.names[1], PortName::NULL);
    // Two send rights to p1 coalesce under one name with two references.
    assert_eq!(arr.names[0], arr.names[3]);
    assert_eq!(
        k.port_get_refs(b, arr.names[0], RightType::Send).unwrap(),
        2
    );
    assert_eq!(k.port_type(b, arr.names[2]).unwrap(), PortType::SEND);
    assert_eq!(k.port_get_receive_status(a, p1).unwrap().mscount, 2);
}

#[test]
fn one_bad_element_refuses_the_whole_message() {
    let mut k = IpcKernel::new(0);
    let (a, b) = (k.create_space(), k.create_space());
    let dest = k.port_allocate(b, RightType::Receive).unwrap();
    let (to_b, _) = k
        .port_extract_right(b, dest, Disposition::MakeSend, a)
        .unwrap();
    let p1 = k.port_allocate(a, RightType::Receive).unwrap();
    let before = k.port_names(a).unwrap();
    let msg = Message::new(1, to_b, Disposition::CopySend).with_item(Item::Ports(PortArray {
        disposition: Disposition::MoveReceive,
        names: vec![p1, PortName(0x999)],
    }));
    let err = k.send(a, msg.clone(), None).unwrap_err();
    assert_eq!(err.code, MsgReturn::SendInvalidRight);
    assert_eq!(err.message, msg);
    assert_eq!(k.port_names(a).unwrap(), before);
    // Moving the same receive right twice in one array is refused too.
    let twice = Message::new(1, to_b, Disposition::CopySend).with_item(Item::Ports(PortArray {
        disposition: Disposition::MoveReceive,
        names: vec![p1, p1],
    }));
    assert_eq!(
        k.send(a, twice, None).unwrap_err().code,
        MsgReturn::SendInvalidRight
    );
    assert_eq!(k.port_names(a).unwrap(), before);
}

#[test]
fn rights_in_a_destroyed_array_are_released() {
    let mut k = IpcKernel::new(0);
    let (a, b) = (k.create_space(), k.create_space());
    let dest = k.port_allocate(b, RightType::Receive).unwrap();
    let (to_b, _) = k
        .port_extract_right(b, dest, Disposition::MakeSend, a)
        .unwrap();
    let watched = k.port_allocate(a, RightType::Receive).unwrap();
    let msg = Message::new(1, to_b, Disposition::CopySend).with_item(Item::Ports(PortArray {
        disposition: Disposition::MakeSend,
        names: vec![watched, watched],
    }));
    k.send(a, msg, None).unwrap();
    assert!(k.port_get_receive_status(a, watched).unwrap().srights);
    // The destination dies with the message queued: its rights are released.
    k.port_destroy(b, dest).unwrap();
    assert!(!k.port_get_receive_status(a, watched).unwrap().srights);
    k.destroy_space(a);
    k.destroy_space(b);
    assert_eq!(k.port_count(), 0);
}
