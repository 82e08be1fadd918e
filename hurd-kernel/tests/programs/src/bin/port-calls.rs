//! The `mach_port_*` calls through [`KernelIpc`] (the `port_call` trap for
//! mod_refs, insert_right, move_member and request_notification, RPCs to
//! the task port for the others): right
//! accounting (`mach_port_type`, `get_refs`, `mod_refs`, `insert_right`),
//! a port set receiving from two members, a queue limit, no-senders and
//! dead-name notifications delivered to this task, the names and a receive
//! status, and bad arguments refused. Returns 0 when all of it held, else
//! the number of the check that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use core::time::Duration;

use hurd_abi::{nr, port_call};
use hurd_ipc::notify::{NOTIFY_DEAD_NAME, NOTIFY_NO_SENDERS};
use hurd_ipc::{
    Disposition, KernReturn, Message, MsgOptions, MsgReturn, NotifyKind, PortName, PortType,
    RightType, UserIpc,
};
use hurd_rt::KernelIpc;

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// A `port_call` trap as it is, for arguments no safe call passes.
fn port_call(id: u64, name: PortName, args: [u64; 4]) -> Result<u64, u64> {
    let [a, b, c, d] = args;
    // SAFETY: the only address passed is kernel memory (0x1000), which the
    // kernel refuses.
    match unsafe {
        kernel_test_programs::raw::syscall(nr::PORT_CALL, [id, u64::from(name.0), a, b, c, d])
    } {
        (0, v) => Ok(v),
        (code, _) => Err(code),
    }
}

fn main() -> u64 {
    kernel_test_programs::report::status(checks())
}

/// Sends an empty message with id `id` to the send right `to`, not waiting.
fn post(ipc: &KernelIpc, to: PortName, id: i32) -> Result<(), MsgReturn> {
    let opts = MsgOptions {
        send_timeout: Some(Duration::ZERO),
        ..MsgOptions::default()
    };
    ipc.mach_msg(
        Some(Message::new(id, to, Disposition::CopySend)),
        None,
        &opts,
    )
    .map(drop)
    .map_err(|e| match e {
        hurd_ipc::MachMsgError::Send(e) => e.code,
        hurd_ipc::MachMsgError::Receive(e) => e.code,
    })
}

fn checks() -> Result<(), u64> {
    let ipc = KernelIpc::new();

    // Right accounting.
    let r = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(1, "allocate"))?;
    ipc.port_insert_right(r, r, Disposition::MakeSend)
        .map_err(err(2, "insert_right make-send"))?;
    if ipc.port_type(r) != Ok(PortType::SEND_RECEIVE) {
        return Err(fail(3, "type after make-send"));
    }
    ipc.port_mod_refs(r, RightType::Send, 2)
        .map_err(err(4, "mod_refs +2"))?;
    if ipc.port_get_refs(r, RightType::Send) != Ok(3) {
        return Err(fail(5, "three send references"));
    }
    ipc.port_mod_refs(r, RightType::Send, -3)
        .map_err(err(6, "mod_refs -3"))?;
    if ipc.port_type(r) != Ok(PortType::RECEIVE) {
        return Err(fail(7, "type after dropping the send right"));
    }

    // A port set receiving from two members.
    let set = ipc
        .port_allocate(RightType::PortSet)
        .map_err(err(8, "allocate set"))?;
    let a = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(9, "allocate a"))?;
    let b = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(10, "allocate b"))?;
    for m in [a, b] {
        ipc.port_move_member(m, set)
            .map_err(err(11, "move_member"))?;
        ipc.port_insert_right(m, m, Disposition::MakeSend)
            .map_err(err(12, "member send right"))?;
    }
    post(&ipc, b, 2).map_err(err(13, "send to b"))?;
    post(&ipc, a, 1).map_err(err(14, "send to a"))?;
    let mut seen = [false; 2];
    for _ in 0..2 {
        match ipc.receive(set) {
            Ok(m) if m.header.local == a && m.header.id == 1 => seen[0] = true,
            Ok(m) if m.header.local == b && m.header.id == 2 => seen[1] = true,
            other => return Err(fail(15, format_args!("receive on the set: {other:?}"))),
        }
    }
    if seen != [true, true] {
        return Err(fail(16, "a message missing from the set"));
    }
    match ipc.port_get_receive_status(a) {
        Ok(s) if s.pset == set && s.msgcount == 0 && s.srights => {}
        other => return Err(fail(17, format_args!("status of a: {other:?}"))),
    }

    // A queue limit of one.
    ipc.port_move_member(a, PortName::NULL)
        .map_err(err(18, "out of the set"))?;
    ipc.port_set_qlimit(a, 1).map_err(err(19, "set_qlimit"))?;
    post(&ipc, a, 3).map_err(err(20, "first send"))?;
    if post(&ipc, a, 4) != Err(MsgReturn::SendTimedOut) {
        return Err(fail(21, "a second message past the queue limit"));
    }
    let _ = ipc.receive(a);

    // No-senders, then dead-name, delivered to this task.
    let notify = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(22, "notify port"))?;
    let watched = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(23, "watched"))?;
    ipc.port_insert_right(watched, watched, Disposition::MakeSend)
        .map_err(err(24, "watched send right"))?;
    let previous = ipc
        .request_notification(
            watched,
            NotifyKind::NoSenders,
            0,
            notify,
            Disposition::MakeSendOnce,
        )
        .map_err(err(25, "request no-senders"))?;
    if previous != PortName::NULL {
        return Err(fail(26, "a previous no-senders request"));
    }
    ipc.port_deallocate(watched)
        .map_err(err(27, "drop the send right"))?;
    match ipc.receive(notify) {
        Ok(m) if m.header.id == NOTIFY_NO_SENDERS => {}
        other => return Err(fail(28, format_args!("no-senders: {other:?}"))),
    }
    let other = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(29, "other"))?;
    let send = ipc
        .port_allocate(RightType::Receive)
        .map_err(err(30, "carrier"))?;
    // A send right to `other` under a second name, by a message to ourselves.
    ipc.port_insert_right(send, send, Disposition::MakeSend)
        .map_err(err(31, "carrier send"))?;
    ipc.mach_msg(
        Some(
            Message::new(9, send, Disposition::CopySend)
                .with_item(hurd_ipc::Item::port(other, Disposition::MakeSend)),
        ),
        None,
        &MsgOptions::default(),
    )
    .map_err(err(32, "carry"))?;
    let carried = match ipc.receive(send) {
        Ok(m) => match m.body.first() {
            Some(hurd_ipc::Item::Port(p)) => p.name,
            _ => return Err(fail(33, "no right carried")),
        },
        Err(e) => return Err(fail(33, format_args!("receive carried: {e:?}"))),
    };
    if carried != other {
        // Mach: a send right for a port whose receive right we hold goes
        // under that name. Request on that shared name.
        return Err(fail(34, "the carried right got a new name"));
    }
    ipc.request_notification(
        other,
        NotifyKind::DeadName,
        0,
        notify,
        Disposition::MakeSendOnce,
    )
    .map_err(err(35, "request dead-name"))?;
    // Destroying the receive right leaves a dead name: the request fires.
    ipc.port_mod_refs(other, RightType::Receive, -1)
        .map_err(err(36, "drop the receive right"))?;
    match ipc.receive(notify) {
        Ok(m) if m.header.id == NOTIFY_DEAD_NAME => {}
        other => return Err(fail(37, format_args!("dead-name: {other:?}"))),
    }

    // Names, and refusals.
    let names = ipc.port_names().map_err(err(38, "names"))?;
    for n in [r, set, a, b, notify] {
        if !names.iter().any(|(name, _)| *name == n) {
            return Err(fail(39, "a name missing from port_names"));
        }
    }
    if port_call(9999, r, [0; 4]) != Err(KernReturn::InvalidValue as u64) {
        return Err(fail(40, "an unknown call"));
    }
    if ipc.port_mod_refs(r, RightType::Send, 1) != Err(KernReturn::InvalidRight) {
        return Err(fail(41, "send references without a send right"));
    }
    if port_call(port_call::MOD_REFS, r, [17, 1, 0, 0]) != Err(KernReturn::InvalidValue as u64) {
        return Err(fail(42, "an unknown right type"));
    }
    // `mach_port_get_receive_status` (3217) is an RPC, not a call of the
    // trap, which takes no address.
    if port_call(3217, r, [0x1000, 0, 0, 0]) != Err(KernReturn::InvalidValue as u64) {
        return Err(fail(43, "a call the trap does not make"));
    }
    if ipc.port_type(PortName(0x7777_7700)) != Err(KernReturn::InvalidName) {
        return Err(fail(44, "a name that is not there"));
    }
    Ok(())
}
