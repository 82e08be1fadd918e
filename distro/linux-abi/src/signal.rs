//! Signals: Linux's numbers and the Hurd's, what each does by default,
//! signal sets, the `sigaction` flags, and wait statuses.
//!
//! A Linux process sees Linux numbers (`SIGUSR1` is 10, `SIGCHLD` 17). On the
//! wire — `msg_sig_post` to a process's message port, the statuses
//! `proc_wait` returns, the terminal's `SIGINT` and `SIGTSTP` — they are the
//! Hurd's, which are BSD's (`SIGUSR1` 30, `SIGCHLD` 20). [`to_hurd`] and
//! [`from_hurd`] translate. Linux's `SIGSTKFLT`, `SIGPWR` and the real-time
//! signals (32–64) have no Hurd number: they exist only inside a process
//! (raised with `tgkill` on its own threads); sending one to another
//! process is `EINVAL`. The Hurd's `SIGEMT`, `SIGINFO` and `SIGLOST` have no
//! Linux number ([`from_hurd`] gives `None`).

/// `SIGHUP`.
pub const SIGHUP: u32 = 1;
/// `SIGINT`.
pub const SIGINT: u32 = 2;
/// `SIGQUIT`.
pub const SIGQUIT: u32 = 3;
/// `SIGILL`.
pub const SIGILL: u32 = 4;
/// `SIGTRAP`.
pub const SIGTRAP: u32 = 5;
/// `SIGABRT`.
pub const SIGABRT: u32 = 6;
/// `SIGBUS`.
pub const SIGBUS: u32 = 7;
/// `SIGFPE`.
pub const SIGFPE: u32 = 8;
/// `SIGKILL`.
pub const SIGKILL: u32 = 9;
/// `SIGUSR1`.
pub const SIGUSR1: u32 = 10;
/// `SIGSEGV`.
pub const SIGSEGV: u32 = 11;
/// `SIGUSR2`.
pub const SIGUSR2: u32 = 12;
/// `SIGPIPE`.
pub const SIGPIPE: u32 = 13;
/// `SIGALRM`.
pub const SIGALRM: u32 = 14;
/// `SIGTERM`.
pub const SIGTERM: u32 = 15;
/// `SIGSTKFLT`.
pub const SIGSTKFLT: u32 = 16;
/// `SIGCHLD`.
pub const SIGCHLD: u32 = 17;
/// `SIGCONT`.
pub const SIGCONT: u32 = 18;
/// `SIGSTOP`.
pub const SIGSTOP: u32 = 19;
/// `SIGTSTP`.
pub const SIGTSTP: u32 = 20;
/// `SIGTTIN`.
pub const SIGTTIN: u32 = 21;
/// `SIGTTOU`.
pub const SIGTTOU: u32 = 22;
/// `SIGURG`.
pub const SIGURG: u32 = 23;
/// `SIGXCPU`.
pub const SIGXCPU: u32 = 24;
/// `SIGXFSZ`.
pub const SIGXFSZ: u32 = 25;
/// `SIGVTALRM`.
pub const SIGVTALRM: u32 = 26;
/// `SIGPROF`.
pub const SIGPROF: u32 = 27;
/// `SIGWINCH`.
pub const SIGWINCH: u32 = 28;
/// `SIGIO`.
pub const SIGIO: u32 = 29;
/// `SIGPWR`.
pub const SIGPWR: u32 = 30;
/// `SIGSYS`.
pub const SIGSYS: u32 = 31;
/// The first real-time signal as the kernel numbers them (libcs keep a few
/// for themselves and report a higher `SIGRTMIN`).
pub const SIGRTMIN: u32 = 32;
/// The last signal.
pub const SIGRTMAX: u32 = 64;
/// `_NSIG`: signals are 1 to 64.
pub const NSIG: u32 = 64;

/// Whether `sig` is a signal number (1..=64).
pub const fn valid(sig: u32) -> bool {
    sig >= 1 && sig <= NSIG
}

/// Linux number → the Hurd's, for the 29 signals both have.
const TO_HURD: [(u32, u32); 29] = [
    (SIGHUP, 1),
    (SIGINT, 2),
    (SIGQUIT, 3),
    (SIGILL, 4),
    (SIGTRAP, 5),
    (SIGABRT, 6),
    (SIGBUS, 10),
    (SIGFPE, 8),
    (SIGKILL, 9),
    (SIGUSR1, 30),
    (SIGSEGV, 11),
    (SIGUSR2, 31),
    (SIGPIPE, 13),
    (SIGALRM, 14),
    (SIGTERM, 15),
    (SIGCHLD, 20),
    (SIGCONT, 19),
    (SIGSTOP, 17),
    (SIGTSTP, 18),
    (SIGTTIN, 21),
    (SIGTTOU, 22),
    (SIGURG, 16),
    (SIGXCPU, 24),
    (SIGXFSZ, 25),
    (SIGVTALRM, 26),
    (SIGPROF, 27),
    (SIGWINCH, 28),
    (SIGIO, 23),
    (SIGSYS, 12),
];

/// The Hurd's number for Linux signal `sig`; `None` for the signals only
/// Linux has (`SIGSTKFLT`, `SIGPWR`, real-time) and for non-signals.
pub fn to_hurd(sig: u32) -> Option<u32> {
    TO_HURD.iter().find(|&&(l, _)| l == sig).map(|&(_, h)| h)
}

/// The Linux number for the Hurd's signal `sig`. The Hurd's own `SIGEMT`
/// (7), `SIGINFO` (29) and `SIGLOST` (32) have none: `None`, and a Linux
/// process posted one ignores it (the Hurd's default for `SIGINFO` is to
/// ignore it; this system's servers never post the other two).
pub fn from_hurd(sig: u32) -> Option<u32> {
    TO_HURD.iter().find(|&&(_, h)| h == sig).map(|&(l, _)| l)
}

/// What a signal does when its disposition is `SIG_DFL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DefaultAction {
    /// End the process.
    Term,
    /// End the process with a core dump (this system writes none; the wait
    /// status still says "core dumped", as Linux's does).
    Core,
    /// Nothing happens.
    Ignore,
    /// Stop the process.
    Stop,
    /// Continue a stopped process.
    Cont,
}

/// The default action of Linux signal `sig` (`signal(7)`); real-time
/// signals end the process.
pub fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => DefaultAction::Core,
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGCONT => DefaultAction::Cont,
        _ => DefaultAction::Term,
    }
}

/// A set of signals, as the kernel's 8-byte `sigset_t` holds it: bit
/// `sig - 1` for signal `sig`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SigSet(pub u64);

impl SigSet {
    /// No signal.
    pub const EMPTY: SigSet = SigSet(0);
    /// The signals no mask can block: `SIGKILL` and `SIGSTOP`.
    pub const UNBLOCKABLE: SigSet = SigSet((1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1)));

    /// The set holding only `sig` (empty for a non-signal).
    pub const fn of(sig: u32) -> SigSet {
        if valid(sig) {
            SigSet(1 << (sig - 1))
        } else {
            SigSet(0)
        }
    }

    /// Whether `sig` is in the set.
    pub const fn contains(self, sig: u32) -> bool {
        valid(sig) && self.0 & (1 << (sig - 1)) != 0
    }

    /// The set with `sig` added.
    pub const fn with(self, sig: u32) -> SigSet {
        SigSet(self.0 | SigSet::of(sig).0)
    }

    /// The set with `sig` removed.
    pub const fn without(self, sig: u32) -> SigSet {
        SigSet(self.0 & !SigSet::of(sig).0)
    }

    /// The set as a mask may hold it: without `SIGKILL` and `SIGSTOP`.
    pub const fn blockable(self) -> SigSet {
        SigSet(self.0 & !SigSet::UNBLOCKABLE.0)
    }

    /// The lowest signal in the set (the one delivered first; Linux
    /// delivers the synchronous ones first, which the caller handles).
    pub const fn first(self) -> Option<u32> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() + 1)
        }
    }

    /// `rt_sigprocmask`'s `how` applied to `self` (the old mask) with `set`:
    /// `SIG_BLOCK` (0) adds, `SIG_UNBLOCK` (1) removes, `SIG_SETMASK` (2)
    /// replaces; `None` for another `how` (`EINVAL`). The result is always
    /// [`blockable`](SigSet::blockable).
    pub const fn apply(self, how: u32, set: SigSet) -> Option<SigSet> {
        let new = match how {
            SIG_BLOCK => SigSet(self.0 | set.0),
            SIG_UNBLOCK => SigSet(self.0 & !set.0),
            SIG_SETMASK => set,
            _ => return None,
        };
        Some(new.blockable())
    }
}

/// `SIG_BLOCK`.
pub const SIG_BLOCK: u32 = 0;
/// `SIG_UNBLOCK`.
pub const SIG_UNBLOCK: u32 = 1;
/// `SIG_SETMASK`.
pub const SIG_SETMASK: u32 = 2;

/// `SIG_DFL` as a handler address.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN` as a handler address.
pub const SIG_IGN: u64 = 1;

/// `SA_NOCLDSTOP`: no `SIGCHLD` when a child stops.
pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
/// `SA_NOCLDWAIT`: children leave no zombies.
pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
/// `SA_SIGINFO`: the handler takes `(sig, siginfo, ucontext)`.
pub const SA_SIGINFO: u64 = 0x0000_0004;
/// `SA_RESTORER`: `sa_restorer` is the return trampoline (libcs always set it).
pub const SA_RESTORER: u64 = 0x0400_0000;
/// `SA_ONSTACK`: run on the alternate signal stack.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// `SA_RESTART`: restart interrupted calls.
pub const SA_RESTART: u64 = 0x1000_0000;
/// `SA_NODEFER`: do not block the signal while its handler runs.
pub const SA_NODEFER: u64 = 0x4000_0000;
/// `SA_RESETHAND`: back to `SIG_DFL` once delivered.
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// `SS_ONSTACK`: the thread is running on its alternate stack.
pub const SS_ONSTACK: i32 = 1;
/// `SS_DISABLE`: no alternate stack.
pub const SS_DISABLE: i32 = 2;
/// `MINSIGSTKSZ`: the smallest alternate stack `sigaltstack` accepts.
pub const MINSIGSTKSZ: u64 = 2048;

/// A wait status, as `wait4` reports it to a Linux program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WaitStatus {
    /// Ended with `exit(code)` (the low 8 bits count).
    Exited(u8),
    /// Ended by a signal (Linux number), perhaps with a core dump.
    Signaled {
        /// The signal.
        sig: u32,
        /// Whether a core was dumped.
        core: bool,
    },
    /// Stopped by a signal.
    Stopped(u32),
    /// Continued by `SIGCONT`.
    Continued,
}

impl WaitStatus {
    /// The `int` a Linux program decodes with `WIFEXITED` and friends.
    pub const fn raw(self) -> i32 {
        match self {
            WaitStatus::Exited(code) => (code as i32) << 8,
            WaitStatus::Signaled { sig, core } => (sig as i32 & 0x7f) | if core { 0x80 } else { 0 },
            WaitStatus::Stopped(sig) => ((sig as i32 & 0xff) << 8) | 0x7f,
            WaitStatus::Continued => 0xffff,
        }
    }

    /// Decodes a status in the Hurd's form (the same bit layout as Linux's,
    /// with the Hurd's signal numbers). A signal with no Linux number reads
    /// as `SIGSYS`, a stop signal with none as `SIGSTOP`; a malformed status
    /// is `None`.
    pub fn from_hurd(status: i32) -> Option<WaitStatus> {
        let low = status & 0x7f;
        if status == 0xffff {
            Some(WaitStatus::Continued)
        } else if low == 0x7f {
            let sig = ((status >> 8) & 0xff) as u32;
            Some(WaitStatus::Stopped(from_hurd(sig).unwrap_or(SIGSTOP)))
        } else if low == 0 {
            if status & !0xff00 != 0 {
                return None;
            }
            Some(WaitStatus::Exited(((status >> 8) & 0xff) as u8))
        } else {
            let sig = from_hurd(low as u32).unwrap_or(SIGSYS);
            Some(WaitStatus::Signaled {
                sig,
                core: status & 0x80 != 0,
            })
        }
    }

    /// The Hurd's form of this status (what `proc_mark_exit` records), or
    /// `None` for a signal the Hurd has no number for.
    pub fn to_hurd(self) -> Option<i32> {
        Some(match self {
            WaitStatus::Exited(code) => (code as i32) << 8,
            WaitStatus::Signaled { sig, core } => {
                to_hurd(sig)? as i32 | if core { 0x80 } else { 0 }
            }
            WaitStatus::Stopped(sig) => ((to_hurd(sig)? as i32) << 8) | 0x7f,
            WaitStatus::Continued => 0xffff,
        })
    }
}

/// `WNOHANG`.
pub const WNOHANG: u32 = 1;
/// `WUNTRACED` (`WSTOPPED`).
pub const WUNTRACED: u32 = 2;
/// `WCONTINUED`.
pub const WCONTINUED: u32 = 8;
/// `__WALL` and `__WCLONE`, accepted and ignored (no clone children here).
pub const WALL_CLONE: u32 = 0xc000_0000;

/// The Hurd's `WCONTINUED` (BSD's).
const HURD_WCONTINUED: i32 = 4;

/// `wait4`'s options in the Hurd's form for `proc_wait`, or `None` (EINVAL)
/// for bits Linux does not define.
pub fn wait_options_to_hurd(options: u32) -> Option<i32> {
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WALL_CLONE) != 0 {
        return None;
    }
    let mut hurd = (options & (WNOHANG | WUNTRACED)) as i32;
    if options & WCONTINUED != 0 {
        hurd |= HURD_WCONTINUED;
    }
    Some(hurd)
}
