//! The hurd-rs reference kernel.
//!
//! Built for `x86_64-unknown-none` only (`cargo xtask kernel` builds and
//! boots it); on any other target this binary is a stub. The machine's part
//! is [`arch`] (`arch/x86_64`); everything else here is the same on any
//! processor. The boot path:
//! [`arch::boot`] (multiboot header, 32-bit trampoline into long mode) →
//! [`kernel_main`] (console, boot information, then either the test run or
//! the normal boot).
#![cfg_attr(target_os = "none", no_std, no_main)]
#![cfg_attr(target_os = "none", deny(unsafe_op_in_unsafe_fn))]

// The machine: boot, descriptor tables, traps and the `syscall` entry,
// paging, the clock, the serial line, physical memory; all the `unsafe`.
#[cfg(target_os = "none")]
#[macro_use]
mod arch;

/// An IPC event on the trace line: `defmt::trace!` in the `trace` build
/// (see `arch::trace`), nothing otherwise.
#[cfg(target_os = "none")]
macro_rules! ipc_trace {
    ($($arg:tt)*) => {
        #[cfg(feature = "trace")]
        defmt::trace!($($arg)*);
    };
}
#[cfg(target_os = "none")]
extern crate alloc;

// The kernel proper: tasks and threads, scheduling policy, the system calls
// (one function each), mach_msg, the task/thread/space port servers, the
// external pagers' path.
#[cfg(target_os = "none")]
mod calls;
#[cfg(target_os = "none")]
mod console;
#[cfg(target_os = "none")]
mod device;
#[cfg(target_os = "none")]
mod fastpath;
#[cfg(target_os = "none")]
mod limits;
#[cfg(target_os = "none")]
mod mach_msg;
#[cfg(target_os = "none")]
mod pager;
#[cfg(target_os = "none")]
mod rpc;
#[cfg(target_os = "none")]
mod sched;
#[cfg(target_os = "none")]
mod spaceport;
#[cfg(target_os = "none")]
mod spawn;
#[cfg(target_os = "none")]
mod task;
#[cfg(target_os = "none")]
mod taskport;
#[cfg(target_os = "none")]
mod taskvm;
#[cfg(target_os = "none")]
mod threadport;

// The in-kernel test run (QEMU).
#[cfg(target_os = "none")]
mod tests;

#[cfg(target_os = "none")]
pub use entry::kernel_main;

#[cfg(target_os = "none")]
mod entry {
    use hurd_kernel::multiboot;

    use crate::arch::qemu::{self, ExitCode};
    use crate::arch::{entry, gdt, heap, idt, mem, paging, physmem, serial, timer};
    use crate::{device, task, tests};

    // ANCHOR: kernel_main
    /// The first Rust code: called by the trampoline on the boot stack with
    /// the loader's magic and the physical address of the boot information.
    #[unsafe(no_mangle)]
    pub extern "C" fn kernel_main(magic: u32, info: u32) -> ! {
        heap::init();
        serial::init();
        #[cfg(feature = "trace")]
        crate::arch::trace::init();
        kprintln!("hurd-kernel {} booting", env!("CARGO_PKG_VERSION"));
        gdt::init();
        crate::arch::fpu::init();
        paging::drop_identity_map();
        idt::init();
        timer::init();
        let boot = match multiboot::parse(&physmem::DirectMap, magic, info) {
            Ok(boot) => boot,
            Err(err) => panic!("cannot read the boot information: {err}"),
        };
        log::info!(
            "command line {:?}, {} memory regions, {} modules",
            boot.cmdline.as_str(),
            boot.memory.len(),
            boot.modules.len()
        );
        // The trace line shows the machine's memory as the loader gave it.
        #[cfg(feature = "trace")]
        for region in &boot.memory {
            defmt::debug!("boot memory: {}", region);
        }
        mem::init(&boot);
        paging::init();
        task::init();
        device::init();
        entry::init();
        serial::enable_input();
        // ANCHOR_END: kernel_main
        let word = |w: &str| boot.cmdline.split_whitespace().any(|word| word == w);
        if word("panic-test") {
            panic!("panic requested on the command line");
        }
        if word("fault-test") {
            let unmapped = physmem::DIRECT_MAP + physmem::DIRECT_MAP_SIZE + (1 << 30);
            // SAFETY: deliberately reads unmapped memory (above the 4 GiB
            // direct map) to check that kernel faults are reported.
            let value = unsafe { core::ptr::read_volatile(unmapped as *const u64) };
            kprintln!("read {value:#x} from unmapped memory?");
        }
        if word("accel-probe") {
            // Can this machine run user mode? (Under some hypervisors
            // `syscall` from ring 3 does not arrive in the kernel intact.)
            let ok = tests::user_mode_works(&boot);
            kprintln!("user mode {}", if ok { "works" } else { "does not work" });
            qemu::exit(if ok {
                ExitCode::Success
            } else {
                ExitCode::Failed
            });
        }
        if word("bench") {
            let ok = tests::bench(&boot);
            qemu::exit(if ok {
                ExitCode::Success
            } else {
                ExitCode::Failed
            });
        }
        if word("test") {
            // `only=PART` (any number of them) runs the tests whose names
            // contain one of the parts.
            let only: alloc::vec::Vec<&str> = boot
                .cmdline
                .split_whitespace()
                .filter_map(|w| w.strip_prefix("only="))
                .collect();
            let summary = tests::run(&boot, &only);
            kprintln!("{summary}");
            #[cfg(feature = "trace")]
            defmt::info!("test run: {}", summary);
            qemu::exit(if summary.success() {
                ExitCode::Success
            } else {
                ExitCode::Failed
            });
        }
        // A normal boot: the first module is the bootstrap task, which gets
        // the command line and the other modules.
        let Some((first, rest)) = boot.modules.split_first() else {
            kprintln!("no boot modules: nothing to run (the first module is the bootstrap task)");
            qemu::exit(ExitCode::Success)
        };
        let status = tests::run_bootstrap(&boot, first, rest);
        kprintln!("bootstrap task ended with status {status:#x}");
        crate::task::with_kernel(|k| {
            kprint!("interrupts in {} ms:", timer::uptime_ns() / 1_000_000);
            for (line, n) in k.devices.interrupt_counts() {
                kprint!(" line {line}: {n}");
            }
            kprintln!();
        });
        qemu::exit(ExitCode::Success)
    }
}

/// On a hosted target the kernel does not exist: say how to build it.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "hurd-kernel is built for x86_64-unknown-none and booted in QEMU: \
         run `cargo xtask kernel` (or `cargo xtask test`)"
    );
    std::process::exit(1);
}
