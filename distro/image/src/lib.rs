//! Builds hurd-rs boot images from a `distro.toml` manifest.
//!
//! The steps:
//!
//! 1. [`Manifest::parse`] reads and checks the manifest; a bad one is a
//!    [`ManifestError`] naming the field and the line.
//! 2. [`stage`] lays the image out in a directory: the kernel, the boot
//!    modules, and the root filesystem packed as a tar archive
//!    ([`rootfs`]), the last module. Binaries named by package are found by a
//!    [`Resolve`] implementation (the `cargo xtask image` command builds
//!    them); files come from the manifest's directory.
//!    With a `[disk]`, the entries below its mount point go to a tree of
//!    their own ([`Staged::disk`]), which [`make_disk`] writes on an ext2
//!    disk image, and `/etc/fstab` tells `hurd-init` to mount it.
//! 3. The [`Staged`] image boots in QEMU directly ([`Staged::qemu_args`]) or
//!    becomes a bootable GRUB ISO ([`make_iso`], with `grub-mkrescue`).
//!
//! Builds are reproducible: nothing in an image depends on the clock, the
//! staging directory or the order files were written in. Every date in it
//! is one [`Epoch`] (`SOURCE_DATE_EPOCH`, or a fixed default), and
//! [`compare_builds`] checks two builds (`cargo xtask image --verify`).
//!
//! ```
//! use distro_image::Manifest;
//!
//! let m = Manifest::parse(r#"
//!     [image]
//!     name = "tiny"
//!     [kernel]
//!     path = "kernel.elf"
//!     [[module]]
//!     name = "bootstrap"
//!     source = "bootstrap.elf"
//! "#).unwrap();
//! assert_eq!(m.modules[0].name, "bootstrap");
//!
//! let e = Manifest::parse("[image]\nname = \"x\"\nkernal = 1\n").unwrap_err();
//! assert_eq!(e.line, 3);
//! assert!(e.message.contains("kernal"));
//! ```

#![forbid(unsafe_code)]

pub mod boot;
pub mod disk;
pub mod epoch;
pub mod linux;
pub mod manifest;
pub mod rootfs;
pub mod users;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use boot::{Staged, StagedModule};
pub use disk::make_disk;
pub use epoch::Epoch;
pub use linux::ProgramKind;
pub use manifest::{
    Artifact, BootProtocol, Contents, Disk, Manifest, ManifestError, Module, OnFailure, Service,
    Source, Translator,
};
pub use rootfs::RootFs;

/// The name of the boot module holding the root filesystem archive.
pub const ROOTFS_MODULE: &str = "rootfs";

/// Finds the host file of a binary the manifest names.
pub trait Resolve {
    /// The path of `artifact`'s binary, built if need be.
    ///
    /// # Errors
    ///
    /// Why the binary cannot be found or built.
    fn resolve(&mut self, artifact: &Artifact) -> Result<PathBuf, String>;
}

/// Resolves only `path` / `source` entries, relative to a base directory;
/// packages and crates are an error (they must be built, which `cargo xtask
/// image` does).
pub struct PathsOnly {
    /// The manifest's directory.
    pub base: PathBuf,
}

impl Resolve for PathsOnly {
    fn resolve(&mut self, artifact: &Artifact) -> Result<PathBuf, String> {
        match &artifact.source {
            Source::Path(p) => Ok(self.base.join(p)),
            Source::Package { package, .. } => Err(format!(
                "package `{package}` must be built first (use `cargo xtask image`)"
            )),
            Source::Crate { dir, .. } => Err(format!(
                "crate `{dir}` must be built first (use `cargo xtask image`)"
            )),
        }
    }
}

/// Why an image could not be built.
#[derive(Debug, PartialEq, Eq)]
pub struct BuildError {
    /// The manifest line of the entry at fault, if one is.
    pub line: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for BuildError {}

impl BuildError {
    fn at(line: usize, message: impl Into<String>) -> BuildError {
        BuildError {
            line: Some(line),
            message: message.into(),
        }
    }

    fn io(what: &str, path: &Path, e: std::io::Error) -> BuildError {
        BuildError {
            line: None,
            message: format!("{what} `{}`: {e}", path.display()),
        }
    }
}

/// Builds the root filesystem tree the manifest describes, reading file
/// sources relative to `base` and program binaries through `resolver`.
///
/// # Errors
///
/// A [`BuildError`] naming the manifest line: a file source that cannot
/// be read, a binary the resolver cannot give, or a path the tree refuses
/// (given twice, or inside a file).
pub fn root_fs(
    m: &Manifest,
    base: &Path,
    resolver: &mut dyn Resolve,
) -> Result<RootFs, BuildError> {
    let mut fs = RootFs::new();
    for d in &m.dirs {
        fs.add_dir(&d.path, d.mode, d.owner, d.group)
            .map_err(|e| BuildError::at(d.line, format!("dir.path: {}", e.0)))?;
    }
    // Each user's home, theirs, unless the manifest gives it as a [[dir]].
    for u in &m.users {
        let gid = m
            .groups
            .iter()
            .find(|g| Some(&g.name) == u.groups.first())
            .map_or(0, |g| g.gid);
        if let Err(e) = fs.add_dir(&u.home, 0o755, u.uid, gid) {
            let given = fs
                .get(&u.home)
                .is_some_and(|n| n.contents == rootfs::NodeContents::Dir);
            if !given {
                return Err(BuildError::at(u.line, format!("user.home: {}", e.0)));
            }
        }
    }
    let mut first_linux = None;
    for p in &m.programs {
        let path = resolver
            .resolve(&p.artifact)
            .map_err(|e| BuildError::at(p.artifact.line, e))?;
        let data = std::fs::read(&path).map_err(|e| {
            BuildError::at(
                p.artifact.line,
                format!("program `{}`: reading `{}`: {e}", p.path, path.display()),
            )
        })?;
        match linux::program_kind(&data) {
            ProgramKind::LinuxDynamic => {
                return Err(BuildError::at(
                    p.artifact.line,
                    format!(
                        "{}: `{}` is dynamically linked (it names an interpreter): \
                         only static Linux programs run here; link it with `-static`",
                        source_key(&p.artifact.source),
                        p.path
                    ),
                ));
            }
            ProgramKind::Linux => {
                first_linux.get_or_insert(p);
            }
            ProgramKind::HurdRs | ProgramKind::Other => {}
        }
        fs.add_file(&p.path, data, p.mode, 0, 0)
            .map_err(|e| BuildError::at(p.artifact.line, format!("program.path: {}", e.0)))?;
    }
    // A static Linux program runs with the emulator in its task, which the
    // exec server reads from the image: without it, it never starts.
    if let Some(p) = first_linux
        && !m.programs.iter().any(|q| q.path == linux::LINUX_EMULATOR)
    {
        return Err(BuildError::at(
            p.artifact.line,
            format!(
                "{}: `{}` is a static Linux program, which runs with the Linux \
                 emulator at `{}`, and the image has none: add it as a [[program]] \
                 (package = \"linux-emulator\", bin = \"linux-emulation\")",
                source_key(&p.artifact.source),
                p.path,
                linux::LINUX_EMULATOR
            ),
        ));
    }
    for f in &m.files {
        let data = match &f.contents {
            Contents::Text(t) => t.clone().into_bytes(),
            Contents::Source(s) => {
                let path = base.join(s);
                std::fs::read(&path).map_err(|e| {
                    BuildError::at(
                        f.line,
                        format!("file `{}`: reading `{}`: {e}", f.path, path.display()),
                    )
                })?
            }
        };
        fs.add_file(&f.path, data, f.mode, f.owner, f.group)
            .map_err(|e| BuildError::at(f.line, format!("file.path: {}", e.0)))?;
    }
    if !m.users.is_empty() || !m.groups.is_empty() {
        let line = m
            .users
            .first()
            .map(|u| u.line)
            .or_else(|| m.groups.first().map(|g| g.line))
            .unwrap_or(0);
        for (path, text, mode) in [
            (
                users::PASSWD,
                users::passwd_file(&m.users, &m.groups),
                0o644,
            ),
            (users::GROUP, users::group_file(&m.users, &m.groups), 0o644),
            (users::SHADOW, users::shadow_file(&m.users), 0o600),
        ] {
            fs.add_file(path, text.into_bytes(), mode, 0, 0)
                .map_err(|e| BuildError::at(line, format!("user: {}", e.0)))?;
        }
    }
    if let Some(first) = m.services.first() {
        fs.add_file(
            hurd_servers::services::SERVICES,
            hurd_servers::services::to_text(&m.services).into_bytes(),
            0o644,
            0,
            0,
        )
        .map_err(|e| BuildError::at(0, format!("service: {} ({})", e.0, first.name)))?;
    }
    for t in &m.translators {
        fs.set_translator(t).map_err(|e| {
            let key = if e.0.contains("owner") {
                "translator.owner"
            } else {
                "translator.node"
            };
            BuildError::at(t.line, format!("{key}: {}", e.0))
        })?;
    }
    Ok(fs)
}

/// The key of the field naming where `source`'s binary comes from.
fn source_key(source: &Source) -> &'static str {
    match source {
        Source::Path(_) => "program.source",
        Source::Package { .. } => "program.package",
        Source::Crate { .. } => "program.crate",
    }
}

/// What the boot file system (the `rootfs` module) keeps of a tree whose
/// root is on the disk: `/etc` (`/etc/fstab`, which names the disk, and the
/// accounts), the disk's driver and file system, which `hurd-init` starts
/// from it, and the shell, so that root can still log in, on the boot file
/// system in memory, when the disk does not mount.
pub const ROOT_DISK_BOOT: [&str; 4] = ["/etc", "/bin/sh", "/hurd/virtio-blk", "/hurd/ext2fs"];

/// With a `[disk]`, moves the entries of `fs` below its mount point into
/// the disk's tree (see [`RootFs::split_off`]) and records the disk in
/// `/etc/fstab` (`device:vd0`, the first virtio disk, as ext2); else
/// `None`. A disk mounted at `/` gets the whole tree, with the base
/// directories, the exec server's node and the example archive every root
/// has ([`hurd_servers::rootfs::BASE_DIRS`], [`hurd_servers::rootfs::EXEC_NODE`],
/// [`hurd_servers::rootfs::EXAMPLE_ARCHIVE`]),
/// and `fs` keeps only [`ROOT_DISK_BOOT`]; `/etc/fstab` is on both.
///
/// # Errors
///
/// A [`BuildError`] at the `[disk]` line: the mount point is a file of the
/// tree, or `/etc/fstab` cannot be added.
pub fn split_disk(m: &Manifest, fs: &mut RootFs) -> Result<Option<RootFs>, BuildError> {
    let Some(disk) = &m.disk else {
        return Ok(None);
    };
    let at = |e: rootfs::TreeError| BuildError::at(disk.line, format!("disk: {}", e.0));
    let root = disk.mount == "/";
    let mut tree = if root {
        let mut tree = fs.clone();
        for (dir, mode) in hurd_servers::rootfs::BASE_DIRS {
            tree.ensure_dir(dir, mode).map_err(at)?;
        }
        let (node, command) = hurd_servers::rootfs::EXEC_NODE;
        if tree.get(node).is_none() {
            tree.set_translator(&Translator {
                node: node.to_owned(),
                command: command.iter().map(|w| (*w).to_owned()).collect(),
                owner: 0,
                line: disk.line,
            })
            .map_err(at)?;
        }
        let example = hurd_servers::rootfs::EXAMPLE_ARCHIVE;
        if tree.get(example).is_none() {
            let archive = hurd_servers::rootfs::example_archive();
            tree.add_file(example, archive, 0o644, 0, 0).map_err(at)?;
        }
        *fs = fs.subset(&ROOT_DISK_BOOT);
        tree
    } else {
        fs.split_off(&disk.mount)
            .map_err(|e| BuildError::at(disk.line, format!("disk.mount: {}", e.0)))?
    };
    let mount = hurd_servers::fstab::Mount {
        device: "vd0".to_owned(),
        dir: disk.mount.clone(),
        fs_type: "ext2".to_owned(),
        readonly: false,
        freq: 0,
        passno: if root { 1 } else { 2 },
    };
    let text = hurd_servers::fstab::to_text(&[mount]).into_bytes();
    fs.add_file(hurd_servers::fstab::FSTAB, text.clone(), 0o644, 0, 0)
        .map_err(at)?;
    if root {
        tree.add_file(hurd_servers::fstab::FSTAB, text, 0o644, 0, 0)
            .map_err(at)?;
    }
    Ok(Some(tree))
}

/// Lays the image out under `dir` (created; its `boot/` is replaced): the
/// kernel at `boot/kernel`, each module at `boot/modules/<name>`, the root
/// filesystem archive at `boot/modules/rootfs` (every entry dated `epoch`),
/// and `boot/grub/grub.cfg`; with a `[disk]`, the disk's tree is in
/// [`Staged::disk`] (for [`make_disk`]).
///
/// # Errors
///
/// A [`BuildError`]: as [`root_fs`], or the file system's error writing
/// the staging directory.
pub fn stage(
    m: &Manifest,
    base: &Path,
    dir: &Path,
    resolver: &mut dyn Resolve,
    epoch: Epoch,
) -> Result<Staged, BuildError> {
    let boot = dir.join("boot");
    if boot.exists() {
        std::fs::remove_dir_all(&boot).map_err(|e| BuildError::io("clearing", &boot, e))?;
    }
    let modules_dir = boot.join("modules");
    let grub_dir = boot.join("grub");
    for d in [&modules_dir, &grub_dir] {
        std::fs::create_dir_all(d).map_err(|e| BuildError::io("creating", d, e))?;
    }
    let kernel = boot.join("kernel");
    copy_artifact(resolver, &m.kernel, &kernel, "kernel")?;
    let mut modules = Vec::new();
    for module in &m.modules {
        let path = modules_dir.join(&module.name);
        copy_artifact(
            resolver,
            &module.artifact,
            &path,
            &format!("module `{}`", module.name),
        )?;
        modules.push(StagedModule {
            name: module.name.clone(),
            path,
            args: module.args.clone(),
        });
    }
    let mut fs = root_fs(m, base, resolver)?;
    let disk = split_disk(m, &mut fs)?;
    let rootfs = modules_dir.join(ROOTFS_MODULE);
    let archive = fs.to_tar(epoch).map_err(|e| BuildError {
        line: None,
        message: format!("packing the root file system: {}", e.0),
    })?;
    std::fs::write(&rootfs, archive).map_err(|e| BuildError::io("writing", &rootfs, e))?;
    modules.push(StagedModule {
        name: ROOTFS_MODULE.to_owned(),
        path: rootfs,
        args: Vec::new(),
    });
    let staged = Staged {
        dir: dir.to_path_buf(),
        name: m.name.clone(),
        kernel,
        protocol: m.protocol,
        cmdline: m.cmdline.clone(),
        modules,
        disk,
    };
    let cfg = grub_dir.join("grub.cfg");
    std::fs::write(&cfg, staged.grub_cfg()).map_err(|e| BuildError::io("writing", &cfg, e))?;
    Ok(staged)
}

/// Resolves `artifact` and copies its binary to `to`.
fn copy_artifact(
    resolver: &mut dyn Resolve,
    artifact: &Artifact,
    to: &Path,
    what: &str,
) -> Result<(), BuildError> {
    let from = resolver
        .resolve(artifact)
        .map_err(|e| BuildError::at(artifact.line, format!("{what}: {e}")))?;
    std::fs::copy(&from, to).map_err(|e| {
        BuildError::at(
            artifact.line,
            format!("{what}: copying `{}`: {e}", from.display()),
        )
    })?;
    Ok(())
}

/// Where the disk image of an image whose ISO is `iso` goes: beside it,
/// `NAME.img` for `NAME.iso`.
pub fn disk_image_path(iso: &Path) -> PathBuf {
    iso.with_extension("img")
}

/// The Debian packages [`make_iso`] needs.
pub const ISO_PACKAGES: &[&str] = &["grub-common", "grub-pc-bin", "xorriso", "mtools"];

/// Where `grub-pc-bin` keeps GRUB's BIOS (`i386-pc`) images and modules.
pub const GRUB_PC_DIR: &str = "/usr/lib/grub/i386-pc";

/// Packs a staged image as a bootable (BIOS) GRUB ISO at `out`, with
/// `grub-mkrescue`, dating the volume and every file in it `epoch`.
///
/// The ISO is reproducible: the same staged files give the same bytes on
/// every run. `grub-mkrescue` dates the volume and the files it copies
/// (GRUB's modules) with the clock, and would add an EFI system partition
/// (a FAT image with its own dates and serial number) where EFI GRUB is
/// installed; so it is given GRUB's BIOS directory only (no EFI, no
/// `mformat`), no locales, fonts or themes (the menu is on the serial
/// console), `--modification-date` from `epoch` (the volume's dates and
/// the boot catalog's), and xorriso's `-volume_date all_file_dates` (every
/// file's dates); `SOURCE_DATE_EPOCH` is set for the rest (xorriso's idea
/// of "now"). ISO 9660 orders directory records by name, so the order in
/// which files were staged does not matter.
///
/// # Errors
///
/// GRUB's tools missing (naming the packages to install), or
/// `grub-mkrescue` failing (with its message).
pub fn make_iso(staged: &Staged, out: &Path, epoch: Epoch) -> Result<(), BuildError> {
    let missing: Vec<&str> = [("grub-mkrescue", "grub-common"), ("xorriso", "xorriso")]
        .into_iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(_, package)| package)
        .chain((!Path::new(GRUB_PC_DIR).is_dir()).then_some("grub-pc-bin"))
        .collect();
    if !missing.is_empty() {
        return Err(BuildError {
            line: None,
            message: format!(
                "making an ISO needs GRUB's tools; install them with \
                 `apt-get install -y --no-install-recommends {}`",
                missing.join(" ")
            ),
        });
    }
    let output = Command::new("grub-mkrescue")
        .env("SOURCE_DATE_EPOCH", epoch.secs().to_string())
        .arg("--directory")
        .arg(GRUB_PC_DIR)
        .args(["--locales=", "--fonts=", "--themes="])
        .arg("-o")
        .arg(out)
        .arg(&staged.dir)
        .arg(format!("--modification-date={}", epoch.ecma119()))
        .args(["--", "-volume_date", "all_file_dates"])
        .arg(format!("={}", epoch.secs()))
        .output()
        .map_err(|e| BuildError {
            line: None,
            message: format!("running grub-mkrescue: {e}"),
        })?;
    if !output.status.success() {
        return Err(BuildError {
            line: None,
            message: format!(
                "grub-mkrescue failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(())
}

/// Compares two files built from the same inputs (`cargo xtask image
/// --verify`): `Ok(length)` when their bytes are equal.
///
/// # Errors
///
/// A file unreadable, or a message naming the first differing byte, how
/// many differ and both lengths.
pub fn compare_builds(first: &Path, second: &Path) -> Result<u64, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading `{}`: {e}", p.display()));
    let (a, b) = (read(first)?, read(second)?);
    if a == b {
        return Ok(a.len() as u64);
    }
    let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    let first_at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    Err(format!(
        "`{}` ({} bytes) and `{}` ({} bytes) differ: first at byte {first_at}, \
         {differing} bytes in all",
        first.display(),
        a.len(),
        second.display(),
        b.len()
    ))
}

/// Whether `tool` is an executable file in a `PATH` directory.
fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}
