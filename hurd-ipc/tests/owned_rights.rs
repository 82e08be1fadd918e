//! Owned rights against a model: random sequences of making, cloning,
//! dropping, unwrapping and re-wrapping, and moving rights into messages never
//! leak a reference nor release one twice. After every step the task's space
//! holds exactly the references the live values own, as `mach_port_names` and
//! `mach_port_get_refs` report them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::user::{PortSet, ReceiveRight, SendOnceRight, SendRight};
use hurd_ipc::{
    Disposition, Item, KernReturn, MachMsgError, Message, MsgOptions, MsgReturn, PortName,
    PortType, RightType, UserIpc,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Allocate,
    MakeSend(usize),
    CloneSend(usize),
    DropSend(usize),
    DropReceive(usize),
    RoundTripSend(usize),
    RoundTripReceive(usize),
    MakeSendOnce(usize),
    DropSendOnce(usize),
    MoveSendAway(usize),
    CopySendAway(usize),
    MoveSendOnceAway(usize),
    MoveReceiveAway(usize),
    SendToOwnPort(usize),
    AddToSet(usize),
    DropSet,
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0usize..8;
    prop_oneof![
        2 => Just(Op::Allocate),
        3 => i.clone().prop_map(Op::MakeSend),
        3 => i.clone().prop_map(Op::CloneSend),
        3 => i.clone().prop_map(Op::DropSend),
        1 => i.clone().prop_map(Op::DropReceive),
        1 => i.clone().prop_map(Op::RoundTripSend),
        1 => i.clone().prop_map(Op::RoundTripReceive),
        2 => i.clone().prop_map(Op::MakeSendOnce),
        1 => i.clone().prop_map(Op::DropSendOnce),
        1 => i.clone().prop_map(Op::MoveSendAway),
        1 => i.clone().prop_map(Op::CopySendAway),
        1 => i.clone().prop_map(Op::MoveSendOnceAway),
        1 => i.clone().prop_map(Op::MoveReceiveAway),
        1 => i.clone().prop_map(Op::SendToOwnPort),
        1 => i.clone().prop_map(Op::AddToSet),
        1 => Just(Op::DropSet),
    ]
}

/// The owner's values, and a peer task that takes what is sent to it and
/// destroys it at once.
struct World {
    task: Task,
    peer: Task,
    inbox: PortName,
    to_peer: SendRight<Task>,
    receives: Vec<ReceiveRight<Task>>,
    sends: Vec<SendRight<Task>>,
    send_onces: Vec<SendOnceRight<Task>>,
    set: Option<PortSet<Task>>,
}

fn pick<T>(v: &[T], i: usize) -> Option<usize> {
    (!v.is_empty()).then(|| i % v.len())
}

impl World {
    fn new(rt: &Runtime) -> World {
        let task = rt.task();
        let peer = rt.task();
        let inbox = peer.port_allocate(RightType::Receive).unwrap();
        let name = peer
            .give_right(inbox, Disposition::MakeSend, &task)
            .unwrap();
        World {
            to_peer: SendRight::from_raw(task.clone(), name),
            task,
            peer,
            inbox,
            receives: Vec::new(),
            sends: Vec::new(),
            send_onces: Vec::new(),
            set: None,
        }
    }

    /// Sends without waiting for room; a message that finds the queue full is
    /// handed back and destroyed. Whether it was sent.
    fn try_send(&self, msg: Message) -> bool {
        let opts = MsgOptions {
            send_timeout: Some(Duration::ZERO),
            ..MsgOptions::default()
        };
        match self.task.mach_msg(Some(msg), None, &opts) {
            Ok(_) => true,
            Err(MachMsgError::Send(e)) => {
                assert_eq!(e.code, MsgReturn::SendTimedOut);
                self.task.destroy_message(e.message);
                false
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// Whether `name` is a dead name now.
    fn dead(&self, name: PortName) -> bool {
        self.task
            .port_type(name)
            .unwrap()
            .contains(PortType::DEAD_NAME)
    }

    /// Sends `item` to the peer, which destroys what it receives.
    fn send_away(&self, item: hurd_ipc::PortItem) {
        let msg = self.to_peer.message(1).with_item(Item::Port(item));
        self.task.send(msg).unwrap();
        let got = self.peer.receive(self.inbox).unwrap();
        self.peer.destroy_message(got);
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Allocate => {
                if self.receives.len() < 6 {
                    self.receives
                        .push(ReceiveRight::allocate(self.task.clone()).unwrap());
                }
            }
            Op::MakeSend(i) => {
                if let Some(i) = pick(&self.receives, i) {
                    self.sends.push(self.receives[i].make_send().unwrap());
                }
            }
            Op::CloneSend(i) => {
                if let Some(i) = pick(&self.sends, i) {
                    let c = self.sends[i].try_clone().unwrap();
                    self.sends.push(c);
                }
            }
            Op::DropSend(i) => {
                if let Some(i) = pick(&self.sends, i) {
                    self.sends.swap_remove(i);
                }
            }
            Op::DropReceive(i) => {
                if let Some(i) = pick(&self.receives, i) {
                    self.receives.swap_remove(i);
                }
            }
            Op::RoundTripSend(i) => {
                if let Some(i) = pick(&self.sends, i) {
                    let s = self.sends.swap_remove(i);
                    let name = s.into_raw();
                    self.sends
                        .push(SendRight::from_raw(self.task.clone(), name));
                }
            }
            Op::RoundTripReceive(i) => {
                if let Some(i) = pick(&self.receives, i) {
                    let r = self.receives.swap_remove(i);
                    let name = r.into_raw();
                    self.receives
                        .push(ReceiveRight::from_raw(self.task.clone(), name));
                }
            }
            Op::MakeSendOnce(i) => {
                if let Some(i) = pick(&self.receives, i) {
                    // Two send-once rights of our own: made in a message to
                    // ourselves (its reply port and an item) and received back.
                    let port = &self.receives[i];
                    if in_set(&self.task, port.name()) {
                        return;
                    }
                    let msg = Message::new(2, port.name(), Disposition::MakeSend)
                        .with_reply(port.name(), Disposition::MakeSendOnce)
                        .with_item(Item::Port(port.make_send_once_item()));
                    if !self.try_send(msg) {
                        return;
                    }
                    let got = loop {
                        let got = self.task.receive_with(port.name(), &poll()).unwrap();
                        if got.header.id == 2 {
                            break got;
                        }
                        self.task.destroy_message(got);
                    };
                    let [Item::Port(p)] = got.body.as_slice() else {
                        panic!("no port in {got:?}");
                    };
                    assert_eq!(p.disposition, Disposition::PORT_SEND_ONCE);
                    self.send_onces.push(SendOnceRight::from_raw(
                        self.task.clone(),
                        got.header.remote,
                    ));
                    self.send_onces
                        .push(SendOnceRight::from_raw(self.task.clone(), p.name));
                }
            }
            Op::DropSendOnce(i) => {
                if let Some(i) = pick(&self.send_onces, i) {
                    self.send_onces.swap_remove(i);
                }
            }
            Op::MoveSendAway(i) => {
                if let Some(i) = pick(&self.sends, i) {
                    if self.dead(self.sends[i].name()) {
                        return;
                    }
                    let s = self.sends.swap_remove(i);
                    self.send_away(s.into_item());
                }
            }
            Op::CopySendAway(i) => {
                if let Some(i) = pick(&self.sends, i) {
                    if self.dead(self.sends[i].name()) {
                        return;
                    }
                    self.send_away(self.sends[i].copy_item());
                }
            }
            Op::MoveSendOnceAway(i) => {
                if let Some(i) = pick(&self.send_onces, i) {
                    let s = self.send_onces.swap_remove(i);
                    if self.dead(s.name()) {
                        return; // Dropped instead.
                    }
                    self.send_away(s.into_item());
                }
            }
            Op::MoveReceiveAway(i) => {
                if let Some(i) = pick(&self.receives, i) {
                    let r = self.receives.swap_remove(i);
                    self.send_away(r.into_item());
                }
            }
            Op::SendToOwnPort(i) => {
                // A queued message holding a send right to the port itself:
                // destroying the port must destroy it too.
                if let Some(i) = pick(&self.receives, i) {
                    let port = &self.receives[i];
                    let msg = Message::new(3, port.name(), Disposition::MakeSend)
                        .with_item(Item::Port(port.make_send_item()));
                    self.try_send(msg);
                }
            }
            Op::AddToSet(i) => {
                if let Some(i) = pick(&self.receives, i) {
                    let set = self
                        .set
                        .get_or_insert_with(|| PortSet::allocate(self.task.clone()).unwrap());
                    set.insert(self.receives[i].name()).unwrap();
                }
            }
            Op::DropSet => self.set = None,
        }
    }

    /// The space holds exactly what the values own.
    fn check(&self) {
        let mut expected: BTreeMap<PortName, (bool, u16, bool, bool)> = BTreeMap::new();
        for r in &self.receives {
            expected.entry(r.name()).or_default().0 = true;
        }
        for s in self.sends.iter().chain([&self.to_peer]) {
            expected.entry(s.name()).or_default().1 += 1;
        }
        for s in &self.send_onces {
            let e = expected.entry(s.name()).or_default();
            assert!(!e.2, "two send-once values own {:?}", s.name());
            e.2 = true;
        }
        if let Some(set) = &self.set {
            expected.entry(set.name()).or_default().3 = true;
        }
        let names: Vec<PortName> = self
            .task
            .port_names()
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            expected.keys().copied().collect::<Vec<_>>(),
            "names in the space"
        );
        for (name, (receive, sends, send_once, set)) in expected {
            let t = self.task.port_type(name).unwrap();
            assert_eq!(t.contains(PortType::RECEIVE), receive, "{name:?} {t:?}");
            assert_eq!(t.contains(PortType::PORT_SET), set, "{name:?} {t:?}");
            let refs = self.task.port_get_refs(name, RightType::Send).unwrap()
                + self.task.port_get_refs(name, RightType::DeadName).unwrap();
            if send_once {
                assert!(
                    t.intersects(PortType::SEND_ONCE | PortType::DEAD_NAME),
                    "{name:?} {t:?}"
                );
            } else {
                assert_eq!(refs, sends, "references of {name:?} ({t:?})");
            }
        }
    }
}

fn poll() -> MsgOptions {
    MsgOptions {
        rcv_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    }
}

fn in_set(task: &Task, name: PortName) -> bool {
    task.port_get_receive_status(name)
        .is_ok_and(|s| s.pset.is_valid())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn owned_rights_never_leak_nor_double_release(ops in prop::collection::vec(op(), 1..60)) {
        let rt = Runtime::new();
        let mut w = World::new(&rt);
        for op in ops {
            w.apply(op);
            w.check();
        }
        let World { task, peer, inbox, to_peer, receives, sends, send_onces, set } = w;
        drop((receives, sends, send_onces, set));
        let left = task.port_names().unwrap();
        prop_assert_eq!(left, vec![(to_peer.name(), PortType::SEND)]);
        drop(to_peer);
        prop_assert!(task.port_names().unwrap().is_empty());
        // The peer's port lost its last sender and holds nothing it was sent.
        prop_assert_eq!(peer.port_names().unwrap(), vec![(inbox, PortType::RECEIVE)]);
    }
}

#[test]
fn clone_of_a_dead_send_right_is_a_dead_name_reference() {
    let rt = Runtime::new();
    let task = rt.task();
    let port = ReceiveRight::allocate(task.clone()).unwrap();
    let send = port.make_send().unwrap();
    let name = port.name();
    drop(port);
    assert_eq!(task.port_type(name), Ok(PortType::DEAD_NAME));
    let again = send.try_clone().unwrap();
    assert_eq!(task.port_get_refs(name, RightType::DeadName), Ok(2));
    drop(send);
    drop(again);
    assert_eq!(task.port_type(name), Err(KernReturn::InvalidName));
}

#[test]
fn null_and_dead_own_nothing() {
    let rt = Runtime::new();
    let task = rt.task();
    for name in [PortName::NULL, PortName::DEAD] {
        let s = SendRight::from_raw(&task, name);
        assert!(!s.is_valid());
        assert_eq!(s.try_clone().unwrap().name(), name);
        assert_eq!(s.release(), Ok(()));
        drop(SendOnceRight::from_raw(&task, name));
        drop(ReceiveRight::from_raw(&task, name));
        drop(PortSet::from_raw(&task, name));
    }
    assert!(task.port_names().unwrap().is_empty());
}

#[test]
fn release_reports_a_reference_already_gone() {
    let rt = Runtime::new();
    let task = rt.task();
    let port = ReceiveRight::allocate(&task).unwrap();
    let send = port.make_send().unwrap();
    // Someone else released the reference this value owns.
    task.port_deallocate(send.name()).unwrap();
    assert_eq!(send.release(), Err(KernReturn::InvalidRight));
    assert_eq!(port.release(), Ok(()));
    assert!(task.port_names().unwrap().is_empty());
}

#[test]
fn rights_hold_any_way_to_the_ipc() {
    let rt = Runtime::new();
    let task = rt.task();
    let shared = std::sync::Arc::new(task.clone());
    let boxed: Box<dyn UserIpc + Send + Sync> = Box::new(task.clone());
    {
        let by_ref = ReceiveRight::allocate(&task).unwrap();
        let by_arc = ReceiveRight::allocate(shared.clone()).unwrap();
        let by_box = ReceiveRight::allocate(&boxed).unwrap();
        let s = by_arc.make_send().unwrap();
        assert_eq!(task.port_names().unwrap().len(), 3);
        drop((by_ref, by_box, s));
    }
    assert!(task.port_names().unwrap().is_empty());
}

#[test]
fn a_failed_send_hands_the_moved_right_back_to_destroy() {
    let rt = Runtime::new();
    let task = rt.task();
    let port = ReceiveRight::allocate(task.clone()).unwrap();
    let send = port.make_send().unwrap();
    let name = port.name();
    // The destination is a receive right only: an invalid destination. Mach
    // leaves the moved right in the space; destroying the message releases it.
    let msg = Message::new(1, PortName(0x7777), Disposition::CopySend)
        .with_item(Item::Port(send.into_item()));
    let err = task.send(msg).unwrap_err();
    assert_eq!(err.code, hurd_ipc::MsgReturn::SendInvalidDest);
    assert_eq!(task.port_get_refs(name, RightType::Send), Ok(1));
    task.destroy_message(err.message);
    assert_eq!(task.port_get_refs(name, RightType::Send), Ok(0));
}

#[test]
fn rights_taken_from_a_received_message_are_released_by_kind() {
    use hurd_ipc::user::Right;
    let rt = Runtime::new();
    let (task, peer) = (rt.task(), rt.task());
    let inbox = ReceiveRight::allocate(task.clone()).unwrap();
    let send = task
        .give_right(inbox.name(), Disposition::MakeSend, &peer)
        .unwrap();
    let theirs = ReceiveRight::allocate(peer.clone()).unwrap();
    let moved = ReceiveRight::allocate(peer.clone()).unwrap();
    let msg = Message::new(1, send, Disposition::MoveSend)
        .with_item(Item::Port(theirs.make_send_item()))
        .with_item(Item::Port(theirs.make_send_once_item()))
        .with_item(Item::Port(moved.into_item()));
    peer.send(msg).unwrap();
    let got = task.receive(inbox.name()).unwrap();
    let rights: Vec<Right<Task>> = got
        .body
        .into_iter()
        .map(|i| match i {
            Item::Port(p) => Right::received(task.clone(), p),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(matches!(
        rights[..],
        [Right::Send(_), Right::SendOnce(_), Right::Receive(_)]
    ));
    assert_eq!(task.port_names().unwrap().len(), 4);
    drop(rights);
    assert_eq!(
        task.port_names().unwrap(),
        vec![(inbox.name(), PortType::RECEIVE)]
    );
    // The send right is gone; the send-once right was used up by the
    // send-once notification it sent the peer's port.
    let status = peer.port_get_receive_status(theirs.name()).unwrap();
    assert!(!status.srights);
    let note = peer.receive(theirs.name()).unwrap();
    assert_eq!(note.header.id, hurd_ipc::notify::NOTIFY_SEND_ONCE);
    let status = peer.port_get_receive_status(theirs.name()).unwrap();
    assert_eq!(status.sorights, 0);
}

#[test]
fn a_moved_argument_stays_the_senders_when_the_request_is_not_sent() {
    let rt = Runtime::new();
    let task = rt.task();
    let port = ReceiveRight::allocate(task.clone()).unwrap();
    let arg = port.make_send().unwrap();
    let name = port.name();
    // Sent: the message takes the reference (the destination is the port
    // itself, so the message and the reference sit in its queue).
    let sent = task
        .send(Message::new(1, name, Disposition::MakeSend).with_item(Item::Port(arg.move_item())))
        .map_err(|e| hurd_ipc::Error::Msg(e.code));
    arg.settle(&sent);
    assert_eq!(task.port_get_refs(name, RightType::Send), Ok(0));
    // Not sent (no such destination): the reference is released by settle.
    let arg = port.make_send().unwrap();
    let unsent = task
        .send(
            Message::new(1, PortName(0x7777), Disposition::CopySend)
                .with_item(Item::Port(arg.move_item())),
        )
        .map_err(|e| hurd_ipc::Error::Msg(e.code));
    assert!(unsent.is_err());
    assert_eq!(task.port_get_refs(name, RightType::Send), Ok(1));
    arg.settle(&unsent);
    assert_eq!(task.port_get_refs(name, RightType::Send), Ok(0));
}
