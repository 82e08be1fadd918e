//! The crate order: the crate map of `ARCHITECTURE.md`, and the check that
//! every dependency arrow between the workspace's crates goes up it.
//!
//! The map is the table under the `## Crate map` heading. Each row names one
//! or more crates in backticks in its first cell; rows run top to bottom. A
//! crate may depend (with a normal, dev or build dependency) only on crates
//! in rows above its own, and every workspace crate must be in the map, and
//! only those. Reading the order from the document means the map and the
//! check cannot disagree.

use std::collections::HashMap;
use std::path::Path;

use crate::workspace::Metadata;

/// The document holding the map, relative to the workspace root.
pub const DOCUMENT: &str = "ARCHITECTURE.md";

/// The heading of the map's section.
const HEADING: &str = "## Crate map";

/// The crate map: each crate with its row (0 is the top row) and the line of
/// the document that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateMap {
    /// Crate name, row, line.
    crates: Vec<(String, usize, usize)>,
}

impl CrateMap {
    /// Reads the map from the text of [`DOCUMENT`]. Errors name the line.
    pub fn parse(text: &str) -> Result<CrateMap, String> {
        let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
        if !lines.any(|(_, line)| line.trim_end() == HEADING) {
            return Err(format!("{DOCUMENT} has no `{HEADING}` section"));
        }
        let mut crates: Vec<(String, usize, usize)> = Vec::new();
        let mut table_rows = 0;
        for (number, line) in lines {
            let line = line.trim();
            if line.starts_with('#') {
                break;
            }
            if !line.starts_with('|') {
                continue;
            }
            table_rows += 1;
            // The first two rows are the header and its separator.
            if table_rows <= 2 {
                continue;
            }
            let first_cell = line[1..].split('|').next().unwrap_or("");
            let names = backticked(first_cell);
            if names.is_empty() {
                return Err(format!(
                    "{DOCUMENT}:{number}: a row of the crate map names no crate in backticks"
                ));
            }
            let row = table_rows - 3;
            for name in names {
                if !is_crate_name(name) {
                    return Err(format!("{DOCUMENT}:{number}: `{name}` is not a crate name"));
                }
                if let Some((_, _, first)) = crates.iter().find(|(n, _, _)| n == name) {
                    return Err(format!(
                        "{DOCUMENT}:{number}: `{name}` is already in the crate map (line {first})"
                    ));
                }
                crates.push((name.to_owned(), row, number));
            }
        }
        if crates.is_empty() {
            return Err(format!(
                "{DOCUMENT}: the `{HEADING}` section has no table of crates"
            ));
        }
        Ok(CrateMap { crates })
    }

    /// Reads the map from `<root>/ARCHITECTURE.md`.
    pub fn load(root: &Path) -> Result<CrateMap, String> {
        let file = root.join(DOCUMENT);
        let text = std::fs::read_to_string(&file)
            .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
        CrateMap::parse(&text)
    }

    /// The row of `name`, if the map has it.
    pub fn row(&self, name: &str) -> Option<usize> {
        self.crates
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|&(_, row, _)| row)
    }

    /// The crates in map order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.crates.iter().map(|(name, _, _)| name.as_str())
    }
}

/// The texts between pairs of backticks in `cell`.
fn backticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// Whether `name` could be a package name: ASCII letters, digits, `-`, `_`.
fn is_crate_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Every way the workspace and the map disagree, one message each; empty
/// when they agree.
pub fn check(map: &CrateMap, metadata: &Metadata) -> Vec<String> {
    let mut problems = Vec::new();
    let rows: HashMap<&str, usize> = metadata
        .packages
        .iter()
        .filter_map(|p| map.row(&p.name).map(|row| (p.name.as_str(), row)))
        .collect();
    for package in &metadata.packages {
        if !rows.contains_key(package.name.as_str()) {
            problems.push(format!(
                "`{}` is a workspace crate missing from the crate map in {DOCUMENT}: add it \
                 to the row of its layer",
                package.name
            ));
        }
    }
    for name in map.names() {
        if metadata.package(name).is_none() {
            problems.push(format!(
                "the crate map in {DOCUMENT} names `{name}`, which is not a workspace crate"
            ));
        }
    }
    for package in &metadata.packages {
        let Some(&from) = rows.get(package.name.as_str()) else {
            continue;
        };
        for dep in package.dependencies.iter().filter(|d| d.local) {
            let Some(&to) = rows.get(dep.name.as_str()) else {
                continue;
            };
            if to >= from {
                let place = if to == from {
                    "in the same row as"
                } else {
                    "below"
                };
                problems.push(format!(
                    "`{}` depends on `{}` ([{}]), which is {place} it in the crate map of \
                     {DOCUMENT}: arrows must go up the map",
                    package.name,
                    dep.name,
                    dep.kind.table()
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{Dependency, DependencyKind, Package};

    const DOC: &str = "\
# Architecture

Some words, and a table that is not the map:

| a | b |
|---|---|
| `not-a-member` | x |

## Crate map

| crate | holds |
|---|---|
| [`base`](base/) | the bottom of everything, `with-ticks` in its text |
| `middle-a`, `middle-b` | two crates that know nothing of each other |
| `top` | uses the rest |

## Next section

| `ignored` | |
";

    fn package(name: &str, deps: &[(&str, DependencyKind)]) -> Package {
        Package {
            name: name.to_owned(),
            version: "0.1.0".to_owned(),
            dir: format!("/w/{name}").into(),
            has_lib: true,
            publishable: true,
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

    fn workspace(packages: Vec<Package>) -> Metadata {
        Metadata {
            packages,
            target_directory: "/w/target".into(),
        }
    }

    fn good_workspace() -> Vec<Package> {
        use DependencyKind::*;
        vec![
            package("base", &[]),
            package("middle-a", &[("base", Normal)]),
            package("middle-b", &[("base", Build)]),
            package(
                "top",
                &[("middle-a", Normal), ("middle-b", Dev), ("base", Dev)],
            ),
        ]
    }

    #[test]
    fn reads_rows_from_the_section() {
        let map = CrateMap::parse(DOC).expect("parses");
        let names: Vec<&str> = map.names().collect();
        assert_eq!(names, ["base", "middle-a", "middle-b", "top"]);
        assert_eq!(map.row("base"), Some(0));
        assert_eq!(map.row("middle-a"), map.row("middle-b"));
        assert_eq!(map.row("top"), Some(2));
        assert_eq!(map.row("with-ticks"), None);
        assert_eq!(map.row("ignored"), None);
    }

    #[test]
    fn a_workspace_that_follows_the_map_passes() {
        let map = CrateMap::parse(DOC).expect("parses");
        assert_eq!(
            check(&map, &workspace(good_workspace())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_kind_of_upward_arrow_fails() {
        let map = CrateMap::parse(DOC).expect("parses");
        for kind in [
            DependencyKind::Normal,
            DependencyKind::Dev,
            DependencyKind::Build,
        ] {
            let mut packages = good_workspace();
            packages[0].dependencies.push(Dependency {
                name: "top".to_owned(),
                kind,
                local: true,
            });
            let problems = check(&map, &workspace(packages));
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains("`base` depends on `top`"));
            assert!(problems[0].contains(kind.table()));
            assert!(problems[0].contains("below"));
        }
    }

    #[test]
    fn arrows_within_a_row_fail() {
        let map = CrateMap::parse(DOC).expect("parses");
        let mut packages = good_workspace();
        packages[1].dependencies.push(Dependency {
            name: "middle-b".to_owned(),
            kind: DependencyKind::Dev,
            local: true,
        });
        let problems = check(&map, &workspace(packages));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("same row"));
    }

    #[test]
    fn registry_dependencies_are_not_arrows() {
        let map = CrateMap::parse(DOC).expect("parses");
        let mut packages = good_workspace();
        packages[0].dependencies.push(Dependency {
            name: "top".to_owned(),
            kind: DependencyKind::Normal,
            local: false,
        });
        assert!(check(&map, &workspace(packages)).is_empty());
    }

    #[test]
    fn the_map_and_the_workspace_must_name_the_same_crates() {
        let map = CrateMap::parse(DOC).expect("parses");
        let mut packages = good_workspace();
        packages.push(package("newcomer", &[]));
        packages.retain(|p| p.name != "middle-b");
        let problems = check(&map, &workspace(packages));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`newcomer` is a workspace crate missing"));
        assert!(problems[1].contains("names `middle-b`, which is not a workspace crate"));
    }

    #[test]
    fn malformed_maps_are_refused_with_the_line() {
        let no_section = "# Architecture\n\n| `a` |\n";
        assert!(CrateMap::parse(no_section).is_err_and(|e| e.contains("no `## Crate map`")));
        let empty = "## Crate map\n\nNo table.\n";
        assert!(CrateMap::parse(empty).is_err_and(|e| e.contains("no table")));
        let twice = "## Crate map\n| c |\n|-|\n| `a` |\n| `a` |\n";
        assert!(CrateMap::parse(twice).is_err_and(|e| e.contains(":5:") && e.contains("line 4")));
        let unnamed = "## Crate map\n| c |\n|-|\n| a |\n";
        assert!(CrateMap::parse(unnamed).is_err_and(|e| e.contains(":4:")));
        let odd = "## Crate map\n| c |\n|-|\n| `a b` |\n";
        assert!(CrateMap::parse(odd).is_err_and(|e| e.contains("not a crate name")));
    }
}
