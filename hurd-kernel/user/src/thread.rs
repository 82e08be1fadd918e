//! Threads of the calling task running Rust closures: a stack from
//! `vm_allocate`, the closure boxed on the heap and handed to the new
//! thread, which ends with `thread_exit` when the closure returns.

use alloc::boxed::Box;

use crate::sys;

/// The stack each thread gets.
pub const STACK_SIZE: u64 = 256 * 1024;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The new thread's first function: runs its job and ends.
extern "C" fn start(job: u64) -> ! {
    // SAFETY: `job` is the pointer `spawn` made with `Box::into_raw` for
    // this thread alone, never used again by the spawner.
    let job = unsafe { Box::from_raw(job as *mut Job) };
    job();
    sys::thread_exit()
}

/// Runs `f` on a new thread of this task; `Err` with the kernel's code if
/// there is no memory for its stack or no thread.
pub fn spawn(f: impl FnOnce() + Send + 'static) -> Result<(), u64> {
    let stack = sys::vm_allocate(0, STACK_SIZE, true)?;
    let job: Box<Job> = Box::new(Box::new(f));
    let raw = Box::into_raw(job);
    // As if called: the return address slot leaves the stack 16-byte
    // aligned minus 8 at entry.
    let top = stack + STACK_SIZE - 8;
    match sys::thread_spawn(start, top, raw as u64) {
        Ok(_) => Ok(()),
        Err(code) => {
            // SAFETY: the thread was not made, so the job is still ours.
            drop(unsafe { Box::from_raw(raw) });
            let _ = sys::vm_deallocate(stack, STACK_SIZE);
            Err(code)
        }
    }
}
