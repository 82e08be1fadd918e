//! `cargo xtask run`: build and run the system.
//!
//! `--hosted` runs the server set in one process with a shell on standard
//! input (`hurd-servers`' program `hurd-hosted`). `--kernel` boots the distro
//! on the reference kernel in QEMU (`hurd-init`: auth, password and a tmpfs
//! root, a login and the shell on the serial console, which is the
//! terminal). Until the reference kernel boots
//! the distro, the default is the hosted tour (`hurd-servers` example
//! `tour`): an auth server and a tmpfs root run as threads, and two users who
//! do not trust each other attach translators to their nodes. When the
//! distro boots, a QEMU mode joins [`Mode`] and becomes the default.

use std::process::ExitCode;

use crate::Failure;
use crate::workspace::Workspace;

/// What `cargo xtask run` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The hosted tour (the default, until the distro boots in QEMU).
    Tour,
    /// The server set in one host process with a shell on stdin (`--hosted`).
    Hosted,
    /// The distro on the reference kernel in QEMU, the console on the
    /// terminal (`--kernel`).
    Kernel,
}

/// Parses the arguments of `cargo xtask run`.
fn parse_args(args: &[String]) -> Result<Mode, Failure> {
    let mut mode = Mode::Tour;
    for arg in args {
        match arg.as_str() {
            "--hosted" => mode = Mode::Hosted,
            "--kernel" => mode = Mode::Kernel,
            other => {
                return Err(Failure::Usage(format!(
                    "unknown argument `{other}` for `cargo xtask run`"
                )));
            }
        }
    }
    Ok(mode)
}

/// `cargo xtask run [--hosted]`: runs the chosen mode and exits with its exit
/// code.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let mode = parse_args(args)?;
    let workspace = Workspace::find()?;
    if mode == Mode::Kernel {
        crate::setup::ensure_apt(&[crate::kernel::QEMU_PACKAGE])?;
        let status = crate::distro::run_interactive(&workspace)?;
        return Ok(exit_code(status));
    }
    let target = match mode {
        Mode::Tour => {
            eprintln!(
                "note: the distro does not boot in QEMU yet, so this runs the hosted tour; \
                 `cargo xtask run --hosted` gives a shell, `cargo xtask kernel` boots the kernel"
            );
            ["--example", "tour"]
        }
        Mode::Hosted => ["--bin", "hurd-hosted"],
        Mode::Kernel => unreachable!("booted above"),
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
        assert!(matches!(parse_args(&[]), Ok(Mode::Tour)));
        assert!(matches!(
            parse_args(&["--hosted".to_owned()]),
            Ok(Mode::Hosted)
        ));
        assert!(matches!(
            parse_args(&["--kernel".to_owned()]),
            Ok(Mode::Kernel)
        ));
        assert!(matches!(
            parse_args(&["--bogus".to_owned()]),
            Err(Failure::Usage(_))
        ));
    }
}
