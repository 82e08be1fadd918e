//! Translators against Linux, measured in the same run on the hosted
//! runtime.
//!
//! | name            | ours                                                      | baseline                                   |
//! |-----------------|-----------------------------------------------------------|--------------------------------------------|
//! | `io_read_4k`    | `io_read` of 4 KiB from a hosted tmpfs file               | `pread` of 4 KiB from a Linux tmpfs file   |
//! | `io_read_1m`    | `io_read` of 1 MiB from a hosted tmpfs file               | `pread` of 1 MiB from a Linux tmpfs file   |
//! | `lookup_5`      | `file_name_lookup` of a 5-component name, then release    | `open` + `close` of the same name on Linux tmpfs |
//! | `fuse_read_1m`  | open, read 1 MiB, close through the FUSE bridge (tmpfs)   | the same on a Linux tmpfs file             |
//!
//! `fuse_read_1m` runs only where FUSE is usable (root, `/dev/fuse`). The
//! harness is `hurd-bench`; results go to
//! `<target dir>/bench/trans.json`. `--quick` runs fewer, shorter samples.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::Instant;

use hurd_auth::{IdSet, Limits};
use hurd_bench::{Bench, Config, Row, measure_pair};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{PortName, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{self, Options};
use hurd_trans::protocol::{fs, io};
use hurd_trans::translators::tmpfs::Tmpfs;

struct Hosted {
    _rt: Runtime,
    client: Task,
    root: PortName,
    auth: PortName,
}

fn hosted() -> Hosted {
    let rt = Runtime::new();
    let (fs_task, client) = (rt.task(), rt.task());
    let h = hurd_auth::hosted::spawn(&rt, Limits::default(), &[&fs_task, &client]).expect("auth");
    let tree = Tmpfs::new(0, 0, 0o755, 1 << 30);
    let (_, control) =
        netfs::spawn(fs_task, tree, h[0], None, Options::default(), &client).expect("fs");
    let root = netfs::getroot(&client, control, &IdSet::root(), OpenFlags::READ).expect("root");
    Hosted {
        _rt: rt,
        client,
        root,
        auth: h[1],
    }
}

impl Hosted {
    fn lookup(&self) -> Lookup<'_, Task> {
        Lookup {
            ipc: &self.client,
            crdir: self.root,
            cwdir: self.root,
            auth: self.auth,
            fds: &[],
            ctty: PortName::NULL,
        }
    }

    fn file(&self, name: &str, len: usize) -> PortName {
        let f = self
            .lookup()
            .open(name, OpenFlags::RDWR | OpenFlags::CREAT, 0o644)
            .expect("create");
        io::Client::new(&self.client, f)
            .write(vec![0x5a; len], 0)
            .expect("write");
        f
    }
}

/// A scratch directory on a Linux tmpfs (`/dev/shm`), else the temp dir.
fn linux_dir(name: &str) -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let d = base.join(format!("hurd-trans-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch");
    d
}

fn read_bench(cfg: &Config, name: &'static str, len: usize) -> Row {
    let h = hosted();
    let f = h.file("f", len);
    let c = io::Client::new(&h.client, f);
    let dir = linux_dir(name);
    std::fs::write(dir.join("f"), vec![0x5a; len]).expect("write");
    let lf = File::open(dir.join("f")).expect("open");
    let mut buf = vec![0u8; len];
    let (ours, base) = measure_pair(
        cfg,
        &mut |n| {
            let t = Instant::now();
            for _ in 0..n {
                let d = c.read(0, len as u64).expect("read");
                assert_eq!(d.len(), len);
            }
            t.elapsed()
        },
        &mut |n| {
            let t = Instant::now();
            for _ in 0..n {
                lf.read_exact_at(&mut buf, 0).expect("pread");
            }
            t.elapsed()
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
    Row {
        name,
        ours_ns: ours,
        baseline: "pread, Linux tmpfs",
        baseline_ns: base,
    }
}

fn io_read_4k(cfg: &Config) -> Row {
    read_bench(cfg, "io_read_4k", 4096)
}

fn io_read_1m(cfg: &Config) -> Row {
    read_bench(cfg, "io_read_1m", 1 << 20)
}

fn lookup_5(cfg: &Config) -> Row {
    let h = hosted();
    let mut dir = h.root;
    for d in ["a", "b", "c", "d"] {
        fs::Client::new(&h.client, dir)
            .dir_mkdir(d.into(), 0o755)
            .expect("mkdir");
        dir = h
            .lookup()
            .open_under(dir, d, OpenFlags::READ, 0)
            .expect("dir");
    }
    h.file("a/b/c/d/e", 10);
    let ldir = linux_dir("lookup");
    std::fs::create_dir_all(ldir.join("a/b/c/d")).expect("mkdir");
    std::fs::write(ldir.join("a/b/c/d/e"), b"0123456789").expect("write");
    let lpath = ldir.join("a/b/c/d/e");
    let (ours, base) = measure_pair(
        cfg,
        &mut |n| {
            let lk = h.lookup();
            let t = Instant::now();
            for _ in 0..n {
                let p = lk.open("a/b/c/d/e", OpenFlags::READ, 0).expect("lookup");
                let _ = h.client.port_deallocate(p);
            }
            t.elapsed()
        },
        &mut |n| {
            let t = Instant::now();
            for _ in 0..n {
                drop(File::open(&lpath).expect("open"));
            }
            t.elapsed()
        },
    );
    let _ = std::fs::remove_dir_all(&ldir);
    Row {
        name: "lookup_5",
        ours_ns: ours,
        baseline: "open+close, Linux tmpfs",
        baseline_ns: base,
    }
}

fn fuse_usable() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .is_ok()
}

fn fuse_read_1m(cfg: &Config) -> Row {
    const LEN: usize = 1 << 20;
    let ldir = linux_dir("fuse");
    let mnt = ldir.join("mnt");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let _m = hurd_trans::fuse::spawn_mount(
        Tmpfs::new(0, 0, 0o755, 1 << 28),
        IdSet::root(),
        &mnt,
        "tmpfs",
    )
    .expect("mount");
    std::fs::write(mnt.join("f"), vec![0x5a; LEN]).expect("write through fuse");
    std::fs::write(ldir.join("f"), vec![0x5a; LEN]).expect("write");
    let mut buf = Vec::with_capacity(LEN);
    let mut read = |p: &std::path::Path, n: u64| {
        let t = Instant::now();
        for _ in 0..n {
            buf.clear();
            File::open(p)
                .expect("open")
                .read_to_end(&mut buf)
                .expect("read");
            assert_eq!(buf.len(), LEN);
        }
        t.elapsed()
    };
    let (fp, lp) = (mnt.join("f"), ldir.join("f"));
    let mut ours_b = |n| read(&fp, n);
    let (o, b) = {
        let mut buf2 = Vec::with_capacity(LEN);
        measure_pair(cfg, &mut ours_b, &mut |n| {
            let t = Instant::now();
            for _ in 0..n {
                buf2.clear();
                File::open(&lp)
                    .expect("open")
                    .read_to_end(&mut buf2)
                    .expect("read");
            }
            t.elapsed()
        })
    };
    drop(_m);
    let _ = std::fs::remove_dir_all(&ldir);
    Row {
        name: "fuse_read_1m",
        ours_ns: o,
        baseline: "open+read+close, Linux tmpfs",
        baseline_ns: b,
    }
}

fn main() {
    let mut benches: Vec<(&str, Bench)> = vec![
        ("io_read_4k", io_read_4k),
        ("io_read_1m", io_read_1m),
        ("lookup_5", lookup_5),
    ];
    if fuse_usable() {
        benches.push(("fuse_read_1m", fuse_read_1m));
    } else {
        eprintln!("fuse_read_1m: skipped, FUSE is not usable here (needs root and /dev/fuse)");
    }
    hurd_bench::run("trans", option_env!("CARGO_TARGET_TMPDIR"), &benches);
}
