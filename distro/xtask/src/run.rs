//! `cargo xtask run`: build and run the system.
//!
//! By default it builds the reference image (`distro/distro.toml`) and boots
//! its GRUB ISO in QEMU with the serial console on the terminal: `hurd-init`
//! starts auth, password and a tmpfs root holding the manifest's files and
//! translators, then a login and the shell. `--kernel` boots `hurd-init`
//! directly (no GRUB, no manifest); `--trace` does too, with the kernel
//! built with its `trace` feature: its log and a trace of IPC events go as
//! defmt frames to a second serial port (`target/trace.bin`), decoded
//! against the kernel ELF and printed (`time level message`) when QEMU
//! ends, and kept in `target/trace.txt`. `--hosted` runs the server set in one
//! process with a shell on standard input (`hurd-servers`' program
//! `hurd-hosted`), and `--tour` the scripted hosted tour. Until the reference kernel boots
//! the distro, the default is the hosted tour (`hurd-servers` example
//! `tour`): an auth server and a tmpfs root run as threads, and two users who
//! do not trust each other attach translators to their nodes. When the
//! distro boots, a QEMU mode joins [`Mode`] and becomes the default.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::Failure;
use crate::workspace::Workspace;

/// What `cargo xtask run` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// An image booted from its ISO in QEMU (the default): the reference
    /// image, or the manifest given with `--manifest FILE`; with `--disk
    /// FILE`, that disk image is the machine's first virtio disk.
    Image {
        /// The manifest (`None`: the reference one).
        manifest: Option<PathBuf>,
        /// The disk image to attach, kept from run to run.
        disk: Option<PathBuf>,
    },
    /// `hurd-init` booted directly on the kernel in QEMU (`--kernel`);
    /// with `trace`, the kernel's trace build (`--trace`).
    Kernel {
        /// Whether the kernel writes its trace line (`--trace`).
        trace: bool,
    },
    /// The server set in one host process with a shell on stdin (`--hosted`).
    Hosted,
    /// The scripted hosted tour (`--tour`).
    Tour,
}

/// Parses the arguments of `cargo xtask run`.
fn parse_args(args: &[String]) -> Result<Mode, Failure> {
    let mut mode = None;
    let (mut manifest, mut disk) = (None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut file = |what: &mut Option<PathBuf>| {
            let file = it
                .next()
                .ok_or_else(|| Failure::Usage(format!("`{arg}` needs a file")))?;
            *what = Some(PathBuf::from(file));
            Ok::<(), Failure>(())
        };
        match arg.as_str() {
            "--manifest" => file(&mut manifest)?,
            "--disk" => file(&mut disk)?,
            "--hosted" => mode = Some(Mode::Hosted),
            "--kernel" if mode != Some(Mode::Kernel { trace: true }) => {
                mode = Some(Mode::Kernel { trace: false });
            }
            "--kernel" => {}
            "--trace" => mode = Some(Mode::Kernel { trace: true }),
            "--tour" => mode = Some(Mode::Tour),
            other => {
                return Err(Failure::Usage(format!(
                    "unknown argument `{other}` for `cargo xtask run`"
                )));
            }
        }
    }
    match mode {
        None => Ok(Mode::Image { manifest, disk }),
        Some(_) if manifest.is_some() || disk.is_some() => Err(Failure::Usage(
            "`--manifest` and `--disk` boot an image: not with `--kernel`, `--trace`, `--hosted` or `--tour`"
                .to_owned(),
        )),
        Some(mode) => Ok(mode),
    }
}

/// `cargo xtask run [--manifest FILE|--kernel|--trace|--hosted|--tour]`: runs the
/// chosen mode and exits with its exit code.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let mode = parse_args(args)?;
    let workspace = Workspace::find()?;
    let target = match mode {
        Mode::Image { manifest, disk } => {
            crate::setup::ensure_apt(&[crate::kernel::QEMU_PACKAGE])?;
            let manifest =
                manifest.unwrap_or_else(|| workspace.root.join(crate::image::REFERENCE_MANIFEST));
            return Ok(exit_code(crate::image::run(
                &workspace,
                &manifest,
                disk.as_deref(),
            )?));
        }
        Mode::Kernel { trace } => {
            crate::setup::ensure_apt(&[crate::kernel::QEMU_PACKAGE])?;
            return Ok(exit_code(crate::distro::run_interactive(
                &workspace, trace,
            )?));
        }
        Mode::Tour => ["--example", "tour"],
        Mode::Hosted => ["--bin", "hurd-hosted"],
    };
    let status = workspace
        .cargo()
        .args(["run", "--quiet", "-p", "hurd-servers"])
        .args(target)
        .status()?;
    Ok(exit_code(status))
}

/// The exit code to forward for a child's exit status: its own code, or
/// 128 + the signal number if a signal killed it (as shells report it).
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
        }
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_args(&[]).ok(),
            Some(Mode::Image {
                manifest: None,
                disk: None
            })
        );
        assert_eq!(
            parse_args(&["--manifest".to_owned(), "my.toml".to_owned()]).ok(),
            Some(Mode::Image {
                manifest: Some(PathBuf::from("my.toml")),
                disk: None
            })
        );
        assert_eq!(
            parse_args(&args(&["--disk", "home.img", "--manifest", "my.toml"])).ok(),
            Some(Mode::Image {
                manifest: Some(PathBuf::from("my.toml")),
                disk: Some(PathBuf::from("home.img"))
            })
        );
        assert!(matches!(
            parse_args(&args(&["--disk"])),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(
            parse_args(&args(&["--kernel", "--disk", "home.img"])),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(
            parse_args(&["--manifest".to_owned()]),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(parse_args(&["--tour".to_owned()]), Ok(Mode::Tour)));
        assert!(matches!(
            parse_args(&["--hosted".to_owned()]),
            Ok(Mode::Hosted)
        ));
        assert!(matches!(
            parse_args(&["--kernel".to_owned()]),
            Ok(Mode::Kernel { trace: false })
        ));
        for args in [
            &["--trace"][..],
            &["--kernel", "--trace"],
            &["--trace", "--kernel"],
        ] {
            assert_eq!(
                parse_args(&args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).ok(),
                Some(Mode::Kernel { trace: true })
            );
        }
        assert!(matches!(
            parse_args(&args(&["--trace", "--manifest", "my.toml"])),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(
            parse_args(&["--bogus".to_owned()]),
            Err(Failure::Usage(_))
        ));
    }
}
