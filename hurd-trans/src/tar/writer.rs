//! Writing archives: ustar headers, with pax records for what ustar cannot
//! hold.

use alloc::vec::Vec;

use super::BLOCK;
use super::entry::{EntryKind, Header};
use super::error::WriteError;
use super::header::{self, Fields, width};
use super::number;
use super::pax;

/// An archive written into memory.
///
/// Deterministic: the same entries give the same bytes (the pax headers'
/// own names derive from the entry's), so images built with it are
/// reproducible.
#[derive(Debug, Default)]
pub struct Writer {
    out: Vec<u8>,
}

/// Splits a name into ustar's prefix (at most 155 bytes) and name (at most
/// 100), at a slash; `None` if it does not fit.
fn split(name: &[u8]) -> Option<(&[u8], &[u8])> {
    if name.len() <= width::NAME {
        return Some((&[], name));
    }
    // A directory's trailing slash stays with the name part.
    let body = name.strip_suffix(b"/").unwrap_or(name);
    body.iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'/' && i > 0 && i <= width::PREFIX)
        .map(|(i, _)| i)
        .find(|&i| name.len() - i - 1 <= width::NAME)
        .map(|i| (&name[..i], &name[i + 1..]))
}

fn valid_key(k: &[u8]) -> bool {
    !k.is_empty() && !k.iter().any(|&b| b == b'=' || b == 0 || b == b'\n')
}

impl Writer {
    /// An empty archive.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// Appends an entry: its headers, then `data` (a file's contents; empty
    /// for every other kind). The header's `size` is taken from `data`.
    ///
    /// # Errors
    ///
    /// [`WriteError`] for an entry no reader could read back (nothing is
    /// written then).
    pub fn append(&mut self, header: &Header, data: &[u8]) -> Result<(), WriteError> {
        let mut h = header.clone();
        h.size = if h.kind == EntryKind::File {
            data.len() as u64
        } else if data.is_empty() {
            0
        } else {
            return Err(WriteError::SizeMismatch);
        };
        let blocks = Writer::encode_header(&h)?;
        self.out.extend_from_slice(&blocks);
        self.out.extend_from_slice(data);
        self.out.resize(self.out.len() + padding(h.size), 0);
        Ok(())
    }

    /// The header blocks (pax extended header first, when needed) of an
    /// entry whose data, `header.size` bytes and then [`padding`] zeros,
    /// the caller writes after them: for archives too large to build in
    /// memory.
    ///
    /// # Errors
    ///
    /// [`WriteError`] for an entry no reader could read back.
    pub fn encode_header(h: &Header) -> Result<Vec<u8>, WriteError> {
        let mut name = h.path.clone();
        if name.is_empty() {
            return Err(WriteError::EmptyName);
        }
        if h.kind == EntryKind::Dir && !name.ends_with(b"/") {
            name.push(b'/');
        }
        let is_link = matches!(h.kind, EntryKind::Symlink | EntryKind::HardLink);
        if is_link && h.link.is_empty() {
            return Err(WriteError::EmptyLink);
        }
        if name.contains(&0) || h.link.contains(&0) || h.uname.contains(&0) || h.gname.contains(&0)
        {
            return Err(WriteError::Nul);
        }
        let size = if h.kind == EntryKind::File { h.size } else { 0 };
        let mut records = Vec::new();
        let binary = [&name, &h.link, &h.uname, &h.gname]
            .iter()
            .any(|t| core::str::from_utf8(t).is_err());
        if binary {
            // pax records are UTF-8 unless the archive says otherwise.
            pax::push_record(&mut records, b"hdrcharset", b"BINARY");
        }
        let split = split(&name).filter(|_| name.is_ascii());
        if split.is_none() {
            pax::push_record(&mut records, b"path", &name);
        }
        if h.link.len() > width::LINKNAME || !h.link.is_ascii() {
            pax::push_record(&mut records, b"linkpath", &h.link);
        }
        for (key, value) in [(&b"uname"[..], &h.uname), (b"gname", &h.gname)] {
            if value.len() > width::UNAME || !value.is_ascii() {
                pax::push_record(&mut records, key, value);
            }
        }
        for (key, value) in [(&b"uid"[..], h.uid), (b"gid", h.gid)] {
            if !number::fits_octal(width::ID, i64::from(value)) {
                pax::push_record(&mut records, key, alloc::format!("{value}").as_bytes());
            }
        }
        let size_i = i64::try_from(size).map_err(|_| WriteError::SizeMismatch)?;
        if !number::fits_octal(width::SIZE, size_i) {
            pax::push_record(&mut records, b"size", alloc::format!("{size}").as_bytes());
        }
        if h.mtime.nsec != 0 || !number::fits_octal(width::MTIME, h.mtime.sec) {
            pax::push_record(&mut records, b"mtime", &pax::format_time(h.mtime));
        }
        for (key, t) in [(&b"atime"[..], h.atime), (b"ctime", h.ctime)] {
            if let Some(t) = t {
                pax::push_record(&mut records, key, &pax::format_time(t));
            }
        }
        for (key, value) in [
            (&b"SCHILY.devmajor"[..], h.devmajor),
            (b"SCHILY.devminor", h.devminor),
        ] {
            if !number::fits_octal(width::DEV, i64::from(value)) {
                pax::push_record(&mut records, key, alloc::format!("{value}").as_bytes());
            }
        }
        for (attr, value) in &h.xattrs {
            if !valid_key(attr) {
                return Err(WriteError::BadKeyword);
            }
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(attr);
            pax::push_record(&mut records, &key, value);
        }
        for (key, value) in &h.extra {
            if !valid_key(key.as_bytes()) {
                return Err(WriteError::BadKeyword);
            }
            pax::push_record(&mut records, key.as_bytes(), value);
        }
        let mut out = Vec::new();
        if !records.is_empty() {
            // The extended header's own name, as GNU tar's `%d/PaxHeaders/%f`:
            // the entry's directory and last component, cut to fit.
            let base = name.strip_suffix(b"/").unwrap_or(&name);
            let (dir, file) = match base.iter().rposition(|&b| b == b'/') {
                Some(i) => (&base[..i], &base[i + 1..]),
                None => (&b"."[..], base),
            };
            let mut xname = dir[..dir.len().min(40)].to_vec();
            xname.extend_from_slice(b"/PaxHeaders/");
            xname.extend_from_slice(&file[..file.len().min(40)]);
            if !xname.is_ascii() {
                xname = b"PaxHeaders/entry".to_vec();
            }
            out.extend_from_slice(&header::encode(&Fields {
                name: &xname,
                prefix: b"",
                typeflag: b'x',
                link: b"",
                mode: 0o644,
                uid: 0,
                gid: 0,
                size: records.len() as u64,
                mtime: 0,
                uname: b"",
                gname: b"",
                devmajor: 0,
                devminor: 0,
            }));
            let padded = records.len() + padding(records.len() as u64);
            records.resize(padded, 0);
            out.extend_from_slice(&records);
        }
        // What does not fit the header goes in as much as fits (a reader
        // without pax still finds the next header: sizes and ids that do
        // not fit octal are base-256).
        let (prefix, short) = split.unwrap_or((&[], tail(&name, width::NAME)));
        out.extend_from_slice(&header::encode(&Fields {
            name: short,
            prefix,
            typeflag: h.kind.typeflag(),
            link: &h.link,
            mode: h.mode,
            uid: h.uid,
            gid: h.gid,
            size,
            mtime: h.mtime.sec,
            uname: &h.uname,
            gname: &h.gname,
            devmajor: h.devmajor,
            devminor: h.devminor,
        }));
        Ok(out)
    }

    /// The archive so far (without its end).
    pub fn bytes(&self) -> &[u8] {
        &self.out
    }

    /// Ends the archive (two zero blocks) and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0; 2 * BLOCK]);
        self.out
    }
}

/// The zeros that pad `size` bytes of data to a whole block.
pub fn padding(size: u64) -> usize {
    ((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64) as usize
}

/// The last at most `n` bytes of `s`.
fn tail(s: &[u8], n: usize) -> &[u8] {
    &s[s.len().saturating_sub(n)..]
}
