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
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

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

/// `cargo xtask image [--manifest FILE] [-o OUT.iso]`.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let ws = Workspace::find()?;
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

/// The `image` step: builds the reference image as a GRUB ISO and boots it
/// in QEMU — the kernel booted the Hurd's way: GRUB loads it (multiboot2)
/// and its modules, the bootstrap task gets the manifest's command line and
/// the root file system archive, and the kernel ends the run with the
/// success status.
pub fn test_step(ws: &Workspace) -> Result<(), String> {
    let target = ws.metadata()?.target_directory;
    let iso = target.join("hurd-rs-test.iso");
    build(ws, &ws.root.join(REFERENCE_MANIFEST), &iso)?;
    // The same choice of accelerator as the kernel tests (KVM here may be
    // unable to run user mode).
    let accel = kernel::choose_accel(&kernel::build(ws)?)?;
    let run = kernel::boot(boot_command(accel, &iso), BOOT_TIMEOUT)?;
    let saw = |text: &str| run.lines.iter().any(|l| l.contains(text));
    let expected = [
        "bootstrap: command line \"console=com1\", 1 modules",
        "rootfs (not ELF)",
        "bootstrap task ended",
    ];
    match expected.iter().find(|t| !saw(t)) {
        None if run.status == Some(EXIT_SUCCESS) => {
            eprintln!("the reference image booted from its GRUB ISO");
            Ok(())
        }
        missing => Err(format!(
            "the reference image did not boot as expected (status {:?}, timed out {}, missing {:?})",
            run.status, run.timed_out, missing
        )),
    }
}

/// QEMU booting `iso` from its CD-ROM drive with the console on the serial port.
fn boot_command(accel: Accel, iso: &PathBuf) -> Command {
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
