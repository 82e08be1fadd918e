//! The registry's answers to what a client may get wrong, and the rights it
//! is given in those requests.

mod common;

use common::{WAIT, config};
use hurd_ipc::notify::NOTIFY_SEND_ONCE;
use hurd_ipc::{Disposition, Error, MsgOptions, PortItem, PortType, RightType, UserIpc};
use hurd_netmsg::{EINVAL, Identity, Node, registry};

fn lone_node() -> Node {
    let id = Identity::generate().expect("key");
    Node::start(config(1, &[]), id).expect("node 1")
}

#[test]
fn a_receive_right_registered_is_refused_and_destroyed() {
    let node = lone_node();
    let task = node.runtime().task();
    let holder = node.runtime().task();
    let q = task.port_allocate(RightType::Receive).expect("port");
    let sender = task
        .give_right(q, Disposition::MakeSend, &holder)
        .expect("send right");
    let reg = node.registry(&task).expect("registry");
    let r = registry::Client::new(&task, reg)
        .with_timeout(WAIT)
        .register(
            "echo".into(),
            PortItem {
                disposition: Disposition::MoveReceive,
                name: q,
            },
        );
    assert_eq!(r, Err(Error::Code(EINVAL)));
    // The registry kept nothing: the port is gone and its senders hold a
    // dead name.
    let ty = holder.port_type(sender).expect("type");
    assert!(ty.contains(PortType::DEAD_NAME), "{ty:?}");
    assert!(task.port_type(q).is_err(), "the receive right moved away");
}

#[test]
fn a_send_once_right_registered_is_refused_and_released() {
    let node = lone_node();
    let task = node.runtime().task();
    let q = task.port_allocate(RightType::Receive).expect("port");
    let reg = node.registry(&task).expect("registry");
    let r = registry::Client::new(&task, reg)
        .with_timeout(WAIT)
        .register(
            "echo".into(),
            PortItem {
                disposition: Disposition::MakeSendOnce,
                name: q,
            },
        );
    assert_eq!(r, Err(Error::Code(EINVAL)));
    // The send-once right was destroyed, which sends a send-once
    // notification through it.
    let opts = MsgOptions {
        rcv_timeout: Some(WAIT),
        ..MsgOptions::default()
    };
    let got = task.receive_with(q, &opts).expect("notification");
    assert_eq!(got.header.id, NOTIFY_SEND_ONCE);
    assert_eq!(task.port_get_receive_status(q).expect("status").sorights, 0);
}
