//! `cargo xtask image`: builds a bootable GRUB ISO from a `distro.toml`
//! manifest, with the `distro-image` tool (`distro/image`), and the `image`
//! step of `cargo xtask test`, which builds the reference image and boots it.
//!
//! ```text
//! cargo xtask image [--manifest FILE] [-o OUT.iso]   # default: distro/distro.toml, target/hurd-rs.iso
//! ```

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use crate::Failure;
use crate::kernel::{self, Accel, EXIT_SUCCESS};
use crate::setup;
use crate::workspace::Workspace;

/// The reference manifest, relative to the workspace root.
pub const REFERENCE_MANIFEST: &str = "distro/distro.toml";

/// The Debian packages `grub-mkrescue` needs to make a bootable ISO.
pub const GRUB_PACKAGES: &[&str] = &["grub-common", "grub-pc-bin", "xorriso", "mtools"];

/// How long the reference image may take to boot.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);

/// Builds the image `manifest` describes into `out` (running `distro-image`
/// in the workspace).
pub fn build(ws: &Workspace, manifest: &PathBuf, out: &PathBuf) -> Result<(), String> {
    setup::ensure_apt(GRUB_PACKAGES)?;
    let target = ws.metadata()?.target_directory;
    ws.cargo()
        .args(["run", "--quiet", "-p", "distro-image", "--", "--manifest"])
        .arg(manifest)
        .arg("-o")
        .arg(out)
        .arg("--target-dir")
        .arg(&target)
        .run()
}

/// `cargo xtask image [--manifest FILE] [-o OUT.iso]`; `--check` runs the
/// `image` step of `cargo xtask test` alone.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let ws = Workspace::find()?;
    if args == ["--check"] {
        test_step(&ws)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut manifest = ws.root.join(REFERENCE_MANIFEST);
    let mut out = ws.metadata()?.target_directory.join("hurd-rs.iso");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .map(PathBuf::from)
                .ok_or_else(|| Failure::Usage(format!("`{a}` needs a value")))
        };
        match a.as_str() {
            "--manifest" => manifest = value()?,
            "-o" | "--output" => out = value()?,
            other => {
                return Err(Failure::Usage(format!(
                    "unknown argument `{other}` for `cargo xtask image`"
                )));
            }
        }
    }
    build(&ws, &manifest, &out)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask run`: builds the reference image and boots its ISO with the
/// serial console on the terminal; returns QEMU's exit status.
pub fn run_reference(ws: &Workspace) -> Result<std::process::ExitStatus, String> {
    let iso = ws.metadata()?.target_directory.join("hurd-rs.iso");
    build(ws, &ws.root.join(REFERENCE_MANIFEST), &iso)?;
    let accel = match Accel::detect() {
        Accel::Tcg => Accel::Tcg,
        Accel::Kvm => kernel::choose_accel(&kernel::build(ws)?)?,
    };
    let mut command = boot_command(accel, &iso);
    eprintln!("$ {command:?}");
    command
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::inherit())
        .status()
        .map_err(|e| format!("could not start qemu-system-x86_64: {e}"))
}

/// The `image` step: builds the reference image as a GRUB ISO and boots it
/// in QEMU — the kernel booted the Hurd's way: GRUB loads it (multiboot2)
/// and its modules, `hurd-init` writes the manifest's root file system into
/// its tmpfs root, and the distro's console scenario (see
/// [`crate::distro`]) runs over the serial line until the system halts.
pub fn test_step(ws: &Workspace) -> Result<(), String> {
    let target = ws.metadata()?.target_directory;
    let iso = target.join("hurd-rs-test.iso");
    build(ws, &ws.root.join(REFERENCE_MANIFEST), &iso)?;
    // The same choice of accelerator as the kernel tests (KVM here may be
    // unable to run user mode).
    let accel = kernel::choose_accel(&kernel::build(ws)?)?;
    let run = crate::console::converse(
        boot_command(accel, &iso),
        BOOT_TIMEOUT,
        &crate::distro::scenario(),
    )?;
    let output = run.lines.join("\n");
    if !output.contains("entries from the rootfs module") {
        return Err("hurd-init did not write the image's root file system".into());
    }
    crate::distro::check_output(&output)?;
    if run.status != Some(EXIT_SUCCESS) || run.timed_out {
        return Err(format!(
            "the reference image did not halt cleanly (status {:?}, timed out {})",
            run.status, run.timed_out
        ));
    }
    eprintln!("the reference image booted from its GRUB ISO and ran the console scenario");
    Ok(())
}

/// QEMU booting `iso` from its CD-ROM drive with the console on the serial port.
pub fn boot_command(accel: Accel, iso: &PathBuf) -> Command {
    let mut command = Command::new("qemu-system-x86_64");
    command
        .args(accel.args())
        .args(["-m", "256M", "-display", "none", "-serial", "stdio"])
        .args([
            "-no-reboot",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ])
        .arg("-cdrom")
        .arg(iso);
    command
}
