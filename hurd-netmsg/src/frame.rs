//! The frames nodes exchange. **This documentation is the specification of the
//! format.**
//!
//! All integers are little-endian. Every frame starts with an 8-byte prefix:
//!
//! | Offset | Size | Field      | Meaning                                              |
//! |-------:|-----:|------------|------------------------------------------------------|
//! |      0 |    4 | `length`   | bytes after this field (4 + body), at most [`MAX_FRAME`] |
//! |      4 |    1 | `kind`     | the frame kind (table below)                         |
//! |      5 |    3 | `reserved` | zero                                                 |
//! |      8 |    … | body       | `length - 4` bytes                                   |
//!
//! A *right* (32 bytes) names a port or a send-once right across nodes:
//!
//! | Offset | Size | Field    | Meaning                                                  |
//! |-------:|-----:|----------|----------------------------------------------------------|
//! |      0 |    1 | `kind`   | 1 send, 2 send-once, 3 receive                           |
//! |      1 |    7 | reserved | zero                                                     |
//! |      8 |    8 | `id`     | send and receive: the port's global [`PortId`]; send-once: a token whose [`PortId::node`] is the node holding the real right |
//! |     16 |    8 | `secret` | a random value fixed when the port (or token) was first exported; a right whose secret does not match is dead |
//! |     24 |    8 | `order`  | send-once: the [`PortId`] of the port the right sends to, when known (else 0); zero for the other kinds |
//!
//! A node that also sends messages to that port sends messages to the
//! send-once right on the port's stream (its `order`), so they stay behind the
//! messages it sent earlier to that port:
//! a kernel's `memory_object_data_return` to a pager's port arrives before the
//! `lock_completed` it sends to a reply right for the same port.
//!
//! Frame kinds and bodies:
//!
//! | Kind | Name         | Body                                                        |
//! |-----:|--------------|-------------------------------------------------------------|
//! | 1 | `HELLO`         | `node: u16`, 6 zero bytes, then a send right to the sender's registry port |
//! | 2 | `MESSAGE`       | destination right (kind send or send-once), `count: u32`, 4 zero bytes, `count` rights, then the message in [`hurd_ipc::wire`] form |
//! | 3 | `RELEASE`       | `id: u64`, `count: u64`: "I have received `count` send rights for port `id` from you and hold none of them any more" |
//! | 4 | `RELEASED`      | `id: u64`, `count: u64`: the answer to a `RELEASE`, acknowledging `count` rights |
//! | 5 | `PORT_DEAD`     | `id: u64`: the port died (or is unknown at the sender)      |
//! | 6 | `ONCE_DESTROYED`| `id: u64`, `secret: u64`: a send-once right (token `id`) was destroyed unused |
//!
//! # The message inside `MESSAGE`
//!
//! The message is checked by [`hurd_ipc::wire::decode`] (canonical form, limits)
//! and then by the rules of this format:
//!
//! * Port names are not names in any space: a name `n` with `1 <= n <= count`
//!   stands for the `n`-th right of the frame; [`PortName::NULL`] and
//!   [`PortName::DEAD`] keep their meaning. Any other name is an error.
//! * The header's `remote` field is the reply right (or NULL, with a zero
//!   remote field); its `local` field, local bits and `seqno` are zero (the
//!   destination travels in the frame).
//! * Every right of the frame is named exactly once, and the disposition of the
//!   item (or header field) naming it is the received disposition of its kind:
//!   `PORT_SEND` (17) for send, `PORT_SEND_ONCE` (18) for send-once,
//!   `PORT_RECEIVE` (16) for receive.
//!
//! # Errors
//!
//! [`decode`] never panics, allocates nothing before the sizes it reads have
//! been checked against the bytes present, and reports the first rule broken as
//! a [`FrameError`]. A node closes the connection a malformed frame arrived on
//! (and only that one).

use alloc::vec;
use alloc::vec::Vec;

use hurd_ipc::wire::{self, Limits};
use hurd_ipc::{Disposition, Item, Message, MsgReturn, PortId, PortName};

/// Largest frame accepted, `length` field included: 64 MiB of message plus
/// room for the rights table.
pub const MAX_FRAME: u32 = 64 * 1024 * 1024 + 256 * 1024;
/// Most rights one `MESSAGE` frame may carry.
pub const MAX_RIGHTS: u32 = 8192;
/// Bytes of a right in a frame.
pub const RIGHT_SIZE: usize = 32;

/// Frame kind `HELLO`.
pub const KIND_HELLO: u8 = 1;
/// Frame kind `MESSAGE`.
pub const KIND_MESSAGE: u8 = 2;
/// Frame kind `RELEASE`.
pub const KIND_RELEASE: u8 = 3;
/// Frame kind `RELEASED`.
pub const KIND_RELEASED: u8 = 4;
/// Frame kind `PORT_DEAD`.
pub const KIND_PORT_DEAD: u8 = 5;
/// Frame kind `ONCE_DESTROYED`.
pub const KIND_ONCE_DESTROYED: u8 = 6;

/// What kind of right a [`WireRight`] carries.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RightKind {
    /// A send right (kind 1).
    Send,
    /// A send-once right (kind 2).
    SendOnce,
    /// A receive right (kind 3).
    Receive,
}

impl RightKind {
    fn code(self) -> u8 {
        match self {
            RightKind::Send => 1,
            RightKind::SendOnce => 2,
            RightKind::Receive => 3,
        }
    }

    fn from_code(c: u8) -> Option<RightKind> {
        match c {
            1 => Some(RightKind::Send),
            2 => Some(RightKind::SendOnce),
            3 => Some(RightKind::Receive),
            _ => None,
        }
    }

    /// The disposition an item naming this right carries in a frame.
    pub fn received(self) -> Disposition {
        match self {
            RightKind::Send => Disposition::PORT_SEND,
            RightKind::SendOnce => Disposition::PORT_SEND_ONCE,
            RightKind::Receive => Disposition::PORT_RECEIVE,
        }
    }
}

/// A right as it travels between nodes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct WireRight {
    /// Which right.
    pub kind: RightKind,
    /// The port's global id, or the send-once token.
    pub id: PortId,
    /// The capability secret that goes with `id`.
    pub secret: u64,
    /// Send-once rights: the port the right sends to, for ordering; else 0.
    pub order: PortId,
}

/// One frame, decoded.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Frame {
    /// The first frame on a connection's control stream.
    Hello {
        /// The sender's node number.
        node: u16,
        /// A send right to the sender's registry port.
        registry: WireRight,
    },
    /// A message for a port (or a send-once right) at or beyond the receiver.
    Message {
        /// The destination: a send right's port or a send-once token.
        dest: WireRight,
        /// The rights the message carries; names `1..=rights.len()` refer to them.
        rights: Vec<WireRight>,
        /// The message, names being indices into `rights`.
        message: Message,
    },
    /// The sender holds none of the `count` send rights it received for `id`.
    Release {
        /// The port.
        id: PortId,
        /// Rights received from the peer and given up.
        count: u64,
    },
    /// Acknowledges a [`Frame::Release`].
    Released {
        /// The port.
        id: PortId,
        /// The count acknowledged.
        count: u64,
    },
    /// The port is dead (or unknown to the sender).
    PortDead {
        /// The port.
        id: PortId,
    },
    /// A send-once right was destroyed without being used.
    OnceDestroyed {
        /// The token.
        id: PortId,
        /// Its secret.
        secret: u64,
    },
}

/// Why a frame was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FrameError {
    /// Fewer bytes than the frame's structure needs.
    Truncated,
    /// `length` above [`MAX_FRAME`] or below 4.
    BadLength,
    /// Unknown frame kind.
    UnknownKind(u8),
    /// A reserved byte is not zero.
    Reserved,
    /// Bytes left over after a fixed-size body.
    Trailing,
    /// A right's kind byte is unknown, or a destination is a receive right.
    BadRight,
    /// More rights than [`MAX_RIGHTS`], or than the bytes can hold.
    TooManyRights,
    /// The embedded message failed [`hurd_ipc::wire::decode`].
    Wire(MsgReturn),
    /// A port name is neither NULL, DEAD nor a right's index.
    BadName,
    /// A right is named twice or never, or with the wrong disposition.
    RightMismatch,
    /// The header's local field, local bits or seqno are not zero.
    BadHeader,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::Truncated => f.write_str("frame truncated"),
            FrameError::BadLength => f.write_str("frame length out of range"),
            FrameError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            FrameError::Reserved => f.write_str("reserved bytes not zero"),
            FrameError::Trailing => f.write_str("trailing bytes after frame body"),
            FrameError::BadRight => f.write_str("malformed right"),
            FrameError::TooManyRights => f.write_str("too many rights"),
            FrameError::Wire(code) => write!(f, "malformed message: {code:?}"),
            FrameError::BadName => f.write_str("port name is not a right index"),
            FrameError::RightMismatch => f.write_str("rights table does not match the message"),
            FrameError::BadHeader => f.write_str("message header fields must be zero"),
        }
    }
}

impl core::error::Error for FrameError {}

/// Reads the `length` field of a frame prefix: how many more bytes follow the
/// first four.
///
/// # Errors
///
/// [`FrameError::BadLength`] when it is below 4 or above [`MAX_FRAME`].
pub fn body_length(prefix: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_le_bytes(prefix);
    if !(4..=MAX_FRAME).contains(&len) {
        return Err(FrameError::BadLength);
    }
    Ok(len as usize)
}

/// Encodes a frame, `length` prefix included.
///
/// # Errors
///
/// Only when the message cannot be put in wire form
/// ([`hurd_ipc::wire::encode`]) or the frame would exceed [`MAX_FRAME`].
pub fn encode(frame: &Frame) -> Result<Vec<u8>, FrameError> {
    let mut out = vec![0u8; 8];
    let kind = match frame {
        Frame::Hello { node, registry } => {
            out.extend_from_slice(&node.to_le_bytes());
            out.extend_from_slice(&[0; 6]);
            put_right(&mut out, registry);
            KIND_HELLO
        }
        Frame::Message {
            dest,
            rights,
            message,
        } => {
            put_right(&mut out, dest);
            let count = u32::try_from(rights.len()).map_err(|_| FrameError::TooManyRights)?;
            if count > MAX_RIGHTS {
                return Err(FrameError::TooManyRights);
            }
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            for r in rights {
                put_right(&mut out, r);
            }
            wire::encode_into(message, &mut out).map_err(FrameError::Wire)?;
            KIND_MESSAGE
        }
        Frame::Release { id, count } | Frame::Released { id, count } => {
            out.extend_from_slice(&id.0.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            if matches!(frame, Frame::Release { .. }) {
                KIND_RELEASE
            } else {
                KIND_RELEASED
            }
        }
        Frame::PortDead { id } => {
            out.extend_from_slice(&id.0.to_le_bytes());
            KIND_PORT_DEAD
        }
        Frame::OnceDestroyed { id, secret } => {
            out.extend_from_slice(&id.0.to_le_bytes());
            out.extend_from_slice(&secret.to_le_bytes());
            KIND_ONCE_DESTROYED
        }
    };
    let len = u32::try_from(out.len() - 4).map_err(|_| FrameError::BadLength)?;
    if len > MAX_FRAME {
        return Err(FrameError::BadLength);
    }
    out[..4].copy_from_slice(&len.to_le_bytes());
    out[4] = kind;
    Ok(out)
}

fn put_right(out: &mut Vec<u8>, r: &WireRight) {
    out.push(r.kind.code());
    out.extend_from_slice(&[0; 7]);
    out.extend_from_slice(&r.id.0.to_le_bytes());
    out.extend_from_slice(&r.secret.to_le_bytes());
    out.extend_from_slice(&r.order.0.to_le_bytes());
}

/// A cursor over untrusted bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if self.bytes.len() < n {
            return Err(FrameError::Truncated);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, FrameError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    fn u64(&mut self) -> Result<u64, FrameError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn zeros(&mut self, n: usize) -> Result<(), FrameError> {
        if self.take(n)?.iter().any(|&b| b != 0) {
            return Err(FrameError::Reserved);
        }
        Ok(())
    }

    fn right(&mut self) -> Result<WireRight, FrameError> {
        let kind = self.take(1)?[0];
        self.zeros(7)?;
        let id = PortId(self.u64()?);
        let secret = self.u64()?;
        let order = PortId(self.u64()?);
        let kind = RightKind::from_code(kind).ok_or(FrameError::BadRight)?;
        if kind != RightKind::SendOnce && order.0 != 0 {
            return Err(FrameError::BadRight);
        }
        Ok(WireRight {
            kind,
            id,
            secret,
            order,
        })
    }

    fn end(&self) -> Result<(), FrameError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(FrameError::Trailing)
        }
    }
}

/// Decodes one frame from `bytes`: everything after the 4-byte `length` field
/// (that is, `length` bytes, starting with the kind byte).
///
/// # Errors
///
/// A [`FrameError`] saying what is wrong when `bytes` is not exactly one
/// well-formed frame within `limits`: an unknown kind, a short or trailing
/// body, non-zero reserved fields, sizes beyond the limits, a message whose
/// rights do not match its rights table.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Frame, FrameError> {
    let mut r = Reader { bytes };
    let kind = r.take(1)?[0];
    r.zeros(3)?;
    let frame = match kind {
        KIND_HELLO => {
            let node = r.u16()?;
            r.zeros(6)?;
            let registry = r.right()?;
            if registry.kind != RightKind::Send {
                return Err(FrameError::BadRight);
            }
            Frame::Hello { node, registry }
        }
        KIND_MESSAGE => {
            let dest = r.right()?;
            if dest.kind == RightKind::Receive {
                return Err(FrameError::BadRight);
            }
            let count = r.u32()?;
            r.zeros(4)?;
            if count > MAX_RIGHTS || count as usize > r.bytes.len() / RIGHT_SIZE {
                return Err(FrameError::TooManyRights);
            }
            let mut rights = Vec::with_capacity(count as usize);
            for _ in 0..count {
                rights.push(r.right()?);
            }
            let message = wire::decode(r.bytes, limits).map_err(FrameError::Wire)?;
            check_names(&message, &rights)?;
            return Ok(Frame::Message {
                dest,
                rights,
                message,
            });
        }
        KIND_RELEASE | KIND_RELEASED => {
            let id = PortId(r.u64()?);
            let count = r.u64()?;
            if kind == KIND_RELEASE {
                Frame::Release { id, count }
            } else {
                Frame::Released { id, count }
            }
        }
        KIND_PORT_DEAD => Frame::PortDead {
            id: PortId(r.u64()?),
        },
        KIND_ONCE_DESTROYED => Frame::OnceDestroyed {
            id: PortId(r.u64()?),
            secret: r.u64()?,
        },
        other => return Err(FrameError::UnknownKind(other)),
    };
    r.end()?;
    Ok(frame)
}

/// Checks the rules of the message inside a `MESSAGE` frame.
fn check_names(msg: &Message, rights: &[WireRight]) -> Result<(), FrameError> {
    let h = &msg.header;
    if !h.local.is_null() || h.bits.local_raw() != 0 || h.seqno != 0 {
        return Err(FrameError::BadHeader);
    }
    let mut seen = vec![false; rights.len()];
    let mut mark = |name: PortName, disp: Option<Disposition>| -> Result<(), FrameError> {
        if !name.is_valid() {
            return Ok(());
        }
        let i = (name.0 as usize)
            .checked_sub(1)
            .filter(|&i| i < rights.len())
            .ok_or(FrameError::BadName)?;
        if seen[i] || disp != Some(rights[i].kind.received()) {
            return Err(FrameError::RightMismatch);
        }
        seen[i] = true;
        Ok(())
    };
    mark(h.remote, h.bits.remote())?;
    for item in &msg.body {
        match item {
            Item::Port(p) => mark(p.name, Some(p.disposition))?,
            Item::Ports(a) => {
                for &n in &a.names {
                    mark(n, Some(a.disposition))?;
                }
            }
            _ => {}
        }
    }
    if seen.iter().all(|&s| s) {
        Ok(())
    } else {
        Err(FrameError::RightMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_ipc::{MsgBits, OolItem, PortArray, PortItem};
    use proptest::prelude::*;

    fn right(kind: RightKind, n: u64) -> WireRight {
        WireRight {
            kind,
            id: PortId::new(3, n),
            secret: n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            order: if kind == RightKind::SendOnce {
                PortId::new(3, n + 100)
            } else {
                PortId(0)
            },
        }
    }

    fn sample() -> Frame {
        let mut message = Message::default();
        message.header.id = 77;
        message.header.remote = PortName(1);
        message.header.bits = MsgBits::new(Disposition::PORT_SEND_ONCE, None);
        message.body = vec![
            Item::U32(5),
            Item::Port(PortItem {
                disposition: Disposition::PORT_SEND,
                name: PortName(2),
            }),
            Item::Ports(PortArray {
                disposition: Disposition::PORT_RECEIVE,
                names: vec![PortName(3), PortName::DEAD, PortName::NULL],
            }),
            Item::Ool(OolItem {
                data: vec![7; 100],
                deallocate: true,
            }),
        ];
        Frame::Message {
            dest: right(RightKind::Send, 9),
            rights: vec![
                right(RightKind::SendOnce, 1),
                right(RightKind::Send, 2),
                right(RightKind::Receive, 3),
            ],
            message,
        }
    }

    fn roundtrip(f: &Frame) -> Result<Frame, FrameError> {
        let bytes = encode(f)?;
        let len = body_length([bytes[0], bytes[1], bytes[2], bytes[3]])?;
        assert_eq!(len, bytes.len() - 4);
        decode(&bytes[4..], &Limits::DEFAULT)
    }

    /// The size and complex bit as the encoder writes them.
    fn normalized(mut f: Frame) -> Frame {
        if let Frame::Message { message, .. } = &mut f {
            message.header.size = message.wire_size() as u32;
            message.header.bits = message.header.bits.with_complex(message.body_is_complex());
        }
        f
    }

    #[test]
    fn every_kind_round_trips() {
        let frames = [
            Frame::Hello {
                node: 4,
                registry: right(RightKind::Send, 1),
            },
            sample(),
            Frame::Release {
                id: PortId::new(1, 2),
                count: 3,
            },
            Frame::Released {
                id: PortId::new(1, 2),
                count: 3,
            },
            Frame::PortDead {
                id: PortId::new(9, 9),
            },
            Frame::OnceDestroyed {
                id: PortId::new(2, 5),
                secret: 11,
            },
        ];
        for f in frames {
            let back = roundtrip(&f).expect("round trip");
            assert_eq!(back, normalized(f));
        }
    }

    fn message_with(rights: Vec<WireRight>, body: Vec<Item>) -> Vec<u8> {
        let message = Message {
            body,
            ..Message::default()
        };
        encode(&Frame::Message {
            dest: right(RightKind::Send, 1),
            rights,
            message,
        })
        .expect("encode")
    }

    #[test]
    fn rights_must_match_the_message() {
        let port = |n, d| {
            Item::Port(PortItem {
                disposition: d,
                name: PortName(n),
            })
        };
        let cases = [
            // A right never named.
            message_with(vec![right(RightKind::Send, 1)], vec![]),
            // A name past the table.
            message_with(vec![], vec![port(1, Disposition::PORT_SEND)]),
            // Named twice.
            message_with(
                vec![right(RightKind::Send, 1)],
                vec![
                    port(1, Disposition::PORT_SEND),
                    port(1, Disposition::PORT_SEND),
                ],
            ),
            // Wrong disposition for the kind.
            message_with(
                vec![right(RightKind::Receive, 1)],
                vec![port(1, Disposition::PORT_SEND)],
            ),
            // A sending disposition, not a received one.
            message_with(
                vec![right(RightKind::Send, 1)],
                vec![port(1, Disposition::MakeSend)],
            ),
        ];
        for bytes in cases {
            let err = decode(&bytes[4..], &Limits::DEFAULT).expect_err("must be refused");
            assert!(
                matches!(err, FrameError::BadName | FrameError::RightMismatch),
                "{err:?}"
            );
        }
    }

    #[test]
    fn header_fields_and_structure_are_checked() {
        let mut bytes = encode(&sample()).expect("encode");
        // A reserved byte of the prefix.
        bytes[5] = 1;
        assert_eq!(
            decode(&bytes[4..], &Limits::DEFAULT),
            Err(FrameError::Reserved)
        );
        bytes[5] = 0;
        bytes[4] = 42;
        assert_eq!(
            decode(&bytes[4..], &Limits::DEFAULT),
            Err(FrameError::UnknownKind(42))
        );
        bytes[4] = KIND_MESSAGE;
        // Destination of kind receive.
        bytes[8] = 3;
        assert_eq!(
            decode(&bytes[4..], &Limits::DEFAULT),
            Err(FrameError::BadRight)
        );
        bytes[8] = 1;
        // A rights count larger than the bytes present.
        bytes[40..44].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(
            decode(&bytes[4..], &Limits::DEFAULT),
            Err(FrameError::TooManyRights)
        );
        assert_eq!(body_length([0, 0, 0, 0]), Err(FrameError::BadLength));
        assert_eq!(
            body_length(u32::MAX.to_le_bytes()),
            Err(FrameError::BadLength)
        );
        // Trailing bytes after a fixed body.
        let mut dead = encode(&Frame::PortDead {
            id: PortId::new(1, 1),
        })
        .expect("encode");
        dead.push(0);
        assert_eq!(
            decode(&dead[4..], &Limits::DEFAULT),
            Err(FrameError::Trailing)
        );
    }

    #[test]
    fn local_header_fields_must_be_zero() {
        let mut message = Message::default();
        message.header.seqno = 3;
        let bytes = encode(&Frame::Message {
            dest: right(RightKind::SendOnce, 1),
            rights: vec![],
            message,
        })
        .expect("encode");
        assert_eq!(
            decode(&bytes[4..], &Limits::DEFAULT),
            Err(FrameError::BadHeader)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Arbitrary bytes never panic the decoder.
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode(&bytes, &Limits::DEFAULT);
        }

        /// Flipping any byte of a valid frame either still decodes to a frame that
        /// re-encodes to the same bytes, or is refused; it never panics.
        #[test]
        fn corrupted_frames_are_refused_or_canonical(pos in 4usize..400, val in any::<u8>()) {
            let mut bytes = encode(&sample()).expect("encode");
            let pos = pos % bytes.len();
            if pos >= 4 {
                bytes[pos] = val;
                if let Ok(f) = decode(&bytes[4..], &Limits::DEFAULT) {
                    let again = encode(&f).expect("re-encode");
                    prop_assert_eq!(&again[4..], &bytes[4..]);
                }
            }
        }

        /// Truncating a valid frame anywhere is refused.
        #[test]
        fn truncation_is_refused(cut in 0usize..300) {
            let bytes = encode(&sample()).expect("encode");
            let cut = 4 + cut % (bytes.len() - 4);
            prop_assert!(decode(&bytes[4..cut], &Limits::DEFAULT).is_err());
        }
    }
}
