//! IPC spaces: the table from a task's names to the rights it holds.

use hashbrown::HashMap;

use crate::arena::Slot;
use crate::kmsg::PortRef;
use crate::port_set::PsetRef;
use crate::{PortName, PortType};

/// Identifies an IPC space inside an [`IpcKernel`](crate::IpcKernel).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct SpaceId(pub(crate) Slot);

#[cfg(feature = "defmt")]
impl defmt::Format for SpaceId {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "SpaceId({=u32}.{=u32})", self.0.index, self.0.generation)
    }
}

/// What a name refers to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Object {
    Port(PortRef),
    PortSet(PsetRef),
    /// A dead name: nothing behind it any more.
    None,
}

/// One name's rights (`struct ipc_entry`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Entry {
    pub(crate) object: Object,
    /// Rights held under the name (exactly the `PortType` right bits), plus `DNREQUEST`.
    pub(crate) bits: PortType,
    /// User references of the send right or of the dead name; 1 for send-once.
    pub(crate) urefs: u16,
}

impl Entry {
    pub(crate) fn port(&self) -> Option<PortRef> {
        match self.object {
            Object::Port(p) => Some(p),
            _ => None,
        }
    }

    pub(crate) fn rights(&self) -> PortType {
        self.bits.difference(PortType::DNREQUEST)
    }
}

/// A task's IPC space (`struct ipc_space`).
pub(crate) struct Space {
    pub(crate) entries: HashMap<PortName, Entry>,
    /// The name under which the space holds send and/or receive rights for a port.
    pub(crate) by_port: HashMap<PortRef, PortName>,
    next_name: u32,
}

impl Space {
    pub(crate) fn new() -> Space {
        Space {
            entries: HashMap::new(),
            by_port: HashMap::new(),
            next_name: 1,
        }
    }

    /// A fresh name: never NULL or DEAD, never one in use; names are handed out in
    /// increasing order so a just-freed name is not reused at once.
    pub(crate) fn alloc_name(&mut self) -> PortName {
        loop {
            let n = PortName(self.next_name);
            self.next_name = self.next_name.wrapping_add(1);
            if n.is_valid() && !self.entries.contains_key(&n) {
                return n;
            }
        }
    }

    /// Stores `entry` under a fresh name (see [`Space::alloc_name`]) and returns
    /// the name, with one probe of the table per candidate name.
    pub(crate) fn insert_fresh(&mut self, entry: Entry) -> PortName {
        loop {
            let n = PortName(self.next_name);
            self.next_name = self.next_name.wrapping_add(1);
            if !n.is_valid() {
                continue;
            }
            if let hashbrown::hash_map::Entry::Vacant(v) = self.entries.entry(n) {
                v.insert(entry);
                return n;
            }
        }
    }

    pub(crate) fn get(&self, name: PortName) -> Option<&Entry> {
        self.entries.get(&name)
    }

    pub(crate) fn get_mut(&mut self, name: PortName) -> Option<&mut Entry> {
        self.entries.get_mut(&name)
    }
}
