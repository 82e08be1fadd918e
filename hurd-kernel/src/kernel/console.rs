//! Reading the console: `console_read` takes what COM1's receive interrupt
//! buffered (see [`crate::arch::serial`]), or blocks the thread until input
//! arrives; the interrupt hands new input to a waiting reader.
//!
//! Bytes leave the buffer only once they are in the reader's memory, so a
//! copy that must wait for a pager (the call is made again) or fails loses
//! nothing.

use hurd_abi::{CONSOLE_NOWAIT, user_range_ok};
use hurd_ipc::KernReturn;
use hurd_vm::MapId;

use crate::arch::serial;
use crate::arch::trap::TrapFrame;
use crate::arch::uaccess::{self, UserFault};
use crate::sched::{self, Reason};
use crate::task::{Kernel, Pending, ThreadId, ThreadState};

/// The most bytes one read returns.
const READ_MAX: u64 = 4096;

/// What a read came to.
pub enum Read {
    /// This many bytes were copied.
    Done(u64),
    /// Nothing to read yet: the thread waits (already blocked).
    Waiting,
    /// The call fails with this code.
    Failed(KernReturn),
    /// A page of the buffer must come from a pager first.
    Pager(hurd_vm::Ticket),
}

/// Copies what is buffered (up to `len` bytes) to `buf` in `map`.
fn copy_input(k: &mut Kernel, map: MapId, buf: u64, len: u64) -> Result<u64, UserFault> {
    let bytes = serial::peek_input(len.min(READ_MAX) as usize);
    uaccess::copy_out(&mut k.vm, map, buf, &bytes)?;
    serial::consume_input(bytes.len());
    Ok(bytes.len() as u64)
}

/// `console_read` by the current thread.
pub fn read(k: &mut Kernel, map: MapId, buf: u64, len: u64, flags: u64) -> Read {
    if flags & !CONSOLE_NOWAIT != 0 {
        return Read::Failed(KernReturn::InvalidArgument);
    }
    if len == 0 || !user_range_ok(buf, len) {
        return Read::Failed(KernReturn::InvalidAddress);
    }
    if !serial::has_input() {
        if flags & CONSOLE_NOWAIT != 0 {
            return Read::Done(0);
        }
        let id = k.current;
        if let Some(t) = k.threads.get_mut(&id) {
            t.pending = Some(Pending::ConsoleRead { buf, len });
            t.state = ThreadState::Blocked { deadline: None };
        }
        return Read::Waiting;
    }
    match copy_input(k, map, buf, len) {
        Ok(n) => Read::Done(n),
        Err(UserFault::Bad) => Read::Failed(KernReturn::InvalidAddress),
        Err(UserFault::Pager(ticket)) => Read::Pager(ticket),
    }
}

/// Gives buffered input to waiting readers, one read each.
pub fn deliver(k: &mut Kernel) {
    while serial::has_input() {
        let reader = k.threads.iter().find_map(|(id, t)| match t.pending {
            Some(Pending::ConsoleRead { buf, len })
                if matches!(t.state, ThreadState::Blocked { .. }) =>
            {
                Some((id, t.task, buf, len))
            }
            _ => None,
        });
        let Some((id, task, buf, len)) = reader else {
            return;
        };
        let map = task.and_then(|t| k.tasks.get(&t)).map(|t| t.map);
        let code = match map.map(|map| copy_input(k, map, buf, len)) {
            Some(Ok(n)) => Ok(n),
            Some(Err(fault)) => {
                // The reader cannot wait for a pager here: its read fails,
                // and the input stays for the next.
                fault.abandon(&mut k.vm);
                Err(KernReturn::InvalidAddress)
            }
            None => Err(KernReturn::InvalidTask),
        };
        finish(k, id, code);
    }
}

/// Ends thread `id`'s wait with `code` (the count read, or the failure).
fn finish(k: &mut Kernel, id: ThreadId, code: Result<u64, KernReturn>) {
    if let Some(t) = k.threads.get_mut(&id) {
        t.pending = None;
        let frame = t.frame_mut();
        match code {
            Ok(n) => {
                frame.rax = 0;
                frame.rdx = n;
            }
            Err(e) => frame.rax = e as u64,
        }
    }
    k.make_ready(id);
}

/// COM1's receive interrupt: buffers the input, wakes a reader, and lets
/// the scheduler run it if it is more urgent.
pub fn interrupt(frame: &mut TrapFrame) -> *mut TrapFrame {
    serial::receive();
    crate::arch::timer::end_of_interrupt(serial::IRQ as u8);
    let mut guard = crate::task::KERNEL.lock();
    let Some(k) = guard.as_mut() else {
        return frame;
    };
    deliver(k);
    sched::schedule(k, frame, Reason::Return)
}
