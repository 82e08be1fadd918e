//! What an ext2 file system lives on: a [`BlockDevice`] — bytes addressed by
//! offset, as a disk partition, an image file or a store is — and
//! [`MemDevice`], one in memory.

use alloc::vec::Vec;

use hurd_ipc::Errno;

/// A disk as the file system sees it: `size` bytes, read and written at byte
/// offsets. The file system reads and writes whole file system blocks at
/// offsets that are multiples of the block size (and the 1024-byte
/// superblock at 1024).
///
/// Errors are the device's: `EIO` for a failed transfer. A read or write
/// that would reach beyond [`BlockDevice::size`] is the device's to refuse
/// (`EIO`); the file system never asks for one on an image it has checked.
pub trait BlockDevice {
    /// The device's size in bytes.
    fn size(&self) -> u64;

    /// Fills `buf` with the bytes at `offset`.
    ///
    /// # Errors
    ///
    /// `EIO` if the device cannot deliver them.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Errno>;

    /// Writes `buf` at `offset`.
    ///
    /// # Errors
    ///
    /// `EIO` if the device cannot take them, `EROFS` if it is read-only.
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Errno>;

    /// Makes everything written so far durable (a disk's cache flush,
    /// `fsync` of an image file). By default, nothing needs doing.
    ///
    /// # Errors
    ///
    /// `EIO` if the device reports a failure.
    fn flush(&mut self) -> Result<(), Errno> {
        Ok(())
    }
}

impl<D: BlockDevice + ?Sized> BlockDevice for alloc::boxed::Box<D> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        (**self).read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Errno> {
        (**self).write_at(offset, buf)
    }
    fn flush(&mut self) -> Result<(), Errno> {
        (**self).flush()
    }
}

/// A device in memory (an image read whole, or a scratch disk in tests).
#[derive(Clone, Debug, Default)]
pub struct MemDevice {
    bytes: Vec<u8>,
}

impl MemDevice {
    /// A device holding `bytes`.
    pub fn new(bytes: Vec<u8>) -> MemDevice {
        MemDevice { bytes }
    }

    /// The device's contents.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The contents, giving up the device.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn range(&self, offset: u64, len: usize) -> Result<core::ops::Range<usize>, Errno> {
        let start = usize::try_from(offset).map_err(|_| Errno::Io)?;
        let end = start.checked_add(len).ok_or(Errno::Io)?;
        if end > self.bytes.len() {
            return Err(Errno::Io);
        }
        Ok(start..end)
    }
}

impl BlockDevice for MemDevice {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let r = self.range(offset, buf.len())?;
        buf.copy_from_slice(&self.bytes[r]);
        Ok(())
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Errno> {
        let r = self.range(offset, buf.len())?;
        self.bytes[r].copy_from_slice(buf);
        Ok(())
    }
}

/// An image file (or a Linux block device) as a [`BlockDevice`], read and
/// written with `pread`/`pwrite`; [`BlockDevice::flush`] is `fsync`.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct FileDevice {
    file: std::fs::File,
    size: u64,
    writable: bool,
}

#[cfg(feature = "std")]
impl FileDevice {
    /// Opens `path`, for writing too unless `readonly`.
    ///
    /// # Errors
    ///
    /// What opening the file or finding its size gives.
    pub fn open(path: &std::path::Path, readonly: bool) -> std::io::Result<FileDevice> {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(!readonly)
            .open(path)?;
        // Seeking to the end works for block devices as well as files.
        let size = file.seek(SeekFrom::End(0))?;
        Ok(FileDevice {
            file,
            size,
            writable: !readonly,
        })
    }
}

#[cfg(feature = "std")]
impl BlockDevice for FileDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        use std::os::unix::fs::FileExt;
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > self.size)
        {
            return Err(Errno::Io);
        }
        self.file.read_exact_at(buf, offset).map_err(|_| Errno::Io)
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Errno> {
        use std::os::unix::fs::FileExt;
        if !self.writable {
            return Err(Errno::RoFs);
        }
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > self.size)
        {
            return Err(Errno::Io);
        }
        self.file.write_all_at(buf, offset).map_err(|_| Errno::Io)
    }

    fn flush(&mut self) -> Result<(), Errno> {
        if self.writable {
            self.file.sync_data().map_err(|_| Errno::Io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_device_refuses_out_of_range() {
        let mut d = MemDevice::new(alloc::vec![0; 4096]);
        let mut b = [0u8; 16];
        assert_eq!(d.read_at(4090, &mut b), Err(Errno::Io));
        assert_eq!(d.read_at(u64::MAX, &mut b), Err(Errno::Io));
        d.write_at(4080, &[7; 16]).expect("write");
        d.read_at(4080, &mut b).expect("read");
        assert_eq!(b, [7; 16]);
    }
}
