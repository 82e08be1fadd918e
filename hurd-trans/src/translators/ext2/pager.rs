//! Memory objects on hurd-pager, as the Hurd's ext2fs has them: a **file
//! pager** per mapped node, whose pages are the file's blocks, and a **disk
//! pager** whose pages are the device's (`ext2fs/pager.c`). [`Ext2Mapper`]
//! serves `io_map` with the file pagers.
//!
//! A file pager reads pages through the block map (holes read as zeros and
//! are write-locked); unlocking a page allocates the blocks of its holes
//! (zeroed on the disk, so a page given back unwritten stays zeros), and
//! writing a page back writes its blocks. Pages beyond the end of the file
//! are not written: a mapping does not grow a file. Mapped pages and
//! `io_read`/`io_write` agree through [`Mapper::settle`]: the server has the
//! kernels write back (and, for writes, drop) the pages an I/O touches
//! first.
//!
//! The disk pager serves the device's bytes coherently with the file
//! system's own metadata cache (it reads and writes through it); the
//! file system hands it out read-only ([`Ext2Mapper::disk_object`]).

use std::collections::BTreeMap;
use std::sync::Mutex;

use hurd_ipc::hosted::Task;
use hurd_ipc::user::{MachMsgError, MsgOptions};
use hurd_ipc::{Disposition, KernReturn, Message, PortName, UserIpc};
use hurd_pager::hosted::{Pager, PagerServer};
use hurd_pager::{Backend, Config, PAGE_SIZE, PageRead, PagerError};

use super::device::BlockDevice;
use super::fs::Ext2;
use super::tree::Shared;
use crate::netfs::{Mapper, NodeId};
use hurd_ipc::Errno;

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

/// `io_map` for an ext2 file system: a [`FilePager`] per mapped node, all
/// served by one [`PagerServer`] in the file system's task; and the
/// [`DiskPager`].
pub struct Ext2Mapper<S> {
    fs: S,
    task: Task,
    server: PagerServer,
    pagers: Mutex<BTreeMap<NodeId, Pager>>,
    disk: Mutex<Option<Pager>>,
}

impl<S: Shared + Clone + Send + 'static> Ext2Mapper<S> {
    /// A mapper for `fs`, served as `task` (the file system's).
    ///
    /// # Errors
    ///
    /// What making the pager server's ports gives.
    pub fn new(fs: S, task: &Task) -> Result<Self, KernReturn> {
        Ok(Ext2Mapper {
            fs,
            task: task.clone(),
            server: PagerServer::new(task)?,
            pagers: Mutex::new(BTreeMap::new()),
            disk: Mutex::new(None),
        })
    }

    /// The pager of a mapped node, if it has been mapped.
    pub fn pager(&self, node: NodeId) -> Option<Pager> {
        self.pagers.lock().ok()?.get(&node).cloned()
    }

    /// The device as a memory object, read-only: a receive right in the
    /// file system's task to make send rights from.
    ///
    /// # Errors
    ///
    /// What making the pager's ports gives.
    pub fn disk_object(&self) -> Result<PortName, KernReturn> {
        let mut disk = self.disk.lock().map_err(|_| KernReturn::Failure)?;
        if disk.is_none() {
            *disk = Some(
                self.server
                    .create(DiskPager::new(self.fs.clone()), Config::default())?,
            );
        }
        match disk.as_ref() {
            Some(p) => p.read_only_port(),
            None => Err(KernReturn::Failure),
        }
    }
}

impl<S: Shared + Clone + Send + 'static> Mapper for Ext2Mapper<S> {
    fn memory_objects(
        &self,
        node: NodeId,
        _make_io: &mut dyn FnMut() -> Result<PortName, Errno>,
    ) -> Result<(PortName, PortName), Errno> {
        let mut pagers = self.pagers.lock().map_err(|_| Errno::Io)?;
        if let Some(p) = pagers.get(&node) {
            let ro = p.read_only_port().map_err(|_| Errno::NoMem)?;
            return Ok((p.port(), ro));
        }
        let ino = u32::try_from(node).map_err(|_| Errno::NoEnt)?;
        let pager = self
            .server
            .create(FilePager::new(self.fs.clone(), ino), Config::default())
            .map_err(|_| Errno::NoMem)?;
        let ro = pager.read_only_port().map_err(|_| Errno::NoMem)?;
        let rw = pager.port();
        pagers.insert(node, pager);
        Ok((rw, ro))
    }

    fn is_mapped(&self, node: NodeId) -> bool {
        self.pager(node).is_some_and(|p| p.kernels() > 0)
    }

    fn settle(
        &self,
        node: NodeId,
        offset: u64,
        len: u64,
        keep: bool,
        wake: PortName,
    ) -> Result<(), Errno> {
        let pager = self.pager(node).ok_or(Errno::NoEnt)?;
        let task = self.task.clone();
        // On a thread of its own: the server must go on serving meanwhile.
        std::thread::Builder::new()
            .name("ext2-settle".into())
            .spawn(move || {
                let whole = len == u64::MAX || offset.checked_add(len).is_none();
                let _ = match (whole, keep) {
                    (true, true) => pager.sync(true),
                    (true, false) => pager.return_all(true),
                    (false, true) => pager.sync_some(offset, len, true),
                    (false, false) => pager.return_some(offset, len, true),
                };
                let msg = Message::new(0, wake, Disposition::MoveSend);
                if let Err(MachMsgError::Send(e)) =
                    task.mach_msg(Some(msg), None, &MsgOptions::default())
                {
                    task.destroy_message(e.message);
                }
            })
            .map(|_| ())
            .map_err(|_| Errno::Again)
    }

    fn sync(&self, node: NodeId) {
        if let Some(p) = self.pager(node) {
            let _ = std::thread::Builder::new()
                .name("ext2-sync".into())
                .spawn(move || p.sync(true));
        }
    }
}
