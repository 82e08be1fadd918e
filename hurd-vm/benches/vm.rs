//! Benchmarks of hurd-vm faults, each against first-touch faults of an
//! anonymous Linux `mmap` measured in the same run.
//!
//! | name                  | ours                                                   | baseline                       |
//! |-----------------------|--------------------------------------------------------|--------------------------------|
//! | `zero_fill_fault`     | store to a fresh page of a `vm_allocate`d region: soft-MMU fault, zero-fill | first store to a page of an anonymous `mmap` |
//! | `external_pager_fault`| load from a page of a `vm_map`ped object in a `SimKernel`: `data_request` to a default-pager thread, `data_unavailable`, zero-fill | the same `mmap` first touch |
//!
//! Both sides work in batches: map a region of [`BATCH`] pages, touch each page
//! once, unmap it; the time per page is reported. For the external pager the
//! batch also pays one `init`/`ready` and one `terminate`.
//!
//! The harness is hurd-ipc's (`benches/ipc.rs`): calibrated samples of about
//! [`Config::target`], alternating ours and the baseline, median reported in
//! nanoseconds per page. Results go to `<target dir>/bench/vm.json` as an
//! array of `{"name", "ours_ns", "baseline", "baseline_ns", "ratio"}`.
//! `--quick` runs fewer and shorter samples; plain arguments select
//! benchmarks by substring.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, PortName, RightType, UserIpc};
use hurd_vm::default_pager::{DefaultPager, MemStore};
use hurd_vm::hosted::SimKernel;
use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{PAGE_SIZE, Vm, VmInherit, VmProt};

/// Pages per batch.
const BATCH: u64 = 256;

/// How long and how often to measure.
struct Config {
    /// Samples per benchmark (odd, so the median is one of them).
    samples: usize,
    /// Wall time one sample should take.
    target: Duration,
}

impl Config {
    fn from_args() -> Config {
        if std::env::args().any(|a| a == "--quick") {
            Config {
                samples: 5,
                target: Duration::from_millis(20),
            }
        } else {
            Config {
                samples: 15,
                target: Duration::from_millis(100),
            }
        }
    }
}

/// A benchmark body: performs `n` operations and returns how long they took
/// (excluding any setup it chooses not to time).
type Body<'a> = &'a mut dyn FnMut(u64) -> Duration;

/// The number of operations that makes one sample last about `target`.
fn calibrate(f: Body<'_>, target: Duration) -> u64 {
    let mut n = 1u64;
    loop {
        let t = f(n);
        // Grow until a run is long enough to time with confidence (a tenth of
        // the target), then scale.
        if t >= target / 10 || n >= 1 << 40 {
            let per_op = t.as_secs_f64() / n as f64;
            let iters = (target.as_secs_f64() / per_op.max(1e-12)).ceil();
            return (iters as u64).max(1);
        }
        n *= 2;
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// One result row.
struct Row {
    name: &'static str,
    ours_ns: f64,
    baseline: &'static str,
    baseline_ns: f64,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.ours_ns / self.baseline_ns
    }
}

/// Measures `ours` and `base` in alternation; returns the median ns/op of each.
fn measure_pair(cfg: &Config, ours: Body<'_>, base: Body<'_>) -> (f64, f64) {
    let n_ours = calibrate(ours, cfg.target);
    let n_base = calibrate(base, cfg.target);
    // Warm-up at full size: caches, allocator, thread wake paths.
    ours(n_ours);
    base(n_base);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..cfg.samples {
        a.push(ours(n_ours).as_nanos() as f64 / n_ours as f64);
        b.push(base(n_base).as_nanos() as f64 / n_base as f64);
    }
    (median(a), median(b))
}

// ---------------------------------------------------------------------------
// The Linux baseline

/// First-touch faults of an anonymous private mapping, `n` pages in batches.
fn linux_first_touch(n: u64) -> Duration {
    let len = (BATCH * PAGE_SIZE) as usize;
    let batches = n.div_ceil(BATCH);
    let start = Instant::now();
    for _ in 0..batches {
        // SAFETY: an anonymous private mapping with no address hint; the
        // result is checked before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED, "mmap");
        let base = p.cast::<u8>();
        for i in 0..BATCH as usize {
            // SAFETY: `i * PAGE_SIZE` is inside the `len`-byte mapping made above.
            unsafe { base.add(i * PAGE_SIZE as usize).write_volatile(1) };
        }
        // SAFETY: unmaps exactly the mapping made above, no longer used.
        let r = unsafe { libc::munmap(p, len) };
        assert_eq!(r, 0, "munmap");
    }
    start.elapsed() * (n as u32).max(1) / ((batches * BATCH) as u32).max(1)
}

// ---------------------------------------------------------------------------
// zero_fill_fault

fn zero_fill_fault(cfg: &Config) -> Row {
    let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(BATCH as usize));
    let map = vm.create_map();
    let mut ours = |n: u64| {
        let batches = n.div_ceil(BATCH);
        let start = Instant::now();
        for _ in 0..batches {
            let a = vm
                .allocate(map, 0, BATCH * PAGE_SIZE, true)
                .expect("allocate");
            for i in 0..BATCH {
                vm.store(map, a + i * PAGE_SIZE, &[1]).expect("store");
            }
            vm.deallocate(map, a, BATCH * PAGE_SIZE)
                .expect("deallocate");
        }
        black_box(vm.stats());
        start.elapsed() * (n as u32).max(1) / ((batches * BATCH) as u32).max(1)
    };
    let (ours_ns, baseline_ns) = measure_pair(cfg, &mut ours, &mut linux_first_touch);
    Row {
        name: "zero_fill_fault",
        ours_ns,
        baseline: "linux mmap first touch",
        baseline_ns,
    }
}

// ---------------------------------------------------------------------------
// external_pager_fault

fn external_pager_fault(cfg: &Config) -> Row {
    let rt = Runtime::new();
    let kernel = SimKernel::new(&rt, BATCH as usize).expect("kernel");
    let pager = rt.task();
    let port = pager.port_allocate(RightType::Receive).expect("port");
    let _ = pager.port_set_qlimit(port, hurd_ipc::QLIMIT_MAX);
    let serving = pager.clone();
    let thread = std::thread::spawn(move || {
        DefaultPager::new(&serving, MemStore::new()).serve(port);
    });
    let map = kernel.create_map();
    let mut ours = |n: u64| {
        let batches = n.div_ceil(BATCH);
        let start = Instant::now();
        for _ in 0..batches {
            let name: PortName = pager
                .give_right(port, Disposition::MakeSend, kernel.task())
                .expect("give");
            let a = kernel
                .vm_map(
                    map,
                    BATCH * PAGE_SIZE,
                    name,
                    0,
                    false,
                    VmProt::DEFAULT,
                    VmProt::ALL,
                    VmInherit::Copy,
                )
                .expect("vm_map");
            for i in 0..BATCH {
                black_box(kernel.load(map, a + i * PAGE_SIZE, 1).expect("load"));
            }
            kernel
                .deallocate(map, a, BATCH * PAGE_SIZE)
                .expect("deallocate");
        }
        start.elapsed() * (n as u32).max(1) / ((batches * BATCH) as u32).max(1)
    };
    let (ours_ns, baseline_ns) = measure_pair(cfg, &mut ours, &mut linux_first_touch);
    drop(kernel);
    pager.terminate();
    let _ = thread.join();
    Row {
        name: "external_pager_fault",
        ours_ns,
        baseline: "linux mmap first touch",
        baseline_ns,
    }
}

// ---------------------------------------------------------------------------
// Output

/// The workspace's target directory: `CARGO_TARGET_DIR` if set (relative to the
/// workspace root if relative), else the one this bench was built in, else
/// `<workspace>/target`.
fn target_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return workspace.join(dir);
    }
    // Cargo gives benches `<target dir>/tmp` as a scratch directory.
    if let Some(parent) = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .and_then(|tmp| tmp.parent().map(PathBuf::from))
    {
        return parent;
    }
    workspace.join("target")
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn to_json(rows: &[Row]) -> String {
    let mut out = String::from("[\n");
    for (i, r) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "  {{\"name\": {}, \"ours_ns\": {:.3}, \"baseline\": {}, \"baseline_ns\": {:.3}, \"ratio\": {:.4}}}",
            json_string(r.name),
            r.ours_ns,
            json_string(r.baseline),
            r.baseline_ns,
            r.ratio(),
        );
        out.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

fn print_table(rows: &[Row]) {
    let name_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let base_w = rows
        .iter()
        .map(|r| r.baseline.len())
        .max()
        .unwrap_or(8)
        .max(8);
    println!(
        "{:<name_w$} | {:>10} | {:<base_w$} | {:>11} | {:>6}",
        "name", "ours ns", "baseline", "baseline ns", "ratio"
    );
    println!(
        "{}-|-{}-|-{}-|-{}-|-{}",
        "-".repeat(name_w),
        "-".repeat(10),
        "-".repeat(base_w),
        "-".repeat(11),
        "-".repeat(6)
    );
    for r in rows {
        println!(
            "{:<name_w$} | {:>10.1} | {:<base_w$} | {:>11.1} | {:>6.2}",
            r.name,
            r.ours_ns,
            r.baseline,
            r.baseline_ns,
            r.ratio()
        );
    }
}

/// A benchmark: measures ours and its baseline.
type Bench = fn(&Config) -> Row;

fn main() {
    let cfg = Config::from_args();
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let benches: [(&str, Bench); 2] = [
        ("zero_fill_fault", zero_fill_fault),
        ("external_pager_fault", external_pager_fault),
    ];
    let mut rows = Vec::new();
    for (name, bench) in benches {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let row = bench(&cfg);
        eprintln!(
            "{}: {:.1} ns vs {:.1} ns ({:.2})",
            row.name,
            row.ours_ns,
            row.baseline_ns,
            row.ratio()
        );
        rows.push(row);
    }
    print_table(&rows);

    let dir = target_dir().join("bench");
    let file = dir.join("vm.json");
    let written =
        std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, to_json(&rows)));
    match written {
        Ok(()) => println!("wrote {}", file.display()),
        Err(e) => {
            eprintln!("cannot write {}: {e}", file.display());
            std::process::exit(1);
        }
    }
}
