//! [`Ext2Mapper`]: `io_map` for an ext2 file system served hosted, with
//! hurd-pager's [`PagerServer`]: a [`FilePager`] per mapped node and the
//! [`DiskPager`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use hurd_ipc::hosted::Task;
use hurd_ipc::user::{MachMsgError, MsgOptions};
use hurd_ipc::{Disposition, Errno, KernReturn, Message, PortName, UserIpc};
use hurd_pager::Config;
use hurd_pager::hosted::{Pager, PagerServer};

use super::pager::{DiskPager, FilePager};
use super::tree::Shared;
use crate::netfs::{Mapper, NodeId};

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
