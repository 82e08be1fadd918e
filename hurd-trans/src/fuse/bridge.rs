//! The bridge's state: the translator's port for every node the kernel
//! knows, the open files and directories, and the requests' common steps.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::sync::mpsc;
use std::time::Duration;

use fuser::{FileAttr, FileType, Request};
use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};

use super::attr::{attr, err};
use crate::flags::{FS_TRANS_SET, OpenFlags};
use crate::lookup::Lookup;
use crate::name::Name;
use crate::protocol::{fs, io};
use crate::transbox::argv_to_argz;

/// How files are opened while the translator may have other clients:
/// `FOPEN_DIRECT_IO`. The kernel keeps no pages of the translator's files:
/// every read and write goes to the translator, in requests as large as
/// the caller's (up to `max_pages`), so what other clients of the
/// translator change is seen at once. Private mappings (executables) still
/// work; shared ones are `ENODEV`.
const SHARED_OPEN: u32 = fuser::consts::FOPEN_DIRECT_IO;

/// How files are opened when the bridge is the translator's only client
/// ([`Bridge::sole_client`]): `FOPEN_KEEP_CACHE`. The kernel keeps the
/// pages it read, across opens, and writes through them: nothing but
/// requests through this mount changes the files, so its pages stay
/// right.
const SOLE_OPEN: u32 = fuser::consts::FOPEN_KEEP_CACHE;

/// How long the kernel may keep entries and attributes while the
/// translator may have other clients: what they change shows within it.
const SHARED_TTL: Duration = Duration::from_secs(1);

/// How long the kernel may keep entries and attributes when the bridge is
/// the translator's only client: the kernel drops or refreshes what its
/// own requests change (a created or removed name, the attributes a
/// write, `setattr`, link or rename changes), and nothing else changes
/// them.
const SOLE_TTL: Duration = Duration::from_secs(3600);

/// Up to `size` bytes at `offset` through `io_read`, asking again after a
/// short answer: FUSE takes a short read for the end of the file.
pub(super) fn read_full(
    task: &Task,
    port: PortName,
    offset: i64,
    size: usize,
) -> Result<Vec<u8>, Error> {
    let io = io::Client::new(task, port);
    let mut data = io.read(offset, size as u64)?;
    while !data.is_empty() && data.len() < size {
        let at = offset.saturating_add(data.len() as i64);
        let more = io.read(at, (size - data.len()) as u64)?;
        if more.is_empty() {
            break;
        }
        data.extend_from_slice(&more);
    }
    Ok(data)
}

/// A node the kernel knows: the port the bridge holds for it and how many
/// lookups the kernel has yet to forget.
pub(super) struct Node {
    pub(super) port: PortName,
    pub(super) key: (u64, u64),
    pub(super) lookups: u64,
}

/// Node ids from here up are the bridge's own, for nodes whose `st_ino`
/// is taken (by the root's id 1, or by a node of another file system).
pub(super) const SYNTHETIC: u64 = 1 << 62;

/// An open file or directory.
pub(super) enum Handle {
    /// A port opened with the file's open modes.
    File(PortName),
    /// A directory's entries, read when it was opened.
    Dir(Vec<(u64, FileType, Name)>),
}

/// A FUSE file system forwarding to a translator's root directory.
///
/// Every node the kernel has looked up has a port the bridge holds until
/// the kernel forgets the node, as an open file on the Hurd holds its node:
/// requests about a node go to its port, requests about a name to its
/// directory's port, so no path is resolved twice and a rename moves
/// nothing in the bridge. There is one FUSE node per (`st_fsid`,
/// `st_ino`), so hard links are one node; its id (which Linux shows as
/// `st_ino`) is the translator's `st_ino` unless that is taken — by the
/// root, which FUSE numbers 1, or by a node of another file system below
/// the mount — when the bridge numbers it itself.
pub struct Bridge {
    pub(super) task: Task,
    /// The user id of the ids the bridge's ports carry (the mounter's).
    pub(super) mounter: u32,
    pub(super) control: PortName,
    pub(super) auth: PortName,
    pub(super) nodes: BTreeMap<u64, Node>,
    pub(super) ids: BTreeMap<(u64, u64), u64>,
    pub(super) next_id: u64,
    pub(super) handles: BTreeMap<u64, Handle>,
    pub(super) next_fh: u64,
    /// Dropped with the bridge, after `destroy` has sent `fsys_goaway`:
    /// [`Mounted`](super::Mounted)'s drop waits for that.
    pub(super) gone: Option<mpsc::Sender<()>>,
    /// How long the kernel may keep entries and attributes.
    pub(super) ttl: Duration,
    /// The `FOPEN_*` flags of opened files.
    pub(super) open_flags: u32,
}

impl Bridge {
    /// A bridge to the directory `root` (a send right in `task`'s space,
    /// which the bridge takes), reauthenticating with `auth` when a lookup
    /// asks for it.
    pub fn new(task: Task, root: PortName, auth: PortName) -> Bridge {
        let key = io::Client::new(&task, root)
            .stat()
            .map_or((0, 0), |s| (s.fsid, s.ino));
        let mut nodes = BTreeMap::new();
        nodes.insert(
            fuser::FUSE_ROOT_ID,
            Node {
                port: root,
                key,
                lookups: 1,
            },
        );
        let mut ids = BTreeMap::new();
        ids.insert(key, fuser::FUSE_ROOT_ID);
        Bridge {
            task,
            mounter: 0,
            control: PortName::NULL,
            auth,
            nodes,
            ids,
            next_id: SYNTHETIC,
            handles: BTreeMap::new(),
            next_fh: 1,
            gone: None,
            ttl: SHARED_TTL,
            open_flags: SHARED_OPEN,
        }
    }

    /// Gives the bridge the translator's control port (a send right in the
    /// bridge's task): `fsync` of a directory syncs the whole file system
    /// through it, and unmounting sends `fsys_goaway`, so the translator
    /// leaves its storage clean.
    pub fn with_control(mut self, control: PortName) -> Bridge {
        self.control = control;
        self
    }

    /// Says whose ids the bridge's ports carry: requests from `uid` are
    /// served with them as they are; other callers get ports restricted to
    /// their own ids (which takes a root mounter to grant).
    pub fn with_mounter(mut self, uid: u32) -> Bridge {
        self.mounter = uid;
        self
    }

    /// Says the bridge is the translator's only client (as when
    /// [`spawn_mount`](super::spawn_mount) starts the translator for it):
    /// nothing but requests through this mount changes the files, so the
    /// kernel may keep entries and attributes for an hour and file pages
    /// across opens, instead of a second and none. Reads served from the
    /// kernel's pages do not reach the translator, so access times do not
    /// move for them.
    pub fn sole_client(mut self) -> Bridge {
        self.ttl = SOLE_TTL;
        self.open_flags = SOLE_OPEN;
        self
    }

    pub(super) fn lookup_ctx(&self, port: PortName) -> Lookup<'_, Task> {
        Lookup {
            ipc: &self.task,
            crdir: port,
            cwdir: port,
            auth: self.auth,
            fds: &[],
            ctty: PortName::NULL,
        }
    }

    /// The port of node `ino`.
    pub(super) fn port(&self, ino: u64) -> Result<PortName, i32> {
        self.nodes.get(&ino).map(|n| n.port).ok_or(libc::ESTALE)
    }

    /// `name` under `dir` (one component, or "" for `dir` itself), opened
    /// with `flags`: a new send right.
    pub(super) fn open_under(
        &self,
        dir: PortName,
        name: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> Result<PortName, i32> {
        self.lookup_ctx(dir)
            .open_under(dir, name, flags, mode)
            .map_err(err)
    }

    /// Takes `port` (a node just looked up) as a node the kernel now knows
    /// once more; returns its node id and attributes.
    pub(super) fn remember(&mut self, port: PortName) -> Result<(u64, FileAttr), i32> {
        let s = match io::Client::new(&self.task, port).stat() {
            Ok(s) => s,
            Err(e) => {
                let _ = self.task.port_deallocate(port);
                return Err(err(e));
            }
        };
        let key = (s.fsid, s.ino);
        let id = match self.ids.get(&key).copied() {
            Some(id) => {
                // Known already: keep the port held, drop the new one.
                let _ = self.task.port_deallocate(port);
                if let Some(n) = self.nodes.get_mut(&id) {
                    n.lookups += 1;
                }
                id
            }
            None => {
                // The translator's own number where it is free (so `st_ino`
                // is the translator's), else one of the bridge's.
                let id = if s.ino > fuser::FUSE_ROOT_ID
                    && s.ino < SYNTHETIC
                    && !self.nodes.contains_key(&s.ino)
                {
                    s.ino
                } else {
                    self.next_id += 1;
                    self.next_id
                };
                self.ids.insert(key, id);
                self.nodes.insert(
                    id,
                    Node {
                        port,
                        key,
                        lookups: 1,
                    },
                );
                id
            }
        };
        Ok((id, attr(id, &s)))
    }

    /// Looks `name` up in node `parent` for the kernel.
    pub(super) fn lookup_node(
        &mut self,
        parent: u64,
        name: &OsStr,
    ) -> Result<(u64, FileAttr), i32> {
        let n = name.as_bytes();
        let dir = self.port(parent)?;
        let port = self.open_under(dir, n, OpenFlags::NOLINK, 0)?;
        self.remember(port)
    }

    pub(super) fn stat_node(&self, ino: u64) -> Result<FileAttr, i32> {
        let s = io::Client::new(&self.task, self.port(ino)?)
            .stat()
            .map_err(err)?;
        Ok(attr(ino, &s))
    }

    /// Makes `name` in `parent` a node of a kind only a translator record
    /// stands for (a symlink, a device, a FIFO, a socket), as glibc does on
    /// the Hurd: `dir_mkfile`, `file_set_translator` with the record (the
    /// file system may keep it as a node of that kind), then `dir_link`.
    pub(super) fn make_special(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        record: &[&[u8]],
    ) -> Result<(u64, FileAttr), i32> {
        let n = name.as_bytes();
        let held = self.as_caller(req, self.port(parent)?)?;
        let dir = held.name;
        let file = fs::Client::new(&self.task, dir)
            .dir_mkfile(OpenFlags::WRITE.bits() as i32, mode & 0o7777)
            .map_err(err)?;
        let set = fs::Client::new(&self.task, file.name).file_set_translator(
            FS_TRANS_SET as i32,
            0,
            0,
            argv_to_argz(record),
            PortItem {
                disposition: Disposition::CopySend,
                name: PortName::NULL,
            },
        );
        let linked = set.and_then(|()| {
            fs::Client::new(&self.task, dir).dir_link(
                PortItem {
                    disposition: Disposition::CopySend,
                    name: file.name,
                },
                Name::from(n),
                1,
            )
        });
        let _ = self.task.port_deallocate(file.name);
        drop(held);
        linked.map_err(err)?;
        let (ino, mut a) = self.lookup_node(parent, name)?;
        self.settle_group(req, parent, ino, &mut a);
        Ok((ino, a))
    }

    pub(super) fn access(flags: i32) -> OpenFlags {
        match flags & libc::O_ACCMODE {
            libc::O_WRONLY => OpenFlags::WRITE,
            libc::O_RDWR => OpenFlags::RDWR,
            _ => OpenFlags::READ,
        }
    }

    pub(super) fn add_handle(&mut self, h: Handle) -> u64 {
        let fh = self.next_fh;
        self.next_fh += 1;
        self.handles.insert(fh, h);
        fh
    }

    pub(super) fn file_port(&self, fh: u64) -> Result<PortName, i32> {
        match self.handles.get(&fh) {
            Some(Handle::File(p)) => Ok(*p),
            _ => Err(libc::EBADF),
        }
    }

    pub(super) fn drop_handle(&mut self, fh: u64) {
        if let Some(Handle::File(p)) = self.handles.remove(&fh) {
            let _ = self.task.port_deallocate(p);
        }
    }

    /// A change through a fresh port to node `ino` opened with `flags`
    /// for `req`'s caller.
    pub(super) fn with_open<R>(
        &self,
        req: &Request<'_>,
        ino: u64,
        flags: OpenFlags,
        f: impl FnOnce(PortName) -> Result<R, Error>,
    ) -> Result<R, i32> {
        let held = self.as_caller(req, self.port(ino)?)?;
        let p = self.open_under(held.name, b"", flags | OpenFlags::NOLINK, 0)?;
        let r = f(p);
        let _ = self.task.port_deallocate(p);
        r.map_err(err)
    }
}
