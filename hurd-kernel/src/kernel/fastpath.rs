//! The RPC fast path: a `mach_msg` that sends a message that is only a
//! header and then receives (the null RPC's request, and a server's reply
//! followed by its next receive), carried from the trap to the receiver's
//! return to user mode on one straight path, as the L4 family does it.
//!
//! No trap decoding, no copy through the VM's fault handling, no run
//! queue: the header is read from the caller's buffer through a
//! translation the kernel already has, hurd-ipc's
//! [`send_receive_header`](hurd_ipc::IpcKernel::send_receive_header) hands
//! it to the thread waiting on the destination, the header as received is
//! written into that thread's buffer the same way, and the processor goes
//! straight to it (the caller's time slice with it) while the caller waits
//! for its reply.
//!
//! Anything else takes the general path ([`crate::calls`],
//! [`crate::mach_msg::mach_msg`]) with nothing done: another trap or
//! option, a message with a body, a buffer page the kernel has no
//! translation for at hand, a destination with no thread waiting, rights
//! that need more than a count (see `send_receive_header`). Once the
//! message is sent, a step the straight path cannot take (the receiver's
//! buffer needs a fault, a better thread is ready, a task is suspended, the
//! receiver is the kernel) is finished by the general path's code for it,
//! so the outcome is the same either way.

use hurd_abi::msg_option;
use hurd_abi::trap::{self, Call, MachMsg};
use hurd_ipc::{MsgHeader, PortName, RecvOptions, wire};

use crate::arch::trap::TrapFrame;
use crate::arch::uaccess;
use crate::mach_msg::{self, HEADER_SIZE};
use crate::sched;
use crate::task::{Kernel, Pending, ThreadId, ThreadState};

/// `KERN_SUCCESS`.
const SUCCESS: u64 = 0;

// ANCHOR: null_rpc
/// A system call that is a header-only RPC: carried out, and the frame to
/// resume returned (the receiver's, usually). `None` when the fast path
/// does not apply; nothing was done and the general path runs.
#[inline(always)]
pub fn null_rpc(k: &mut Kernel, frame: &mut TrapFrame) -> Option<*mut TrapFrame> {
    // The registers of `mach_msg` (see `hurd_abi::trap::MachMsg`).
    if trap::number_of(frame.rax) != trap::number_of(MachMsg::NUMBER) || frame.rdx != HEADER_SIZE {
        return None;
    }
    let (buf, option, rcv_size) = (frame.rdi, frame.rsi, frame.r10);
    let name = PortName(frame.r8 as u32);
    if !mach_msg::fast_rpc_applies(option, buf, rcv_size) {
        return None;
    }
    let id = k.current;
    // The caller, looked up once: what follows borrows other parts of the
    // kernel (its tasks, the VM, hurd-ipc), never its threads.
    let caller = k.threads.get_mut(&id)?;
    if caller.pending.is_some() {
        return None;
    }
    let task = caller.task?;
    let (map, space) = k.tasks.get(&task).map(|t| (t.map, t.space))?;
    let bytes = uaccess::read_mapped::<{ HEADER_SIZE as usize }>(&k.vm, map, buf)?;
    let header = wire::peek_header(&bytes)
        .ok()
        .filter(|h| u64::from(h.size) == HEADER_SIZE)?;
    let large = option & msg_option::RCV_LARGE != 0;
    let opts = RecvOptions {
        max_size: Some(rcv_size),
        large,
    };
    let done = k
        .ipc
        .send_receive_header(space, &header, name, opts, u64::from(id))?;
    ipc_trace!(
        "mach_msg straight rpc: thread {=u32} port {=u32} msgh_id {=i32} to thread {=u32}",
        id,
        header.remote.0,
        header.id,
        mach_msg::trace_thread(done.to)
    );
    // Sent: the caller now waits for its reply.
    let frame: *mut TrapFrame = frame;
    caller.frame = frame;
    // `pending` is `None` (checked above): the old value is forgotten, which
    // spares this path a call to `Pending`'s drop glue.
    core::mem::forget(caller.pending.replace(Pending::Receive {
        buf,
        rcv_size,
        name,
        large,
    }));
    caller.state = ThreadState::Blocked { deadline: None };
    if done.to != crate::pager::KERNEL_TOKEN {
        let to = done.to as ThreadId;
        if let Some(priority) = deliver(k, to, &done.header) {
            return Some(sched::hand_off(k, frame, to, priority));
        }
    }
    let reason = mach_msg::header_rpc_delivered(k, id, done);
    Some(sched::schedule(k, frame, reason))
}
// ANCHOR_END: null_rpc

/// Writes `header` into the buffer of thread `to`, blocked in its receive,
/// and makes it ready (on no run queue: see [`sched::hand_off`]) with
/// `KERN_SUCCESS`; what [`Kernel::finish_receive_for_handoff`] does, when
/// the buffer's page is at hand and writable. Its priority, or `None`
/// (nothing done) when the page is not at hand.
#[inline(always)]
fn deliver(k: &mut Kernel, to: ThreadId, header: &MsgHeader) -> Option<u8> {
    let bytes = wire::encode_header(header).ok()?;
    // Looked up once; its task and the VM are other parts of the kernel.
    let thread = k.threads.get_mut(&to)?;
    let Some(Pending::Receive { buf, rcv_size, .. }) = thread.pending else {
        return None;
    };
    if !matches!(thread.state, ThreadState::Blocked { .. }) || rcv_size < HEADER_SIZE {
        return None;
    }
    let map = k.tasks.get(&thread.task?)?.map;
    if !uaccess::write_mapped(&k.vm, map, buf, &bytes) {
        return None;
    }
    // The `Receive` matched above owns nothing: forgotten, with no call to
    // `Pending`'s drop glue.
    core::mem::forget(thread.pending.take());
    thread.frame_mut().rax = SUCCESS;
    thread.state = ThreadState::Ready;
    Some(thread.priority)
}
