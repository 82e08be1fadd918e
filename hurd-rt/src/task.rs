//! The calling task: its port and its end.

use core::sync::atomic::{AtomicU32, Ordering};

use hurd_abi::trap::{Exit, PortDeallocate, TaskSelf};
use hurd_ipc::PortName;

use crate::trap;

/// The runtime's send right to this task's port (0 until first asked for).
static TASK_SELF: AtomicU32 = AtomicU32::new(0);

/// Ends the task with `status`: every thread stops, every right it holds is
/// released, and whoever watches the task (its parent process, through the
/// proc server) learns `status`.
pub fn exit(status: u64) -> ! {
    let _ = trap::call(Exit { status });
    // The kernel does not return from EXIT.
    loop {
        core::hint::spin_loop();
    }
}

/// `mach_task_self()`: the name of a send right to this task's port (for
/// `task_create`, `vm_*` and `mach_port_*` calls on it).
///
/// The right is the runtime's, asked for once and kept (as the Hurd's C
/// library keeps `__mach_task_self_`): use the name, never deallocate it.
/// `PortName::NULL` if the kernel gave none.
pub fn task_self() -> PortName {
    match TASK_SELF.load(Ordering::Acquire) {
        0 => {}
        name => return PortName(name),
    }
    let Ok(PortName(name)) = trap::call(TaskSelf {}) else {
        return PortName::NULL;
    };
    // Two threads asking at once each got a reference; the second one's is
    // not needed.
    match TASK_SELF.compare_exchange(0, name, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => PortName(name),
        Err(kept) => {
            let _ = trap::call(PortDeallocate {
                name: PortName(name),
            });
            PortName(kept)
        }
    }
}
