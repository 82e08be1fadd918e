//! One 512-byte header block: decoding every format's fields, and encoding
//! a ustar block.

use alloc::vec::Vec;

use super::BLOCK;
use super::entry::Format;
use super::error::Reason;
use super::number;

/// Field offsets and lengths (POSIX ustar, with GNU's and star's extras).
mod at {
    pub const NAME: (usize, usize) = (0, 100);
    pub const MODE: (usize, usize) = (100, 8);
    pub const UID: (usize, usize) = (108, 8);
    pub const GID: (usize, usize) = (116, 8);
    pub const SIZE: (usize, usize) = (124, 12);
    pub const MTIME: (usize, usize) = (136, 12);
    pub const CHKSUM: (usize, usize) = (148, 8);
    pub const TYPEFLAG: usize = 156;
    pub const LINKNAME: (usize, usize) = (157, 100);
    pub const MAGIC: (usize, usize) = (257, 8);
    pub const UNAME: (usize, usize) = (265, 32);
    pub const GNAME: (usize, usize) = (297, 32);
    pub const DEVMAJOR: (usize, usize) = (329, 8);
    pub const DEVMINOR: (usize, usize) = (337, 8);
    pub const PREFIX: (usize, usize) = (345, 155);
    /// star's prefix is shorter: its times follow.
    pub const STAR_PREFIX: (usize, usize) = (345, 131);
    pub const STAR_ATIME: (usize, usize) = (476, 12);
    pub const STAR_CTIME: (usize, usize) = (488, 12);
    pub const STAR_MAGIC: (usize, usize) = (508, 4);
    /// GNU: times where ustar has its prefix, then the old sparse map.
    pub const GNU_ATIME: (usize, usize) = (345, 12);
    pub const GNU_CTIME: (usize, usize) = (357, 12);
    pub const GNU_SPARSE: usize = 386;
    pub const GNU_ISEXTENDED: usize = 482;
    pub const GNU_REALSIZE: (usize, usize) = (483, 12);
    /// An old GNU sparse extension block: 21 entries, then the flag.
    pub const EXT_ISEXTENDED: usize = 504;
}

/// Segments in an old GNU header and in each extension block.
pub(crate) const GNU_SPARSE_IN_HEADER: usize = 4;
pub(crate) const GNU_SPARSE_IN_EXTENSION: usize = 21;

fn field(h: &[u8; BLOCK], (start, len): (usize, usize)) -> &[u8] {
    &h[start..start + len]
}

/// A string field: up to its first NUL (all of it when there is none).
fn text(h: &[u8; BLOCK], f: (usize, usize)) -> &[u8] {
    let b = field(h, f);
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

fn num(h: &[u8; BLOCK], f: (usize, usize), name: &'static str) -> Result<i64, Reason> {
    number::parse(field(h, f)).ok_or(Reason::Number(name))
}

fn unsigned<T: TryFrom<i64>>(
    h: &[u8; BLOCK],
    f: (usize, usize),
    name: &'static str,
) -> Result<T, Reason> {
    T::try_from(num(h, f, name)?).map_err(|_| Reason::Number(name))
}

/// Whether the block is all zeros (the end of the archive).
pub(crate) fn is_zero(h: &[u8; BLOCK]) -> bool {
    h.iter().all(|&b| b == 0)
}

/// Whether the stored checksum matches the block, summed over unsigned bytes
/// (POSIX) or signed ones (old Sun tar), the field itself counted as spaces.
pub(crate) fn checksum_ok(h: &[u8; BLOCK]) -> bool {
    let Some(stored) = number::parse(field(h, at::CHKSUM)) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (i, &b) in h.iter().enumerate() {
        let b = if (at::CHKSUM.0..at::CHKSUM.0 + at::CHKSUM.1).contains(&i) {
            b' '
        } else {
            b
        };
        unsigned += i64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || stored == signed
}

fn format(h: &[u8; BLOCK]) -> Format {
    let magic = field(h, at::MAGIC);
    if magic == b"ustar  \0" {
        Format::Gnu
    } else if magic.starts_with(b"ustar\0") {
        if field(h, at::STAR_MAGIC) == b"tar\0" {
            Format::Star
        } else {
            Format::Ustar
        }
    } else {
        Format::V7
    }
}

/// A header block's fields, before extended headers are applied.
#[derive(Debug)]
pub(crate) struct Block {
    pub format: Format,
    pub typeflag: u8,
    pub name: Vec<u8>,
    pub link: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub uname: Vec<u8>,
    pub gname: Vec<u8>,
    pub devmajor: u32,
    pub devminor: u32,
    pub atime: Option<i64>,
    pub ctime: Option<i64>,
    /// Old GNU sparse (`S`): the segments in the header, whether extension
    /// blocks follow, and the file's real size.
    pub gnu_sparse: Option<GnuSparse>,
}

/// The sparse map of an old GNU header.
#[derive(Debug)]
pub(crate) struct GnuSparse {
    pub pairs: Vec<(u64, u64)>,
    pub extended: bool,
    pub realsize: u64,
}

/// Reads `count` (offset, numbytes) pairs from `h` at `start`, stopping at
/// the first empty one.
pub(crate) fn sparse_pairs(
    h: &[u8; BLOCK],
    start: usize,
    count: usize,
    out: &mut Vec<(u64, u64)>,
) -> Result<(), Reason> {
    for i in 0..count {
        let off = start + 24 * i;
        if h[off] == 0 {
            break;
        }
        let o = unsigned(h, (off, 12), "sparse offset")?;
        let n = unsigned(h, (off + 12, 12), "sparse numbytes")?;
        out.push((o, n));
    }
    Ok(())
}

/// Whether an old GNU sparse extension block says another follows.
pub(crate) fn extension_continues(h: &[u8; BLOCK]) -> bool {
    h[at::EXT_ISEXTENDED] != 0
}

impl Block {
    /// Decodes a header block (checked for its checksum first).
    pub(crate) fn parse(h: &[u8; BLOCK]) -> Result<Block, Reason> {
        if !checksum_ok(h) {
            return Err(Reason::Checksum);
        }
        let format = format(h);
        let typeflag = h[at::TYPEFLAG];
        let mut name = text(h, at::NAME).to_vec();
        let prefix = match format {
            Format::Ustar => text(h, at::PREFIX),
            Format::Star => text(h, at::STAR_PREFIX),
            Format::Gnu | Format::V7 => &[],
        };
        if !prefix.is_empty() {
            let mut full = prefix.to_vec();
            full.push(b'/');
            full.extend_from_slice(&name);
            name = full;
        }
        let size: u64 = unsigned(h, at::SIZE, "size")?;
        // Old tars store the file type in the mode too.
        let mode = (num(h, at::MODE, "mode")? & 0o7777) as u32;
        let extended = format != Format::V7;
        let device = extended && matches!(typeflag, b'3' | b'4');
        let time = |f| number::parse(field(h, f)).filter(|&t| t != 0);
        let (atime, ctime) = match format {
            Format::Gnu => (time(at::GNU_ATIME), time(at::GNU_CTIME)),
            Format::Star => (time(at::STAR_ATIME), time(at::STAR_CTIME)),
            _ => (None, None),
        };
        let gnu_sparse = if format == Format::Gnu && typeflag == b'S' {
            let mut pairs = Vec::new();
            sparse_pairs(h, at::GNU_SPARSE, GNU_SPARSE_IN_HEADER, &mut pairs)?;
            Some(GnuSparse {
                pairs,
                extended: h[at::GNU_ISEXTENDED] != 0,
                realsize: unsigned(h, at::GNU_REALSIZE, "sparse realsize")?,
            })
        } else {
            None
        };
        Ok(Block {
            format,
            typeflag,
            name,
            link: text(h, at::LINKNAME).to_vec(),
            mode,
            uid: unsigned(h, at::UID, "uid")?,
            gid: unsigned(h, at::GID, "gid")?,
            size,
            mtime: num(h, at::MTIME, "mtime")?,
            uname: if extended {
                text(h, at::UNAME).to_vec()
            } else {
                Vec::new()
            },
            gname: if extended {
                text(h, at::GNAME).to_vec()
            } else {
                Vec::new()
            },
            devmajor: if device {
                unsigned(h, at::DEVMAJOR, "devmajor")?
            } else {
                0
            },
            devminor: if device {
                unsigned(h, at::DEVMINOR, "devminor")?
            } else {
                0
            },
            atime,
            ctime,
            gnu_sparse,
        })
    }
}

/// The fields of a ustar block to write; numbers that do not fit octal go
/// in base-256 (the caller adds pax records for them too).
pub(crate) struct Fields<'a> {
    pub name: &'a [u8],
    pub prefix: &'a [u8],
    pub typeflag: u8,
    pub link: &'a [u8],
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub uname: &'a [u8],
    pub gname: &'a [u8],
    pub devmajor: u32,
    pub devminor: u32,
}

fn put(h: &mut [u8; BLOCK], (start, len): (usize, usize), value: &[u8]) {
    let n = value.len().min(len);
    h[start..start + n].copy_from_slice(&value[..n]);
}

fn put_num(h: &mut [u8; BLOCK], (start, len): (usize, usize), value: i64) {
    // Every caller's value fits base-256 in its field (sizes and times are
    // at most 2^63, ids 2^32); one that did not would stay zero.
    let _ = number::write(&mut h[start..start + len], value);
}

/// A ustar header block for `f`, checksum set.
pub(crate) fn encode(f: &Fields<'_>) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    put(&mut h, at::NAME, f.name);
    put_num(&mut h, at::MODE, i64::from(f.mode & 0o7777));
    put_num(&mut h, at::UID, i64::from(f.uid));
    put_num(&mut h, at::GID, i64::from(f.gid));
    put_num(&mut h, at::SIZE, i64::try_from(f.size).unwrap_or(i64::MAX));
    put_num(&mut h, at::MTIME, f.mtime);
    h[at::TYPEFLAG] = f.typeflag;
    put(&mut h, at::LINKNAME, f.link);
    put(&mut h, at::MAGIC, b"ustar\x0000");
    put(&mut h, at::UNAME, f.uname);
    put(&mut h, at::GNAME, f.gname);
    put_num(&mut h, at::DEVMAJOR, i64::from(f.devmajor));
    put_num(&mut h, at::DEVMINOR, i64::from(f.devminor));
    put(&mut h, at::PREFIX, f.prefix);
    h[at::CHKSUM.0..at::CHKSUM.0 + at::CHKSUM.1].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    // Six octal digits, NUL, space: what GNU tar writes.
    let mut digits = [0u8; 7];
    number::write(&mut digits, i64::from(sum));
    h[at::CHKSUM.0..at::CHKSUM.0 + 6].copy_from_slice(&digits[..6]);
    h[at::CHKSUM.0 + 6] = 0;
    h
}

/// Field widths the writer needs to decide what fits.
pub(crate) mod width {
    pub const NAME: usize = super::at::NAME.1;
    pub const PREFIX: usize = super::at::PREFIX.1;
    pub const LINKNAME: usize = super::at::LINKNAME.1;
    pub const UNAME: usize = super::at::UNAME.1;
    pub const ID: usize = super::at::UID.1;
    pub const SIZE: usize = super::at::SIZE.1;
    pub const MTIME: usize = super::at::MTIME.1;
    pub const DEV: usize = super::at::DEVMAJOR.1;
}
