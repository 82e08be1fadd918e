//! The calls a test's pager makes on a control port, and what the kernel's
//! outgoing calls hold, in few words.
#![allow(dead_code)]

use hurd_ipc::{Disposition, PortItem, PortName};
use hurd_vm::protocol::{control, control_lock, control_unavailable, memory_object};
use hurd_vm::{ControlCall, KernelCall, Outgoing};

/// A `reply_to` right as the kernel receives it.
pub fn reply_to(name: PortName) -> PortItem {
    PortItem {
        disposition: Disposition::PORT_SEND_ONCE,
        name,
    }
}

pub fn ready(may_cache: bool, copy_strategy: u32) -> ControlCall {
    ControlCall::Control(control::Call::ready {
        may_cache,
        copy_strategy,
    })
}

pub fn data_supply(
    offset: u64,
    data: Vec<u8>,
    lock_value: u32,
    precious: bool,
    reply: PortName,
) -> ControlCall {
    ControlCall::Control(control::Call::data_supply {
        offset,
        data: hurd_vm::protocol::page_data(data),
        lock_value,
        precious,
        reply_to: reply_to(reply),
    })
}

pub fn data_error(offset: u64, size: u64, error: i32) -> ControlCall {
    ControlCall::Control(control::Call::data_error {
        offset,
        size,
        error_value: error,
    })
}

pub fn data_unavailable(offset: u64, size: u64) -> ControlCall {
    ControlCall::Unavailable(control_unavailable::Call::data_unavailable { offset, size })
}

pub fn lock_request(
    offset: u64,
    size: u64,
    should_return: u32,
    should_flush: bool,
    lock_value: u32,
    reply: PortName,
) -> ControlCall {
    ControlCall::Lock(control_lock::Call::lock_request {
        offset,
        size,
        should_return,
        should_flush,
        lock_value,
        reply_to: reply_to(reply),
    })
}

pub fn change_attributes(may_cache: bool, copy_strategy: u32, reply: PortName) -> ControlCall {
    ControlCall::Control(control::Call::change_attributes {
        may_cache,
        copy_strategy,
        reply_to: reply_to(reply),
    })
}

pub fn destroy(reason: i32) -> ControlCall {
    ControlCall::Control(control::Call::destroy { reason })
}

/// The memory_object call an outgoing message makes, if it is one.
pub fn object_call(o: &Outgoing) -> Option<&memory_object::Call> {
    match &o.call {
        KernelCall::Object(c) => Some(c),
        KernelCall::Default(_) => None,
    }
}

/// `(offset, data, dirty)` of a `data_return`.
pub fn data_return(o: &Outgoing) -> Option<(u64, &[u8], bool)> {
    match object_call(o)? {
        memory_object::Call::data_return {
            offset,
            data,
            dirty,
            ..
        } => Some((*offset, &data.data, *dirty)),
        _ => None,
    }
}

/// `(offset, desired_access)` of a `data_request`.
pub fn data_request(o: &Outgoing) -> Option<(u64, u32)> {
    match object_call(o)? {
        memory_object::Call::data_request {
            offset,
            desired_access,
            ..
        } => Some((*offset, *desired_access)),
        _ => None,
    }
}

/// Whether the message is `memory_object_terminate`.
pub fn is_terminate(o: &Outgoing) -> bool {
    matches!(object_call(o), Some(memory_object::Call::terminate { .. }))
}
