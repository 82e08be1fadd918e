//! The manifests the documentation shows (the README, the `manifest`
//! module's docs, the reference manifest and the examples) parse, and every
//! package and binary they name is one of the workspace's, so that copying
//! one gives an image that builds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use distro_image::{Artifact, Manifest, Source};

/// The manifest a fragment of the documentation is checked in.
const FRAME: &str = "[image]\nname = \"frame\"\n[kernel]\npackage = \"hurd-kernel\"\n\
    [[module]]\nname = \"hurd-init\"\npackage = \"distro-programs\"\nbin = \"hurd-init\"\n";

/// This crate's directory.
fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's root (two levels up: `distro/image`).
fn root() -> PathBuf {
    here()
        .parent()
        .and_then(Path::parent)
        .expect("workspace root")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The ```toml blocks of a Markdown text.
fn toml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```toml") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Every workspace package and its binary targets.
fn workspace_bins() -> BTreeMap<String, BTreeSet<String>> {
    let root = root();
    let cargo: toml::Table = toml::from_str(&read(&root.join("Cargo.toml"))).expect("Cargo.toml");
    let members = cargo["workspace"]["members"]
        .as_array()
        .expect("workspace members");
    let mut out = BTreeMap::new();
    for m in members {
        let dir = root.join(m.as_str().expect("member path"));
        let manifest: toml::Table =
            toml::from_str(&read(&dir.join("Cargo.toml"))).expect("member Cargo.toml");
        let name = manifest["package"]["name"]
            .as_str()
            .expect("package name")
            .to_owned();
        let mut bins = BTreeSet::new();
        if dir.join("src/main.rs").is_file() {
            bins.insert(name.clone());
        }
        if let Ok(entries) = std::fs::read_dir(dir.join("src/bin")) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "rs") {
                    bins.extend(p.file_stem().map(|s| s.to_string_lossy().into_owned()));
                } else if p.join("main.rs").is_file() {
                    bins.extend(p.file_name().map(|s| s.to_string_lossy().into_owned()));
                }
            }
        }
        for b in manifest
            .get("bin")
            .and_then(|b| b.as_array())
            .into_iter()
            .flatten()
        {
            bins.extend(b.get("name").and_then(|n| n.as_str()).map(str::to_owned));
        }
        out.insert(name, bins);
    }
    out
}

/// Panics unless `m`'s packages and binaries exist in the workspace.
fn check_packages(what: &str, m: &Manifest, bins: &BTreeMap<String, BTreeSet<String>>) {
    let artifacts = std::iter::once(&m.kernel)
        .chain(m.modules.iter().map(|m| &m.artifact))
        .chain(m.programs.iter().map(|p| &p.artifact));
    for Artifact { source, line } in artifacts {
        if let Source::Package { package, bin } = source {
            let Some(targets) = bins.get(package) else {
                panic!("{what}, line {line}: no workspace package `{package}`");
            };
            let bin = bin.as_deref().unwrap_or(package);
            assert!(
                targets.contains(bin),
                "{what}, line {line}: package `{package}` has no binary `{bin}` (it has {targets:?})"
            );
        }
    }
}

#[test]
fn the_readme_and_module_doc_manifests_build() {
    let bins = workspace_bins();
    let readme = read(&here().join("README.md"));
    // The module's docs, without the `//! ` of each line.
    let module_doc: String = read(&here().join("src/manifest/mod.rs"))
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    for (what, text) in [("README.md", readme), ("src/manifest/mod.rs", module_doc)] {
        let blocks = toml_blocks(&text);
        assert!(!blocks.is_empty(), "{what} shows no manifest");
        for block in blocks {
            // A fragment (a table or two) is checked inside a whole manifest.
            let block = if block.contains("[image]") {
                block
            } else {
                format!("{FRAME}{block}")
            };
            let m = Manifest::parse(&block).unwrap_or_else(|e| panic!("{what}: {e}\n{block}"));
            check_packages(what, &m, &bins);
        }
    }
}

#[test]
fn the_reference_and_example_manifests_build() {
    let bins = workspace_bins();
    let mut paths = vec![root().join("distro/distro.toml")];
    let examples = root().join("distro/examples");
    for e in std::fs::read_dir(&examples)
        .expect("distro/examples")
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "toml") {
            paths.push(e.path());
        }
    }
    assert!(paths.len() > 1, "no example manifests");
    for path in paths {
        let m = Manifest::load(&path).unwrap_or_else(|e| panic!("{e}"));
        check_packages(&path.display().to_string(), &m, &bins);
    }
}
