//! Changes to the name space as RPCs: the Linux calls against a tmpfs
//! served on hurd-ipc's hosted runtime, with the errors Linux gives.
#![allow(clippy::unwrap_used)]

mod common;

use common::World;
use linux_abi::Errno;
use linux_abi::flags::{
    AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_CREAT, O_DIRECTORY, O_RDONLY,
    O_WRONLY,
};
use linux_abi::layout::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use linux_emulator::dirs::RENAME_NOREPLACE;

/// A tmpfs whose root is both the root and the working directory, with
/// the file `motd`.
fn world() -> World {
    let mut w = common::world();
    w.put(b"motd", b"Welcome\n");
    w
}

impl World {
    /// The type and permission bits of `name` (not following a symlink).
    fn mode(&self, name: &str) -> Result<u32, Errno> {
        self.files
            .statat(&self.task, AT_FDCWD, name.as_bytes(), AT_SYMLINK_NOFOLLOW)
            .map(|st| st.mode)
    }

    fn size(&self, name: &str) -> u64 {
        self.files
            .statat(&self.task, AT_FDCWD, name.as_bytes(), 0)
            .unwrap()
            .size as u64
    }

    fn write(&mut self, name: &str, data: &[u8]) {
        let t = &self.task;
        let fd = self
            .files
            .openat(t, AT_FDCWD, name.as_bytes(), O_WRONLY | O_CREAT, 0o644)
            .unwrap();
        self.files.write(t, fd, data, None).unwrap();
        self.files.close(t, fd).unwrap();
    }
}

#[test]
fn mkdir_with_the_umask_and_its_errors() {
    let w = world();
    let (t, f) = (&w.task, &w.files);
    assert_eq!(f.mkdirat(t, AT_FDCWD, b"d", 0o777), Ok(()));
    assert_eq!(w.mode("d"), Ok(S_IFDIR | 0o755), "0777 less the umask 022");
    assert_eq!(f.mkdirat(t, AT_FDCWD, b"d", 0o777), Err(Errno::Exist));
    assert_eq!(f.mkdirat(t, AT_FDCWD, b"d/e/", 0o700), Ok(()), "a final /");
    assert_eq!(w.mode("d/e"), Ok(S_IFDIR | 0o700));
    assert_eq!(
        f.mkdirat(t, AT_FDCWD, b"missing/x", 0o777),
        Err(Errno::Noent)
    );
    assert_eq!(f.mkdirat(t, AT_FDCWD, b"motd/x", 0o777), Err(Errno::Notdir));
    assert_eq!(f.mkdirat(t, AT_FDCWD, b"", 0o777), Err(Errno::Noent));
    assert_eq!(f.mkdirat(t, AT_FDCWD, b".", 0o777), Err(Errno::Exist));
    assert_eq!(f.mkdirat(t, AT_FDCWD, b"/", 0o777), Err(Errno::Exist));
    assert_eq!(f.mkdirat(t, 9, b"x", 0o777), Err(Errno::Badf));
    assert_eq!(f.mkdirat(t, 9, b"/abs", 0o777), Ok(()), "dirfd unused");
    assert_eq!(w.mode("abs"), Ok(S_IFDIR | 0o755));
}

#[test]
fn mkdirat_from_a_directory_descriptor() {
    let mut w = world();
    let t = &w.task;
    w.files.mkdirat(t, AT_FDCWD, b"d", 0o755).unwrap();
    let d = w
        .files
        .openat(t, AT_FDCWD, b"d", O_RDONLY | O_DIRECTORY, 0)
        .unwrap();
    assert_eq!(w.files.mkdirat(t, d, b"sub", 0o755), Ok(()));
    assert_eq!(w.mode("d/sub"), Ok(S_IFDIR | 0o755));
    let m = w.files.openat(t, AT_FDCWD, b"motd", O_RDONLY, 0).unwrap();
    assert_eq!(w.files.mkdirat(t, m, b"x", 0o755), Err(Errno::Notdir));
}

#[test]
fn unlink_and_rmdir_as_linux_answers() {
    let mut w = world();
    w.files.mkdirat(&w.task, AT_FDCWD, b"d", 0o755).unwrap();
    w.write("d/f", b"x");
    let (t, f) = (&w.task, &w.files);
    assert_eq!(f.unlinkat(t, AT_FDCWD, b"d", 0), Err(Errno::Isdir));
    assert_eq!(f.unlinkat(t, AT_FDCWD, b"d/f/", 0), Err(Errno::Notdir));
    assert_eq!(f.unlinkat(t, AT_FDCWD, b"d/", 0), Err(Errno::Isdir));
    assert_eq!(f.unlinkat(t, AT_FDCWD, b".", 0), Err(Errno::Isdir));
    assert_eq!(
        f.unlinkat(t, AT_FDCWD, b"d", AT_REMOVEDIR),
        Err(Errno::Notempty)
    );
    assert_eq!(
        f.unlinkat(t, AT_FDCWD, b"d/f", AT_REMOVEDIR),
        Err(Errno::Notdir)
    );
    assert_eq!(
        f.unlinkat(t, AT_FDCWD, b".", AT_REMOVEDIR),
        Err(Errno::Inval)
    );
    assert_eq!(f.unlinkat(t, AT_FDCWD, b"d", 0x1), Err(Errno::Inval));
    assert_eq!(f.unlinkat(t, AT_FDCWD, b"nothing", 0), Err(Errno::Noent));
    assert_eq!(f.unlinkat(t, AT_FDCWD, b"d/f", 0), Ok(()));
    assert_eq!(w.mode("d/f"), Err(Errno::Noent));
    assert_eq!(f.unlinkat(t, AT_FDCWD, b"d/", AT_REMOVEDIR), Ok(()));
    assert_eq!(w.mode("d"), Err(Errno::Noent));
}

#[test]
fn rename_moves_and_replaces() {
    let mut w = world();
    w.files.mkdirat(&w.task, AT_FDCWD, b"d", 0o755).unwrap();
    w.files.mkdirat(&w.task, AT_FDCWD, b"e", 0o755).unwrap();
    w.write("d/f", b"f");
    w.write("g", b"gg");
    let (t, f) = (&w.task, &w.files);
    assert_eq!(
        f.renameat2(t, AT_FDCWD, b"d/f", AT_FDCWD, b"e/h", 0),
        Ok(())
    );
    assert_eq!(w.mode("d/f"), Err(Errno::Noent));
    assert_eq!(w.size("e/h"), 1);
    assert_eq!(
        f.renameat2(t, AT_FDCWD, b"g", AT_FDCWD, b"e/h", RENAME_NOREPLACE),
        Err(Errno::Exist)
    );
    assert_eq!(f.renameat2(t, AT_FDCWD, b"g", AT_FDCWD, b"e/h", 0), Ok(()));
    assert_eq!(w.size("e/h"), 2, "replaced");
    assert_eq!(
        f.renameat2(t, AT_FDCWD, b"nothing", AT_FDCWD, b"x", 0),
        Err(Errno::Noent)
    );
    assert_eq!(
        f.renameat2(t, AT_FDCWD, b".", AT_FDCWD, b"x", 0),
        Err(Errno::Busy)
    );
    assert_eq!(
        f.renameat2(t, AT_FDCWD, b"d", AT_FDCWD, b"x", 4),
        Err(Errno::Inval)
    );
    assert_eq!(
        f.renameat2(t, AT_FDCWD, b"d", AT_FDCWD, b"e", 0),
        Err(Errno::Notempty),
        "onto a directory that is not empty"
    );
    assert_eq!(
        f.renameat2(t, AT_FDCWD, b"e/h", AT_FDCWD, b"d", 0),
        Err(Errno::Isdir),
        "a file onto a directory"
    );
    assert_eq!(
        f.renameat2(t, AT_FDCWD, b"d", AT_FDCWD, b"motd", 0),
        Err(Errno::Notdir),
        "a directory onto a file"
    );
    assert_eq!(f.renameat2(t, AT_FDCWD, b"d", AT_FDCWD, b"d2", 0), Ok(()));
    assert_eq!(w.mode("d2"), Ok(S_IFDIR | 0o755));
}

#[test]
fn links_and_symlinks() {
    let w = world();
    w.files.mkdirat(&w.task, AT_FDCWD, b"d", 0o755).unwrap();
    let (t, f) = (&w.task, &w.files);
    assert_eq!(f.linkat(t, AT_FDCWD, b"motd", AT_FDCWD, b"d/m", 0), Ok(()));
    let st = f.statat(t, AT_FDCWD, b"motd", 0).unwrap();
    assert_eq!(st.nlink, 2);
    assert_eq!(
        f.linkat(t, AT_FDCWD, b"motd", AT_FDCWD, b"d/m", 0),
        Err(Errno::Exist)
    );
    assert_eq!(
        f.linkat(t, AT_FDCWD, b"d", AT_FDCWD, b"d2", 0),
        Err(Errno::Perm),
        "a directory"
    );
    assert_eq!(
        f.linkat(t, AT_FDCWD, b"nothing", AT_FDCWD, b"x", 0),
        Err(Errno::Noent)
    );
    assert_eq!(f.symlinkat(t, b"motd", AT_FDCWD, b"s"), Ok(()));
    assert_eq!(w.mode("s").map(|m| m & S_IFMT), Ok(S_IFLNK));
    assert_eq!(f.readlinkat(t, AT_FDCWD, b"s"), Ok(b"motd".to_vec()));
    assert_eq!(w.size("s"), 8, "stat follows it");
    assert_eq!(f.readlinkat(t, AT_FDCWD, b"motd"), Err(Errno::Inval));
    assert_eq!(f.readlinkat(t, AT_FDCWD, b"nothing"), Err(Errno::Noent));
    assert_eq!(f.symlinkat(t, b"x", AT_FDCWD, b"motd"), Err(Errno::Exist));
    assert_eq!(f.symlinkat(t, b"", AT_FDCWD, b"y"), Err(Errno::Noent));
    // A link to the symlink itself, and with AT_SYMLINK_FOLLOW to its file.
    assert_eq!(f.linkat(t, AT_FDCWD, b"s", AT_FDCWD, b"s2", 0), Ok(()));
    assert_eq!(f.readlinkat(t, AT_FDCWD, b"s2"), Ok(b"motd".to_vec()));
    assert_eq!(
        f.linkat(t, AT_FDCWD, b"s", AT_FDCWD, b"m3", AT_SYMLINK_FOLLOW),
        Ok(())
    );
    assert_eq!(w.mode("m3").map(|m| m & S_IFMT), Ok(S_IFREG));
    assert_eq!(f.statat(t, AT_FDCWD, b"motd", 0).unwrap().nlink, 3);
}

#[test]
fn truncate_chmod_and_chdir() {
    let mut w = world();
    w.files.mkdirat(&w.task, AT_FDCWD, b"d", 0o755).unwrap();
    w.write("d/f", b"0123456789");
    let t = &w.task;
    assert_eq!(w.files.truncate(t, b"d/f", 4), Ok(()));
    assert_eq!(w.size("d/f"), 4);
    assert_eq!(w.files.truncate(t, b"d/f", -1), Err(Errno::Inval));
    assert_eq!(w.files.truncate(t, b"d", 0), Err(Errno::Isdir));
    let fd = w.files.openat(t, AT_FDCWD, b"d/f", O_WRONLY, 0).unwrap();
    assert_eq!(w.files.ftruncate(t, fd, 2), Ok(()));
    assert_eq!(w.size("d/f"), 2);
    let ro = w.files.openat(t, AT_FDCWD, b"d/f", O_RDONLY, 0).unwrap();
    assert_eq!(w.files.ftruncate(t, ro, 0), Err(Errno::Inval));
    assert_eq!(w.files.ftruncate(t, 99, 0), Err(Errno::Badf));
    assert_eq!(w.files.chmodat(t, AT_FDCWD, b"d/f", 0o600), Ok(()));
    assert_eq!(w.mode("d/f"), Ok(S_IFREG | 0o600));
    assert_eq!(w.files.fchmod(t, fd, 0o4640), Ok(()));
    assert_eq!(w.mode("d/f"), Ok(S_IFREG | 0o4640));
    assert_eq!(
        w.files.chmodat(t, AT_FDCWD, b"nothing", 0o600),
        Err(Errno::Noent)
    );
    assert_eq!(w.files.chdir(t, b"d/f"), Err(Errno::Notdir));
    assert_eq!(w.files.chdir(t, b"nothing"), Err(Errno::Noent));
    assert_eq!(w.files.chdir(t, b"d"), Ok(()));
    assert_eq!(w.mode("f"), Ok(S_IFREG | 0o4640), "relative to d");
    assert_eq!(w.files.chdir(t, b".."), Ok(()));
    assert_eq!(w.mode("motd"), Ok(S_IFREG | 0o644));
    let d = w
        .files
        .openat(t, AT_FDCWD, b"d", O_RDONLY | O_DIRECTORY, 0)
        .unwrap();
    assert_eq!(w.files.fchdir(t, ro), Err(Errno::Notdir));
    assert_eq!(w.files.fchdir(t, d), Ok(()));
    w.files.close(t, d).unwrap();
    assert_eq!(w.mode("f"), Ok(S_IFREG | 0o4640), "the directory stays");
    assert_eq!(w.files.chdir(t, b"/"), Ok(()));
    assert_eq!(w.mode("motd"), Ok(S_IFREG | 0o644));
}

#[test]
fn getcwd_walks_up_to_the_root() {
    let mut w = world();
    let t = &w.task;
    assert_eq!(w.files.getcwd(t), Ok(b"/".to_vec()));
    w.files.mkdirat(t, AT_FDCWD, b"a", 0o755).unwrap();
    w.files.mkdirat(t, AT_FDCWD, b"a/bb", 0o755).unwrap();
    w.files.mkdirat(t, AT_FDCWD, b"a/bb/c", 0o755).unwrap();
    w.files.mkdirat(t, AT_FDCWD, b"a/other", 0o755).unwrap();
    assert_eq!(w.files.chdir(t, b"a/bb/c"), Ok(()));
    assert_eq!(w.files.getcwd(t), Ok(b"/a/bb/c".to_vec()));
    assert_eq!(w.files.chdir(t, b"../../other"), Ok(()));
    assert_eq!(w.files.getcwd(t), Ok(b"/a/other".to_vec()));
    assert_eq!(w.files.chdir(t, b"/a"), Ok(()));
    assert_eq!(w.files.getcwd(t), Ok(b"/a".to_vec()));
    // Moved away under the process: the name follows the directory.
    assert_eq!(
        w.files
            .renameat2(t, AT_FDCWD, b"/a", AT_FDCWD, b"/renamed", 0),
        Ok(())
    );
    assert_eq!(w.files.getcwd(t), Ok(b"/renamed".to_vec()));
    assert_eq!(w.files.chdir(t, b"other"), Ok(()));
    assert_eq!(
        w.files
            .unlinkat(t, AT_FDCWD, b"/renamed/other", AT_REMOVEDIR),
        Ok(())
    );
    assert_eq!(
        w.files.getcwd(t),
        Err(Errno::Noent),
        "a removed working directory has no name"
    );
}
