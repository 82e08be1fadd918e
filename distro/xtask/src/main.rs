//! `cargo xtask`: the hurd-rs development tool.
//!
//! Run it from anywhere inside the workspace (the alias lives in
//! `.cargo/config.toml`):
//!
//! ```text
//! cargo xtask run [--hosted] # build and run (for now: the hosted tour / a shell)
//! cargo xtask kernel [ARGS]  # build the reference kernel and boot it in QEMU
//! cargo xtask image [...]    # a bootable GRUB ISO from a distro.toml manifest
//! cargo xtask passwd         # the password hash of a manifest's [[user]]
//! cargo xtask new-program NAME # a crate for a program of one's own
//! cargo xtask test [--quick] # every check CI runs, in order (--only STEP: one)
//! cargo xtask bench [NAME]   # benchmarks, printed as a comparison table and charts
//! cargo xtask book [CHAPTER]  # build the book and check what it shows
//! cargo xtask fuzz [TARGET] [--time S] # the fuzz targets under libFuzzer (nightly)
//! cargo xtask help           # usage
//! ```
//!
//! The tool uses `std`, the workspace's `hurd-bench` (which writes the
//! benchmark result files) and `defmt-decoder` (which reads the kernel's
//! trace line). Each subcommand lives in its own module; the
//! checks `cargo xtask test` runs are a plain list of [`test::Step`]s, so a new
//! check is one more entry in that list.

mod bench;
mod book;
mod cmd;
mod console;
mod crate_order;
mod distro;
mod fuzz;
mod image;
mod json;
mod kernel;
mod linux;
mod new_program;
mod package;
mod pjdfstest;
mod profile;
mod run;
mod setup;
mod test;
mod trace;
mod workspace;

use std::process::ExitCode;

/// The usage text printed by `cargo xtask help`.
const USAGE: &str = "\
cargo xtask: the hurd-rs development tool

USAGE:
    cargo xtask <COMMAND> [OPTIONS]

COMMANDS:
    run [--manifest FILE] [--disk FILE] | --kernel | --trace | --hosted | --tour
                        Build and run. By default: build the reference image
                        (distro/distro.toml), or the image of `--manifest
                        FILE`, and boot its GRUB ISO in QEMU with the serial
                        console on the terminal (log in as alice/wonderland;
                        ^D at the login prompt halts, and QEMU ends; Ctrl-A X
                        ends QEMU at any time). An image with a [disk] boots
                        with its disk freshly made; `--disk FILE` attaches
                        FILE instead, made from the image's disk the first
                        time and kept from run to run.
                        `--kernel` boots hurd-init directly, without GRUB;
                        `--trace` does too on the kernel built with its
                        `trace` feature, and prints the kernel's log and IPC
                        events from its second serial port when QEMU ends;
                        `--hosted` runs the server set in one process with a
                        shell on stdin; `--tour` runs the scripted hosted tour.
    kernel [--tcg] [ARGS...]
                        Build the reference kernel and boot it in QEMU (KVM
                        when /dev/kvm works, else TCG) with the command line
                        ARGS; `test` runs its test suite. `kernel --check`
                        runs the kernel step of `test` alone, `kernel
                        --distro-check` its distro step.
    image [--manifest FILE] [-o OUT.iso] [--verify]
                        Build a bootable GRUB ISO from a distro.toml manifest
                        (default: distro/distro.toml -> target/hurd-rs.iso).
                        The ISO is reproducible: every date in it is
                        SOURCE_DATE_EPOCH (default 2000-01-01); `--verify`
                        builds it twice and fails unless both are the same
                        bytes. `image --check` runs the image step of `test`.
    passwd              Read a password (twice, without echo) and print its
                        Argon2id hash, for the `password` of a [[user]] in a
                        manifest.
    test [--quick]      Run every check CI runs, in order, stopping at the first
                        failure: setup, fmt, the crate order (ARCHITECTURE.md),
                        clippy, host tests, no_std builds,
                        doc, kernel tests in QEMU, the reference image, the
                        distro's console scenario, pjdfstest, package, loom,
                        book. `--quick` skips pjdfstest, package, loom and
                        the book;
                        `--only STEP` runs that step alone.
    pjdfstest [bindfs] [--write]
                        Run pjdfstest on hurd-fuse's tmpfs (the `pjdfstest`
                        step of `test`), or on bindfs over a native tmpfs;
                        `--write` stores the passing test files as the list
                        of that file system (distro/xtask/pjdfstest/).
    new-program NAME [--dir DIR]
                        Make DIR/NAME (DIR: the current directory), a crate
                        for a program of one's own on hurd-rt from the
                        template distro/templates/program, building outside
                        this workspace; a manifest names it with `crate`.
    bench [NAME] [--book] | --redraw
                        Run all benchmarks (or only NAME), print a table of
                        our times against the baselines and draw each
                        suite's chart (target/bench/NAME.svg); `--book`
                        also keeps the results and charts in the book
                        (book/src/benchmarks/). `--redraw` draws the book's
                        charts again from its results, running nothing.
    profile [--book] | --redraw
                        Boot the kernel's benchmark with every instruction
                        logged and print where its null RPC spends them, by
                        direction and part of the path (target/profile/:
                        results, table, chart); `--book` keeps them in the
                        book (book/src/profile/); `--redraw` draws the
                        book's table and chart again from its results.
    book [CHAPTER...]   Build the book (book/) with its diagrams and run every
                        command it shows, comparing the output with the
                        book's, and check every exercise; with CHAPTERs
                        (e.g. trying-the-system.md), only their commands and
                        exercises. The book step of `test`.
    fuzz [TARGET...] [--time S]
                        Run the fuzz targets of fuzz/ (all, or the TARGETs)
                        under libFuzzer with `cargo fuzz`, S seconds each
                        (default 60), from their seeds and fuzz/corpus/;
                        installs the nightly toolchain and cargo-fuzz first
                        when they are missing (nothing else needs nightly:
                        the test step replays every target on stable).
    help                Print this text.
";

/// Entry point: dispatch on the first argument.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
    };
    let wants_help = |arg: &String| matches!(arg.as_str(), "-h" | "--help");
    if rest.iter().any(wants_help) {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = match command {
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        "test" => test::main(rest),
        "bench" => bench::main(rest),
        "book" => book::main(rest),
        "run" => run::main(rest),
        "kernel" => kernel::main(rest),
        "image" => image::main(rest),
        "passwd" => image::passwd(rest),
        "new-program" => new_program::main(rest),
        "pjdfstest" => pjdfstest::main(rest),
        "fuzz" => fuzz::main(rest),
        "profile" => profile::main(rest),
        other => Err(Failure::Usage(format!("unknown command `{other}`"))),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}\n");
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Error(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Why a subcommand did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The command line was wrong: the message is printed with the usage text
    /// and the tool exits with status 2.
    Usage(String),
    /// Something the command ran or needed failed: the message is printed and
    /// the tool exits with status 1.
    Error(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Error(message)
    }
}
