//! `cargo xtask test`: every check CI runs, in order.
//!
//! The checks are the list returned by [`steps`]. Each runs after a
//! `==> name` line; the first failure stops the run. A summary with each
//! step's duration is printed at the end either way. To add a check (kernel
//! tests in QEMU, the end-to-end test…), write a `fn(&Context) -> Result<Outcome,
//! String>` and add a [`Step`] for it.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::Failure;
use crate::setup;
use crate::workspace::Workspace;

/// What the steps get to work with.
#[derive(Debug)]
pub struct Context {
    /// The workspace under test.
    pub workspace: Workspace,
    /// `--quick`: skip the slow steps (those with [`Step::full_only`]) and
    /// install nothing they alone need.
    pub quick: bool,
}

/// What a step did when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The step ran its checks and they passed.
    Passed,
    /// The step had nothing to check; the string says why.
    Skipped(String),
}

/// One check.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// The short name printed in `==> name` and in the summary.
    pub name: &'static str,
    /// Whether `--quick` skips this step.
    pub full_only: bool,
    /// Runs the check; `Err` carries a message saying what failed.
    pub run: fn(&Context) -> Result<Outcome, String>,
}

/// The checks, in the order they run.
pub fn steps() -> Vec<Step> {
    vec![
        Step {
            name: "setup",
            full_only: false,
            run: setup_step,
        },
        Step {
            name: "fmt",
            full_only: false,
            run: fmt,
        },
        Step {
            name: "crate-order",
            full_only: false,
            run: crate_order,
        },
        Step {
            name: "clippy",
            full_only: false,
            run: clippy,
        },
        Step {
            name: "test",
            full_only: false,
            run: host_tests,
        },
        Step {
            name: "fuse",
            full_only: false,
            run: fuse_bridge,
        },
        Step {
            name: "linux",
            full_only: false,
            run: linux,
        },
        Step {
            name: "ext2",
            full_only: false,
            run: ext2,
        },
        Step {
            name: "pjdfstest",
            full_only: true,
            run: pjdfstest,
        },
        Step {
            name: "no_std",
            full_only: false,
            run: no_std_builds,
        },
        Step {
            name: "doc",
            full_only: false,
            run: docs,
        },
        Step {
            name: "kernel",
            full_only: false,
            run: kernel,
        },
        Step {
            name: "image",
            full_only: false,
            run: image,
        },
        Step {
            name: "distro",
            full_only: false,
            run: distro,
        },
        Step {
            name: "package",
            full_only: true,
            run: package,
        },
        Step {
            name: "loom",
            full_only: true,
            run: loom,
        },
        Step {
            name: "book",
            full_only: true,
            run: book,
        },
    ]
}

/// `cargo xtask test [--quick] [--only STEP]`.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let mut quick = false;
    let mut only = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--only" => {
                let name = args.next().ok_or_else(|| {
                    Failure::Usage("`--only` needs the name of a step".to_owned())
                })?;
                if !steps().iter().any(|s| s.name == name.as_str()) {
                    let known: Vec<&str> = steps().iter().map(|s| s.name).collect();
                    return Err(Failure::Usage(format!(
                        "no step named `{name}`; the steps: {}",
                        known.join(", ")
                    )));
                }
                only = Some(name.as_str());
            }
            other => {
                return Err(Failure::Usage(format!(
                    "unknown argument `{other}` for `cargo xtask test`"
                )));
            }
        }
    }
    let context = Context {
        workspace: Workspace::find()?,
        quick,
    };

    let mut results: Vec<(Step, StepResult)> = Vec::new();
    let mut failure = None;
    for step in steps() {
        if only.is_some_and(|name| name != step.name) {
            continue;
        }
        if failure.is_some() {
            results.push((step, StepResult::NotRun));
            continue;
        }
        if quick && step.full_only {
            results.push((step, StepResult::Skipped("--quick".to_owned())));
            continue;
        }
        eprintln!("\n==> {}", step.name);
        let start = Instant::now();
        let outcome = (step.run)(&context);
        let elapsed = start.elapsed();
        let result = match outcome {
            Ok(Outcome::Passed) => StepResult::Passed(elapsed),
            Ok(Outcome::Skipped(why)) => {
                eprintln!("skipped: {why}");
                StepResult::Skipped(why)
            }
            Err(message) => {
                failure = Some(format!("step `{}` failed: {message}", step.name));
                StepResult::Failed(elapsed)
            }
        };
        results.push((step, result));
    }

    print_summary(&results);
    match failure {
        Some(message) => Err(Failure::Error(message)),
        None => {
            eprintln!("all checks passed");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// How a step ended, for the summary.
#[derive(Debug)]
enum StepResult {
    Passed(Duration),
    Failed(Duration),
    Skipped(String),
    NotRun,
}

/// Prints one line per step: its status, name and duration.
fn print_summary(results: &[(Step, StepResult)]) {
    eprintln!("\n==> summary");
    let width = results.iter().map(|(s, _)| s.name.len()).max().unwrap_or(0);
    for (step, result) in results {
        let (status, detail) = match result {
            StepResult::Passed(d) => ("ok", format!("{:.1}s", d.as_secs_f64())),
            StepResult::Failed(d) => ("FAILED", format!("{:.1}s", d.as_secs_f64())),
            StepResult::Skipped(why) => ("skipped", format!("({why})")),
            StepResult::NotRun => ("not run", String::new()),
        };
        let line = format!("  {status:<8} {:<width$}  {detail}", step.name);
        eprintln!("{}", line.trim_end());
    }
}

/// Installs what the checks need (see [`setup`]); mdBook and its diagram
/// preprocessor only without `--quick`.
fn setup_step(cx: &Context) -> Result<Outcome, String> {
    setup::ensure_toolchain()?;
    if !cx.quick {
        crate::book::ensure_tools(&cx.workspace.cargo)?;
    }
    Ok(Outcome::Passed)
}

/// `cargo fmt --all --check`.
fn fmt(cx: &Context) -> Result<Outcome, String> {
    cx.workspace
        .cargo()
        .args(["fmt", "--all", "--check"])
        .run()?;
    Ok(Outcome::Passed)
}

/// Every dependency arrow between workspace crates (normal, dev and build)
/// goes up the crate map of `ARCHITECTURE.md`, and the map names exactly the
/// workspace's crates (see [`crate::crate_order`]).
fn crate_order(cx: &Context) -> Result<Outcome, String> {
    let map = crate::crate_order::CrateMap::load(&cx.workspace.root)?;
    let problems = crate::crate_order::check(&map, &cx.workspace.metadata()?);
    if problems.is_empty() {
        let crates = map.names().count();
        eprintln!("{crates} crates, every arrow goes up the crate map");
        return Ok(Outcome::Passed);
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    Err(format!(
        "{} problem(s) with the crate order of {}",
        problems.len(),
        crate::crate_order::DOCUMENT
    ))
}

/// `cargo clippy --workspace --all-targets --all-features -- -D warnings`.
///
/// `--all-features` includes hurd-ipc's `defmt` feature. That is fine here:
/// clippy only type-checks and never links, so defmt's missing global logger
/// and linker script on the host do not matter. The test step, which does
/// link, uses the default features.
fn clippy(cx: &Context) -> Result<Outcome, String> {
    cx.workspace
        .cargo()
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])
        .run()?;
    Ok(Outcome::Passed)
}

/// `cargo test --workspace`: unit, integration and doc tests on the host.
fn host_tests(cx: &Context) -> Result<Outcome, String> {
    cx.workspace.cargo().args(["test", "--workspace"]).run()?;
    Ok(Outcome::Passed)
}

/// hurd-trans's FUSE bridge for real: mounts tmpfs and tarfs through
/// `/dev/fuse` and uses `ls`, `cat`, `cp`, `diff` on them, and mounts each
/// archive of the tar corpus and compares it with `tar -x` of it. Skipped
/// (saying why) without root or a usable `/dev/fuse`.
fn fuse_bridge(cx: &Context) -> Result<Outcome, String> {
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        return Ok(Outcome::Skipped(format!(
            "/dev/fuse is unusable here ({e}): the FUSE bridge is not tested"
        )));
    }
    cx.workspace
        .cargo()
        .args(["test", "-p", "hurd-trans", "--features", "fuse"])
        .args([
            "--test",
            "fuse",
            "--test",
            "tar_corpus",
            "--",
            "--nocapture",
        ])
        .run()?;
    Ok(Outcome::Passed)
}

/// The ext2 translator through the FUSE bridge: a workload of ordinary
/// tools on an image `mke2fs` made, then `e2fsck -fn` and `debugfs` on it
/// (the tests without FUSE — images read back, writes checked, mappings —
/// run with the host tests). Skipped (saying why) without a usable
/// `/dev/fuse`.
fn ext2(cx: &Context) -> Result<Outcome, String> {
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        return Ok(Outcome::Skipped(format!(
            "/dev/fuse is unusable here ({e}): ext2 through FUSE is not tested"
        )));
    }
    cx.workspace
        .cargo()
        .args(["test", "-p", "hurd-trans", "--features", "fuse"])
        .args(["--test", "ext2_fuse", "--", "--nocapture"])
        .run()?;
    Ok(Outcome::Passed)
}

/// pjdfstest on hurd-trans's tmpfs through the FUSE bridge: prints the
/// passing test files and subtests and fails on a test file that passed
/// before (see [`crate::pjdfstest`]). Skipped (saying why) without root, a
/// usable `/dev/fuse` or the suite's source.
fn pjdfstest(cx: &Context) -> Result<Outcome, String> {
    match crate::pjdfstest::test_step(&cx.workspace)? {
        None => Ok(Outcome::Passed),
        Some(why) => Ok(Outcome::Skipped(why)),
    }
}

/// Runs `each` on every `hurd-*` library of the workspace, or reports the step
/// skipped when there is none.
fn for_hurd_libraries(
    cx: &Context,
    mut each: impl FnMut(&str) -> Result<(), String>,
) -> Result<Outcome, String> {
    let metadata = cx.workspace.metadata()?;
    let crates = metadata.hurd_libraries();
    if crates.is_empty() {
        return Ok(Outcome::Skipped("no hurd-* library crates".to_owned()));
    }
    for name in crates {
        each(name)?;
    }
    Ok(Outcome::Passed)
}

/// `hurd-*` libraries that need `std` by nature (sockets, threads) and are not
/// built for bare metal; each says so in its README.
pub const STD_ONLY_LIBRARIES: &[&str] = &["hurd-bench"];

/// Ordinary Linux programs on the host: the Rust std suite and the C
/// program print their recorded output, busybox-static runs (see
/// [`crate::linux`]).
fn linux(cx: &Context) -> Result<Outcome, String> {
    crate::linux::test_step(&cx.workspace)?;
    Ok(Outcome::Passed)
}

/// `cargo build -p <crate> --no-default-features --target x86_64-unknown-none`
/// for every `hurd-*` library in the workspace except [`STD_ONLY_LIBRARIES`].
fn no_std_builds(cx: &Context) -> Result<Outcome, String> {
    for_hurd_libraries(cx, |name| {
        if STD_ONLY_LIBRARIES.contains(&name) {
            return Ok(());
        }
        cx.workspace
            .cargo()
            .args(["build", "-p", name, "--no-default-features", "--target"])
            .arg(setup::BARE_METAL_TARGET)
            .run()
    })
}

/// `cargo doc --no-deps -p <crate>` for every `hurd-*` library, with rustdoc
/// warnings (broken links, missing docs) as errors.
fn docs(cx: &Context) -> Result<Outcome, String> {
    for_hurd_libraries(cx, |name| {
        cx.workspace
            .cargo()
            .args(["doc", "--no-deps", "--quiet", "-p", name])
            .env("RUSTDOCFLAGS", "-D warnings")
            .run()
    })
}

/// The reference kernel: clippy for bare metal, build, and its test run in
/// QEMU (see [`crate::kernel`]).
fn kernel(cx: &Context) -> Result<Outcome, String> {
    crate::kernel::test_step(&cx.workspace)?;
    Ok(Outcome::Passed)
}

/// Builds the reference image (`distro/distro.toml`) as a GRUB ISO and boots
/// it in QEMU.
fn image(cx: &Context) -> Result<Outcome, String> {
    crate::image::test_step(&cx.workspace)?;
    Ok(Outcome::Passed)
}

/// Boots the distro (`hurd-init` on the kernel) and plays the console
/// scenario over the serial line.
fn distro(cx: &Context) -> Result<Outcome, String> {
    crate::distro::test_step(&cx.workspace)?;
    Ok(Outcome::Passed)
}

/// Every publishable `hurd-*` library packaged and verified, and each
/// unpacked package checked with all its targets and features (see
/// [`crate::package`]).
fn package(cx: &Context) -> Result<Outcome, String> {
    crate::package::check(&cx.workspace)?;
    Ok(Outcome::Passed)
}

/// The loom model-checking tests of hurd-ipc, if they exist:
/// `RUSTFLAGS="--cfg loom" cargo test -p hurd-ipc --features std --test loom
/// --release --target-dir target/loom` (`target` being the workspace's target
/// directory).
///
/// They get their own target directory because changing `RUSTFLAGS` would
/// otherwise invalidate the whole normal build cache.
fn loom(cx: &Context) -> Result<Outcome, String> {
    let root = &cx.workspace.root;
    if !root.join("hurd-ipc/tests/loom.rs").is_file() {
        return Ok(Outcome::Skipped(
            "hurd-ipc/tests/loom.rs does not exist".to_owned(),
        ));
    }
    // Keep any flags the user set and add the loom cfg.
    let mut rustflags = std::env::var_os("RUSTFLAGS").unwrap_or_default();
    if !rustflags.is_empty() {
        rustflags.push(" ");
    }
    rustflags.push("--cfg loom");
    cx.workspace
        .cargo()
        .env("RUSTFLAGS", rustflags)
        .args([
            "test",
            "-p",
            "hurd-ipc",
            "--features",
            "std",
            "--test",
            "loom",
            "--release",
            "--target-dir",
        ])
        .arg(cx.workspace.metadata()?.target_directory.join("loom"))
        .run()?;
    Ok(Outcome::Passed)
}

/// The book: built with its diagrams drawn, and every transcript it shows
/// run and compared (see [`crate::book`]).
fn book(cx: &Context) -> Result<Outcome, String> {
    crate::book::test_step(&cx.workspace, &[])?;
    Ok(Outcome::Passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_unique() {
        let steps = steps();
        for (i, step) in steps.iter().enumerate() {
            assert!(
                steps[..i].iter().all(|other| other.name != step.name),
                "duplicate step {}",
                step.name
            );
        }
    }

    #[test]
    fn quick_skips_only_slow_steps() {
        let skipped: Vec<&str> = steps()
            .iter()
            .filter(|s| s.full_only)
            .map(|s| s.name)
            .collect();
        assert_eq!(skipped, ["pjdfstest", "package", "loom", "book"]);
    }
}
