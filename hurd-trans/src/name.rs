//! File names as the Hurd's protocols carry them: bytes.
//!
//! `fs.defs` passes names and paths as `string_t`, a MIG `c_string`: a
//! NUL-terminated string of bytes in no particular encoding, as a Unix
//! file name is. A [`Name`] is such a string without its NUL: any bytes
//! but NUL. A name that is not UTF-8 (Latin-1 from an old archive, a
//! byte-for-byte copy of a Linux directory) travels, is stored and is
//! listed unchanged; only its display is lossy.
//!
//! On the wire a name is one in-line bytes item. A request whose name holds
//! a NUL is malformed (`MIG_BAD_ARGUMENTS`), since a C string cannot hold
//! one; lengths are the server's to check (`ENAMETOOLONG`).

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hurd_ipc::Item;
use hurd_ipc::mig::MsgArg;

/// A file name or path: bytes, without NUL.
///
/// Made from a `&str`, a `String`, a `&[u8]` or a `Vec<u8>` with
/// [`From`]; a NUL and what follows it are cut off, as C would read the
/// string. [`Name::as_bytes`] gives the bytes back.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Vec<u8>);

impl Name {
    /// The empty name (in `dir_lookup`: the directory itself).
    pub const fn new() -> Name {
        Name(Vec::new())
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name's bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The name as UTF-8, if it is.
    pub fn to_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.0).ok()
    }

    /// The name as text, with U+FFFD for bytes that are not UTF-8.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the name is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends `more` (up to a NUL in it).
    pub fn push(&mut self, more: &[u8]) {
        self.0.extend_from_slice(until_nul(more));
    }
}

/// `b` up to its first NUL.
fn until_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

impl From<&[u8]> for Name {
    fn from(b: &[u8]) -> Name {
        Name(until_nul(b).to_owned())
    }
}

impl<const N: usize> From<&[u8; N]> for Name {
    fn from(b: &[u8; N]) -> Name {
        Name::from(&b[..])
    }
}

impl From<Vec<u8>> for Name {
    fn from(mut b: Vec<u8>) -> Name {
        if let Some(i) = b.iter().position(|&c| c == 0) {
            b.truncate(i);
        }
        Name(b)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::from(s.as_bytes())
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::from(s.as_bytes())
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name::from(s.into_bytes())
    }
}

impl From<Name> for Vec<u8> {
    fn from(n: Name) -> Vec<u8> {
        n.0
    }
}

impl AsRef<[u8]> for Name {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl core::borrow::Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<[u8]> for Name {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

/// Shows the name as text, bytes that are not UTF-8 as U+FFFD.
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}

/// Shows the name as a quoted string, bytes that are not UTF-8 as `\xNN`.
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                fmt::Display::fmt(&c.escape_debug(), f)?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Name {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[u8]}", self.0.as_slice());
    }
}

/// A name travels as in-line bytes without NUL (`string_t`).
impl MsgArg for Name {
    const KIND: hurd_ipc::msgids::ArgKind = hurd_ipc::msgids::ArgKind::Text;
    fn encode(self, body: &mut Vec<Item>) {
        body.push(Item::Bytes(self.0));
    }
    fn matches(item: &Item) -> bool {
        matches!(item, Item::Bytes(b) if !b.contains(&0))
    }
    fn decode(item: Item) -> Self {
        match item {
            Item::Bytes(b) => Name::from(b),
            _ => Name::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    #[test]
    fn bytes_that_are_not_utf8_survive() {
        let n = Name::from(&b"\xff\xfe"[..]);
        assert_eq!(n.as_bytes(), b"\xff\xfe");
        assert_eq!(n.to_str(), None);
        assert_eq!(format!("{n}"), "\u{fffd}\u{fffd}");
        assert_eq!(format!("{n:?}"), "\"\\xff\\xfe\"");
        let mut body = Vec::new();
        n.clone().encode(&mut body);
        assert!(Name::matches(&body[0]));
        assert_eq!(Name::decode(body.remove(0)), n);
    }

    #[test]
    fn a_nul_ends_the_name_and_is_refused_on_the_wire() {
        assert_eq!(Name::from("ab\0cd"), Name::from("ab"));
        assert_eq!(Name::from(vec![b'x', 0, b'y']).as_bytes(), b"x");
        assert!(!Name::matches(&Item::Bytes(vec![b'a', 0])));
        assert!(!Name::matches(&Item::U32(1)));
        assert_eq!(Name::decode(Item::U32(1)), Name::new());
        let mut n = Name::from("a/");
        n.push(b"b\0c");
        assert_eq!(n, "a/b");
    }
}
