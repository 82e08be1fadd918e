//! The reference kernel (`hurd-kernel`): building it for bare metal and
//! booting it in QEMU.
//!
//! `cargo xtask kernel [--tcg] [ARGS…]` builds the kernel and boots it with
//! the command line `ARGS` (serial console on the terminal); `cargo xtask
//! kernel --check` runs the CI step below alone. The `kernel` step
//! of `cargo xtask test` clippy-checks it for `x86_64-unknown-none`, builds
//! it, boots it with the command line `test` and requires the closing line
//! `N passed, 0 failed` and the success exit status of `isa-debug-exit`.
//! It then boots the kernel's trace build (feature `trace`, see
//! [`crate::trace`]) with the benchmark's command line and checks that the
//! decoded trace line shows the kernel's log and `mach_msg` events by name.
//! With `HURD_KERNEL_TRACE=1` the test run itself boots the trace build,
//! and a failure prints the end of its decoded trace.
//!
//! QEMU runs with KVM (`-accel kvm -cpu EPYC`) when `/dev/kvm` can be opened,
//! else with TCG (`-cpu qemu64,+rdrand`: the random translator's key comes
//! from RDRAND); `HURD_QEMU_ACCEL=tcg` forces TCG. The test step also
//! checks with a probe boot that user mode works under KVM (see
//! [`choose_accel`]). The test programs of the `kernel-test-programs`
//! package (`hurd-kernel/tests/programs`, on hurd-rt) are passed as boot
//! modules (`-initrd`), with the distro's disk and network drivers, the
//! Linux program loader `linux-forward`, the emulator `linux-emulation` and
//! its starter `linux-run` (`distro/linux-emulator`), and the Linux programs
//! they run (`linux-exit42` `linux-hello`, `linux-files`, `linux-time` and `linux-getpid`,
//! `musl-gcc -static` of
//! `distro/linux-tests/c/`, and `linux-hello-rs`, a Rust `std` program of
//! `distro/linux-tests` built for `x86_64-unknown-linux-musl`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hurd_bench::Figure;

use crate::Failure;
use crate::console::Timeout;
use crate::setup;
use crate::workspace::Workspace;

/// The kernel package.
pub const PACKAGE: &str = "hurd-kernel";

/// The package holding the user programs the kernel tests run.
pub const USER_PACKAGE: &str = "kernel-test-programs";

/// The runtime every program on the kernel links (clippy-checked for bare
/// metal with the programs).
pub const RUNTIME_PACKAGE: &str = "hurd-rt";

/// The distro's programs (hurd-init, the servers' tasks, the shell…).
pub const DISTRO_PACKAGE: &str = "distro-programs";

/// The package of the Linux emulator, whose `linux-forward`,
/// `linux-run` and `linux-emulation` the kernel tests run.
pub const LINUX_PACKAGE: &str = "linux-emulator";

/// The Linux programs [`build`] makes (`musl-gcc -static`): each one's
/// name (a boot module's, for those the kernel tests run) and C source.
/// `linux-pipes` is for the distro step, which installs it in the image.
pub const LINUX_PROGRAMS: &[(&str, &str)] = &[
    ("linux-exit42", "distro/linux-tests/c/exit42.c"),
    ("linux-hello", "distro/linux-tests/c/hello.c"),
    ("linux-files", "distro/linux-tests/c/files.c"),
    ("linux-time", "distro/linux-tests/c/time.c"),
    ("linux-getpid", "distro/linux-tests/c/getpid.c"),
    ("linux-id", "distro/linux-tests/c/id.c"),
    ("linux-pipes", "distro/linux-tests/c/pipes.c"),
    ("linux-fork", "distro/linux-tests/c/fork.c"),
];

/// The Rust `std` program the kernel tests run (a binary of the
/// `linux-tests` package, built for [`crate::linux::MUSL_TARGET`]), under
/// the same name as its boot module.
pub const LINUX_RUST_PROGRAM: &str = "linux-hello-rs";

/// The Rust `std` program the distro step runs (`std::process::Command`),
/// built and stripped beside [`LINUX_RUST_PROGRAM`].
pub const LINUX_SPAWN_PROGRAM: &str = "linux-spawn-rs";

/// The Internet protocol family's server (`pfinet`).
pub const PFINET_PACKAGE: &str = "pfinet";

/// The user programs, passed to the kernel as boot modules in this order.
/// The first is the bootstrap task of a normal (not test) boot.
pub const USER_PROGRAMS: &[&str] = &[
    "bootstrap",
    "echo-server",
    "echo-client",
    "exiter",
    "dead-port-client",
    "bad-access",
    "bad-arguments",
    "rcv-timeout",
    "bench-server",
    "bench-client",
    "pager",
    "pager-client",
    "bad-pager",
    "threads",
    "thread-pingpong",
    "spin",
    "task-control",
    "thread-control",
    "task-create",
    "pager-syscalls",
    "pager-dies",
    "pager-dead-client",
    "flood-client",
    "sink",
    "rt-echo-server",
    "rt-echo-client",
    "console-reader",
    "port-calls",
    "kernel-servers",
    "emulation",
    "exhaust",
    "rights-to-kernel",
    "memory-hog",
    "device-driver",
    "disk-client",
    "virtio-blk",
    "linux-forward",
    "linux-exit42",
    "net-client",
    "virtio-net",
    "linux-run",
    "linux-emulation",
    "linux-hello",
    "linux-files",
    "linux-time",
    "linux-getpid",
    "linux-hello-rs",
    "linux-fork",
    "storeio-client",
    "storeio",
    "ext2-client",
    "ext2fs",
    "tcp-client",
    "pfinet",
    "hostile",
];

/// The Debian package with `qemu-system-x86_64`.
pub const QEMU_PACKAGE: &str = "qemu-system-x86";

/// QEMU's exit status when the kernel writes the success value (0x10) to
/// `isa-debug-exit`: `(0x10 << 1) | 1`.
pub const EXIT_SUCCESS: i32 = 33;
/// The status for a failed test run (0x11).
pub const EXIT_FAILED: i32 = 35;
/// The status after a kernel panic or fatal fault (0x12).
pub const EXIT_PANIC: i32 = 37;

/// How long a boot may take before it counts as hung.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);

/// The kernel's test run prints a line as each test ends: it counts as hung
/// when it has printed nothing for `quiet` (no single test takes that long,
/// even under load), and is stopped at `total` whatever it prints. A limit
/// on the whole run alone grew tight as tests were added (the run took
/// 70–80 s of 90 on a loaded machine).
const TEST_RUN_TIMEOUT: Timeout = Timeout {
    total: Duration::from_secs(600),
    quiet: Some(Duration::from_secs(60)),
};

/// How QEMU runs the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualisation, with a named CPU model (`-cpu host` and
    /// `-cpu max` abort on these machines).
    Kvm,
    /// QEMU's emulator.
    Tcg,
}

impl Accel {
    /// KVM if `/dev/kvm` can be opened for reading and writing and
    /// `HURD_QEMU_ACCEL` is not `tcg`; TCG otherwise.
    pub fn detect() -> Accel {
        if std::env::var("HURD_QEMU_ACCEL").is_ok_and(|v| v == "tcg") {
            return Accel::Tcg;
        }
        let kvm = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm");
        if kvm.is_ok() { Accel::Kvm } else { Accel::Tcg }
    }

    /// The QEMU arguments selecting it.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Accel::Kvm => &["-accel", "kvm", "-cpu", "EPYC"],
            // RDRAND for the random translator (TCG emulates it; not
            // RDSEED).
            Accel::Tcg => &["-accel", "tcg", "-cpu", "qemu64,+rdrand"],
        }
    }
}

/// What a build produced: the kernel image and the user programs.
#[derive(Debug, Clone)]
pub struct Build {
    /// The kernel's ELF image.
    pub kernel: PathBuf,
    /// The user programs (boot modules), in [`USER_PROGRAMS`] order.
    pub modules: Vec<PathBuf>,
}

/// Builds the kernel and the user programs (release profile) for bare
/// metal, the Linux programs with `musl-gcc`, and the Rust one for the
/// musl target.
pub fn build(ws: &Workspace) -> Result<Build, String> {
    setup::ensure_apt(&["musl-tools"])?;
    setup::ensure_target(crate::linux::MUSL_TARGET)?;
    ws.cargo()
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            PACKAGE,
            "-p",
            USER_PACKAGE,
        ])
        .arg("--target")
        .arg(setup::BARE_METAL_TARGET)
        .run()?;
    // The distro's drivers and storeio, and the Linux program loader,
    // which the kernel tests run too.
    ws.cargo()
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            DISTRO_PACKAGE,
            "--bin",
            "virtio-blk",
            "--bin",
            "virtio-net",
            "--bin",
            "storeio",
            "--bin",
            "ext2fs",
            "-p",
            LINUX_PACKAGE,
            "--bin",
            "linux-forward",
            "--bin",
            "linux-run",
            "--bin",
            "linux-emulation",
            "-p",
            PFINET_PACKAGE,
            "--bin",
            "pfinet",
        ])
        .arg("--target")
        .arg(setup::BARE_METAL_TARGET)
        .run()?;
    let dir = ws
        .metadata()?
        .target_directory
        .join(setup::BARE_METAL_TARGET)
        .join("release");
    for (linux_program, source) in LINUX_PROGRAMS {
        crate::cmd::Cmd::new("musl-gcc")
            .args(["-static", "-O2", "-s", "-o"])
            .arg(dir.join(linux_program))
            .arg(ws.root.join(source))
            .run()?;
    }
    ws.cargo()
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "linux-tests",
            "--bin",
            LINUX_RUST_PROGRAM,
            "--bin",
            LINUX_SPAWN_PROGRAM,
            "--target",
            crate::linux::MUSL_TARGET,
        ])
        .run()?;
    let target = ws.metadata()?.target_directory;
    // A boot module (and a program of the distro's image): without its
    // debug information.
    for program in [LINUX_RUST_PROGRAM, LINUX_SPAWN_PROGRAM] {
        crate::cmd::Cmd::new("strip")
            .arg("-o")
            .arg(dir.join(program))
            .arg(
                target
                    .join(crate::linux::MUSL_TARGET)
                    .join("release")
                    .join(program),
            )
            .run()?;
    }
    let build = Build {
        kernel: dir.join(PACKAGE),
        modules: USER_PROGRAMS.iter().map(|p| dir.join(p)).collect(),
    };
    for file in std::iter::once(&build.kernel).chain(&build.modules) {
        if !file.is_file() {
            return Err(format!("the kernel build left no {}", file.display()));
        }
    }
    Ok(build)
}

/// The QEMU command booting the kernel with the user programs as modules
/// and the command line `cmdline`.
pub fn qemu_command(build: &Build, accel: Accel, cmdline: &str, extra: &[&str]) -> Command {
    let modules: Vec<String> = build
        .modules
        .iter()
        .map(|m| m.display().to_string())
        .collect();
    let mut command = Command::new("qemu-system-x86_64");
    command
        .args(accel.args())
        .args(["-m", "256M", "-display", "none", "-serial", "stdio"])
        .args([
            "-no-reboot",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ])
        .arg("-kernel")
        .arg(&build.kernel)
        .args(["-append", cmdline])
        .arg("-initrd")
        .arg(modules.join(","))
        .args(extra);
    command
}

/// The accelerator the kernel tests use: KVM if `/dev/kvm` works *and* a
/// probe boot shows user mode works under it, else TCG.
///
/// The probe matters: on some hosts `/dev/kvm` is a paravirtualised KVM
/// (kvm-pvm) under which `syscall` from ring 3 does not arrive in the kernel
/// intact, so user tasks die at their first system call.
pub fn choose_accel(build: &Build) -> Result<Accel, String> {
    if Accel::detect() == Accel::Tcg {
        return Ok(Accel::Tcg);
    }
    let run = boot(
        qemu_command(build, Accel::Kvm, "accel-probe", &[]),
        TEST_TIMEOUT,
    )?;
    if run.status == Some(EXIT_SUCCESS) {
        Ok(Accel::Kvm)
    } else {
        eprintln!("KVM cannot run this kernel's user mode here; using TCG");
        Ok(Accel::Tcg)
    }
}

/// What a boot printed and how QEMU ended.
#[derive(Debug)]
pub struct BootRun {
    /// The serial output, line by line (carriage returns removed).
    pub lines: Vec<String>,
    /// QEMU's exit status; `None` if it was killed (timeout) or by a signal.
    pub status: Option<i32>,
    /// QEMU's own error output.
    pub stderr: String,
    /// Whether the run hit the timeout.
    pub timed_out: bool,
}

/// Runs `command` (a QEMU boot), echoing the serial output as it arrives,
/// and kills it after `timeout`.
pub fn boot(command: Command, timeout: Duration) -> Result<BootRun, String> {
    crate::console::converse(command, timeout, &[])
}

/// The counts of a closing line `N passed, M failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Tests passed.
    pub passed: u32,
    /// Tests failed.
    pub failed: u32,
}

/// Reads a closing line; `None` for any other line.
pub fn parse_summary(line: &str) -> Option<Summary> {
    let (passed, rest) = line.trim().split_once(" passed, ")?;
    let failed = rest.strip_suffix(" failed")?;
    Some(Summary {
        passed: passed.parse().ok()?,
        failed: failed.parse().ok()?,
    })
}

/// Checks a test boot: a closing line with no failure, and the success exit
/// status. Returns the counts.
pub fn check_test_run(run: &BootRun) -> Result<Summary, String> {
    let summary = run.lines.iter().rev().find_map(|line| parse_summary(line));
    let explain = |what: String| {
        if run.stderr.trim().is_empty() {
            what
        } else {
            format!("{what}\nqemu said:\n{}", run.stderr.trim_end())
        }
    };
    if run.timed_out {
        return Err(explain(format!(
            "the kernel did not finish (it printed nothing for {}s, or ran for {}s)",
            TEST_RUN_TIMEOUT
                .quiet
                .unwrap_or(TEST_RUN_TIMEOUT.total)
                .as_secs(),
            TEST_RUN_TIMEOUT.total.as_secs()
        )));
    }
    let Some(summary) = summary else {
        return Err(explain(format!(
            "no closing `N passed, M failed` line (qemu exit status {:?})",
            run.status
        )));
    };
    if summary.failed != 0 || summary.passed == 0 {
        return Err(format!(
            "kernel tests: {} passed, {} failed",
            summary.passed, summary.failed
        ));
    }
    match run.status {
        Some(EXIT_SUCCESS) => Ok(summary),
        Some(EXIT_PANIC) => Err(explain("the kernel panicked".to_owned())),
        Some(EXIT_FAILED) => Err(explain("the kernel reported failed tests".to_owned())),
        other => Err(explain(format!(
            "qemu exit status {other:?}, expected {EXIT_SUCCESS} (isa-debug-exit success)"
        ))),
    }
}

/// The values of the `bench NAME VALUE` lines a benchmark boot printed.
pub fn bench_values(lines: &[String]) -> Vec<(String, f64)> {
    lines
        .iter()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            if words.next()? != "bench" {
                return None;
            }
            let name = words.next()?.to_owned();
            let value = words.next()?.parse().ok()?;
            words.next().is_none().then_some((name, value))
        })
        .collect()
}

/// One row of `target/bench/kernel.json` (see [`crate::bench`]): `ours` and
/// the baseline's value in `unit`.
pub fn bench_row<'a>(
    name: &'a str,
    unit: &'a str,
    ours: f64,
    baseline: Option<(&'a str, f64)>,
) -> Figure<'a> {
    Figure {
        name,
        unit,
        ours,
        baseline,
    }
}

/// Writes `rows` to `<target dir>/bench/<stem>.json`.
pub fn write_bench_rows(ws: &Workspace, stem: &str, rows: &[Figure<'_>]) -> Result<(), String> {
    let target = ws.metadata()?.target_directory;
    hurd_bench::write_figures(&target, stem, rows)
        .map(drop)
        .map_err(|err| format!("cannot write {}/bench/{stem}.json: {err}", target.display()))
}

/// `cargo xtask bench kernel`: boots the benchmark (`bench` command line)
/// under TCG with `-icount shift=0,sleep=off`, where the guest's time-stamp
/// counter counts instructions (exactly repeatable), then once more without
/// icount for the wall time to the first user output, and under KVM for
/// cycles when KVM can run user mode. Writes `target/bench/kernel.json`.
///
/// The figures are guest instructions (or cycles, or wall nanoseconds where
/// the name says so), each row with its unit.
pub fn bench(ws: &Workspace) -> Result<(), String> {
    setup::ensure_apt(&[QEMU_PACKAGE])?;
    let build = build(ws)?;
    let icount = ["-icount", "shift=0,sleep=off"];
    let run = boot(
        qemu_command(&build, Accel::Tcg, "bench", &icount),
        TEST_TIMEOUT,
    )?;
    if run.status != Some(EXIT_SUCCESS) {
        return Err(format!(
            "the benchmark boot failed (status {:?})",
            run.status
        ));
    }
    let values = bench_values(&run.lines);
    let get = |name: &str| {
        values
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, v)| v)
            .ok_or_else(|| format!("the benchmark boot printed no `bench {name}` line"))
    };
    let straight = get("null_rpc_round_trip")?;
    let mut rows = vec![
        bench_row(
            "kernel null RPC round trip, 2 tasks (guest insns)",
            "insns",
            straight,
            Some(("goal: 2 x L4Re one-way IPC (insns)", 1200.0)),
        ),
        bench_row(
            "kernel null RPC round trip, 2 tasks, general path: receive timeouts (guest insns)",
            "insns",
            get("null_rpc_round_trip_general")?,
            Some(("the same RPC on the straight path (insns)", straight)),
        ),
        bench_row(
            "kernel null syscall (guest insns)",
            "insns",
            get("null_syscall")?,
            Some(("L4Re null syscall (insns)", 148.0)),
        ),
        bench_row(
            "Linux getpid through the emulator in the program's task, no RPC (guest insns)",
            "insns",
            get("linux_getpid")?,
            Some((
                "goal: 3 x the kernel null syscall (insns)",
                3.0 * get("null_syscall")?,
            )),
        ),
        bench_row(
            "kernel send right made and released by a program, port_call trap (guest insns)",
            "insns",
            get("make_send_trap")?,
            None,
        ),
        bench_row(
            "kernel send right made and released by a program, RPC to its task port (guest insns)",
            "insns",
            get("make_send_rpc")?,
            None,
        ),
        bench_row(
            "kernel boot to first user instruction (guest insns)",
            "insns",
            get("boot_to_first_user")?,
            Some(("goal: 50M insns", 50e6)),
        ),
    ];

    // The same RPC on the trace build, every event on the trace line.
    let kernel = crate::trace::build_kernel(ws)?;
    let trace_file = ws.metadata()?.target_directory.join("trace-bench.bin");
    let traced = Build {
        kernel: kernel.clone(),
        modules: build.modules.clone(),
    };
    let mut args: Vec<String> = icount.iter().map(|s| (*s).to_owned()).collect();
    args.extend(crate::trace::serial_args(&trace_file));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = boot(
        qemu_command(&traced, Accel::Tcg, "bench", &args),
        TEST_TIMEOUT,
    )?;
    if let Some(&(_, traced_rpc)) = bench_values(&run.lines)
        .iter()
        .find(|(n, _)| n == "null_rpc_round_trip")
    {
        rows.push(bench_row(
            "kernel null RPC round trip, 2 tasks, trace line on (guest insns)",
            "insns",
            traced_rpc,
            Some(("the same RPC without the trace line (insns)", straight)),
        ));
    }
    let decoded = crate::trace::decode_files(&kernel, &trace_file)?;
    if let Some((_, bytes)) = decoded.event_size("mach_msg straight rpc:") {
        rows.push(bench_row(
            "kernel trace line: bytes per straight-path RPC event (bytes)",
            "bytes",
            bytes,
            None,
        ));
    }

    // Wall time to the first line a user task prints, without icount.
    if let Some(elapsed) = wall_time_to(
        qemu_command(&build, Accel::Tcg, "bench", &[]),
        "bench-client:",
    )? {
        rows.push(bench_row(
            "kernel QEMU start to first user output, TCG (wall ns)",
            "ns",
            elapsed.as_nanos() as f64,
            Some(("goal: 1 s", 1e9)),
        ));
    }

    if choose_accel(&build)? == Accel::Kvm {
        let run = boot(qemu_command(&build, Accel::Kvm, "bench", &[]), TEST_TIMEOUT)?;
        let values = bench_values(&run.lines);
        for (name, label, baseline) in [
            (
                "null_rpc_round_trip",
                "kernel null RPC round trip, 2 tasks, KVM (cycles)",
                Some(("seL4 call+reply (cycles)", 770.0)),
            ),
            ("null_syscall", "kernel null syscall, KVM (cycles)", None),
        ] {
            if let Some(&(_, v)) = values.iter().find(|(n, _)| n == name) {
                rows.push(bench_row(label, "cycles", v, baseline));
            }
        }
    } else {
        eprintln!("kernel bench: no KVM figures (KVM cannot run user mode here)");
    }

    write_bench_rows(ws, "kernel", &rows)
}

/// Runs `command` (a QEMU boot that ends by itself) and returns the time
/// from its start to the first console line starting with `prefix`, if one
/// came.
pub fn wall_time_to(mut command: Command, prefix: &str) -> Result<Option<Duration>, String> {
    let start = Instant::now();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command
        .spawn()
        .map_err(|err| format!("could not start qemu-system-x86_64: {err}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or("qemu's output was not captured")?;
    let mut seen = None;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if seen.is_none() && line.starts_with(prefix) {
            seen = Some(start.elapsed());
        }
    }
    let _ = child.wait();
    Ok(seen)
}

/// Checks a boot that was asked to panic (or fault): a console line holding
/// `marker` and the panic exit status.
pub fn check_panic_run(run: &BootRun, marker: &str) -> Result<(), String> {
    let reported = run.lines.iter().any(|line| line.contains(marker));
    if run.timed_out || !reported || run.status != Some(EXIT_PANIC) {
        return Err(format!(
            "a requested panic was not reported with exit status {EXIT_PANIC} \
             (reported: {reported}, status {:?}, timed out: {})",
            run.status, run.timed_out
        ));
    }
    Ok(())
}

/// The size of the disk the kernel tests' drivers reach.
pub const TEST_DISK_SIZE: usize = 1 << 20;

/// What sector `n` of the test disk holds: `sector N` and a newline, then
/// the byte `n` repeated (a driver test checks what it reads).
pub fn test_sector(n: usize) -> [u8; 512] {
    let mut sector = [n as u8; 512];
    let head = format!("sector {n}\n");
    sector[..head.len()].copy_from_slice(head.as_bytes());
    sector
}

/// Writes the test disk (a raw image of [`TEST_DISK_SIZE`] bytes of
/// [`test_sector`]s) into the target directory, anew for every run.
pub fn test_disk(ws: &Workspace) -> Result<PathBuf, String> {
    let path = ws.metadata()?.target_directory.join("kernel-test-disk.img");
    let bytes: Vec<u8> = (0..TEST_DISK_SIZE / 512).flat_map(test_sector).collect();
    std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// Where the kernel tests' storeio client writes [`STOREIO_WRITTEN`]:
/// across sectors 20 and 21.
pub const STOREIO_WRITE_AT: usize = 20 * 512 + 500;

/// What the storeio client writes.
pub const STOREIO_WRITTEN: &[u8] = b"written through storeio\n";

/// Checks what the kernel tests' disk clients wrote reached the disk:
/// sectors 5, 6 and 7 hold the driver client's text (filled with 0xa5,
/// 0x5a, 0x3c), [`STOREIO_WRITTEN`] is at [`STOREIO_WRITE_AT`], and the
/// rest is what [`test_disk`] wrote.
pub fn check_test_disk(image: &std::path::Path) -> Result<(), String> {
    let mut bytes =
        std::fs::read(image).map_err(|e| format!("reading {}: {e}", image.display()))?;
    let storeio = STOREIO_WRITE_AT..STOREIO_WRITE_AT + STOREIO_WRITTEN.len();
    if bytes.get(storeio.clone()) != Some(STOREIO_WRITTEN) {
        return Err("the kernel test disk does not hold what storeio's client wrote".to_owned());
    }
    // Compared with the rest below as the disk was made.
    for at in storeio {
        bytes[at] = test_sector(at / 512)[at % 512];
    }
    let written = |fill: u8| {
        let mut s = [fill; 512];
        let text = b"written by disk-client\n";
        s[..text.len()].copy_from_slice(text);
        s
    };
    for (n, sector) in bytes.chunks(512).enumerate() {
        let want = match n {
            5 => written(0xa5),
            6 => written(0x5a),
            7 => written(0x3c),
            _ => test_sector(n),
        };
        if sector != want {
            return Err(format!(
                "sector {n} of the kernel test disk is not what the driver test left there"
            ));
        }
    }
    eprintln!("kernel test disk: the driver's and storeio's writes are on the disk");
    Ok(())
}

/// What the kernel tests' ext2 client finds in `/docs/hello.txt`.
pub const EXT2_HELLO: &[u8] = b"hello from the host\n";

/// The size of `/docs/big` on the ext2 test disk (byte i is `i % 251`):
/// with 1 KiB blocks, its last blocks are reached through an indirect one.
pub const EXT2_BIG: usize = 40_000;

/// The file the kernel tests' ext2 client makes, and what it writes there.
pub const EXT2_WRITTEN: (&str, &[u8]) = (
    "/written/by-hurd-rs.txt",
    b"written on hurd-rs through ext2fs\n",
);

/// Makes the ext2 test disk, anew for every run: a 4 MiB raw image
/// `mke2fs -t ext2` formats (1 KiB blocks, Debian's default features) with
/// `/docs/hello.txt` ([`EXT2_HELLO`]) and `/docs/big` ([`EXT2_BIG`] bytes)
/// put there with `-d`.
pub fn test_ext2_disk(ws: &Workspace) -> Result<PathBuf, String> {
    setup::ensure_apt(&["e2fsprogs"])?;
    let target = ws.metadata()?.target_directory;
    let image = target.join("kernel-test-ext2.img");
    let stage = target.join("kernel-test-ext2.d");
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| io("clearing the ext2 stage", e))?;
    }
    std::fs::create_dir_all(stage.join("docs")).map_err(|e| io("the ext2 stage", e))?;
    std::fs::write(stage.join("docs/hello.txt"), EXT2_HELLO).map_err(|e| io("hello.txt", e))?;
    let big: Vec<u8> = (0..EXT2_BIG).map(|i| (i % 251) as u8).collect();
    std::fs::write(stage.join("docs/big"), big).map_err(|e| io("big", e))?;
    let file = std::fs::File::create(&image).map_err(|e| io("the ext2 image", e))?;
    file.set_len(4 << 20).map_err(|e| io("the ext2 image", e))?;
    crate::cmd::Cmd::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-d"])
        .arg(&stage)
        .arg(&image)
        .run()?;
    Ok(image)
}

/// Checks the ext2 test disk after the kernel tests: `e2fsck -fn` finds
/// nothing to fix, and `debugfs` reads what the ext2 client wrote
/// ([`EXT2_WRITTEN`]).
pub fn check_test_ext2_disk(image: &std::path::Path) -> Result<(), String> {
    let (status, out) = crate::cmd::Cmd::new("e2fsck")
        .arg("-fn")
        .arg(image)
        .combined_output()?;
    if !status.success() {
        return Err(format!(
            "e2fsck -fn finds the ext2 test disk damaged after the kernel tests ({status}):\n{out}"
        ));
    }
    let (path, text) = EXT2_WRITTEN;
    let read = crate::cmd::Cmd::new("debugfs")
        .args(["-R", &format!("cat {path}")])
        .arg(image)
        .read()?;
    if read.as_bytes() != text {
        return Err(format!(
            "debugfs reads {read:?} from {path} on the ext2 test disk, expected {:?}",
            String::from_utf8_lossy(text)
        ));
    }
    eprintln!("kernel test ext2 disk: e2fsck -fn is clean; {path} holds what ext2fs wrote");
    Ok(())
}

/// Boots again with the kernel tests' disks, the ext2 client as the
/// bootstrap task of a normal boot (command line `ext2-reboot`): it mounts
/// the ext2 disk and reads the file it wrote in the test boot.
pub fn ext2_reboot(build: &Build, accel: Accel, disks: &[&str]) -> Result<(), String> {
    let module = |name: &str| {
        build
            .modules
            .iter()
            .find(|m| m.file_name().is_some_and(|f| f == name))
            .cloned()
            .ok_or_else(|| format!("the kernel build has no {name}"))
    };
    let reboot = Build {
        kernel: build.kernel.clone(),
        modules: vec![
            module("ext2-client")?,
            module("virtio-blk")?,
            module("ext2fs")?,
        ],
    };
    let run = boot(
        qemu_command(&reboot, accel, "ext2-reboot", disks),
        TEST_TIMEOUT,
    )?;
    let ended = run
        .lines
        .iter()
        .any(|l| l.contains("bootstrap task ended with status 0x0"));
    if run.timed_out || !ended || run.status != Some(EXIT_SUCCESS) {
        return Err(format!(
            "the ext2 client did not read back its file after a reboot (status {:?}, timed out: {})",
            run.status, run.timed_out
        ));
    }
    eprintln!("kernel test ext2 disk: the file written is read back after a reboot");
    Ok(())
}

/// QEMU's arguments attaching `images` as virtio-blk PCI disks, in order
/// (the first on the lowest PCI slot).
pub fn disk_args(images: &[&std::path::Path]) -> Vec<String> {
    images
        .iter()
        .enumerate()
        .flat_map(|(n, image)| {
            [
                "-drive".to_owned(),
                format!("file={},format=raw,if=none,id=disk{n}", image.display()),
                "-device".to_owned(),
                format!("virtio-blk-pci,drive=disk{n}"),
            ]
        })
        .collect()
}

/// The MAC address of the test machine's network device.
pub const TEST_MAC: &str = "52:54:00:12:34:56";

/// QEMU's arguments attaching a virtio-net PCI device on QEMU's user
/// network (slirp: the guest 10.0.2.15, the gateway 10.0.2.2), cut off
/// from the host's networks (`restrict=on`: the guest reaches only slirp
/// itself) but for two explicit TCP forwardings, which `restrict` leaves
/// alone: a connection to 10.0.2.100 port 7 reaches a `cat` on the host, a
/// TCP echo service; and a connection to the host's `127.0.0.1:host_port`
/// reaches the guest's port [`GUEST_ECHO_PORT`] (coming from 10.0.2.2).
/// A restricted slirp drops the guest's UDP but for its own DHCP and TFTP
/// servers: its TFTP server (10.0.2.2 port 69) serves `tftp`, where the
/// datagram test reads [`TFTP_FILE`].
pub fn net_args(host_port: u16, tftp: &std::path::Path) -> Vec<String> {
    vec![
        "-netdev".to_owned(),
        format!(
            "user,id=net0,restrict=on,guestfwd=tcp:10.0.2.100:7-cmd:cat,\
             hostfwd=tcp:127.0.0.1:{host_port}-10.0.2.15:{GUEST_ECHO_PORT},\
             tftp={}",
            tftp.display()
        ),
        "-device".to_owned(),
        format!("virtio-net-pci,netdev=net0,mac={TEST_MAC}"),
    ]
}

/// QEMU's arguments giving the distro a virtio-net PCI device on QEMU's
/// user network, as the reference image expects it (the machine
/// 10.0.2.15, the gateway 10.0.2.2), cut off from the host's networks
/// (`restrict=on`) but for one explicit forwarding: a connection to
/// 10.0.2.100 port 7 reaches a `cat` on the host, a TCP echo service
/// (`nc 10.0.2.100 7` in the system).
pub fn distro_net_args() -> Vec<String> {
    vec![
        "-netdev".to_owned(),
        "user,id=net0,restrict=on,guestfwd=tcp:10.0.2.100:7-cmd:cat".to_owned(),
        "-device".to_owned(),
        format!("virtio-net-pci,netdev=net0,mac={TEST_MAC}"),
    ]
}

/// The file the kernel tests' client reads by TFTP over UDP, and what it
/// holds (the client checks it).
pub const TFTP_FILE: (&str, &[u8]) = ("hurd-rs.txt", b"read by TFTP through pfinet\n");

/// Makes the directory QEMU's TFTP server serves in the kernel tests, with
/// [`TFTP_FILE`] in it.
pub fn test_tftp_dir(ws: &Workspace) -> Result<PathBuf, String> {
    let dir = ws.metadata()?.target_directory.join("kernel-test-tftp");
    let (name, text) = TFTP_FILE;
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(name), text))
        .map_err(|e| format!("the TFTP directory {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The port the kernel tests' TCP client listens on once it has connected
/// out: it echoes one connection, the host's.
pub const GUEST_ECHO_PORT: u16 = 7;

/// What the guest prints once it listens: the host connects then.
pub const GUEST_LISTENING: &str = "tcp-client: listening on port 7";

/// What the network test's pfinet prints once QEMU's DHCP server leased
/// it its address (it serves only then). A restricted slirp offers no
/// router (the guest reaches nothing beyond it), so the lease has none.
pub const GUEST_LEASE: &str =
    "pfinet: eth0 10.0.2.15/24 gateway none, leased by DHCP from 10.0.2.2";

/// How many bytes the host sends to the guest's echo (byte `i` is
/// `i % 251`; the guest checks them too).
pub const HOST_ECHO_BYTES: usize = 30_000;

/// A TCP port free on the host's loopback: the system picks one, and it is
/// free again when this returns, for QEMU to take.
pub fn free_local_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("no free local TCP port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free local TCP port: {e}"))
}

/// Connects to the guest's echo through the forwarding at
/// `127.0.0.1:host_port`, sends [`HOST_ECHO_BYTES`], ends its sending
/// half, reads until the guest closes, and compares what came back.
pub fn echo_through_guest(host_port: u16) -> Result<(), String> {
    use std::io::{Read as _, Write as _};
    let limit = Duration::from_secs(20);
    let at = std::net::SocketAddr::from(([127, 0, 0, 1], host_port));
    let fail = |what: &str, e: std::io::Error| format!("the guest's echo at {at}: {what}: {e}");
    let mut stream =
        std::net::TcpStream::connect_timeout(&at, limit).map_err(|e| fail("connect", e))?;
    stream
        .set_read_timeout(Some(limit))
        .and_then(|()| stream.set_write_timeout(Some(limit)))
        .map_err(|e| fail("timeouts", e))?;
    let data: Vec<u8> = (0..HOST_ECHO_BYTES).map(|i| (i % 251) as u8).collect();
    stream.write_all(&data).map_err(|e| fail("write", e))?;
    stream
        .shutdown(std::net::Shutdown::Write)
        .map_err(|e| fail("shutdown", e))?;
    let mut back = Vec::new();
    stream.read_to_end(&mut back).map_err(|e| fail("read", e))?;
    if back != data {
        let same = back.iter().zip(&data).take_while(|(a, b)| a == b).count();
        return Err(format!(
            "the guest's echo at {at} sent back {} bytes, the first {same} right, for {} sent",
            back.len(),
            data.len()
        ));
    }
    eprintln!("kernel tests: {HOST_ECHO_BYTES} bytes from the host to the guest's echo and back");
    Ok(())
}

/// The `kernel` step of `cargo xtask test`: clippy for bare metal, build,
/// boot the test run.
pub fn test_step(ws: &Workspace) -> Result<(), String> {
    setup::ensure_apt(&[QEMU_PACKAGE])?;
    ws.cargo()
        .args([
            "clippy",
            "--quiet",
            "--release",
            "--no-deps",
            "-p",
            PACKAGE,
            "-p",
            USER_PACKAGE,
            "-p",
            RUNTIME_PACKAGE,
            "-p",
            DISTRO_PACKAGE,
            "-p",
            LINUX_PACKAGE,
            "-p",
            PFINET_PACKAGE,
            "--target",
        ])
        .arg(setup::BARE_METAL_TARGET)
        .args(["--", "-D", "warnings"])
        .run()?;
    // The kernel's trace build too.
    ws.cargo()
        .args(["clippy", "--quiet", "--release", "--no-deps", "-p", PACKAGE])
        .args(["--features", crate::trace::FEATURE, "--target"])
        .arg(setup::BARE_METAL_TARGET)
        .args(["--", "-D", "warnings"])
        .run()?;
    let build = build(ws)?;
    let accel = choose_accel(&build)?;
    // With HURD_KERNEL_TRACE=1, the test run is the trace build's, and a
    // failure shows the end of its trace.
    let traced = if std::env::var("HURD_KERNEL_TRACE").is_ok_and(|v| v == "1") {
        let file = ws.metadata()?.target_directory.join("trace-test.bin");
        Some((crate::trace::build_kernel(ws)?, file))
    } else {
        None
    };
    let host_port = free_local_port()?;
    // The host's side of the network test, once the guest listens.
    let host_echo = Arc::new(Mutex::new(None));
    let started = Arc::clone(&host_echo);
    // The console test reads a line typed on the serial console; the
    // network test listens for the host.
    let script = [
        crate::console::Step::new("console-reader: ready", "typed on the console"),
        crate::console::Step::call(GUEST_LISTENING, move || {
            let echo = std::thread::spawn(move || echo_through_guest(host_port));
            if let Ok(mut slot) = started.lock() {
                *slot = Some(echo);
            }
        }),
    ];
    let disk_path = test_disk(ws)?;
    let ext2_path = test_ext2_disk(ws)?;
    let mut devices = disk_args(&[&disk_path, &ext2_path]);
    devices.extend(net_args(host_port, &test_tftp_dir(ws)?));
    let mut test_build = build.clone();
    let mut test_devices = devices.clone();
    if let Some((kernel, file)) = &traced {
        test_build.kernel = kernel.clone();
        test_devices.extend(crate::trace::serial_args(file));
    }
    let devices: Vec<&str> = devices.iter().map(String::as_str).collect();
    let test_devices: Vec<&str> = test_devices.iter().map(String::as_str).collect();
    let run = crate::console::converse(
        qemu_command(&test_build, accel, "test", &test_devices),
        TEST_RUN_TIMEOUT,
        &script,
    )?;
    let summary = check_test_run(&run).inspect_err(|_| {
        if let Some((kernel, file)) = &traced {
            print_trace_end(kernel, file);
        }
    })?;
    if !run.lines.iter().any(|line| line.contains(GUEST_LEASE)) {
        return Err(format!("the network test never printed {GUEST_LEASE:?}"));
    }
    let echo = host_echo
        .lock()
        .map_err(|_| "the host's echo thread panicked".to_owned())?
        .take()
        .ok_or(format!("the guest never printed {GUEST_LISTENING:?}"))?;
    echo.join()
        .map_err(|_| "the host's echo thread panicked".to_owned())??;
    eprintln!(
        "kernel tests ({accel:?}): {} passed, {} failed",
        summary.passed, summary.failed
    );
    check_test_disk(&disk_path)?;
    check_test_ext2_disk(&ext2_path)?;
    ext2_reboot(&build, accel, &devices)?;
    check_test_ext2_disk(&ext2_path)?;
    // A panic or a kernel fault must be a report and the panic exit status,
    // never a hang.
    for (cmdline, marker) in [
        ("panic-test", "KERNEL PANIC"),
        ("fault-test", "KERNEL FAULT"),
    ] {
        let run = boot(qemu_command(&build, accel, cmdline, &[]), TEST_TIMEOUT)?;
        check_panic_run(&run, marker)?;
        eprintln!("kernel `{cmdline}`: reported and exited with status {EXIT_PANIC}");
    }
    trace_check(ws, &build, accel)
}

/// The lines of a failed run's trace [`print_trace_end`] shows.
const TRACE_END_LINES: usize = 300;

/// Prints the last [`TRACE_END_LINES`] lines of the decoded trace `file`
/// of kernel image `kernel` (after a failed run), or why it cannot.
fn print_trace_end(kernel: &std::path::Path, file: &std::path::Path) {
    match crate::trace::decode_files(kernel, file) {
        Ok(decoded) => {
            let skip = decoded.lines.len().saturating_sub(TRACE_END_LINES);
            eprintln!(
                "the kernel's trace ({} frames from {}; the last {}):",
                decoded.lines.len(),
                file.display(),
                decoded.lines.len() - skip
            );
            for line in &decoded.lines[skip..] {
                eprintln!("{}", line.text);
            }
            if let Some(problems) = decoded.problems() {
                eprintln!("trace: {problems}");
            }
        }
        Err(e) => eprintln!("the kernel's trace cannot be decoded: {e}"),
    }
}

/// The IPC events the trace check requires, by name: a send on the
/// general path and an RPC on the straight path, each with its `msgh_id`.
pub const TRACE_EVENTS: &[&str] = &["mach_msg send:", "mach_msg straight rpc:"];

/// The trace check of the `kernel` step: boots the trace build with the
/// benchmark's command line (null RPCs on the straight and the general
/// path), decodes its trace line and requires the kernel's log (the boot's
/// `command line` record) and each of [`TRACE_EVENTS`] with a `msgh_id`,
/// every frame decoded; prints each event's size on the wire.
pub fn trace_check(ws: &Workspace, build: &Build, accel: Accel) -> Result<(), String> {
    let kernel = crate::trace::build_kernel(ws)?;
    let file = ws.metadata()?.target_directory.join("trace-bench.bin");
    let traced = Build {
        kernel: kernel.clone(),
        modules: build.modules.clone(),
    };
    let serial = crate::trace::serial_args(&file);
    let serial: Vec<&str> = serial.iter().map(String::as_str).collect();
    let run = boot(qemu_command(&traced, accel, "bench", &serial), TEST_TIMEOUT)?;
    if run.status != Some(EXIT_SUCCESS) {
        print_trace_end(&kernel, &file);
        return Err(format!(
            "the trace build's benchmark boot failed (status {:?})",
            run.status
        ));
    }
    let decoded = crate::trace::decode_files(&kernel, &file)?;
    if decoded.corrupt > 0 {
        return Err(format!(
            "the trace of {}: {}",
            file.display(),
            decoded.problems().unwrap_or_default()
        ));
    }
    let log = decoded
        .lines
        .iter()
        .find(|l| l.message.contains("command line"))
        .ok_or("the decoded trace has no `command line` record of the kernel's log")?;
    eprintln!("kernel trace: {}", log.text);
    for event in TRACE_EVENTS {
        let line = decoded
            .lines
            .iter()
            .find(|l| l.message.starts_with(event) && l.message.contains("msgh_id"))
            .ok_or(format!(
                "the decoded trace shows no `{event}` with a msgh_id"
            ))?;
        eprintln!("kernel trace: {}", line.text);
    }
    let total: usize = decoded.lines.iter().map(|l| l.wire_bytes).sum();
    eprintln!(
        "kernel trace: {} frames, {total} bytes on the wire",
        decoded.lines.len()
    );
    for event in TRACE_EVENTS
        .iter()
        .chain(&["mach_msg receive:", "hand-off:"])
    {
        if let Some((count, mean)) = decoded.event_size(event) {
            eprintln!("kernel trace: {count} `{event}` events, {mean:.1} bytes each");
        }
    }
    Ok(())
}

/// `cargo xtask kernel [--tcg] [ARGS…]`: builds the kernel and boots it with
/// the command line `ARGS`; exits with QEMU's status. `cargo xtask kernel
/// --check` runs the `kernel` step of `cargo xtask test` alone, `--distro-check`
/// its `distro` step.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    if args == ["--check"] {
        test_step(&Workspace::find()?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args == ["--distro-check"] {
        crate::distro::test_step(&Workspace::find()?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut accel = Accel::detect();
    let mut cmdline = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--tcg" => accel = Accel::Tcg,
            other => cmdline.push(other),
        }
    }
    setup::ensure_apt(&[QEMU_PACKAGE])?;
    let ws = Workspace::find()?;
    let build = build(&ws)?;
    let mut command = qemu_command(&build, accel, &cmdline.join(" "), &[]);
    eprintln!("$ {command:?}");
    let status = command
        .status()
        .map_err(|err| format!("could not start qemu-system-x86_64: {err}"))?;
    // QEMU's status is small (isa-debug-exit values) or 1 on its own errors.
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[&str], status: Option<i32>) -> BootRun {
        BootRun {
            lines: lines.iter().map(|l| (*l).to_owned()).collect(),
            status,
            stderr: String::new(),
            timed_out: false,
        }
    }

    #[test]
    fn a_clean_run_passes() {
        let r = run(&["test a ... ok", "3 passed, 0 failed"], Some(EXIT_SUCCESS));
        assert_eq!(
            check_test_run(&r),
            Ok(Summary {
                passed: 3,
                failed: 0
            })
        );
    }

    #[test]
    fn failures_panics_and_missing_lines_fail() {
        assert!(check_test_run(&run(&["2 passed, 1 failed"], Some(EXIT_FAILED))).is_err());
        assert!(check_test_run(&run(&["2 passed, 0 failed"], Some(EXIT_PANIC))).is_err());
        assert!(check_test_run(&run(&["test a ... ok"], Some(EXIT_SUCCESS))).is_err());
        assert!(check_test_run(&run(&["0 passed, 0 failed"], Some(EXIT_SUCCESS))).is_err());
        let mut hung = run(&["1 passed, 0 failed"], None);
        hung.timed_out = true;
        assert!(check_test_run(&hung).is_err());
    }

    #[test]
    fn panic_runs() {
        let good = run(&["KERNEL PANIC: at x"], Some(EXIT_PANIC));
        assert_eq!(check_panic_run(&good, "KERNEL PANIC"), Ok(()));
        assert!(check_panic_run(&good, "KERNEL FAULT").is_err());
        let bad = run(&["KERNEL PANIC: at x"], Some(EXIT_SUCCESS));
        assert!(check_panic_run(&bad, "KERNEL PANIC").is_err());
        assert!(check_panic_run(&run(&[], Some(EXIT_PANIC)), "KERNEL PANIC").is_err());
    }

    #[test]
    fn bench_lines() {
        let lines: Vec<String> = [
            "bench a 12",
            "bench b x",
            "other 1",
            "bench c 3 4",
            "bench d 5",
        ]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
        assert_eq!(
            bench_values(&lines),
            vec![("a".to_owned(), 12.0), ("d".to_owned(), 5.0)]
        );
        let row = bench_row("x", "insns", 600.0, Some(("y", 1200.0)));
        let parsed = crate::bench::parse_results(&hurd_bench::figures_to_json(&[row]));
        assert_eq!(parsed.as_ref().map(|r| r[0].ratio), Ok(Some(0.5)));
        assert_eq!(parsed.map(|r| r[0].unit.clone()), Ok("insns".to_owned()));
        let alone = bench_row("z", "bytes", 7.0, None);
        let parsed = crate::bench::parse_results(&hurd_bench::figures_to_json(&[alone]));
        assert_eq!(parsed.map(|r| (r[0].ours, r[0].ratio)), Ok((7.0, None)));
    }

    #[test]
    fn summary_lines() {
        assert_eq!(
            parse_summary(" 10 passed, 2 failed "),
            Some(Summary {
                passed: 10,
                failed: 2
            })
        );
        assert_eq!(parse_summary("10 passed, two failed"), None);
    }
}
