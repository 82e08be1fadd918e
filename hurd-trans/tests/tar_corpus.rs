//! The tar corpus: archives made at test time by GNU tar (formats v7,
//! ustar, oldgnu, gnu, pax with each sparse version, a GNU incremental
//! dump) and by bsdtar (pax, restricted pax, ustar, gnutar, v7) from one
//! tree with long names, hard links, symbolic links, a sparse file, large
//! owners, old and future times, nanoseconds and names that are not UTF-8.
//! Each archive is extracted with `tar -x` and the result compared —
//! type, mode, owner, size, modification time, link target, content and
//! hard-link identity — with:
//!
//! - the tar module's own reading of the archive (names as bytes);
//! - tarfs serving it (through the `Tree` interface);
//! - with feature `fuse`, tarfs mounted on Linux through FUSE and walked
//!   like any directory (hard links by their inode numbers there too).
//!
//! Without GNU tar or bsdtar (Debian's `tar`, `libarchive-tools`) the
//! archives of the missing tool are skipped, saying so; without root,
//! owners are neither set nor compared.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use hurd_trans::mode::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT};
use hurd_trans::netfs::{NodeId, Tree};
use hurd_trans::tar::{EntryKind, FileSource, Reader, path};
use hurd_trans::translators::tarfs::Tarfs;

/// One node as a listing records it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Node {
    kind: char,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: (i64, u32),
    link: Vec<u8>,
    digest: u64,
    nlink: u64,
    /// Equal for the names of one file (inode number, or the module's
    /// first name).
    ident: u64,
    /// Extended attributes in the `user.` namespace, sorted.
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Every node under a root, by path relative to it (`.` for the root).
type Listing = BTreeMap<Vec<u8>, Node>;

/// FNV-1a, enough to tell contents apart.
#[derive(Clone, Copy)]
struct Digest(u64);

impl Digest {
    fn new() -> Digest {
        Digest(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

fn kind_of(mode: u32) -> char {
    match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFLNK => 'l',
        S_IFCHR => 'c',
        S_IFBLK => 'b',
        S_IFIFO => 'p',
        _ => 'f',
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Sets a node's times without following a symlink.
fn set_mtime(p: &Path, sec: i64, nsec: i64) {
    let c = CString::new(p.as_os_str().as_bytes()).expect("path");
    let t = libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    };
    let times = [t, t];
    // SAFETY: `c` is a NUL-terminated path and `times` two valid timespecs
    // that outlive the call.
    let r = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(r, 0, "utimensat {}", p.display());
}

fn set_xattr(p: &Path, name: &[u8], value: &[u8]) {
    let c = CString::new(p.as_os_str().as_bytes()).expect("path");
    let n = CString::new(name).expect("name");
    // SAFETY: both strings are NUL-terminated; `value` is valid for its
    // length.
    let r = unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r != 0 {
        eprintln!(
            "tar corpus: no extended attributes here ({})",
            std::io::Error::last_os_error()
        );
    }
}

/// The `user.` extended attributes of `p`, sorted.
fn xattrs(p: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let c = CString::new(p.as_os_str().as_bytes()).expect("path");
    let mut names = vec![0u8; 4096];
    // SAFETY: `c` is NUL-terminated and `names` valid for its length.
    let n = unsafe { libc::llistxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if n <= 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for name in names[..n as usize]
        .split(|&b| b == 0)
        .filter(|n| n.starts_with(b"user."))
    {
        let cn = CString::new(name).expect("name");
        let mut value = vec![0u8; 65536];
        // SAFETY: as above; `value` is valid for its length.
        let len = unsafe {
            libc::lgetxattr(
                c.as_ptr(),
                cn.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        if len >= 0 {
            value.truncate(len as usize);
            out.push((name.to_vec(), value));
        }
    }
    out.sort();
    out
}

fn lchown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).expect("lchown");
}

fn join(base: &Path, rel: &[u8]) -> PathBuf {
    base.join(OsStr::from_bytes(rel))
}

/// The tree every archive is made from.
fn make_tree(src: &Path) {
    let _ = std::fs::remove_dir_all(src);
    let w = |rel: &[u8], data: &[u8]| std::fs::write(join(src, rel), data).expect("write");
    let mkdir = |rel: &[u8]| std::fs::create_dir_all(join(src, rel)).expect("mkdir");
    let chmod = |rel: &[u8], mode: u32| {
        std::fs::set_permissions(
            join(src, rel),
            std::os::unix::fs::PermissionsExt::from_mode(mode),
        )
        .expect("chmod")
    };
    mkdir(b"");
    mkdir(b"dir");
    chmod(b"dir", 0o750);
    w(b"dir/file", b"hello from the archive\n");
    w(b"dir/setuid", b"#!/bin/sh\n");
    chmod(b"dir/setuid", 0o4755);
    mkdir(b"sticky");
    chmod(b"sticky", 0o1777);
    w(b"empty", b"");
    chmod(b"empty", 0o600);
    mkdir(b"emptydir");
    // Names beyond ustar's 100 bytes, and beyond its 255 with the prefix.
    let deep = [b"l".repeat(100), b"m".repeat(100), b"n".repeat(90)].join(&b'/');
    mkdir(&deep);
    let mut deep_file = deep.clone();
    deep_file.extend_from_slice(b"/");
    deep_file.extend_from_slice(&b"f".repeat(120));
    w(&deep_file, &b"deep ".repeat(300));
    w(&b"x".repeat(150), b"long name\n");
    // Hard links: three names of one file, across directories.
    std::fs::hard_link(join(src, b"dir/file"), join(src, b"hard1")).expect("link");
    std::fs::hard_link(join(src, b"dir/file"), join(src, b"sticky/hard2")).expect("link");
    // Symbolic links.
    let sym = |target: &[u8], rel: &[u8]| {
        std::os::unix::fs::symlink(OsStr::from_bytes(target), join(src, rel)).expect("symlink")
    };
    sym(b"dir/file", b"sym");
    sym(b"/etc/passwd", b"abs");
    sym(b"nowhere", b"dangling");
    sym(&b"t/".repeat(80), b"longsym");
    // A sparse file: 16 MiB, three islands of data.
    let sparse = std::fs::File::create(join(src, b"sparse")).expect("sparse");
    sparse.set_len(16 << 20).expect("size");
    for (at, data) in [
        (0u64, &b"start"[..]),
        (8 << 20, b"middle"),
        ((16 << 20) - 3, b"end"),
    ] {
        std::os::unix::fs::FileExt::write_at(&sparse, data, at).expect("write");
    }
    drop(sparse);
    // An extended attribute with a binary value.
    set_xattr(&join(src, b"dir/setuid"), b"user.hurd", b"\0bin\xffary\n\0");
    // Odd names.
    w(b"caf\xe9", b"latin-1\n");
    w(b"\xff\xfe-bytes", b"not utf-8\n");
    w(b"new\nline", b"newline\n");
    w(b"sp ace", b"space\n");
    w("ünïcödé".as_bytes(), b"utf-8\n");
    // A FIFO.
    let fifo = CString::new(join(src, b"fifo").as_os_str().as_bytes()).expect("path");
    // SAFETY: `fifo` is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o640) }, 0, "mkfifo");
    // Times: old, future, nanoseconds, and fixed for the rest.
    w(b"old", b"1938\n");
    w(b"future", b"2300\n");
    w(b"nanos", b"ns\n");
    if is_root() {
        lchown(&join(src, b"dir/file"), 1000, 100);
        lchown(&join(src, b"old"), 3_000_000, 4_000_000);
        lchown(&join(src, b"sym"), 2_097_152, 5);
        lchown(&join(src, b"sticky"), 0, 2_097_151);
    }
    // Children before parents, so a directory's time stays set.
    let mut all = Vec::new();
    collect(src, b"", &mut all);
    all.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for rel in &all {
        let (sec, nsec) = match rel.as_slice() {
            b"old" => (-1_000_000_000, 0),
            b"future" => (10_413_792_000, 0),
            b"nanos" => (1_700_000_000, 123_456_789),
            _ => (1_600_000_000, 0),
        };
        set_mtime(&join(src, rel), sec, nsec);
    }
}

/// Every path under `base/rel`, relative.
fn collect(base: &Path, rel: &[u8], out: &mut Vec<Vec<u8>>) {
    out.push(rel.to_vec());
    let p = join(base, rel);
    let md = std::fs::symlink_metadata(&p).expect("lstat");
    if md.is_dir() {
        for e in std::fs::read_dir(&p).expect("read_dir") {
            let e = e.expect("entry");
            let mut r = rel.to_vec();
            if !r.is_empty() {
                r.push(b'/');
            }
            r.extend_from_slice(e.file_name().as_bytes());
            collect(base, &r, out);
        }
    }
}

fn key(rel: &[u8]) -> Vec<u8> {
    if rel.is_empty() {
        b".".to_vec()
    } else {
        rel.to_vec()
    }
}

/// A real directory (what `tar -x` made, or a FUSE mount), with `lstat`.
fn walk_dir(root: &Path) -> Listing {
    let mut paths = Vec::new();
    collect(root, b"", &mut paths);
    let mut out = Listing::new();
    for rel in paths {
        let p = join(root, &rel);
        let md = std::fs::symlink_metadata(&p).expect("lstat");
        let ft = md.file_type();
        let kind = if ft.is_dir() {
            'd'
        } else if ft.is_symlink() {
            'l'
        } else if ft.is_fifo() {
            'p'
        } else if ft.is_char_device() {
            'c'
        } else if ft.is_block_device() {
            'b'
        } else {
            'f'
        };
        let mut digest = Digest::new();
        if kind == 'f' {
            use std::io::Read;
            let mut f = std::fs::File::open(&p).expect("open");
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                digest.add(&buf[..n]);
            }
        }
        let link = if kind == 'l' {
            std::fs::read_link(&p)
                .expect("readlink")
                .as_os_str()
                .as_bytes()
                .to_vec()
        } else {
            Vec::new()
        };
        out.insert(
            key(&rel),
            Node {
                kind,
                mode: md.mode() & 0o7777,
                uid: md.uid(),
                gid: md.gid(),
                size: md.size(),
                mtime: (md.mtime(), md.mtime_nsec() as u32),
                link,
                digest: digest.0,
                nlink: md.nlink(),
                ident: md.ino(),
                xattrs: if kind == 'l' { Vec::new() } else { xattrs(&p) },
            },
        );
    }
    out
}

/// The archive as the tar module reads it, applied as an extraction does:
/// names as bytes, a later entry replacing an earlier one, a hard link
/// sharing its target's node. Directories the archive only implies are in
/// `implied` (their attributes are the extraction's own, not compared).
fn walk_module(archive: &Path, implied: &mut BTreeSet<Vec<u8>>, sparse: &mut usize) -> Listing {
    let file = std::fs::File::open(archive).expect("open");
    let mut r = Reader::new(FileSource(file));
    let mut out = Listing::new();
    let mut next_ident = 1;
    while let Some(e) = r.next_entry().unwrap_or_else(|e| panic!("{e}")) {
        let h = &e.header;
        let parts = path::components(&h.path).expect("name");
        for i in 0..parts.len() {
            let parent = key(&parts[..i].join(&b'/'));
            if let std::collections::btree_map::Entry::Vacant(v) = out.entry(parent.clone()) {
                implied.insert(parent);
                v.insert(Node {
                    kind: 'd',
                    mode: 0,
                    uid: 0,
                    gid: 0,
                    size: 0,
                    mtime: (0, 0),
                    link: Vec::new(),
                    digest: Digest::new().0,
                    nlink: 1,
                    ident: 0,
                    xattrs: Vec::new(),
                });
            }
        }
        let name = key(&parts.join(&b'/'));
        implied.remove(&name);
        if h.kind == EntryKind::HardLink {
            let target = key(&path::components(&h.link).expect("link").join(&b'/'));
            let node = out.get(&target).cloned().expect("hard link target");
            for n in out.values_mut().filter(|n| n.ident == node.ident) {
                n.nlink += 1;
            }
            let nlink = node.nlink + 1;
            out.insert(name, Node { nlink, ..node });
            continue;
        }
        if e.data.sparse.is_some() {
            *sparse += 1;
        }
        let mut digest = Digest::new();
        if h.kind == EntryKind::File {
            let mut buf = vec![0u8; 1 << 20];
            let mut at = 0;
            while at < e.data.size {
                let n = e.data.read(r.source_mut(), at, &mut buf).expect("data");
                assert!(n > 0, "short data");
                digest.add(&buf[..n]);
                at += n as u64;
            }
        }
        let kind = match h.kind {
            EntryKind::Dir => 'd',
            EntryKind::Symlink => 'l',
            EntryKind::Fifo => 'p',
            EntryKind::CharDevice => 'c',
            EntryKind::BlockDevice => 'b',
            _ => 'f',
        };
        next_ident += 1;
        out.insert(
            name,
            Node {
                kind,
                mode: h.mode & 0o7777,
                uid: h.uid,
                gid: h.gid,
                size: if kind == 'l' {
                    h.link.len() as u64
                } else {
                    h.size
                },
                mtime: (h.mtime.sec, h.mtime.nsec),
                link: if kind == 'l' {
                    h.link.clone()
                } else {
                    Vec::new()
                },
                digest: digest.0,
                nlink: 1,
                ident: next_ident,
                xattrs: {
                    let mut x: Vec<_> = h
                        .xattrs
                        .iter()
                        .filter(|(n, _)| n.starts_with(b"user."))
                        .cloned()
                        .collect();
                    x.sort();
                    x
                },
            },
        );
    }
    out
}

/// tarfs through the `Tree` interface.
fn walk_tarfs(t: &mut Tarfs<FileSource>) -> Listing {
    let mut out = Listing::new();
    let mut todo: Vec<(Vec<u8>, NodeId)> = vec![(Vec::new(), t.root())];
    while let Some((rel, n)) = todo.pop() {
        let st = t.stat(n).expect("stat");
        let kind = kind_of(st.mode);
        let mut digest = Digest::new();
        if kind == 'f' {
            let mut at = 0;
            while at < st.size {
                let chunk = t.read(n, at, 1 << 20).expect("read");
                assert!(!chunk.is_empty(), "short read");
                digest.add(&chunk);
                at += chunk.len() as u64;
            }
        }
        if kind == 'd' {
            for e in t.readdir(n).expect("readdir").into_iter().skip(2) {
                let child = t.lookup(n, e.name.as_bytes()).expect("lookup");
                assert_eq!(child, e.ino, "readdir and lookup agree");
                let mut r = rel.clone();
                if !r.is_empty() {
                    r.push(b'/');
                }
                r.extend_from_slice(e.name.as_bytes());
                todo.push((r, child));
            }
        }
        let link = if kind == 'l' {
            t.readlink(n).expect("readlink")
        } else {
            Vec::new()
        };
        out.insert(
            key(&rel),
            Node {
                kind,
                mode: st.mode & 0o7777,
                uid: st.uid,
                gid: st.gid,
                size: st.size,
                mtime: (st.mtime.sec, st.mtime.nsec),
                link,
                digest: digest.0,
                nlink: u64::from(st.nlink),
                ident: st.ino,
                xattrs: Vec::new(),
            },
        );
    }
    out
}

/// How a listing is compared with what `tar -x` made.
struct Rules {
    /// Symlink targets as `Tree` shows them: not-UTF-8 bytes as U+FFFD
    /// (names are bytes everywhere and compared exactly).
    lossy: bool,
    /// Owners compared (root only: others cannot restore them).
    owners: bool,
    /// Hard links compared by identity (file numbers), not only by count.
    identity: bool,
    /// Extended attributes compared (the tar module's; tarfs serves none).
    xattrs: bool,
}

fn lossy(b: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(b).into_owned().into_bytes()
}

/// The names of each file with more than one name.
fn link_groups(l: &Listing) -> BTreeSet<Vec<Vec<u8>>> {
    let mut by: BTreeMap<u64, Vec<Vec<u8>>> = BTreeMap::new();
    for (p, n) in l.iter().filter(|(_, n)| n.kind != 'd') {
        by.entry(n.ident).or_default().push(p.clone());
    }
    by.into_values().filter(|v| v.len() > 1).collect()
}

fn compare(
    oracle: &Listing,
    got: &Listing,
    rules: &Rules,
    implied: &BTreeSet<Vec<u8>>,
) -> Vec<String> {
    let mut errs = Vec::new();
    let names = |l: &Listing| l.keys().cloned().collect::<BTreeSet<_>>();
    for p in names(oracle).symmetric_difference(&names(got)) {
        let side = if oracle.contains_key(p) {
            "missing"
        } else {
            "extra"
        };
        errs.push(format!("{side}: {:?}", String::from_utf8_lossy(p)));
    }
    for (p, w) in oracle {
        let Some(g) = got.get(p) else { continue };
        let name = String::from_utf8_lossy(p);
        let mut check = |what: &str, ok: bool, detail: String| {
            if !ok {
                errs.push(format!("{name:?}: {what} differs: {detail}"));
            }
        };
        check(
            "type",
            w.kind == g.kind,
            format!("{} vs {}", w.kind, g.kind),
        );
        if w.kind != g.kind || implied.contains(p) {
            continue;
        }
        if w.kind != 'l' {
            check(
                "mode",
                w.mode == g.mode,
                format!("{:o} vs {:o}", w.mode, g.mode),
            );
        }
        if rules.owners {
            check(
                "owner",
                (w.uid, w.gid) == (g.uid, g.gid),
                format!("{}:{} vs {}:{}", w.uid, w.gid, g.uid, g.gid),
            );
        }
        if w.kind != 'd' {
            check(
                "size",
                w.size == g.size,
                format!("{} vs {}", w.size, g.size),
            );
        }
        check(
            "mtime",
            w.mtime == g.mtime,
            format!("{:?} vs {:?}", w.mtime, g.mtime),
        );
        let wl = if rules.lossy {
            lossy(&w.link)
        } else {
            w.link.clone()
        };
        check(
            "link target",
            wl == g.link,
            format!(
                "{:?} vs {:?}",
                String::from_utf8_lossy(&wl),
                String::from_utf8_lossy(&g.link)
            ),
        );
        check("content", w.digest == g.digest, String::new());
        if rules.xattrs {
            check(
                "xattrs",
                w.xattrs == g.xattrs,
                format!("{:?} vs {:?}", w.xattrs, g.xattrs),
            );
        }
        if w.kind != 'd' {
            check(
                "link count",
                w.nlink == g.nlink,
                format!("{} vs {}", w.nlink, g.nlink),
            );
        }
    }
    if rules.identity {
        let (a, b) = (link_groups(oracle), link_groups(got));
        if a != b {
            errs.push(format!("hard-link identity differs: {a:?} vs {b:?}"));
        }
    }
    errs
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One archive of the corpus: how it is made.
struct Case {
    name: &'static str,
    /// Whether the tool stores the sparse file as one (so reading sparse
    /// entries is tested).
    sparse: bool,
    tool: &'static str,
    args: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "gnu tar v7",
        sparse: false,
        tool: "tar",
        args: &["--format=v7"],
    },
    Case {
        name: "gnu tar ustar",
        sparse: false,
        tool: "tar",
        args: &["--format=ustar"],
    },
    Case {
        name: "gnu tar oldgnu (sparse)",
        sparse: true,
        tool: "tar",
        args: &["--format=oldgnu", "--sparse"],
    },
    Case {
        name: "gnu tar gnu (sparse)",
        sparse: true,
        tool: "tar",
        args: &["--format=gnu", "--sparse"],
    },
    Case {
        name: "gnu tar gnu incremental",
        sparse: false,
        tool: "tar",
        args: &["--format=gnu", "--listed-incremental=SNAR"],
    },
    Case {
        name: "gnu tar pax (sparse 0.0)",
        sparse: true,
        tool: "tar",
        args: &[
            "--format=pax",
            "--xattrs",
            "--sparse",
            "--sparse-version=0.0",
        ],
    },
    Case {
        name: "gnu tar pax (sparse 0.1)",
        sparse: true,
        tool: "tar",
        args: &[
            "--format=pax",
            "--xattrs",
            "--sparse",
            "--sparse-version=0.1",
        ],
    },
    Case {
        name: "gnu tar pax (sparse 1.0)",
        sparse: true,
        tool: "tar",
        args: &[
            "--format=pax",
            "--xattrs",
            "--sparse",
            "--sparse-version=1.0",
        ],
    },
    Case {
        name: "bsdtar pax",
        sparse: true,
        tool: "bsdtar",
        args: &["--format=pax"],
    },
    Case {
        name: "bsdtar restricted pax",
        sparse: true,
        tool: "bsdtar",
        args: &[],
    },
    Case {
        name: "bsdtar ustar",
        sparse: false,
        tool: "bsdtar",
        args: &["--format=ustar"],
    },
    Case {
        name: "bsdtar gnutar",
        sparse: false,
        tool: "bsdtar",
        args: &["--format=gnutar"],
    },
    Case {
        name: "bsdtar v7",
        sparse: false,
        tool: "bsdtar",
        args: &["--format=v7"],
    },
];

/// Makes the archive; its tool may leave out what its format cannot hold
/// (and say so), which `tar -x` then does not see either.
fn make_archive(case: &Case, src: &Path, archive: &Path, scratch: &Path) {
    let _ = std::fs::remove_file(archive);
    let mut cmd = Command::new(case.tool);
    for a in case.args {
        if let Some(rest) = a.strip_suffix("SNAR") {
            let snar = scratch.join("snar");
            let _ = std::fs::remove_file(&snar);
            cmd.arg(format!("{rest}{}", snar.display()));
        } else {
            cmd.arg(a);
        }
    }
    let (_, stderr) = run(cmd.arg("-cf").arg(archive).arg("-C").arg(src).arg("."));
    let len = std::fs::metadata(archive).map(|m| m.len()).unwrap_or(0);
    assert!(len > 0, "{}: no archive made: {stderr}", case.name);
    let left_out = stderr.lines().count();
    if left_out > 0 {
        eprintln!(
            "  {}: the tool said {left_out} line(s), e.g. {}",
            case.name,
            stderr.lines().next().unwrap_or("")
        );
    }
}

fn extract(archive: &Path, out: &Path) {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).expect("out");
    let mut cmd = Command::new("tar");
    // Directories' times and modes set at the end: archives that list a
    // directory's files after other entries (bsdtar's order) would
    // otherwise have them changed again by the files extracted into them.
    cmd.args([
        "-x",
        "--numeric-owner",
        "-p",
        "--delay-directory-restore",
        "--xattrs",
        "--xattrs-include=user.*",
        "-f",
    ])
    .arg(archive)
    .arg("-C")
    .arg(out);
    if is_root() {
        cmd.arg("--same-owner");
    }
    let (ok, stderr) = run(&mut cmd);
    assert!(ok, "tar -x {}: {stderr}", archive.display());
}

#[cfg(feature = "fuse")]
fn walk_fuse(archive: &Path, mnt: &Path) -> Option<Listing> {
    if !is_root()
        || std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/fuse")
            .is_err()
    {
        return None;
    }
    std::fs::create_dir_all(mnt).expect("mnt");
    let file = std::fs::File::open(archive).expect("open");
    let t = Tarfs::open(FileSource(file), 0, 0).expect("tarfs");
    let m =
        hurd_trans::fuse::spawn_mount(t, hurd_auth::IdSet::root(), mnt, "tarfs").expect("mount");
    let l = walk_dir(mnt);
    drop(m);
    Some(l)
}

#[cfg(not(feature = "fuse"))]
fn walk_fuse(_: &Path, _: &Path) -> Option<Listing> {
    None
}

#[test]
fn archives_gnu_tar_and_bsdtar_make_read_as_tar_extracts_them() {
    let scratch = std::env::temp_dir().join(format!("hurd-tar-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch");
    let src = scratch.join("src");
    make_tree(&src);
    if !have("tar") {
        eprintln!("SKIPPED: the tar corpus needs GNU tar (Debian: tar) to extract archives");
        return;
    }
    let owners = is_root();
    if !owners {
        eprintln!("tar corpus: not root, so owners are neither set nor compared");
    }
    let (mut compared, mut fuse_compared, mut entries) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in CASES {
        if !have(case.tool) {
            eprintln!(
                "SKIPPED: {}: `{}` is not installed (Debian: libarchive-tools)",
                case.name, case.tool
            );
            continue;
        }
        let archive = scratch.join("a.tar");
        make_archive(case, &src, &archive, &scratch);
        let out = scratch.join("out");
        extract(&archive, &out);
        let oracle = walk_dir(&out);
        entries += oracle.len();
        let strict = Rules {
            lossy: false,
            owners,
            identity: true,
            xattrs: true,
        };
        let shown = Rules {
            lossy: true,
            owners,
            identity: true,
            xattrs: false,
        };
        let mut implied = BTreeSet::new();
        let mut sparse = 0;
        let module = walk_module(&archive, &mut implied, &mut sparse);
        assert!(
            !case.sparse || sparse > 0,
            "{}: no sparse entry in the archive",
            case.name
        );
        let mut errs: Vec<String> = compare(&oracle, &module, &strict, &implied)
            .into_iter()
            .map(|e| format!("tar module: {e}"))
            .collect();
        let file = std::fs::File::open(&archive).expect("open");
        let mut t =
            Tarfs::open(FileSource(file), 0, 0).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        errs.extend(
            compare(&oracle, &walk_tarfs(&mut t), &shown, &implied)
                .into_iter()
                .map(|e| format!("tarfs: {e}")),
        );
        let mut via = "tar module, tarfs";
        if let Some(mounted) = walk_fuse(&archive, &scratch.join("mnt")) {
            let fuse = Rules {
                lossy: true,
                owners,
                identity: true,
                xattrs: false,
            };
            errs.extend(
                compare(&oracle, &mounted, &fuse, &implied)
                    .into_iter()
                    .map(|e| format!("tarfs through FUSE: {e}")),
            );
            via = "tar module, tarfs, tarfs through FUSE";
            fuse_compared += 1;
        }
        compared += 1;
        if errs.is_empty() {
            eprintln!(
                "tar corpus: {}: {} nodes agree with tar -x ({via})",
                case.name,
                oracle.len()
            );
        } else {
            for e in &errs {
                eprintln!("tar corpus: {}: {e}", case.name);
            }
            failures.push(case.name);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!(
        "tar corpus: {compared} archives ({entries} nodes) compared with tar -x, {fuse_compared} through FUSE; {} differ",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "archives read differently from tar -x: {failures:?}"
    );
}

/// What the writer writes, GNU tar and bsdtar read as written: an archive
/// of the tar module's own (long and not-UTF-8 names, owners beyond
/// ustar's octal, times before 1970 and with nanoseconds, links, extended
/// attributes) extracted with `tar -x` and compared with the module's
/// reading; and a 9 GiB entry (a hole on disk) listed by both tools with
/// its size and owner.
#[test]
fn what_the_writer_writes_the_tools_read() {
    use hurd_trans::stat::TimeSpec;
    use hurd_trans::tar::{Header, Writer};
    if !have("tar") {
        eprintln!("SKIPPED: the writer's round trip needs GNU tar (Debian: tar)");
        return;
    }
    let scratch = std::env::temp_dir().join(format!("hurd-tar-writer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch");
    let owners = is_root();
    let mut w = Writer::new();
    let mut add = |mut h: Header, data: &[u8], uid: u32, sec: i64, nsec: u32| {
        if owners {
            h.uid = uid;
            h.gid = uid / 2;
        }
        h.mtime = TimeSpec { sec, nsec };
        w.append(&h, data).expect("append");
    };
    add(Header::dir(".", 0o755), b"", 0, 1_600_000_000, 0);
    add(Header::dir("d", 0o750), b"", 1000, 1_600_000_000, 0);
    let long = [b"p".repeat(120), b"q".repeat(120), b"r".repeat(40)].join(&b'/');
    add(Header::dir(&long[..241], 0o755), b"", 0, 1_600_000_000, 0);
    add(
        Header::file(&long, 0o644),
        b"long\n",
        3_000_000,
        -1_000_000_000,
        0,
    );
    let mut x = Header::file("d/x", 0o4755);
    x.xattrs = vec![(b"user.bin".to_vec(), b"\0\xff\n".to_vec())];
    add(x, b"xattr\n", 2_097_152, 1_700_000_000, 123_456_789);
    add(
        Header::file(b"d/\xff\xfe", 0o600),
        b"odd\n",
        0,
        10_413_792_000,
        0,
    );
    add(
        Header::symlink("d/s", b"t/".repeat(70)),
        b"",
        5,
        1_600_000_000,
        0,
    );
    add(Header::hard_link("h", "d/x"), b"", 0, 0, 0);
    let archive = scratch.join("w.tar");
    std::fs::write(&archive, w.finish()).expect("write");
    let out = scratch.join("out");
    extract(&archive, &out);
    let oracle = walk_dir(&out);
    let (mut implied, mut sparse) = (BTreeSet::new(), 0);
    let rules = Rules {
        lossy: false,
        owners,
        identity: true,
        xattrs: true,
    };
    let errs = compare(
        &oracle,
        &walk_module(&archive, &mut implied, &mut sparse),
        &rules,
        &implied,
    );
    assert!(
        errs.is_empty(),
        "GNU tar extracts the writer's archive differently: {errs:#?}"
    );

    // 9 GiB and an owner beyond 2097151, listed.
    let big = scratch.join("big.tar");
    {
        use std::io::Write;
        let mut h = Header::file("big", 0o644);
        h.size = 9 << 30;
        h.uid = 3_000_000;
        let head = Writer::encode_header(&h).expect("header");
        let mut f = std::fs::File::create(&big).expect("create");
        f.write_all(&head).expect("head");
        f.set_len(head.len() as u64 + h.size + 1024).expect("size");
    }
    for tool in ["tar", "bsdtar"] {
        if !have(tool) {
            eprintln!("SKIPPED: `{tool}` is not installed");
            continue;
        }
        let out = Command::new(tool)
            .args(["-tv", "--numeric-owner", "-f"])
            .arg(&big)
            .output()
            .expect("list");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("3000000") && text.contains(&(9u64 << 30).to_string()),
            "{tool} lists: {text}"
        );
        eprintln!("tar writer: {tool} lists the 9 GiB entry: {}", text.trim());
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
