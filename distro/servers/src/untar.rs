//! Reading POSIX tar archives (ustar, with pax extended headers): what the
//! kernel's init does with a root file system that comes as a boot module.
//!
//! The archive is untrusted: a truncated block, a bad checksum, a size or
//! number that does not parse, a path that climbs out (`..`) or an entry
//! kind this reader does not know is a [`TarError`], never a panic, and
//! nothing is returned for a bad archive.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::tar::{Header, Kind};

const BLOCK: usize = 512;

/// Why an archive was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TarError {
    /// The archive ends inside a header or an entry's data (at this offset).
    Truncated(usize),
    /// A header's checksum is wrong (the header at this offset).
    Checksum(usize),
    /// A numeric field is not octal (the header at this offset).
    Number(usize),
    /// A pax record is malformed (the header at this offset).
    Pax(usize),
    /// A path is empty, absolute after trimming, or leaves the archive's
    /// root with `..`.
    Path(String),
    /// An entry kind other than a file, a directory or a pax header.
    Kind(u8),
}

/// One entry: its header (with the pax records that preceded it, `path`
/// applied) and its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The metadata; the path is relative and normalised.
    pub header: Header,
    /// The file's bytes (empty for a directory).
    pub data: Vec<u8>,
}

fn octal(field: &[u8], at: usize) -> Result<u64, TarError> {
    let text = field
        .iter()
        .take_while(|&&b| b != 0)
        .copied()
        .skip_while(|&b| b == b' ');
    let mut value: u64 = 0;
    let mut any = false;
    for b in text {
        match b {
            b'0'..=b'7' => {
                value = value
                    .checked_mul(8)
                    .and_then(|v| v.checked_add(u64::from(b - b'0')))
                    .ok_or(TarError::Number(at))?;
                any = true;
            }
            b' ' => break,
            _ => return Err(TarError::Number(at)),
        }
    }
    if any { Ok(value) } else { Ok(0) }
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// A path made relative and checked: no empty result, no `..`.
fn clean(path: &str) -> Result<String, TarError> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return Err(TarError::Path(path.to_owned()));
    }
    Ok(parts.join("/"))
}

/// Parses pax records `"<len> <key>=<value>\n"`.
fn pax_records(body: &[u8], at: usize) -> Result<Vec<(String, Vec<u8>)>, TarError> {
    let mut records = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or(TarError::Pax(at))?;
        let len: usize = core::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(TarError::Pax(at))?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(TarError::Pax(at));
        }
        let record = &rest[space + 1..len - 1];
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or(TarError::Pax(at))?;
        let key = String::from_utf8_lossy(&record[..eq]).into_owned();
        records.push((key, record[eq + 1..].to_vec()));
        rest = &rest[len..];
    }
    Ok(records)
}

/// Every entry of `archive`, in order.
pub fn entries(archive: &[u8]) -> Result<Vec<Entry>, TarError> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let Some(h) = archive.get(at..at + BLOCK) else {
            // No end-of-archive blocks: accepted if nothing is left over.
            return if at == archive.len() {
                Ok(out)
            } else {
                Err(TarError::Truncated(at))
            };
        };
        if h.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        let stored = octal(&h[148..156], at)?;
        let sum: u64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        if sum != stored {
            return Err(TarError::Checksum(at));
        }
        let size =
            usize::try_from(octal(&h[124..136], at)?).map_err(|_| TarError::Truncated(at))?;
        let start = at + BLOCK;
        let data = archive
            .get(start..start.checked_add(size).ok_or(TarError::Truncated(at))?)
            .ok_or(TarError::Truncated(at))?;
        let next = start + size.div_ceil(BLOCK) * BLOCK;
        let typeflag = h[156];
        match typeflag {
            b'x' => pax.extend(pax_records(data, at)?),
            // Global pax headers change nothing this reader keeps.
            b'g' => {}
            b'0' | 0 | b'5' => {
                let prefix = text(&h[345..500]);
                let name = text(&h[0..100]);
                let mut path = if prefix.is_empty() {
                    name
                } else {
                    alloc::format!("{prefix}/{name}")
                };
                let mut records = core::mem::take(&mut pax);
                if let Some(i) = records.iter().position(|(k, _)| k == "path") {
                    path = String::from_utf8_lossy(&records.remove(i).1).into_owned();
                }
                let kind = if typeflag == b'5' || path.ends_with('/') {
                    Kind::Dir
                } else {
                    Kind::File
                };
                let header = Header {
                    path: clean(&path)?,
                    kind,
                    mode: u32::try_from(octal(&h[100..108], at)? & 0o7777)
                        .map_err(|_| TarError::Number(at))?,
                    uid: u32::try_from(octal(&h[108..116], at)?)
                        .map_err(|_| TarError::Number(at))?,
                    gid: u32::try_from(octal(&h[116..124], at)?)
                        .map_err(|_| TarError::Number(at))?,
                    pax: records,
                };
                let data = if kind == Kind::Dir {
                    Vec::new()
                } else {
                    data.to_vec()
                };
                out.push(Entry { header, data });
            }
            other => return Err(TarError::Kind(other)),
        }
        at = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tar::TarWriter;

    fn sample() -> Vec<u8> {
        let mut w = TarWriter::new();
        let dir = Header {
            path: "etc".into(),
            kind: Kind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            pax: Vec::new(),
        };
        w.append(&dir, b"");
        let long = "d/".repeat(80) + "file";
        let file = Header {
            path: long,
            kind: Kind::File,
            mode: 0o640,
            uid: 1000,
            gid: 100,
            pax: alloc::vec![("HURD.translator".into(), b"/hurd/hello\0".to_vec())],
        };
        w.append(&file, b"contents\n");
        w.finish()
    }

    #[test]
    fn reads_what_the_writer_wrote() {
        let e = entries(&sample()).expect("a good archive");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].header.path, "etc");
        assert_eq!(e[0].header.kind, Kind::Dir);
        assert_eq!(e[1].header.path, "d/".repeat(80) + "file");
        assert_eq!(e[1].header.mode, 0o640);
        assert_eq!((e[1].header.uid, e[1].header.gid), (1000, 100));
        assert_eq!(e[1].data, b"contents\n");
        assert_eq!(
            e[1].header.pax,
            alloc::vec![("HURD.translator".to_owned(), b"/hurd/hello\0".to_vec())]
        );
    }

    #[test]
    fn hostile_archives_are_errors() {
        let good = sample();
        // Every truncation is an error or a shorter good prefix, never a panic.
        for n in 0..good.len() {
            let _ = entries(&good[..n]);
        }
        assert!(matches!(entries(&good[..700]), Err(TarError::Truncated(_))));
        let mut bad = good.clone();
        bad[0] ^= 1;
        assert!(matches!(entries(&bad), Err(TarError::Checksum(0))));
        let mut climbing = TarWriter::new();
        climbing.append(
            &Header {
                path: "../escape".into(),
                kind: Kind::File,
                mode: 0o644,
                uid: 0,
                gid: 0,
                pax: Vec::new(),
            },
            b"x",
        );
        assert!(matches!(
            entries(&climbing.finish()),
            Err(TarError::Path(_))
        ));
        assert_eq!(entries(&[]), Ok(Vec::new()));
        assert_eq!(entries(&[0u8; 1024]), Ok(Vec::new()));
    }
}
