//! System calls. (The `syscall` entry and the traps arrive in a later step;
//! until then no code runs in ring 3, so these are unreachable.)

use crate::trap::{self, TrapFrame};

/// A system call from ring 3.
pub fn dispatch(frame: &mut TrapFrame) -> *mut TrapFrame {
    trap::fatal(frame, "system call with no user mode")
}

/// An exception raised in ring 3.
pub fn user_exception(frame: &mut TrapFrame) -> *mut TrapFrame {
    trap::fatal(frame, "user exception with no user mode")
}

/// The timer's chance to switch threads.
pub fn preempt(frame: &mut TrapFrame) -> *mut TrapFrame {
    frame
}
