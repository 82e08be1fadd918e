//! Where the workspace is, which `cargo` to use, and what `cargo metadata`
//! says about the members.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::json;

/// The environment variable holding the bare-metal target's rustflags.
pub const BARE_METAL_RUSTFLAGS: &str = "CARGO_TARGET_X86_64_UNKNOWN_NONE_RUSTFLAGS";

/// The workspace the tool works on.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace root: the directory holding the top `Cargo.toml`.
    pub root: PathBuf,
    /// The `cargo` binary that started the tool (`$CARGO`), or `cargo`.
    pub cargo: OsString,
}

impl Workspace {
    /// Finds the workspace root and the `cargo` binary.
    ///
    /// The root is two levels above this crate's manifest (`distro/xtask`),
    /// which holds wherever the tool is invoked from. If that directory no
    /// longer has a `Cargo.toml` (the checkout moved since the tool was
    /// built), asks `cargo locate-project --workspace` instead.
    pub fn find() -> Result<Self, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
        let root = match built_in {
            Some(root) if root.join("Cargo.toml").is_file() => root.to_owned(),
            _ => {
                let manifest = Cmd::new(&cargo)
                    .args(["locate-project", "--workspace", "--message-format", "plain"])
                    .read()
                    .map_err(|err| format!("cannot find the workspace root: {err}"))?;
                Path::new(manifest.trim())
                    .parent()
                    .map(Path::to_owned)
                    .ok_or_else(|| format!("cargo reported a strange manifest path {manifest:?}"))?
            }
        };
        Ok(Workspace { root, cargo })
    }

    /// A `cargo` command run in the workspace root.
    ///
    /// Builds for bare metal (the kernel and its programs, which go into
    /// images) get [`Workspace::remap_flags`], unless the caller set
    /// `RUSTFLAGS` or the target's rustflags itself; every build the tool
    /// starts gets the same flags, so none undoes another's.
    pub fn cargo(&self) -> Cmd {
        let cmd = Cmd::new(&self.cargo).dir(&self.root);
        let set = |k: &str| std::env::var_os(k).is_some();
        if set("RUSTFLAGS") || set("CARGO_ENCODED_RUSTFLAGS") || set(BARE_METAL_RUSTFLAGS) {
            return cmd;
        }
        match self.remap_flags() {
            Some(flags) => cmd.env(BARE_METAL_RUSTFLAGS, flags),
            None => cmd,
        }
    }

    /// `--remap-path-prefix` flags that take the checkout's directory and
    /// Cargo's home out of the binaries (debug information and panic
    /// locations name `/hurd-rs/...` and `/cargo/registry/...`), so that a
    /// kernel and its programs, and the images holding them, are the same
    /// bytes wherever they are built. `None` when a path has a space (the
    /// target's rustflags are split at spaces).
    pub fn remap_flags(&self) -> Option<String> {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
        let mut flags = Vec::new();
        for (from, to) in [
            (Some(self.root.clone()), "/hurd-rs"),
            (cargo_home, "/cargo"),
        ] {
            let Some(from) = from else { continue };
            let from = from.to_str()?;
            if from.contains(' ') || from.is_empty() {
                return None;
            }
            flags.push(format!("--remap-path-prefix={from}={to}"));
        }
        Some(flags.join(" "))
    }

    /// The workspace's own packages and target directory, from
    /// `cargo metadata --format-version 1 --no-deps`.
    pub fn metadata(&self) -> Result<Metadata, String> {
        let text = self
            .cargo()
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .read()?;
        Metadata::parse(&text)
    }
}

/// The parts of `cargo metadata` output the tool uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// The workspace members.
    pub packages: Vec<Package>,
    /// Where build output goes (`target/` unless configured otherwise).
    pub target_directory: PathBuf,
}

/// One workspace member.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// The package name, e.g. `hurd-ipc`.
    pub name: String,
    /// Its version, e.g. `0.1.0`.
    pub version: String,
    /// The directory of its `Cargo.toml`.
    pub dir: PathBuf,
    /// Whether the package has a library target.
    pub has_lib: bool,
    /// Whether it may be published (`publish = false` is not set).
    pub publishable: bool,
    /// The dependencies its manifest declares, of every kind.
    pub dependencies: Vec<Dependency>,
}

/// A dependency as a manifest declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// The depended-on package's name (not a `package =` rename).
    pub name: String,
    /// Which table declares it.
    pub kind: DependencyKind,
    /// Whether it is a path dependency (a crate of this checkout).
    pub local: bool,
}

/// The table a dependency is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyKind {
    /// `[dependencies]`.
    Normal,
    /// `[dev-dependencies]`: tests, examples and benches.
    Dev,
    /// `[build-dependencies]`: the build script.
    Build,
}

impl DependencyKind {
    /// The kind as a manifest table names it, for messages.
    pub fn table(self) -> &'static str {
        match self {
            DependencyKind::Normal => "dependencies",
            DependencyKind::Dev => "dev-dependencies",
            DependencyKind::Build => "build-dependencies",
        }
    }
}

impl Metadata {
    /// Reads the packages and target directory from `cargo metadata` JSON.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |what: &str| format!("unexpected `cargo metadata` output: {what}");
        let doc = json::parse(text).map_err(|err| bad(&err))?;
        let target_directory = doc
            .get("target_directory")
            .and_then(json::Value::as_str)
            .ok_or_else(|| bad("no target_directory"))?
            .into();
        let packages = doc
            .get("packages")
            .and_then(json::Value::as_array)
            .ok_or_else(|| bad("no packages"))?
            .iter()
            .map(|package| {
                let name = package
                    .get("name")
                    .and_then(json::Value::as_str)
                    .ok_or_else(|| bad("a package without a name"))?
                    .to_owned();
                let text = |key: &str| {
                    package
                        .get(key)
                        .and_then(json::Value::as_str)
                        .ok_or_else(|| bad(&format!("package `{name}` has no `{key}`")))
                };
                let version = text("version")?.to_owned();
                let dir = Path::new(text("manifest_path")?)
                    .parent()
                    .map(Path::to_owned)
                    .ok_or_else(|| bad(&format!("package `{name}` has a strange manifest path")))?;
                let targets = package
                    .get("targets")
                    .and_then(json::Value::as_array)
                    .ok_or_else(|| bad("a package without targets"))?;
                let has_lib = targets.iter().any(|target| {
                    target
                        .get("kind")
                        .and_then(json::Value::as_array)
                        .is_some_and(|kinds| kinds.iter().any(|k| k.as_str() == Some("lib")))
                });
                // `publish`: null when publishable anywhere, a list of
                // registries otherwise (empty for `publish = false`).
                let publishable = package
                    .get("publish")
                    .and_then(json::Value::as_array)
                    .is_none_or(|registries| !registries.is_empty());
                let dependencies = match package.get("dependencies") {
                    None => Vec::new(),
                    Some(deps) => deps
                        .as_array()
                        .ok_or_else(|| bad("`dependencies` is not an array"))?
                        .iter()
                        .map(|dep| parse_dependency(dep).ok_or_else(|| bad("a strange dependency")))
                        .collect::<Result<_, String>>()?,
                };
                Ok(Package {
                    name,
                    version,
                    dir,
                    has_lib,
                    publishable,
                    dependencies,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Metadata {
            packages,
            target_directory,
        })
    }

    /// The member named `name`.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// The library crates named `hurd-*`: the ones that must build `no_std`.
    pub fn hurd_libraries(&self) -> Vec<&str> {
        self.packages
            .iter()
            .filter(|p| p.has_lib && p.name.starts_with("hurd-"))
            .map(|p| p.name.as_str())
            .collect()
    }
}

/// One entry of a package's `dependencies` in `cargo metadata` output.
fn parse_dependency(dep: &json::Value) -> Option<Dependency> {
    let name = dep.get("name")?.as_str()?.to_owned();
    let kind = match dep.get("kind")? {
        json::Value::Null => DependencyKind::Normal,
        json::Value::String(kind) if kind == "dev" => DependencyKind::Dev,
        json::Value::String(kind) if kind == "build" => DependencyKind::Build,
        _ => return None,
    };
    let local = dep.get("path").and_then(json::Value::as_str).is_some();
    Some(Dependency { name, kind, local })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_metal_builds_name_no_build_directory() {
        let ws = Workspace {
            root: PathBuf::from("/src/hurd"),
            cargo: "cargo".into(),
        };
        let flags = ws.remap_flags().expect("no spaces");
        assert!(
            flags.starts_with("--remap-path-prefix=/src/hurd=/hurd-rs"),
            "{flags}"
        );
        let spaced = Workspace {
            root: PathBuf::from("/my src/hurd"),
            cargo: "cargo".into(),
        };
        assert_eq!(spaced.remap_flags(), None);
    }

    #[test]
    fn finds_hurd_libraries() {
        let text = r#"{
            "packages": [
                {"name": "hurd-ipc", "version": "0.1.0", "manifest_path": "/w/hurd-ipc/Cargo.toml",
                 "targets": [{"kind": ["lib"]}, {"kind": ["example"]}]},
                {"name": "xtask", "version": "0.1.0", "manifest_path": "/w/distro/xtask/Cargo.toml",
                 "targets": [{"kind": ["bin"]}]},
                {"name": "hurd-tool", "version": "0.1.0", "manifest_path": "/w/hurd-tool/Cargo.toml",
                 "targets": [{"kind": ["bin"]}]}
            ],
            "target_directory": "/w/target",
            "version": 1
        }"#;
        let metadata = Metadata::parse(text);
        assert_eq!(
            metadata.as_ref().map(Metadata::hurd_libraries),
            Ok(vec!["hurd-ipc"])
        );
        assert_eq!(
            metadata.map(|m| m.target_directory),
            Ok(PathBuf::from("/w/target"))
        );
    }

    #[test]
    fn reads_dependencies_and_publish() {
        let text = r#"{
            "packages": [
                {"name": "a", "version": "1.2.3", "manifest_path": "/w/a/Cargo.toml",
                 "targets": [], "publish": [], "dependencies": [
                    {"name": "b", "kind": null, "path": "/w/b", "rename": null},
                    {"name": "c", "kind": "dev", "rename": null},
                    {"name": "b", "kind": "build", "path": "/w/b"}
                ]},
                {"name": "b", "version": "0.1.0", "manifest_path": "/w/b/Cargo.toml",
                 "targets": [], "publish": null, "dependencies": []}
            ],
            "target_directory": "/w/target"
        }"#;
        let metadata = Metadata::parse(text).expect("parses");
        let a = metadata.package("a").expect("a");
        assert!(!a.publishable);
        assert_eq!(
            (a.version.as_str(), a.dir.as_path()),
            ("1.2.3", Path::new("/w/a"))
        );
        assert!(metadata.package("b").is_some_and(|b| b.publishable));
        let deps: Vec<(&str, DependencyKind, bool)> = a
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.kind, d.local))
            .collect();
        assert_eq!(
            deps,
            [
                ("b", DependencyKind::Normal, true),
                ("c", DependencyKind::Dev, false),
                ("b", DependencyKind::Build, true),
            ]
        );
        let odd = text.replace(r#""kind": "dev""#, r#""kind": "sideways""#);
        assert!(Metadata::parse(&odd).is_err());
    }

    #[test]
    fn rejects_other_documents() {
        assert!(Metadata::parse("[]").is_err());
        assert!(Metadata::parse(r#"{"packages": [{}], "target_directory": "t"}"#).is_err());
        let no_version = r#"{"packages": [{"name": "a", "manifest_path": "/a/Cargo.toml",
            "targets": []}], "target_directory": "t"}"#;
        assert!(Metadata::parse(no_version).is_err_and(|e| e.contains("`version`")));
    }
}
