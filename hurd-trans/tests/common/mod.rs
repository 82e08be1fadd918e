//! A small world for the tests: an auth server, a tmpfs server with a
//! starter that knows the crate's translators, and users.
#![allow(dead_code)]

use hurd_auth::{AuthClient, IdSet, Limits};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Error, PortName};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::mapping::PagerMapper;
use hurd_trans::netfs::{self, NetFs, Options, Tree};
use hurd_trans::transbox::{Program, ThreadStarter};
use hurd_trans::translators::programs;
use hurd_trans::translators::tmpfs::Tmpfs;

pub struct World {
    pub rt: Runtime,
    /// The boot task: holds root's auth handle and the control port.
    pub boot: Task,
    pub root_auth: PortName,
    pub control: PortName,
    pub fs_task: Task,
    pub starter: ThreadStarter,
}

pub struct User {
    pub task: Task,
    pub auth: PortName,
    pub root: PortName,
    pub ids: IdSet,
}

impl User {
    pub fn lookup(&self) -> Lookup<'_, Task> {
        Lookup {
            ipc: &self.task,
            crdir: self.root,
            cwdir: self.root,
            auth: self.auth,
            fds: &[],
            ctty: PortName::NULL,
        }
    }

    pub fn open(&self, path: &str, flags: OpenFlags) -> Result<PortName, Error> {
        self.lookup().open(path, flags, 0o644)
    }
}

pub const ALICE: u32 = 1000;
pub const BOB: u32 = 1001;

impl World {
    /// A world whose file system is tmpfs with a root directory owned by
    /// root, mode 0o777.
    pub fn new() -> World {
        World::with_tree(Tmpfs::new(0, 0, 0o777, 64 << 20))
    }

    pub fn with_tree<T: Tree + Send + 'static>(tree: T) -> World {
        let rt = Runtime::new();
        let boot = rt.task();
        let fs_task = rt.task();
        let handles =
            hurd_auth::hosted::spawn(&rt, Limits::default(), &[&boot, &fs_task]).expect("auth up");
        let starter = ThreadStarter::new(&rt, &fs_task);
        for (name, p) in programs::all() {
            starter.register(name, p);
        }
        // The file system, with io_map served by hurd-pager.
        let mapper = PagerMapper::new(&fs_task).expect("pager server");
        let server = NetFs::new(
            fs_task.clone(),
            tree,
            handles[1],
            Some(Box::new(starter.clone())),
            Options::default(),
        )
        .expect("fs up")
        .with_mapper(Box::new(mapper));
        let control = fs_task
            .give_right(server.control(), Disposition::MakeSend, &boot)
            .expect("control");
        std::thread::spawn(move || server.serve());
        World {
            rt,
            boot,
            root_auth: handles[0],
            control,
            fs_task,
            starter,
        }
    }

    pub fn register(&self, name: &str, p: Program) {
        self.starter.register(name, p);
    }

    /// A user with `ids`: a task, an auth handle and a root port.
    pub fn user(&self, ids: IdSet) -> User {
        let task = self.rt.task();
        let h = AuthClient::new(&self.boot, self.root_auth)
            .makeauth(&[], &ids)
            .expect("makeauth");
        let auth = self
            .boot
            .give_right(h, Disposition::MoveSend, &task)
            .expect("give auth");
        let root =
            netfs::getroot(&self.boot, self.control, &ids, OpenFlags::READ).expect("getroot");
        let root = self
            .boot
            .give_right(root, Disposition::MoveSend, &task)
            .expect("give root");
        User {
            task,
            auth,
            root,
            ids,
        }
    }

    pub fn root(&self) -> User {
        self.user(IdSet::root())
    }

    pub fn alice(&self) -> User {
        self.user(IdSet::user(ALICE, &[100]))
    }

    pub fn bob(&self) -> User {
        self.user(IdSet::user(BOB, &[101]))
    }
}
