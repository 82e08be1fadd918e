//! Blocking one thread until the kernel wakes it, it times out, or it is interrupted.

use std::time::Instant;

use super::sync::{Arc, AtomicBool, Mutex, Ordering, Thread, lock, thread};
use crate::{Message, RecvError};

/// How many times a waiter polls before it parks. Spinning briefly lets a
/// ping-pong between two threads on two cores hand over without a futex wait.
#[cfg(not(loom))]
const SPINS: u32 = 1 << 12;
#[cfg(loom)]
const SPINS: u32 = 0;

/// Why a wait ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Wake {
    Notified,
    TimedOut,
    Interrupted,
}

/// One blocked thread.
pub(crate) struct Parker {
    /// A message received for this thread by direct hand-off.
    slot: Mutex<Option<Result<Message, RecvError>>>,
    notified: AtomicBool,
    interrupted: AtomicBool,
    thread: Thread,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            slot: Mutex::new(None),
            notified: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
            thread: thread::current(),
        }
    }

    /// The calling thread's parker, re-armed for a new wait. Outside loom each
    /// thread keeps one, so blocking does not allocate.
    ///
    /// A thread is blocked in at most one `mach_msg` at a time, and a parker is
    /// re-armed only while no waiter of it is registered (interrupts reach only
    /// registered waiters). A wakeup left over from an earlier wait can still
    /// arrive late; it only makes the next wait retry once.
    pub(crate) fn for_current_thread() -> Arc<Parker> {
        #[cfg(not(loom))]
        {
            std::thread_local! {
                static PARKER: Arc<Parker> = Arc::new(Parker::new());
            }
            let p = PARKER.with(Arc::clone);
            p.notified.store(false, Ordering::Relaxed);
            p.interrupted.store(false, Ordering::Relaxed);
            p
        }
        #[cfg(loom)]
        {
            Arc::new(Parker::new())
        }
    }

    /// Leaves a received message for the thread (before it is woken).
    pub(crate) fn deliver(&self, r: Result<Message, RecvError>) {
        *lock(&self.slot) = Some(r);
    }

    /// Takes a message left by [`Parker::deliver`].
    pub(crate) fn take_delivery(&self) -> Option<Result<Message, RecvError>> {
        lock(&self.slot).take()
    }

    /// Wakes the thread (the kernel says: retry).
    pub(crate) fn unpark(&self) {
        self.notified.store(true, Ordering::Release);
        self.thread.unpark();
    }

    /// Interrupts the thread's wait.
    pub(crate) fn interrupt(&self) {
        self.interrupted.store(true, Ordering::Release);
        self.thread.unpark();
    }

    /// Re-arms for another wait; an interrupt stays pending.
    pub(crate) fn reset(&self) {
        self.notified.store(false, Ordering::Relaxed);
    }

    /// Clears a pending interrupt.
    pub(crate) fn clear_interrupt(&self) {
        self.interrupted.store(false, Ordering::Relaxed);
    }

    fn check(&self) -> Option<Wake> {
        if self.notified.load(Ordering::Acquire) {
            Some(Wake::Notified)
        } else if self.interrupted.load(Ordering::Acquire) {
            Some(Wake::Interrupted)
        } else {
            None
        }
    }

    /// Blocks until woken, interrupted, or `deadline` passes.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Wake {
        for i in 0..SPINS {
            if let Some(w) = self.check() {
                return w;
            }
            if i % 64 == 63 {
                thread::yield_now();
            } else {
                core::hint::spin_loop();
            }
        }
        loop {
            if let Some(w) = self.check() {
                return w;
            }
            match deadline {
                None => thread::park(),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Wake::TimedOut;
                    }
                    park_timeout(d - now);
                }
            }
        }
    }
}

#[cfg(not(loom))]
fn park_timeout(d: std::time::Duration) {
    thread::park_timeout(d);
}

#[cfg(loom)]
fn park_timeout(_: std::time::Duration) {
    thread::park();
}
