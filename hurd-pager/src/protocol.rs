//! The pager side of the memory_object protocol over hurd-ipc: received
//! messages become [`Event`]s, [`Action`]s become messages.
//!
//! The message definitions are hurd-vm's ([`hurd_vm::protocol`]). Each
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
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::{Disposition, Error, Message, OolItem, PortItem, PortName, RightType, UserIpc};
use hurd_vm::protocol::{control, control_lock, memory_object};
use hurd_vm::{PAGE_SIZE, VM_PROT_NO_CHANGE, VmProt};

use crate::action::Action;
use crate::event::Event;
use crate::kernel::KernelId;

const PAGE: usize = PAGE_SIZE as usize;

/// The most pages one `data_request`, `data_unlock` or `data_return` may
/// cover; larger ones are dropped as malformed.
pub const MAX_RANGE_PAGES: u64 = 256;

/// A memory_object message, decoded; ports are names in the pager's space.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Incoming {
    /// `memory_object_init`.
    Init {
        /// The kernel's new control port (a send right).
        control: PortName,
        /// The name port (unused; released).
        name: PortName,
        /// The kernel's page size.
        page_size: u64,
    },
    /// `memory_object_terminate`: the control receive right comes back.
    Terminate {
        /// The control port.
        control: PortName,
        /// The name port.
        name: PortName,
    },
    /// `memory_object_data_request`.
    DataRequest {
        /// The control port.
        control: PortName,
        /// Byte offset.
        offset: u64,
        /// Bytes.
        length: u64,
        /// Access wanted.
        access: u32,
    },
    /// `memory_object_data_unlock`.
    DataUnlock {
        /// The control port.
        control: PortName,
        /// Byte offset.
        offset: u64,
        /// Bytes.
        length: u64,
        /// Access wanted.
        access: u32,
    },
    /// `memory_object_lock_completed`.
    LockCompleted {
        /// The control port.
        control: PortName,
        /// Byte offset.
        offset: u64,
        /// Bytes.
        length: u64,
    },
    /// `memory_object_data_return`.
    DataReturn {
        /// The control port.
        control: PortName,
        /// Byte offset.
        offset: u64,
        /// Whole pages.
        data: Vec<u8>,
        /// Modified.
        dirty: bool,
        /// The kernel kept a copy.
        kernel_copy: bool,
    },
    /// `memory_object_change_completed`.
    ChangeCompleted {
        /// May cache.
        may_cache: bool,
        /// Copy strategy, raw.
        copy_strategy: u32,
    },
    /// Something this pager ignores (`copy`, `supply_completed`, the
    /// skipped id); its rights are released.
    Ignored,
}

impl Incoming {
    /// The control port the message names, if any.
    pub fn control(&self) -> Option<PortName> {
        match self {
            Incoming::Init { control, .. }
            | Incoming::Terminate { control, .. }
            | Incoming::DataRequest { control, .. }
            | Incoming::DataUnlock { control, .. }
            | Incoming::LockCompleted { control, .. }
            | Incoming::DataReturn { control, .. } => Some(*control),
            _ => None,
        }
    }
}

struct Collect<'a, I: UserIpc + ?Sized> {
    ipc: &'a I,
    got: RefCell<Option<Incoming>>,
}

impl<I: UserIpc + ?Sized> Collect<'_, I> {
    fn put(&self, m: Incoming) {
        *self.got.borrow_mut() = Some(m);
    }

    fn release(&self, p: PortItem) {
        if p.name.is_valid() {
            let _ = self.ipc.port_deallocate(p.name);
        }
    }
}

impl<I: UserIpc + ?Sized> memory_object::Server for Collect<'_, I> {
    fn init(&self, _r: &Request, control: PortItem, name: PortItem, page_size: u64) {
        self.put(Incoming::Init {
            control: control.name,
            name: name.name,
            page_size,
        });
    }
    fn terminate(&self, _r: &Request, control: PortItem, name: PortItem) {
        self.put(Incoming::Terminate {
            control: control.name,
            name: name.name,
        });
    }
    fn copy(&self, _r: &Request, old: PortItem, _o: u64, _l: u64, new: PortItem) {
        self.release(old);
        if new.name.is_valid() {
            let _ = self.ipc.port_mod_refs(new.name, RightType::Receive, -1);
        }
        self.put(Incoming::Ignored);
    }
    fn data_request(&self, _r: &Request, control: PortItem, offset: u64, length: u64, a: u32) {
        self.put(Incoming::DataRequest {
            control: control.name,
            offset,
            length,
            access: a,
        });
    }
    fn data_unlock(&self, _r: &Request, control: PortItem, offset: u64, length: u64, a: u32) {
        self.put(Incoming::DataUnlock {
            control: control.name,
            offset,
            length,
            access: a,
        });
    }
    fn _skip_data_write(&self, _r: &Request) {
        self.put(Incoming::Ignored);
    }
    fn lock_completed(&self, _r: &Request, control: PortItem, offset: u64, length: u64) {
        self.put(Incoming::LockCompleted {
            control: control.name,
            offset,
            length,
        });
    }
    fn supply_completed(
        &self,
        _r: &Request,
        control: PortItem,
        _o: u64,
        _l: u64,
        _res: i32,
        _eo: u64,
    ) {
        self.release(control);
        self.put(Incoming::Ignored);
    }
    fn data_return(
        &self,
        _r: &Request,
        control: PortItem,
        offset: u64,
        data: OolItem,
        dirty: bool,
        kernel_copy: bool,
    ) {
        self.put(Incoming::DataReturn {
            control: control.name,
            offset,
            data: data.data,
            dirty,
            kernel_copy,
        });
    }
    fn change_completed(&self, _r: &Request, may_cache: bool, copy_strategy: u32) {
        self.put(Incoming::ChangeCompleted {
            may_cache,
            copy_strategy,
        });
    }
}

/// Decodes a message received on a memory object port. Messages of other
/// interfaces come back as `Err` (answer them with
/// [`hurd_ipc::mig::bad_id`]); malformed ones of this interface were
/// already rejected (their rights destroyed) and give `Ok(None)`.
pub fn decode<I: UserIpc + ?Sized>(ipc: &I, msg: Message) -> Result<Option<Incoming>, Message> {
    let c = Collect {
        ipc,
        got: RefCell::new(None),
    };
    match memory_object::demux(&c, ipc, msg) {
        Dispatch::NotMine(m) => Err(m),
        Dispatch::Reply(r) => {
            let _ = hurd_ipc::mig::send_reply(ipc, r);
            Ok(None)
        }
        Dispatch::NoReply => Ok(c.got.into_inner()),
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

/// Turns a decoded message of a known kernel into core events. `Init` and
/// `Terminate` are handled by the caller (they change the table); anything
/// malformed gives no event.
pub fn events(kernel: KernelId, m: Incoming) -> Vec<Event> {
    let mut out = Vec::new();
    match m {
        Incoming::DataRequest {
            offset,
            length,
            access,
            ..
        }
        | Incoming::DataUnlock {
            offset,
            length,
            access,
            ..
        } if pages_of(offset, length).is_some() => {
            let unlock = matches!(m, Incoming::DataUnlock { .. });
            let access = VmProt::from_bits_truncate(access);
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
        Incoming::LockCompleted { offset, length, .. } => match pages_of(offset, length) {
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
        Incoming::DataReturn {
            offset,
            data,
            dirty,
            kernel_copy,
            ..
        } => match pages_of(offset, data.len() as u64) {
            Some((first, _)) => {
                for (i, chunk) in data.chunks_exact(PAGE).enumerate() {
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
        Incoming::ChangeCompleted {
            may_cache,
            copy_strategy,
        } => out.push(Event::ChangeCompleted {
            may_cache,
            copy_strategy,
        }),
        other => log::warn!("pager: malformed or unexpected {other:?} from {kernel}"),
    }
    out
}

/// Sends an action that is a message to `control` (a send right of the
/// pager's); `object` is the memory object port (a receive right), where
/// replies go. Sends block at most `timeout`. Other actions are not messages
/// and are ignored here.
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

    #[test]
    fn events_split_ranges_and_drop_malformed() {
        let k = KernelId(3);
        let ev = events(
            k,
            Incoming::DataRequest {
                control: PortName(9),
                offset: 0,
                length: 2 * PAGE_SIZE,
                access: 3,
            },
        );
        assert_eq!(ev.len(), 2);
        assert!(
            events(
                k,
                Incoming::DataReturn {
                    control: PortName(9),
                    offset: 0,
                    data: alloc::vec![0; 100],
                    dirty: true,
                    kernel_copy: false,
                }
            )
            .is_empty()
        );
        assert!(
            events(
                k,
                Incoming::DataUnlock {
                    control: PortName(9),
                    offset: 3,
                    length: PAGE_SIZE,
                    access: 2,
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
