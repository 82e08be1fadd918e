//! The benchmark charts the book shows: results of `cargo xtask bench`
//! kept in the book as a snapshot, `book/src/benchmarks/NAME.json`, each
//! drawn next to it as `NAME.svg` by the benchmarks' own renderer
//! ([`crate::bench::chart`]): `cargo xtask bench [NAME] --book` runs the
//! benchmarks and stores both, `cargo xtask bench --redraw` draws the
//! stored results again.
//!
//! The check: every suite of `cargo xtask bench` has a snapshot, each a
//! result file the renderer reads with at least one row, its chart is
//! exactly the drawing of its rows (a chart is never edited by hand, nor
//! left behind when its results change), every chart has its results, and
//! the benchmarks chapter shows every chart, each of which the built book
//! holds.

use std::path::{Path, PathBuf};

use crate::bench;

/// Where the snapshot lives, from the workspace root.
pub const SNAPSHOT: &str = "book/src/benchmarks";

/// The chapter that shows the charts, in `book/src`.
pub const CHAPTER: &str = "benchmarks.md";

/// Checks the snapshot in `root` and, with `out` (the built book), that
/// the book holds each chart; each suite named in `suites` must have one
/// (the book step names every suite of [`bench::BENCHES`]). Returns how
/// many charts there are.
///
/// # Errors
///
/// A suite of `suites` without results, a result file the renderer cannot
/// read or with no rows, a chart that is
/// not the drawing of its results (or has none), a chart the chapter does
/// not show, or one missing from the built book.
pub fn check(root: &Path, out: Option<&Path>, suites: &[&str]) -> Result<usize, String> {
    let dir = root.join(SNAPSHOT);
    let mut results = Vec::new();
    let mut charts = Vec::new();
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => results.push(path),
            Some("svg") => charts.push(path),
            _ => {}
        }
    }
    results.sort();
    if results.is_empty() {
        return Err(format!("{}: no benchmark results", dir.display()));
    }
    let missing: Vec<&str> = suites
        .iter()
        .copied()
        .filter(|name| !results.contains(&dir.join(format!("{name}.json"))))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{}: no results of {} (store them with `cargo xtask bench NAME --book`)",
            dir.display(),
            missing.join(", ")
        ));
    }
    for chart in &charts {
        if !results.contains(&chart.with_extension("json")) {
            return Err(format!(
                "{}: a chart without its results ({} is missing)",
                chart.display(),
                chart.with_extension("json").display()
            ));
        }
    }
    let chapter_file = root.join(super::BOOK).join("src").join(CHAPTER);
    let chapter = std::fs::read_to_string(&chapter_file)
        .map_err(|e| format!("cannot read {}: {e}", chapter_file.display()))?;
    for file in &results {
        let suite = suite(file);
        let chart = file.with_extension("svg");
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let rows = bench::parse_results(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        if rows.is_empty() {
            return Err(format!("{}: no results to draw", file.display()));
        }
        let drawn = std::fs::read_to_string(&chart).map_err(|e| {
            format!(
                "{}: cannot read its chart {}: {e} (`cargo xtask bench {suite} --book` stores and draws it)",
                file.display(),
                chart.display()
            )
        })?;
        if drawn != bench::chart::svg(&suite, &rows) {
            return Err(format!(
                "{} is not the drawing of {}: draw it again with `cargo xtask bench --redraw`",
                chart.display(),
                file.display()
            ));
        }
        let shown = format!("benchmarks/{suite}.svg");
        if !chapter.contains(&format!("]({shown})")) {
            return Err(format!(
                "{}: does not show the chart {shown}",
                chapter_file.display()
            ));
        }
        if let Some(out) = out {
            let built = out.join(&shown);
            if std::fs::read_to_string(&built).ok().as_deref() != Some(drawn.as_str()) {
                return Err(format!(
                    "the built book has no {} as drawn",
                    built.display()
                ));
            }
        }
    }
    Ok(results.len())
}

/// Stores the result files `files` in the snapshot of `root`, each with its
/// chart. Returns the charts written.
///
/// # Errors
///
/// A result file that cannot be read or parsed, one with no rows (a suite
/// that was skipped, say for want of its baseline, is not kept in place of
/// its last measurement), or a file not written.
pub fn store(root: &Path, files: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let dir = root.join(SNAPSHOT);
    // Every file is read before any is stored, so a refusal stores nothing.
    let mut texts = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let rows = bench::parse_results(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        if rows.is_empty() {
            return Err(format!(
                "{}: no results (the suite said above why it measured nothing); \
                 the book keeps its last measured chart of `{}`",
                file.display(),
                suite(file)
            ));
        }
        texts.push((file, text));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (file, text) in texts {
        let kept = dir.join(format!("{}.json", suite(file)));
        std::fs::write(&kept, &text)
            .map_err(|e| format!("cannot write {}: {e}", kept.display()))?;
        written.push(redraw(&kept)?);
    }
    Ok(written)
}

/// Draws the chart of every result file in the snapshot of `root` again.
///
/// # Errors
///
/// As [`store`].
pub fn redraw_all(root: &Path) -> Result<Vec<PathBuf>, String> {
    let dir = root.join(SNAPSHOT);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files.iter().map(|file| redraw(file)).collect()
}

/// Writes the chart of the result file `file` next to it.
fn redraw(file: &Path) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let rows = bench::parse_results(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let chart = file.with_extension("svg");
    std::fs::write(&chart, bench::chart::svg(&suite(file), &rows))
        .map_err(|e| format!("cannot write {}: {e}", chart.display()))?;
    Ok(chart)
}

/// The suite a result file holds: its name without `.json`.
fn suite(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESULTS: &str = r#"[{"name": "null_rpc", "unit": "ns", "ours": 800, "baseline": "pipe", "baseline_value": 4000, "ratio": 0.2}]"#;

    /// A workspace root of its own with a chapter showing `shown`.
    fn root(name: &str, shown: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("xtask-charts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let src = root.join("book/src");
        std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(src.join(CHAPTER), shown).unwrap_or_else(|e| panic!("{e}"));
        root
    }

    #[test]
    fn a_stored_snapshot_passes_and_a_stale_chart_fails() {
        let root = root("stored", "![ipc](benchmarks/ipc.svg)\n");
        let results = root.join("ipc.json");
        std::fs::write(&results, RESULTS).unwrap_or_else(|e| panic!("{e}"));
        let written = store(&root, &[results]);
        assert_eq!(written, Ok(vec![root.join(SNAPSHOT).join("ipc.svg")]));
        assert_eq!(check(&root, None, &[]), Ok(1));

        // Results changed, chart not drawn again.
        let kept = root.join(SNAPSHOT).join("ipc.json");
        let changed = RESULTS.replace("0.2}", "0.3}");
        std::fs::write(&kept, changed).unwrap_or_else(|e| panic!("{e}"));
        let stale = check(&root, None, &[]);
        assert!(stale.is_err_and(|e| e.contains("is not the drawing of")));
        assert_eq!(redraw_all(&root).map(|v| v.len()), Ok(1));
        assert_eq!(check(&root, None, &[]), Ok(1));

        // A chart edited by hand.
        let chart = root.join(SNAPSHOT).join("ipc.svg");
        std::fs::write(&chart, "<svg/>").unwrap_or_else(|e| panic!("{e}"));
        assert!(check(&root, None, &[]).is_err());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn every_suite_named_must_have_its_chart() {
        let root = root("every", "![ipc](benchmarks/ipc.svg)\n");
        let results = root.join("ipc.json");
        std::fs::write(&results, RESULTS).unwrap_or_else(|e| panic!("{e}"));
        assert!(store(&root, &[results]).is_ok());
        assert_eq!(check(&root, None, &["ipc"]), Ok(1));
        let missing = check(&root, None, &["ipc", "vm", "auth"]);
        assert!(missing.is_err_and(|e| e.contains("no results of vm, auth")));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_chapter_must_show_each_chart() {
        let root = root("unshown", "no charts here\n");
        let results = root.join("vm.json");
        std::fs::write(&results, RESULTS).unwrap_or_else(|e| panic!("{e}"));
        assert!(store(&root, &[results]).is_ok());
        let unshown = check(&root, None, &[]);
        assert!(unshown.is_err_and(|e| e.contains("does not show the chart benchmarks/vm.svg")));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_suite_that_measured_nothing_is_not_stored() {
        let root = root("empty", "![ipc](benchmarks/ipc.svg)\n");
        let (results, empty) = (root.join("ipc.json"), root.join("vm.json"));
        std::fs::write(&results, RESULTS).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&empty, "[]").unwrap_or_else(|e| panic!("{e}"));
        let refused = store(&root, &[results.clone(), empty]);
        assert!(refused.is_err_and(|e| e.contains("vm.json: no results")));
        // Nothing of the refused call was stored.
        assert!(!root.join(SNAPSHOT).join("ipc.json").exists());
        assert_eq!(store(&root, &[results]).map(|v| v.len()), Ok(1));
        // An empty result file in the snapshot is refused by the check too.
        std::fs::write(root.join(SNAPSHOT).join("ipc.json"), "[]")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(check(&root, None, &[]).is_err_and(|e| e.contains("no results to draw")));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn bad_results_and_lone_charts_fail() {
        let root = root("bad", "![x](benchmarks/x.svg)\n");
        let dir = root.join(SNAPSHOT);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(check(&root, None, &[]).is_err_and(|e| e.contains("no benchmark results")));
        std::fs::write(dir.join("x.json"), "{}").unwrap_or_else(|e| panic!("{e}"));
        assert!(check(&root, None, &[]).is_err());
        assert!(store(&root, &[dir.join("x.json")]).is_err());
        std::fs::write(dir.join("x.json"), RESULTS).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("y.svg"), "<svg/>").unwrap_or_else(|e| panic!("{e}"));
        let lone = check(&root, None, &[]);
        assert!(lone.is_err_and(|e| e.contains("a chart without its results")));
        let _ = std::fs::remove_dir_all(&root);
    }
}
