//! Rights as values: each owns what it names in the task's space and gives it
//! back when dropped.
//!
//! A Mach right is a name in an IPC space with user references; a program that
//! holds it must release it exactly once (`mach_port_deallocate`,
//! `mach_port_mod_refs(.., -1)`) or it leaks, and must not release it twice or
//! it takes away a reference someone else counts on. The types here make the
//! owner a value:
//!
//! | type | owns | dropped with |
//! |---|---|---|
//! | [`SendRight`] | one user reference of a send right (or of the dead name it became) | `mach_port_deallocate` |
//! | [`SendOnceRight`] | a send-once right (or the dead name it became) | `mach_port_deallocate` (the port gets a send-once notification) |
//! | [`ReceiveRight`] | a receive right | `mach_port_mod_refs(RECEIVE, -1)` (the port dies) |
//! | [`PortSet`] | a port set | `mach_port_mod_refs(PORT_SET, -1)` (its members leave it) |
//!
//! [`Right`] is any of the first three, as a received message item says: how
//! a server takes the rights out of a request and keeps only those it wants.
//!
//! Each holds the [`UserIpc`] it calls through, by value: one right type works
//! with any way of reaching the kernel, because [`UserIpc`] is implemented for
//! `&T` and `Arc<T>` whenever it is for `T`.
//!
//! - Hosted, `hosted::Task` is a cheap handle (an `Arc` inside), so rights hold
//!   a `Task` of their own: `SendRight<Task>`.
//! - A program's process-wide IPC value can be shared as `&'static` (a
//!   `static`), as an `Arc`, or be a cheap `Clone` handle itself: any of
//!   `SendRight<&'static K>`, `SendRight<Arc<K>>`, `SendRight<K>` then works.
//! - Short-lived rights can borrow: `SendRight<&'a T>`.
//!
//! Holding the IPC value (rather than being handed it at release time) is what
//! lets `Drop` release the right on every path, `?` included. The price is a
//! word or two per right, which is small next to the kernel entry a release
//! costs.
//!
//! Names: [`PortName::NULL`] and [`PortName::DEAD`] may be wrapped; they own
//! nothing and dropping them does nothing. When a port dies, the send and
//! send-once rights to it become dead names under the same name, and the
//! values keep owning their reference: dropping them releases the dead name
//! (Mach's `mach_port_deallocate` takes either).
//!
//! Moving a right into a message ([`SendRight::into_item`] and friends) hands
//! the reference to the message: if the send then fails without handing the
//! message back, Mach leaves the right in the space, and the sender releases it
//! with [`UserIpc::destroy_message`] on what the error returns, as for any
//! message.
//!
//! ```
//! use hurd_ipc::hosted::Runtime;
//! use hurd_ipc::user::{ReceiveRight, SendRight};
//! use hurd_ipc::{RightType, UserIpc};
//!
//! let rt = Runtime::new();
//! let task = rt.task();
//! let port = ReceiveRight::allocate(task.clone()).unwrap();
//! let send = port.make_send().unwrap();
//! let other = send.try_clone().unwrap();
//! assert_eq!(task.port_get_refs(port.name(), RightType::Send), Ok(2));
//! task.send(send.message(1)).unwrap();
//! drop(other);
//! drop(send);
//! assert_eq!(task.port_get_refs(port.name(), RightType::Send), Ok(0));
//! drop(port);
//! assert!(task.port_names().unwrap().is_empty());
//! ```

use core::fmt;

use crate::{Disposition, KernReturn, Message, PortItem, PortName, PortStatus, RightType, UserIpc};

/// Takes the name out of an owner, leaving NULL so that its `Drop` does nothing.
fn take(name: &mut PortName) -> PortName {
    core::mem::replace(name, PortName::NULL)
}

/// One user reference of a send right, released (`mach_port_deallocate`) when
/// dropped.
///
/// Made by [`ReceiveRight::make_send`], [`SendRight::try_clone`], or
/// [`SendRight::from_raw`] for a reference the task already holds (one
/// received in a message, say).
pub struct SendRight<I: UserIpc> {
    ipc: I,
    name: PortName,
}

impl<I: UserIpc> SendRight<I> {
    /// Takes ownership of one user reference of the send right `name` in
    /// `ipc`'s space: from now on the value releases it. NULL and DEAD are
    /// accepted and own nothing.
    pub fn from_raw(ipc: I, name: PortName) -> Self {
        SendRight { ipc, name }
    }

    /// Gives up ownership without releasing anything and returns the name: the
    /// caller now owns the reference.
    pub fn into_raw(mut self) -> PortName {
        take(&mut self.name)
    }

    /// The right's name in the task's space.
    pub fn name(&self) -> PortName {
        self.name
    }

    /// The IPC the right is released through.
    pub fn ipc(&self) -> &I {
        &self.ipc
    }

    /// Whether the value names a right (neither NULL nor DEAD).
    pub fn is_valid(&self) -> bool {
        self.name.is_valid()
    }

    /// Another reference to the same right (`mach_port_mod_refs(SEND, +1)`).
    /// If the port has died, the new value is another reference to the dead
    /// name. NULL and DEAD clone to themselves.
    ///
    /// # Errors
    ///
    /// `KERN_UREFS_OVERFLOW` when the name already has 65535 references;
    /// `KERN_INVALID_NAME` or `KERN_INVALID_RIGHT` if the name no longer holds
    /// a send right or dead name (someone released a reference this value
    /// owned).
    pub fn try_clone(&self) -> Result<Self, KernReturn>
    where
        I: Clone,
    {
        if self.name.is_valid() {
            add_send_ref(&self.ipc, self.name)?;
        }
        Ok(SendRight::from_raw(self.ipc.clone(), self.name))
    }

    /// The right as a message item that moves this reference to the receiver
    /// (`MACH_MSG_TYPE_MOVE_SEND`).
    pub fn into_item(self) -> PortItem {
        PortItem {
            disposition: Disposition::MoveSend,
            name: self.into_raw(),
        }
    }

    /// A message item that gives the receiver a copy of the right and leaves
    /// this one held (`MACH_MSG_TYPE_COPY_SEND`). The item borrows nothing: it
    /// names the right, which must still be held when the message is sent.
    pub fn copy_item(&self) -> PortItem {
        PortItem {
            disposition: Disposition::CopySend,
            name: self.name,
        }
    }

    /// An item that moves this reference (`MACH_MSG_TYPE_MOVE_SEND`) for an
    /// RPC argument, while the value goes on owning it until
    /// [`SendRight::settle`] says how the call went: a request that was never
    /// sent leaves the right with the sender, as Mach does.
    pub fn move_item(&self) -> PortItem {
        PortItem {
            disposition: Disposition::MoveSend,
            name: self.name,
        }
    }

    /// Settles a reference given to a call with [`SendRight::move_item`]:
    /// when the request could not be sent (a `MACH_SEND_*` error) the right
    /// is still the task's and is released now; otherwise the message took
    /// it and nothing is released.
    pub fn settle<T>(mut self, result: &Result<T, crate::Error>) {
        let unsent = matches!(result, Err(crate::Error::Msg(code)) if code.is_send_error());
        if !unsent {
            take(&mut self.name);
        }
    }

    /// A message to this port with id `id`, sent through a copy of the right
    /// (`MACH_MSG_TYPE_COPY_SEND`): the right stays held.
    pub fn message(&self, id: i32) -> Message {
        Message::new(id, self.name, Disposition::CopySend)
    }

    /// A message to this port with id `id` that moves this reference
    /// (`MACH_MSG_TYPE_MOVE_SEND`): the receiver cannot tell, but the sender
    /// no longer holds it once the message is sent.
    pub fn into_message(self, id: i32) -> Message {
        Message::new(id, self.into_raw(), Disposition::MoveSend)
    }

    /// Releases the reference now, reporting what the kernel said.
    ///
    /// # Errors
    ///
    /// What `mach_port_deallocate` returns: `KERN_INVALID_NAME` or
    /// `KERN_INVALID_RIGHT` if the reference was already gone.
    pub fn release(mut self) -> Result<(), KernReturn> {
        let name = take(&mut self.name);
        if name.is_valid() {
            self.ipc.port_deallocate(name)
        } else {
            Ok(())
        }
    }
}

impl<I: UserIpc> Drop for SendRight<I> {
    fn drop(&mut self) {
        if self.name.is_valid() {
            // Nothing to do about a failure here: the reference is gone either way.
            let _ = self.ipc.port_deallocate(self.name);
        }
    }
}

impl<I: UserIpc> fmt::Debug for SendRight<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SendRight").field(&self.name).finish()
    }
}

/// Adds a user reference to the send right or dead name `name`.
fn add_send_ref<I: UserIpc + ?Sized>(ipc: &I, name: PortName) -> Result<(), KernReturn> {
    match ipc.port_mod_refs(name, RightType::Send, 1) {
        // The port died: the name is a dead name now, with our references.
        Err(KernReturn::InvalidRight) => ipc.port_mod_refs(name, RightType::DeadName, 1),
        r => r,
    }
}

/// A send-once right, released (`mach_port_deallocate`, which sends the port
/// a send-once notification) when dropped.
///
/// Each send-once right has a name of its own, so there is nothing to clone:
/// the right is used once, by moving it into a message ([`into_item`], or as
/// the destination of a reply with [`into_message`]).
///
/// [`into_item`]: SendOnceRight::into_item
/// [`into_message`]: SendOnceRight::into_message
pub struct SendOnceRight<I: UserIpc> {
    ipc: I,
    name: PortName,
}

impl<I: UserIpc> SendOnceRight<I> {
    /// Takes ownership of the send-once right `name` in `ipc`'s space (a
    /// request's reply port, say). NULL and DEAD are accepted and own nothing.
    pub fn from_raw(ipc: I, name: PortName) -> Self {
        SendOnceRight { ipc, name }
    }

    /// Gives up ownership without releasing anything and returns the name.
    pub fn into_raw(mut self) -> PortName {
        take(&mut self.name)
    }

    /// The right's name in the task's space.
    pub fn name(&self) -> PortName {
        self.name
    }

    /// The IPC the right is released through.
    pub fn ipc(&self) -> &I {
        &self.ipc
    }

    /// Whether the value names a right (neither NULL nor DEAD).
    pub fn is_valid(&self) -> bool {
        self.name.is_valid()
    }

    /// The right as a message item that moves it to the receiver
    /// (`MACH_MSG_TYPE_MOVE_SEND_ONCE`).
    pub fn into_item(self) -> PortItem {
        PortItem {
            disposition: Disposition::MoveSendOnce,
            name: self.into_raw(),
        }
    }

    /// A message to this port with id `id` that uses the right up
    /// (`MACH_MSG_TYPE_MOVE_SEND_ONCE`), as a reply does.
    pub fn into_message(self, id: i32) -> Message {
        Message::new(id, self.into_raw(), Disposition::MoveSendOnce)
    }

    /// Releases the right now, reporting what the kernel said.
    ///
    /// # Errors
    ///
    /// What `mach_port_deallocate` returns: `KERN_INVALID_NAME` or
    /// `KERN_INVALID_RIGHT` if the right was already gone.
    pub fn release(mut self) -> Result<(), KernReturn> {
        let name = take(&mut self.name);
        if name.is_valid() {
            self.ipc.port_deallocate(name)
        } else {
            Ok(())
        }
    }
}

impl<I: UserIpc> Drop for SendOnceRight<I> {
    fn drop(&mut self) {
        if self.name.is_valid() {
            let _ = self.ipc.port_deallocate(self.name);
        }
    }
}

impl<I: UserIpc> fmt::Debug for SendOnceRight<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SendOnceRight").field(&self.name).finish()
    }
}

/// A receive right, destroyed (`mach_port_mod_refs(RECEIVE, -1)`) when
/// dropped: the port dies, its queued messages are destroyed, senders get
/// dead names.
///
/// Send rights the task holds under the same name are not this value's: they
/// are [`SendRight`]s of their own, which become dead names when the port dies
/// and are still released by their owners.
pub struct ReceiveRight<I: UserIpc> {
    ipc: I,
    name: PortName,
}

impl<I: UserIpc> ReceiveRight<I> {
    /// A new port, with its receive right in `ipc`'s space
    /// (`mach_port_allocate(RECEIVE)`).
    ///
    /// # Errors
    ///
    /// What `mach_port_allocate` returns: `KERN_NO_SPACE` when the space has
    /// no free name, `KERN_RESOURCE_SHORTAGE`, `KERN_INVALID_TASK`.
    pub fn allocate(ipc: I) -> Result<Self, KernReturn> {
        let name = ipc.port_allocate(RightType::Receive)?;
        Ok(ReceiveRight { ipc, name })
    }

    /// Takes ownership of the receive right `name` in `ipc`'s space. NULL and
    /// DEAD are accepted and own nothing.
    pub fn from_raw(ipc: I, name: PortName) -> Self {
        ReceiveRight { ipc, name }
    }

    /// Gives up ownership without destroying the port and returns the name.
    pub fn into_raw(mut self) -> PortName {
        take(&mut self.name)
    }

    /// The right's name in the task's space.
    pub fn name(&self) -> PortName {
        self.name
    }

    /// The IPC the right is released through.
    pub fn ipc(&self) -> &I {
        &self.ipc
    }

    /// Whether the value names a right (neither NULL nor DEAD).
    pub fn is_valid(&self) -> bool {
        self.name.is_valid()
    }

    /// Makes a send right to the port under the same name
    /// (`mach_port_insert_right(name, name, MAKE_SEND)`): one more user
    /// reference, owned by the result. Each make counts in the port's
    /// make-send count.
    ///
    /// # Errors
    ///
    /// `KERN_UREFS_OVERFLOW` when the name already has 65535 send references;
    /// `KERN_INVALID_NAME` or `KERN_INVALID_RIGHT` if the receive right is no
    /// longer there.
    pub fn make_send(&self) -> Result<SendRight<I>, KernReturn>
    where
        I: Clone,
    {
        self.ipc
            .port_insert_right(self.name, self.name, Disposition::MakeSend)?;
        Ok(SendRight::from_raw(self.ipc.clone(), self.name))
    }

    /// A message item that gives the receiver a new send right to the port
    /// (`MACH_MSG_TYPE_MAKE_SEND`); this right stays held.
    pub fn make_send_item(&self) -> PortItem {
        PortItem {
            disposition: Disposition::MakeSend,
            name: self.name,
        }
    }

    /// A message item that gives the receiver a new send-once right to the
    /// port (`MACH_MSG_TYPE_MAKE_SEND_ONCE`), as a request's reply port does;
    /// this right stays held.
    pub fn make_send_once_item(&self) -> PortItem {
        PortItem {
            disposition: Disposition::MakeSendOnce,
            name: self.name,
        }
    }

    /// The right as a message item that moves it to the receiver
    /// (`MACH_MSG_TYPE_MOVE_RECEIVE`).
    pub fn into_item(self) -> PortItem {
        PortItem {
            disposition: Disposition::MoveReceive,
            name: self.into_raw(),
        }
    }

    /// `mach_port_get_receive_status`.
    ///
    /// # Errors
    ///
    /// What the call returns: `KERN_INVALID_NAME`, `KERN_INVALID_RIGHT`.
    pub fn status(&self) -> Result<PortStatus, KernReturn> {
        self.ipc.port_get_receive_status(self.name)
    }

    /// Destroys the port now, reporting what the kernel said.
    ///
    /// # Errors
    ///
    /// What `mach_port_mod_refs` returns: `KERN_INVALID_NAME` or
    /// `KERN_INVALID_RIGHT` if the right was already gone.
    pub fn release(mut self) -> Result<(), KernReturn> {
        let name = take(&mut self.name);
        if name.is_valid() {
            self.ipc.port_mod_refs(name, RightType::Receive, -1)
        } else {
            Ok(())
        }
    }
}

impl<I: UserIpc> Drop for ReceiveRight<I> {
    fn drop(&mut self) {
        if self.name.is_valid() {
            let _ = self.ipc.port_mod_refs(self.name, RightType::Receive, -1);
        }
    }
}

impl<I: UserIpc> fmt::Debug for ReceiveRight<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReceiveRight").field(&self.name).finish()
    }
}

/// A port set, destroyed (`mach_port_mod_refs(PORT_SET, -1)`) when dropped;
/// its members leave it and live on.
pub struct PortSet<I: UserIpc> {
    ipc: I,
    name: PortName,
}

impl<I: UserIpc> PortSet<I> {
    /// A new, empty port set (`mach_port_allocate(PORT_SET)`).
    ///
    /// # Errors
    ///
    /// What `mach_port_allocate` returns: `KERN_NO_SPACE`,
    /// `KERN_RESOURCE_SHORTAGE`, `KERN_INVALID_TASK`.
    pub fn allocate(ipc: I) -> Result<Self, KernReturn> {
        let name = ipc.port_allocate(RightType::PortSet)?;
        Ok(PortSet { ipc, name })
    }

    /// Takes ownership of the port set `name` in `ipc`'s space. NULL and DEAD
    /// are accepted and own nothing.
    pub fn from_raw(ipc: I, name: PortName) -> Self {
        PortSet { ipc, name }
    }

    /// Gives up ownership without destroying the set and returns the name.
    pub fn into_raw(mut self) -> PortName {
        take(&mut self.name)
    }

    /// The set's name in the task's space.
    pub fn name(&self) -> PortName {
        self.name
    }

    /// The IPC the set is released through.
    pub fn ipc(&self) -> &I {
        &self.ipc
    }

    /// Moves the receive right `member` into this set
    /// (`mach_port_move_member`), out of any set it was in.
    ///
    /// # Errors
    ///
    /// What `mach_port_move_member` returns: `KERN_INVALID_NAME`,
    /// `KERN_INVALID_RIGHT` when `member` is not a receive right of this space.
    pub fn insert(&self, member: PortName) -> Result<(), KernReturn> {
        self.ipc.port_move_member(member, self.name)
    }

    /// Takes the receive right `member` out of whatever set holds it
    /// (`mach_port_move_member(member, MACH_PORT_NULL)`).
    ///
    /// # Errors
    ///
    /// `KERN_NOT_IN_SET` when it is in none; `KERN_INVALID_NAME`,
    /// `KERN_INVALID_RIGHT` when `member` is not a receive right.
    pub fn remove(&self, member: PortName) -> Result<(), KernReturn> {
        self.ipc.port_move_member(member, PortName::NULL)
    }

    /// Destroys the set now, reporting what the kernel said.
    ///
    /// # Errors
    ///
    /// What `mach_port_mod_refs` returns: `KERN_INVALID_NAME` or
    /// `KERN_INVALID_RIGHT` if the set was already gone.
    pub fn release(mut self) -> Result<(), KernReturn> {
        let name = take(&mut self.name);
        if name.is_valid() {
            self.ipc.port_mod_refs(name, RightType::PortSet, -1)
        } else {
            Ok(())
        }
    }
}

impl<I: UserIpc> Drop for PortSet<I> {
    fn drop(&mut self) {
        if self.name.is_valid() {
            let _ = self.ipc.port_mod_refs(self.name, RightType::PortSet, -1);
        }
    }
}

impl<I: UserIpc> fmt::Debug for PortSet<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PortSet").field(&self.name).finish()
    }
}

/// A right a received message carried, owned as what the item says it is
/// (a received item's disposition is `PORT_SEND`, `PORT_SEND_ONCE` or
/// `PORT_RECEIVE`): dropping it releases it the way its kind needs.
///
/// This is how a server takes the rights out of a request: it keeps those it
/// wants (`into_send`, or matching on the variant) and every other one is
/// released when the value goes out of scope.
pub enum Right<I: UserIpc> {
    /// A send right (`MACH_MSG_TYPE_PORT_SEND`).
    Send(SendRight<I>),
    /// A send-once right (`MACH_MSG_TYPE_PORT_SEND_ONCE`).
    SendOnce(SendOnceRight<I>),
    /// A receive right (`MACH_MSG_TYPE_PORT_RECEIVE`).
    Receive(ReceiveRight<I>),
}

impl<I: UserIpc> Right<I> {
    /// Takes ownership of the right a received item carries. An item naming
    /// NULL or DEAD gives a value that owns nothing.
    pub fn received(ipc: I, item: PortItem) -> Self {
        match item.disposition.received() {
            Disposition::PORT_RECEIVE => Right::Receive(ReceiveRight::from_raw(ipc, item.name)),
            Disposition::PORT_SEND_ONCE => Right::SendOnce(SendOnceRight::from_raw(ipc, item.name)),
            _ => Right::Send(SendRight::from_raw(ipc, item.name)),
        }
    }

    /// The right's name in the task's space.
    pub fn name(&self) -> PortName {
        match self {
            Right::Send(r) => r.name(),
            Right::SendOnce(r) => r.name(),
            Right::Receive(r) => r.name(),
        }
    }

    /// Gives up ownership without releasing anything and returns the name.
    pub fn into_raw(self) -> PortName {
        match self {
            Right::Send(r) => r.into_raw(),
            Right::SendOnce(r) => r.into_raw(),
            Right::Receive(r) => r.into_raw(),
        }
    }

    /// The send right, if that is what this is; any other right is released.
    pub fn into_send(self) -> Option<SendRight<I>> {
        match self {
            Right::Send(r) => Some(r),
            _ => None,
        }
    }

    /// The send-once right, if that is what this is; any other right is
    /// released.
    pub fn into_send_once(self) -> Option<SendOnceRight<I>> {
        match self {
            Right::SendOnce(r) => Some(r),
            _ => None,
        }
    }

    /// The receive right, if that is what this is; any other right is
    /// released.
    pub fn into_receive(self) -> Option<ReceiveRight<I>> {
        match self {
            Right::Receive(r) => Some(r),
            _ => None,
        }
    }
}

impl<I: UserIpc> fmt::Debug for Right<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Right::Send(r) => r.fmt(f),
            Right::SendOnce(r) => r.fmt(f),
            Right::Receive(r) => r.fmt(f),
        }
    }
}
