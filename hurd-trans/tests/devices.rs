//! The device translators as /dev holds them: `/hurd/random` on
//! `/dev/urandom` and `/dev/random`, `/hurd/null` on `/dev/null` and
//! `/dev/full`, `/hurd/zero` on `/dev/zero`, each a passive record started
//! on first lookup and served to every user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{User, World};
use hurd_ipc::{Disposition, Errno, Error, PortItem, PortName};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::mode::S_IFCHR;
use hurd_trans::protocol::{fs, io};
use hurd_trans::transbox::argv_to_argz;

/// Root makes `/dev/NAME` and records `argv` on it.
fn device(root: &User, name: &str, argv: &[&str]) {
    if root.open("dev", OpenFlags::READ).is_err() {
        fs::Client::new(&root.task, root.root)
            .dir_mkdir("dev".into(), 0o755)
            .expect("mkdir /dev");
    }
    let path = format!("dev/{name}");
    root.open(&path, OpenFlags::WRITE | OpenFlags::CREAT)
        .expect("create the node");
    let node = root.open(&path, OpenFlags::NOTRANS).expect("node");
    let none = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    fs::Client::new(&root.task, node)
        .file_set_translator(FS_TRANS_SET as i32, 0, 0, argv_to_argz(argv), none)
        .expect("settrans");
}

fn read(u: &User, path: &str, len: u64) -> Result<Vec<u8>, Error> {
    let f = u.open(path, OpenFlags::READ)?;
    io::Client::new(&u.task, f).read(-1, len)
}

#[test]
fn urandom_gives_every_user_fresh_bytes() {
    let w = World::new();
    let root = w.root();
    device(&root, "urandom", &["/hurd/random"]);
    device(&root, "random", &["/hurd/random"]);
    let alice = w.alice();
    let a = read(&alice, "dev/urandom", 64).unwrap();
    let b = read(&alice, "dev/urandom", 64).unwrap();
    let c = read(&w.bob(), "dev/random", 64).unwrap();
    assert_eq!((a.len(), b.len(), c.len()), (64, 64, 64));
    assert!(
        a != b && b != c && a != c,
        "three reads gave the same bytes"
    );
    // A big read is answered whole.
    assert_eq!(read(&alice, "dev/urandom", 1 << 20).unwrap().len(), 1 << 20);

    // A character device anyone may read and write; a write is taken
    // whole and mixed in (alice's bytes change nothing she can see).
    let f = alice
        .open("dev/urandom", OpenFlags::READ | OpenFlags::WRITE)
        .unwrap();
    let st = io::Client::new(&alice.task, f).stat().unwrap();
    assert_eq!(st.mode & 0o170_777, S_IFCHR | 0o666);
    assert_eq!(
        io::Client::new(&alice.task, f)
            .write(vec![0; 100], -1)
            .unwrap(),
        100
    );
    assert_ne!(
        io::Client::new(&alice.task, f).read(-1, 32).unwrap(),
        vec![0; 32]
    );
}

#[test]
fn random_with_an_argument_is_refused() {
    let w = World::new();
    let root = w.root();
    device(&root, "random", &["/hurd/random", "--seed", "1"]);
    assert_eq!(
        read(&w.alice(), "dev/random", 16),
        Err(Error::from(Errno::Inval))
    );
}

#[test]
fn null_full_and_zero() {
    let w = World::new();
    let root = w.root();
    device(&root, "null", &["/hurd/null"]);
    device(&root, "full", &["/hurd/null", "--full"]);
    device(&root, "zero", &["/hurd/zero"]);
    let alice = w.alice();
    assert_eq!(read(&alice, "dev/null", 16).unwrap(), b"");
    assert_eq!(read(&alice, "dev/zero", 16).unwrap(), vec![0; 16]);
    let full = alice.open("dev/full", OpenFlags::WRITE).unwrap();
    assert_eq!(
        io::Client::new(&alice.task, full).write(b"x".to_vec(), -1),
        Err(Error::from(Errno::NoSpc))
    );
    let null = alice.open("dev/null", OpenFlags::WRITE).unwrap();
    assert_eq!(
        io::Client::new(&alice.task, null).write(b"x".to_vec(), -1),
        Ok(1)
    );
}
