//! The scheduler: fixed priorities (0 first, as in Mach), round robin within
//! a priority, preemption by the timer when a time slice ends and whenever a
//! thread of higher priority becomes ready.
//!
//! A switch is a change of frame: every trap enters with the running thread's
//! frame on its kernel stack, and [`schedule`] returns the frame to resume,
//! which may belong to another thread. The switch also points the processor
//! at the new thread's kernel stack and loads its address space
//! ([`crate::arch::context`]).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::context;
use crate::arch::trap::TrapFrame;
use crate::task::{BOOT_THREAD, Kernel, ThreadState, with_kernel};

/// Timer ticks in a time slice.
pub const QUANTUM: u32 = 5;

/// Every this many ticks the boot thread gets the processor even when user
/// threads are ready, so the kernel's own work (the test harness) cannot be
/// starved by tasks that never block.
pub const BOOT_THREAD_PERIOD: u64 = 10;

/// The time-stamp counter when the first user thread was first switched to
/// (0 until then).
pub static FIRST_USER_TSC: AtomicU64 = AtomicU64::new(0);

/// Context switches so far.
pub static SWITCHES: AtomicU64 = AtomicU64::new(0);

/// The ready thread to run next, taken off its queue; ready threads of
/// suspended tasks are set aside on the way.
fn pick(k: &mut Kernel) -> Option<u32> {
    while let Some(id) = k.dequeue_best() {
        if k.is_suspended(id) {
            k.park(id);
            continue;
        }
        return Some(id);
    }
    None
}

/// `to`, ready but on no run queue (see
/// [`Kernel::finish_receive_for_handoff`]), when it is the thread to run
/// next: no thread of better priority is ready, and its task is not
/// suspended. Otherwise it joins its run queue (or its suspended task's
/// parked threads) and `None` is returned.
fn take_handoff(k: &mut Kernel, to: u32) -> Option<u32> {
    let priority = k.threads.get(&to)?.priority;
    if k.is_suspended(to) {
        k.park(to);
        return None;
    }
    if k.best_ready().is_some_and(|best| best < priority) {
        k.enqueue_woken(to, priority);
        return None;
    }
    Some(to)
}

/// The best priority among ready threads.
fn best_ready(k: &Kernel) -> Option<u8> {
    k.best_ready()
}

/// Why the scheduler is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The current thread blocked or ended: run something else.
    Blocked,
    /// The current thread gives up the processor to its peers.
    Yield,
    /// A trap finished: switch only if a better thread is ready.
    Return,
    /// A timer tick.
    Tick,
    /// The boot thread's periodic turn (see [`BOOT_THREAD_PERIOD`]).
    Housekeeping,
    /// The current thread blocked after handing a message to this thread,
    /// which was just made ready: run it next unless a thread of better
    /// priority is ready (the hand-off of L4 and Mach's RPC path).
    HandOff(u32),
}

/// Saves `frame` as the current thread's, picks the thread to run and
/// returns its frame.
pub fn schedule(k: &mut Kernel, frame: *mut TrapFrame, reason: Reason) -> *mut TrapFrame {
    let current = k.current;
    let Some(cur) = k.threads.get_mut(&current) else {
        panic!("the running thread {current} is unknown");
    };
    cur.frame = frame;
    let running = cur.state == ThreadState::Running;
    let priority = cur.priority;
    if running && current != BOOT_THREAD && k.is_suspended(current) {
        // Its task was just suspended (by itself, or by a request it sent).
        if let Some(cur) = k.threads.get_mut(&current) {
            cur.state = ThreadState::Ready;
        }
        k.park(current);
    } else if running && current != BOOT_THREAD {
        let switch = match reason {
            Reason::Blocked | Reason::Housekeeping | Reason::HandOff(_) => true,
            Reason::Yield => best_ready(k).is_some_and(|p| p <= priority),
            Reason::Return => best_ready(k).is_some_and(|p| p < priority),
            Reason::Tick => {
                let cur = k.threads.get_mut(&current).expect("checked above");
                cur.quantum = cur.quantum.saturating_sub(1);
                let expired = cur.quantum == 0;
                best_ready(k).is_some_and(|p| p < priority || (expired && p == priority))
            }
        };
        if !switch {
            return frame;
        }
        let cur = k.threads.get_mut(&current).expect("checked above");
        cur.state = ThreadState::Ready;
        k.enqueue(current, priority);
    } else if running && current == BOOT_THREAD && best_ready(k).is_none() {
        return frame;
    }
    let next = match reason {
        Reason::Housekeeping => BOOT_THREAD,
        Reason::HandOff(to) => take_handoff(k, to)
            .or_else(|| pick(k))
            .unwrap_or(BOOT_THREAD),
        _ => pick(k).unwrap_or(BOOT_THREAD),
    };
    switch_to(k, current, next)
}

/// The end of a system call that did not block: [`schedule`] for `reason`,
/// with its common case first. When the call simply returns
/// ([`Reason::Return`]), no task is suspended and no better thread is
/// ready, the caller goes on: its frame is returned as it is.
#[inline(always)]
pub fn finish(k: &mut Kernel, frame: *mut TrapFrame, reason: Reason) -> *mut TrapFrame {
    let current = k.current;
    if reason == Reason::Return
        && k.suspended == 0
        && current != BOOT_THREAD
        && let Some(cur) = k.threads.get_mut(&current)
        && cur.state == ThreadState::Running
        && k.run_queues.best().is_none_or(|best| best >= cur.priority)
    {
        cur.frame = frame;
        return frame;
    }
    schedule(k, frame, reason)
}

// ANCHOR: hand_off
/// [`schedule`] for [`Reason::HandOff`]`(to)` from the RPC fast path
/// ([`crate::fastpath`]): the current thread has blocked with `frame`
/// saved as its own, `to` (of `priority`) is ready on no run queue. When
/// no task is suspended and no better thread is ready, the processor goes
/// straight to `to`; otherwise `schedule` decides.
#[inline(always)]
pub fn hand_off(k: &mut Kernel, frame: *mut TrapFrame, to: u32, priority: u8) -> *mut TrapFrame {
    let current = k.current;
    if k.suspended != 0
        || current == BOOT_THREAD
        || best_ready(k).is_some_and(|best| best < priority)
    {
        return schedule(k, frame, Reason::HandOff(to));
    }
    enter(k, current, to)
}
// ANCHOR_END: hand_off

// ANCHOR: switch
/// Makes `next` the running thread and returns its frame.
fn switch_to(k: &mut Kernel, previous: u32, next: u32) -> *mut TrapFrame {
    if let Some(prev) = k.threads.get_mut(&previous) {
        if prev.state == ThreadState::Running {
            prev.state = ThreadState::Ready;
        }
        if prev.state == ThreadState::Dead
            && let Some(mut prev) = k.threads.remove(&previous)
            && let Some(stack) = prev.stack.take()
        {
            // Still in use until this trap returns: freed at the next one.
            k.zombie_stacks.push(stack);
        }
    }
    enter(k, previous, next)
}

/// The processor's part of a switch from `previous` (off the processor
/// now, its state set) to `next`: `next` runs, on its kernel stack, with
/// its segment bases and address space; its frame is returned.
#[inline(always)]
fn enter(k: &mut Kernel, previous: u32, next: u32) -> *mut TrapFrame {
    let Some(thread) = k.threads.get_mut(&next) else {
        panic!("switching to unknown thread {next}");
    };
    thread.state = ThreadState::Running;
    if thread.quantum == 0 {
        thread.quantum = QUANTUM;
    }
    let top = thread.stack_top();
    let frame = thread.frame;
    let bases = (thread.fs_base, thread.gs_base);
    let has_fpu_area = thread.fpu.is_some();
    let root = thread.root;
    k.current = next;
    crate::arch::fpu::switched_to(next, has_fpu_area);
    if next != previous {
        SWITCHES.fetch_add(1, Ordering::Relaxed);
    }
    if top != 0 {
        if FIRST_USER_TSC.load(Ordering::Relaxed) == 0 {
            FIRST_USER_TSC.store(context::read_tsc(), Ordering::Relaxed);
        }
        context::set_kernel_stack(top);
        context::load_segment_bases(bases.0, bases.1);
    }
    context::load_address_space(root);
    frame
}

// ANCHOR_END: switch

/// The timer's chance to preempt.
pub fn preempt(frame: &mut TrapFrame) -> *mut TrapFrame {
    let now = crate::arch::timer::ticks();
    let mut guard = crate::task::KERNEL.lock();
    let Some(k) = guard.as_mut() else {
        return frame;
    };
    crate::mach_msg::expire_timeouts(k, now);
    if now.is_multiple_of(BOOT_THREAD_PERIOD) && k.current != BOOT_THREAD {
        return schedule(k, frame, Reason::Housekeeping);
    }
    schedule(k, frame, Reason::Tick)
}

/// Frees the stacks of threads that have ended (called on entry to the
/// kernel, when the processor is on a live thread's stack).
pub fn reap(k: &mut Kernel) {
    k.zombie_stacks.clear();
}

/// On the boot thread: lets user threads run until `done` holds or
/// `max_ticks` timer ticks have passed; returns whether `done` held.
pub fn run_until(mut done: impl FnMut(&mut Kernel) -> bool, max_ticks: u64) -> bool {
    let start = crate::arch::timer::ticks();
    loop {
        if with_kernel(&mut done) {
            return true;
        }
        if crate::arch::timer::ticks() - start > max_ticks {
            return false;
        }
        // Switch to whatever is ready; back here when nothing is.
        context::enter_scheduler();
        if with_kernel(|k| k.run_queues.is_empty()) {
            context::wait_for_interrupt();
        }
    }
}
