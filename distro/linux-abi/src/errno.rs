//! Linux error numbers, and how the Hurd's errors become them.
//!
//! A Linux system call fails with `-errno` in `rax` (-4095..-1). [`Errno`]
//! holds Linux x86_64's values (`asm-generic/errno-base.h`, `errno.h`).
//! The Hurd's errors reach the emulation as RPC return codes: the Hurd's own
//! errno values (`0x4000_0000 | n`, with BSD's numbering: `EAGAIN` is 35
//! there, 11 here) and Mach's kernel, message and MIG codes.
//! [`Errno::from_hurd`] and [`Errno::from_rpc`] translate them.

use hurd_ipc::{Error, KernReturn, MigReturn, MsgReturn};

macro_rules! errno {
    ($($variant:ident = $nr:literal => $name:literal,)*) => {
        /// A Linux x86_64 error number.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(i32)]
        #[non_exhaustive]
        pub enum Errno {
            $(#[doc = concat!("`", $name, "` (", stringify!($nr), ").")] $variant = $nr,)*
        }

        impl Errno {
            /// Every error number, in order.
            pub const ALL: &'static [Errno] = &[$(Errno::$variant,)*];

            /// The error with Linux number `n`, if Linux has one.
            pub const fn from_raw(n: i32) -> Option<Errno> {
                match n {
                    $($nr => Some(Errno::$variant),)*
                    _ => None,
                }
            }

            /// The symbolic name (`ENOENT`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Errno::$variant => $name,)*
                }
            }
        }
    };
}

errno! {
    Perm = 1 => "EPERM",
    Noent = 2 => "ENOENT",
    Srch = 3 => "ESRCH",
    Intr = 4 => "EINTR",
    Io = 5 => "EIO",
    Nxio = 6 => "ENXIO",
    TooBig = 7 => "E2BIG",
    Noexec = 8 => "ENOEXEC",
    Badf = 9 => "EBADF",
    Child = 10 => "ECHILD",
    Again = 11 => "EAGAIN",
    Nomem = 12 => "ENOMEM",
    Acces = 13 => "EACCES",
    Fault = 14 => "EFAULT",
    Notblk = 15 => "ENOTBLK",
    Busy = 16 => "EBUSY",
    Exist = 17 => "EEXIST",
    Xdev = 18 => "EXDEV",
    Nodev = 19 => "ENODEV",
    Notdir = 20 => "ENOTDIR",
    Isdir = 21 => "EISDIR",
    Inval = 22 => "EINVAL",
    Nfile = 23 => "ENFILE",
    Mfile = 24 => "EMFILE",
    Notty = 25 => "ENOTTY",
    Txtbsy = 26 => "ETXTBSY",
    Fbig = 27 => "EFBIG",
    Nospc = 28 => "ENOSPC",
    Spipe = 29 => "ESPIPE",
    Rofs = 30 => "EROFS",
    Mlink = 31 => "EMLINK",
    Pipe = 32 => "EPIPE",
    Dom = 33 => "EDOM",
    Range = 34 => "ERANGE",
    Deadlk = 35 => "EDEADLK",
    Nametoolong = 36 => "ENAMETOOLONG",
    Nolck = 37 => "ENOLCK",
    Nosys = 38 => "ENOSYS",
    Notempty = 39 => "ENOTEMPTY",
    Loop = 40 => "ELOOP",
    Nomsg = 42 => "ENOMSG",
    Idrm = 43 => "EIDRM",
    Chrng = 44 => "ECHRNG",
    L2nsync = 45 => "EL2NSYNC",
    L3hlt = 46 => "EL3HLT",
    L3rst = 47 => "EL3RST",
    Lnrng = 48 => "ELNRNG",
    Unatch = 49 => "EUNATCH",
    Nocsi = 50 => "ENOCSI",
    L2hlt = 51 => "EL2HLT",
    Bade = 52 => "EBADE",
    Badr = 53 => "EBADR",
    Xfull = 54 => "EXFULL",
    Noano = 55 => "ENOANO",
    Badrqc = 56 => "EBADRQC",
    Badslt = 57 => "EBADSLT",
    Bfont = 59 => "EBFONT",
    Nostr = 60 => "ENOSTR",
    Nodata = 61 => "ENODATA",
    Time = 62 => "ETIME",
    Nosr = 63 => "ENOSR",
    Nonet = 64 => "ENONET",
    Nopkg = 65 => "ENOPKG",
    Remote = 66 => "EREMOTE",
    Nolink = 67 => "ENOLINK",
    Adv = 68 => "EADV",
    Srmnt = 69 => "ESRMNT",
    Comm = 70 => "ECOMM",
    Proto = 71 => "EPROTO",
    Multihop = 72 => "EMULTIHOP",
    Dotdot = 73 => "EDOTDOT",
    Badmsg = 74 => "EBADMSG",
    Overflow = 75 => "EOVERFLOW",
    Notuniq = 76 => "ENOTUNIQ",
    Badfd = 77 => "EBADFD",
    Remchg = 78 => "EREMCHG",
    Libacc = 79 => "ELIBACC",
    Libbad = 80 => "ELIBBAD",
    Libscn = 81 => "ELIBSCN",
    Libmax = 82 => "ELIBMAX",
    Libexec = 83 => "ELIBEXEC",
    Ilseq = 84 => "EILSEQ",
    Restart = 85 => "ERESTART",
    Strpipe = 86 => "ESTRPIPE",
    Users = 87 => "EUSERS",
    Notsock = 88 => "ENOTSOCK",
    Destaddrreq = 89 => "EDESTADDRREQ",
    Msgsize = 90 => "EMSGSIZE",
    Prototype = 91 => "EPROTOTYPE",
    Noprotoopt = 92 => "ENOPROTOOPT",
    Protonosupport = 93 => "EPROTONOSUPPORT",
    Socktnosupport = 94 => "ESOCKTNOSUPPORT",
    Opnotsupp = 95 => "EOPNOTSUPP",
    Pfnosupport = 96 => "EPFNOSUPPORT",
    Afnosupport = 97 => "EAFNOSUPPORT",
    Addrinuse = 98 => "EADDRINUSE",
    Addrnotavail = 99 => "EADDRNOTAVAIL",
    Netdown = 100 => "ENETDOWN",
    Netunreach = 101 => "ENETUNREACH",
    Netreset = 102 => "ENETRESET",
    Connaborted = 103 => "ECONNABORTED",
    Connreset = 104 => "ECONNRESET",
    Nobufs = 105 => "ENOBUFS",
    Isconn = 106 => "EISCONN",
    Notconn = 107 => "ENOTCONN",
    Shutdown = 108 => "ESHUTDOWN",
    Toomanyrefs = 109 => "ETOOMANYREFS",
    Timedout = 110 => "ETIMEDOUT",
    Connrefused = 111 => "ECONNREFUSED",
    Hostdown = 112 => "EHOSTDOWN",
    Hostunreach = 113 => "EHOSTUNREACH",
    Already = 114 => "EALREADY",
    Inprogress = 115 => "EINPROGRESS",
    Stale = 116 => "ESTALE",
    Uclean = 117 => "EUCLEAN",
    Notnam = 118 => "ENOTNAM",
    Navail = 119 => "ENAVAIL",
    Isnam = 120 => "EISNAM",
    Remoteio = 121 => "EREMOTEIO",
    Dquot = 122 => "EDQUOT",
    Nomedium = 123 => "ENOMEDIUM",
    Mediumtype = 124 => "EMEDIUMTYPE",
    Canceled = 125 => "ECANCELED",
    Nokey = 126 => "ENOKEY",
    Keyexpired = 127 => "EKEYEXPIRED",
    Keyrevoked = 128 => "EKEYREVOKED",
    Keyrejected = 129 => "EKEYREJECTED",
    Ownerdead = 130 => "EOWNERDEAD",
    Notrecoverable = 131 => "ENOTRECOVERABLE",
    Rfkill = 132 => "ERFKILL",
    Hwpoison = 133 => "EHWPOISON",
}

impl Errno {
    /// `EWOULDBLOCK`: the same number as [`Errno::Again`].
    pub const WOULDBLOCK: Errno = Errno::Again;
    /// `ENOTSUP`: the same number as [`Errno::Opnotsupp`].
    pub const NOTSUP: Errno = Errno::Opnotsupp;
    /// `EDEADLOCK`: the same number as [`Errno::Deadlk`].
    pub const DEADLOCK: Errno = Errno::Deadlk;

    /// The number.
    pub const fn raw(self) -> i32 {
        self as i32
    }

    /// What a failed system call leaves in `rax`: `-errno` as a 64-bit value.
    pub const fn to_rax(self) -> u64 {
        (-(self as i64)) as u64
    }

    /// The error in a system call's result register, if it is one
    /// (-4095..=-1 as Linux defines it; an unknown number there is `None`).
    pub const fn from_rax(rax: u64) -> Option<Errno> {
        let v = rax as i64;
        if v < 0 && v >= -4095 {
            Errno::from_raw(-v as i32)
        } else {
            None
        }
    }

    /// The Linux error for one of the Hurd's errno values (`0x4000_0000 |
    /// n`, BSD numbering plus the Hurd's own). The Hurd-only errors become
    /// what a Linux program can understand: `EFTYPE` → `EINVAL`... see the
    /// table; anything unknown is `EIO`.
    pub const fn from_hurd(code: i32) -> Errno {
        if code & !0xffff != 0x4000_0000 {
            return Errno::Io;
        }
        match code & 0xffff {
            1 => Errno::Perm,
            2 => Errno::Noent,
            3 => Errno::Srch,
            4 => Errno::Intr,
            5 => Errno::Io,
            6 => Errno::Nxio,
            7 => Errno::TooBig,
            8 => Errno::Noexec,
            9 => Errno::Badf,
            10 => Errno::Child,
            11 => Errno::Deadlk,
            12 => Errno::Nomem,
            13 => Errno::Acces,
            14 => Errno::Fault,
            15 => Errno::Notblk,
            16 => Errno::Busy,
            17 => Errno::Exist,
            18 => Errno::Xdev,
            19 => Errno::Nodev,
            20 => Errno::Notdir,
            21 => Errno::Isdir,
            22 => Errno::Inval,
            23 => Errno::Nfile,
            24 => Errno::Mfile,
            25 => Errno::Notty,
            26 => Errno::Txtbsy,
            27 => Errno::Fbig,
            28 => Errno::Nospc,
            29 => Errno::Spipe,
            30 => Errno::Rofs,
            31 => Errno::Mlink,
            32 => Errno::Pipe,
            33 => Errno::Dom,
            34 => Errno::Range,
            35 => Errno::Again,
            36 => Errno::Inprogress,
            37 => Errno::Already,
            38 => Errno::Notsock,
            39 => Errno::Destaddrreq,
            40 => Errno::Msgsize,
            41 => Errno::Prototype,
            42 => Errno::Noprotoopt,
            43 => Errno::Protonosupport,
            44 => Errno::Socktnosupport,
            45 => Errno::Opnotsupp,
            46 => Errno::Pfnosupport,
            47 => Errno::Afnosupport,
            48 => Errno::Addrinuse,
            49 => Errno::Addrnotavail,
            50 => Errno::Netdown,
            51 => Errno::Netunreach,
            52 => Errno::Netreset,
            53 => Errno::Connaborted,
            54 => Errno::Connreset,
            55 => Errno::Nobufs,
            56 => Errno::Isconn,
            57 => Errno::Notconn,
            58 => Errno::Shutdown,
            59 => Errno::Toomanyrefs,
            60 => Errno::Timedout,
            61 => Errno::Connrefused,
            62 => Errno::Loop,
            63 => Errno::Nametoolong,
            64 => Errno::Hostdown,
            65 => Errno::Hostunreach,
            66 => Errno::Notempty,
            68 => Errno::Users,
            69 => Errno::Dquot,
            70 => Errno::Stale,
            71 => Errno::Remote,
            77 => Errno::Nolck,
            78 => Errno::Nosys,
            106 => Errno::Ilseq,
            107 => Errno::Badmsg,
            108 => Errno::Idrm,
            109 => Errno::Multihop,
            110 => Errno::Nodata,
            111 => Errno::Nolink,
            112 => Errno::Nomsg,
            113 => Errno::Nosr,
            114 => Errno::Nostr,
            115 => Errno::Overflow,
            116 => Errno::Proto,
            117 => Errno::Time,
            118 => Errno::Opnotsupp,
            119 => Errno::Canceled,
            120 => Errno::Ownerdead,
            121 => Errno::Notrecoverable,
            // EPROCLIM: too many processes.
            67 => Errno::Again,
            // EBADRPC, ERPCMISMATCH, EPROGUNAVAIL, EPROGMISMATCH,
            // EPROCUNAVAIL: Sun RPC errors.
            72..=76 => Errno::Proto,
            // EFTYPE: inappropriate file type or format.
            79 => Errno::Inval,
            // EAUTH, ENEEDAUTH.
            80 | 81 => Errno::Acces,
            // EBACKGROUND: a background process touched its terminal.
            100 => Errno::Io,
            // EDIED: the translator died.
            101 => Errno::Nxio,
            // ED, EGREGIOUS, EIEIO, EGRATUITOUS.
            102..=105 => Errno::Io,
            _ => Errno::Io,
        }
    }

    /// The Linux error for an RPC that failed, as glibc on the Hurd reports
    /// such failures: the server's own errno values through
    /// [`Errno::from_hurd`]; an interrupted send or receive is `EINTR`; a
    /// destination that is dead or no port at all (`MACH_SEND_INVALID_DEST`,
    /// `MIG_SERVER_DIED`) is `EBADF` — the caller turns it into something
    /// else where a descriptor is not what failed; a routine the server does
    /// not have (`MIG_BAD_ID`) is `EOPNOTSUPP` (`ENOTTY` for an ioctl: the
    /// caller decides); memory shortage is `ENOMEM`; the rest `EIO`.
    pub fn from_rpc(err: Error) -> Errno {
        match err {
            Error::Code(code) => Errno::from_hurd(code),
            Error::Msg(MsgReturn::SendInterrupted | MsgReturn::RcvInterrupted) => Errno::Intr,
            Error::Msg(MsgReturn::SendTimedOut | MsgReturn::RcvTimedOut) => Errno::Timedout,
            Error::Msg(MsgReturn::SendInvalidDest | MsgReturn::RcvPortDied) => Errno::Badf,
            Error::Msg(MsgReturn::SendNoBuffer | MsgReturn::RcvTooLarge) => Errno::Nomem,
            Error::Mig(MigReturn::ServerDied) => Errno::Badf,
            Error::Mig(MigReturn::BadId) => Errno::Opnotsupp,
            Error::Mig(MigReturn::ArrayTooLarge) => Errno::Msgsize,
            Error::Kern(KernReturn::NoSpace | KernReturn::ResourceShortage) => Errno::Nomem,
            Error::Kern(KernReturn::InvalidAddress | KernReturn::ProtectionFailure) => Errno::Fault,
            Error::Kern(KernReturn::InvalidArgument | KernReturn::InvalidValue) => Errno::Inval,
            Error::Kern(KernReturn::NoAccess) => Errno::Perm,
            Error::Kern(KernReturn::Aborted | KernReturn::Interrupted) => Errno::Intr,
            Error::Kern(KernReturn::TimedOut) => Errno::Timedout,
            Error::Kern(KernReturn::InvalidName | KernReturn::InvalidRight) => Errno::Badf,
            _ => Errno::Io,
        }
    }
}

impl From<hurd_ipc::Errno> for Errno {
    fn from(e: hurd_ipc::Errno) -> Errno {
        Errno::from_hurd(e as i32)
    }
}

impl core::fmt::Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
