//! Manifest errors name the field and the line.

use distro_image::{BootProtocol, Contents, Manifest, Source};

const GOOD: &str = r#"
[image]
name = "hurd-rs"
cmdline = "bench-prompt"

[kernel]
package = "hurd-kernel"

[[module]]
name = "bootstrap"
package = "hurd-servers"
bin = "bootstrap"
args = ["--verbose"]

[[module]]
name = "auth"
source = "build/auth.elf"

[[program]]
path = "/hurd/hello"
package = "hurd-trans"
bin = "hello"

[[file]]
path = "/etc/motd"
text = "Welcome\n"

[[file]]
path = "/etc/passwd"
source = "root/passwd"
mode = 0o600

[[dir]]
path = "/tmp"
mode = 0o1777

[[translator]]
node = "/tmp/hello"
command = ["/hurd/hello", "--greeting", "hi"]
owner = 1000
"#;

#[test]
fn a_good_manifest_parses() {
    let m = Manifest::parse(GOOD).expect("parses");
    assert_eq!(m.name, "hurd-rs");
    assert_eq!(m.cmdline, "bench-prompt");
    assert_eq!(m.protocol, BootProtocol::Multiboot2);
    assert_eq!(
        m.kernel.source,
        Source::Package {
            package: "hurd-kernel".into(),
            bin: None
        }
    );
    assert_eq!(m.kernel.line, 6);
    assert_eq!(m.modules.len(), 2);
    assert_eq!(m.modules[0].args, vec!["--verbose".to_owned()]);
    assert_eq!(
        m.modules[1].artifact.source,
        Source::Path("build/auth.elf".into())
    );
    assert_eq!(m.programs[0].mode, 0o755);
    assert_eq!(m.files[0].contents, Contents::Text("Welcome\n".into()));
    assert_eq!(m.files[1].mode, 0o600);
    assert_eq!(m.dirs[0].mode, 0o1777);
    assert_eq!(m.translators[0].owner, 1000);
}

/// Replaces `from` with `to` in the good manifest and expects an error at
/// `line` naming `key`, whose text (key and message) contains `needle`.
fn rejects(from: &str, to: &str, (line, key): (usize, &str), needle: &str) {
    assert!(
        GOOD.contains(from),
        "test bug: `{from}` not in the manifest"
    );
    let text = GOOD.replacen(from, to, 1);
    let e = Manifest::parse(&text).expect_err("must be rejected");
    assert_eq!(
        (e.line, e.key.as_str()),
        (line, key),
        "wrong place for `{to}`: {e}"
    );
    assert!(e.to_string().contains(needle), "`{needle}` not in: {e}");
}

#[test]
fn unknown_fields_are_named() {
    rejects("cmdline =", "cmdlin =", (4, "image.cmdlin"), "cmdlin");
    rejects(
        "bin = \"bootstrap\"",
        "binary = \"bootstrap\"",
        (12, "module.binary"),
        "binary",
    );
    rejects("[[dir]]", "[[directory]]", (33, "directory"), "directory");
}

#[test]
fn missing_and_mistyped_fields_are_named() {
    rejects("name = \"hurd-rs\"\n", "", (2, "image"), "name");
    rejects("mode = 0o600", "mode = \"rw\"", (31, "file.mode"), "");
    rejects("owner = 1000", "owner = -1", (40, "translator.owner"), "");
    rejects(
        "args = [\"--verbose\"]",
        "args = \"--verbose\"",
        (13, "module.args"),
        "",
    );
}

#[test]
fn meaningless_values_are_refused() {
    rejects(
        "path = \"/etc/motd\"",
        "path = \"etc/motd\"",
        (25, "file.path"),
        "absolute",
    );
    rejects(
        "path = \"/etc/motd\"",
        "path = \"/etc/../motd\"",
        (25, "file.path"),
        "`..`",
    );
    rejects(
        "path = \"/etc/motd\"",
        "path = \"/hurd/hello\"",
        (25, "file.path"),
        "already given",
    );
    rejects(
        "name = \"auth\"",
        "name = \"bootstrap\"",
        (16, "module.name"),
        "used twice",
    );
    rejects(
        "name = \"auth\"",
        "name = \"rootfs\"",
        (16, "module.name"),
        "reserved",
    );
    rejects(
        "mode = 0o1777",
        "mode = 0o17777",
        (35, "dir.mode"),
        "not a permission mode",
    );
    rejects(
        "node = \"/tmp/hello\"",
        "node = \"/\"",
        (38, "translator.node"),
        "root",
    );
    rejects(
        "command = [\"/hurd/hello\", \"--greeting\", \"hi\"]",
        "command = []",
        (39, "translator.command"),
        "non-empty",
    );
    rejects(
        "cmdline = \"bench-prompt\"",
        "cmdline = \"a\\nb\"",
        (4, "image.cmdline"),
        "one line",
    );
    rejects(
        "name = \"hurd-rs\"",
        "name = \"hurd rs\"",
        (3, "image.name"),
        "letters",
    );
}

#[test]
fn binaries_need_exactly_one_source() {
    rejects(
        "package = \"hurd-kernel\"",
        "package = \"hurd-kernel\"\npath = \"k.elf\"",
        (6, "kernel"),
        "exactly one of `package` and `path`",
    );
    rejects(
        "source = \"build/auth.elf\"",
        "source = \"build/auth.elf\"\nbin = \"auth\"",
        (18, "module.bin"),
        "only with `package`",
    );
    rejects(
        "text = \"Welcome\\n\"",
        "",
        (24, "file"),
        "exactly one of `text` and `source`",
    );
}

#[test]
fn a_crate_of_ones_own_is_a_source() {
    let text = GOOD.replacen(
        "package = \"hurd-trans\"\nbin = \"hello\"",
        "crate = \"my-translator\"",
        1,
    );
    let m = Manifest::parse(&text).expect("parses");
    assert_eq!(
        m.programs[0].artifact.source,
        Source::Crate {
            dir: "my-translator".into(),
            bin: None
        }
    );
    let text = GOOD.replacen(
        "source = \"build/auth.elf\"",
        "crate = \"../auth\"\nbin = \"auth-server\"",
        1,
    );
    let m = Manifest::parse(&text).expect("parses");
    assert_eq!(
        m.modules[1].artifact.source,
        Source::Crate {
            dir: "../auth".into(),
            bin: Some("auth-server".into())
        }
    );
    rejects(
        "bin = \"hello\"",
        "crate = \"my-translator\"",
        (19, "program"),
        "exactly one of `package`, `crate` and `source`",
    );
    rejects(
        "source = \"build/auth.elf\"",
        "crate = \"\"",
        (17, "module.crate"),
        "module.crate: must not be empty",
    );
    // The kernel is a package or a file.
    rejects(
        "package = \"hurd-kernel\"",
        "crate = \"kernel\"",
        (7, "kernel.crate"),
        "crate",
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for text in [
        "",
        "[image",
        "\u{0}\u{1}",
        "[image]\nname = \"x\"\n[kernel]\npath = \"k\"\n",
        "[[image]]\nname = \"x\"",
        "[image]\nname = \"é\"\n[kernel]\npath = \"k\"\n[[module]]\nname = \"b\"\nsource = \"s\"",
    ] {
        assert!(Manifest::parse(text).is_err(), "accepted {text:?}");
    }
}

#[test]
fn the_boot_protocol_can_be_chosen() {
    let text = GOOD.replacen(
        "package = \"hurd-kernel\"",
        "package = \"hurd-kernel\"\nprotocol = \"multiboot\"",
        1,
    );
    assert_eq!(
        Manifest::parse(&text).expect("parses").protocol,
        BootProtocol::Multiboot
    );
    let text = GOOD.replacen(
        "package = \"hurd-kernel\"",
        "package = \"hurd-kernel\"\nprotocol = \"uefi\"",
        1,
    );
    let e = Manifest::parse(&text).expect_err("unknown protocol");
    assert_eq!(e.line, 8);
}

/// Like [`rejects`], and the error names `key`.
fn rejects_key(from: &str, to: &str, line: usize, key: &str, needle: &str) {
    let text = GOOD.replacen(from, to, 1);
    assert_ne!(text, GOOD, "test bug: `{from}` not in the manifest");
    let e = Manifest::parse(&text).expect_err("must be rejected");
    assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
    assert!(e.message.contains(needle), "`{needle}` not in: {e}");
    assert!(e.to_string().contains(&format!("line {line}, ")), "{e}");
    assert!(e.to_string().contains(&format!(": {key}: ")), "{e}");
}

#[test]
fn duplicate_keys_and_tables_are_named() {
    rejects_key(
        "cmdline = \"bench-prompt\"",
        "cmdline = \"bench-prompt\"\nname = \"again\"",
        5,
        "image.name",
        "duplicate key",
    );
    rejects_key(
        "bin = \"hello\"",
        "bin = \"hello\"\nbin = \"hello\"",
        23,
        "program.bin",
        "duplicate key",
    );
    rejects_key(
        "[kernel]\n",
        "[image]\nname = \"x\"\n[kernel]\n",
        6,
        "image",
        "duplicate key",
    );
}

#[test]
fn mistyped_values_name_their_key() {
    rejects_key(
        "mode = 0o600",
        "mode = \"rw\"",
        31,
        "file.mode",
        "invalid type",
    );
    rejects_key("owner = 1000", "owner = -1", 40, "translator.owner", "u32");
    rejects_key(
        "args = [\"--verbose\"]",
        "args = [\n  \"--verbose\",\n  3,\n]",
        15,
        "module.args",
        "invalid type",
    );
    rejects_key(
        "command = [\"/hurd/hello\", \"--greeting\", \"hi\"]",
        "command = \"/hurd/hello\"",
        39,
        "translator.command",
        "sequence",
    );
    rejects_key("cmdline =", "cmdlin =", 4, "image.cmdlin", "unknown field");
}

#[test]
fn checks_name_their_key() {
    rejects_key(
        "name = \"auth\"",
        "name = \"bootstrap\"",
        16,
        "module.name",
        "used twice",
    );
    rejects_key(
        "node = \"/tmp/hello\"",
        "node = \"tmp/hello\"",
        38,
        "translator.node",
        "absolute",
    );
    rejects_key(
        "text = \"Welcome\\n\"",
        "",
        24,
        "file",
        "exactly one of `text` and `source`",
    );
}

#[test]
fn invalid_utf8_is_placed() {
    let mut bytes = GOOD.as_bytes().to_vec();
    let at = GOOD.find("Welcome").expect("motd") + 3;
    bytes[at] = 0xff;
    let e = Manifest::parse_bytes(&bytes).expect_err("not UTF-8");
    assert_eq!(
        (e.line, e.column, e.key.as_str()),
        (26, 12, "file.text"),
        "{e}"
    );
    assert!(
        e.message.contains("not UTF-8") && e.message.contains("0xff"),
        "{e}"
    );
    // At the very start, and a truncated character at the end.
    let e = Manifest::parse_bytes(b"\xc3").expect_err("truncated");
    assert_eq!((e.line, e.column), (1, 1), "{e}");
    assert!(Manifest::parse_bytes(GOOD.as_bytes()).is_ok());
}

#[test]
fn a_loaded_manifest_names_its_file() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("manifest-load");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("my.toml");
    std::fs::write(&path, GOOD.replacen("bin = \"bootstrap\"", "binary = 1", 1)).expect("write");
    let e = Manifest::load(&path).expect_err("unknown field");
    assert_eq!(e.file.as_deref(), Some(path.as_path()));
    assert!(
        e.to_string().starts_with(&format!(
            "{}: line 12, column 1: module.binary: unknown field",
            path.display()
        )),
        "{e}"
    );
    let e = Manifest::load(&dir.join("absent.toml")).expect_err("absent");
    assert!(e.to_string().contains("absent.toml: cannot read it"), "{e}");
}

/// The good manifest with the programs a disk needs and a `[disk]` table
/// (on line 48) holding `disk`.
fn with_disk(disk: &str) -> String {
    format!(
        "{GOOD}\n[[program]]\npath = \"/hurd/virtio-blk\"\nsource = \"vb\"\n\n\
         [[program]]\npath = \"/hurd/ext2fs\"\nsource = \"e2\"\n\n[disk]\n{disk}"
    )
}

#[test]
fn a_disk_is_checked() {
    let m = Manifest::parse(&with_disk(
        "size = \"8M\"\nmount = \"/home\"\nsource = \"d\"\n",
    ))
    .expect("a disk");
    let disk = m.disk.expect("disk");
    assert_eq!(
        (
            disk.size,
            disk.mount.as_str(),
            disk.source.as_deref(),
            disk.line
        ),
        (8 << 20, "/home", Some("d"), 50)
    );
    let m = Manifest::parse(&with_disk("size = 2097152\nmount = \"/srv/\"\n")).expect("bytes");
    assert_eq!(
        m.disk.map(|d| (d.size, d.mount)),
        Some((2 << 20, "/srv".into()))
    );
    assert_eq!(Manifest::parse(GOOD).expect("no disk").disk, None);

    let bad = |disk: &str, line: usize, key: &str, needle: &str| {
        let e = Manifest::parse(&with_disk(disk)).expect_err(disk);
        assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
        assert!(e.message.contains(needle), "`{needle}` not in: {e}");
    };
    bad(
        "size = \"8X\"\nmount = \"/home\"\n",
        51,
        "disk.size",
        "digits with K, M or G",
    );
    bad(
        "size = \"8\"\nmount = \"/home\"\n",
        51,
        "disk.size",
        "from 1M to 64G",
    );
    bad(
        "size = 1048577\nmount = \"/home\"\n",
        51,
        "disk.size",
        "multiple of 1 KiB",
    );
    bad(
        "size = \"65G\"\nmount = \"/home\"\n",
        51,
        "disk.size",
        "from 1M to 64G",
    );
    bad(
        "size = true\nmount = \"/home\"\n",
        51,
        "disk.size",
        "digits",
    );
    bad(
        "size = \"8M\"\nmount = \"home\"\n",
        52,
        "disk.mount",
        "absolute",
    );
    bad(
        "size = \"8M\"\nmount = \"/my home\"\n",
        52,
        "disk.mount",
        "no blanks",
    );
    bad("size = \"8M\"\n", 50, "disk", "mount");
    bad(
        "size = \"8M\"\nmount = \"/home\"\nsize = \"9M\"\n",
        53,
        "disk.size",
        "duplicate key",
    );
    bad(
        "size = \"8M\"\nmount = \"/home\"\nfs = \"ext4\"\n",
        53,
        "disk.fs",
        "unknown field",
    );
    // The disk's programs must be in the image.
    let text = format!("{GOOD}\n[disk]\nsize = \"8M\"\nmount = \"/home\"\n");
    let e = Manifest::parse(&text).expect_err("no driver");
    assert_eq!((e.line, e.key.as_str()), (42, "disk"), "{e}");
    assert!(e.message.contains("`/hurd/virtio-blk`"), "{e}");
    // A disk may hold the root, and passive translator records.
    let m = Manifest::parse(&with_disk("size = \"8M\"\nmount = \"/\"\n")).expect("root disk");
    assert_eq!(m.disk.expect("disk").mount, "/");
    Manifest::parse(&with_disk("size = \"8M\"\nmount = \"/tmp\"\n")).expect("record on the disk");
    // /etc/fstab is made from the table.
    let text = with_disk("size = \"8M\"\nmount = \"/home\"\n")
        .replace("path = \"/etc/passwd\"", "path = \"/etc/fstab\"");
    let e = Manifest::parse(&text).expect_err("fstab");
    assert_eq!((e.line, e.key.as_str()), (28, "file.path"), "{e}");
}
