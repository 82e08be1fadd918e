//! The system calls, one typed method each: [`handle`] decodes the
//! registers with [`hurd_abi::trap::dispatch`] and calls the method of
//! [`Syscall`] for the trap, which gets the call's fields already of their
//! types and says what became of the call ([`Flow`]).
//!
//! A method never sees a register (but `mach_msg`, whose waits and
//! hand-offs are the scheduler's business: see [`crate::mach_msg::mach_msg`]).

use hurd_abi::trap::{
    self, BadTrap, Call, ConsoleRead, ConsoleWrite, Exit, MachMsg, MachReplyPort, Null,
    PortAllocate, PortCall, PortDeallocate, PortDestroy, ReadTsc, Register, TaskSelf, ThreadExit,
    ThreadSelf, ThreadSpawn, Uptime, VmAllocate, VmDeallocate, VmMap, VmProtect, Yield,
};
use hurd_abi::{self as abi};
use hurd_ipc::{Errno, KernReturn, PortName, RightType, SpaceId};
use hurd_vm::{MapId, VmProt};

use crate::arch::trap::TrapFrame;
use crate::arch::uaccess::{self, UserFault};
use crate::sched::Reason;
use crate::task::{Kernel, Restart, TaskId, ThreadId};

/// Who made the call.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    /// Its task.
    pub task: TaskId,
    /// The calling thread.
    pub thread: ThreadId,
    /// Its task's address map.
    pub map: MapId,
    /// Its task's IPC space.
    pub space: SpaceId,
}

/// What became of a call.
pub enum Flow<T> {
    /// It finished: the value (in `rdx`) or the return code go back.
    Done(Result<T, KernReturn>),
    /// The thread does not return now (it waits, or it ended).
    Blocked,
    /// The thread lets its peers run before it returns (with success).
    Yield,
    /// A page of the caller's memory must come from a pager first: nothing
    /// is done yet, and the call is made again once the page is there (or
    /// returns `KERN_INVALID_ADDRESS` if it cannot be had).
    Pager(hurd_vm::Ticket),
    /// The call set the caller's registers itself (`mach_msg`); the
    /// scheduler goes on for this reason.
    Scheduled(Reason),
}

impl<T> From<Result<T, KernReturn>> for Flow<T> {
    fn from(result: Result<T, KernReturn>) -> Flow<T> {
        Flow::Done(result)
    }
}

/// One system call being carried out, by the running thread.
pub struct Syscall<'a> {
    /// The kernel.
    pub k: &'a mut Kernel,
    /// The caller's saved registers.
    pub frame: &'a mut TrapFrame,
}

/// Carries out the call in `frame`, leaving its code in `rax` and its value
/// in `rdx`.
#[inline(always)]
pub fn handle(k: &mut Kernel, frame: &mut TrapFrame) -> Reason {
    let number = frame.rax;
    let registers = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    trap::dispatch(&mut Syscall { k, frame }, number, registers)
}

impl Syscall<'_> {
    /// The running thread and its task.
    #[inline(always)]
    fn caller(&mut self) -> Caller {
        let task = self.k.current_task();
        match task.and_then(|task| self.k.tasks.get(&task).map(|t| (task, t))) {
            Some((task, t)) => Caller {
                task,
                thread: self.k.current,
                map: t.map,
                space: t.space,
            },
            None => {
                crate::arch::trap::fatal(self.frame, "a system call from a thread with no task")
            }
        }
    }

    /// Returns `result` to the caller: the code in `rax`, the value (0 on
    /// failure) in `rdx`.
    #[inline(always)]
    fn returns<T: Register>(&mut self, result: Result<T, KernReturn>) -> Reason {
        let (code, value) = match result {
            Ok(value) => (KernReturn::Success, value.into_register()),
            Err(code) => (code, 0),
        };
        self.frame.rax = code as u64;
        self.frame.rdx = value;
        Reason::Return
    }
}

/// A system call with no hurd-rs trap (a Linux system call, say): to the
/// handler the task's emulation vector has for it, with every register as
/// `syscall` left them, or `-ENOSYS`. Kept out of the traps' path.
#[cold]
#[inline(never)]
fn emulate(k: &mut Kernel, frame: &mut TrapFrame, number: u64) -> Reason {
    let handler = k
        .current_task()
        .and_then(|task| k.tasks.get(&task))
        .and_then(|t| t.emulation.handler(number));
    match handler {
        Some(entry) => frame.rip = entry,
        None => frame.rax = (-i64::from(Errno::NoSys.linux())) as u64,
    }
    Reason::Return
}

impl trap::Handler for Syscall<'_> {
    type Flow<T: Register> = Flow<T>;
    type Output = Reason;

    #[inline(always)]
    fn finish<C: Call>(&mut self, flow: Flow<C::Value>) -> Reason {
        match flow {
            Flow::Done(result) => self.returns(result),
            Flow::Blocked => Reason::Blocked,
            Flow::Yield => {
                self.frame.rax = KernReturn::Success as u64;
                Reason::Yield
            }
            Flow::Pager(ticket) => {
                let restart = Restart {
                    nr: C::NUMBER,
                    error: KernReturn::InvalidAddress as u64,
                };
                self.k.wait_for_pager(self.k.current, ticket, Some(restart));
                Reason::Blocked
            }
            Flow::Scheduled(reason) => reason,
        }
    }

    #[inline(always)]
    fn bad_trap(&mut self, error: BadTrap) -> Reason {
        match error {
            BadTrap::Foreign(number) => emulate(self.k, self.frame, number),
            BadTrap::UnknownNumber(_) | BadTrap::BadArgument(_) => {
                self.returns::<()>(Err(KernReturn::InvalidArgument))
            }
        }
    }

    #[inline(always)]
    fn mach_msg(&mut self, call: MachMsg) -> Flow<()> {
        let caller = self.caller();
        Flow::Scheduled(crate::mach_msg::mach_msg(self.k, self.frame, caller, call))
    }

    #[inline(always)]
    fn null(&mut self, _: Null) -> Flow<()> {
        Flow::Done(Ok(()))
    }

    #[inline(always)]
    fn exit(&mut self, call: Exit) -> Flow<()> {
        let caller = self.caller();
        self.k.terminate(caller.task, call.status);
        Flow::Blocked
    }

    #[inline(always)]
    fn yield_now(&mut self, _: Yield) -> Flow<()> {
        Flow::Yield
    }

    /// Writes the caller's bytes to the console (at most 4 KiB a call).
    #[inline(always)]
    fn console_write(&mut self, call: ConsoleWrite) -> Flow<()> {
        let caller = self.caller();
        if call.len > 4096 {
            return Flow::Done(Err(KernReturn::InvalidArgument));
        }
        let mut bytes = alloc::vec![0u8; call.len as usize];
        match uaccess::copy_in(&mut self.k.vm, caller.map, call.buf, &mut bytes) {
            Ok(()) => {}
            Err(UserFault::Pager(ticket)) => return Flow::Pager(ticket),
            Err(UserFault::Bad) => return Flow::Done(Err(KernReturn::InvalidAddress)),
        }
        let text = core::str::from_utf8(&bytes).unwrap_or("(not UTF-8)");
        crate::kprint!("{text}");
        Flow::Done(Ok(()))
    }

    #[inline(always)]
    fn console_read(&mut self, call: ConsoleRead) -> Flow<u64> {
        let caller = self.caller();
        match crate::console::read(self.k, caller.map, call.buf, call.len, call.flags) {
            crate::console::Read::Done(n) => Flow::Done(Ok(n)),
            crate::console::Read::Waiting => Flow::Blocked,
            crate::console::Read::Failed(code) => Flow::Done(Err(code)),
            crate::console::Read::Pager(ticket) => Flow::Pager(ticket),
        }
    }

    #[inline(always)]
    fn port_allocate(&mut self, call: PortAllocate) -> Flow<PortName> {
        let caller = self.caller();
        // A send or send-once right alone is no port: Mach refuses those.
        if matches!(call.right, RightType::SendOnce) {
            return Flow::Done(Err(KernReturn::InvalidValue));
        }
        if let Err(code) = self.k.room_for_names(caller.space, 1) {
            return Flow::Done(Err(code));
        }
        self.k.ipc.port_allocate(caller.space, call.right).into()
    }

    #[inline(always)]
    fn mach_reply_port(&mut self, _: MachReplyPort) -> Flow<PortName> {
        let caller = self.caller();
        if let Err(code) = self.k.room_for_names(caller.space, 1) {
            return Flow::Done(Err(code));
        }
        self.k
            .ipc
            .port_allocate(caller.space, RightType::Receive)
            .into()
    }

    #[inline(always)]
    fn port_deallocate(&mut self, call: PortDeallocate) -> Flow<()> {
        let caller = self.caller();
        let result = self.k.ipc.port_deallocate(caller.space, call.name);
        // The last send right gone: a no-senders notification, perhaps to
        // a thread waiting for it.
        self.k.process_ipc_events();
        result.into()
    }

    #[inline(always)]
    fn port_destroy(&mut self, call: PortDestroy) -> Flow<()> {
        let caller = self.caller();
        let result = self.k.ipc.port_destroy(caller.space, call.name);
        // Its receivers' waits end, its senders' notifications go out: now,
        // not at some later `mach_msg`.
        self.k.process_ipc_events();
        result.into()
    }

    #[inline(always)]
    fn port_call(&mut self, call: PortCall) -> Flow<u64> {
        let caller = self.caller();
        let PortCall {
            id,
            name,
            a,
            b,
            c,
            d,
        } = call;
        let registers = [id, u64::from(name.0), a, b, c, d];
        let result = self.k.port_call(caller.space, registers);
        // A right released, a queue limit raised, a member moved out of a
        // set: whoever that wakes goes on now.
        self.k.process_ipc_events();
        Flow::Done(result)
    }

    #[inline(always)]
    fn vm_allocate(&mut self, call: VmAllocate) -> Flow<u64> {
        let caller = self.caller();
        let VmAllocate {
            address,
            size,
            anywhere,
        } = call;
        let hint = if anywhere {
            address.max(abi::USER_BASE)
        } else {
            address
        };
        if !abi::user_range_ok(hint, size) {
            return Flow::Done(Err(KernReturn::InvalidAddress));
        }
        if let Err(code) = self.k.room_for_region(caller.map) {
            return Flow::Done(Err(code));
        }
        let result = match self.k.vm.allocate(caller.map, hint, size, anywhere) {
            Ok(addr) if abi::user_range_ok(addr, size) => Ok(addr),
            Ok(addr) => {
                let _ = self.k.vm.deallocate(caller.map, addr, size);
                Err(KernReturn::NoSpace)
            }
            Err(err) => Err(crate::taskvm::vm_return(err)),
        };
        Flow::Done(result)
    }

    #[inline(always)]
    fn vm_deallocate(&mut self, call: VmDeallocate) -> Flow<()> {
        let caller = self.caller();
        if !abi::user_range_ok(call.address, call.size) {
            return Flow::Done(Err(KernReturn::InvalidAddress));
        }
        let result = self.k.vm.deallocate(caller.map, call.address, call.size);
        Flow::Done(result.map_err(crate::taskvm::vm_return))
    }

    #[inline(always)]
    fn vm_protect(&mut self, call: VmProtect) -> Flow<()> {
        let caller = self.caller();
        if !abi::user_range_ok(call.address, call.size) {
            return Flow::Done(Err(KernReturn::InvalidAddress));
        }
        let Some(prot) = VmProt::from_bits(call.protection) else {
            return Flow::Done(Err(KernReturn::InvalidArgument));
        };
        if let Err(code) = self.k.room_for_region(caller.map) {
            return Flow::Done(Err(code));
        }
        let result = self
            .k
            .vm
            .protect(caller.map, call.address, call.size, call.set_maximum, prot);
        Flow::Done(result.map_err(crate::taskvm::vm_return))
    }

    #[inline(always)]
    fn vm_map(&mut self, call: VmMap) -> Flow<u64> {
        let caller = self.caller();
        let hint = call.address.max(abi::USER_BASE);
        if call.size == 0 || !abi::user_range_ok(hint, call.size) {
            return Flow::Done(Err(KernReturn::InvalidAddress));
        }
        if let Err(code) = self.k.room_for_region(caller.map) {
            return Flow::Done(Err(code));
        }
        let result = self.k.vm_map_pager(
            caller.space,
            caller.map,
            hint,
            call.size,
            call.memory_object,
            call.offset,
        );
        if result.is_ok() {
            self.k.process_ipc_events();
        }
        Flow::Done(result)
    }

    #[inline(always)]
    fn thread_spawn(&mut self, call: ThreadSpawn) -> Flow<u64> {
        let caller = self.caller();
        if !abi::user_range_ok(call.entry, 1) || !abi::user_range_ok(call.stack, 0) {
            return Flow::Done(Err(KernReturn::InvalidAddress));
        }
        if let Err(code) = self.k.room_for_thread(caller.task) {
            return Flow::Done(Err(code));
        }
        let priority = self
            .k
            .threads
            .get(&caller.thread)
            .map_or(12, |t| t.priority);
        let id = self
            .k
            .spawn_thread(caller.task, call.entry, call.stack, call.arg, priority);
        Flow::Done(id.map(u64::from))
    }

    #[inline(always)]
    fn thread_exit(&mut self, _: ThreadExit) -> Flow<()> {
        let caller = self.caller();
        if let Some(t) = self.k.tasks.get_mut(&caller.task) {
            t.threads.retain(|&t| t != caller.thread);
        }
        self.k.end_thread(caller.thread);
        if self
            .k
            .tasks
            .get(&caller.task)
            .is_some_and(|t| t.threads.is_empty())
        {
            self.k.terminate(caller.task, 0);
        }
        Flow::Blocked
    }

    #[inline(always)]
    fn read_tsc(&mut self, _: ReadTsc) -> Flow<u64> {
        Flow::Done(Ok(crate::arch::context::read_tsc()))
    }

    #[inline(always)]
    fn uptime(&mut self, _: Uptime) -> Flow<u64> {
        Flow::Done(Ok(crate::arch::timer::uptime_ns()))
    }

    #[inline(always)]
    fn task_self(&mut self, _: TaskSelf) -> Flow<PortName> {
        let caller = self.caller();
        self.k
            .task_port_send_right(caller.task, caller.space)
            .into()
    }

    #[inline(always)]
    fn thread_self(&mut self, _: ThreadSelf) -> Flow<PortName> {
        let caller = self.caller();
        let port = self
            .k
            .threads
            .get(&caller.thread)
            .map_or(PortName::NULL, |t| t.port);
        self.k.kernel_port_send_right(port, caller.space).into()
    }
}
