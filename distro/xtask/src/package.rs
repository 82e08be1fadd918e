//! The `package` step of `cargo xtask test`: the publishable libraries as
//! crates.io would get them.
//!
//! 1. `cargo package` of every publishable `hurd-*` library in one command
//!    (contents, manifest and lock file of each).
//! 2. Each `.crate` is unpacked outside the workspace, as a user's download
//!    is, and checked with all its targets (tests, examples, benches) and
//!    features: what it needs must come with it, its dev-dependencies (such
//!    as `hurd-bench`) included. Its `hurd-*` dependencies, not on crates.io
//!    yet, are patched to their unpacked packages.
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
    let mut package = ws
        .cargo()
        .args(["package", "--no-verify", "--allow-dirty", "--quiet"]);
    for library in &libraries {
        package = package.args(["-p", &library.name]);
    }
    package.run()?;

    let packages = metadata.target_directory.join("package");
    let unpacked = std::env::temp_dir().join(format!("hurd-rs-package-{}", std::process::id()));
    let result = check_unpacked(ws, &metadata, &libraries, &packages, &unpacked);
    let _ = std::fs::remove_dir_all(&unpacked);
    result
}

/// Unpacks each library's `.crate` from `packages` into `unpacked`, then
/// checks all targets of each.
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
        Cmd::new("tar")
            .arg("-xzf")
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
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::Dependency;

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
