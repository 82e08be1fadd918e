//! Tar archives as GNU tar and bsdtar write them: one reader and one writer,
//! `no_std` + `alloc`, for every part of the system that handles archives
//! (the `tarfs` translator, the root file system's loader, the image
//! builder).
//!
//! # What is read
//!
//! - Headers in every format those tools write: v7, POSIX ustar (name and
//!   prefix), star (its shorter prefix), GNU and old GNU (`ustar  \0`).
//! - Numbers as octal text (leading spaces, trailing spaces or NULs, as
//!   libarchive writes them) or as GNU base-256, negative ones included;
//!   checksums summed over unsigned or (old Sun tar) signed bytes.
//! - pax extended (`x`) and global (`g`) headers: `path`, `linkpath`,
//!   `size`, `uid`, `gid`, `uname`, `gname`, `mtime`, `atime`, `ctime`
//!   (fractions and negative times included) override the header's
//!   fields, as POSIX says; an empty value in an `x` record restores the
//!   header's own. `SCHILY.xattr.*` records are extended attributes (their
//!   values are bytes and may hold NULs); `SCHILY.devmajor`/`devminor` are
//!   a device's numbers. A NUL inside a name, a link target or a number is
//!   refused. Records this reader does not interpret (the Hurd's
//!   [`TRANSLATOR_KEYWORD`] among them) are kept in [`Header::extra`].
//! - GNU long names and link targets (`L`, `K`), which a pax record in turn
//!   overrides.
//! - Sparse files: old GNU (`S`, with its extension headers) and the pax
//!   formats 0.0, 0.1 and 1.0 (`GNU.sparse.*`, the real name from
//!   `GNU.sparse.name`, not `GNUSparseFile.N/...`); bsdtar writes 1.0.
//! - GNU incremental dumps: a `D` entry is a directory (the dump's file
//!   list it carries is skipped); GNU headers' access and change times are
//!   read, never taken for a name prefix.
//! - Names as bytes: nothing is required to be UTF-8.
//!
//! Hard links are entries of kind [`EntryKind::HardLink`] naming an earlier
//! entry; [`path::components`] turns a name into the components an
//! extraction would use (dropping `/` and `.`; refusing `..`).
//!
//! # Untrusted input
//!
//! An archive may be anything. Reading never panics; what an entry makes
//! the reader hold is bounded by [`Limits`] (names, extended headers,
//! sparse maps); entry data is never read into memory by the reader: an
//! [`Entry`] says where its bytes are ([`Data`]) and [`Data::read`] reads a
//! range of them from the [`Source`] when asked. A refusal is a
//! [`TarError`] naming the entry, the offset of its header and the reason.
//! A compressed archive (gzip, bzip2, xz, zstd, lzip, lz4, compress) is
//! recognised and refused as one: decompress it first. (No decompressor
//! is built in: reading on demand needs random access, which a
//! compressed stream does not give.)
//!
//! # Writing
//!
//! [`Writer`] writes ustar headers with pax records where ustar falls short
//! (long or non-UTF-8 names, sizes of 8 GiB and more, owners above
//! 2,097,151, times before 1970 or with nanoseconds, extended attributes),
//! so GNU tar, bsdtar and this reader all read back what was written.
//!
//! ```
//! use hurd_trans::tar::{EntryKind, Header, Reader, Writer};
//!
//! let mut w = Writer::new();
//! w.append(&Header::dir("etc", 0o755), b"").unwrap();
//! w.append(&Header::file("etc/motd", 0o644), b"hello\n").unwrap();
//! let archive = w.finish();
//!
//! let mut r = Reader::new(archive.as_slice());
//! let dir = r.next_entry().unwrap().unwrap();
//! assert_eq!((dir.header.path.as_slice(), dir.header.kind), (&b"etc/"[..], EntryKind::Dir));
//! let motd = r.next_entry().unwrap().unwrap();
//! let mut buf = [0; 16];
//! let n = motd.data.read(r.source_mut(), 0, &mut buf).unwrap();
//! assert_eq!(&buf[..n], b"hello\n");
//! assert!(r.next_entry().unwrap().is_none());
//! ```

mod compress;
mod entry;
mod error;
mod header;
mod number;
pub mod path;
mod pax;
mod reader;
mod source;
mod sparse;
mod writer;

pub use compress::Compression;
pub use entry::{Data, Entry, EntryKind, Format, Header, Segment};
pub use error::{Reason, TarError, WriteError};
pub use reader::{Limits, Reader};
#[cfg(feature = "std")]
pub use source::FileSource;
pub use source::Source;
pub use writer::{Writer, padding};

/// A ustar header block with these fields (root-owned, time 0), for tests
/// that need archives the [`Writer`] would refuse to make.
pub(crate) fn raw_header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; BLOCK] {
    header::encode(&header::Fields {
        name,
        prefix: b"",
        typeflag,
        link,
        mode: if typeflag == b'5' { 0o755 } else { 0o644 },
        uid: 0,
        gid: 0,
        size,
        mtime: 0,
        uname: b"",
        gname: b"",
        devmajor: 0,
        devminor: 0,
    })
}

/// The size of a tar block: headers and data are padded to it.
pub const BLOCK: usize = 512;

/// The pax keyword of a passive translator record: the node's translator
/// command line as an argz (each word followed by a NUL), what
/// `file_get_translator` returns. The image builder writes it; the root
/// file system's loader and `tarfs` read it.
pub const TRANSLATOR_KEYWORD: &str = "HURD.translator";

#[cfg(test)]
mod tests;
