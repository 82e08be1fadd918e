//! Messages as a task sees them: a header and typed body items naming rights in
//! the task's own space.
//!
//! Sending turns a [`Message`] into an in-transit form inside the
//! [`IpcKernel`](crate::IpcKernel) (names become rights, moved rights leave the
//! sender); receiving turns it back,
//! with names in the receiver's space. [`crate::wire`] gives the byte form used
//! across an address-space boundary.

use alloc::vec::Vec;

use crate::{Disposition, PortName};

/// `MACH_MSGH_BITS_COMPLEX`: the body carries rights or out-of-line memory.
pub const MSGH_BITS_COMPLEX: u32 = 0x8000_0000;

/// Bytes taken by the header in the wire form.
pub const HEADER_SIZE: u32 = 24;
/// Bytes taken by an item descriptor in the wire form.
pub const ITEM_DESCRIPTOR_SIZE: u32 = 8;

/// The header bits (`msgh_bits`): the dispositions of the remote and local ports,
/// and the complex flag.
///
/// When sending, `remote` is how the destination right is used and `local` how the
/// reply right is. On receipt the two are swapped, as in Mach: the receiver's
/// `local` is the destination port (as `PORT_SEND` or `PORT_SEND_ONCE`) and its
/// `remote` is the reply right it now holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct MsgBits(pub u32);

impl MsgBits {
    /// `MACH_MSGH_BITS(remote, local)`; a `None` local means no reply right.
    pub fn new(remote: Disposition, local: Option<Disposition>) -> MsgBits {
        let local = local.map_or(0, |d| u32::from(u8::from(d)));
        MsgBits(u32::from(u8::from(remote)) | (local << 8))
    }

    /// The remote field, raw (`MACH_MSGH_BITS_REMOTE`).
    pub const fn remote_raw(self) -> u8 {
        (self.0 & 0xff) as u8
    }

    /// The local field, raw (`MACH_MSGH_BITS_LOCAL`).
    pub const fn local_raw(self) -> u8 {
        ((self.0 >> 8) & 0xff) as u8
    }

    /// The remote disposition, if the field holds a valid one.
    pub fn remote(self) -> Option<Disposition> {
        Disposition::from_raw(self.remote_raw())
    }

    /// The local disposition, if the field holds a valid one (0 means none).
    pub fn local(self) -> Option<Disposition> {
        Disposition::from_raw(self.local_raw())
    }

    /// Whether `MACH_MSGH_BITS_COMPLEX` is set.
    pub const fn is_complex(self) -> bool {
        self.0 & MSGH_BITS_COMPLEX != 0
    }

    /// The same bits with the complex flag set or cleared.
    pub const fn with_complex(self, complex: bool) -> MsgBits {
        if complex {
            MsgBits(self.0 | MSGH_BITS_COMPLEX)
        } else {
            MsgBits(self.0 & !MSGH_BITS_COMPLEX)
        }
    }

    /// Whether bits outside the remote, local and complex fields are set.
    pub const fn has_unknown_bits(self) -> bool {
        self.0 & !(0xffff | MSGH_BITS_COMPLEX) != 0
    }
}

/// `mach_msg_header_t`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MsgHeader {
    /// Dispositions of `remote` and `local`, and the complex flag.
    pub bits: MsgBits,
    /// Size of the whole message in the wire form; filled in on send and receive.
    pub size: u32,
    /// Sending: the destination. Received: the reply right, if any.
    pub remote: PortName,
    /// Sending: the reply port, if any. Received: the port it arrived on.
    pub local: PortName,
    /// Received: the port's sequence number for this message.
    pub seqno: u32,
    /// The message id: which routine, or which notification.
    pub id: i32,
}

/// A port right in a message body.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PortItem {
    /// How the right is transferred (sending) or what it now is (received).
    pub disposition: Disposition,
    /// The right's name; [`PortName::NULL`] and [`PortName::DEAD`] are always allowed.
    pub name: PortName,
}

/// Several port rights transferred the same way: a Mach port item with more
/// than one element (`portarray_t`), as used for handle lists and descriptor
/// tables.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PortArray {
    /// How every right is transferred (sending) or what each now is (received).
    pub disposition: Disposition,
    /// The rights' names; NULL and DEAD are allowed anywhere.
    pub names: Vec<PortName>,
}

/// Out-of-line memory in a message body.
///
/// Hosted, the region is an owned buffer that moves with the message; on the
/// kernel it is a range of the sender's address space that the receiver gets
/// mapped at a fresh address.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct OolItem {
    /// The region's contents.
    pub data: Vec<u8>,
    /// Whether the sender's region is deallocated by the send (`msgt_deallocate`);
    /// otherwise the sender keeps a copy.
    pub deallocate: bool,
}

/// One typed body item (`mach_msg_type_t` and what follows it).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Item {
    /// A 32-bit integer (`MACH_MSG_TYPE_INTEGER_32`).
    U32(u32),
    /// A 64-bit integer (`MACH_MSG_TYPE_INTEGER_64`).
    U64(u64),
    /// In-line bytes (`MACH_MSG_TYPE_BYTE`, any count).
    Bytes(Vec<u8>),
    /// A port right.
    Port(PortItem),
    /// Port rights, all with one disposition.
    Ports(PortArray),
    /// Out-of-line memory.
    Ool(OolItem),
}

impl Item {
    /// A port item.
    pub fn port(name: PortName, disposition: Disposition) -> Item {
        Item::Port(PortItem { disposition, name })
    }

    /// An out-of-line item.
    pub fn ool(data: Vec<u8>, deallocate: bool) -> Item {
        Item::Ool(OolItem { data, deallocate })
    }

    /// Whether the item makes a message complex (a right or out-of-line memory).
    pub fn is_complex(&self) -> bool {
        matches!(self, Item::Port(_) | Item::Ports(_) | Item::Ool(_))
    }

    /// Bytes the item takes in the wire form (descriptor plus padded payload).
    pub fn wire_size(&self) -> u64 {
        let payload: u64 = match self {
            Item::U32(_) | Item::Port(_) => 4,
            Item::U64(_) => 8,
            Item::Bytes(b) => b.len() as u64,
            Item::Ports(a) => 4 * a.names.len() as u64,
            Item::Ool(o) => o.data.len() as u64,
        };
        u64::from(ITEM_DESCRIPTOR_SIZE) + payload.div_ceil(8) * 8
    }
}

/// A message in a task's terms: header plus typed body.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Message {
    /// The header.
    pub header: MsgHeader,
    /// The body items, in order.
    pub body: Vec<Item>,
}

impl Message {
    /// A message with the given id, to `dest` used with `disposition`, no reply port
    /// and an empty body.
    pub fn new(id: i32, dest: PortName, disposition: Disposition) -> Message {
        Message {
            header: MsgHeader {
                bits: MsgBits::new(disposition, None),
                remote: dest,
                id,
                ..MsgHeader::default()
            },
            body: Vec::new(),
        }
    }

    /// Sets the reply port and how it is transferred (usually `MakeSendOnce`).
    pub fn with_reply(mut self, reply: PortName, disposition: Disposition) -> Message {
        self.header.local = reply;
        let remote = self.header.bits.0 & 0xff;
        let complex = self.header.bits.0 & MSGH_BITS_COMPLEX;
        self.header.bits = MsgBits(remote | (u32::from(u8::from(disposition)) << 8) | complex);
        self
    }

    /// Appends a body item.
    pub fn with_item(mut self, item: Item) -> Message {
        self.body.push(item);
        self
    }

    /// Whether any body item carries a right or out-of-line memory.
    pub fn body_is_complex(&self) -> bool {
        self.body.iter().any(Item::is_complex)
    }

    /// The size of the message in the wire form.
    pub fn wire_size(&self) -> u64 {
        u64::from(HEADER_SIZE) + self.body.iter().map(Item::wire_size).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn bits_layout() {
        let b = MsgBits::new(Disposition::CopySend, Some(Disposition::MakeSendOnce));
        assert_eq!(b.0, 19 | (21 << 8));
        assert_eq!(b.remote(), Some(Disposition::CopySend));
        assert_eq!(b.local(), Some(Disposition::MakeSendOnce));
        assert!(b.with_complex(true).is_complex());
        assert!(!b.has_unknown_bits());
        assert!(MsgBits(0x0001_0000).has_unknown_bits());
    }

    #[test]
    fn sizes() {
        let m = Message::new(1, PortName(1), Disposition::CopySend)
            .with_item(Item::U32(5))
            .with_item(Item::Bytes(vec![1, 2, 3, 4, 5, 6, 7, 8, 9]));
        assert_eq!(m.wire_size(), 24 + 16 + 24);
    }
}
