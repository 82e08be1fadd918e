//! `cargo xtask profile [--book] | --redraw`: where the kernel's null RPC spends its
//! instructions, for each direction (the request, the reply) and each part
//! of the path.
//!
//! The kernel's benchmark boot ([`crate::kernel::bench`]) runs under QEMU's
//! emulation with one guest instruction per translated block
//! (`-singlestep`) and the log of every block executed (`-d exec,nochain`)
//! written to a pipe, so the tool sees the address of every instruction the
//! machine runs. The window is the benchmark client's timed loop of null
//! RPCs on the straight path: from the first `rdtsc` of its `main` to the
//! second (found with `objdump`). In it, each kernel instruction is counted
//! for the direction it serves — kernel stretches alternate, the client's
//! request first, the server's reply second — and its part of the path is
//! named from the inlined functions `addr2line` finds at its address (the
//! innermost one that belongs to a part, see [`PARTS`]). Instructions in
//! user mode count as the programs' own. Every figure is divided by the
//! loop's rounds, so the table reads in instructions a round trip, and its
//! total is the benchmark's own figure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use crate::cmd::Cmd;
use crate::kernel::{self, Accel};
use crate::setup;
use crate::workspace::Workspace;
use crate::{Failure, json};

/// Kernel addresses start here (the higher half).
const KERNEL_BASE: u64 = 0xffff_8000_0000_0000;

/// The parts of the path, each with the names (parts of function paths)
/// that put an instruction in it, tried from the innermost inlined function
/// out; an instruction none of them names is the kernel's "other".
pub const PARTS: &[(&str, &[&str])] = &[
    (
        "trap entry and exit",
        &[
            "syscall_entry",
            "trap_common",
            "trap_dispatch",
            "trap_return",
            "entry::dispatch",
        ],
    ),
    (
        "copying the header in and out",
        &["uaccess", "paging::", "mem::mapped_frame"],
    ),
    (
        "reading and writing the header",
        &["wire::", "Disposition::from_raw", "MsgBits"],
    ),
    ("ports, names and rights (hurd-ipc)", &["hurd_ipc::"]),
    ("switching threads", &["sched::", "context::", "fpu::"]),
    (
        "the straight path's own checks",
        &["fastpath::", "mach_msg::", "hurd_abi::"],
    ),
];

/// The part of user-mode instructions.
pub const USER: &str = "the programs in user mode";

/// The part of kernel instructions no entry of [`PARTS`] names.
pub const OTHER: &str = "other kernel code";

/// The directions, in the order they alternate.
pub const DIRECTIONS: [&str; 2] = ["request", "reply"];

/// `cargo xtask profile [--book]`, `cargo xtask profile --redraw`.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let mut book = false;
    for arg in args {
        match arg.as_str() {
            "--book" => book = true,
            "--redraw" if args.len() == 1 => {
                // The book's table and chart drawn again from its results.
                let ws = Workspace::find()?;
                let json = book_dir(&ws.root).join("kernel-null-rpc.json");
                let text = std::fs::read_to_string(&json)
                    .map_err(|e| format!("{}: {e}", json.display()))?;
                write(&book_dir(&ws.root), &from_json(&text)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            other => {
                return Err(Failure::Usage(format!(
                    "unknown option `{other}` for `cargo xtask profile`"
                )));
            }
        }
    }
    let ws = Workspace::find()?;
    let profile = run(&ws)?;
    let table = render(&profile);
    print!("{table}");
    let target = ws.metadata()?.target_directory.join("profile");
    write(&target, &profile)?;
    if book {
        write(&book_dir(&ws.root), &profile)?;
        eprintln!("profile: kept in {}", book_dir(&ws.root).display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the book keeps the profile.
pub fn book_dir(root: &Path) -> PathBuf {
    root.join("book/src/profile")
}

/// Instructions a round trip, by direction and part.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The benchmark's own figure for the round trip.
    pub round_trip: f64,
    /// (direction, part, instructions a round trip), parts in [`PARTS`]
    /// order then [`OTHER`] and [`USER`].
    pub rows: Vec<(String, String, f64)>,
}

/// Every part's name, in the table's order.
fn part_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = PARTS.iter().map(|(name, _)| *name).collect();
    names.push(OTHER);
    names.push(USER);
    names
}

/// The part an inline chain (innermost function first) belongs to.
pub fn part_of(chain: &[String]) -> &'static str {
    for function in chain {
        for (name, keys) in PARTS {
            if keys.iter().any(|k| function.contains(k)) {
                return name;
            }
        }
    }
    OTHER
}

/// The address of the `rdtsc` instructions of the benchmark client's
/// `main`, in program order (from `objdump -d`).
fn rdtsc_addresses(client: &Path) -> Result<Vec<u64>, String> {
    let text = Cmd::new("objdump")
        .args(["-d", "--no-show-raw-insn"])
        .arg(client)
        .read()?;
    let mut in_main = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.ends_with(">:") {
            in_main = line.contains("program_main");
            continue;
        }
        if in_main && line.trim_end().ends_with("rdtsc") {
            let address = line.trim().split(':').next().unwrap_or("");
            if let Ok(a) = u64::from_str_radix(address, 16) {
                found.push(a);
            }
        }
    }
    Ok(found)
}

/// The program counter of a line of QEMU's `-d exec` log
/// (`Trace 0: 0xHOST [CS_BASE/PC/FLAGS/...]`).
pub fn log_pc(line: &str) -> Option<u64> {
    let fields = line.split_once('[')?.1;
    let pc = fields.split('/').nth(1)?;
    u64::from_str_radix(pc, 16).ok()
}

/// Counts of one window: per (direction, kernel address), and of user
/// instructions per direction.
#[derive(Debug, Default)]
pub struct Window {
    /// Kernel instructions by direction index and address.
    pub kernel: BTreeMap<(usize, u64), u64>,
    /// User instructions by direction index.
    pub user: [u64; 2],
    /// Instructions in the window.
    pub total: u64,
}

/// Reads the log from `lines`: the window runs from the first instruction
/// at `start` to the next at `end`. The rest of the log is read and
/// dropped (QEMU waits while nobody reads its pipe). `None` when the log
/// never showed the whole window.
pub fn count_window(lines: impl Iterator<Item = String>, start: u64, end: u64) -> Option<Window> {
    let mut window = Window::default();
    let (mut started, mut ended) = (false, false);
    // Kernel stretches seen so far; the one being counted; in the kernel?
    let (mut stretches, mut in_kernel) = (0usize, false);
    for line in lines {
        if ended {
            continue;
        }
        let Some(pc) = log_pc(&line) else { continue };
        if !started {
            started = pc == start;
            if !started {
                continue;
            }
        } else if pc == end {
            ended = true;
            continue;
        }
        window.total += 1;
        let kernel = pc >= KERNEL_BASE;
        if kernel && !in_kernel {
            stretches += 1;
        }
        in_kernel = kernel;
        // User code before a stretch prepares that stretch's message.
        let direction = (if kernel { stretches + 1 } else { stretches }) % 2;
        if kernel {
            *window.kernel.entry((direction, pc)).or_default() += 1;
        } else {
            window.user[direction] += 1;
        }
    }
    ended.then_some(window)
}

/// The inline chain of each kernel address (innermost function first),
/// from `addr2line -a -i -f -C`.
fn inline_chains(kernel: &Path, addresses: &[u64]) -> Result<BTreeMap<u64, Vec<String>>, String> {
    let input: String = addresses.iter().map(|a| format!("{a:#x}\n")).collect();
    let mut child = std::process::Command::new("addr2line")
        .args(["-a", "-i", "-f", "-C", "-e"])
        .arg(kernel)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run addr2line: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("addr2line has no input")?;
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(input.as_bytes())
    });
    let output = child
        .wait_with_output()
        .map_err(|e| format!("addr2line: {e}"))?;
    writer
        .join()
        .map_err(|_| "addr2line's input writer panicked")?
        .map_err(|e| format!("addr2line: {e}"))?;
    Ok(parse_chains(&String::from_utf8_lossy(&output.stdout)))
}

/// Parses `addr2line -a -i -f` output: an address line, then pairs of a
/// function line and a location line.
pub fn parse_chains(text: &str) -> BTreeMap<u64, Vec<String>> {
    let mut chains = BTreeMap::new();
    let mut current: Option<(u64, Vec<String>)> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(hex) = line.strip_prefix("0x") {
            if let Some((a, chain)) = current.take() {
                chains.insert(a, chain);
            }
            current = u64::from_str_radix(hex, 16).ok().map(|a| (a, Vec::new()));
            continue;
        }
        let _location = lines.next();
        if let Some((_, chain)) = current.as_mut() {
            chain.push(line.to_owned());
        }
    }
    if let Some((a, chain)) = current {
        chains.insert(a, chain);
    }
    chains
}

/// The profile of a window whose loop ran `rounds` round trips.
pub fn profile_of(
    window: &Window,
    chains: &BTreeMap<u64, Vec<String>>,
    round_trip: f64,
    rounds: f64,
) -> Profile {
    let mut sums: BTreeMap<(usize, &str), u64> = BTreeMap::new();
    for (&(direction, pc), &n) in &window.kernel {
        let part = chains.get(&pc).map_or(OTHER, |c| part_of(c));
        *sums.entry((direction, part)).or_default() += n;
    }
    for (direction, &n) in window.user.iter().enumerate() {
        *sums.entry((direction, USER)).or_default() += n;
    }
    let mut rows = Vec::new();
    for (d, direction) in DIRECTIONS.iter().enumerate() {
        for part in part_names() {
            let n = sums.get(&(d, part)).copied().unwrap_or(0);
            rows.push((direction.to_string(), part.to_owned(), n as f64 / rounds));
        }
    }
    Profile { round_trip, rows }
}

/// Boots the benchmark with the instruction log and profiles its window.
fn run(ws: &Workspace) -> Result<Profile, String> {
    setup::ensure_apt(&[kernel::QEMU_PACKAGE, "binutils"])?;
    let build = kernel::build(ws)?;
    let client = build
        .modules
        .iter()
        .find(|m| m.file_name().is_some_and(|n| n == "bench-client"))
        .ok_or("the build has no bench-client")?;
    let rdtsc = rdtsc_addresses(client)?;
    let [start, end, ..] = rdtsc[..] else {
        return Err(format!(
            "bench-client's main has {} rdtsc instructions, the timed loop needs two",
            rdtsc.len()
        ));
    };
    let dir = ws.metadata()?.target_directory.join("profile");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let fifo = dir.join("exec.pipe");
    let _ = std::fs::remove_file(&fifo);
    Cmd::new("mkfifo").arg(&fifo).run()?;
    let log = fifo.display().to_string();
    let extra = [
        "-icount",
        "shift=0,sleep=off",
        "-singlestep",
        "-d",
        "exec,nochain",
        "-D",
        &log,
    ];
    let console = dir.join("console.txt");
    let out = std::fs::File::create(&console).map_err(|e| format!("{}: {e}", console.display()))?;
    let mut qemu = kernel::qemu_command(&build, Accel::Tcg, "bench", &extra);
    qemu.stdin(Stdio::null()).stdout(out).stderr(Stdio::null());
    eprintln!("profile: booting the benchmark with every instruction logged (a few minutes)");
    let mut child = qemu
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
    let pipe = std::fs::File::open(&fifo).map_err(|e| format!("{}: {e}", fifo.display()))?;
    let lines = BufReader::with_capacity(1 << 20, pipe)
        .lines()
        .map_while(Result::ok);
    let window = count_window(lines, start, end);
    let status = child.wait().map_err(|e| format!("qemu: {e}"))?;
    let _ = std::fs::remove_file(&fifo);
    let window = window.ok_or("the log never showed the benchmark's timed loop")?;
    let text =
        std::fs::read_to_string(&console).map_err(|e| format!("{}: {e}", console.display()))?;
    let round_trip = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("bench null_rpc_round_trip "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("the benchmark boot printed no null RPC figure (QEMU: {status})"))?;
    // The loop's rounds, from its length and the benchmark's own figure.
    let rounds = (window.total as f64 / round_trip).round().max(1.0);
    let off = (window.total as f64 / rounds - round_trip).abs();
    if off > 1.0 {
        return Err(format!(
            "the window holds {} instructions, {:.1} a round trip for {rounds} rounds, \
             but the benchmark says {round_trip}: not the timed loop",
            window.total,
            window.total as f64 / rounds
        ));
    }
    let addresses: Vec<u64> = window.kernel.keys().map(|&(_, pc)| pc).collect();
    let chains = inline_chains(&build.kernel, &addresses)?;
    Ok(profile_of(&window, &chains, round_trip, rounds))
}

/// The profile as JSON: `{"round_trip": N, "rows": [{"direction", "part",
/// "insns"}...]}`.
pub fn to_json(p: &Profile) -> String {
    let mut s = format!("{{\n  \"round_trip\": {},\n  \"rows\": [\n", p.round_trip);
    for (i, (direction, part, n)) in p.rows.iter().enumerate() {
        let comma = if i + 1 == p.rows.len() { "" } else { "," };
        let _ = writeln!(
            s,
            "    {{\"direction\": \"{direction}\", \"part\": \"{part}\", \"insns\": {n:.1}, \"unit\": \"insns\"}}{comma}"
        );
    }
    s.push_str("  ]\n}\n");
    s
}

/// Reads [`to_json`]'s form back.
pub fn from_json(text: &str) -> Result<Profile, String> {
    let doc = json::parse(text)?;
    let round_trip = doc
        .get("round_trip")
        .and_then(json::Value::as_f64)
        .ok_or("the profile has no round_trip")?;
    let mut rows = Vec::new();
    for row in doc
        .get("rows")
        .and_then(json::Value::as_array)
        .ok_or("the profile has no rows")?
    {
        let field = |k: &str| {
            row.get(k)
                .and_then(json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("a profile row without `{k}`"))
        };
        let n = row
            .get("insns")
            .and_then(json::Value::as_f64)
            .ok_or("a profile row without insns")?;
        rows.push((field("direction")?, field("part")?, n));
    }
    Ok(Profile { round_trip, rows })
}

/// The profile as a Markdown table: a row per part, a column per
/// direction, and the totals.
pub fn render(p: &Profile) -> String {
    let mut s =
        String::from("| part of the path | request | reply | round trip |\n|---|--:|--:|--:|\n");
    let get = |d: &str, part: &str| {
        p.rows
            .iter()
            .find(|(dd, pp, _)| dd == d && pp == part)
            .map_or(0.0, |r| r.2)
    };
    let mut totals = [0.0; 2];
    for part in part_names() {
        let (a, b) = (get(DIRECTIONS[0], part), get(DIRECTIONS[1], part));
        totals[0] += a;
        totals[1] += b;
        let _ = writeln!(s, "| {part} | {a:.0} | {b:.0} | {:.0} |", a + b);
    }
    let _ = writeln!(
        s,
        "| **all** | **{:.0}** | **{:.0}** | **{:.0}** |",
        totals[0],
        totals[1],
        totals[0] + totals[1]
    );
    s
}

/// Colours of the parts, in [`part_names`] order.
const COLOURS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#bab0ac",
];

/// The profile as a chart: a bar per direction, its parts stacked in
/// [`part_names`] order, a legend with each part's round-trip figure. Made
/// from the figures alone, so the same results always give the same SVG.
pub fn svg(p: &Profile) -> String {
    const WIDTH: f64 = 720.0;
    const LEFT: f64 = 80.0;
    const BAR: f64 = 26.0;
    const LINE: f64 = 20.0;
    let get = |d: &str, part: &str| {
        p.rows
            .iter()
            .find(|(dd, pp, _)| dd == d && pp == part)
            .map_or(0.0, |r| r.2)
    };
    let totals: Vec<f64> = DIRECTIONS
        .iter()
        .map(|d| part_names().iter().map(|part| get(d, part)).sum())
        .collect();
    let most = totals.iter().copied().fold(1.0, f64::max);
    let scale = (WIDTH - LEFT - 70.0) / most;
    let parts = part_names();
    let height = 40.0 + 2.0 * (BAR + 14.0) + LINE * parts.len() as f64 + 10.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"12\" y=\"20\" font-size=\"14\">Kernel null RPC: {:.0} guest instructions a round trip, by part of the path</text>\n",
        p.round_trip
    );
    let mut y = 36.0;
    for (d, direction) in DIRECTIONS.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"12\" y=\"{:.1}\">{direction}</text>",
            y + BAR / 2.0 + 4.0
        );
        let mut x = LEFT;
        for (i, part) in parts.iter().enumerate() {
            let w = get(direction, part) * scale;
            if w > 0.0 {
                let _ = writeln!(
                    s,
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR}\" fill=\"{}\"><title>{part}: {:.0}</title></rect>",
                    COLOURS[i % COLOURS.len()],
                    get(direction, part)
                );
            }
            x += w;
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\">{:.0}</text>",
            x + 6.0,
            y + BAR / 2.0 + 4.0,
            totals[d]
        );
        y += BAR + 14.0;
    }
    for (i, part) in parts.iter().enumerate() {
        let both: f64 = DIRECTIONS.iter().map(|d| get(d, part)).sum();
        let _ = writeln!(
            s,
            "<rect x=\"12\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"30\" y=\"{:.1}\">{part}: {both:.0}</text>",
            y,
            COLOURS[i % COLOURS.len()],
            y + 10.0
        );
        y += LINE;
    }
    s.push_str("</svg>\n");
    s
}

/// What is drawn from the results: the table and the chart, by file name.
fn drawings(p: &Profile) -> [(&'static str, String); 2] {
    [
        ("kernel-null-rpc.md", render(p)),
        ("kernel-null-rpc.svg", svg(p)),
    ]
}

/// Writes `kernel-null-rpc.json`, its table `kernel-null-rpc.md` and its
/// chart `kernel-null-rpc.svg` in `dir`.
fn write(dir: &Path, p: &Profile) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = ("kernel-null-rpc.json", to_json(p));
    for (name, text) in core::iter::once(json).chain(drawings(p)) {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The book step's check: the book's profile table is the rendering of its
/// results, and its chart the drawing of them. `Ok(false)` when the book
/// keeps no profile.
pub fn check_book(root: &Path) -> Result<bool, String> {
    let dir = book_dir(root);
    let json = dir.join("kernel-null-rpc.json");
    if !json.exists() {
        return Ok(false);
    }
    let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    let profile = from_json(&text)?;
    for (name, want) in drawings(&profile) {
        let path = dir.join(name);
        let kept =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if kept != want {
            return Err(format!(
                "{} is not the drawing of {}: run `cargo xtask profile --book` again",
                path.display(),
                json.display()
            ));
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pc: u64) -> String {
        format!("Trace 0: 0x7fe5d4bfd800 [0000000000000000/{pc:016x}/0040cab3/ff020201] ")
    }

    #[test]
    fn reads_the_pc_of_a_log_line() {
        assert_eq!(log_pc(&line(0x8000400154)), Some(0x8000400154));
        assert_eq!(log_pc("Trace 0: nothing"), None);
        assert_eq!(log_pc("Trace 0: [0/zz/1]"), None);
        assert_eq!(log_pc(""), None);
    }

    #[test]
    fn counts_the_window_by_direction() {
        let k = KERNEL_BASE + 0x100;
        // Before the window, the window (client, kernel x2, server, kernel,
        // client), after it.
        let pcs = [1, 10, 11, 11, k, k, 12, 13, k, k + 1, k + 1, 14, 20, 11, 5];
        let w = count_window(pcs.iter().map(|&p| line(p)), 10, 20).expect("a window");
        assert_eq!(w.total, 11);
        // User before the first stretch and after the second belongs to the
        // request; between them, to the reply.
        assert_eq!(w.user, [4, 2]);
        assert_eq!(w.kernel.get(&(0, k)), Some(&2));
        assert_eq!(w.kernel.get(&(1, k)), Some(&1));
        assert_eq!(w.kernel.get(&(1, k + 1)), Some(&2));
        // No end: no window.
        assert!(count_window(pcs[..6].iter().map(|&p| line(p)), 10, 20).is_none());
        assert!(count_window(std::iter::empty(), 10, 20).is_none());
    }

    #[test]
    fn names_parts_from_the_innermost_function_out() {
        let chain = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            part_of(&chain(&[
                "core::slice::get",
                "hurd_kernel::arch::x86_64::paging::X86Mmu::translate"
            ])),
            "copying the header in and out"
        );
        assert_eq!(
            part_of(&chain(&[
                "alloc::VecDeque::push_back",
                "hurd_ipc::kernel::fast::x",
                "hurd_kernel::fastpath::null_rpc"
            ])),
            "ports, names and rights (hurd-ipc)"
        );
        assert_eq!(part_of(&chain(&["trap_return"])), "trap entry and exit");
        assert_eq!(part_of(&chain(&["core::mem::replace"])), OTHER);
        assert_eq!(part_of(&[]), OTHER);
    }

    #[test]
    fn parses_addr2line_chains() {
        let text = "0xffffffff80001000\ncore::mem::replace\nmod.rs:9\nhurd_kernel::fastpath::null_rpc\nfastpath.rs:70\n0xffffffff80001004\ntrap_return\n??:?\n";
        let chains = parse_chains(text);
        assert_eq!(chains.len(), 2);
        assert_eq!(chains[&0xffffffff80001000].len(), 2);
        assert_eq!(chains[&0xffffffff80001004], ["trap_return"]);
    }

    #[test]
    fn the_table_round_trips_through_json() {
        let mut w = Window::default();
        w.kernel.insert((0, KERNEL_BASE), 3000);
        w.kernel.insert((1, KERNEL_BASE + 4), 1000);
        w.user = [500, 700];
        w.total = 5200;
        let mut chains = BTreeMap::new();
        chains.insert(KERNEL_BASE, vec!["trap_common".to_owned()]);
        let p = profile_of(&w, &chains, 5.2, 1000.0);
        let back = from_json(&to_json(&p)).expect("its own JSON");
        assert_eq!(back, p);
        let table = render(&p);
        assert!(
            table.contains("| trap entry and exit | 3 | 0 | 3 |"),
            "{table}"
        );
        assert!(
            table.contains("| other kernel code | 0 | 1 | 1 |"),
            "{table}"
        );
        assert!(
            table.contains("| **all** | **4** | **2** | **5** |"),
            "{table}"
        );
        let chart = svg(&p);
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>\n"));
        assert!(chart.contains("trap entry and exit: 3"), "{chart}");
        assert_eq!(chart, svg(&back));
        assert!(from_json("{}").is_err());
        assert!(from_json("{\"round_trip\": 1, \"rows\": [{\"part\": \"x\"}]}").is_err());
    }
}
