//! `cargo xtask fuzz [TARGET...] [--time S]`: the fuzz targets of `fuzz/`
//! (the `fuzz-targets` crate) under libFuzzer, each for `S` seconds (60 by
//! default), one after another.
//!
//! libFuzzer's coverage instrumentation needs a nightly compiler, so this
//! runs `cargo +nightly fuzz run`, installing the nightly toolchain
//! (`rustup toolchain install nightly --profile minimal`) and `cargo-fuzz`
//! (`cargo install cargo-fuzz`) first when they are missing. Nothing else
//! in the workspace needs nightly: `cargo xtask test` replays every target
//! over its corpus on stable (`fuzz/tests/corpus.rs`).
//!
//! libFuzzer starts from the targets' seeds (`fuzz_targets::seeds`, written
//! to `target/fuzz-corpus/TARGET` first) and the inputs kept in
//! `fuzz/corpus/TARGET` (read, never written); new inputs it finds
//! interesting go to `target/fuzz-corpus/TARGET`. An input
//! that makes a target fail is saved under `fuzz/artifacts/TARGET/`, and
//! belongs in `fuzz/regressions/TARGET/` once the bug is fixed.

use std::process::ExitCode;

use crate::Failure;
use crate::cmd::Cmd;
use crate::workspace::Workspace;

/// Seconds per target when `--time` is not given.
const DEFAULT_SECONDS: u64 = 60;

/// The command's entry point.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let mut seconds = DEFAULT_SECONDS;
    let mut chosen: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--time" => {
                seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|&s| s > 0)
                    .ok_or_else(|| Failure::Usage("`--time` takes a number of seconds".into()))?;
            }
            other if other.starts_with('-') => {
                return Err(Failure::Usage(format!(
                    "unknown option `{other}` for `cargo xtask fuzz`"
                )));
            }
            target => chosen.push(target.to_owned()),
        }
    }
    let ws = Workspace::find()?;
    let all = targets(&ws)?;
    for target in &chosen {
        if !all.contains(target) {
            return Err(Failure::Usage(format!(
                "no fuzz target `{target}` (there are: {})",
                all.join(", ")
            )));
        }
    }
    let targets = if chosen.is_empty() { all } else { chosen };
    install()?;
    // The seeds the stable tests start from, written where libFuzzer keeps
    // what it finds.
    let found = ws.root.join("target/fuzz-corpus");
    ws.cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "fuzz-targets",
            "--example",
            "seeds",
            "--",
        ])
        .arg(found.as_os_str())
        .run()?;
    for target in &targets {
        eprintln!("==> fuzz {target} for {seconds} s");
        let kept = ws.root.join("fuzz/corpus").join(target);
        let mut fuzz = Cmd::new("cargo")
            .dir(&ws.root)
            .args([
                "+nightly",
                "fuzz",
                "run",
                "--fuzz-dir",
                "fuzz",
                "--features",
                "libfuzzer",
            ])
            .arg(target.as_str())
            .arg(found.join(target).as_os_str());
        if kept.is_dir() {
            fuzz = fuzz.arg(kept.as_os_str());
        }
        fuzz.arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .run()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The target names: the `name`s of the `[[bin]]` tables of
/// `fuzz/Cargo.toml`.
fn targets(ws: &Workspace) -> Result<Vec<String>, String> {
    let path = ws.root.join("fuzz/Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("reading {}: {err}", path.display()))?;
    let names = bin_names(&text);
    if names.is_empty() {
        return Err(format!("{} has no [[bin]] targets", path.display()));
    }
    Ok(names)
}

/// The `name = "..."` lines of the `[[bin]]` tables of a manifest.
fn bin_names(manifest: &str) -> Vec<String> {
    let mut in_bin = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin
            && let Some(value) = line.strip_prefix("name")
            && let Some(value) = value.trim_start().strip_prefix('=')
        {
            names.push(value.trim().trim_matches('"').to_owned());
        }
    }
    names
}

/// Installs the nightly toolchain and cargo-fuzz when they are missing.
fn install() -> Result<(), String> {
    if !Cmd::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .succeeds_quietly()
    {
        eprintln!("==> installing the nightly toolchain (fuzzing only)");
        Cmd::new("rustup")
            .args(["toolchain", "install", "nightly", "--profile", "minimal"])
            .run()?;
    }
    if !Cmd::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .succeeds_quietly()
    {
        eprintln!("==> installing cargo-fuzz");
        Cmd::new("cargo")
            .args(["install", "--locked", "cargo-fuzz"])
            .run()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::bin_names;

    #[test]
    fn the_bins_of_a_manifest() {
        let manifest = "[package]\nname = \"fuzz-targets\"\n\n[[bin]]\nname = \"ipc_wire\"\npath = \"fuzz_targets/ipc_wire.rs\"\n\n[[bin]]\nname = \"tar\"\n";
        assert_eq!(bin_names(manifest), ["ipc_wire", "tar"]);
    }
}
