//! Protections (`vm_prot_t`) with Mach's values.

bitflags::bitflags! {
    /// `vm_prot_t`: a set of access permissions. As a *lock value* sent by a
    /// pager it is the set of accesses **withheld**.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
    pub struct VmProt: u32 {
        /// `VM_PROT_READ`.
        const READ = 1;
        /// `VM_PROT_WRITE`.
        const WRITE = 2;
        /// `VM_PROT_EXECUTE`.
        const EXECUTE = 4;
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for VmProt {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "VmProt({=u32:#x})", self.bits())
    }
}

impl VmProt {
    /// `VM_PROT_NONE`.
    pub const NONE: VmProt = VmProt::empty();
    /// `VM_PROT_DEFAULT`: read and write.
    pub const DEFAULT: VmProt = VmProt::READ.union(VmProt::WRITE);
    /// `VM_PROT_ALL`: read, write and execute.
    pub const ALL: VmProt = VmProt::READ.union(VmProt::WRITE).union(VmProt::EXECUTE);

    /// Decodes a protection from the wire, refusing unknown bits.
    pub fn from_wire(bits: u32) -> Option<VmProt> {
        VmProt::from_bits(bits)
    }
}

/// `VM_PROT_NO_CHANGE`: as a lock value in `memory_object_lock_request`, leave
/// the lock as it is.
pub const VM_PROT_NO_CHANGE: u32 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mach_values() {
        assert_eq!(VmProt::READ.bits(), 1);
        assert_eq!(VmProt::WRITE.bits(), 2);
        assert_eq!(VmProt::EXECUTE.bits(), 4);
        assert_eq!(VmProt::ALL.bits(), 7);
        assert_eq!(VmProt::DEFAULT.bits(), 3);
        assert_eq!(VmProt::from_wire(VM_PROT_NO_CHANGE), None);
    }
}
