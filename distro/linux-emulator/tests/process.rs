//! `fork`, `vfork`, `clone`, `wait4` and `execve` as data: the child a
//! call asks for, what the child's IPC space gets, `proc_wait`'s
//! arguments and statuses, `#!` lines and execute permission.
#![allow(clippy::unwrap_used)]

use hurd_ipc::{PortName, PortType};
use linux_abi::flags::{
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_FS, CLONE_NEWNS,
    CLONE_PARENT_SETTID, CLONE_SETTLS, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VFORK,
    CLONE_VM,
};
use linux_abi::signal::{SIGCHLD, WCONTINUED, WNOHANG};
use linux_abi::{Errno, Sysno};
use linux_emulator::process::{
    Executable, ForkRequest, OwnNames, PortCopy, Refused, child_siginfo, classify, linux_status,
    may_execute, port_copy, script_argv, wait_request, waitid_request,
};
use proptest::prelude::*;

fn clone(flags: u64, stack: u64) -> Result<ForkRequest, Refused> {
    ForkRequest::from_call(Sysno::Clone, [flags, stack, 0x1000, 0x2000, 0x3000, 0])
}

#[test]
fn fork_and_vfork_ask_for_a_copy() {
    let fork = ForkRequest::from_call(Sysno::Fork, [9; 6]).unwrap();
    assert_eq!(
        fork,
        ForkRequest {
            exit_signal: SIGCHLD,
            ..ForkRequest::default()
        },
        "fork's arguments are not looked at"
    );
    let vfork = ForkRequest::from_call(Sysno::Vfork, [0; 6]).unwrap();
    assert!(vfork.vfork);
    assert_eq!(vfork.stack, 0, "on the parent's stack (a copy of it)");
}

#[test]
fn clone_of_a_process_keeps_what_it_asks_for() {
    // musl's fork: clone(SIGCHLD, 0).
    assert_eq!(clone(u64::from(SIGCHLD), 0).unwrap(), {
        ForkRequest {
            exit_signal: SIGCHLD,
            ..ForkRequest::default()
        }
    });
    // glibc's fork: the child's tid written and cleared.
    let glibc = clone(
        CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | u64::from(SIGCHLD),
        0,
    )
    .unwrap();
    assert_eq!(glibc.child_set_tid, Some(0x2000));
    assert_eq!(glibc.child_clear_tid, Some(0x2000));
    assert_eq!(glibc.parent_tid, None);
    // musl's posix_spawn (Rust's Command): a copy on the given stack.
    let spawn = clone(CLONE_VM | CLONE_VFORK | u64::from(SIGCHLD), 0x7000).unwrap();
    assert!(spawn.vfork);
    assert_eq!(spawn.stack, 0x7000);
    let all = clone(
        CLONE_PARENT_SETTID | CLONE_SETTLS | CLONE_SYSVSEM | u64::from(SIGCHLD),
        0,
    )
    .unwrap();
    assert_eq!(all.parent_tid, Some(0x1000));
    assert_eq!(all.tls, Some(0x3000));
    assert_eq!(clone(0, 0).unwrap().exit_signal, 0, "no signal at the end");
}

#[test]
fn clone_refuses_as_linux_does_and_reports_what_is_missing() {
    let threads = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
    assert!(matches!(
        clone(threads, 0x7000),
        Err(Refused::Unsupported(_))
    ));
    assert_eq!(clone(threads, 0x7000).unwrap_err().errno(), Errno::Nosys);
    assert!(matches!(
        clone(CLONE_FILES | u64::from(SIGCHLD), 0),
        Err(Refused::Unsupported(_))
    ));
    assert!(matches!(
        clone(CLONE_FS | u64::from(SIGCHLD), 0),
        Err(Refused::Unsupported(_))
    ));
    // What Linux itself refuses.
    for flags in [
        CLONE_THREAD | CLONE_VM,
        CLONE_SIGHAND,
        CLONE_VM,
        CLONE_NEWNS,
        u64::from(SIGCHLD) | 1 << 40,
    ] {
        assert_eq!(
            clone(flags, 0),
            Err(Refused::Linux(Errno::Inval)),
            "{flags:#x}"
        );
        assert_eq!(clone(flags, 0).unwrap_err().errno(), Errno::Inval);
    }
}

#[test]
fn the_child_gets_copies_of_rights_and_its_own_ports() {
    let own = OwnNames {
        task: PortName(0x30),
        thread: PortName(0x31),
        proc: PortName(0x23),
        child: [PortName(0x40), PortName(0x41), PortName(0x42)],
    };
    let copy = |name, ty| port_copy(PortName(name), ty, &own);
    assert_eq!(copy(0x30, PortType::SEND), PortCopy::Task);
    assert_eq!(copy(0x31, PortType::SEND), PortCopy::Thread);
    assert_eq!(copy(0x23, PortType::SEND), PortCopy::Proc);
    for made in [0x40, 0x41, 0x42] {
        assert_eq!(copy(made, PortType::SEND), PortCopy::Nothing);
    }
    assert_eq!(copy(0x21, PortType::SEND), PortCopy::Send);
    assert_eq!(copy(0x50, PortType::RECEIVE), PortCopy::Receive);
    assert_eq!(
        copy(0x51, PortType::RECEIVE | PortType::SEND),
        PortCopy::Receive,
        "a port of its own, not the parent's"
    );
    assert_eq!(copy(0x52, PortType::SEND_ONCE), PortCopy::Nothing);
    assert_eq!(copy(0x53, PortType::DEAD_NAME), PortCopy::Nothing);
    assert_eq!(copy(0x54, PortType::PORT_SET), PortCopy::Nothing);
}

#[test]
fn wait4_becomes_proc_wait() {
    assert_eq!(wait_request(42, 0), Ok((42, 0)));
    assert_eq!(wait_request(-1, WNOHANG), Ok((-1, 1)));
    assert_eq!(wait_request(0, 0), Ok((-1, 0)), "the caller's group");
    assert_eq!(wait_request(-7, 0), Ok((-1, 0)), "group 7");
    assert_eq!(wait_request(1, WCONTINUED), Ok((1, 4)), "BSD's WCONTINUED");
    assert_eq!(wait_request(1, 0x100), Err(Errno::Inval));
}

#[test]
fn statuses_are_linuxs() {
    assert_eq!(linux_status(3 << 8), 0x300);
    assert_eq!(linux_status(0), 0);
    assert_eq!(linux_status(9), 9, "SIGKILL is 9 on both");
    assert_eq!(linux_status(10), 7, "the Hurd's SIGBUS is Linux's 7");
    assert_eq!(linux_status(11 | 0x80), 11 | 0x80, "a core dump");
    assert_eq!(linux_status(0x1_0300), 31, "malformed: SIGSYS");
}

#[test]
fn files_are_classified_as_execve_does() {
    assert_eq!(classify(b"\x7fELF\x02\x01"), Ok(Executable::Elf));
    let script = |i: &[u8], a: Option<&[u8]>| Executable::Script {
        interpreter: i.to_vec(),
        arg: a.map(<[u8]>::to_vec),
    };
    assert_eq!(classify(b"#!/bin/sh\necho"), Ok(script(b"/bin/sh", None)));
    assert_eq!(
        classify(b"#! \t/bin/awk  -f  x \t\nBEGIN"),
        Ok(script(b"/bin/awk", Some(b"-f  x"))),
        "one argument: the rest of the line, trimmed"
    );
    assert_eq!(
        classify(b"#!/bin/sh"),
        Ok(script(b"/bin/sh", None)),
        "a file that is only the line"
    );
    for bad in [&b"#!\n"[..], b"#!   \n", b"not a program\n", b"", b"\x7fEL"] {
        assert_eq!(classify(bad), Err(Errno::Noexec), "{bad:?}");
    }
    let mut long = b"#!/bin/".to_vec();
    long.resize(300, b'x');
    assert_eq!(classify(&long), Err(Errno::Noexec), "no end of line");
}

#[test]
fn a_script_runs_its_interpreter_with_its_name() {
    let argv = [b"./s".to_vec(), b"one".to_vec(), b"two".to_vec()];
    assert_eq!(
        script_argv(b"/bin/sh", Some(b"-e"), b"dir/s", &argv),
        [&b"/bin/sh"[..], b"-e", b"dir/s", b"one", b"two"]
    );
    assert_eq!(
        script_argv(b"/bin/sh", None, b"s", &[]),
        [&b"/bin/sh"[..], b"s"]
    );
}

#[test]
fn execute_permission_follows_the_class_of_the_caller() {
    const FILE: u32 = 0o100_000;
    const DIR: u32 = 0o040_000;
    let may = |mode, euid, groups: &[u32]| may_execute(mode, 10, 20, euid, groups);
    assert_eq!(may(FILE | 0o700, 10, &[]), Ok(()));
    assert_eq!(
        may(FILE | 0o070, 10, &[20]),
        Err(Errno::Acces),
        "the owner's bits"
    );
    assert_eq!(may(FILE | 0o010, 11, &[20]), Ok(()), "a group member");
    assert_eq!(may(FILE | 0o001, 11, &[21]), Ok(()), "others");
    assert_eq!(may(FILE | 0o776, 11, &[21]), Err(Errno::Acces));
    assert_eq!(may(FILE | 0o001, 0, &[]), Ok(()), "root: any x bit");
    assert_eq!(
        may(FILE | 0o666, 0, &[]),
        Err(Errno::Acces),
        "root: no x bit"
    );
    assert_eq!(may(DIR | 0o777, 10, &[]), Err(Errno::Acces), "a directory");
}

proptest! {
    #[test]
    fn any_bytes_classify_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = classify(&bytes);
        let mut script = b"#!".to_vec();
        script.extend_from_slice(&bytes);
        if let Ok(Executable::Script { interpreter, arg }) = classify(&script) {
            prop_assert!(!interpreter.is_empty());
            prop_assert!(!interpreter.contains(&b' ') && !interpreter.contains(&b'\n'));
            prop_assert!(arg.is_none_or(|a| !a.is_empty() && !a.contains(&b'\n')));
        }
    }
}

#[test]
fn waitid_becomes_proc_wait() {
    use linux_emulator::process::{P_ALL, P_PGID, P_PID, WEXITED, WNOWAIT, WSTOPPED};
    assert_eq!(waitid_request(P_PID, 9, WEXITED), Ok((9, 0)));
    assert_eq!(waitid_request(P_ALL, 0, WEXITED | WNOHANG), Ok((-1, 1)));
    assert_eq!(waitid_request(P_PGID, 3, WEXITED), Ok((-1, 0)));
    for (idtype, id, options) in [
        (P_PID, 0, WEXITED),
        (P_PID, -4, WEXITED),
        (3, 5, WEXITED),
        (P_ALL, 0, 0),
        (P_ALL, 0, WNOHANG),
        (P_ALL, 0, WEXITED | 0x100),
    ] {
        assert_eq!(
            waitid_request(idtype, id, options),
            Err(Refused::Linux(Errno::Inval)),
            "{idtype} {id} {options:#x}"
        );
    }
    assert!(matches!(
        waitid_request(P_ALL, 0, WSTOPPED),
        Err(Refused::Unsupported(_))
    ));
    assert!(matches!(
        waitid_request(P_ALL, 0, WEXITED | WNOWAIT),
        Err(Refused::Unsupported(_))
    ));
}

#[test]
fn waitid_tells_how_the_child_ended() {
    use linux_abi::layout::sigframe::{CLD_DUMPED, CLD_EXITED, CLD_KILLED};
    let info = child_siginfo(4 << 8, 12, 1000);
    assert_eq!(
        (info.signo, info.code, info.status, info.pid, info.uid),
        (SIGCHLD as i32, CLD_EXITED, 4, 12, 1000)
    );
    let killed = child_siginfo(9, 12, 0);
    assert_eq!((killed.code, killed.status), (CLD_KILLED, 9));
    let dumped = child_siginfo(10 | 0x80, 12, 0);
    assert_eq!(
        (dumped.code, dumped.status),
        (CLD_DUMPED, 7),
        "SIGBUS, Linux's number"
    );
    let bytes = info.to_bytes();
    assert_eq!(&bytes[24..28], &4i32.to_le_bytes(), "si_status");
}
