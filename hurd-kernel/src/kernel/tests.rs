//! The in-kernel test run: each test prints `test NAME ... ok` or
//! `... FAILED: why`, and the run ends with the closing line
//! `N passed, M failed` (see [`hurd_kernel::testing`]).

use hurd_kernel::multiboot::{BootInfo, MemoryKind};
use hurd_kernel::testing::Summary;

/// Why a test failed.
type Failure = &'static str;

/// One test.
struct Test {
    name: &'static str,
    run: fn(&BootInfo) -> Result<(), Failure>,
}

/// Every in-kernel test, in order.
const TESTS: &[Test] = &[
    Test {
        name: "boot::memory_map",
        run: memory_map,
    },
    Test {
        name: "boot::image_is_in_available_memory",
        run: image_in_available_memory,
    },
    Test {
        name: "heap::allocate_and_free",
        run: heap_allocate_and_free,
    },
];

/// Runs every test, printing one line each; returns the counts.
pub fn run(boot: &BootInfo) -> Summary {
    let mut summary = Summary::default();
    for test in TESTS {
        kprint!("test {} ... ", test.name);
        let result = (test.run)(boot);
        match result {
            Ok(()) => kprintln!("ok"),
            Err(why) => kprintln!("FAILED: {why}"),
        }
        summary.record(result.is_ok());
    }
    summary
}

fn memory_map(boot: &BootInfo) -> Result<(), Failure> {
    let available: u64 = boot
        .memory
        .iter()
        .filter(|r| r.kind == MemoryKind::Available)
        .map(|r| r.len)
        .sum();
    if available < 16 << 20 {
        return Err("less than 16 MiB of available memory reported");
    }
    Ok(())
}

fn image_in_available_memory(boot: &BootInfo) -> Result<(), Failure> {
    let (start, end) = crate::boot::image_range();
    let inside = boot
        .memory
        .iter()
        .any(|r| r.kind == MemoryKind::Available && r.start <= start && end <= r.end());
    if inside {
        Ok(())
    } else {
        Err("the kernel image is not inside an available region")
    }
}

fn heap_allocate_and_free(_: &BootInfo) -> Result<(), Failure> {
    let (used_before, _) = crate::heap::usage();
    let mut v: alloc::vec::Vec<u64> = alloc::vec::Vec::with_capacity(1 << 16);
    v.extend(0..1 << 16);
    let (used_during, _) = crate::heap::usage();
    if used_during < used_before + (8 << 16) {
        return Err("a 512 KiB vector did not show in the heap's usage");
    }
    if v.iter().copied().sum::<u64>() != (1u64 << 16) * ((1 << 16) - 1) / 2 {
        return Err("the vector's contents are wrong");
    }
    drop(v);
    if crate::heap::usage().0 != used_before {
        return Err("freeing the vector did not return its memory");
    }
    Ok(())
}
