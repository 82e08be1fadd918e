//! How a test program reports: every check has a step number, which becomes
//! the program's exit status when it fails (the kernel test compares it with
//! 0), and a line on the console names what failed, prefixed by the
//! program's name.
//!
//! A program says [`report!`](crate::report!) once; that gives it `check`,
//! `fail` and `err` under its own name, so a step reads
//! `check(3, "reads", got, want)?` or `.map_err(err(4, "open"))?`.

use core::fmt::{Debug, Display};

use hurd_ipc::{PortName, UserIpc};
use hurd_rt::exec::{self, InitialPort, Program};
use hurd_rt::{KernelIpc, boot, println};

/// `Ok` when `got == want`; else prints `program: what: got, expected
/// want` and gives `step`.
///
/// # Errors
///
/// `step`, when the values differ.
pub fn check<T: Debug + PartialEq>(
    program: &str,
    step: u64,
    what: &str,
    got: T,
    want: T,
) -> Result<(), u64> {
    if got == want {
        Ok(())
    } else {
        println!("{program}: {what}: {got:?}, expected {want:?}");
        Err(step)
    }
}

/// Prints `program: what` and gives `step`, for a failure found by hand.
pub fn fail(program: &str, step: u64, what: impl Display) -> u64 {
    println!("{program}: {what}");
    step
}

/// A `map_err` argument: the error `e` of a call becomes `step`, after
/// `program: what: e` is printed.
pub fn err<E: Debug>(program: &str, step: u64, what: &str) -> impl FnOnce(E) -> u64 {
    move |e| fail(program, step, format_args!("{what}: {e:?}"))
}

/// The exit status of a program whose steps gave `result`: 0, or the step
/// that failed.
pub fn status(result: Result<(), u64>) -> u64 {
    result.err().unwrap_or(0)
}

/// Starts the boot module `name` as a task of its own with `argv` and the
/// initial `ports`, and gives its task port (the thread's is let go).
///
/// # Errors
///
/// Step 1 when there is no such module, step 2 when it does not start.
pub fn start(
    program: &str,
    info: &boot::BootInfo,
    name: &str,
    argv: &[&str],
    ports: &[InitialPort],
) -> Result<PortName, u64> {
    let image = info
        .module(name)
        .ok_or_else(|| fail(program, 1, format_args!("no `{name}` module")))?;
    let child = exec::spawn(&Program {
        image,
        argv,
        envp: &[],
        ports,
    })
    .map_err(err(program, 2, name))?;
    let _ = KernelIpc::new().port_deallocate(child.thread);
    Ok(child.task)
}

/// Gives a test program `check`, `fail`, `err` and `start` (the functions
/// of [`report`](crate::report) with the program's Cargo name filled in) and
/// `PROGRAM`, that name.
#[macro_export]
macro_rules! report {
    () => {
        /// This program's name, which starts each line it prints.
        #[allow(dead_code)]
        const PROGRAM: &str = env!("CARGO_BIN_NAME");

        /// See [`kernel_test_programs::report::check`].
        #[allow(dead_code)]
        fn check<T: core::fmt::Debug + PartialEq>(
            step: u64,
            what: &str,
            got: T,
            want: T,
        ) -> Result<(), u64> {
            $crate::report::check(PROGRAM, step, what, got, want)
        }

        /// See [`kernel_test_programs::report::fail`].
        #[allow(dead_code)]
        fn fail(step: u64, what: impl core::fmt::Display) -> u64 {
            $crate::report::fail(PROGRAM, step, what)
        }

        /// See [`kernel_test_programs::report::err`].
        #[allow(dead_code)]
        fn err<E: core::fmt::Debug>(step: u64, what: &str) -> impl FnOnce(E) -> u64 {
            $crate::report::err(PROGRAM, step, what)
        }

        /// See [`kernel_test_programs::report::start`].
        #[allow(dead_code)]
        fn start(
            info: &hurd_rt::boot::BootInfo,
            name: &str,
            argv: &[&str],
            ports: &[hurd_rt::exec::InitialPort],
        ) -> Result<hurd_ipc::PortName, u64> {
            $crate::report::start(PROGRAM, info, name, argv, ports)
        }
    };
}
