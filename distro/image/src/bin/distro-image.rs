//! `distro-image`: builds a boot image from a `distro.toml` manifest.
//!
//! ```text
//! distro-image --manifest distro/distro.toml -o hurd-rs.iso [--stage DIR] [--target-dir DIR] [--verify]
//! ```
//!
//! Binaries named by `package` are built with `cargo build --release
//! --target x86_64-unknown-none` in the workspace of the current directory;
//! those named by `crate` (a crate of one's own, outside the workspace) with
//! the same command in the crate's directory, into `crates/` under the
//! target directory; `path`/`source` entries and `crate` directories are
//! relative to the manifest's directory. The
//! image is staged in `--stage` (default: next to the output) and packed as a
//! GRUB ISO. Errors name the manifest file and line.
//!
//! A manifest with a `[disk]` also gives a raw disk image beside the ISO,
//! `NAME.img` for `NAME.iso` (attach it as QEMU's first virtio disk); one
//! left from an earlier build of a manifest without a disk is removed.
//!
//! Every date in the image is `SOURCE_DATE_EPOCH`, or 2000-01-01 when it is
//! not set. `--verify` stages and packs the image a second time, in another
//! directory and at a later second, and fails unless both ISOs are the
//! same bytes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use distro_image::{
    Artifact, Epoch, Manifest, Resolve, Source, Staged, compare_builds, disk_image_path, make_disk,
    make_iso, stage,
};

/// The target every boot binary is built for.
const TARGET: &str = "x86_64-unknown-none";

struct Args {
    manifest: PathBuf,
    out: PathBuf,
    stage: Option<PathBuf>,
    target_dir: Option<PathBuf>,
    verify: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut manifest = None;
    let mut out = None;
    let mut stage = None;
    let mut target_dir = None;
    let mut verify = false;
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.to_str() {
            Some("--manifest") => manifest = Some(value("--manifest")?),
            Some("-o" | "--output") => out = Some(value("-o")?),
            Some("--stage") => stage = Some(value("--stage")?),
            Some("--target-dir") => target_dir = Some(value("--target-dir")?),
            Some("--verify") => verify = true,
            _ => return Err(format!("unknown argument {}", a.to_string_lossy())),
        }
    }
    Ok(Args {
        manifest: manifest.ok_or("--manifest FILE is required")?,
        out: out.ok_or("-o OUT.iso is required")?,
        stage,
        target_dir,
        verify,
    })
}

/// Builds `package` binaries for the bare-metal target with cargo.
struct CargoBuild {
    base: PathBuf,
    target_dir: PathBuf,
    built: BTreeSet<(String, Option<String>)>,
}

impl Resolve for CargoBuild {
    fn resolve(&mut self, artifact: &Artifact) -> Result<PathBuf, String> {
        let (package, bin) = match &artifact.source {
            Source::Path(p) => return Ok(self.base.join(p)),
            Source::Crate { dir, bin } => return self.build_crate(dir, bin.as_deref()),
            Source::Package { package, bin } => (package, bin),
        };
        let key = (package.clone(), bin.clone());
        if !self.built.contains(&key) {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.args([
                "build",
                "--quiet",
                "--release",
                "--target",
                TARGET,
                "-p",
                package,
            ])
            .arg("--target-dir")
            .arg(&self.target_dir);
            if let Some(b) = bin {
                cmd.args(["--bin", b]);
            }
            eprintln!(
                "building {package}{} for {TARGET}",
                bin.as_ref().map(|b| format!(" ({b})")).unwrap_or_default()
            );
            let status = cmd
                .status()
                .map_err(|e| format!("could not run cargo: {e}"))?;
            if !status.success() {
                return Err(format!("building package `{package}` failed ({status})"));
            }
            self.built.insert(key);
        }
        let file = self
            .target_dir
            .join(TARGET)
            .join("release")
            .join(bin.as_deref().unwrap_or(package));
        if file.is_file() {
            Ok(file)
        } else {
            Err(format!(
                "package `{package}` built no binary `{}`",
                bin.as_deref().unwrap_or(package)
            ))
        }
    }
}

impl CargoBuild {
    /// Builds the crate in `dir` (relative to the manifest) with the command
    /// a program's author uses, `cargo build --release --target
    /// x86_64-unknown-none` run in its directory, and finds its binary `bin`
    /// (by default the one named as the package).
    fn build_crate(&mut self, dir: &str, bin: Option<&str>) -> Result<PathBuf, String> {
        let dir = self.base.join(dir);
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)
            .map_err(|e| format!("crate `{}`: {e}", manifest.display()))?;
        let name = match bin {
            Some(b) => b.to_owned(),
            None => package_name(&text)
                .ok_or_else(|| format!("crate `{}`: no [package] name", manifest.display()))?,
        };
        let target_dir = self.target_dir.join("crates");
        let key = (dir.display().to_string(), Some(name.clone()));
        if !self.built.contains(&key) {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.current_dir(&dir)
                .args(["build", "--quiet", "--release", "--target", TARGET])
                .arg("--target-dir")
                .arg(&target_dir);
            if let Some(b) = bin {
                cmd.args(["--bin", b]);
            }
            eprintln!("building the crate {} ({name}) for {TARGET}", dir.display());
            let status = cmd
                .status()
                .map_err(|e| format!("could not run cargo: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "building the crate `{}` failed ({status})",
                    dir.display()
                ));
            }
            self.built.insert(key);
        }
        let file = target_dir.join(TARGET).join("release").join(&name);
        if file.is_file() {
            Ok(file)
        } else {
            Err(format!(
                "the crate `{}` built no binary `{name}`",
                dir.display()
            ))
        }
    }
}

/// The `[package] name` of a `Cargo.toml`.
fn package_name(cargo_toml: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(cargo_toml).ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_owned())
}

fn run(args: Args) -> Result<(), String> {
    let m = Manifest::load(&args.manifest).map_err(|e| e.to_string())?;
    let base = args
        .manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let target_dir = match args.target_dir {
        Some(d) => d,
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target")),
    };
    let stage_dir = args.stage.unwrap_or_else(|| {
        let mut s = args.out.clone().into_os_string();
        s.push(".d");
        PathBuf::from(s)
    });
    let mut resolver = CargoBuild {
        base: base.clone(),
        target_dir,
        built: BTreeSet::new(),
    };
    let epoch = Epoch::from_env()?;
    let staged = stage(&m, &base, &stage_dir, &mut resolver, epoch)
        .map_err(|e| format!("{}: {e}", args.manifest.display()))?;
    make_iso(&staged, &args.out, epoch).map_err(|e| e.to_string())?;
    let disk = write_disk(&m, &staged, &base, &args.out, epoch)
        .map_err(|e| format!("{}: {e}", args.manifest.display()))?;
    let disk_args = disk.as_ref().map_or_else(String::new, |d| {
        format!(
            " -boot d -drive file={},format=raw,if=none,id=disk0 -device virtio-blk-pci,drive=disk0",
            d.display()
        )
    });
    eprintln!(
        "wrote {}{} ({} modules, dated {epoch}); boot it with: qemu-system-x86_64 -cdrom {}{disk_args} \
         -m 256M -cpu qemu64,+rdrand -display none -serial mon:stdio -no-reboot \
         -device isa-debug-exit,iobase=0xf4,iosize=0x04 (it ends when the system halts, or at Ctrl-A X)",
        args.out.display(),
        disk.as_ref()
            .map_or_else(String::new, |d| format!(" and {}", d.display())),
        staged.modules.len(),
        args.out.display()
    );
    if args.verify {
        verify(&m, &base, &args.out, &stage_dir, &mut resolver, epoch)?;
    }
    Ok(())
}

/// Writes the disk image of `m` beside the ISO `iso` (see
/// [`disk_image_path`]) when it has a `[disk]`, and returns its path; else
/// removes one an earlier build left there.
fn write_disk(
    m: &Manifest,
    staged: &Staged,
    base: &Path,
    iso: &Path,
    epoch: Epoch,
) -> Result<Option<PathBuf>, String> {
    let out = disk_image_path(iso);
    match (&m.disk, &staged.disk) {
        (Some(disk), Some(tree)) => {
            make_disk(disk, tree, base, &m.name, &out, epoch).map_err(|e| e.to_string())?;
            Ok(Some(out))
        }
        _ => {
            if out.exists() {
                std::fs::remove_file(&out)
                    .map_err(|e| format!("removing the old disk `{}`: {e}", out.display()))?;
            }
            Ok(None)
        }
    }
}

/// Builds the image a second time, in another staging directory and at a
/// later second of the clock, and compares the two ISOs. The second build
/// is removed when they are equal and kept for inspection when not.
fn verify(
    m: &Manifest,
    base: &Path,
    out: &Path,
    stage_dir: &Path,
    resolver: &mut CargoBuild,
    epoch: Epoch,
) -> Result<(), String> {
    let with_suffix = |p: &Path, s: &str| {
        let mut p = p.as_os_str().to_owned();
        p.push(s);
        PathBuf::from(p)
    };
    let second_stage = with_suffix(stage_dir, ".verify");
    let second = with_suffix(out, ".verify");
    // A date leaking from the clock would show as a difference.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let staged = stage(m, base, &second_stage, resolver, epoch).map_err(|e| e.to_string())?;
    make_iso(&staged, &second, epoch).map_err(|e| e.to_string())?;
    let second_disk = write_disk(m, &staged, base, &second, epoch)?;
    let mut pairs = vec![(out.to_path_buf(), second.clone())];
    if let Some(d) = second_disk {
        pairs.push((disk_image_path(out), d));
    }
    for (first, again) in &pairs {
        match compare_builds(first, again) {
            Ok(len) => eprintln!(
                "verified: a second build of {} is the same {len} bytes",
                first.display()
            ),
            Err(e) => {
                return Err(format!(
                    "the image is not reproducible: {e} (the second build is kept for comparison)"
                ));
            }
        }
    }
    for (_, again) in pairs {
        let _ = std::fs::remove_file(again);
    }
    let _ = std::fs::remove_dir_all(&second_stage);
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("distro-image: {e}");
            ExitCode::FAILURE
        }
    }
}
