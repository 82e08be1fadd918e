//! Open flags (glibc's `bits/fcntl.h` for the Hurd), and the flags of
//! `file_set_translator` and `fsys_goaway` (`hurd_types.h`).

use bitflags::bitflags;

bitflags! {
    /// Open flags as `dir_lookup` and `io_get_openmodes` carry them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct OpenFlags: u32 {
        /// `O_READ`: open for reading.
        const READ = 0x0001;
        /// `O_WRITE`: open for writing.
        const WRITE = 0x0002;
        /// `O_EXEC`: open for execution.
        const EXEC = 0x0004;
        /// `O_NONBLOCK`: non-blocking open and I/O.
        const NONBLOCK = 0x0008;
        /// `O_CREAT`: create the file if it does not exist.
        const CREAT = 0x0010;
        /// `O_EXCL`: with `O_CREAT`, fail if the file exists.
        const EXCL = 0x0020;
        /// `O_NOLINK`: do not follow a symlink on the last component.
        const NOLINK = 0x0040;
        /// `O_NOTRANS`: do not start (or enter) the translator on the last
        /// component: open the node itself.
        const NOTRANS = 0x0080;
        /// `O_APPEND`: every write goes to the end.
        const APPEND = 0x0100;
        /// `O_ASYNC`: signal the owner when I/O is possible.
        const ASYNC = 0x0200;
        /// `O_FSYNC`: synchronous writes.
        const FSYNC = 0x0400;
        /// `O_NOATIME`: do not update the access time.
        const NOATIME = 0x0800;
        /// `O_TRUNC`: truncate to zero length (done by the client).
        const TRUNC = 0x0001_0000;
        /// `O_SHLOCK`: take a shared lock.
        const SHLOCK = 0x0002_0000;
        /// `O_EXLOCK`: take an exclusive lock.
        const EXLOCK = 0x0004_0000;
        /// `O_NOFOLLOW`: fail with `ELOOP` on a symlink.
        const NOFOLLOW = 0x0010_0000;
        /// `O_DIRECTORY`: fail with `ENOTDIR` unless a directory.
        const DIRECTORY = 0x0020_0000;
        /// `O_CLOEXEC`: close on exec (a client-side flag).
        const CLOEXEC = 0x0040_0000;
    }
}

impl OpenFlags {
    /// `O_RDONLY`.
    pub const RDONLY: OpenFlags = OpenFlags::READ;
    /// `O_WRONLY`.
    pub const WRONLY: OpenFlags = OpenFlags::WRITE;
    /// `O_RDWR`.
    pub const RDWR: OpenFlags = OpenFlags::READ.union(OpenFlags::WRITE);
    /// `O_HURD`-style mask of the modes a port keeps after opening
    /// (`io_get_openmodes`): access and the I/O behaviour bits.
    pub const OPENMODES: OpenFlags = OpenFlags::READ
        .union(OpenFlags::WRITE)
        .union(OpenFlags::EXEC)
        .union(OpenFlags::NONBLOCK)
        .union(OpenFlags::APPEND)
        .union(OpenFlags::ASYNC)
        .union(OpenFlags::FSYNC)
        .union(OpenFlags::NOATIME);
    /// The modes `io_set_all_openmodes` and friends may change
    /// (`HONORED_STATE_MODES`): not the access bits.
    pub const HONORED_STATE_MODES: OpenFlags = OpenFlags::NONBLOCK
        .union(OpenFlags::APPEND)
        .union(OpenFlags::ASYNC)
        .union(OpenFlags::FSYNC)
        .union(OpenFlags::NOATIME);
}

/// `FS_TRANS_FORCE`: use the translator even where it could be short-circuited.
pub const FS_TRANS_FORCE: u32 = 0x1;
/// `FS_TRANS_EXCL`: fail with `EBUSY` if the node is already translated.
pub const FS_TRANS_EXCL: u32 = 0x2;
/// `FS_TRANS_SET`: set (or clear) this kind of translator.
pub const FS_TRANS_SET: u32 = 0x4;
/// `FS_TRANS_ORPHAN`: drop the old active translator without `fsys_goaway`.
pub const FS_TRANS_ORPHAN: u32 = 0x8;

/// `FSYS_GOAWAY_NOWAIT`: return at once.
pub const FSYS_GOAWAY_NOWAIT: u32 = 0x1;
/// `FSYS_GOAWAY_NOSYNC`: do not write back to the backing store.
pub const FSYS_GOAWAY_NOSYNC: u32 = 0x2;
/// `FSYS_GOAWAY_FORCE`: go away even while clients hold ports.
pub const FSYS_GOAWAY_FORCE: u32 = 0x4;
/// `FSYS_GOAWAY_UNLINK`: go away only if the root is not a directory.
pub const FSYS_GOAWAY_UNLINK: u32 = 0x8;
/// `FSYS_GOAWAY_RECURSE`: ask the active translators below to go away too.
pub const FSYS_GOAWAY_RECURSE: u32 = 0x10;

/// The passive translator record that stands for a symlink
/// (`_HURD_SYMLINK`): `"/hurd/symlink\0target\0"`.
pub const HURD_SYMLINK: &str = "/hurd/symlink";
/// The record that stands for a character device (`_HURD_CHRDEV`):
/// `"/hurd/chrdev\0MAJOR\0MINOR\0"`.
pub const HURD_CHRDEV: &str = "/hurd/chrdev";
/// The record that stands for a block device (`_HURD_BLKDEV`).
pub const HURD_BLKDEV: &str = "/hurd/blkdev";
/// The record that stands for a FIFO (`_HURD_FIFO`).
pub const HURD_FIFO: &str = "/hurd/fifo";
/// The record that stands for a socket node (`_HURD_IFSOCK`).
pub const HURD_IFSOCK: &str = "/hurd/ifsock";
