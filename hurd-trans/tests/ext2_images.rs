//! ext2 images made by e2fsprogs, read and written: what `mke2fs -d`
//! stores reads back identically; after writes, `e2fsck -fn` finds
//! nothing to fix and `debugfs` sees what was written. Skipped (saying
//! why) where e2fsprogs is missing.

mod ext2_util;

use std::path::Path;

use ext2_util::*;
use hurd_ipc::Errno;
use hurd_trans::translators::ext2::{Change, Ext2, FileDevice, Options};

const ROOT: u32 = 2;
const REG: u32 = 0o100644;
const DIR: u32 = 0o040755;

fn readback(name: &str, args: &[&str], far: u64) {
    require_tools!();
    let s = Scratch::new(name);
    let src = s.path("src");
    sample_tree(&src, 3000, far);
    let img = s.path("img");
    mkfs(&img, 160, args, Some(&src));
    let mut fs = mount_with(
        &img,
        Options {
            readonly: true,
            ..Options::default()
        },
    );
    assert_same(&linux_view(&src), &ext2_view(&mut fs));
    // Read-only: the image is untouched, and still clean.
    drop(fs);
    assert_clean(&img);
}

#[test]
fn mke2fs_images_with_1k_blocks_read_back_identically() {
    // Data 70 MiB out: the triple indirect block.
    readback("1k", &["-t", "ext2", "-b", "1024"], 70 << 20);
}

#[test]
fn mke2fs_images_with_4k_blocks_read_back_identically() {
    readback("4k", &["-t", "ext2", "-b", "4096"], 8 << 20);
}

#[test]
fn hurd_images_read_back_identically() {
    readback("hurd", &["-t", "ext2", "-o", "hurd"], 8 << 20);
}

/// Looks `path` up from the root.
fn walk(fs: &mut Ext2<FileDevice>, path: &str) -> Result<u32, Errno> {
    let mut ino = ROOT;
    for c in path.split('/').filter(|c| !c.is_empty()) {
        ino = fs.lookup_name(ino, c.as_bytes())?;
    }
    Ok(ino)
}

fn parent_and_name(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// The same changes to a Linux directory and to the file system.
enum Step<'a> {
    Mkdir(&'a str),
    Write(&'a str, u64, Vec<u8>),
    Truncate(&'a str, u64),
    Symlink(&'a str, &'a str),
    Link(&'a str, &'a str),
    Rename(&'a str, &'a str),
    Unlink(&'a str),
    Rmdir(&'a str),
    Chmod(&'a str, u32),
    Chown(&'a str, u32, u32),
}

fn apply_linux(root: &Path, step: &Step<'_>) {
    use std::os::unix::fs::{FileExt, PermissionsExt};
    let p = |s: &str| root.join(s);
    match step {
        Step::Mkdir(d) => std::fs::create_dir(p(d)).expect("mkdir"),
        Step::Write(f, off, data) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(p(f))
                .expect("open");
            file.write_all_at(data, *off).expect("write");
        }
        Step::Truncate(f, len) => std::fs::OpenOptions::new()
            .write(true)
            .open(p(f))
            .expect("open")
            .set_len(*len)
            .expect("truncate"),
        Step::Symlink(t, l) => std::os::unix::fs::symlink(t, p(l)).expect("symlink"),
        Step::Link(f, l) => std::fs::hard_link(p(f), p(l)).expect("link"),
        Step::Rename(a, b) => std::fs::rename(p(a), p(b)).expect("rename"),
        Step::Unlink(f) => std::fs::remove_file(p(f)).expect("unlink"),
        Step::Rmdir(d) => std::fs::remove_dir(p(d)).expect("rmdir"),
        Step::Chmod(f, m) => {
            std::fs::set_permissions(p(f), std::fs::Permissions::from_mode(*m)).expect("chmod")
        }
        Step::Chown(f, u, g) => std::os::unix::fs::lchown(p(f), Some(*u), Some(*g)).expect("chown"),
    }
}

fn apply_ext2(fs: &mut Ext2<FileDevice>, step: &Step<'_>) {
    let parent = |fs: &mut Ext2<FileDevice>, path: &str| {
        let (d, n) = parent_and_name(path);
        (walk(fs, d).expect("parent"), n.as_bytes().to_vec())
    };
    match step {
        Step::Mkdir(d) => {
            let (dir, n) = parent(fs, d);
            fs.create_node(dir, Some(&n), DIR, 0, 0).expect("mkdir");
        }
        Step::Write(f, off, data) => {
            let ino = match walk(fs, f) {
                Ok(i) => i,
                Err(_) => {
                    let (dir, n) = parent(fs, f);
                    fs.create_node(dir, Some(&n), REG, 0, 0).expect("create")
                }
            };
            assert_eq!(fs.write_file(ino, *off, data), Ok(data.len()));
        }
        Step::Truncate(f, len) => {
            let ino = walk(fs, f).expect("file");
            fs.set_size(ino, *len).expect("truncate");
        }
        Step::Symlink(t, l) => {
            let (dir, n) = parent(fs, l);
            let ino = fs.create_node(dir, None, 0o100777, 0, 0).expect("mkfile");
            fs.open_node(ino);
            fs.make_symlink(ino, t.as_bytes()).expect("symlink");
            fs.link_node(dir, &n, ino, true).expect("link");
            fs.close_node(ino).expect("close");
        }
        Step::Link(f, l) => {
            let ino = walk(fs, f).expect("file");
            let (dir, n) = parent(fs, l);
            fs.link_node(dir, &n, ino, true).expect("link");
        }
        Step::Rename(a, b) => {
            let (da, na) = parent(fs, a);
            let (db, nb) = parent(fs, b);
            fs.rename_name(da, &na, db, &nb, false).expect("rename");
        }
        Step::Unlink(f) | Step::Rmdir(f) => {
            let (dir, n) = parent(fs, f);
            fs.unlink_name(dir, &n).expect("unlink");
        }
        Step::Chmod(f, m) => {
            let ino = walk(fs, f).expect("file");
            fs.change_attr(ino, Change::Mode(*m)).expect("chmod");
        }
        Step::Chown(f, u, g) => {
            let ino = walk(fs, f).expect("file");
            fs.change_attr(ino, Change::Owner(*u, *g)).expect("chown");
        }
    }
}

fn workload() -> Vec<Step<'static>> {
    let mut v = vec![
        Step::Mkdir("new"),
        Step::Mkdir("new/deeper"),
        Step::Write("new/small", 0, b"small file\n".to_vec()),
        Step::Write("new/deeper/big", 0, pattern(3 << 20, 9)),
        Step::Write("new/deeper/big", 1 << 20, pattern(5000, 10)),
        Step::Write("new/sparse", 90 << 20, b"far out".to_vec()),
        Step::Write("new/sparse", 0, b"near".to_vec()),
        Step::Truncate("new/deeper/big", 300_001),
        Step::Truncate("medium.bin", 200_000),
        Step::Write("hello.txt", 6, b"FROM".to_vec()),
        Step::Symlink("new/small", "new/fast"),
        Step::Symlink(
            "a/target/long/enough/not/to/fit/in/the/inode/itself/so/it/takes/a/block/of/its/own",
            "slowish",
        ),
        Step::Link("new/small", "new/deeper/small-again"),
        Step::Rename("new/deeper", "sub/moved"),
        Step::Rename("empty", "new/small"),
        Step::Unlink("large.bin"),
        Step::Unlink("hard-1"),
        Step::Unlink(
            "d0/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/d21/d22/d23/d24/d25/d26/d27/d28/d29/bottom",
        ),
        Step::Chmod("new/sparse", 0o600),
        Step::Chown("new/sparse", 100_000, 100_001),
    ];
    // Many names in one directory, a third of them removed again.
    for i in 0..400 {
        v.push(Step::Write(
            Box::leak(format!("big-dir/added-{i:04}").into_boxed_str()),
            0,
            format!("{i}").into_bytes(),
        ));
    }
    for i in (0..3000).step_by(3) {
        v.push(Step::Unlink(Box::leak(
            format!("big-dir/entry-with-a-longish-name-{i:05}").into_boxed_str(),
        )));
    }
    v.push(Step::Rmdir(
        "d0/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/d21/d22/d23/d24/d25/d26/d27/d28/d29",
    ));
    v
}

/// Views without times (the two sides made their changes at different
/// moments).
fn timeless(
    mut v: std::collections::BTreeMap<String, Seen>,
) -> std::collections::BTreeMap<String, Seen> {
    for s in v.values_mut() {
        s.mtime = 0;
    }
    v
}

fn write_then_check(name: &str, args: &[&str]) {
    require_tools!();
    let s = Scratch::new(name);
    let src = s.path("src");
    sample_tree(&src, 3000, 8 << 20);
    let img = s.path("img");
    mkfs(&img, 200, args, Some(&src));
    let mut fs = mount(&img);
    for step in workload() {
        apply_linux(&src, &step);
        apply_ext2(&mut fs, &step);
    }
    fs.unmount().expect("unmount");
    drop(fs);
    assert_clean(&img);
    let mut fs = mount(&img);
    assert_same(&timeless(linux_view(&src)), &timeless(ext2_view(&mut fs)));
    drop(fs);
    // debugfs reads what was written.
    let out = s.path("dump");
    let _ = debugfs(&img, &format!("dump /new/sparse {}", out.display()));
    assert_eq!(
        std::fs::read(&out).expect("dumped"),
        std::fs::read(src.join("new/sparse")).expect("source")
    );
    let stat = debugfs(&img, "stat /new/sparse");
    assert!(stat.contains("User: 100000"), "{stat}");
    assert!(stat.contains("Group: 100001"), "{stat}");
    let ls = debugfs(&img, "ls -l /sub/moved");
    assert!(ls.contains("small-again"), "{ls}");
}

#[test]
fn writes_on_1k_blocks_pass_e2fsck_and_debugfs() {
    write_then_check("w1k", &["-t", "ext2", "-b", "1024"]);
}

#[test]
fn writes_on_4k_blocks_pass_e2fsck_and_debugfs() {
    write_then_check("w4k", &["-t", "ext2", "-b", "4096"]);
}

#[test]
fn writes_on_hurd_images_pass_e2fsck() {
    write_then_check("whurd", &["-t", "ext2", "-o", "hurd"]);
}

fn translator_on_disk(name: &str, args: &[&str]) {
    require_tools!();
    let s = Scratch::new(name);
    let img = s.path("img");
    mkfs(&img, 16, args, None);
    let mut fs = mount(&img);
    let rec = b"/hurd/hello\0--contents=persistent\n\0".to_vec();
    let f = fs
        .create_node(ROOT, Some(b"greeter"), REG, 1000, 100)
        .expect("create");
    fs.set_translator(f, Some(&rec)).expect("settrans");
    fs.change_attr(f, Change::Author(4321)).expect("author");
    fs.change_attr(f, Change::Mode(0o644 | 0o1000000))
        .expect("high bits");
    let g = fs
        .create_node(ROOT, Some(b"gone"), REG, 0, 0)
        .expect("create");
    fs.set_translator(g, Some(b"/hurd/null\0"))
        .expect("settrans");
    fs.set_translator(g, None).expect("clear");
    fs.unmount().expect("unmount");
    drop(fs);
    assert_clean(&img);
    let mut fs = mount(&img);
    assert_eq!(fs.translator(f).expect("record"), Some(rec));
    assert_eq!(fs.translator(g).expect("record"), None);
    let st = fs.stat_inode(f).expect("stat");
    assert_eq!(st.author, 4321);
    assert_eq!(st.mode, 0o100644 | 0o1000000);
    drop(fs);
    if args.contains(&"^ext_attr") {
        let stat = debugfs(&img, "stat /greeter");
        assert!(stat.contains("Translator:"), "{stat}");
    } else {
        let ea = debugfs(&img, "ea_list /greeter");
        assert!(ea.contains("gnu.translator"), "{ea}");
    }
}

#[test]
fn hurd_translator_records_in_gnu_translator() {
    translator_on_disk("trx", &["-t", "ext2", "-o", "hurd"]);
}

#[test]
fn hurd_translator_records_in_translator_blocks() {
    translator_on_disk("trb", &["-t", "ext2", "-o", "hurd", "-O", "^ext_attr"]);
}

#[test]
fn indexed_directories_stay_valid() {
    require_tools!();
    let s = Scratch::new("htree");
    let src = s.path("src");
    sample_tree(&src, 3000, 1 << 20);
    let img = s.path("img");
    mkfs(&img, 160, &["-t", "ext2", "-b", "1024"], Some(&src));
    // Have e2fsck build the hash indexes.
    let (code, out) = run("e2fsck", &["-fyD", &img.display().to_string()]);
    assert!(code <= 1, "e2fsck -fyD: {out}");
    let before = debugfs(&img, "htree /big-dir");
    assert!(before.contains("Root node dump"), "indexed: {before}");
    let mut fs = mount(&img);
    let d = walk(&mut fs, "big-dir").expect("dir");
    // Removing keeps the index; adding drops it.
    fs.unlink_name(d, b"entry-with-a-longish-name-00007")
        .expect("unlink");
    fs.unmount().expect("unmount");
    drop(fs);
    assert_clean(&img);
    let mut fs = mount(&img);
    let d = walk(&mut fs, "big-dir").expect("dir");
    fs.create_node(d, Some(b"added"), REG, 0, 0)
        .expect("create");
    assert!(
        fs.lookup_name(d, b"entry-with-a-longish-name-02999")
            .is_ok()
    );
    fs.unmount().expect("unmount");
    drop(fs);
    assert_clean(&img);
}

#[test]
fn corrupt_images_give_errors() {
    require_tools!();
    let s = Scratch::new("bad");
    let src = s.path("src");
    sample_tree(&src, 200, 1 << 20);
    let img = s.path("img");
    mkfs(&img, 32, &["-t", "ext2", "-b", "1024"], Some(&src));
    let good = std::fs::read(&img).expect("image");
    let try_image = |bytes: &[u8]| {
        std::fs::write(&img, bytes).expect("write image");
        let dev = FileDevice::open(&img, false).expect("open");
        Ext2::mount(
            dev,
            Options {
                writable_unclean: true,
                ..Options::default()
            },
        )
    };
    let mut bad = good.clone();
    bad[1024 + 56] = 0;
    assert!(try_image(&bad).is_err(), "bad magic");
    let mut bad = good.clone();
    bad[1024 + 4..1024 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(try_image(&bad).is_err(), "blocks beyond the device");
    let mut bad = good.clone();
    bad[1024 + 96] |= 0x40;
    assert!(try_image(&bad).is_err(), "extents");
    // Broken inodes, through debugfs.
    std::fs::write(&img, &good).expect("write image");
    let first = debugfs(&img, "bmap /big-dir 0");
    let first = first
        .lines()
        .find(|l| !l.is_empty() && l.trim().bytes().all(|b| b.is_ascii_digit()))
        .expect("a block number")
        .trim()
        .to_string();
    let twice = format!("sif /big-dir block[2] {first}");
    for cmd in [
        twice.as_str(),
        "sif /private block[0] 3",
        "sif /hello.txt block[0] 0xfffffff0",
        "sif /medium.bin block[IND] 3",
        "sif /sparse size 0xffffffffffffff",
        "sif /sub block[0] 0",
        "sif /slow-link size 5000",
        "sif /fast-link size 59",
    ] {
        let (code, out) = run("debugfs", &["-w", "-R", cmd, &img.display().to_string()]);
        assert_eq!(code, 0, "{cmd}: {out}");
    }
    let mut fs = try_image(&std::fs::read(&img).expect("read")).expect("mount");
    let hello = walk(&mut fs, "hello.txt").expect("name");
    assert_eq!(fs.read_file(hello, 0, 10), Err(Errno::Io));
    for p in [
        "hello.txt",
        "medium.bin",
        "sparse",
        "slow-link",
        "fast-link",
    ] {
        let ino = walk(&mut fs, p).expect("name");
        let _ = fs.read_file(ino, 0, 1 << 20);
        let _ = fs.read_symlink(ino);
        let _ = fs.write_file(ino, 5, b"x");
        let _ = fs.set_size(ino, 0);
    }
    assert!(walk(&mut fs, "sub/hard-2").is_err());
    let big = walk(&mut fs, "big-dir").expect("name");
    assert!(
        matches!(fs.list_dir(big), Err(Errno::Io)),
        "a block used twice"
    );
    // A block of the group descriptor table as file data: refused.
    let p = walk(&mut fs, "private").expect("name");
    assert_eq!(fs.write_file(p, 0, b"overwrite"), Err(Errno::Io));
    assert!(fs.errors() > 0);
    let _ = fs.unmount();
}

#[test]
fn statfs_counts_agree_with_df_of_e2fsprogs() {
    require_tools!();
    let s = Scratch::new("statfs");
    let img = s.path("img");
    mkfs(&img, 64, &["-t", "ext2"], None);
    let mut fs = mount(&img);
    let st = fs.statfs();
    let dump = debugfs(&img, "stats");
    let free_line = dump
        .lines()
        .find(|l| l.starts_with("Free blocks:"))
        .expect("free blocks");
    let free: u64 = free_line
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .expect("a number");
    assert_eq!(st.bfree, free);
    let f = fs.create_node(ROOT, Some(b"f"), REG, 0, 0).expect("create");
    fs.write_file(f, 0, &vec![1u8; 1 << 20]).expect("write");
    let after = fs.statfs();
    // The data and the indirect blocks that map it.
    let data = (1 << 20) / st.bsize as u64;
    let used = st.bfree - after.bfree;
    assert!((data..data + 8).contains(&used), "{used} blocks for {data}");
    assert_eq!(st.ffree - after.ffree, 1);
}

#[test]
fn what_was_synced_survives_a_crash_and_e2fsck_repairs_the_rest() {
    require_tools!();
    let s = Scratch::new("crash");
    let img = s.path("img");
    mkfs(&img, 64, &["-t", "ext2", "-b", "1024"], None);
    let mut fs = mount(&img);
    let d = fs
        .create_node(ROOT, Some(b"kept"), DIR, 0, 0)
        .expect("mkdir");
    let f = fs
        .create_node(d, Some(b"synced"), REG, 0, 0)
        .expect("create");
    let data = pattern(300_000, 7);
    fs.write_file(f, 0, &data).expect("write");
    fs.sync_all().expect("sync");
    // More changes, never synced: then the machine dies (the image is
    // copied as it is on the disk at that moment).
    for i in 0..50 {
        let n = fs
            .create_node(ROOT, Some(format!("late-{i}").as_bytes()), REG, 0, 0)
            .expect("create");
        fs.write_file(n, 0, &pattern(5000, i)).expect("write");
    }
    fs.unlink_name(d, b"synced").expect("unlink");
    let crashed = s.path("crashed");
    std::fs::copy(&img, &crashed).expect("copy");
    drop(fs);
    // Not clean: it mounts read-only until checked.
    let ro = mount(&crashed);
    assert!(ro.is_readonly());
    drop(ro);
    let (code, out) = run("e2fsck", &["-fy", &crashed.display().to_string()]);
    assert!(code <= 1, "e2fsck -fy could not repair: {out}");
    assert_clean(&crashed);
    let mut fs = mount(&crashed);
    assert!(!fs.is_readonly());
    let d = walk(&mut fs, "kept").expect("the synced directory");
    let f = fs.lookup_name(d, b"synced").expect("the synced file");
    let mut got = Vec::new();
    while got.len() < data.len() {
        let more = fs.read_file(f, got.len() as u64, 1 << 20).expect("read");
        assert!(!more.is_empty());
        got.extend_from_slice(&more);
    }
    assert!(got == data, "synced data intact");
}
