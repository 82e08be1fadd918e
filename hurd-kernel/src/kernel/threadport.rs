//! Thread ports: each thread is named by a port whose receive right the
//! kernel holds (in its port set, like task ports), `mach_thread_self`
//! gives a send right to the caller's, and `thread_terminate`,
//! `thread_suspend`, `thread_resume`, `thread_abort`, `thread_get_state`
//! and `thread_set_state` (GNU Mach's `mach.defs` ids, see
//! [`hurd_abi::mach`]) are messages to it.
//!
//! A thread's state is its saved user registers (flavor
//! [`thread_state::FLAVOR`]) and its FS and GS bases (flavor
//! [`thread_state::FSGS_FLAVOR`], which a thread may also get and set for
//! itself, as glibc does for its thread-local storage). A state set from
//! outside is checked
//! before the thread may run with it: `rip` and `rsp` must lie in user
//! space and only the arithmetic flags of `rflags` are taken (interrupts
//! stay enabled, the segments stay the user's), so no state can make the
//! return to user mode fault in the kernel. A thread waiting in the kernel
//! (for a message, for room in a queue, for a page) stops waiting when its
//! state is set, and resumes at the new state.

use hurd_abi::{ThreadState, thread_state, user_range_ok};
use hurd_ipc::{KernReturn, MsgReturn, PortName};

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
        t.suspend_count = t
            .suspend_count
            .checked_add(1)
            .ok_or(KernReturn::ResourceShortage)?;
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
        if flavor == thread_state::FSGS_FLAVOR && count as usize >= thread_state::FSGS_COUNT {
            let t = self.user_thread(id)?;
            return ThreadState::from_words(&[t.fs_base, t.gs_base])
                .ok_or(KernReturn::InvalidArgument);
        }
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
        if flavor == thread_state::FSGS_FLAVOR {
            return self.set_segment_bases(id, state.words());
        }
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
        self.abort_wait(id, false);
        Ok(())
    }

    /// A thread of a task (not the boot thread).
    fn user_thread(&mut self, id: ThreadId) -> Result<&mut crate::task::Thread, KernReturn> {
        self.threads
            .get_mut(&id)
            .filter(|t| t.task.is_some())
            .ok_or(KernReturn::InvalidArgument)
    }

    /// `thread_set_state` of flavor [`thread_state::FSGS_FLAVOR`]: both
    /// bases must be user addresses (or 0), anything else could not be
    /// loaded. The calling thread's own take effect at once.
    fn set_segment_bases(&mut self, id: ThreadId, words: &[u64]) -> Result<(), KernReturn> {
        let &[fs_base, gs_base] = words else {
            return Err(KernReturn::InvalidArgument);
        };
        if fs_base >= hurd_abi::USER_END || gs_base >= hurd_abi::USER_END {
            return Err(KernReturn::InvalidArgument);
        }
        let current = id == self.current;
        let t = self.user_thread(id)?;
        t.fs_base = fs_base;
        t.gs_base = gs_base;
        if current {
            crate::arch::context::load_segment_bases(fs_base, gs_base);
        }
        Ok(())
    }

    /// `thread_abort`: what the thread waits for in the kernel is given
    /// up, and the call it was in returns an "interrupted" code (see
    /// [`hurd_abi::mach::Call::thread_abort`]).
    pub fn thread_abort(&mut self, id: ThreadId) -> Result<(), KernReturn> {
        self.user_thread(id)?;
        self.abort_wait(id, true);
        Ok(())
    }

    /// Ends what a thread waits for in the kernel, so it resumes (at a
    /// state just set, or with `interrupted` at the end of the call it was
    /// in): a wait for a message or for room in a queue, or for a page. A
    /// receive whose message is already on its way, or a received message
    /// waiting to be copied out, is left to finish (it only sets `rax`).
    ///
    /// With `interrupted` (`thread_abort`), the call returns: a `mach_msg`
    /// receive `MACH_RCV_INTERRUPTED`, a send `MACH_SEND_INTERRUPTED`, a
    /// console read `KERN_ABORTED`; a system call waiting for a page is made
    /// again from the start (back to its `syscall` instruction, its number
    /// in `rax`), as a fault waiting for one is taken again.
    fn abort_wait(&mut self, id: ThreadId, interrupted: bool) {
        let Some(thread) = self.threads.get_mut(&id) else {
            return;
        };
        if !matches!(thread.state, RunState::Blocked { .. }) {
            return;
        }
        match thread.pending {
            Some(Pending::Fault { ticket, restart }) => {
                thread.pending = None;
                self.vm.release_ticket(&ticket);
                if let Some(restart) = restart.filter(|_| interrupted) {
                    let frame = thread.frame_mut();
                    frame.rip -= 2;
                    frame.rax = restart.nr;
                }
            }
            Some(Pending::Receive { .. } | Pending::Send { .. }) => {
                if !self.ipc.cancel_wait(u64::from(id)) {
                    return;
                }
                if interrupted {
                    let code = match thread.pending {
                        Some(Pending::Send { .. }) => MsgReturn::SendInterrupted,
                        _ => MsgReturn::RcvInterrupted,
                    };
                    thread.frame_mut().rax = code as u64;
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
