//! The translator's status as FUSE shows it: attributes, file types,
//! times and error numbers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{FileAttr, FileType};
use hurd_ipc::Error;

use crate::mode::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK};
use crate::stat::{Stat, TimeSpec};
use crate::translators::ports::to_errno;

/// A protocol error as the Linux error number FUSE replies with.
pub(super) fn err(e: Error) -> i32 {
    to_errno(e).linux()
}

/// A translator time as a `SystemTime`.
pub(super) fn time(t: TimeSpec) -> SystemTime {
    let whole = Duration::from_secs(t.sec.unsigned_abs());
    let at = if t.sec >= 0 {
        UNIX_EPOCH.checked_add(whole)
    } else {
        // Before 1970 (an archive's old files).
        UNIX_EPOCH.checked_sub(whole)
    };
    at.and_then(|a| a.checked_add(Duration::from_nanos(u64::from(t.nsec))))
        .unwrap_or(UNIX_EPOCH)
}

/// The FUSE file type of a mode.
pub(super) fn kind(mode: u32) -> FileType {
    match mode & S_IFMT {
        S_IFDIR => FileType::Directory,
        S_IFLNK => FileType::Symlink,
        S_IFCHR => FileType::CharDevice,
        S_IFBLK => FileType::BlockDevice,
        S_IFIFO => FileType::NamedPipe,
        S_IFSOCK => FileType::Socket,
        _ => FileType::RegularFile,
    }
}

/// The attributes of node `ino` with status `s`.
pub(super) fn attr(ino: u64, s: &Stat) -> FileAttr {
    FileAttr {
        ino,
        size: s.size,
        blocks: s.blocks,
        atime: time(s.atime),
        mtime: time(s.mtime),
        ctime: time(s.ctime),
        crtime: time(s.ctime),
        kind: kind(s.mode),
        perm: (s.mode & 0o7777) as u16,
        nlink: s.nlink,
        uid: s.uid,
        gid: s.gid,
        rdev: s.rdev,
        blksize: if s.blksize == 0 { 4096 } else { s.blksize },
        flags: 0,
    }
}

/// Seconds and nanoseconds since the epoch (negative before it).
pub(super) fn timespec(t: SystemTime) -> (i64, i64) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos() as i64),
        Err(e) => {
            let d = e.duration();
            let (s, n) = (d.as_secs() as i64, d.subsec_nanos() as i64);
            if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - n)
            }
        }
    }
}
