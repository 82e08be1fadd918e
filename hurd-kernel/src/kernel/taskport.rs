//! Task ports: a task is named by a port whose receive right the kernel
//! holds, and `task_terminate`, `task_suspend` and `task_resume` (GNU Mach's
//! `mach.defs` ids 2008, 2056, 2057) are messages to it, answered with the
//! return code (id + 100), as in Mach.
//!
//! The receive rights sit in the kernel's port set next to the pagers'
//! control ports, so requests reach the kernel by the same hand-off. A
//! suspended task's threads are not run: the scheduler sets aside ready
//! threads of suspended tasks and takes them back on resume.

use hurd_ipc::{Disposition, Item, KernReturn, Message, PortName, RightType};
use hurd_kernel::abi::EXIT_TERMINATED;

use crate::task::{Kernel, TaskId, ThreadId};

/// `task_terminate`.
pub const TASK_TERMINATE: i32 = 2008;
/// `task_suspend`.
pub const TASK_SUSPEND: i32 = 2056;
/// `task_resume`.
pub const TASK_RESUME: i32 = 2057;

impl Kernel {
    /// Makes the task port of `task` (a receive right of the kernel's, in
    /// its port set).
    pub fn make_task_port(&mut self, task: TaskId) -> Result<PortName, KernReturn> {
        let kp = self.kport.ok_or(KernReturn::Failure)?;
        let port = self.ipc.port_allocate(kp.space, RightType::Receive)?;
        self.ipc.port_move_member(kp.space, port, kp.controls)?;
        self.task_ports.insert(port, task);
        if let Some(t) = self.tasks.get_mut(&task) {
            t.port = port;
        }
        Ok(port)
    }

    /// Gives `space` a send right to `task`'s port; returns its name there.
    pub fn task_port_send_right(
        &mut self,
        task: TaskId,
        space: hurd_ipc::SpaceId,
    ) -> Result<PortName, KernReturn> {
        let kp = self.kport.ok_or(KernReturn::Failure)?;
        let port = self
            .tasks
            .get(&task)
            .map(|t| t.port)
            .ok_or(KernReturn::InvalidTask)?;
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
        let code = match msg.header.id {
            TASK_TERMINATE if msg.body.is_empty() => {
                self.terminate(task, EXIT_TERMINATED);
                KernReturn::Success
            }
            TASK_SUSPEND if msg.body.is_empty() => self.suspend(task),
            TASK_RESUME if msg.body.is_empty() => self.resume(task),
            TASK_TERMINATE | TASK_SUSPEND | TASK_RESUME => {
                log::warn!("kernel: malformed task request {}", msg.header.id);
                self.answer(&msg, hurd_ipc::MigReturn::BadArguments as i32);
                return;
            }
            other => {
                log::warn!("kernel: unknown task request {other}");
                self.answer(&msg, hurd_ipc::MigReturn::BadId as i32);
                return;
            }
        };
        self.answer(&msg, code as i32);
    }

    /// Replies to `msg` (through its send-once reply right, if it has one)
    /// with the return code.
    fn answer(&mut self, msg: &Message, code: i32) {
        let Some(kp) = self.kport else { return };
        let reply = msg.header.remote;
        if !reply.is_valid() {
            return;
        }
        let answer = Message::new(msg.header.id + 100, reply, Disposition::MoveSendOnce)
            .with_item(Item::U32(code as u32));
        if let Err(err) = self.ipc.send(kp.space, answer, None) {
            // The client is gone (its task terminated itself, say).
            log::info!("kernel: reply to task request dropped: {:?}", err.code);
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
            self.suspended_tasks += 1;
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
            self.suspended_tasks -= 1;
            let parked: alloc::vec::Vec<ThreadId> = core::mem::take(&mut t.parked);
            for id in parked {
                let priority = self.threads.get(&id).map(|t| t.priority);
                if let Some(priority) = priority {
                    self.enqueue(id, priority);
                }
            }
        }
        KernReturn::Success
    }

    /// Whether `id` belongs to a suspended task.
    pub fn is_suspended(&self, id: ThreadId) -> bool {
        self.suspended_tasks != 0
            && self
                .threads
                .get(&id)
                .and_then(|t| t.task)
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
