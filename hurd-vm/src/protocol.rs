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
//!   here: [`control_unavailable`] (2039: `data_unavailable`),
//!   [`control_attributes`] (2040: `get_attributes`, the one routine, which
//!   the kernel answers at once), [`control_lock`] (2044: `lock_request`) and
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
//! Withdrawn routines are `skip`ped, as in MIG: their ids stay taken and a
//! message with one is answered `MIG_BAD_ID`.
//!
//! The messages are data too: [`KernelCall`] is what the kernel sends a
//! manager, [`ControlCall`] what a manager sends the kernel, both built on
//! the interfaces' generated `Call` enums; the kernel's VM queues
//! [`Outgoing`] calls. The acknowledgements (`lock_completed`,
//! `supply_completed`, `change_completed`) go to the send-once `reply_to`
//! right of the request ([`Outgoing::reply`]).

use alloc::vec::Vec;

use hurd_ipc::mig::{DecodeError, Request};
use hurd_ipc::{Disposition, Message, MigReturn, OolItem, PortItem, PortName};
use num_enum::{IntoPrimitive, TryFromPrimitive};

hurd_ipc::interface! {
    /// Kernel → memory manager (`memory_object.defs`, subsystem 2200).
    pub mod memory_object: subsystem 2200 prefix "memory_object_" {
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
        /// The retired `data_write` (id 2205).
        skip data_write();
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
    pub mod memory_object_default: subsystem 2250 prefix "memory_object_" {
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
    /// Manager → kernel, id 2039 of `mach.defs`.
    pub mod control_unavailable: subsystem 2039 prefix "memory_object_" {
        /// No data for the range: zero-fill (or use the shadow object).
        simpleroutine data_unavailable(offset: u64, size: u64);
    }
}

hurd_ipc::interface! {
    /// Manager → kernel, id 2040 of `mach.defs`: the one routine among the
    /// control calls, answered at once (see `Vm::object_attributes`).
    pub mod control_attributes: subsystem 2040 prefix "memory_object_" {
        /// The object's attributes.
        routine get_attributes() -> (ready: bool, may_cache: bool, copy_strategy: u32);
    }
}

hurd_ipc::interface! {
    /// Manager → kernel, id 2044 of `mach.defs`.
    pub mod control_lock: subsystem 2044 prefix "memory_object_" {
        /// For each page: restrict access to `lock_value` (unless
        /// `VM_PROT_NO_CHANGE`), write back per `should_return`, flush if
        /// `should_flush`; then one `lock_completed` to `reply_to` (if not NULL).
        simpleroutine lock_request(offset: u64, size: u64, should_return: u32, should_flush: bool, lock_value: u32, reply_to: PortItem);
    }
}

hurd_ipc::interface! {
    /// Manager → kernel, ids 2090–2095 of `mach.defs`.
    pub mod control: subsystem 2090 prefix "memory_object_" {
        /// The data cannot be provided: the faults waiting for it fail.
        simpleroutine data_error(offset: u64, size: u64, error_value: i32);
        /// The retired `set_attributes` (id 2091).
        skip set_attributes();
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

/// The interfaces of this crate (the memory-object protocol in both
/// directions), for tools that name messages (see [`hurd_ipc::msgids`]).
pub static INTERFACES: &[&hurd_ipc::msgids::Subsystem] = &[
    &memory_object::DESCRIPTION,
    &memory_object_default::DESCRIPTION,
    &control_unavailable::DESCRIPTION,
    &control_attributes::DESCRIPTION,
    &control_lock::DESCRIPTION,
    &control::DESCRIPTION,
];

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

/// A message the kernel sends a memory manager: a call of
/// [`memory_object`] or of [`memory_object_default`].
#[derive(Clone, Debug, PartialEq)]
pub enum KernelCall {
    /// `memory_object.defs`: to a pager's memory object port, or (the
    /// `*_completed` acknowledgements) to a `reply_to` right.
    Object(memory_object::Call),
    /// `memory_object_default.defs`: to the default pager.
    Default(memory_object_default::Call),
}

impl KernelCall {
    /// Decodes a kernel's message to a manager.
    ///
    /// # Errors
    ///
    /// The message back, untouched, with `MIG_BAD_ID` when it is neither
    /// interface's, `MIG_BAD_ARGUMENTS` when its items do not match.
    pub fn decode(msg: Message) -> Result<(KernelCall, Request), DecodeError> {
        let e = match memory_object::Call::decode(msg) {
            Ok((c, r)) => return Ok((KernelCall::Object(c), r)),
            Err(e) if e.code == MigReturn::BadId => e,
            Err(e) => return Err(e),
        };
        memory_object_default::Call::decode(e.message).map(|(c, r)| (KernelCall::Default(c), r))
    }

    /// The call as a message to `dest`, used with `disposition`.
    pub fn encode(self, dest: PortName, disposition: Disposition) -> Message {
        match self {
            KernelCall::Object(c) => c.encode(dest, disposition),
            KernelCall::Default(c) => c.encode(dest, disposition),
        }
    }

    /// The message id.
    pub fn id(&self) -> i32 {
        match self {
            KernelCall::Object(c) => c.id(),
            KernelCall::Default(c) => c.id(),
        }
    }
}

/// A message a memory manager sends the kernel on a control port, for the
/// kernel's VM to act on: a call of [`control_unavailable`],
/// [`control_lock`] or [`control`] (separate interfaces because their ids
/// in `mach.defs` are not contiguous). All are simpleroutines; the one
/// routine, [`control_attributes`]'s `get_attributes`, is answered by the
/// receiver with `Vm::object_attributes`.
#[derive(Clone, Debug, PartialEq)]
pub enum ControlCall {
    /// `data_unavailable` (id 2039).
    Unavailable(control_unavailable::Call),
    /// `lock_request` (id 2044).
    Lock(control_lock::Call),
    /// `data_error`, `destroy`, `data_supply`, `ready`, `change_attributes`
    /// (ids 2090–2095).
    Control(control::Call),
}

impl ControlCall {
    /// Decodes a manager's message on a control port.
    ///
    /// # Errors
    ///
    /// The message back, untouched, with `MIG_BAD_ID` when it is none of the
    /// three interfaces' (`get_attributes` included), `MIG_BAD_ARGUMENTS`
    /// when its items do not match.
    pub fn decode(msg: Message) -> Result<(ControlCall, Request), DecodeError> {
        let e = match control::Call::decode(msg) {
            Ok((c, r)) => return Ok((ControlCall::Control(c), r)),
            Err(e) if e.code == MigReturn::BadId => e,
            Err(e) => return Err(e),
        };
        let e = match control_lock::Call::decode(e.message) {
            Ok((c, r)) => return Ok((ControlCall::Lock(c), r)),
            Err(e) if e.code == MigReturn::BadId => e,
            Err(e) => return Err(e),
        };
        control_unavailable::Call::decode(e.message).map(|(c, r)| (ControlCall::Unavailable(c), r))
    }

    /// The call as a message to `dest` (a control port), used with
    /// `disposition`.
    pub fn encode(self, dest: PortName, disposition: Disposition) -> Message {
        match self {
            ControlCall::Unavailable(c) => c.encode(dest, disposition),
            ControlCall::Lock(c) => c.encode(dest, disposition),
            ControlCall::Control(c) => c.encode(dest, disposition),
        }
    }

    /// The message id.
    pub fn id(&self) -> i32 {
        match self {
            ControlCall::Unavailable(c) => c.id(),
            ControlCall::Lock(c) => c.id(),
            ControlCall::Control(c) => c.id(),
        }
    }

    /// The right the call carries for an acknowledgement (`data_supply`,
    /// `lock_request`, `change_attributes`): a send-once right, or NULL.
    pub fn reply_to(&self) -> PortName {
        match self {
            ControlCall::Control(control::Call::data_supply { reply_to, .. })
            | ControlCall::Control(control::Call::change_attributes { reply_to, .. })
            | ControlCall::Lock(control_lock::Call::lock_request { reply_to, .. }) => reply_to.name,
            _ => PortName::NULL,
        }
    }
}

/// A message the kernel's VM queued, and where it goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// The destination: a pager's memory object port (a send right the
    /// kernel keeps), the default pager's port, or a `reply_to` right.
    pub to: PortName,
    /// How `to` is used: `COPY_SEND` for a pager, `MOVE_SEND` for
    /// `terminate` (the kernel's reference goes with it), `MOVE_SEND_ONCE`
    /// for a reply.
    pub disposition: Disposition,
    /// The call.
    pub call: KernelCall,
}

impl Outgoing {
    /// A call to a pager's memory object port (or the default pager's),
    /// which the kernel keeps.
    pub fn to_pager(to: PortName, call: KernelCall) -> Outgoing {
        Outgoing {
            to,
            disposition: Disposition::CopySend,
            call,
        }
    }

    /// An acknowledgement to a `reply_to` send-once right, which it uses up.
    pub fn reply(to: PortName, call: memory_object::Call) -> Outgoing {
        Outgoing {
            to,
            disposition: Disposition::MoveSendOnce,
            call: KernelCall::Object(call),
        }
    }

    /// Whether `to` is a send-once right (a reply).
    pub fn is_reply(&self) -> bool {
        self.disposition == Disposition::MoveSendOnce
    }

    /// The Mach message.
    pub fn into_message(self) -> Message {
        self.call.encode(self.to, self.disposition)
    }
}

/// The control port as the kernel's calls carry it: a send right made from
/// the kernel's receive right.
pub fn control_item(control: PortName) -> PortItem {
    PortItem {
        disposition: Disposition::MakeSend,
        name: control,
    }
}

/// A port argument the kernel leaves empty (the name port, which this
/// kernel does not implement).
pub fn null_item() -> PortItem {
    PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    }
}

/// Page data as the calls carry it: out of line, the sender's copy
/// deallocated.
pub fn page_data(data: Vec<u8>) -> OolItem {
    OolItem {
        data,
        deallocate: true,
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
        assert_eq!(control_attributes::id::get_attributes, 2040);
        assert_eq!(control_lock::id::lock_request, 2044);
        assert_eq!(control::id::data_error, 2090);
        assert_eq!(control::id::destroy, 2092);
        assert_eq!(control::id::data_supply, 2093);
        assert_eq!(control::id::ready, 2094);
        assert_eq!(control::id::change_attributes, 2095);
    }

    #[test]
    fn create_moves_the_receive_right() {
        let m = Outgoing::to_pager(
            PortName(5),
            KernelCall::Default(memory_object_default::Call::create {
                new_memory_object: PortItem {
                    disposition: Disposition::MoveReceive,
                    name: PortName(9),
                },
                new_object_size: 2 * crate::PAGE_SIZE,
                new_control: control_item(PortName(7)),
                new_name: null_item(),
                new_page_size: crate::PAGE_SIZE,
            }),
        )
        .into_message();
        assert_eq!(m.header.id, memory_object_default::id::create);
        assert_eq!(m.header.bits.remote(), Some(Disposition::CopySend));
        let (call, _) = KernelCall::decode(m).expect("decodes");
        let KernelCall::Default(memory_object_default::Call::create {
            new_memory_object, ..
        }) = call
        else {
            panic!("{call:?}");
        };
        assert_eq!(new_memory_object.disposition, Disposition::MoveReceive);
    }

    #[test]
    fn control_calls_decode_across_the_three_interfaces() {
        let calls = [
            ControlCall::Unavailable(control_unavailable::Call::data_unavailable {
                offset: 0,
                size: 4096,
            }),
            ControlCall::Lock(control_lock::Call::lock_request {
                offset: 0,
                size: 4096,
                should_return: 1,
                should_flush: false,
                lock_value: 0,
                reply_to: PortItem {
                    disposition: Disposition::MoveSendOnce,
                    name: PortName(3),
                },
            }),
            ControlCall::Control(control::Call::ready {
                may_cache: true,
                copy_strategy: 2,
            }),
        ];
        for call in calls {
            let m = call.clone().encode(PortName(7), Disposition::CopySend);
            assert_eq!(m.header.id, call.id());
            assert_eq!(ControlCall::decode(m).expect("decodes").0, call);
        }
        // memory_object's data_write (2205) and set_attributes (2091) are
        // withdrawn: no routine, MIG_BAD_ID.
        for id in [2040, 2091, 2205, 2041] {
            let m = Message::new(id, PortName(7), Disposition::CopySend);
            assert_eq!(
                ControlCall::decode(m.clone())
                    .map(|c| c.0)
                    .expect_err("withdrawn")
                    .code,
                MigReturn::BadId
            );
            assert_eq!(
                KernelCall::decode(m).expect_err("withdrawn").code,
                MigReturn::BadId
            );
        }
    }

    #[test]
    fn constants() {
        assert_eq!(u32::from(CopyStrategy::Temporary), 3);
        assert_eq!(ReturnPolicy::try_from(2), Ok(ReturnPolicy::All));
        assert!(ReturnPolicy::try_from(3).is_err());
    }

    #[test]
    fn a_reply_uses_up_its_send_once_right() {
        let out = Outgoing::reply(
            PortName(5),
            memory_object::Call::lock_completed {
                control: control_item(PortName(7)),
                offset: 0,
                length: 4096,
            },
        );
        assert!(out.is_reply());
        let m = out.into_message();
        assert_eq!(m.header.bits.remote(), Some(Disposition::MoveSendOnce));
        assert_eq!(m.header.id, memory_object::id::lock_completed);
    }
}
