//! `io_map` on hurd-pager (hosted): one pager per mapped node, whose
//! backend reads and writes the file's pages through the file system's own
//! `io_read` and `io_write`.
//!
//! Mapped pages and `io_read`/`io_write` agree, as on the Hurd (where a
//! disk file system reads and writes files through their own memory
//! objects): while kernels map a file, an `io_read` first has them write back
//! what they changed in the pages it reads (`pager_sync_some`, keeping their
//! pages) and an `io_write` has them write back and drop the pages it writes
//! (`pager_return_some`), so they fetch the new contents. The request waits
//! (its reply is deferred, the server goes on serving — the write-back comes
//! through its own `io_write`); a kernel touching those pages while it waits
//! may still see the old bytes. `file_sync` starts writing every dirty
//! mapped page back. Mappings of the same node by any number of kernels are
//! coherent among themselves (that is hurd-pager's job). A mapping cannot
//! grow a file: pages beyond its end are not written back.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hurd_ipc::Errno;
use hurd_ipc::hosted::Task;
use hurd_ipc::user::{MachMsgError, MsgOptions};
use hurd_ipc::{Disposition, Message, PortName, UserIpc};
use hurd_pager::hosted::{Pager, PagerServer};
use hurd_pager::{Backend, Config, PAGE_SIZE, PageRead, PagerError};

use crate::netfs::{Mapper, NodeId};
use crate::protocol::io;

const PAGE: usize = PAGE_SIZE as usize;

/// A pager backend that is a client of a file: pages come and go through
/// `io_read` and `io_write` on `io` (a send right in `task`'s space).
pub struct PortBackend {
    task: Task,
    io: PortName,
}

impl PortBackend {
    /// A backend reading and writing the file `io`.
    pub fn new(task: Task, io: PortName) -> PortBackend {
        PortBackend { task, io }
    }

    fn size(&self) -> Result<u64, PagerError> {
        io::Client::new(&self.task, self.io)
            .stat()
            .map(|s| s.size)
            .map_err(|_| PagerError::Io)
    }
}

impl Drop for PortBackend {
    fn drop(&mut self) {
        let _ = self.task.port_deallocate(self.io);
    }
}

impl Backend for PortBackend {
    fn read_page(&mut self, offset: u64) -> Result<PageRead, PagerError> {
        let off = i64::try_from(offset).map_err(|_| PagerError::InvalidArgument)?;
        let mut data = io::Client::new(&self.task, self.io)
            .read(off, PAGE as u64)
            .map_err(|_| PagerError::Io)?;
        data.resize(PAGE, 0);
        Ok(PageRead {
            data,
            write_lock: false,
        })
    }

    fn write_page(&mut self, offset: u64, data: &[u8]) -> Result<(), PagerError> {
        let size = self.size()?;
        if offset >= size {
            return Ok(());
        }
        let len = (size - offset).min(data.len() as u64) as usize;
        let off = i64::try_from(offset).map_err(|_| PagerError::InvalidArgument)?;
        let c = io::Client::new(&self.task, self.io);
        let mut done = 0;
        while done < len {
            let n = c
                .write(data[done..len].to_vec(), off + done as i64)
                .map_err(|_| PagerError::Io)?;
            if n == 0 {
                return Err(PagerError::Io);
            }
            done += n as usize;
        }
        Ok(())
    }

    fn extent(&self) -> u64 {
        self.size().unwrap_or(0).next_multiple_of(PAGE_SIZE)
    }
}

/// The pagers of one file system's mapped nodes, served by one
/// [`PagerServer`] in the file system's task: what every hosted [`Mapper`]
/// here does with them, whatever its backend ([`PagerMapper`], the ext2
/// translator's mapper).
pub struct NodePagers {
    task: Task,
    server: PagerServer,
    pagers: Mutex<BTreeMap<NodeId, Pager>>,
}

impl NodePagers {
    /// No pagers yet, for the file system running as `task`.
    ///
    /// # Errors
    ///
    /// What starting the pager server in `task` returns.
    pub fn new(task: &Task) -> Result<NodePagers, hurd_ipc::KernReturn> {
        Ok(NodePagers {
            task: task.clone(),
            server: PagerServer::new(task)?,
            pagers: Mutex::new(BTreeMap::new()),
        })
    }

    /// The pager server.
    pub fn server(&self) -> &PagerServer {
        &self.server
    }

    /// The pager of a mapped node, if it has been mapped.
    pub fn pager(&self, node: NodeId) -> Option<Pager> {
        self.pagers.lock().ok()?.get(&node).cloned()
    }

    /// [`Mapper::memory_objects`]: the node's pager, made with the backend
    /// `backend` gives the first time the node is mapped.
    ///
    /// # Errors
    ///
    /// `backend`'s error; `ENOMEM` when the pager's ports cannot be made.
    pub fn memory_objects<B: Backend + Send + 'static>(
        &self,
        node: NodeId,
        backend: impl FnOnce() -> Result<B, Errno>,
    ) -> Result<(PortName, PortName), Errno> {
        let mut pagers = self.pagers.lock().map_err(|_| Errno::Io)?;
        if let Some(p) = pagers.get(&node) {
            let ro = p.read_only_port().map_err(|_| Errno::NoMem)?;
            return Ok((p.port(), ro));
        }
        let pager = self
            .server
            .create(backend()?, Config::default())
            .map_err(|_| Errno::NoMem)?;
        let ro = pager.read_only_port().map_err(|_| Errno::NoMem)?;
        let rw = pager.port();
        pagers.insert(node, pager);
        Ok((rw, ro))
    }

    /// [`Mapper::is_mapped`].
    pub fn is_mapped(&self, node: NodeId) -> bool {
        self.pager(node).is_some_and(|p| p.kernels() > 0)
    }

    /// [`Mapper::settle`].
    ///
    /// # Errors
    ///
    /// `ENOENT` for a node never mapped; `EAGAIN` when no thread can start.
    pub fn settle(
        &self,
        node: NodeId,
        offset: u64,
        len: u64,
        keep: bool,
        wake: PortName,
    ) -> Result<(), Errno> {
        let pager = self.pager(node).ok_or(Errno::NoEnt)?;
        let task = self.task.clone();
        // On a thread of its own, as for sync: the write-back may go through
        // the server, which must go on serving.
        std::thread::Builder::new()
            .name("pager-settle".into())
            .spawn(move || {
                let whole = len == u64::MAX || offset.checked_add(len).is_none();
                // A failed or timed-out settle still wakes the server: the
                // request goes ahead rather than waiting for ever.
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

    /// [`Mapper::sync`].
    pub fn sync(&self, node: NodeId) {
        // On a thread of its own: the pager's write-back may call this very
        // server (io_write), which must not wait for it.
        if let Some(p) = self.pager(node) {
            let _ = std::thread::Builder::new()
                .name("pager-sync".into())
                .spawn(move || p.sync(true));
        }
    }
}

/// A [`Mapper`] serving every mapped node of one file system with a
/// [`PagerServer`] in the file system's task, each node's pages read and
/// written through the file system's own `io_read` and `io_write`
/// ([`PortBackend`]).
pub struct PagerMapper {
    pagers: NodePagers,
}

impl PagerMapper {
    /// A mapper for the file system running as `task`.
    ///
    /// # Errors
    ///
    /// What starting the pager server in `task` returns.
    pub fn new(task: &Task) -> Result<PagerMapper, hurd_ipc::KernReturn> {
        Ok(PagerMapper {
            pagers: NodePagers::new(task)?,
        })
    }

    /// The pager of a mapped node, if it has been mapped.
    pub fn pager(&self, node: NodeId) -> Option<Pager> {
        self.pagers.pager(node)
    }
}

impl Mapper for PagerMapper {
    fn memory_objects(
        &self,
        node: NodeId,
        make_io: &mut dyn FnMut() -> Result<PortName, Errno>,
    ) -> Result<(PortName, PortName), Errno> {
        let task = self.pagers.task.clone();
        self.pagers
            .memory_objects(node, || Ok(PortBackend::new(task, make_io()?)))
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
