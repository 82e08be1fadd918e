//! Reading an archive entry by entry.

use alloc::vec;
use alloc::vec::Vec;

use super::BLOCK;
use super::compress::Compression;
use super::entry::{Data, Entry, EntryKind, Header};
use super::error::{Reason, TarError};
use super::header::{self, Block, GNU_SPARSE_IN_EXTENSION};
use super::pax::{self, Overrides};
use super::source::Source;
use super::sparse::{self, MapParser};
use crate::stat::TimeSpec;

/// How much an archive may make the reader (and an index built from its
/// entries) hold. Past a limit the archive is refused, naming the entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits {
    /// Entries (extended headers not counted).
    pub max_entries: usize,
    /// Bytes of a name or link target.
    pub max_name: usize,
    /// Bytes of one extended header (pax records, GNU long name).
    pub max_extended: usize,
    /// Bytes of all global pax headers together.
    pub max_global: usize,
    /// Segments of one sparse file's map.
    pub max_sparse: usize,
    /// Bytes of names, link targets, sparse maps, extended attributes and
    /// other pax records of all entries together.
    pub max_index: usize,
}

impl Default for Limits {
    /// A million entries, names of 4096 bytes (`PATH_MAX`), extended headers
    /// of 1 MiB, 64 KiB of global headers, a million segments per sparse
    /// file, 256 MiB of index.
    fn default() -> Limits {
        Limits {
            max_entries: 1 << 20,
            max_name: 4096,
            max_extended: 1 << 20,
            max_global: 64 << 10,
            max_sparse: 1 << 20,
            max_index: 256 << 20,
        }
    }
}

/// Bytes an index keeps per sparse segment.
const SEGMENT_COST: usize = core::mem::size_of::<super::entry::Segment>();

/// Reads the entries of an archive from a [`Source`], one at a time, never
/// holding their data.
pub struct Reader<S> {
    source: S,
    limits: Limits,
    /// The next header's offset.
    pos: u64,
    len: Option<u64>,
    globals: Overrides,
    global_bytes: usize,
    entries: usize,
    index_bytes: usize,
    done: bool,
}

/// What the headers before an entry's own said.
#[derive(Default)]
struct Pending {
    local: Overrides,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    any: bool,
}

impl Pending {
    /// The best name known so far, for error messages.
    fn name<'a>(&'a self, block: &'a [u8]) -> &'a [u8] {
        self.local
            .sparse
            .name
            .as_deref()
            .or(self.local.path.as_deref())
            .or(self.long_name.as_deref())
            .unwrap_or(block)
    }
}

fn round_up(n: u64) -> Option<u64> {
    n.checked_next_multiple_of(BLOCK as u64)
}

impl<S: Source> Reader<S> {
    /// A reader of the archive `source`, with the default [`Limits`].
    pub fn new(source: S) -> Reader<S> {
        Reader::with_limits(source, Limits::default())
    }

    /// A reader with `limits`.
    pub fn with_limits(mut source: S, limits: Limits) -> Reader<S> {
        let len = source.archive_size();
        Reader {
            source,
            limits,
            pos: 0,
            len,
            globals: Overrides::default(),
            global_bytes: 0,
            entries: 0,
            index_bytes: 0,
            done: false,
        }
    }

    /// The archive, to read entries' data from ([`Data::read`]).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// The archive back.
    pub fn into_source(self) -> S {
        self.source
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The next entry; `None` at the end of the archive (a zero block, or the
    /// end of the source at a block boundary).
    ///
    /// # Errors
    ///
    /// A [`TarError`] naming the entry, its offset and the reason; the
    /// reader gives nothing more after one.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, TarError> {
        if self.done {
            return Ok(None);
        }
        let start = self.pos;
        let r = self.read_entry(start);
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r
    }

    fn fail<T>(&self, start: u64, name: &[u8], reason: Reason) -> Result<T, TarError> {
        Err(TarError::new(start, name, reason))
    }

    /// Reads exactly `buf.len()` bytes at `at`; `Ok(false)` if the archive
    /// ends first.
    fn read_exact(&mut self, at: u64, buf: &mut [u8]) -> Result<bool, Reason> {
        let got = self.source.read_at(at, buf).map_err(Reason::Source)?;
        Ok(got == buf.len())
    }

    /// Whether the archive holds `len` bytes from `at`.
    fn holds(&mut self, at: u64, len: u64) -> Result<bool, Reason> {
        let Some(end) = at.checked_add(len) else {
            return Ok(false);
        };
        if len == 0 {
            return Ok(true);
        }
        match self.len {
            Some(l) => Ok(end <= l),
            None => self.read_exact(end - 1, &mut [0u8]),
        }
    }

    fn read_entry(&mut self, mut start: u64) -> Result<Option<Entry>, TarError> {
        let mut p = Pending {
            local: self.globals.clone(),
            ..Pending::default()
        };
        let mut block = [0u8; BLOCK];
        loop {
            let at = self.pos;
            let got = match self.source.read_at(at, &mut block) {
                Ok(n) => n,
                Err(e) => return self.fail(start, p.name(&[]), Reason::Source(e)),
            };
            if got == 0 && !p.any {
                // The end of the data at a block boundary: an archive
                // without its end blocks.
                return Ok(None);
            }
            if at == 0
                && (got < BLOCK || !header::checksum_ok(&block))
                && let Some(c) = Compression::detect(&block[..got])
            {
                return self.fail(0, &[], Reason::Compressed(c));
            }
            if got < BLOCK {
                return self.fail(start, p.name(&[]), Reason::Truncated);
            }
            if header::is_zero(&block) {
                if p.any {
                    return self.fail(start, p.name(&[]), Reason::Truncated);
                }
                return Ok(None);
            }
            let b = match Block::parse(&block) {
                Ok(b) => b,
                Err(reason) => return self.fail(start, p.name(&[]), reason),
            };
            let data_at = at + BLOCK as u64;
            let size = p.local.size.unwrap_or(b.size);
            let ext_size = b.size;
            match b.typeflag {
                b'x' | b'X' | b'g' | b'L' | b'K' => {
                    // Extended headers' own size is the header's.
                    let data = match self.extended(data_at, ext_size) {
                        Ok(d) => d,
                        Err(reason) => return self.fail(start, p.name(&b.name), reason),
                    };
                    let r = self.apply_extended(&mut p, b.typeflag, &data);
                    if let Err(reason) = r {
                        return self.fail(start, p.name(&b.name), reason);
                    }
                    p.any = true;
                    self.pos = data_at + round_up(ext_size).unwrap_or(0);
                    continue;
                }
                b'M' => return self.fail(start, p.name(&b.name), Reason::MultiVolume),
                b'V' | b'N' => {
                    // A volume label, or old GNU's obsolete long-name
                    // bookkeeping: nothing to extract.
                    let Some(next) = round_up(ext_size).and_then(|s| data_at.checked_add(s)) else {
                        return self.fail(start, &b.name, Reason::Number("size"));
                    };
                    self.pos = next;
                    if !p.any {
                        start = next;
                    }
                    continue;
                }
                _ => {}
            }
            let name = b.name.clone();
            return match self.finish(start, p, b, data_at, size) {
                Ok(e) => Ok(Some(e)),
                Err((entry, reason)) => {
                    let entry = entry.unwrap_or(name);
                    self.fail(start, &entry, reason)
                }
            };
        }
    }

    /// An extended header's data.
    fn extended(&mut self, at: u64, size: u64) -> Result<Vec<u8>, Reason> {
        let len = usize::try_from(size)
            .ok()
            .filter(|&l| l <= self.limits.max_extended)
            .ok_or(Reason::ExtendedTooLarge)?;
        let mut data = vec![0u8; len];
        if !self.read_exact(at, &mut data)? {
            return Err(Reason::Truncated);
        }
        Ok(data)
    }

    fn apply_extended(&mut self, p: &mut Pending, typeflag: u8, data: &[u8]) -> Result<(), Reason> {
        let max_sparse = self.limits.max_sparse;
        match typeflag {
            b'x' | b'X' => {
                for r in pax::records(data)? {
                    p.local.apply(&r, max_sparse)?;
                }
            }
            b'g' => {
                self.global_bytes = self.global_bytes.saturating_add(data.len());
                if self.global_bytes > self.limits.max_global {
                    return Err(Reason::GlobalTooLarge);
                }
                for r in pax::records(data)? {
                    self.globals.apply(&r, max_sparse)?;
                    p.local.apply(&r, max_sparse)?;
                }
            }
            _ => {
                // GNU long name or link: a string, NUL-terminated.
                let end = data.iter().position(|&c| c == 0).unwrap_or(data.len());
                if end > self.limits.max_name {
                    return Err(Reason::NameTooLong);
                }
                let s = Some(data[..end].to_vec());
                if typeflag == b'L' {
                    p.long_name = s;
                } else {
                    p.long_link = s;
                }
            }
        }
        Ok(())
    }

    /// Builds the entry whose own header is `b`, its data at `data_at`
    /// (`size` bytes, extended headers' `size` applied).
    #[allow(clippy::type_complexity)]
    fn finish(
        &mut self,
        start: u64,
        p: Pending,
        mut b: Block,
        mut data_at: u64,
        size: u64,
    ) -> Result<Entry, (Option<Vec<u8>>, Reason)> {
        let Pending {
            local,
            long_name,
            long_link,
            ..
        } = p;
        let path = local
            .sparse
            .name
            .clone()
            .filter(|_| local.sparse.any())
            .or(local.path)
            .or(long_name)
            .unwrap_or(b.name);
        let named = |reason| (Some(path.clone()), reason);
        let link = local.link.or(long_link).unwrap_or(b.link);
        if path.is_empty() {
            return Err(named(Reason::EmptyName));
        }
        if path.len() > self.limits.max_name || link.len() > self.limits.max_name {
            return Err(named(Reason::NameTooLong));
        }
        let kind = match b.typeflag {
            b'0' | 0 if path.ends_with(b"/") => EntryKind::Dir,
            b'1' => EntryKind::HardLink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::CharDevice,
            b'4' => EntryKind::BlockDevice,
            b'5' | b'D' => EntryKind::Dir,
            b'6' => EntryKind::Fifo,
            _ => EntryKind::File,
        };
        // Old GNU sparse: extension blocks between the header and the data.
        let mut pairs = Vec::new();
        let mut logical = size;
        let mut sparse = false;
        let gnu_sparse = b.gnu_sparse.take();
        let old_gnu = gnu_sparse.is_some();
        if let Some(gs) = gnu_sparse {
            sparse = true;
            logical = gs.realsize;
            pairs = gs.pairs;
            let mut more = gs.extended;
            let mut ext = [0u8; BLOCK];
            while more {
                if pairs.len() > self.limits.max_sparse {
                    return Err(named(Reason::SparseTooLarge));
                }
                match self.read_exact(data_at, &mut ext) {
                    Ok(true) => {}
                    Ok(false) => return Err(named(Reason::Truncated)),
                    Err(r) => return Err(named(r)),
                }
                header::sparse_pairs(&ext, 0, GNU_SPARSE_IN_EXTENSION, &mut pairs)
                    .map_err(named)?;
                more = header::extension_continues(&ext);
                data_at += BLOCK as u64;
            }
        }
        let mut stored = size;
        let region = size;
        let region_at = data_at;
        let s = &local.sparse;
        if kind == EntryKind::File && s.any() && !old_gnu {
            sparse = true;
            logical = s.size.ok_or_else(|| named(Reason::SparseMap))?;
            if s.major == Some(1) {
                // 1.0: the map opens the data, padded to a block.
                let mut parser = MapParser::new(self.limits.max_sparse);
                let mut blk = [0u8; BLOCK];
                loop {
                    if stored < BLOCK as u64 {
                        return Err(named(Reason::SparseMap));
                    }
                    match self.read_exact(data_at, &mut blk) {
                        Ok(true) => {}
                        Ok(false) => return Err(named(Reason::Truncated)),
                        Err(r) => return Err(named(r)),
                    }
                    data_at += BLOCK as u64;
                    stored -= BLOCK as u64;
                    if let Some(found) = parser.feed(&blk).map_err(named)? {
                        pairs = found;
                        break;
                    }
                }
            } else if s.major.is_some_and(|m| m > 1) {
                return Err(named(Reason::SparseMap));
            } else {
                pairs = s.map.chunks_exact(2).map(|c| (c[0], c[1])).collect();
            }
        }
        let segments = if sparse {
            Some(sparse::segments(pairs, logical, stored).map_err(named)?)
        } else {
            None
        };
        match self.holds(region_at, region) {
            Ok(true) => {}
            Ok(false) => return Err(named(Reason::Truncated)),
            Err(r) => return Err(named(r)),
        }
        let Some(next) = round_up(region).and_then(|r| region_at.checked_add(r)) else {
            return Err(named(Reason::Number("size")));
        };
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(named(Reason::TooManyEntries));
        }
        let cost = path.len()
            + link.len()
            + segments.as_ref().map_or(0, |s| s.len() * SEGMENT_COST)
            + local
                .xattrs
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
            + local
                .extra
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        self.index_bytes = self.index_bytes.saturating_add(cost);
        if self.index_bytes > self.limits.max_index {
            return Err(named(Reason::IndexTooLarge));
        }
        self.pos = next;
        let has_data = matches!(kind, EntryKind::File | EntryKind::HardLink);
        let data = Data {
            start: data_at,
            stored: if has_data { stored } else { 0 },
            size: if kind == EntryKind::File { logical } else { 0 },
            sparse: segments,
        };
        Ok(Entry {
            header: Header {
                path,
                kind,
                link,
                mode: b.mode,
                uid: local.uid.unwrap_or(b.uid),
                gid: local.gid.unwrap_or(b.gid),
                uname: local.uname.unwrap_or(b.uname),
                gname: local.gname.unwrap_or(b.gname),
                size: data.size,
                mtime: local.mtime.unwrap_or(TimeSpec {
                    sec: b.mtime,
                    nsec: 0,
                }),
                atime: local.atime.or(b.atime.map(|sec| TimeSpec { sec, nsec: 0 })),
                ctime: local.ctime.or(b.ctime.map(|sec| TimeSpec { sec, nsec: 0 })),
                devmajor: local.devmajor.unwrap_or(b.devmajor),
                devminor: local.devminor.unwrap_or(b.devminor),
                xattrs: local.xattrs,
                extra: local.extra,
            },
            offset: start,
            data,
            format: b.format,
        })
    }
}

impl<S: Source> Iterator for Reader<S> {
    type Item = Result<Entry, TarError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}
