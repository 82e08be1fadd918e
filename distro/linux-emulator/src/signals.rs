//! Signal state: the process's actions and each thread's mask and pending
//! set, and the decision of what happens to a signal — the part of the
//! Hurd's `hurdsig.c` that needs no RPC.
//!
//! A signal is *posted* to the process (`kill`, the terminal, a child's
//! end) or to one thread (`tgkill`, a fault). [`SignalState::post`] says
//! what to do now: nothing (ignored), end or stop or continue the process
//! (default actions), or deliver to a thread — one that does not block it;
//! if every thread blocks it, it stays pending for the process until one
//! unblocks. [`SignalState::take`] hands a thread the next signal it must
//! handle, applying `SA_RESETHAND` and computing the handler's mask.
//! Numbers are Linux's.

use alloc::collections::BTreeMap;

use linux_abi::Errno;
use linux_abi::layout::{KSigaction, StackT};
use linux_abi::signal::{
    self, DefaultAction, MINSIGSTKSZ, SIG_DFL, SIG_IGN, SS_DISABLE, SS_ONSTACK, SigSet,
};

/// A thread, as the emulator numbers them (its Linux tid).
pub type Tid = i32;

/// What to do about a posted signal, now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Nothing: ignored (explicitly, or by default like `SIGCHLD`).
    Discard,
    /// It waits: every thread blocks it, or the chosen thread will run the
    /// handler when it next leaves the emulator ([`Disposition::Deliver`]
    /// names that thread).
    Pending,
    /// Run the handler on this thread: interrupt it (abort its RPC, or
    /// redirect it if it runs program code).
    Deliver(Tid),
    /// End the process with this signal (`core` for a core-dumping one).
    Terminate {
        /// The signal.
        sig: u32,
        /// Whether the status says "core dumped".
        core: bool,
    },
    /// Stop the process (suspend its program threads; tell proc).
    Stop(u32),
    /// Continue it (a `SIGCONT`: resume; its handler, if any, also runs).
    Continue,
}

/// One thread's signal state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadSignals {
    /// Blocked signals.
    pub mask: SigSet,
    /// Signals pending for this thread alone.
    pub pending: SigSet,
}

/// A signal taken for delivery on a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taken {
    /// The signal.
    pub sig: u32,
    /// The action as it was when taken (before `SA_RESETHAND` reset it).
    pub action: KSigaction,
    /// The thread's mask while the handler runs.
    pub handler_mask: SigSet,
}

/// The process's signal state.
#[derive(Clone, Debug)]
pub struct SignalState {
    actions: [KSigaction; signal::NSIG as usize],
    process_pending: SigSet,
    threads: BTreeMap<Tid, ThreadSignals>,
    stopped: bool,
}

/// Why a request was refused (`EINVAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid;

impl SignalState {
    /// A process with one thread, every action `SIG_DFL`, nothing blocked.
    pub fn new(main: Tid) -> SignalState {
        let mut threads = BTreeMap::new();
        threads.insert(main, ThreadSignals::default());
        SignalState {
            actions: [KSigaction::default(); signal::NSIG as usize],
            process_pending: SigSet::EMPTY,
            threads,
            stopped: false,
        }
    }

    /// Adds a thread (created with its creator's mask, as `clone` does).
    pub fn add_thread(&mut self, tid: Tid, mask: SigSet) {
        self.threads.insert(
            tid,
            ThreadSignals {
                mask: mask.blockable(),
                pending: SigSet::EMPTY,
            },
        );
    }

    /// Removes a thread; what was pending for it alone is lost (as on Linux).
    pub fn remove_thread(&mut self, tid: Tid) {
        self.threads.remove(&tid);
    }

    /// A thread's state.
    pub fn thread(&self, tid: Tid) -> Option<&ThreadSignals> {
        self.threads.get(&tid)
    }

    /// Whether the process is stopped.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// The action for `sig`.
    pub fn action(&self, sig: u32) -> Option<KSigaction> {
        signal::valid(sig).then(|| self.actions[sig as usize - 1])
    }

    /// `rt_sigaction`: sets the action for `sig` (if `new` is given) and
    /// returns the old one. Setting a signal to be ignored discards what is
    /// pending of it (POSIX).
    ///
    /// # Errors
    /// [`Invalid`] for a non-signal, or for changing `SIGKILL`/`SIGSTOP`.
    pub fn set_action(&mut self, sig: u32, new: Option<KSigaction>) -> Result<KSigaction, Invalid> {
        if !signal::valid(sig) {
            return Err(Invalid);
        }
        let old = self.actions[sig as usize - 1];
        if let Some(mut a) = new {
            if sig == signal::SIGKILL || sig == signal::SIGSTOP {
                return Err(Invalid);
            }
            a.mask = a.mask.blockable();
            self.actions[sig as usize - 1] = a;
            if self.ignored(sig) {
                self.process_pending = self.process_pending.without(sig);
                for t in self.threads.values_mut() {
                    t.pending = t.pending.without(sig);
                }
            }
        }
        Ok(old)
    }

    /// `rt_sigprocmask` for thread `tid`: returns the old mask.
    ///
    /// # Errors
    /// [`Invalid`] for an unknown `how` or thread.
    pub fn set_mask(&mut self, tid: Tid, how: u32, set: Option<SigSet>) -> Result<SigSet, Invalid> {
        let t = self.threads.get_mut(&tid).ok_or(Invalid)?;
        let old = t.mask;
        if let Some(set) = set {
            t.mask = old.apply(how, set).ok_or(Invalid)?;
        }
        Ok(old)
    }

    /// `rt_sigpending`: what is pending for `tid` or the process and blocked.
    pub fn pending(&self, tid: Tid) -> SigSet {
        let t = self.threads.get(&tid).copied().unwrap_or_default();
        SigSet((t.pending.0 | self.process_pending.0) & t.mask.0)
    }

    fn ignored(&self, sig: u32) -> bool {
        let a = self.actions[sig as usize - 1];
        a.handler == SIG_IGN
            || (a.handler == SIG_DFL && signal::default_action(sig) == DefaultAction::Ignore)
    }

    /// Posts `sig` to the process (`thread: None`) or to one thread, and
    /// says what to do now.
    pub fn post(&mut self, sig: u32, thread: Option<Tid>) -> Disposition {
        if !signal::valid(sig) {
            return Disposition::Discard;
        }
        if sig == signal::SIGKILL {
            return Disposition::Terminate { sig, core: false };
        }
        let stop_sigs = [
            signal::SIGSTOP,
            signal::SIGTSTP,
            signal::SIGTTIN,
            signal::SIGTTOU,
        ];
        if sig == signal::SIGCONT {
            // A continue discards pending stops, and stops discard pending continues.
            for s in stop_sigs {
                self.discard(s);
            }
            let was = self.stopped;
            self.stopped = false;
            let caught = self.actions[sig as usize - 1].handler > SIG_IGN;
            if caught {
                self.queue(sig, thread);
                return match (was, self.receiver(sig, thread)) {
                    (true, _) => Disposition::Continue,
                    (false, Some(t)) => Disposition::Deliver(t),
                    (false, None) => Disposition::Pending,
                };
            }
            return if was {
                Disposition::Continue
            } else {
                Disposition::Discard
            };
        }
        if stop_sigs.contains(&sig) {
            self.discard(signal::SIGCONT);
        }
        if self.ignored(sig) {
            return Disposition::Discard;
        }
        let a = self.actions[sig as usize - 1];
        if a.handler == SIG_DFL && sig != signal::SIGSTOP {
            // A default action acts on the whole process unless blocked.
            let blocked = match thread {
                Some(t) => self.threads.get(&t).is_some_and(|t| t.mask.contains(sig)),
                None => self.threads.values().all(|t| t.mask.contains(sig)),
            };
            if blocked {
                self.queue(sig, thread);
                return Disposition::Pending;
            }
        }
        if a.handler == SIG_DFL || sig == signal::SIGSTOP {
            return match signal::default_action(sig) {
                DefaultAction::Term => Disposition::Terminate { sig, core: false },
                DefaultAction::Core => Disposition::Terminate { sig, core: true },
                DefaultAction::Stop => {
                    self.stopped = true;
                    Disposition::Stop(sig)
                }
                DefaultAction::Ignore | DefaultAction::Cont => Disposition::Discard,
            };
        }
        self.queue(sig, thread);
        match self.receiver(sig, thread) {
            Some(t) => Disposition::Deliver(t),
            None => Disposition::Pending,
        }
    }

    fn queue(&mut self, sig: u32, thread: Option<Tid>) {
        match thread.and_then(|t| self.threads.get_mut(&t)) {
            Some(t) => t.pending = t.pending.with(sig),
            None => self.process_pending = self.process_pending.with(sig),
        }
    }

    fn discard(&mut self, sig: u32) {
        self.process_pending = self.process_pending.without(sig);
        for t in self.threads.values_mut() {
            t.pending = t.pending.without(sig);
        }
    }

    /// The thread that should handle `sig`: the target, or the first that
    /// does not block it.
    fn receiver(&self, sig: u32, thread: Option<Tid>) -> Option<Tid> {
        match thread {
            Some(t) => self
                .threads
                .get(&t)
                .filter(|s| !s.mask.contains(sig))
                .map(|_| t),
            None => self
                .threads
                .iter()
                .find(|(_, s)| !s.mask.contains(sig))
                .map(|(&t, _)| t),
        }
    }

    /// The next signal thread `tid` must handle (its own pending first, then
    /// the process's; lowest number first), removed from pending; its
    /// action is reset if `SA_RESETHAND`. `None` if nothing deliverable.
    pub fn take(&mut self, tid: Tid) -> Option<Taken> {
        let t = self.threads.get(&tid).copied()?;
        let own = SigSet(t.pending.0 & !t.mask.0);
        let (sig, from_thread) = match own.first() {
            Some(s) => (s, true),
            None => (SigSet(self.process_pending.0 & !t.mask.0).first()?, false),
        };
        if from_thread {
            if let Some(t) = self.threads.get_mut(&tid) {
                t.pending = t.pending.without(sig);
            }
        } else {
            self.process_pending = self.process_pending.without(sig);
        }
        let action = self.actions[sig as usize - 1];
        let mut handler_mask = SigSet(t.mask.0 | action.mask.0);
        if action.flags & signal::SA_NODEFER == 0 {
            handler_mask = handler_mask.with(sig);
        }
        if action.flags & signal::SA_RESETHAND != 0 {
            self.actions[sig as usize - 1] = KSigaction::default();
        }
        Some(Taken {
            sig,
            action,
            handler_mask: handler_mask.blockable(),
        })
    }

    /// What `exec` keeps: handlers go back to `SIG_DFL`, ignored signals
    /// stay ignored, masks and pending signals stay (POSIX).
    pub fn exec(&mut self) {
        for (i, a) in self.actions.iter_mut().enumerate() {
            let ignored = a.handler == SIG_IGN;
            *a = KSigaction::default();
            if ignored && i + 1 != signal::SIGCHLD as usize {
                a.handler = SIG_IGN;
            }
        }
    }
}

/// `SS_AUTODISARM`: the alternate stack is disabled while a handler runs
/// on it (kept with the stack, reported back).
pub const SS_AUTODISARM: i32 = 1 << 31;

/// A thread's alternate signal stack as `sigaltstack` keeps it: the stack
/// (`size` 0: none) and its `SS_AUTODISARM` bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltStack {
    /// The stack; `flags` holds only `SS_AUTODISARM`.
    pub stack: StackT,
}

impl AltStack {
    /// The stack as `sigaltstack` reports it to a thread whose stack
    /// pointer is `rsp`: `SS_DISABLE` when there is none, `SS_ONSTACK` when
    /// `rsp` is on it.
    pub fn report(&self, rsp: u64) -> StackT {
        let s = self.stack;
        let mode = if s.size == 0 {
            SS_DISABLE
        } else if rsp > s.sp && rsp - s.sp <= s.size {
            SS_ONSTACK
        } else {
            0
        };
        StackT {
            flags: mode | (s.flags & SS_AUTODISARM),
            ..s
        }
    }

    /// `sigaltstack(new, ...)` for a thread whose stack pointer is `rsp`,
    /// as Linux checks it: `SS_DISABLE` forgets the stack (its address and
    /// size read as 0); otherwise the stack is at least [`MINSIGSTKSZ`]
    /// bytes. Returns the stack as it was ([`AltStack::report`]).
    ///
    /// # Errors
    ///
    /// `EPERM` while the thread runs on its alternate stack, `EINVAL` for
    /// flags other than `SS_DISABLE`, `SS_ONSTACK` (accepted, as Linux
    /// does, meaning 0) and `SS_AUTODISARM`, `ENOMEM` for a smaller stack.
    pub fn set(&mut self, new: StackT, rsp: u64) -> Result<StackT, Errno> {
        let old = self.report(rsp);
        if old.flags & SS_ONSTACK != 0 {
            return Err(Errno::Perm);
        }
        let mode = new.flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(Errno::Inval);
        }
        self.stack = if mode == SS_DISABLE {
            StackT::default()
        } else if new.size < MINSIGSTKSZ {
            return Err(Errno::Nomem);
        } else {
            StackT {
                flags: new.flags & SS_AUTODISARM,
                ..new
            }
        };
        Ok(old)
    }
}
