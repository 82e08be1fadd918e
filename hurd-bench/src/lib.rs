#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long and how often to measure, and which benchmarks to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Samples per benchmark (odd, so the median is one of them).
    pub samples: usize,
    /// Wall time one sample should take.
    pub target: Duration,
    /// Substrings selecting benchmarks by name; empty runs them all.
    pub filters: Vec<String>,
}

impl Config {
    /// The configuration the process's command line asks for; see
    /// [`Config::parse`].
    pub fn from_args() -> Config {
        Config::parse(std::env::args().skip(1))
    }

    /// The configuration `args` (without the program name) ask for: `--quick`
    /// runs fewer and shorter samples; plain arguments select benchmarks whose
    /// names contain them, as with libtest; other flags (cargo passes
    /// `--bench`) are ignored.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Config {
        let mut quick = false;
        let mut filters = Vec::new();
        for arg in args {
            if arg == "--quick" {
                quick = true;
            } else if !arg.starts_with('-') {
                filters.push(arg);
            }
        }
        let (samples, target) = if quick {
            (5, Duration::from_millis(20))
        } else {
            (15, Duration::from_millis(100))
        };
        Config {
            samples,
            target,
            filters,
        }
    }

    /// Whether the benchmark `name` is selected: no filters, or a filter that
    /// is a substring of `name`.
    pub fn selects(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }
}

/// A benchmark body: performs `n` operations and returns how long they took
/// (excluding any setup it chooses not to time).
pub type Body<'a> = &'a mut dyn FnMut(u64) -> Duration;

/// The number of operations that makes one run of `f` last about `target`.
pub fn calibrate(f: Body<'_>, target: Duration) -> u64 {
    let mut n = 1u64;
    loop {
        let t = f(n);
        // Grow until a run is long enough to time with confidence (a tenth of
        // the target), then scale.
        if t >= target / 10 || n >= 1 << 40 {
            let per_op = t.as_secs_f64() / n as f64;
            let iters = (target.as_secs_f64() / per_op.max(1e-12)).ceil();
            return (iters as u64).max(1);
        }
        n *= 2;
    }
}

/// The median of `v` (the mean of the middle two if its length is even).
///
/// # Panics
///
/// If `v` is empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Measures `ours` and `base` in alternation; returns the median ns/op of
/// each.
///
/// Each body is calibrated to [`Config::target`] per sample, warmed up once at
/// full size, then sampled [`Config::samples`] times, alternating the two so
/// that drift (frequency scaling, other load) hits both alike.
pub fn measure_pair(cfg: &Config, ours: Body<'_>, base: Body<'_>) -> (f64, f64) {
    let n_ours = calibrate(ours, cfg.target);
    let n_base = calibrate(base, cfg.target);
    // Warm-up at full size: caches, allocator, thread wake paths.
    ours(n_ours);
    base(n_base);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..cfg.samples {
        a.push(ours(n_ours).as_nanos() as f64 / n_ours as f64);
        b.push(base(n_base).as_nanos() as f64 / n_base as f64);
    }
    (median(a), median(b))
}

/// One result: our time and the baseline's, per operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The benchmark's name.
    pub name: &'static str,
    /// Our median, in nanoseconds per operation.
    pub ours_ns: f64,
    /// What the baseline is.
    pub baseline: &'static str,
    /// The baseline's median, in nanoseconds per operation.
    pub baseline_ns: f64,
}

impl Row {
    /// Ours over the baseline: below 1 we are faster.
    pub fn ratio(&self) -> f64 {
        self.ours_ns / self.baseline_ns
    }
}

/// A benchmark: measures ours and its baseline.
pub type Bench = fn(&Config) -> Row;

/// The target directory of the cargo build that compiled the bench binary,
/// where [`run`] writes its results.
///
/// Pass `option_env!("CARGO_TARGET_TMPDIR")`: cargo gives benches and
/// integration tests `<target dir>/tmp` as a scratch directory, at compile
/// time only, so its parent is exactly the target directory. Without it, the
/// `CARGO_TARGET_DIR` environment variable if set (relative to the current
/// directory if relative), else `target` in the current directory.
pub fn target_dir(target_tmpdir: Option<&str>) -> PathBuf {
    if let Some(parent) = target_tmpdir.and_then(|tmp| Path::new(tmp).parent()) {
        return parent.to_path_buf();
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    PathBuf::from("target")
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The unit of a [`Row`]'s figures in its JSON form: nanoseconds per
/// operation.
pub const UNIT: &str = "ns";

/// One result in any unit, for what [`measure_pair`] does not measure: guest
/// instruction counts, sizes, the wall time of a whole run. Lower is better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure<'a> {
    /// What was measured.
    pub name: &'a str,
    /// What `ours` and the baseline's value count: `ns`, `insns`, `bytes`...
    pub unit: &'a str,
    /// Our figure.
    pub ours: f64,
    /// What we compare against and its figure, if anything.
    pub baseline: Option<(&'a str, f64)>,
}

impl Figure<'_> {
    /// The figure as one JSON object: `{"name", "unit", "ours", "baseline",
    /// "baseline_value", "ratio"}`, the last three `null` without a baseline;
    /// `ratio` is `ours / baseline_value` (below 1, ours is better).
    pub fn to_json(&self) -> String {
        let (baseline, value, ratio) = match self.baseline {
            Some((what, value)) => (
                json_string(what),
                format!("{value:.3}"),
                format!("{:.4}", self.ours / value),
            ),
            None => ("null".to_owned(), "null".to_owned(), "null".to_owned()),
        };
        format!(
            "{{\"name\": {}, \"unit\": {}, \"ours\": {:.3}, \"baseline\": {baseline}, \"baseline_value\": {value}, \"ratio\": {ratio}}}",
            json_string(self.name),
            json_string(self.unit),
            self.ours,
        )
    }
}

impl Row {
    /// The row as a [`Figure`] in [`UNIT`].
    pub fn figure(&self) -> Figure<'static> {
        Figure {
            name: self.name,
            unit: UNIT,
            ours: self.ours_ns,
            baseline: Some((self.baseline, self.baseline_ns)),
        }
    }
}

/// `figures` as a JSON array, one object a line (see [`Figure::to_json`]):
/// the format of the result files `cargo xtask bench` reads.
pub fn figures_to_json(figures: &[Figure<'_>]) -> String {
    let mut out = String::from("[\n");
    for (i, f) in figures.iter().enumerate() {
        out.push_str("  ");
        out.push_str(&f.to_json());
        out.push_str(if i + 1 < figures.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

/// `rows` as a JSON array of their [`Figure`]s (see [`figures_to_json`]),
/// in nanoseconds per operation.
pub fn to_json(rows: &[Row]) -> String {
    let figures: Vec<Figure<'static>> = rows.iter().map(Row::figure).collect();
    figures_to_json(&figures)
}

/// Writes [`figures_to_json`] of `figures` to
/// `<target_dir>/bench/<file_stem>.json`, creating the directory; returns
/// the file's path.
///
/// # Errors
///
/// Any error creating the directory or writing the file.
pub fn write_figures(
    target_dir: &Path,
    file_stem: &str,
    figures: &[Figure<'_>],
) -> std::io::Result<PathBuf> {
    let dir = target_dir.join("bench");
    let file = dir.join(format!("{file_stem}.json"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&file, figures_to_json(figures))?;
    Ok(file)
}

/// Writes [`to_json`] of `rows` to `<target_dir>/bench/<file_stem>.json`,
/// creating the directory; returns the file's path.
///
/// # Errors
///
/// Any error creating the directory or writing the file.
pub fn write_json(target_dir: &Path, file_stem: &str, rows: &[Row]) -> std::io::Result<PathBuf> {
    let figures: Vec<Figure<'static>> = rows.iter().map(Row::figure).collect();
    write_figures(target_dir, file_stem, &figures)
}

/// `rows` as a text table: name, ours, baseline, baseline ns, ratio.
pub fn format_table(rows: &[Row]) -> String {
    let name_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let base_w = rows
        .iter()
        .map(|r| r.baseline.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<name_w$} | {:>10} | {:<base_w$} | {:>11} | {:>6}",
        "name", "ours ns", "baseline", "baseline ns", "ratio"
    );
    let _ = writeln!(
        out,
        "{}-|-{}-|-{}-|-{}-|-{}",
        "-".repeat(name_w),
        "-".repeat(10),
        "-".repeat(base_w),
        "-".repeat(11),
        "-".repeat(6)
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<name_w$} | {:>10.1} | {:<base_w$} | {:>11.1} | {:>6.2}",
            r.name,
            r.ours_ns,
            r.baseline,
            r.baseline_ns,
            r.ratio()
        );
    }
    out
}

/// Prints [`format_table`] of `rows` to standard output.
pub fn print_table(rows: &[Row]) {
    print!("{}", format_table(rows));
}

/// A bench binary's `main`: runs the `benches` the command line selects (see
/// [`Config::parse`]), reporting each on standard error as it finishes, then
/// prints the table and writes `<target dir>/bench/<file_stem>.json` (see
/// [`target_dir`], to which `target_tmpdir` is passed). Exits with status 1
/// if the file cannot be written.
pub fn run(file_stem: &str, target_tmpdir: Option<&str>, benches: &[(&str, Bench)]) {
    let cfg = Config::from_args();
    let mut rows = Vec::new();
    for &(name, bench) in benches {
        if !cfg.selects(name) {
            continue;
        }
        let row = bench(&cfg);
        eprintln!(
            "{}: {:.1} ns vs {:.1} ns ({:.2})",
            row.name,
            row.ours_ns,
            row.baseline_ns,
            row.ratio()
        );
        rows.push(row);
    }
    print_table(&rows);

    let dir = target_dir(target_tmpdir);
    match write_json(&dir, file_stem, &rows) {
        Ok(file) => println!("wrote {}", file.display()),
        Err(e) => {
            let file = dir.join("bench").join(format!("{file_stem}.json"));
            eprintln!("cannot write {}: {e}", file.display());
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_quick_and_filters() {
        let full = Config::parse(args(&["--bench"]));
        assert_eq!(full.samples, 15);
        assert_eq!(full.target, Duration::from_millis(100));
        assert!(full.filters.is_empty());
        assert!(full.selects("anything"));

        let quick = Config::parse(args(&["--bench", "--quick", "rpc"]));
        assert_eq!(quick.samples, 5);
        assert_eq!(quick.target, Duration::from_millis(20));
        assert_eq!(quick.filters, args(&["rpc"]));
        assert!(quick.selects("null_rpc_round_trip"));
        assert!(!quick.selects("ool_64k"));
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn calibrate_scales_to_target() {
        // A body that claims each operation takes 1 µs.
        let mut body = |n: u64| Duration::from_micros(n);
        let n = calibrate(&mut body, Duration::from_millis(10));
        assert!((9_000..=11_000).contains(&n), "{n}");
    }

    #[test]
    fn json_rows_and_escaping() {
        let rows = [
            Row {
                name: "a",
                ours_ns: 2.0,
                baseline: "say \"hi\"\\\n",
                baseline_ns: 4.0,
            },
            Row {
                name: "b",
                ours_ns: 3.0,
                baseline: "c",
                baseline_ns: 1.5,
            },
        ];
        assert_eq!(rows[0].ratio(), 0.5);
        assert_eq!(
            to_json(&rows),
            "[\n  {\"name\": \"a\", \"unit\": \"ns\", \"ours\": 2.000, \"baseline\": \"say \\\"hi\\\"\\\\\\u000a\", \"baseline_value\": 4.000, \"ratio\": 0.5000},\n  \
             {\"name\": \"b\", \"unit\": \"ns\", \"ours\": 3.000, \"baseline\": \"c\", \"baseline_value\": 1.500, \"ratio\": 2.0000}\n]\n"
        );
        assert_eq!(to_json(&[]), "[\n]\n");
    }

    #[test]
    fn figures_without_a_baseline_have_nulls() {
        let figure = Figure {
            name: "image",
            unit: "bytes",
            ours: 2048.0,
            baseline: None,
        };
        assert_eq!(
            figure.to_json(),
            "{\"name\": \"image\", \"unit\": \"bytes\", \"ours\": 2048.000, \"baseline\": null, \"baseline_value\": null, \"ratio\": null}"
        );
        let with = Figure {
            baseline: Some(("goal", 4096.0)),
            ..figure
        };
        assert!(
            with.to_json().ends_with(
                "\"baseline\": \"goal\", \"baseline_value\": 4096.000, \"ratio\": 0.5000}"
            )
        );
        assert_eq!(
            figures_to_json(&[figure, with]).lines().count(),
            4,
            "brackets and one object a line"
        );
    }

    #[test]
    fn target_dir_is_the_parent_of_cargos_scratch_dir() {
        assert_eq!(
            target_dir(Some("/w/target/tmp")),
            PathBuf::from("/w/target")
        );
    }

    #[test]
    fn writes_the_json_file() {
        let dir = std::env::temp_dir().join(format!("hurd-bench-test-{}", std::process::id()));
        let rows = [Row {
            name: "x",
            ours_ns: 1.0,
            baseline: "y",
            baseline_ns: 2.0,
        }];
        let file = write_json(&dir, "suite", &rows).expect("written");
        assert_eq!(file, dir.join("bench").join("suite.json"));
        assert_eq!(std::fs::read_to_string(&file).ok(), Some(to_json(&rows)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn table_has_a_line_per_row() {
        let rows = [Row {
            name: "zero_fill_fault",
            ours_ns: 10.0,
            baseline: "linux mmap first touch",
            baseline_ns: 20.0,
        }];
        let table = format_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("name "));
        assert!(lines[2].starts_with("zero_fill_fault | "));
        assert!(lines[2].ends_with("|   0.50"));
    }
}
