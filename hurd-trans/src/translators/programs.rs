//! The translators as programs a [`ThreadStarter`](crate::transbox::ThreadStarter)
//! runs: each gets its task, arguments, bootstrap port and auth handle,
//! calls `fsys_startup` and serves until told to go away. Programs taking
//! file names (union, shadow) resolve them under the directories the
//! starter gave them ([`init_dirs`]), as the node owner.
//!
//! A program whose arguments are bad still answers: it calls `fsys_startup`,
//! answers the first `fsys_getroot` with the error (`EINVAL` for a bad
//! command line, the lookup's error for a file name) and exits, so the
//! lookup that started it learns why, nothing stays running, and the next
//! lookup starts it again (which succeeds once the arguments are right).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use hurd_auth::AuthClient;
use hurd_ipc::Errno;
use hurd_ipc::hosted::Task;
use hurd_ipc::mig::{self, Dispatch};
use hurd_ipc::{PortName, UserIpc};

use super::hello::{HELLO, Hello};
use super::null::{Null, Zero};
use super::shadow::Shadow;
use super::tarfs::{NodeSource, Tarfs};
use super::tmpfs::Tmpfs;
use super::union::Union;
use crate::flags::OpenFlags;
use crate::netfs::{DirEntry, NetFs, NodeId, Options, Tree};
use crate::protocol::fsys;
use crate::stat::Stat;
use crate::transbox::{Program, init_dirs};
use crate::trivfs::Single;

/// The uid and gid the translator runs as (its auth handle's first ids).
pub fn own_ids(task: &Task, auth: PortName) -> (u32, u32) {
    let ids = AuthClient::new(task, auth).getids().unwrap_or_default();
    (
        ids.euids.iter().next().unwrap_or(0),
        ids.egids.iter().next().unwrap_or(0),
    )
}

/// Serves `tree` as a translator: `fsys_startup` on `bootstrap`, then serve.
pub fn run<T: Tree>(task: Task, tree: T, auth: PortName, bootstrap: PortName, name: &'static str) {
    let opts = Options {
        name,
        ..Options::default()
    };
    let Ok(fs) = NetFs::new(task, tree, auth, None, opts) else {
        return;
    };
    if fs.startup(bootstrap, OpenFlags::READ).is_err() {
        return;
    }
    fs.serve();
}

fn program(f: impl Fn(Task, Vec<String>, PortName, PortName) + Send + Sync + 'static) -> Program {
    Arc::new(f)
}

/// `hello [CONTENTS]`: a file holding CONTENTS (default "Hello, world!").
pub fn hello() -> Program {
    program(|task, argv, boot, auth| {
        let (uid, gid) = own_ids(&task, auth);
        let contents = argv
            .get(1)
            .map_or(HELLO.to_vec(), |c| c.as_bytes().to_vec());
        run(
            task,
            Single::new(Hello::new(&contents), uid, gid),
            auth,
            boot,
            "hello",
        );
    })
}

/// `null [--full]`: `/dev/null` (or `/dev/full`).
pub fn null() -> Program {
    program(|task, argv, boot, auth| {
        let (uid, gid) = own_ids(&task, auth);
        let full = argv.iter().any(|a| a == "--full");
        run(
            task,
            Single::new(Null { full }, uid, gid),
            auth,
            boot,
            "null",
        );
    })
}

/// `zero`: `/dev/zero`.
pub fn zero() -> Program {
    program(|task, _argv, boot, auth| {
        let (uid, gid) = own_ids(&task, auth);
        run(task, Single::new(Zero, uid, gid), auth, boot, "zero");
    })
}

/// `tmpfs [LIMIT]`: an empty in-memory file system owned by the
/// translator's user, LIMIT bytes (default 64 MiB), whose files can be
/// mapped (`io_map` on hurd-pager).
pub fn tmpfs() -> Program {
    program(|task, argv, boot, auth| {
        let (uid, gid) = own_ids(&task, auth);
        let limit = argv.get(1).and_then(|l| l.parse().ok()).unwrap_or(64 << 20);
        let opts = Options {
            name: "tmpfs",
            ..Options::default()
        };
        let tree = Tmpfs::new(uid, gid, 0o755, limit);
        let Ok(fs) = NetFs::new(task.clone(), tree, auth, None, opts) else {
            return;
        };
        // Files can be mapped: io_map is served by hurd-pager.
        let fs = match crate::mapping::PagerMapper::new(&task) {
            Ok(m) => fs.with_mapper(Box::new(m)),
            Err(_) => fs,
        };
        if fs.startup(boot, OpenFlags::READ).is_ok() {
            fs.serve();
        }
    })
}

/// `tarfs`: the node the translator sits on, read as a tar archive: its
/// headers once at start, file data through `io_read` on the node when
/// clients read. A refused archive gives a file system whose every lookup
/// fails with the refusal's error (`EFTYPE`).
pub fn tarfs() -> Program {
    program(|task, _argv, boot, auth| {
        let (uid, gid) = own_ids(&task, auth);
        let opts = Options {
            name: "tarfs",
            ..Options::default()
        };
        let Ok(fs) = NetFs::new(task.clone(), Tarfs::empty(uid, gid), auth, None, opts) else {
            return;
        };
        let Ok(node) = fs.startup(boot, OpenFlags::READ) else {
            return;
        };
        let t = Tarfs::open_or_broken(NodeSource::new(task.clone(), node), uid, gid);
        fs.with_tree(|tree| *tree = t);
        fs.serve();
    })
}

/// `union DIR...`: the directories merged, first wins, read-only (see
/// [`Union`]). Without a directory: `EINVAL`.
pub fn union() -> Program {
    program(|task, argv, boot, auth| {
        let layers = match argv.get(1..) {
            Some(paths) if !paths.is_empty() => open_dirs(&task, init_dirs(), auth, paths),
            _ => Err(Errno::Inval),
        };
        match layers {
            Ok(layers) => run(task.clone(), Union::new(task, layers), auth, boot, "union"),
            Err(e) => refuse(task, auth, boot, "union", e),
        }
    })
}

/// `shadow LOWER UPPER`: reads from LOWER, every change to UPPER (see
/// [`Shadow`]). Any other number of arguments: `EINVAL`.
pub fn shadow() -> Program {
    program(|task, argv, boot, auth| {
        let dirs = match argv.get(1..) {
            Some(paths) if paths.len() == 2 => open_dirs(&task, init_dirs(), auth, paths),
            _ => Err(Errno::Inval),
        };
        match dirs.as_deref() {
            Ok([lower, upper]) => {
                let tree = Shadow::new(task.clone(), *lower, *upper);
                run(task, tree, auth, boot, "shadow");
            }
            Ok(_) => {}
            Err(e) => refuse(task, auth, boot, "shadow", *e),
        }
    })
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
    fn lookup(&mut self, _: NodeId, _: &str) -> Result<NodeId, Errno> {
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
pub fn refuse(task: Task, auth: PortName, boot: PortName, name: &'static str, err: Errno) {
    let opts = Options {
        name,
        ..Options::default()
    };
    let Ok(fs) = NetFs::new(task.clone(), Refused(err), auth, None, opts) else {
        return;
    };
    if fs.startup(boot, OpenFlags::READ).is_err() {
        return;
    }
    while let Ok(msg) = task.receive(fs.port_set()) {
        let getroot = msg.header.id == fsys::id::getroot;
        let answer = match fs.handle(msg) {
            Dispatch::NotMine(m) => mig::bad_id(&task, m),
            d => d,
        };
        if let Dispatch::Reply(r) = answer {
            let _ = mig::send_reply(&task, r);
        }
        if getroot {
            return;
        }
    }
}

/// Every program above, by its conventional name (`/hurd/hello`...).
pub fn all() -> Vec<(&'static str, Program)> {
    alloc::vec![
        ("/hurd/hello", hello()),
        ("/hurd/null", null()),
        ("/hurd/zero", zero()),
        ("/hurd/tmpfs", tmpfs()),
        ("/hurd/tarfs", tarfs()),
        ("/hurd/union", union()),
        ("/hurd/shadow", shadow()),
    ]
}

/// A boxed starter with every program registered, for `NetFs::new`.
pub fn starter(
    rt: &hurd_ipc::hosted::Runtime,
    server: &Task,
) -> Box<crate::transbox::ThreadStarter> {
    let s = crate::transbox::ThreadStarter::new(rt, server);
    for (name, p) in all() {
        s.register(name, p);
    }
    Box::new(s)
}
