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
    Test {
        name: "trap::invalid_opcode_recovered",
        run: invalid_opcode_recovered,
    },
    Test {
        name: "trap::kernel_page_fault_recovered",
        run: kernel_page_fault_recovered,
    },
    Test {
        name: "timer::ticks_advance",
        run: ticks_advance,
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

fn invalid_opcode_recovered(_: &BootInfo) -> Result<(), Failure> {
    match crate::trap::probe_invalid_opcode() {
        Some(6) => Ok(()),
        Some(_) => Err("ud2 raised something other than #UD"),
        None => Err("ud2 raised no exception"),
    }
}

fn kernel_page_fault_recovered(_: &BootInfo) -> Result<(), Failure> {
    let unmapped = 0x1_4000_0000;
    match crate::trap::probe_read(unmapped) {
        Err((14, addr)) if addr == unmapped => {}
        Err(_) => return Err("the fault was not a page fault at the probed address"),
        Ok(_) => return Err("reading above the identity map did not fault"),
    }
    let word = 0x1234_5678_9abc_def0u64;
    match crate::trap::probe_read(core::ptr::addr_of!(word) as u64) {
        Ok(value) if value == word => Ok(()),
        _ => Err("a probe of mapped memory failed"),
    }
}

fn ticks_advance(_: &BootInfo) -> Result<(), Failure> {
    let start = crate::timer::ticks();
    // Generous: three ticks are 30 ms; allow many wake-ups for other reasons.
    for _ in 0..10_000 {
        x86_64::instructions::interrupts::enable_and_hlt();
        x86_64::instructions::interrupts::disable();
        if crate::timer::ticks() >= start + 3 {
            return Ok(());
        }
    }
    Err("the timer did not tick three times")
}
