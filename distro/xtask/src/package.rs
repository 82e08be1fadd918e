//! The `package` step of `cargo xtask test`: the publishable libraries as
//! crates.io would get them.
//!
//! 1. Each publishable `hurd-*` library's manifest has docs.rs metadata and
//!    its README a feature table naming exactly the features it declares.
//! 2. `cargo package` of every publishable `hurd-*` library in one command
//!    (contents, manifest and lock file of each), and `cargo publish
//!    --workspace --dry-run --no-verify`: every crate of the workspace,
//!    publishable or not, packages, and the publishable ones in dependency
//!    order.
//! 3. Each `.crate` is unpacked outside the workspace, as a user's download
//!    is, checked with all its targets (tests, examples, benches) and
//!    features, and its tests run (unit, integration and doc tests, all
//!    features): what it needs must come with it, its dev-dependencies (such
//!    as `hurd-bench`) and test data included. Its `hurd-*` dependencies, not
//!    on crates.io yet, are patched to their unpacked packages.
//!
//! This replaces cargo's own verification (`cargo package` builds each
//! package's library against the others' packages in a temporary registry):
//! cargo keeps its extraction of that registry's crates between runs and
//! reuses it when the version has not changed, so a second run would verify
//! against the packages of the first.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::workspace::{DependencyKind, Metadata, Package, Workspace};

/// The libraries to package: publishable `hurd-*` crates with a library.
pub fn publishable_libraries(metadata: &Metadata) -> Vec<&Package> {
    metadata
        .packages
        .iter()
        .filter(|p| p.has_lib && p.publishable && p.name.starts_with("hurd-"))
        .collect()
}

/// The workspace crates `package` needs to build all its targets: its own
/// path dependencies of every kind, and theirs (normal and build), to the
/// end.
pub fn local_dependencies<'a>(metadata: &'a Metadata, package: &'a Package) -> Vec<&'a Package> {
    let mut found: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = package
        .dependencies
        .iter()
        .filter(|d| d.local)
        .map(|d| d.name.as_str())
        .collect();
    while let Some(name) = todo.pop() {
        let Some(dep) = metadata.package(name) else {
            continue;
        };
        if dep.name == package.name || !found.insert(dep.name.as_str()) {
            continue;
        }
        todo.extend(
            dep.dependencies
                .iter()
                .filter(|d| d.local && d.kind != DependencyKind::Dev)
                .map(|d| d.name.as_str()),
        );
    }
    found
        .into_iter()
        .filter_map(|name| metadata.package(name))
        .collect()
}

/// The directory a package unpacks to: `<name>-<version>`.
fn stem(package: &Package) -> String {
    format!("{}-{}", package.name, package.version)
}

/// The `--config` arguments patching `deps` to their packages unpacked in
/// `unpacked`.
fn patches(deps: &[&Package], unpacked: &Path) -> Vec<String> {
    deps.iter()
        .flat_map(|dep| {
            let dir = unpacked.join(stem(dep));
            [
                "--config".to_owned(),
                format!(
                    "patch.crates-io.{}.path={:?}",
                    dep.name,
                    dir.display().to_string()
                ),
            ]
        })
        .collect()
}

/// Runs both checks (see the module's documentation).
pub fn check(ws: &Workspace) -> Result<(), String> {
    let metadata = ws.metadata()?;
    let libraries = publishable_libraries(&metadata);
    if libraries.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    for library in &libraries {
        let read = |file: &str| std::fs::read_to_string(library.dir.join(file)).unwrap_or_default();
        let dir = library.dir.strip_prefix(&ws.root).unwrap_or(&library.dir);
        problems.extend(release_metadata_problems(
            &dir.display().to_string(),
            &read("Cargo.toml"),
            &read("README.md"),
        ));
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let mut package = ws
        .cargo()
        .args(["package", "--no-verify", "--allow-dirty", "--quiet"]);
    for library in &libraries {
        package = package.args(["-p", &library.name]);
    }
    package.run()?;
    ws.cargo()
        .args([
            "publish",
            "--workspace",
            "--dry-run",
            "--no-verify",
            "--allow-dirty",
            "--quiet",
        ])
        .run()?;

    let packages = metadata.target_directory.join("package");
    let unpacked = std::env::temp_dir().join(format!("hurd-rs-package-{}", std::process::id()));
    let result = check_unpacked(ws, &metadata, &libraries, &packages, &unpacked);
    let _ = std::fs::remove_dir_all(&unpacked);
    result
}

/// Unpacks each library's `.crate` from `packages` into `unpacked`, then
/// checks all targets of each and runs its tests.
fn check_unpacked(
    ws: &Workspace,
    metadata: &Metadata,
    libraries: &[&Package],
    packages: &Path,
    unpacked: &Path,
) -> Result<(), String> {
    std::fs::create_dir_all(unpacked)
        .map_err(|err| format!("cannot create {}: {err}", unpacked.display()))?;
    for library in libraries {
        // `-m`: the files get the time of extraction, not the fixed time
        // cargo packs them with. cargo keys an unpacked package's build by
        // its path relative to its own root and sees whether it is fresh
        // by the files' times, so with the packed times a later check would
        // take the build of an earlier, different package for fresh.
        Cmd::new("tar")
            .arg("-xmzf")
            .arg(packages.join(format!("{}.crate", stem(library))))
            .arg("-C")
            .arg(unpacked)
            .run()?;
    }
    let target_dir: PathBuf = metadata.target_directory.join("package-check");
    for library in libraries {
        let dir = unpacked.join(stem(library));
        let deps = local_dependencies(metadata, library);
        if let Some(dep) = deps.iter().find(|d| !libraries.contains(d)) {
            return Err(format!(
                "{} depends on {}, which is not a publishable library",
                library.name, dep.name
            ));
        }
        Cmd::new(&ws.cargo)
            .dir(&dir)
            .args(["check", "--quiet", "--all-targets", "--all-features"])
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .args(patches(&deps, unpacked))
            .run()
            .map_err(|err| {
                format!(
                    "the package {} does not build all its targets: {err}",
                    stem(library)
                )
            })?;
        Cmd::new(&ws.cargo)
            .dir(&dir)
            .args(["test", "--quiet", "--all-features"])
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .args(patches(&deps, unpacked))
            .run()
            .map_err(|err| {
                format!(
                    "the tests of the package {} fail as a user would run them: {err}",
                    stem(library)
                )
            })?;
    }
    Ok(())
}

/// The features a crate's `Cargo.toml` declares (its `[features]` table,
/// `default` left out), in order.
pub fn declared_features(manifest: &str) -> Vec<String> {
    let mut in_features = false;
    let mut names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_features = line == "[features]";
            continue;
        }
        if !in_features || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && name != "default" {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// The features a crate's README documents: the backticked first cells of
/// the table under its `## Features` heading, in order.
pub fn documented_features(readme: &str) -> Vec<String> {
    let mut lines = readme.lines();
    if !lines.any(|line| line.trim_end() == "## Features") {
        return Vec::new();
    }
    lines
        .take_while(|line| !line.starts_with("## "))
        .filter(|line| line.starts_with('|') && !line.starts_with("|---"))
        .skip(1)
        .filter_map(|line| {
            let cell = line[1..].split('|').next()?.trim();
            Some(cell.strip_prefix('`')?.strip_suffix('`')?.to_owned())
        })
        .collect()
}

/// What a publishable library's manifest and README must say for its users
/// on crates.io and docs.rs; the problems found, one line each, naming the
/// library's directory `name`.
pub fn release_metadata_problems(name: &str, manifest: &str, readme: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !manifest.contains("[package.metadata.docs.rs]") {
        problems.push(format!(
            "{name}/Cargo.toml has no [package.metadata.docs.rs] (docs.rs would hide the feature-gated items)"
        ));
    }
    let declared = declared_features(manifest);
    let documented = documented_features(readme);
    if declared != documented {
        problems.push(format!(
            "{name}/README.md's feature table lists {documented:?}, its Cargo.toml declares {declared:?}"
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::Dependency;

    #[test]
    fn every_library_documents_its_features_for_docs_rs() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("workspace root");
        let mut checked = 0;
        let mut problems = Vec::new();
        let dirs = std::fs::read_dir(root)
            .expect("workspace root")
            .chain(std::fs::read_dir(root.join("distro")).expect("distro"));
        for entry in dirs {
            let dir = entry.expect("entry").path();
            let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
                continue;
            };
            let name = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
            let publishable_library = manifest.contains("name = \"hurd-")
                && !manifest.contains("publish = false")
                && dir.join("src/lib.rs").exists();
            if !publishable_library {
                continue;
            }
            let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
            problems.extend(release_metadata_problems(&name, &manifest, &readme));
            checked += 1;
        }
        assert!(
            checked >= 9,
            "only {checked} libraries found under {root:?}"
        );
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn feature_tables_are_read_as_written() {
        let manifest = "[package]\nname = \"x\"\n[features]\ndefault = [\"std\"]\n## doc\nstd = []\ndefmt = [\"dep:defmt\"]\n[dependencies]\nfoo = \"1\"\n";
        assert_eq!(declared_features(manifest), ["std", "defmt"]);
        let readme = "# x\n## Features\n\n| feature | default | what |\n|---|---|---|\n| `std` | yes | a |\n| `defmt` | no | b |\n\n## License\n| `other` |\n";
        assert_eq!(documented_features(readme), ["std", "defmt"]);
        assert_eq!(
            release_metadata_problems("x", manifest, readme),
            [
                "x/Cargo.toml has no [package.metadata.docs.rs] (docs.rs would hide the feature-gated items)"
            ]
        );
        assert_eq!(release_metadata_problems("x", manifest, "# x\n").len(), 2);
    }

    fn package(name: &str, publishable: bool, deps: &[(&str, DependencyKind)]) -> Package {
        Package {
            name: name.to_owned(),
            version: "0.1.0".to_owned(),
            dir: format!("/w/{name}").into(),
            has_lib: true,
            publishable,
            dependencies: deps
                .iter()
                .map(|&(name, kind)| Dependency {
                    name: name.to_owned(),
                    kind,
                    local: true,
                })
                .collect(),
        }
    }

    #[test]
    fn patches_what_all_targets_need() {
        use DependencyKind::*;
        let metadata = Metadata {
            packages: vec![
                package("hurd-bench", true, &[]),
                package("hurd-ipc", true, &[("hurd-bench", Dev)]),
                package(
                    "hurd-vm",
                    true,
                    &[("hurd-ipc", Normal), ("hurd-bench", Dev)],
                ),
                package(
                    "hurd-pager",
                    true,
                    &[("hurd-vm", Normal), ("hurd-bench", Dev)],
                ),
                package("hurd-tool", false, &[("hurd-pager", Normal)]),
            ],
            target_directory: "/w/target".into(),
        };
        let names: Vec<&str> = publishable_libraries(&metadata)
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["hurd-bench", "hurd-ipc", "hurd-vm", "hurd-pager"]);
        let pager = metadata.package("hurd-pager").expect("pager");
        let deps = local_dependencies(&metadata, pager);
        let names: Vec<&str> = deps.iter().map(|p| p.name.as_str()).collect();
        // hurd-ipc's own dev-dependency is not needed, but the pager's is.
        assert_eq!(names, ["hurd-bench", "hurd-ipc", "hurd-vm"]);
        assert_eq!(
            patches(&deps[..1], Path::new("/tmp/p")),
            [
                "--config",
                "patch.crates-io.hurd-bench.path=\"/tmp/p/hurd-bench-0.1.0\""
            ]
        );
    }
}
