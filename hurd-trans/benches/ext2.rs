//! The ext2 translator through the FUSE bridge against `fuse2fs` (e2fsprogs'
//! FUSE ext2), on images `mke2fs -t ext2` made, in the same run.
//!
//! | name                  | what is timed (both sides alike)                          |
//! |-----------------------|-----------------------------------------------------------|
//! | `ext2_write_256m`     | write a 256 MiB file in 1 MiB writes, close               |
//! | `ext2_read_256m`      | read it back in 1 MiB reads, on a fresh mount             |
//! | `ext2_create_10k`     | create and close 10,000 empty files in one directory      |
//! | `ext2_stat_10k`       | `stat` each of them                                       |
//! | `ext2_unlink_10k`     | unlink each of them                                       |
//! | `ext2_tar_x`          | `tar -x` of the workspace's sources (`git archive`)       |
//!
//! Each row is per whole operation (ns for the 256 MiB, the 10,000 files,
//! the archive), the median of a few runs, ours and fuse2fs alternating,
//! each run on a fresh image. Runs only as root with a usable `/dev/fuse`,
//! `mke2fs` and `fuse2fs` (`cargo xtask bench` installs them); elsewhere it
//! says why and writes no rows.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hurd_auth::IdSet;
use hurd_bench::{Config, Row, median};
use hurd_trans::fuse::{Mounted, spawn_mount};
use hurd_trans::translators::ext2::Ext2Tree;
use hurd_trans::translators::ext2::hosted::{open_image, parse_options, spawn_syncer};

const FILES: usize = 10_000;
const BIG: usize = 256 << 20;
const CHUNK: usize = 1 << 20;

fn why_not() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        return Some(format!("/dev/fuse unusable: {e}"));
    }
    for t in ["mke2fs", "fuse2fs"] {
        if Command::new(t).arg("-V").output().is_err() {
            return Some(format!("{t} is not installed"));
        }
    }
    None
}

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("hurd-ext2-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("mnt")).expect("scratch");
    d
}

fn mkfs(img: &Path) {
    let f = std::fs::File::create(img).expect("image");
    f.set_len(1 << 30).expect("size");
    drop(f);
    let out = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", "4096"])
        .arg(img)
        .output()
        .expect("mke2fs");
    assert!(
        out.status.success(),
        "mke2fs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Fuse2fs,
}

enum Mount {
    Ours(Mounted),
    Fuse2fs(Child, PathBuf),
}

fn is_mounted(mnt: &Path) -> bool {
    let m = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let p = mnt.display().to_string();
    m.lines().any(|l| l.split(' ').nth(4) == Some(p.as_str()))
}

fn mount(side: Side, img: &Path, mnt: &Path) -> Mount {
    match side {
        Side::Ours => {
            let (opts, _) = parse_options(&[]).expect("options");
            let fs = open_image(img, opts).expect("mount the image");
            spawn_syncer(&fs).expect("syncer");
            let m = spawn_mount(Ext2Tree::shared(fs), IdSet::root(), mnt, "ext2fs")
                .expect("fuse mount");
            Mount::Ours(m)
        }
        Side::Fuse2fs => {
            let child = Command::new("fuse2fs")
                .arg("-f")
                .arg(img)
                .arg(mnt)
                .arg("-o")
                .arg("rw")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("fuse2fs");
            let t = Instant::now();
            while !is_mounted(mnt) {
                assert!(
                    t.elapsed() < Duration::from_secs(30),
                    "fuse2fs did not mount"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Mount::Fuse2fs(child, mnt.to_path_buf())
        }
    }
}

fn unmount(m: Mount) {
    match m {
        Mount::Ours(m) => drop(m),
        Mount::Fuse2fs(mut child, mnt) => {
            let _ = Command::new("umount").arg(&mnt).status();
            let _ = child.wait();
        }
    }
}

/// Runs `f` on a fresh image mounted by `side`; `f` returns the time of the
/// part it measures.
fn on_fresh(side: Side, f: &mut dyn FnMut(&Path, &Path) -> Duration) -> Duration {
    let dir = scratch();
    let img = dir.join("img");
    mkfs(&img);
    let mnt = dir.join("mnt");
    let m = mount(side, &img, &mnt);
    let t = f(&mnt, &img);
    unmount(m);
    let _ = std::fs::remove_dir_all(&dir);
    t
}

/// Runs per side: each is seconds long and on a fresh image, so few; the
/// median of five tames a loaded machine (`--quick`: one).
fn runs(cfg: &Config) -> usize {
    if cfg.samples <= 5 { 1 } else { 5 }
}

/// Medians of `f` on both sides, alternating.
fn compare(cfg: &Config, f: &mut dyn FnMut(Side) -> Duration) -> (f64, f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs(cfg) {
        a.push(f(Side::Ours).as_nanos() as f64);
        b.push(f(Side::Fuse2fs).as_nanos() as f64);
    }
    (median(a), median(b))
}

fn write_big(mnt: &Path) -> Duration {
    let buf = vec![0x5au8; CHUNK];
    let t = Instant::now();
    let mut f = std::fs::File::create(mnt.join("big")).expect("create");
    for _ in 0..BIG / CHUNK {
        f.write_all(&buf).expect("write");
    }
    drop(f);
    t.elapsed()
}

fn ext2_write_256m(cfg: &Config) -> Row {
    let (o, b) = compare(cfg, &mut |side| {
        on_fresh(side, &mut |mnt, _| write_big(mnt))
    });
    Row {
        name: "ext2_write_256m",
        ours_ns: o,
        baseline: "fuse2fs, same image",
        baseline_ns: b,
    }
}

/// Writes the big file, remounts (so no page of it is in FUSE's cache),
/// and times reading it back.
fn read_run(side: Side) -> Duration {
    let dir = scratch();
    let img = dir.join("img");
    mkfs(&img);
    let mnt = dir.join("mnt");
    let m = mount(side, &img, &mnt);
    write_big(&mnt);
    unmount(m);
    let m = mount(side, &img, &mnt);
    let mut buf = vec![0u8; CHUNK];
    let t = Instant::now();
    let mut f = std::fs::File::open(mnt.join("big")).expect("open");
    let mut total = 0;
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n;
    }
    drop(f);
    let t = t.elapsed();
    assert_eq!(total, BIG);
    unmount(m);
    let _ = std::fs::remove_dir_all(&dir);
    t
}

fn ext2_read_256m(cfg: &Config) -> Row {
    let (o, b) = compare(cfg, &mut read_run);
    Row {
        name: "ext2_read_256m",
        ours_ns: o,
        baseline: "fuse2fs, same image",
        baseline_ns: b,
    }
}

fn files(side: Side, which: usize) -> Duration {
    on_fresh(side, &mut |mnt, _| {
        let d = mnt.join("many");
        std::fs::create_dir(&d).expect("mkdir");
        let names: Vec<PathBuf> = (0..FILES).map(|i| d.join(format!("file-{i:05}"))).collect();
        let t = Instant::now();
        for n in &names {
            std::fs::File::create(n).expect("create");
        }
        let create = t.elapsed();
        let t = Instant::now();
        for n in &names {
            std::fs::metadata(n).expect("stat");
        }
        let stat = t.elapsed();
        let t = Instant::now();
        for n in &names {
            std::fs::remove_file(n).expect("unlink");
        }
        let unlink = t.elapsed();
        [create, stat, unlink][which]
    })
}

fn ext2_create_10k(cfg: &Config) -> Row {
    let (o, b) = compare(cfg, &mut |side| files(side, 0));
    Row {
        name: "ext2_create_10k",
        ours_ns: o,
        baseline: "fuse2fs, same image",
        baseline_ns: b,
    }
}

fn ext2_stat_10k(cfg: &Config) -> Row {
    let (o, b) = compare(cfg, &mut |side| files(side, 1));
    Row {
        name: "ext2_stat_10k",
        ours_ns: o,
        baseline: "fuse2fs, same image",
        baseline_ns: b,
    }
}

fn ext2_unlink_10k(cfg: &Config) -> Row {
    let (o, b) = compare(cfg, &mut |side| files(side, 2));
    Row {
        name: "ext2_unlink_10k",
        ours_ns: o,
        baseline: "fuse2fs, same image",
        baseline_ns: b,
    }
}

/// A tar of the workspace's sources.
fn source_archive() -> PathBuf {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tar = std::env::temp_dir().join(format!("hurd-ext2-bench-src-{}.tar", std::process::id()));
    let ok = Command::new("git")
        .arg("-C")
        .arg(&ws)
        .args(["archive", "--format=tar", "-o"])
        .arg(&tar)
        .arg("HEAD")
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let st = Command::new("tar")
            .arg("-cf")
            .arg(&tar)
            .arg("-C")
            .arg(&ws)
            .args(["hurd-ipc", "hurd-trans", "hurd-vm", "hurd-pager", "book"])
            .status()
            .expect("tar");
        assert!(st.success(), "tar -c");
    }
    tar
}

fn ext2_tar_x(cfg: &Config) -> Row {
    let tar = source_archive();
    let (o, b) = compare(cfg, &mut |side| {
        on_fresh(side, &mut |mnt, _| {
            let t = Instant::now();
            let st = Command::new("tar")
                .arg("-xf")
                .arg(&tar)
                .arg("-C")
                .arg(mnt)
                .status()
                .expect("tar");
            assert!(st.success(), "tar -x");
            t.elapsed()
        })
    });
    let _ = std::fs::remove_file(&tar);
    Row {
        name: "ext2_tar_x",
        ours_ns: o,
        baseline: "fuse2fs, same image",
        baseline_ns: b,
    }
}

fn main() {
    let benches: Vec<(&str, hurd_bench::Bench)> = match why_not() {
        None => vec![
            ("ext2_write_256m", ext2_write_256m),
            ("ext2_read_256m", ext2_read_256m),
            ("ext2_create_10k", ext2_create_10k),
            ("ext2_stat_10k", ext2_stat_10k),
            ("ext2_unlink_10k", ext2_unlink_10k),
            ("ext2_tar_x", ext2_tar_x),
        ],
        Some(why) => {
            eprintln!("ext2 benchmarks skipped: {why}");
            Vec::new()
        }
    };
    hurd_bench::run("ext2", option_env!("CARGO_TARGET_TMPDIR"), &benches);
}
