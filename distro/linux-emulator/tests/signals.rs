//! Signal decisions as Linux makes them.
#![allow(clippy::unwrap_used)]

use linux_abi::layout::KSigaction;
use linux_abi::signal::{self, SIG_IGN, SigSet};
use linux_emulator::signals::{Disposition, SignalState};
use proptest::prelude::*;

fn handler(flags: u64) -> KSigaction {
    KSigaction {
        handler: 0x40_1000,
        flags: flags | signal::SA_RESTORER,
        restorer: 0x40_2000,
        mask: SigSet::of(signal::SIGUSR2),
    }
}

#[test]
fn defaults_ignore_terminate_and_stop() {
    let mut s = SignalState::new(1);
    assert_eq!(s.post(signal::SIGCHLD, None), Disposition::Discard);
    assert_eq!(
        s.post(signal::SIGTERM, None),
        Disposition::Terminate {
            sig: signal::SIGTERM,
            core: false
        }
    );
    assert_eq!(
        s.post(signal::SIGSEGV, Some(1)),
        Disposition::Terminate {
            sig: signal::SIGSEGV,
            core: true
        }
    );
    assert_eq!(
        s.post(signal::SIGTSTP, None),
        Disposition::Stop(signal::SIGTSTP)
    );
    assert!(s.is_stopped());
    assert_eq!(s.post(signal::SIGCONT, None), Disposition::Continue);
    assert!(!s.is_stopped());
    assert_eq!(
        s.post(signal::SIGCONT, None),
        Disposition::Discard,
        "continuing a running process does nothing"
    );
    assert_eq!(s.post(0, None), Disposition::Discard);
    assert_eq!(s.post(65, None), Disposition::Discard);
}

#[test]
fn kill_and_stop_cannot_be_caught_or_blocked() {
    let mut s = SignalState::new(1);
    assert!(s.set_action(signal::SIGKILL, Some(handler(0))).is_err());
    assert!(s.set_action(signal::SIGSTOP, Some(handler(0))).is_err());
    s.set_mask(1, signal::SIG_BLOCK, Some(SigSet(u64::MAX)))
        .unwrap();
    assert_eq!(
        s.post(signal::SIGKILL, None),
        Disposition::Terminate {
            sig: signal::SIGKILL,
            core: false
        }
    );
    assert_eq!(
        s.post(signal::SIGSTOP, None),
        Disposition::Stop(signal::SIGSTOP)
    );
    assert!(!s.thread(1).unwrap().mask.contains(signal::SIGKILL));
}

#[test]
fn handlers_are_delivered_to_a_thread_that_does_not_block() {
    let mut s = SignalState::new(1);
    s.add_thread(2, SigSet::EMPTY);
    s.set_action(signal::SIGUSR1, Some(handler(signal::SA_SIGINFO)))
        .unwrap();
    s.set_mask(1, signal::SIG_BLOCK, Some(SigSet::of(signal::SIGUSR1)))
        .unwrap();
    assert_eq!(s.post(signal::SIGUSR1, None), Disposition::Deliver(2));
    assert_eq!(s.take(1), None, "thread 1 blocks it");
    let t = s.take(2).unwrap();
    assert_eq!(t.sig, signal::SIGUSR1);
    assert_eq!(
        t.handler_mask,
        SigSet::of(signal::SIGUSR1).with(signal::SIGUSR2)
    );
    assert_eq!(s.take(2), None, "taken once");
}

#[test]
fn blocked_signals_wait_and_ignoring_discards_them() {
    let mut s = SignalState::new(1);
    s.set_mask(
        1,
        signal::SIG_BLOCK,
        Some(SigSet::of(signal::SIGINT).with(signal::SIGUSR1)),
    )
    .unwrap();
    assert_eq!(
        s.post(signal::SIGINT, None),
        Disposition::Pending,
        "a blocked default action waits"
    );
    s.set_action(signal::SIGUSR1, Some(handler(0))).unwrap();
    assert_eq!(s.post(signal::SIGUSR1, None), Disposition::Pending);
    assert_eq!(
        s.pending(1),
        SigSet::of(signal::SIGINT).with(signal::SIGUSR1)
    );
    s.set_action(
        signal::SIGINT,
        Some(KSigaction {
            handler: SIG_IGN,
            ..Default::default()
        }),
    )
    .unwrap();
    assert_eq!(
        s.pending(1),
        SigSet::of(signal::SIGUSR1),
        "ignoring discards the pending one"
    );
    s.set_mask(1, signal::SIG_SETMASK, Some(SigSet::EMPTY))
        .unwrap();
    assert_eq!(s.take(1).map(|t| t.sig), Some(signal::SIGUSR1));
}

#[test]
fn resethand_and_nodefer() {
    let mut s = SignalState::new(1);
    s.set_action(
        signal::SIGALRM,
        Some(handler(signal::SA_RESETHAND | signal::SA_NODEFER)),
    )
    .unwrap();
    assert_eq!(s.post(signal::SIGALRM, None), Disposition::Deliver(1));
    let t = s.take(1).unwrap();
    assert!(!t.handler_mask.contains(signal::SIGALRM));
    assert_eq!(t.action.handler, 0x40_1000);
    assert_eq!(
        s.action(signal::SIGALRM).unwrap().handler,
        0,
        "back to SIG_DFL"
    );
    assert_eq!(
        s.post(signal::SIGALRM, None),
        Disposition::Terminate {
            sig: signal::SIGALRM,
            core: false
        }
    );
}

#[test]
fn a_caught_continue_resumes_then_runs_its_handler() {
    let mut s = SignalState::new(1);
    s.set_action(signal::SIGCONT, Some(handler(0))).unwrap();
    s.set_mask(1, signal::SIG_BLOCK, Some(SigSet::of(signal::SIGTTIN)))
        .unwrap();
    assert_eq!(s.post(signal::SIGTTIN, None), Disposition::Pending);
    assert_eq!(
        s.post(signal::SIGSTOP, None),
        Disposition::Stop(signal::SIGSTOP)
    );
    assert_eq!(s.post(signal::SIGCONT, None), Disposition::Continue);
    assert_eq!(
        s.pending(1),
        SigSet::EMPTY,
        "the pending stop was discarded"
    );
    assert_eq!(s.take(1).map(|t| t.sig), Some(signal::SIGCONT));
}

#[test]
fn exec_resets_handlers_but_keeps_ignored() {
    let mut s = SignalState::new(1);
    s.set_action(
        signal::SIGINT,
        Some(KSigaction {
            handler: SIG_IGN,
            ..Default::default()
        }),
    )
    .unwrap();
    s.set_action(signal::SIGUSR1, Some(handler(0))).unwrap();
    s.exec();
    assert_eq!(s.action(signal::SIGINT).unwrap().handler, SIG_IGN);
    assert_eq!(s.action(signal::SIGUSR1).unwrap().handler, 0);
}

proptest! {
    #[test]
    fn taken_signals_were_posted_and_unblocked(ops in proptest::collection::vec((0u8..4, 1u32..=64, any::<u64>()), 0..100)) {
        let mut s = SignalState::new(1);
        s.add_thread(2, SigSet::EMPTY);
        for sig in 1..=64 {
            let _ = s.set_action(sig, Some(handler(0)));
        }
        let mut posted = SigSet::EMPTY;
        for (op, sig, bits) in ops {
            match op {
                0 => { // Every signal here is caught: a continue runs its handler too.
                    if let Disposition::Deliver(_) | Disposition::Pending | Disposition::Continue = s.post(sig, None) { posted = posted.with(sig); } }
                1 => { let _ = s.set_mask(1 + (bits & 1) as i32, signal::SIG_SETMASK, Some(SigSet(bits))); }
                2 => {
                    let tid = 1 + (bits & 1) as i32;
                    let mask = s.thread(tid).unwrap().mask;
                    if let Some(t) = s.take(tid) {
                        prop_assert!(!mask.contains(t.sig), "a blocked signal was taken");
                        prop_assert!(posted.contains(t.sig) || t.sig == signal::SIGKILL);
                        prop_assert!(t.handler_mask.contains(t.sig));
                        posted = posted.without(t.sig);
                    }
                }
                _ => {
                    for tid in [1, 2] {
                        let m = s.thread(tid).unwrap().mask;
                        prop_assert!(!m.contains(signal::SIGKILL) && !m.contains(signal::SIGSTOP));
                    }
                }
            }
        }
    }
}

#[test]
fn alternate_stacks_are_checked_and_reported_as_linux_does() {
    use linux_abi::Errno;
    use linux_abi::layout::StackT;
    use linux_abi::signal::{SS_DISABLE, SS_ONSTACK};
    use linux_emulator::signals::{AltStack, SS_AUTODISARM};
    let mut alt = AltStack::default();
    let rsp = 0x7fff_0000_0000;
    // None at first: reported disabled, address and size 0.
    assert_eq!(alt.report(rsp), StackT::DISABLED);
    let stack = StackT {
        sp: 0x7f00_0000_1000,
        flags: 0,
        size: 8192,
    };
    assert_eq!(alt.set(stack, rsp), Ok(StackT::DISABLED));
    assert_eq!(alt.report(rsp), stack);
    // Too small, unknown flags: refused, the stack kept.
    let small = StackT {
        size: 2047,
        ..stack
    };
    assert_eq!(alt.set(small, rsp), Err(Errno::Nomem));
    assert_eq!(
        alt.set(StackT { flags: 4, ..stack }, rsp),
        Err(Errno::Inval)
    );
    assert_eq!(alt.report(rsp), stack);
    // On it: reported so, and it cannot change.
    let on = stack.sp + 100;
    assert_eq!(alt.report(on).flags, SS_ONSTACK);
    assert_eq!(alt.set(StackT::DISABLED, on), Err(Errno::Perm));
    // SS_ONSTACK as a request means 0; SS_AUTODISARM is kept.
    let armed = StackT {
        flags: SS_ONSTACK | SS_AUTODISARM,
        ..stack
    };
    assert_eq!(alt.set(armed, rsp), Ok(stack));
    assert_eq!(alt.report(rsp).flags, SS_AUTODISARM);
    // SS_DISABLE forgets the stack, whatever address and size come with it.
    let off = StackT {
        flags: SS_DISABLE,
        ..stack
    };
    assert_eq!(alt.set(off, rsp).map(|s| s.flags), Ok(SS_AUTODISARM));
    assert_eq!(alt.report(rsp), StackT::DISABLED);
    assert_eq!(alt.report(rsp).flags, SS_DISABLE);
}
