//! The wire form of messages, through the public API: round trips, one test per
//! class of malformed input with its exact error code, truncation, and property
//! tests that decoding untrusted bytes never panics and is canonical.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use hurd_ipc::wire::{
    self, FLAG_ARRAY, FLAG_DEALLOCATE, FLAG_INLINE, Limits, MSG_TYPE_BYTE, MSG_TYPE_INTEGER_32,
    MSG_TYPE_INTEGER_64,
};
use hurd_ipc::{Disposition, Item, Message, MsgBits, MsgHeader, MsgReturn, PortArray, PortName};
use proptest::prelude::*;

const COMPLEX: u32 = 0x8000_0000;

const ALL_DISPOSITIONS: [Disposition; 6] = [
    Disposition::MoveReceive,
    Disposition::MoveSend,
    Disposition::MoveSendOnce,
    Disposition::CopySend,
    Disposition::MakeSend,
    Disposition::MakeSendOnce,
];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// What decoding an encoded `msg` must give: the same message with the real
/// size and the COMPLEX bit taken from the body.
fn normalized(msg: &Message) -> Message {
    let mut m = msg.clone();
    m.header.size = u32::try_from(msg.wire_size()).unwrap();
    m.header.bits = m.header.bits.with_complex(m.body_is_complex());
    m
}

/// Encodes, checks the length against `wire_size`, decodes, compares with the
/// normalized original, and checks that re-encoding is byte-identical.
fn round_trip(msg: &Message) -> Vec<u8> {
    let bytes = wire::encode(msg).unwrap();
    assert_eq!(bytes.len() as u64, msg.wire_size());
    assert_eq!(bytes.len() % 8, 0);
    let back = wire::decode(&bytes, &Limits::UNLIMITED).unwrap();
    assert_eq!(back, normalized(msg));
    assert_eq!(wire::encode(&back).unwrap(), bytes);
    assert_eq!(wire::peek_header(&bytes).unwrap(), back.header);
    bytes
}

fn decode(bytes: &[u8]) -> Result<Message, MsgReturn> {
    wire::decode(bytes, &Limits::default())
}

fn base() -> Message {
    Message::new(1000, PortName(5), Disposition::CopySend)
        .with_reply(PortName(6), Disposition::MakeSendOnce)
}

/// A raw header; `size` is patched by [`raw`].
fn header(bits: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for f in [bits, 0, 5, 6, 0, 1000] {
        v.extend_from_slice(&f.to_le_bytes());
    }
    v
}

/// A raw descriptor.
fn desc(name: u8, flags: u8, reserved: u16, number: u32) -> Vec<u8> {
    let mut v = vec![name, flags];
    v.extend_from_slice(&reserved.to_le_bytes());
    v.extend_from_slice(&number.to_le_bytes());
    v
}

/// Header with `bits` followed by `body`, with the size field set to the length.
fn raw(bits: u32, body: &[&[u8]]) -> Vec<u8> {
    let mut v = header(bits);
    for piece in body {
        v.extend_from_slice(piece);
    }
    let len = u32::try_from(v.len()).unwrap();
    set_size(&mut v, len);
    v
}

fn set_size(bytes: &mut [u8], size: u32) {
    bytes[4..8].copy_from_slice(&size.to_le_bytes());
}

fn simple_bits() -> u32 {
    19 | (21 << 8)
}

fn complex_bits() -> u32 {
    simple_bits() | COMPLEX
}

/// A message with every item kind.
fn everything() -> Message {
    base()
        .with_item(Item::U32(0x0102_0304))
        .with_item(Item::U64(0x0102_0304_0506_0708))
        .with_item(Item::Bytes(b"hello, hurd".to_vec()))
        .with_item(Item::Bytes(Vec::new()))
        .with_item(Item::port(PortName(77), Disposition::MoveSend))
        .with_item(Item::port(PortName::NULL, Disposition::CopySend))
        .with_item(Item::port(PortName::DEAD, Disposition::MakeSendOnce))
        .with_item(Item::ool((0..=200).collect(), true))
        .with_item(Item::ool(vec![9; 3], false))
        .with_item(Item::U32(u32::MAX))
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

#[test]
fn round_trip_empty_body() {
    let bytes = round_trip(&base());
    assert_eq!(bytes.len(), 24);
    let m = Message::new(-5, PortName(1), Disposition::MoveSendOnce);
    assert_eq!(round_trip(&m).len(), 24);
}

#[test]
fn round_trip_every_item_kind() {
    let m = everything();
    let bytes = round_trip(&m);
    assert_eq!(
        u32::from_le_bytes(bytes[0..4].try_into().unwrap()) & COMPLEX,
        COMPLEX
    );
}

#[test]
fn round_trip_each_kind_alone() {
    for item in [
        Item::U32(0),
        Item::U32(u32::MAX),
        Item::U64(0),
        Item::U64(u64::MAX),
        Item::Bytes(Vec::new()),
        Item::Bytes(vec![0xff; 8]),
        Item::ool(Vec::new(), false),
        Item::ool(Vec::new(), true),
        Item::ool(vec![1; 9], false),
        Item::ool(vec![1; 16], true),
    ] {
        round_trip(&base().with_item(item));
    }
}

#[test]
fn round_trip_empty_bytes_is_just_a_descriptor() {
    let m = base().with_item(Item::Bytes(Vec::new()));
    let bytes = round_trip(&m);
    assert_eq!(bytes.len(), 32);
    assert_eq!(
        &bytes[24..],
        &[MSG_TYPE_BYTE, FLAG_INLINE, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn round_trip_bytes_every_padding() {
    for n in 1..=17u8 {
        let data: Vec<u8> = (1..=n).collect();
        let m = base().with_item(Item::Bytes(data.clone()));
        let bytes = round_trip(&m);
        let padded = (usize::from(n)).div_ceil(8) * 8;
        assert_eq!(bytes.len(), 24 + 8 + padded, "n = {n}");
        assert_eq!(&bytes[32..32 + usize::from(n)], &data[..]);
        assert!(bytes[32 + usize::from(n)..].iter().all(|&b| b == 0));
        // The same data out of line has the same size and layout but the flags.
        let o = base().with_item(Item::ool(data, n % 2 == 0));
        let ob = round_trip(&o);
        assert_eq!(ob.len(), bytes.len());
        assert_eq!(ob[25] & FLAG_INLINE, 0);
    }
}

#[test]
fn round_trip_ool_deallocate_flag() {
    for deallocate in [false, true] {
        let m = base().with_item(Item::ool(vec![0xaa; 5], deallocate));
        let bytes = round_trip(&m);
        let want = if deallocate { FLAG_DEALLOCATE } else { 0 };
        assert_eq!(bytes[24], MSG_TYPE_BYTE);
        assert_eq!(bytes[25], want);
    }
}

#[test]
fn round_trip_ports_every_disposition_and_special_names() {
    for d in ALL_DISPOSITIONS {
        for name in [
            PortName::NULL,
            PortName::DEAD,
            PortName(1),
            PortName(0x1234_5678),
        ] {
            let m = base().with_item(Item::port(name, d));
            let bytes = round_trip(&m);
            assert_eq!(bytes.len(), 40);
            assert_eq!(bytes[24], u8::from(d));
            assert_eq!(&bytes[32..36], &name.0.to_le_bytes());
        }
    }
}

#[test]
fn round_trip_header_dispositions() {
    for remote in ALL_DISPOSITIONS {
        for local in std::iter::once(None).chain(ALL_DISPOSITIONS.map(Some)) {
            let mut m = base();
            m.header.bits = MsgBits::new(remote, local);
            m.header.seqno = 0xffff_fffe;
            m.header.id = i32::MIN;
            m.header.remote = PortName::DEAD;
            m.header.local = PortName::NULL;
            round_trip(&m);
        }
    }
}

#[test]
fn round_trip_received_message_without_reply_port() {
    // As Mach's copy-out writes it: MACH_MSGH_BITS(0, PORT_SEND), remote NULL.
    let mut m = base();
    m.header.bits = MsgBits(u32::from(u8::from(Disposition::PORT_SEND)) << 8);
    m.header.remote = PortName::NULL;
    m.header.local = PortName(12);
    m.header.seqno = 42;
    round_trip(&m);
}

#[test]
fn encode_fills_in_size_and_complex_bit() {
    let mut m = base().with_item(Item::U32(1));
    m.header.size = 9999;
    m.header.bits = m.header.bits.with_complex(true); // wrong: body is simple
    let back = decode(&wire::encode(&m).unwrap()).unwrap();
    assert_eq!(back.header.size, 40);
    assert!(!back.header.bits.is_complex());

    let m = base().with_item(Item::port(PortName(3), Disposition::MakeSend));
    assert!(!m.header.bits.is_complex());
    let back = decode(&wire::encode(&m).unwrap()).unwrap();
    assert!(back.header.bits.is_complex());
    assert_eq!(back, normalized(&m));
}

#[test]
fn encode_into_appends_and_leaves_output_alone_on_error() {
    let m = everything();
    let mut out = vec![0xee; 8];
    wire::encode_into(&m, &mut out).unwrap();
    assert_eq!(&out[..8], &[0xee; 8]);
    assert_eq!(&out[8..], &wire::encode(&m).unwrap()[..]);

    let mut bad = m.clone();
    bad.header.bits = MsgBits(bad.header.bits.0 | 0x0001_0000);
    let before = out.clone();
    assert_eq!(
        wire::encode_into(&bad, &mut out),
        Err(MsgReturn::SendInvalidHeader)
    );
    assert_eq!(out, before);
}

#[test]
fn encode_rejects_bad_header_bits() {
    let mut m = base();
    m.header.bits = MsgBits(simple_bits() | 0x0001_0000);
    assert_eq!(wire::encode(&m), Err(MsgReturn::SendInvalidHeader));
    m.header.bits = MsgBits(15 | (21 << 8));
    assert_eq!(wire::encode(&m), Err(MsgReturn::SendInvalidHeader));
    m.header.bits = MsgBits(19 | (22 << 8));
    assert_eq!(wire::encode(&m), Err(MsgReturn::SendInvalidHeader));
    // Remote field 0 needs a null remote name.
    m.header.bits = MsgBits(0);
    m.header.remote = PortName(5);
    assert_eq!(wire::encode(&m), Err(MsgReturn::SendInvalidHeader));
    assert_eq!(
        wire::encode(&Message::default()).map(|b| b.len()),
        Ok(24),
        "all-zero header is a received message with no ports"
    );
}

#[test]
fn peek_header_reads_only_the_header() {
    let bytes = wire::encode(&everything()).unwrap();
    let h = wire::peek_header(&bytes[..24]).unwrap();
    assert_eq!(h.size as usize, bytes.len());
    assert_eq!(
        h,
        MsgHeader {
            bits: MsgBits(complex_bits()),
            size: bytes.len() as u32,
            remote: PortName(5),
            local: PortName(6),
            seqno: 0,
            id: 1000,
        }
    );
    assert_eq!(
        wire::peek_header(&bytes[..23]),
        Err(MsgReturn::SendMsgTooSmall)
    );
    // COMPLEX is not checked against a body it cannot see.
    let mut simple = raw(complex_bits(), &[]);
    assert!(wire::peek_header(&simple).is_ok());
    assert_eq!(decode(&simple), Err(MsgReturn::SendInvalidHeader));
    set_size(&mut simple, 20);
    assert_eq!(
        wire::peek_header(&simple),
        Err(MsgReturn::SendInvalidHeader)
    );
}

#[test]
fn limits_default_is_documented_values() {
    let l = Limits::default();
    assert_eq!(l.max_size, 64 * 1024 * 1024);
    assert_eq!(l.max_items, 4096);
}

// ---------------------------------------------------------------------------
// Malformed input: one test per class, exact error codes
// ---------------------------------------------------------------------------

#[test]
fn shorter_than_header_is_too_small() {
    let bytes = raw(simple_bits(), &[]);
    for n in 0..24 {
        assert_eq!(
            decode(&bytes[..n]),
            Err(MsgReturn::SendMsgTooSmall),
            "len {n}"
        );
        assert_eq!(
            wire::peek_header(&bytes[..n]),
            Err(MsgReturn::SendMsgTooSmall)
        );
    }
    assert!(decode(&bytes).is_ok());
}

#[test]
fn size_field_below_header_is_invalid_header() {
    let mut bytes = raw(simple_bits(), &[]);
    for size in [0, 8, 16, 23] {
        set_size(&mut bytes, size);
        assert_eq!(
            decode(&bytes),
            Err(MsgReturn::SendInvalidHeader),
            "size {size}"
        );
    }
}

#[test]
fn size_field_not_multiple_of_8_is_invalid_header() {
    let mut bytes = raw(simple_bits(), &[&desc(MSG_TYPE_BYTE, FLAG_INLINE, 0, 0)]);
    for size in [25, 28, 31, 33] {
        set_size(&mut bytes, size);
        assert_eq!(
            decode(&bytes),
            Err(MsgReturn::SendInvalidHeader),
            "size {size}"
        );
    }
    // Even when the buffer really has that many bytes.
    let mut odd = bytes.clone();
    odd.push(0);
    set_size(&mut odd, 33);
    assert_eq!(decode(&odd), Err(MsgReturn::SendInvalidHeader));
}

#[test]
fn size_field_beyond_buffer_is_too_small() {
    let mut bytes = raw(simple_bits(), &[]);
    for size in [32, 4096, u32::MAX - 7] {
        set_size(&mut bytes, size);
        assert_eq!(
            decode(&bytes),
            Err(MsgReturn::SendMsgTooSmall),
            "size {size}"
        );
    }
}

#[test]
fn trailing_bytes_are_invalid_header() {
    let mut bytes = raw(simple_bits(), &[]);
    bytes.extend_from_slice(&[0; 8]);
    // size says 24, buffer is 32.
    assert_eq!(decode(&bytes), Err(MsgReturn::SendInvalidHeader));
    bytes.push(0);
    assert_eq!(decode(&bytes), Err(MsgReturn::SendInvalidHeader));
}

#[test]
fn unknown_header_bits_are_invalid_header() {
    for extra in [1 << 16, 1 << 20, 1 << 30, 0x7fff_0000] {
        let bytes = raw(simple_bits() | extra, &[]);
        assert_eq!(
            decode(&bytes),
            Err(MsgReturn::SendInvalidHeader),
            "{extra:#x}"
        );
    }
}

#[test]
fn bad_remote_field_is_invalid_header() {
    for remote in [1u32, 2, 9, 15, 22, 0xff] {
        let bytes = raw(remote | (21 << 8), &[]);
        assert_eq!(
            decode(&bytes),
            Err(MsgReturn::SendInvalidHeader),
            "remote {remote}"
        );
        assert_eq!(wire::peek_header(&bytes), Err(MsgReturn::SendInvalidHeader));
    }
    // 0 is allowed only with a NULL remote name; header() puts name 5 there.
    assert_eq!(
        decode(&raw(21 << 8, &[])),
        Err(MsgReturn::SendInvalidHeader)
    );
    let mut ok = raw(21 << 8, &[]);
    ok[8..12].copy_from_slice(&0u32.to_le_bytes());
    assert!(decode(&ok).is_ok());
}

#[test]
fn bad_local_field_is_invalid_header() {
    for local in [1u32, 2, 15, 22, 0xff] {
        let bytes = raw(19 | (local << 8), &[]);
        assert_eq!(
            decode(&bytes),
            Err(MsgReturn::SendInvalidHeader),
            "local {local}"
        );
    }
    assert!(decode(&raw(19, &[])).is_ok());
}

#[test]
fn complex_bit_mismatch_is_invalid_header() {
    // Set, but only simple items.
    let body = [desc(MSG_TYPE_INTEGER_32, FLAG_INLINE, 0, 1), vec![0; 8]];
    let b: Vec<&[u8]> = body.iter().map(Vec::as_slice).collect();
    assert_eq!(
        decode(&raw(complex_bits(), &b)),
        Err(MsgReturn::SendInvalidHeader)
    );
    assert!(decode(&raw(simple_bits(), &b)).is_ok());
    // Clear, but a port item.
    let body = [desc(17, FLAG_INLINE, 0, 1), vec![0; 8]];
    let b: Vec<&[u8]> = body.iter().map(Vec::as_slice).collect();
    assert_eq!(
        decode(&raw(simple_bits(), &b)),
        Err(MsgReturn::SendInvalidHeader)
    );
    assert!(decode(&raw(complex_bits(), &b)).is_ok());
    // Clear, but an out-of-line item.
    let body = [desc(MSG_TYPE_BYTE, 0, 0, 1), vec![0; 8]];
    let b: Vec<&[u8]> = body.iter().map(Vec::as_slice).collect();
    assert_eq!(
        decode(&raw(simple_bits(), &b)),
        Err(MsgReturn::SendInvalidHeader)
    );
    assert!(decode(&raw(complex_bits(), &b)).is_ok());
}

#[test]
fn over_max_size_is_no_buffer() {
    let m = base().with_item(Item::Bytes(vec![1; 100]));
    let bytes = wire::encode(&m).unwrap();
    let len = bytes.len() as u32;
    let exact = Limits {
        max_size: len,
        max_items: 10,
    };
    assert!(wire::decode(&bytes, &exact).is_ok());
    let small = Limits {
        max_size: len - 1,
        max_items: 10,
    };
    assert_eq!(wire::decode(&bytes, &small), Err(MsgReturn::SendNoBuffer));
    let tiny = Limits {
        max_size: 0,
        max_items: 10,
    };
    assert_eq!(wire::decode(&bytes, &tiny), Err(MsgReturn::SendNoBuffer));
}

#[test]
fn over_max_items_is_no_buffer() {
    let mut m = base();
    for i in 0..5 {
        m = m.with_item(Item::U32(i));
    }
    let bytes = wire::encode(&m).unwrap();
    let five = Limits {
        max_items: 5,
        ..Limits::default()
    };
    assert!(wire::decode(&bytes, &five).is_ok());
    let four = Limits {
        max_items: 4,
        ..Limits::default()
    };
    assert_eq!(wire::decode(&bytes, &four), Err(MsgReturn::SendNoBuffer));
    let zero = Limits {
        max_items: 0,
        ..Limits::default()
    };
    assert_eq!(wire::decode(&bytes, &zero), Err(MsgReturn::SendNoBuffer));
    assert!(wire::decode(&wire::encode(&base()).unwrap(), &zero).is_ok());
}

#[test]
fn unknown_type_name_is_invalid_type() {
    for name in [0u8, 1, 3, 8, 10, 12, 15, 22, 0x80, 0xff] {
        let d = desc(name, FLAG_INLINE, 0, 1);
        for bits in [simple_bits(), complex_bits()] {
            let bytes = raw(bits, &[&d, &[0; 8]]);
            assert_eq!(
                decode(&bytes),
                Err(MsgReturn::SendInvalidType),
                "name {name}"
            );
        }
    }
}

#[test]
fn unknown_flag_bits_are_invalid_type() {
    for flags in [1 << 2, 1 << 7, 0xff, FLAG_INLINE | 0x10] {
        for name in [MSG_TYPE_INTEGER_32, MSG_TYPE_BYTE, 17] {
            let d = desc(name, flags, 0, 1);
            let bytes = raw(complex_bits(), &[&d, &[0; 8]]);
            assert_eq!(
                decode(&bytes),
                Err(MsgReturn::SendInvalidType),
                "flags {flags:#x}"
            );
        }
    }
}

#[test]
fn nonzero_reserved_is_invalid_type() {
    for reserved in [1u16, 0x100, 0xffff] {
        let d = desc(MSG_TYPE_INTEGER_32, FLAG_INLINE, reserved, 1);
        let bytes = raw(simple_bits(), &[&d, &[0; 8]]);
        assert_eq!(decode(&bytes), Err(MsgReturn::SendInvalidType));
        let d = desc(MSG_TYPE_BYTE, FLAG_INLINE, reserved, 0);
        assert_eq!(
            decode(&raw(simple_bits(), &[&d])),
            Err(MsgReturn::SendInvalidType)
        );
    }
}

#[test]
fn wrong_number_for_scalars_and_ports_is_invalid_type() {
    for name in [MSG_TYPE_INTEGER_32, MSG_TYPE_INTEGER_64, 16, 19, 21] {
        for number in [0u32, 2, 4, 8, u32::MAX] {
            let d = desc(name, FLAG_INLINE, 0, number);
            let bytes = raw(complex_bits(), &[&d, &[0; 8]]);
            assert_eq!(
                decode(&bytes),
                Err(MsgReturn::SendInvalidType),
                "{name}/{number}"
            );
        }
    }
}

#[test]
fn port_with_deallocate_is_invalid_type() {
    for d in ALL_DISPOSITIONS {
        let dd = desc(u8::from(d), FLAG_INLINE | FLAG_DEALLOCATE, 0, 1);
        let bytes = raw(complex_bits(), &[&dd, &[1, 0, 0, 0, 0, 0, 0, 0]]);
        assert_eq!(decode(&bytes), Err(MsgReturn::SendInvalidType));
    }
}

#[test]
fn non_byte_item_out_of_line_is_invalid_type() {
    for name in [
        MSG_TYPE_INTEGER_32,
        MSG_TYPE_INTEGER_64,
        16,
        17,
        18,
        19,
        20,
        21,
    ] {
        for flags in [0, FLAG_DEALLOCATE] {
            let d = desc(name, flags, 0, 1);
            let bytes = raw(complex_bits(), &[&d, &[0; 8]]);
            assert_eq!(
                decode(&bytes),
                Err(MsgReturn::SendInvalidType),
                "{name}/{flags}"
            );
        }
    }
}

#[test]
fn deallocate_on_inline_data_is_invalid_type() {
    for name in [MSG_TYPE_INTEGER_32, MSG_TYPE_INTEGER_64, MSG_TYPE_BYTE] {
        let d = desc(name, FLAG_INLINE | FLAG_DEALLOCATE, 0, 1);
        let bytes = raw(simple_bits(), &[&d, &[0; 8]]);
        assert_eq!(decode(&bytes), Err(MsgReturn::SendInvalidType), "{name}");
    }
}

#[test]
fn inline_payload_past_end_is_too_small() {
    // Bytes claiming 9 with only 8 present.
    let d = desc(MSG_TYPE_BYTE, FLAG_INLINE, 0, 9);
    assert_eq!(
        decode(&raw(simple_bits(), &[&d, &[0; 8]])),
        Err(MsgReturn::SendMsgTooSmall)
    );
    // Bytes claiming 1 with nothing after the descriptor.
    let d = desc(MSG_TYPE_BYTE, FLAG_INLINE, 0, 1);
    assert_eq!(
        decode(&raw(simple_bits(), &[&d])),
        Err(MsgReturn::SendMsgTooSmall)
    );
    // Scalars and ports as the last descriptor, payload missing.
    for (name, bits) in [
        (MSG_TYPE_INTEGER_32, simple_bits()),
        (MSG_TYPE_INTEGER_64, simple_bits()),
        (18, complex_bits()),
    ] {
        let d = desc(name, FLAG_INLINE, 0, 1);
        assert_eq!(
            decode(&raw(bits, &[&d])),
            Err(MsgReturn::SendMsgTooSmall),
            "{name}"
        );
    }
}

#[test]
fn ool_payload_past_end_is_invalid_memory() {
    for number in [1u32, 9, 4096, u32::MAX] {
        for flags in [0, FLAG_DEALLOCATE] {
            let d = desc(MSG_TYPE_BYTE, flags, 0, number);
            let bytes = raw(complex_bits(), &[&d]);
            assert_eq!(
                decode(&bytes),
                Err(MsgReturn::SendInvalidMemory),
                "{number}"
            );
        }
    }
    let d = desc(MSG_TYPE_BYTE, 0, 0, 17);
    assert_eq!(
        decode(&raw(complex_bits(), &[&d, &[0; 16]])),
        Err(MsgReturn::SendInvalidMemory)
    );
}

#[test]
fn nonzero_padding_is_invalid_data() {
    // (bits, descriptor, first padding byte, item length), offsets within the item.
    let cases: [(u32, Vec<u8>, usize, usize); 5] = [
        (
            simple_bits(),
            desc(MSG_TYPE_INTEGER_32, FLAG_INLINE, 0, 1),
            12,
            16,
        ),
        (
            simple_bits(),
            desc(MSG_TYPE_BYTE, FLAG_INLINE, 0, 3),
            11,
            16,
        ),
        (
            simple_bits(),
            desc(MSG_TYPE_BYTE, FLAG_INLINE, 0, 9),
            17,
            24,
        ),
        (complex_bits(), desc(17, FLAG_INLINE, 0, 1), 12, 16),
        (
            complex_bits(),
            desc(MSG_TYPE_BYTE, FLAG_DEALLOCATE, 0, 5),
            13,
            16,
        ),
    ];
    for (bits, d, pad_at, len) in cases {
        let mut item = d.clone();
        item.resize(len, 0);
        assert!(decode(&raw(bits, &[&item])).is_ok(), "zero padding is fine");
        for i in pad_at..len {
            let mut bad = item.clone();
            bad[i] = 0x01;
            assert_eq!(
                decode(&raw(bits, &[&bad])),
                Err(MsgReturn::SendInvalidData),
                "item {d:?} byte {i}"
            );
        }
    }
}

#[test]
fn first_error_wins_in_item_order() {
    // Item 1 has bad padding, item 2 an unknown type: padding is reported.
    let mut item1 = desc(MSG_TYPE_INTEGER_32, FLAG_INLINE, 0, 1);
    item1.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
    let item2 = desc(99, FLAG_INLINE, 0, 1);
    assert_eq!(
        decode(&raw(simple_bits(), &[&item1, &item2, &[0; 8]])),
        Err(MsgReturn::SendInvalidData)
    );
    // Body errors come before the COMPLEX check.
    assert_eq!(
        decode(&raw(complex_bits(), &[&item2, &[0; 8]])),
        Err(MsgReturn::SendInvalidType)
    );
}

// ---------------------------------------------------------------------------
// Truncation and huge counts
// ---------------------------------------------------------------------------

#[test]
fn truncation_at_every_offset_is_an_error() {
    let bytes = wire::encode(&everything()).unwrap();
    for n in 0..bytes.len() {
        // Below 24 the header is incomplete; from 24 on, the size field still
        // claims the full length: either way the buffer is too small.
        assert_eq!(
            decode(&bytes[..n]),
            Err(MsgReturn::SendMsgTooSmall),
            "cut at {n}"
        );
    }
}

#[test]
fn truncation_with_size_field_adjusted_never_panics_and_is_canonical() {
    let bytes = wire::encode(&everything()).unwrap();
    let mut successes = 0;
    for n in 24..bytes.len() {
        let mut cut = bytes[..n].to_vec();
        set_size(&mut cut, n as u32);
        match wire::decode(&cut, &Limits::UNLIMITED) {
            Ok(m) => {
                successes += 1;
                assert_eq!(wire::encode(&m).unwrap(), cut, "cut at {n}");
            }
            Err(e) => assert!(e.is_send_error(), "cut at {n}: {e:?}"),
        }
    }
    // Cuts at item boundaries while the body is still complex decode fine.
    assert!(successes > 0);
}

#[test]
fn huge_number_with_short_buffer_fails_fast() {
    let start = Instant::now();
    for (name, flags, bits, want) in [
        (
            MSG_TYPE_BYTE,
            FLAG_INLINE,
            simple_bits(),
            MsgReturn::SendMsgTooSmall,
        ),
        (
            MSG_TYPE_BYTE,
            0,
            complex_bits(),
            MsgReturn::SendInvalidMemory,
        ),
        (
            MSG_TYPE_BYTE,
            FLAG_DEALLOCATE,
            complex_bits(),
            MsgReturn::SendInvalidMemory,
        ),
        (
            MSG_TYPE_INTEGER_32,
            FLAG_INLINE,
            simple_bits(),
            MsgReturn::SendInvalidType,
        ),
        (17, FLAG_INLINE, complex_bits(), MsgReturn::SendInvalidType),
    ] {
        for number in [u32::MAX, u32::MAX - 7, 1 << 31] {
            let d = desc(name, flags, 0, number);
            let bytes = raw(bits, &[&d, &[0; 16]]);
            assert_eq!(wire::decode(&bytes, &Limits::UNLIMITED), Err(want));
        }
    }
    // Many huge items back to back: still nothing allocated, still fast.
    let mut body = Vec::new();
    for _ in 0..1000 {
        body.extend(desc(MSG_TYPE_BYTE, FLAG_INLINE, 0, 0));
    }
    body.extend(desc(MSG_TYPE_BYTE, FLAG_INLINE, 0, u32::MAX));
    let bytes = raw(simple_bits(), &[&body]);
    assert_eq!(
        wire::decode(&bytes, &Limits::UNLIMITED),
        Err(MsgReturn::SendMsgTooSmall)
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn many_empty_items_within_limits() {
    let mut m = base();
    for _ in 0..4096 {
        m = m.with_item(Item::Bytes(Vec::new()));
    }
    let bytes = round_trip(&m);
    assert_eq!(bytes.len(), 24 + 8 * 4096);
    assert!(decode(&bytes).is_ok());
    m = m.with_item(Item::Bytes(Vec::new()));
    let bytes = wire::encode(&m).unwrap();
    assert_eq!(decode(&bytes), Err(MsgReturn::SendNoBuffer));
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn disposition() -> impl Strategy<Value = Disposition> {
    prop::sample::select(ALL_DISPOSITIONS.to_vec())
}

fn port_name() -> impl Strategy<Value = PortName> {
    prop_oneof![
        Just(PortName::NULL),
        Just(PortName::DEAD),
        any::<u32>().prop_map(PortName),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        any::<u32>().prop_map(Item::U32),
        any::<u64>().prop_map(Item::U64),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Item::Bytes),
        (port_name(), disposition()).prop_map(|(n, d)| Item::port(n, d)),
        (prop::collection::vec(port_name(), 0..5), disposition())
            .prop_map(|(names, disposition)| Item::Ports(PortArray { disposition, names })),
        (prop::collection::vec(any::<u8>(), 0..40), any::<bool>())
            .prop_map(|(data, dealloc)| Item::ool(data, dealloc)),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let remote = prop_oneof![
        4 => (disposition(), port_name()).prop_map(|(d, n)| (u32::from(u8::from(d)), n)),
        1 => Just((0u32, PortName::NULL)),
    ];
    let local = prop_oneof![
        Just(0u32),
        disposition().prop_map(|d| u32::from(u8::from(d))),
    ];
    (
        remote,
        local,
        any::<bool>(),
        port_name(),
        any::<u32>(),
        any::<u32>(),
        any::<i32>(),
        prop::collection::vec(item(), 0..8),
    )
        .prop_map(
            |((r, remote), l, complex, local, size, seqno, id, body)| Message {
                header: MsgHeader {
                    bits: MsgBits(r | (l << 8)).with_complex(complex),
                    size,
                    remote,
                    local,
                    seqno,
                    id,
                },
                body,
            },
        )
}

/// A plausible-looking but unchecked item: a descriptor usually valid for its
/// type name but sometimes with one field off, followed by a payload whose
/// length usually matches what the descriptor calls for, with random data and
/// usually zero padding. Explores the descriptor and padding rules far more
/// often than uniform bytes would.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        30 => prop::sample::select(vec![2u8, 9, 11, 16, 17, 18, 19, 20, 21]),
        1 => any::<u8>(),
    ];
    // `None`: the natural value for the name.
    let flags = prop_oneof![20 => Just(None), 1 => any::<u8>().prop_map(Some)];
    let byte_flags = prop::sample::select(vec![0u8, FLAG_INLINE, FLAG_INLINE, FLAG_DEALLOCATE]);
    let reserved = prop_oneof![40 => Just(0u16), 1 => any::<u16>()];
    let number = prop_oneof![20 => Just(None), 1 => any::<u32>().prop_map(Some)];
    let extra_words = prop_oneof![40 => Just(0i8), 1 => Just(-1i8), 1 => Just(1i8)];
    let dirty_padding = prop::bool::weighted(0.02);
    (
        (name, flags, byte_flags, reserved, number),
        (0u32..24, extra_words, dirty_padding),
        prop::collection::vec(any::<u8>(), 24),
    )
        .prop_map(
            |((name, flags, byte_flags, reserved, number), (len, extra, dirty), data)| {
                let is_byte = name == MSG_TYPE_BYTE;
                let flags = flags.unwrap_or(if is_byte { byte_flags } else { FLAG_INLINE });
                let number = number.unwrap_or(if is_byte { len } else { 1 });
                let mut v = desc(name, flags, reserved, number);
                let data_len = match name {
                    MSG_TYPE_BYTE => (number as usize).min(data.len()),
                    MSG_TYPE_INTEGER_64 => 8,
                    _ => 4,
                };
                let words = (data_len.div_ceil(8) as isize + isize::from(extra)).max(0) as usize;
                let mut payload = data[..data_len].to_vec();
                payload.resize(words * 8, if dirty { 0x5a } else { 0 });
                v.extend(payload);
                v
            },
        )
}

/// Decodes untrusted bytes; on success the encoding must be identical.
fn check_canonical(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(m) = wire::decode(bytes, &Limits::UNLIMITED) {
        prop_assert_eq!(wire::encode(&m).unwrap(), bytes.to_vec());
        prop_assert_eq!(m.wire_size(), bytes.len() as u64);
        prop_assert_eq!(m.header.size as usize, bytes.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn prop_round_trip(msg in message()) {
        let bytes = wire::encode(&msg).unwrap();
        prop_assert_eq!(bytes.len() as u64, msg.wire_size());
        let back = wire::decode(&bytes, &Limits::default()).unwrap();
        prop_assert_eq!(&back, &normalized(&msg));
        prop_assert_eq!(wire::encode(&back).unwrap(), bytes);
    }

    #[test]
    fn prop_arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_canonical(&bytes)?;
        let _ = wire::peek_header(&bytes);
    }

    #[test]
    fn prop_arbitrary_body_behind_valid_header(
        bits in prop::sample::select(vec![simple_bits(), complex_bits()]),
        pieces in prop::collection::vec(piece(), 0..8),
    ) {
        let body: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        let bytes = raw(bits, &body);
        check_canonical(&bytes)?;
    }

    #[test]
    fn prop_mutated_encodings(
        msg in message(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in prop::option::weighted(0.2, any::<prop::sample::Index>()),
    ) {
        let mut bytes = wire::encode(&msg).unwrap();
        for (at, xor) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        check_canonical(&bytes)?;
        let _ = wire::peek_header(&bytes);
        let _ = wire::decode(&bytes, &Limits { max_size: 64, max_items: 2 });
    }
}

#[test]
fn port_arrays_round_trip_and_stay_distinct_from_single_ports() {
    let names = vec![PortName(5), PortName::NULL, PortName::DEAD];
    let msg = Message::new(1, PortName(1), Disposition::CopySend)
        .with_item(Item::Ports(PortArray {
            disposition: Disposition::MoveSend,
            names,
        }))
        .with_item(Item::Ports(PortArray {
            disposition: Disposition::CopySend,
            names: vec![PortName(9)],
        }))
        .with_item(Item::Ports(PortArray {
            disposition: Disposition::MakeSend,
            names: vec![],
        }));
    let bytes = wire::encode(&msg).unwrap();
    assert_eq!(bytes.len() as u64, msg.wire_size());
    let back = wire::decode(&bytes, &Limits::default()).unwrap();
    assert_eq!(back.body, msg.body);
    assert!(back.header.bits.is_complex());
    // The second item (one name) is not confused with a single port item.
    assert!(matches!(back.body[1], Item::Ports(_)));
}

#[test]
fn malformed_port_arrays_are_rejected() {
    let base =
        Message::new(1, PortName(1), Disposition::CopySend).with_item(Item::Ports(PortArray {
            disposition: Disposition::CopySend,
            names: vec![PortName(2), PortName(3)],
        }));
    let good = wire::encode(&base).unwrap();
    // Array bit on a non-port type.
    let mut b = good.clone();
    b[24] = MSG_TYPE_BYTE;
    assert_eq!(
        wire::decode(&b, &Limits::default()).unwrap_err(),
        MsgReturn::SendInvalidType
    );
    // Deallocate bit with the array bit.
    let mut b = good.clone();
    b[25] = FLAG_INLINE | FLAG_ARRAY | FLAG_DEALLOCATE;
    assert_eq!(
        wire::decode(&b, &Limits::default()).unwrap_err(),
        MsgReturn::SendInvalidType
    );
    // A count past the end, and one that overflows when multiplied.
    for count in [3u32, u32::MAX] {
        let mut b = good.clone();
        b[28..32].copy_from_slice(&count.to_le_bytes());
        assert_eq!(
            wire::decode(&b, &Limits::default()).unwrap_err(),
            MsgReturn::SendMsgTooSmall
        );
    }
}
