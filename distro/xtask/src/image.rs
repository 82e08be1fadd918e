//! `cargo xtask image`: builds a bootable GRUB ISO from a `distro.toml`
//! manifest, with the `distro-image` tool (`distro/image`), and the `image`
//! step of `cargo xtask test`, which builds the reference image and boots it.
//!
//! ```text
//! cargo xtask image [--manifest FILE] [-o OUT.iso] [--verify]   # default: distro/distro.toml, target/hurd-rs.iso
//! ```
//!
//! The ISO is reproducible (every date in it is `SOURCE_DATE_EPOCH`, or
//! 2000-01-01); `--verify` builds it twice and fails unless both are the
//! same bytes. The `image` step of `cargo xtask test` always verifies.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::Failure;
use crate::console::Step;
use crate::kernel::{self, Accel, EXIT_SUCCESS};
use crate::setup;
use crate::workspace::Workspace;

/// The reference manifest, relative to the workspace root.
pub const REFERENCE_MANIFEST: &str = "distro/distro.toml";

/// The book's example of a manifest of one's own ("Assembling a custom
/// distro image"), relative to the workspace root.
pub const OWN_MANIFEST: &str = "distro/examples/my-image.toml";

/// The program the `image` step adds to the [`OWN_MANIFEST`] image: a crate
/// `cargo xtask new-program` makes in a directory outside the checkout.
const NEW_PROGRAM: &str = "greeter";

/// The services the `image` step adds to the [`OWN_MANIFEST`] image: one
/// that runs as carol (`lantern`, in `ps` as hers), and one that ends at
/// once (`brief`: `sleep` refuses its argument and exits with status 1),
/// whose end `hurd-init` names on the console.
const MORE_SERVICES: &str = "
[[service]]
name = \"brief\"
program = \"/bin/sleep\"
args = [\"soon\"]

[[service]]
name = \"lantern\"
program = \"/bin/sleep\"
args = [\"3600\"]
user = \"carol\"
";

/// The module whose arguments the `image` step sets in the [`OWN_MANIFEST`]
/// image, and its arguments (the password server reads none: `ps` shows
/// that they reach its `argv`).
const MODULE_ARGS: (&str, &str) = ("password-server", "[\"--from-the-manifest\"]");

/// A prebuilt executable the `image` step installs in the [`OWN_MANIFEST`]
/// image as it is (`source = FILE`): the reference image's `args`, already
/// built in the target directory, as `/bin/prebuilt`.
const PREBUILT: (&str, &str) = ("/bin/prebuilt", "x86_64-unknown-none/release/args");

/// A prebuilt static Linux program the `image` step installs in the
/// [`OWN_MANIFEST`] image as it is (the manifest has the emulator): hello,
/// world built with `musl-gcc -static`, which [`kernel::build`] makes for
/// the kernel tests (`linux-hello`), as `/bin/hello-linux`.
const LINUX_PREBUILT: (&str, &str) = (
    "/bin/hello-linux",
    "x86_64-unknown-none/release/linux-hello",
);

/// Lines the [`OWN_MANIFEST`] image must show somewhere (a service's end is
/// named whenever it comes): each a prefix and a suffix of one line.
const OWN_LINES: &[(&str, &str)] = &[
    (
        "hurd-init: service lantern: /bin/sleep (pid ",
        ", user carol)",
    ),
    ("hurd-init: service brief (pid ", ") exited with status 1"),
];

/// What is typed into the [`OWN_MANIFEST`] image (whose services start
/// first: `keeper`, `broken` named as not started, and the
/// [`MORE_SERVICES`]): carol, a user only that
/// manifest has, is refused with a wrong password and logs in with hers,
/// sees her ids (her groups) and her home, runs the program template (built
/// from a crate outside the workspace), [`NEW_PROGRAM`], the
/// [`PREBUILT`] program and the static Linux program of
/// [`LINUX_PREBUILT`], and leaves; alice logs in, meets her
/// note and her translator (a process of hers), starts a translator of her
/// own (built from a crate outside the workspace, `distro/examples/my-translator`)
/// on a node of hers with `settrans` and reads it, runs the program
/// template (`distro/templates/program`), shouts, leaves; halt.
fn own_scenario() -> Vec<Step> {
    vec![
        Step::new("login: ", "carol"),
        Step::new("Password: ", "not-her-password"),
        Step::new("login: ", "carol"),
        Step::new("Password: ", "lighthouse"),
        Step::new("$ ", "id"),
        Step::new("$ ", "pwd"),
        Step::new("$ ", "my-program carol"),
        Step::new("$ ", "greeter keepers"),
        Step::new("$ ", "prebuilt installed as it was built"),
        Step::new("$ ", "hello-linux"),
        Step::new("$ ", "exit"),
        Step::new("login: ", "alice"),
        Step::new("Password: ", "wonderland"),
        Step::new("$ ", "cat /srv/alice/note /srv/alice/hello"),
        Step::new(
            "$ ",
            "settrans /srv/alice/greeting /bin/my-translator Hello from my own translator",
        ),
        Step::new("$ ", "cat /srv/alice/greeting"),
        Step::new("$ ", "my-program alice"),
        Step::new("$ ", "ps"),
        Step::new("$ ", "shout"),
        Step::new("shout", "quiet words"),
        Step::raw("QUIET WORDS", "\u{4}"),
        Step::new("$ ", "exit"),
        Step::new("login: ", "\u{4}"),
    ]
}

/// What the [`OWN_MANIFEST`] image must show, in order.
const OWN_EXPECTED: &[&str] = &[
    "hurd-init: service keeper: /bin/sleep (pid ",
    "hurd-init: service broken (/srv/broken) did not start: ",
    "hurd-init: service needs-broken (/bin/sleep) did not start: `broken`, which it comes after, did not",
    "my-hurd: log in as carol (lighthouse) or alice (wonderland).",
    "Login incorrect",
    "Welcome to my own hurd-rs.",
    "euids=1002(carol) egids=200,100 ",
    "$ pwd\n/home/carol",
    "Hello, carol! (from a program on hurd-rt)",
    "$ greeter keepers\nHello, keepers! (from a program on hurd-rt)",
    "$ prebuilt installed as it was built\ninstalled as it was built",
    "$ hello-linux\nhello, world\nx86_64 x\ngetrandom: 16 bytes\n",
    "my-hurd: log in as carol",
    "Welcome to my own hurd-rs.",
    "$ cat /srv/alice/note /srv/alice/hello\nBring the tarballs.\nHello from alice's own translator.",
    "$ cat /srv/alice/greeting\nHello from my own translator\n(served by my-translator, running as uid 1000)",
    "Hello, alice! (from a program on hurd-rt)",
    "0 password --from-the-manifest\n",
    "0 /bin/sleep 86400\n",
    "1002 /bin/sleep 3600\n",
    "1000 /hurd/hello Hello from alice's own translator.",
    "1000 /bin/my-translator Hello from my own translator\n",
    "QUIET WORDS",
    "hurd-init: halting",
];

/// What the [`OWN_MANIFEST`] image must not show: the reference image's
/// service it leaves out, and the service that comes after the broken one.
const OWN_ABSENT: &[&str] = &[
    "service idle",
    "/bin/sleep infinity",
    "service needs-broken:",
];

/// The Debian packages `grub-mkrescue` needs to make a bootable ISO.
pub const GRUB_PACKAGES: &[&str] = &["grub-common", "grub-pc-bin", "xorriso", "mtools"];

/// Builds the image `manifest` describes into `out` (running `distro-image`
/// in the workspace); with `verify`, builds it a second time and fails
/// unless both ISOs are the same bytes.
pub fn build(
    ws: &Workspace,
    manifest: &PathBuf,
    out: &PathBuf,
    verify: bool,
) -> Result<(), String> {
    setup::ensure_apt(GRUB_PACKAGES)?;
    let target = ws.metadata()?.target_directory;
    let mut command = ws
        .cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "distro-image",
            "--bin",
            "distro-image",
        ])
        .args(["--", "--manifest"])
        .arg(manifest)
        .arg("-o")
        .arg(out)
        .arg("--target-dir")
        .arg(&target);
    if verify {
        command = command.arg("--verify");
    }
    command.run()
}

/// `cargo xtask image [--manifest FILE] [-o OUT.iso] [--verify]`; `--check`
/// runs the `image` step of `cargo xtask test` alone.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let ws = Workspace::find()?;
    if args == ["--check"] {
        test_step(&ws)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut manifest = ws.root.join(REFERENCE_MANIFEST);
    let mut out = ws.metadata()?.target_directory.join("hurd-rs.iso");
    let mut verify = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .map(PathBuf::from)
                .ok_or_else(|| Failure::Usage(format!("`{a}` needs a value")))
        };
        match a.as_str() {
            "--manifest" => manifest = value()?,
            "-o" | "--output" => out = value()?,
            "--verify" => verify = true,
            other => {
                return Err(Failure::Usage(format!(
                    "unknown argument `{other}` for `cargo xtask image`"
                )));
            }
        }
    }
    build(&ws, &manifest, &out, verify)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask passwd`: reads a password and prints its Argon2id hash for
/// a manifest's `[[user]]` (`distro-image`'s `distro-passwd`).
pub fn passwd(args: &[String]) -> Result<ExitCode, Failure> {
    if let Some(a) = args.first() {
        return Err(Failure::Usage(format!(
            "unknown argument `{a}` for `cargo xtask passwd`"
        )));
    }
    let ws = Workspace::find()?;
    let status = ws
        .cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "distro-image",
            "--bin",
            "distro-passwd",
        ])
        .status()?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Where `distro-image` writes the disk image of the image whose ISO is
/// `iso` (when its manifest has a `[disk]`): `NAME.img` beside `NAME.iso`.
pub fn disk_image(iso: &Path) -> PathBuf {
    iso.with_extension("img")
}

/// `cargo xtask run [--manifest FILE] [--disk FILE]`: builds the image
/// `manifest` describes and boots its ISO with the serial console on the
/// terminal, its disk attached (`disk`, made from the image's disk if it
/// does not exist; else the image's freshly built disk, if it has one);
/// and a network card on QEMU's user network
/// ([`kernel::distro_net_args`]: the reference image's `nc 10.0.2.100 7`
/// reaches an echo service on the host); returns QEMU's exit status. QEMU
/// ends when the system halts; `Ctrl-A X`
/// ends it at any time (the terminal is QEMU's multiplexer, `mon:stdio`, so
/// `Ctrl-C` goes to the system).
pub fn run(
    ws: &Workspace,
    manifest: &Path,
    disk: Option<&Path>,
) -> Result<std::process::ExitStatus, String> {
    let stem = manifest
        .file_stem()
        .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
    let iso = ws.metadata()?.target_directory.join(format!("{stem}.iso"));
    build(ws, &manifest.to_path_buf(), &iso, false)?;
    let built = disk_image(&iso);
    let disk = match disk {
        Some(file) => {
            if !file.exists() {
                if !built.exists() {
                    return Err(format!(
                        "`{}` does not exist, and the image has no [disk] to make it from",
                        file.display()
                    ));
                }
                std::fs::copy(&built, file)
                    .map_err(|e| format!("making the disk `{}`: {e}", file.display()))?;
                eprintln!("made {} from the image's disk", file.display());
            }
            Some(file.to_path_buf())
        }
        None => built.exists().then_some(built),
    };
    let accel = match Accel::detect() {
        Accel::Tcg => Accel::Tcg,
        Accel::Kvm => kernel::choose_accel(&kernel::build(ws)?)?,
    };
    let mut command = boot_command(accel, &iso, "mon:stdio");
    if let Some(disk) = &disk {
        command.args(kernel::disk_args(&[disk]));
    }
    command.args(kernel::distro_net_args());
    eprintln!("$ {command:?}");
    eprintln!("(the system's console; QEMU ends when it halts, or at Ctrl-A X)");
    command
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::inherit())
        .status()
        .map_err(|e| format!("could not start qemu-system-x86_64: {e}"))
}

/// The `image` step: builds the reference image as a GRUB ISO (twice, to
/// check that the build is reproducible) and boots it
/// in QEMU — the kernel booted the Hurd's way: GRUB loads it (multiboot2)
/// and its modules, `hurd-init` writes the manifest's root file system into
/// its tmpfs root, and the distro's console scenario (see
/// [`crate::distro`]) runs over the serial line until the system halts.
pub fn test_step(ws: &Workspace) -> Result<(), String> {
    let target = ws.metadata()?.target_directory;
    let iso = target.join("hurd-rs-test.iso");
    // The reference manifest with the Linux programs the scenario runs.
    let all = kernel::build(ws)?;
    build(ws, &crate::distro::scenario_manifest(ws)?, &iso, true)?;
    // The same choice of accelerator as the kernel tests (KVM here may be
    // unable to run user mode).
    let accel = kernel::choose_accel(&all)?;
    let mut command = boot_command(accel, &iso, "stdio");
    let disk = disk_image(&iso);
    command.args(kernel::disk_args(&[&disk]));
    command.args(kernel::distro_net_args());
    let run = crate::console::converse(
        command,
        crate::distro::CONVERSATION_TIMEOUT,
        &crate::distro::scenario(),
    )?;
    let output = run.lines.join("\n");
    if !output.contains("entries from the rootfs module") {
        return Err("hurd-init did not write the image's root file system".into());
    }
    crate::distro::check_output(&output)?;
    if run.status != Some(EXIT_SUCCESS) || run.timed_out {
        return Err(format!(
            "the reference image did not halt cleanly (status {:?}, timed out {})",
            run.status, run.timed_out
        ));
    }
    crate::distro::check_disk(&disk)?;
    eprintln!("the reference image booted from its GRUB ISO and ran the console scenario");
    // The book's manifest of one's own, with a program made by `cargo xtask
    // new-program` outside the checkout, built and booted the same way.
    let own = OwnImage::make(ws, &target)?;
    let iso = target.join("my-image-test.iso");
    build(ws, &own.manifest, &iso, true)?;
    let run = crate::console::converse(
        boot_command(accel, &iso, "stdio"),
        crate::distro::CONVERSATION_TIMEOUT,
        &own_scenario(),
    )?;
    let output = run.lines.join("\n");
    crate::distro::check_in_order(&output, OWN_EXPECTED)
        .and_then(|()| crate::distro::check_no_password_shown(&output))
        .and_then(|()| match OWN_ABSENT.iter().find(|a| output.contains(*a)) {
            Some(a) => Err(format!(
                "the console showed `{a}`, which the image leaves out"
            )),
            None => Ok(()),
        })
        .and_then(|()| check_lines(&output, OWN_LINES))
        .map_err(|e| format!("{OWN_MANIFEST}: {e}"))?;
    if run.status != Some(EXIT_SUCCESS) || run.timed_out {
        return Err(format!("{OWN_MANIFEST}: the image did not halt cleanly"));
    }
    eprintln!("{OWN_MANIFEST} booted from its GRUB ISO and ran its scenario");
    Ok(())
}

/// A copy of the [`OWN_MANIFEST`] in a directory of its own outside the
/// checkout, next to a crate `cargo xtask new-program` made there
/// ([`NEW_PROGRAM`]), which the copy installs as `/bin/greeter`, with the
/// [`MORE_SERVICES`] and the [`MODULE_ARGS`]; the directory is removed when
/// this is dropped.
struct OwnImage {
    dir: PathBuf,
    manifest: PathBuf,
}

impl OwnImage {
    fn make(ws: &Workspace, target: &Path) -> Result<OwnImage, String> {
        let dir = std::env::temp_dir().join(format!("hurd-rs-own-image-{}", std::process::id()));
        // A directory left by an earlier run of the same pid.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        let own = OwnImage {
            manifest: dir.join("my-image.toml"),
            dir,
        };
        let program = own.dir.join(NEW_PROGRAM);
        crate::new_program::make(&ws.root, NEW_PROGRAM, &program)?;
        let original = ws.root.join(OWN_MANIFEST);
        let text = std::fs::read_to_string(&original)
            .map_err(|e| format!("cannot read {}: {e}", original.display()))?;
        let base = original.parent().unwrap_or(&ws.root);
        let text =
            with_program(&with_crates_from(&text, base)?, NEW_PROGRAM, &program)? + MORE_SERVICES;
        let text = with_module_args(&text, MODULE_ARGS.0, MODULE_ARGS.1)?;
        let text = with_prebuilt(&text, PREBUILT.0, &target.join(PREBUILT.1))?;
        let text = with_prebuilt(&text, LINUX_PREBUILT.0, &target.join(LINUX_PREBUILT.1))?;
        std::fs::write(&own.manifest, text)
            .map_err(|e| format!("cannot write {}: {e}", own.manifest.display()))?;
        Ok(own)
    }
}

impl Drop for OwnImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The manifest `text` with each `crate = "DIR"` line's relative `DIR` made
/// absolute from `base` (the original manifest's directory), so that a
/// copy elsewhere names the same crates.
///
/// # Errors
///
/// `base` is not a UTF-8 path.
fn with_crates_from(text: &str, base: &Path) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let dir = line
            .strip_prefix("crate = \"")
            .and_then(|rest| rest.strip_suffix('"'))
            .filter(|dir| !dir.contains(['"', '\\']) && Path::new(dir).is_relative());
        match dir {
            Some(dir) => {
                let path = base.join(dir);
                let path = path
                    .to_str()
                    .ok_or_else(|| format!("{}: not a UTF-8 path", path.display()))?;
                out.push_str("crate = ");
                out.push_str(&crate::new_program::toml_string(path));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    Ok(out)
}

/// The manifest `text` with the crate in `dir` installed as `/bin/NAME`.
///
/// # Errors
///
/// `dir` is not a UTF-8 path.
fn with_program(text: &str, name: &str, dir: &Path) -> Result<String, String> {
    let dir = dir
        .to_str()
        .ok_or_else(|| format!("{}: not a UTF-8 path", dir.display()))?;
    Ok(format!(
        "{text}\n[[program]]\npath = \"/bin/{name}\"\ncrate = {}\n",
        crate::new_program::toml_string(dir)
    ))
}

/// The manifest `text` with the executable `file` installed as it is at
/// `path`.
///
/// # Errors
///
/// `file` is not a UTF-8 path, or not there.
fn with_prebuilt(text: &str, path: &str, file: &Path) -> Result<String, String> {
    if !file.is_file() {
        return Err(format!("{}: no such file to install", file.display()));
    }
    let file = file
        .to_str()
        .ok_or_else(|| format!("{}: not a UTF-8 path", file.display()))?;
    Ok(format!(
        "{text}\n[[program]]\npath = \"{path}\"\nsource = {}\n",
        crate::new_program::toml_string(file)
    ))
}

/// The manifest `text` with `args` (a TOML array) given to the module whose
/// `bin` is `bin`.
///
/// # Errors
///
/// No line `bin = "BIN"` in `text`.
fn with_module_args(text: &str, bin: &str, args: &str) -> Result<String, String> {
    let line = format!("bin = \"{bin}\"\n");
    if !text.contains(&line) {
        return Err(format!(
            "{OWN_MANIFEST}: no module with `{}`",
            line.trim_end()
        ));
    }
    Ok(text.replacen(&line, &format!("{line}args = {args}\n"), 1))
}

/// Checks that for each `(prefix, suffix)` of `lines` a line of `output`
/// starts with `prefix` and ends with `suffix`.
fn check_lines(output: &str, lines: &[(&str, &str)]) -> Result<(), String> {
    for (prefix, suffix) in lines {
        if !output
            .lines()
            .any(|l| l.starts_with(prefix) && l.trim_end().ends_with(suffix))
        {
            return Err(format!("the console never showed `{prefix}…{suffix}`"));
        }
    }
    Ok(())
}

/// QEMU booting `iso` from its CD-ROM drive with the console on the serial
/// port, connected to `serial` (`stdio`, or `mon:stdio` for a terminal);
/// QEMU exits when the kernel halts (`isa-debug-exit`) or resets.
pub fn boot_command(accel: Accel, iso: &PathBuf, serial: &str) -> Command {
    let mut command = Command::new("qemu-system-x86_64");
    command
        .args(accel.args())
        .args(["-m", "256M", "-display", "none", "-serial", serial])
        .args([
            "-no-reboot",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ])
        .arg("-cdrom")
        .arg(iso)
        // From the CD-ROM even with a disk attached (QEMU's default order
        // tries hard disks first).
        .args(["-boot", "d"]);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_of_a_manifest_names_the_same_crates() -> Result<(), String> {
        let text = "[[program]]\npath = \"/bin/a\"\ncrate = \"my-translator\"\n\
                    crate = \"../templates/program\"\ncrate = \"/abs/x\"\n  crate = \"kept\"\n";
        let out = with_crates_from(text, Path::new("/w/distro/examples"))?;
        assert_eq!(
            out,
            "[[program]]\npath = \"/bin/a\"\ncrate = \"/w/distro/examples/my-translator\"\n\
             crate = \"/w/distro/examples/../templates/program\"\ncrate = \"/abs/x\"\n  crate = \"kept\"\n"
        );
        Ok(())
    }

    #[test]
    fn a_module_gets_its_arguments() -> Result<(), String> {
        let text =
            "[[module]]\nname = \"p\"\nbin = \"p-server\"\n\n[[program]]\nbin = \"p-server\"\n";
        let out = with_module_args(text, "p-server", "[\"-x\"]")?;
        assert_eq!(
            out,
            "[[module]]\nname = \"p\"\nbin = \"p-server\"\nargs = [\"-x\"]\n\n[[program]]\nbin = \"p-server\"\n"
        );
        assert!(with_module_args(text, "q-server", "[]").is_err());
        Ok(())
    }

    #[test]
    fn a_prebuilt_file_is_installed_as_it_is() -> Result<(), String> {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let out = with_prebuilt("[image]\n", "/bin/p", &file)?;
        let source = file.to_str().ok_or("not UTF-8")?;
        assert_eq!(
            out,
            format!("[image]\n\n[[program]]\npath = \"/bin/p\"\nsource = \"{source}\"\n")
        );
        assert!(with_prebuilt("", "/bin/p", Path::new("/no/such/file")).is_err());
        Ok(())
    }

    #[test]
    fn lines_are_found_by_their_ends() {
        let out = "a\nhurd-init: service x (pid 7) exited with status 1\r\nb";
        assert!(
            check_lines(
                out,
                &[("hurd-init: service x (pid ", ") exited with status 1")]
            )
            .is_ok()
        );
        assert!(
            check_lines(
                out,
                &[("hurd-init: service y (pid ", ") exited with status 1")]
            )
            .is_err()
        );
        assert!(
            check_lines(
                out,
                &[("hurd-init: service x (pid ", ") ended by signal 6")]
            )
            .is_err()
        );
    }

    #[test]
    fn a_program_is_added_at_the_end() -> Result<(), String> {
        let out = with_program("[image]\n", "greeter", Path::new("/tmp/d/greeter"))?;
        assert_eq!(
            out,
            "[image]\n\n[[program]]\npath = \"/bin/greeter\"\ncrate = \"/tmp/d/greeter\"\n"
        );
        Ok(())
    }

    #[test]
    fn the_copy_of_the_own_manifest_names_its_crates_by_absolute_paths() -> Result<(), String> {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let original = examples.join("my-image.toml");
        let text = std::fs::read_to_string(&original).map_err(|e| e.to_string())?;
        let copy = with_crates_from(&text, &examples)?;
        let crates: Vec<&str> = copy
            .lines()
            .filter_map(|l| l.strip_prefix("crate = \""))
            .collect();
        assert_eq!(crates.len(), 2, "{copy}");
        let prefix = examples.to_str().ok_or("not UTF-8")?;
        for c in crates {
            assert!(c.starts_with(prefix), "{c}");
        }
        assert_eq!(copy.lines().count(), text.lines().count());
        Ok(())
    }
}
