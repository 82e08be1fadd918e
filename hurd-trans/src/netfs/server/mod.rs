//! [`NetFs`]: the server side of the io, fs and fsys protocols over a [`Tree`].
//!
//! One server serves a port set holding its control port, one port per
//! *protid* (an open file as seen by one user: a peropen plus an id set), and
//! the bootstrap ports of translators it is starting. It is single-threaded,
//! like the auth server: requests are handled in arrival order. The server
//! never waits for another task to answer: a call it makes to one (a
//! translator's `fsys_getroot` for a lookup, the auth server's
//! `auth_server_authenticate` for `io_reauthenticate`, an old translator's
//! `fsys_goaway` for `file_set_translator`) is sent with a reply port in the
//! server's own port set, the client's reply is deferred, and the request is
//! finished when the answer arrives. So a client or translator that never
//! answers holds up its own request only (the Hurd's promise: the worst a
//! bad client or translator can do is hang its own requests), and the
//! server goes on serving everyone else.
//!
//! Here: the server, its state and its dispatch. Open files (peropens,
//! protids, their ports and checks) are in `ports`, `dir_lookup` and the
//! starting of translators in `lookup`, and each protocol's routines in
//! `io_server`, `fs_server` and `fsys_server`.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{RefCell, RefMut};

use core::time::Duration;
use hurd_auth::{AuthClient, IdSet};
use hurd_ipc::Errno;

use hurd_ipc::mig::{self, Dispatch, MsgArg, REPLY_ID_OFFSET, Request};
use hurd_ipc::notify::{NOTIFY_NO_SENDERS, NOTIFY_SEND_ONCE};
use hurd_ipc::user::{MachMsgError, MsgOptions, PortSet, ReceiveRight, Right};
use hurd_ipc::{
    Disposition, Error, Item, KernReturn, Message, MigReturn, MsgReturn, NotifyKind, PortItem,
    PortName, RightType, UserIpc,
};

use super::{AttrChange, NodeId, Tree, encode_entries};
use crate::access::{self, Op};
use crate::flags::{
    FS_TRANS_EXCL, FS_TRANS_ORPHAN, FS_TRANS_SET, FSYS_GOAWAY_FORCE, FSYS_GOAWAY_RECURSE,
    FSYS_GOAWAY_UNLINK, HURD_SYMLINK, OpenFlags,
};
use crate::mode::{
    ALLPERMS, CHMOD_BITS, S_IATRANS, S_IFDIR, S_IFMT, S_IFREG, S_IPTRANS, S_IROOT, is_dir, is_lnk,
};
use crate::name::Name;
use crate::protocol::{fs, fsys, io};
use crate::retry::RetryType;
use crate::stat::{Stat, TimeSpec};
use crate::statfs::Statfs;
use crate::transbox::{
    InitDirs, MAX_RESTARTS, Starter, Starting, TransBox, Waiter, argz_to_argv, argz_words,
};

/// The longest name `dir_lookup` accepts (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;
/// The longest component (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// Memory objects for `io_map`: what maps files (hosted: a hurd-pager
/// pager per node, [`crate::mapping::PagerMapper`]).
pub trait Mapper {
    /// The memory object ports of `node` — read/write and read-only, receive
    /// rights in the server's space that the server hands out send rights
    /// to. On first use for a node, `make_io` gives the mapper a port (a send
    /// right it keeps) for the node opened for reading and writing, through
    /// which its pager reads and writes pages.
    ///
    /// # Errors
    ///
    /// Why the node cannot be mapped (`EOPNOTSUPP` when this mapper does not
    /// map it).
    fn memory_objects(
        &self,
        node: NodeId,
        make_io: &mut dyn FnMut() -> Result<PortName, Errno>,
    ) -> Result<(PortName, PortName), Errno>;

    /// Starts writing `node`'s dirty mapped pages back (without waiting: the
    /// pager writes them through the server).
    fn sync(&self, node: NodeId);

    /// Whether kernels may hold pages of `node`: then `io_read` and
    /// `io_write` on it wait for [`Mapper::settle`] first. The default: no.
    fn is_mapped(&self, node: NodeId) -> bool {
        let _ = node;
        false
    }

    /// Makes the kernels' copies of `node`'s bytes `[offset, offset + len)`
    /// (`len` `u64::MAX`: the whole file) agree with the file before an
    /// `io_read` (`keep`: kernels write back what they changed and keep
    /// their pages) or an `io_write` (kernels write back and drop them, so
    /// they fetch the new contents), then sends an empty message to `wake`,
    /// a send right in the server's space that the mapper takes. It must not
    /// wait for the server: the write-back comes through the server's own
    /// `io_write`. On error `wake` is left to the caller. The default:
    /// `EOPNOTSUPP` (the operation goes ahead at once).
    ///
    /// # Errors
    ///
    /// `EOPNOTSUPP` when there is nothing to wait for; the caller goes on at
    /// once.
    fn settle(
        &self,
        node: NodeId,
        offset: u64,
        len: u64,
        keep: bool,
        wake: PortName,
    ) -> Result<(), Errno> {
        let _ = (node, offset, len, keep, wake);
        Err(Errno::OpNotSupp)
    }
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// What `io_server_version` answers.
    pub name: &'static str,
    /// `st_fsid` of every node.
    pub fsid: u64,
    /// How many symlinks one `dir_lookup` follows before `ELOOP`
    /// (`netfs_maxsymlinks`).
    pub max_symlinks: u32,
    /// The largest `io_read` answered in one reply.
    pub max_read: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: "hurd-trans",
            fsid: 1,
            max_symlinks: 12,
            max_read: 16 << 20,
        }
    }
}

#[derive(Clone, Debug)]
struct Protid {
    po: u64,
    user: IdSet,
    /// The mapper's own port for the node (its pager's reads and writes).
    pager: bool,
}

/// An `io_read` or `io_write` waiting for the kernels mapping its file.
enum IoOp {
    Read { offset: i64, amount: u64 },
    Write { data: Vec<u8>, offset: i64 },
}

#[derive(Debug)]
struct Peropen {
    node: NodeId,
    flags: OpenFlags,
    offset: u64,
    /// What ".." at the root leads to (a send right we hold), or NULL.
    root_parent: PortName,
    refs: u32,
}

struct State<T> {
    tree: T,
    protids: BTreeMap<PortName, Protid>,
    peropens: BTreeMap<u64, Peropen>,
    next_po: u64,
    /// How many peropens each open node has (the tree hears of the first
    /// and the last).
    opens: BTreeMap<NodeId, u32>,
    boxes: BTreeMap<NodeId, TransBox>,
    bootstraps: BTreeMap<PortName, NodeId>,
    /// `fsys_getroot` calls under way, by reply port.
    getroots: BTreeMap<PortName, PendingRoot>,
    /// I/O waiting for [`Mapper::settle`], by wake port.
    settling: BTreeMap<PortName, (Request, IoOp)>,
    /// `io_reauthenticate` calls waiting for the auth server, by reply port.
    reauths: BTreeMap<PortName, PendingReauth>,
    /// `file_set_translator` calls waiting for the old translator's
    /// `fsys_goaway`, by reply port.
    goaways: BTreeMap<PortName, PendingSetTranslator>,
    /// Directory listings being read chunk by chunk.
    listings: listing::Listings,
}

/// An `io_reauthenticate` whose `auth_server_authenticate` is under way.
struct PendingReauth {
    /// The peropen the new protid opens.
    po: u64,
    /// The new protid's port (a receive right), whose send right went to the
    /// auth server for the user.
    newport: PortName,
}

/// A `file_set_translator` waiting for the old translator to go away.
struct PendingSetTranslator {
    req: Request,
    node: NodeId,
    /// The old active translator (a send right we hold).
    old: PortName,
    passive_flags: u32,
    passive: Vec<u8>,
    /// The new active translator (the request's right, ours until set).
    active: PortItem,
}

/// A lookup waiting for a translator's `fsys_getroot` reply.
struct PendingRoot {
    w: Waiter,
    node: NodeId,
    active: PortName,
}

/// How long sending `fsys_getroot` may wait for room in a translator's queue.
const GETROOT_SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How long sending a call out (`auth_server_authenticate`, `fsys_goaway`)
/// may wait for room in the other task's queue: the server serves no one
/// meanwhile, so this is short, and a call that cannot be sent fails.
const CALL_OUT_SEND_TIMEOUT: Duration = Duration::from_millis(100);

/// What a lookup came to.
enum Outcome {
    /// Reply with this triple.
    Done(u32, Name, PortItem),
    /// The reply was deferred (a translator is starting).
    Deferred,
}

type LookupReply = Result<(u32, Name, PortItem), Error>;

/// A netfs-style file system server over a [`Tree`], for the task `ipc`.
pub struct NetFs<T: Tree, I: UserIpc> {
    ipc: I,
    portset: PortName,
    control: PortName,
    auth: PortName,
    starter: Option<Box<dyn Starter + Send>>,
    mapper: Option<Box<dyn Mapper + Send>>,
    opts: Options,
    st: RefCell<State<T>>,
}

fn errno(e: Errno) -> Error {
    e.into()
}

fn send_item(name: PortName, disposition: Disposition) -> PortItem {
    PortItem { disposition, name }
}

/// Splits the next component off `name`: (component, rest, trailing slash).
fn next_component(name: &[u8]) -> (&[u8], Option<&[u8]>, bool) {
    match name.iter().position(|&c| c == b'/') {
        None => (name, None, false),
        Some(i) => {
            let rest = trim_slashes(&name[i..]);
            if rest.is_empty() {
                (&name[..i], None, true)
            } else {
                (&name[..i], Some(rest), false)
            }
        }
    }
}

/// `name` without its leading slashes.
fn trim_slashes(name: &[u8]) -> &[u8] {
    let i = name.iter().position(|&c| c != b'/').unwrap_or(name.len());
    &name[i..]
}

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    /// A server for `tree` in `ipc`'s task. `auth` is the server's own auth
    /// handle (a send right, or NULL): the auth server it trusts for
    /// reauthentication, and where it makes the identities translators run
    /// with. `starter` starts passive translators (none: lookups through a
    /// passive record fail with `EOPNOTSUPP`).
    ///
    /// # Errors
    ///
    /// What allocating the port set and control port returns; nothing is
    /// left allocated.
    pub fn new(
        ipc: I,
        tree: T,
        auth: PortName,
        starter: Option<Box<dyn Starter + Send>>,
        opts: Options,
    ) -> Result<Self, KernReturn> {
        let (portset, control) = {
            let portset = PortSet::allocate(&ipc)?;
            let control = ReceiveRight::allocate(&ipc)?;
            portset.insert(control.name())?;
            (portset.into_raw(), control.into_raw())
        };
        Ok(NetFs {
            ipc,
            portset,
            control,
            auth,
            starter,
            mapper: None,
            opts,
            st: RefCell::new(State {
                tree,
                protids: BTreeMap::new(),
                peropens: BTreeMap::new(),
                next_po: 1,
                opens: BTreeMap::new(),
                boxes: BTreeMap::new(),
                bootstraps: BTreeMap::new(),
                getroots: BTreeMap::new(),
                settling: BTreeMap::new(),
                reauths: BTreeMap::new(),
                goaways: BTreeMap::new(),
                listings: listing::Listings::default(),
            }),
        })
    }

    /// Serves `io_map` through `mapper` (without one, `io_map` is
    /// `EOPNOTSUPP`).
    pub fn with_mapper(mut self, mapper: Box<dyn Mapper + Send>) -> Self {
        self.mapper = Some(mapper);
        self
    }

    /// The control port (a receive right in the server's space). Whoever
    /// holds a send right to it may call `fsys_getroot` with any ids: it is
    /// what a parent file system holds for its translator.
    pub fn control(&self) -> PortName {
        self.control
    }

    /// The port set the server receives on.
    pub fn port_set(&self) -> PortName {
        self.portset
    }

    /// The task's IPC.
    pub fn ipc(&self) -> &I {
        &self.ipc
    }

    /// Runs `f` on the tree (for set-up and inspection).
    pub fn with_tree<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.state().tree)
    }

    /// How many protids (open ports) the server holds.
    pub fn open_ports(&self) -> usize {
        self.state().protids.len()
    }

    /// The translator side of starting: calls `fsys_startup` on `bootstrap`
    /// with this server's control port and returns the node the translator
    /// sits on (a send right).
    ///
    /// # Errors
    ///
    /// The failure of `fsys_startup` (the parent refused or died).
    pub fn startup(&self, bootstrap: PortName, flags: OpenFlags) -> Result<PortName, Error> {
        let reply = fsys::Client::new(&self.ipc, bootstrap).startup(
            flags.bits() as i32,
            send_item(self.control, Disposition::MakeSend),
        )?;
        Ok(reply.name)
    }

    /// A port for the root directory opened with `flags` for `user`, with no
    /// parent: for handing a file system to its first clients.
    ///
    /// # Errors
    ///
    /// `ENOMEM` when no port can be made for it, or why the root cannot be
    /// opened with `flags` for `user` (`EACCES`).
    pub fn root_port(&self, user: IdSet, flags: OpenFlags) -> Result<PortName, Error> {
        let mut st = self.state();
        let root = st.tree.root();
        let po = self.new_peropen(&mut st, root, flags & OpenFlags::OPENMODES, PortName::NULL);
        self.new_protid(&mut st, po, user).map_err(errno)
    }

    /// Serves until `fsys_goaway` or until the port set dies.
    pub fn serve(&self) -> MsgReturn {
        mig::serve(&self.ipc, self.portset, |msg| self.handle(msg))
    }

    /// Handles one message: a request of the io, fs or fsys protocols, or a
    /// no-senders notification on one of the server's ports.
    pub fn handle(&self, msg: Message) -> Dispatch {
        let pending = self.state().getroots.remove(&msg.header.local);
        if let Some(p) = pending {
            self.getroot_reply(p, msg);
            return Dispatch::NoReply;
        }
        let reauth = self.state().reauths.remove(&msg.header.local);
        if let Some(p) = reauth {
            self.reauth_reply(p, msg);
            return Dispatch::NoReply;
        }
        let goaway = self.state().goaways.remove(&msg.header.local);
        if let Some(p) = goaway {
            self.goaway_reply(p, msg);
            return Dispatch::NoReply;
        }
        let settled = self.state().settling.remove(&msg.header.local);
        if let Some((req, op)) = settled {
            let _ = self
                .ipc
                .port_mod_refs(msg.header.local, RightType::Receive, -1);
            self.ipc.destroy_message(msg);
            match op {
                IoOp::Read { offset, amount } => {
                    let r = self.read_now(&req, offset, amount);
                    let _ = io::reply::read(&self.ipc, &req, r);
                }
                IoOp::Write { data, offset } => {
                    let r = self.write_now(&req, &data, offset);
                    let _ = io::reply::write(&self.ipc, &req, r);
                }
            }
            return Dispatch::NoReply;
        }
        if msg.header.id == NOTIFY_NO_SENDERS && self.no_senders(msg.header.local) {
            self.ipc.destroy_message(msg);
            return Dispatch::NoReply;
        }
        let msg = match io::demux(self, &self.ipc, msg) {
            Dispatch::NotMine(m) => m,
            d => return d,
        };
        let msg = match fs::demux(self, &self.ipc, msg) {
            Dispatch::NotMine(m) => m,
            d => return d,
        };
        fsys::demux(self, &self.ipc, msg)
    }
}

mod callout;
mod fs_server;
mod fsys_server;
mod io_server;
mod listing;
mod lookup;
mod ports;
