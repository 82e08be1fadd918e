//! Services in a manifest: checked, put in start order, written to the file
//! hurd-init reads; the kernel command line holds known words only. Every
//! mistake names the line and the key.

use std::path::PathBuf;

use distro_image::{Manifest, OnFailure, PathsOnly, root_fs};
use hurd_servers::services::{SERVICES, parse};

const MANIFEST: &str = r#"
[image]
name = "services"
cmdline = "bench-prompt"

[kernel]
path = "kernel.elf"

[[module]]
name = "init"
source = "init.elf"

[[program]]
path = "/bin/sleep"
source = "sleep.elf"

[[file]]
path = "/bin/not-a-program"
text = "plain text\n"

[[service]]
name = "late"
program = "/bin/sleep"
args = ["infinity"]
after = ["early", "broken"]

[[service]]
name = "early"
program = "/bin/sleep"
args = ["10"]
on-failure = "halt"

[[service]]
name = "broken"
program = "/bin/not-a-program"
"#;

/// A directory holding the manifest's one binary.
fn base() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("services-base");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("sleep.elf"), b"\x7fELF").expect("sleep.elf");
    dir
}

#[test]
fn services_start_in_order_from_a_file_hurd_init_reads() {
    let m = Manifest::parse(MANIFEST).expect("parses");
    let names: Vec<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
    // `late` waits for both others; the rest keep manifest order.
    assert_eq!(names, ["early", "broken", "late"]);
    assert_eq!(m.services[0].on_failure, OnFailure::Halt);
    assert_eq!(m.services[1].on_failure, OnFailure::Continue);
    assert_eq!(m.services[2].args, ["infinity"]);
    assert_eq!(m.services[2].after, ["early", "broken"]);

    let fs = root_fs(&m, &base(), &mut PathsOnly { base: base() }).expect("root fs");
    let node = fs.get(SERVICES).expect("the services file");
    let distro_image::rootfs::NodeContents::File(data) = &node.contents else {
        panic!("{SERVICES} is not a file");
    };
    assert_eq!((node.mode, node.uid), (0o644, 0));
    let text = String::from_utf8(data.clone()).expect("text");
    assert_eq!(parse(&text).expect("hurd-init reads it"), m.services);

    // No services: no file.
    let none = MANIFEST
        .split("[[service]]")
        .next()
        .expect("head")
        .to_owned();
    let m = Manifest::parse(&none).expect("parses");
    let fs = root_fs(&m, &base(), &mut PathsOnly { base: base() }).expect("root fs");
    assert!(fs.get(SERVICES).is_none());
}

#[test]
fn a_service_runs_as_root_or_as_a_user_of_the_manifest() {
    let users: Vec<String> = Manifest::parse(MANIFEST)
        .expect("parses")
        .services
        .iter()
        .map(|s| s.user.clone())
        .collect();
    assert_eq!(users, ["root", "root", "root"]);
    let accounts = "\n[[group]]\nname = \"users\"\ngid = 100\n\n\
                    [[user]]\nname = \"carol\"\nuid = 1002\ngroups = [\"users\"]\n";
    let text = MANIFEST.replacen(
        "name = \"broken\"",
        "name = \"broken\"\nuser = \"carol\"",
        1,
    ) + accounts;
    let m = Manifest::parse(&text).expect("parses");
    let users: Vec<&str> = m.services.iter().map(|s| s.user.as_str()).collect();
    assert_eq!(users, ["root", "carol", "root"]);
    let fs = root_fs(&m, &base(), &mut PathsOnly { base: base() }).expect("root fs");
    let node = fs.get(SERVICES).expect("the services file");
    let distro_image::rootfs::NodeContents::File(data) = &node.contents else {
        panic!("{SERVICES} is not a file");
    };
    let text = String::from_utf8(data.clone()).expect("text");
    assert!(
        text.contains("broken\tcarol\tcontinue\t-\t/bin/not-a-program\n"),
        "{text}"
    );
    assert_eq!(parse(&text).expect("hurd-init reads it"), m.services);
    // `root` needs no [[user]].
    let text = MANIFEST.replacen("name = \"broken\"", "name = \"broken\"\nuser = \"root\"", 1);
    assert!(Manifest::parse(&text).is_ok());
}

/// Replaces `from` with `to` and expects an error at `line` naming `key`,
/// its message containing `needle`.
fn rejects(from: &str, to: &str, line: usize, key: &str, needle: &str) {
    let text = MANIFEST.replacen(from, to, 1);
    assert_ne!(text, MANIFEST, "test bug: `{from}` not in the manifest");
    let e = Manifest::parse(&text).expect_err("must be rejected");
    assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
    assert!(e.message.contains(needle), "`{needle}` not in: {e}");
}

#[test]
fn service_mistakes_name_line_and_key() {
    rejects(
        "name = \"late\"",
        "name = \"Late\"",
        22,
        "service.name",
        "lowercase",
    );
    rejects(
        "name = \"broken\"",
        "name = \"early\"",
        34,
        "service.name",
        "used twice",
    );
    rejects(
        "program = \"/bin/not-a-program\"",
        "program = \"/bin/nothing\"",
        35,
        "service.program",
        "not a [[program]] or [[file]]",
    );
    rejects(
        "program = \"/bin/not-a-program\"",
        "program = \"bin/sleep\"",
        35,
        "service.program",
        "absolute",
    );
    rejects(
        "args = [\"infinity\"]",
        "args = [\"in\\tfinity\"]",
        24,
        "service.args",
        "tabs",
    );
    rejects(
        "after = [\"early\", \"broken\"]",
        "after = [\"early\", \"missing\"]",
        25,
        "service.after",
        "no such [[service]]",
    );
    rejects(
        "after = [\"early\", \"broken\"]",
        "after = [\"late\"]",
        25,
        "service.after",
        "itself",
    );
    rejects(
        "after = [\"early\", \"broken\"]",
        "after = [\"early\", \"early\"]",
        25,
        "service.after",
        "listed twice",
    );
    // early waits for late, which waits for early.
    rejects(
        "args = [\"10\"]",
        "args = [\"10\"]\nafter = [\"late\"]",
        25,
        "service.after",
        "a cycle",
    );
    rejects(
        "name = \"broken\"",
        "name = \"broken\"\nuser = \"dave\"",
        35,
        "service.user",
        "no such [[user]]",
    );
    rejects(
        "on-failure = \"halt\"",
        "on-failure = \"retry\"",
        31,
        "service.on-failure",
        "`continue` or `halt`",
    );
    rejects(
        "on-failure = \"halt\"",
        "on_failure = \"halt\"",
        31,
        "service.on_failure",
        "unknown field",
    );
    rejects(
        "text = \"plain text\\n\"",
        "text = \"plain text\\n\"\n\n[[file]]\npath = \"/etc/hurd-init/services\"\ntext = \"\"",
        21,
        "file.path",
        "[[service]]",
    );
}

#[test]
fn the_command_line_holds_known_words_only() {
    for words in ["", "test", "bench-prompt accel-probe", "  fault-test  "] {
        let text = MANIFEST.replace("bench-prompt", words);
        let m = Manifest::parse(&text).unwrap_or_else(|e| panic!("{words:?}: {e}"));
        assert_eq!(m.cmdline, words);
    }
    let e = Manifest::parse(&MANIFEST.replace("bench-prompt", "console=com1"))
        .expect_err("console= does nothing");
    assert_eq!((e.line, e.key.as_str()), (4, "image.cmdline"), "{e}");
    assert!(e.message.contains("`console=com1`"), "{e}");
    assert!(e.message.contains("first serial port"), "{e}");
    assert!(e.message.contains("test, bench, accel-probe"), "{e}");
    let e = Manifest::parse(&MANIFEST.replace("bench-prompt", "test quiet")).expect_err("quiet");
    assert!(e.message.contains("`quiet`"), "{e}");
    assert!(!e.message.contains("serial"), "{e}");
}
