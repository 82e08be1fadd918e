//! The kernel's RPC server: requests on task and thread ports, decoded with
//! the `Call` enums hurd-abi generates from the interfaces' one definition
//! ([`hurd_abi::mach`], [`hurd_abi::mach_port`], [`hurd_abi::hurd_task`]),
//! carried out by one method per routine (in [`crate::taskport`],
//! [`crate::threadport`], [`crate::taskvm`], [`crate::spaceport`]), and
//! answered with the generated `Reply`s. No message is put together or
//! taken apart by hand here.
//!
//! A request the kernel cannot decode (an id it does not serve, items that
//! do not match the routine) is answered `MIG_BAD_ID` /
//! `MIG_BAD_ARGUMENTS`; a routine sent to the wrong kind of port is answered
//! as GNU Mach does (`KERN_INVALID_ARGUMENT` for a task or thread routine,
//! `KERN_INVALID_TASK` for a `mach_port` call on a thread port). Whatever
//! the answer, the rights a request carried are released unless the routine
//! kept them.

use hurd_abi::device::{device, gnumach, hurd_device};
use hurd_abi::{hurd_task, mach, mach_port};
use hurd_ipc::mig::{DecodeError, Request};
use hurd_ipc::{
    Disposition, Error, Item, KernReturn, Message, MigReturn, MsgBits, PortItem, PortName,
    PortType, RightType,
};

use crate::task::{Kernel, TaskId, ThreadId};

/// What a kernel port stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    /// A task (its task port).
    Task(TaskId),
    /// A thread (its thread port).
    Thread(ThreadId),
    /// The device master port.
    DeviceMaster,
    /// A device (a port `device_open` gave).
    Device(crate::device::DeviceKind),
}

/// A routine's result as its reply carries it.
fn kern<T>(result: Result<T, KernReturn>) -> Result<T, Error> {
    result.map_err(Error::Kern)
}

/// The task a task routine's port names (`KERN_INVALID_ARGUMENT` for a
/// thread port, as GNU Mach answers a port of the wrong kind).
fn task_of(object: Object) -> Result<TaskId, Error> {
    match object {
        Object::Task(task) => Ok(task),
        _ => Err(Error::Kern(KernReturn::InvalidArgument)),
    }
}

/// The thread a thread routine's port names.
fn thread_of(object: Object) -> Result<ThreadId, Error> {
    match object {
        Object::Thread(thread) => Ok(thread),
        _ => Err(Error::Kern(KernReturn::InvalidArgument)),
    }
}

/// A send right made from one of the kernel's ports, for a reply.
fn make_send(port: PortName) -> PortItem {
    PortItem {
        name: port,
        disposition: Disposition::MakeSend,
    }
}

impl Kernel {
    /// A request on a task or thread port (a message in the kernel's
    /// space): decoded, carried out and answered.
    pub fn kernel_request(&mut self, object: Object, msg: Message) {
        let id = msg.header.id;
        let refused = if (mach::SUBSYSTEM..mach::END).contains(&id) {
            mach::Call::decode(msg).map(|(call, req)| self.mach_call(object, call, &req))
        } else if (mach_port::SUBSYSTEM..mach_port::END).contains(&id) {
            mach_port::Call::decode(msg).map(|(call, req)| self.mach_port_call(object, call, &req))
        } else if (hurd_task::SUBSYSTEM..hurd_task::END).contains(&id) {
            hurd_task::Call::decode(msg).map(|(call, req)| self.hurd_task_call(object, call, &req))
        } else if (device::SUBSYSTEM..device::END).contains(&id) {
            device::Call::decode(msg).map(|(call, req)| self.device_call(object, call, &req))
        } else if (gnumach::SUBSYSTEM..gnumach::END).contains(&id) {
            gnumach::Call::decode(msg).map(|(call, req)| self.gnumach_call(object, call, &req))
        } else if (hurd_device::SUBSYSTEM..hurd_device::END).contains(&id) {
            hurd_device::Call::decode(msg)
                .map(|(call, req)| self.hurd_device_call(object, call, &req))
        } else {
            Err(DecodeError {
                code: MigReturn::BadId,
                message: msg,
            })
        };
        if let Err(err) = refused {
            let req = Request::of(&err.message);
            // Debug only: a task must not be able to fill the console.
            log::debug!("kernel: refused request {}: {:?}", req.id, err.code);
            self.release_rights(err.message.body);
            self.answer(&req, Err(Error::Mig(err.code)));
        }
    }

    /// Releases the rights among `items`, names in the kernel's space (of a
    /// request it refused, or arguments a routine did not keep): a
    /// send-once right released unused sends its send-once notification,
    /// as in Mach.
    pub fn release_rights(&mut self, items: impl IntoIterator<Item = Item>) {
        let Some(kp) = self.kport else { return };
        for item in items {
            let (names, disposition) = match item {
                Item::Port(p) => (alloc::vec![p.name], p.disposition),
                Item::Ports(a) => (a.names, a.disposition),
                _ => continue,
            };
            for name in names.into_iter().filter(|n| n.is_valid()) {
                let _ = match disposition {
                    Disposition::MoveReceive => {
                        self.ipc
                            .port_mod_refs(kp.space, name, RightType::Receive, -1)
                    }
                    Disposition::MoveSend | Disposition::MoveSendOnce => {
                        self.ipc.port_deallocate(kp.space, name)
                    }
                    // Made or copied when sent: the kernel holds nothing.
                    Disposition::CopySend | Disposition::MakeSend | Disposition::MakeSendOnce => {
                        Ok(())
                    }
                };
            }
        }
    }

    /// Answers `req` with an error, or sends `reply` (built for `req`);
    /// whether the answer went out. One that cannot go (no reply port, or
    /// the client is gone) is dropped, with the rights it would have moved
    /// and the kernel's right to the reply port.
    ///
    /// As a MIG server does, the reply moves the kind of right the request
    /// brought: a send-once right, or a send right when the client made
    /// one (`MACH_MSG_TYPE_MAKE_SEND` for its reply port).
    pub(crate) fn answer(&mut self, req: &Request, reply: Result<Message, Error>) -> bool {
        let Some(kp) = self.kport else { return false };
        let mut reply = match reply {
            Ok(reply) => reply,
            Err(err) => hurd_ipc::mig::reply_message(req, Err(err)),
        };
        if !req.reply.is_valid() {
            self.release_rights(reply.body);
            return false;
        }
        let send_right = self
            .ipc
            .port_type(kp.space, req.reply)
            .is_ok_and(|t| t.contains(PortType::SEND) && !t.contains(PortType::SEND_ONCE));
        if send_right {
            let complex = reply.header.bits.is_complex();
            reply.header.bits = MsgBits::new(Disposition::MoveSend, None).with_complex(complex);
        }
        match self.ipc.send(kp.space, reply, None) {
            Ok(()) => true,
            Err(err) => {
                // The client is gone (its task terminated itself, say): the
                // kernel's right to its reply port (a dead name by now) goes
                // too.
                log::debug!("kernel: reply to {} dropped: {:?}", req.id, err.code);
                let _ = self
                    .ipc
                    .port_deallocate(kp.space, err.message.header.remote);
                self.release_rights(err.message.body);
                false
            }
        }
    }

    /// A routine of `mach.defs`. The match names every routine of the
    /// interface: one added to hurd-abi does not build until it is served
    /// here.
    fn mach_call(&mut self, object: Object, call: mach::Call, req: &Request) {
        use mach::{Call, Reply};
        let reply = match call {
            Call::task_create { inherit_memory } => {
                let created =
                    task_of(object).and_then(|task| kern(self.task_create(task, inherit_memory)));
                match created {
                    Ok(port) => {
                        let reply = Reply::task_create(Ok(make_send(port))).encode(req);
                        if !self.answer(req, Ok(reply)) {
                            self.undo_task_create(port);
                        }
                        return;
                    }
                    Err(error) => Reply::task_create(Err(error)),
                }
            }
            Call::thread_create {} => {
                match task_of(object).and_then(|task| kern(self.thread_create(task))) {
                    Ok(port) => {
                        let reply = Reply::thread_create(Ok(make_send(port))).encode(req);
                        if !self.answer(req, Ok(reply)) {
                            self.undo_thread_create(port);
                        }
                        return;
                    }
                    Err(error) => Reply::thread_create(Err(error)),
                }
            }
            Call::task_terminate {} => Reply::task_terminate(
                task_of(object).and_then(|task| kern(self.task_terminate(task))),
            ),
            Call::task_suspend {} => {
                Reply::task_suspend(task_of(object).and_then(|task| kern(self.task_suspend(task))))
            }
            Call::task_resume {} => {
                Reply::task_resume(task_of(object).and_then(|task| kern(self.task_resume(task))))
            }
            Call::vm_allocate {
                address,
                size,
                anywhere,
            } => Reply::vm_allocate(
                task_of(object)
                    .and_then(|task| kern(self.task_vm_allocate(task, address, size, anywhere))),
            ),
            Call::vm_deallocate { address, size } => Reply::vm_deallocate(
                task_of(object).and_then(|task| kern(self.task_vm_deallocate(task, address, size))),
            ),
            Call::vm_protect {
                address,
                size,
                set_maximum,
                new_protection,
            } => Reply::vm_protect(task_of(object).and_then(|task| {
                kern(self.task_vm_protect(task, (address, size), set_maximum, new_protection))
            })),
            Call::vm_read { address, size } => Reply::vm_read(
                task_of(object).and_then(|task| kern(self.task_vm_read(task, address, size))),
            ),
            Call::vm_write { address, data } => Reply::vm_write(
                task_of(object)
                    .and_then(|task| kern(self.task_vm_write(task, address, &data.data))),
            ),
            Call::thread_terminate {} => Reply::thread_terminate(
                thread_of(object).and_then(|thread| kern(self.thread_terminate(thread))),
            ),
            // ANCHOR: thread_suspend
            Call::thread_suspend {} => Reply::thread_suspend(
                thread_of(object).and_then(|thread| kern(self.thread_suspend(thread))),
            ),
            // ANCHOR_END: thread_suspend
            Call::thread_resume {} => Reply::thread_resume(
                thread_of(object).and_then(|thread| kern(self.thread_resume(thread))),
            ),
            Call::thread_get_state {
                flavor,
                old_state_count,
            } => {
                Reply::thread_get_state(thread_of(object).and_then(|thread| {
                    kern(self.thread_get_state(thread, flavor, old_state_count))
                }))
            }
            Call::thread_set_state { flavor, new_state } => Reply::thread_set_state(
                thread_of(object)
                    .and_then(|thread| kern(self.thread_set_state(thread, flavor, &new_state))),
            ),
            Call::thread_abort {} => Reply::thread_abort(
                thread_of(object).and_then(|thread| kern(self.thread_abort(thread))),
            ),
            Call::task_get_emulation_vector {} => Reply::task_get_emulation_vector(
                task_of(object).and_then(|task| kern(self.task_get_emulation_vector(task))),
            ),
            Call::task_set_emulation_vector {
                vector_start,
                emulation_vector,
            } => Reply::task_set_emulation_vector(task_of(object).and_then(|task| {
                kern(self.task_set_emulation_vector(task, vector_start, emulation_vector.entries()))
            })),
            Call::task_set_emulation {
                routine_entry_pt,
                routine_number,
            } => Reply::task_set_emulation(task_of(object).and_then(|task| {
                kern(self.task_set_emulation_vector(task, routine_number, &[routine_entry_pt]))
            })),
        };
        self.answer(req, Ok(reply.encode(req)));
    }

    /// A routine of `mach_port.defs`, on the space of the task the port
    /// names (every routine named, as in [`Kernel::mach_call`]).
    fn mach_port_call(&mut self, object: Object, call: mach_port::Call, req: &Request) {
        use mach_port::{Call, Reply};
        let space = match object {
            Object::Task(task) => self.live_task(task).map(|t| t.space),
            _ => None,
        };
        let Some(space) = space else {
            // Not a task's port, or the task has ended: the rights the call
            // carried go.
            let items = call.encode(PortName::NULL, Disposition::CopySend).body;
            self.release_rights(items);
            self.answer(req, Err(Error::Kern(KernReturn::InvalidTask)));
            return;
        };
        let reply = match call {
            Call::mach_port_names {} => Reply::mach_port_names(kern(self.space_names(space))),
            Call::mach_port_type { name } => {
                Reply::mach_port_type(kern(self.space_type(space, PortName(name))))
            }
            Call::mach_port_allocate_name { right, name } => Reply::mach_port_allocate_name(kern(
                self.space_allocate_name(space, right, PortName(name)),
            )),
            Call::mach_port_allocate { right } => {
                Reply::mach_port_allocate(kern(self.space_allocate(space, right)))
            }
            Call::mach_port_destroy { name } => {
                Reply::mach_port_destroy(kern(self.ipc.port_destroy(space, PortName(name))))
            }
            Call::mach_port_deallocate { name } => {
                Reply::mach_port_deallocate(kern(self.ipc.port_deallocate(space, PortName(name))))
            }
            Call::mach_port_get_refs { name, right } => {
                Reply::mach_port_get_refs(kern(self.space_get_refs(space, PortName(name), right)))
            }
            Call::mach_port_mod_refs { name, right, delta } => Reply::mach_port_mod_refs(kern(
                self.space_mod_refs(space, PortName(name), right, delta),
            )),
            Call::mach_port_set_qlimit { name, qlimit } => Reply::mach_port_set_qlimit(kern(
                self.space_set_qlimit(space, PortName(name), qlimit),
            )),
            Call::mach_port_set_mscount { name, mscount } => Reply::mach_port_set_mscount(kern(
                self.ipc.port_set_mscount(space, PortName(name), mscount),
            )),
            Call::mach_port_move_member { member, after } => Reply::mach_port_move_member(kern(
                self.ipc
                    .port_move_member(space, PortName(member), PortName(after)),
            )),
            Call::mach_port_request_notification {
                name,
                id,
                sync,
                notify,
            } => Reply::mach_port_request_notification(kern(self.space_request_notification(
                space,
                PortName(name),
                (id, sync),
                notify,
            ))),
            Call::mach_port_insert_right { name, poly } => Reply::mach_port_insert_right(kern(
                self.space_insert_right(space, PortName(name), poly),
            )),
            Call::mach_port_extract_right { name, msgt_name } => {
                let extracted = self.space_extract_right(space, PortName(name), msgt_name);
                Reply::mach_port_extract_right(kern(extracted))
            }
            Call::mach_port_get_receive_status { name } => Reply::mach_port_get_receive_status(
                kern(self.space_receive_status(space, PortName(name))),
            ),
            Call::mach_port_set_seqno { name, seqno } => Reply::mach_port_set_seqno(kern(
                self.ipc.port_set_seqno(space, PortName(name), seqno),
            )),
        };
        self.answer(req, Ok(reply.encode(req)));
    }

    /// A routine of hurd-rs's own interface.
    fn hurd_task_call(&mut self, object: Object, call: hurd_task::Call, req: &Request) {
        use hurd_task::{Call, Reply};
        let reply =
            match call {
                Call::task_notify_exit { notify } => match task_of(object) {
                    Ok(task) => Reply::task_notify_exit(self.task_notify_exit(task, notify)),
                    Err(error) => {
                        self.release_rights([Item::Port(notify)]);
                        Reply::task_notify_exit(Err(error))
                    }
                },
                Call::mach_port_identity { name } => {
                    let space = task_of(object).and_then(|task| {
                        self.live_task(task)
                            .map(|t| t.space)
                            .ok_or(Error::Kern(KernReturn::InvalidTask))
                    });
                    Reply::mach_port_identity(space.and_then(|space| {
                        kern(self.ipc.port_id(space, PortName(name)).map(|id| id.0))
                    }))
                }
                Call::task_exited { .. } => {
                    // The kernel sends this notification; it takes none.
                    self.answer(req, Err(Error::Mig(MigReturn::BadId)));
                    return;
                }
            };
        self.answer(req, Ok(reply.encode(req)));
    }
}
