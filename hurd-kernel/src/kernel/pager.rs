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
use hurd_vm::protocol::{control, control_unavailable};
use hurd_vm::{PagerMessage, Ticket, TicketStatus, VmInherit, VmProt};

use crate::task::{Kernel, Pending, ThreadId, ThreadState};

/// The waiter token of the kernel's own receive (no thread has this id).
pub const KERNEL_TOKEN: u64 = u64::MAX;

/// The kernel's IPC presence: its space and the port set of control ports.
#[derive(Debug, Clone, Copy)]
pub struct KernelPort {
    /// The kernel's space.
    pub space: hurd_ipc::SpaceId,
    /// The set holding every control port.
    pub controls: PortName,
}

impl Kernel {
    /// Creates the kernel's space and port set and starts listening.
    pub fn init_pager_support(&mut self) {
        let space = self.ipc.create_space();
        let Ok(controls) = self.ipc.port_allocate(space, RightType::PortSet) else {
            panic!("cannot allocate the kernel's control port set");
        };
        self.kport = Some(KernelPort { space, controls });
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
    /// faulting access is retried then.
    pub fn wait_for_pager(&mut self, id: ThreadId, ticket: Ticket) {
        if let Some(t) = self.threads.get_mut(&id) {
            t.pending = Some(Pending::Fault { ticket });
            t.state = ThreadState::Blocked { deadline: None };
        }
        self.flush_pager_messages();
    }

    // ANCHOR: pager_message
    /// One message on a control port: decoded (untrusted), given to the VM,
    /// then threads whose pages arrived retry.
    fn pager_message(&mut self, msg: Message) {
        let control = msg.header.local;
        if let Some(task) = self.task_for_port(control) {
            self.task_request(task, msg);
            return;
        }
        if let Some(thread) = self.thread_for_port(control) {
            self.thread_request(thread, msg);
            return;
        }
        match decode(&msg) {
            Some(pm) => {
                let _ = self.vm.handle_pager_message(control, pm);
            }
            None => log::warn!(
                "kernel: refused message {} on control port {control}",
                msg.header.id
            ),
        }
        self.flush_pager_messages();
        self.wake_fault_waiters();
    }

    // ANCHOR_END: pager_message

    /// Readies the threads whose tickets completed; kills the tasks whose
    /// page could not be had.
    fn wake_fault_waiters(&mut self) {
        let waiting: alloc::vec::Vec<(ThreadId, Ticket)> = self
            .threads
            .iter()
            .filter_map(|(id, t)| match t.pending {
                Some(Pending::Fault { ticket }) => Some((id, ticket)),
                _ => None,
            })
            .collect();
        for (id, ticket) in waiting {
            match self.vm.ticket_status(&ticket) {
                TicketStatus::Pending => {}
                TicketStatus::Done => {
                    if let Some(t) = self.threads.get_mut(&id) {
                        t.pending = None;
                    }
                    self.make_ready(id);
                }
                TicketStatus::Failed(err) => {
                    let task = self.threads.get(&id).and_then(|t| t.task);
                    log::info!(
                        "thread {id}: the pager could not supply the page ({err:?}): task killed"
                    );
                    if let Some(task) = task {
                        self.terminate(task, hurd_kernel::abi::EXIT_EXCEPTION_BASE + 14);
                    }
                }
            }
        }
    }
}

fn u32_at(items: &[Item], i: usize) -> Option<u32> {
    match items.get(i)? {
        Item::U32(v) => Some(*v),
        _ => None,
    }
}

fn u64_at(items: &[Item], i: usize) -> Option<u64> {
    match items.get(i)? {
        Item::U64(v) => Some(*v),
        _ => None,
    }
}

fn bool_at(items: &[Item], i: usize) -> Option<bool> {
    match u32_at(items, i)? {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// The pager messages the kernel understands, checked item by item.
fn decode(msg: &Message) -> Option<PagerMessage> {
    let items = &msg.body;
    let id = msg.header.id;
    if id == control::id::ready && items.len() == 2 {
        return Some(PagerMessage::Ready {
            may_cache: bool_at(items, 0)?,
            copy_strategy: u32_at(items, 1)?,
        });
    }
    if id == control::id::data_supply && items.len() == 5 {
        let Item::Ool(data) = &items[1] else {
            return None;
        };
        let Item::Port(reply) = &items[4] else {
            return None;
        };
        return Some(PagerMessage::DataSupply {
            offset: u64_at(items, 0)?,
            data: data.data.clone(),
            lock_value: u32_at(items, 2)?,
            precious: bool_at(items, 3)?,
            reply_to: reply.name,
        });
    }
    if id == control::id::data_error && items.len() == 3 {
        return Some(PagerMessage::DataError {
            offset: u64_at(items, 0)?,
            size: u64_at(items, 1)?,
            error: u32_at(items, 2)? as i32,
        });
    }
    if id == control_unavailable::id::data_unavailable && items.len() == 2 {
        return Some(PagerMessage::DataUnavailable {
            offset: u64_at(items, 0)?,
            size: u64_at(items, 1)?,
        });
    }
    None
}
