//! [`Ext2Mapper`]: `io_map` for an ext2 file system served hosted, with
//! hurd-pager's [`PagerServer`](hurd_pager::hosted::PagerServer): a [`FilePager`] per mapped node and the
//! [`DiskPager`].

use std::sync::Mutex;

use hurd_ipc::hosted::Task;
use hurd_ipc::{Errno, KernReturn, PortName};
use hurd_pager::Config;
use hurd_pager::hosted::Pager;

use super::pager::{DiskPager, FilePager};
use super::tree::Shared;
use crate::mapping::NodePagers;
use crate::netfs::{Mapper, NodeId};

/// `io_map` for an ext2 file system: a [`FilePager`] per mapped node, all
/// served by one [`PagerServer`](hurd_pager::hosted::PagerServer) in the file system's task; and the
/// [`DiskPager`].
pub struct Ext2Mapper<S> {
    fs: S,
    pagers: NodePagers,
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
            pagers: NodePagers::new(task)?,
            disk: Mutex::new(None),
        })
    }

    /// The pager of a mapped node, if it has been mapped.
    pub fn pager(&self, node: NodeId) -> Option<Pager> {
        self.pagers.pager(node)
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
                self.pagers
                    .server()
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
        let ino = u32::try_from(node).map_err(|_| Errno::NoEnt)?;
        self.pagers
            .memory_objects(node, || Ok(FilePager::new(self.fs.clone(), ino)))
    }

    fn is_mapped(&self, node: NodeId) -> bool {
        self.pagers.is_mapped(node)
    }

    fn settle(
        &self,
        node: NodeId,
        offset: u64,
        len: u64,
        keep: bool,
        wake: PortName,
    ) -> Result<(), Errno> {
        self.pagers.settle(node, offset, len, keep, wake)
    }

    fn sync(&self, node: NodeId) {
        self.pagers.sync(node);
    }
}
