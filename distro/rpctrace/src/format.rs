//! How messages are printed: arguments by the kinds their interface gives
//! them, strings escaped and cut, return codes with their meaning.

use alloc::string::String;
use core::fmt::Write;

use hurd_ipc::msgids::{Arg, ArgKind};
use hurd_ipc::{Disposition, Errno, Error, Item};

/// The longest string or byte array printed whole (rpctrace's `-s`
/// default); longer ones are cut and end with `...`.
pub const STRSIZE: usize = 80;

/// A port item as printed: its label and how it moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortText {
    /// What the tracer calls the right (`fd1`, `7<--23`, or its name).
    pub label: String,
    /// How it moved (as the receiver holds it).
    pub disposition: Disposition,
}

/// Mach's name of a disposition, without `MACH_MSG_TYPE_`, lower case with
/// dashes as rpctrace writes them.
pub fn disposition_name(d: Disposition) -> &'static str {
    match d {
        Disposition::MoveReceive => "move-receive",
        Disposition::MoveSend => "move-send",
        Disposition::MoveSendOnce => "move-send-once",
        Disposition::CopySend => "copy-send",
        Disposition::MakeSend => "make-send",
        Disposition::MakeSendOnce => "make-send-once",
    }
}

/// Writes `bytes` as a C string literal: printable ASCII as itself, the
/// usual escapes, `\xNN` otherwise; at most `max` bytes, then `...`.
pub fn quoted(out: &mut String, bytes: &[u8], max: usize) {
    out.push('"');
    for &b in bytes.iter().take(max) {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0 => out.push_str("\\0"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    if bytes.len() > max {
        out.push_str("...");
    }
}

/// Writes a return code: `0`, or the code in hex and what it means.
pub fn return_code(out: &mut String, code: i32) {
    match Error::from_code(code) {
        None => out.push('0'),
        Some(err) => {
            let _ = match Errno::of(err) {
                Some(errno) => write!(out, "{code:#x} ({errno})"),
                None => write!(out, "{code:#x} ({err:?})"),
            };
        }
    }
}

/// Writes the items of a message, separated by spaces: each as its
/// argument's kind says when `args` describes it and the item fits that
/// kind, as the item itself otherwise. `ports` gives, in order, the text of
/// every right the items carry.
pub fn items(out: &mut String, body: &[Item], args: &[Arg], ports: &[PortText], max: usize) {
    let mut ports = ports.iter();
    for (i, item) in body.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let kind = args.get(i).map(|a| a.kind);
        one(out, item, kind, &mut ports, max);
    }
}

fn port(out: &mut String, text: Option<&PortText>) {
    match text {
        Some(p) => {
            let _ = write!(out, "{}:{}", disposition_name(p.disposition), p.label);
        }
        None => out.push('?'),
    }
}

fn one<'a>(
    out: &mut String,
    item: &Item,
    kind: Option<ArgKind>,
    ports: &mut impl Iterator<Item = &'a PortText>,
    max: usize,
) {
    match (item, kind) {
        (Item::U32(v), Some(ArgKind::I32)) => {
            let _ = write!(out, "{}", *v as i32);
        }
        (Item::U32(v), Some(ArgKind::Bool)) => {
            let _ = write!(out, "{}", *v != 0);
        }
        (Item::U32(v), _) => {
            let _ = write!(out, "{v}");
        }
        (Item::U64(v), Some(ArgKind::I64)) => {
            let _ = write!(out, "{}", *v as i64);
        }
        (Item::U64(v), _) => {
            let _ = write!(out, "{v}");
        }
        (Item::Bytes(b), Some(ArgKind::U32Array)) if b.len() % 4 == 0 => {
            numbers(
                out,
                b.chunks_exact(4)
                    .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            );
        }
        (Item::Bytes(b), Some(ArgKind::U16Array)) if b.len() % 2 == 0 => {
            numbers(
                out,
                b.chunks_exact(2)
                    .map(|c| u64::from(u16::from_le_bytes([c[0], c[1]]))),
            );
        }
        (Item::Bytes(b), Some(ArgKind::Struct)) => {
            let _ = write!(out, "<{} bytes>", b.len());
        }
        (Item::Bytes(b), _) => quoted(out, b, max),
        (Item::Port(_), _) => port(out, ports.next()),
        (Item::Ports(a), _) => {
            out.push('{');
            for i in 0..a.names.len() {
                if i > 0 {
                    out.push(' ');
                }
                port(out, ports.next());
            }
            out.push('}');
        }
        (Item::Ool(o), _) => {
            let _ = write!(out, "<{} bytes out of line>", o.data.len());
        }
        _ => out.push_str("<item>"),
    }
}

fn numbers(out: &mut String, values: impl Iterator<Item = u64>) {
    out.push('{');
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{v}");
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn strings_are_escaped_and_cut() {
        let mut s = String::new();
        quoted(&mut s, b"hi\n\"\\\x01", 80);
        assert_eq!(s, r#""hi\n\"\\\x01""#);
        let mut s = String::new();
        quoted(&mut s, b"abcdef", 3);
        assert_eq!(s, "\"abc\"...");
    }

    #[test]
    fn return_codes_say_what_they_mean() {
        let mut s = String::new();
        return_code(&mut s, 0);
        assert_eq!(s, "0");
        let mut s = String::new();
        return_code(&mut s, Error::from(Errno::NoEnt).code());
        assert_eq!(s, "0x40000002 (no such file or directory)");
        let mut s = String::new();
        return_code(&mut s, -303);
        assert_eq!(s, "0xfffffed1 (BadId)");
    }

    #[test]
    fn items_follow_their_kinds_and_survive_mismatches() {
        const ARGS: &[Arg] = &[
            Arg {
                name: "a",
                ty: "i32",
                kind: ArgKind::I32,
            },
            Arg {
                name: "b",
                ty: "Vec<u32>",
                kind: ArgKind::U32Array,
            },
            Arg {
                name: "c",
                ty: "bool",
                kind: ArgKind::Bool,
            },
        ];
        let body = vec![
            Item::U32(u32::MAX),
            Item::Bytes(vec![1, 0, 0, 0, 2, 0, 0, 0]),
            Item::U32(1),
            Item::Bytes(vec![7; 3]),
            Item::port(hurd_ipc::PortName(5), Disposition::MoveSend),
        ];
        let ports = [PortText {
            label: "fd1".into(),
            disposition: Disposition::MoveSend,
        }];
        let mut s = String::new();
        items(&mut s, &body, ARGS, &ports, 80);
        assert_eq!(s, r#"-1 {1 2} true "\x07\x07\x07" move-send:fd1"#);
        // Items that do not fit their kinds print as what they are; a right
        // without text is a question mark.
        let body = vec![
            Item::Bytes(vec![1, 2, 3]),
            Item::U64(9),
            Item::port(hurd_ipc::PortName(5), Disposition::MoveSend),
        ];
        let mut s = String::new();
        items(&mut s, &body, &ARGS[1..], &[], 80);
        assert_eq!(s, r#""\x01\x02\x03" 9 ?"#);
    }
}
