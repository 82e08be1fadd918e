//! The FUSE bridge for real: tmpfs and tarfs mounted on Linux and used with
//! ordinary tools (`ls`, `cat`, `cp`, `diff`, `tar`). Needs root and a
//! usable /dev/fuse; elsewhere each test says why it is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use hurd_auth::IdSet;
use hurd_ipc::Errno;
use hurd_trans::fuse::spawn_mount;
use hurd_trans::mode::{S_IFDIR, S_IFREG};
use hurd_trans::netfs::{DirEntry, NodeId, Tree};
use hurd_trans::stat::Stat;
use hurd_trans::tar::FileSource;
use hurd_trans::translators::tarfs::Tarfs;
use hurd_trans::translators::tmpfs::Tmpfs;

/// Why FUSE cannot be used here, if it cannot.
fn unusable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
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

macro_rules! require_fuse {
    () => {
        if let Some(why) = unusable() {
            eprintln!("SKIPPED: FUSE bridge test not run: {why}");
            return;
        }
    };
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hurd-trans-fuse-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn run(cmd: &str, args: &[&Path]) -> String {
    let out = Command::new(cmd).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sample_tree(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub/deeper")).expect("mkdir");
    std::fs::write(dir.join("hello.txt"), b"hello from the Hurd\n").expect("write");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.join("sub/big.bin"), big).expect("write");
    std::fs::write(dir.join("sub/deeper/empty"), b"").expect("write");
}

#[test]
fn tmpfs_through_fuse_with_ls_cat_cp_diff() {
    require_fuse!();
    let base = scratch("tmpfs");
    let (src, mnt) = (base.join("src"), base.join("mnt"));
    std::fs::create_dir_all(&mnt).expect("mnt");
    sample_tree(&src);
    let m = spawn_mount(
        Tmpfs::new(0, 0, 0o755, 1 << 28),
        IdSet::root(),
        &mnt,
        "tmpfs",
    )
    .expect("mount");
    run("cp", &[Path::new("-r"), &src.join("."), &mnt]);
    assert_eq!(
        run("cat", &[&mnt.join("hello.txt")]),
        "hello from the Hurd\n"
    );
    run("diff", &[Path::new("-r"), &src, &mnt]);
    let ls = run("ls", &[&mnt]);
    assert_eq!(
        ls.split_whitespace().collect::<Vec<_>>(),
        ["hello.txt", "sub"]
    );
    // Changes through the mount: rename, remove, append, truncate.
    std::fs::rename(mnt.join("hello.txt"), mnt.join("renamed")).expect("rename");
    std::fs::remove_file(mnt.join("sub/deeper/empty")).expect("rm");
    std::fs::remove_dir(mnt.join("sub/deeper")).expect("rmdir");
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(mnt.join("renamed"))
        .expect("open");
    f.write_all(b"more\n").expect("append");
    drop(f);
    assert_eq!(
        std::fs::read(mnt.join("renamed")).expect("read"),
        b"hello from the Hurd\nmore\n"
    );
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(mnt.join("renamed"))
        .expect("trunc");
    assert_eq!(
        std::fs::metadata(mnt.join("renamed")).expect("stat").len(),
        0
    );
    assert!(std::fs::read(mnt.join("nope")).is_err());
    // Symlinks and hard links are made through the protocols (dir_mkfile,
    // file_set_translator, dir_link), as glibc makes them on the Hurd.
    std::os::unix::fs::symlink("renamed", mnt.join("sym")).expect("symlink");
    assert_eq!(
        std::fs::read_link(mnt.join("sym")).expect("readlink"),
        Path::new("renamed")
    );
    std::fs::write(mnt.join("renamed"), b"linked\n").expect("write");
    std::fs::hard_link(mnt.join("renamed"), mnt.join("hard")).expect("link");
    assert_eq!(std::fs::read(mnt.join("hard")).expect("read"), b"linked\n");
    assert_eq!(std::fs::read(mnt.join("sym")).expect("read"), b"linked\n");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(mnt.join("hard")).expect("stat").nlink(),
        2
    );
    assert!(std::fs::hard_link(mnt.join("renamed"), mnt.join("hard")).is_err());
    drop(m);
    let _ = std::fs::remove_dir_all(&base);
}

/// Names are bytes from Linux to the tree and back: a file called
/// `b"\xff\xfe"` (not UTF-8) is made, listed, renamed, linked and removed
/// through the mount under its own bytes; so are symlink targets.
#[test]
fn names_that_are_not_utf8_through_fuse() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    require_fuse!();
    let base = scratch("bytes");
    let mnt = base.join("mnt");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let m = spawn_mount(
        Tmpfs::new(0, 0, 0o755, 1 << 20),
        IdSet::root(),
        &mnt,
        "tmpfs",
    )
    .expect("mount");
    let odd = OsStr::from_bytes(b"\xff\xfe");
    let other = OsStr::from_bytes(b"caf\xe9");
    let listing = |dir: &Path| {
        let mut names: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .expect("readdir")
            .map(|e| e.expect("entry").file_name().as_bytes().to_vec())
            .collect();
        names.sort();
        names
    };
    std::fs::write(mnt.join(odd), b"bytes\n").expect("create");
    assert_eq!(listing(&mnt), [b"\xff\xfe".to_vec()]);
    assert_eq!(std::fs::read(mnt.join(odd)).expect("read"), b"bytes\n");
    // Another spelling of the same text is another name.
    assert!(std::fs::read(mnt.join("\u{fffd}\u{fffd}")).is_err());
    std::fs::create_dir(mnt.join(other)).expect("mkdir");
    std::fs::rename(mnt.join(odd), mnt.join(other).join(odd)).expect("rename");
    assert_eq!(listing(&mnt), [b"caf\xe9".to_vec()]);
    assert_eq!(listing(&mnt.join(other)), [b"\xff\xfe".to_vec()]);
    std::fs::hard_link(mnt.join(other).join(odd), mnt.join(odd)).expect("link");
    assert_eq!(std::fs::read(mnt.join(odd)).expect("read"), b"bytes\n");
    // `ls` shows the same bytes.
    let ls = Command::new("ls")
        .arg("-1")
        .arg(&mnt)
        .env("LC_ALL", "C")
        .output()
        .expect("ls");
    assert!(ls.status.success());
    let mut shown: Vec<&[u8]> = ls.stdout.split(|&b| b == b'\n').collect();
    shown.retain(|l| !l.is_empty());
    assert_eq!(shown.len(), 2, "{:?}", String::from_utf8_lossy(&ls.stdout));
    // A symlink's target is bytes too, and is followed as such.
    std::os::unix::fs::symlink(OsStr::from_bytes(b"caf\xe9/\xff\xfe"), mnt.join("l"))
        .expect("symlink to a name that is not UTF-8");
    assert_eq!(
        std::fs::read_link(mnt.join("l"))
            .expect("readlink")
            .as_os_str()
            .as_bytes(),
        b"caf\xe9/\xff\xfe"
    );
    assert_eq!(std::fs::read(mnt.join("l")).expect("follow"), b"bytes\n");
    std::fs::remove_file(mnt.join("l")).expect("unlink");
    std::fs::remove_file(mnt.join(odd)).expect("unlink");
    std::fs::remove_file(mnt.join(other).join(odd)).expect("unlink");
    std::fs::remove_dir(mnt.join(other)).expect("rmdir");
    assert!(listing(&mnt).is_empty());
    drop(m);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn tarfs_through_fuse_matches_the_tree_it_was_made_from() {
    require_fuse!();
    let base = scratch("tarfs");
    let (src, mnt) = (base.join("src"), base.join("mnt"));
    std::fs::create_dir_all(&mnt).expect("mnt");
    sample_tree(&src);
    std::os::unix::fs::symlink("hello.txt", src.join("link")).expect("symlink");
    let archive = base.join("a.tar");
    run(
        "tar",
        &[
            Path::new("-cf"),
            &archive,
            Path::new("-C"),
            &src,
            Path::new("."),
        ],
    );
    let file = std::fs::File::open(&archive).expect("open");
    let t = Tarfs::open(FileSource(file), 0, 0).expect("parse");
    let m = spawn_mount(t, IdSet::root(), &mnt, "tarfs").expect("mount");
    run("diff", &[Path::new("-r"), &src, &mnt]);
    assert_eq!(run("cat", &[&mnt.join("link")]), "hello from the Hurd\n");
    assert_eq!(
        std::fs::read_link(mnt.join("link")).expect("readlink"),
        Path::new("hello.txt")
    );
    let out = base.join("copy.bin");
    run("cp", &[&mnt.join("sub/big.bin"), &out]);
    run("cmp", &[&out, &src.join("sub/big.bin")]);
    assert!(
        std::fs::write(mnt.join("new"), b"x").is_err(),
        "tarfs is read-only"
    );
    drop(m);
    let _ = std::fs::remove_dir_all(&base);
}

/// One file whose every `io_read` answers at most 1000 bytes: a server may
/// answer short, and FUSE must not take that for the end of the file.
struct Trickle(Vec<u8>);

impl Tree for Trickle {
    fn root(&self) -> NodeId {
        1
    }
    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        let (mode, size) = match node {
            1 => (S_IFDIR | 0o755, 0),
            2 => (S_IFREG | 0o644, self.0.len() as u64),
            _ => return Err(Errno::NoEnt),
        };
        Ok(Stat {
            ino: node,
            mode,
            size,
            nlink: 1,
            ..Stat::default()
        })
    }
    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        match (dir, name) {
            (1, b"f") => Ok(2),
            (1, b"." | b"..") => Ok(1),
            (1, _) => Err(Errno::NoEnt),
            _ => Err(Errno::NotDir),
        }
    }
    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        if node != 2 {
            return Err(Errno::IsDir);
        }
        let start = (offset as usize).min(self.0.len());
        let end = start + len.min(1000).min(self.0.len() - start);
        Ok(self.0[start..end].to_vec())
    }
    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        if dir != 1 {
            return Err(Errno::NotDir);
        }
        let entry = |ino, kind, name: &str| DirEntry {
            ino,
            kind,
            name: name.into(),
        };
        Ok(vec![
            entry(1, S_IFDIR, "."),
            entry(1, S_IFDIR, ".."),
            entry(2, S_IFREG, "f"),
        ])
    }
}

#[test]
fn short_io_reads_are_not_the_end_of_the_file() {
    require_fuse!();
    let base = scratch("trickle");
    let mnt = base.join("mnt");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let m = spawn_mount(Trickle(data.clone()), IdSet::root(), &mnt, "trickle").expect("mount");
    assert_eq!(std::fs::read(mnt.join("f")).expect("read"), data);
    let out = base.join("copy.bin");
    run("cp", &[&mnt.join("f"), &out]);
    assert_eq!(std::fs::read(&out).expect("read copy"), data);
    drop(m);
    let _ = std::fs::remove_dir_all(&base);
}

/// Every Hurd errno the bridge can answer with is the number Linux's own
/// headers give the condition.
#[test]
fn errno_numbers_are_linux() {
    let pairs = [
        (Errno::Perm, libc::EPERM),
        (Errno::NoEnt, libc::ENOENT),
        (Errno::Intr, libc::EINTR),
        (Errno::Io, libc::EIO),
        (Errno::NxIo, libc::ENXIO),
        (Errno::NoExec, libc::ENOEXEC),
        (Errno::BadF, libc::EBADF),
        (Errno::NoMem, libc::ENOMEM),
        (Errno::Access, libc::EACCES),
        (Errno::Busy, libc::EBUSY),
        (Errno::Exist, libc::EEXIST),
        (Errno::XDev, libc::EXDEV),
        (Errno::NotDir, libc::ENOTDIR),
        (Errno::IsDir, libc::EISDIR),
        (Errno::Inval, libc::EINVAL),
        (Errno::FBig, libc::EFBIG),
        (Errno::NoSpc, libc::ENOSPC),
        (Errno::SPipe, libc::ESPIPE),
        (Errno::RoFs, libc::EROFS),
        (Errno::Again, libc::EAGAIN),
        (Errno::OpNotSupp, libc::EOPNOTSUPP),
        (Errno::TimedOut, libc::ETIMEDOUT),
        (Errno::Loop, libc::ELOOP),
        (Errno::NameTooLong, libc::ENAMETOOLONG),
        (Errno::NotEmpty, libc::ENOTEMPTY),
        (Errno::NoSys, libc::ENOSYS),
        (Errno::FType, libc::EIO),
        (Errno::Died, libc::EIO),
        (Errno::Gratuitous, libc::EIO),
    ];
    for (hurd, linux) in pairs {
        assert_eq!(hurd.linux(), linux, "{hurd:?}");
    }
}

/// Runs `sh -c script` as user and group 1000 (no other groups), in `dir`.
fn as_user_1000(dir: &Path, script: &str) -> std::process::Output {
    Command::new("setpriv")
        .args([
            "--reuid=1000",
            "--regid=1000",
            "--clear-groups",
            "sh",
            "-c",
            script,
        ])
        .current_dir(dir)
        .output()
        .expect("setpriv")
}

#[test]
fn requests_are_served_with_the_callers_ids() {
    require_fuse!();
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    let base = scratch("ids");
    let mnt = base.join("mnt");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let m = spawn_mount(
        Tmpfs::new(0, 0, 0o755, 1 << 28),
        IdSet::root(),
        &mnt,
        "tmpfs",
    )
    .expect("mount");
    std::fs::create_dir(mnt.join("open")).expect("mkdir");
    std::fs::set_permissions(mnt.join("open"), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    std::fs::write(mnt.join("open/roots"), b"root's\n").expect("write");
    std::fs::set_permissions(
        mnt.join("open/roots"),
        std::fs::Permissions::from_mode(0o4666),
    )
    .expect("chmod");
    // Another user reaches the mount (allow_other), owns what it makes
    // (with its own group), may not change what it does not own, and its
    // write clears the set-user-id bit.
    let out = as_user_1000(
        &mnt.join("open"),
        "echo mine > mine && mkdir d && ln -s mine link && mkfifo fifo && \
         echo more >> roots && ! chmod 0600 roots 2>/dev/null",
    );
    assert!(
        out.status.success(),
        "as uid 1000: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["mine", "d", "link", "fifo"] {
        let md = std::fs::symlink_metadata(mnt.join("open").join(name)).expect(name);
        assert_eq!((md.uid(), md.gid()), (1000, 1000), "owner of {name}");
    }
    let roots = std::fs::metadata(mnt.join("open/roots")).expect("stat");
    assert_eq!((roots.uid(), roots.mode() & 0o7777), (0, 0o666));
    assert_eq!(
        std::fs::read(mnt.join("open/roots")).expect("read"),
        b"root's\nmore\n"
    );
    assert!(
        std::fs::symlink_metadata(mnt.join("open/fifo"))
            .expect("fifo")
            .file_type()
            .is_fifo()
    );
    drop(m);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_trivfs_node_mounts_on_a_file_and_is_refused_on_a_directory() {
    require_fuse!();
    use hurd_trans::translators::hello::Hello;
    use hurd_trans::trivfs::Single;
    let d = scratch("trivfs");
    let file = d.join("motd");
    std::fs::write(&file, b"").expect("write");
    let m = spawn_mount(
        Single::new(Hello::new(b"hi\n"), 0, 0),
        IdSet::root(),
        &file,
        "hello",
    )
    .expect("mount on a file");
    assert_eq!(run("cat", &[&file]), "hi\n");
    let ls = run("ls", &[Path::new("-ln"), &file]);
    assert!(ls.starts_with("-r--r--r-- 1 0 0 3 "), "{ls}");
    drop(m);
    assert_eq!(std::fs::read(&file).expect("read"), b"", "unmounted");

    let dir = d.join("dir");
    std::fs::create_dir(&dir).expect("mkdir");
    let err = spawn_mount(
        Single::new(Hello::new(b"hi\n"), 0, 0),
        IdSet::root(),
        &dir,
        "hello",
    )
    .err()
    .expect("a file's translator on a directory is refused");
    assert_eq!(err.kind(), std::io::ErrorKind::IsADirectory, "{err}");
    assert!(err.to_string().contains("dir"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A file whose every read tells the caller's service, through `to` (a
/// send right in `task`'s space): a translator using its mounter's services.
struct Ping {
    task: hurd_ipc::hosted::Task,
    to: hurd_ipc::PortName,
}

impl hurd_trans::trivfs::TrivFs for Ping {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o444,
            size: 5,
            ..Stat::default()
        }
    }
    fn read(&mut self, offset: u64, _len: usize) -> Result<Vec<u8>, Errno> {
        use hurd_ipc::UserIpc;
        if offset > 0 {
            return Ok(Vec::new());
        }
        let msg = hurd_ipc::Message::new(4242, self.to, hurd_ipc::Disposition::CopySend);
        self.task.send(msg).map_err(|_| Errno::Io)?;
        Ok(b"sent\n".to_vec())
    }
}

#[test]
fn a_translator_mounted_in_the_callers_runtime_reaches_its_services_and_join_waits_for_umount() {
    require_fuse!();
    use hurd_ipc::user::ReceiveRight;
    use hurd_ipc::{Disposition, MsgOptions, UserIpc};
    let d = scratch("as");
    let file = d.join("ping");
    std::fs::write(&file, b"").expect("write");

    let rt = hurd_ipc::hosted::Runtime::new();
    let caller = rt.task();
    let service = ReceiveRight::allocate(caller.clone()).expect("port");
    let fs = rt.task();
    let to = caller
        .give_right(service.name(), Disposition::MakeSend, &fs)
        .expect("give");
    let tree = hurd_trans::trivfs::Single::new(
        Ping {
            task: fs.clone(),
            to,
        },
        0,
        0,
    );
    let m =
        hurd_trans::fuse::spawn_mount_as(fs, tree, IdSet::root(), &file, "ping").expect("mount");
    assert_eq!(run("cat", &[&file]), "sent\n");
    let opts = MsgOptions {
        rcv_timeout: Some(std::time::Duration::from_secs(10)),
        ..MsgOptions::default()
    };
    let msg = caller
        .receive_with(service.name(), &opts)
        .expect("the service hears the read");
    assert_eq!(msg.header.id, 4242);

    let umount = {
        let file = file.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            run("umount", &[&file])
        })
    };
    m.join();
    umount.join().expect("umount");
    assert_eq!(std::fs::read(&file).expect("read"), b"", "unmounted");
    let _ = std::fs::remove_dir_all(&d);
}

/// A directory's attributes as Linux shows them follow every change made
/// in it through the mount, also when changes in two directories take
/// turns (the bridge asks for a changed directory's status ahead of
/// Linux's `getattr`, and must never answer with one older than a change).
/// The tmpfs's clock ticks a second each time it is read, so every change
/// has its own time.
#[test]
fn directory_attributes_follow_each_change() {
    use std::os::unix::fs::MetadataExt;
    use std::sync::atomic::{AtomicI64, Ordering};
    require_fuse!();
    let base = scratch("dirattr");
    let mnt = base.join("mnt");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let ticks = AtomicI64::new(1_000_000);
    let clock = Box::new(move || hurd_trans::stat::TimeSpec {
        sec: ticks.fetch_add(1, Ordering::Relaxed),
        nsec: 0,
    });
    let tree = Tmpfs::new(0, 0, 0o755, 1 << 26).with_clock(clock);
    let m = spawn_mount(tree, IdSet::root(), &mnt, "tmpfs").expect("mount");
    let (a, b) = (mnt.join("a"), mnt.join("b"));
    std::fs::create_dir(&a).expect("mkdir a");
    std::fs::create_dir(&b).expect("mkdir b");
    let look = |d: &Path| {
        let s = std::fs::metadata(d).expect("stat");
        (s.mtime(), s.ctime(), s.nlink())
    };
    // Each step changes the first directory (and perhaps the second),
    // with the directory's link count it leaves.
    type Step = (&'static str, fn(&Path, &Path), u64);
    let steps: [Step; 8] = [
        (
            "create",
            |a, _| drop(std::fs::File::create(a.join("f")).expect("create")),
            2,
        ),
        (
            "mkdir",
            |a, _| std::fs::create_dir(a.join("d")).expect("mkdir"),
            3,
        ),
        (
            "link",
            |a, b| {
                std::fs::hard_link(a.join("f"), b.join("g"))
                    .map(|()| std::fs::hard_link(b.join("g"), a.join("h")))
                    .expect("link")
                    .expect("link")
            },
            3,
        ),
        (
            "rename in",
            |a, b| {
                std::fs::File::create(b.join("x")).expect("create");
                std::fs::rename(b.join("x"), a.join("x")).expect("rename")
            },
            3,
        ),
        (
            "rename out",
            |a, b| std::fs::rename(a.join("x"), b.join("y")).expect("rename"),
            3,
        ),
        (
            "unlink",
            |a, b| {
                std::fs::remove_file(a.join("h")).expect("unlink");
                std::fs::remove_file(b.join("g")).expect("unlink")
            },
            3,
        ),
        (
            "symlink",
            |a, _| std::os::unix::fs::symlink("f", a.join("s")).expect("symlink"),
            3,
        ),
        (
            "rmdir",
            |a, _| std::fs::remove_dir(a.join("d")).expect("rmdir"),
            2,
        ),
    ];
    let mut before = look(&a);
    for (what, step, nlink) in steps {
        step(&a, &b);
        let after = look(&a);
        assert!(
            after.0 > before.0,
            "{what}: mtime {} after {}",
            after.0,
            before.0
        );
        assert!(
            after.1 > before.1,
            "{what}: ctime {} after {}",
            after.1,
            before.1
        );
        assert_eq!(after.2, nlink, "{what}: link count");
        // Unchanged and asked again: the same.
        assert_eq!(look(&a), after, "{what}: asked again");
        before = after;
    }
    drop(m);
    let _ = std::fs::remove_dir_all(&base);
}
