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
//! The harness is the `hurd-bench` crate, shared with the other
//! benches: calibrated samples of about [`Config::target`], alternating ours
//! and the baseline, median reported in nanoseconds per page. Results go to
//! `<target dir>/bench/vm.json` as an array of `{"name", "unit",
//! "ours", "baseline", "baseline_value", "ratio"}`. `--quick` runs fewer and shorter
//! samples; plain arguments select benchmarks by substring.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hurd_bench::{Bench, Config, Row, measure_pair};
use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, PortName, RightType, UserIpc};
use hurd_vm::default_pager::{DefaultPager, MemStore};
use hurd_vm::hosted::SimKernel;
use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
use hurd_vm::{PAGE_SIZE, Vm, VmInherit, VmProt};

/// Pages per batch.
const BATCH: u64 = 256;

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
    let map = vm.create_map().expect("map");
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
    let map = kernel.create_map().expect("map");
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

fn main() {
    let benches: [(&str, Bench); 2] = [
        ("zero_fill_fault", zero_fill_fault),
        ("external_pager_fault", external_pager_fault),
    ];
    hurd_bench::run("vm", option_env!("CARGO_TARGET_TMPDIR"), &benches);
}
