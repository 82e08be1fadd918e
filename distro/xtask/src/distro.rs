//! The reference distro on the kernel: `hurd-init` (the kernel's first task
//! starting the auth, password and root file system servers and the
//! console) booted in QEMU, driven over the serial console.
//!
//! The `distro` step of `cargo xtask test` plays [`scenario`] on the console
//! and requires every line of [`EXPECTED`] in the output, in order, and the
//! system halting cleanly (^D at the login prompt), with the reference
//! image's disk (the root) and a network card ([`kernel::distro_net_args`])
//! attached; then it boots again on the same disk
//! ([`reboot_scenario`]): the files written there are read back and the
//! passive translators set there start, and `e2fsck -fn` finds the disk
//! clean after each boot. Then it boots once
//! more and kills the machine in the middle of a write, after a `sync`
//! ([`killed_scenario`]): `e2fsck -fy` repairs the disk, and what was
//! synced is there ([`check_killed_disk`]). Last it boots without
//! the disk, and then on a disk of zeros: the disk is named on the
//! console with the reason it did not mount, and the system goes on with
//! its boot file system, in memory, as the root.
//! `cargo xtask run --kernel` boots the same system with the console on the
//! terminal.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::console::{self, Step};
use crate::kernel::{self, Accel, Build, EXIT_SUCCESS};
use crate::workspace::Workspace;

/// The first task of the distro.
pub const INIT: &str = "hurd-init";

/// How long a boot without a conversation (the benchmark's) may take
/// under TCG.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

/// How long a console conversation may take under TCG: it counts as hung
/// when the system has printed nothing for `quiet` (every step of a
/// scenario answers within seconds), and is stopped at `total` whatever it
/// prints. A limit on the whole run alone grew tight as the scenario grew:
/// on a loaded machine TCG ran out of 240 s with the scenario still
/// answering.
pub const CONVERSATION_TIMEOUT: console::Timeout = console::Timeout {
    total: Duration::from_secs(900),
    quiet: Some(Duration::from_secs(120)),
};

/// The servers `hurd-init` starts from boot modules, each in a task of its
/// own (the modules follow `hurd-init`, in this order). Translators are
/// programs of the root file system (the `rootfs` module).
pub const SERVERS: &[&str] = &[
    "proc-server",
    "auth-server",
    "password-server",
    "term-server",
];

/// The kernel with `hurd-init` and the [`SERVERS`] as its boot modules:
/// builds the distro's programs (`distro-programs`) next to `all` (the
/// kernel build with its test programs).
pub fn init_build(ws: &Workspace, all: &Build) -> Result<Build, String> {
    ws.cargo()
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            kernel::DISTRO_PACKAGE,
        ])
        .arg("--target")
        .arg(crate::setup::BARE_METAL_TARGET)
        .run()?;
    let dir = all
        .kernel
        .parent()
        .ok_or("the kernel was not built")?
        .to_path_buf();
    let mut modules = vec![dir.join(INIT)];
    modules.extend(SERVERS.iter().map(|s| dir.join(s)));
    for m in &modules {
        if !m.is_file() {
            return Err(format!("the distro build left no {}", m.display()));
        }
    }
    Ok(Build {
        kernel: all.kernel.clone(),
        modules,
    })
}

/// The static Linux programs the scenario runs from the file system,
/// installed in the distro's image besides the reference manifest's
/// files: where, and the file (built by [`linux_programs`]).
pub const LINUX_PROGRAMS: &[&str] = &[
    "/bin/hello-linux",
    "/bin/id-linux",
    "/bin/pipes-linux",
    "/bin/fork-linux",
    "/bin/spawn-linux-rs",
];

/// What `pipes-linux` prints on Linux (the `linux` step checks it there),
/// which it must print on hurd-rs too.
pub const PIPES_OUT: &str = include_str!("../../linux-tests/expected/pipes.out");

/// What `fork-linux` prints on Linux (the `linux` step checks it there),
/// which it must print on hurd-rs too.
pub const FORK_OUT: &str = include_str!("../../linux-tests/expected/fork.out");

/// What `spawn-linux-rs` prints on Linux, which it must print on hurd-rs.
pub const SPAWN_OUT: &str = include_str!("../../linux-tests/expected/spawn-rs.out");

/// The static Linux programs of [`LINUX_PROGRAMS`]: `musl-gcc -static`
/// hello (`ET_EXEC`) and id, which [`kernel::build`] made as `linux-hello`
/// and `linux-id`, and `distro/linux-tests/c/pipes.c` (`linux-pipes`)
/// and `fork.c` (`linux-fork`), and the Rust program `linux-spawn-rs`,
/// whose output recorded on Linux (`expected/pipes.out`,
/// `expected/fork.out`, `expected/spawn-rs.out`) the scenario must show.
fn linux_programs(ws: &Workspace) -> Result<Vec<(&'static str, PathBuf)>, String> {
    let target = ws.metadata()?.target_directory;
    let release = target.join(crate::setup::BARE_METAL_TARGET).join("release");
    let files = [
        release.join("linux-hello"),
        release.join("linux-id"),
        release.join("linux-pipes"),
        release.join("linux-fork"),
        release.join(kernel::LINUX_SPAWN_PROGRAM),
    ];
    let programs: Vec<_> = LINUX_PROGRAMS.iter().copied().zip(files).collect();
    for (_, file) in &programs {
        if !file.is_file() {
            return Err(format!("no Linux program {}", file.display()));
        }
    }
    Ok(programs)
}

/// The manifest `text` with each of `programs` installed (`[[program]]`
/// with the file's absolute path as its `source`).
fn with_programs(text: &str, programs: &[(&str, PathBuf)]) -> Result<String, String> {
    let mut out = String::from(text);
    for (path, file) in programs {
        let file = file
            .to_str()
            .ok_or_else(|| format!("{}: not a UTF-8 path", file.display()))?;
        out.push_str(&format!(
            "\n[[program]]\npath = {}\nsource = {}\n",
            crate::new_program::toml_string(path),
            crate::new_program::toml_string(file)
        ));
    }
    Ok(out)
}

/// The manifest of the image the scenario runs on: a copy of the
/// reference manifest, in the target directory, with the
/// [`LINUX_PROGRAMS`] added (after [`kernel::build`], which makes one).
pub fn scenario_manifest(ws: &Workspace) -> Result<PathBuf, String> {
    let target = ws.metadata()?.target_directory;
    let reference = ws.root.join(crate::image::REFERENCE_MANIFEST);
    let text = std::fs::read_to_string(&reference)
        .map_err(|e| format!("cannot read {}: {e}", reference.display()))?;
    let manifest = target.join("hurd-rs-distro.toml");
    std::fs::write(&manifest, with_programs(&text, &linux_programs(ws)?)?)
        .map_err(|e| format!("cannot write {}: {e}", manifest.display()))?;
    Ok(manifest)
}

/// The distro's root file system archive (`rootfs`), staged by building
/// the image of [`scenario_manifest`].
pub fn reference_rootfs(ws: &Workspace) -> Result<std::path::PathBuf, String> {
    let target = ws.metadata()?.target_directory;
    let iso = target.join("hurd-rs-distro.iso");
    crate::image::build(ws, &scenario_manifest(ws)?, &iso, false)?;
    let rootfs = target.join("hurd-rs-distro.iso.d/boot/modules/rootfs");
    if !rootfs.is_file() {
        return Err(format!("the image build staged no {}", rootfs.display()));
    }
    Ok(rootfs)
}

/// The reference image's disk image (its `[disk]`: the root), made beside
/// its ISO by the build [`reference_rootfs`] runs (afresh on each build).
pub fn reference_disk(ws: &Workspace) -> Result<std::path::PathBuf, String> {
    let disk =
        crate::image::disk_image(&ws.metadata()?.target_directory.join("hurd-rs-distro.iso"));
    if !disk.is_file() {
        return Err(format!("the image build made no disk {}", disk.display()));
    }
    Ok(disk)
}

/// The session typed at the console: log in, look around, a file written
/// in the home directory (on the disk) and a passive translator set there,
/// the disk's space (`df`) and options (`fsysopts`, refused to alice),
/// files, an active
/// translator, a tar archive mounted with tarfs by a passive record, a
/// translator stopped and started again by the next lookup, a union and a
/// shadow directory, a program
/// that ends well, a static Linux program (`musl-gcc -static`) the exec
/// server starts with the Linux emulator in its task, and one that crashes
/// while the system goes on, the
/// processes, a signal refused, a translator killed by its owner and
/// started again, as a new process, by the next lookup, a program reading
/// the terminal, a line sent over TCP through `/servers/socket/2` to the
/// host's echo service and back (`nc`), a program ended
/// by ^C through its process group, a user's own exec server named in
/// `EXEC_SERVERS`, a permission
/// the file system refuses, `su` adding root's ids to the running shell,
/// log out; root logs in and kills the disk's driver (`hurd-init` starts
/// it again: the disk is read and written after), makes the disk's writes
/// synchronous with `fsysopts` and syncs it, log out, halt.
pub fn scenario() -> Vec<Step> {
    [
        ("login: ", "alice"),
        ("Password: ", "wonderland"),
        ("$ ", "id"),
        ("$ ", "pwd"),
        ("$ ", "echo kept on the disk > /home/alice/diary"),
        ("$ ", "cat diary"),
        // A passive translator on the disk, started by the disk's file
        // system.
        ("$ ", "settrans /home/alice/greet /hurd/hello persisted"),
        ("$ ", "cat /home/alice/greet"),
        // The disk's file system: its space, its options (root's to set).
        ("$ ", "df /home"),
        ("$ ", "fsysopts /home"),
        ("$ ", "fsysopts /home --sync"),
        ("$ ", "echo hello from the kernel > /tmp/note"),
        ("$ ", "cat /tmp/note"),
        ("$ ", "ls /"),
        ("$ ", "settrans -a /tmp/hello /hurd/hello"),
        ("$ ", "cat /tmp/hello"),
        // The same file read by a program of its own, traced: each RPC
        // it makes, and each reply, by name.
        ("$ ", "rpctrace cat /tmp/hello"),
        // Wrong use: no program, and a program that is not there. (The
        // prompt after a trace is waited for at the start of a line: a
        // string in the trace may hold "$ ", never a newline.)
        ("\n$ ", "rpctrace"),
        ("$ ", "rpctrace nosuch"),
        // /bin/cat goes on past a file that is not there.
        ("$ ", "/bin/cat /tmp/nosuch /tmp/note"),
        ("$ ", "showtrans /share/hello"),
        ("$ ", "cp /share/example.tar /tmp/ex.tar"),
        ("$ ", "settrans /tmp/ex.tar /hurd/tarfs"),
        ("$ ", "cat /tmp/ex.tar/docs/hello.txt"),
        ("$ ", "settrans /tmp/greet /hurd/hello restarted"),
        ("$ ", "cat /tmp/greet"),
        ("$ ", "settrans -g /tmp/greet"),
        ("$ ", "cat /tmp/greet"),
        ("$ ", "showtrans /tmp/greet"),
        ("$ ", "mkdir /tmp/lower /tmp/other /tmp/upper"),
        ("$ ", "echo low > /tmp/lower/a"),
        ("$ ", "echo other > /tmp/other/b"),
        ("$ ", "settrans /tmp/u /hurd/union /tmp/lower /tmp/other"),
        ("$ ", "ls /tmp/u"),
        ("$ ", "settrans /tmp/s /hurd/shadow /tmp/lower /tmp/upper"),
        ("$ ", "echo changed > /tmp/s/a"),
        ("$ ", "cat /tmp/s/a /tmp/lower/a"),
        ("$ ", "true"),
        ("$ ", "args hello from a program"),
        ("$ ", "greet a script"),
        ("$ ", "args into a file > /tmp/out"),
        ("$ ", "cat /tmp/out"),
        ("$ ", "hello-linux"),
        ("$ ", "id-linux"),
        // Traced into a file: the exec server reads the program and the
        // emulator through the traced ports and maps them into its task,
        // then the emulated program talks through them.
        ("$ ", "rpctrace -o /tmp/trace -s 20 hello-linux"),
        ("$ ", "cat /tmp/trace"),
        ("\n$ ", "pipes-linux"),
        // Forks, waits and execs itself (by the name it was run as),
        // working in /tmp.
        ("$ ", "/bin/fork-linux /tmp"),
        // Rust's std::process::Command: posix_spawn, pipes, wait4.
        ("$ ", "/bin/spawn-linux-rs"),
        ("$ ", "crash"),
        ("$ ", "echo still here"),
        ("$ ", "ps"),
        ("$ ", "kill 1"),
        ("$ ", "pkill restarted"),
        ("$ ", "cat /tmp/greet"),
        ("$ ", "ps"),
        ("$ ", "upcase"),
        ("upcase", "shout it"),
        ("SHOUT IT", "\u{4}"),
        ("$ ", "nc 10.0.2.100 7"),
        ("nc 10.0.2.100 7", "hello through pfinet"),
        ("hello through pfinet", "\u{4}"),
        ("$ ", "forever"),
        ("until interrupted", "\u{3}"),
        ("$ ", "settrans /tmp/myexec /hurd/exec --announce"),
        ("$ ", "export EXEC_SERVERS=/tmp/myexec"),
        ("$ ", "args through my own exec server"),
        ("$ ", "export EXEC_SERVERS="),
        ("$ ", "args through the system server"),
        ("$ ", "mkdir /etc/mine"),
        ("$ ", "su"),
        ("Password: ", "hurd"),
        ("# ", "id"),
        ("# ", "mkdir /etc/mine"),
        ("# ", "ls /etc"),
        ("# ", "exit"),
        // Root's own session: the driver is a process of root's.
        ("login: ", "root"),
        ("Password: ", "hurd"),
        ("# ", "pkill virtio-blk"),
        // Typed once the driver is back, perhaps before the prompt after
        // pkill: the file's text, then a prompt, show that both ran.
        (RESTARTED, "ls /lost+found"),
        ("# ", "cat /home/alice/diary"),
        (
            "kept on the disk\n# ",
            "echo kept after the driver ended > /home/alice/after",
        ),
        ("# ", "cat /home/alice/after"),
        // A passive translator set in the root (on the disk), for the
        // next boot.
        ("# ", "settrans /share/kept /hurd/hello kept"),
        ("# ", "cat /share/kept"),
        // Every write on the disk synchronous from now on; then everything
        // written back.
        ("# ", "fsysopts / --sync"),
        ("# ", "fsysopts /"),
        ("# ", "sync /"),
        ("# ", "exit"),
        ("login: ", "\u{4}"),
    ]
    .into_iter()
    .map(|(wait, send)| match send {
        // Control characters in a running program: typed alone.
        "\u{3}" | "\u{4}" if wait != "login: " => Step::raw(wait, send),
        _ => Step::new(wait, send),
    })
    .collect()
}

/// What the console must show, in this order.
pub const EXPECTED: &[&str] = &[
    "running on the kernel",
    "Welcome to hurd-rs.",
    "euids=1000(alice) ",
    "/home/alice",
    "$ cat diary\nkept on the disk",
    "$ cat /home/alice/greet\npersisted",
    "$ df /home\nType      1K-blocks      Used Available Use% File\next2fs ",
    "$ fsysopts /home\next2fs --writable --sync=30 --relatime\n",
    "fsysopts: /home: operation not permitted",
    "hello from the kernel",
    "etc",
    "Hello, world!",
    // ANCHOR: rpctrace
    // The exec server reads /bin/cat through the traced root directory;
    // then cat opens the file, reads it, writes it and reads to its end,
    // each call with its reply. The tracer's lines and the program's
    // output share the terminal: only whole pieces are checked.
    "$ rpctrace cat /tmp/hello\n",
    "crdir->dir_lookup (\"bin/cat\" 5 0) = 0 1 \"\" move-send:",
    "crdir->dir_lookup (\"tmp/hello\" 1 0) = 0 1 \"\" move-send:",
    "->io_read (-1 32768) = 0 \"Hello, world!\\n\"\n",
    "fd1->io_write (\"Hello, world!\\n\" -1)",
    " = 0 14\n",
    "->io_read (-1 32768) = 0 \"\"\n",
    // ANCHOR_END: rpctrace
    "$ rpctrace\nrpctrace: no program to trace\nusage: rpctrace [-o FILE] [-s SIZE] PROGRAM [ARG...]\nsh: rpctrace: exit status 1\n",
    "$ rpctrace nosuch\n",
    "crdir->dir_lookup (\"bin/nosuch\" 5 0) = 0x40000002 (no such file or directory)\n",
    "rpctrace: cannot exec `nosuch': no such file or directory\nsh: rpctrace: exit status 1\n$ ",
    "cat: /tmp/nosuch: no such file or directory\nhello from the kernel\n",
    "/hurd/hello\n",
    "Hello from inside a tar archive.",
    "restarted",
    "restarted",
    "/hurd/hello restarted",
    "a\nb\n",
    "changed\nlow\n",
    "$ true\n$ args hello from a program\nhello from a program",
    "hello from /bin/greet a script",
    "$ cat /tmp/out\ninto a file",
    "$ hello-linux\nhello, world\nx86_64 x\ngetrandom: 16 bytes\n",
    // alice's ids, from her auth handle (uid 1000, group users).
    "$ id-linux\nuid 1000 1000 1000 gid 100 100 100\ngetuid 1000 geteuid 1000 getgid 100 getegid 100\nauxv 1000 1000 100 100\ngroups 1: 100\n",
    // ANCHOR: rpctrace-linux
    "$ rpctrace -o /tmp/trace -s 20 hello-linux\nhello, world\nx86_64 x\ngetrandom: 16 bytes\n$ cat /tmp/trace\n",
    "crdir->dir_lookup (\"bin/hello-linux\" 5 0) = 0 1 \"\" move-send:",
    "crdir->dir_lookup (\"lib/hurd-rs/linux\" 5 0) = 0 1 \"\" move-send:",
    "proc->proc_getpids () = 0 ",
    " fd1->io_write (\"hello, world\\n\" -1) = 0 13\n",
    // getrandom: the random translator's node, read through the traced
    // root directory, 16 bytes; then the rest of the output in one write.
    "crdir->dir_lookup (\"dev/urandom\" 1 0) = 0 1 \"\" move-send:",
    "->io_read (-1 16) = 0 \"",
    " fd1->io_write (\"x86_64 x\\ngetrandom: \"... -1) = 0 29\n",
    // ANCHOR_END: rpctrace-linux
    "$ pipes-linux\n",
    PIPES_OUT,
    "$ /bin/fork-linux /tmp\n",
    FORK_OUT,
    "$ /bin/spawn-linux-rs\n",
    SPAWN_OUT,
    "sh: crash: crashed; its task was terminated",
    "still here",
    "  PID  PPID  PGRP   SID   UID CMD",
    "0 hurd-init\n",
    "0 auth\n",
    "0 term\n",
    "0 password\n",
    "0 /bin/sleep infinity\n",
    "1000 sh\n",
    "1000 /hurd/hello restarted\n",
    "kill: 1: operation not permitted",
    "$ pkill restarted\n$ cat /tmp/greet\nrestarted",
    "1000 /hurd/hello restarted\n",
    "SHOUT IT",
    "$ nc 10.0.2.100 7\nhello through pfinet\n",
    "hello through pfinet",
    "sh: forever: killed by signal 2",
    "exec: args\nthrough my own exec server",
    "$ args through the system server\nthrough the system server",
    "mkdir: /etc/mine: permission denied",
    "euids=1000(alice),0(root) ",
    "mine",
    "hurd-init: /: the driver of device:vd0 (pid ",
    RESTARTED,
    "# cat /home/alice/after\nkept after the driver ended",
    "# cat /share/kept\nkept",
    "# fsysopts / --sync\n# fsysopts /\next2fs --writable --sync --relatime\n# sync /\n# ",
    "hurd-init: /: written back and unmounted",
    "hurd-init: halting",
];

/// What the console shows when `hurd-init` has started the disk's driver
/// again, after root killed it.
pub const RESTARTED: &str = "hurd-init: /: the driver of device:vd0 started again (pid ";

/// What the console shows when the disk is mounted at boot (before the
/// first login prompt).
pub const MOUNTED: &str = "hurd-init: /: ext2 on device:vd0 (driver pid ";

/// What the console shows when the network started at boot (before the
/// first login prompt): the reference image's record on
/// `/servers/socket/2`.
pub const NETWORK: &str = "hurd-init: /servers/socket/2: /hurd/pfinet -i eth0 -a 10.0.2.15 \
                           -g 10.0.2.2 -m 255.255.255.0 (pid ";

/// The session of the second boot on the same disk: what alice wrote in
/// the first is still there, and so is her passive translator, which
/// starts.
pub fn reboot_scenario() -> Vec<Step> {
    vec![
        Step::new("login: ", "alice"),
        Step::new("Password: ", "wonderland"),
        Step::new("$ ", "cat /home/alice/diary /home/alice/after"),
        Step::new("$ ", "showtrans /home/alice/greet"),
        Step::new("$ ", "cat /home/alice/greet"),
        Step::new("$ ", "showtrans /share/kept"),
        Step::new("$ ", "cat /share/kept"),
        Step::new("$ ", "exit"),
        Step::new("login: ", "\u{4}"),
    ]
}

/// What the second boot must show, in order.
pub const REBOOT_EXPECTED: &[&str] = &[
    MOUNTED,
    "$ cat /home/alice/diary /home/alice/after\nkept on the disk\nkept after the driver ended",
    "$ showtrans /home/alice/greet\n/hurd/hello persisted",
    "$ cat /home/alice/greet\npersisted",
    "$ showtrans /share/kept\n/hurd/hello kept",
    "$ cat /share/kept\nkept",
    "hurd-init: /: written back and unmounted",
    "hurd-init: halting",
];

/// What root writes and syncs before the machine is killed in
/// [`killed_scenario`].
pub const SYNCED: (&str, &str) = ("/root/synced", "synced before the kill\n");

/// How long the write the machine dies in goes on before the kill.
pub const WRITE_BEFORE_KILL: Duration = Duration::from_secs(5);

/// A session cut short: root writes a file on the disk and syncs it, then
/// writes zeros to another file without end, and the machine is killed
/// [`WRITE_BEFORE_KILL`] into that write (as a power cut would stop it).
pub fn killed_scenario() -> Vec<Step> {
    let (file, text) = SYNCED;
    let write = "cat /dev/zero > /root/zeros";
    vec![
        Step::new("login: ", "root"),
        Step::new("Password: ", "hurd"),
        Step::new("# ", &format!("echo {} > {file}", text.trim_end())),
        Step::new("# ", "sync /"),
        Step::new("# ", write),
        Step::call(write, || std::thread::sleep(WRITE_BEFORE_KILL)),
        Step::stop(""),
    ]
}

/// Checks the disk of a machine killed in the middle of a write:
/// `e2fsck -fy` repairs it (its status says at most "errors corrected"),
/// `e2fsck -fn` then finds it clean, and `debugfs` reads what was synced
/// before the kill. Returns `e2fsck -fy`'s status for the log.
pub fn check_killed_disk(disk: &std::path::Path) -> Result<i32, String> {
    let (status, out) = crate::cmd::Cmd::new("e2fsck")
        .arg("-fy")
        .arg(disk)
        .combined_output()?;
    // 0: nothing to fix, 1 or 2: errors corrected; 4 and up: errors left,
    // or e2fsck failed.
    let code = status.code().unwrap_or(8);
    if code >= 4 {
        return Err(format!(
            "e2fsck -fy could not repair the disk of the killed machine ({status}):\n{out}"
        ));
    }
    fsck_clean(disk, "the repaired disk")?;
    let (file, text) = SYNCED;
    let read = debugfs(disk, &format!("cat {file}"))?;
    if read != text {
        return Err(format!(
            "what was synced before the kill is lost: debugfs reads {file} as {read:?}"
        ));
    }
    Ok(code)
}

/// What the console shows when the disk does not mount; the reason
/// follows.
pub const NOT_MOUNTED: &str = "hurd-init: /: device:vd0 is not mounted: ";

/// What the console shows next: the boot file system stays the root.
pub const ROOT_IN_MEMORY: &str = "hurd-init: the root stays on the boot file system, in memory";

/// The session of a boot whose root disk does not mount (none attached, or
/// one holding no file system): the system goes on with the boot file
/// system in memory as its root, and root logs in there (its shell and
/// `/etc` are in the boot module), finding no homes.
pub fn unmounted_scenario() -> Vec<Step> {
    vec![
        Step::new("login: ", "root"),
        Step::new("Password: ", "hurd"),
        Step::new("# ", "id"),
        Step::new("# ", "ls /home"),
        Step::new("# ", "exit"),
        Step::new("login: ", "\u{4}"),
    ]
}

/// What a boot whose disk does not mount must show, in order: the disk
/// named with `why` it did not mount, root's session, a clean halt with
/// nothing to unmount.
pub fn unmounted_expected(why: &str) -> Vec<String> {
    [
        format!("{NOT_MOUNTED}{why}"),
        ROOT_IN_MEMORY.to_owned(),
        "Welcome to hurd-rs.".to_owned(),
        "euids=0(root) ".to_owned(),
        "# ls /home\n# exit".to_owned(),
        "hurd-init: halting".to_owned(),
    ]
    .into()
}

/// Checks a boot whose disk did not mount: [`unmounted_expected`] in
/// order, and no mount or unmount shown.
pub fn check_unmounted(output: &str, why: &str) -> Result<(), String> {
    let expected = unmounted_expected(why);
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    check_in_order(output, &expected)?;
    match [MOUNTED, "written back and unmounted"]
        .into_iter()
        .find(|t| output.contains(t))
    {
        Some(t) => Err(format!("the console showed `{t}` with no disk mounted")),
        None => check_no_password_shown(output),
    }
}

/// Boots the distro of `build` with `disk_args` (no disk, or one that
/// does not mount): the disk is named with `why`, and the boot goes on.
fn boot_unmounted(
    build: &Build,
    accel: Accel,
    disk_args: &[&str],
    why: &str,
) -> Result<(), String> {
    let run = console::converse(
        kernel::qemu_command(build, accel, "", disk_args),
        CONVERSATION_TIMEOUT,
        &unmounted_scenario(),
    )?;
    check_unmounted(&run.lines.join("\n"), why)?;
    if run.timed_out || run.status != Some(EXIT_SUCCESS) {
        return Err(format!(
            "the distro did not halt cleanly (status {:?}, timed out: {})",
            run.status, run.timed_out
        ));
    }
    Ok(())
}

/// Boots the reference distro without its disk, then with a disk of
/// zeros: each time the disk is named on the console with the reason it
/// did not mount, and the system goes on from memory (root logs in,
/// halts).
fn unmounted_boots(ws: &Workspace, build: &Build, accel: Accel) -> Result<(), String> {
    // No virtio disk: the driver finds none and ends.
    boot_unmounted(build, accel, &[], "/hurd/virtio-blk ended")
        .map_err(|e| format!("booted without the disk: {e}"))?;
    let zeros = ws.metadata()?.target_directory.join("hurd-rs-zeros.img");
    std::fs::write(&zeros, vec![0u8; 1 << 20]).map_err(|e| format!("{}: {e}", zeros.display()))?;
    let disk_args = kernel::disk_args(&[&zeros]);
    let disk_args: Vec<&str> = disk_args.iter().map(String::as_str).collect();
    let zeroed = boot_unmounted(
        build,
        accel,
        &disk_args,
        "inappropriate file type or format",
    );
    let _ = std::fs::remove_file(&zeros);
    zeroed.map_err(|e| format!("booted on a disk of zeros: {e}"))?;
    eprintln!(
        "distro: without its disk, and on a disk of zeros, the root disk was named and the boot went on from memory"
    );
    Ok(())
}

/// `e2fsck -fn` on `disk`: clean, or an error saying which `disk_is` and
/// what e2fsck printed.
fn fsck_clean(disk: &std::path::Path, disk_is: &str) -> Result<(), String> {
    let (status, out) = crate::cmd::Cmd::new("e2fsck")
        .arg("-fn")
        .arg(disk)
        .combined_output()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "e2fsck -fn finds {disk_is} damaged ({status}):\n{out}"
        ))
    }
}

/// What `debugfs -R REQUEST` prints of `disk`.
fn debugfs(disk: &std::path::Path, request: &str) -> Result<String, String> {
    crate::cmd::Cmd::new("debugfs")
        .args(["-R", request])
        .arg(disk)
        .read()
}

/// Checks the disk image after the system halted: `e2fsck -fn` finds
/// nothing to fix, and `debugfs` reads the files alice wrote, hers, and
/// her passive translator's record.
pub fn check_disk(disk: &std::path::Path) -> Result<(), String> {
    fsck_clean(disk, "the distro's disk")?;
    let read = |request: &str| debugfs(disk, request);
    for (file, text) in [
        ("/home/alice/diary", "kept on the disk\n"),
        ("/home/alice/after", "kept after the driver ended\n"),
    ] {
        let read = read(&format!("cat {file}"))?;
        if read != text {
            return Err(format!("debugfs reads {file} as {read:?}"));
        }
    }
    let stat = read("stat /home/alice/diary")?;
    if !stat.contains("User:  1000") {
        return Err(format!("/home/alice/diary is not alice's:\n{stat}"));
    }
    // The passive translator record, as the Hurd's ext2fs writes it on a
    // file system with extended attributes.
    for (node, record) in [
        (
            "/home/alice/greet",
            r#"gnu.translator (22) = "/hurd/hello\000persisted\000""#,
        ),
        (
            "/share/kept",
            r#"gnu.translator (17) = "/hurd/hello\000kept\000""#,
        ),
    ] {
        let attrs = read(&format!("ea_list {node}"))?;
        if !attrs.contains(record) {
            return Err(format!("{node} has no translator record:\n{attrs}"));
        }
    }
    Ok(())
}

/// The most device interrupts a second a boot may average once it has
/// taken [`MAX_INTERRUPTS_AT_ANY_RATE`]: a line held asserted by a device
/// nobody clears fires ten thousand times a second, a session at the
/// console with the disk and the network in use a few hundred at most (a
/// boot of 1.6 s that mounts and unmounts the disk: 459).
pub const MAX_INTERRUPT_RATE: u64 = 1000;

/// How many interrupts a boot may take however short it is.
pub const MAX_INTERRUPTS_AT_ANY_RATE: u64 = 2000;

/// Checks the kernel's count of device interrupts at the end of a boot
/// (`interrupts in T ms: line L: N ...`): the busiest line took at most
/// [`MAX_INTERRUPTS_AT_ANY_RATE`], or averaged at most
/// [`MAX_INTERRUPT_RATE`] a second. Returns that line's rate.
pub fn check_interrupts(output: &str) -> Result<u64, String> {
    let line = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("interrupts in "))
        .ok_or("the kernel never gave its count of interrupts")?;
    let bad = || format!("an unreadable count of interrupts: `{line}`");
    let (ms, counts) = line.split_once(" ms:").ok_or_else(bad)?;
    let ms: u64 = ms.parse().map_err(|_| bad())?;
    let mut words = counts.split_whitespace();
    let mut busiest = (0, 0);
    while let Some(word) = words.next() {
        let (Some(l), Some(n)) = (words.next(), words.next()) else {
            return Err(bad());
        };
        let l: u64 = l.trim_end_matches(':').parse().map_err(|_| bad())?;
        let n: u64 = n.parse().map_err(|_| bad())?;
        if word != "line" {
            return Err(bad());
        }
        if n > busiest.1 {
            busiest = (l, n);
        }
    }
    let rate = busiest.1 * 1000 / ms.max(1);
    if busiest.1 > MAX_INTERRUPTS_AT_ANY_RATE && rate > MAX_INTERRUPT_RATE {
        return Err(format!(
            "line {} took {} interrupts in {ms} ms ({rate} a second, at most \
             {MAX_INTERRUPT_RATE} expected): a device holds it asserted and nobody clears it",
            busiest.0, busiest.1
        ));
    }
    Ok(rate)
}

/// Checks that every [`EXPECTED`] text appears in `output`, in order, and
/// that the translator `pkill` killed came back as a new process.
pub fn check_output(output: &str) -> Result<(), String> {
    if !output.contains(MOUNTED) {
        return Err(format!("the console never showed `{MOUNTED}`"));
    }
    if !output.contains(NETWORK) {
        return Err(format!("the console never showed `{NETWORK}`"));
    }
    check_in_order(output, EXPECTED)?;
    // Every process that ended was reaped by its parent (a translator by
    // the file system that started it).
    if let Some(line) = output.lines().find(|l| l.contains("<defunct>")) {
        return Err(format!("`ps` shows a process nobody reaped: {line}"));
    }
    check_no_password_shown(output)?;
    check_interrupts(output)?;
    // Read from the disk once the driver was started again.
    if let Some(line) = output.lines().find(|l| l.starts_with("ls: /lost+found")) {
        return Err(format!("after the driver was started again: {line}"));
    }
    match restarted_pids(output).as_slice() {
        [before, after] if before != after => Ok(()),
        pids => Err(format!(
            "`ps` should show the killed translator once before and once, \
             as a new process, after: pids {pids:?}"
        )),
    }
}

/// Checks that every text of `expected` appears in `output`, in order.
pub fn check_in_order(output: &str, expected: &[&str]) -> Result<(), String> {
    let mut rest = output;
    for want in expected {
        match rest.find(want) {
            Some(at) => rest = &rest[at + want.len()..],
            None => return Err(format!("the console never showed `{want}` (in order)")),
        }
    }
    Ok(())
}

/// Checks that no password typed in the scenarios was echoed after its
/// prompt.
pub fn check_no_password_shown(output: &str) -> Result<(), String> {
    match ["wonderland", "hurd", "lighthouse", "not-her-password"]
        .iter()
        .find(|p| output.contains(&format!("Password: {p}")))
    {
        Some(p) => Err(format!("the password `{p}` was echoed")),
        None => Ok(()),
    }
}

/// The pids `ps` showed for the running `/hurd/hello restarted`, in order.
fn restarted_pids(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| l.ends_with(" /hurd/hello restarted") && !l.contains("<defunct>"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|pid| pid.parse::<u32>().is_ok())
        .collect()
}

/// The `distro` step of `cargo xtask test`.
pub fn test_step(ws: &Workspace) -> Result<(), String> {
    let all = kernel::build(ws)?;
    // The probe for KVM runs the kernel's test programs.
    let accel = kernel::choose_accel(&all)?;
    let mut build = init_build(ws, &all)?;
    build.modules.push(reference_rootfs(ws)?);
    let disk = reference_disk(ws)?;
    let mut disk_args = kernel::disk_args(&[&disk]);
    disk_args.extend(kernel::distro_net_args());
    let disk_args: Vec<&str> = disk_args.iter().map(String::as_str).collect();
    let run = console::converse(
        kernel::qemu_command(&build, accel, "", &disk_args),
        CONVERSATION_TIMEOUT,
        &scenario(),
    )?;
    let output = run.lines.join("\n");
    check_output(&output)?;
    if run.timed_out || run.status != Some(EXIT_SUCCESS) {
        return Err(format!(
            "the distro did not halt cleanly (status {:?}, timed out: {})",
            run.status, run.timed_out
        ));
    }
    eprintln!("distro ({accel:?}): the console scenario passed");
    check_disk(&disk)?;
    // Booted again on the same disk: what was written is there.
    let run = console::converse(
        kernel::qemu_command(&build, accel, "", &disk_args),
        CONVERSATION_TIMEOUT,
        &reboot_scenario(),
    )?;
    let output = run.lines.join("\n");
    check_in_order(&output, REBOOT_EXPECTED)
        .map_err(|e| format!("booted again on the same disk: {e}"))?;
    let rate =
        check_interrupts(&output).map_err(|e| format!("booted again on the same disk: {e}"))?;
    eprintln!("distro ({accel:?}): {rate} device interrupts a second on the second boot");
    if run.timed_out || run.status != Some(EXIT_SUCCESS) {
        return Err("booted again on the same disk, the distro did not halt cleanly".into());
    }
    check_disk(&disk)?;
    eprintln!("distro: the file written on the disk was there after a reboot; e2fsck -fn is clean");
    // Killed in the middle of a write, after a sync.
    let run = console::converse(
        kernel::qemu_command(&build, accel, "", &disk_args),
        CONVERSATION_TIMEOUT,
        &killed_scenario(),
    )?;
    let output = run.lines.join("\n");
    check_in_order(&output, &[MOUNTED, "# sync /\n# cat /dev/zero"])
        .map_err(|e| format!("the boot to be killed: {e}"))?;
    if run.timed_out || run.status == Some(EXIT_SUCCESS) {
        return Err("the machine to be killed was not killed in its write".into());
    }
    let fsck = check_killed_disk(&disk)?;
    eprintln!(
        "distro: killed {} s into a write after a sync: e2fsck -fy exited {fsck}, then -fn is clean, and the synced file is intact",
        WRITE_BEFORE_KILL.as_secs()
    );
    unmounted_boots(ws, &build, accel)
}

/// `cargo xtask run --kernel`: boots the distro with the console on the
/// terminal. With `trace` (`run --trace`), on the kernel's trace build with
/// its trace line in `target/trace.bin`, decoded when QEMU ends (printed,
/// and kept in `target/trace.txt`).
pub fn run_interactive(ws: &Workspace, trace: bool) -> Result<std::process::ExitStatus, String> {
    let all = kernel::build(ws)?;
    let accel = match Accel::detect() {
        Accel::Tcg => Accel::Tcg,
        Accel::Kvm => kernel::choose_accel(&all)?,
    };
    let build = init_build(ws, &all)?;
    let mut build = build;
    build.modules.push(reference_rootfs(ws)?);
    let mut disk = kernel::disk_args(&[&reference_disk(ws)?]);
    disk.extend(kernel::distro_net_args());
    let target = ws.metadata()?.target_directory;
    let trace_file = target.join("trace.bin");
    if trace {
        build.kernel = crate::trace::build_kernel(ws)?;
        disk.extend(crate::trace::serial_args(&trace_file));
    }
    let disk: Vec<&str> = disk.iter().map(String::as_str).collect();
    let mut command: Command = kernel::qemu_command(&build, accel, "", &disk);
    eprintln!("$ {command:?}");
    let status = command
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .status()
        .map_err(|e| format!("could not start qemu-system-x86_64: {e}"))?;
    if trace {
        let decoded = crate::trace::decode_files(&build.kernel, &trace_file)?;
        let text: String = decoded
            .lines
            .iter()
            .map(|l| format!("{}\n", l.text))
            .collect();
        print!("{text}");
        let kept = target.join("trace.txt");
        std::fs::write(&kept, &text)
            .map_err(|e| format!("cannot write {}: {e}", kept.display()))?;
        eprintln!(
            "trace: {} frames decoded from {} (kept in {})",
            decoded.lines.len(),
            trace_file.display(),
            kept.display()
        );
        if let Some(problems) = decoded.problems() {
            eprintln!("trace: {problems}");
        }
    }
    Ok(status)
}

/// `cargo xtask bench distro`: boot to the login prompt, in guest
/// instructions (TCG with `-icount shift=0,sleep=off`: `hurd-init` prints
/// the time-stamp counter, which then counts instructions, as it is about to
/// show the prompt, and halts when its command line says `bench-prompt`) and in
/// wall time under TCG, the size of the image, and reading a file from the
/// disk ([`disk_bench`]). Writes `target/bench/distro.json`.
pub fn bench(ws: &Workspace) -> Result<(), String> {
    crate::setup::ensure_apt(&[kernel::QEMU_PACKAGE])?;
    let all = kernel::build(ws)?;
    let build = init_build(ws, &all)?;
    let icount = ["-icount", "shift=0,sleep=off"];
    let run = kernel::boot(
        kernel::qemu_command(&build, Accel::Tcg, "bench-prompt", &icount),
        SCENARIO_TIMEOUT,
    )?;
    let insns = kernel::bench_values(&run.lines)
        .into_iter()
        .find(|(n, _)| n == "boot_to_login_prompt")
        .map(|(_, v)| v)
        .ok_or("hurd-init printed no `bench boot_to_login_prompt` line")?;
    let mut rows = vec![kernel::bench_row(
        "distro boot to login prompt (guest insns)",
        "insns",
        insns,
        Some(("goal: 300 ms at 1 insn/ns", 300e6)),
    )];

    // Wall time from QEMU's start to the prompt, without icount.
    if let Some(elapsed) = kernel::wall_time_to(
        kernel::qemu_command(&build, Accel::Tcg, "bench-prompt", &[]),
        "bench boot_to_login_prompt",
    )? {
        rows.push(kernel::bench_row(
            "distro QEMU start to login prompt, TCG (wall ns)",
            "ns",
            elapsed.as_nanos() as f64,
            Some(("goal under KVM: 300 ms", 300e6)),
        ));
    }

    // The image's size: the reference ISO and what it carries.
    let target = ws.metadata()?.target_directory;
    let iso = target.join("hurd-rs-bench.iso");
    crate::image::build(
        ws,
        &ws.root.join(crate::image::REFERENCE_MANIFEST),
        &iso,
        false,
    )?;
    for (label, path) in [
        ("distro image: GRUB ISO (bytes)", iso.clone()),
        ("distro image: kernel ELF (bytes)", build.kernel.clone()),
        (
            "distro image: hurd-init ELF (bytes)",
            build.modules[0].clone(),
        ),
    ] {
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        rows.push(kernel::bench_row(label, "bytes", size as f64, None));
    }

    let disk = disk_bench(ws, &build)?;
    rows.push(kernel::bench_row(
        "distro read of a 4 MiB file from the ext2 disk, 32 KiB io_reads (guest insns per byte)",
        "insns",
        disk.disk / disk.bytes,
        Some((
            "the same bytes from a copy in the boot tmpfs, in memory (insns per byte)",
            disk.memory / disk.bytes,
        )),
    ));
    kernel::write_bench_rows(ws, "distro", &rows)
}

/// The size of the file [`disk_bench`] reads from the disk.
pub const DISK_BENCH_BYTES: usize = 4 << 20;

/// What `hurd-init`'s `bench-disk` measured: the bytes it read, and the
/// guest instructions reading them from the disk and from a copy in the
/// root file system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiskBench {
    /// Bytes read (each time).
    pub bytes: f64,
    /// Instructions reading them from the file on the disk.
    pub disk: f64,
    /// Instructions reading the copy in the boot file system (a tmpfs).
    pub memory: f64,
}

/// Boots the scenario's image — its root file system and a copy of its
/// disk holding a file of [`DISK_BENCH_BYTES`] (`/home/disk-bench`, written
/// there by `debugfs`) — with `bench-prompt bench-disk`, under TCG with
/// `-icount shift=0,sleep=off`: `hurd-init` reads the file from the disk
/// (through `/hurd/ext2fs`, its pager and `/hurd/virtio-blk`), copies it to
/// `/tmp` of the boot file system (a tmpfs, in memory) and reads the copy,
/// counting instructions for each reading.
pub fn disk_bench(ws: &Workspace, build: &Build) -> Result<DiskBench, String> {
    let target = ws.metadata()?.target_directory;
    let mut build = build.clone();
    build.modules.push(reference_rootfs(ws)?);
    let disk = target.join("hurd-rs-bench-disk.img");
    let reference = reference_disk(ws)?;
    std::fs::copy(&reference, &disk).map_err(|e| {
        format!(
            "cannot copy {} to {}: {e}",
            reference.display(),
            disk.display()
        )
    })?;
    // Bytes that are never zero: debugfs leaves blocks of zeros as holes,
    // which would not be read from the disk.
    let data = target.join("hurd-rs-disk-bench.bin");
    let bytes: Vec<u8> = (0..DISK_BENCH_BYTES).map(|i| (i % 251) as u8 + 1).collect();
    std::fs::write(&data, bytes).map_err(|e| format!("cannot write {}: {e}", data.display()))?;
    // In /home of the root disk (debugfs writes in its working directory).
    let script = target.join("hurd-rs-disk-bench.debugfs");
    std::fs::write(
        &script,
        format!("cd /home\nwrite {} disk-bench\n", data.display()),
    )
    .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    crate::cmd::Cmd::new("debugfs")
        .args(["-w", "-f"])
        .arg(&script)
        .arg(&disk)
        .run()?;
    let _ = std::fs::remove_file(&script);
    let mut extra = vec!["-icount".to_owned(), "shift=0,sleep=off".to_owned()];
    extra.extend(kernel::disk_args(&[&disk]));
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let run = kernel::boot(
        kernel::qemu_command(&build, Accel::Tcg, "bench-prompt bench-disk", &extra),
        SCENARIO_TIMEOUT,
    )?;
    let _ = std::fs::remove_file(&data);
    let _ = std::fs::remove_file(&disk);
    parse_disk_bench(&run.lines)
}

/// The figures of `hurd-init`'s `bench-disk` in the lines of a boot; an
/// error quoting what it said when they are missing or not the whole file.
pub fn parse_disk_bench(lines: &[String]) -> Result<DiskBench, String> {
    let values = kernel::bench_values(lines);
    let get = |name: &str| values.iter().find(|(n, _)| n == name).map(|&(_, v)| v);
    match (get("disk_read_bytes"), get("disk_read"), get("tmpfs_read")) {
        (Some(bytes), Some(disk), Some(memory)) if bytes == DISK_BENCH_BYTES as f64 => {
            Ok(DiskBench {
                bytes,
                disk,
                memory,
            })
        }
        (Some(bytes), ..) if bytes != DISK_BENCH_BYTES as f64 => Err(format!(
            "hurd-init read {bytes} bytes of /home/disk-bench, not {DISK_BENCH_BYTES}"
        )),
        _ => {
            let said: Vec<&str> = lines
                .iter()
                .map(String::as_str)
                .filter(|l| l.contains("bench-disk") || l.contains("vd0") || l.contains("/home"))
                .collect();
            Err(format!(
                "hurd-init printed no figures of reading the disk; it said:\n{}",
                said.join("\n")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transcript with every expected text, `ps` lines of the killed
    /// translator under `pids` in turn.
    fn transcript(pids: [u32; 2]) -> String {
        let mut pids = pids.into_iter();
        let lines: Vec<String> = EXPECTED
            .iter()
            .map(|l| match l.ends_with("/hurd/hello restarted\n") {
                true => format!("{:>5}     1     1     1 {l}", pids.next().unwrap_or(0)),
                false => l.to_string(),
            })
            .collect();
        format!(
            "{MOUNTED}5, file system pid 6)\n{NETWORK}8, driver pid 7)\n{}\n\
             interrupts in 120000 ms: line 11: 4000",
            lines.join("\n")
        )
    }

    #[test]
    fn an_interrupt_storm_is_seen() {
        assert_eq!(
            check_interrupts("interrupts in 10000 ms: line 11: 400"),
            Ok(40)
        );
        assert_eq!(
            check_interrupts("x\ninterrupts in 1000 ms: line 10: 3 line 11: 200\ny"),
            Ok(200)
        );
        // A short boot that used the disk.
        assert_eq!(
            check_interrupts("interrupts in 1649 ms: line 11: 459"),
            Ok(278)
        );
        assert_eq!(check_interrupts("interrupts in 5 ms:"), Ok(0));
        // 11,000 a second: a line held asserted.
        let storm = check_interrupts("interrupts in 120000 ms: line 11: 1320000");
        assert!(storm.is_err_and(|e| e.contains("line 11")));
        for bad in [
            "",
            "interrupts in x ms: line 11: 4",
            "interrupts in 10 ms: line 11:",
            "interrupts in 10 ms: lane 11: 4",
            "interrupts in 10 ms: line 11: -4",
        ] {
            assert!(check_interrupts(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn disk_bench_figures_are_read_and_checked() {
        let lines = |bytes: usize| -> Vec<String> {
            [
                format!("bench disk_read_bytes {bytes}"),
                "bench disk_read 400000000".to_owned(),
                "bench tmpfs_read 100000000".to_owned(),
                "bench boot_to_login_prompt 900000000".to_owned(),
            ]
            .into()
        };
        let read = parse_disk_bench(&lines(DISK_BENCH_BYTES));
        assert_eq!(
            read,
            Ok(DiskBench {
                bytes: DISK_BENCH_BYTES as f64,
                disk: 4e8,
                memory: 1e8,
            })
        );
        // A short file (debugfs wrote less) is an error, not a figure.
        let short = parse_disk_bench(&lines(4096));
        assert!(short.is_err_and(|e| e.contains("read 4096 bytes")));
        // No figures: what hurd-init said about the disk is quoted.
        let said = [
            format!("bench disk_read_bytes {DISK_BENCH_BYTES}"),
            "hurd-init: bench-disk: copying to /tmp: Errno(NoSpc)".to_owned(),
            "bench boot_to_login_prompt 1".to_owned(),
        ];
        let none = parse_disk_bench(&said);
        assert!(none.is_err_and(|e| e.contains("copying to /tmp: Errno(NoSpc)")));
    }

    #[test]
    fn expected_lines_are_checked_in_order() {
        assert!(check_output(&transcript([9, 12])).is_ok());
        // The killed translator must come back as a new process.
        assert!(check_output(&transcript([9, 9])).is_err());
        let echoed = transcript([9, 12]).replace("Welcome", "Password: wonderland\nWelcome");
        assert!(check_output(&echoed).is_err());
        let mut reversed: Vec<&str> = EXPECTED.to_vec();
        reversed.reverse();
        assert!(check_output(&reversed.join("\n")).is_err());
        assert!(check_output("").is_err());
        // The disk must have been mounted.
        let unmounted = transcript([9, 12]).replace(MOUNTED, "");
        assert!(check_output(&unmounted).is_err());
        // And read after its driver was started again.
        let unread = format!("{}\nls: /lost+found: i/o error", transcript([9, 12]));
        assert!(check_output(&unread).is_err());
        // The network must have started.
        let offline = transcript([9, 12]).replace(NETWORK, "");
        assert!(check_output(&offline).is_err());
        // A translator that ended and was never reaped.
        let zombie = format!(
            "{}\n   11     5     1     1  1000 <defunct> ",
            transcript([9, 12])
        );
        assert!(check_output(&zombie).is_err());
    }

    #[test]
    fn a_disk_that_does_not_mount_is_named_and_the_boot_goes_on() {
        let why = "inappropriate file type or format";
        let good = format!(
            "virtio-blk: vd0: 2048 records of 512 bytes\n{NOT_MOUNTED}{why}\n\
             {ROOT_IN_MEMORY}\nWelcome to hurd-rs.\nlogin: root\nPassword: \n\
             uids=0(root) euids=0(root) egids=0(root)\n# ls /home\n# exit\n\
             login: \nhurd-init: halting"
        );
        assert!(check_unmounted(&good, why).is_ok());
        // Another reason, or none named.
        assert!(check_unmounted(&good, "no such device").is_err());
        // Any reason.
        assert!(check_unmounted(&good, "").is_ok());
        assert!(check_unmounted(&good.replace(NOT_MOUNTED, ""), why).is_err());
        // The root stays in memory, and says so.
        assert!(check_unmounted(&good.replace(ROOT_IN_MEMORY, ""), why).is_err());
        // The system must go on: root logs in, and it halts.
        assert!(check_unmounted(&good.replace("euids=0(root) ", ""), why).is_err());
        assert!(check_unmounted(&good.replace("hurd-init: halting", ""), why).is_err());
        // Nothing mounted, nothing unmounted.
        let unmounted = good.replace(
            "hurd-init: halting",
            "hurd-init: /: written back and unmounted\nhurd-init: halting",
        );
        assert!(check_unmounted(&unmounted, why).is_err());
        let echoed = good.replace("Password: ", "Password: hurd");
        assert!(check_unmounted(&echoed, why).is_err());
    }

    #[test]
    fn the_reboot_reads_what_was_written() {
        let steps = reboot_scenario();
        // Both files written in the first boot are read back.
        assert!(steps.iter().any(|s| {
            s.send.starts_with("cat ")
                && s.send.contains("/home/alice/diary")
                && s.send.contains("/home/alice/after")
        }));
        assert_eq!(steps.last().map(|s| s.send.as_str()), Some("\u{4}"));
        assert!(
            scenario()
                .iter()
                .any(|s| s.send.contains("> /home/alice/diary"))
        );
        // The passive translator set in the first boot is used again.
        assert!(
            scenario()
                .iter()
                .any(|s| s.send.starts_with("settrans /home/alice/greet "))
        );
        assert!(steps.iter().any(|s| s.send == "cat /home/alice/greet"));
    }

    #[test]
    fn linux_programs_are_added_to_a_copy_of_the_manifest() -> Result<(), String> {
        let text = "[image]\nname = \"x\"\n";
        let programs = [("/bin/hello-linux", PathBuf::from("/t/linux-hello"))];
        let copy = with_programs(text, &programs)?;
        assert_eq!(
            copy,
            "[image]\nname = \"x\"\n\n[[program]]\npath = \"/bin/hello-linux\"\nsource = \"/t/linux-hello\"\n"
        );
        Ok(())
    }

    #[test]
    fn the_scenario_ends_by_halting() {
        let steps = scenario();
        assert_eq!(steps.last().map(|s| s.send.as_str()), Some("\u{4}"));
        assert_eq!(steps.first().map(|s| s.wait_for.as_str()), Some("login: "));
    }
}
