//! The translators as programs, defined once for every host: each is a
//! function taking what its starter gave it ([`Start`]: its task's IPC, its
//! arguments, bootstrap port, auth handle and directories), which calls
//! `fsys_startup` and serves until told to go away. [`registry`] names them
//! (`/hurd/hello`…): a hosted [`ThreadStarter`](crate::transbox::ThreadStarter)
//! runs them as threads of its runtime ([`all`], feature `std`); on the hurd-rs
//! kernel each is a program of its own, which builds its [`Start`] from the
//! ports and arguments its loader gave it.
//!
//! Programs taking file names (union, shadow) resolve them under the
//! directories the starter gave them, as the node owner.
//!
//! A program whose arguments are bad still answers: it calls `fsys_startup`,
//! answers the first `fsys_getroot` with the error (`EINVAL` for a bad
//! command line, the lookup's error for a file name) and exits, so the
//! lookup that started it learns why, nothing stays running, and the next
//! lookup starts it again (which succeeds once the arguments are right).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use hurd_auth::AuthClient;
use hurd_ipc::mig::{self, Dispatch};
use hurd_ipc::{Errno, PortName, UserIpc};

use super::hello::{HELLO, Hello};
use super::null::{Null, Zero};
use super::random::{Random, SEED_LEN};
use super::shadow::Shadow;
use super::tarfs::{NodeSource, Tarfs};
use super::tmpfs::Tmpfs;
use super::union::Union;
use crate::flags::OpenFlags;
use crate::netfs::{DirEntry, Mapper, NetFs, NodeId, Options, Tree};
use crate::protocol::fsys;
use crate::stat::Stat;
use crate::transbox::InitDirs;
use crate::trivfs::Single;

/// The host a translator program runs on: its task's IPC, and what the host
/// offers beyond it.
pub trait Host: UserIpc + Clone + Send + Sync + 'static {
    /// A [`Mapper`] for a file system of this task, so its files can be
    /// mapped (`io_map`); `None` (the default) when the host has none.
    fn mapper(&self) -> Option<Box<dyn Mapper + Send>> {
        None
    }

    /// Fills `seed` with entropy for a random number generator and names
    /// its source, or `None` (the default) when the host has none.
    fn entropy(&self, seed: &mut [u8]) -> Option<&'static str> {
        let _ = seed;
        None
    }
}

/// What a translator program gets from its starter.
#[derive(Clone, Debug)]
pub struct Start<I> {
    /// Its task's IPC.
    pub ipc: I,
    /// Its command line, the program's name first.
    pub argv: Vec<String>,
    /// A send right to its bootstrap port (for `fsys_startup`).
    pub bootstrap: PortName,
    /// Its auth handle: the node owner's identity.
    pub auth: PortName,
    /// The directories it resolves file names in (`INIT_PORT_CRDIR`,
    /// `INIT_PORT_CWDIR`), as the node owner.
    pub dirs: InitDirs,
}

/// A translator program.
pub type Program<I> = fn(Start<I>);

/// Every translator program by its conventional name (`/hurd/hello`…):
/// the one table both hosts start them from.
pub fn registry<I: Host>() -> Vec<(&'static str, Program<I>)> {
    alloc::vec![
        ("/hurd/hello", hello::<I> as Program<I>),
        ("/hurd/null", null::<I>),
        ("/hurd/zero", zero::<I>),
        ("/hurd/random", random::<I>),
        ("/hurd/tmpfs", tmpfs::<I>),
        ("/hurd/tarfs", tarfs::<I>),
        ("/hurd/union", union::<I>),
        ("/hurd/shadow", shadow::<I>),
    ]
}

/// The program registered as `name` (`/hurd/hello`).
pub fn find<I: Host>(name: &str) -> Option<Program<I>> {
    registry::<I>()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| p)
}

/// The uid and gid the translator runs as (its auth handle's first ids).
pub fn own_ids<I: UserIpc>(ipc: &I, auth: PortName) -> (u32, u32) {
    let ids = AuthClient::new(ipc, auth).getids().unwrap_or_default();
    (
        ids.euids.iter().next().unwrap_or(0),
        ids.egids.iter().next().unwrap_or(0),
    )
}

/// Serves `tree` as a translator: `fsys_startup` on `bootstrap`, then serve.
pub fn run<I: UserIpc, T: Tree>(
    ipc: I,
    tree: T,
    auth: PortName,
    bootstrap: PortName,
    name: &'static str,
) {
    let opts = Options {
        name,
        ..Options::default()
    };
    let Ok(fs) = NetFs::new(ipc, tree, auth, None, opts) else {
        return;
    };
    if let Ok(node) = fs.startup(bootstrap, OpenFlags::READ) {
        let _ = fs.ipc().port_deallocate(node);
        fs.serve();
    }
}

/// `hello [CONTENTS]`: a file holding CONTENTS (default "Hello, world!").
pub fn hello<I: Host>(s: Start<I>) {
    let (uid, gid) = own_ids(&s.ipc, s.auth);
    let contents = s
        .argv
        .get(1)
        .map_or(HELLO.to_vec(), |c| c.as_bytes().to_vec());
    let file = Single::new(Hello::new(&contents), uid, gid);
    run(s.ipc, file, s.auth, s.bootstrap, "hello");
}

/// `null [--full]`: `/dev/null` (or `/dev/full`).
pub fn null<I: Host>(s: Start<I>) {
    let (uid, gid) = own_ids(&s.ipc, s.auth);
    let full = s.argv.iter().any(|a| a == "--full");
    let file = Single::new(Null { full }, uid, gid);
    run(s.ipc, file, s.auth, s.bootstrap, "null");
}

/// `zero`: `/dev/zero`.
pub fn zero<I: Host>(s: Start<I>) {
    let (uid, gid) = own_ids(&s.ipc, s.auth);
    run(
        s.ipc,
        Single::new(Zero, uid, gid),
        s.auth,
        s.bootstrap,
        "zero",
    );
}

/// `random`: `/dev/random` and `/dev/urandom` (see [`Random`]), keyed
/// from the host's entropy ([`Host::entropy`]). A host without any, or an
/// argument: `EIO` and `EINVAL` through the first `fsys_getroot`.
pub fn random<I: Host>(s: Start<I>) {
    if s.argv.len() > 1 {
        return refuse(s.ipc, s.auth, s.bootstrap, "random", Errno::Inval);
    }
    let mut seed = [0; SEED_LEN];
    if s.ipc.entropy(&mut seed).is_none() {
        return refuse(s.ipc, s.auth, s.bootstrap, "random", Errno::Io);
    }
    let (uid, gid) = own_ids(&s.ipc, s.auth);
    run(
        s.ipc,
        Single::new(Random::new(seed), uid, gid),
        s.auth,
        s.bootstrap,
        "random",
    );
}

/// `tmpfs [LIMIT]`: an empty in-memory file system owned by the
/// translator's user, LIMIT bytes (a decimal number; default 64 MiB), whose
/// files can be mapped where the host has a [`Mapper`] (`io_map`). A LIMIT
/// that is no number, or more arguments: `EINVAL`.
pub fn tmpfs<I: Host>(s: Start<I>) {
    let limit = match s.argv.get(1..) {
        None | Some([]) => Ok(64 << 20),
        Some([limit]) => limit.parse::<u64>().map_err(|_| Errno::Inval),
        Some(_) => Err(Errno::Inval),
    };
    let limit = match limit {
        Ok(limit) => limit,
        Err(e) => return refuse(s.ipc, s.auth, s.bootstrap, "tmpfs", e),
    };
    let (uid, gid) = own_ids(&s.ipc, s.auth);
    let opts = Options {
        name: "tmpfs",
        ..Options::default()
    };
    let mapper = s.ipc.mapper();
    let tree = Tmpfs::new(uid, gid, 0o755, limit);
    let Ok(fs) = NetFs::new(s.ipc, tree, s.auth, None, opts) else {
        return;
    };
    let fs = match mapper {
        Some(m) => fs.with_mapper(m),
        None => fs,
    };
    if let Ok(node) = fs.startup(s.bootstrap, OpenFlags::READ) {
        let _ = fs.ipc().port_deallocate(node);
        fs.serve();
    }
}

/// `tarfs`: the node the translator sits on, read as a tar archive: its
/// headers once at start, file data through `io_read` on the node when
/// clients read. A refused archive gives a file system whose every lookup
/// fails with the refusal's error (`EFTYPE`).
pub fn tarfs<I: Host>(s: Start<I>) {
    let (uid, gid) = own_ids(&s.ipc, s.auth);
    let opts = Options {
        name: "tarfs",
        ..Options::default()
    };
    let ipc = s.ipc.clone();
    let Ok(fs) = NetFs::new(s.ipc, Tarfs::empty(uid, gid), s.auth, None, opts) else {
        return;
    };
    let Ok(node) = fs.startup(s.bootstrap, OpenFlags::READ) else {
        return;
    };
    let t = Tarfs::open_or_broken(NodeSource::new(ipc, node), uid, gid);
    fs.with_tree(|tree| *tree = t);
    fs.serve();
}

/// `union DIR...`: the directories merged, first wins, read-only (see
/// [`Union`]). Without a directory: `EINVAL`.
pub fn union<I: Host>(s: Start<I>) {
    let layers = match s.argv.get(1..) {
        Some(paths) if !paths.is_empty() => open_dirs(&s.ipc, s.dirs, s.auth, paths),
        _ => Err(Errno::Inval),
    };
    match layers {
        Ok(layers) => {
            let tree = Union::new(s.ipc.clone(), layers);
            run(s.ipc, tree, s.auth, s.bootstrap, "union");
        }
        Err(e) => refuse(s.ipc, s.auth, s.bootstrap, "union", e),
    }
}

/// `shadow LOWER UPPER`: reads from LOWER, every change to UPPER (see
/// [`Shadow`]). Any other number of arguments: `EINVAL`.
pub fn shadow<I: Host>(s: Start<I>) {
    let dirs = match s.argv.get(1..) {
        Some(paths) if paths.len() == 2 => open_dirs(&s.ipc, s.dirs, s.auth, paths),
        _ => Err(Errno::Inval),
    };
    match dirs.as_deref() {
        Ok([lower, upper]) => {
            let tree = Shadow::new(s.ipc.clone(), *lower, *upper);
            run(s.ipc, tree, s.auth, s.bootstrap, "shadow");
        }
        Ok(_) => {}
        Err(e) => refuse(s.ipc, s.auth, s.bootstrap, "shadow", *e),
    }
}

pub use super::ports::open_dirs;

/// A file system whose root cannot be had: every `fsys_getroot` gets the
/// error.
struct Refused(Errno);

impl Tree for Refused {
    fn root(&self) -> NodeId {
        1
    }
    fn stat(&self, _: NodeId) -> Result<Stat, Errno> {
        Err(self.0)
    }
    fn lookup(&mut self, _: NodeId, _: &[u8]) -> Result<NodeId, Errno> {
        Err(self.0)
    }
    fn read(&mut self, _: NodeId, _: u64, _: usize) -> Result<Vec<u8>, Errno> {
        Err(self.0)
    }
    fn readdir(&mut self, _: NodeId) -> Result<Vec<DirEntry>, Errno> {
        Err(self.0)
    }
}

/// Starts up, answers the first `fsys_getroot` with `err` and returns (the
/// task ends): how a program tells the lookup that started it that it
/// cannot serve.
pub fn refuse<I: UserIpc + Clone>(
    ipc: I,
    auth: PortName,
    boot: PortName,
    name: &'static str,
    err: Errno,
) {
    let opts = Options {
        name,
        ..Options::default()
    };
    let Ok(fs) = NetFs::new(ipc.clone(), Refused(err), auth, None, opts) else {
        return;
    };
    if fs.startup(boot, OpenFlags::READ).is_err() {
        return;
    }
    while let Ok(msg) = ipc.receive(fs.port_set()) {
        let getroot = msg.header.id == fsys::id::getroot;
        let answer = match fs.handle(msg) {
            Dispatch::NotMine(m) => mig::bad_id(&ipc, m),
            d => d,
        };
        if let Dispatch::Reply(r) = answer {
            let _ = mig::send_reply(&ipc, r);
        }
        if getroot {
            return;
        }
    }
}

#[cfg(feature = "std")]
pub use hosted::{all, hosted, starter};

/// The programs on the hosted runtime: threads of a [`Runtime`] started by a
/// [`ThreadStarter`](crate::transbox::ThreadStarter).
///
/// [`Runtime`]: hurd_ipc::hosted::Runtime
#[cfg(feature = "std")]
mod hosted {
    use alloc::boxed::Box;
    use alloc::sync::Arc;
    use alloc::vec::Vec;

    use hurd_ipc::hosted::{Runtime, Task};

    use super::{Host, Start, registry};
    use crate::mapping::PagerMapper;
    use crate::netfs::Mapper;
    use crate::transbox::{Program, ThreadStarter, init_dirs};

    impl Host for Task {
        /// hurd-pager's workers serve the mapped files.
        fn mapper(&self) -> Option<Box<dyn Mapper + Send>> {
            PagerMapper::new(self)
                .ok()
                .map(|m| Box::new(m) as Box<dyn Mapper + Send>)
        }

        /// The host's own generator (`/dev/urandom`).
        fn entropy(&self, seed: &mut [u8]) -> Option<&'static str> {
            use std::io::Read;
            let mut f = std::fs::File::open("/dev/urandom").ok()?;
            f.read_exact(seed).ok()?;
            Some("/dev/urandom")
        }
    }

    /// `program` as a hosted [`Program`]: given its task, arguments,
    /// bootstrap port and auth handle by the starter, and the directories
    /// of [`init_dirs`].
    pub fn hosted(program: super::Program<Task>) -> Program {
        Arc::new(move |ipc, argv, bootstrap, auth| {
            program(Start {
                ipc,
                argv,
                bootstrap,
                auth,
                dirs: init_dirs(),
            });
        })
    }

    /// Every program of the [`registry`], hosted.
    pub fn all() -> Vec<(&'static str, Program)> {
        registry::<Task>()
            .into_iter()
            .map(|(name, p)| (name, hosted(p)))
            .collect()
    }

    /// A boxed starter with every program registered, for `NetFs::new`.
    pub fn starter(rt: &Runtime, server: &Task) -> Box<ThreadStarter> {
        let s = ThreadStarter::new(rt, server);
        for (name, p) in all() {
            s.register(name, p);
        }
        Box::new(s)
    }
}
