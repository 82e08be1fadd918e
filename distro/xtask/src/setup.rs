//! Installing what the checks need: the bare-metal Rust target, rustup
//! components, mdBook and (later) Debian packages.
//!
//! Each `ensure_*` function first checks, and only installs what is missing,
//! saying what it is about to do and why.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cmd::{self, Cmd};

/// The target every `hurd-*` library must build for without `std`, and the
/// kernel's target.
pub const BARE_METAL_TARGET: &str = "x86_64-unknown-none";

/// The rustup components `cargo xtask test` uses.
const COMPONENTS: &[&str] = &["rustfmt", "clippy"];

/// Debian packages the checks need: QEMU for the kernel tests, GRUB's
/// tools for booting the kernel from an ISO, busybox-static and musl-tools
/// for the Linux programs ([`crate::linux`]; linux-abi's tests read
/// busybox's headers), e2fsprogs (`mke2fs`, `e2fsck`, `debugfs`) for the
/// ext2 tests, fuse3 for the FUSE bridge's, and GNU tar and bsdtar for
/// the tar corpus (archives made at test time, compared with `tar -x`).
const APT_PACKAGES: &[&str] = &[
    crate::kernel::QEMU_PACKAGE,
    "grub-common",
    "grub-pc-bin",
    "xorriso",
    "mtools",
    "busybox-static",
    "musl-tools",
    "e2fsprogs",
    "fuse3",
    "tar",
    "libarchive-tools",
];

/// What the ext2 benchmark compares against: `fuse2fs`, on images `mke2fs`
/// makes, mounted through FUSE.
pub const EXT2_BENCH_PACKAGES: &[&str] = &["e2fsprogs", "fuse2fs", "fuse3"];

/// Everything the quick checks need: the bare-metal target, the rustup
/// components and the Debian packages.
pub fn ensure_toolchain() -> Result<(), String> {
    ensure_target(BARE_METAL_TARGET)?;
    ensure_components(COMPONENTS)?;
    ensure_apt(APT_PACKAGES)
}

/// Adds the rustup target `target` unless `rustup target list --installed`
/// already lists it.
pub fn ensure_target(target: &str) -> Result<(), String> {
    let installed = rustup_list("target")?;
    if installed.iter().any(|line| line == target) {
        eprintln!("rust target {target}: installed");
        return Ok(());
    }
    eprintln!(
        "rust target {target}: missing; adding it (a prebuilt `core` and `alloc` for bare-metal x86_64, \
         needed for the no_std builds and the kernel)"
    );
    Cmd::new("rustup").args(["target", "add", target]).run()
}

/// Adds each rustup component in `components` that
/// `rustup component list --installed` does not list.
pub fn ensure_components(components: &[&str]) -> Result<(), String> {
    let installed = rustup_list("component")?;
    // Installed components are listed with their host triple, as in
    // `clippy-x86_64-unknown-linux-gnu`.
    let missing: Vec<&str> = components
        .iter()
        .copied()
        .filter(|c| {
            !installed
                .iter()
                .any(|line| line == c || line.starts_with(&format!("{c}-")))
        })
        .collect();
    if missing.is_empty() {
        eprintln!("rustup components {}: installed", components.join(", "));
        return Ok(());
    }
    eprintln!(
        "rustup components {}: missing; adding them",
        missing.join(", ")
    );
    Cmd::new("rustup")
        .args(["component", "add"])
        .args(missing)
        .run()
}

/// The lines of `rustup <kind> list --installed`.
fn rustup_list(kind: &str) -> Result<Vec<String>, String> {
    let output = Cmd::new("rustup")
        .args([kind, "list", "--installed"])
        .read()
        .map_err(|err| {
            format!(
                "{err}\nrustup is needed to install the {kind}s the checks use \
                 (see https://rustup.rs)"
            )
        })?;
    Ok(output.lines().map(|line| line.trim().to_owned()).collect())
}

/// Where the program `name` is: on `PATH`, or in `~/.cargo/bin` (where
/// `cargo install` puts it) even if that is not on `PATH`.
pub fn find_cargo_tool(name: &str) -> Option<PathBuf> {
    cmd::on_path(name).or_else(|| {
        let candidate = cargo_bin()?.join(name);
        candidate.is_file().then_some(candidate)
    })
}

/// Cargo's `bin` directory: `$CARGO_HOME/bin`, or `~/.cargo/bin`.
pub fn cargo_bin() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    Some(cargo_home.join("bin"))
}

/// Returns the path of the program `name`, installing the crate of that
/// name with `cargo install NAME --locked` if it is not found (which takes
/// about `minutes` on 2 cores).
pub fn ensure_cargo_tool(
    cargo: &std::ffi::OsStr,
    name: &str,
    minutes: u32,
) -> Result<PathBuf, String> {
    if let Some(path) = find_cargo_tool(name) {
        eprintln!("{name}: {}", path.display());
        return Ok(path);
    }
    eprintln!(
        "{name}: missing; installing it with `cargo install` (builds from source, \
         about {minutes} minutes on 2 cores)"
    );
    Cmd::new(cargo).args(["install", name, "--locked"]).run()?;
    find_cargo_tool(name).ok_or_else(|| {
        format!(
            "`cargo install {name}` succeeded but no `{name}` was found on PATH or in \
             ~/.cargo/bin; add cargo's bin directory to PATH"
        )
    })
}

/// Set once `apt-get update` has run in this process.
static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// Makes sure the Debian packages `packages` are installed.
///
/// Packages `dpkg -s` reports as installed are left alone. When running as
/// root the rest are installed with `apt-get install -y
/// --no-install-recommends`, after one `apt-get update` per run of the tool.
/// Otherwise this prints the exact command to run and fails.
pub fn ensure_apt(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| !Cmd::new("dpkg").args(["-s", package]).succeeds_quietly())
        .collect();
    if missing.is_empty() {
        if !packages.is_empty() {
            eprintln!("debian packages {}: installed", packages.join(", "));
        }
        return Ok(());
    }
    let install = apt_install(&missing);
    if !is_root() {
        return Err(format!(
            "debian packages {} are missing; install them as root with:\n    \
             sudo apt-get update && sudo {}",
            missing.join(", "),
            install.display()
        ));
    }
    eprintln!(
        "debian packages {}: missing; installing them",
        missing.join(", ")
    );
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        Cmd::new("apt-get").arg("update").run()?;
    }
    install.env("DEBIAN_FRONTEND", "noninteractive").run()
}

/// The `apt-get install` command for `packages`.
fn apt_install(packages: &[&str]) -> Cmd {
    Cmd::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages.iter().copied())
}

/// Whether the tool runs as root (user id 0), according to `id -u`.
fn is_root() -> bool {
    Cmd::new("id")
        .arg("-u")
        .read()
        .is_ok_and(|uid| uid.trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_install_command() {
        assert_eq!(
            apt_install(&["qemu-system-x86", "mtools"]).display(),
            "apt-get install -y --no-install-recommends qemu-system-x86 mtools"
        );
    }

    #[test]
    fn nothing_to_install_is_ok() {
        assert_eq!(ensure_apt(&[]), Ok(()));
    }
}
