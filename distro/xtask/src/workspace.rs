//! Where the workspace is, which `cargo` to use, and what `cargo metadata`
//! says about the members.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::json;

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
    pub fn cargo(&self) -> Cmd {
        Cmd::new(&self.cargo).dir(&self.root)
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
    /// Whether the package has a library target.
    pub has_lib: bool,
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
                Ok(Package { name, has_lib })
            })
            .collect::<Result<_, String>>()?;
        Ok(Metadata {
            packages,
            target_directory,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hurd_libraries() {
        let text = r#"{
            "packages": [
                {"name": "hurd-ipc", "targets": [{"kind": ["lib"]}, {"kind": ["example"]}]},
                {"name": "xtask", "targets": [{"kind": ["bin"]}]},
                {"name": "hurd-tool", "targets": [{"kind": ["bin"]}]}
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
    fn rejects_other_documents() {
        assert!(Metadata::parse("[]").is_err());
        assert!(Metadata::parse(r#"{"packages": [{}], "target_directory": "t"}"#).is_err());
    }
}
