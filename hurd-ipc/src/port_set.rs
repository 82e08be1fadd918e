//! Port sets: receive rights received on together.

use alloc::collections::{BTreeSet, VecDeque};

use crate::arena::Slot;
use crate::kmsg::PortRef;
use crate::port::WaiterToken;

/// A reference to a port set inside an [`IpcKernel`](crate::IpcKernel).
pub(crate) type PsetRef = Slot;

/// A port set (`struct ipc_pset`).
///
/// Like GNU Mach's set, whose members' messages queue on the set, a
/// receive takes the next message without looking at every member: the
/// set keeps the members that have messages in the order they got them
/// ([`PortSet::ready`]), and a member served goes to the back while it has
/// more, so none starves.
pub(crate) struct PortSet {
    pub(crate) members: BTreeSet<PortRef>,
    /// Members that had no messages and got one, in that order; an entry
    /// may be stale (the port left the set, or its queue was emptied):
    /// receivers skip those.
    pub(crate) ready: VecDeque<PortRef>,
    pub(crate) recv_waiters: VecDeque<WaiterToken>,
}

impl PortSet {
    pub(crate) fn new() -> PortSet {
        PortSet {
            members: BTreeSet::new(),
            ready: VecDeque::new(),
            recv_waiters: VecDeque::new(),
        }
    }

    pub(crate) fn remove(&mut self, port: PortRef) {
        self.members.remove(&port);
    }
}
