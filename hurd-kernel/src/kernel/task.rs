//! Tasks and threads, and the one kernel state that holds them with the IPC
//! and VM cores.
//!
//! A task is an IPC space (hurd-ipc) and an address map (hurd-vm) plus its
//! threads. A thread is a kernel stack whose top holds its saved
//! [`TrapFrame`], a priority, and, while it is blocked in `mach_msg`, the
//! operation to finish when it is woken. Thread 0 is the boot thread: it runs
//! in the kernel, is never queued, and runs when nothing else can (it is the
//! idle thread).
//!
//! All of it lives in [`KERNEL`], taken by the trap handlers with interrupts
//! disabled on the single processor.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use hurd_ipc::{IpcKernel, KernReturn, Message, PortName, RecvError};
use hurd_kernel::emulation::Emulation;
use hurd_kernel::runq::RunQueues;
use hurd_vm::{MapId, Vm};
use spin::Mutex;

use crate::arch::gdt;
use crate::arch::mem::KernelPhys;
use crate::arch::paging::X86Mmu;
use crate::arch::trap::TrapFrame;
use hurd_kernel::slab::Slab;

/// A task's number.
pub type TaskId = u32;
/// A thread's number (also its hurd-ipc waiter token).
pub type ThreadId = u32;

/// The boot (idle) thread.
pub const BOOT_THREAD: ThreadId = 0;

/// Priorities: 0 runs first, as in Mach.
pub use hurd_kernel::runq::PRIORITIES;
/// The priority user tasks get by default (Mach's `BASEPRI_USER`).
pub const DEFAULT_PRIORITY: u8 = 12;

/// The size of each thread's kernel stack.
pub const KERNEL_STACK_SIZE: usize = 16 * 1024;

/// What a blocked thread waits to finish.
///
/// A plain tag byte (`repr(u8)`): telling the variants apart, as every
/// system call's exit and the drop of a finished wait do, is one compare
/// (left to itself the compiler would hide the tag in the message's vector
/// capacity, which takes several instructions to decode).
#[derive(Debug)]
#[repr(u8)]
pub enum Pending {
    /// A receive into the user buffer `buf` of `rcv_size` bytes.
    Receive {
        /// The user buffer.
        buf: u64,
        /// Its size.
        rcv_size: u64,
        /// The port or port set.
        name: PortName,
        /// `MACH_RCV_LARGE`: a message too large for the buffer stays
        /// queued and its size goes into the buffer's `msgh_size`.
        large: bool,
    },
    /// A page fault waiting for a pager (the access is retried once the
    /// ticket completes).
    Fault {
        /// The VM's ticket.
        ticket: hurd_vm::Ticket,
        /// `Some` when the fault came from the kernel's copy of the thread's
        /// memory during a system call that has done nothing yet. `None`
        /// for the thread's own access, retried or (when the page cannot be
        /// had) fatal to its task.
        restart: Option<Restart>,
    },
    /// A received message whose copy into the thread's buffer waits for a
    /// pager: copied again once the page is there.
    CopyOut {
        /// The VM's ticket.
        ticket: hurd_vm::Ticket,
        /// The message in the wire form.
        bytes: Vec<u8>,
        /// The user buffer.
        buf: u64,
    },
    /// A read of the console waiting for input.
    ConsoleRead {
        /// The user buffer.
        buf: u64,
        /// Its size.
        len: u64,
    },
    /// A send waiting for room in the queue, then maybe a receive.
    Send {
        /// The message, still the sender's (copyin has not happened).
        msg: Message,
        /// The receive that follows, as in [`Pending::Receive`].
        then: Option<(u64, u64, PortName, bool)>,
    },
}

/// A system call to make again once a page arrives from a pager.
#[derive(Debug, Clone, Copy)]
pub struct Restart {
    /// The call's number (what `rax` held).
    pub nr: u64,
    /// What the call returns if the page cannot be had.
    pub error: u64,
}

/// A thread's scheduling state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadState {
    /// In a run queue.
    Ready,
    /// On the processor.
    Running,
    /// Waiting in the kernel, until woken or (if given) the tick `deadline`.
    Blocked {
        /// The tick at which the wait times out.
        deadline: Option<u64>,
    },
    /// Finished; its stack is freed once the processor has left it.
    Dead,
}

/// A thread.
pub struct Thread {
    /// Its task (`None` for the boot thread).
    pub task: Option<TaskId>,
    /// Its priority (0 first).
    pub priority: u8,
    /// Its state.
    pub state: ThreadState,
    /// Its saved frame (on its kernel stack) while it is not running.
    pub frame: *mut TrapFrame,
    /// Its kernel stack (none for the boot thread, which runs on the boot
    /// stack).
    pub stack: Option<Vec<u64>>,
    /// What it waits to finish while blocked.
    pub pending: Option<Pending>,
    /// Ticks left in its time slice.
    pub quantum: u32,
    /// Its thread port (a receive right in the kernel's space; null for the
    /// boot thread).
    pub port: PortName,
    /// `thread_suspend` count: it runs only at zero (and when its task's is
    /// zero too).
    pub suspend_count: u32,
    /// Its user FS base (thread-local storage), loaded while it runs.
    pub fs_base: u64,
    /// Its user GS base, loaded while it runs.
    pub gs_base: u64,
    /// Its x87 and SSE registers while another thread has them (none
    /// until it first uses them: see [`crate::arch::fpu`]).
    pub fpu: Option<alloc::boxed::Box<crate::arch::fpu::FpuArea>>,
    /// Its task's page-table root (a task's never changes), loaded when it
    /// runs; `None` (the kernel's tables) for the boot thread.
    pub root: Option<u64>,
}

// SAFETY: the raw frame pointer points into the thread's own kernel stack,
// which moves with the thread; there is one processor and all access goes
// through the KERNEL lock.
unsafe impl Send for Thread {}

impl Thread {
    /// The top of its kernel stack (16-byte aligned).
    pub fn stack_top(&self) -> u64 {
        match &self.stack {
            Some(stack) => (stack.as_ptr() as u64 + (stack.len() * 8) as u64) & !15,
            None => 0,
        }
    }

    /// Its saved frame.
    pub fn frame_mut(&mut self) -> &mut TrapFrame {
        // SAFETY: `frame` points at the frame on this thread's stack, written
        // when it last entered the kernel (or when it was created), and the
        // thread is not running while the kernel holds this reference.
        unsafe { &mut *self.frame }
    }
}

/// A task.
pub struct Task {
    /// A name for logs (the program's).
    pub name: String,
    /// Its IPC space.
    pub space: hurd_ipc::SpaceId,
    /// Its address map.
    pub map: MapId,
    /// Its page tables' root (what CR3 gets while it runs).
    pub root: u64,
    /// Its live threads.
    pub threads: Vec<ThreadId>,
    /// Its exit status once it has ended.
    pub exit_status: Option<u64>,
    /// The order in which it ended (1 for the first task to end).
    pub exit_order: u64,
    /// Its task port (a receive right in the kernel's space).
    pub port: PortName,
    /// `task_suspend` count: its threads run only at zero.
    pub suspend_count: u32,
    /// Its ready threads set aside while it is suspended.
    pub parked: Vec<ThreadId>,
    /// Send-once rights (names in the kernel's space) told of the task's
    /// end (`task_notify_exit`).
    pub exit_notify: Vec<PortName>,
    /// Its emulation vector: the handlers of the system calls hurd-rs has
    /// no trap for.
    pub emulation: Emulation,
    /// The task that made it with `task_create` (whose limit of tasks it
    /// counts against while it lives).
    pub parent: Option<TaskId>,
    /// How many live tasks it made with `task_create`
    /// (see [`crate::limits::MAX_CHILDREN`]).
    pub children: u32,
}

/// The VM core over the x86-64 MMU and the frame allocator.
pub type KernelVm = Vm<X86Mmu, KernelPhys>;

/// Everything the kernel knows.
pub struct Kernel {
    /// The IPC core.
    pub ipc: IpcKernel,
    /// The VM core.
    pub vm: KernelVm,
    /// Every task, including ended ones (until reaped).
    pub tasks: Slab<Task>,
    /// Every thread.
    pub threads: Slab<Thread>,
    /// Ready threads by priority.
    pub run_queues: RunQueues,
    /// A buffer messages are encoded into on their way out (reused).
    pub wire_buf: Vec<u8>,
    /// The kernel's own IPC space and control port set (pagers).
    pub kport: Option<crate::pager::KernelPort>,
    /// How many live tasks and threads are suspended (the scheduler looks
    /// no further when none is).
    pub suspended: u32,
    /// Task ports (names in the kernel's space) and their tasks.
    pub task_ports: alloc::collections::BTreeMap<PortName, TaskId>,
    /// Thread ports (names in the kernel's space) and their threads.
    pub thread_ports: alloc::collections::BTreeMap<PortName, ThreadId>,
    /// The thread on the processor.
    pub current: ThreadId,
    /// Stacks of dead threads, freed once the processor has left them.
    pub zombie_stacks: Vec<Vec<u64>>,
    /// Scratch buffers for hurd-ipc's wake-ups and hand-offs.
    pub wake_buf: Vec<hurd_ipc::WaiterToken>,
    /// See [`Kernel::wake_buf`].
    pub delivery_buf: Vec<hurd_ipc::Delivery>,
    /// The PCI functions, the device master port and what drivers hold.
    pub devices: crate::device::Devices,
    /// Ended tasks still kept (their exit status), the oldest first: at
    /// most [`ENDED_KEPT`].
    ended: alloc::collections::VecDeque<TaskId>,
    exits: u64,
}

/// How many ended tasks the kernel keeps (for their exit status, which its
/// tests read) before it forgets the oldest: an ended task's status went to
/// whoever asked with `task_notify_exit`, and nothing else can name it.
pub const ENDED_KEPT: usize = 64;

/// The kernel state, once [`init`] has run.
pub static KERNEL: Mutex<Option<Kernel>> = Mutex::new(None);

/// Runs `f` on the kernel state.
pub fn with_kernel<R>(f: impl FnOnce(&mut Kernel) -> R) -> R {
    let mut guard = KERNEL.lock();
    let Some(kernel) = guard.as_mut() else {
        panic!("the kernel state is used before it exists");
    };
    f(kernel)
}

/// Creates the kernel state with the boot thread running.
pub fn init() {
    let mut ipc = IpcKernel::new(0);
    ipc.set_direct_handoff(true);
    let mut threads = Slab::default();
    // The first id of an empty table: BOOT_THREAD.
    let boot = threads.insert(Thread {
        task: None,
        priority: u8::MAX,
        state: ThreadState::Running,
        frame: core::ptr::null_mut(),
        stack: None,
        pending: None,
        quantum: 0,
        port: PortName::NULL,
        suspend_count: 0,
        fs_base: 0,
        gs_base: 0,
        fpu: None,
        root: None,
    });
    debug_assert_eq!(boot, Some(BOOT_THREAD));
    *KERNEL.lock() = Some(Kernel {
        ipc,
        vm: Vm::new(X86Mmu::default(), KernelPhys),
        tasks: Slab::default(),
        threads,
        run_queues: RunQueues::default(),
        wire_buf: Vec::new(),
        kport: None,
        task_ports: alloc::collections::BTreeMap::new(),
        suspended: 0,
        thread_ports: alloc::collections::BTreeMap::new(),
        current: BOOT_THREAD,
        zombie_stacks: Vec::new(),
        wake_buf: Vec::new(),
        delivery_buf: Vec::new(),
        devices: crate::device::Devices::default(),
        ended: alloc::collections::VecDeque::new(),
        exits: 0,
    });
    with_kernel(Kernel::init_pager_support);
}

impl Kernel {
    /// A new task with address map `map`, an empty IPC space, a task port
    /// and no threads.
    ///
    /// # Errors
    ///
    /// `KERN_RESOURCE_SHORTAGE` when the table of tasks is full (the map
    /// stays the caller's).
    pub fn create_task(&mut self, name: &str, map: MapId) -> Result<TaskId, KernReturn> {
        let space = self.ipc.create_space();
        let root = self
            .vm
            .mmu()
            .root(map.pmap())
            .unwrap_or_else(crate::arch::paging::kernel_pml4);
        let id = self.tasks.insert(Task {
            name: String::from(name),
            space,
            map,
            root,
            threads: Vec::new(),
            exit_status: None,
            exit_order: 0,
            port: PortName::NULL,
            suspend_count: 0,
            parked: Vec::new(),
            exit_notify: Vec::new(),
            emulation: Emulation::default(),
            parent: None,
            children: 0,
        });
        let Some(id) = id else {
            self.ipc.destroy_space(space);
            self.process_ipc_events();
            return Err(KernReturn::ResourceShortage);
        };
        if let Err(err) = self.make_task_port(id) {
            log::warn!("task {id} has no task port: {err:?}");
        }
        Ok(id)
    }

    /// A new ready thread in `task` starting at `rip` with stack `rsp` and
    /// `arg` in `rdi`.
    pub fn spawn_thread(
        &mut self,
        task: TaskId,
        rip: u64,
        rsp: u64,
        arg: u64,
        priority: u8,
    ) -> Result<ThreadId, KernReturn> {
        let id = self.new_thread(task, rip, rsp, arg, priority)?;
        let priority = self.threads.get(&id).map_or(priority, |t| t.priority);
        self.enqueue(id, priority);
        Ok(id)
    }

    /// A new thread in `task` (with its thread port), not yet queued: the
    /// caller enqueues or parks it.
    pub fn new_thread(
        &mut self,
        task: TaskId,
        rip: u64,
        rsp: u64,
        arg: u64,
        priority: u8,
    ) -> Result<ThreadId, KernReturn> {
        let mut thread = Thread {
            task: Some(task),
            priority: priority.min(PRIORITIES as u8 - 1),
            state: ThreadState::Ready,
            frame: core::ptr::null_mut(),
            stack: Some(vec![0u64; KERNEL_STACK_SIZE / 8]),
            pending: None,
            quantum: 0,
            port: PortName::NULL,
            suspend_count: 0,
            fs_base: 0,
            gs_base: 0,
            fpu: None,
            root: self.tasks.get(&task).map(|t| t.root),
        };
        let frame_addr = thread.stack_top() - core::mem::size_of::<TrapFrame>() as u64;
        thread.frame = frame_addr as *mut TrapFrame;
        *thread.frame_mut() = TrapFrame {
            rip,
            cs: u64::from(gdt::USER_CS),
            rflags: 0x202,
            rsp,
            ss: u64::from(gdt::USER_DS),
            rdi: arg,
            ..TrapFrame::default()
        };
        let id = self
            .threads
            .insert(thread)
            .ok_or(KernReturn::ResourceShortage)?;
        if let Some(t) = self.tasks.get_mut(&task) {
            t.threads.push(id);
        }
        if let Err(err) = self.make_thread_port(id) {
            log::warn!("thread {id} has no thread port: {err:?}");
        }
        Ok(id)
    }

    /// Puts a ready thread at the end of its priority's queue.
    #[inline]
    pub fn enqueue(&mut self, id: ThreadId, priority: u8) {
        self.run_queues.push_back(id, priority);
    }

    /// Puts a thread that was just woken (by a message, a reply, a page, a
    /// timeout) at the front of its priority's queue. It has waited
    /// already; behind a thread that computes it would wait a whole time
    /// slice more for every message, and a conversation between threads
    /// would go at one exchange per slice. A thread that computes still
    /// runs: one whose slice ends goes to the back, behind it.
    #[inline]
    pub fn enqueue_woken(&mut self, id: ThreadId, priority: u8) {
        self.run_queues.push_front(id, priority);
    }

    /// Takes the first thread of the best non-empty queue.
    #[inline]
    pub fn dequeue_best(&mut self) -> Option<ThreadId> {
        self.run_queues.pop_best()
    }

    /// The best priority among ready threads.
    #[inline]
    pub fn best_ready(&self) -> Option<u8> {
        self.run_queues.best()
    }

    /// Ends `task` with `status`: its threads stop, its ports die (senders
    /// see dead names, notifications go out), its memory is freed.
    pub fn terminate(&mut self, task: TaskId, status: u64) {
        let Some(t) = self.tasks.get_mut(&task) else {
            return;
        };
        if t.exit_status.is_some() {
            return;
        }
        t.exit_status = Some(status);
        let notify = core::mem::take(&mut t.exit_notify);
        self.exits += 1;
        t.exit_order = self.exits;
        t.parked.clear();
        if t.suspend_count > 0 {
            t.suspend_count = 0;
            self.suspended -= 1;
        }
        let port = core::mem::replace(&mut t.port, PortName::NULL);
        let threads = core::mem::take(&mut t.threads);
        let (space, map, parent) = (t.space, t.map, t.parent.take());
        if let Some(parent) = parent.and_then(|p| self.tasks.get_mut(&p)) {
            parent.children = parent.children.saturating_sub(1);
        }
        for id in threads {
            self.end_thread(id);
        }
        if self.threads.get(&self.current).and_then(|t| t.task) == Some(task) {
            crate::arch::context::load_address_space(None);
        }
        self.ipc.destroy_space(space);
        if let Some(kp) = self.kport
            && port.is_valid()
        {
            // Senders of task requests now get dead names.
            self.task_ports.remove(&port);
            let _ = self.ipc.port_destroy(kp.space, port);
        }
        if let Err(err) = self.vm.destroy_map(map) {
            log::error!("destroying task {task}'s map: {err:?}");
        }
        self.release_devices(task);
        self.notify_exit(notify, status);
        self.process_ipc_events();
        // Its number is free for another task once it is forgotten (an id
        // kept elsewhere finds nothing then: see `Slab`).
        self.ended.push_back(task);
        while self.ended.len() > ENDED_KEPT {
            if let Some(old) = self.ended.pop_front() {
                self.tasks.remove(&old);
            }
        }
    }

    /// Tells each of `rights` (send-once rights in the kernel's space) that
    /// a task ended with `status` (`TASK_EXITED`, one u64).
    fn notify_exit(&mut self, rights: Vec<PortName>, status: u64) {
        let Some(kp) = self.kport else { return };
        for right in rights {
            let msg = hurd_abi::hurd_task::Call::task_exited { status }
                .encode(right, hurd_ipc::Disposition::MoveSendOnce);
            if let Err(err) = self.ipc.send(kp.space, msg, None) {
                // The waiter is gone: its right goes with the message.
                log::info!("kernel: exit notification dropped: {:?}", err.code);
                let _ = self.ipc.port_deallocate(kp.space, right);
            }
        }
    }

    /// Takes a thread off the processor for good.
    pub fn end_thread(&mut self, id: ThreadId) {
        let Some(thread) = self.threads.get_mut(&id) else {
            return;
        };
        match thread.state {
            ThreadState::Blocked { .. } => {
                if let Some(Pending::Fault { ticket, .. } | Pending::CopyOut { ticket, .. }) =
                    thread.pending
                {
                    self.vm.release_ticket(&ticket);
                }
                self.ipc.cancel_wait(u64::from(id));
            }
            ThreadState::Ready => {
                self.run_queues.remove(id, thread.priority);
            }
            ThreadState::Running | ThreadState::Dead => {}
        }
        thread.state = ThreadState::Dead;
        thread.pending = None;
        let port = core::mem::replace(&mut thread.port, PortName::NULL);
        if thread.suspend_count > 0 {
            thread.suspend_count = 0;
            self.suspended -= 1;
        }
        let task = thread.task;
        if let Some(t) = task.and_then(|t| self.tasks.get_mut(&t)) {
            t.parked.retain(|&p| p != id);
            t.threads.retain(|&p| p != id);
        }
        self.destroy_thread_port(port);
        if id != self.current {
            // Not on the processor: its stack can go now.
            self.threads.remove(&id);
        }
    }

    /// The task of the running thread.
    pub fn current_task(&self) -> Option<TaskId> {
        self.threads.get(&self.current).and_then(|t| t.task)
    }

    /// Makes a blocked thread ready: the next of its priority to run (see
    /// [`Kernel::enqueue_woken`]).
    pub fn make_ready(&mut self, id: ThreadId) {
        if let Some(thread) = self.threads.get_mut(&id)
            && matches!(thread.state, ThreadState::Blocked { .. })
        {
            thread.state = ThreadState::Ready;
            let priority = thread.priority;
            self.enqueue_woken(id, priority);
        }
    }

    // ANCHOR: events
    /// Finishes what hurd-ipc's hand-offs and wake-ups allow: messages handed
    /// to waiting receivers are copied out, woken threads retry.
    pub fn process_ipc_events(&mut self) {
        while self.ipc.has_wakeups_or_deliveries() {
            self.ipc.take_deliveries(&mut self.delivery_buf);
            self.ipc.take_wakeups(&mut self.wake_buf);
            // Swapped out (not taken) so the buffers keep their capacity.
            let mut deliveries = core::mem::take(&mut self.delivery_buf);
            for (token, result) in deliveries.drain(..) {
                if token == crate::pager::KERNEL_TOKEN {
                    self.kernel_event(Some(result));
                } else {
                    self.finish_receive(token as ThreadId, result);
                }
            }
            let mut wakeups = core::mem::take(&mut self.wake_buf);
            for token in wakeups.drain(..) {
                if token == crate::pager::KERNEL_TOKEN {
                    self.kernel_event(None);
                } else {
                    // A thread that was handed its message is ready already:
                    // retry passes it by.
                    crate::mach_msg::retry(self, token as ThreadId);
                }
            }
            self.delivery_buf = deliveries;
            self.wake_buf = wakeups;
        }
    }

    // ANCHOR_END: events

    /// Completes a blocked receive with `result` (a hand-off or a retry).
    pub fn finish_receive(&mut self, id: ThreadId, result: Result<Message, RecvError>) {
        if self.complete_receive(id, result) {
            self.make_ready(id);
        }
    }

    /// [`finish_receive`](Self::finish_receive) for a thread the caller runs
    /// next: it is marked ready but put on no run queue, so the caller must
    /// hand it to the scheduler ([`Reason::HandOff`](crate::sched::Reason)).
    /// Whether it is ready.
    pub fn finish_receive_for_handoff(
        &mut self,
        id: ThreadId,
        result: Result<Message, RecvError>,
    ) -> bool {
        if !self.complete_receive(id, result) {
            return false;
        }
        match self.threads.get_mut(&id) {
            Some(thread) if matches!(thread.state, ThreadState::Blocked { .. }) => {
                thread.state = ThreadState::Ready;
                true
            }
            _ => false,
        }
    }

    /// Copies a blocked receive's result into its buffer and sets its return
    /// code; `false` when the thread does not go on (none such, not
    /// receiving, or waiting now for a pager to copy out).
    fn complete_receive(&mut self, id: ThreadId, result: Result<Message, RecvError>) -> bool {
        if let Ok(message) = &result {
            crate::mach_msg::trace_receive(id, message);
        }
        let Some(thread) = self.threads.get_mut(&id) else {
            return false;
        };
        let Some(Pending::Receive {
            buf,
            rcv_size,
            large,
            ..
        }) = thread.pending.take()
        else {
            return false;
        };
        let Some(task) = thread.task.and_then(|t| self.tasks.get(&t)) else {
            return false;
        };
        let map = task.map;
        let code = match crate::mach_msg::copy_out_message(
            &mut self.vm,
            &mut self.wire_buf,
            map,
            (buf, rcv_size, large),
            result,
        ) {
            Ok(code) => code,
            Err(ticket) => {
                self.wait_copy_out(id, ticket, buf);
                return false;
            }
        };
        if let Some(thread) = self.threads.get_mut(&id) {
            thread.frame_mut().rax = code;
        }
        true
    }
}
