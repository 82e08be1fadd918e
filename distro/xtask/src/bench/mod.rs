//! `cargo xtask bench`: run the benchmarks and print how we compare.
//!
//! Each benchmark binary writes its results to `target/bench/<name>.json`: an
//! array of rows `{"name", "unit", "ours", "baseline", "baseline_value",
//! "ratio"}` (the format of the `hurd-bench` harness): `ours` and
//! `baseline_value` in `unit` (`ns`, `insns`, `cycles`, `bytes`; lower is
//! better), `ratio` = ours / baseline. The baseline fields may be `null`.
//! After running, this reads every such file, prints one table and draws
//! the rows of each file just written as a chart, `target/bench/<name>.svg`
//! (see [`chart`]). To add a benchmark, add a [`Bench`] to [`BENCHES`].

pub mod chart;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::Failure;
use crate::json::{self, Value};
use crate::workspace::Workspace;

/// A benchmark binary: `cargo bench -p <package> --bench <name> --features
/// <features>`.
#[derive(Debug, Clone, Copy)]
pub struct Bench {
    /// The bench target's name, also the name of its result file.
    pub name: &'static str,
    /// The package that holds it.
    pub package: &'static str,
    /// The features it needs.
    pub features: &'static [&'static str],
}

/// Every benchmark `cargo xtask bench` runs.
pub const BENCHES: &[Bench] = &[
    Bench {
        name: "ipc",
        package: "hurd-ipc",
        features: &["std"],
    },
    Bench {
        name: "auth",
        package: "hurd-auth",
        features: &["std"],
    },
    Bench {
        name: "vm",
        package: "hurd-vm",
        features: &["std"],
    },
    Bench {
        name: "trans",
        package: "hurd-trans",
        features: &["std", "fuse"],
    },
    Bench {
        name: "ext2",
        package: "hurd-trans",
        features: &["std", "fuse"],
    },
    Bench {
        name: "fuse",
        package: "hurd-trans",
        features: &["std", "fuse"],
    },
    Bench {
        name: "pager",
        package: "hurd-pager",
        features: &["std"],
    },
    Bench {
        name: "netmsg",
        package: "hurd-netmsg",
        features: &["std"],
    },
    // Not a `cargo bench` target: the kernel booted in QEMU (see
    // `crate::kernel::bench`).
    Bench {
        name: "kernel",
        package: crate::kernel::PACKAGE,
        features: &[],
    },
    // Not a `cargo bench` target: the distro booted in QEMU (see
    // `crate::distro::bench`).
    Bench {
        name: "distro",
        package: crate::distro::INIT,
        features: &[],
    },
];

/// `cargo xtask bench [NAME] [--book]`, `cargo xtask bench --redraw`.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let mut book = false;
    let mut names = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--book" => book = true,
            "--redraw" => {
                if args.len() != 1 {
                    return Err(Failure::Usage(
                        "`cargo xtask bench --redraw` takes nothing else".to_owned(),
                    ));
                }
                let workspace = Workspace::find()?;
                for chart in crate::book::charts::redraw_all(&workspace.root)? {
                    eprintln!("drew {}", chart.display());
                }
                return Ok(ExitCode::SUCCESS);
            }
            flag if flag.starts_with('-') => {
                return Err(Failure::Usage(format!(
                    "unknown option `{flag}` for `cargo xtask bench`"
                )));
            }
            name => names.push(name),
        }
    }
    let selected: Vec<&Bench> = match names.as_slice() {
        [] => BENCHES.iter().collect(),
        [name] => match BENCHES.iter().find(|b| b.name == *name) {
            Some(bench) => vec![bench],
            None => {
                let known: Vec<&str> = BENCHES.iter().map(|b| b.name).collect();
                return Err(Failure::Usage(format!(
                    "no benchmark named `{name}`; known: {}",
                    known.join(", ")
                )));
            }
        },
        _ => {
            return Err(Failure::Usage(
                "`cargo xtask bench` takes at most one benchmark name".to_owned(),
            ));
        }
    };
    let workspace = Workspace::find()?;
    for bench in &selected {
        eprintln!("==> bench {}", bench.name);
        if bench.package == crate::kernel::PACKAGE {
            crate::kernel::bench(&workspace)?;
            continue;
        }
        if bench.package == crate::distro::INIT {
            crate::distro::bench(&workspace)?;
            continue;
        }
        if bench.name == "ext2" {
            // The baseline is e2fsprogs' FUSE ext2, on images mke2fs makes.
            crate::setup::ensure_apt(crate::setup::EXT2_BENCH_PACKAGES)?;
        }
        if bench.name == "fuse" {
            // The baseline is bindfs over a native tmpfs.
            crate::setup::ensure_apt(crate::pjdfstest::BINDFS_PACKAGES)?;
        }
        workspace
            .cargo()
            .args(["bench", "-p", bench.package, "--bench", bench.name])
            .args(["--features", &bench.features.join(",")])
            .run()?;
    }

    let dir = workspace.metadata()?.target_directory.join("bench");
    for bench in &selected {
        let file = dir.join(format!("{}.json", bench.name));
        if !file.is_file() {
            return Err(Failure::Error(format!(
                "benchmark `{}` ran but wrote no {}",
                bench.name,
                file.display()
            )));
        }
    }
    // The files of the benches just run must be right; older files of other
    // benches (perhaps in an older format) are shown when they can be read.
    let mut rows = Vec::new();
    for file in result_files(&dir)? {
        let just_run = selected
            .iter()
            .any(|b| file.file_stem().is_some_and(|stem| stem == b.name));
        match read_results(&file) {
            Ok(found) => {
                if just_run {
                    draw(&file, &found)?;
                }
                rows.extend(found);
            }
            Err(err) if !just_run => eprintln!("not shown: {err}"),
            Err(err) => return Err(Failure::Error(err)),
        }
    }
    println!();
    print!("{}", table(&rows));
    eprintln!("charts: {}/NAME.svg", dir.display());
    if book {
        let files: Vec<PathBuf> = selected
            .iter()
            .map(|b| dir.join(format!("{}.json", b.name)))
            .collect();
        for chart in crate::book::charts::store(&workspace.root, &files)? {
            eprintln!("stored for the book: {}", chart.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Draws the chart of the results `rows` read from `file`, as the SVG file
/// next to it (`ipc.json` → `ipc.svg`).
fn draw(file: &Path, rows: &[Row]) -> Result<PathBuf, String> {
    let suite = file
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let svg = file.with_extension("svg");
    std::fs::write(&svg, chart::svg(&suite, rows))
        .map_err(|err| format!("cannot write {}: {err}", svg.display()))?;
    Ok(svg)
}

/// The `*.json` files in `dir`, sorted by name.
fn result_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|err| format!("cannot read {}: {err}", dir.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// One measurement from a result file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// What `ours` and `baseline_value` count: `ns`, `insns`, `cycles`,
    /// `bytes`...
    pub unit: String,
    /// Our figure, in `unit`.
    pub ours: f64,
    /// What we compare against, if anything.
    pub baseline: Option<String>,
    /// The baseline's figure, in `unit`.
    pub baseline_value: Option<f64>,
    /// Ours relative to the baseline, as the benchmark reports it.
    pub ratio: Option<f64>,
}

/// Reads the rows of one result file.
fn read_results(file: &Path) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
    parse_results(&text).map_err(|err| format!("{}: {err}", file.display()))
}

/// Parses the JSON array of a result file. `name`, `unit` and `ours` are
/// required; the baseline fields may be missing or `null`.
pub fn parse_results(text: &str) -> Result<Vec<Row>, String> {
    let doc = json::parse(text)?;
    let items = doc.as_array().ok_or("expected a JSON array of results")?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("result {i} has no string `name`"))?
                .to_owned();
            let unit = item
                .get("unit")
                .and_then(Value::as_str)
                .filter(|unit| !unit.is_empty())
                .ok_or_else(|| format!("result {i} (`{name}`) has no string `unit`"))?
                .to_owned();
            let ours = item
                .get("ours")
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("result {i} (`{name}`) has no number `ours`"))?;
            Ok(Row {
                name,
                unit,
                ours,
                baseline: item
                    .get("baseline")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                baseline_value: item.get("baseline_value").and_then(Value::as_f64),
                ratio: item.get("ratio").and_then(Value::as_f64),
            })
        })
        .collect()
}

/// Formats `rows` as an aligned text table.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "name",
        "ours",
        "baseline",
        "baseline value",
        "ratio",
        "unit",
    ];
    let dash = || "-".to_owned();
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            [
                row.name.clone(),
                format!("{:.1}", row.ours),
                row.baseline.clone().unwrap_or_else(dash),
                row.baseline_value
                    .map_or_else(dash, |value| format!("{value:.1}")),
                row.ratio.map_or_else(dash, |r| format!("{r:.2}")),
                row.unit.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String; 6]| {
        // Text columns (name, baseline, unit) align left, numbers right.
        let [a, b, c, d, e, f] = cells;
        let [wa, wb, wc, wd, we, _] = widths;
        let text = format!("{a:<wa$} | {b:>wb$} | {c:<wc$} | {d:>wd$} | {e:>we$} | {f}");
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(&header.map(str::to_owned));
    line(&widths.map(|w| "-".repeat(w)));
    for row in &cells {
        line(row);
    }
    if rows.is_empty() {
        out.push_str("(no results)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_tabulates_results() {
        let text = r#"[
            {"name": "null_rpc", "unit": "ns", "ours": 812.5, "baseline": "pipe", "baseline_value": 4000.0, "ratio": 0.203},
            {"name": "image", "unit": "bytes", "ours": 20, "baseline": null, "baseline_value": null, "ratio": null}
        ]"#;
        let rows = parse_results(text);
        assert_eq!(rows.as_ref().map(Vec::len), Ok(2));
        let rendered = table(&rows.unwrap_or_default());
        let expected = "\
name     |  ours | baseline | baseline value | ratio | unit
-------- | ----- | -------- | -------------- | ----- | -----
null_rpc | 812.5 | pipe     |         4000.0 |  0.20 | ns
image    |  20.0 | -        |              - |     - | bytes
";
        assert_eq!(rendered, expected);
    }

    #[test]
    fn rejects_bad_results() {
        assert!(parse_results("{}").is_err());
        assert!(parse_results(r#"[{"unit": "ns", "ours": 1}]"#).is_err());
        assert!(parse_results(r#"[{"name": "x", "unit": "ns"}]"#).is_err());
        let no_unit = parse_results(r#"[{"name": "x", "ours": 1}]"#);
        assert!(no_unit.is_err_and(|e| e.contains("`unit`")));
        assert!(parse_results(r#"[{"name": "x", "unit": "", "ours": 1}]"#).is_err());
    }

    #[test]
    fn bench_names_are_unique() {
        for (i, bench) in BENCHES.iter().enumerate() {
            assert!(BENCHES[..i].iter().all(|b| b.name != bench.name));
        }
    }
}
