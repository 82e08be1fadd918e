//! Translator records: passive and active translators, starting once with
//! the owner's identity, fsys_getroot with the caller's ids, ".." out of a
//! translator's root, death and restart, fsys_goaway.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use common::{ALICE, World};
use hurd_auth::IdSet;
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, MigReturn, PortItem, PortName, UserIpc};
use hurd_trans::flags::{
    FS_TRANS_EXCL, FS_TRANS_SET, FSYS_GOAWAY_FORCE, FSYS_GOAWAY_UNLINK, OpenFlags,
};
use hurd_trans::mode::{S_IFMT, S_IFREG, S_IPTRANS};
use hurd_trans::netfs::{self, NetFs, Options};
use hurd_trans::protocol::{fs, fsys, io};
use hurd_trans::stat::Stat;
use hurd_trans::transbox::{Program, argv_to_argz};
use hurd_trans::translators::hello::{HELLO, Hello};
use hurd_trans::translators::programs;
use hurd_trans::trivfs::{Single, TrivFs};

fn e(err: Errno) -> Error {
    err.into()
}

const NULL_ITEM: PortItem = PortItem {
    disposition: Disposition::CopySend,
    name: PortName::NULL,
};

/// Makes `path` (a file, or a directory with `dir`) owned by `u` and sets
/// the passive translator `argv` on it.
fn settrans(u: &common::User, path: &str, dir: bool, argv: &[&str]) -> PortName {
    if dir {
        fs::Client::new(&u.task, u.root)
            .dir_mkdir(path.into(), 0o755)
            .expect("mkdir");
    } else {
        u.open(path, OpenFlags::WRITE | OpenFlags::CREAT)
            .expect("create");
    }
    let node = u.open(path, OpenFlags::NOTRANS).expect("node");
    fs::Client::new(&u.task, node)
        .file_set_translator(FS_TRANS_SET as i32, 0, 0, argv_to_argz(argv), NULL_ITEM)
        .expect("settrans");
    node
}

fn read_all(u: &common::User, path: &str) -> Result<Vec<u8>, Error> {
    let p = u.open(path, OpenFlags::READ)?;
    let r = io::Client::new(&u.task, p).read(0, 1 << 16);
    let _ = u.task.port_deallocate(p);
    r
}

/// A program counting its starts, waiting `delay` before starting `inner`.
fn counting(count: Arc<AtomicUsize>, delay: Duration, inner: Program) -> Program {
    Arc::new(move |task, argv, boot, auth| {
        count.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(delay);
        inner(task, argv, boot, auth);
    })
}

#[test]
fn passive_hello_starts_on_lookup_and_notrans_reaches_the_node() {
    let w = World::new();
    let a = w.alice();
    let node = settrans(&a, "hello", false, &["/hurd/hello"]);
    assert_eq!(read_all(&a, "hello"), Ok(HELLO.to_vec()));
    // The node itself: a regular empty file with a passive translator.
    let st = io::Client::new(&a.task, node).stat().expect("stat");
    assert_eq!(st.mode & S_IFMT, S_IFREG);
    assert_ne!(st.mode & S_IPTRANS, 0);
    assert_eq!(st.size, 0);
    assert_eq!(
        fs::Client::new(&a.task, node).file_get_translator(),
        Ok(b"/hurd/hello\0".to_vec())
    );
    // Others reach the translator too, with arguments.
    settrans(&a, "hi", false, &["/hurd/hello", "hi there"]);
    let b = w.bob();
    assert_eq!(read_all(&b, "hi"), Ok(b"hi there".to_vec()));
    // Through the translator the file is the translator's: read-only.
    assert_eq!(b.open("hello", OpenFlags::WRITE), Err(e(Errno::Access)));
    // null and zero.
    settrans(&a, "null", false, &["/hurd/null"]);
    settrans(&a, "zero", false, &["/hurd/zero"]);
    let n = a.open("null", OpenFlags::RDWR).expect("null");
    assert_eq!(io::Client::new(&a.task, n).write(vec![1; 100], -1), Ok(100));
    assert_eq!(io::Client::new(&a.task, n).read(-1, 10), Ok(vec![]));
    let z = a.open("zero", OpenFlags::READ).expect("zero");
    assert_eq!(io::Client::new(&a.task, z).read(-1, 5), Ok(vec![0; 5]));
    settrans(&a, "full", false, &["/hurd/null", "--full"]);
    let f = a.open("full", OpenFlags::WRITE).expect("full");
    assert_eq!(
        io::Client::new(&a.task, f).write(vec![1], -1),
        Err(e(Errno::NoSpc))
    );
}

#[test]
fn only_the_owner_sets_translators() {
    let w = World::new();
    let a = w.alice();
    a.open("mine", OpenFlags::WRITE | OpenFlags::CREAT)
        .expect("create");
    let b = w.bob();
    let node = b.open("mine", OpenFlags::NOTRANS).expect("open");
    let c = fs::Client::new(&b.task, node);
    assert_eq!(
        c.file_set_translator(
            FS_TRANS_SET as i32,
            0,
            0,
            argv_to_argz(&["/hurd/hello"]),
            NULL_ITEM
        ),
        Err(e(Errno::Perm))
    );
    // An active translator offered by a non-owner is refused, and the right
    // he sent is released, not kept.
    let mine = b
        .task
        .port_allocate(hurd_ipc::RightType::Receive)
        .expect("port");
    let r = c.file_set_translator(
        0,
        FS_TRANS_SET as i32,
        0,
        vec![],
        PortItem {
            disposition: Disposition::MakeSend,
            name: mine,
        },
    );
    assert_eq!(r, Err(e(Errno::Perm)));
    assert_eq!(
        c.file_get_translator_cntl().map(|_| ()),
        Err(e(Errno::Perm))
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while b.task.port_get_receive_status(mine).map(|s| s.srights) == Ok(true) {
        assert!(
            std::time::Instant::now() < deadline,
            "the server kept bob's right"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Nothing changed.
    assert_eq!(read_all(&a, "mine"), Ok(vec![]));
}

#[test]
fn a_passive_translator_starts_once_under_concurrent_lookups() {
    let w = World::new();
    let count = Arc::new(AtomicUsize::new(0));
    w.register(
        "/test/slow-hello",
        counting(
            count.clone(),
            Duration::from_millis(300),
            programs::hosted(programs::hello),
        ),
    );
    let a = w.alice();
    settrans(&a, "slow", false, &["/test/slow-hello"]);
    let users: Vec<common::User> = (0..8)
        .map(|i| w.user(IdSet::user(2000 + i, &[1])))
        .collect();
    let results: Vec<Result<Vec<u8>, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = users
            .iter()
            .map(|u| s.spawn(move || read_all(u, "slow")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for r in results {
        assert_eq!(r, Ok(HELLO.to_vec()));
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(read_all(&a, "slow"), Ok(HELLO.to_vec()));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn translators_run_as_the_node_owner() {
    let w = World::new();
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let hello = programs::hosted(programs::hello);
    w.register(
        "/test/whoami",
        Arc::new(move |task, argv, boot, auth| {
            let ids = hurd_auth::AuthClient::new(&task, auth).getids();
            if let Ok(tx) = tx.lock() {
                let _ = tx.send(ids);
            }
            hello(task, argv, boot, auth);
        }),
    );
    let a = w.alice();
    let node = settrans(&a, "who", false, &["/test/whoami"]);
    fs::Client::new(&a.task, node)
        .file_chown(u32::MAX, 100)
        .expect("chgrp");
    // Root looks it up: the translator still runs as alice.
    let r = w.root();
    assert_eq!(read_all(&r, "who"), Ok(HELLO.to_vec()));
    let ids = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("ids")
        .expect("getids");
    assert_eq!(ids.euids.as_slice(), &[ALICE]);
    assert_eq!(ids.egids.as_slice(), &[100]);
}

#[test]
fn getroot_carries_the_callers_ids_and_dotdot_reauthenticates() {
    let w = World::new();
    let a = w.alice();
    settrans(&a, "mnt", true, &["/hurd/tmpfs"]);
    // Alice owns the translator's root (0o755): she may create, bob may not.
    let f = a
        .open("mnt/a", OpenFlags::RDWR | OpenFlags::CREAT)
        .expect("create in tmpfs");
    io::Client::new(&a.task, f)
        .write(b"inside".to_vec(), 0)
        .expect("write");
    let b = w.bob();
    assert_eq!(
        b.open("mnt/b", OpenFlags::RDWR | OpenFlags::CREAT),
        Err(e(Errno::Access))
    );
    assert_eq!(read_all(&b, "mnt/a"), Ok(b"inside".to_vec()));
    // A file only alice may read, outside the translator.
    let s = a
        .open("secret", OpenFlags::RDWR | OpenFlags::CREAT)
        .expect("secret");
    io::Client::new(&a.task, s)
        .write(b"alice's".to_vec(), 0)
        .expect("write");
    fs::Client::new(&a.task, s)
        .file_chmod(0o600)
        .expect("chmod");
    // ".." from the translator's root is a REAUTH retry to the parent.
    let mnt = a.open("mnt", OpenFlags::READ).expect("mnt");
    let (kind, name, port) = fs::Client::new(&a.task, mnt)
        .dir_lookup("../secret".into(), OpenFlags::READ.bits() as i32, 0)
        .expect("lookup");
    assert_eq!((kind, name.as_bytes()), (2, &b"secret"[..]));
    // The port is unauthenticated: as is, it opens nothing private.
    assert_eq!(
        fs::Client::new(&a.task, port.name)
            .dir_lookup("secret".into(), OpenFlags::READ.bits() as i32, 0)
            .map(|_| ()),
        Err(e(Errno::Access))
    );
    // file_name_lookup reauthenticates: alice reads, bob does not.
    assert_eq!(read_all(&a, "mnt/../secret"), Ok(b"alice's".to_vec()));
    assert_eq!(read_all(&a, "mnt/../mnt/a"), Ok(b"inside".to_vec()));
    assert_eq!(read_all(&b, "mnt/../secret"), Err(e(Errno::Access)));
    // Absolute symlinks inside the translator lead to the client's root.
    let inner = a.open("mnt", OpenFlags::READ).expect("mnt");
    hurd_trans::lookup::symlink(&a.task, inner, "out", "/secret").expect("symlink");
    assert_eq!(read_all(&a, "mnt/out"), Ok(b"alice's".to_vec()));
}

#[test]
fn a_dead_translator_is_restarted_and_goaway_is_honoured() {
    let w = World::new();
    let count = Arc::new(AtomicUsize::new(0));
    w.register(
        "/test/hello",
        counting(
            count.clone(),
            Duration::ZERO,
            programs::hosted(programs::hello),
        ),
    );
    let a = w.alice();
    let node = settrans(&a, "h", false, &["/test/hello"]);
    let held = a.open("h", OpenFlags::READ).expect("open");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let cntl = fs::Client::new(&a.task, node)
        .file_get_translator_cntl()
        .expect("cntl");
    let c = fsys::Client::new(&a.task, cntl.name);
    // Busy while a port is open, unless forced.
    assert_eq!(c.goaway(0), Err(e(Errno::Busy)));
    assert_eq!(
        c.goaway(FSYS_GOAWAY_UNLINK as i32 | FSYS_GOAWAY_FORCE as i32),
        Ok(())
    );
    // The old port is dead now.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match io::Client::new(&a.task, held).read(0, 1) {
            Err(_) => break,
            Ok(_) if std::time::Instant::now() > deadline => panic!("translator still up"),
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    // The next lookup starts it again.
    assert_eq!(read_all(&a, "h"), Ok(HELLO.to_vec()));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn a_translator_dying_before_startup_is_edied() {
    let w = World::new();
    w.register("/test/dies", Arc::new(|_task, _argv, _boot, _auth| {}));
    let a = w.alice();
    settrans(&a, "d", false, &["/test/dies"]);
    assert_eq!(a.open("d", OpenFlags::READ), Err(e(Errno::Died)));
    // An unknown program.
    settrans(&a, "u", false, &["/no/such/program"]);
    assert_eq!(a.open("u", OpenFlags::READ), Err(e(Errno::NoEnt)));
    // The file system still serves.
    assert!(a.open("d", OpenFlags::NOTRANS).is_ok());
}

/// A file whose reads are a bug: the translator panics in the middle of
/// a request.
struct PanicsInRead;

impl TrivFs for PanicsInRead {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o444,
            ..Stat::default()
        }
    }

    fn read(&mut self, _offset: u64, _len: usize) -> Result<Vec<u8>, Errno> {
        panic!("a translator's bug, in io_read");
    }
}

fn panics_in_read(start: programs::Start<hurd_ipc::hosted::Task>) {
    let (uid, gid) = programs::own_ids(&start.ipc, start.auth);
    let file = Single::new(PanicsInRead, uid, gid);
    programs::run(
        start.ipc,
        file,
        start.auth,
        start.bootstrap,
        "panics-in-read",
    );
}

#[test]
fn a_translator_that_panics_ends_its_task_and_its_clients_are_told() {
    let w = World::new();
    // A panic before fsys_startup: the lookup fails as for a translator
    // that exits there, instead of waiting for it.
    w.register(
        "/test/panics",
        Arc::new(|_task, _argv, _boot, _auth| panic!("a translator's bug, at startup")),
    );
    w.register("/test/panics-in-read", programs::hosted(panics_in_read));
    let a = w.alice();
    settrans(&a, "p", false, &["/test/panics"]);
    assert_eq!(a.open("p", OpenFlags::READ), Err(e(Errno::Died)));
    // A panic in the middle of a request: the reply right dies with the
    // task, so the client's call returns.
    settrans(&a, "r", false, &["/test/panics-in-read"]);
    let file = a.open("r", OpenFlags::READ).expect("the translator starts");
    assert_eq!(
        io::Client::new(&a.task, file).read(0, 1),
        Err(Error::Mig(MigReturn::ServerDied))
    );
    // The file system still serves.
    assert!(a.open("p", OpenFlags::NOTRANS).is_ok());
}

/// A translator whose root cannot be given: trivfs answers
/// `fsys_getroot` with the file's status, and this one panics there.
struct PanicsInStat;

impl TrivFs for PanicsInStat {
    fn stat(&self) -> Stat {
        panic!("a translator's bug, in stat");
    }

    fn read(&mut self, _offset: u64, _len: usize) -> Result<Vec<u8>, Errno> {
        Ok(Vec::new())
    }
}

fn panics_in_stat(start: programs::Start<hurd_ipc::hosted::Task>) {
    programs::run(
        start.ipc,
        Single::new(PanicsInStat, 0, 0),
        start.auth,
        start.bootstrap,
        "panics-in-stat",
    );
}

#[test]
fn a_translator_that_dies_giving_its_root_is_started_again_once() {
    let w = World::new();
    let count = Arc::new(AtomicUsize::new(0));
    w.register(
        "/test/panics-in-stat",
        counting(
            count.clone(),
            Duration::ZERO,
            programs::hosted(panics_in_stat),
        ),
    );
    let a = w.alice();
    settrans(&a, "s", false, &["/test/panics-in-stat"]);
    // It dies answering the lookup, is started again (it might have died
    // since it was last used), dies again: the lookup fails.
    assert_eq!(a.open("s", OpenFlags::READ), Err(e(Errno::Died)));
    assert_eq!(count.load(Ordering::SeqCst), 2);
    // Each lookup gets the same bounded answer; the file system serves.
    assert_eq!(a.open("s", OpenFlags::READ), Err(e(Errno::Died)));
    assert_eq!(count.load(Ordering::SeqCst), 4);
    assert!(a.open("s", OpenFlags::NOTRANS).is_ok());
}

#[test]
fn active_translators_set_by_the_owner() {
    let w = World::new();
    let a = w.alice();
    a.open("act", OpenFlags::WRITE | OpenFlags::CREAT)
        .expect("create");
    let node = a.open("act", OpenFlags::NOTRANS).expect("node");
    // Alice runs a hello translator herself and attaches it.
    let t = w.rt.task();
    let fsrv = NetFs::new(
        t.clone(),
        Single::new(Hello::new(b"active!"), ALICE, 100),
        PortName::NULL,
        None,
        Options::default(),
    )
    .expect("server");
    let control = t
        .give_right(fsrv.control(), Disposition::MakeSend, &a.task)
        .expect("give");
    std::thread::spawn(move || fsrv.serve());
    let set = |flags: u32| {
        fs::Client::new(&a.task, node).file_set_translator(
            0,
            flags as i32,
            0,
            vec![],
            PortItem {
                disposition: Disposition::CopySend,
                name: control,
            },
        )
    };
    assert_eq!(set(FS_TRANS_SET), Ok(()));
    assert_eq!(read_all(&a, "act"), Ok(b"active!".to_vec()));
    assert_eq!(set(FS_TRANS_SET | FS_TRANS_EXCL), Err(e(Errno::Busy)));
    let st = io::Client::new(&a.task, node).stat().expect("stat");
    assert_ne!(st.mode & hurd_trans::mode::S_IATRANS, 0);
    let cntl = fs::Client::new(&a.task, node)
        .file_get_translator_cntl()
        .expect("cntl");
    assert!(cntl.name.is_valid());
}

#[test]
fn goaway_on_the_file_system() {
    let w = World::new();
    let a = w.alice();
    let c = fsys::Client::new(&w.boot, w.control);
    assert_eq!(c.goaway(0), Err(e(Errno::Busy)));
    assert_eq!(
        c.goaway(FSYS_GOAWAY_UNLINK as i32 | FSYS_GOAWAY_FORCE as i32),
        Err(e(Errno::Busy))
    );
    assert_eq!(c.goaway(FSYS_GOAWAY_FORCE as i32), Ok(()));
    // Everything is gone: lookups fail.
    assert!(a.open("x", OpenFlags::READ).is_err());
    assert!(netfs::getroot(&w.boot, w.control, &IdSet::root(), OpenFlags::READ).is_err());
}

#[test]
fn a_translator_dying_after_startup_is_restarted() {
    let w = World::new();
    let count = Arc::new(AtomicUsize::new(0));
    let hello = programs::hosted(programs::hello);
    let c = count.clone();
    w.register(
        "/test/flaky",
        Arc::new(move |task, argv, boot, auth| {
            if c.fetch_add(1, Ordering::SeqCst) == 0 {
                // Connect, then die without serving: the pending getroot fails.
                let fs = NetFs::new(
                    task.clone(),
                    Single::new(Hello::new(b"never"), ALICE, 100),
                    auth,
                    None,
                    Options::default(),
                )
                .expect("server");
                let _ = fs.startup(boot, OpenFlags::READ);
                std::thread::sleep(Duration::from_millis(50));
                return;
            }
            hello(task, argv, boot, auth);
        }),
    );
    let a = w.alice();
    settrans(&a, "flaky", false, &["/test/flaky"]);
    assert_eq!(read_all(&a, "flaky"), Ok(HELLO.to_vec()));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn tmpfs_with_a_bad_limit_fails_clearly() {
    let w = World::new();
    let a = w.alice();
    settrans(&a, "words", true, &["/hurd/tmpfs", "lots"]);
    settrans(&a, "two", true, &["/hurd/tmpfs", "8192", "more"]);
    settrans(&a, "small", true, &["/hurd/tmpfs", "8192"]);
    let create = OpenFlags::RDWR | OpenFlags::CREAT;
    // Refused, and refused again by the next start: not a 64 MiB file
    // system that ignored its command line.
    for _ in 0..2 {
        assert_eq!(a.open("words/f", create), Err(e(Errno::Inval)));
        assert_eq!(a.open("two/f", create), Err(e(Errno::Inval)));
    }
    // A number is the limit in bytes.
    let f = a.open("small/f", create).expect("create");
    let io = io::Client::new(&a.task, f);
    assert_eq!(io.write(vec![1; 8192], 0), Ok(8192));
    assert_eq!(io.write(vec![1], 8192), Err(e(Errno::NoSpc)));
}
