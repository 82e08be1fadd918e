//! The file-system-wide calls a tree may answer: `file_statfs`,
//! `file_sync`/`file_syncfs`/`fsys_syncfs`, `fsys_get_options` and
//! `fsys_set_options`, and `fsys_goaway`.

mod common;

use std::sync::{Arc, Mutex};

use common::World;
use hurd_ipc::Errno;
use hurd_ipc::{Error, UserIpc};
use hurd_trans::flags::{FSYS_GOAWAY_FORCE, OpenFlags};
use hurd_trans::netfs::{DirEntry, NodeId, Tree};
use hurd_trans::protocol::{fs, fsys};
use hurd_trans::stat::Stat;
use hurd_trans::statfs::Statfs;
use hurd_trans::transbox::{argv_to_argz, argz_to_argv};
use hurd_trans::translators::tmpfs::Tmpfs;

/// What the tree was asked, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// Tmpfs with the file-system-wide calls answered and recorded.
struct Recording {
    fs: Tmpfs,
    log: Log,
    sync_mode: String,
}

impl Tree for Recording {
    fn root(&self) -> NodeId {
        self.fs.root()
    }
    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        self.fs.stat(node)
    }
    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        self.fs.lookup(dir, name)
    }
    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        self.fs.read(node, offset, len)
    }
    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        self.fs.readdir(dir)
    }
    fn create(
        &mut self,
        dir: NodeId,
        name: Option<&[u8]>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<NodeId, Errno> {
        self.fs.create(dir, name, mode, uid, gid)
    }
    fn statfs(&mut self) -> Result<Statfs, Errno> {
        Ok(Statfs {
            bsize: 1024,
            blocks: 100,
            bfree: 60,
            bavail: 50,
            fsid: 999,
            ..Statfs::default()
        })
    }
    fn sync(&mut self, node: Option<NodeId>, wait: bool) -> Result<(), Errno> {
        self.log
            .lock()
            .expect("log")
            .push(format!("sync {node:?} {wait}"));
        Ok(())
    }
    fn options(&self) -> Vec<String> {
        vec![self.sync_mode.clone()]
    }
    fn set_options(&mut self, argv: &[&str]) -> Result<(), Errno> {
        match argv {
            ["--sync"] | ["--no-sync"] => {
                argv[0].clone_into(&mut self.sync_mode);
                Ok(())
            }
            _ => Err(Errno::Inval),
        }
    }
    fn goaway(&mut self) -> Result<(), Errno> {
        self.log.lock().expect("log").push("goaway".into());
        Ok(())
    }
}

#[test]
fn statfs_sync_options_and_goaway_reach_the_tree() {
    let log = Log::default();
    let w = World::with_tree(Recording {
        fs: Tmpfs::new(0, 0, 0o777, 1 << 20),
        log: log.clone(),
        sync_mode: "--sync=30".into(),
    });
    let a = w.alice();
    let s = fs::Client::new(&a.task, a.root)
        .file_statfs()
        .expect("statfs");
    assert_eq!((s.bsize, s.blocks, s.bfree, s.bavail), (1024, 100, 60, 50));
    assert_ne!(s.fsid, 999, "the server sets the fsid");

    let f = a
        .open("f", OpenFlags::RDWR | OpenFlags::CREAT)
        .expect("create");
    fs::Client::new(&a.task, f)
        .file_sync(1, 0)
        .expect("file_sync");
    fs::Client::new(&a.task, a.root)
        .file_syncfs(0, 0)
        .expect("file_syncfs");
    let ctl = fsys::Client::new(&w.boot, w.control);
    ctl.syncfs(1, 0).expect("fsys_syncfs");

    let opts = |ctl: &fsys::Client<'_, _>| {
        argz_to_argv(&ctl.get_options().expect("get_options")).expect("argz")
    };
    assert_eq!(opts(&ctl), ["hurd-trans", "--sync=30"]);
    ctl.set_options(argv_to_argz(&["--sync"]), 0)
        .expect("set_options");
    assert_eq!(opts(&ctl), ["hurd-trans", "--sync"]);
    // As fsysopts may send them: the server's name first.
    ctl.set_options(argv_to_argz(&["ext2fs", "--no-sync"]), 0)
        .expect("set_options");
    assert_eq!(opts(&ctl), ["hurd-trans", "--no-sync"]);
    assert_eq!(
        ctl.set_options(argv_to_argz(&["--bogus"]), 0),
        Err(Error::from(Errno::Inval))
    );
    assert_eq!(
        argz_to_argv(
            &fs::Client::new(&a.task, a.root)
                .file_get_fs_options()
                .expect("file_get_fs_options")
        )
        .expect("argz"),
        ["hurd-trans", "--no-sync"]
    );
    // Only the control port takes fsys calls.
    assert!(fsys::Client::new(&a.task, a.root).syncfs(1, 0).is_err());

    let _ = a.task.port_deallocate(f);
    ctl.goaway(FSYS_GOAWAY_FORCE as i32).expect("goaway");
    assert_eq!(
        *log.lock().expect("log"),
        [
            format!("sync Some({}) true", 2),
            "sync None false".to_string(),
            "sync None true".to_string(),
            "goaway".to_string(),
        ]
    );
}
