//! Port names: how a task refers to a right in its own IPC space.

use core::fmt;

/// The name of a right in one IPC space (`mach_port_name_t`).
///
/// A name means nothing outside the space it belongs to: the same port usually
/// has different names in different spaces. Two names are reserved:
/// [`PortName::NULL`] (no port) and [`PortName::DEAD`] (a port that died), and both
/// may stand in a message wherever a right is expected.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct PortName(pub u32);

impl PortName {
    /// `MACH_PORT_NULL`: no port at all.
    pub const NULL: PortName = PortName(0);
    /// `MACH_PORT_DEAD`: a port that no longer exists.
    pub const DEAD: PortName = PortName(!0);

    /// Whether this is a real name: neither [`NULL`](Self::NULL) nor [`DEAD`](Self::DEAD)
    /// (`MACH_PORT_VALID`).
    #[inline]
    pub const fn is_valid(self) -> bool {
        self.0 != 0 && self.0 != !0
    }

    /// Whether this is [`PortName::NULL`].
    #[inline]
    pub const fn is_null(self) -> bool {
        self.0 == 0
    }

    /// Whether this is [`PortName::DEAD`].
    #[inline]
    pub const fn is_dead(self) -> bool {
        self.0 == !0
    }
}

impl fmt::Debug for PortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PortName::NULL => f.write_str("PortName(NULL)"),
            PortName::DEAD => f.write_str("PortName(DEAD)"),
            PortName(n) => write!(f, "PortName({n:#x})"),
        }
    }
}

impl fmt::Display for PortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PortName::NULL => f.write_str("NULL"),
            PortName::DEAD => f.write_str("DEAD"),
            PortName(n) => write!(f, "{n:#x}"),
        }
    }
}

/// The identity of a port independent of any space: stable for the port's life,
/// never reused, and unique across nodes.
///
/// The top 16 bits name the node (the IPC kernel instance) that created the port,
/// the low 48 bits count ports created there. A rendezvous port reached through two
/// different paths has one `PortId`, which is what the auth handshake and netmsg need.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortId(pub u64);

impl PortId {
    /// Builds an id from a node number and a per-node serial.
    pub const fn new(node: u16, serial: u64) -> PortId {
        PortId(((node as u64) << 48) | (serial & 0x0000_ffff_ffff_ffff))
    }

    /// The node that created the port.
    pub const fn node(self) -> u16 {
        (self.0 >> 48) as u16
    }

    /// The per-node serial number.
    pub const fn serial(self) -> u64 {
        self.0 & 0x0000_ffff_ffff_ffff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names() {
        assert!(!PortName::NULL.is_valid());
        assert!(!PortName::DEAD.is_valid());
        assert!(PortName(5).is_valid());
        assert_eq!(PortName::DEAD.0, u32::MAX);
    }

    #[test]
    fn port_id_parts() {
        let id = PortId::new(7, 0x1234_5678_9abc);
        assert_eq!(id.node(), 7);
        assert_eq!(id.serial(), 0x1234_5678_9abc);
    }
}
