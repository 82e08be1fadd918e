//! Task ports: a task is named by a port whose receive right the kernel
//! holds, and `task_create`, `task_terminate`, `task_suspend`,
//! `task_resume`, `thread_create` and the VM calls of [`crate::taskvm`]
//! (GNU Mach's `mach.defs` ids, see
//! [`hurd_abi::rpc`]) are messages to it, answered with the return
//! code (id + 100) and the routine's out arguments, as in Mach.
//!
//! The receive rights sit in the kernel's port set next to the pagers'
//! control ports, so requests reach the kernel by the same hand-off. A
//! suspended task's threads are not run: the scheduler sets aside ready
//! threads of suspended tasks (and suspended threads) and takes them back on
//! resume.

use alloc::format;
use alloc::vec::Vec;

use hurd_abi::EXIT_TERMINATED;
pub use hurd_abi::rpc::{
    MACH_PORT_INSERT_RIGHT, TASK_CREATE, TASK_NOTIFY_EXIT, TASK_RESUME, TASK_SUSPEND,
    TASK_TERMINATE, THREAD_CREATE,
};
use hurd_ipc::{Disposition, Item, KernReturn, Message, MigReturn, PortName, RightType};

use crate::task::{DEFAULT_PRIORITY, Kernel, TaskId, ThreadId};

/// What a request asks of the kernel, once its items are checked.
pub enum Outcome {
    /// Answer with this code alone.
    Code(KernReturn),
    /// Answer with success and a send right made from this port (a receive
    /// right of the kernel's); `undo` runs if the answer cannot be sent.
    Port {
        /// The port.
        port: PortName,
        /// Undoes the creation (the client is gone).
        undo: fn(&mut Kernel, PortName),
    },
    /// Answer with success and this item (the routine's out argument).
    Item(Item),
    /// The items did not match the routine (`MIG_BAD_ARGUMENTS`).
    BadArguments,
    /// An unknown id (`MIG_BAD_ID`).
    BadId,
}

impl Kernel {
    /// Makes the task port of `task` (a receive right of the kernel's, in
    /// its port set).
    pub fn make_task_port(&mut self, task: TaskId) -> Result<PortName, KernReturn> {
        let port = self.make_kernel_port()?;
        self.task_ports.insert(port, task);
        if let Some(t) = self.tasks.get_mut(&task) {
            t.port = port;
        }
        Ok(port)
    }

    /// A receive right of the kernel's, in its port set.
    pub fn make_kernel_port(&mut self) -> Result<PortName, KernReturn> {
        let kp = self.kport.ok_or(KernReturn::Failure)?;
        let port = self.ipc.port_allocate(kp.space, RightType::Receive)?;
        self.ipc.port_move_member(kp.space, port, kp.controls)?;
        Ok(port)
    }

    /// Gives `space` a send right to `task`'s port; returns its name there.
    pub fn task_port_send_right(
        &mut self,
        task: TaskId,
        space: hurd_ipc::SpaceId,
    ) -> Result<PortName, KernReturn> {
        let port = self
            .tasks
            .get(&task)
            .map(|t| t.port)
            .ok_or(KernReturn::InvalidTask)?;
        self.kernel_port_send_right(port, space)
    }

    /// Gives `space` a send right to the kernel's port `port`.
    pub fn kernel_port_send_right(
        &mut self,
        port: PortName,
        space: hurd_ipc::SpaceId,
    ) -> Result<PortName, KernReturn> {
        let kp = self.kport.ok_or(KernReturn::Failure)?;
        if !port.is_valid() {
            return Err(KernReturn::InvalidName);
        }
        let (name, _) =
            self.ipc
                .port_extract_right(kp.space, port, Disposition::MakeSend, space)?;
        Ok(name)
    }

    /// The task whose port `name` (in the kernel's space) is, if it is one.
    pub fn task_for_port(&self, name: PortName) -> Option<TaskId> {
        self.task_ports.get(&name).copied()
    }

    /// A request on a task port: carried out and answered.
    pub fn task_request(&mut self, task: TaskId, msg: Message) {
        let empty = msg.body.is_empty();
        let outcome = match msg.header.id {
            TASK_TERMINATE if empty => {
                self.terminate(task, EXIT_TERMINATED);
                Outcome::Code(KernReturn::Success)
            }
            TASK_SUSPEND if empty => Outcome::Code(self.suspend(task)),
            TASK_RESUME if empty => Outcome::Code(self.resume(task)),
            TASK_CREATE => match msg.body.as_slice() {
                [Item::U32(inherit @ (0 | 1))] => self.task_create(task, *inherit == 1),
                _ => Outcome::BadArguments,
            },
            THREAD_CREATE if empty => self.thread_create(task),
            TASK_NOTIFY_EXIT => self.notify_exit_request(task, &msg),
            MACH_PORT_INSERT_RIGHT => self.insert_right_request(task, &msg),
            id if crate::taskvm::is_vm_call(id) => self.task_vm_request(task, &msg),
            TASK_TERMINATE | TASK_SUSPEND | TASK_RESUME | THREAD_CREATE => Outcome::BadArguments,
            _ => Outcome::BadId,
        };
        self.answer_outcome(&msg, outcome);
    }

    /// `task_notify_exit`: keeps the request's send-once right to tell of
    /// `task`'s end. Any other body is refused and its rights released.
    fn notify_exit_request(&mut self, task: TaskId, msg: &Message) -> Outcome {
        let right = match msg.body.as_slice() {
            [Item::Port(p)] if p.disposition == Disposition::PORT_SEND_ONCE => p.name,
            _ => {
                self.release_request_rights(msg);
                return Outcome::BadArguments;
            }
        };
        match self.tasks.get_mut(&task) {
            Some(t) if t.exit_status.is_none() => {
                t.exit_notify.push(right);
                Outcome::Code(KernReturn::Success)
            }
            _ => {
                self.release_request_rights(msg);
                Outcome::Code(KernReturn::InvalidTask)
            }
        }
    }

    /// `mach_port_insert_right(task, name, poly)`: the right the request
    /// carried goes into `task`'s space under `name` — how a task hands a
    /// new one its first ports. Refused (the right released) when the name
    /// is taken or not valid.
    fn insert_right_request(&mut self, task: TaskId, msg: &Message) -> Outcome {
        let (name, right, disposition) = match msg.body.as_slice() {
            [Item::U32(name), Item::Port(p)] if p.name.is_valid() => {
                (PortName(*name), p.name, p.disposition)
            }
            _ => {
                self.release_request_rights(msg);
                return Outcome::BadArguments;
            }
        };
        let target = self
            .tasks
            .get(&task)
            .filter(|t| t.exit_status.is_none())
            .map(|t| t.space);
        let (Some(kp), Some(target)) = (self.kport, target) else {
            self.release_request_rights(msg);
            return Outcome::Code(KernReturn::InvalidTask);
        };
        // The right arrived in the kernel's space as received: it moves on.
        match self
            .ipc
            .port_insert_right(target, name, kp.space, right, disposition)
        {
            Ok(()) => Outcome::Code(KernReturn::Success),
            Err(code) => {
                self.release_request_rights(msg);
                Outcome::Code(code)
            }
        }
    }

    /// Releases the rights a refused request carried (names in the
    /// kernel's space).
    fn release_request_rights(&mut self, msg: &Message) {
        let Some(kp) = self.kport else { return };
        for item in &msg.body {
            if let Item::Port(p) = item
                && p.name.is_valid()
            {
                let _ = self.ipc.port_deallocate(kp.space, p.name);
            }
        }
    }

    /// Answers `msg` as `outcome` says.
    pub fn answer_outcome(&mut self, msg: &Message, outcome: Outcome) {
        match outcome {
            Outcome::Code(code) => {
                self.answer(msg, code as i32, None);
            }
            Outcome::Port { port, undo } => {
                let item = Item::port(port, Disposition::MakeSend);
                if !self.answer(msg, KernReturn::Success as i32, Some(item)) {
                    undo(self, port);
                }
            }
            Outcome::Item(item) => {
                self.answer(msg, KernReturn::Success as i32, Some(item));
            }
            Outcome::BadArguments => {
                log::warn!("kernel: malformed request {}", msg.header.id);
                self.answer(msg, MigReturn::BadArguments as i32, None);
            }
            Outcome::BadId => {
                log::warn!("kernel: unknown request {}", msg.header.id);
                self.answer(msg, MigReturn::BadId as i32, None);
            }
        }
    }

    /// Replies to `msg` (through its send-once reply right, if it has one)
    /// with the return code and, if given, one more item. Returns whether
    /// the reply went out.
    fn answer(&mut self, msg: &Message, code: i32, item: Option<Item>) -> bool {
        let Some(kp) = self.kport else { return false };
        let reply = msg.header.remote;
        if !reply.is_valid() {
            return false;
        }
        let mut answer = Message::new(
            msg.header.id.wrapping_add(hurd_abi::rpc::REPLY_OFFSET),
            reply,
            Disposition::MoveSendOnce,
        )
        .with_item(Item::U32(code as u32));
        if let Some(item) = item {
            answer = answer.with_item(item);
        }
        match self.ipc.send(kp.space, answer, None) {
            Ok(()) => true,
            Err(err) => {
                // The client is gone (its task terminated itself, say).
                log::info!("kernel: reply to request dropped: {:?}", err.code);
                false
            }
        }
    }

    /// `task_create`: a new task with no threads, an empty space, and an
    /// empty map or a copy of `parent`'s.
    fn task_create(&mut self, parent: TaskId, inherit: bool) -> Outcome {
        let Some(p) = self.tasks.get(&parent).filter(|t| t.exit_status.is_none()) else {
            return Outcome::Code(KernReturn::InvalidTask);
        };
        let name = format!("{} (child)", p.name);
        let map = if inherit {
            match self.vm.fork(p.map) {
                Ok(map) => map,
                Err(err) => {
                    log::info!("task_create: cannot copy the map: {err:?}");
                    return Outcome::Code(KernReturn::ResourceShortage);
                }
            }
        } else {
            self.vm.create_map()
        };
        let child = self.create_task(&name, map);
        let port = self.tasks.get(&child).map_or(PortName::NULL, |t| t.port);
        if !port.is_valid() {
            self.terminate(child, EXIT_TERMINATED);
            return Outcome::Code(KernReturn::ResourceShortage);
        }
        Outcome::Port {
            port,
            undo: |k, port| {
                if let Some(task) = k.task_for_port(port) {
                    k.terminate(task, EXIT_TERMINATED);
                }
            },
        }
    }

    /// `thread_create`: a new thread of `task`, suspended once, with a zero
    /// state.
    fn thread_create(&mut self, task: TaskId) -> Outcome {
        if self
            .tasks
            .get(&task)
            .is_none_or(|t| t.exit_status.is_some())
        {
            return Outcome::Code(KernReturn::InvalidTask);
        }
        let id = self.new_thread(task, 0, 0, 0, DEFAULT_PRIORITY);
        let port = match self.threads.get_mut(&id) {
            Some(t) => {
                t.suspend_count = 1;
                t.port
            }
            None => PortName::NULL,
        };
        self.suspended += 1;
        if let Some(t) = self.tasks.get_mut(&task) {
            t.parked.push(id);
        }
        if !port.is_valid() {
            self.end_thread(id);
            return Outcome::Code(KernReturn::ResourceShortage);
        }
        Outcome::Port {
            port,
            undo: |k, port| {
                if let Some(id) = k.thread_for_port(port) {
                    k.end_thread(id);
                }
            },
        }
    }

    /// `task_suspend`: one more suspension.
    fn suspend(&mut self, task: TaskId) -> KernReturn {
        let Some(t) = self.tasks.get_mut(&task) else {
            return KernReturn::InvalidTask;
        };
        if t.exit_status.is_some() {
            return KernReturn::InvalidTask;
        }
        t.suspend_count += 1;
        if t.suspend_count == 1 {
            self.suspended += 1;
        }
        KernReturn::Success
    }

    /// `task_resume`: one suspension less; at zero its set-aside threads
    /// are ready again.
    fn resume(&mut self, task: TaskId) -> KernReturn {
        let Some(t) = self.tasks.get_mut(&task) else {
            return KernReturn::InvalidTask;
        };
        if t.suspend_count == 0 {
            return KernReturn::Failure;
        }
        t.suspend_count -= 1;
        if t.suspend_count == 0 {
            self.suspended -= 1;
            self.unpark(task);
        }
        KernReturn::Success
    }

    /// Queues the set-aside threads of `task` that may run now.
    pub fn unpark(&mut self, task: TaskId) {
        let Some(t) = self.tasks.get_mut(&task) else {
            return;
        };
        let parked: Vec<ThreadId> = core::mem::take(&mut t.parked);
        for id in parked {
            if self.is_suspended(id) {
                if let Some(t) = self.tasks.get_mut(&task) {
                    t.parked.push(id);
                }
                continue;
            }
            let priority = self.threads.get(&id).map(|t| t.priority);
            if let Some(priority) = priority {
                self.enqueue(id, priority);
            }
        }
    }

    /// Whether `id` is suspended or belongs to a suspended task.
    pub fn is_suspended(&self, id: ThreadId) -> bool {
        if self.suspended == 0 {
            return false;
        }
        let Some(thread) = self.threads.get(&id) else {
            return false;
        };
        thread.suspend_count > 0
            || thread
                .task
                .and_then(|t| self.tasks.get(&t))
                .is_some_and(|t| t.suspend_count > 0)
    }

    /// Sets a ready thread of a suspended task aside until the task resumes.
    pub fn park(&mut self, id: ThreadId) {
        let task = self.threads.get(&id).and_then(|t| t.task);
        if let Some(t) = task.and_then(|t| self.tasks.get_mut(&t)) {
            t.parked.push(id);
        }
    }
}
