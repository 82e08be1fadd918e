//! `storeio`: a store — a disk, a partition, any [`BlockDevice`] — as one
//! file, as the Hurd's storeio serves a device on a node (`/dev/hd0`):
//! `io_read` and `io_write` at any offset and length reach the store's
//! bytes, `io_stat` gives its size and block size, `io_seek` moves within
//! it.
//!
//! What the file does, after the Hurd's storeio:
//!
//! - it is a block device (`S_IFBLK`) whose size is the store's; its mode
//!   is `0644`, `0444` when read-only;
//! - a read at or past the end is end of file (no bytes), one crossing the
//!   end is cut there;
//! - a write crossing the end is cut there (the bytes taken are fewer); one
//!   starting at or past the end is `ENOSPC`, as a Linux block device's;
//!   on a read-only store every write is `EROFS`;
//! - its size cannot change: `file_set_size` is accepted and does nothing
//!   (the Hurd's storeio answers it so, so `O_TRUNC` opens work);
//! - the store's errors reach the client as they are (`EIO` for a failed
//!   transfer or a driver that is gone).
//!
//! The store is the caller's: on the hurd-rs kernel, the distro's storeio
//! program opens a device through Mach's device interface (`device_open`
//! on its device master port) and hands it here.

use alloc::vec;
use alloc::vec::Vec;

use hurd_ipc::Errno;

use super::ext2::device::BlockDevice;
use crate::mode::S_IFBLK;
use crate::stat::Stat;
use crate::trivfs::TrivFs;

/// A store served as one file. See the [module documentation](self).
#[derive(Debug)]
pub struct Storeio<D> {
    store: D,
    block_size: u32,
    readonly: bool,
}

impl<D: BlockDevice> Storeio<D> {
    /// Serves `store`, whose transfers are best in units of `block_size`
    /// bytes (reported as `st_blksize`; a device's record size), writable
    /// unless `readonly`.
    pub fn new(store: D, block_size: u32, readonly: bool) -> Storeio<D> {
        Storeio {
            store,
            block_size,
            readonly,
        }
    }

    /// The store.
    pub fn store(&mut self) -> &mut D {
        &mut self.store
    }

    /// Whether writes are refused.
    pub fn readonly(&self) -> bool {
        self.readonly
    }
}

impl<D: BlockDevice> TrivFs for Storeio<D> {
    fn stat(&self) -> Stat {
        let size = self.store.size();
        Stat {
            mode: S_IFBLK | if self.readonly { 0o444 } else { 0o644 },
            size,
            blksize: self.block_size,
            blocks: size.div_ceil(512),
            ..Stat::default()
        }
    }

    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let size = self.store.size();
        if offset >= size {
            return Ok(Vec::new());
        }
        let len = (len as u64).min(size - offset) as usize;
        let mut buf = vec![0; len];
        self.store.read_at(offset, &mut buf)?;
        Ok(buf)
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        if self.readonly {
            return Err(Errno::RoFs);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let size = self.store.size();
        if offset >= size {
            return Err(Errno::NoSpc);
        }
        let len = (data.len() as u64).min(size - offset) as usize;
        self.store.write_at(offset, &data[..len])?;
        Ok(len)
    }

    fn set_size(&mut self, _size: u64) -> Result<(), Errno> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translators::ext2::device::MemDevice;

    fn store(readonly: bool) -> Storeio<MemDevice> {
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
        Storeio::new(MemDevice::new(bytes), 512, readonly)
    }

    #[test]
    fn stat_is_a_block_device_of_the_stores_size() {
        let s = store(false).stat();
        assert_eq!(s.mode, S_IFBLK | 0o644);
        assert_eq!((s.size, s.blksize, s.blocks), (4096, 512, 8));
        assert_eq!(store(true).stat().mode, S_IFBLK | 0o444);
    }

    #[test]
    fn reads_anywhere_and_end_of_file_at_the_end() {
        let mut s = store(false);
        let want: Vec<u8> = (100..400u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(s.read(100, 300), Ok(want));
        assert_eq!(s.read(4000, 500).map(|b| b.len()), Ok(96));
        assert_eq!(s.read(4096, 10), Ok(Vec::new()));
        assert_eq!(s.read(u64::MAX, 10), Ok(Vec::new()));
    }

    #[test]
    fn writes_reach_the_store_cut_at_the_end() {
        let mut s = store(false);
        assert_eq!(s.write(700, b"across records"), Ok(14));
        assert_eq!(s.read(700, 14), Ok(b"across records".to_vec()));
        assert_eq!(s.read(699, 1), Ok(vec![(699 % 251) as u8]));
        assert_eq!(s.write(4090, &[1; 10]), Ok(6));
        assert_eq!(s.read(4090, 10), Ok(vec![1; 6]));
        assert_eq!(s.write(4096, &[1]), Err(Errno::NoSpc));
        assert_eq!(s.write(u64::MAX, &[1]), Err(Errno::NoSpc));
        assert_eq!(s.write(5000, &[]), Ok(0));
        assert_eq!(s.set_size(0), Ok(()));
        assert_eq!(s.stat().size, 4096);
    }

    #[test]
    fn a_readonly_store_refuses_writes() {
        let mut s = store(true);
        assert_eq!(s.write(0, b"x"), Err(Errno::RoFs));
        assert_eq!(s.read(0, 1), Ok(vec![0]));
    }

    /// A store whose transfers fail, as a disk whose driver is gone.
    struct Gone;

    impl BlockDevice for Gone {
        fn size(&self) -> u64 {
            1024
        }
        fn read_at(&mut self, _: u64, _: &mut [u8]) -> Result<(), Errno> {
            Err(Errno::Io)
        }
        fn write_at(&mut self, _: u64, _: &[u8]) -> Result<(), Errno> {
            Err(Errno::Io)
        }
    }

    #[test]
    fn the_stores_errors_reach_the_client() {
        let mut s = Storeio::new(Gone, 512, false);
        assert_eq!(s.read(0, 10), Err(Errno::Io));
        assert_eq!(s.write(0, b"x"), Err(Errno::Io));
    }
}
