//! pjdfstest, the POSIX file-system conformance suite, on hurd-trans's
//! tmpfs mounted through the FUSE bridge (`hurd-fuse tmpfs`).
//!
//! The suite is not part of the repository: its source archive is looked
//! for in `../shared/third_party/` next to the checkout (or the directory
//! `HURD_THIRD_PARTY` names), unpacked and built under
//! `target/pjdfstest/` (autoreconf, configure, make; the Debian packages it
//! needs are installed as for the other steps). Without the archive the
//! step says so and is skipped.
//!
//! The suite runs as root with `prove -r` from inside the mount. The step
//! prints how many test files and subtests pass, and fails when a test file
//! listed in [`EXPECTED`] (the files known to pass, checked in) does not.
//! `cargo xtask pjdfstest bindfs` runs the same suite on bindfs over a
//! native tmpfs, the reference another FUSE file system sets; its passing
//! files are kept in [`BINDFS`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::Failure;
use crate::cmd::Cmd;
use crate::setup;
use crate::workspace::Workspace;

/// The suite's source archive (github pjd/pjdfstest at commit 85a8aea).
pub const ARCHIVE: &str = "pjdfstest-85a8aea.tar.gz";

/// The test files that pass on `hurd-fuse tmpfs`, one per line, relative
/// to the suite's `tests/` directory. A file listed here that fails is a
/// regression.
pub const EXPECTED: &str = "distro/xtask/pjdfstest/hurd-fuse-tmpfs.txt";

/// The test files that pass on bindfs over a native tmpfs (measured with
/// `cargo xtask pjdfstest bindfs`): what the FUSE bridge aims at.
pub const BINDFS: &str = "distro/xtask/pjdfstest/bindfs.txt";

/// Debian packages to build the suite (its C program) and run it (`prove`
/// is Perl's).
pub const BUILD_PACKAGES: &[&str] = &[
    "autoconf",
    "automake",
    "libtool",
    "make",
    "gcc",
    "libc6-dev",
    "perl",
    "fuse3",
];

/// Debian packages for the reference run.
pub const BINDFS_PACKAGES: &[&str] = &["bindfs", "fuse3"];

/// Test files run at once (`prove -j`): most of the suite's time is spent
/// sleeping between time stamps, not working.
const JOBS: &str = "4";

/// Where the archive is: `$HURD_THIRD_PARTY`, else `../shared/third_party`
/// beside the checkout (for a git worktree, beside its main checkout too).
fn find_archive(ws: &Workspace) -> Result<PathBuf, String> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("HURD_THIRD_PARTY") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(parent) = ws.root.parent() {
        dirs.push(parent.join("shared/third_party"));
    }
    if let Ok(common) = Cmd::new("git")
        .dir(&ws.root)
        .args(["rev-parse", "--path-format=absolute", "--git-common-dir"])
        .read()
        && let Some(main) = Path::new(common.trim()).parent().and_then(Path::parent)
    {
        dirs.push(main.join("shared/third_party"));
    }
    dirs.iter()
        .map(|d| d.join(ARCHIVE))
        .find(|a| a.is_file())
        .ok_or_else(|| {
            let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            format!(
                "the pjdfstest source ({ARCHIVE}) is not there: looked in {} \
                 (set HURD_THIRD_PARTY to the folder that holds it)",
                looked.join(", ")
            )
        })
}

/// The built suite: its directory (with `pjdfstest` and `tests/`).
fn build(ws: &Workspace, archive: &Path) -> Result<PathBuf, String> {
    setup::ensure_apt(BUILD_PACKAGES)?;
    let base = ws.metadata()?.target_directory.join("pjdfstest");
    let src = base.join("pjdfstest");
    if src.join("pjdfstest").is_file() {
        eprintln!("pjdfstest: built in {}", src.display());
        return Ok(src);
    }
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    eprintln!("pjdfstest: building it from {}", archive.display());
    Cmd::new("tar").dir(&base).arg("-xzf").arg(archive).run()?;
    Cmd::new("autoreconf").dir(&src).arg("-ifs").run()?;
    Cmd::new("./configure").dir(&src).run()?;
    Cmd::new("make").dir(&src).arg("pjdfstest").run()?;
    Ok(src)
}

/// Every test file of the suite, relative to `tests/` (`chmod/00.t`...).
fn test_files(tests: &Path) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    let dirs = std::fs::read_dir(tests).map_err(|e| format!("{}: {e}", tests.display()))?;
    for d in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(d.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.ends_with(".t") {
                out.insert(format!("{}/{name}", d.file_name().to_string_lossy()));
            }
        }
    }
    Ok(out)
}

/// What `prove` said.
#[derive(Debug, Default, PartialEq)]
pub struct Results {
    /// Test files that did not pass, relative to `tests/`.
    pub failed: BTreeSet<String>,
    /// Subtests run.
    pub tests: u64,
    /// Subtests that failed.
    pub failed_tests: u64,
}

/// Reads `prove`'s "Test Summary Report" (files named relative to `tests`)
/// and its `Files=…, Tests=…` line. A file fails with a failed subtest, a
/// non-zero exit status or a parse error (no plan, wrong count);
/// unexpectedly passing TODO tests do not make it fail.
pub fn parse(output: &str, tests: &str) -> Results {
    let mut r = Results::default();
    let prefix = format!("{}/", tests.trim_end_matches('/'));
    let mut current: Option<String> = None;
    let mut in_report = false;
    for line in output.lines() {
        if line.starts_with("Test Summary Report") {
            in_report = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("Files=")
            && let Some(t) = rest.split("Tests=").nth(1)
        {
            r.tests = t
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            in_report = false;
            continue;
        }
        if !in_report {
            continue;
        }
        if let Some(path) = line.strip_prefix(&prefix) {
            let name = path.split_whitespace().next().unwrap_or("").to_owned();
            let field = |key: &str| {
                line.split(key)
                    .nth(1)
                    .and_then(|s| {
                        s.split(|c: char| !c.is_ascii_digit())
                            .find(|w| !w.is_empty())
                    })
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let (wstat, failed) = (field("Wstat: "), field("Failed: "));
            r.failed_tests += failed;
            if wstat != 0 || failed != 0 {
                r.failed.insert(name.clone());
            }
            current = Some(name);
        } else if line.trim_start().starts_with("Parse errors")
            && let Some(name) = &current
        {
            r.failed.insert(name.clone());
        }
    }
    r
}

/// A list file: one test file a line; `#` starts a comment.
fn read_list(path: &Path) -> Result<BTreeSet<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Whether `dir` is a mount point now (`/proc/self/mountinfo`).
fn mounted(dir: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = dir.to_string_lossy();
    info.lines()
        .any(|l| l.split(' ').nth(4).is_some_and(|m| m == want))
}

/// A file system mounted for the run, unmounted (and its server waited
/// for) when dropped.
struct Mount {
    dirs: Vec<PathBuf>,
    servers: Vec<Child>,
}

impl Mount {
    /// Starts `server` (which mounts `dir` and stays in the foreground) and
    /// waits until the mount is there.
    fn serve(&mut self, mut server: Command, dir: &Path) -> Result<(), String> {
        eprintln!("$ {server:?}");
        let child = server
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {server:?}: {e}"))?;
        self.servers.push(child);
        self.dirs.push(dir.to_owned());
        let start = Instant::now();
        while !mounted(dir) {
            if let Some(Ok(Some(status))) = self.servers.last_mut().map(Child::try_wait) {
                return Err(format!("{server:?} exited ({status}) before mounting"));
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err(format!("{} was not mounted within a minute", dir.display()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        for dir in self.dirs.iter().rev() {
            if mounted(dir) {
                let _ = Command::new("umount").arg(dir).status();
            }
        }
        for child in &mut self.servers {
            let start = Instant::now();
            while matches!(child.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(20)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Which file system the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// `hurd-fuse tmpfs`.
    HurdTmpfs,
    /// bindfs over a native tmpfs.
    Bindfs,
}

/// Mounts `target` under `base` and returns the directory to run in.
fn mount(ws: &Workspace, target: Target, base: &Path) -> Result<(Mount, PathBuf), String> {
    let mut m = Mount {
        dirs: Vec::new(),
        servers: Vec::new(),
    };
    let mnt = base.join("mnt");
    for dir in [base.join("native"), mnt.clone()] {
        if mounted(&dir) {
            let _ = Command::new("umount").arg(&dir).status();
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    match target {
        Target::HurdTmpfs => {
            ws.cargo()
                .args([
                    "build",
                    "-p",
                    "hurd-trans",
                    "--features",
                    "fuse",
                    "--bin",
                    "hurd-fuse",
                ])
                .run()?;
            let bin = ws.metadata()?.target_directory.join("debug/hurd-fuse");
            let mut c = Command::new(bin);
            c.arg("tmpfs").arg(&mnt);
            m.serve(c, &mnt)?;
        }
        Target::Bindfs => {
            setup::ensure_apt(BINDFS_PACKAGES)?;
            let native = base.join("native");
            Cmd::new("mount")
                .args(["-t", "tmpfs", "tmpfs"])
                .arg(&native)
                .run()?;
            m.dirs.push(native.clone());
            let mut c = Command::new("bindfs");
            c.args(["-f", "-o", "allow_other,dev,suid"])
                .arg(&native)
                .arg(&mnt);
            m.serve(c, &mnt)?;
        }
    }
    Ok((m, mnt))
}

/// Why the suite cannot run here, if it cannot.
fn why_not() -> Option<String> {
    if !Cmd::new("id")
        .arg("-u")
        .read()
        .is_ok_and(|u| u.trim() == "0")
    {
        return Some("pjdfstest needs root (it changes owners and switches users)".into());
    }
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        return Some(format!("/dev/fuse is unusable here ({e})"));
    }
    None
}

/// Runs the suite on `target`; returns the test files, the results and
/// the suite's `tests/` directory.
fn run(ws: &Workspace, target: Target) -> Result<(BTreeSet<String>, Results), String> {
    let archive = find_archive(ws)?;
    let suite = build(ws, &archive)?;
    let tests = suite.join("tests");
    let files = test_files(&tests)?;
    let base = ws
        .metadata()?
        .target_directory
        .join("pjdfstest")
        .join(match target {
            Target::HurdTmpfs => "hurd-fuse-tmpfs",
            Target::Bindfs => "bindfs",
        });
    let (m, mnt) = mount(ws, target, &base)?;
    let log = base.join("prove.log");
    eprintln!(
        "$ cd {} && prove -r -j {JOBS} {} > {}",
        mnt.display(),
        tests.display(),
        log.display()
    );
    let start = Instant::now();
    let out = Command::new("prove")
        .args(["-r", "-j", JOBS])
        .arg(&tests)
        .current_dir(&mnt)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start prove: {e}"))?;
    drop(m);
    let text = String::from_utf8_lossy(&out.stdout);
    std::fs::write(&log, text.as_bytes()).map_err(|e| format!("{}: {e}", log.display()))?;
    let results = parse(&text, &tests.to_string_lossy());
    if results.tests == 0 {
        return Err(format!(
            "prove ran no tests ({}); its output is in {}",
            out.status,
            log.display()
        ));
    }
    eprintln!(
        "pjdfstest on {}: {} of {} test files pass, {} of {} subtests ({:.0} s; prove's output in {})",
        match target {
            Target::HurdTmpfs => "hurd-fuse tmpfs",
            Target::Bindfs => "bindfs over tmpfs",
        },
        files.len() - results.failed.len(),
        files.len(),
        results.tests - results.failed_tests,
        results.tests,
        start.elapsed().as_secs_f64(),
        log.display()
    );
    Ok((files, results))
}

/// The `pjdfstest` step of `cargo xtask test`.
pub fn test_step(ws: &Workspace) -> Result<Option<String>, String> {
    if let Some(why) = why_not() {
        return Ok(Some(format!("{why}: pjdfstest is not run")));
    }
    if let Err(e) = find_archive(ws) {
        return Ok(Some(e));
    }
    let (files, results) = run(ws, Target::HurdTmpfs)?;
    let passing: BTreeSet<&String> = files.difference(&results.failed).collect();
    let expected = read_list(&ws.root.join(EXPECTED))?;
    if let Ok(bindfs) = read_list(&ws.root.join(BINDFS)) {
        let behind: Vec<&String> = bindfs
            .iter()
            .filter(|f| files.contains(*f) && !passing.contains(f))
            .collect();
        eprintln!(
            "bindfs passes {} test files; {} of them fail here{}",
            bindfs.len(),
            behind.len(),
            if behind.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    behind
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
        );
    }
    let new: Vec<&str> = passing
        .iter()
        .filter(|f| !expected.contains(**f))
        .map(|s| s.as_str())
        .collect();
    if !new.is_empty() {
        eprintln!(
            "passing now and not yet in {EXPECTED} (add them): {}",
            new.join(" ")
        );
    }
    let regressed: Vec<&str> = expected
        .iter()
        .filter(|f| !passing.contains(f))
        .map(String::as_str)
        .collect();
    if regressed.is_empty() {
        Ok(None)
    } else {
        Err(format!(
            "{} test file(s) listed in {EXPECTED} fail: {}",
            regressed.len(),
            regressed.join(" ")
        ))
    }
}

/// `cargo xtask pjdfstest [hurd|bindfs] [--write]`: runs the suite on
/// hurd-fuse's tmpfs (default) or on bindfs; `--write` stores the passing
/// files as the list of that target.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let mut target = Target::HurdTmpfs;
    let mut write = false;
    for a in args {
        match a.as_str() {
            "hurd" => target = Target::HurdTmpfs,
            "bindfs" => target = Target::Bindfs,
            "--write" => write = true,
            other => {
                return Err(Failure::Usage(format!(
                    "unknown argument `{other}` for `cargo xtask pjdfstest`"
                )));
            }
        }
    }
    if let Some(why) = why_not() {
        return Err(Failure::Error(why));
    }
    let ws = Workspace::find()?;
    let (files, results) = run(&ws, target)?;
    let failed: Vec<&str> = results.failed.iter().map(String::as_str).collect();
    eprintln!("failing test files: {}", failed.join(" "));
    if write {
        let list = ws.root.join(match target {
            Target::HurdTmpfs => EXPECTED,
            Target::Bindfs => BINDFS,
        });
        let mut text = String::from(match target {
            Target::HurdTmpfs => {
                "# pjdfstest test files that pass on hurd-fuse tmpfs (`cargo xtask pjdfstest --write`).\n"
            }
            Target::Bindfs => {
                "# pjdfstest test files that pass on bindfs over a native tmpfs (`cargo xtask pjdfstest bindfs --write`).\n"
            }
        });
        for f in files.difference(&results.failed) {
            text.push_str(f);
            text.push('\n');
        }
        std::fs::write(&list, text).map_err(|e| format!("{}: {e}", list.display()))?;
        eprintln!("wrote {}", list.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
/s/tests/chmod/00.t .. ok
/s/tests/link/00.t ... Failed 2/202 subtests
Test Summary Report
-------------------
/s/tests/chown/00.t          (Wstat: 0 Tests: 1280 Failed: 0)
  TODO passed:   1054, 1058
/s/tests/link/00.t           (Wstat: 0 Tests: 202 Failed: 2)
  Failed tests:  5, 8
/s/tests/mkfifo/00.t         (Wstat: 256 (exited 1) Tests: 0 Failed: 0)
  Non-zero exit status: 1
/s/tests/open/00.t           (Wstat: 0 Tests: 40 Failed: 0)
  Parse errors: Bad plan.  You planned 47 tests but ran 40.
Files=238, Tests=8798, 330 wallclock secs
Result: FAIL
";

    #[test]
    fn failures_are_read_from_the_summary() {
        let r = parse(OUTPUT, "/s/tests");
        let failed: Vec<&str> = r.failed.iter().map(String::as_str).collect();
        assert_eq!(failed, ["link/00.t", "mkfifo/00.t", "open/00.t"]);
        assert_eq!(r.tests, 8798);
        assert_eq!(r.failed_tests, 2);
    }

    #[test]
    fn a_clean_run_fails_nothing() {
        let r = parse(
            "a .. ok\nAll tests successful.\nFiles=2, Tests=7, 1 wallclock secs\n",
            "/s/tests",
        );
        assert!(r.failed.is_empty());
        assert_eq!(r.tests, 7);
    }
}
