//! A root file system archive applied to a running system: directories and
//! files with their modes and owners, symbolic and hard links, sparse files,
//! and a passive translator record that the first lookup starts — from
//! archives as this writer and as GNU tar write them.

use hurd_auth::IdSet;
use hurd_servers::hosted::{DEMO_ACCOUNTS, System};
use hurd_servers::rootfs::apply_archive;
use hurd_servers::untar::entries;
use hurd_trans::flags::OpenFlags;
use hurd_trans::mode::{S_IFLNK, S_IFMT};
use hurd_trans::protocol::{fs, io};
use hurd_trans::tar::{Header, TRANSLATOR_KEYWORD, Writer};

fn header(path: &str, dir: bool, mode: u32, uid: u32) -> Header {
    let mut h = if dir {
        Header::dir(path, mode)
    } else {
        Header::file(path, mode)
    };
    h.uid = uid;
    h.gid = 100;
    h
}

#[test]
fn an_archive_becomes_the_root_file_system() {
    let sys = System::boot(DEMO_ACCOUNTS).expect("boot");
    let task = sys.task();
    let root = sys.session_for(&task, IdSet::root()).expect("root");
    let mut w = Writer::new();
    let mut add = |h: &Header, data: &[u8]| w.append(h, data).expect("append");
    add(&header("./srv", true, 0o750, 1000), b"");
    add(&header("srv/data", false, 0o600, 1000), b"kept\n");
    // An existing directory is kept; an existing file replaced.
    add(&header("etc", true, 0o755, 0), b"");
    add(&header("etc/motd", false, 0o644, 0), b"From the archive.\n");
    let mut greet = header("srv/greet", false, 0o644, 1000);
    greet.extra = vec![(
        TRANSLATOR_KEYWORD.into(),
        b"/hurd/hello\0from a record\0".to_vec(),
    )];
    add(&greet, b"");
    // Owners beyond ustar's octal fields, a long name, links.
    let long = format!("srv/{}/{}", "d".repeat(120), "f".repeat(80));
    add(
        &header(&format!("srv/{}", "d".repeat(120)), true, 0o755, 0),
        b"",
    );
    add(&header(&long, false, 0o644, 3_000_000), b"deep\n");
    add(&Header::symlink("srv/link", "data"), b"");
    add(&Header::hard_link("srv/hard", "./srv/data"), b"");
    let archive = w.finish();
    let list = entries(&archive).expect("entries");
    assert_eq!(apply_archive(&root, &list), Ok(9));

    assert_eq!(root.read_file("/srv/data").expect("data"), b"kept\n");
    assert_eq!(
        root.read_file("/etc/motd").expect("motd"),
        b"From the archive.\n"
    );
    let stat = |path: &str, flags| {
        let p = root.open(path, flags).expect("open");
        let st = io::Client::new(root.ipc, p).stat().expect("stat");
        root.release(p);
        st
    };
    let st = stat("/srv/data", OpenFlags::READ);
    assert_eq!((st.uid, st.mode & 0o7777), (1000, 0o600));
    assert_eq!(st.nlink, 2, "data and hard");
    assert_eq!(stat("/srv/hard", OpenFlags::READ).ino, st.ino);
    assert_eq!(root.read_file(&long).expect("long"), b"deep\n");
    assert_eq!(stat(&long, OpenFlags::READ).uid, 3_000_000);
    assert_eq!(root.read_file("/srv/link").expect("via link"), b"kept\n");
    let l = stat("/srv/link", OpenFlags::NOTRANS);
    assert_eq!(l.mode & S_IFMT, S_IFLNK);
    // The record starts hello, as its owner, at the first lookup.
    assert_eq!(
        root.read_file("/srv/greet").expect("greet"),
        b"from a record"
    );
    let node = root.open("/srv/greet", OpenFlags::NOTRANS).expect("node");
    let record = fs::Client::new(root.ipc, node)
        .file_get_translator()
        .expect("record");
    root.release(node);
    assert_eq!(record, b"/hurd/hello\0from a record\0");
}

/// What GNU tar writes: `./` names, GNU long names, base-256 numbers, a
/// sparse file, links.
#[test]
fn an_archive_gnu_tar_made() {
    let have_tar = std::process::Command::new("tar")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_tar {
        eprintln!("skipped: GNU tar is not installed");
        return;
    }
    let base = std::env::temp_dir().join(format!("hurd-untar-{}", std::process::id()));
    let src = base.join("src");
    let deep = src.join("d".repeat(110)).join("e".repeat(60));
    std::fs::create_dir_all(&deep).expect("mkdir");
    std::fs::write(deep.join("f"), b"long name\n").expect("write");
    std::fs::write(src.join("plain"), b"plain\n").expect("write");
    std::fs::hard_link(src.join("plain"), src.join("again")).expect("link");
    std::os::unix::fs::symlink("plain", src.join("sym")).expect("symlink");
    let sparse = std::fs::File::create(src.join("sparse")).expect("sparse");
    sparse.set_len(3 << 20).expect("size");
    std::os::unix::fs::FileExt::write_at(&sparse, b"middle", 1 << 20).expect("write");
    drop(sparse);
    let archive = base.join("a.tar");
    let out = std::process::Command::new("tar")
        .args(["--format=gnu", "--sparse", "--owner=5000000", "--group=100"])
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&src)
        .arg(".")
        .output()
        .expect("tar");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&archive).expect("read");
    let _ = std::fs::remove_dir_all(&base);

    let sys = System::boot(DEMO_ACCOUNTS).expect("boot");
    let task = sys.task();
    let root = sys.session_for(&task, IdSet::root()).expect("root");
    let list = entries(&bytes).expect("entries");
    assert!(list.iter().all(|e| !e.path.starts_with('.')));
    apply_archive(&root, &list).expect("apply");
    let long = format!("/{}/{}/f", "d".repeat(110), "e".repeat(60));
    assert_eq!(root.read_file(&long).expect("long"), b"long name\n");
    assert_eq!(root.read_file("/again").expect("hard"), b"plain\n");
    assert_eq!(root.read_file("/sym").expect("sym"), b"plain\n");
    let s = root.read_file("/sparse").expect("sparse");
    assert_eq!(s.len(), 3 << 20);
    assert_eq!(&s[1 << 20..(1 << 20) + 6], b"middle");
    assert!(s[..1 << 20].iter().all(|&b| b == 0));
    let p = root.open("/plain", OpenFlags::READ).expect("open");
    let st = io::Client::new(root.ipc, p).stat().expect("stat");
    root.release(p);
    assert_eq!((st.uid, st.gid, st.nlink), (5_000_000, 100, 2));
}
