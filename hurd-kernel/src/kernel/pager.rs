//! External pagers: the kernel's side of the memory_object protocol, by
//! messages, with pagers that are ordinary user tasks.
//!
//! The kernel has its own IPC space. `vm_map` of a pager's memory object
//! copies the caller's send right into it; the first mapping of a pager makes
//! a control port (a receive right of the kernel's, in a port set) and queues
//! `memory_object_init`. A fault that needs data queues `data_request`,
//! blocks the thread on the VM's ticket, and sends what the VM queued. The
//! kernel listens on its port set with its own waiter token, so a pager's
//! answer (`ready`, `data_supply`, …) is handed to it like to any receiver;
//! it goes to [`hurd_vm::Vm::handle_pager_message`], and threads whose
//! tickets completed retry their access. A pager that answers with garbage is
//! refused (the message dropped), never trusted.

use hurd_ipc::{Item, Message, PortName, RecvError, RecvOptions, RightType};
use hurd_vm::{ControlCall, Ticket, TicketStatus, VmInherit, VmProt};

use crate::rpc::Object;
use crate::task::{Kernel, Pending, Restart, ThreadId, ThreadState};

/// The waiter token of the kernel's own receive (no thread has this id).
pub const KERNEL_TOKEN: u64 = u64::MAX;

/// The kernel's IPC presence: its space and the port set of control ports.
#[derive(Debug, Clone, Copy)]
pub struct KernelPort {
    /// The kernel's space.
    pub space: hurd_ipc::SpaceId,
    /// The set holding every control port.
    pub controls: PortName,
    /// Where dead-name notifications about pagers arrive (in the set).
    pub notify: PortName,
}

impl Kernel {
    /// Creates the kernel's space and port set and starts listening.
    pub fn init_pager_support(&mut self) {
        let space = self.ipc.create_space();
        let Ok(controls) = self.ipc.port_allocate(space, RightType::PortSet) else {
            panic!("cannot allocate the kernel's control port set");
        };
        let notify = self
            .ipc
            .port_allocate(space, RightType::Receive)
            .and_then(|n| self.ipc.port_move_member(space, n, controls).map(|()| n));
        let Ok(notify) = notify else {
            panic!("cannot allocate the kernel's notification port");
        };
        self.kport = Some(KernelPort {
            space,
            controls,
            notify,
        });
        self.listen();
    }

    /// Receives what is queued on the control ports, then waits (registers
    /// the kernel's token) for more.
    fn listen(&mut self) {
        let Some(kp) = self.kport else { return };
        loop {
            let opts = RecvOptions::default();
            match self
                .ipc
                .receive(kp.space, kp.controls, opts, Some(KERNEL_TOKEN))
            {
                Ok(msg) => self.pager_message(msg),
                Err(_) => return, // registered (or the set is gone)
            }
        }
    }

    /// A hand-off or a wake-up for the kernel's token.
    pub fn kernel_event(&mut self, delivered: Option<Result<Message, RecvError>>) {
        if let Some(Ok(msg)) = delivered {
            self.pager_message(msg);
        }
        self.listen();
    }

    /// `vm_map` of the memory object `pager` (a send right in `space`) into
    /// `map`: `size` bytes from `offset`, anywhere at or above `hint`.
    #[allow(clippy::too_many_arguments)]
    pub fn vm_map_pager(
        &mut self,
        space: hurd_ipc::SpaceId,
        map: hurd_vm::MapId,
        hint: u64,
        size: u64,
        pager: PortName,
        offset: u64,
    ) -> Result<u64, hurd_ipc::KernReturn> {
        use hurd_ipc::{Disposition, KernReturn};
        let kp = self.kport.ok_or(KernReturn::Failure)?;
        let (kname, _) =
            self.ipc
                .port_extract_right(space, pager, Disposition::CopySend, kp.space)?;
        let object = match self.vm.object_for_pager(kname) {
            Some(object) => {
                // The kernel keeps one reference per pager.
                let _ = self.ipc.port_deallocate(kp.space, kname);
                object
            }
            None => {
                let control = self.ipc.port_allocate(kp.space, RightType::Receive)?;
                self.ipc.port_move_member(kp.space, control, kp.controls)?;
                let (object, _ready) = self
                    .vm
                    .create_external_object(kname, control)
                    .map_err(|_| KernReturn::InvalidArgument)?;
                // When the pager dies, its object fails (and so do the
                // faults waiting for it) instead of waiting forever.
                if let Err(err) = self.ipc.request_notification(
                    kp.space,
                    kname,
                    hurd_ipc::NotifyKind::DeadName,
                    1,
                    kp.notify,
                    Disposition::MakeSendOnce,
                ) {
                    log::warn!("no dead-name notification for pager {kname}: {err:?}");
                }
                object
            }
        };
        let result = self.vm.map_object(
            map,
            hint,
            size,
            true,
            object,
            offset,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        );
        self.flush_pager_messages();
        result.map_err(|_| KernReturn::NoSpace)
    }

    /// Sends what the VM queued for pagers, from the kernel's space.
    pub fn flush_pager_messages(&mut self) {
        let Some(kp) = self.kport else { return };
        // A dead pager's requests fail (and may queue more messages, to
        // other pagers): a few rounds at most.
        for _ in 0..4 {
            let outgoing = self.vm.take_outgoing();
            if outgoing.is_empty() {
                return;
            }
            let mut dead = alloc::vec::Vec::new();
            for out in outgoing {
                let to = out.to;
                match self.ipc.send(kp.space, out.into_message(), None) {
                    Ok(()) => {}
                    Err(err) if err.code == hurd_ipc::MsgReturn::SendInvalidDest => dead.push(to),
                    Err(err) => log::warn!("cannot send to pager {to}: {:?}", err.code),
                }
            }
            for pager in dead {
                self.vm.pager_died(pager);
            }
        }
    }

    /// Blocks thread `id` until the VM's ticket `ticket` completes; the
    /// faulting access (or, with `restart`, the system call) is retried
    /// then.
    pub fn wait_for_pager(&mut self, id: ThreadId, ticket: Ticket, restart: Option<Restart>) {
        if let Some(t) = self.threads.get_mut(&id) {
            t.pending = Some(Pending::Fault { ticket, restart });
            t.state = ThreadState::Blocked { deadline: None };
        }
        self.flush_pager_messages();
        // The pager may be waiting in a receive: hand it the request.
        self.process_ipc_events();
    }

    /// Blocks thread `id`, whose received message (in the wire buffer) is
    /// to be copied to `buf`, until the VM's ticket completes; the copy is
    /// made again then.
    pub fn wait_copy_out(&mut self, id: ThreadId, ticket: Ticket, buf: u64) {
        let bytes = self.wire_buf.clone();
        if let Some(t) = self.threads.get_mut(&id) {
            t.pending = Some(Pending::CopyOut { ticket, bytes, buf });
            t.state = ThreadState::Blocked { deadline: None };
        }
        self.flush_pager_messages();
    }

    // ANCHOR: pager_message
    /// One message on a control port: decoded (untrusted), given to the VM,
    /// then threads whose pages arrived retry.
    fn pager_message(&mut self, msg: Message) {
        let control = msg.header.local;
        if self.kport.is_some_and(|kp| kp.notify == control) {
            self.pager_notification(&msg);
            return;
        }
        if let Some(task) = self.task_for_port(control) {
            self.kernel_request(Object::Task(task), msg);
            return;
        }
        if let Some(thread) = self.thread_for_port(control) {
            self.kernel_request(Object::Thread(thread), msg);
            return;
        }
        if let Some(device) = self.device_object(control) {
            self.kernel_request(device, msg);
            return;
        }
        match ControlCall::decode(msg) {
            Ok((call, req)) => {
                // Every call on a control port is a simpleroutine: a reply
                // right sent with one is not kept.
                if req.reply.is_valid()
                    && let Some(kp) = self.kport
                {
                    let _ = self.ipc.port_deallocate(kp.space, req.reply);
                }
                let reply_to = call.reply_to();
                if self.vm.handle_pager_message(control, call).is_err() && reply_to.is_valid() {
                    // Refused: nothing will be sent through it.
                    if let Some(kp) = self.kport {
                        let _ = self.ipc.port_deallocate(kp.space, reply_to);
                    }
                }
            }
            Err(e) => {
                log::debug!(
                    "kernel: refused message {} on control port {control}: {}",
                    e.message.header.id,
                    e.code
                );
                // Answered as any refused request is (MIG_BAD_ID or
                // MIG_BAD_ARGUMENTS to a reply right, if one came), and its
                // rights released.
                let req = hurd_ipc::mig::Request::of(&e.message);
                self.release_rights(e.message.body);
                self.answer(&req, Err(hurd_ipc::Error::Mig(e.code)));
            }
        }
        self.flush_pager_messages();
        self.wake_fault_waiters();
    }

    // ANCHOR_END: pager_message

    /// A dead-name notification: a pager died. Its object fails, and so do
    /// the faults waiting for it (their tasks are killed, their system
    /// calls return errors). A port-deleted one ends a request whose right
    /// the kernel released.
    fn pager_notification(&mut self, msg: &Message) {
        let Some(kp) = self.kport else { return };
        match (msg.header.id, msg.body.as_slice()) {
            (hurd_ipc::notify::NOTIFY_DEAD_NAME, [Item::U32(name)]) => {
                let name = PortName(*name);
                self.vm.pager_died(name);
                // The notification's reference on the dead name.
                let _ = self.ipc.port_deallocate(kp.space, name);
                self.flush_pager_messages();
                self.wake_fault_waiters();
            }
            // The kernel let go of a pager's send right while its dead-name
            // request stood (the object ended first): Mach answers the
            // request with port-deleted, and nothing is left to do.
            (hurd_ipc::notify::NOTIFY_PORT_DELETED, [Item::U32(_)]) => {}
            (id, _) => {
                log::warn!("kernel: unexpected notification {id}");
                let msg = msg.clone();
                let req = hurd_ipc::mig::Request::of(&msg);
                self.release_rights(msg.body);
                if req.reply.is_valid() {
                    let _ = self.ipc.port_deallocate(kp.space, req.reply);
                }
            }
        }
    }

    /// Copies a received message to the thread's buffer again now that the
    /// page it waited for is there (`ok`) or cannot be had.
    fn retry_copy_out(&mut self, id: ThreadId, bytes: alloc::vec::Vec<u8>, buf: u64, ok: bool) {
        let map = self
            .threads
            .get(&id)
            .and_then(|t| t.task)
            .and_then(|t| self.tasks.get(&t))
            .map(|t| t.map);
        let invalid = hurd_ipc::MsgReturn::RcvInvalidData as u64;
        let code = match map {
            Some(map) if ok => match crate::arch::uaccess::copy_out(&mut self.vm, map, buf, &bytes)
            {
                Ok(()) => 0,
                Err(crate::arch::uaccess::UserFault::Pager(ticket)) => {
                    if let Some(t) = self.threads.get_mut(&id) {
                        t.pending = Some(Pending::CopyOut { ticket, bytes, buf });
                    }
                    self.flush_pager_messages();
                    return;
                }
                Err(crate::arch::uaccess::UserFault::Bad) => invalid,
            },
            _ => invalid,
        };
        if let Some(t) = self.threads.get_mut(&id) {
            t.frame_mut().rax = code;
        }
        self.make_ready(id);
    }

    /// Readies the threads whose tickets completed (a system call waiting
    /// for a page is made again, a message waiting to be copied out is
    /// copied); kills the tasks whose page could not be had (a system call
    /// returns an error instead).
    pub fn wake_fault_waiters(&mut self) {
        let waiting: alloc::vec::Vec<(ThreadId, Ticket)> = self
            .threads
            .iter()
            .filter_map(|(id, t)| match t.pending {
                Some(Pending::Fault { ticket, .. } | Pending::CopyOut { ticket, .. }) => {
                    Some((id, ticket))
                }
                _ => None,
            })
            .collect();
        for (id, ticket) in waiting {
            let status = self.vm.ticket_status(&ticket);
            if status == TicketStatus::Pending {
                continue;
            }
            let Some(thread) = self.threads.get_mut(&id) else {
                continue;
            };
            let ok = status == TicketStatus::Done;
            match thread.pending.take() {
                Some(Pending::Fault {
                    restart: Some(restart),
                    ..
                }) => {
                    let frame = thread.frame_mut();
                    if ok {
                        // Back to the `syscall` instruction (two bytes).
                        frame.rip -= 2;
                        frame.rax = restart.nr;
                    } else {
                        frame.rax = restart.error;
                    }
                    self.make_ready(id);
                    continue;
                }
                Some(Pending::CopyOut { bytes, buf, .. }) => {
                    self.retry_copy_out(id, bytes, buf, ok);
                    continue;
                }
                _ => {}
            }
            match status {
                TicketStatus::Pending => {}
                TicketStatus::Done => self.make_ready(id),
                TicketStatus::Failed(err) => {
                    let task = self.threads.get(&id).and_then(|t| t.task);
                    log::info!(
                        "thread {id}: the pager could not supply the page ({err:?}): task killed"
                    );
                    if let Some(task) = task {
                        self.terminate(task, hurd_abi::EXIT_EXCEPTION_BASE + 14);
                    }
                }
            }
        }
    }
}
