//! Task ports: a task is named by a port whose receive right the kernel
//! holds, and `task_create`, `task_terminate`, `task_suspend`,
//! `task_resume`, `thread_create`, the VM calls of [`crate::taskvm`], the
//! `mach_port` calls of [`crate::spaceport`] and `task_notify_exit` are
//! messages to it (see [`crate::rpc`], which decodes and answers them; the
//! routines are defined in [`hurd_abi::mach`] and [`hurd_abi::hurd_task`]).
//!
//! The receive rights sit in the kernel's port set next to the pagers'
//! control ports, so requests reach the kernel by the same hand-off. A
//! suspended task's threads are not run: the scheduler sets aside ready
//! threads of suspended tasks (and suspended threads) and takes them back on
//! resume.

use alloc::format;
use alloc::vec::Vec;

use hurd_abi::{EXIT_TERMINATED, EmulationVector};
use hurd_ipc::{Disposition, Error, Item, KernReturn, MigReturn, PortItem, PortName, RightType};

use crate::task::{DEFAULT_PRIORITY, Kernel, Task, TaskId, ThreadId};

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

    /// `task`, if it has not ended.
    pub fn live_task(&self, task: TaskId) -> Option<&Task> {
        self.tasks.get(&task).filter(|t| t.exit_status.is_none())
    }

    /// `task_terminate`: the task ends, reported as terminated.
    pub fn task_terminate(&mut self, task: TaskId) -> Result<(), KernReturn> {
        self.live_task(task).ok_or(KernReturn::InvalidTask)?;
        self.terminate(task, EXIT_TERMINATED);
        Ok(())
    }

    /// `task_notify_exit`: keeps the send-once right `notify` to tell of
    /// `task`'s end. Anything but a send-once right is refused
    /// (`MIG_BAD_ARGUMENTS`, the routine's type check) and released.
    pub fn task_notify_exit(&mut self, task: TaskId, notify: PortItem) -> Result<(), Error> {
        let refused =
            if notify.disposition != Disposition::PORT_SEND_ONCE || !notify.name.is_valid() {
                Some(Error::Mig(MigReturn::BadArguments))
            } else if self.live_task(task).is_none() {
                Some(Error::Kern(KernReturn::InvalidTask))
            } else {
                None
            };
        if let Some(error) = refused {
            self.release_rights([Item::Port(notify)]);
            return Err(error);
        }
        if let Some(t) = self.tasks.get_mut(&task) {
            t.exit_notify.push(notify.name);
        }
        Ok(())
    }

    /// `task_create`: a new task with no threads, an empty space, and an
    /// empty map or a copy of `parent`'s; its task port (a receive right of
    /// the kernel's, for the reply's send right).
    pub fn task_create(&mut self, parent: TaskId, inherit: bool) -> Result<PortName, KernReturn> {
        self.live_task(parent).ok_or(KernReturn::InvalidTask)?;
        self.room_for_task(parent)?;
        let p = self.live_task(parent).ok_or(KernReturn::InvalidTask)?;
        let name = format!("{} (child)", p.name);
        let emulation = p.emulation.clone();
        let map = if inherit {
            let parent_map = p.map;
            self.vm.fork(parent_map).map_err(|err| {
                log::info!("task_create: cannot copy the map: {err:?}");
                KernReturn::ResourceShortage
            })?
        } else {
            self.vm.create_map().map_err(|err| {
                log::info!("task_create: no address space: {err:?}");
                KernReturn::ResourceShortage
            })?
        };
        let child = match self.create_task(&name, map) {
            Ok(child) => child,
            Err(code) => {
                let _ = self.vm.destroy_map(map);
                return Err(code);
            }
        };
        // The child starts with its parent's emulation vector, as in Mach.
        if let Some(c) = self.tasks.get_mut(&child) {
            c.emulation = emulation;
            c.parent = Some(parent);
        }
        if let Some(p) = self.tasks.get_mut(&parent) {
            p.children += 1;
        }
        let port = self.tasks.get(&child).map_or(PortName::NULL, |t| t.port);
        if !port.is_valid() {
            self.terminate(child, EXIT_TERMINATED);
            return Err(KernReturn::ResourceShortage);
        }
        Ok(port)
    }

    /// `task_get_emulation_vector`: the first number the task's vector
    /// covers and its handlers.
    pub fn task_get_emulation_vector(
        &mut self,
        task: TaskId,
    ) -> Result<(i32, EmulationVector), KernReturn> {
        let t = self.live_task(task).ok_or(KernReturn::InvalidTask)?;
        let (start, handlers) = t.emulation.vector();
        let start = i32::try_from(start).map_err(|_| KernReturn::Failure)?;
        let vector = EmulationVector::new(handlers).ok_or(KernReturn::Failure)?;
        Ok((start, vector))
    }

    /// `task_set_emulation_vector` (and `task_set_emulation`, one entry):
    /// merged into the task's vector; `KERN_INVALID_ARGUMENT` for a
    /// negative start, a handler outside user space or a vector too long.
    pub fn task_set_emulation_vector(
        &mut self,
        task: TaskId,
        start: i32,
        handlers: &[u64],
    ) -> Result<(), KernReturn> {
        self.live_task(task).ok_or(KernReturn::InvalidTask)?;
        let t = self.tasks.get_mut(&task).ok_or(KernReturn::InvalidTask)?;
        t.emulation.set(start, handlers).map_err(|err| {
            log::debug!("task {task}: emulation vector refused: {err:?}");
            KernReturn::InvalidArgument
        })
    }

    /// Undoes a `task_create` whose reply could not be sent (the client is
    /// gone): the new task ends.
    pub fn undo_task_create(&mut self, port: PortName) {
        if let Some(task) = self.task_for_port(port) {
            self.terminate(task, EXIT_TERMINATED);
        }
    }

    /// `thread_create`: a new thread of `task`, suspended once, with a zero
    /// state; its thread port.
    pub fn thread_create(&mut self, task: TaskId) -> Result<PortName, KernReturn> {
        self.live_task(task).ok_or(KernReturn::InvalidTask)?;
        self.room_for_thread(task)?;
        let id = self.new_thread(task, 0, 0, 0, DEFAULT_PRIORITY)?;
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
            return Err(KernReturn::ResourceShortage);
        }
        Ok(port)
    }

    /// Undoes a `thread_create` whose reply could not be sent.
    pub fn undo_thread_create(&mut self, port: PortName) {
        if let Some(id) = self.thread_for_port(port) {
            self.end_thread(id);
        }
    }

    /// `task_suspend`: one more suspension.
    pub fn task_suspend(&mut self, task: TaskId) -> Result<(), KernReturn> {
        let t = self
            .tasks
            .get_mut(&task)
            .filter(|t| t.exit_status.is_none())
            .ok_or(KernReturn::InvalidTask)?;
        t.suspend_count = t
            .suspend_count
            .checked_add(1)
            .ok_or(KernReturn::ResourceShortage)?;
        if t.suspend_count == 1 {
            self.suspended += 1;
        }
        Ok(())
    }

    /// `task_resume`: one suspension less; at zero its set-aside threads
    /// are ready again.
    pub fn task_resume(&mut self, task: TaskId) -> Result<(), KernReturn> {
        let t = self.tasks.get_mut(&task).ok_or(KernReturn::InvalidTask)?;
        if t.suspend_count == 0 {
            return Err(KernReturn::Failure);
        }
        t.suspend_count -= 1;
        if t.suspend_count == 0 {
            self.suspended -= 1;
            self.unpark(task);
        }
        Ok(())
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
