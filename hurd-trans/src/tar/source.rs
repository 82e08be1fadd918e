//! Where an archive's bytes come from.

use alloc::vec::Vec;

use hurd_ipc::Errno;

/// An archive read at offsets: memory, a file, a port (`io_read`).
///
/// The reader asks only for what it needs (a header, an extended header,
/// the range of an entry's data a caller wants), so the archive need not
/// be in memory.
pub trait Source {
    /// Reads into `buf` from `offset`, filling it unless the archive ends
    /// first; returns how many bytes were read (0 at or past the end).
    ///
    /// # Errors
    ///
    /// The error reading failed with.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;

    /// The archive's length, when the source knows it cheaply (`None`: the
    /// reader probes for each entry's last byte instead).
    fn archive_size(&mut self) -> Option<u64> {
        None
    }
}

impl Source for &[u8] {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let all: &[u8] = self;
        let start = usize::try_from(offset).map_or(all.len(), |o| o.min(all.len()));
        let n = buf.len().min(all.len() - start);
        buf[..n].copy_from_slice(&all[start..start + n]);
        Ok(n)
    }

    fn archive_size(&mut self) -> Option<u64> {
        Some(<[u8]>::len(self) as u64)
    }
}

impl Source for Vec<u8> {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.as_slice().read_at(offset, buf)
    }

    fn archive_size(&mut self) -> Option<u64> {
        Some(Vec::len(self) as u64)
    }
}

impl<S: Source + ?Sized> Source for &mut S {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        (**self).read_at(offset, buf)
    }

    fn archive_size(&mut self) -> Option<u64> {
        (**self).archive_size()
    }
}

impl<S: Source + ?Sized> Source for alloc::boxed::Box<S> {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        (**self).read_at(offset, buf)
    }

    fn archive_size(&mut self) -> Option<u64> {
        (**self).archive_size()
    }
}

/// A file on the host, read with `pread` (feature `std`, Unix).
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct FileSource(pub std::fs::File);

#[cfg(feature = "std")]
impl Source for FileSource {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        use std::os::unix::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            let at = offset.checked_add(done as u64).ok_or(Errno::Inval)?;
            match self.0.read_at(&mut buf[done..], at) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Errno::Io),
            }
        }
        Ok(done)
    }

    fn archive_size(&mut self) -> Option<u64> {
        self.0.metadata().ok().map(|m| m.len())
    }
}
