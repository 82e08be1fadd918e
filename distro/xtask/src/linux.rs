//! Ordinary Linux programs, checked on the Linux host: the Rust `std` suite
//! (`distro/linux-tests`, built for `x86_64-unknown-linux-musl`: a
//! static-pie) and the C program (`musl-gcc -static`: a fixed-address
//! executable) run here and must print exactly their recorded output
//! (`distro/linux-tests/expected/`). hurd-rs runs the same binaries and
//! compares with the same files, so a difference there is hurd-rs's, not
//! the program's. Debian's busybox-static, the third kind of program
//! (static glibc), must be installed and run too.

use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::setup;
use crate::workspace::Workspace;

/// The Rust target of the suite.
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// Debian packages for Linux programs: busybox-static (static glibc
/// busybox, the image's shell and utilities) and musl-tools (`musl-gcc`).
pub const LINUX_PACKAGES: &[&str] = &["busybox-static", "musl-tools"];

/// Where the built programs are: the Rust suite and the C program.
pub struct Programs {
    /// `linux-suite` (static-pie, musl).
    pub suite: PathBuf,
    /// `linux-hello-rs` (static-pie, musl): run in a copy of
    /// `distro/linux-tests/tree`.
    pub hello_rs: PathBuf,
    /// `c-suite` (ET_EXEC, `musl-gcc -static`).
    pub c_suite: PathBuf,
    /// `files` (ET_EXEC, `musl-gcc -static`): run in a copy of
    /// `distro/linux-tests/tree`.
    pub files: PathBuf,
    /// `time` (ET_EXEC, `musl-gcc -static`): the clocks and sleeping.
    pub time: PathBuf,
    /// `pipes` (ET_EXEC, `musl-gcc -static`): pipes, socket pairs, poll.
    pub pipes: PathBuf,
    /// `fork` (ET_EXEC, `musl-gcc -static`): fork, vfork, waitpid, execve.
    pub fork: PathBuf,
    /// `linux-spawn-rs` (static-pie, musl): `std::process::Command`.
    pub spawn_rs: PathBuf,
}

/// Installs what the programs need and builds them.
pub fn build(ws: &Workspace) -> Result<Programs, String> {
    setup::ensure_apt(LINUX_PACKAGES)?;
    setup::ensure_target(MUSL_TARGET)?;
    ws.cargo()
        .args([
            "build",
            "--release",
            "-p",
            "linux-tests",
            "--target",
            MUSL_TARGET,
        ])
        .run()?;
    let target = ws.metadata()?.target_directory;
    let release = target.join(MUSL_TARGET).join("release");
    let suite = release.join("linux-suite");
    let hello_rs = release.join("linux-hello-rs");
    let spawn_rs = release.join("linux-spawn-rs");
    let out = target.join("linux-tests");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let c_suite = out.join("c-suite");
    Cmd::new("musl-gcc")
        .args(["-static", "-O2", "-Wall", "-o"])
        .arg(&c_suite)
        .arg(ws.root.join("distro/linux-tests/c/suite.c"))
        .run()?;
    let c_program = |name: &str| -> Result<PathBuf, String> {
        let program = out.join(name);
        Cmd::new("musl-gcc")
            .args(["-static", "-O2", "-Wall", "-o"])
            .arg(&program)
            .arg(ws.root.join(format!("distro/linux-tests/c/{name}.c")))
            .run()?;
        Ok(program)
    };
    Ok(Programs {
        suite,
        hello_rs,
        c_suite,
        files: c_program("files")?,
        time: c_program("time")?,
        pipes: c_program("pipes")?,
        fork: c_program("fork")?,
        spawn_rs,
    })
}

/// Runs `program SCRATCH` in a new empty scratch directory and compares
/// what it prints with `expected`.
fn check(program: &Path, expected: &Path, scratch: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let got = Cmd::new(program).arg(scratch).env("HOME", "/root").read();
    let _ = std::fs::remove_dir_all(scratch);
    compare(program, &got?, expected)
}

/// Whether `program` printed `got`, the contents of `expected`.
fn compare(program: &Path, got: &str, expected: &Path) -> Result<(), String> {
    let want = std::fs::read_to_string(expected)
        .map_err(|e| format!("cannot read {}: {e}", expected.display()))?;
    if got == want {
        eprintln!(
            "{}: output as recorded in {}",
            program.display(),
            expected.display()
        );
        return Ok(());
    }
    let first = got
        .lines()
        .zip(want.lines())
        .position(|(g, w)| g != w)
        .unwrap_or(got.lines().count().min(want.lines().count()));
    Err(format!(
        "{} printed something else than {} (first difference at line {}):\n  got:  {:?}\n  want: {:?}",
        program.display(),
        expected.display(),
        first + 1,
        got.lines().nth(first),
        want.lines().nth(first)
    ))
}

/// Copies the directory tree `from` to `to` (files and directories only).
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot list {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// Runs `program` with a fresh copy of `tree` (at `scratch`) as its
/// working directory and compares what it prints with `expected`.
fn check_in_tree(
    program: &Path,
    expected: &Path,
    tree: &Path,
    scratch: &Path,
) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(scratch);
    copy_tree(tree, scratch)?;
    let got = Cmd::new(program).dir(scratch).read();
    let _ = std::fs::remove_dir_all(scratch);
    compare(program, &got?, expected)
}

/// The `linux` step of `cargo xtask test`.
pub fn test_step(ws: &Workspace) -> Result<(), String> {
    let programs = build(ws)?;
    let expected = ws.root.join("distro/linux-tests/expected");
    let scratch = ws
        .metadata()?
        .target_directory
        .join("linux-tests")
        .join("scratch");
    check(&programs.suite, &expected.join("linux-suite.out"), &scratch)?;
    check(&programs.c_suite, &expected.join("c-suite.out"), &scratch)?;
    let tree = ws.root.join("distro/linux-tests/tree");
    check_in_tree(
        &programs.files,
        &expected.join("files.out"),
        &tree,
        &scratch,
    )?;
    check_in_tree(&programs.time, &expected.join("time.out"), &tree, &scratch)?;
    check(&programs.pipes, &expected.join("pipes.out"), &scratch)?;
    check(&programs.fork, &expected.join("fork.out"), &scratch)?;
    check(&programs.spawn_rs, &expected.join("spawn-rs.out"), &scratch)?;
    check_in_tree(
        &programs.hello_rs,
        &expected.join("hello-rs.out"),
        &tree,
        &scratch,
    )?;
    let words = Cmd::new("/bin/busybox")
        .args(["sh", "-c", "echo one two three | wc -w"])
        .read()?;
    if words.trim() != "3" {
        return Err(format!(
            "busybox-static's sh and wc printed {words:?}, not 3"
        ));
    }
    eprintln!("/bin/busybox: ash and wc work");
    Ok(())
}
