//! Directory entries and their packed form in a `dir_readdir` reply.

use alloc::vec::Vec;
use hurd_ipc::Errno;

use crate::name::Name;

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DirEntry {
    /// The file number.
    pub ino: u64,
    /// The file type bits (`S_IFMT` part of the mode).
    pub kind: u32,
    /// The name (bytes).
    pub name: Name,
}

impl DirEntry {
    /// Bytes of the packed form.
    pub fn packed_len(&self) -> usize {
        8 + 4 + 2 + self.name.len()
    }
}

/// Packs entries: for each, `ino` (u64), `kind` (u32), the name's length
/// (u16), the name; little-endian.
pub fn encode_entries(entries: &[DirEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&e.ino.to_le_bytes());
        out.extend_from_slice(&e.kind.to_le_bytes());
        let name = &e.name.as_bytes()[..e.name.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name);
    }
    out
}

/// Unpacks [`encode_entries`]' form; `EGRATUITOUS` if it is malformed.
///
/// # Errors
///
/// `EGRATUITOUS` for a malformed listing.
pub fn decode_entries(mut data: &[u8]) -> Result<Vec<DirEntry>, Errno> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 14 {
            return Err(Errno::Gratuitous);
        }
        let (head, rest) = data.split_at(14);
        let mut ino = [0u8; 8];
        ino.copy_from_slice(&head[..8]);
        let mut kind = [0u8; 4];
        kind.copy_from_slice(&head[8..12]);
        let len = u16::from_le_bytes([head[12], head[13]]) as usize;
        if rest.len() < len {
            return Err(Errno::Gratuitous);
        }
        let (name, rest) = rest.split_at(len);
        if name.contains(&0) {
            return Err(Errno::Gratuitous);
        }
        out.push(DirEntry {
            ino: u64::from_le_bytes(ino),
            kind: u32::from_le_bytes(kind),
            name: name.into(),
        });
        data = rest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let e = alloc::vec![
            DirEntry {
                ino: 1,
                kind: 0o040000,
                name: ".".into()
            },
            DirEntry {
                ino: 9,
                kind: 0o100000,
                name: "hello".into()
            },
        ];
        let b = encode_entries(&e);
        assert_eq!(decode_entries(&b), Ok(e));
        for cut in 1..b.len() {
            let r = decode_entries(&b[..cut]);
            assert!(r.is_err() || r.map(|v| v.len()) == Ok(1), "cut {cut}");
        }
    }

    #[test]
    fn names_are_bytes_without_nul() {
        let e = alloc::vec![DirEntry {
            ino: 3,
            kind: 0o100000,
            name: Name::from(&b"\xff\xfe"[..]),
        }];
        let mut b = encode_entries(&e);
        assert_eq!(decode_entries(&b), Ok(e));
        let last = b.len() - 1;
        b[last] = 0;
        assert_eq!(decode_entries(&b), Err(Errno::Gratuitous));
    }
}
