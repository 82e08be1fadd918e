//! `distro-image`: builds a boot image from a `distro.toml` manifest.
//!
//! ```text
//! distro-image --manifest distro/distro.toml -o hurd-rs.iso [--stage DIR] [--target-dir DIR]
//! ```
//!
//! Binaries named by `package` are built with `cargo build --release
//! --target x86_64-unknown-none` in the workspace of the current directory;
//! `path`/`source` entries are read relative to the manifest's directory. The
//! image is staged in `--stage` (default: next to the output) and packed as a
//! GRUB ISO. Errors name the manifest file and line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use distro_image::{Artifact, Manifest, Resolve, Source, make_iso, stage};

/// The target every boot binary is built for.
const TARGET: &str = "x86_64-unknown-none";

struct Args {
    manifest: PathBuf,
    out: PathBuf,
    stage: Option<PathBuf>,
    target_dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut manifest = None;
    let mut out = None;
    let mut stage = None;
    let mut target_dir = None;
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
            _ => return Err(format!("unknown argument {}", a.to_string_lossy())),
        }
    }
    Ok(Args {
        manifest: manifest.ok_or("--manifest FILE is required")?,
        out: out.ok_or("-o OUT.iso is required")?,
        stage,
        target_dir,
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

fn run(args: Args) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.manifest)
        .map_err(|e| format!("{}: {e}", args.manifest.display()))?;
    let m = Manifest::parse(&text).map_err(|e| format!("{}: {e}", args.manifest.display()))?;
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
    let staged = stage(&m, &base, &stage_dir, &mut resolver)
        .map_err(|e| format!("{}: {e}", args.manifest.display()))?;
    make_iso(&staged, &args.out).map_err(|e| e.to_string())?;
    eprintln!(
        "wrote {} ({} modules); boot it with: qemu-system-x86_64 -cdrom {} -serial stdio -display none",
        args.out.display(),
        staged.modules.len(),
        args.out.display()
    );
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
