//! The ext2 translator mounted on Linux through the FUSE bridge, used with
//! ordinary tools (`cp -a`, `tar -x`, `ln`, `mkfifo`, `mknod`, `mv`, `rm`,
//! `truncate`, `chmod`, `chown`, `touch`, `df`); afterwards `e2fsck -fn`
//! finds nothing to fix and the image holds what the tools wrote. Needs
//! root, a usable /dev/fuse and e2fsprogs; elsewhere it says why it is
//! skipped.

mod ext2_util;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use ext2_util::*;
use hurd_auth::IdSet;
use hurd_trans::fuse::spawn_mount;
use hurd_trans::translators::ext2::{Ext2, Ext2Tree, FileDevice, Options};

fn fuse_unusable() -> Option<String> {
    if !is_root() {
        return Some("not running as root".into());
    }
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        Ok(_) => None,
        Err(e) => Some(format!("/dev/fuse unusable: {e}")),
    }
}

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "in {}: {script}\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the tools do, run once in a Linux directory and once in the mount.
const WORKLOAD: &str = r#"
mkdir -p copy extracted
cp -a "$SRC/." copy/
tar -xf "$ARCHIVE" -C extracted
ln copy/hello.txt copy/hard-3
ln -s ../copy/hello.txt extracted/to-hello
ln -s "$(printf 'x%.0s' $(seq 1 200))" long-link
mkfifo pipe
mknod chardev c 4 64
mknod blockdev b 8 16
dd if=/dev/zero of=zeros bs=64k count=40 2>/dev/null
printf 'appended' >> copy/medium.bin
truncate -s 12345 copy/large.bin
truncate -s 50M grown
mv copy/sub extracted/sub-moved
mv copy/hello.txt copy/renamed.txt
rm -r copy/big-dir
rm copy/hard-1
chmod 0750 extracted/sub-moved
chown 1234:5678 zeros
touch -d '2001-02-03 04:05:06' copy/renamed.txt
mkdir -p a/b/c && rmdir a/b/c
"#;

#[test]
fn tools_through_fuse_leave_an_image_e2fsck_accepts() {
    if let Some(why) = fuse_unusable().or_else(missing_tools) {
        eprintln!("SKIPPED: ext2 FUSE test not run: {why}");
        return;
    }
    let s = Scratch::new("fuse");
    let src = s.path("src");
    sample_tree(&src, 500, 2 << 20);
    let archive = s.path("src.tar");
    sh(
        &s.0,
        &format!("tar -cf {} -C {} .", archive.display(), src.display()),
    );
    let img = s.path("img");
    mkfs(&img, 256, &["-t", "ext2"], None);
    let (linux, mnt) = (s.path("linux"), s.path("mnt"));
    std::fs::create_dir_all(&linux).expect("dir");
    std::fs::create_dir_all(&mnt).expect("dir");

    let fs = Ext2::mount(
        FileDevice::open(&img, false).expect("open"),
        Options::default(),
    )
    .expect("mount");
    let shared = Arc::new(Mutex::new(fs));
    let m = spawn_mount(
        Ext2Tree::shared(shared.clone()),
        IdSet::root(),
        &mnt,
        "ext2fs",
    )
    .expect("fuse mount");
    let env = format!(
        "SRC={} ARCHIVE={}; export SRC ARCHIVE; ",
        src.display(),
        archive.display()
    );
    sh(&linux, &format!("{env}{WORKLOAD}"));
    sh(&mnt, &format!("{env}{WORKLOAD}"));
    // df sees the file system's counts.
    let out = Command::new("df").arg("-k").arg(&mnt).output().expect("df");
    let df = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(df.contains("ext2fs"), "{df}");
    drop(m);
    // Unmounting left the image clean.
    assert_clean(&img);
    let mut fs = mount_with(
        &img,
        Options {
            readonly: true,
            ..Options::default()
        },
    );
    let want = linux_view(&linux);
    let mut got = ext2_view(&mut fs);
    // Compare without the times of directories and files the tools
    // touched at different moments (all but the one set explicitly).
    let mut want_t = std::collections::BTreeMap::new();
    for (k, mut v) in want {
        if k != "copy/renamed.txt" {
            v.mtime = 0;
        }
        want_t.insert(k, v);
    }
    for (k, v) in got.iter_mut() {
        if k != "copy/renamed.txt" {
            v.mtime = 0;
        }
    }
    assert_same(&want_t, &got);
    drop(fs);
    // debugfs agrees on a file written through the mount.
    let out = s.path("zeros.out");
    let _ = debugfs(&img, &format!("dump /zeros {}", out.display()));
    assert_eq!(std::fs::read(&out).expect("dump"), vec![0u8; 40 * 65536]);
}
