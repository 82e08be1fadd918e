//! A node outlives its last name while ports to it are open, as on the Hurd:
//! I/O and stat go on through them (link count 0), its data keeps counting
//! against tmpfs's size limit, and it is freed with the last port.

mod common;

use std::time::{Duration, Instant};

use common::World;
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, PortItem, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{Tree, decode_entries};
use hurd_trans::protocol::{fs, io};
use hurd_trans::translators::tmpfs::Tmpfs;

fn e(err: Errno) -> Error {
    err.into()
}

const RW: OpenFlags = OpenFlags::RDWR;
const CREAT: OpenFlags = OpenFlags::CREAT;

/// Retries `f` (the server sees released ports asynchronously) until it
/// holds, for at most a minute.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn unlinked_file_lives_until_its_last_port_is_released() {
    let w = World::with_tree(Tmpfs::new(0, 0, 0o777, 4096));
    let a = w.alice();
    let root = fs::Client::new(&a.task, a.root);
    let f = a.open("f", RW | CREAT).expect("create");
    let second = a.open("f", OpenFlags::READ).expect("open again");
    let fio = io::Client::new(&a.task, f);
    assert_eq!(fio.write(vec![7; 3000], 0), Ok(3000));
    assert_eq!(root.dir_unlink("f".into()), Ok(()));
    assert_eq!(a.open("f", OpenFlags::READ), Err(e(Errno::NoEnt)));
    // Reads, writes and stat go on through the open ports.
    assert_eq!(fio.read(2990, 100), Ok(vec![7; 10]));
    assert_eq!(fio.write(b"tail".to_vec(), 3000), Ok(4));
    let st = fio.stat().expect("stat");
    assert_eq!((st.nlink, st.size), (0, 3004));
    assert_eq!(
        io::Client::new(&a.task, second).read(3000, 10),
        Ok(b"tail".to_vec())
    );
    // Its bytes still count against the limit.
    let g = a.open("g", RW | CREAT).expect("create g");
    let gio = io::Client::new(&a.task, g);
    assert_eq!(gio.write(vec![1; 2000], 0), Err(e(Errno::NoSpc)));
    // One port gone: the other still reads, and the space is still held.
    let _ = a.task.port_deallocate(f);
    assert_eq!(io::Client::new(&a.task, second).read(0, 2), Ok(vec![7, 7]));
    assert_eq!(gio.write(vec![1; 2000], 0), Err(e(Errno::NoSpc)));
    // The last port gone: the file is freed and its space reclaimed.
    let _ = a.task.port_deallocate(second);
    eventually("the space is reclaimed", || {
        gio.write(vec![1; 2000], 0) == Ok(2000)
    });
    assert_eq!(gio.stat().expect("stat").size, 2000);
}

#[test]
fn anonymous_file_is_freed_with_its_port() {
    let w = World::with_tree(Tmpfs::new(0, 0, 0o777, 4096));
    let a = w.alice();
    let root = fs::Client::new(&a.task, a.root);
    let f = root
        .dir_mkfile(OpenFlags::RDWR.bits() as i32, 0o600)
        .expect("mkfile");
    let fio = io::Client::new(&a.task, f.name);
    assert_eq!(fio.write(vec![3; 3000], 0), Ok(3000));
    assert_eq!(fio.stat().expect("stat").nlink, 0);
    let g = a.open("g", RW | CREAT).expect("create g");
    let gio = io::Client::new(&a.task, g);
    assert_eq!(gio.write(vec![1; 2000], 0), Err(e(Errno::NoSpc)));
    let _ = a.task.port_deallocate(f.name);
    eventually("the space is reclaimed", || {
        gio.write(vec![1; 2000], 0) == Ok(2000)
    });
}

#[test]
fn rename_over_an_open_file_keeps_it_readable() {
    let w = World::new();
    let a = w.alice();
    let root = fs::Client::new(&a.task, a.root);
    let old = a.open("a", RW | CREAT).expect("create a");
    assert_eq!(
        io::Client::new(&a.task, old).write(b"old".to_vec(), 0),
        Ok(3)
    );
    let new = a.open("b", RW | CREAT).expect("create b");
    assert_eq!(
        io::Client::new(&a.task, new).write(b"new".to_vec(), 0),
        Ok(3)
    );
    let dir = PortItem {
        disposition: Disposition::CopySend,
        name: a.root,
    };
    assert_eq!(root.dir_rename("b".into(), dir, "a".into(), 0), Ok(()));
    let oio = io::Client::new(&a.task, old);
    assert_eq!(oio.read(0, 10), Ok(b"old".to_vec()));
    assert_eq!(oio.stat().expect("stat").nlink, 0);
    assert_eq!(oio.write(b"!".to_vec(), 3), Ok(1));
    assert_eq!(oio.read(0, 10), Ok(b"old!".to_vec()));
    let named = a.open("a", OpenFlags::READ).expect("open a");
    assert_eq!(
        io::Client::new(&a.task, named).read(0, 10),
        Ok(b"new".to_vec())
    );
    assert_eq!(a.open("b", OpenFlags::READ), Err(e(Errno::NoEnt)));
}

#[test]
fn removed_directory_reads_empty_and_takes_no_entries() {
    let w = World::new();
    let a = w.alice();
    let root = fs::Client::new(&a.task, a.root);
    assert_eq!(root.dir_mkdir("d".into(), 0o755), Ok(()));
    let d = a.open("d/", OpenFlags::READ).expect("open d");
    assert_eq!(root.dir_rmdir("d".into()), Ok(()));
    assert_eq!(a.open("d", OpenFlags::READ), Err(e(Errno::NoEnt)));
    let dc = fs::Client::new(&a.task, d);
    let (data, n) = dc.dir_readdir(0, -1, 0).expect("readdir");
    assert_eq!(n, 0);
    assert!(decode_entries(&data).expect("entries").is_empty());
    assert_eq!(io::Client::new(&a.task, d).stat().expect("stat").nlink, 0);
    // No new entries: files, directories, links or renames into it.
    let inside = Lookup {
        cwdir: d,
        ..a.lookup()
    };
    assert_eq!(inside.open("x", RW | CREAT, 0o644), Err(e(Errno::NoEnt)));
    assert_eq!(dc.dir_mkdir("x".into(), 0o755), Err(e(Errno::NoEnt)));
    let f = a.open("f", RW | CREAT).expect("create f");
    let item = |name| PortItem {
        disposition: Disposition::CopySend,
        name,
    };
    assert_eq!(dc.dir_link(item(f), "x".into(), 0), Err(e(Errno::NoEnt)));
    assert_eq!(
        root.dir_rename("f".into(), item(d), "x".into(), 0),
        Err(e(Errno::NoEnt))
    );
    assert!(a.open("f", OpenFlags::READ).is_ok());
    let (_, n) = dc.dir_readdir(0, -1, 0).expect("readdir");
    assert_eq!(n, 0);
    // A new directory of the same name is a different one.
    assert_eq!(root.dir_mkdir("d".into(), 0o755), Ok(()));
    let again = a.open("d/", OpenFlags::READ).expect("open new d");
    let (_, n) = fs::Client::new(&a.task, again)
        .dir_readdir(0, -1, 0)
        .expect("readdir");
    assert_eq!(n, 2);
}

#[test]
fn tmpfs_frees_on_the_later_of_last_name_and_last_release() {
    let mut t = Tmpfs::new(0, 0, 0o777, 1 << 20);
    let root = t.root();
    let f = t
        .create(root, Some("f".as_bytes()), 0o100644, 0, 0)
        .expect("create");
    assert_eq!(t.write(f, 0, &[5; 100]), Ok(100));
    t.node_opened(f);
    assert_eq!(t.unlink(root, b"f"), Ok(()));
    assert_eq!(t.stat(f).expect("stat").nlink, 0);
    assert_eq!(t.read(f, 98, 10), Ok(vec![5, 5]));
    // Data is held in whole pages.
    assert_eq!(t.used(), 4096);
    t.node_released(f);
    assert_eq!(t.stat(f), Err(Errno::NoEnt));
    assert_eq!(t.used(), 0);
    // Released first, unlinked later: freed at the unlink.
    let g = t
        .create(root, Some("g".as_bytes()), 0o100644, 0, 0)
        .expect("create");
    assert_eq!(t.write(g, 0, &[1; 10]), Ok(10));
    t.node_opened(g);
    t.node_released(g);
    assert_eq!(t.read(g, 0, 10), Ok(vec![1; 10]));
    assert_eq!(t.unlink(root, b"g"), Ok(()));
    assert_eq!(t.stat(g), Err(Errno::NoEnt));
    assert_eq!(t.used(), 0);
    // An open node re-linked before release lives on with its new name.
    let h = t
        .create(root, Some("h".as_bytes()), 0o100644, 0, 0)
        .expect("create");
    t.node_opened(h);
    assert_eq!(t.unlink(root, b"h"), Ok(()));
    assert_eq!(t.link(root, b"h2", h, true), Ok(()));
    t.node_released(h);
    assert_eq!(t.lookup(root, b"h2"), Ok(h));
    assert_eq!(t.stat(h).expect("stat").nlink, 1);
}
