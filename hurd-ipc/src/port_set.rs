//! Port sets: receive rights received on together.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::arena::Slot;
use crate::kmsg::PortRef;
use crate::port::WaiterToken;

/// A reference to a port set inside an [`IpcKernel`](crate::IpcKernel).
pub(crate) type PsetRef = Slot;

/// A port set (`struct ipc_pset`).
pub(crate) struct PortSet {
    pub(crate) members: Vec<PortRef>,
    /// Where the next receive starts looking, so no member starves.
    pub(crate) cursor: usize,
    pub(crate) recv_waiters: VecDeque<WaiterToken>,
}

impl PortSet {
    pub(crate) fn new() -> PortSet {
        PortSet {
            members: Vec::new(),
            cursor: 0,
            recv_waiters: VecDeque::new(),
        }
    }

    pub(crate) fn remove(&mut self, port: PortRef) {
        if let Some(i) = self.members.iter().position(|&m| m == port) {
            self.members.remove(i);
            if self.cursor > i {
                self.cursor -= 1;
            }
        }
    }
}
