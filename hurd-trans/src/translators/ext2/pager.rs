//! Memory objects on hurd-pager, as the Hurd's ext2fs has them: a **file
//! pager** per mapped node, whose pages are the file's blocks, and a **disk
//! pager** whose pages are the device's (`ext2fs/pager.c`). Each is a
//! hurd-pager [`Backend`]; hosted, `mapper::Ext2Mapper` (feature `std`)
//! serves them for `io_map`, and on a kernel a `PagerPort` can.
//!
//! A file pager reads pages through the block map (holes read as zeros and
//! are write-locked); unlocking a page allocates the blocks of its holes
//! (zeroed on the disk, so a page given back unwritten stays zeros), and
//! writing a page back writes its blocks. Pages beyond the end of the file
//! are not written: a mapping does not grow a file. Mapped pages and
//! `io_read`/`io_write` agree through the server's
//! [`Mapper::settle`](crate::netfs::Mapper::settle): it has the kernels
//! write back (and, for writes, drop) the pages an I/O touches first.
//!
//! The disk pager serves the device's bytes coherently with the file
//! system's own metadata cache (it reads and writes through it). The server
//! itself reads and writes its metadata through that cache rather than
//! through a mapping of the disk pager: hosted, there is no virtual memory
//! to map it into.

use alloc::vec;
use alloc::vec::Vec;

use hurd_ipc::Errno;
use hurd_pager::{Backend, PAGE_SIZE, PageRead, PagerError};

use super::device::BlockDevice;
use super::fs::Ext2;
use super::tree::Shared;

const PAGE: usize = PAGE_SIZE as usize;

fn pager_error(e: Errno) -> PagerError {
    match e {
        Errno::NoSpc => PagerError::NoSpace,
        _ => PagerError::Io,
    }
}

/// The pages of one file (inode `ino`).
pub struct FilePager<S> {
    fs: S,
    ino: u32,
}

impl<S: Shared> FilePager<S> {
    /// The pager of inode `ino` of `fs`.
    pub fn new(fs: S, ino: u32) -> Self {
        FilePager { fs, ino }
    }
}

impl<D: BlockDevice> Ext2<D> {
    /// Page `offset` of file `ino` for its pager: the bytes (zeros beyond
    /// the end) and whether a hole in it needs unlocking before writes.
    fn page_in(&mut self, ino: u32, offset: u64) -> Result<(Vec<u8>, bool), Errno> {
        let i = self.live_inode(ino)?;
        if !i.is_reg() {
            return Err(Errno::Inval);
        }
        let mut data = vec![0u8; PAGE];
        if offset >= i.size {
            return Ok((data, true));
        }
        let len = (i.size - offset).min(PAGE as u64) as usize;
        self.read_blocks(&i, offset, &mut data[..len])?;
        let bs = self.bs as u64;
        let first = offset / bs;
        let n = (len as u64).div_ceil(bs) as usize;
        let holes = self.bmap_range(&i, first, n)?.contains(&0);
        Ok((data, holes))
    }

    /// Gives page `offset` of file `ino` its missing blocks (within the
    /// file), zeroed on the disk.
    fn page_unlock(&mut self, ino: u32, offset: u64) -> Result<(), Errno> {
        self.writable()?;
        let mut i = self.live_inode(ino)?;
        if offset >= i.size {
            return Ok(());
        }
        let bs = self.bs as u64;
        let first = offset / bs;
        let end = (offset + PAGE as u64).min(i.size).div_ceil(bs);
        let privileged = self.privileged(i.uid, i.gid);
        let goal = self.inode_goal(ino);
        let mut r = Ok(());
        for l in first..end {
            match self.bmap_alloc(&mut i, l, goal, privileged) {
                Ok((b, true)) => {
                    let zeros = vec![0u8; self.bs];
                    if let Err(e) = self.dev.write_at(b as u64 * bs, &zeros) {
                        r = Err(e);
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    r = Err(e);
                    break;
                }
            }
        }
        self.write_inode(ino, &i)?;
        r
    }

    /// Writes page `offset` of file `ino` back: the part within the file.
    fn page_out(&mut self, ino: u32, offset: u64, data: &[u8]) -> Result<(), Errno> {
        let i = self.live_inode(ino)?;
        if offset >= i.size {
            return Ok(());
        }
        let len = (i.size - offset).min(data.len() as u64) as usize;
        // Through the ordinary write path: holes (never unlocked) are
        // filled, and the size stays.
        let size = i.size;
        self.write_file(ino, offset, &data[..len])?;
        let mut after = self.read_inode(ino)?;
        after.size = size;
        self.write_inode(ino, &after)
    }

    /// Page `offset` of the device, through the metadata cache.
    fn disk_page_in(&mut self, offset: u64) -> Result<Vec<u8>, Errno> {
        let mut data = vec![0u8; PAGE];
        let size = self.dev.size();
        if offset >= size {
            return Ok(data);
        }
        let len = (size - offset).min(PAGE as u64) as usize;
        self.dev.read_at(offset, &mut data[..len])?;
        let bs = self.bs as u64;
        let mut b = offset / bs;
        while b * bs < offset + len as u64 {
            if let Some(c) = self.cache.peek(b as u32) {
                let at = (b * bs).saturating_sub(offset) as usize;
                let from = (offset.saturating_sub(b * bs)) as usize;
                let n = (c.len() - from).min(len - at);
                data[at..at + n].copy_from_slice(&c[from..from + n]);
            }
            b += 1;
        }
        Ok(data)
    }

    /// Writes page `offset` of the device, keeping the cache's copies.
    fn disk_page_out(&mut self, offset: u64, data: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let size = self.dev.size();
        if offset >= size {
            return Ok(());
        }
        let len = (size - offset).min(data.len() as u64) as usize;
        let bs = self.bs as u64;
        let (first, last) = (offset / bs, (offset + len as u64 - 1) / bs);
        self.cache
            .discard_range(first as u32, (last - first + 1) as u32);
        self.index_drop_all();
        self.dev.write_at(offset, &data[..len])
    }
}

impl<S: Shared> Backend for FilePager<S> {
    fn read_page(&mut self, offset: u64) -> Result<PageRead, PagerError> {
        let ino = self.ino;
        let (data, write_lock) = self
            .fs
            .with(|fs| fs.page_in(ino, offset))
            .map_err(pager_error)?;
        Ok(PageRead { data, write_lock })
    }

    fn write_page(&mut self, offset: u64, data: &[u8]) -> Result<(), PagerError> {
        let ino = self.ino;
        self.fs
            .with(|fs| fs.page_out(ino, offset, data))
            .map_err(pager_error)
    }

    fn unlock_page(&mut self, offset: u64) -> Result<(), PagerError> {
        let ino = self.ino;
        self.fs
            .with(|fs| fs.page_unlock(ino, offset))
            .map_err(pager_error)
    }

    fn extent(&self) -> u64 {
        let ino = self.ino;
        self.fs
            .with(|fs| fs.read_inode(ino).map(|i| i.size))
            .unwrap_or(0)
            .next_multiple_of(PAGE_SIZE)
    }
}

/// The pages of the whole device.
pub struct DiskPager<S> {
    fs: S,
}

impl<S: Shared> DiskPager<S> {
    /// The disk pager of `fs`.
    pub fn new(fs: S) -> Self {
        DiskPager { fs }
    }
}

impl<S: Shared> Backend for DiskPager<S> {
    fn read_page(&mut self, offset: u64) -> Result<PageRead, PagerError> {
        let data = self
            .fs
            .with(|fs| fs.disk_page_in(offset))
            .map_err(pager_error)?;
        Ok(PageRead {
            data,
            write_lock: false,
        })
    }

    fn write_page(&mut self, offset: u64, data: &[u8]) -> Result<(), PagerError> {
        self.fs
            .with(|fs| fs.disk_page_out(offset, data))
            .map_err(pager_error)
    }

    fn extent(&self) -> u64 {
        self.fs.with(|fs| fs.dev.size()).next_multiple_of(PAGE_SIZE)
    }
}
