//! A manifest's `[disk]`: an ext2 disk image made by mke2fs for the Hurd,
//! holding the entries below the mount point with their owners and modes
//! and the disk's source directory; `/etc/fstab` in the root file system;
//! the same bytes on every build; e2fsck finds nothing to fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use distro_image::{Epoch, Manifest, PathsOnly, compare_builds, make_disk, stage};

const MANIFEST: &str = r#"
[image]
name = "disk-image"

[kernel]
path = "bin/kernel.elf"

[[module]]
name = "bootstrap"
source = "bin/bootstrap.elf"

[[program]]
path = "/hurd/virtio-blk"
source = "bin/driver.elf"

[[program]]
path = "/hurd/ext2fs"
source = "bin/ext2fs.elf"

[[file]]
path = "/etc/motd"
text = "Welcome\n"

[[file]]
path = "/home/alice/note"
text = "on the disk\n"
owner = 1000
group = 100
mode = 0o600

[[dir]]
path = "/home/alice"
mode = 0o750
owner = 1000
group = 100

[[dir]]
path = "/home/shared"
mode = 0o1777

[[translator]]
node = "/home/alice/greet"
command = ["/hurd/hello", "on the disk"]
owner = 1000

[disk]
size = "8M"
mount = "/home"
source = "disk"
"#;

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The manifest's files, and the disk's source tree under `base`.
fn sources(base: &Path) {
    for (path, data) in [
        ("bin/kernel.elf", &b"KERNEL"[..]),
        ("bin/bootstrap.elf", b"BOOTSTRAP"),
        ("bin/driver.elf", b"DRIVER"),
        ("bin/ext2fs.elf", b"EXT2FS"),
        ("disk/docs/readme", b"from the source directory\n"),
        ("disk/docs/big", &[7u8; 70_000]),
    ] {
        let p = base.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }
    let _ = std::os::unix::fs::symlink("docs/readme", base.join("disk/readme"));
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-V").output().is_ok()
}

/// Stages the manifest and makes its disk at `out`/disk.img.
fn build(base: &Path, out: &Path, epoch: Epoch) -> (distro_image::Staged, PathBuf) {
    build_from(MANIFEST, base, out, epoch)
}

/// Stages the manifest `text` and makes its disk at `out`/disk.img.
fn build_from(
    text: &str,
    base: &Path,
    out: &Path,
    epoch: Epoch,
) -> (distro_image::Staged, PathBuf) {
    let m = Manifest::parse(text).expect("manifest");
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
    let image = out.join("disk.img");
    let disk = m.disk.as_ref().expect("disk");
    let tree = staged.disk.as_ref().expect("the disk's tree");
    make_disk(disk, tree, base, &m.name, &image, epoch).expect("disk");
    (staged, image)
}

fn debugfs(image: &Path, request: &str) -> String {
    let out = Command::new("debugfs")
        .args(["-R", request])
        .arg(image)
        .output()
        .expect("debugfs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `e2fsck -fn` finds nothing to fix on `image`.
fn assert_clean(image: &Path) {
    let fsck = Command::new("e2fsck")
        .arg("-fn")
        .arg(image)
        .output()
        .expect("e2fsck");
    assert!(
        fsck.status.success(),
        "e2fsck: {}{}",
        String::from_utf8_lossy(&fsck.stdout),
        String::from_utf8_lossy(&fsck.stderr)
    );
}

#[test]
fn the_disk_holds_what_is_below_its_mount_point() {
    if !have("mke2fs") {
        eprintln!("skipped: mke2fs is not installed (apt-get install e2fsprogs)");
        return;
    }
    let base = scratch("disk-base");
    sources(&base);
    let (staged, image) = build(&base, &scratch("disk-one"), Epoch::DEFAULT);
    assert_eq!(std::fs::metadata(&image).expect("image").len(), 8 << 20);
    assert_clean(&image);
    let sb = Command::new("dumpe2fs")
        .arg("-h")
        .arg(&image)
        .output()
        .expect("dumpe2fs");
    let sb = String::from_utf8_lossy(&sb.stdout);
    assert!(sb.contains("Filesystem OS type:       Hurd"), "{sb}");
    assert!(sb.contains("Filesystem volume name:   disk-image"), "{sb}");
    // The manifest's entries, with their owners and modes.
    assert_eq!(debugfs(&image, "cat /alice/note"), "on the disk\n");
    let alice = debugfs(&image, "stat /alice");
    assert!(alice.contains("Mode:  0750"), "{alice}");
    assert!(alice.contains("User:  1000   Group:   100"), "{alice}");
    let note = debugfs(&image, "stat /alice/note");
    assert!(note.contains("Mode:  0600"), "{note}");
    assert!(
        note.contains("mtime: 0x386d4380"),
        "dated the epoch: {note}"
    );
    assert!(debugfs(&image, "stat /shared").contains("Mode:  01777"));
    // The source directory's, owned by root.
    assert_eq!(
        debugfs(&image, "cat /docs/readme"),
        "from the source directory\n"
    );
    assert_eq!(debugfs(&image, "cat /docs/big").len(), 70_000);
    assert!(debugfs(&image, "stat /readme").contains("Type: symlink"));
    assert!(debugfs(&image, "stat /docs").contains("User:     0   Group:     0"));
    // The passive translator record, as the Hurd's ext2fs keeps it.
    let record = debugfs(&image, "ea_get /alice/greet gnu.translator");
    assert!(
        record.contains("/hurd/hello\\000on the disk\\000"),
        "{record}"
    );
    assert!(debugfs(&image, "stat /alice/greet").contains("User:  1000"));
    // The root file system keeps the mount point and says what to mount.
    let archive = std::fs::read(&staged.modules[1].path).expect("rootfs");
    let entries = hurd_servers::untar::entries(&archive).expect("entries");
    let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"home"), "{paths:?}");
    assert!(!paths.iter().any(|p| p.starts_with("home/")), "{paths:?}");
    let fstab = entries
        .iter()
        .find(|e| e.path == "etc/fstab")
        .expect("/etc/fstab");
    let mut text = vec![0u8; fstab.header.size as usize];
    fstab.read(0, &mut text).expect("read");
    let mounts =
        hurd_servers::fstab::parse(std::str::from_utf8(&text).expect("utf8")).expect("fstab");
    assert_eq!(mounts.len(), 1);
    assert_eq!(
        (mounts[0].device.as_str(), mounts[0].dir.as_str()),
        ("vd0", "/home")
    );
}

#[test]
fn two_disks_of_one_manifest_are_the_same_bytes() {
    if !have("mke2fs") {
        eprintln!("skipped: mke2fs is not installed");
        return;
    }
    let base = scratch("disk-repro-base");
    sources(&base);
    let (_, first) = build(&base, &scratch("disk-repro-one"), Epoch::DEFAULT);
    // Later, in another directory, the source rewritten.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let readme = base.join("disk/docs/readme");
    let data = std::fs::read(&readme).expect("read");
    std::fs::remove_file(&readme).expect("rm");
    std::fs::write(&readme, data).expect("rewrite");
    let (_, second) = build(&base, &scratch("disk-repro-two"), Epoch::DEFAULT);
    assert_eq!(compare_builds(&first, &second), Ok(8 << 20));
    let later = Epoch::new(1_700_000_000).expect("epoch");
    let (_, third) = build(&base, &scratch("disk-repro-three"), later);
    assert!(compare_builds(&first, &third).is_err());
}

#[test]
fn a_bad_source_is_named_with_its_line() {
    if !have("mke2fs") {
        eprintln!("skipped: mke2fs is not installed");
        return;
    }
    let base = scratch("disk-bad-base");
    sources(&base);
    std::fs::remove_dir_all(base.join("disk")).expect("rm");
    let m = Manifest::parse(MANIFEST).expect("manifest");
    let out = scratch("disk-bad");
    let staged = stage(
        &m,
        &base,
        &out.join("stage"),
        &mut PathsOnly {
            base: base.to_path_buf(),
        },
        Epoch::DEFAULT,
    )
    .expect("stage");
    let disk = m.disk.as_ref().expect("disk");
    let tree = staged.disk.as_ref().expect("tree");
    let e = make_disk(
        disk,
        tree,
        &base,
        &m.name,
        &out.join("d.img"),
        Epoch::DEFAULT,
    )
    .expect_err("no source");
    assert_eq!(e.line, Some(46), "{e}");
    assert!(e.message.contains("disk.source"), "{e}");
    assert!(e.message.contains("not a directory"), "{e}");
    // Too small a disk for the tree: mke2fs's own words.
    let mut small = disk.clone();
    small.size = 1 << 20;
    std::fs::create_dir_all(base.join("disk")).expect("mkdir");
    std::fs::write(base.join("disk/huge"), vec![1u8; 2 << 20]).expect("huge");
    let e = make_disk(
        &small,
        tree,
        &base,
        &m.name,
        &out.join("d.img"),
        Epoch::DEFAULT,
    )
    .expect_err("too small");
    assert!(e.message.contains("mke2fs failed"), "{e}");
}

/// The entries of the `rootfs` module of `staged`.
fn module_paths(staged: &distro_image::Staged) -> Vec<String> {
    let archive = std::fs::read(&staged.modules[1].path).expect("rootfs");
    let entries = hurd_servers::untar::entries(&archive).expect("entries");
    entries.iter().map(|e| e.path.clone()).collect()
}

#[test]
fn a_disk_mounted_at_the_root_holds_the_whole_tree() {
    if !have("mke2fs") {
        eprintln!("skipped: mke2fs is not installed");
        return;
    }
    let base = scratch("disk-root-base");
    sources(&base);
    let text = MANIFEST
        .replace("mount = \"/home\"", "mount = \"/\"")
        .replace(
            "[[program]]\npath = \"/hurd/ext2fs\"",
            "[[program]]\npath = \"/bin/sh\"\nsource = \"bin/driver.elf\"\n\n\
             [[program]]\npath = \"/bin/ls\"\nsource = \"bin/driver.elf\"\n\n\
             [[program]]\npath = \"/hurd/ext2fs\"",
        );
    let (staged, image) = build_from(&text, &base, &scratch("disk-root"), Epoch::DEFAULT);
    assert_clean(&image);
    // Everything is on the disk, at its own path.
    assert_eq!(debugfs(&image, "cat /home/alice/note"), "on the disk\n");
    assert_eq!(debugfs(&image, "cat /etc/motd"), "Welcome\n");
    assert_eq!(debugfs(&image, "cat /hurd/ext2fs"), "EXT2FS");
    assert_eq!(debugfs(&image, "cat /bin/ls"), "DRIVER");
    assert_eq!(
        debugfs(&image, "cat /docs/readme"),
        "from the source directory\n"
    );
    let greet = debugfs(&image, "ea_get /home/alice/greet gnu.translator");
    assert!(
        greet.contains("/hurd/hello\\000on the disk\\000"),
        "{greet}"
    );
    // What every root has: the base directories and the exec server's node.
    assert!(debugfs(&image, "stat /tmp").contains("Mode:  01777"));
    assert!(debugfs(&image, "stat /root").contains("Mode:  0700"));
    assert!(debugfs(&image, "stat /share/example.tar").contains("Type: regular"));
    let exec = debugfs(&image, "ea_get /servers/exec gnu.translator");
    assert!(exec.contains("/hurd/exec\\000"), "{exec}");
    // /etc/fstab names the disk as the root, on the disk and in the boot
    // file system.
    let fstab = debugfs(&image, "cat /etc/fstab");
    let mounts = hurd_servers::fstab::parse(&fstab).expect("fstab");
    assert_eq!(
        (mounts[0].device.as_str(), mounts[0].dir.as_str()),
        ("vd0", "/")
    );
    // The boot file system keeps /etc, the shell and the disk's programs.
    let paths = module_paths(&staged);
    for p in [
        "etc/fstab",
        "etc/motd",
        "bin/sh",
        "hurd/virtio-blk",
        "hurd/ext2fs",
    ] {
        assert!(paths.iter().any(|q| q == p), "{p} missing: {paths:?}");
    }
    for p in ["bin/ls", "home/alice/note", "home/alice/greet"] {
        assert!(!paths.iter().any(|q| q == p), "{p} kept: {paths:?}");
    }
}
