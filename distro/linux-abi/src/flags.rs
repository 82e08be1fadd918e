//! Flags and small constants of the calls, and their conversion to the
//! Hurd's: open flags ([`hurd_trans::flags::OpenFlags`]), `fcntl`, the `*at`
//! flags, `clone`, `mmap`, `futex`, `arch_prctl`, clocks.

use hurd_trans::flags::OpenFlags;

use crate::errno::Errno;

/// `O_ACCMODE`.
pub const O_ACCMODE: u32 = 0o3;
/// `O_RDONLY`.
pub const O_RDONLY: u32 = 0o0;
/// `O_WRONLY`.
pub const O_WRONLY: u32 = 0o1;
/// `O_RDWR`.
pub const O_RDWR: u32 = 0o2;
/// `O_CREAT`.
pub const O_CREAT: u32 = 0o100;
/// `O_EXCL`.
pub const O_EXCL: u32 = 0o200;
/// `O_NOCTTY`.
pub const O_NOCTTY: u32 = 0o400;
/// `O_TRUNC`.
pub const O_TRUNC: u32 = 0o1000;
/// `O_APPEND`.
pub const O_APPEND: u32 = 0o2000;
/// `O_NONBLOCK`.
pub const O_NONBLOCK: u32 = 0o4000;
/// `O_DSYNC`.
pub const O_DSYNC: u32 = 0o10000;
/// `O_ASYNC` (`FASYNC`).
pub const O_ASYNC: u32 = 0o20000;
/// `O_DIRECT`.
pub const O_DIRECT: u32 = 0o40000;
/// `O_LARGEFILE` (always true on x86_64).
pub const O_LARGEFILE: u32 = 0o100000;
/// `O_DIRECTORY`.
pub const O_DIRECTORY: u32 = 0o200000;
/// `O_NOFOLLOW`.
pub const O_NOFOLLOW: u32 = 0o400000;
/// `O_NOATIME`.
pub const O_NOATIME: u32 = 0o1000000;
/// `O_CLOEXEC`.
pub const O_CLOEXEC: u32 = 0o2000000;
/// `O_SYNC` (includes `O_DSYNC`).
pub const O_SYNC: u32 = 0o4010000;
/// `O_PATH`.
pub const O_PATH: u32 = 0o10000000;
/// `O_TMPFILE` (includes `O_DIRECTORY`).
pub const O_TMPFILE: u32 = 0o20200000;

/// An `open` request in the Hurd's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenRequest {
    /// Flags for `dir_lookup` (without `O_TRUNC`, which the client does
    /// with `file_set_size` after the open, and without `O_CLOEXEC`).
    pub flags: OpenFlags,
    /// Truncate after opening (only with write access).
    pub trunc: bool,
    /// The descriptor is closed on exec.
    pub cloexec: bool,
    /// `O_PATH`: a descriptor only for naming the file (no access asked).
    pub path_only: bool,
}

#[cfg(feature = "defmt")]
impl defmt::Format for OpenRequest {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "OpenRequest {{ flags: {=u32:#x}, trunc: {}, cloexec: {}, path_only: {} }}",
            self.flags.bits(),
            self.trunc,
            self.cloexec,
            self.path_only
        );
    }
}

/// Turns Linux `open` flags into the Hurd's.
///
/// # Errors
/// `EINVAL` for access mode 3 or `O_TMPFILE` without write access;
/// `EOPNOTSUPP` for `O_TMPFILE` (no server here makes unnamed files through
/// `open`).
pub fn open_to_hurd(linux: u32) -> Result<OpenRequest, Errno> {
    let mut f = match linux & O_ACCMODE {
        O_RDONLY => OpenFlags::READ,
        O_WRONLY => OpenFlags::WRITE,
        O_RDWR => OpenFlags::READ | OpenFlags::WRITE,
        _ => return Err(Errno::Inval),
    };
    if linux & O_TMPFILE == O_TMPFILE {
        return Err(if linux & O_ACCMODE == O_RDONLY {
            Errno::Inval
        } else {
            Errno::Opnotsupp
        });
    }
    let path_only = linux & O_PATH != 0;
    if path_only {
        // O_PATH ignores every flag but O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW.
        f = OpenFlags::empty();
    } else {
        for (l, h) in [
            (O_CREAT, OpenFlags::CREAT),
            (O_EXCL, OpenFlags::EXCL),
            (O_APPEND, OpenFlags::APPEND),
            (O_NONBLOCK, OpenFlags::NONBLOCK),
            (O_ASYNC, OpenFlags::ASYNC),
            (O_DSYNC, OpenFlags::FSYNC),
            (O_NOATIME, OpenFlags::NOATIME),
        ] {
            if linux & l != 0 {
                f |= h;
            }
        }
    }
    if linux & O_DIRECTORY != 0 {
        f |= OpenFlags::DIRECTORY;
    }
    if linux & O_NOFOLLOW != 0 {
        f |= OpenFlags::NOFOLLOW;
    }
    Ok(OpenRequest {
        flags: f,
        trunc: !path_only && linux & O_TRUNC != 0 && linux & O_ACCMODE != O_RDONLY,
        cloexec: linux & O_CLOEXEC != 0,
        path_only,
    })
}

/// The Linux flags `F_GETFL` reports for a port's open modes
/// (`io_get_openmodes`).
pub fn openmodes_to_linux(hurd: OpenFlags) -> u32 {
    let mut l = match (
        hurd.contains(OpenFlags::READ),
        hurd.contains(OpenFlags::WRITE),
    ) {
        (true, true) => O_RDWR,
        (false, true) => O_WRONLY,
        _ => O_RDONLY,
    };
    for (h, f) in [
        (OpenFlags::APPEND, O_APPEND),
        (OpenFlags::NONBLOCK, O_NONBLOCK),
        (OpenFlags::ASYNC, O_ASYNC),
        (OpenFlags::FSYNC, O_DSYNC),
        (OpenFlags::NOATIME, O_NOATIME),
    ] {
        if hurd.contains(h) {
            l |= f;
        }
    }
    l | O_LARGEFILE
}

/// The modes `F_SETFL` asks for, as `io_set_all_openmodes` takes them
/// (only the changeable ones; Linux ignores the others).
pub fn setfl_to_hurd(linux: u32) -> OpenFlags {
    let mut f = OpenFlags::empty();
    for (l, h) in [
        (O_APPEND, OpenFlags::APPEND),
        (O_NONBLOCK, OpenFlags::NONBLOCK),
        (O_ASYNC, OpenFlags::ASYNC),
        (O_NOATIME, OpenFlags::NOATIME),
    ] {
        if linux & l != 0 {
            f |= h;
        }
    }
    f
}

/// `AT_FDCWD`: "relative to the working directory" in the `*at` calls.
pub const AT_FDCWD: i32 = -100;
/// `AT_SYMLINK_NOFOLLOW`.
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `AT_REMOVEDIR` (`unlinkat`); also `AT_EACCESS` (`faccessat`).
pub const AT_REMOVEDIR: u32 = 0x200;
/// `AT_EACCESS`.
pub const AT_EACCESS: u32 = 0x200;
/// `AT_SYMLINK_FOLLOW` (`linkat`).
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
/// `AT_NO_AUTOMOUNT`.
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
/// `AT_EMPTY_PATH`.
pub const AT_EMPTY_PATH: u32 = 0x1000;

/// `F_DUPFD`.
pub const F_DUPFD: u32 = 0;
/// `F_GETFD`.
pub const F_GETFD: u32 = 1;
/// `F_SETFD`.
pub const F_SETFD: u32 = 2;
/// `F_GETFL`.
pub const F_GETFL: u32 = 3;
/// `F_SETFL`.
pub const F_SETFL: u32 = 4;
/// `F_GETLK`.
pub const F_GETLK: u32 = 5;
/// `F_SETLK`.
pub const F_SETLK: u32 = 6;
/// `F_SETLKW`.
pub const F_SETLKW: u32 = 7;
/// `F_SETOWN`.
pub const F_SETOWN: u32 = 8;
/// `F_GETOWN`.
pub const F_GETOWN: u32 = 9;
/// `F_DUPFD_CLOEXEC`.
pub const F_DUPFD_CLOEXEC: u32 = 1030;
/// `FD_CLOEXEC`.
pub const FD_CLOEXEC: u32 = 1;

/// `R_OK`, `W_OK`, `X_OK` as `access` takes them, in the Hurd's
/// `O_READ`/`O_WRITE`/`O_EXEC` terms (what `file_check_access` answers);
/// `None` (EINVAL) for other bits.
pub fn access_to_hurd(mode: u32) -> Option<OpenFlags> {
    if mode & !7 != 0 {
        return None;
    }
    let mut f = OpenFlags::empty();
    if mode & 4 != 0 {
        f |= OpenFlags::READ;
    }
    if mode & 2 != 0 {
        f |= OpenFlags::WRITE;
    }
    if mode & 1 != 0 {
        f |= OpenFlags::EXEC;
    }
    Some(f)
}

/// `CSIGNAL`: the signal sent to the parent when a clone child ends.
pub const CSIGNAL: u64 = 0xff;
/// `CLONE_VM`.
pub const CLONE_VM: u64 = 0x100;
/// `CLONE_FS`.
pub const CLONE_FS: u64 = 0x200;
/// `CLONE_FILES`.
pub const CLONE_FILES: u64 = 0x400;
/// `CLONE_SIGHAND`.
pub const CLONE_SIGHAND: u64 = 0x800;
/// `CLONE_PIDFD`.
pub const CLONE_PIDFD: u64 = 0x1000;
/// `CLONE_PTRACE`.
pub const CLONE_PTRACE: u64 = 0x2000;
/// `CLONE_VFORK`.
pub const CLONE_VFORK: u64 = 0x4000;
/// `CLONE_PARENT`.
pub const CLONE_PARENT: u64 = 0x8000;
/// `CLONE_THREAD`.
pub const CLONE_THREAD: u64 = 0x1_0000;
/// `CLONE_NEWNS`.
pub const CLONE_NEWNS: u64 = 0x2_0000;
/// `CLONE_SYSVSEM`.
pub const CLONE_SYSVSEM: u64 = 0x4_0000;
/// `CLONE_SETTLS`.
pub const CLONE_SETTLS: u64 = 0x8_0000;
/// `CLONE_PARENT_SETTID`.
pub const CLONE_PARENT_SETTID: u64 = 0x10_0000;
/// `CLONE_CHILD_CLEARTID`.
pub const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
/// `CLONE_DETACHED` (ignored by Linux).
pub const CLONE_DETACHED: u64 = 0x40_0000;
/// `CLONE_UNTRACED`.
pub const CLONE_UNTRACED: u64 = 0x80_0000;
/// `CLONE_CHILD_SETTID`.
pub const CLONE_CHILD_SETTID: u64 = 0x100_0000;

/// What a `clone` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CloneKind {
    /// A thread of this process (`CLONE_VM | CLONE_THREAD | CLONE_SIGHAND`,
    /// usually with `CLONE_FS | CLONE_FILES`).
    Thread,
    /// A new process with a copy of this one's memory: `fork`, and
    /// `CLONE_VM | CLONE_VFORK` (musl's `posix_spawn`, Rust's `Command`),
    /// which this system carries out as a copy too (the child runs on the
    /// given stack until it execs or exits).
    Process {
        /// `CLONE_VFORK`: the parent waits until the child execs or exits.
        vfork: bool,
        /// The signal the parent gets when the child ends (`CSIGNAL`).
        exit_signal: u32,
    },
}

/// Classifies `clone` flags.
///
/// # Errors
/// `EINVAL` for combinations Linux refuses (`CLONE_THREAD` without
/// `CLONE_SIGHAND`, `CLONE_SIGHAND` without `CLONE_VM`); `ENOSYS`-free by
/// design otherwise, but namespaces and the rest this system does not have
/// (`CLONE_NEW*`, `CLONE_PIDFD`, `CLONE_PTRACE`, `CLONE_PARENT`, and
/// `CLONE_VM` without `CLONE_THREAD` or `CLONE_VFORK`, which would share
/// memory between two processes) are `EINVAL`.
pub fn classify_clone(flags: u64) -> Result<CloneKind, Errno> {
    const UNSUPPORTED: u64 =
        CLONE_NEWNS | CLONE_PIDFD | CLONE_PTRACE | CLONE_PARENT | 0x7e00_0000 | !0xffff_ffff;
    if flags & UNSUPPORTED != 0 {
        return Err(Errno::Inval);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::Inval);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::Inval);
    }
    if flags & CLONE_THREAD != 0 {
        return Ok(CloneKind::Thread);
    }
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
        return Err(Errno::Inval);
    }
    let exit_signal = (flags & CSIGNAL) as u32;
    if exit_signal > crate::signal::NSIG {
        return Err(Errno::Inval);
    }
    Ok(CloneKind::Process {
        vfork: flags & CLONE_VFORK != 0,
        exit_signal,
    })
}

/// `PROT_READ`.
pub const PROT_READ: u32 = 0x1;
/// `PROT_WRITE`.
pub const PROT_WRITE: u32 = 0x2;
/// `PROT_EXEC`.
pub const PROT_EXEC: u32 = 0x4;
/// `MAP_SHARED`.
pub const MAP_SHARED: u32 = 0x01;
/// `MAP_PRIVATE`.
pub const MAP_PRIVATE: u32 = 0x02;
/// `MAP_SHARED_VALIDATE`.
pub const MAP_SHARED_VALIDATE: u32 = 0x03;
/// `MAP_FIXED`.
pub const MAP_FIXED: u32 = 0x10;
/// `MAP_ANONYMOUS`.
pub const MAP_ANONYMOUS: u32 = 0x20;
/// `MAP_GROWSDOWN`.
pub const MAP_GROWSDOWN: u32 = 0x100;
/// `MAP_DENYWRITE` (ignored).
pub const MAP_DENYWRITE: u32 = 0x800;
/// `MAP_EXECUTABLE` (ignored).
pub const MAP_EXECUTABLE: u32 = 0x1000;
/// `MAP_LOCKED`.
pub const MAP_LOCKED: u32 = 0x2000;
/// `MAP_NORESERVE` (ignored).
pub const MAP_NORESERVE: u32 = 0x4000;
/// `MAP_POPULATE` (ignored: pages come on first touch).
pub const MAP_POPULATE: u32 = 0x8000;
/// `MAP_NONBLOCK` (ignored).
pub const MAP_NONBLOCK: u32 = 0x1_0000;
/// `MAP_STACK` (ignored).
pub const MAP_STACK: u32 = 0x2_0000;
/// `MAP_HUGETLB`.
pub const MAP_HUGETLB: u32 = 0x4_0000;
/// `MAP_FIXED_NOREPLACE`.
pub const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;

/// A checked `mmap` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MmapRequest {
    /// Shared (writes reach the file / other mappers) or private (copy on write).
    pub shared: bool,
    /// Anonymous memory (no file).
    pub anonymous: bool,
    /// Exactly at the address, replacing what is there.
    pub fixed: bool,
    /// Exactly at the address, failing with `EEXIST` if anything is there.
    pub fixed_noreplace: bool,
    /// Read, write and execute as `PROT_*`.
    pub prot: u32,
    /// Length rounded up to pages.
    pub len: u64,
}

/// Checks `mmap`'s arguments as Linux does.
///
/// # Errors
/// `EINVAL` for a zero or huge length, an offset not page-aligned, a fixed
/// address not page-aligned, no sharing type or an unknown protection;
/// `EOPNOTSUPP` for `MAP_SHARED_VALIDATE` with unknown flags and huge pages.
pub fn check_mmap(
    addr: u64,
    len: u64,
    prot: u32,
    flags: u32,
    offset: u64,
) -> Result<MmapRequest, Errno> {
    if len == 0 || prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 || !offset.is_multiple_of(4096)
    {
        return Err(Errno::Inval);
    }
    let len = len.checked_add(4095).ok_or(Errno::Nomem)? & !4095;
    let shared = match flags & MAP_SHARED_VALIDATE {
        MAP_SHARED | MAP_SHARED_VALIDATE => true,
        MAP_PRIVATE => false,
        _ => return Err(Errno::Inval),
    };
    if flags & MAP_HUGETLB != 0 {
        return Err(Errno::Inval);
    }
    let known = MAP_SHARED_VALIDATE
        | MAP_FIXED
        | MAP_ANONYMOUS
        | MAP_GROWSDOWN
        | MAP_DENYWRITE
        | MAP_EXECUTABLE
        | MAP_LOCKED
        | MAP_NORESERVE
        | MAP_POPULATE
        | MAP_NONBLOCK
        | MAP_STACK
        | MAP_FIXED_NOREPLACE;
    if flags & MAP_SHARED_VALIDATE == MAP_SHARED_VALIDATE && flags & !known != 0 {
        return Err(Errno::Opnotsupp);
    }
    let fixed = flags & MAP_FIXED != 0;
    let fixed_noreplace = flags & MAP_FIXED_NOREPLACE != 0;
    if (fixed || fixed_noreplace) && !addr.is_multiple_of(4096) {
        return Err(Errno::Inval);
    }
    Ok(MmapRequest {
        shared,
        anonymous: flags & MAP_ANONYMOUS != 0,
        fixed,
        fixed_noreplace,
        prot,
        len,
    })
}

/// `FUTEX_WAIT`.
pub const FUTEX_WAIT: u32 = 0;
/// `FUTEX_WAKE`.
pub const FUTEX_WAKE: u32 = 1;
/// `FUTEX_REQUEUE`.
pub const FUTEX_REQUEUE: u32 = 3;
/// `FUTEX_CMP_REQUEUE`.
pub const FUTEX_CMP_REQUEUE: u32 = 4;
/// `FUTEX_WAKE_OP`.
pub const FUTEX_WAKE_OP: u32 = 5;
/// `FUTEX_WAIT_BITSET`.
pub const FUTEX_WAIT_BITSET: u32 = 9;
/// `FUTEX_WAKE_BITSET`.
pub const FUTEX_WAKE_BITSET: u32 = 10;
/// `FUTEX_PRIVATE_FLAG`.
pub const FUTEX_PRIVATE_FLAG: u32 = 128;
/// `FUTEX_CLOCK_REALTIME`.
pub const FUTEX_CLOCK_REALTIME: u32 = 256;

/// `ARCH_SET_GS`.
pub const ARCH_SET_GS: u32 = 0x1001;
/// `ARCH_SET_FS`.
pub const ARCH_SET_FS: u32 = 0x1002;
/// `ARCH_GET_FS`.
pub const ARCH_GET_FS: u32 = 0x1003;
/// `ARCH_GET_GS`.
pub const ARCH_GET_GS: u32 = 0x1004;

/// `CLOCK_REALTIME`.
pub const CLOCK_REALTIME: u32 = 0;
/// `CLOCK_MONOTONIC`.
pub const CLOCK_MONOTONIC: u32 = 1;
/// `CLOCK_PROCESS_CPUTIME_ID`.
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;
/// `CLOCK_THREAD_CPUTIME_ID`.
pub const CLOCK_THREAD_CPUTIME_ID: u32 = 3;
/// `CLOCK_MONOTONIC_RAW`.
pub const CLOCK_MONOTONIC_RAW: u32 = 4;
/// `CLOCK_REALTIME_COARSE`.
pub const CLOCK_REALTIME_COARSE: u32 = 5;
/// `CLOCK_MONOTONIC_COARSE`.
pub const CLOCK_MONOTONIC_COARSE: u32 = 6;
/// `CLOCK_BOOTTIME`.
pub const CLOCK_BOOTTIME: u32 = 7;
/// `TIMER_ABSTIME` (`clock_nanosleep`).
pub const TIMER_ABSTIME: u32 = 1;

/// `GRND_NONBLOCK`.
pub const GRND_NONBLOCK: u32 = 1;
/// `GRND_RANDOM`.
pub const GRND_RANDOM: u32 = 2;
/// `GRND_INSECURE`.
pub const GRND_INSECURE: u32 = 4;
