//! The memory_object protocol: its messages, defined with hurd-ipc's
//! [`interface!`](hurd_ipc::interface), and its constants.
//!
//! Two directions, with GNU Mach's message ids so traces read the same:
//!
//! - kernel → pager, [`memory_object`] (subsystem 2200, all simpleroutines):
//!   `init`, `terminate`, `copy`, `data_request`, `data_unlock`, (a skipped id,
//!   once `data_write`), `lock_completed`, `supply_completed`, `data_return`,
//!   `change_completed`;
//! - pager → kernel, on the control port: part of Mach's `mach` subsystem
//!   (2000), whose routines are not contiguous, so they are three interfaces
//!   here: [`control_unavailable`] (2039–2040: `data_unavailable`,
//!   `get_attributes`), [`control_lock`] (2044: `lock_request`) and
//!   [`control`] (2090–2095: `data_error`, a skipped `set_attributes`,
//!   `destroy`, `data_supply`, `ready`, `change_attributes`).
//!
//! - kernel → default pager, [`memory_object_default`] (subsystem 2250):
//!   `create` (a temporary object the kernel made for anonymous memory, with
//!   the receive right of its memory object port) and `data_initialize` (the
//!   first pageout of a page of such an object), then a skipped id (the
//!   withdrawn `data_terminate`).
//!
//! Offsets and sizes travel as `u64`, protections as `u32` (`vm_prot_t`),
//! ports as [`PortItem`]s, page data as out-of-line memory ([`OolItem`]).
//! Routines a placeholder stands for (`_skip_*`) keep the ids in line; a
//! server ignores them.
//!
//! Replies to a send-once right (`lock_completed`, `supply_completed`,
//! `change_completed` go to the `reply_to` of the request) cannot use the
//! generated client stubs, which send with `COPY_SEND`; [`send_once_message`]
//! builds those messages.

use alloc::vec::Vec;

use hurd_ipc::mig::MsgArg;
use hurd_ipc::{Disposition, Item, Message, OolItem, PortItem, PortName};
use num_enum::{IntoPrimitive, TryFromPrimitive};

use crate::page::PAGE_SIZE;

hurd_ipc::interface! {
    /// Kernel → memory manager (`memory_object.defs`, subsystem 2200).
    pub mod memory_object: subsystem 2200 {
        /// The kernel maps the object for the first time: the manager answers
        /// `ready` on `control`. `name` is not implemented (always NULL).
        simpleroutine init(control: PortItem, name: PortItem, page_size: u64);
        /// The kernel is done with the object; `control` (a receive right) is
        /// handed back.
        simpleroutine terminate(control: PortItem, name: PortItem);
        /// Copy-on-write copy for `MEMORY_OBJECT_COPY_CALL` (not sent by this kernel).
        simpleroutine copy(old_control: PortItem, offset: u64, length: u64, new_object: PortItem);
        /// A fault: supply `[offset, offset+length)` with at least `desired_access`.
        simpleroutine data_request(control: PortItem, offset: u64, length: u64, desired_access: u32);
        /// The kernel holds the data but needs `desired_access` the lock withholds.
        simpleroutine data_unlock(control: PortItem, offset: u64, length: u64, desired_access: u32);
        /// Placeholder for the retired `data_write` (id 2205).
        simpleroutine _skip_data_write();
        /// Acknowledges a `lock_request` that asked for a reply.
        simpleroutine lock_completed(control: PortItem, offset: u64, length: u64);
        /// Acknowledges a `data_supply` that asked for a reply.
        simpleroutine supply_completed(control: PortItem, offset: u64, length: u64, result: i32, error_offset: u64);
        /// Dirty or precious data going back: `dirty` if modified, `kernel_copy`
        /// if the kernel kept a copy.
        simpleroutine data_return(control: PortItem, offset: u64, data: OolItem, dirty: bool, kernel_copy: bool);
        /// Acknowledges `change_attributes`.
        simpleroutine change_completed(may_cache: bool, copy_strategy: u32);
    }
}

hurd_ipc::interface! {
    /// Kernel → default pager (`memory_object_default.defs`, subsystem 2250).
    pub mod memory_object_default: subsystem 2250 {
        /// Sent to the default pager's port: the kernel made a temporary object
        /// of `new_object_size` bytes for anonymous memory and hands it over.
        /// `new_memory_object` is its memory object port, a moved receive
        /// right (the kernel keeps a send right), on which the usual
        /// memory_object requests follow; there is no `init`/`ready`
        /// handshake. `new_name` is not implemented (NULL).
        simpleroutine create(new_memory_object: PortItem, new_object_size: u64, new_control: PortItem, new_name: PortItem, new_page_size: u64);
        /// On a memory object port: the first pageout of the page at `offset`
        /// (later ones are `memory_object_data_return`).
        simpleroutine data_initialize(control: PortItem, offset: u64, data: OolItem);
        /// The withdrawn `memory_object_data_terminate` (id 2252).
        skip data_terminate();
    }
}

hurd_ipc::interface! {
    /// Manager → kernel, ids 2039–2040 of `mach.defs`.
    pub mod control_unavailable: subsystem 2039 {
        /// No data for the range: zero-fill (or use the shadow object).
        simpleroutine data_unavailable(offset: u64, size: u64);
        /// The object's attributes.
        routine get_attributes() -> (ready: bool, may_cache: bool, copy_strategy: u32);
    }
}

hurd_ipc::interface! {
    /// Manager → kernel, id 2044 of `mach.defs`.
    pub mod control_lock: subsystem 2044 {
        /// For each page: restrict access to `lock_value` (unless
        /// `VM_PROT_NO_CHANGE`), write back per `should_return`, flush if
        /// `should_flush`; then one `lock_completed` to `reply_to` (if not NULL).
        simpleroutine lock_request(offset: u64, size: u64, should_return: u32, should_flush: bool, lock_value: u32, reply_to: PortItem);
    }
}

hurd_ipc::interface! {
    /// Manager → kernel, ids 2090–2095 of `mach.defs`.
    pub mod control: subsystem 2090 {
        /// The data cannot be provided: the faults waiting for it fail.
        simpleroutine data_error(offset: u64, size: u64, error_value: i32);
        /// Placeholder for the retired `set_attributes` (id 2091).
        simpleroutine _skip_set_attributes();
        /// The manager destroys the object.
        simpleroutine destroy(reason: i32);
        /// Data for requested pages: `lock_value` is the access withheld,
        /// `precious` asks that the page come back rather than be dropped.
        simpleroutine data_supply(offset: u64, data: OolItem, lock_value: u32, precious: bool, reply_to: PortItem);
        /// Answers `init`.
        simpleroutine ready(may_cache: bool, copy_strategy: u32);
        /// Changes the attributes; `change_completed` goes to `reply_to`.
        simpleroutine change_attributes(may_cache: bool, copy_strategy: u32, reply_to: PortItem);
    }
}

/// `memory_object_copy_strategy_t`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum CopyStrategy {
    /// `MEMORY_OBJECT_COPY_NONE`: copies are made at once.
    None = 0,
    /// `MEMORY_OBJECT_COPY_CALL`: the manager is asked with `memory_object_copy`.
    Call = 1,
    /// `MEMORY_OBJECT_COPY_DELAY`: the kernel copies on write.
    Delay = 2,
    /// `MEMORY_OBJECT_COPY_TEMPORARY`: like delay; the object has no other users.
    Temporary = 3,
}

/// `memory_object_return_t`: what `lock_request` writes back.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum ReturnPolicy {
    /// `MEMORY_OBJECT_RETURN_NONE`.
    None = 0,
    /// `MEMORY_OBJECT_RETURN_DIRTY`: dirty pages.
    Dirty = 1,
    /// `MEMORY_OBJECT_RETURN_ALL`: dirty or precious pages.
    All = 2,
}

/// A message the kernel sends to a pager (or to a `reply_to` right).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum KernelMessage {
    /// `memory_object_init`.
    Init {
        /// The control port (receive right of the kernel; a send right is made).
        control: PortName,
        /// `PAGE_SIZE`.
        page_size: u64,
    },
    /// `memory_object_terminate`: the control receive right and the kernel's
    /// send right to the memory object are moved.
    Terminate {
        /// The control port.
        control: PortName,
    },
    /// `memory_object_data_request`.
    DataRequest {
        /// The control port.
        control: PortName,
        /// Byte offset.
        offset: u64,
        /// Bytes.
        length: u64,
        /// Access wanted (`vm_prot_t`).
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
        /// Access wanted (`vm_prot_t`).
        access: u32,
    },
    /// `memory_object_lock_completed`, to the request's `reply_to`.
    LockCompleted {
        /// The control port.
        control: PortName,
        /// Byte offset of the request.
        offset: u64,
        /// Bytes of the request.
        length: u64,
    },
    /// `memory_object_supply_completed`, to the supply's `reply_to`.
    SupplyCompleted {
        /// The control port.
        control: PortName,
        /// Byte offset.
        offset: u64,
        /// Bytes.
        length: u64,
        /// `KERN_SUCCESS` or why not.
        result: i32,
        /// Where the error was.
        error_offset: u64,
    },
    /// `memory_object_data_return`.
    DataReturn {
        /// The control port.
        control: PortName,
        /// Byte offset.
        offset: u64,
        /// The page data.
        data: Vec<u8>,
        /// Modified since the pager supplied it.
        dirty: bool,
        /// The kernel kept a copy.
        kernel_copy: bool,
    },
    /// `memory_object_create`, to the default pager: the receive right of
    /// `memory_object` is moved (the kernel keeps a send right under the same
    /// name).
    Create {
        /// The new object's memory object port.
        memory_object: PortName,
        /// The object's size in bytes.
        size: u64,
        /// The control port.
        control: PortName,
    },
    /// `memory_object_data_initialize`: a page's first pageout.
    DataInitialize {
        /// The control port.
        control: PortName,
        /// Byte offset.
        offset: u64,
        /// The page data.
        data: Vec<u8>,
    },
    /// `memory_object_change_completed`, to the request's `reply_to`.
    ChangeCompleted {
        /// The new value.
        may_cache: bool,
        /// The new value.
        copy_strategy: u32,
    },
}

/// A kernel message and where it goes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Outgoing {
    /// The destination: the pager's memory object port (a send right kept by
    /// the kernel), or a send-once `reply_to` right (consumed).
    pub to: PortName,
    /// Whether `to` is a send-once right (a reply).
    pub send_once: bool,
    /// The message.
    pub msg: KernelMessage,
}

impl Outgoing {
    /// The Mach message, addressed to `to`: the control port travels as a
    /// made send right (a moved receive right for `terminate`), page data
    /// out of line.
    pub fn into_message(self) -> Message {
        let ctl = |c: PortName| PortItem {
            disposition: Disposition::MakeSend,
            name: c,
        };
        let null = PortItem {
            disposition: Disposition::CopySend,
            name: PortName::NULL,
        };
        let mut body = Vec::new();
        let id = match self.msg {
            KernelMessage::Init { control, page_size } => {
                ctl(control).encode(&mut body);
                null.encode(&mut body);
                page_size.encode(&mut body);
                memory_object::id::init
            }
            KernelMessage::Terminate { control } => {
                PortItem {
                    disposition: Disposition::MoveReceive,
                    name: control,
                }
                .encode(&mut body);
                null.encode(&mut body);
                memory_object::id::terminate
            }
            KernelMessage::DataRequest {
                control,
                offset,
                length,
                access,
            } => {
                ctl(control).encode(&mut body);
                offset.encode(&mut body);
                length.encode(&mut body);
                access.encode(&mut body);
                memory_object::id::data_request
            }
            KernelMessage::DataUnlock {
                control,
                offset,
                length,
                access,
            } => {
                ctl(control).encode(&mut body);
                offset.encode(&mut body);
                length.encode(&mut body);
                access.encode(&mut body);
                memory_object::id::data_unlock
            }
            KernelMessage::LockCompleted {
                control,
                offset,
                length,
            } => {
                ctl(control).encode(&mut body);
                offset.encode(&mut body);
                length.encode(&mut body);
                memory_object::id::lock_completed
            }
            KernelMessage::SupplyCompleted {
                control,
                offset,
                length,
                result,
                error_offset,
            } => {
                ctl(control).encode(&mut body);
                offset.encode(&mut body);
                length.encode(&mut body);
                result.encode(&mut body);
                error_offset.encode(&mut body);
                memory_object::id::supply_completed
            }
            KernelMessage::DataReturn {
                control,
                offset,
                data,
                dirty,
                kernel_copy,
            } => {
                ctl(control).encode(&mut body);
                offset.encode(&mut body);
                OolItem {
                    data,
                    deallocate: true,
                }
                .encode(&mut body);
                dirty.encode(&mut body);
                kernel_copy.encode(&mut body);
                memory_object::id::data_return
            }
            KernelMessage::Create {
                memory_object,
                size,
                control,
            } => {
                PortItem {
                    disposition: Disposition::MoveReceive,
                    name: memory_object,
                }
                .encode(&mut body);
                size.encode(&mut body);
                ctl(control).encode(&mut body);
                null.encode(&mut body);
                PAGE_SIZE.encode(&mut body);
                memory_object_default::id::create
            }
            KernelMessage::DataInitialize {
                control,
                offset,
                data,
            } => {
                ctl(control).encode(&mut body);
                offset.encode(&mut body);
                OolItem {
                    data,
                    deallocate: true,
                }
                .encode(&mut body);
                memory_object_default::id::data_initialize
            }
            KernelMessage::ChangeCompleted {
                may_cache,
                copy_strategy,
            } => {
                may_cache.encode(&mut body);
                copy_strategy.encode(&mut body);
                memory_object::id::change_completed
            }
        };
        let disp = if self.send_once {
            Disposition::MoveSendOnce
        } else if id == memory_object::id::terminate {
            // The kernel's reference to the memory object goes with it.
            Disposition::MoveSend
        } else {
            Disposition::CopySend
        };
        Message {
            body,
            ..Message::new(id, self.to, disp)
        }
    }
}

/// A message from a pager on a control port, decoded but not yet validated
/// (values are as they came off the wire).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum PagerMessage {
    /// `memory_object_ready`.
    Ready {
        /// May cache.
        may_cache: bool,
        /// Copy strategy, raw.
        copy_strategy: u32,
    },
    /// `memory_object_data_supply`.
    DataSupply {
        /// Byte offset.
        offset: u64,
        /// Whole pages of data.
        data: Vec<u8>,
        /// Access withheld, raw `vm_prot_t`.
        lock_value: u32,
        /// Precious.
        precious: bool,
        /// Where `supply_completed` goes (NULL: nowhere).
        reply_to: PortName,
    },
    /// `memory_object_data_error`.
    DataError {
        /// Byte offset.
        offset: u64,
        /// Bytes.
        size: u64,
        /// The error.
        error: i32,
    },
    /// `memory_object_data_unavailable`.
    DataUnavailable {
        /// Byte offset.
        offset: u64,
        /// Bytes.
        size: u64,
    },
    /// `memory_object_lock_request`.
    LockRequest {
        /// Byte offset.
        offset: u64,
        /// Bytes.
        size: u64,
        /// Raw `memory_object_return_t`.
        should_return: u32,
        /// Flush after returning.
        should_flush: bool,
        /// Raw `vm_prot_t` or `VM_PROT_NO_CHANGE`.
        lock_value: u32,
        /// Where `lock_completed` goes (NULL: nowhere).
        reply_to: PortName,
    },
    /// `memory_object_change_attributes`.
    ChangeAttributes {
        /// May cache.
        may_cache: bool,
        /// Raw copy strategy.
        copy_strategy: u32,
        /// Where `change_completed` goes (NULL: nowhere).
        reply_to: PortName,
    },
    /// `memory_object_destroy`.
    Destroy {
        /// Why.
        reason: i32,
    },
}

/// Builds a message to a send-once right (a reply), which the generated stubs
/// cannot address: `items` are the routine's arguments in order.
pub fn send_once_message(id: i32, reply_to: PortName, items: Vec<Item>) -> Message {
    Message {
        body: items,
        ..Message::new(id, reply_to, Disposition::MoveSendOnce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_gnu_mach() {
        assert_eq!(memory_object::id::init, 2200);
        assert_eq!(memory_object::id::data_request, 2203);
        assert_eq!(memory_object::id::data_unlock, 2204);
        assert_eq!(memory_object::id::lock_completed, 2206);
        assert_eq!(memory_object::id::supply_completed, 2207);
        assert_eq!(memory_object::id::data_return, 2208);
        assert_eq!(memory_object::id::change_completed, 2209);
        assert_eq!(memory_object_default::id::create, 2250);
        assert_eq!(memory_object_default::id::data_initialize, 2251);
        assert_eq!(control_unavailable::id::data_unavailable, 2039);
        assert_eq!(control_unavailable::id::get_attributes, 2040);
        assert_eq!(control_lock::id::lock_request, 2044);
        assert_eq!(control::id::data_error, 2090);
        assert_eq!(control::id::destroy, 2092);
        assert_eq!(control::id::data_supply, 2093);
        assert_eq!(control::id::ready, 2094);
        assert_eq!(control::id::change_attributes, 2095);
    }

    #[test]
    fn create_moves_the_receive_right() {
        let m = Outgoing {
            to: PortName(5),
            send_once: false,
            msg: KernelMessage::Create {
                memory_object: PortName(9),
                size: 2 * PAGE_SIZE,
                control: PortName(7),
            },
        }
        .into_message();
        assert_eq!(m.header.id, memory_object_default::id::create);
        assert!(matches!(
            m.body.first(),
            Some(Item::Port(PortItem {
                disposition: Disposition::MoveReceive,
                name: PortName(9)
            }))
        ));
        assert!(hurd_ipc::mig::items_match(
            &m.body,
            &[
                PortItem::matches,
                u64::matches,
                PortItem::matches,
                PortItem::matches,
                u64::matches
            ]
        ));
    }

    #[test]
    fn constants() {
        assert_eq!(u32::from(CopyStrategy::Temporary), 3);
        assert_eq!(ReturnPolicy::try_from(2), Ok(ReturnPolicy::All));
        assert!(ReturnPolicy::try_from(3).is_err());
    }

    #[test]
    fn outgoing_encodes_as_the_interface_expects() {
        let m = Outgoing {
            to: PortName(5),
            send_once: false,
            msg: KernelMessage::DataRequest {
                control: PortName(7),
                offset: 4096,
                length: 4096,
                access: 1,
            },
        }
        .into_message();
        assert_eq!(m.header.id, memory_object::id::data_request);
        assert!(hurd_ipc::mig::items_match(
            &m.body,
            &[PortItem::matches, u64::matches, u64::matches, u32::matches]
        ));
    }
}
