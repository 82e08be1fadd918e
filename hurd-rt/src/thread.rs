//! Threads of the calling task running Rust closures, on stacks the runtime
//! owns.
//!
//! [`spawn`] takes a stack from `vm_allocate` (with an inaccessible guard
//! page below it), boxes the closure and starts a thread of this task on it
//! (the kernel's `THREAD_SPAWN`: `thread_create`, `thread_set_state` and
//! `thread_resume` in one). When the closure returns, the thread keeps its
//! result for [`JoinHandle::join`], wakes the joiner with a message, hands
//! its stack to the runtime and ends. A thread cannot free the stack it
//! runs on, so a finished thread's stack is given back by the next
//! [`spawn`] (or [`JoinHandle::join`]) once the thread has really left it.
//!
//! A panic on any thread ends the whole task (status 101), as `panic =
//! "abort"` does.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use core::time::Duration;

use hurd_abi::trap::{ThreadSelf, ThreadSpawn, Yield};
use hurd_ipc::{Disposition, KernReturn, Message, MsgOptions, PortName, RightType, UserIpc};
use spinning_top::Spinlock;

use crate::vm::{self, Guarded};
use crate::{KernelIpc, trap};

/// The stack a thread gets unless its [`Builder`] says otherwise.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The message id a finished thread wakes its joiner with.
const FINISHED: i32 = 0x7268_7400;

/// A finished thread's stack, kept until the thread has left it.
struct Retired {
    /// Unmapped when the entry is dropped.
    _stack: Guarded,
    /// Set by the thread's very last store before it ends.
    left: Box<AtomicBool>,
}

/// Stacks of threads that finished or are finishing.
static RETIRED: Spinlock<Vec<Retired>> = Spinlock::new(Vec::new());

/// Gives back the stacks of threads that have ended.
fn reclaim() {
    let done: Vec<Retired> = {
        let mut list = RETIRED.lock();
        let (done, running): (Vec<_>, Vec<_>) = core::mem::take(&mut *list)
            .into_iter()
            .partition(|r| r.left.load(Ordering::Acquire));
        *list = running;
        done
    };
    // Dropping them unmaps the stacks, outside the lock.
    drop(done);
}

/// What a thread leaves for its joiner.
struct Packet<T> {
    /// The closure's result, written once by the thread before `done`.
    result: UnsafeCell<Option<T>>,
    done: AtomicBool,
    /// A receive right the thread wakes the joiner on; destroyed with the
    /// packet (never before the thread is through with it).
    port: PortName,
}

// SAFETY: `result` is written by the thread before the Release store of
// `done` and read by the joiner only after an Acquire load sees it, so the
// two never touch it at once; T itself crosses threads, hence `T: Send`.
unsafe impl<T: Send> Sync for Packet<T> {}

impl<T> Drop for Packet<T> {
    fn drop(&mut self) {
        let _ = KernelIpc::new().port_destroy(self.port);
    }
}

/// A handle on a running thread: [`JoinHandle::join`] waits for its result.
/// Dropping it detaches the thread.
pub struct JoinHandle<T> {
    packet: Arc<Packet<T>>,
}

impl<T> core::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> JoinHandle<T> {
    /// Whether the closure has returned.
    pub fn is_finished(&self) -> bool {
        self.packet.done.load(Ordering::Acquire)
    }

    /// Waits for the thread's closure to return and gives its result.
    pub fn join(self) -> T {
        let ipc = KernelIpc::new();
        while !self.packet.done.load(Ordering::Acquire) {
            // The thread sends one message once `done` is set; a failed
            // receive (never expected) falls back to yielding.
            if ipc.receive(self.packet.port).is_err() {
                yield_now();
            }
        }
        reclaim();
        // SAFETY: `done` was set (Release) after the result was written, and
        // the thread writes nothing after it; this handle is the only reader.
        match unsafe { (*self.packet.result.get()).take() } {
            Some(v) => v,
            // The thread stores its result before setting `done`.
            None => unreachable!("a finished thread always leaves its result"),
        }
    }
}

/// How to start a thread.
#[derive(Debug, Clone, Copy)]
pub struct Builder {
    stack_size: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// What the new thread gets: its closure and its stack.
struct Start {
    main: Box<dyn FnOnce() + Send>,
    stack: Guarded,
}

impl Builder {
    /// A thread with a [`DEFAULT_STACK_SIZE`] stack.
    pub const fn new() -> Builder {
        Builder {
            stack_size: DEFAULT_STACK_SIZE,
        }
    }

    /// A stack of `size` bytes (rounded up to whole pages, at least one).
    pub const fn stack_size(self, size: usize) -> Builder {
        Builder { stack_size: size }
    }

    /// Runs `f` on a new thread of this task.
    ///
    /// # Errors
    ///
    /// The kernel's code when there is no memory for the stack, no port for
    /// the joiner, or no thread; nothing is left behind.
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, KernReturn>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        reclaim();
        let ipc = KernelIpc::new();
        let size = self
            .stack_size
            .max(vm::PAGE_SIZE)
            .checked_add(vm::PAGE_SIZE)
            .ok_or(KernReturn::InvalidArgument)?;
        let stack = vm::allocate(size)?.with_guard(1)?;
        let port = ipc.port_allocate(RightType::Receive)?;
        let packet = Arc::new(Packet {
            result: UnsafeCell::new(None),
            done: AtomicBool::new(false),
            port,
        });
        let theirs = packet.clone();
        let main = Box::new(move || {
            let value = f();
            // SAFETY: only this thread writes the result, once, before
            // `done`; the joiner reads it only after seeing `done`.
            unsafe { *theirs.result.get() = Some(value) };
            theirs.done.store(true, Ordering::Release);
            let wake = Message::new(FINISHED, theirs.port, Disposition::MakeSendOnce);
            let now = MsgOptions {
                send_timeout: Some(Duration::ZERO),
                ..MsgOptions::default()
            };
            let _ = KernelIpc::new().mach_msg(Some(wake), None, &now);
        });
        // As if called: the return address slot leaves the stack 16-byte
        // aligned minus 8 at entry.
        let top = stack.end() - 8;
        let start = Box::into_raw(Box::new(Start { main, stack }));
        // SAFETY: the kernel starts the thread at `entry` on the stack
        // `[.., top)`, memory of `Start::stack` that belongs to the new thread
        // alone from now on (it is handed back through `RETIRED` only after
        // the thread has left it), with `start` (a box the thread takes
        // over) as its argument.
        let spawned = unsafe {
            trap::trap(ThreadSpawn {
                entry: entry as *const () as u64,
                stack: top,
                arg: start as u64,
            })
        };
        if let Err(code) = spawned {
            // SAFETY: the thread was not made, so the box is still ours.
            drop(unsafe { Box::from_raw(start) });
            return Err(trap::kern_error(code));
        }
        Ok(JoinHandle { packet })
    }
}

/// Runs `f` on a new thread of this task, with a [`DEFAULT_STACK_SIZE`]
/// stack.
///
/// # Errors
///
/// As [`Builder::spawn`].
pub fn spawn<F, T>(f: F) -> Result<JoinHandle<T>, KernReturn>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f)
}

/// A new thread's first function: runs its closure, retires its stack and
/// ends.
extern "C" fn entry(start: u64) -> ! {
    // SAFETY: `start` is the box `spawn` made for this thread alone and
    // never uses again.
    let Start { main, stack } = *unsafe { Box::from_raw(start as *mut Start) };
    main();
    let left = Box::new(AtomicBool::new(false));
    let flag: *const AtomicBool = &*left;
    RETIRED.lock().push(Retired {
        _stack: stack,
        left,
    });
    // SAFETY: `flag` points into a box `RETIRED` keeps until the flag is
    // set; setting it is this thread's last access to memory, so whoever
    // then unmaps the stack finds the thread gone from it.
    unsafe { leave(flag) }
}

/// Sets `*flag` and ends the calling thread, touching no memory (its stack
/// included) after the store.
///
/// # Safety
///
/// `flag` must point to a live `AtomicBool`.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
unsafe fn leave(flag: *const AtomicBool) -> ! {
    // SAFETY: a byte store (release on x86-64) to the flag, then the
    // THREAD_EXIT trap, which does not return; neither touches the stack.
    unsafe {
        core::arch::asm!(
            "mov byte ptr [{flag}], 1",
            "syscall",
            "ud2",
            flag = in(reg) flag,
            in("rax") hurd_abi::nr::THREAD_EXIT,
            options(noreturn, nostack),
        )
    }
}

/// Off the kernel there are no threads to end.
///
/// # Safety
///
/// As the real one.
#[cfg(not(all(target_arch = "x86_64", target_os = "none")))]
unsafe fn leave(flag: *const AtomicBool) -> ! {
    // SAFETY: the caller's contract.
    unsafe { (*flag).store(true, Ordering::Release) };
    crate::task::exit(0)
}

/// Lets other threads run (`thread_switch`).
pub fn yield_now() {
    let _ = trap::call(Yield {});
}

/// A port nobody sends to, for sleeping on (0 until first needed).
static SLEEP_PORT: AtomicU32 = AtomicU32::new(0);

/// Waits for `d` (rounded up to the kernel's millisecond timeouts), as a
/// receive that times out.
pub fn sleep(d: Duration) {
    let ipc = KernelIpc::new();
    let port = match SLEEP_PORT.load(Ordering::Acquire) {
        0 => match ipc.port_allocate(RightType::Receive) {
            Ok(p) => match SLEEP_PORT.compare_exchange(0, p.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => p,
                Err(kept) => {
                    let _ = ipc.port_destroy(p);
                    PortName(kept)
                }
            },
            Err(_) => return,
        },
        name => PortName(name),
    };
    let opts = MsgOptions {
        rcv_timeout: Some(d),
        ..MsgOptions::default()
    };
    if let Ok(m) = ipc.receive_with(port, &opts) {
        // Nobody should send here; whatever came is not ours to keep.
        ipc.destroy_message(m);
    }
}

/// `mach_thread_self()`: a send right to the calling thread's port (for
/// `thread_get_state`, `thread_suspend`… from another thread). Each call
/// adds a user reference the caller owns.
///
/// # Errors
///
/// The kernel's code.
pub fn thread_self() -> Result<PortName, KernReturn> {
    trap::call(ThreadSelf {})
}
