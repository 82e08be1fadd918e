//! tarfs: well-formed archives read right; hostile ones give `EFTYPE` and
//! a reason naming the entry, never a panic (fixed cases and proptest);
//! data read on demand from the source.

mod common;

use common::World;
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, PortItem, PortName};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use hurd_trans::netfs::{NodeId, Tree};
use hurd_trans::protocol::{fs, io};
use hurd_trans::tar::{Reason, Source, TarError};
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

fn parse(a: Vec<u8>) -> Result<Tarfs<Vec<u8>>, TarError> {
    Tarfs::open(a, 0, 0)
}

fn walk<S: Source>(t: &mut Tarfs<S>, path: impl AsRef<[u8]>) -> Result<NodeId, Errno> {
    let mut n = t.root();
    for c in path
        .as_ref()
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
    {
        n = t.lookup(n, c)?;
    }
    Ok(n)
}

#[test]
fn reads_a_well_formed_archive() {
    let mut t = parse(sample()).expect("parse");
    let a = walk(&mut t, "dir/a.txt").expect("a");
    assert_eq!(t.read(a, 0, 100), Ok(b"alpha".to_vec()));
    assert_eq!(t.read(a, 2, 2), Ok(b"ph".to_vec()));
    assert_eq!(t.read(a, 99, 2), Ok(vec![]));
    assert_eq!(t.stat(a).expect("stat").mode & S_IFMT, S_IFREG);
    let top = walk(&mut t, "top").expect("top");
    assert_eq!(t.read(top, 0, 4096).expect("read").len(), 1500);
    let l = walk(&mut t, "dir/link").expect("link");
    assert_eq!(t.stat(l).expect("stat").mode & S_IFMT, S_IFLNK);
    assert_eq!(t.readlink(l), Ok(b"a.txt".to_vec()));
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
        .map(|e| e.name.to_string())
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
    let mut t = parse(gnu).expect("gnu");
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
    let mut t = parse(pax).expect("pax");
    assert!(walk(&mut t, "pax/name").is_ok());
    assert_eq!(walk(&mut t, "ignored"), Err(Errno::NoEnt));
}

#[test]
fn hostile_archives_are_refused_with_a_reason() {
    let ok = sample();
    let mut bad_sum = ok.clone();
    bad_sum[0] ^= 1;
    let truncated = ok[..512 + 100].to_vec();
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
    let mut huge = header("f", b'0', 0, "");
    huge[124..136].fill(0);
    huge[124] = 0x80; // base-256 size: 2^60
    huge[128] = 0x10;
    let mut not_octal = header("f", b'0', 0, "");
    not_octal[124..127].copy_from_slice(b"9zz");
    let cases: Vec<(&str, Vec<u8>, Reason)> = vec![
        ("bad checksum", bad_sum, Reason::Checksum),
        ("truncated data", truncated, Reason::Truncated),
        (
            "size beyond the archive",
            with_header(fix(huge)),
            Reason::Truncated,
        ),
        (
            "dotdot",
            Builder::default().file("../etc/passwd", b"x").finish(),
            Reason::DotDot,
        ),
        (
            "dotdot inside",
            Builder::default().file("a/../../x", b"x").finish(),
            Reason::DotDot,
        ),
        (
            "file under a file",
            Builder::default()
                .file("a", b"1")
                .file("a/b", b"2")
                .finish(),
            Reason::NotADirectory,
        ),
        (
            "hard link to nothing",
            Builder::default().hardlink("h", "missing").finish(),
            Reason::LinkTargetMissing,
        ),
        (
            "hard link to a dir",
            Builder::default().dir("d/").hardlink("h", "d").finish(),
            Reason::LinkToDirectory,
        ),
        (
            "replacing a full dir",
            Builder::default()
                .file("d/x", b"1")
                .file("d", b"2")
                .finish(),
            Reason::DirectoryNotEmpty,
        ),
        (
            "empty symlink",
            with_header(header("s", b'2', 0, "")),
            Reason::EmptyLinkTarget,
        ),
        (
            "file as the root",
            Builder::default().file(".", b"1").finish(),
            Reason::RootNotADirectory,
        ),
        (
            "not octal",
            with_header(fix(not_octal)),
            Reason::Number("size"),
        ),
        ("half a header", ok[..300].to_vec(), Reason::Truncated),
        (
            "dangling long name",
            {
                let mut v = header("././@LongLink", b'L', 4, "").to_vec();
                v.extend_from_slice(&[b'a', b'b', b'c', 0]);
                v.resize(1024, 0);
                v
            },
            Reason::Truncated,
        ),
    ];
    for (what, archive, reason) in cases {
        let err = parse(archive)
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        assert_eq!(err.reason, reason, "{what}: {err}");
        assert_eq!(err.errno(), Errno::FType, "{what}");
    }
    // The refusal names the entry and where its header is.
    let err = parse(
        Builder::default()
            .file("fine", b"1")
            .file("d/x", b"1")
            .file("d", b"2")
            .finish(),
    )
    .err()
    .expect("refused");
    assert_eq!((err.offset, &err.entry[..]), (2048, &b"d"[..]));
    assert!(
        format!("{err}").contains("entry `d` at offset 2048"),
        "{err}"
    );
    // A broken archive as a file system: every call says why.
    let t: Tarfs<Vec<u8>> = Tarfs::open_or_broken(vec![1, 2, 3], 0, 0);
    assert_eq!(t.stat(t.root()), Err(Errno::FType));
    assert_eq!(t.error().map(|e| e.reason.clone()), Some(Reason::Truncated));
    // Odd but fine: no end blocks at all, an empty archive.
    assert!(parse(Vec::new()).is_ok());
    let no_end = ok[..ok.len() - 1024].to_vec();
    assert!(parse(no_end).is_ok());
}

#[test]
fn names_that_are_not_utf8() {
    let mut odd = header("xf", b'0', 1, "");
    odd[0] = 0xff;
    let mut a = odd.to_vec();
    a[148..156].fill(b' ');
    let sum: u64 = a.iter().map(|&b| u64::from(b)).sum();
    a[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    a.extend_from_slice(b"z");
    a.resize(1024 + 1024, 0);
    let mut t = parse(a).expect("parse");
    let names: Vec<Vec<u8>> = t
        .readdir(t.root())
        .expect("readdir")
        .into_iter()
        .map(|e| e.name.into_bytes())
        .collect();
    assert_eq!(names, [&b"."[..], b"..", b"\xfff"]);
    // Found by its own bytes, not by a form shown for it.
    assert_eq!(walk(&mut t, "\u{fffd}f"), Err(Errno::NoEnt));
    let n = walk(&mut t, b"\xfff").expect("found by its bytes");
    assert_eq!(t.read(n, 0, 10), Ok(b"z".to_vec()));
}

/// A source that counts what is read from it.
struct Counting {
    archive: Vec<u8>,
    bytes: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Source for Counting {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = self.archive.as_slice().read_at(offset, buf)?;
        self.bytes.set(self.bytes.get() + n);
        Ok(n)
    }
    fn archive_size(&mut self) -> Option<u64> {
        Some(self.archive.len() as u64)
    }
}

#[test]
fn data_is_read_on_demand() {
    let big = vec![0x5a; 1 << 20];
    let archive = Builder::default()
        .file("big", &big)
        .file("small", b"s")
        .finish();
    let bytes = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut t = Tarfs::open(
        Counting {
            archive,
            bytes: bytes.clone(),
        },
        0,
        0,
    )
    .expect("open");
    // Indexing read the headers only.
    assert_eq!(bytes.get(), 3 * 512);
    let n = walk(&mut t, "big").expect("big");
    assert_eq!(t.stat(n).expect("stat").size, 1 << 20);
    bytes.set(0);
    assert_eq!(t.read(n, 4096, 10), Ok(vec![0x5a; 10]));
    assert_eq!(bytes.get(), 10);
}

fn explore(t: &mut Tarfs<Vec<u8>>) {
    let mut todo = vec![t.root()];
    let mut seen = 0;
    while let Some(d) = todo.pop() {
        seen += 1;
        if seen > 10_000 {
            break;
        }
        let Ok(entries) = t.readdir(d) else { continue };
        for e in entries.into_iter().skip(2) {
            let Ok(n) = t.lookup(d, e.name.as_bytes()) else {
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
        if let Ok(mut t) = parse(data) {
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
        if let Ok(mut t) = parse(a) {
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
        Err(Error::from(Errno::RoFs))
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
