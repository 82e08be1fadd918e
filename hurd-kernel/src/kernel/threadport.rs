//! Thread ports: each thread is named by a port whose receive right the
//! kernel holds (in its port set, like task ports), `mach_thread_self`
//! gives a send right to the caller's, and `thread_terminate`,
//! `thread_suspend`, `thread_resume`, `thread_get_state` and
//! `thread_set_state` (GNU Mach's `mach.defs` ids, see
//! [`hurd_abi::rpc`]) are messages to it.
//!
//! A thread's state is its saved user registers (see
//! [`hurd_abi::thread_state`]). A state set from outside is checked
//! before the thread may run with it: `rip` and `rsp` must lie in user
//! space and only the arithmetic flags of `rflags` are taken (interrupts
//! stay enabled, the segments stay the user's), so no state can make the
//! return to user mode fault in the kernel. A thread waiting in the kernel
//! (for a message, for room in a queue, for a page) stops waiting when its
//! state is set, and resumes at the new state.

use hurd_abi::{ThreadState, thread_state, user_range_ok};
use hurd_ipc::{KernReturn, PortName};

use crate::arch::gdt;
use crate::arch::trap::TrapFrame;
use crate::task::{Kernel, Pending, ThreadId, ThreadState as RunState};

impl Kernel {
    /// Makes the thread port of `id`.
    pub fn make_thread_port(&mut self, id: ThreadId) -> Result<PortName, KernReturn> {
        let port = self.make_kernel_port()?;
        self.thread_ports.insert(port, id);
        if let Some(t) = self.threads.get_mut(&id) {
            t.port = port;
        }
        Ok(port)
    }

    /// Destroys a thread port (its senders see a dead name).
    pub fn destroy_thread_port(&mut self, port: PortName) {
        if let Some(kp) = self.kport
            && port.is_valid()
        {
            self.thread_ports.remove(&port);
            let _ = self.ipc.port_destroy(kp.space, port);
        }
    }

    /// The thread whose port `name` (in the kernel's space) is, if it is one.
    pub fn thread_for_port(&self, name: PortName) -> Option<ThreadId> {
        self.thread_ports.get(&name).copied()
    }

    /// `thread_terminate`: the thread ends; its task goes on.
    pub fn thread_terminate(&mut self, id: ThreadId) -> Result<(), KernReturn> {
        self.threads.get(&id).ok_or(KernReturn::InvalidArgument)?;
        self.end_thread(id);
        Ok(())
    }

    // ANCHOR: thread_suspend
    /// `thread_suspend`: one more suspension.
    pub fn thread_suspend(&mut self, id: ThreadId) -> Result<(), KernReturn> {
        let t = self
            .threads
            .get_mut(&id)
            .ok_or(KernReturn::InvalidArgument)?;
        t.suspend_count += 1;
        if t.suspend_count == 1 {
            self.suspended += 1;
        }
        Ok(())
    }
    // ANCHOR_END: thread_suspend

    /// `thread_resume`: one suspension less (`KERN_FAILURE` if there was
    /// none); at zero it runs again unless its task is suspended.
    pub fn thread_resume(&mut self, id: ThreadId) -> Result<(), KernReturn> {
        let t = self
            .threads
            .get_mut(&id)
            .ok_or(KernReturn::InvalidArgument)?;
        if t.suspend_count == 0 {
            return Err(KernReturn::Failure);
        }
        t.suspend_count -= 1;
        if t.suspend_count == 0 {
            self.suspended -= 1;
            if let Some(task) = t.task {
                self.unpark(task);
            }
        }
        Ok(())
    }

    /// The saved frame of a thread other than the running one.
    fn other_frame(&mut self, id: ThreadId) -> Result<&mut TrapFrame, KernReturn> {
        // The running thread's frame is not saved yet (as in GNU Mach, a
        // thread cannot get or set its own state this way).
        if id == self.current {
            return Err(KernReturn::InvalidArgument);
        }
        let thread = self
            .threads
            .get_mut(&id)
            .ok_or(KernReturn::InvalidArgument)?;
        if thread.frame.is_null() {
            return Err(KernReturn::InvalidArgument);
        }
        Ok(thread.frame_mut())
    }

    /// `thread_get_state`: `count` is how many words the caller takes.
    pub fn thread_get_state(
        &mut self,
        id: ThreadId,
        flavor: u32,
        count: u32,
    ) -> Result<ThreadState, KernReturn> {
        if flavor != thread_state::FLAVOR || (count as usize) < thread_state::COUNT {
            return Err(KernReturn::InvalidArgument);
        }
        let f = self.other_frame(id)?;
        Ok(ThreadState::new([
            f.rax, f.rbx, f.rcx, f.rdx, f.rsi, f.rdi, f.rbp, f.rsp, f.r8, f.r9, f.r10, f.r11,
            f.r12, f.r13, f.r14, f.r15, f.rip, f.rflags,
        ]))
    }

    /// `thread_set_state`: checked, then written to the saved frame.
    pub fn thread_set_state(
        &mut self,
        id: ThreadId,
        flavor: u32,
        state: &ThreadState,
    ) -> Result<(), KernReturn> {
        let w = match (flavor, state.registers()) {
            (thread_state::FLAVOR, Some(w)) => w,
            _ => return Err(KernReturn::InvalidArgument),
        };
        // Canonical user addresses only: anything else would fault in the
        // kernel's return to user mode.
        if !user_range_ok(w[thread_state::RIP], 1) || !user_range_ok(w[thread_state::RSP], 1) {
            return Err(KernReturn::InvalidArgument);
        }
        let f = self.other_frame(id)?;
        [
            f.rax, f.rbx, f.rcx, f.rdx, f.rsi, f.rdi, f.rbp, f.rsp, f.r8, f.r9, f.r10, f.r11,
            f.r12, f.r13, f.r14, f.r15, f.rip,
        ] = [
            w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13],
            w[14], w[15], w[16],
        ];
        f.rflags = (w[thread_state::RFLAGS] & thread_state::USER_FLAGS) | 0x202;
        f.cs = u64::from(gdt::USER_CS);
        f.ss = u64::from(gdt::USER_DS);
        self.abort_wait(id);
        Ok(())
    }

    /// Ends what a thread whose state was just set waits for in the kernel
    /// (as `thread_abort` would), so it resumes at the new state: a wait for
    /// a message or for room in a queue, or for a page. A receive whose
    /// message is already on its way, or a received message waiting to be
    /// copied out, is left to finish (it only sets `rax`).
    fn abort_wait(&mut self, id: ThreadId) {
        let Some(thread) = self.threads.get_mut(&id) else {
            return;
        };
        if !matches!(thread.state, RunState::Blocked { .. }) {
            return;
        }
        match thread.pending {
            Some(Pending::Fault { ticket, .. }) => {
                thread.pending = None;
                self.vm.release_ticket(&ticket);
            }
            Some(Pending::Receive { .. } | Pending::Send { .. }) => {
                if !self.ipc.cancel_wait(u64::from(id)) {
                    return;
                }
                thread.pending = None;
            }
            Some(Pending::ConsoleRead { .. }) => {
                thread.pending = None;
                thread.frame_mut().rax = KernReturn::Aborted as u64;
            }
            Some(Pending::CopyOut { .. }) | None => return,
        }
        self.make_ready(id);
    }
}
