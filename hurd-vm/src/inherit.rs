//! Inheritance (`vm_inherit_t`): what a child gets of a region at fork.

use num_enum::{IntoPrimitive, TryFromPrimitive};

/// `vm_inherit_t`, with Mach's values.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum VmInherit {
    /// `VM_INHERIT_SHARE`: parent and child share the memory.
    Share = 0,
    /// `VM_INHERIT_COPY`: the child gets a copy (copy-on-write).
    #[default]
    Copy = 1,
    /// `VM_INHERIT_NONE`: the child gets nothing there.
    None = 2,
}
