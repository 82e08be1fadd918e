//! What an archive entry is: its header (what the writer takes and the
//! reader gives) and where its data lies.

use alloc::string::String;
use alloc::vec::Vec;

use super::source::Source;
use crate::stat::TimeSpec;
use hurd_ipc::Errno;

/// The kind of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EntryKind {
    /// A regular file (`0`, NUL, contiguous `7`, and kinds this reader does
    /// not know, as GNU tar extracts them).
    File,
    /// A directory (`5`, GNU incremental `D`, or an old-style file entry
    /// whose name ends in `/`).
    Dir,
    /// A symbolic link (`2`) to [`Header::link`].
    Symlink,
    /// Another name (`1`) for the earlier entry [`Header::link`].
    HardLink,
    /// A character device (`3`).
    CharDevice,
    /// A block device (`4`).
    BlockDevice,
    /// A FIFO (`6`).
    Fifo,
}

impl EntryKind {
    /// The header's type flag for this kind.
    pub fn typeflag(self) -> u8 {
        match self {
            EntryKind::File => b'0',
            EntryKind::HardLink => b'1',
            EntryKind::Symlink => b'2',
            EntryKind::CharDevice => b'3',
            EntryKind::BlockDevice => b'4',
            EntryKind::Dir => b'5',
            EntryKind::Fifo => b'6',
        }
    }
}

/// The header format an entry was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Format {
    /// Unix v7: no magic.
    V7,
    /// POSIX ustar (`ustar\0`), pax when extended headers came with it.
    Ustar,
    /// GNU and old GNU (`ustar  \0`).
    Gnu,
    /// star (`ustar\0` with `tar\0` at the end of the header).
    Star,
}

/// An entry's metadata: what [`Writer`](super::Writer) writes and
/// [`Reader`](super::Reader) gives back, extended headers applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The name as the archive holds it (bytes, any encoding; `./`
    /// prefixes, a leading `/` and a directory's trailing `/` included).
    pub path: Vec<u8>,
    /// What the entry is.
    pub kind: EntryKind,
    /// A symbolic link's target, or the earlier entry a hard link names.
    pub link: Vec<u8>,
    /// Permission bits (and set-id and sticky bits).
    pub mode: u32,
    /// The owner.
    pub uid: u32,
    /// The group.
    pub gid: u32,
    /// The owner's name (may be empty).
    pub uname: Vec<u8>,
    /// The group's name (may be empty).
    pub gname: Vec<u8>,
    /// A file's size in bytes: for a sparse file, its logical size.
    pub size: u64,
    /// The modification time.
    pub mtime: TimeSpec,
    /// The access time, when the archive records it.
    pub atime: Option<TimeSpec>,
    /// The status change time, when the archive records it.
    pub ctime: Option<TimeSpec>,
    /// A device's major number.
    pub devmajor: u32,
    /// A device's minor number.
    pub devminor: u32,
    /// Extended attributes (`SCHILY.xattr.NAME`): names and values are bytes.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// pax records this module does not interpret, in order (the Hurd's
    /// [`TRANSLATOR_KEYWORD`](super::TRANSLATOR_KEYWORD) among them).
    pub extra: Vec<(String, Vec<u8>)>,
}

impl Header {
    /// A header of `kind` named `path`, owned by root, time 0.
    pub fn new(path: impl AsRef<[u8]>, kind: EntryKind, mode: u32) -> Header {
        Header {
            path: path.as_ref().to_vec(),
            kind,
            link: Vec::new(),
            mode,
            uid: 0,
            gid: 0,
            uname: Vec::new(),
            gname: Vec::new(),
            size: 0,
            mtime: TimeSpec::default(),
            atime: None,
            ctime: None,
            devmajor: 0,
            devminor: 0,
            xattrs: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// A regular file (its size is set when it is appended with its data).
    pub fn file(path: impl AsRef<[u8]>, mode: u32) -> Header {
        Header::new(path, EntryKind::File, mode)
    }

    /// A directory.
    pub fn dir(path: impl AsRef<[u8]>, mode: u32) -> Header {
        Header::new(path, EntryKind::Dir, mode)
    }

    /// A symbolic link to `target`.
    pub fn symlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Header {
        let mut h = Header::new(path, EntryKind::Symlink, 0o777);
        h.link = target.as_ref().to_vec();
        h
    }

    /// A hard link to the earlier entry `target`.
    pub fn hard_link(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Header {
        let mut h = Header::new(path, EntryKind::HardLink, 0o644);
        h.link = target.as_ref().to_vec();
        h
    }

    /// The value of the first [`extra`](Header::extra) record `key`.
    pub fn extra(&self, key: &str) -> Option<&[u8]> {
        self.extra
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// One data segment of a sparse file: `len` bytes at `offset` in the file,
/// stored at `at` bytes into the entry's stored data. Between segments the
/// file reads as zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Segment {
    /// Where the segment starts in the file.
    pub offset: u64,
    /// Its length.
    pub len: u64,
    /// Where its bytes start in the stored data.
    pub at: u64,
}

/// Where an entry's data lies in the archive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Data {
    /// The archive offset of the first stored byte.
    pub start: u64,
    /// How many bytes the archive stores.
    pub stored: u64,
    /// The file's size (more than `stored` for a sparse file).
    pub size: u64,
    /// A sparse file's segments, in order; `None` for a file stored whole.
    pub sparse: Option<Vec<Segment>>,
}

impl Data {
    /// Reads the file's bytes at `offset` into `buf` from `source` (the
    /// archive this entry came from); holes of a sparse file read as zeros.
    /// Returns how many bytes were read: fewer than `buf` only at the end of
    /// the file.
    ///
    /// # Errors
    ///
    /// The source's error; `EIO` if the archive is shorter than it was when
    /// the entry was read.
    pub fn read<S: Source + ?Sized>(
        &self,
        source: &mut S,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        if offset >= self.size {
            return Ok(0);
        }
        let n = usize::try_from(self.size - offset).map_or(buf.len(), |r| r.min(buf.len()));
        let buf = &mut buf[..n];
        let end = offset + n as u64;
        match &self.sparse {
            None => self.stored_range(source, offset, buf)?,
            Some(segments) => {
                buf.fill(0);
                let first = segments.partition_point(|s| s.offset + s.len <= offset);
                for s in segments[first..].iter().take_while(|s| s.offset < end) {
                    let from = s.offset.max(offset);
                    let to = (s.offset + s.len).min(end);
                    if from >= to {
                        continue;
                    }
                    let dst = &mut buf[(from - offset) as usize..(to - offset) as usize];
                    self.stored_range(source, s.at + (from - s.offset), dst)?;
                }
            }
        }
        Ok(n)
    }

    /// Fills `buf` from the stored data at `at`.
    fn stored_range<S: Source + ?Sized>(
        &self,
        source: &mut S,
        at: u64,
        buf: &mut [u8],
    ) -> Result<(), Errno> {
        if at.saturating_add(buf.len() as u64) > self.stored {
            return Err(Errno::Io);
        }
        let got = source.read_at(self.start + at, buf)?;
        if got == buf.len() {
            Ok(())
        } else {
            Err(Errno::Io)
        }
    }
}

/// One entry read from an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its metadata.
    pub header: Header,
    /// The offset of its first header (extended headers included).
    pub offset: u64,
    /// Where its data is.
    pub data: Data,
    /// The format of its header.
    pub format: Format,
}
