//! hurd-trans's tmpfs through the FUSE bridge against bindfs (another FUSE
//! file system) over a native Linux tmpfs, in the same run.
//!
//! | name               | what is timed (both sides alike)                            |
//! |--------------------|-------------------------------------------------------------|
//! | `fuse_create_10k`  | create and close 10,000 empty files in one directory        |
//! | `fuse_stat_10k`    | `stat` each of them                                         |
//! | `fuse_readdir_10k` | list the directory of 10,000 entries (`read_dir`)           |
//! | `fuse_unlink_10k`  | unlink each of them                                         |
//! | `fuse_read_4k`     | one `pread` of 4 KiB from an open 1 MiB file               |
//! | `fuse_write_4k`    | one `pwrite` of 4 KiB to an open 1 MiB file                |
//!
//! The first four rows are per whole operation (ns for the 10,000 files),
//! the median of a few runs, ours and bindfs alternating, each on a fresh
//! mount; the last two per call. Ours is `hurd_trans::fuse::spawn_mount`
//! of a [`Tmpfs`] in this process; bindfs runs as `bindfs -f` over a tmpfs
//! mounted for the run. Runs only as root with a usable `/dev/fuse` and
//! `bindfs` (`cargo xtask bench` installs it); elsewhere it says why and
//! writes no rows.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hurd_auth::IdSet;
use hurd_bench::{Config, Row, measure_pair, median};
use hurd_trans::fuse::{Mounted, spawn_mount};
use hurd_trans::translators::tmpfs::Tmpfs;

const FILES: usize = 10_000;
const BLOCK: usize = 4096;
const FILE_SIZE: usize = 1 << 20;
const BASELINE: &str = "bindfs over tmpfs";

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
    if Command::new("bindfs").arg("--version").output().is_err() {
        return Some("bindfs is not installed".into());
    }
    None
}

fn is_mounted(mnt: &Path) -> bool {
    let m = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let p = mnt.display().to_string();
    m.lines().any(|l| l.split(' ').nth(4) == Some(p.as_str()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Bindfs,
}

/// A mounted side, unmounted (and its scratch directory removed) when
/// dropped.
struct Mount {
    dir: PathBuf,
    ours: Option<Mounted>,
    bindfs: Option<Child>,
}

impl Mount {
    fn new(side: Side) -> Mount {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hurd-fuse-bench-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (native, mnt) = (dir.join("native"), dir.join("mnt"));
        std::fs::create_dir_all(&native).expect("scratch");
        std::fs::create_dir_all(&mnt).expect("scratch");
        let mut m = Mount {
            dir,
            ours: None,
            bindfs: None,
        };
        match side {
            Side::Ours => {
                let tree = Tmpfs::new(0, 0, 0o755, 4 << 30);
                m.ours = Some(spawn_mount(tree, IdSet::root(), &mnt, "tmpfs").expect("mount"));
            }
            Side::Bindfs => {
                let ok = Command::new("mount")
                    .args(["-t", "tmpfs", "tmpfs"])
                    .arg(&native)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(ok, "mount -t tmpfs");
                let child = Command::new("bindfs")
                    .args(["-f", "-o", "allow_other,dev,suid"])
                    .arg(&native)
                    .arg(&mnt)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("bindfs");
                m.bindfs = Some(child);
                let t = Instant::now();
                while !is_mounted(&mnt) {
                    assert!(
                        t.elapsed() < Duration::from_secs(30),
                        "bindfs did not mount"
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        m
    }

    fn mnt(&self) -> PathBuf {
        self.dir.join("mnt")
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        drop(self.ours.take());
        if let Some(mut child) = self.bindfs.take() {
            let _ = Command::new("umount").arg(self.dir.join("mnt")).status();
            let _ = child.wait();
            let _ = Command::new("umount").arg(self.dir.join("native")).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs per side: each is a fresh mount, so few; the median of five tames
/// a loaded machine (`--quick`: one).
fn runs(cfg: &Config) -> usize {
    if cfg.samples <= 5 { 1 } else { 5 }
}

/// Creates, stats, lists and unlinks [`FILES`] files on a fresh mount of
/// `side`; returns the time of step `which` (0 create, 1 stat, 2 list,
/// 3 unlink).
fn files(side: Side, which: usize) -> Duration {
    let m = Mount::new(side);
    let d = m.mnt().join("many");
    std::fs::create_dir(&d).expect("mkdir");
    let names: Vec<PathBuf> = (0..FILES).map(|i| d.join(format!("file-{i:05}"))).collect();
    let t = Instant::now();
    for n in &names {
        File::create(n).expect("create");
    }
    let create = t.elapsed();
    let t = Instant::now();
    for n in &names {
        std::fs::metadata(n).expect("stat");
    }
    let stat = t.elapsed();
    let t = Instant::now();
    let listed = std::fs::read_dir(&d).expect("read_dir").count();
    let list = t.elapsed();
    assert_eq!(listed, FILES);
    let t = Instant::now();
    for n in &names {
        std::fs::remove_file(n).expect("unlink");
    }
    let unlink = t.elapsed();
    [create, stat, list, unlink][which]
}

fn compare_files(cfg: &Config, name: &'static str, which: usize) -> Row {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs(cfg) {
        a.push(files(Side::Ours, which).as_nanos() as f64);
        b.push(files(Side::Bindfs, which).as_nanos() as f64);
    }
    Row {
        name,
        ours_ns: median(a),
        baseline: BASELINE,
        baseline_ns: median(b),
    }
}

fn fuse_create_10k(cfg: &Config) -> Row {
    compare_files(cfg, "fuse_create_10k", 0)
}

fn fuse_stat_10k(cfg: &Config) -> Row {
    compare_files(cfg, "fuse_stat_10k", 1)
}

fn fuse_readdir_10k(cfg: &Config) -> Row {
    compare_files(cfg, "fuse_readdir_10k", 2)
}

fn fuse_unlink_10k(cfg: &Config) -> Row {
    compare_files(cfg, "fuse_unlink_10k", 3)
}

/// 4 KiB reads or writes at offsets cycling through an open 1 MiB file,
/// both sides mounted at once.
fn io_4k(cfg: &Config, name: &'static str, write: bool) -> Row {
    let (ours, theirs) = (Mount::new(Side::Ours), Mount::new(Side::Bindfs));
    let open = |m: &Mount| {
        let p = m.mnt().join("f");
        std::fs::write(&p, vec![0x5a; FILE_SIZE]).expect("write");
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .expect("open")
    };
    let (fo, fb) = (open(&ours), open(&theirs));
    let (mut b1, mut b2) = (vec![0x33u8; BLOCK], vec![0x33u8; BLOCK]);
    let (o, b) = measure_pair(cfg, &mut |n| io_loop(&fo, &mut b1, write, n), &mut |n| {
        io_loop(&fb, &mut b2, write, n)
    });
    drop((fo, fb));
    Row {
        name,
        ours_ns: o,
        baseline: BASELINE,
        baseline_ns: b,
    }
}

/// `n` reads (or writes) of `buf` at offsets cycling through `f`.
fn io_loop(f: &File, buf: &mut [u8], write: bool, n: u64) -> Duration {
    let blocks = (FILE_SIZE / BLOCK) as u64;
    let t = Instant::now();
    for i in 0..n {
        let at = (i % blocks) * BLOCK as u64;
        if write {
            f.write_all_at(buf, at).expect("pwrite");
        } else {
            f.read_exact_at(buf, at).expect("pread");
        }
    }
    t.elapsed()
}

fn fuse_read_4k(cfg: &Config) -> Row {
    io_4k(cfg, "fuse_read_4k", false)
}

fn fuse_write_4k(cfg: &Config) -> Row {
    io_4k(cfg, "fuse_write_4k", true)
}

fn main() {
    let benches: Vec<(&str, hurd_bench::Bench)> = match why_not() {
        None => vec![
            ("fuse_create_10k", fuse_create_10k),
            ("fuse_stat_10k", fuse_stat_10k),
            ("fuse_readdir_10k", fuse_readdir_10k),
            ("fuse_unlink_10k", fuse_unlink_10k),
            ("fuse_read_4k", fuse_read_4k),
            ("fuse_write_4k", fuse_write_4k),
        ],
        Some(why) => {
            eprintln!("fuse benchmarks skipped: {why}");
            Vec::new()
        }
    };
    hurd_bench::run("fuse", option_env!("CARGO_TARGET_TMPDIR"), &benches);
}
