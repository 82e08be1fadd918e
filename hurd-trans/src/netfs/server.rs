//! [`NetFs`]: the server side of the io, fs and fsys protocols over a [`Tree`].
//!
//! One server serves a port set holding its control port, one port per
//! *protid* (an open file as seen by one user: a peropen plus an id set), and
//! the bootstrap ports of translators it is starting. It is single-threaded,
//! like the auth server: requests are handled in arrival order. A lookup that
//! must wait for a translator to start does not block the server: its reply
//! is deferred and sent once the translator has called `fsys_startup` (or has
//! died trying).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{RefCell, RefMut};

use core::time::Duration;
use hurd_auth::{AuthClient, IdSet};
use hurd_ipc::Errno;

use hurd_ipc::mig::{self, Dispatch, MsgArg, REPLY_ID_OFFSET, Request};
use hurd_ipc::notify::{NOTIFY_NO_SENDERS, NOTIFY_SEND_ONCE};
use hurd_ipc::user::{MachMsgError, MsgOptions};
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
use crate::protocol::{fs, fsys, io};
use crate::retry::RetryType;
use crate::stat::{Stat, TimeSpec};
use crate::statfs::Statfs;
use crate::transbox::{InitDirs, Starter, Starting, TransBox, Waiter, argz_to_argv};

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
}

/// A lookup waiting for a translator's `fsys_getroot` reply.
struct PendingRoot {
    w: Waiter,
    node: NodeId,
    active: PortName,
}

/// How long sending `fsys_getroot` may wait for room in a translator's queue.
const GETROOT_SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// What a lookup came to.
enum Outcome {
    /// Reply with this triple.
    Done(u32, String, PortItem),
    /// The reply was deferred (a translator is starting).
    Deferred,
}

type LookupReply = Result<(u32, String, PortItem), Error>;

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
fn next_component(name: &str) -> (&str, Option<&str>, bool) {
    match name.find('/') {
        None => (name, None, false),
        Some(i) => {
            let rest = name[i..].trim_start_matches('/');
            if rest.is_empty() {
                (&name[..i], None, true)
            } else {
                (&name[..i], Some(rest), false)
            }
        }
    }
}

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    /// A server for `tree` in `ipc`'s task. `auth` is the server's own auth
    /// handle (a send right, or NULL): the auth server it trusts for
    /// reauthentication, and where it makes the identities translators run
    /// with. `starter` starts passive translators (none: lookups through a
    /// passive record fail with `EOPNOTSUPP`).
    pub fn new(
        ipc: I,
        tree: T,
        auth: PortName,
        starter: Option<Box<dyn Starter + Send>>,
        opts: Options,
    ) -> Result<Self, KernReturn> {
        let portset = ipc.port_allocate(RightType::PortSet)?;
        let control = match ipc.port_allocate(RightType::Receive) {
            Ok(c) => c,
            Err(e) => {
                let _ = ipc.port_destroy(portset);
                return Err(e);
            }
        };
        ipc.port_move_member(control, portset)?;
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
    pub fn startup(&self, bootstrap: PortName, flags: OpenFlags) -> Result<PortName, Error> {
        let reply = fsys::Client::new(&self.ipc, bootstrap).startup(
            flags.bits() as i32,
            send_item(self.control, Disposition::MakeSend),
        )?;
        Ok(reply.name)
    }

    /// A port for the root directory opened with `flags` for `user`, with no
    /// parent: for handing a file system to its first clients.
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

    fn state(&self) -> RefMut<'_, State<T>> {
        self.st.borrow_mut()
    }

    // ---- ports, peropens, protids ----

    fn new_peropen(
        &self,
        st: &mut State<T>,
        node: NodeId,
        flags: OpenFlags,
        root_parent: PortName,
    ) -> u64 {
        let id = st.next_po;
        st.next_po += 1;
        let count = st.opens.entry(node).or_insert(0);
        *count += 1;
        if *count == 1 {
            st.tree.node_opened(node);
        }
        st.peropens.insert(
            id,
            Peropen {
                node,
                flags,
                offset: 0,
                root_parent,
                refs: 0,
            },
        );
        id
    }

    /// A copy (one more user reference) of a peropen's root parent.
    fn copy_root_parent(&self, st: &State<T>, po: u64) -> PortName {
        let rp = st
            .peropens
            .get(&po)
            .map_or(PortName::NULL, |p| p.root_parent);
        if rp.is_valid() && self.ipc.port_mod_refs(rp, RightType::Send, 1).is_err() {
            return PortName::NULL;
        }
        rp
    }

    fn new_protid(&self, st: &mut State<T>, po: u64, user: IdSet) -> Result<PortName, Errno> {
        // A peropen made for this protid alone goes with it.
        let fail = |st: &mut State<T>| {
            if st.peropens.get(&po).is_some_and(|p| p.refs == 0) {
                self.release_peropen(st, po);
            }
            Errno::NoMem
        };
        let Ok(name) = self.ipc.port_allocate(RightType::Receive) else {
            return Err(fail(st));
        };
        let armed = self
            .ipc
            .port_move_member(name, self.portset)
            .and_then(|()| {
                self.ipc.request_notification(
                    name,
                    NotifyKind::NoSenders,
                    1,
                    name,
                    Disposition::MakeSendOnce,
                )
            });
        if armed.is_err() {
            let _ = self.ipc.port_mod_refs(name, RightType::Receive, -1);
            return Err(fail(st));
        }
        if let Some(p) = st.peropens.get_mut(&po) {
            p.refs += 1;
        }
        st.protids.insert(
            name,
            Protid {
                po,
                user,
                pager: false,
            },
        );
        Ok(name)
    }

    fn release_peropen(&self, st: &mut State<T>, po: u64) {
        let drop_it = match st.peropens.get_mut(&po) {
            Some(p) => {
                p.refs = p.refs.saturating_sub(1);
                p.refs == 0
            }
            None => false,
        };
        if drop_it && let Some(p) = st.peropens.remove(&po) {
            if p.root_parent.is_valid() {
                let _ = self.ipc.port_deallocate(p.root_parent);
            }
            let last = match st.opens.get_mut(&p.node) {
                Some(count) => {
                    *count = count.saturating_sub(1);
                    *count == 0
                }
                None => false,
            };
            if last {
                st.opens.remove(&p.node);
                st.tree.node_released(p.node);
            }
        }
    }

    fn drop_protid(&self, st: &mut State<T>, name: PortName) {
        if let Some(p) = st.protids.remove(&name) {
            self.release_peropen(st, p.po);
            let _ = self.ipc.port_mod_refs(name, RightType::Receive, -1);
        }
    }

    /// Gives up a waiter's ".." port: the protid and the send right the
    /// waiter holds on it.
    fn abandon_dotdot(&self, st: &mut State<T>, dotdot: PortName) {
        self.drop_protid(st, dotdot);
        let _ = self.ipc.port_deallocate(dotdot);
    }

    /// A no-senders notification on `name`: the protid (or a bootstrap port
    /// whose translator died before `fsys_startup`) goes if it truly has no
    /// senders; the request is re-armed if senders came back. False if the
    /// port is not one of ours or the notification is forged.
    fn no_senders(&self, name: PortName) -> bool {
        let status = match self.ipc.port_get_receive_status(name) {
            Ok(s) => s,
            Err(_) => return false,
        };
        let mut st = self.state();
        let is_protid = st.protids.contains_key(&name);
        let boot_node = st.bootstraps.get(&name).copied();
        if !is_protid && boot_node.is_none() {
            return false;
        }
        if status.srights {
            if status.nsrequest {
                return false;
            }
            if let Ok(prev) = self.ipc.request_notification(
                name,
                NotifyKind::NoSenders,
                status.mscount,
                name,
                Disposition::MakeSendOnce,
            ) && prev.is_valid()
            {
                let _ = self.ipc.port_deallocate(prev);
            }
            return true;
        }
        if is_protid {
            self.drop_protid(&mut st, name);
            return true;
        }
        // The translator died while starting: its waiters learn EDIED.
        st.bootstraps.remove(&name);
        let _ = self.ipc.port_mod_refs(name, RightType::Receive, -1);
        let waiters = boot_node
            .and_then(|n| st.boxes.get_mut(&n))
            .and_then(|b| b.starting.take())
            .map(|s| s.waiters)
            .unwrap_or_default();
        for w in waiters {
            self.abandon_dotdot(&mut st, w.dotdot);
            let _ = fs::reply::dir_lookup(&self.ipc, &w.req, Err(errno(Errno::Died)));
        }
        true
    }

    fn protid(&self, port: PortName) -> Result<(Protid, NodeId), Error> {
        let st = self.state();
        let p = st
            .protids
            .get(&port)
            .cloned()
            .ok_or(errno(Errno::OpNotSupp))?;
        let node = st
            .peropens
            .get(&p.po)
            .map(|po| po.node)
            .ok_or(errno(Errno::OpNotSupp))?;
        Ok((p, node))
    }

    /// A node's status as clients see it: the tree's, plus the translator
    /// bits and `S_IROOT`.
    fn stat_of(&self, st: &State<T>, node: NodeId) -> Result<Stat, Errno> {
        let mut s = st.tree.stat(node)?;
        s.mode &= !(S_IPTRANS | S_IATRANS | S_IROOT);
        if st.tree.passive(node).is_some() {
            s.mode |= S_IPTRANS;
        }
        if st.boxes.get(&node).is_some_and(|b| b.active.is_valid()) {
            s.mode |= S_IATRANS;
        }
        if node == st.tree.root() {
            s.mode |= S_IROOT;
        }
        s.fsid = self.opts.fsid;
        Ok(s)
    }

    fn translated(&self, st: &State<T>, node: NodeId) -> bool {
        st.tree.passive(node).is_some() || st.boxes.get(&node).is_some_and(|b| b.active.is_valid())
    }

    fn check_open(user: &IdSet, s: &Stat, flags: OpenFlags) -> Result<(), Errno> {
        if flags.contains(OpenFlags::READ) {
            access::check(user, s, Op::Read)?;
        }
        if flags.contains(OpenFlags::WRITE) {
            if is_dir(s.mode) {
                return Err(Errno::IsDir);
            }
            access::check(user, s, Op::Write)?;
        }
        if flags.contains(OpenFlags::EXEC) {
            access::check(user, s, Op::Exec)?;
        }
        Ok(())
    }

    fn check_name(name: &str) -> Result<(), Errno> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(Errno::Inval);
        }
        if name.len() > NAME_MAX {
            return Err(Errno::NameTooLong);
        }
        Ok(())
    }

    /// The directory a directory-changing request works on: must be a
    /// directory the user may write and search.
    fn writable_dir(&self, port: PortName) -> Result<(Protid, NodeId), Error> {
        let (p, dir) = self.protid(port)?;
        let st = self.state();
        let s = self.stat_of(&st, dir).map_err(errno)?;
        if !is_dir(s.mode) {
            return Err(errno(Errno::NotDir));
        }
        access::check(&p.user, &s, Op::Write).map_err(errno)?;
        access::check(&p.user, &s, Op::Exec).map_err(errno)?;
        Ok((p, dir))
    }

    // ---- lookup ----

    fn lookup(&self, req: &Request, name: &str, flags: u32, mode: u32) -> Result<Outcome, Errno> {
        if name.len() > PATH_MAX {
            return Err(Errno::NameTooLong);
        }
        let (protid, start) = self.protid(req.port).map_err(|_| Errno::OpNotSupp)?;
        let user = protid.user.clone();
        let oflags = OpenFlags::from_bits_truncate(flags);
        let create = oflags.contains(OpenFlags::CREAT);
        let excl = oflags.contains(OpenFlags::EXCL);
        let mut name: String = name.trim_start_matches('/').into();
        let mut st = self.state();
        let mut nsymlinks = 0u32;
        let mut dnode = start;
        let mut node = start;
        let mut mustbedir = false;
        let mut newnode = false;
        let mut create = create;
        // The directory's peropen (for the root parent) is the protid's.
        let po = protid.po;
        let root = st.tree.root();
        while !name.is_empty() {
            let owned = core::mem::take(&mut name);
            let (comp, rest, trailing) = next_component(&owned);
            if comp.len() > NAME_MAX {
                return Err(Errno::NameTooLong);
            }
            let lastcomp = rest.is_none();
            if trailing {
                mustbedir = true;
                create = false;
            }
            let ds = self.stat_of(&st, dnode)?;
            if !is_dir(ds.mode) {
                return Err(Errno::NotDir);
            }
            let np = if comp == ".." && dnode == root {
                let rp = st
                    .peropens
                    .get(&po)
                    .map_or(PortName::NULL, |p| p.root_parent);
                if rp.is_valid() {
                    // Leave the translator: the client reauthenticates to the
                    // parent and goes on there.
                    let rp = self.copy_root_parent(&st, po);
                    let retry = if mustbedir {
                        "/".to_string()
                    } else {
                        rest.unwrap_or("").to_string()
                    };
                    return Ok(Outcome::Done(
                        RetryType::Reauth.into(),
                        retry,
                        send_item(rp, Disposition::MoveSend),
                    ));
                }
                dnode
            } else if comp == "." {
                access::check(&user, &ds, Op::Exec)?;
                dnode
            } else {
                access::check(&user, &ds, Op::Exec)?;
                match st.tree.lookup(dnode, comp) {
                    Ok(n) if lastcomp && create && excl => {
                        let _ = n;
                        return Err(Errno::Exist);
                    }
                    Ok(n) => n,
                    Err(Errno::NoEnt) if lastcomp && create => {
                        access::check(&user, &ds, Op::Write)?;
                        let (uid, m) = match user.euids.iter().next() {
                            Some(u) => (u, mode),
                            None => (ds.uid, mode & !crate::mode::S_ISUID),
                        };
                        let m = (m & ALLPERMS) | S_IFREG;
                        newnode = true;
                        st.tree.create(dnode, Some(comp), m, uid, ds.gid)?
                    }
                    Err(e) => return Err(e),
                }
            };
            let ns = self.stat_of(&st, np)?;
            let notrans = oflags.contains(OpenFlags::NOTRANS);
            if (!notrans || !lastcomp || mustbedir) && self.translated(&st, np) {
                let dotdot_po =
                    self.new_peropen(&mut st, dnode, OpenFlags::empty(), PortName::NULL);
                let rp = self.copy_root_parent(&st, po);
                if let Some(p) = st.peropens.get_mut(&dotdot_po) {
                    p.root_parent = rp;
                }
                let dotdot = self.new_protid(&mut st, dotdot_po, IdSet::empty())?;
                // The waiter holds a send right, so the port outlives a
                // translator that dies holding another.
                if self
                    .ipc
                    .port_insert_right(dotdot, dotdot, Disposition::MakeSend)
                    .is_err()
                {
                    self.drop_protid(&mut st, dotdot);
                    return Err(Errno::NoMem);
                }
                drop(st);
                let waiter = Waiter {
                    req: *req,
                    user,
                    dotdot,
                    flags: if lastcomp { flags } else { 0 },
                    suffix: rest.unwrap_or("").to_string(),
                    mustbedir,
                };
                return Ok(match self.fetch_root(waiter, np) {
                    Some(Ok((r, n, p))) => Outcome::Done(r, n, p),
                    Some(Err(e)) => return Err(Errno::of(e).unwrap_or(Errno::Died)),
                    None => Outcome::Deferred,
                });
            }
            let follow = !lastcomp
                || mustbedir
                || !oflags.intersects(OpenFlags::NOLINK | OpenFlags::NOTRANS);
            if is_lnk(ns.mode) && follow {
                nsymlinks += 1;
                if nsymlinks > self.opts.max_symlinks {
                    return Err(Errno::Loop);
                }
                let mut target = st.tree.readlink(np)?;
                if let Some(rest) = rest {
                    target.push('/');
                    target.push_str(rest);
                }
                if mustbedir {
                    target.push('/');
                }
                if target.len() > PATH_MAX {
                    return Err(Errno::NameTooLong);
                }
                if target.starts_with('/') {
                    return Ok(Outcome::Done(
                        RetryType::Magical.into(),
                        target,
                        send_item(PortName::NULL, Disposition::CopySend),
                    ));
                }
                name = target;
                mustbedir = false;
                create = false;
                continue;
            }
            node = np;
            if let Some(rest) = rest {
                dnode = np;
                name = rest.into();
            }
        }
        let s = self.stat_of(&st, node)?;
        if (mustbedir || oflags.contains(OpenFlags::DIRECTORY)) && !is_dir(s.mode) {
            return Err(Errno::NotDir);
        }
        if !newnode {
            Self::check_open(&user, &s, oflags)?;
        }
        let rp = self.copy_root_parent(&st, po);
        let newpo = self.new_peropen(&mut st, node, oflags & OpenFlags::OPENMODES, rp);
        let port = self.new_protid(&mut st, newpo, user)?;
        Ok(Outcome::Done(
            RetryType::Normal.into(),
            String::new(),
            send_item(port, Disposition::MakeSend),
        ))
    }

    /// libfshelp's `fetch_root`: the root of `node`'s translator for the
    /// waiter, starting it if need be. `None` when the answer is deferred.
    fn fetch_root(&self, w: Waiter, node: NodeId) -> Option<LookupReply> {
        loop {
            let mut st = self.state();
            let active = st.boxes.get(&node).map_or(PortName::NULL, |b| b.active);
            if active.is_valid() {
                drop(st);
                match self.send_getroot(&w, active) {
                    Ok(reply) => {
                        self.state()
                            .getroots
                            .insert(reply, PendingRoot { w, node, active });
                        return None;
                    }
                    Err(Error::Msg(MsgReturn::SendInvalidDest)) => {
                        // The translator died: forget it and start over.
                        self.forget_active(node, active);
                        continue;
                    }
                    Err(e) => {
                        let mut st = self.state();
                        self.abandon_dotdot(&mut st, w.dotdot);
                        return Some(Err(e));
                    }
                }
            }
            if let Some(starting) = st.boxes.get_mut(&node).and_then(|b| b.starting.as_mut()) {
                starting.waiters.push(w);
                return None;
            }
            let fail = |st: &mut State<T>, e: Errno| {
                self.abandon_dotdot(st, w.dotdot);
                Some(Err(errno(e)))
            };
            let Some(argz) = st.tree.passive(node) else {
                return fail(&mut st, Errno::NoEnt);
            };
            let Some(argv) = argz_to_argv(&argz) else {
                return fail(&mut st, Errno::Inval);
            };
            let Some(starter) = self.starter.as_ref() else {
                return fail(&mut st, Errno::OpNotSupp);
            };
            let s = match st.tree.stat(node) {
                Ok(s) => s,
                Err(e) => return fail(&mut st, e),
            };
            // The translator runs as the node's owner.
            let owner = IdSet::user(s.uid, &[s.gid]);
            drop(st);
            let auth = match AuthClient::new(&self.ipc, self.auth).makeauth(&[], &owner) {
                Ok(a) => a,
                Err(e) => {
                    let mut st = self.state();
                    self.abandon_dotdot(&mut st, w.dotdot);
                    return Some(Err(e));
                }
            };
            let boot = match self.bootstrap_port() {
                Ok(b) => b,
                Err(e) => {
                    let _ = self.ipc.port_deallocate(auth);
                    let mut st = self.state();
                    return fail(&mut st, e);
                }
            };
            // It resolves its file names as the owner too: libfshelp hands it
            // the server's directories reauthenticated with the owner's ids.
            let dir = self.owner_root(&owner);
            let dirs = InitDirs {
                crdir: dir,
                cwdir: dir,
            };
            let started = starter.start_with_dirs(&argv, boot, auth, dirs);
            // Only the program holds senders now: no-senders means it died.
            let _ = self.ipc.port_deallocate(boot);
            if dir.is_valid() {
                let _ = self.ipc.port_deallocate(dir);
            }
            let mut st = self.state();
            if let Err(e) = started {
                let _ = self.ipc.port_mod_refs(boot, RightType::Receive, -1);
                return fail(&mut st, e);
            }
            st.bootstraps.insert(boot, node);
            st.boxes.entry(node).or_default().starting = Some(Starting {
                owner,
                waiters: vec![w],
            });
            return None;
        }
    }

    /// Sends `fsys_getroot` for the waiter to the translator without
    /// waiting: the reply comes to a port in our port set (so the server
    /// goes on serving — the translator may need us to answer it, as tarfs
    /// reads its node before it serves). Returns that reply port.
    fn send_getroot(&self, w: &Waiter, active: PortName) -> Result<PortName, Error> {
        let reply = self.ipc.port_allocate(RightType::Receive)?;
        if let Err(e) = self.ipc.port_move_member(reply, self.portset) {
            let _ = self.ipc.port_mod_refs(reply, RightType::Receive, -1);
            return Err(e.into());
        }
        let (uids, _, gids, _) = w.user.clone().into_vecs();
        let mut body = Vec::new();
        send_item(w.dotdot, Disposition::MakeSend).encode(&mut body);
        uids.encode(&mut body);
        gids.encode(&mut body);
        (w.flags as i32).encode(&mut body);
        let msg = Message {
            body,
            ..Message::new(fsys::id::getroot, active, Disposition::CopySend)
                .with_reply(reply, Disposition::MakeSendOnce)
        };
        let opts = MsgOptions {
            send_timeout: Some(GETROOT_SEND_TIMEOUT),
            ..MsgOptions::default()
        };
        match self.ipc.mach_msg(Some(msg), None, &opts) {
            Ok(_) => Ok(reply),
            Err(e) => {
                let code = e.code();
                if let MachMsgError::Send(se) = e {
                    self.ipc.destroy_message(se.message);
                }
                let _ = self.ipc.port_mod_refs(reply, RightType::Receive, -1);
                Err(Error::Msg(code))
            }
        }
    }

    fn forget_active(&self, node: NodeId, active: PortName) {
        let mut st = self.state();
        if let Some(b) = st.boxes.get_mut(&node)
            && b.active == active
        {
            b.active = PortName::NULL;
            let _ = self.ipc.port_deallocate(active);
        }
    }

    /// The answer to a `fsys_getroot` sent by [`Self::send_getroot`]: the
    /// reply, an error, or the translator's death (its reply right
    /// destroyed: a send-once notification), which starts it again.
    fn getroot_reply(&self, p: PendingRoot, msg: Message) {
        let _ = self
            .ipc
            .port_mod_refs(msg.header.local, RightType::Receive, -1);
        let req = p.w.req;
        let died = (msg.header.id == NOTIFY_SEND_ONCE && msg.body.is_empty())
            || (msg.header.id == fsys::id::getroot + REPLY_ID_OFFSET
                && matches!(msg.body.as_slice(), [Item::U32(c)]
                    if *c as i32 == Error::Mig(MigReturn::ServerDied).code()));
        if died {
            self.ipc.destroy_message(msg);
            self.forget_active(p.node, p.active);
            self.resume(p.w, p.node);
            return;
        }
        let checks: [fn(&Item) -> bool; 3] = [u32::matches, String::matches, PortItem::matches];
        let result = if msg.header.id != fsys::id::getroot + REPLY_ID_OFFSET {
            self.ipc.destroy_message(msg);
            Err(Error::Mig(MigReturn::ReplyMismatch))
        } else {
            match msg.body.first() {
                Some(Item::U32(0)) if mig::items_match(&msg.body[1..], &checks) => {
                    let mut items = msg.body.into_iter().skip(1);
                    let retry = items.next().map(u32::decode).unwrap_or(0);
                    let mut name = items.next().map(String::decode).unwrap_or_default();
                    let file = items.next().map(PortItem::decode);
                    let file = file.map_or(PortName::NULL, |f| f.name);
                    if p.w.mustbedir {
                        name.push('/');
                    } else if !p.w.suffix.is_empty() {
                        if !name.is_empty() {
                            name.push('/');
                        }
                        name.push_str(&p.w.suffix);
                    }
                    Ok((retry, name, send_item(file, Disposition::MoveSend)))
                }
                Some(Item::U32(c)) if *c != 0 => {
                    let code = *c as i32;
                    self.ipc.destroy_message(msg);
                    Err(Error::from_code(code).unwrap_or(Error::Mig(MigReturn::RemoteError)))
                }
                _ => {
                    self.ipc.destroy_message(msg);
                    Err(Error::Mig(MigReturn::TypeError))
                }
            }
        };
        // The translator holds its own right to ".." now (or released it).
        let _ = self.ipc.port_deallocate(p.w.dotdot);
        let _ = fs::reply::dir_lookup(&self.ipc, &req, result);
    }

    /// A bootstrap port: a receive right in the port set, with one send right
    /// (for the starter) and a no-senders request.
    /// The root directory for a translator started as `owner` (a send
    /// right we hold), or NULL if none can be made. The root of this file
    /// system stands for the directories a Hurd file server gives its
    /// translators (its own, reauthenticated as the owner): hosted servers
    /// are the root file system of their world.
    fn owner_root(&self, owner: &IdSet) -> PortName {
        let mut st = self.state();
        let root = st.tree.root();
        let po = self.new_peropen(&mut st, root, OpenFlags::empty(), PortName::NULL);
        let Ok(port) = self.new_protid(&mut st, po, owner.clone()) else {
            return PortName::NULL;
        };
        if self
            .ipc
            .port_insert_right(port, port, Disposition::MakeSend)
            .is_err()
        {
            self.drop_protid(&mut st, port);
            return PortName::NULL;
        }
        port
    }

    fn bootstrap_port(&self) -> Result<PortName, Errno> {
        let boot = self
            .ipc
            .port_allocate(RightType::Receive)
            .map_err(|_| Errno::NoMem)?;
        let ok = self
            .ipc
            .port_move_member(boot, self.portset)
            .and_then(|()| {
                self.ipc
                    .port_insert_right(boot, boot, Disposition::MakeSend)
            })
            .and_then(|()| {
                self.ipc.request_notification(
                    boot,
                    NotifyKind::NoSenders,
                    1,
                    boot,
                    Disposition::MakeSendOnce,
                )
            });
        if ok.is_err() {
            let _ = self.ipc.port_destroy(boot);
            return Err(Errno::NoMem);
        }
        Ok(boot)
    }

    /// Finishes deferred lookups once a translator is up.
    fn resume(&self, w: Waiter, node: NodeId) {
        let req = w.req;
        if let Some(r) = self.fetch_root(w, node) {
            let _ = fs::reply::dir_lookup(&self.ipc, &req, r);
        }
    }

    fn release(&self, item: &PortItem) {
        if item.name.is_valid() {
            let _ = self.ipc.port_deallocate(item.name);
        }
    }

    fn set_attr(&self, port: PortName, change: AttrChange) -> Result<(), Error> {
        let (p, node) = self.protid(port)?;
        let mut st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        match change {
            AttrChange::Owner(uid, gid) => {
                let new_uid = if uid == u32::MAX { s.uid } else { uid };
                let new_gid = if gid == u32::MAX { s.gid } else { gid };
                if !p.user.has_euid(0) {
                    access::is_owner(&p.user, &s).map_err(errno)?;
                    if new_uid != s.uid || (new_gid != s.gid && !p.user.has_egid(new_gid)) {
                        return Err(errno(Errno::Perm));
                    }
                }
                st.tree
                    .set_attr(node, AttrChange::Owner(new_uid, new_gid))
                    .map_err(errno)
            }
            AttrChange::Mode(m) => {
                access::is_owner(&p.user, &s).map_err(errno)?;
                st.tree
                    .set_attr(node, AttrChange::Mode(m & CHMOD_BITS))
                    .map_err(errno)
            }
            other => {
                access::is_owner(&p.user, &s).map_err(errno)?;
                st.tree.set_attr(node, other).map_err(errno)
            }
        }
    }

    /// The server's name and the tree's options, as an argz vector.
    fn options_argz(&self) -> Vec<u8> {
        let opts = self.state().tree.options();
        let mut argv: Vec<&str> = vec![self.opts.name];
        argv.extend(opts.iter().map(String::as_str));
        crate::transbox::argv_to_argz(&argv)
    }

    fn shut_down(&self) {
        let mut st = self.state();
        let names: Vec<PortName> = st.protids.keys().copied().collect();
        for n in names {
            self.drop_protid(&mut st, n);
        }
        let boots: Vec<PortName> = st.bootstraps.keys().copied().collect();
        for b in boots {
            let _ = self.ipc.port_mod_refs(b, RightType::Receive, -1);
        }
        st.bootstraps.clear();
        // I/O waiting for mappings learns it too.
        let settling = core::mem::take(&mut st.settling);
        for (wake, (req, op)) in settling {
            let _ = self.ipc.port_destroy(wake);
            let _ = match op {
                IoOp::Read { .. } => io::reply::read(&self.ipc, &req, Err(errno(Errno::Died))),
                IoOp::Write { .. } => io::reply::write(&self.ipc, &req, Err(errno(Errno::Died))),
            };
        }
        // Lookups waiting on a translator's answer learn the server is gone.
        let pending = core::mem::take(&mut st.getroots);
        for (r, p) in pending {
            let _ = self.ipc.port_mod_refs(r, RightType::Receive, -1);
            let _ = self.ipc.port_deallocate(p.w.dotdot);
            let _ = fs::reply::dir_lookup(&self.ipc, &p.w.req, Err(errno(Errno::Died)));
        }
        for b in st.boxes.values_mut() {
            if b.active.is_valid() {
                let _ = self.ipc.port_deallocate(b.active);
                b.active = PortName::NULL;
            }
        }
        let _ = self.ipc.port_mod_refs(self.control, RightType::Receive, -1);
        let _ = self.ipc.port_destroy(self.portset);
    }
}

fn utime(sec: i64, nsec: i64) -> Option<TimeSpec> {
    const UTIME_OMIT: i64 = -1;
    const UTIME_NOW: i64 = -2;
    match nsec {
        UTIME_OMIT => None,
        // No clock here: "now" is left to the tree's own clock, if any.
        UTIME_NOW => None,
        n if (0..1_000_000_000).contains(&n) => Some(TimeSpec {
            sec,
            nsec: n as u32,
        }),
        _ => None,
    }
}

impl<T: Tree, I: UserIpc> io::Server for NetFs<T, I> {
    fn write(&self, req: &Request, data: Vec<u8>, offset: i64) -> Result<u64, Error> {
        let len = data.len() as u64;
        let op = IoOp::Write { data, offset };
        match self.defer_for_mappings(req, op, offset, len, false)? {
            None => Err(Error::Mig(MigReturn::NoReply)),
            Some(IoOp::Write { data, offset }) => self.write_now(req, &data, offset),
            Some(IoOp::Read { .. }) => Err(errno(Errno::Io)),
        }
    }

    fn read(&self, req: &Request, offset: i64, amount: u64) -> Result<Vec<u8>, Error> {
        let op = IoOp::Read { offset, amount };
        match self.defer_for_mappings(req, op, offset, amount, true)? {
            None => Err(Error::Mig(MigReturn::NoReply)),
            Some(_) => self.read_now(req, offset, amount),
        }
    }

    fn seek(&self, req: &Request, offset: i64, whence: i32) -> Result<i64, Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let size = self.stat_of(&st, node).map_err(errno)?.size;
        let po = st.peropens.get_mut(&p.po).ok_or(errno(Errno::BadF))?;
        let base: i64 = match whence {
            0 => 0,
            1 => po.offset as i64,
            2 => size as i64,
            _ => return Err(errno(Errno::Inval)),
        };
        let new = base.checked_add(offset).ok_or(errno(Errno::Inval))?;
        if new < 0 {
            return Err(errno(Errno::Inval));
        }
        po.offset = new as u64;
        Ok(new)
    }

    fn readable(&self, req: &Request) -> Result<u64, Error> {
        let (p, node) = self.protid(req.port)?;
        let st = self.state();
        let size = self.stat_of(&st, node).map_err(errno)?.size;
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::READ) {
            return Err(errno(Errno::BadF));
        }
        Ok(size.saturating_sub(po.offset))
    }

    fn set_all_openmodes(&self, req: &Request, newbits: i32) -> Result<(), Error> {
        self.change_modes(req.port, |f| {
            (f - OpenFlags::HONORED_STATE_MODES)
                | (OpenFlags::from_bits_truncate(newbits as u32) & OpenFlags::HONORED_STATE_MODES)
        })
    }

    fn get_openmodes(&self, req: &Request) -> Result<i32, Error> {
        let (p, _) = self.protid(req.port)?;
        let st = self.state();
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        Ok(po.flags.bits() as i32)
    }

    fn set_some_openmodes(&self, req: &Request, bits: i32) -> Result<(), Error> {
        self.change_modes(req.port, |f| {
            f | (OpenFlags::from_bits_truncate(bits as u32) & OpenFlags::HONORED_STATE_MODES)
        })
    }

    fn clear_some_openmodes(&self, req: &Request, bits: i32) -> Result<(), Error> {
        self.change_modes(req.port, |f| {
            f - (OpenFlags::from_bits_truncate(bits as u32) & OpenFlags::HONORED_STATE_MODES)
        })
    }

    fn stat(&self, req: &Request) -> Result<Stat, Error> {
        let (_, node) = self.protid(req.port)?;
        let st = self.state();
        self.stat_of(&st, node).map_err(errno)
    }

    fn reauthenticate(&self, req: &Request, rendezvous2: PortItem) {
        let Ok((p, _)) = self.protid(req.port) else {
            self.release(&rendezvous2);
            return;
        };
        let Ok(newport) = self.ipc.port_allocate(RightType::Receive) else {
            self.release(&rendezvous2);
            return;
        };
        let ids = if self.auth.is_valid() {
            AuthClient::new(&self.ipc, self.auth).server_authenticate(
                send_item(rendezvous2.name, Disposition::MoveSend),
                send_item(newport, Disposition::MakeSend),
            )
        } else {
            self.release(&rendezvous2);
            Err(errno(Errno::OpNotSupp))
        };
        // A failed handshake leaves the unknown user, as the Hurd does.
        let user = ids.unwrap_or_default();
        let mut st = self.state();
        let armed = self
            .ipc
            .port_move_member(newport, self.portset)
            .and_then(|()| {
                self.ipc.request_notification(
                    newport,
                    NotifyKind::NoSenders,
                    1,
                    newport,
                    Disposition::MakeSendOnce,
                )
            });
        match (armed, st.peropens.get_mut(&p.po)) {
            (Ok(_), Some(po)) => {
                po.refs += 1;
                st.protids.insert(
                    newport,
                    Protid {
                        po: p.po,
                        user,
                        pager: false,
                    },
                );
            }
            _ => {
                let _ = self.ipc.port_mod_refs(newport, RightType::Receive, -1);
            }
        }
    }

    fn restrict_auth(
        &self,
        req: &Request,
        uids: Vec<u32>,
        gids: Vec<u32>,
    ) -> Result<PortItem, Error> {
        let (p, _) = self.protid(req.port)?;
        let user = if p.user.has_euid(0) {
            IdSet::from_vecs(uids, Vec::new(), gids, Vec::new())
        } else {
            let uids = uids.into_iter().filter(|u| p.user.has_euid(*u)).collect();
            let gids = gids.into_iter().filter(|g| p.user.has_egid(*g)).collect();
            IdSet::from_vecs(uids, Vec::new(), gids, Vec::new())
        };
        let mut st = self.state();
        let port = self.new_protid(&mut st, p.po, user).map_err(errno)?;
        Ok(send_item(port, Disposition::MakeSend))
    }

    fn duplicate(&self, req: &Request) -> Result<PortItem, Error> {
        let (p, _) = self.protid(req.port)?;
        let mut st = self.state();
        let port = self.new_protid(&mut st, p.po, p.user).map_err(errno)?;
        Ok(send_item(port, Disposition::MakeSend))
    }

    fn server_version(&self, req: &Request) -> Result<(String, i32, i32, i32), Error> {
        self.protid(req.port)?;
        Ok((self.opts.name.into(), 0, 1, 0))
    }

    fn map(&self, req: &Request) -> Result<(PortItem, PortItem), Error> {
        let (p, node) = self.protid(req.port)?;
        let Some(mapper) = self.mapper.as_ref() else {
            return Err(errno(Errno::OpNotSupp));
        };
        let flags = {
            let st = self.state();
            let s = self.stat_of(&st, node).map_err(errno)?;
            if !crate::mode::is_reg(s.mode) {
                return Err(errno(Errno::OpNotSupp));
            }
            st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?.flags
        };
        let mut make_io = || {
            let mut st = self.state();
            let po = self.new_peropen(&mut st, node, OpenFlags::RDWR, PortName::NULL);
            let port = self.new_protid(&mut st, po, IdSet::root())?;
            if let Some(p) = st.protids.get_mut(&port) {
                p.pager = true;
            }
            if self
                .ipc
                .port_insert_right(port, port, Disposition::MakeSend)
                .is_err()
            {
                self.drop_protid(&mut st, port);
                return Err(Errno::NoMem);
            }
            Ok(port)
        };
        let (rw, ro) = mapper.memory_objects(node, &mut make_io).map_err(errno)?;
        let none = send_item(PortName::NULL, Disposition::CopySend);
        let make = |n| send_item(n, Disposition::MakeSend);
        // Readers get the object for reading, writers for writing; one
        // open for both gets the same (read/write) object twice.
        let rd = flags.contains(OpenFlags::READ);
        let wr = flags.contains(OpenFlags::WRITE);
        Ok(match (rd, wr) {
            (true, true) => (make(rw), make(rw)),
            (true, false) => (make(ro), none),
            (false, true) => (none, make(rw)),
            (false, false) => return Err(errno(Errno::BadF)),
        })
    }

    fn pathconf(&self, req: &Request, name: i32) -> Result<i32, Error> {
        self.protid(req.port)?;
        match name {
            // _PC_LINK_MAX, _PC_NAME_MAX, _PC_PATH_MAX
            0 => Ok(i32::MAX),
            3 => Ok(NAME_MAX as i32),
            4 => Ok(PATH_MAX as i32),
            _ => Err(errno(Errno::Inval)),
        }
    }
}

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    /// Hands `op` back to be done now, or — when kernels map the file —
    /// starts [`Mapper::settle`] for its bytes and keeps it until the mapper
    /// wakes us (`None`: the reply is deferred). An `offset` of -1 (the
    /// file pointer, or appending) settles the whole file.
    fn defer_for_mappings(
        &self,
        req: &Request,
        op: IoOp,
        offset: i64,
        len: u64,
        keep: bool,
    ) -> Result<Option<IoOp>, Error> {
        let Some(m) = self.mapper.as_ref() else {
            return Ok(Some(op));
        };
        let node = {
            let st = self.state();
            let p = st.protids.get(&req.port).ok_or(errno(Errno::OpNotSupp))?;
            match st.peropens.get(&p.po) {
                Some(po) if !p.pager => po.node,
                _ => return Ok(Some(op)),
            }
        };
        if !m.is_mapped(node) {
            return Ok(Some(op));
        }
        let (start, len) = match u64::try_from(offset) {
            Ok(o) => (o, len),
            Err(_) => (0, u64::MAX),
        };
        let Ok(wake) = self.ipc.port_allocate(RightType::Receive) else {
            return Ok(Some(op));
        };
        let armed = self
            .ipc
            .port_move_member(wake, self.portset)
            .and_then(|()| {
                self.ipc
                    .port_insert_right(wake, wake, Disposition::MakeSend)
            });
        if armed.is_err() || m.settle(node, start, len, keep, wake).is_err() {
            let _ = self.ipc.port_destroy(wake);
            return Ok(Some(op));
        }
        self.state().settling.insert(wake, (*req, op));
        Ok(None)
    }

    fn write_now(&self, req: &Request, data: &[u8], offset: i64) -> Result<u64, Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::WRITE) {
            return Err(errno(Errno::BadF));
        }
        let append = po.flags.contains(OpenFlags::APPEND);
        let at = if offset == -1 {
            if append {
                self.stat_of(&st, node).map_err(errno)?.size
            } else {
                po.offset
            }
        } else if offset < 0 {
            return Err(errno(Errno::Inval));
        } else {
            offset as u64
        };
        at.checked_add(data.len() as u64)
            .ok_or(errno(Errno::FBig))?;
        let n = st.tree.write(node, at, data).map_err(errno)?;
        if offset == -1
            && let Some(po) = st.peropens.get_mut(&p.po)
        {
            po.offset = at + n as u64;
        }
        Ok(n as u64)
    }

    fn read_now(&self, req: &Request, offset: i64, amount: u64) -> Result<Vec<u8>, Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::READ) {
            return Err(errno(Errno::BadF));
        }
        let at = match offset {
            -1 => po.offset,
            o if o < 0 => return Err(errno(Errno::Inval)),
            o => o as u64,
        };
        let s = self.stat_of(&st, node).map_err(errno)?;
        if is_dir(s.mode) {
            return Err(errno(Errno::IsDir));
        }
        let len = amount.min(self.opts.max_read as u64) as usize;
        let data = st.tree.read(node, at, len).map_err(errno)?;
        if offset == -1
            && let Some(po) = st.peropens.get_mut(&p.po)
        {
            po.offset = at + data.len() as u64;
        }
        Ok(data)
    }
}

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    fn change_modes(
        &self,
        port: PortName,
        f: impl FnOnce(OpenFlags) -> OpenFlags,
    ) -> Result<(), Error> {
        let (p, _) = self.protid(port)?;
        let mut st = self.state();
        let po = st.peropens.get_mut(&p.po).ok_or(errno(Errno::BadF))?;
        po.flags = f(po.flags);
        Ok(())
    }
}

impl<T: Tree, I: UserIpc> fs::Server for NetFs<T, I> {
    fn file_chown(&self, req: &Request, new_owner: u32, new_group: u32) -> Result<(), Error> {
        self.set_attr(req.port, AttrChange::Owner(new_owner, new_group))
    }

    fn file_chauthor(&self, req: &Request, new_author: u32) -> Result<(), Error> {
        self.set_attr(req.port, AttrChange::Author(new_author))
    }

    fn file_chmod(&self, req: &Request, new_mode: u32) -> Result<(), Error> {
        self.set_attr(req.port, AttrChange::Mode(new_mode))
    }

    fn file_chflags(&self, req: &Request, new_flags: i32) -> Result<(), Error> {
        self.set_attr(req.port, AttrChange::Flags(new_flags as u32))
    }

    fn file_set_size(&self, req: &Request, new_size: i64) -> Result<(), Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::WRITE) {
            return Err(errno(Errno::Inval));
        }
        if new_size < 0 {
            return Err(errno(Errno::Inval));
        }
        let s = self.stat_of(&st, node).map_err(errno)?;
        if is_dir(s.mode) {
            return Err(errno(Errno::IsDir));
        }
        st.tree.set_size(node, new_size as u64).map_err(errno)
    }

    fn file_check_access(&self, req: &Request) -> Result<i32, Error> {
        let (p, node) = self.protid(req.port)?;
        let st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        let mut allowed = OpenFlags::empty();
        for (op, bit) in [
            (Op::Read, OpenFlags::READ),
            (Op::Write, OpenFlags::WRITE),
            (Op::Exec, OpenFlags::EXEC),
        ] {
            if access::check(&p.user, &s, op).is_ok() {
                allowed |= bit;
            }
        }
        Ok(allowed.bits() as i32)
    }

    fn file_getcontrol(&self, req: &Request) -> Result<PortItem, Error> {
        let (p, _) = self.protid(req.port)?;
        access::is_root(&p.user).map_err(errno)?;
        Ok(send_item(self.control, Disposition::MakeSend))
    }

    fn file_statfs(&self, req: &Request) -> Result<Statfs, Error> {
        self.protid(req.port)?;
        let mut s = self.state().tree.statfs().map_err(errno)?;
        s.fsid = self.opts.fsid;
        Ok(s)
    }

    fn file_sync(&self, req: &Request, wait: i32, _omit: i32) -> Result<(), Error> {
        let (_, node) = self.protid(req.port)?;
        if let Some(m) = self.mapper.as_ref() {
            m.sync(node);
        }
        self.state().tree.sync(Some(node), wait != 0).map_err(errno)
    }

    fn file_syncfs(&self, req: &Request, wait: i32, _children: i32) -> Result<(), Error> {
        self.protid(req.port)?;
        self.state().tree.sync(None, wait != 0).map_err(errno)
    }

    fn file_getlinknode(&self, req: &Request) -> Result<PortItem, Error> {
        io::Server::duplicate(self, req)
    }

    fn dir_lookup(
        &self,
        req: &Request,
        file_name: String,
        flags: i32,
        mode: u32,
    ) -> Result<(u32, String, PortItem), Error> {
        match self.lookup(req, &file_name, flags as u32, mode) {
            Ok(Outcome::Done(r, n, p)) => Ok((r, n, p)),
            Ok(Outcome::Deferred) => Err(Error::Mig(MigReturn::NoReply)),
            Err(e) => Err(errno(e)),
        }
    }

    fn dir_readdir(
        &self,
        req: &Request,
        entry: i32,
        nentries: i32,
        bufsiz: u64,
    ) -> Result<(Vec<u8>, i32), Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        if !is_dir(s.mode) {
            return Err(errno(Errno::NotDir));
        }
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::READ) {
            return Err(errno(Errno::BadF));
        }
        if entry < 0 {
            return Err(errno(Errno::Inval));
        }
        let all = st.tree.readdir(node).map_err(errno)?;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for e in all.into_iter().skip(entry as usize) {
            if nentries >= 0 && out.len() >= nentries as usize {
                break;
            }
            if bufsiz > 0 && !out.is_empty() && (bytes + e.packed_len()) as u64 > bufsiz {
                break;
            }
            bytes += e.packed_len();
            out.push(e);
        }
        let n = out.len() as i32;
        Ok((encode_entries(&out), n))
    }

    fn dir_mkdir(&self, req: &Request, name: String, mode: u32) -> Result<(), Error> {
        Self::check_name(&name).map_err(|e| {
            errno(if name == "." || name == ".." {
                Errno::Exist
            } else {
                e
            })
        })?;
        let (p, dir) = self.writable_dir(req.port)?;
        let mut st = self.state();
        let ds = self.stat_of(&st, dir).map_err(errno)?;
        let uid = p.user.euids.iter().next().unwrap_or(ds.uid);
        st.tree
            .create(dir, Some(&name), S_IFDIR | (mode & ALLPERMS), uid, ds.gid)
            .map(|_| ())
            .map_err(errno)
    }

    fn dir_rmdir(&self, req: &Request, name: String) -> Result<(), Error> {
        if name == "." {
            return Err(errno(Errno::Inval));
        }
        if name == ".." {
            return Err(errno(Errno::NotEmpty));
        }
        Self::check_name(&name).map_err(errno)?;
        let (_, dir) = self.writable_dir(req.port)?;
        let mut st = self.state();
        let n = st.tree.lookup(dir, &name).map_err(errno)?;
        if !is_dir(self.stat_of(&st, n).map_err(errno)?.mode) {
            return Err(errno(Errno::NotDir));
        }
        if self.translated(&st, n) && st.boxes.get(&n).is_some_and(|b| b.active.is_valid()) {
            return Err(errno(Errno::Busy));
        }
        st.tree.unlink(dir, &name).map_err(errno)
    }

    fn dir_unlink(&self, req: &Request, name: String) -> Result<(), Error> {
        Self::check_name(&name).map_err(|e| {
            errno(if name == "." || name == ".." {
                Errno::Perm
            } else {
                e
            })
        })?;
        let (_, dir) = self.writable_dir(req.port)?;
        let mut st = self.state();
        let n = st.tree.lookup(dir, &name).map_err(errno)?;
        if is_dir(self.stat_of(&st, n).map_err(errno)?.mode) {
            return Err(errno(Errno::Perm));
        }
        st.tree.unlink(dir, &name).map_err(errno)
    }

    fn dir_link(
        &self,
        req: &Request,
        file: PortItem,
        name: String,
        excl: i32,
    ) -> Result<(), Error> {
        let r = (|| {
            Self::check_name(&name).map_err(errno)?;
            let (_, dir) = self.writable_dir(req.port)?;
            let (_, node) = self.protid(file.name).map_err(|_| errno(Errno::XDev))?;
            let mut st = self.state();
            if is_dir(self.stat_of(&st, node).map_err(errno)?.mode) {
                return Err(errno(Errno::Perm));
            }
            st.tree.link(dir, &name, node, excl != 0).map_err(errno)
        })();
        self.release(&file);
        r
    }

    fn dir_rename(
        &self,
        req: &Request,
        oldname: String,
        newdirectory: PortItem,
        newname: String,
        excl: i32,
    ) -> Result<(), Error> {
        let r = (|| {
            Self::check_name(&oldname).map_err(errno)?;
            Self::check_name(&newname).map_err(errno)?;
            let (_, from) = self.writable_dir(req.port)?;
            if self.protid(newdirectory.name).is_err() {
                return Err(errno(Errno::XDev));
            }
            let (_, to) = self.writable_dir(newdirectory.name)?;
            let mut st = self.state();
            st.tree
                .rename(from, &oldname, to, &newname, excl != 0)
                .map_err(errno)
        })();
        self.release(&newdirectory);
        r
    }

    fn dir_mkfile(&self, req: &Request, flags: i32, mode: u32) -> Result<PortItem, Error> {
        let (p, dir) = self.writable_dir(req.port)?;
        let mut st = self.state();
        let ds = self.stat_of(&st, dir).map_err(errno)?;
        let uid = p.user.euids.iter().next().unwrap_or(ds.uid);
        let node = st
            .tree
            .create(dir, None, S_IFREG | (mode & ALLPERMS), uid, ds.gid)
            .map_err(errno)?;
        let oflags = OpenFlags::from_bits_truncate(flags as u32) & OpenFlags::OPENMODES;
        let po = self.new_peropen(&mut st, node, oflags, PortName::NULL);
        let port = self.new_protid(&mut st, po, p.user).map_err(errno)?;
        Ok(send_item(port, Disposition::MakeSend))
    }

    fn file_set_translator(
        &self,
        req: &Request,
        passive_flags: i32,
        active_flags: i32,
        oldtrans_flags: i32,
        passive: Vec<u8>,
        active: PortItem,
    ) -> Result<(), Error> {
        let (passive_flags, active_flags) = (passive_flags as u32, active_flags as u32);
        let (p, node) = match self.protid(req.port) {
            Ok(x) => x,
            Err(e) => {
                self.release(&active);
                return Err(e);
            }
        };
        let mut st = self.state();
        let s = match self.stat_of(&st, node) {
            Ok(s) => s,
            Err(e) => {
                drop(st);
                self.release(&active);
                return Err(errno(e));
            }
        };
        if let Err(e) = access::is_owner(&p.user, &s) {
            drop(st);
            self.release(&active);
            return Err(errno(e));
        }
        if active_flags & FS_TRANS_SET != 0 {
            let old = st.boxes.get(&node).map_or(PortName::NULL, |b| b.active);
            if old.is_valid() && active_flags & FS_TRANS_EXCL != 0 {
                drop(st);
                self.release(&active);
                return Err(errno(Errno::Busy));
            }
            if old.is_valid() {
                drop(st);
                if oldtrans_flags as u32 & FS_TRANS_ORPHAN == 0 {
                    let r = fsys::Client::new(&self.ipc, old).goaway(oldtrans_flags);
                    if let Err(e) = r
                        && !matches!(
                            e,
                            Error::Msg(MsgReturn::SendInvalidDest)
                                | Error::Mig(MigReturn::ServerDied)
                        )
                    {
                        self.release(&active);
                        return Err(e);
                    }
                }
                let _ = self.ipc.port_deallocate(old);
                st = self.state();
            }
            st.boxes.entry(node).or_default().active = active.name;
        } else {
            self.release(&active);
        }
        if passive_flags & FS_TRANS_SET != 0 {
            if passive_flags & FS_TRANS_EXCL != 0 && st.tree.passive(node).is_some() {
                return Err(errno(Errno::Busy));
            }
            if passive.is_empty() {
                return st.tree.set_passive(node, None).map_err(errno);
            }
            let argv = argz_to_argv(&passive).ok_or(errno(Errno::Inval))?;
            // A symlink is a short-circuited translator.
            if argv[0] == HURD_SYMLINK {
                let target = argv.get(1).ok_or(errno(Errno::Inval))?;
                if argv.len() != 2 || s.mode & S_IFMT != S_IFREG || s.size != 0 {
                    return Err(errno(Errno::Inval));
                }
                return st.tree.set_symlink(node, target).map_err(errno);
            }
            st.tree.set_passive(node, Some(passive)).map_err(errno)?;
        }
        Ok(())
    }

    fn file_get_translator(&self, req: &Request) -> Result<Vec<u8>, Error> {
        let (_, node) = self.protid(req.port)?;
        let mut st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        if is_lnk(s.mode) {
            let target = st.tree.readlink(node).map_err(errno)?;
            return Ok(crate::transbox::argv_to_argz(&[HURD_SYMLINK, &target]));
        }
        st.tree.passive(node).ok_or(errno(Errno::Inval))
    }

    fn file_get_translator_cntl(&self, req: &Request) -> Result<PortItem, Error> {
        let (p, node) = self.protid(req.port)?;
        let st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        access::is_owner(&p.user, &s).map_err(errno)?;
        let active = st.boxes.get(&node).map_or(PortName::NULL, |b| b.active);
        if !active.is_valid() {
            return Err(errno(Errno::NxIo));
        }
        Ok(send_item(active, Disposition::CopySend))
    }

    fn file_get_fs_options(&self, req: &Request) -> Result<Vec<u8>, Error> {
        self.protid(req.port)?;
        Ok(self.options_argz())
    }

    fn file_utimens(
        &self,
        req: &Request,
        atime_sec: i64,
        atime_nsec: i64,
        mtime_sec: i64,
        mtime_nsec: i64,
    ) -> Result<(), Error> {
        self.set_attr(
            req.port,
            AttrChange::Times(utime(atime_sec, atime_nsec), utime(mtime_sec, mtime_nsec)),
        )
    }
}

impl<T: Tree, I: UserIpc> fsys::Server for NetFs<T, I> {
    fn startup(
        &self,
        req: &Request,
        openflags: i32,
        control_port: PortItem,
    ) -> Result<PortItem, Error> {
        let mut st = self.state();
        let Some(node) = st.bootstraps.remove(&req.port) else {
            drop(st);
            self.release(&control_port);
            return Err(errno(Errno::OpNotSupp));
        };
        let starting = st.boxes.get_mut(&node).and_then(|b| b.starting.take());
        let _ = self.ipc.port_mod_refs(req.port, RightType::Receive, -1);
        let Some(starting) = starting else {
            drop(st);
            self.release(&control_port);
            return Err(errno(Errno::Inval));
        };
        let oflags = OpenFlags::from_bits_truncate(openflags as u32) & OpenFlags::OPENMODES;
        let po = self.new_peropen(&mut st, node, oflags, PortName::NULL);
        let realnode = self.new_protid(&mut st, po, starting.owner.clone());
        st.boxes.entry(node).or_default().active = control_port.name;
        drop(st);
        // Answer now: the translator serves its control port only after this.
        let reply = realnode
            .map(|n| send_item(n, Disposition::MakeSend))
            .map_err(errno);
        let _ = fsys::reply::startup(&self.ipc, req, reply);
        for w in starting.waiters {
            self.resume(w, node);
        }
        Err(Error::Mig(MigReturn::NoReply))
    }

    fn goaway(&self, req: &Request, flags: i32) -> Result<(), Error> {
        if req.port != self.control {
            return Err(errno(Errno::OpNotSupp));
        }
        let flags = flags as u32;
        let st = self.state();
        let root = st.tree.root();
        if flags & FSYS_GOAWAY_UNLINK != 0 && is_dir(st.tree.stat(root).map_err(errno)?.mode) {
            return Err(errno(Errno::Busy));
        }
        if flags & FSYS_GOAWAY_FORCE == 0 && !st.protids.is_empty() {
            return Err(errno(Errno::Busy));
        }
        let children: Vec<PortName> = st
            .boxes
            .values()
            .map(|b| b.active)
            .filter(|a| a.is_valid())
            .collect();
        drop(st);
        if flags & FSYS_GOAWAY_RECURSE != 0 {
            for c in children {
                let r = fsys::Client::new(&self.ipc, c).goaway(flags as i32);
                if let Err(e) = r
                    && flags & FSYS_GOAWAY_FORCE == 0
                    && !matches!(
                        e,
                        Error::Msg(MsgReturn::SendInvalidDest) | Error::Mig(MigReturn::ServerDied)
                    )
                {
                    return Err(e);
                }
            }
        }
        self.state().tree.goaway().map_err(errno)?;
        let _ = fsys::reply::goaway(&self.ipc, req, Ok(()));
        self.shut_down();
        Err(Error::Mig(MigReturn::NoReply))
    }

    fn getroot(
        &self,
        req: &Request,
        dotdot_node: PortItem,
        gen_uids: Vec<u32>,
        gen_gids: Vec<u32>,
        flags: i32,
    ) -> Result<(u32, String, PortItem), Error> {
        if req.port != self.control {
            self.release(&dotdot_node);
            return Err(errno(Errno::OpNotSupp));
        }
        let user = IdSet::from_vecs(gen_uids, Vec::new(), gen_gids, Vec::new());
        let oflags = OpenFlags::from_bits_truncate(flags as u32);
        let mut st = self.state();
        let root = st.tree.root();
        let checked = self
            .stat_of(&st, root)
            .and_then(|s| Self::check_open(&user, &s, oflags));
        if let Err(e) = checked {
            drop(st);
            self.release(&dotdot_node);
            return Err(errno(e));
        }
        let po = self.new_peropen(
            &mut st,
            root,
            oflags & OpenFlags::OPENMODES,
            dotdot_node.name,
        );
        let port = self.new_protid(&mut st, po, user).map_err(errno)?;
        Ok((
            RetryType::Normal.into(),
            String::new(),
            send_item(port, Disposition::MakeSend),
        ))
    }

    fn syncfs(&self, req: &Request, wait: i32, _children: i32) -> Result<(), Error> {
        if req.port != self.control {
            return Err(errno(Errno::OpNotSupp));
        }
        self.state().tree.sync(None, wait != 0).map_err(errno)
    }

    fn set_options(&self, req: &Request, options: Vec<u8>, _children: i32) -> Result<(), Error> {
        if req.port != self.control {
            return Err(errno(Errno::OpNotSupp));
        }
        let argv = argz_to_argv(&options).ok_or(errno(Errno::Inval))?;
        // As fsysopts sends them: the server's name may come first.
        let args: Vec<&str> = argv
            .iter()
            .map(String::as_str)
            .skip_while(|a| !a.starts_with('-'))
            .collect();
        self.state().tree.set_options(&args).map_err(errno)
    }

    fn get_options(&self, req: &Request) -> Result<Vec<u8>, Error> {
        if req.port != self.control {
            return Err(errno(Errno::OpNotSupp));
        }
        Ok(self.options_argz())
    }
}
