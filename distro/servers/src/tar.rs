//! Writing POSIX tar archives (ustar, with pax headers where ustar falls short).
//!
//! The writer is deterministic: the same entries give the same bytes (every
//! modification time is 0), so images are reproducible. The image builder
//! packs root file systems with it; hosted systems make example archives.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The kind of an archive entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
}

/// One archive entry's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The path inside the archive, relative (no leading `/`); directories
    /// without a trailing slash.
    pub path: String,
    /// File or directory.
    pub kind: Kind,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Group gid.
    pub gid: u32,
    /// Extra pax records (`keyword`, value) written before the entry.
    pub pax: Vec<(String, Vec<u8>)>,
}

/// The pax keyword of a passive translator record: the node's translator
/// command line as an argz (NUL-terminated words).
pub const TRANSLATOR_KEYWORD: &str = "HURD.translator";

const BLOCK: usize = 512;

/// An archive being written into memory.
#[derive(Default)]
pub struct TarWriter {
    out: Vec<u8>,
}

impl TarWriter {
    /// An empty archive.
    pub fn new() -> TarWriter {
        TarWriter::default()
    }

    /// Appends an entry with `data` as its contents (empty for directories).
    pub fn append(&mut self, header: &Header, data: &[u8]) {
        let name = match header.kind {
            Kind::Dir => format!("{}/", header.path),
            Kind::File => header.path.clone(),
        };
        let mut pax = header.pax.clone();
        let split = split_name(&name);
        if split.is_none() {
            pax.insert(0, ("path".to_owned(), name.clone().into_bytes()));
        }
        for (value, key) in [(header.uid, "uid"), (header.gid, "gid")] {
            if u64::from(value) > 0o7777777 {
                pax.push((key.to_owned(), value.to_string().into_bytes()));
            }
        }
        if !pax.is_empty() {
            let body = pax_records(&pax);
            let pax_name = format!("PaxHeaders/{}", tail(&name, 80));
            self.header(&pax_name, b'x', 0o644, 0, 0, body.len() as u64);
            self.data(&body);
        }
        let (prefix, short) = split.unwrap_or(("", tail(&name, 99)));
        let typeflag = match header.kind {
            Kind::File => b'0',
            Kind::Dir => b'5',
        };
        let size = if header.kind == Kind::File {
            data.len() as u64
        } else {
            0
        };
        self.header_split(
            prefix,
            short,
            typeflag,
            header.mode,
            header.uid.min(0o7777777),
            header.gid.min(0o7777777),
            size,
        );
        if header.kind == Kind::File {
            self.data(data);
        }
    }

    /// Ends the archive (two zero blocks) and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0; 2 * BLOCK]);
        self.out
    }

    fn header(&mut self, name: &str, typeflag: u8, mode: u32, uid: u32, gid: u32, size: u64) {
        self.header_split("", tail(name, 99), typeflag, mode, uid, gid, size);
    }

    #[allow(clippy::too_many_arguments)]
    fn header_split(
        &mut self,
        prefix: &str,
        name: &str,
        typeflag: u8,
        mode: u32,
        uid: u32,
        gid: u32,
        size: u64,
    ) {
        let mut h = [0u8; BLOCK];
        put(&mut h[0..100], name.as_bytes());
        octal(&mut h[100..108], u64::from(mode));
        octal(&mut h[108..116], u64::from(uid));
        octal(&mut h[116..124], u64::from(gid));
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], 0);
        h[148..156].fill(b' ');
        h[156] = typeflag;
        put(&mut h[257..263], b"ustar\0");
        put(&mut h[263..265], b"00");
        put(&mut h[345..500], prefix.as_bytes());
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let text = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(text.as_bytes());
        self.out.extend_from_slice(&h);
    }

    fn data(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        self.out.extend(core::iter::repeat_n(0, pad));
    }
}

/// Splits a name into ustar's prefix (≤ 155 bytes) and name (≤ 100 bytes) at a
/// slash; `None` if it does not fit.
fn split_name(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    // A trailing slash (directories) stays with the name part.
    let body = name.strip_suffix('/').unwrap_or(name);
    body.char_indices()
        .filter(|&(_, c)| c == '/')
        .map(|(i, _)| i)
        .filter(|&i| i <= 155 && name.len() - i - 1 <= 100)
        .map(|i| (&name[..i], &name[i + 1..]))
        .next()
}

/// The last at most `n` bytes of `s`, cut at a character boundary.
fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

fn put(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

/// Writes `value` as zero-padded octal digits ending in NUL.
fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    let bytes = text.as_bytes();
    let start = bytes.len().saturating_sub(digits);
    field[..digits].copy_from_slice(&bytes[start..]);
    field[digits] = 0;
}

/// Encodes pax records: `"<len> <key>=<value>\n"`, where `<len>` counts the
/// whole record including itself.
fn pax_records(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in records {
        let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut len = rest + 1;
        while len != rest + len.to_string().len() {
            len = rest + len.to_string().len();
        }
        out.extend_from_slice(len.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value);
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn pax_record_lengths_count_themselves() {
        let r = pax_records(&[("path".into(), b"a".to_vec())]);
        assert_eq!(r, b"9 path=a\n");
        // Lengths whose digit count changes the length.
        for n in [0, 1, 89, 90, 91, 95, 990, 995, 1000] {
            let r = pax_records(&[("path".into(), vec![b'x'; n])]);
            let space = r.iter().position(|&b| b == b' ').expect("space");
            let stated: usize = std::str::from_utf8(&r[..space])
                .expect("ascii")
                .parse()
                .expect("number");
            assert_eq!(stated, r.len(), "value of {n} bytes");
        }
    }

    #[test]
    fn names_split_at_a_slash() {
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let (p, n) = split_name(&long).expect("fits");
        assert_eq!(p.len(), 120);
        assert_eq!(n.len(), 90);
        assert!(split_name(&"x".repeat(300)).is_none());
    }

    #[test]
    fn header_checksum_is_valid() {
        let mut w = TarWriter::new();
        w.append(
            &Header {
                path: "etc/motd".into(),
                kind: Kind::File,
                mode: 0o644,
                uid: 0,
                gid: 0,
                pax: vec![],
            },
            b"hi\n",
        );
        let bytes = w.finish();
        let h = &bytes[..BLOCK];
        let stored = u32::from_str_radix(std::str::from_utf8(&h[148..154]).expect("ascii"), 8)
            .expect("octal");
        let sum: u32 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u32::from(b)
                }
            })
            .sum();
        assert_eq!(stored, sum);
        assert_eq!(bytes.len(), 4 * BLOCK);
    }
}
