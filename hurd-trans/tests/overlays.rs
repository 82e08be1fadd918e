//! union and shadow, attached as active translators over tmpfs directories.

mod common;

use common::{User, World};
use hurd_auth::AuthClient;
use hurd_ipc::Errno;
use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Error, PortItem, PortName};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::mode::S_IFREG;
use hurd_trans::netfs::{self, Options, decode_entries};
use hurd_trans::protocol::{fs, io};
use hurd_trans::stat::Stat;
use hurd_trans::transbox::argv_to_argz;
use hurd_trans::translators::null::Zero;
use hurd_trans::translators::ports::Dir;
use hurd_trans::translators::shadow::Shadow;
use hurd_trans::translators::union::Union;
use hurd_trans::trivfs::{Single, TrivFs};

fn e(err: Errno) -> Error {
    err.into()
}

fn put(u: &User, path: &str, data: &[u8]) {
    let f = u
        .open(path, OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC)
        .expect("create");
    io::Client::new(&u.task, f)
        .write(data.to_vec(), 0)
        .expect("write");
}

fn get(u: &User, path: &str) -> Result<Vec<u8>, Error> {
    let f = u.open(path, OpenFlags::READ)?;
    io::Client::new(&u.task, f).read(0, 1000)
}

fn mkdir(u: &User, path: &str) {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let d = if dir.is_empty() {
        u.root
    } else {
        u.open(dir, OpenFlags::READ).expect("dir")
    };
    fs::Client::new(&u.task, d)
        .dir_mkdir(name.into(), 0o755)
        .expect("mkdir");
}

fn ls(u: &User, path: &str) -> Vec<String> {
    let d = u.open(path, OpenFlags::READ).expect("dir");
    let (data, _) = fs::Client::new(&u.task, d)
        .dir_readdir(0, -1, 0)
        .expect("readdir");
    decode_entries(&data)
        .expect("entries")
        .into_iter()
        .map(|e| e.name.to_string())
        .filter(|n| n != "." && n != "..")
        .collect()
}

/// A task for a translator run by `u`: `u`'s auth handle and `u`'s
/// directories `dirs`, as ports in the new task.
fn translator_task(w: &World, u: &User, dirs: &[&str]) -> (Task, PortName, Vec<Dir>) {
    let t = w.rt.task();
    let h = AuthClient::new(&w.boot, w.root_auth)
        .makeauth(&[], &u.ids)
        .expect("auth");
    let auth = w
        .boot
        .give_right(h, Disposition::MoveSend, &t)
        .expect("give");
    let dirs = dirs
        .iter()
        .map(|p| {
            let d = u.open(p, OpenFlags::READ).expect("dir");
            let port = u
                .task
                .give_right(d, Disposition::MoveSend, &t)
                .expect("give");
            Dir { port, auth }
        })
        .collect();
    (t, auth, dirs)
}

fn attach(u: &User, path: &str, control: PortName) {
    mkdir(u, path);
    let node = u.open(path, OpenFlags::NOTRANS).expect("node");
    let item = PortItem {
        disposition: Disposition::MoveSend,
        name: control,
    };
    fs::Client::new(&u.task, node)
        .file_set_translator(0, FS_TRANS_SET as i32, 0, vec![], item)
        .expect("settrans");
}

#[test]
fn union_first_layer_wins() {
    let w = World::new();
    let a = w.alice();
    for d in ["l1", "l2", "l2/x", "l2/sub"] {
        mkdir(&a, d);
    }
    put(&a, "l1/a", b"1");
    put(&a, "l1/both", b"first");
    put(&a, "l1/x", b"file in l1");
    put(&a, "l2/both", b"second");
    put(&a, "l2/b", b"2");
    put(&a, "l2/x/y", b"hidden");
    put(&a, "l2/sub/c", b"deep");
    let (t, auth, layers) = translator_task(&w, &a, &["l1", "l2"]);
    let union = Union::new(t.clone(), layers);
    let (_, control) =
        netfs::spawn(t, union, auth, None, Options::default(), &a.task).expect("union");
    attach(&a, "u", control);
    assert_eq!(get(&a, "u/a"), Ok(b"1".to_vec()));
    assert_eq!(get(&a, "u/b"), Ok(b"2".to_vec()));
    assert_eq!(get(&a, "u/both"), Ok(b"first".to_vec()));
    assert_eq!(get(&a, "u/x"), Ok(b"file in l1".to_vec()));
    assert_eq!(get(&a, "u/x/y"), Err(e(Errno::NotDir)));
    assert_eq!(get(&a, "u/sub/c"), Ok(b"deep".to_vec()));
    assert_eq!(get(&a, "u/sub/../a"), Ok(b"1".to_vec()));
    assert_eq!(ls(&a, "u"), ["a", "b", "both", "sub", "x"]);
    assert_eq!(get(&a, "u/none"), Err(e(Errno::NoEnt)));
    // Read-only.
    let f = a.open("u/a", OpenFlags::WRITE).expect("open");
    assert_eq!(
        io::Client::new(&a.task, f).write(b"x".to_vec(), 0),
        Err(e(Errno::RoFs))
    );
    assert_eq!(
        a.open("u/new", OpenFlags::WRITE | OpenFlags::CREAT),
        Err(e(Errno::RoFs))
    );
}

#[test]
fn shadow_reads_lower_and_writes_upper() {
    let w = World::new();
    let a = w.alice();
    for d in ["lo", "lo/d", "up"] {
        mkdir(&a, d);
    }
    put(&a, "lo/f", b"orig");
    put(&a, "lo/d/g", b"gee");
    let (t, auth, dirs) = translator_task(&w, &a, &["lo", "up"]);
    let shadow = Shadow::new(t.clone(), dirs[0], dirs[1]);
    let (_, control) =
        netfs::spawn(t, shadow, auth, None, Options::default(), &a.task).expect("shadow");
    attach(&a, "s", control);
    assert_eq!(get(&a, "s/f"), Ok(b"orig".to_vec()));
    // A write copies up; lower is untouched.
    let f = a.open("s/f", OpenFlags::WRITE).expect("open");
    assert_eq!(io::Client::new(&a.task, f).write(b"CH".to_vec(), 0), Ok(2));
    assert_eq!(get(&a, "s/f"), Ok(b"CHig".to_vec()));
    assert_eq!(get(&a, "lo/f"), Ok(b"orig".to_vec()));
    assert_eq!(get(&a, "up/f"), Ok(b"CHig".to_vec()));
    // New files go to upper, in the directories above them.
    put(&a, "s/d/new", b"n");
    assert_eq!(get(&a, "up/d/new"), Ok(b"n".to_vec()));
    assert_eq!(get(&a, "lo/d/new"), Err(e(Errno::NoEnt)));
    assert_eq!(ls(&a, "s/d"), ["g", "new"]);
    // Removing a lower file leaves a whiteout.
    let d = a.open("s/d", OpenFlags::READ).expect("d");
    assert_eq!(fs::Client::new(&a.task, d).dir_unlink("g".into()), Ok(()));
    assert_eq!(get(&a, "s/d/g"), Err(e(Errno::NoEnt)));
    assert_eq!(get(&a, "lo/d/g"), Ok(b"gee".to_vec()));
    assert!(a.open("up/d/.wh.g", OpenFlags::empty()).is_ok());
    assert_eq!(ls(&a, "s/d"), ["new"]);
    // Made again, it comes back from upper.
    put(&a, "s/d/g", b"again");
    assert_eq!(get(&a, "s/d/g"), Ok(b"again".to_vec()));
    assert_eq!(ls(&a, "s/d"), ["g", "new"]);
    // Whiteout names are reserved; renames are EXDEV; rmdir needs empty.
    assert_eq!(
        a.open("s/.wh.x", OpenFlags::WRITE | OpenFlags::CREAT),
        Err(e(Errno::Inval))
    );
    let s = a.open("s", OpenFlags::READ).expect("s");
    assert_eq!(
        fs::Client::new(&a.task, s).dir_mkdir(".wh.y".into(), 0o755),
        Err(e(Errno::Inval))
    );
    let item = PortItem {
        disposition: Disposition::CopySend,
        name: s,
    };
    assert_eq!(
        fs::Client::new(&a.task, s).dir_rename("f".into(), item, "f2".into(), 0),
        Err(e(Errno::XDev))
    );
    assert_eq!(
        fs::Client::new(&a.task, s).dir_rmdir("d".into()),
        Err(e(Errno::NotEmpty))
    );
}

/// Starts a `/dev/zero` (its reads never end) on `path`.
fn zero_at(w: &World, u: &User, path: &str) {
    let (t, auth, _) = translator_task(w, u, &[]);
    let zero = Single::new(Zero, 0, 0);
    let (_, control) =
        netfs::spawn(t, zero, auth, None, Options::default(), &u.task).expect("zero");
    attach(u, path, control);
}

#[test]
fn a_lower_file_whose_reads_never_end_is_copied_as_its_size_says() {
    let w = World::new();
    let a = w.alice();
    for d in ["lo", "up"] {
        mkdir(&a, d);
    }
    zero_at(&w, &a, "lo/zero");
    let (t, auth, dirs) = translator_task(&w, &a, &["lo", "up"]);
    // Read whole, it is too big (READ_ALL_MAX), not all the memory there is.
    assert_eq!(dirs[0].read_all(&t, b"zero"), Err(Errno::FBig));
    let shadow = Shadow::new(t.clone(), dirs[0], dirs[1]);
    let (_, control) =
        netfs::spawn(t, shadow, auth, None, Options::default(), &a.task).expect("shadow");
    attach(&a, "s", control);
    // A write copies it up: the size it states (none), not its endless reads.
    let f = a.open("s/zero", OpenFlags::WRITE).expect("open");
    assert_eq!(io::Client::new(&a.task, f).write(b"x".to_vec(), 0), Ok(1));
    assert_eq!(get(&a, "up/zero"), Ok(b"x".to_vec()));
}

/// A file whose server answers every read with more than was asked.
struct Bogus;

impl TrivFs for Bogus {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o444,
            size: 4,
            ..Stat::default()
        }
    }
    fn read(&mut self, _offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        Ok(vec![b'b'; len + 1])
    }
}

#[test]
fn answers_longer_than_the_question_are_egratuitous() {
    let w = World::new();
    let a = w.alice();
    mkdir(&a, "lo");
    let (t, auth, _) = translator_task(&w, &a, &[]);
    let (_, control) = netfs::spawn(
        t,
        Single::new(Bogus, 0, 0),
        auth,
        None,
        Options::default(),
        &a.task,
    )
    .expect("bogus");
    attach(&a, "lo/bogus", control);
    let (t, _, dirs) = translator_task(&w, &a, &["lo"]);
    assert_eq!(dirs[0].read(&t, b"bogus", 0, 4), Err(Errno::Gratuitous));
    assert_eq!(dirs[0].read_all(&t, b"bogus"), Err(Errno::Gratuitous));
}

/// Makes the directory `path`, owned by `u`, and sets the passive
/// translator `argv` on it.
fn settrans(u: &User, path: &str, argv: &[&str]) {
    mkdir(u, path);
    let node = u.open(path, OpenFlags::NOTRANS).expect("node");
    let none = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    fs::Client::new(&u.task, node)
        .file_set_translator(FS_TRANS_SET as i32, 0, 0, argv_to_argz(argv), none)
        .expect("settrans");
}

fn chmod(u: &User, path: &str, mode: u32) {
    let node = u.open(path, OpenFlags::NOTRANS).expect("node");
    fs::Client::new(&u.task, node)
        .file_chmod(mode)
        .expect("chmod");
}

#[test]
fn passive_union_and_shadow_start_on_lookup() {
    let w = World::new();
    let a = w.alice();
    for d in ["l1", "l2", "lo", "up"] {
        mkdir(&a, d);
    }
    put(&a, "l1/a", b"1");
    put(&a, "l1/both", b"first");
    put(&a, "l2/both", b"second");
    put(&a, "l2/b", b"2");
    put(&a, "lo/f", b"orig");
    // Absolute and relative names: both resolve from the root.
    settrans(&a, "u", &["/hurd/union", "/l1", "l2"]);
    assert_eq!(get(&a, "u/a"), Ok(b"1".to_vec()));
    assert_eq!(get(&a, "u/b"), Ok(b"2".to_vec()));
    assert_eq!(get(&a, "u/both"), Ok(b"first".to_vec()));
    assert_eq!(ls(&a, "u"), ["a", "b", "both"]);
    assert_eq!(get(&w.bob(), "u/b"), Ok(b"2".to_vec()));
    settrans(&a, "s", &["/hurd/shadow", "/lo", "/up"]);
    assert_eq!(get(&a, "s/f"), Ok(b"orig".to_vec()));
    put(&a, "s/f", b"new");
    assert_eq!(get(&a, "s/f"), Ok(b"new".to_vec()));
    assert_eq!(get(&a, "up/f"), Ok(b"new".to_vec()));
    assert_eq!(get(&a, "lo/f"), Ok(b"orig".to_vec()));
}

#[test]
fn passive_overlays_resolve_their_arguments_as_the_owner() {
    let w = World::new();
    let a = w.alice();
    let b = w.bob();
    // Bob's private directory, and one alice may read but not write.
    mkdir(&b, "bobs");
    put(&b, "bobs/x", b"secret");
    chmod(&b, "bobs", 0o700);
    mkdir(&b, "bobup");
    mkdir(&a, "lo");
    put(&a, "lo/f", b"orig");
    settrans(&a, "u", &["/hurd/union", "/bobs"]);
    // The translator runs as alice: neither bob (who could read the layer)
    // nor root get more than alice's rights, nor the file server's.
    assert_eq!(get(&a, "u/x"), Err(e(Errno::Access)));
    assert_eq!(get(&b, "u/x"), Err(e(Errno::Access)));
    assert_eq!(get(&w.root(), "u/x"), Err(e(Errno::Access)));
    assert_eq!(get(&b, "bobs/x"), Ok(b"secret".to_vec()));
    // Alice's shadow over bob's upper can read but not change anything.
    settrans(&a, "s", &["/hurd/shadow", "/lo", "/bobup"]);
    assert_eq!(get(&a, "s/f"), Ok(b"orig".to_vec()));
    let f = a.open("s/f", OpenFlags::WRITE).expect("open");
    assert_eq!(
        io::Client::new(&a.task, f).write(b"x".to_vec(), 0),
        Err(e(Errno::Access))
    );
    assert_eq!(get(&a, "lo/f"), Ok(b"orig".to_vec()));
    assert_eq!(get(&b, "bobup/f"), Err(e(Errno::NoEnt)));
}

#[test]
fn passive_overlays_with_bad_arguments_fail_clearly() {
    let w = World::new();
    let a = w.alice();
    mkdir(&a, "lo");
    put(&a, "lo/f", b"orig");
    put(&a, "file", b"not a directory");
    settrans(&a, "u0", &["/hurd/union"]);
    settrans(&a, "u1", &["/hurd/union", "/lo", "/missing"]);
    settrans(&a, "u2", &["/hurd/union", "/file"]);
    settrans(&a, "s0", &["/hurd/shadow", "/lo"]);
    settrans(&a, "s1", &["/hurd/shadow", "/lo", "/up", "/more"]);
    settrans(&a, "s2", &["/hurd/shadow", "/lo", "/missing"]);
    for _ in 0..2 {
        assert_eq!(get(&a, "u0/f"), Err(e(Errno::Inval)));
        assert_eq!(get(&a, "u1/f"), Err(e(Errno::NoEnt)));
        assert_eq!(get(&a, "u2/f"), Err(e(Errno::NotDir)));
        assert_eq!(get(&a, "s0/f"), Err(e(Errno::Inval)));
        assert_eq!(get(&a, "s1/f"), Err(e(Errno::Inval)));
        assert_eq!(get(&a, "s2/f"), Err(e(Errno::NoEnt)));
    }
    // The file system goes on serving, and once the missing directory
    // exists the next lookup starts the translator for good.
    assert_eq!(get(&a, "lo/f"), Ok(b"orig".to_vec()));
    mkdir(&a, "missing");
    put(&a, "missing/m", b"m");
    assert_eq!(get(&a, "u1/m"), Ok(b"m".to_vec()));
    assert_eq!(get(&a, "u1/f"), Ok(b"orig".to_vec()));
    put(&a, "s2/f", b"changed");
    assert_eq!(get(&a, "missing/f"), Ok(b"changed".to_vec()));
}
