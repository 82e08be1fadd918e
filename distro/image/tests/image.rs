//! Staging an image: layout, the root filesystem archive, boot configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

use distro_image::{
    Epoch, Manifest, PathsOnly, ROOTFS_MODULE, Staged, compare_builds, make_iso, stage,
};

const MANIFEST: &str = r#"
[image]
name = "test-image"
cmdline = "test bench-prompt"

[kernel]
path = "bin/kernel.elf"

[[module]]
name = "bootstrap"
source = "bin/bootstrap.elf"
args = ["--root", "rootfs"]

[[program]]
path = "/hurd/hello"
source = "bin/hello.elf"

[[file]]
path = "/etc/motd"
text = "Welcome\n"

[[file]]
path = "/home/user/notes"
source = "files/notes"
owner = 1000
group = 1000
mode = 0o600

[[dir]]
path = "/tmp"
mode = 0o1777

[[translator]]
node = "/tmp/hello"
command = ["/hurd/hello", "--greeting", "hi"]
owner = 1000
"#;

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Writes the files the manifest names under `base`.
fn sources(base: &Path) {
    for (path, data) in [
        ("bin/kernel.elf", &b"KERNEL"[..]),
        ("bin/bootstrap.elf", b"BOOTSTRAP"),
        ("bin/hello.elf", b"HELLO"),
        ("files/notes", b"secret notes\n"),
    ] {
        let p = base.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }
}

/// The entries of a tar archive: (path, typeflag, mode, uid, data, pax records).
type TarEntry = (String, u8, u32, u32, Vec<u8>, Vec<(String, Vec<u8>)>);

/// A small tar reader, enough to check what the writer wrote.
fn read_tar(bytes: &[u8]) -> Vec<TarEntry> {
    let octal = |f: &[u8]| -> u64 {
        let s = std::str::from_utf8(f).expect("ascii");
        u64::from_str_radix(s.trim_matches(|c| c == '\0' || c == ' '), 8).expect("octal")
    };
    let text = |f: &[u8]| -> String {
        String::from_utf8(f.split(|&b| b == 0).next().unwrap_or(&[]).to_vec()).expect("utf8")
    };
    let mut out = Vec::new();
    let mut pax = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() && bytes[at..at + 512].iter().any(|&b| b != 0) {
        let h = &bytes[at..at + 512];
        let size = octal(&h[124..136]) as usize;
        let data = bytes[at + 512..at + 512 + size].to_vec();
        at += 512 + size.div_ceil(512) * 512;
        if h[156] == b'x' {
            let mut rest = &data[..];
            while !rest.is_empty() {
                let sp = rest.iter().position(|&b| b == b' ').expect("space");
                let len: usize = std::str::from_utf8(&rest[..sp])
                    .expect("ascii")
                    .parse()
                    .expect("len");
                let rec = &rest[sp + 1..len - 1];
                let eq = rec.iter().position(|&b| b == b'=').expect("=");
                pax.push((
                    String::from_utf8(rec[..eq].to_vec()).expect("key"),
                    rec[eq + 1..].to_vec(),
                ));
                rest = &rest[len..];
            }
            continue;
        }
        let prefix = text(&h[345..500]);
        let name = text(&h[0..100]);
        let mut path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if let Some((_, p)) = pax.iter().find(|(k, _)| k == "path") {
            path = String::from_utf8(p.clone()).expect("path");
        }
        out.push((
            path,
            h[156],
            octal(&h[100..108]) as u32,
            octal(&h[108..116]) as u32,
            data,
            std::mem::take(&mut pax),
        ));
    }
    out
}

#[test]
fn an_image_is_staged_with_its_root_filesystem_last() {
    let base = scratch("stage-base");
    sources(&base);
    let out = scratch("stage-out");
    let m = Manifest::parse(MANIFEST).expect("manifest");
    let staged = stage(
        &m,
        &base,
        &out,
        &mut PathsOnly { base: base.clone() },
        Epoch::DEFAULT,
    )
    .expect("stage");

    assert_eq!(std::fs::read(&staged.kernel).expect("kernel"), b"KERNEL");
    let names: Vec<&str> = staged.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["bootstrap", ROOTFS_MODULE]);
    assert_eq!(
        std::fs::read(&staged.modules[0].path).expect("module"),
        b"BOOTSTRAP"
    );

    let cfg = std::fs::read_to_string(out.join("boot/grub/grub.cfg")).expect("grub.cfg");
    assert!(
        cfg.contains("multiboot2 /boot/kernel test bench-prompt"),
        "{cfg}"
    );
    assert!(
        cfg.contains("module2 /boot/modules/bootstrap bootstrap --root rootfs"),
        "{cfg}"
    );
    let qemu = staged.qemu_args().expect("qemu args");
    assert_eq!(qemu[0], "-kernel");
    assert!(qemu[3].ends_with("/boot/modules/rootfs"), "{qemu:?}");

    let tar = read_tar(&std::fs::read(&staged.modules[1].path).expect("rootfs"));
    let find = |p: &str| {
        tar.iter()
            .find(|e| e.0 == p)
            .unwrap_or_else(|| panic!("{p} not in the archive: {tar:?}"))
    };
    // Parents come before children; implied directories are root's 0755.
    assert_eq!(tar[0].0, "etc/");
    let home = find("home/");
    assert_eq!((home.1, home.2, home.3), (b'5', 0o755, 0));
    let notes = find("home/user/notes");
    assert_eq!((notes.1, notes.2, notes.3), (b'0', 0o600, 1000));
    assert_eq!(notes.4, b"secret notes\n");
    assert_eq!(find("hurd/hello").4, b"HELLO");
    assert_eq!(find("hurd/hello").2, 0o755);
    assert_eq!(find("tmp/").2, 0o1777);
    let hello = find("tmp/hello");
    assert_eq!(hello.3, 1000);
    assert_eq!(
        hello.5,
        vec![(
            "HURD.translator".to_owned(),
            b"/hurd/hello\0--greeting\0hi\0".to_vec()
        )]
    );
}

#[test]
fn gnu_tar_reads_the_root_filesystem() {
    let base = scratch("gnutar-base");
    sources(&base);
    let out = scratch("gnutar-out");
    let m = Manifest::parse(&MANIFEST.replace(
        "path = \"/etc/motd\"",
        &format!("path = \"/etc/{}motd\"", "deep-directory-name/".repeat(8)),
    ))
    .expect("manifest");
    let staged = stage(
        &m,
        &base,
        &out,
        &mut PathsOnly { base: base.clone() },
        Epoch::DEFAULT,
    )
    .expect("stage");
    let listing = match Command::new("tar")
        .arg("-tf")
        .arg(&staged.modules[1].path)
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!("tar failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            eprintln!("skipped: no `tar` on this machine ({e})");
            return;
        }
    };
    assert!(listing.lines().any(|l| l == "home/user/notes"), "{listing}");
    assert!(
        listing
            .lines()
            .any(|l| l.ends_with("deep-directory-name/motd") && l.len() > 160),
        "long path lost: {listing}"
    );
}

#[test]
fn build_errors_name_the_manifest_line() {
    let base = scratch("errors-base");
    sources(&base);
    std::fs::remove_file(base.join("files/notes")).expect("rm");
    let out = scratch("errors-out");
    let m = Manifest::parse(MANIFEST).expect("manifest");
    let e = stage(
        &m,
        &base,
        &out,
        &mut PathsOnly { base: base.clone() },
        Epoch::DEFAULT,
    )
    .expect_err("missing");
    assert_eq!(e.line, Some(22), "{e}");
    assert!(e.message.contains("files/notes"), "{e}");

    // A file inside another file.
    let text = MANIFEST.replace("path = \"/etc/motd\"", "path = \"/hurd/hello/motd\"");
    let m = Manifest::parse(&text).expect("manifest");
    sources(&base);
    let e = stage(
        &m,
        &base,
        &out,
        &mut PathsOnly { base: base.clone() },
        Epoch::DEFAULT,
    )
    .expect_err("nested");
    assert!(e.message.contains("which is a file"), "{e}");

    // A translator on a node of another owner: its table's line and key.
    let text = MANIFEST.replace(
        "node = \"/tmp/hello\"\ncommand = [\"/hurd/hello\", \"--greeting\", \"hi\"]\nowner = 1000",
        "node = \"/home/user/notes\"\ncommand = [\"/hurd/hello\"]",
    );
    assert_ne!(text, MANIFEST);
    let line = 1 + text[..text.find("[[translator]]").expect("table")]
        .matches('\n')
        .count();
    let m = Manifest::parse(&text).expect("manifest");
    let e = stage(
        &m,
        &base,
        &out,
        &mut PathsOnly { base: base.clone() },
        Epoch::DEFAULT,
    )
    .expect_err("owner");
    assert_eq!(e.line, Some(line), "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "line {line}: translator.owner: `/home/user/notes`"
        )),
        "{e}"
    );

    // Packages need building.
    let text = MANIFEST.replace("path = \"bin/kernel.elf\"", "package = \"hurd-kernel\"");
    let m = Manifest::parse(&text).expect("manifest");
    let e = stage(
        &m,
        &base,
        &out,
        &mut PathsOnly { base: base.clone() },
        Epoch::DEFAULT,
    )
    .expect_err("package");
    assert_eq!(e.line, Some(6), "{e}");
}

/// Stages the test manifest under `out` and packs it, or `None` when GRUB's
/// tools are not installed.
fn iso(base: &Path, out: &Path, epoch: Epoch) -> Option<(Staged, PathBuf)> {
    let m = Manifest::parse(MANIFEST).expect("manifest");
    let staged = stage(
        &m,
        base,
        &out.join("stage"),
        &mut PathsOnly {
            base: base.to_path_buf(),
        },
        epoch,
    )
    .expect("stage");
    let iso = out.join("image.iso");
    match make_iso(&staged, &iso, epoch) {
        Ok(()) => Some((staged, iso)),
        Err(e) if e.message.contains("apt-get install") => {
            eprintln!("skipped: {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_grub_iso_is_made_when_grub_is_installed() {
    let base = scratch("iso-base");
    sources(&base);
    let out = scratch("iso-out");
    if let Some((_, iso)) = iso(&base, &out, Epoch::DEFAULT) {
        let len = std::fs::metadata(&iso).expect("iso").len();
        assert!(len > 64 * 1024, "an ISO of {len} bytes");
    }
}

#[test]
fn two_builds_are_the_same_bytes() {
    let base = scratch("repro-base");
    sources(&base);
    let (one, two) = (scratch("repro-one"), scratch("repro-two"));
    let Some((staged, first)) = iso(&base, &one, Epoch::DEFAULT) else {
        return;
    };
    // A later second, another directory, files written in another order
    // and with other dates: the same ISO.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for path in ["files/notes", "bin/hello.elf"] {
        let p = base.join(path);
        let data = std::fs::read(&p).expect("read");
        std::fs::remove_file(&p).expect("rm");
        std::fs::write(&p, data).expect("rewrite");
    }
    let (_, second) = iso(&base, &two, Epoch::DEFAULT).expect("second build");
    let len = compare_builds(&first, &second).expect("reproducible");
    assert!(len > 64 * 1024);
    // The archive inside is dated with the epoch, not the clock.
    let tar = std::fs::read(&staged.modules[1].path).expect("rootfs");
    let entries = hurd_servers::untar::entries(&tar).expect("entries");
    assert!(
        entries
            .iter()
            .all(|e| e.header.mtime.sec == Epoch::DEFAULT.secs() as i64),
        "an entry not dated {}",
        Epoch::DEFAULT
    );
    // Another epoch is another ISO, and a difference is reported.
    let three = scratch("repro-three");
    let later = Epoch::new(1_700_000_000).expect("epoch");
    let (_, third) = iso(&base, &three, later).expect("third build");
    let e = compare_builds(&first, &third).expect_err("other dates");
    assert!(e.contains("differ: first at byte"), "{e}");
}
