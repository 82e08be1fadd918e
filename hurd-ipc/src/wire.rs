//! The binary wire form of a [`Message`]: the bytes a message is while it crosses
//! an address-space boundary.
//!
//! A task hands the kernel a message as bytes (the `mach_msg` send buffer), and
//! netmsg carries messages between machines as bytes. This module turns a
//! [`Message`] into that form ([`encode`], [`encode_into`]) and checks and parses
//! it back ([`decode`], [`peek_header`]). **This documentation is the
//! specification of the format.**
//!
//! # Layout
//!
//! All integers are little-endian. A message is a sequence of pieces whose sizes
//! are all multiples of 8 bytes, so every piece starts 8-byte aligned relative to
//! the start of the message: the header, then zero or more body items.
//!
//! ## Header (24 bytes, `mach_msg_header_t`)
//!
//! | Offset | Size | Field    | Meaning                                                        |
//! |-------:|-----:|----------|----------------------------------------------------------------|
//! |      0 |    4 | `bits`   | [`MsgBits`]: remote field (bits 0–7), local field (bits 8–15), `COMPLEX` (bit 31); all other bits zero |
//! |      4 |    4 | `size`   | total bytes of the encoded message, header included            |
//! |      8 |    4 | `remote` | [`PortName`] of the remote port (sending: the destination)    |
//! |     12 |    4 | `local`  | [`PortName`] of the local port (sending: the reply port)      |
//! |     16 |    4 | `seqno`  | sequence number (meaningful on receipt)                        |
//! |     20 |    4 | `id`     | message id, signed (`i32`)                                     |
//!
//! Rules for the header:
//!
//! * `size` is at least 24, a multiple of 8, and exactly the length of the
//!   encoded message (no trailing bytes).
//! * `bits` has no bits outside the remote, local and `COMPLEX` fields
//!   ([`MsgBits::has_unknown_bits`]).
//! * The remote field is a valid [`Disposition`] (16..=21). Received messages
//!   use the same numbers for what the receiver holds (`PORT_RECEIVE` 16,
//!   `PORT_SEND` 17, `PORT_SEND_ONCE` 18), so they are covered too. As in Mach's
//!   copy-out of a message that has no reply port (`MACH_MSGH_BITS(0, dest)`),
//!   the remote field may also be 0, but only when the `remote` name is
//!   [`PortName::NULL`].
//! * The local field is 0 (no local port) or a valid [`Disposition`].
//! * `COMPLEX` is set if and only if the body holds at least one port item or
//!   out-of-line item.
//!
//! Whether a disposition makes sense *for its role* (for instance
//! `MOVE_RECEIVE` as a send destination) is a question for the kernel's copy-in,
//! not for the format.
//!
//! ## Body item
//!
//! Each item is an 8-byte descriptor (`mach_msg_type_t`) followed by its payload,
//! padded with zero bytes to a multiple of 8.
//!
//! | Offset | Size | Field      | Meaning                                                    |
//! |-------:|-----:|------------|------------------------------------------------------------|
//! |      0 |    1 | `name`     | `msgt_name`: the element type (table below)                |
//! |      1 |    1 | `flags`    | bit 0 [`FLAG_INLINE`], bit 1 [`FLAG_DEALLOCATE`], bit 2 [`FLAG_ARRAY`]; bits 3–7 zero |
//! |      2 |    2 | `reserved` | zero                                                       |
//! |      4 |    4 | `number`   | element count                                              |
//! |      8 |    … | payload    | the elements, then zero padding to a multiple of 8         |
//!
//! The items, by [`Item`] variant:
//!
//! | Variant         | `name`                              | `flags`                      | `number`          | Payload (before padding)    | Total bytes |
//! |-----------------|-------------------------------------|------------------------------|-------------------|-----------------------------|------------:|
//! | [`Item::U32`]   | 2 ([`MSG_TYPE_INTEGER_32`])         | inline                       | 1                 | the `u32`                   | 16          |
//! | [`Item::U64`]   | 11 ([`MSG_TYPE_INTEGER_64`])        | inline                       | 1                 | the `u64`                   | 16          |
//! | [`Item::Bytes`] | 9 ([`MSG_TYPE_BYTE`])               | inline                       | byte count        | the bytes                   | 8 + ⌈n/8⌉·8 |
//! | [`Item::Port`]  | the [`Disposition`], 16..=21        | inline                       | 1                 | the name as `u32`           | 16          |
//! | [`Item::Ports`] | the [`Disposition`], 16..=21        | inline, array                | name count (any)  | the names as `u32`s         | 8 + ⌈4n/8⌉·8 |
//! | [`Item::Ool`]   | 9 ([`MSG_TYPE_BYTE`])               | not inline; deallocate bit = [`OolItem::deallocate`] | byte count | the region's bytes, by value | 8 + ⌈n/8⌉·8 |
//!
//! The deallocate bit is only meaningful for out-of-line items; it must be 0 on
//! every inline item. Only `MSG_TYPE_BYTE` may be out-of-line. Port items may
//! name [`PortName::NULL`] and [`PortName::DEAD`]. The array bit is only
//! allowed on port items: it keeps a one-element [`Item::Ports`] distinct from an
//! [`Item::Port`], so every message has exactly one encoding.
//!
//! These sizes are exactly [`Item::wire_size`] and [`Message::wire_size`];
//! [`encode`] always produces `msg.wire_size()` bytes.
//!
//! ### Out-of-line memory
//!
//! Across a syscall boundary the kernel moves an out-of-line region by mapping
//! it (the sender's pages appear at a fresh address in the receiver) rather than
//! by copying. In this byte form, and therefore on the network, an out-of-line
//! region travels *by value*: its bytes follow the descriptor just as in-line
//! bytes do. Only the inline bit tells the two apart.
//!
//! ## Canonical form
//!
//! Padding must be zero and every reserved or unused field must be zero, so each
//! [`Message`] has exactly one encoding: when [`decode`] accepts some bytes,
//! [`encode`] of the result gives back those very bytes. A forwarded message
//! therefore cannot smuggle data in padding.
//!
//! # Validation and errors
//!
//! The input of [`decode`] and [`peek_header`] is untrusted. Decoding never
//! panics, never reads out of bounds, never overflows, and allocates nothing
//! until the whole message has been checked; it then allocates only what the
//! validated message needs: the item vector, sized exactly (at most one
//! [`Item`] per 8 input bytes, and at most [`Limits::max_items`]), and for each
//! byte item one buffer the size of its payload in the input. No `number` field
//! is trusted before it has been checked against the bytes that remain.
//! Allocation failures are reported as [`MsgReturn::SendNoBuffer`] rather than
//! aborting.
//!
//! Checks run in this order and the first failure is returned:
//!
//! | # | Condition                                                                 | Error                              |
//! |--:|---------------------------------------------------------------------------|------------------------------------|
//! | 1 | fewer than 24 bytes                                                       | [`SendMsgTooSmall`](MsgReturn::SendMsgTooSmall) |
//! | 2 | `size` < 24, or `size` not a multiple of 8                                | [`SendInvalidHeader`](MsgReturn::SendInvalidHeader) |
//! | 3 | unknown bits, bad remote field, bad local field                           | [`SendInvalidHeader`](MsgReturn::SendInvalidHeader) |
//! | 4 | `size` > input length (the buffer is shorter than the message claims)     | [`SendMsgTooSmall`](MsgReturn::SendMsgTooSmall) |
//! | 5 | `size` < input length (trailing bytes)                                    | [`SendInvalidHeader`](MsgReturn::SendInvalidHeader) |
//! | 6 | `size` > [`Limits::max_size`]                                             | [`SendNoBuffer`](MsgReturn::SendNoBuffer) |
//! |   | then for each item, in order:                                             |                                    |
//! | 7 | one more item than [`Limits::max_items`]                                  | [`SendNoBuffer`](MsgReturn::SendNoBuffer) |
//! | 8 | fewer than 8 bytes left for the descriptor (cannot happen once rule 2 holds) | [`SendMsgTooSmall`](MsgReturn::SendMsgTooSmall) |
//! | 9 | unknown `name`; `flags` bits 2–7 set; `reserved` ≠ 0; `number` ≠ 1 for an integer or port; deallocate bit on an inline item; a non-byte item not inline | [`SendInvalidType`](MsgReturn::SendInvalidType) |
//! | 10 | in-line payload (integer, port or bytes) runs past the end               | [`SendMsgTooSmall`](MsgReturn::SendMsgTooSmall) |
//! | 11 | out-of-line payload runs past the end (its `number` is bogus)            | [`SendInvalidMemory`](MsgReturn::SendInvalidMemory) |
//! | 12 | a padding byte is not zero                                               | [`SendInvalidData`](MsgReturn::SendInvalidData) |
//! |    | after the last item:                                                     |                                    |
//! | 13 | `COMPLEX` set but no port or out-of-line item, or the other way round    | [`SendInvalidHeader`](MsgReturn::SendInvalidHeader) |
//!
//! [`peek_header`] performs checks 1–3 only, so it can be used on just the first
//! 24 bytes to learn the size before the rest of the message is fetched.
//!
//! [`encode`] fails with [`SendInvalidHeader`](MsgReturn::SendInvalidHeader) if
//! the header bits break rule 3 (so everything it writes is accepted by
//! [`decode`], limits permitting), and with [`SendNoBuffer`](MsgReturn::SendNoBuffer)
//! if the message is larger than `u32::MAX` bytes or the output buffer cannot be
//! allocated. It ignores `header.size` and the `COMPLEX` bit of the message and
//! writes the real ones.
//!
//! # Rights are not touched here
//!
//! Decoding is pure: port names are only numbers, and no right is looked up,
//! copied in, or released. A malformed message therefore cannot leak or lose a
//! right at this layer. The kernel copies rights in only after a successful
//! decode, and undoes its own copy-in if a later check fails.

use alloc::vec::Vec;

use crate::message::{HEADER_SIZE, ITEM_DESCRIPTOR_SIZE};
use crate::{
    Disposition, Item, Message, MsgBits, MsgHeader, MsgReturn, OolItem, PortArray, PortItem,
    PortName,
};

/// `MACH_MSG_TYPE_INTEGER_32`: the descriptor `name` of an [`Item::U32`].
pub const MSG_TYPE_INTEGER_32: u8 = 2;
/// `MACH_MSG_TYPE_BYTE`: the descriptor `name` of an [`Item::Bytes`] or [`Item::Ool`].
pub const MSG_TYPE_BYTE: u8 = 9;
/// `MACH_MSG_TYPE_INTEGER_64`: the descriptor `name` of an [`Item::U64`].
pub const MSG_TYPE_INTEGER_64: u8 = 11;

/// Descriptor flag bit 0 (`msgt_inline`): the payload is in-line data, not an
/// out-of-line region.
pub const FLAG_INLINE: u8 = 1 << 0;
/// Descriptor flag bit 1 (`msgt_deallocate`): the sender's out-of-line region is
/// deallocated by the send. Only allowed on out-of-line items.
pub const FLAG_DEALLOCATE: u8 = 1 << 1;
/// Descriptor flag bit 2: a port item holding an array of names
/// ([`Item::Ports`]), any number of them.
pub const FLAG_ARRAY: u8 = 1 << 2;

/// Alignment of every piece of the wire form, and the unit payloads are padded to.
const ALIGN: usize = 8;
/// [`HEADER_SIZE`] as a `usize`.
const HEADER_LEN: usize = HEADER_SIZE as usize;
/// [`ITEM_DESCRIPTOR_SIZE`] as a `usize`.
const DESCRIPTOR_LEN: usize = ITEM_DESCRIPTOR_SIZE as usize;

/// Caller-supplied bounds that [`decode`] enforces before building a message.
///
/// Both are checked against the untrusted input before anything is allocated;
/// exceeding either gives [`MsgReturn::SendNoBuffer`]. The kernel passes its
/// per-message limits here; a netmsg server passes what it is prepared to buffer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits {
    /// Largest accepted message, in bytes of the wire form (the header's `size`).
    pub max_size: u32,
    /// Most body items accepted in one message.
    pub max_items: u32,
}

impl Limits {
    /// The default limits: 64 MiB per message and 4096 items.
    pub const DEFAULT: Limits = Limits {
        max_size: 64 * 1024 * 1024,
        max_items: 4096,
    };

    /// No limits beyond what the format itself allows (`u32::MAX` for both).
    /// Allocation stays bounded by the input length.
    pub const UNLIMITED: Limits = Limits {
        max_size: u32::MAX,
        max_items: u32::MAX,
    };
}

impl Default for Limits {
    /// [`Limits::DEFAULT`]: 64 MiB per message and 4096 items.
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// Checks rule 3 of the module docs: known bits only, a valid remote field (or 0
/// with a null remote name), and a local field that is 0 or valid.
#[inline]
fn check_bits(bits: MsgBits, remote: PortName) -> Result<(), MsgReturn> {
    let remote_ok = bits.remote().is_some() || (bits.remote_raw() == 0 && remote.is_null());
    let local_ok = bits.local_raw() == 0 || bits.local().is_some();
    if bits.has_unknown_bits() || !remote_ok || !local_ok {
        return Err(MsgReturn::SendInvalidHeader);
    }
    Ok(())
}

/// A cursor over untrusted bytes; every read is bounds-checked.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Takes the next `n` bytes, or `None` if fewer remain.
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// Takes the next `N` bytes as an array, or `None` if fewer remain.
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.rest.split_first_chunk::<N>()?;
        self.rest = tail;
        Some(*head)
    }

    /// Whether no bytes remain.
    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

/// Validates the 24-byte header at the start of `bytes` and returns it.
///
/// Only the header is examined (checks 1–3 in the [module docs](self)): at least
/// 24 bytes, a `size` field that is at least 24 and a multiple of 8, and valid
/// `bits`. The `size` field is *not* compared with `bytes.len()`, so this works
/// on just the first 24 bytes of a message to learn how long it is, and the
/// `COMPLEX` bit is not checked against the body.
///
/// # Errors
///
/// * [`MsgReturn::SendMsgTooSmall`]: fewer than 24 bytes.
/// * [`MsgReturn::SendInvalidHeader`]: `size` below 24 or not a multiple of 8;
///   unknown bits; a remote field that is neither a valid [`Disposition`] nor 0
///   with a null remote name; a local field that is neither 0 nor a valid
///   [`Disposition`].
#[inline]
pub fn peek_header(bytes: &[u8]) -> Result<MsgHeader, MsgReturn> {
    let (header, _) = bytes
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(MsgReturn::SendMsgTooSmall)?;
    let field =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let bits = MsgBits(field(0));
    let size = field(4);
    let remote = PortName(field(8));
    let local = PortName(field(12));
    let seqno = field(16);
    let id = i32::from_le_bytes(field(20).to_le_bytes());

    if size < HEADER_SIZE || size % ITEM_DESCRIPTOR_SIZE != 0 {
        return Err(MsgReturn::SendInvalidHeader);
    }
    check_bits(bits, remote)?;
    Ok(MsgHeader {
        bits,
        size,
        remote,
        local,
        seqno,
        id,
    })
}

/// A validated item that still borrows its payload from the input.
enum RawItem<'a> {
    /// An [`Item::U32`].
    U32(u32),
    /// An [`Item::U64`].
    U64(u64),
    /// An [`Item::Bytes`] payload, padding stripped.
    Bytes(&'a [u8]),
    /// An [`Item::Port`].
    Port(PortItem),
    /// An [`Item::Ports`]: the disposition and the names' bytes.
    Ports(Disposition, &'a [u8]),
    /// An [`Item::Ool`] payload, padding stripped, and its deallocate bit.
    Ool(&'a [u8], bool),
}

impl RawItem<'_> {
    /// Whether the item makes the message complex.
    fn is_complex(&self) -> bool {
        matches!(
            self,
            RawItem::Port(_) | RawItem::Ports(..) | RawItem::Ool(..)
        )
    }

    /// Copies the payload out of the input, turning allocation failure into an error.
    fn to_item(&self) -> Result<Item, MsgReturn> {
        Ok(match *self {
            RawItem::U32(v) => Item::U32(v),
            RawItem::U64(v) => Item::U64(v),
            RawItem::Bytes(b) => Item::Bytes(copy(b)?),
            RawItem::Port(p) => Item::Port(p),
            RawItem::Ports(disposition, b) => {
                let mut names = Vec::new();
                names
                    .try_reserve_exact(b.len() / 4)
                    .map_err(|_| MsgReturn::SendNoBuffer)?;
                names.extend(
                    b.chunks_exact(4)
                        .map(|c| PortName(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
                );
                Item::Ports(PortArray { disposition, names })
            }
            RawItem::Ool(b, deallocate) => Item::Ool(OolItem {
                data: copy(b)?,
                deallocate,
            }),
        })
    }
}

/// `bytes.to_vec()` without aborting on allocation failure.
fn copy(bytes: &[u8]) -> Result<Vec<u8>, MsgReturn> {
    let mut v = Vec::new();
    v.try_reserve_exact(bytes.len())
        .map_err(|_| MsgReturn::SendNoBuffer)?;
    v.extend_from_slice(bytes);
    Ok(v)
}

/// Takes a payload of `len` bytes plus its padding, checking that it is present
/// (`short` otherwise) and that the padding is zero.
fn payload<'a>(r: &mut Reader<'a>, len: u32, short: MsgReturn) -> Result<&'a [u8], MsgReturn> {
    let len = usize::try_from(len).map_err(|_| short)?;
    let padded = len.checked_next_multiple_of(ALIGN).ok_or(short)?;
    // The length is checked against the remaining input here, before anything
    // is allocated for it.
    let chunk = r.take(padded).ok_or(short)?;
    let (data, pad) = chunk.split_at_checked(len).ok_or(short)?;
    if pad.iter().any(|&b| b != 0) {
        return Err(MsgReturn::SendInvalidData);
    }
    Ok(data)
}

/// Parses and validates one item (checks 8–12 in the module docs).
fn parse_item<'a>(r: &mut Reader<'a>) -> Result<RawItem<'a>, MsgReturn> {
    let [name, flags, res0, res1, n0, n1, n2, n3] = r
        .array::<DESCRIPTOR_LEN>()
        .ok_or(MsgReturn::SendMsgTooSmall)?;
    let number = u32::from_le_bytes([n0, n1, n2, n3]);
    if flags & !(FLAG_INLINE | FLAG_DEALLOCATE | FLAG_ARRAY) != 0 || res0 != 0 || res1 != 0 {
        return Err(MsgReturn::SendInvalidType);
    }
    let array = flags & FLAG_ARRAY != 0;
    if array {
        // Port arrays only: in-line, never deallocated.
        let disposition = Disposition::try_from(name).map_err(|_| MsgReturn::SendInvalidType)?;
        if flags != FLAG_INLINE | FLAG_ARRAY {
            return Err(MsgReturn::SendInvalidType);
        }
        let len = number.checked_mul(4).ok_or(MsgReturn::SendMsgTooSmall)?;
        return Ok(RawItem::Ports(
            disposition,
            payload(r, len, MsgReturn::SendMsgTooSmall)?,
        ));
    }
    let inline = flags & FLAG_INLINE != 0;
    let deallocate = flags & FLAG_DEALLOCATE != 0;
    // Integers and ports: exactly one element, in-line, never deallocated.
    let single = || {
        if inline && !deallocate && number == 1 {
            Ok(())
        } else {
            Err(MsgReturn::SendInvalidType)
        }
    };
    let short = MsgReturn::SendMsgTooSmall;

    match name {
        MSG_TYPE_INTEGER_32 => {
            single()?;
            let p = payload(r, 4, short)?;
            let v: [u8; 4] = p.try_into().map_err(|_| short)?;
            Ok(RawItem::U32(u32::from_le_bytes(v)))
        }
        MSG_TYPE_INTEGER_64 => {
            single()?;
            let p = payload(r, 8, short)?;
            let v: [u8; 8] = p.try_into().map_err(|_| short)?;
            Ok(RawItem::U64(u64::from_le_bytes(v)))
        }
        MSG_TYPE_BYTE if inline => {
            if deallocate {
                return Err(MsgReturn::SendInvalidType);
            }
            Ok(RawItem::Bytes(payload(r, number, short)?))
        }
        MSG_TYPE_BYTE => Ok(RawItem::Ool(
            payload(r, number, MsgReturn::SendInvalidMemory)?,
            deallocate,
        )),
        _ => {
            let disposition =
                Disposition::try_from(name).map_err(|_| MsgReturn::SendInvalidType)?;
            single()?;
            let p = payload(r, 4, short)?;
            let v: [u8; 4] = p.try_into().map_err(|_| short)?;
            Ok(RawItem::Port(PortItem {
                disposition,
                name: PortName(u32::from_le_bytes(v)),
            }))
        }
    }
}

/// Checks and parses a message in the wire form.
///
/// The input is untrusted: every field is validated as described in the
/// [module docs](self), and nothing is allocated until the whole message has
/// passed. The returned header's `size` is the input length and its `COMPLEX`
/// bit agrees with the body. Calling [`encode`] on the result gives back
/// `bytes` exactly.
///
/// # Errors
///
/// The first failing check, in the order of the table in the module docs:
/// [`SendMsgTooSmall`](MsgReturn::SendMsgTooSmall) for input shorter than the
/// header or than its `size`, or an in-line payload past the end;
/// [`SendInvalidHeader`](MsgReturn::SendInvalidHeader) for a bad `size` or
/// `bits`, trailing bytes, or a `COMPLEX` bit that disagrees with the body;
/// [`SendNoBuffer`](MsgReturn::SendNoBuffer) for exceeding `limits` (or running
/// out of memory); [`SendInvalidType`](MsgReturn::SendInvalidType) for a bad
/// descriptor; [`SendInvalidMemory`](MsgReturn::SendInvalidMemory) for an
/// out-of-line payload past the end; [`SendInvalidData`](MsgReturn::SendInvalidData)
/// for non-zero padding.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, MsgReturn> {
    let header = peek_header(bytes)?;
    // A size that does not even fit a usize is larger than any slice.
    let size = usize::try_from(header.size).map_err(|_| MsgReturn::SendMsgTooSmall)?;
    if size > bytes.len() {
        return Err(MsgReturn::SendMsgTooSmall);
    }
    if size < bytes.len() {
        return Err(MsgReturn::SendInvalidHeader);
    }
    if header.size > limits.max_size {
        return Err(MsgReturn::SendNoBuffer);
    }
    let body_bytes = bytes.get(HEADER_LEN..).ok_or(MsgReturn::SendMsgTooSmall)?;
    if body_bytes.is_empty() {
        // Header only: nothing more to check but the COMPLEX bit, nothing to allocate.
        if header.bits.is_complex() {
            return Err(MsgReturn::SendInvalidHeader);
        }
        return Ok(Message {
            header,
            body: Vec::new(),
        });
    }

    // Pass 1: validate everything and count, allocating nothing.
    let mut count: u32 = 0;
    let mut complex = false;
    let mut r = Reader { rest: body_bytes };
    while !r.is_empty() {
        if count >= limits.max_items {
            return Err(MsgReturn::SendNoBuffer);
        }
        let item = parse_item(&mut r)?;
        complex |= item.is_complex();
        // Cannot overflow: count < max_items <= u32::MAX.
        count += 1;
    }
    if complex != header.bits.is_complex() {
        return Err(MsgReturn::SendInvalidHeader);
    }

    // Pass 2: build the message, now that its shape is known to be valid.
    let mut body = Vec::new();
    let count = usize::try_from(count).map_err(|_| MsgReturn::SendNoBuffer)?;
    body.try_reserve_exact(count)
        .map_err(|_| MsgReturn::SendNoBuffer)?;
    let mut r = Reader { rest: body_bytes };
    while !r.is_empty() {
        body.push(parse_item(&mut r)?.to_item()?);
    }
    Ok(Message { header, body })
}

/// Encodes `msg` in the wire form into a new buffer of exactly
/// `msg.wire_size()` bytes.
///
/// The header's `size` field is written as the real size and its `COMPLEX` bit
/// from the body ([`Message::body_is_complex`]); the values in `msg.header` for
/// those two are ignored.
///
/// # Errors
///
/// * [`MsgReturn::SendInvalidHeader`]: the header bits have unknown bits set, a
///   remote field that is neither a valid [`Disposition`] nor 0 with a null
///   remote name, or a local field that is neither 0 nor a valid disposition
///   (bytes that [`decode`] would reject are never produced).
/// * [`MsgReturn::SendNoBuffer`]: the message is larger than `u32::MAX` bytes,
///   or the buffer cannot be allocated.
pub fn encode(msg: &Message) -> Result<Vec<u8>, MsgReturn> {
    let mut out = Vec::new();
    encode_into(msg, &mut out)?;
    Ok(out)
}

/// Appends the wire form of `msg` to `out`: exactly `msg.wire_size()` bytes.
///
/// Existing contents of `out` are kept, so a caller can put a frame header in
/// front, or reuse one buffer by clearing it between messages. The message
/// starts at `out.len()` as it was on entry; as it is a multiple of 8 bytes
/// long, it stays 8-aligned relative to that start. On error `out` is left
/// unchanged.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_into(msg: &Message, out: &mut Vec<u8>) -> Result<(), MsgReturn> {
    if msg.body.is_empty() {
        // Header only: nothing to size or walk.
        let bytes = encode_header(&msg.header)?;
        out.try_reserve_exact(HEADER_LEN)
            .map_err(|_| MsgReturn::SendNoBuffer)?;
        out.extend_from_slice(&bytes);
        return Ok(());
    }
    let bits = msg.header.bits.with_complex(msg.body_is_complex());
    check_bits(bits, msg.header.remote)?;
    let size = u32::try_from(msg.wire_size()).map_err(|_| MsgReturn::SendNoBuffer)?;
    let len = usize::try_from(size).map_err(|_| MsgReturn::SendNoBuffer)?;
    out.try_reserve_exact(len)
        .map_err(|_| MsgReturn::SendNoBuffer)?;

    out.extend_from_slice(&header_bytes(bits, size, &msg.header));

    for item in &msg.body {
        match item {
            Item::U32(v) => {
                put_descriptor(out, MSG_TYPE_INTEGER_32, FLAG_INLINE, 1);
                put_payload(out, &v.to_le_bytes());
            }
            Item::U64(v) => {
                put_descriptor(out, MSG_TYPE_INTEGER_64, FLAG_INLINE, 1);
                put_payload(out, &v.to_le_bytes());
            }
            Item::Bytes(b) => {
                // Fits: the whole message was checked to fit u32 above.
                let n = u32::try_from(b.len()).map_err(|_| MsgReturn::SendNoBuffer)?;
                put_descriptor(out, MSG_TYPE_BYTE, FLAG_INLINE, n);
                put_payload(out, b);
            }
            Item::Port(p) => {
                put_descriptor(out, u8::from(p.disposition), FLAG_INLINE, 1);
                put_payload(out, &p.name.0.to_le_bytes());
            }
            Item::Ports(a) => {
                let n = u32::try_from(a.names.len()).map_err(|_| MsgReturn::SendNoBuffer)?;
                put_descriptor(out, u8::from(a.disposition), FLAG_INLINE | FLAG_ARRAY, n);
                let start = out.len();
                for name in &a.names {
                    out.extend_from_slice(&name.0.to_le_bytes());
                }
                let written = out.len() - start;
                out.extend(core::iter::repeat_n(0, (ALIGN - written % ALIGN) % ALIGN));
            }
            Item::Ool(o) => {
                let n = u32::try_from(o.data.len()).map_err(|_| MsgReturn::SendNoBuffer)?;
                let flags = if o.deallocate { FLAG_DEALLOCATE } else { 0 };
                put_descriptor(out, MSG_TYPE_BYTE, flags, n);
                put_payload(out, &o.data);
            }
        }
    }
    Ok(())
}

/// The 24 header bytes, with the given `bits` and `size` fields.
/// Encodes a message that is only a header (no body), into an array: what
/// [`encode_into`] writes for such a message, with no allocation. The size
/// field is set to the header's size and the complex bit cleared.
///
/// # Errors
///
/// [`MsgReturn::SendInvalidHeader`] when the header's bits are not valid.
#[inline]
pub fn encode_header(header: &MsgHeader) -> Result<[u8; HEADER_LEN], MsgReturn> {
    let bits = header.bits.with_complex(false);
    check_bits(bits, header.remote)?;
    Ok(header_bytes(bits, HEADER_SIZE, header))
}

#[inline]
fn header_bytes(bits: MsgBits, size: u32, h: &MsgHeader) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    for (i, field) in [
        bits.0,
        size,
        h.remote.0,
        h.local.0,
        h.seqno,
        u32::from_le_bytes(h.id.to_le_bytes()),
    ]
    .into_iter()
    .enumerate()
    {
        header[4 * i..4 * i + 4].copy_from_slice(&field.to_le_bytes());
    }
    header
}

/// Writes an item descriptor.
fn put_descriptor(out: &mut Vec<u8>, name: u8, flags: u8, number: u32) {
    out.extend_from_slice(&[name, flags, 0, 0]);
    out.extend_from_slice(&number.to_le_bytes());
}

/// Writes a payload followed by zero padding up to a multiple of 8.
fn put_payload(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    let pad = (ALIGN - data.len() % ALIGN) % ALIGN;
    out.extend_from_slice(&[0; ALIGN][..pad]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample() -> Message {
        Message::new(7, PortName(3), Disposition::CopySend)
            .with_reply(PortName(4), Disposition::MakeSendOnce)
            .with_item(Item::U32(0xdead_beef))
            .with_item(Item::Bytes(vec![1, 2, 3]))
            .with_item(Item::port(PortName(9), Disposition::MoveSend))
    }

    #[test]
    fn layout_of_a_small_message() {
        let bytes = encode(&sample()).expect("encodes");
        assert_eq!(bytes.len(), 24 + 16 + 16 + 16);
        // Header.
        assert_eq!(
            &bytes[0..4],
            &(19u32 | (21 << 8) | 0x8000_0000).to_le_bytes()
        );
        assert_eq!(&bytes[4..8], &72u32.to_le_bytes());
        assert_eq!(&bytes[8..12], &3u32.to_le_bytes());
        assert_eq!(&bytes[12..16], &4u32.to_le_bytes());
        assert_eq!(&bytes[16..20], &0u32.to_le_bytes());
        assert_eq!(&bytes[20..24], &7i32.to_le_bytes());
        // U32 item.
        assert_eq!(&bytes[24..32], &[2, 1, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&bytes[32..40], &[0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0]);
        // Bytes item.
        assert_eq!(&bytes[40..48], &[9, 1, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&bytes[48..56], &[1, 2, 3, 0, 0, 0, 0, 0]);
        // Port item.
        assert_eq!(&bytes[56..64], &[17, 1, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&bytes[64..72], &[9, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn payload_bounds_checked_before_use() {
        let mut r = Reader { rest: &[0u8; 16] };
        assert_eq!(
            payload(&mut r, u32::MAX, MsgReturn::SendMsgTooSmall).err(),
            Some(MsgReturn::SendMsgTooSmall)
        );
        // A failed take consumes nothing.
        assert_eq!(r.rest.len(), 16);
        assert_eq!(
            payload(&mut r, 9, MsgReturn::SendMsgTooSmall).map(<[u8]>::len),
            Ok(9)
        );
        assert!(r.is_empty());
    }

    #[test]
    fn limits_default() {
        assert_eq!(Limits::default(), Limits::DEFAULT);
        assert_eq!(Limits::DEFAULT.max_size, 64 << 20);
        assert_eq!(Limits::DEFAULT.max_items, 4096);
    }
}
