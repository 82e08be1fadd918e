//! Unit tests of the core on file systems made by [`super::testfs`], with a
//! small checker of the invariants `e2fsck` checks: every block in use
//! belongs to exactly one owner, the bitmaps say exactly that, the counts
//! agree, and every inode's `i_blocks` and link count are right.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::bytes::get32;
use super::device::{BlockDevice, MemDevice};
use super::fs::Ext2;
use super::group::group_range;
use super::inode::{DIND, IND, ROOT_INO, TIND};
use super::testfs::{Shape, mounted, options};
use crate::stat::TimeSpec;
use hurd_ipc::Errno;

const REG: u32 = 0o100644;
const DIR: u32 = 0o040755;

fn bit(map: &[u8], i: usize) -> bool {
    map[i / 8] & (1 << (i % 8)) != 0
}

/// Checks the file system's invariants; panics naming the first broken
/// one.
pub(crate) fn check(fs: &mut Ext2<MemDevice>) {
    let sb = fs.sb.clone();
    let bs = fs.bs;
    // Owners of blocks: group metadata first.
    let mut owner: BTreeMap<u32, String> = BTreeMap::new();
    let claim = |b: u32, who: String, owner: &mut BTreeMap<u32, String>| {
        assert!(
            b >= sb.first_data_block() && b < sb.blocks_count(),
            "{who}: block {b} out of range"
        );
        if let Some(prev) = owner.insert(b, who.clone()) {
            panic!("block {b} owned by {prev} and {who}");
        }
    };
    for g in 0..sb.groups_count() {
        let (start, _) = group_range(&sb, g);
        let d = fs.groups[g as usize];
        if sb.group_has_super(g) {
            for b in start..start + 1 + sb.gdt_blocks() {
                claim(b, alloc::format!("group {g} super"), &mut owner);
            }
        }
        claim(
            d.block_bitmap(),
            alloc::format!("group {g} bbitmap"),
            &mut owner,
        );
        claim(
            d.inode_bitmap(),
            alloc::format!("group {g} ibitmap"),
            &mut owner,
        );
        for b in d.inode_table()..d.inode_table() + sb.inode_table_blocks() {
            claim(b, alloc::format!("group {g} itable"), &mut owner);
        }
    }
    // Inodes in use, their blocks and links.
    let mut links: BTreeMap<u32, u32> = BTreeMap::new();
    let mut in_use = BTreeSet::new();
    let mut dirs = vec![0u32; sb.groups_count() as usize];
    for ino in 1..=sb.inodes_count() {
        let i = fs.read_inode(ino).expect("inode");
        if ino != ROOT_INO && ino < sb.first_ino() {
            continue;
        }
        if i.links == 0 && !fs.orphans.contains(&ino) {
            assert!(
                i.mode == 0 || i.dtime != 0,
                "inode {ino}: deleted with no dtime"
            );
            continue;
        }
        in_use.insert(ino);
        if i.is_dir() {
            dirs[((ino - 1) / fs.ipg) as usize] += 1;
        }
        let mut count = 0u32;
        if i.has_block_map(bs) {
            let n = i.size.div_ceil(bs as u64);
            for l in 0..n.min(fs.max_blocks()) {
                let b = fs.bmap(&i, l).expect("bmap");
                if b != 0 {
                    claim(b, alloc::format!("inode {ino} block {l}"), &mut owner);
                    count += 1;
                }
            }
            // Indirect blocks.
            let mut ind = Vec::new();
            let tops = [(IND, 1), (DIND, 2), (TIND, 3)];
            for (slot, depth) in tops {
                if i.block[slot] != 0 {
                    ind.push((i.block[slot], depth));
                }
            }
            while let Some((b, depth)) = ind.pop() {
                claim(b, alloc::format!("inode {ino} indirect"), &mut owner);
                count += 1;
                if depth > 1 {
                    let data = fs.cache.get(&mut fs.dev, b).expect("read").to_vec();
                    for k in 0..bs / 4 {
                        let c = get32(&data, k * 4);
                        if c != 0 {
                            ind.push((c, depth - 1));
                        }
                    }
                }
            }
        }
        if i.file_acl != 0 {
            claim(i.file_acl, alloc::format!("inode {ino} xattr"), &mut owner);
            count += 1;
        }
        if i.translator != 0 {
            claim(
                i.translator,
                alloc::format!("inode {ino} translator"),
                &mut owner,
            );
            count += 1;
        }
        assert_eq!(i.blocks, count * (bs as u32 / 512), "inode {ino}: i_blocks");
        if i.is_dir() {
            for n in fs.list_dir(ino).expect("list") {
                if n.name == b"." {
                    assert_eq!(n.ino, ino, "inode {ino}: \".\"");
                }
                *links.entry(n.ino).or_default() += 1;
            }
        }
    }
    for &ino in &in_use {
        let i = fs.read_inode(ino).expect("inode");
        let want = links.get(&ino).copied().unwrap_or(0);
        if !fs.orphans.contains(&ino) {
            assert_eq!(i.links as u32, want, "inode {ino}: link count");
        }
    }
    // Bitmaps and counts.
    let mut free_blocks = 0u64;
    let mut free_inodes = 0u64;
    for g in 0..sb.groups_count() {
        let (start, len) = group_range(&sb, g);
        let d = fs.groups[g as usize];
        let map = fs
            .cache
            .get(&mut fs.dev, d.block_bitmap())
            .expect("bitmap")
            .to_vec();
        let mut free = 0;
        for k in 0..len {
            let used = bit(&map, k as usize);
            assert_eq!(
                used,
                owner.contains_key(&(start + k)),
                "block {} bitmap",
                start + k
            );
            if !used {
                free += 1;
            }
        }
        assert_eq!(d.free_blocks(), free, "group {g} free blocks");
        free_blocks += free as u64;
        let imap = fs
            .cache
            .get(&mut fs.dev, d.inode_bitmap())
            .expect("ibitmap")
            .to_vec();
        let mut ifree = 0;
        for k in 0..fs.ipg {
            let ino = g * fs.ipg + k + 1;
            let used = bit(&imap, k as usize);
            if ino >= sb.first_ino() {
                assert_eq!(used, in_use.contains(&ino), "inode {ino} bitmap");
            }
            if !used {
                ifree += 1;
            }
        }
        assert_eq!(d.free_inodes(), ifree, "group {g} free inodes");
        assert_eq!(d.used_dirs(), dirs[g as usize], "group {g} directories");
        free_inodes += ifree as u64;
    }
    assert_eq!(
        fs.sb.free_blocks_count() as u64,
        free_blocks,
        "superblock free blocks"
    );
    assert_eq!(
        fs.sb.free_inodes_count() as u64,
        free_inodes,
        "superblock free inodes"
    );
}

fn names(fs: &mut Ext2<MemDevice>, dir: u32) -> Vec<String> {
    let mut v: Vec<String> = fs
        .list_dir(dir)
        .expect("list")
        .into_iter()
        .map(|n| String::from_utf8(n.name).expect("utf-8"))
        .collect();
    v.sort();
    v
}

#[test]
fn files_directories_and_links() {
    let mut fs = mounted(Shape::default());
    let free0 = fs.statfs();
    let d = fs
        .create_node(ROOT_INO, Some(b"dir"), DIR, 1000, 100)
        .expect("mkdir");
    let f = fs
        .create_node(d, Some(b"file"), REG, 1000, 100)
        .expect("create");
    assert_eq!(
        fs.create_node(d, Some(b"file"), REG, 0, 0),
        Err(Errno::Exist)
    );
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(fs.write_file(f, 0, &data), Ok(data.len()));
    assert_eq!(fs.read_file(f, 0, 400_000).expect("read"), data);
    assert_eq!(
        fs.read_file(f, 299_990, 100).expect("read"),
        data[299_990..]
    );
    fs.link_node(ROOT_INO, b"alias", f, true).expect("link");
    assert_eq!(fs.stat_inode(f).expect("stat").nlink, 2);
    assert_eq!(fs.lookup_name(ROOT_INO, b"alias"), Ok(f));
    assert_eq!(fs.lookup_name(d, b".."), Ok(ROOT_INO));
    assert_eq!(fs.stat_inode(ROOT_INO).expect("stat").nlink, 3);
    check(&mut fs);
    fs.unlink_name(d, b"file").expect("unlink");
    assert_eq!(fs.read_file(f, 0, 10).expect("read"), data[..10]);
    assert_eq!(fs.unlink_name(ROOT_INO, b"dir"), Ok(()));
    fs.unlink_name(ROOT_INO, b"alias").expect("unlink");
    assert_eq!(fs.lookup_name(ROOT_INO, b"alias"), Err(Errno::NoEnt));
    check(&mut fs);
    let free1 = fs.statfs();
    assert_eq!((free1.bfree, free1.ffree), (free0.bfree, free0.ffree));
}

#[test]
fn rename_moves_directories_and_keeps_counts() {
    let mut fs = mounted(Shape::default());
    let a = fs
        .create_node(ROOT_INO, Some(b"a"), DIR, 0, 0)
        .expect("mkdir");
    let b = fs
        .create_node(ROOT_INO, Some(b"b"), DIR, 0, 0)
        .expect("mkdir");
    let c = fs.create_node(a, Some(b"c"), DIR, 0, 0).expect("mkdir");
    let f = fs.create_node(c, Some(b"f"), REG, 0, 0).expect("create");
    fs.write_file(f, 0, b"contents").expect("write");
    fs.rename_name(a, b"c", b, b"c2", false).expect("rename");
    assert_eq!(fs.lookup_name(c, b".."), Ok(b));
    assert_eq!(names(&mut fs, a), [".", ".."]);
    assert_eq!(
        fs.rename_name(ROOT_INO, b"b", c, b"x", false),
        Err(Errno::Inval)
    );
    assert_eq!(
        fs.rename_name(ROOT_INO, b"a", b, b"c2", false),
        Err(Errno::NotEmpty)
    );
    let g = fs
        .create_node(ROOT_INO, Some(b"g"), REG, 0, 0)
        .expect("create");
    fs.rename_name(c, b"f", ROOT_INO, b"g", false)
        .expect("replace");
    assert_eq!(fs.lookup_name(ROOT_INO, b"g"), Ok(f));
    assert_eq!(fs.stat_inode(g), Err(Errno::NoEnt));
    assert_eq!(
        fs.rename_name(ROOT_INO, b"g", ROOT_INO, b"a", false),
        Err(Errno::IsDir)
    );
    let e = fs.create_node(b, Some(b"empty"), DIR, 0, 0).expect("mkdir");
    fs.rename_name(ROOT_INO, b"a", b, b"empty", false)
        .expect("over an empty dir");
    assert_eq!(fs.stat_inode(e), Err(Errno::NoEnt));
    check(&mut fs);
}

#[test]
fn sparse_large_and_truncated_files() {
    let mut fs = mounted(Shape::default());
    let f = fs
        .create_node(ROOT_INO, Some(b"s"), REG, 0, 0)
        .expect("create");
    // Direct, single, double and triple indirect (1 KiB blocks: 12, 268,
    // 65804 blocks).
    for (off, what) in [
        (0u64, &b"zero"[..]),
        (20 << 10, b"single"),
        (1 << 20, b"double"),
        (70 << 20, b"triple"),
    ] {
        fs.write_file(f, off, what).expect("write");
    }
    assert_eq!(fs.read_file(f, 70 << 20, 6).expect("read"), b"triple");
    assert_eq!(fs.read_file(f, 2 << 20, 4).expect("read"), [0; 4]);
    let s = fs.stat_inode(f).expect("stat");
    assert_eq!(s.size, (70 << 20) + 6);
    check(&mut fs);
    fs.set_size(f, (1 << 20) + 3).expect("truncate");
    assert_eq!(fs.read_file(f, 1 << 20, 10).expect("read"), b"dou");
    check(&mut fs);
    // Growing again reads zeros where the cut bytes were.
    fs.set_size(f, 2 << 20).expect("extend");
    assert_eq!(fs.read_file(f, 1 << 20, 6).expect("read"), b"dou\0\0\0");
    fs.write_file(f, (1 << 20) + 10, b"x").expect("write");
    assert_eq!(
        fs.read_file(f, 1 << 20, 11).expect("read"),
        b"dou\0\0\0\0\0\0\0x"
    );
    fs.set_size(f, 0).expect("truncate");
    check(&mut fs);
    assert_eq!(fs.stat_inode(f).expect("stat").blocks, 0);
}

#[test]
fn symlinks_fast_and_slow() {
    let mut fs = mounted(Shape::default());
    for (name, target) in [
        (&b"fast"[..], "short/target".as_bytes()),
        (b"slow", &[b'x'; 300][..]),
    ] {
        let n = fs
            .create_node(ROOT_INO, Some(name), REG, 0, 0)
            .expect("create");
        fs.make_symlink(n, target).expect("symlink");
        assert_eq!(fs.read_symlink(n).expect("readlink"), target);
        assert!(fs.read_inode(n).expect("inode").is_symlink());
    }
    let f = fs
        .create_node(ROOT_INO, Some(b"full"), REG, 0, 0)
        .expect("create");
    fs.write_file(f, 0, b"data").expect("write");
    assert_eq!(fs.make_symlink(f, b"t"), Err(Errno::Inval));
    check(&mut fs);
}

#[test]
fn device_nodes_and_fifos_from_records() {
    let mut fs = mounted(Shape::default());
    let n = fs
        .create_node(ROOT_INO, Some(b"null"), REG, 0, 0)
        .expect("create");
    fs.set_translator(n, Some(b"/hurd/chrdev\x001\x003\x00"))
        .expect("chrdev");
    let s = fs.stat_inode(n).expect("stat");
    assert_eq!(s.mode & 0o170000, 0o020000);
    assert_eq!(s.rdev, 1 << 8 | 3);
    let p = fs
        .create_node(ROOT_INO, Some(b"pipe"), REG, 0, 0)
        .expect("create");
    fs.set_translator(p, Some(b"/hurd/fifo\x00")).expect("fifo");
    assert_eq!(fs.stat_inode(p).expect("stat").mode & 0o170000, 0o010000);
    // A real translator on a file system not made by the Hurd: refused.
    let t = fs
        .create_node(ROOT_INO, Some(b"t"), REG, 0, 0)
        .expect("create");
    assert_eq!(
        fs.set_translator(t, Some(b"/hurd/hello\x00")),
        Err(Errno::OpNotSupp)
    );
    assert_eq!(
        fs.set_translator(t, Some(b"/hurd/chrdev\x00x\x003\x00")),
        Err(Errno::Inval)
    );
    check(&mut fs);
}

fn hurd_translators(ext_attr: bool) {
    let mut fs = mounted(Shape {
        hurd: true,
        filetype: false,
        ext_attr,
        inode_size: 128,
        ..Shape::default()
    });
    let n = fs
        .create_node(ROOT_INO, Some(b"hello"), REG, 1000, 100)
        .expect("create");
    let rec = b"/hurd/hello\x00--contents=hi\x00".to_vec();
    fs.set_translator(n, Some(&rec)).expect("set");
    assert_eq!(fs.translator(n).expect("get"), Some(rec.clone()));
    let i = fs.read_inode(n).expect("inode");
    assert_eq!(i.translator != 0, !ext_attr);
    assert_eq!(i.file_acl != 0, ext_attr);
    check(&mut fs);
    // The author and the high mode bits are kept.
    fs.change_attr(n, super::Change::Author(4242))
        .expect("author");
    fs.change_attr(n, super::Change::Mode(0o640 | 0o400000))
        .expect("mode");
    fs.change_attr(n, super::Change::Owner(70000, 66000))
        .expect("owner");
    fs.unmount().expect("unmount");
    let dev = MemDevice::new(fs.device().bytes().to_vec());
    let mut again = Ext2::mount(dev, options()).expect("remount");
    let s = again.stat_inode(n).expect("stat");
    assert_eq!((s.author, s.uid, s.gid), (4242, 70000, 66000));
    assert_eq!(s.mode, 0o100640 | 0o400000);
    assert_eq!(again.translator(n).expect("get"), Some(rec));
    again.set_translator(n, None).expect("clear");
    assert_eq!(again.translator(n).expect("get"), None);
    check(&mut again);
    again.unlink_name(ROOT_INO, b"hello").expect("unlink");
    check(&mut again);
}

#[test]
fn hurd_translator_records_in_attributes() {
    hurd_translators(true);
}

#[test]
fn hurd_translator_records_in_blocks() {
    hurd_translators(false);
}

#[test]
fn linux_file_systems_keep_author_with_owner() {
    let mut fs = mounted(Shape::default());
    let n = fs
        .create_node(ROOT_INO, Some(b"f"), REG, 5, 5)
        .expect("create");
    assert_eq!(
        fs.change_attr(n, super::Change::Author(6)),
        Err(Errno::Inval)
    );
    assert_eq!(
        fs.change_attr(n, super::Change::Mode(0o400000)),
        Err(Errno::Inval)
    );
    fs.change_attr(n, super::Change::Owner(7, 7))
        .expect("chown");
    assert_eq!(fs.stat_inode(n).expect("stat").author, 7);
}

#[test]
fn unlinked_open_files_live_until_released() {
    let mut fs = mounted(Shape::default());
    let n = fs
        .create_node(ROOT_INO, Some(b"f"), REG, 0, 0)
        .expect("create");
    fs.open.insert(n);
    fs.write_file(n, 0, &[1; 5000]).expect("write");
    fs.unlink_name(ROOT_INO, b"f").expect("unlink");
    assert_eq!(fs.read_file(n, 0, 3).expect("read"), [1, 1, 1]);
    check(&mut fs);
    fs.open.remove(&n);
    fs.release_inode(n).expect("release");
    check(&mut fs);
    // A nameless file (dir_mkfile) gets a name later.
    let m = fs.create_node(ROOT_INO, None, REG, 0, 0).expect("mkfile");
    fs.open.insert(m);
    fs.link_node(ROOT_INO, b"named", m, true).expect("link");
    assert!(!fs.orphans.contains(&m));
    check(&mut fs);
}

#[test]
fn filling_the_disk_is_enospc_and_recoverable() {
    let mut fs = mounted(Shape {
        blocks: 3000,
        ..Shape::default()
    });
    let f = fs
        .create_node(ROOT_INO, Some(b"big"), 0o100644, 1000, 1000)
        .expect("create");
    let chunk = vec![7u8; 64 << 10];
    let mut total = 0;
    loop {
        match fs.write_file(f, total as u64, &chunk) {
            Ok(0) | Err(Errno::NoSpc) => break,
            Ok(n) => total += n,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(total > 2_000_000, "wrote {total}");
    // Root's reserve is left for root.
    assert!(fs.sb.free_blocks_count() > 0);
    check(&mut fs);
    assert_eq!(
        fs.read_file(f, total as u64 - 3, 3).expect("read"),
        [7, 7, 7]
    );
    fs.unlink_name(ROOT_INO, b"big").expect("unlink");
    check(&mut fs);
}

#[test]
fn many_names_in_one_directory() {
    let mut fs = mounted(Shape {
        inodes_per_group: 2048,
        ..Shape::default()
    });
    let d = fs
        .create_node(ROOT_INO, Some(b"d"), DIR, 0, 0)
        .expect("mkdir");
    for i in 0..1500 {
        let name = alloc::format!("file-{i:04}");
        fs.create_node(d, Some(name.as_bytes()), REG, 0, 0)
            .expect("create");
    }
    for i in (0..1500).step_by(2) {
        let name = alloc::format!("file-{i:04}");
        fs.unlink_name(d, name.as_bytes()).expect("unlink");
    }
    assert_eq!(names(&mut fs, d).len(), 752);
    assert_eq!(fs.lookup_name(d, b"file-0001").map(|_| ()), Ok(()));
    assert_eq!(fs.lookup_name(d, b"file-0002"), Err(Errno::NoEnt));
    check(&mut fs);
}

#[test]
fn readonly_mounts_refuse_changes_and_write_nothing() {
    let dev = super::testfs::format(Shape::default());
    let before = dev.bytes().to_vec();
    let mut fs = Ext2::mount(
        dev,
        super::Options {
            readonly: true,
            ..options()
        },
    )
    .expect("mount");
    assert_eq!(
        fs.create_node(ROOT_INO, Some(b"x"), REG, 0, 0),
        Err(Errno::RoFs)
    );
    let _ = fs.read_file(ROOT_INO, 0, 10);
    fs.sync_all().expect("sync");
    fs.unmount().expect("unmount");
    assert!(fs.device().bytes() == &before[..]);
}

#[test]
fn unmount_marks_clean_and_unclean_mounts_readonly() {
    let mut fs = mounted(Shape::default());
    fs.create_node(ROOT_INO, Some(b"x"), REG, 0, 0)
        .expect("create");
    // While mounted, the disk says "in use".
    let dirty = MemDevice::new(fs.device().bytes().to_vec());
    let crashed = Ext2::mount(dirty, options()).expect("mount");
    assert!(crashed.is_readonly());
    fs.unmount().expect("unmount");
    let clean = MemDevice::new(fs.device().bytes().to_vec());
    let mut fs2 = Ext2::mount(clean, options()).expect("mount");
    assert!(!fs2.is_readonly());
    assert!(fs2.lookup_name(ROOT_INO, b"x").is_ok());
}

#[test]
fn options_and_sync_policies() {
    let mut fs = mounted(Shape::default());
    assert_eq!(fs.options(), ["--writable", "--sync=30", "--relatime"]);
    fs.set_options(&["--sync"]).expect("sync");
    fs.create_node(ROOT_INO, Some(b"x"), REG, 0, 0)
        .expect("create");
    assert!(!fs.is_dirty(), "synchronous: written at once");
    fs.set_options(&["--no-sync", "--no-atime"]).expect("opts");
    assert_eq!(fs.options(), ["--writable", "--no-sync", "--no-atime"]);
    fs.create_node(ROOT_INO, Some(b"y"), REG, 0, 0)
        .expect("create");
    assert!(fs.is_dirty());
    assert_eq!(fs.set_options(&["--bogus"]), Err(Errno::Inval));
    fs.set_options(&["--readonly"]).expect("ro");
    assert_eq!(
        fs.create_node(ROOT_INO, Some(b"z"), REG, 0, 0),
        Err(Errno::RoFs)
    );
    fs.set_options(&["-w", "-s5"]).expect("rw");
    assert_eq!(fs.options()[1], "--sync=5");
    fs.create_node(ROOT_INO, Some(b"z"), REG, 0, 0)
        .expect("create");
}

#[test]
fn times_follow_the_clock_and_relatime() {
    let mut fs = mounted(Shape::default());
    let f = fs
        .create_node(ROOT_INO, Some(b"f"), REG, 0, 0)
        .expect("create");
    let s = fs.stat_inode(f).expect("stat");
    assert_eq!(s.mtime.sec, 1_704_067_200);
    let t = TimeSpec {
        sec: 12345,
        nsec: 678,
    };
    fs.change_attr(f, super::Change::Times(Some(t), Some(t)))
        .expect("times");
    let s = fs.stat_inode(f).expect("stat");
    assert_eq!(
        (s.atime, s.mtime),
        (t, t),
        "256-byte inodes keep nanoseconds"
    );
    fs.write_file(f, 0, b"x").expect("write");
    let _ = fs.read_file(f, 0, 1).expect("read");
    assert_eq!(fs.stat_inode(f).expect("stat").atime.sec, 1_704_067_200);
}

// ---- untrusted images ----

fn corrupt_and_use(mutate: impl FnOnce(&mut Vec<u8>)) {
    let mut fs = mounted(Shape::default());
    let d = fs
        .create_node(ROOT_INO, Some(b"d"), DIR, 0, 0)
        .expect("mkdir");
    let f = fs.create_node(d, Some(b"f"), REG, 0, 0).expect("create");
    fs.write_file(f, 0, &vec![9u8; 50_000]).expect("write");
    fs.unmount().expect("unmount");
    let mut img = fs.device().bytes().to_vec();
    mutate(&mut img);
    let Ok(mut fs) = Ext2::mount(
        MemDevice::new(img),
        super::Options {
            writable_unclean: true,
            ..options()
        },
    ) else {
        return;
    };
    exercise(&mut fs);
}

/// Everything a client can ask, on a possibly corrupt file system: must
/// return, with errors or not.
fn exercise(fs: &mut Ext2<MemDevice>) {
    let mut todo = vec![ROOT_INO];
    let mut seen = BTreeSet::new();
    while let Some(d) = todo.pop() {
        if !seen.insert(d) || seen.len() > 1000 {
            continue;
        }
        let Ok(list) = fs.list_dir(d) else { continue };
        for n in list {
            let _ = fs.stat_inode(n.ino);
            let _ = fs.read_file(n.ino, 0, 1 << 20);
            let _ = fs.read_symlink(n.ino);
            let _ = fs.translator(n.ino);
            if n.name != b"." && n.name != b".." {
                todo.push(n.ino);
                let _ = fs.write_file(n.ino, 100, b"written");
                let _ = fs.set_size(n.ino, 10);
            }
        }
        let _ = fs.create_node(d, Some(b"new"), REG, 0, 0);
        let _ = fs.create_node(d, Some(b"newdir"), DIR, 0, 0);
        let _ = fs.rename_name(d, b"new", ROOT_INO, b"moved", false);
        let _ = fs.unlink_name(ROOT_INO, b"moved");
    }
    let _ = fs.unlink_name(ROOT_INO, b"d");
    let _ = fs.sync_all();
    let _ = fs.unmount();
}

#[test]
fn block_numbers_out_of_range_are_eio() {
    corrupt_and_use(|img| {
        // The root directory's block pointer.
        let it = get32(&img[2048..], 8) as usize;
        let root = it * 1024 + 256;
        img[root + 40..root + 44].copy_from_slice(&u32::MAX.to_le_bytes());
    });
    let mut fs = mounted(Shape::default());
    let f = fs
        .create_node(ROOT_INO, Some(b"f"), REG, 0, 0)
        .expect("create");
    let mut i = fs.read_inode(f).expect("inode");
    i.block[0] = 5_000_000;
    i.size = 100;
    fs.write_inode(f, &i).expect("write inode");
    assert_eq!(fs.read_file(f, 0, 10), Err(Errno::Io));
    assert!(fs.errors() > 0);
}

#[test]
fn huge_sizes_read_as_holes_within_bounds() {
    let mut fs = mounted(Shape::default());
    let f = fs
        .create_node(ROOT_INO, Some(b"f"), REG, 0, 0)
        .expect("create");
    let mut i = fs.read_inode(f).expect("inode");
    i.size = u64::MAX >> 1;
    fs.write_inode(f, &i).expect("write inode");
    let r = fs.read_file(f, 1 << 40, usize::MAX).expect("read");
    assert_eq!(r.len(), super::MAX_READ);
    assert_eq!(fs.write_file(f, u64::MAX - 2, b"abc"), Err(Errno::FBig));
    assert_eq!(
        fs.read_file(f, u64::MAX - 1, 10).expect("read"),
        Vec::<u8>::new()
    );
}

#[test]
fn directory_loops_are_found() {
    let mut fs = mounted(Shape::default());
    let a = fs
        .create_node(ROOT_INO, Some(b"a"), DIR, 0, 0)
        .expect("mkdir");
    let b = fs.create_node(a, Some(b"b"), DIR, 0, 0).expect("mkdir");
    // Make a's ".." point to b: a loop above b.
    let i = fs.read_inode(a).expect("inode");
    let blk = fs.bmap(&i, 0).expect("bmap");
    let data = fs.cache.get_mut(&mut fs.dev, blk).expect("block");
    super::dir::set_inode(data, 12, b, 2);
    let c = fs
        .create_node(ROOT_INO, Some(b"c"), DIR, 0, 0)
        .expect("mkdir");
    // Moving c into b walks up from b: a, b, a... and stops.
    assert_eq!(
        fs.rename_name(ROOT_INO, b"c", b, b"c", false),
        Err(Errno::Io)
    );
    let _ = c;
}

#[test]
fn corrupt_directory_records_are_eio() {
    let mut fs = mounted(Shape::default());
    let d = fs
        .create_node(ROOT_INO, Some(b"d"), DIR, 0, 0)
        .expect("mkdir");
    let i = fs.read_inode(d).expect("inode");
    let blk = fs.bmap(&i, 0).expect("bmap");
    let data = fs.cache.get_mut(&mut fs.dev, blk).expect("block");
    data[12 + 4] = 3; // ".."'s record length
    assert_eq!(fs.list_dir(d), Err(Errno::Io));
    assert_eq!(fs.lookup_name(d, b"x"), Err(Errno::Io));
    assert_eq!(fs.create_node(d, Some(b"x"), REG, 0, 0), Err(Errno::Io));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    /// Random bytes written over metadata blocks: every operation returns.
    #[test]
    fn random_corruption_never_panics(
        hits in proptest::collection::vec((0usize..60_000, any::<u8>()), 1..40)
    ) {
        corrupt_and_use(|img| {
            for (at, v) in hits {
                let at = 1024 + at % (img.len().min(80 << 10) - 1024);
                img[at] = v;
            }
        });
    }
}

// ---- allocation and directories against a model ----

#[derive(Clone, Debug)]
enum Op {
    Create(u8, u32),
    Write(u8, u32, u16),
    Truncate(u8, u32),
    Unlink(u8),
    Mkdir(u8),
    Rmdir(u8),
    Rename(u8, u8),
    Link(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..24, 0u32..400_000).prop_map(|(n, s)| Op::Create(n, s)),
        (0u8..24, 0u32..3_000_000, 1u16..20_000).prop_map(|(n, o, l)| Op::Write(n, o, l)),
        (0u8..24, 0u32..500_000).prop_map(|(n, s)| Op::Truncate(n, s)),
        (0u8..24).prop_map(Op::Unlink),
        (0u8..6).prop_map(Op::Mkdir),
        (0u8..6).prop_map(Op::Rmdir),
        (0u8..24, 0u8..24).prop_map(|(a, b)| Op::Rename(a, b)),
        (0u8..24, 0u8..24).prop_map(|(a, b)| Op::Link(a, b)),
    ]
}

/// File `n` lives in the root or in `d1`..`d3`, by `n % 4`.
fn place(fs: &mut Ext2<MemDevice>, n: u8) -> (u32, Vec<u8>) {
    let dir = match n % 4 {
        0 => ROOT_INO,
        k => fs
            .lookup_name(ROOT_INO, alloc::format!("d{k}").as_bytes())
            .expect("d1..d3 exist"),
    };
    (dir, alloc::format!("f{n}").into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Random file and directory operations keep the model's contents and
    /// every invariant the checker knows.
    #[test]
    fn operations_match_a_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut fs = mounted(Shape { blocks: 12000, ..Shape::default() });
        for k in 1..4 {
            let name = alloc::format!("d{k}");
            fs.create_node(ROOT_INO, Some(name.as_bytes()), DIR, 0, 0).expect("mkdir");
        }
        // name → contents, for files by number.
        let mut model: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
        for o in ops {
            match o {
                Op::Create(n, size) => {
                    let (d, name) = place(&mut fs, n);
                    match fs.create_node(d, Some(&name), REG, 0, 0) {
                        Ok(ino) => {
                            prop_assert!(!model.contains_key(&n));
                            let data: Vec<u8> = (0..size).map(|i| (i ^ n as u32) as u8).collect();
                            match fs.write_file(ino, 0, &data) {
                                Ok(k) => { model.insert(n, data[..k].to_vec()); }
                                Err(Errno::NoSpc) => { model.insert(n, Vec::new()); }
                                Err(e) => prop_assert!(false, "{e:?}"),
                            }
                        }
                        Err(Errno::Exist) => prop_assert!(model.contains_key(&n)),
                        Err(Errno::NoSpc) => {}
                        Err(e) => prop_assert!(false, "{e:?}"),
                    }
                }
                Op::Write(n, off, len) => {
                    let (d, name) = place(&mut fs, n);
                    let Ok(ino) = fs.lookup_name(d, &name) else {
                        prop_assert!(!model.contains_key(&n));
                        continue;
                    };
                    let data = vec![n.wrapping_add(1); len as usize];
                    let m = model.get_mut(&n).expect("in model");
                    match fs.write_file(ino, off as u64, &data) {
                        Ok(k) => {
                            let end = off as usize + k;
                            if m.len() < end { m.resize(end, 0); }
                            m[off as usize..end].copy_from_slice(&data[..k]);
                        }
                        Err(Errno::NoSpc) => {}
                        Err(e) => prop_assert!(false, "{e:?}"),
                    }
                }
                Op::Truncate(n, size) => {
                    let (d, name) = place(&mut fs, n);
                    if let Ok(ino) = fs.lookup_name(d, &name) {
                        fs.set_size(ino, size as u64).expect("truncate");
                        model.get_mut(&n).expect("in model").resize(size as usize, 0);
                    }
                }
                Op::Unlink(n) => {
                    let (d, name) = place(&mut fs, n);
                    let r = fs.unlink_name(d, &name);
                    prop_assert_eq!(r.is_ok(), model.remove(&n).is_some());
                }
                Op::Mkdir(k) => {
                    let name = alloc::format!("e{k}");
                    let had = fs.lookup_name(ROOT_INO, name.as_bytes()).is_ok();
                    match fs.create_node(ROOT_INO, Some(name.as_bytes()), DIR, 0, 0) {
                        Ok(_) => prop_assert!(!had),
                        Err(Errno::Exist) => prop_assert!(had),
                        Err(Errno::NoSpc) => {}
                        Err(e) => prop_assert!(false, "{e:?}"),
                    }
                }
                Op::Rmdir(k) => {
                    let name = alloc::format!("e{k}");
                    let had = fs.lookup_name(ROOT_INO, name.as_bytes()).is_ok();
                    let r = fs.unlink_name(ROOT_INO, name.as_bytes());
                    prop_assert_eq!(r.is_ok(), had);
                    // d1..d3 hold files: not empty, or empty and kept.
                    let busy = fs.lookup_name(ROOT_INO, b"d1").expect("d1");
                    let _ = busy;
                }
                Op::Rename(a, b) => {
                    let (da, na) = place(&mut fs, a);
                    let (db, nb) = place(&mut fs, b);
                    match fs.rename_name(da, &na, db, &nb, false) {
                        Ok(()) => {
                            if a != b {
                                let v = model.remove(&a).expect("source in model");
                                model.insert(b, v);
                            }
                        }
                        Err(Errno::NoEnt) => prop_assert!(!model.contains_key(&a)),
                        Err(Errno::NoSpc) => {}
                        Err(e) => prop_assert!(false, "{e:?}"),
                    }
                }
                Op::Link(a, b) => {
                    let (da, na) = place(&mut fs, a);
                    let (db, nb) = place(&mut fs, b);
                    if let Ok(ino) = fs.lookup_name(da, &na)
                        && fs.link_node(db, &nb, ino, true).is_ok()
                    {
                        // A hard link: the model holds a copy that must then
                        // follow every write; keep it simple by unlinking
                        // the new name at once, checking the count.
                        prop_assert_eq!(fs.stat_inode(ino).expect("stat").nlink, 2);
                        fs.unlink_name(db, &nb).expect("unlink link");
                    }
                }
            }
        }
        check(&mut fs);
        for (n, want) in &model {
            let (d, name) = place(&mut fs, *n);
            let ino = fs.lookup_name(d, &name).expect("in the file system");
            let got = fs.read_file(ino, 0, want.len() + 10).expect("read");
            prop_assert!(&got == want, "f{} differs", n);
        }
        fs.unmount().expect("unmount");
        let _ = fs.device().size();
    }
}
