//! Why an archive, or an entry to write, was refused.

use alloc::vec::Vec;
use core::fmt;

use super::compress::Compression;
use hurd_ipc::Errno;

/// The longest entry name a [`TarError`] keeps (the start of a longer one).
const NAME_IN_ERROR: usize = 256;

/// An archive refused: which entry, where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarError {
    /// The byte offset of the entry's first header (its extended headers
    /// included) in the archive.
    pub offset: u64,
    /// The entry's name as far as it was read (empty when the header
    /// itself could not be read), at most 256 bytes of it.
    pub entry: Vec<u8>,
    /// What is wrong.
    pub reason: Reason,
}

impl TarError {
    /// A refusal of the entry `entry` whose header is at `offset` (for
    /// readers' own checks of entries, such as names an extraction refuses);
    /// the name is cut to its first 256 bytes.
    pub fn new(offset: u64, entry: &[u8], reason: Reason) -> TarError {
        TarError {
            offset,
            entry: entry[..entry.len().min(NAME_IN_ERROR)].to_vec(),
            reason,
        }
    }

    /// The `errno` a file system gives for this refusal: the source's own
    /// error for a failed read, `EFTYPE` (not an archive it can read) for
    /// everything else.
    pub fn errno(&self) -> Errno {
        match self.reason {
            Reason::Source(e) => e,
            _ => Errno::FType,
        }
    }
}

/// What is wrong with an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Reason {
    /// The archive ends inside a header, an extended header or an entry's
    /// data.
    Truncated,
    /// The header's checksum does not match its bytes.
    Checksum,
    /// The archive is compressed: decompress it first.
    Compressed(Compression),
    /// A numeric header field (named) is neither octal nor base-256, or
    /// does not fit.
    Number(&'static str),
    /// A pax record is malformed (not `LEN key=value\n`).
    PaxRecord,
    /// A pax record's value does not parse (the keyword).
    PaxValue(&'static str),
    /// A NUL inside a pax name, link target or number (the keyword).
    PaxNul(&'static str),
    /// An extended header (pax or GNU long name) larger than the limit.
    ExtendedTooLarge,
    /// Global pax headers beyond the limit, all of them together.
    GlobalTooLarge,
    /// A name or link target longer than the limit.
    NameTooLong,
    /// An empty name.
    EmptyName,
    /// A symbolic link to nothing (an empty target).
    EmptyLinkTarget,
    /// A name (or hard link target) with a `..` component.
    DotDot,
    /// A name that is not UTF-8 where the consumer needs UTF-8 (the root
    /// file system's loader: the file protocols name files with strings).
    NotUtf8,
    /// A sparse map that is malformed, out of order, overlapping, beyond
    /// the file's size, or does not add up to the data stored.
    SparseMap,
    /// A sparse map with more segments than the limit.
    SparseTooLarge,
    /// A GNU multi-volume continuation (`M`): only whole archives are read.
    MultiVolume,
    /// More entries than the limit.
    TooManyEntries,
    /// The names, link targets and sparse maps read so far exceed the
    /// limit.
    IndexTooLarge,
    /// A hard link names no earlier entry.
    LinkTargetMissing,
    /// A hard link names a directory.
    LinkToDirectory,
    /// The entry's parent is not a directory.
    NotADirectory,
    /// The entry would replace a directory that holds entries.
    DirectoryNotEmpty,
    /// Only a directory can be the archive's root (`.`).
    RootNotADirectory,
    /// Reading the archive itself failed.
    Source(Errno),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Truncated => f.write_str("the archive ends inside it"),
            Reason::Checksum => f.write_str("bad header checksum"),
            Reason::Compressed(c) => {
                write!(f, "the archive is {c}-compressed: decompress it first")
            }
            Reason::Number(field) => write!(f, "the {field} field is not a number"),
            Reason::PaxRecord => f.write_str("malformed pax record"),
            Reason::PaxValue(k) => write!(f, "bad value in pax record `{k}`"),
            Reason::PaxNul(k) => write!(f, "a NUL inside pax record `{k}`"),
            Reason::ExtendedTooLarge => f.write_str("extended header too large"),
            Reason::GlobalTooLarge => f.write_str("global pax headers too large"),
            Reason::NameTooLong => f.write_str("name or link target too long"),
            Reason::EmptyName => f.write_str("empty name"),
            Reason::EmptyLinkTarget => f.write_str("symbolic link to an empty target"),
            Reason::DotDot => f.write_str("a `..` in the name"),
            Reason::NotUtf8 => f.write_str("a name that is not UTF-8"),
            Reason::SparseMap => f.write_str("bad sparse map"),
            Reason::SparseTooLarge => f.write_str("sparse map too large"),
            Reason::MultiVolume => f.write_str("multi-volume continuation"),
            Reason::TooManyEntries => f.write_str("too many entries"),
            Reason::IndexTooLarge => f.write_str("names and maps too large"),
            Reason::LinkTargetMissing => f.write_str("hard link to no earlier entry"),
            Reason::LinkToDirectory => f.write_str("hard link to a directory"),
            Reason::NotADirectory => f.write_str("a parent is not a directory"),
            Reason::DirectoryNotEmpty => f.write_str("would replace a non-empty directory"),
            Reason::RootNotADirectory => f.write_str("the root is not a directory"),
            Reason::Source(e) => write!(f, "reading the archive: {e}"),
        }
    }
}

impl From<Errno> for Reason {
    fn from(e: Errno) -> Reason {
        Reason::Source(e)
    }
}

/// Writes `name` with bytes that are not printable ASCII as `\xNN`.
pub(crate) struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            if (0x20..0x7f).contains(&b) && b != b'\\' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for TarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entry.is_empty() {
            write!(f, "tar: header at offset {}: {}", self.offset, self.reason)
        } else {
            write!(
                f,
                "tar: entry `{}` at offset {}: {}",
                Escaped(&self.entry),
                self.offset,
                self.reason
            )
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TarError {}

/// An entry the [`Writer`](super::Writer) cannot write.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WriteError {
    /// The name is empty.
    EmptyName,
    /// The name or link target holds a NUL (no tar reader could read it).
    Nul,
    /// A link's target is empty.
    EmptyLink,
    /// A pax keyword of [`Header::extra`](super::Header::extra) or an
    /// extended attribute's name holds `=`, a NUL or a newline, or is empty.
    BadKeyword,
    /// The data given is not the header's size.
    SizeMismatch,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WriteError::EmptyName => "empty name",
            WriteError::Nul => "a NUL inside a name or link target",
            WriteError::EmptyLink => "empty link target",
            WriteError::BadKeyword => "bad pax keyword or attribute name",
            WriteError::SizeMismatch => "the data is not the header's size",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for WriteError {}
