//! tarfs: well-formed archives read right; hostile ones give `EFTYPE`,
//! never a panic (fixed cases and proptest).

mod common;

use common::World;
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, PortItem, PortName};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use hurd_trans::netfs::{NodeId, Tree};
use hurd_trans::protocol::{fs, io};
use hurd_trans::transbox::argv_to_argz;
use hurd_trans::translators::tarfs::Tarfs;
use hurd_trans::translators::tarfs::build::{Builder, header};
use proptest::prelude::*;

fn sample() -> Vec<u8> {
    Builder::default()
        .dir("dir/")
        .file("dir/a.txt", b"alpha")
        .file("./top", &vec![7u8; 1500])
        .symlink("dir/link", "a.txt")
        .hardlink("hard", "dir/a.txt")
        .file("/abs/b", b"beta")
        .finish()
}

fn walk(t: &mut Tarfs, path: &str) -> Result<NodeId, Errno> {
    let mut n = t.root();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        n = t.lookup(n, c)?;
    }
    Ok(n)
}

#[test]
fn reads_a_well_formed_archive() {
    let mut t = Tarfs::parse(sample()).expect("parse");
    let a = walk(&mut t, "dir/a.txt").expect("a");
    assert_eq!(t.read(a, 0, 100), Ok(b"alpha".to_vec()));
    assert_eq!(t.read(a, 2, 2), Ok(b"ph".to_vec()));
    assert_eq!(t.read(a, 99, 2), Ok(vec![]));
    assert_eq!(t.stat(a).expect("stat").mode & S_IFMT, S_IFREG);
    let top = walk(&mut t, "top").expect("top");
    assert_eq!(t.read(top, 0, 4096).expect("read").len(), 1500);
    let l = walk(&mut t, "dir/link").expect("link");
    assert_eq!(t.stat(l).expect("stat").mode & S_IFMT, S_IFLNK);
    assert_eq!(t.readlink(l), Ok("a.txt".into()));
    let h = walk(&mut t, "hard").expect("hard");
    assert_eq!(t.read(h, 0, 10), Ok(b"alpha".to_vec()));
    let b = walk(&mut t, "abs/b").expect("implied dir");
    assert_eq!(t.read(b, 0, 10), Ok(b"beta".to_vec()));
    assert_eq!(
        walk(&mut t, "abs").map(|n| t.stat(n).expect("s").mode & S_IFMT),
        Ok(S_IFDIR)
    );
    assert_eq!(walk(&mut t, "dir/.."), Ok(t.root()));
    let names: Vec<String> = t
        .readdir(t.root())
        .expect("readdir")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, [".", "..", "abs", "dir", "hard", "top"]);
    assert_eq!(t.write(a, 0, b"x"), Err(Errno::RoFs));
    assert_eq!(walk(&mut t, "dir/a.txt/x"), Err(Errno::NotDir));
}

#[test]
fn long_names_gnu_and_pax() {
    let long = format!("{}/file", "d".repeat(150));
    let mut gnu = Vec::new();
    gnu.extend_from_slice(&header("././@LongLink", b'L', long.len() as u64 + 1, ""));
    let mut data = long.clone().into_bytes();
    data.push(0);
    data.resize(512, 0);
    gnu.extend_from_slice(&data);
    gnu.extend_from_slice(&header("short", b'0', 2, ""));
    let mut d = b"hi".to_vec();
    d.resize(512, 0);
    gnu.extend_from_slice(&d);
    gnu.resize(gnu.len() + 1024, 0);
    let mut t = Tarfs::parse(gnu).expect("gnu");
    let n = walk(&mut t, &long).expect("long name");
    assert_eq!(t.read(n, 0, 9), Ok(b"hi".to_vec()));

    let rec = "path=pax/name\n";
    let line = format!("{} {rec}", rec.len() + 3);
    let mut pax = Vec::new();
    pax.extend_from_slice(&header("PaxHeader", b'x', line.len() as u64, ""));
    let mut d = line.into_bytes();
    d.resize(512, 0);
    pax.extend_from_slice(&d);
    pax.extend_from_slice(&Builder::default().file("ignored", b"p").finish());
    let mut t = Tarfs::parse(pax).expect("pax");
    assert!(walk(&mut t, "pax/name").is_ok());
    assert_eq!(walk(&mut t, "ignored"), Err(Errno::NoEnt));
}

#[test]
fn hostile_archives_are_eftype() {
    let ok = sample();
    let mut bad_sum = ok.clone();
    bad_sum[0] ^= 1;
    let truncated = ok[..512 + 100].to_vec();
    let mut huge = Builder::default().file("f", b"x").finish();
    huge[124] = 0x80; // base-256 size
    huge[125..136].fill(0xff);
    let fix = |mut h: [u8; 512]| {
        h[148..156].fill(b' ');
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        h
    };
    let with_header = |h: [u8; 512]| {
        let mut v = h.to_vec();
        v.resize(v.len() + 1024, 0);
        v
    };
    let mut not_octal = header("f", b'0', 0, "");
    not_octal[124..127].copy_from_slice(b"9zz");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bad checksum", bad_sum),
        ("truncated data", truncated),
        ("size beyond the archive", huge.clone()),
        (
            "dotdot",
            Builder::default().file("../etc/passwd", b"x").finish(),
        ),
        (
            "dotdot inside",
            Builder::default().file("a/../../x", b"x").finish(),
        ),
        (
            "file under a file",
            Builder::default()
                .file("a", b"1")
                .file("a/b", b"2")
                .finish(),
        ),
        (
            "hard link to nothing",
            Builder::default().hardlink("h", "missing").finish(),
        ),
        (
            "hard link to a dir",
            Builder::default().dir("d/").hardlink("h", "d").finish(),
        ),
        (
            "replacing a full dir",
            Builder::default()
                .file("d/x", b"1")
                .file("d", b"2")
                .finish(),
        ),
        (
            "empty symlink",
            Builder::default().symlink("s", "").finish(),
        ),
        (
            "file as the root",
            Builder::default().file("./", b"1").finish(),
        ),
        ("not octal", with_header(fix(not_octal))),
        ("half a header", ok[..300].to_vec()),
        ("dangling long name", {
            let mut v = header("././@LongLink", b'L', 4, "").to_vec();
            v.extend_from_slice(&[b'a', b'b', b'c', 0]);
            v.resize(1024, 0);
            v
        }),
    ];
    for (what, archive) in cases {
        assert!(matches!(Tarfs::parse(archive), Err(Errno::FType)), "{what}");
    }
    let mut bad_utf8 = header("f", b'0', 0, "");
    bad_utf8[0] = 0xff;
    assert_eq!(
        Tarfs::parse(with_header(fix(bad_utf8))).err(),
        Some(Errno::FType)
    );
    // A broken archive as a file system: every call says why.
    let t = Tarfs::parse_or_broken(vec![1, 2, 3]);
    assert_eq!(t.stat(t.root()), Err(Errno::FType));
    // Odd but fine: no end blocks at all, an empty archive.
    assert!(Tarfs::parse(Vec::new()).is_ok());
    let no_end = ok[..ok.len() - 1024].to_vec();
    assert!(Tarfs::parse(no_end).is_ok());
}

fn explore(t: &mut Tarfs) {
    let mut todo = vec![t.root()];
    let mut seen = 0;
    while let Some(d) = todo.pop() {
        seen += 1;
        if seen > 10_000 {
            break;
        }
        let Ok(entries) = t.readdir(d) else { continue };
        for e in entries.into_iter().skip(2) {
            let Ok(n) = t.lookup(d, &e.name) else {
                continue;
            };
            let _ = t.stat(n);
            let _ = t.read(n, 0, 1 << 16);
            let _ = t.read(n, u64::MAX, 10);
            let _ = t.readlink(n);
            if e.kind == S_IFDIR {
                todo.push(n);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        if let Ok(mut t) = Tarfs::parse(data) {
            explore(&mut t);
        }
    }

    #[test]
    fn mutated_archives_never_panic(
        edits in proptest::collection::vec((0usize..8192, any::<u8>()), 1..16),
        cut in 0usize..8192,
    ) {
        let mut a = sample();
        for (at, v) in edits {
            let n = a.len();
            a[at % n] = v;
        }
        if cut % 3 == 0 {
            let n = a.len();
            a.truncate(cut % n);
        }
        if let Ok(mut t) = Tarfs::parse(a) {
            explore(&mut t);
        }
    }
}

#[test]
fn tarfs_translator_end_to_end() {
    let w = World::new();
    let a = w.alice();
    let f = a
        .open("x.tar", OpenFlags::RDWR | OpenFlags::CREAT)
        .expect("create");
    io::Client::new(&a.task, f)
        .write(sample(), 0)
        .expect("write");
    let null = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    let node = a.open("x.tar", OpenFlags::NOTRANS).expect("node");
    fs::Client::new(&a.task, node)
        .file_set_translator(
            FS_TRANS_SET as i32,
            0,
            0,
            argv_to_argz(&["/hurd/tarfs"]),
            null,
        )
        .expect("settrans");
    let read = |p: &str| {
        let port = a.open(p, OpenFlags::READ)?;
        io::Client::new(&a.task, port).read(0, 100)
    };
    assert_eq!(read("x.tar/dir/a.txt"), Ok(b"alpha".to_vec()));
    assert_eq!(read("x.tar/dir/link"), Ok(b"alpha".to_vec()));
    assert_eq!(read("x.tar/hard"), Ok(b"alpha".to_vec()));
    assert_eq!(
        a.open("x.tar/new", OpenFlags::WRITE | OpenFlags::CREAT),
        Err(Error::from(Errno::Access))
    );
    // A corrupt archive: the lookup says EFTYPE.
    let g = a
        .open("bad.tar", OpenFlags::RDWR | OpenFlags::CREAT)
        .expect("create");
    io::Client::new(&a.task, g)
        .write(vec![0x55; 700], 0)
        .expect("write");
    let node = a.open("bad.tar", OpenFlags::NOTRANS).expect("node");
    fs::Client::new(&a.task, node)
        .file_set_translator(
            FS_TRANS_SET as i32,
            0,
            0,
            argv_to_argz(&["/hurd/tarfs"]),
            null,
        )
        .expect("settrans");
    assert_eq!(
        a.open("bad.tar/x", OpenFlags::READ),
        Err(Error::from(Errno::FType))
    );
}
