//! Shared by the ext2 tests: images made with e2fsprogs, source trees to
//! fill them, and a comparison of what the file system reads back against
//! the tree it was made from.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use hurd_trans::translators::ext2::{Ext2, FileDevice, Options};

/// Why the e2fsprogs tools cannot be used, if they cannot.
pub fn missing_tools() -> Option<String> {
    for t in ["mke2fs", "e2fsck", "debugfs"] {
        let ok = Command::new(t)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stderr.is_empty());
        if !ok {
            return Some(format!("{t} is not installed (apt-get install e2fsprogs)"));
        }
    }
    None
}

/// Returns from the test, saying why, if e2fsprogs is missing.
#[macro_export]
macro_rules! require_tools {
    () => {
        if let Some(why) = ext2_util::missing_tools() {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
}

/// A scratch directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("hurd-ext2-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        Scratch(d)
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a command, returning (exit code, stdout + stderr).
pub fn run(cmd: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(cmd).args(args).output().expect("run");
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), s)
}

/// Makes an image of `size_mb` MiB with `mke2fs -q -F` and `args`, filled
/// from `src` if given.
pub fn mkfs(img: &Path, size_mb: u64, args: &[&str], src: Option<&Path>) {
    let f = std::fs::File::create(img).expect("image");
    f.set_len(size_mb << 20).expect("size");
    drop(f);
    let mut a: Vec<String> = vec!["-q".into(), "-F".into()];
    a.extend(args.iter().map(|s| s.to_string()));
    if let Some(src) = src {
        a.push("-d".into());
        a.push(src.display().to_string());
    }
    a.push(img.display().to_string());
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out) = run("mke2fs", &a);
    assert_eq!(code, 0, "mke2fs {a:?}: {out}");
}

/// `e2fsck -fn`: the exit code and what it said.
pub fn fsck(img: &Path) -> (i32, String) {
    run("e2fsck", &["-fn", &img.display().to_string()])
}

/// Asserts `e2fsck -fn` finds nothing to fix.
pub fn assert_clean(img: &Path) {
    let (code, out) = fsck(img);
    assert_eq!(code, 0, "e2fsck -fn found problems:\n{out}");
}

/// A `debugfs -R` command's output.
pub fn debugfs(img: &Path, cmd: &str) -> String {
    run("debugfs", &["-R", cmd, &img.display().to_string()]).1
}

/// Mounts the image.
pub fn mount(img: &Path) -> Ext2<FileDevice> {
    mount_with(img, Options::default())
}

pub fn mount_with(img: &Path, mut opts: Options) -> Ext2<FileDevice> {
    opts.clock = hurd_trans::translators::ext2::hosted::system_clock();
    let dev = FileDevice::open(img, opts.readonly).expect("open image");
    Ext2::mount(dev, opts).expect("mount")
}

/// Deterministic bytes.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A tree with what the tests need: small and large files (up to the
/// double indirect range), sparse files (with data `far` bytes out: 70 MiB
/// reaches the triple indirect range with 1 KiB blocks), an empty file, a
/// deep path, fast and slow symlinks, hard links, a directory of
/// `large_dir` names, a FIFO and device nodes (as root), odd permissions
/// and owners.
pub fn sample_tree(dir: &Path, large_dir: usize, far: u64) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join("hello.txt"), b"hello from the Hurd\n").expect("write");
    std::fs::write(dir.join("empty"), b"").expect("write");
    std::fs::write(dir.join("medium.bin"), pattern(100_000, 1)).expect("write");
    std::fs::write(dir.join("large.bin"), pattern(3 << 20, 2)).expect("write");
    // Sparse: data at the start, a hole, data far out (double indirect
    // with 1 KiB blocks), and a file that is all hole.
    let f = std::fs::File::create(dir.join("sparse")).expect("sparse");
    use std::os::unix::fs::FileExt;
    f.write_all_at(b"start", 0).expect("write");
    f.write_all_at(b"middle", 300 << 10).expect("write");
    f.write_all_at(b"end", far).expect("write");
    drop(f);
    let f = std::fs::File::create(dir.join("hole")).expect("hole");
    f.set_len(far / 8).expect("len");
    drop(f);
    let mut deep = dir.to_path_buf();
    for i in 0..30 {
        deep = deep.join(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).expect("deep");
    std::fs::write(deep.join("bottom"), b"at the bottom\n").expect("write");
    std::os::unix::fs::symlink("hello.txt", dir.join("fast-link")).expect("symlink");
    let long: String = std::iter::repeat_n("long-component/", 10).collect::<String>() + "end";
    std::os::unix::fs::symlink(&long, dir.join("slow-link")).expect("symlink");
    std::os::unix::fs::symlink("d0/d1/../d1", dir.join("dir-link")).expect("symlink");
    std::fs::hard_link(dir.join("hello.txt"), dir.join("hard-1")).expect("link");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::hard_link(dir.join("hello.txt"), dir.join("sub/hard-2")).expect("link");
    let big = dir.join("big-dir");
    std::fs::create_dir_all(&big).expect("mkdir");
    for i in 0..large_dir {
        std::fs::write(
            big.join(format!("entry-with-a-longish-name-{i:05}")),
            format!("{i}\n"),
        )
        .expect("write");
    }
    let p = dir.join("private");
    std::fs::write(&p, b"secret").expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o4710)).expect("chmod");
    if is_root() {
        let c = |path: &Path, mode: libc::mode_t, dev: libc::dev_t| {
            let cp = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
            // SAFETY: a valid NUL-terminated path; mknod has no other
            // preconditions.
            let r = unsafe { libc::mknod(cp.as_ptr(), mode, dev) };
            assert_eq!(r, 0, "mknod {path:?}");
        };
        c(&dir.join("fifo"), libc::S_IFIFO | 0o644, 0);
        c(
            &dir.join("null"),
            libc::S_IFCHR | 0o666,
            libc::makedev(1, 3),
        );
        c(
            &dir.join("disk"),
            libc::S_IFBLK | 0o660,
            libc::makedev(8, 1),
        );
        c(
            &dir.join("bigdev"),
            libc::S_IFCHR | 0o600,
            libc::makedev(300, 70000),
        );
        std::os::unix::fs::chown(dir.join("hello.txt"), Some(70000), Some(66000)).expect("chown");
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// What a node looks like, for comparing.
#[derive(Debug, PartialEq, Eq)]
pub struct Seen {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub nlink: u32,
    pub mtime: i64,
    pub rdev: u32,
    pub data: Vec<u8>,
}

/// Every node under `dir` on Linux, by path relative to it.
pub fn linux_view(dir: &Path) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, rel: &str, out: &mut BTreeMap<String, Seen>) {
        let p = if rel.is_empty() {
            base.to_path_buf()
        } else {
            base.join(rel)
        };
        let m = std::fs::symlink_metadata(&p).expect("lstat");
        let ft = m.file_type();
        let data = if ft.is_file() {
            std::fs::read(&p).expect("read")
        } else if ft.is_symlink() {
            std::fs::read_link(&p)
                .expect("readlink")
                .into_os_string()
                .into_encoded_bytes()
        } else {
            Vec::new()
        };
        let rdev = if ft.is_char_device() || ft.is_block_device() {
            m.rdev() as u32
        } else {
            0
        };
        out.insert(
            rel.to_string(),
            Seen {
                mode: m.mode(),
                uid: m.uid(),
                gid: m.gid(),
                size: if ft.is_dir() { 0 } else { m.len() },
                nlink: if ft.is_dir() { 0 } else { m.nlink() as u32 },
                mtime: m.mtime(),
                rdev,
                data,
            },
        );
        if ft.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(&p)
                .expect("readdir")
                .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
                .collect();
            names.sort();
            for n in names {
                let r = if rel.is_empty() {
                    n
                } else {
                    format!("{rel}/{n}")
                };
                walk(base, &r, out);
            }
        }
    }
    walk(dir, "", &mut out);
    // The root's own times and owner differ between a directory and an
    // image's root: compare its children only.
    out.remove("");
    out
}

/// Every node under the root of `fs`, as [`linux_view`] sees a tree.
pub fn ext2_view(fs: &mut Ext2<FileDevice>) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    fn walk(fs: &mut Ext2<FileDevice>, ino: u32, rel: &str, out: &mut BTreeMap<String, Seen>) {
        let s = fs.stat_inode(ino).expect("stat");
        let kind = s.mode & 0o170000;
        let data = match kind {
            0o100000 => {
                let mut d = Vec::new();
                while (d.len() as u64) < s.size {
                    let more = fs.read_file(ino, d.len() as u64, 16 << 20).expect("read");
                    assert!(!more.is_empty(), "{rel}: short read");
                    d.extend_from_slice(&more);
                }
                d
            }
            0o120000 => fs.read_symlink(ino).expect("readlink"),
            _ => Vec::new(),
        };
        if !rel.is_empty() {
            out.insert(
                rel.to_string(),
                Seen {
                    mode: s.mode & 0o177777,
                    uid: s.uid,
                    gid: s.gid,
                    size: if kind == 0o040000 { 0 } else { s.size },
                    nlink: if kind == 0o040000 { 0 } else { s.nlink },
                    mtime: s.mtime.sec,
                    rdev: s.rdev,
                    data,
                },
            );
        }
        if kind == 0o040000 {
            let mut names = fs.list_dir(ino).expect("list");
            names.retain(|n| n.name != b"." && n.name != b".." && n.name != b"lost+found");
            names.sort_by(|a, b| a.name.cmp(&b.name));
            for n in names {
                let name = String::from_utf8(n.name).expect("utf-8");
                let r = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                walk(fs, n.ino, &r, out);
            }
        }
    }
    walk(fs, 2, "", &mut out);
    out
}

/// Asserts two views agree, naming the first difference.
pub fn assert_same(want: &BTreeMap<String, Seen>, got: &BTreeMap<String, Seen>) {
    let wk: Vec<&String> = want.keys().collect();
    let gk: Vec<&String> = got.keys().collect();
    assert_eq!(wk, gk, "the same names");
    for (k, w) in want {
        let g = &got[k];
        assert_eq!(w.mode, g.mode, "{k}: mode");
        assert_eq!((w.uid, w.gid), (g.uid, g.gid), "{k}: owner");
        assert_eq!(w.size, g.size, "{k}: size");
        assert_eq!(w.nlink, g.nlink, "{k}: links");
        assert_eq!(w.mtime, g.mtime, "{k}: mtime");
        assert_eq!(w.rdev, g.rdev, "{k}: rdev");
        assert!(w.data == g.data, "{k}: contents differ");
    }
}
