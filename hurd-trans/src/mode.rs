//! Mode bits: the file type, the permission bits, and the Hurd's own bits
//! (glibc's `bits/stat.h` for the Hurd).

/// The file type mask.
pub const S_IFMT: u32 = 0o170000;
/// A directory.
pub const S_IFDIR: u32 = 0o040000;
/// A character device.
pub const S_IFCHR: u32 = 0o020000;
/// A block device.
pub const S_IFBLK: u32 = 0o060000;
/// A regular file.
pub const S_IFREG: u32 = 0o100000;
/// A symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// A socket.
pub const S_IFSOCK: u32 = 0o140000;
/// A FIFO.
pub const S_IFIFO: u32 = 0o010000;
/// Set-user-id on execution.
pub const S_ISUID: u32 = 0o4000;
/// Set-group-id on execution.
pub const S_ISGID: u32 = 0o2000;
/// Sticky bit.
pub const S_ISVTX: u32 = 0o1000;
/// Read permission (owner); shifted right by 3 for group, 6 for other.
pub const S_IREAD: u32 = 0o400;
/// Write permission (owner).
pub const S_IWRITE: u32 = 0o200;
/// Execute or search permission (owner).
pub const S_IEXEC: u32 = 0o100;
/// The permission bits owner, group and other, with the set-id and sticky bits.
pub const ALLPERMS: u32 = 0o7777;
/// The unknown user's permission bits, shifted by [`S_IUNKSHIFT`].
pub const S_IUNKNOWN: u32 = 0o7000000;
/// Shift from owner permission bits to the unknown user's.
pub const S_IUNKSHIFT: u32 = 12;
/// Use [`S_IUNKNOWN`] for callers with no uids (otherwise they count as other).
pub const S_IUSEUNK: u32 = 0o400000;
/// Do not cache the node's contents.
pub const S_INOCACHE: u32 = 0o200000;
/// The node has a passive translator.
pub const S_IPTRANS: u32 = 0o10000000;
/// The node has an active translator.
pub const S_IATRANS: u32 = 0o20000000;
/// The node is the root of a file system.
pub const S_IROOT: u32 = 0o40000000;
/// All the translator bits.
pub const S_ITRANS: u32 = 0o70000000;
/// The bits `file_chmod` may change: permissions and the unknown-user bits.
pub const CHMOD_BITS: u32 = ALLPERMS | S_IUNKNOWN | S_IUSEUNK | S_INOCACHE;

/// Whether `mode` is a directory.
pub const fn is_dir(mode: u32) -> bool {
    mode & S_IFMT == S_IFDIR
}

/// Whether `mode` is a regular file.
pub const fn is_reg(mode: u32) -> bool {
    mode & S_IFMT == S_IFREG
}

/// Whether `mode` is a symbolic link.
pub const fn is_lnk(mode: u32) -> bool {
    mode & S_IFMT == S_IFLNK
}
