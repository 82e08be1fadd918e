//! What the reference kernel's user programs share: system calls, a message
//! buffer in Mach's wire form, the entry point, a heap growing by
//! `vm_allocate`, and [`ipc::KernelIpc`] (hurd-ipc's user-side API over the
//! system calls). Also: [`thread`] (threads running closures), [`exec`] (an
//! ELF loader building a new task through its task port, the exec server's
//! way), [`exec_server`] (the exec server on the kernel), [`args`] (a program's arguments and environment), [`stdio`] (its
//! standard input, output and error), [`process`] (its proc port and
//! signal thread, and the kernel's side of the proc server), [`bootinfo`]
//! (what the bootstrap task is given), and [`translators`] (hurd-trans's
//! translators started as threads). The programs in `src/bin` are the
//! kernel's test programs and `hurd-init`, the distro's first task.
//!
//! A program is a `no_std`, `no_main` binary that names its main function
//! with [`entry!`]: the kernel starts it at `_start` with one argument, and
//! the value `main` returns is the task's exit status. A panic prints its
//! message on the kernel console and exits with status 101.
#![no_std]
// The workspace warns about public fallible functions without an `# Errors`
// section; this crate's are still to be written. Remove this line when they are.
#![allow(clippy::missing_errors_doc)]

extern crate alloc;

pub mod args;
pub mod bootinfo;
pub mod echo;
pub mod exec;
pub mod exec_server;
#[cfg(target_os = "none")]
mod heap;
pub mod ipc;
pub mod msg;
pub mod process;
pub mod rpc;
pub mod startup;
pub mod stdio;
pub mod sys;
pub mod thread;
pub mod translators;

pub use hurd_abi as abi;

/// Defines `_start`, which aligns the stack, starts the signal thread when
/// the program is a process ([`process::start_signal_thread`]), calls
/// `$main(arg)` and exits with what it returns.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[cfg(target_os = "none")]
        core::arch::global_asm!(
            ".section .text.entry, \"ax\"",
            ".global _start",
            "_start:",
            "and rsp, -16",
            "call __program_main",
            "mov rdi, rax",
            "mov rax, {exit}",
            "syscall",
            "ud2",
            exit = const $crate::abi::nr::EXIT,
        );

        /// The program's main function, as `_start` calls it.
        #[cfg(target_os = "none")]
        #[unsafe(no_mangle)]
        extern "C" fn __program_main(arg: u64) -> u64 {
            $crate::process::start_signal_thread();
            $main(arg)
        }

        #[cfg(not(target_os = "none"))]
        fn main() {
            let _ = $main;
            eprintln!("this program runs on the hurd-rs kernel (see `cargo xtask kernel`)");
        }
    };
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut line = sys::Line::new();
    let _ = core::fmt::Write::write_fmt(&mut line, format_args!("user panic: {info}"));
    line.flush();
    sys::exit(101)
}
