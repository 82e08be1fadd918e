//! The `mach_msg` trap on hurd-ipc: a send, a receive or both; the fast path
//! of a request and its reply between two threads; copying messages in and
//! out of a task's memory; the retries of blocked threads that hurd-ipc
//! wakes, and the timeouts.

use alloc::vec;
use alloc::vec::Vec;

use hurd_abi::trap::{Call, MachMsg};
use hurd_abi::{self as abi, msg_option};
use hurd_ipc::{FastRpc, Message, MsgReturn, PortName, RecvError, RecvOptions, wire};
use hurd_vm::MapId;

use crate::arch::trap::TrapFrame;
use crate::arch::uaccess::{self, UserFault};
use crate::calls::Caller;
use crate::sched::Reason;
use crate::task::{Kernel, Pending, Restart, ThreadId, ThreadState};

/// `KERN_SUCCESS`.
const SUCCESS: u64 = 0;

fn msg_code(code: MsgReturn) -> u64 {
    code as u64
}

// ANCHOR: mach_msg
/// `mach_msg`: a send, a receive, or both; blocks the thread when it must
/// wait and has a timeout that allows it.
#[inline]
pub fn mach_msg(k: &mut Kernel, frame: &mut TrapFrame, caller: Caller, call: MachMsg) -> Reason {
    let MachMsg {
        msg: buf,
        option,
        send_size,
        rcv_size,
        rcv_name: PortName(rcv_name),
        timeout,
    } = call;
    let (id, map, space) = (caller.thread, caller.map, caller.space);
    let deadline = |now: u64| now + timeout.div_ceil(1000 / crate::arch::timer::HZ).max(1);
    let large = option & msg_option::RCV_LARGE != 0;
    let receive =
        (option & msg_option::RCV_MSG != 0).then_some((buf, rcv_size, PortName(rcv_name), large));
    if option & msg_option::SEND_MSG != 0 {
        if send_size == HEADER_SIZE
            && let Some(reason) = header_rpc(k, map, space, option, (buf, rcv_size, rcv_name))
        {
            return reason;
        }
        let msg = match copy_in_message(k, map, buf, send_size) {
            Ok(msg) => msg,
            Err(CopyIn::Failed(code)) => {
                frame.rax = code;
                return Reason::Return;
            }
            Err(CopyIn::Wait(ticket)) => {
                // Nothing is done yet: the whole call is made again once the
                // page is there.
                let restart = Restart {
                    nr: MachMsg::NUMBER,
                    error: msg_code(MsgReturn::SendInvalidData),
                };
                k.wait_for_pager(id, ticket, Some(restart));
                return Reason::Blocked;
            }
        };
        let msg = match receive {
            Some((buf, rcv_size, name, large)) if fast_rpc_applies(option, buf, rcv_size) => {
                let opts = RecvOptions {
                    max_size: Some(rcv_size),
                    large,
                };
                match k
                    .ipc
                    .send_receive_fast(space, msg, name, opts, u64::from(id))
                {
                    FastRpc::Done {
                        to,
                        message,
                        received,
                    } => {
                        ipc_trace!(
                            "mach_msg rpc: thread {=u32} msgh_id {=i32} size {=u32} to port {=u32} of the receiver",
                            id,
                            message.header.id,
                            message.header.size,
                            message.header.local.0
                        );
                        let rcv = (buf, rcv_size, name, large);
                        return fast_rpc_done(k, frame, (to, message), received, rcv);
                    }
                    FastRpc::NotApplicable(msg) => msg,
                }
            }
            _ => msg,
        };
        let may_block = !(option & msg_option::SEND_TIMEOUT != 0 && timeout == 0);
        let wait = may_block.then_some(u64::from(id));
        #[cfg(feature = "trace")]
        let sent = (msg.header.remote.0, msg.header.id, msg.header.size);
        match k.ipc.send(space, msg, wait) {
            Ok(()) => {
                ipc_trace!(
                    "mach_msg send: thread {=u32} port {=u32} msgh_id {=i32} size {=u32}",
                    id,
                    sent.0,
                    sent.1,
                    sent.2
                );
                k.process_ipc_events();
                if k.threads
                    .get(&id)
                    .is_none_or(|t| t.state == ThreadState::Dead)
                {
                    // The message ended its own thread or task.
                    return Reason::Blocked;
                }
            }
            Err(err) if err.code == MsgReturn::SendTimedOut && may_block => {
                let timed = option & msg_option::SEND_TIMEOUT != 0;
                block(
                    k,
                    id,
                    Pending::Send {
                        msg: err.message,
                        then: receive,
                    },
                    timed.then(|| deadline(crate::arch::timer::ticks())),
                );
                return Reason::Blocked;
            }
            Err(err) => {
                ipc_trace!(
                    "mach_msg send failed: thread {=u32} port {=u32} msgh_id {=i32}: {}",
                    id,
                    sent.0,
                    sent.1,
                    err.code
                );
                frame.rax = msg_code(err.code);
                return Reason::Return;
            }
        }
    }
    let Some((buf, rcv_size, name, large)) = receive else {
        frame.rax = SUCCESS;
        return Reason::Return;
    };
    if !abi::user_range_ok(buf, rcv_size) || rcv_size < 24 {
        frame.rax = msg_code(MsgReturn::RcvInvalidData);
        return Reason::Return;
    }
    let may_block = !(option & msg_option::RCV_TIMEOUT != 0 && timeout == 0);
    let timed = option & msg_option::RCV_TIMEOUT != 0;
    match start_receive(k, id, map, space, (buf, rcv_size, name, large), may_block) {
        Some(code) => {
            frame.rax = code;
            Reason::Return
        }
        None => {
            if let Some(t) = k.threads.get_mut(&id)
                && matches!(t.pending, Some(Pending::Receive { .. }))
            {
                t.state = ThreadState::Blocked {
                    deadline: timed.then(|| deadline(crate::arch::timer::ticks())),
                };
            }
            Reason::Blocked
        }
    }
}

// ANCHOR_END: mach_msg

// ANCHOR: fast_rpc
/// Whether a `mach_msg` may take the RPC fast path: a send and a receive
/// with no timeouts, into a receive buffer that is valid user memory.
#[inline]
pub fn fast_rpc_applies(option: u64, buf: u64, rcv_size: u64) -> bool {
    let flags = msg_option::SEND_MSG
        | msg_option::RCV_MSG
        | msg_option::SEND_TIMEOUT
        | msg_option::RCV_TIMEOUT;
    option & flags == msg_option::SEND_MSG | msg_option::RCV_MSG
        && rcv_size >= 24
        && abi::user_range_ok(buf, rcv_size)
}

/// The size of a message that is only a header.
pub const HEADER_SIZE: u64 = 24;

// ANCHOR: header_rpc
/// The RPC fast path for a message that is only a header (the null RPC, and
/// most replies): copied in to the stack, handed by hurd-ipc's
/// [`send_receive_header`](hurd_ipc::IpcKernel::send_receive_header) to the
/// thread waiting on the destination, written into that thread's buffer,
/// and the processor handed to it while the caller waits for its reply.
/// `None` when the path does not apply (nothing was done): the general path
/// then runs.
#[inline]
fn header_rpc(
    k: &mut Kernel,
    map: MapId,
    space: hurd_ipc::SpaceId,
    option: u64,
    (buf, rcv_size, rcv_name): (u64, u64, u32),
) -> Option<Reason> {
    if !fast_rpc_applies(option, buf, rcv_size) {
        return None;
    }
    let mut bytes = [0u8; HEADER_SIZE as usize];
    uaccess::copy_in(&mut k.vm, map, buf, &mut bytes).ok()?;
    let header = wire::peek_header(&bytes)
        .ok()
        .filter(|h| u64::from(h.size) == HEADER_SIZE)?;
    let id = k.current;
    let name = PortName(rcv_name);
    let large = option & msg_option::RCV_LARGE != 0;
    let opts = RecvOptions {
        max_size: Some(rcv_size),
        large,
    };
    let done = k
        .ipc
        .send_receive_header(space, &header, name, opts, u64::from(id))?;
    ipc_trace!(
        "mach_msg header rpc: thread {=u32} port {=u32} msgh_id {=i32} to thread {=u32}",
        id,
        header.remote.0,
        header.id,
        trace_thread(done.to)
    );
    // The caller now waits for its reply.
    if let Some(t) = k.threads.get_mut(&id) {
        t.pending = Some(Pending::Receive {
            buf,
            rcv_size,
            name,
            large,
        });
        t.state = ThreadState::Blocked { deadline: None };
    }
    Some(header_rpc_delivered(k, id, done))
}

/// The rest of a header-only RPC that hurd-ipc carried out for thread `id`
/// (which now waits for its reply): the message goes into the receiver's
/// buffer (or to the kernel), and the receiver is made ready to run next.
pub fn header_rpc_delivered(k: &mut Kernel, id: ThreadId, done: hurd_ipc::HeaderRpc) -> Reason {
    let message = Message {
        header: done.header,
        body: Vec::new(),
    };
    if done.to == crate::pager::KERNEL_TOKEN {
        to_kernel(k, id, message);
        k.process_ipc_events();
        return Reason::Blocked;
    }
    let to = done.to as ThreadId;
    if k.finish_receive_for_handoff(to, Ok(message)) {
        ipc_trace!("hand-off: thread {=u32} to thread {=u32}", id, to);
        Reason::HandOff(to)
    } else {
        Reason::Blocked
    }
}

// ANCHOR_END: header_rpc

/// A message the fast paths handed to the kernel itself (a request on a
/// task, thread or control port) from thread `id`, which now waits in its
/// receive: the kernel carries it out. Returns whether that ended the
/// thread (or its task), whose wait is then cancelled.
fn to_kernel(k: &mut Kernel, id: ThreadId, message: Message) -> bool {
    k.kernel_event(Some(Ok(message)));
    let ended = k
        .threads
        .get(&id)
        .is_none_or(|t| t.state == ThreadState::Dead);
    if ended {
        k.ipc.cancel_wait(u64::from(id));
    }
    ended
}

/// Finishes a `mach_msg` whose send hurd-ipc handed straight to the thread
/// waiting on the destination: that thread gets its message in its buffer
/// and becomes ready; the caller waits in its receive (or has its message
/// or error already).
#[inline]
fn fast_rpc_done(
    k: &mut Kernel,
    frame: &mut TrapFrame,
    (to, message): (hurd_ipc::WaiterToken, Message),
    received: Result<Message, RecvError>,
    (buf, rcv_size, name, large): (u64, u64, PortName, bool),
) -> Reason {
    let id = k.current;
    if to == crate::pager::KERNEL_TOKEN {
        if to_kernel(k, id, message) {
            k.process_ipc_events();
            return Reason::Blocked;
        }
    } else {
        k.finish_receive(to as ThreadId, Ok(message));
    }
    let reason = match received {
        Err(e) if e.code == MsgReturn::RcvTimedOut => {
            if let Some(t) = k.threads.get_mut(&id) {
                t.pending = Some(Pending::Receive {
                    buf,
                    rcv_size,
                    name,
                    large,
                });
                t.state = ThreadState::Blocked { deadline: None };
            }
            Reason::Blocked
        }
        result => {
            let map = k
                .current_task()
                .and_then(|t| k.tasks.get(&t))
                .map(|t| t.map);
            let copied = map.map(|map| {
                let rcv = (buf, rcv_size, large);
                copy_out_message(&mut k.vm, &mut k.wire_buf, map, rcv, result)
            });
            match copied {
                Some(Ok(code)) => {
                    frame.rax = code;
                    Reason::Return
                }
                Some(Err(ticket)) => {
                    k.wait_copy_out(id, ticket, buf);
                    Reason::Blocked
                }
                None => Reason::Blocked,
            }
        }
    };
    k.process_ipc_events();
    reason
}

// ANCHOR_END: fast_rpc

/// Receives for thread `id`: `Some(code)` when done (the message copied out
/// or an error), `None` when the thread must wait (registered with hurd-ipc,
/// its pending receive recorded; or blocked until a page of its buffer comes
/// from a pager).
fn start_receive(
    k: &mut Kernel,
    id: ThreadId,
    map: MapId,
    space: hurd_ipc::SpaceId,
    (buf, rcv_size, name, large): (u64, u64, PortName, bool),
    may_block: bool,
) -> Option<u64> {
    let opts = RecvOptions {
        max_size: Some(rcv_size),
        large,
    };
    let wait = may_block.then_some(u64::from(id));
    let result = k.ipc.receive(space, name, opts, wait);
    match result {
        Err(e) if e.code == MsgReturn::RcvTimedOut && may_block => {
            if let Some(t) = k.threads.get_mut(&id) {
                t.pending = Some(Pending::Receive {
                    buf,
                    rcv_size,
                    name,
                    large,
                });
            }
            None
        }
        result => {
            match &result {
                Ok(message) => trace_receive(id, message),
                Err(_e) => {
                    ipc_trace!(
                        "mach_msg receive failed: thread {=u32} port {=u32}: {}",
                        id,
                        name.0,
                        _e.code
                    );
                }
            }
            let rcv = (buf, rcv_size, large);
            let copied = copy_out_message(&mut k.vm, &mut k.wire_buf, map, rcv, result);
            let code = match copied {
                Ok(code) => Some(code),
                Err(ticket) => {
                    k.wait_copy_out(id, ticket, buf);
                    None
                }
            };
            k.process_ipc_events();
            code
        }
    }
}

/// The thread a waiter token names, for the trace line: 0 (the kernel's
/// own thread) for the kernel's token.
#[cfg(feature = "trace")]
#[inline(always)]
pub fn trace_thread(token: hurd_ipc::WaiterToken) -> u32 {
    u32::try_from(token).unwrap_or(crate::task::BOOT_THREAD)
}

/// A message received by thread `id` on the trace line (feature `trace`).
#[inline(always)]
pub fn trace_receive(id: ThreadId, message: &Message) {
    ipc_trace!(
        "mach_msg receive: thread {=u32} port {=u32} msgh_id {=i32} size {=u32}",
        id,
        message.header.local.0,
        message.header.id,
        message.header.size
    );
    #[cfg(not(feature = "trace"))]
    let _ = (id, message);
}

/// Blocks thread `id` with `pending`.
fn block(k: &mut Kernel, id: ThreadId, pending: Pending, deadline: Option<u64>) {
    if let Some(t) = k.threads.get_mut(&id) {
        t.pending = Some(pending);
        t.state = ThreadState::Blocked { deadline };
    }
}

/// Why a message was not copied in.
enum CopyIn {
    /// The `mach_msg` code to return.
    Failed(u64),
    /// A page of the buffer must come from a pager first.
    Wait(hurd_vm::Ticket),
}

impl From<UserFault> for CopyIn {
    fn from(fault: UserFault) -> CopyIn {
        match fault {
            UserFault::Bad => CopyIn::Failed(msg_code(MsgReturn::SendInvalidData)),
            UserFault::Pager(ticket) => CopyIn::Wait(ticket),
        }
    }
}

// ANCHOR: copy_in_message
/// Reads a message from user memory and checks it (`wire::decode`).
fn copy_in_message(k: &mut Kernel, map: MapId, buf: u64, size: u64) -> Result<Message, CopyIn> {
    let bad = |code| CopyIn::Failed(msg_code(code));
    if size < 24 {
        return Err(bad(MsgReturn::SendMsgTooSmall));
    }
    if size > abi::MAX_MESSAGE {
        return Err(bad(MsgReturn::SendInvalidData));
    }
    // The message is held in the kernel until received: refused while the
    // heap is short (see `crate::limits`).
    if crate::limits::heap_room(2 * size as usize + 512).is_err() {
        return Err(bad(MsgReturn::SendNoBuffer));
    }
    // Small messages (the common RPC) are copied to the stack, not the heap.
    let mut small = [0u8; 64];
    if let Some(bytes) = small.get_mut(..size as usize) {
        uaccess::copy_in(&mut k.vm, map, buf, bytes)?;
        return wire::decode(bytes, &wire::Limits::DEFAULT).map_err(bad);
    }
    let mut bytes = vec![0u8; size as usize];
    uaccess::copy_in(&mut k.vm, map, buf, &mut bytes)?;
    wire::decode(&bytes, &wire::Limits::DEFAULT).map_err(bad)
}

// ANCHOR_END: copy_in_message

/// Writes a received message (or reports the receive's error) into the user
/// buffer `buf` of `rcv_size` bytes; returns the `mach_msg` code, or `Err`
/// with the ticket to wait on when a page of the buffer must come from a
/// pager (the message, encoded, is left in `bytes`).
///
/// With `large` (`MACH_RCV_LARGE`), a message too large for the buffer
/// (left queued by hurd-ipc) has its size written into the buffer's
/// `msgh_size`, as GNU Mach does; like GNU Mach, a failed copy of the size
/// is not reported (here: a buffer page that must come from a pager).
pub fn copy_out_message(
    vm: &mut crate::task::KernelVm,
    bytes: &mut Vec<u8>,
    map: MapId,
    (buf, rcv_size, large): (u64, u64, bool),
    result: Result<Message, RecvError>,
) -> Result<u64, hurd_vm::Ticket> {
    let msg = match result {
        Ok(msg) => msg,
        Err(e) => {
            if large && e.code == MsgReturn::RcvTooLarge {
                let size = u32::try_from(e.size).unwrap_or(u32::MAX).to_le_bytes();
                if let Err(UserFault::Pager(ticket)) =
                    uaccess::copy_out(vm, map, buf.saturating_add(4), &size)
                {
                    vm.release_ticket(&ticket);
                }
            }
            return Ok(msg_code(e.code));
        }
    };
    if msg.body.is_empty() {
        // Header only (the common reply): encoded on the stack.
        let Ok(header) = wire::encode_header(&msg.header) else {
            return Ok(msg_code(MsgReturn::RcvTooLarge));
        };
        if header.len() as u64 > rcv_size {
            return Ok(msg_code(MsgReturn::RcvTooLarge));
        }
        return match uaccess::copy_out(vm, map, buf, &header) {
            Ok(()) => Ok(SUCCESS),
            Err(UserFault::Pager(ticket)) => {
                bytes.clear();
                bytes.extend_from_slice(&header);
                Err(ticket)
            }
            Err(UserFault::Bad) => Ok(msg_code(MsgReturn::RcvInvalidData)),
        };
    }
    bytes.clear();
    if wire::encode_into(&msg, bytes).is_err() || bytes.len() as u64 > rcv_size {
        return Ok(msg_code(MsgReturn::RcvTooLarge));
    }
    match uaccess::copy_out(vm, map, buf, bytes) {
        Ok(()) => Ok(SUCCESS),
        Err(UserFault::Pager(ticket)) => Err(ticket),
        Err(UserFault::Bad) => Ok(msg_code(MsgReturn::RcvInvalidData)),
    }
}

/// A blocked thread was woken by hurd-ipc: retry what it waits for.
pub fn retry(k: &mut Kernel, id: ThreadId) {
    let Some(thread) = k.threads.get_mut(&id) else {
        return;
    };
    if !matches!(thread.state, ThreadState::Blocked { .. }) {
        return;
    }
    let ThreadState::Blocked { deadline } = thread.state else {
        return;
    };
    let Some(pending) = thread.pending.take() else {
        return;
    };
    let Some((map, space)) = thread
        .task
        .and_then(|t| k.tasks.get(&t))
        .map(|t| (t.map, t.space))
    else {
        return;
    };
    let (receive, code) = match pending {
        Pending::Receive {
            buf,
            rcv_size,
            name,
            large,
        } => (Some((buf, rcv_size, name, large)), None),
        pending @ (Pending::Fault { .. }
        | Pending::CopyOut { .. }
        | Pending::ConsoleRead { .. }) => {
            // Pagers and the console wake these, not hurd-ipc.
            if let Some(thread) = k.threads.get_mut(&id) {
                thread.pending = Some(pending);
            }
            return;
        }
        Pending::Send { msg, then } => match k.ipc.send(space, msg, Some(u64::from(id))) {
            Ok(())
                if k.threads
                    .get(&id)
                    .is_none_or(|t| t.state == ThreadState::Dead) =>
            {
                return; // the message ended its own thread or task
            }
            Ok(()) => (then, Some(SUCCESS)),
            Err(err) if err.code == MsgReturn::SendTimedOut => {
                block(
                    k,
                    id,
                    Pending::Send {
                        msg: err.message,
                        then,
                    },
                    deadline,
                );
                return;
            }
            Err(err) => (None, Some(msg_code(err.code))),
        },
    };
    let code = match receive {
        Some(rcv) if code.is_none_or(|c| c == SUCCESS) => {
            match start_receive(k, id, map, space, rcv, true) {
                Some(code) => code,
                None => return, // still waiting (pending recorded)
            }
        }
        _ => code.unwrap_or(SUCCESS),
    };
    if let Some(thread) = k.threads.get_mut(&id) {
        thread.frame_mut().rax = code;
    }
    k.make_ready(id);
}

/// Ends the waits whose deadline has passed with a timed-out code.
pub fn expire_timeouts(k: &mut Kernel, now: u64) {
    let expired: Vec<ThreadId> = k
        .threads
        .iter()
        .filter(|(_, t)| matches!(t.state, ThreadState::Blocked { deadline: Some(d) } if d <= now))
        .map(|(id, _)| id)
        .collect();
    for id in expired {
        if !k.ipc.cancel_wait(u64::from(id)) {
            continue; // woken at the same moment: the wake-up wins
        }
        let Some(thread) = k.threads.get_mut(&id) else {
            continue;
        };
        let code = match thread.pending.take() {
            Some(Pending::Send { .. }) => MsgReturn::SendTimedOut,
            _ => MsgReturn::RcvTimedOut,
        };
        thread.frame_mut().rax = msg_code(code);
        k.make_ready(id);
    }
}
