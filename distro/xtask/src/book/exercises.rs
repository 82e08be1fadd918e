//! The book's hands-on exercises, `book/exercises/PART/{start,solution}`:
//! two crates of the workspace each, the crate as the reader starts it
//! (TODOs to fill, `todo!()` where the code goes) and solved. Both have the
//! same tests.
//!
//! The check: the solution's tests pass, and the start's tests build and
//! fail because of its TODOs (a `not yet implemented` panic), so a reader
//! who runs them before doing anything sees the failure the chapter
//! describes, not a compile error.

use std::path::Path;

use crate::workspace::Workspace;

/// The exercises' directory, from the workspace root.
pub const EXERCISES: &str = "book/exercises";

/// What a start crate's failing tests must print: the panic of `todo!()`.
pub const UNDONE: &str = "not yet implemented";

/// The parts whose exercise a chapter's text names (`exercises/PART/`), in
/// the order they first appear.
pub fn used_by(text: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for (at, _) in text.match_indices("exercises/") {
        let rest = &text[at + "exercises/".len()..];
        let Some(end) = rest.find('/') else {
            continue;
        };
        let part = &rest[..end];
        let is_name = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if is_name && !parts.iter().any(|p| p == part) {
            parts.push(part.to_owned());
        }
    }
    parts
}

/// Checks every exercise, or (`only`) those of the parts named. Returns
/// how many were checked.
///
/// # Errors
///
/// A part missing its `start` or `solution`, a solution whose tests fail, a
/// start whose tests pass or fail for another reason than its TODOs.
pub fn check(ws: &Workspace, only: Option<&[String]>) -> Result<usize, String> {
    let dir = ws.root.join(EXERCISES);
    let mut parts: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .filter(|path| {
            only.is_none_or(|names| {
                path.file_name()
                    .is_some_and(|n| names.iter().any(|name| n == name.as_str()))
            })
        })
        .collect();
    parts.sort();
    for part in &parts {
        let solution = package_name(&part.join("solution"))?;
        let start = package_name(&part.join("start"))?;
        eprintln!("\n==> book: exercise {}", part.display());
        ws.cargo()
            .args(["test", "-p", &solution, "--all-targets"])
            .run()
            .map_err(|e| format!("the solution of {} fails its tests: {e}", part.display()))?;
        let output = ws
            .cargo()
            .args(["test", "-p", &start, "--test", "*", "--no-fail-fast"])
            .combined_output()?;
        if output.0.success() {
            return Err(format!(
                "the start of {} passes its tests: the exercise has nothing left to do",
                part.display()
            ));
        }
        if !output.1.contains(UNDONE) {
            return Err(format!(
                "the start of {} fails its tests, but not at its TODOs (no `{UNDONE}`):\n{}",
                part.display(),
                output.1
            ));
        }
        eprintln!(
            "book: {}: the solution passes, the start fails at its TODOs",
            part.display()
        );
    }
    Ok(parts.len())
}

/// The `name` of the package whose `Cargo.toml` is in `dir`.
fn package_name(dir: &Path) -> Result<String, String> {
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    text.lines()
        .find_map(|line| {
            let value = line.strip_prefix("name")?.trim_start().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| format!("{}: no package name", manifest.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_exercises_a_chapter_names() {
        let text = "cp \"$HURD_RS/book/exercises/memory/start/src/lib.rs\" src/\n\
                    {{#include ../exercises/memory/solution/src/lib.rs:todo}}\n\
                    {{#include ../exercises/cluster/start/tests/tally.rs:start}}\n\
                    the exercises/ directory, exercises/a b/";
        assert_eq!(used_by(text), ["memory", "cluster"]);
        assert!(used_by("no exercise here").is_empty());
    }

    #[test]
    fn reads_the_package_name() {
        let dir = std::env::temp_dir().join(format!("xtask-exercise-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"counter-start\"\n\n[lib]\nname = \"counter\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(package_name(&dir), Ok("counter-start".to_owned()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
