//! The pager side of the memory_object protocol over hurd-ipc: received
//! messages become [`Event`]s, [`Action`]s become messages.
//!
//! The protocol is defined once, in hurd-vm ([`hurd_vm::protocol`]): a
//! message is decoded into its generated `memory_object::Call` ([`decode`]),
//! whose rights [`arrival`] settles, and actions go out through the
//! generated client stubs ([`send`]). Each
//! `memory_object_init` brings a new control port, which the
//! [`KernelTable`] numbers as a [`KernelId`]; later messages name their
//! kernel by that port. Everything a kernel sends is checked: a message with
//! an unknown control port, misaligned offsets, a wrong size or an
//! oversized range is logged and dropped with the rights it carried, and
//! changes nothing.
//!
//! Lock requests that want a reply name the memory object port itself
//! (`MAKE_SEND_ONCE`) as `reply_to`, so each kernel's `lock_completed`s
//! arrive behind the `data_return`s they follow, on the port the runtime
//! handles in order.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use hurd_ipc::mig::Dispatch;
use hurd_ipc::user::Right;
use hurd_ipc::{Disposition, Error, Message, OolItem, PortItem, PortName, UserIpc};
use hurd_vm::protocol::{control, control_lock, memory_object};
use hurd_vm::{PAGE_SIZE, VM_PROT_NO_CHANGE, VmProt};

use crate::action::Action;
use crate::event::Event;
use crate::kernel::KernelId;

const PAGE: usize = PAGE_SIZE as usize;

/// The most pages one `data_request`, `data_unlock` or `data_return` may
/// cover; larger ones are dropped as malformed.
pub const MAX_RANGE_PAGES: u64 = 256;

/// Decodes a message received on a memory object port. What is not a
/// memory_object call is refused as MIG does (`MIG_BAD_ID`, or
/// `MIG_BAD_ARGUMENTS` for items that do not match the routine): answered if
/// it has a reply port, and its rights destroyed.
pub fn decode<I: UserIpc + ?Sized>(ipc: &I, msg: Message) -> Option<memory_object::Call> {
    match memory_object::Call::decode(msg) {
        Ok((call, req)) => {
            // memory_object calls are simpleroutines: a reply right is unused.
            drop(Right::received(
                ipc,
                PortItem {
                    disposition: Disposition::PORT_SEND_ONCE,
                    name: req.reply,
                },
            ));
            Some(call)
        }
        Err(e) => {
            log::warn!(
                "pager: refused message {} ({})",
                e.message.header.id,
                e.code
            );
            if let Dispatch::Reply(r) = hurd_ipc::mig::reject(ipc, e.message, e.code) {
                let _ = hurd_ipc::mig::send_reply(ipc, r);
            }
            None
        }
    }
}

/// What a memory_object call asks of the pager, once its rights are settled
/// (see [`arrival`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Arrival {
    /// `memory_object_init` from a new kernel, now numbered `kernel`; its
    /// control port (a send right, kept in the table) is `control`. The
    /// runtime watches it for death and gives the core `Event::Init`.
    NewKernel {
        /// The kernel's number.
        kernel: KernelId,
        /// Its control port.
        control: PortName,
    },
    /// Events for the core.
    Events(Vec<Event>),
    /// Nothing to do: refused, ignored, or from an unknown kernel.
    Nothing,
}

/// Settles a call's rights and says what it means: the control port of a
/// new kernel is kept in `kernels`; every other right the call carried (the
/// control port's extra reference each call brings, the unused name port,
/// `copy`'s ports) is released. Calls are checked: an unknown control port,
/// misaligned offsets, a wrong size or an oversized range is logged and
/// gives nothing.
pub fn arrival<I: UserIpc + ?Sized>(
    ipc: &I,
    kernels: &mut KernelTable,
    call: memory_object::Call,
) -> Arrival {
    use memory_object::Call as C;
    match call {
        C::init {
            control,
            name,
            page_size,
        } => {
            drop(Right::received(ipc, name));
            let control = Right::received(ipc, control);
            let kept = match (&control, page_size == PAGE_SIZE) {
                (Right::Send(c), true) if c.is_valid() => kernels.add(c.name()),
                _ => {
                    log::warn!(
                        "pager: init with control {:?}, page size {page_size}: refused",
                        control
                    );
                    None
                }
            };
            match kept {
                Some(kernel) => Arrival::NewKernel {
                    kernel,
                    control: control.into_raw(),
                },
                None => Arrival::Nothing,
            }
        }
        C::terminate { control, name } => {
            drop(Right::received(ipc, name));
            match kernels.kernel(control.name) {
                // The receive right stays under the kernel's control port
                // name, destroyed with its send right when the core releases
                // the kernel.
                Some(kernel) => Arrival::Events(vec![Event::Terminate { kernel }]),
                None => {
                    if control.name.is_valid() {
                        let _ = ipc.port_destroy(control.name);
                    }
                    Arrival::Nothing
                }
            }
        }
        C::copy {
            old_control,
            new_object,
            ..
        } => {
            // Not sent by this kernel (copy strategy call).
            drop(Right::received(ipc, old_control));
            drop(Right::received(ipc, new_object));
            Arrival::Nothing
        }
        C::supply_completed { control, .. } => {
            drop(Right::received(ipc, control));
            Arrival::Nothing
        }
        C::change_completed {
            may_cache,
            copy_strategy,
        } => Arrival::Events(vec![Event::ChangeCompleted {
            may_cache,
            copy_strategy,
        }]),
        C::data_request { control, .. }
        | C::data_unlock { control, .. }
        | C::lock_completed { control, .. }
        | C::data_return { control, .. }
            if !control.name.is_valid() =>
        {
            Arrival::Nothing
        }
        C::data_request { control, .. }
        | C::data_unlock { control, .. }
        | C::lock_completed { control, .. }
        | C::data_return { control, .. } => {
            let kernel = kernels.kernel(control.name);
            // The call brought one more reference to the control port.
            let name = control.name;
            drop(Right::received(ipc, control));
            match kernel {
                Some(k) => Arrival::Events(events(k, &call)),
                None => {
                    log::warn!("pager: message from unknown control port {name}");
                    Arrival::Nothing
                }
            }
        }
    }
}

/// The kernels of one pager, by control port.
#[derive(Debug, Default)]
pub struct KernelTable {
    by_control: BTreeMap<PortName, KernelId>,
    by_id: BTreeMap<KernelId, PortName>,
    next: u32,
}

impl KernelTable {
    /// An empty table.
    pub fn new() -> KernelTable {
        KernelTable::default()
    }

    /// Numbers a new control port; `None` if it is already known or the
    /// numbers ran out.
    pub fn add(&mut self, control: PortName) -> Option<KernelId> {
        if self.by_control.contains_key(&control) || self.next == u32::MAX {
            return None;
        }
        let id = KernelId(self.next);
        self.next += 1;
        self.by_control.insert(control, id);
        self.by_id.insert(id, control);
        Some(id)
    }

    /// The kernel of a control port.
    pub fn kernel(&self, control: PortName) -> Option<KernelId> {
        self.by_control.get(&control).copied()
    }

    /// The control port of a kernel.
    pub fn control(&self, kernel: KernelId) -> Option<PortName> {
        self.by_id.get(&kernel).copied()
    }

    /// Forgets a kernel; returns its control port.
    pub fn remove(&mut self, kernel: KernelId) -> Option<PortName> {
        let c = self.by_id.remove(&kernel)?;
        self.by_control.remove(&c);
        Some(c)
    }

    /// The kernels and their control ports, in kernel order.
    pub fn iter(&self) -> impl Iterator<Item = (KernelId, PortName)> + '_ {
        self.by_id.iter().map(|(k, c)| (*k, *c))
    }

    /// How many kernels.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// A byte range as whole pages: `(first page, pages)`, if aligned,
/// non-empty and at most [`MAX_RANGE_PAGES`].
fn pages_of(offset: u64, length: u64) -> Option<(u64, u64)> {
    let ps = PAGE_SIZE;
    if !offset.is_multiple_of(ps) || !length.is_multiple_of(ps) || length == 0 {
        return None;
    }
    let n = length / ps;
    (n <= MAX_RANGE_PAGES && offset.checked_add(length).is_some()).then_some((offset / ps, n))
}

/// Turns a call of a known kernel into core events: `data_request`,
/// `data_unlock` (one event per page), `lock_completed`, `data_return` (one
/// per page). Anything malformed or of another kind gives none.
pub fn events(kernel: KernelId, call: &memory_object::Call) -> Vec<Event> {
    use memory_object::Call as C;
    let mut out = Vec::new();
    match *call {
        C::data_request {
            offset,
            length,
            desired_access,
            ..
        }
        | C::data_unlock {
            offset,
            length,
            desired_access,
            ..
        } if pages_of(offset, length).is_some() => {
            let unlock = matches!(call, C::data_unlock { .. });
            let access = VmProt::from_bits_truncate(desired_access);
            if let Some((first, n)) = pages_of(offset, length) {
                for page in first..first + n {
                    out.push(if unlock {
                        Event::DataUnlock {
                            kernel,
                            page,
                            access,
                        }
                    } else {
                        Event::DataRequest {
                            kernel,
                            page,
                            access,
                        }
                    });
                }
            }
        }
        C::lock_completed { offset, length, .. } => match pages_of(offset, length) {
            Some((page, count)) => out.push(Event::LockCompleted {
                kernel,
                page,
                count,
            }),
            // Ranges of library calls may be larger than a request's.
            None if offset.is_multiple_of(PAGE_SIZE) && length.is_multiple_of(PAGE_SIZE) => out
                .push(Event::LockCompleted {
                    kernel,
                    page: offset / PAGE_SIZE,
                    count: length / PAGE_SIZE,
                }),
            None => log::warn!("pager: malformed lock_completed from {kernel}"),
        },
        C::data_return {
            offset,
            ref data,
            dirty,
            kernel_copy,
            ..
        } => match pages_of(offset, data.data.len() as u64) {
            Some((first, _)) => {
                for (i, chunk) in data.data.chunks_exact(PAGE).enumerate() {
                    out.push(Event::DataReturn {
                        kernel,
                        page: first + i as u64,
                        data: chunk.to_vec(),
                        dirty,
                        kernel_copy,
                    });
                }
            }
            None => log::warn!("pager: malformed data_return from {kernel}"),
        },
        _ => log::warn!("pager: malformed or unexpected {} from {kernel}", call.id()),
    }
    out
}

/// Sends an action that is a message to `control` (a send right of the
/// pager's); `object` is the memory object port (a receive right), where
/// replies go. Sends block at most `timeout`. Other actions are not messages
/// and are ignored here.
///
/// # Errors
///
/// The send's failure: `MACH_SEND_INVALID_DEST` when the kernel is gone,
/// `MACH_SEND_TIMED_OUT` when its queue stayed full for `timeout`.
pub fn send<I: UserIpc + ?Sized>(
    ipc: &I,
    control: PortName,
    object: PortName,
    action: Action,
    timeout: Duration,
) -> Result<(), Error> {
    let no_reply = PortItem {
        disposition: Disposition::MakeSendOnce,
        name: PortName::NULL,
    };
    let reply = |want: bool| {
        if want {
            PortItem {
                disposition: Disposition::MakeSendOnce,
                name: object,
            }
        } else {
            no_reply
        }
    };
    match action {
        Action::Ready {
            may_cache,
            copy_strategy,
            ..
        } => control::Client::new(ipc, control)
            .with_timeout(timeout)
            .ready(may_cache, copy_strategy.into()),
        Action::Supply {
            page,
            data,
            lock,
            precious,
            ..
        } => control::Client::new(ipc, control)
            .with_timeout(timeout)
            .data_supply(
                page * PAGE_SIZE,
                OolItem {
                    data,
                    deallocate: true,
                },
                lock.bits(),
                precious,
                no_reply,
            ),
        Action::DataError { page, error, .. } => control::Client::new(ipc, control)
            .with_timeout(timeout)
            .data_error(page * PAGE_SIZE, PAGE_SIZE, error.code()),
        Action::Lock {
            page,
            count,
            should_return,
            flush,
            lock,
            reply: want,
            ..
        } => control_lock::Client::new(ipc, control)
            .with_timeout(timeout)
            .lock_request(
                page * PAGE_SIZE,
                count * PAGE_SIZE,
                should_return.into(),
                flush,
                lock.map_or(VM_PROT_NO_CHANGE, |l| l.bits()),
                reply(want),
            ),
        Action::ChangeAttributes {
            may_cache,
            copy_strategy,
            reply: want,
            ..
        } => control::Client::new(ipc, control)
            .with_timeout(timeout)
            .change_attributes(may_cache, copy_strategy.into(), reply(want)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        assert_eq!(pages_of(PAGE_SIZE, 2 * PAGE_SIZE), Some((1, 2)));
        assert_eq!(pages_of(1, PAGE_SIZE), None);
        assert_eq!(pages_of(0, 0), None);
        assert_eq!(pages_of(0, (MAX_RANGE_PAGES + 1) * PAGE_SIZE), None);
        assert_eq!(pages_of(u64::MAX - PAGE_SIZE + 1, PAGE_SIZE), None);
    }

    fn control() -> PortItem {
        PortItem {
            disposition: Disposition::PORT_SEND,
            name: PortName(9),
        }
    }

    #[test]
    fn events_split_ranges_and_drop_malformed() {
        let k = KernelId(3);
        let ev = events(
            k,
            &memory_object::Call::data_request {
                control: control(),
                offset: 0,
                length: 2 * PAGE_SIZE,
                desired_access: 3,
            },
        );
        assert_eq!(ev.len(), 2);
        assert!(
            events(
                k,
                &memory_object::Call::data_return {
                    control: control(),
                    offset: 0,
                    data: OolItem {
                        data: alloc::vec![0; 100],
                        deallocate: true
                    },
                    dirty: true,
                    kernel_copy: false,
                }
            )
            .is_empty()
        );
        assert!(
            events(
                k,
                &memory_object::Call::data_unlock {
                    control: control(),
                    offset: 3,
                    length: PAGE_SIZE,
                    desired_access: 2,
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn kernel_table_numbers_control_ports() {
        let mut t = KernelTable::new();
        let a = t.add(PortName(5)).expect("a");
        assert_eq!(t.add(PortName(5)), None);
        let b = t.add(PortName(6)).expect("b");
        assert_ne!(a, b);
        assert_eq!(t.kernel(PortName(6)), Some(b));
        assert_eq!(t.remove(a), Some(PortName(5)));
        assert_eq!(t.kernel(PortName(5)), None);
        assert_eq!(t.len(), 1);
    }
}
