//! IPC spaces: the table from a task's names to the rights it holds.

use hashbrown::HashMap;

use crate::arena::Slot;
use crate::kmsg::PortRef;
use crate::name_table::NameTable;
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
    pub(crate) entries: NameTable,
    /// The name under which the space holds send and/or receive rights for a port.
    pub(crate) by_port: HashMap<PortRef, PortName>,
}

impl Space {
    pub(crate) fn new() -> Space {
        Space {
            entries: NameTable::new(),
            by_port: HashMap::new(),
        }
    }

    /// A fresh name: never NULL or DEAD, never one in use, and not a name
    /// just freed (see [`NameTable`]). Inserting under it takes it.
    pub(crate) fn alloc_name(&mut self) -> PortName {
        self.entries.next_name()
    }

    /// Stores `entry` under a fresh name (see [`Space::alloc_name`]) and
    /// returns the name.
    #[inline]
    pub(crate) fn insert_fresh(&mut self, entry: Entry) -> PortName {
        self.entries.insert_fresh(entry)
    }

    #[inline]
    pub(crate) fn get(&self, name: PortName) -> Option<&Entry> {
        self.entries.get(name)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, name: PortName) -> Option<&mut Entry> {
        self.entries.get_mut(name)
    }
}
