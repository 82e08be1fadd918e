//! Rights, their type bits, message dispositions and user-reference accounting.

use bitflags::bitflags;
use num_enum::{IntoPrimitive, TryFromPrimitive};

use crate::KernReturn;

/// Most user references one name may hold for one right (`MACH_PORT_UREFS_MAX`).
pub const UREFS_MAX: u16 = u16::MAX;

/// One kind of right (`mach_port_right_t`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum RightType {
    /// `MACH_PORT_RIGHT_SEND`: may send to the port; counted in user references.
    Send = 0,
    /// `MACH_PORT_RIGHT_RECEIVE`: the one right to dequeue the port's messages.
    Receive = 1,
    /// `MACH_PORT_RIGHT_SEND_ONCE`: may send exactly one message; own name, one reference.
    SendOnce = 2,
    /// `MACH_PORT_RIGHT_PORT_SET`: a set of receive rights received on together.
    PortSet = 3,
    /// `MACH_PORT_RIGHT_DEAD_NAME`: what a send or send-once right becomes when its port dies.
    DeadName = 4,
}

impl RightType {
    /// The [`PortType`] bit for this right (`MACH_PORT_TYPE(right)`).
    pub const fn type_bit(self) -> PortType {
        PortType::from_bits_retain(1 << (self as u32 + 16))
    }
}

bitflags! {
    /// What a name denotes in a space (`mach_port_type_t`): one bit per right, plus
    /// request bits.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
    pub struct PortType: u32 {
        /// `MACH_PORT_TYPE_SEND`.
        const SEND = 1 << 16;
        /// `MACH_PORT_TYPE_RECEIVE`.
        const RECEIVE = 1 << 17;
        /// `MACH_PORT_TYPE_SEND_ONCE`.
        const SEND_ONCE = 1 << 18;
        /// `MACH_PORT_TYPE_PORT_SET`.
        const PORT_SET = 1 << 19;
        /// `MACH_PORT_TYPE_DEAD_NAME`.
        const DEAD_NAME = 1 << 20;
        /// `MACH_PORT_TYPE_DNREQUEST`: a dead-name request is registered on the name.
        const DNREQUEST = 0x8000_0000;
        /// `MACH_PORT_TYPE_SEND_RECEIVE`.
        const SEND_RECEIVE = Self::SEND.bits() | Self::RECEIVE.bits();
        /// `MACH_PORT_TYPE_SEND_RIGHTS`: send or send-once.
        const SEND_RIGHTS = Self::SEND.bits() | Self::SEND_ONCE.bits();
        /// `MACH_PORT_TYPE_PORT_RIGHTS`: send, send-once or receive.
        const PORT_RIGHTS = Self::SEND_RIGHTS.bits() | Self::RECEIVE.bits();
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for PortType {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "PortType({=u32:#x})", self.bits())
    }
}

/// How a right named in a message is transferred (`mach_msg_type_name_t` for ports).
///
/// On receipt the same numbers mean what the receiver now holds: 16 is
/// `PORT_RECEIVE`, 17 `PORT_SEND`, 18 `PORT_SEND_ONCE` (see [`Disposition::received`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, IntoPrimitive, TryFromPrimitive)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Disposition {
    /// `MACH_MSG_TYPE_MOVE_RECEIVE`: the sender gives up its receive right.
    /// On receipt: `MACH_MSG_TYPE_PORT_RECEIVE`.
    MoveReceive = 16,
    /// `MACH_MSG_TYPE_MOVE_SEND`: the sender gives up one send reference.
    /// On receipt: `MACH_MSG_TYPE_PORT_SEND`.
    MoveSend = 17,
    /// `MACH_MSG_TYPE_MOVE_SEND_ONCE`: the sender gives up a send-once right.
    /// On receipt: `MACH_MSG_TYPE_PORT_SEND_ONCE`.
    MoveSendOnce = 18,
    /// `MACH_MSG_TYPE_COPY_SEND`: a new send right, the sender keeps its own.
    CopySend = 19,
    /// `MACH_MSG_TYPE_MAKE_SEND`: a new send right made from the sender's receive
    /// right; increments the port's make-send count.
    MakeSend = 20,
    /// `MACH_MSG_TYPE_MAKE_SEND_ONCE`: a new send-once right made from the receive right.
    MakeSendOnce = 21,
}

impl Disposition {
    /// The disposition numbered `raw`, if there is one (what `TryFrom<u8>`
    /// gives, as a `const fn` that compiles to a range check).
    pub(crate) const fn from_raw(raw: u8) -> Option<Disposition> {
        Some(match raw {
            16 => Disposition::MoveReceive,
            17 => Disposition::MoveSend,
            18 => Disposition::MoveSendOnce,
            19 => Disposition::CopySend,
            20 => Disposition::MakeSend,
            21 => Disposition::MakeSendOnce,
            _ => return None,
        })
    }

    /// `MACH_MSG_TYPE_PORT_RECEIVE`: a received receive right.
    pub const PORT_RECEIVE: Disposition = Disposition::MoveReceive;
    /// `MACH_MSG_TYPE_PORT_SEND`: a received send right.
    pub const PORT_SEND: Disposition = Disposition::MoveSend;
    /// `MACH_MSG_TYPE_PORT_SEND_ONCE`: a received send-once right.
    pub const PORT_SEND_ONCE: Disposition = Disposition::MoveSendOnce;

    /// The right the receiver ends up with (`ipc_object_copyin_type`).
    pub const fn received(self) -> Disposition {
        match self {
            Disposition::MoveReceive => Disposition::PORT_RECEIVE,
            Disposition::MoveSend | Disposition::CopySend | Disposition::MakeSend => {
                Disposition::PORT_SEND
            }
            Disposition::MoveSendOnce | Disposition::MakeSendOnce => Disposition::PORT_SEND_ONCE,
        }
    }

    /// The kind of right carried, once in transit.
    pub const fn carried_right(self) -> RightType {
        match self.received() {
            Disposition::MoveReceive => RightType::Receive,
            Disposition::MoveSendOnce => RightType::SendOnce,
            _ => RightType::Send,
        }
    }
}

/// Adds `delta` to a user-reference count, as `mach_port_mod_refs` does: an
/// underflow is `KERN_INVALID_VALUE`, going past [`UREFS_MAX`] is `KERN_UREFS_OVERFLOW`.
///
/// # Errors
///
/// `KERN_INVALID_VALUE` below zero, `KERN_UREFS_OVERFLOW` past [`UREFS_MAX`].
pub fn add_urefs(current: u16, delta: i32) -> Result<u16, KernReturn> {
    let next = i64::from(current) + i64::from(delta);
    if next < 0 {
        Err(KernReturn::InvalidValue)
    } else if next > i64::from(UREFS_MAX) {
        Err(KernReturn::UrefsOverflow)
    } else {
        // In range 0..=UREFS_MAX, checked just above.
        Ok(next as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bits_match_mach() {
        assert_eq!(RightType::Send.type_bit(), PortType::SEND);
        assert_eq!(RightType::DeadName.type_bit().bits(), 0x0010_0000);
        assert_eq!(PortType::SEND_RECEIVE.bits(), 0x0003_0000);
    }

    #[test]
    fn dispositions() {
        assert_eq!(u8::from(Disposition::MakeSendOnce), 21);
        assert_eq!(Disposition::CopySend.received(), Disposition::PORT_SEND);
        assert_eq!(
            Disposition::MakeSendOnce.carried_right(),
            RightType::SendOnce
        );
        for raw in 0..=u8::MAX {
            assert_eq!(Disposition::from_raw(raw), Disposition::try_from(raw).ok());
        }
        assert!(Disposition::try_from(15u8).is_err());
        assert!(Disposition::try_from(22u8).is_err());
    }

    #[test]
    fn urefs_bounds() {
        assert_eq!(add_urefs(1, -1), Ok(0));
        assert_eq!(add_urefs(0, -1), Err(KernReturn::InvalidValue));
        assert_eq!(add_urefs(UREFS_MAX, 1), Err(KernReturn::UrefsOverflow));
        assert_eq!(add_urefs(10, 65525), Ok(UREFS_MAX));
    }
}
