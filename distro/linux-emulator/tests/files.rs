//! Files as RPCs: the Linux calls against a tmpfs served on hurd-ipc's
//! hosted runtime, with the errors Linux gives.
#![allow(clippy::unwrap_used)]

mod common;

use common::World;
use hurd_ipc::PortName;
use hurd_ipc::hosted::Runtime;
use linux_abi::Errno;
use linux_abi::flags::{
    AT_EMPTY_PATH, AT_FDCWD, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC,
    O_WRONLY,
};
use linux_abi::layout::dirent::{DT_DIR, DT_REG};
use linux_abi::layout::stat::{S_IFDIR, S_IFMT, S_IFREG};
use linux_emulator::files::{File, Files, SEEK_CUR, SEEK_END, SEEK_SET};

fn world() -> World {
    let mut w = common::world();
    w.put(b"motd", b"Welcome to hurd-rs.\n");
    w.mkdir("etc");
    w.put(b"etc/hostname", b"hurd-rs\n");
    w.put(b"etc/empty", b"");
    w
}

/// The `(name, type, next offset)` of each record.
fn records(mut data: &[u8]) -> Vec<(String, u8, i64)> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let off = i64::from_le_bytes(data[8..16].try_into().unwrap());
        let len = u16::from_le_bytes([data[16], data[17]]) as usize;
        assert_eq!(len % 8, 0, "records are 8-byte aligned");
        let name = &data[19..len];
        let end = name.iter().position(|&c| c == 0).unwrap();
        out.push((
            String::from_utf8(name[..end].to_vec()).unwrap(),
            data[18],
            off,
        ));
        data = &data[len..];
    }
    out
}

#[test]
fn open_read_seek_and_pread() {
    let mut w = world();
    let t = &w.task;
    let fd = w.files.openat(t, AT_FDCWD, b"motd", O_RDONLY, 0).unwrap();
    assert_eq!(fd, 0, "the lowest free descriptor");
    assert_eq!(
        w.files.read(t, fd, 100, None),
        Ok(b"Welcome to hurd-rs.\n".to_vec())
    );
    assert_eq!(w.files.read(t, fd, 100, None), Ok(vec![]), "end of file");
    assert_eq!(w.files.lseek(t, fd, 11, SEEK_SET), Ok(11));
    assert_eq!(w.files.read(t, fd, 5, None), Ok(b"hurd-".to_vec()));
    assert_eq!(w.files.read(t, fd, 4, Some(0)), Ok(b"Welc".to_vec()));
    assert_eq!(
        w.files.lseek(t, fd, 0, SEEK_CUR),
        Ok(16),
        "pread leaves the file pointer"
    );
    assert_eq!(w.files.lseek(t, fd, -1, SEEK_END), Ok(19));
    assert_eq!(w.files.lseek(t, fd, -100, SEEK_CUR), Err(Errno::Inval));
    assert_eq!(w.files.lseek(t, fd, 0, 7), Err(Errno::Inval));
    assert_eq!(w.files.read(t, fd, 1, Some(-1)), Err(Errno::Inval));
    assert_eq!(
        w.files.write(t, fd, b"x", None),
        Err(Errno::Badf),
        "read-only"
    );
    let st = w.files.fstat(t, fd).unwrap();
    assert_eq!((st.mode & S_IFMT, st.size), (S_IFREG, 20));
    w.files.close(t, fd).unwrap();
    assert_eq!(w.files.read(t, fd, 1, None), Err(Errno::Badf));
    assert_eq!(w.files.close(t, fd), Err(Errno::Badf));
    assert_eq!(w.files.fstat(t, 99), Err(Errno::Badf));
}

#[test]
fn errors_are_linuxs() {
    let mut w = world();
    let t = &w.task;
    let open = |f: &mut Files, name: &[u8], flags| f.openat(t, AT_FDCWD, name, flags, 0o644);
    assert_eq!(open(&mut w.files, b"missing", O_RDONLY), Err(Errno::Noent));
    assert_eq!(open(&mut w.files, b"", O_RDONLY), Err(Errno::Noent));
    assert_eq!(open(&mut w.files, b"motd/x", O_RDONLY), Err(Errno::Notdir));
    assert_eq!(open(&mut w.files, b"etc", O_WRONLY), Err(Errno::Isdir));
    assert_eq!(open(&mut w.files, b"etc", O_RDWR), Err(Errno::Isdir));
    assert_eq!(
        open(&mut w.files, b"motd", O_RDONLY | O_DIRECTORY),
        Err(Errno::Notdir)
    );
    assert_eq!(
        open(&mut w.files, b"motd", O_WRONLY | O_CREAT | O_EXCL),
        Err(Errno::Exist)
    );
    assert_eq!(open(&mut w.files, b"motd", 3), Err(Errno::Inval));
    assert_eq!(
        open(&mut w.files, &[b'a'; 5000], O_RDONLY),
        Err(Errno::Nametoolong)
    );
    let dir = open(&mut w.files, b"etc", O_RDONLY).unwrap();
    assert_eq!(w.files.read(t, dir, 10, None), Err(Errno::Isdir));
    let file = open(&mut w.files, b"motd", O_RDONLY).unwrap();
    assert_eq!(w.files.getdents64(t, file, 4096), Err(Errno::Notdir));
    assert_eq!(
        w.files.openat(t, file, b"x", O_RDONLY, 0),
        Err(Errno::Notdir),
        "a *at call from a file"
    );
    assert_eq!(
        w.files.openat(t, 42, b"x", O_RDONLY, 0),
        Err(Errno::Badf),
        "a *at call from a closed descriptor"
    );
    assert_eq!(
        w.files.statat(t, AT_FDCWD, b"motd", 0x8000_0000),
        Err(Errno::Inval)
    );
}

#[test]
fn at_calls_start_at_their_directory() {
    let mut w = world();
    let t = &w.task;
    let etc = w
        .files
        .openat(t, AT_FDCWD, b"etc", O_RDONLY | O_DIRECTORY, 0)
        .unwrap();
    let f = w.files.openat(t, etc, b"hostname", O_RDONLY, 0).unwrap();
    assert_eq!(w.files.read(t, f, 100, None), Ok(b"hurd-rs\n".to_vec()));
    let abs = w.files.openat(t, etc, b"/motd", O_RDONLY, 0).unwrap();
    assert_eq!(w.files.read(t, abs, 7, None), Ok(b"Welcome".to_vec()));
    let st = w.files.statat(t, etc, b"hostname", 0).unwrap();
    assert_eq!((st.mode & S_IFMT, st.size), (S_IFREG, 8));
    let st = w.files.statat(t, etc, b"", AT_EMPTY_PATH).unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFDIR);
    assert_eq!(w.files.statat(t, etc, b"", 0), Err(Errno::Noent));
    let st = w.files.statat(t, AT_FDCWD, b"etc/..", 0).unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFDIR);
    assert_eq!(
        w.files.statat(t, AT_FDCWD, b"etc/nothing", 0),
        Err(Errno::Noent)
    );
}

#[test]
fn create_truncate_append() {
    let mut w = world();
    let t = &w.task;
    w.files.umask = 0o027;
    let fd = w
        .files
        .openat(t, AT_FDCWD, b"note", O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        .unwrap();
    assert_eq!(w.files.write(t, fd, b"first line\n", None), Ok(11));
    assert_eq!(w.files.write(t, fd, b"FIRST", Some(0)), Ok(5));
    let st = w.files.fstat(t, fd).unwrap();
    assert_eq!(st.mode & 0o7777, 0o640, "the umask applies");
    w.files.close(t, fd).unwrap();
    let fd = w
        .files
        .openat(t, AT_FDCWD, b"note", O_WRONLY | O_APPEND, 0)
        .unwrap();
    assert_eq!(w.files.write(t, fd, b"more\n", None), Ok(5));
    w.files.close(t, fd).unwrap();
    let fd = w.files.openat(t, AT_FDCWD, b"note", O_RDONLY, 0).unwrap();
    assert_eq!(
        w.files.read(t, fd, 100, None),
        Ok(b"FIRST line\nmore\n".to_vec())
    );
    let fd2 = w
        .files
        .openat(t, AT_FDCWD, b"note", O_RDWR | O_TRUNC, 0)
        .unwrap();
    assert_eq!(w.files.fstat(t, fd2).unwrap().size, 0, "O_TRUNC");
    assert_eq!(w.files.fstat(t, fd).unwrap().size, 0);
}

#[test]
fn getdents64_lists_and_rewinds() {
    let mut w = world();
    let t = &w.task;
    let fd = w
        .files
        .openat(t, AT_FDCWD, b"etc", O_RDONLY | O_DIRECTORY, 0)
        .unwrap();
    let all = records(&w.files.getdents64(t, fd, 4096).unwrap());
    let mut names: Vec<_> = all.iter().map(|(n, d, _)| (n.as_str(), *d)).collect();
    names.sort();
    assert_eq!(
        names,
        [
            (".", DT_DIR),
            ("..", DT_DIR),
            ("empty", DT_REG),
            ("hostname", DT_REG)
        ]
    );
    let offsets: Vec<i64> = all.iter().map(|r| r.2).collect();
    assert_eq!(offsets, [1, 2, 3, 4]);
    assert_eq!(w.files.getdents64(t, fd, 4096), Ok(vec![]), "the end");
    // Rewind, then read one record at a time.
    assert_eq!(w.files.lseek(t, fd, 0, SEEK_SET), Ok(0));
    assert_eq!(w.files.getdents64(t, fd, 10), Err(Errno::Inval));
    let mut one_by_one = Vec::new();
    loop {
        let data = w.files.getdents64(t, fd, 32).unwrap();
        if data.is_empty() {
            break;
        }
        let r = records(&data);
        assert_eq!(r.len(), 1);
        one_by_one.extend(r);
    }
    assert_eq!(one_by_one.len(), 4, "{one_by_one:?}");
    assert!(one_by_one.iter().any(|r| r.0 == "hostname"));
    // Resume from an offset a record gave.
    assert_eq!(w.files.lseek(t, fd, 2, SEEK_SET), Ok(2));
    assert_eq!(records(&w.files.getdents64(t, fd, 4096).unwrap()).len(), 2);
}

#[test]
fn the_console_takes_writes_only() {
    static WRITTEN: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
    fn console(data: &[u8]) {
        WRITTEN.lock().unwrap().extend_from_slice(data);
    }
    let rt = Runtime::new();
    let t = rt.task();
    let mut files = Files::new(PortName::NULL, PortName::NULL, PortName::NULL, console);
    assert_eq!(files.insert(File::Console), Ok(0));
    assert_eq!(files.write(&t, 0, b"hi\n", None), Ok(3));
    assert_eq!(*WRITTEN.lock().unwrap(), b"hi\n");
    assert_eq!(files.write(&t, 0, b"x", Some(0)), Err(Errno::Spipe));
    assert_eq!(files.lseek(&t, 0, 0, SEEK_SET), Err(Errno::Spipe));
    assert_eq!(files.read(&t, 0, 1, None), Err(Errno::Badf));
    assert_eq!(files.fstat(&t, 0), Err(Errno::Badf));
    assert_eq!(
        files.openat(&t, AT_FDCWD, b"x", O_RDONLY, 0),
        Err(Errno::Badf),
        "no working directory"
    );
    files.close(&t, 0).unwrap();
}

#[test]
fn duplicates_share_the_file_pointer() {
    use linux_abi::flags::{F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, O_CLOEXEC};
    let mut w = world();
    let t = &w.task;
    let fd = w
        .files
        .openat(t, AT_FDCWD, b"motd", O_RDONLY | O_CLOEXEC, 0)
        .unwrap();
    assert_eq!(w.files.fcntl(t, fd, F_GETFD, 0), Ok(1));
    assert_eq!(w.files.fcntl(t, fd, F_SETFD, 0), Ok(0));
    assert_eq!(w.files.fcntl(t, fd, F_GETFD, 0), Ok(0));
    assert_eq!(
        w.files.fcntl(t, fd, F_GETFL, 0).unwrap() & 3,
        u64::from(O_RDONLY)
    );
    let copy = w.files.fcntl(t, fd, F_DUPFD_CLOEXEC, 10).unwrap();
    assert_eq!(copy, 10);
    assert_eq!(w.files.fcntl(t, 10, F_GETFD, 0), Ok(1));
    assert_eq!(w.files.read(t, fd, 8, None), Ok(b"Welcome ".to_vec()));
    w.files.close(t, fd).unwrap();
    assert_eq!(
        w.files.read(t, 10, 2, None),
        Ok(b"to".to_vec()),
        "the copy outlives the original and shares its file pointer"
    );
    assert_eq!(w.files.dup3(t, 10, 3, false, false), Ok(3));
    assert_eq!(w.files.dup3(t, 3, 3, false, true), Err(Errno::Inval));
    assert_eq!(w.files.dup3(t, 3, 3, false, false), Ok(3));
    assert_eq!(w.files.dup3(t, 7, 3, false, false), Err(Errno::Badf));
    w.files.close(t, 10).unwrap();
    assert_eq!(w.files.read(t, 3, 3, None), Ok(b" hu".to_vec()));
    assert_eq!(w.files.fcntl(t, 3, F_DUPFD, 0), Ok(0));
    assert_eq!(w.files.fcntl(t, 3, 12345, 0), Err(Errno::Inval));
    assert_eq!(w.files.fcntl(t, 99, F_GETFD, 0), Err(Errno::Badf));
}

#[test]
fn a_private_mapping_starts_with_the_files_bytes() {
    let mut w = world();
    let t = &w.task;
    let fd = w.files.openat(t, AT_FDCWD, b"motd", O_RDONLY, 0).unwrap();
    assert_eq!(
        w.files.mapping_contents(t, fd, 0, 8192).unwrap(),
        b"Welcome to hurd-rs.\n"
    );
    assert_eq!(w.files.mapping_contents(t, fd, 8, 2).unwrap(), b"to");
    assert_eq!(w.files.mapping_contents(t, fd, 4096, 4096).unwrap(), b"");
    let wo = w.files.openat(t, AT_FDCWD, b"motd", O_WRONLY, 0).unwrap();
    assert_eq!(w.files.mapping_contents(t, wo, 0, 4096), Err(Errno::Acces));
    let dir = w
        .files
        .openat(t, AT_FDCWD, b"etc", O_RDONLY | O_DIRECTORY, 0)
        .unwrap();
    assert_eq!(w.files.mapping_contents(t, dir, 0, 4096), Err(Errno::Nodev));
    let console = w.files.insert(File::Console).unwrap();
    assert_eq!(
        w.files.mapping_contents(t, console, 0, 4096),
        Err(Errno::Nodev)
    );
    assert_eq!(w.files.mapping_contents(t, 99, 0, 4096), Err(Errno::Badf));
}

#[test]
fn the_file_ioctls_set_nonblocking_and_close_on_exec() {
    use linux_abi::flags::{F_GETFD, F_GETFL, O_NONBLOCK};
    use linux_abi::layout::termios::{FIOCLEX, FIONBIO, FIONCLEX, TCGETS};
    let mut w = world();
    let t = &w.task;
    let fd = w.files.openat(t, AT_FDCWD, b"motd", O_RDONLY, 0).unwrap();
    let nonblocking =
        |files: &mut Files| files.fcntl(t, fd, F_GETFL, 0).unwrap() as u32 & O_NONBLOCK;
    assert_eq!(w.files.file_ioctl(t, fd, FIONBIO, Some(true)), Some(Ok(0)));
    assert_eq!(nonblocking(&mut w.files), O_NONBLOCK);
    assert_eq!(w.files.file_ioctl(t, fd, FIONBIO, Some(false)), Some(Ok(0)));
    assert_eq!(nonblocking(&mut w.files), 0);
    assert_eq!(
        w.files.file_ioctl(t, fd, FIONBIO, None),
        Some(Err(Errno::Fault))
    );
    assert_eq!(w.files.file_ioctl(t, fd, FIOCLEX, None), Some(Ok(0)));
    assert_eq!(w.files.fcntl(t, fd, F_GETFD, 0), Ok(1));
    assert_eq!(w.files.file_ioctl(t, fd, FIONCLEX, None), Some(Ok(0)));
    assert_eq!(w.files.fcntl(t, fd, F_GETFD, 0), Ok(0));
    assert_eq!(
        w.files.file_ioctl(t, fd, TCGETS, None),
        None,
        "not a file's"
    );
    assert_eq!(
        w.files.file_ioctl(t, 42, FIONBIO, Some(true)),
        Some(Err(Errno::Badf))
    );
    assert_eq!(
        w.files.file_ioctl(t, 42, FIOCLEX, None),
        Some(Err(Errno::Badf))
    );
}
