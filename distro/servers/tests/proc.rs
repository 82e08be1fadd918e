//! The proc server over its protocol: each process calls through its own
//! proc port.

use std::time::Duration;

use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, Error, PortItem, PortName, RightType, UserIpc};
use hurd_servers::exec::{WaitStatus, parse_argz};
use hurd_servers::proc::{ESRCH, HostedProc, SIGTERM, SIGUSR1, Signals, WNOHANG, msg, process};

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> i32 {
    match r {
        Err(Error::Code(c)) => c,
        other => panic!("expected an error code, got {other:?}"),
    }
}

#[test]
fn processes_ask_about_themselves_and_each_other() {
    let rt = Runtime::new();
    let proc = HostedProc::spawn(&rt).expect("proc");
    let sh_task = rt.task();
    let (sh, sh_port) = proc
        .register_in(
            None,
            1000,
            vec!["sh".into()],
            vec!["HOME=/".into()],
            &sh_task,
        )
        .expect("sh");
    let child_task = rt.task();
    let (child, child_port) = proc
        .register_in(
            Some(sh),
            1000,
            vec!["sleep".into(), "9".into()],
            vec![],
            &child_task,
        )
        .expect("child");
    let c = process::Client::new(&sh_task, sh_port);
    assert_eq!(c.getpids().expect("getpids"), (sh, 0, 0));
    assert_eq!(
        hurd_servers::proc::pid_of(&child_task, child_port),
        Some(child)
    );
    assert_eq!(c.getallpids().expect("all"), vec![sh as u32, child as u32]);
    assert_eq!(
        parse_argz(&c.getprocargs(child).expect("args")).expect("argz"),
        ["sleep", "9"]
    );
    assert_eq!(
        parse_argz(&c.getprocenv(sh).expect("env")).expect("argz"),
        ["HOME=/"]
    );
    assert_eq!(c.getsid(child).expect("sid"), sh);
    assert_eq!(c.getpgrp(child).expect("pgrp"), sh);
    assert_eq!(c.getprocinfo(child).expect("info"), (sh, sh, sh, 1000, 0));
    // The shell puts the child in a group of its own.
    c.setpgrp(child, 0).expect("setpgrp");
    assert_eq!(c.getpgrppids(child).expect("group"), vec![child as u32]);
    // A message port must be a send right: a receive right is EINVAL (and
    // destroyed, not kept), and the server goes on.
    let wrong = sh_task.port_allocate(RightType::Receive).expect("port");
    assert_eq!(
        code(c.setmsgport(PortItem {
            disposition: Disposition::MoveReceive,
            name: wrong,
        })),
        hurd_ipc::Errno::Inval as i32
    );
    assert_eq!(c.getmsgport(sh).expect("none set").name, PortName::NULL);
    // Setting one hands back the previous.
    let first = sh_task.port_allocate(RightType::Receive).expect("port");
    let old = c
        .setmsgport(PortItem {
            disposition: Disposition::MakeSend,
            name: first,
        })
        .expect("set");
    assert_eq!(old.name, PortName::NULL);
    let old = c
        .setmsgport(PortItem {
            disposition: Disposition::MoveSend,
            name: PortName::NULL,
        })
        .expect("clear");
    assert!(old.name.is_valid(), "the previous message port comes back");
    // Unknown pids are ESRCH.
    assert_eq!(code(c.getprocargs(4242)), ESRCH);
    assert_eq!(code(c.getsid(-7)), ESRCH);
    // WNOHANG while the child runs; then a blocking wait answered by its end.
    assert_eq!(c.wait(child, WNOHANG).expect("nohang"), (0, 0));
    let ender = {
        let proc = proc.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            proc.exit(child, WaitStatus::Exited(3).raw()).expect("exit");
        })
    };
    assert_eq!(
        c.wait(-1, 0).expect("wait"),
        (WaitStatus::Exited(3).raw(), child)
    );
    ender.join().expect("ender");
    // Reaped: gone, and its port with it.
    assert_eq!(code(c.getsid(child)), ESRCH);
    assert!(
        process::Client::new(&child_task, child_port)
            .getpids()
            .is_err()
    );
}

#[test]
fn message_ports_are_given_to_owners_and_root_only() {
    let rt = Runtime::new();
    let proc = HostedProc::spawn(&rt).expect("proc");
    let (alice_t, bob_t, root_t) = (rt.task(), rt.task(), rt.task());
    let (alice, alice_port) = proc
        .register_in(None, 1000, vec![], vec![], &alice_t)
        .expect("a");
    let (_bob, bob_port) = proc
        .register_in(None, 1001, vec![], vec![], &bob_t)
        .expect("b");
    let (_root, root_port) = proc
        .register_in(None, 0, vec![], vec![], &root_t)
        .expect("r");

    // Alice's message port, served by her signal thread.
    let signals = Signals::new();
    let recv = alice_t.port_allocate(RightType::Receive).expect("msgport");
    signals.serve(&alice_t, recv).expect("serve");
    let old = process::Client::new(&alice_t, alice_port)
        .setmsgport(PortItem {
            disposition: Disposition::MakeSend,
            name: recv,
        })
        .expect("setmsgport");
    assert_eq!(old.name, PortName::NULL);

    // Bob may not have it.
    let bob = process::Client::new(&bob_t, bob_port);
    assert_eq!(code(bob.getmsgport(alice)), hurd_ipc::Errno::Perm as i32);
    // Root may, and signals her.
    let m = process::Client::new(&root_t, root_port)
        .getmsgport(alice)
        .expect("root");
    assert!(m.name.is_valid());
    let post = |sig: i32| {
        msg::Client::new(&root_t, m.name).sig_post(
            sig,
            0,
            PortItem {
                disposition: Disposition::CopySend,
                name: PortName::NULL,
            },
        )
    };
    // A signal she survives.
    post(SIGUSR1).expect("usr1");
    assert_eq!(signals.wait(Duration::from_secs(5)), Some(SIGUSR1));
    assert_eq!(signals.fatal(), None);
    // A signal out of range is EINVAL, and changes nothing.
    assert_eq!(code(post(99)), hurd_ipc::Errno::Inval as i32);
    assert_eq!(code(post(0)), hurd_ipc::Errno::Inval as i32);
    assert_eq!(signals.take(), None);
    // SIGTERM ends her task; with it her proc port's last sender goes, so
    // her process ends and the server releases her message port.
    post(SIGTERM).expect("term");
    assert_eq!(signals.wait(Duration::from_secs(5)), Some(SIGTERM));
    assert_eq!(signals.fatal(), Some(SIGTERM));
    let root = process::Client::new(&root_t, root_port);
    let mut gone = false;
    for _ in 0..500 {
        if root.getmsgport(alice).is_err() {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(gone, "her process ended with her task");
    assert_eq!(code(root.getmsgport(alice)), ESRCH);
    assert_eq!(code(proc.exit(alice, 0)), ESRCH);
}

/// The report a fake kernel sends when a "task" ends.
const ENDED: i32 = 4001;

/// The ports the fake kernel was asked to report ends on.
static WATCHED: std::sync::Mutex<Vec<PortName>> = std::sync::Mutex::new(Vec::new());

/// A kernel of the test's own for [`Tasks`]: a task is any port, its end is
/// reported by the test itself, and its arguments are fixed.
fn fake_tasks() -> hurd_servers::proc::Tasks<hurd_ipc::hosted::Task> {
    hurd_servers::proc::Tasks {
        watch: |_, _, notify| {
            WATCHED.lock().expect("watched").push(notify);
            Ok(())
        },
        ended: ENDED,
        wait_status: |v| if v < 256 { (v as i32) << 8 } else { 11 },
        args: |_, _| Some((vec!["prog".into(), "-x".into()], vec!["TERM=hurd".into()])),
    }
}

#[test]
fn tasks_become_child_processes_and_their_ends_are_waited_for() {
    use hurd_ipc::{Item, Message};
    use hurd_servers::proc::{ProcServer, State};
    use std::sync::{Arc, Mutex};

    let rt = Runtime::new();
    let server: Arc<ProcServer<_, Mutex<State>>> =
        Arc::new(ProcServer::new(rt.task(), Some(fake_tasks())).expect("proc"));
    let s = server.clone();
    std::thread::spawn(move || s.serve());
    let sh_task = rt.task();
    let (sh, port) = server
        .register(None, 1000, vec!["sh".into()], vec![])
        .expect("sh");
    let sh_port = server
        .ipc()
        .give_right(port, Disposition::MakeSend, &sh_task)
        .expect("give");
    let c = process::Client::new(&sh_task, sh_port);

    // Two "tasks": ports the shell holds send rights to.
    let task_of = |t: &hurd_ipc::hosted::Task| {
        let p = t.port_allocate(RightType::Receive).expect("task port");
        t.port_insert_right(p, p, Disposition::MakeSend)
            .expect("send");
        p
    };
    let task = task_of(&sh_task);
    let send = |name| PortItem {
        disposition: Disposition::CopySend,
        name,
    };
    c.child(send(task)).expect("child");
    // The same task twice is EBUSY; the shell keeps its right.
    assert_eq!(code(c.child(send(task))), hurd_ipc::Errno::Busy as i32);
    assert_eq!(sh_task.port_get_refs(task, RightType::Send), Ok(1));
    let pid = c.task2pid(send(task)).expect("task2pid");
    assert_eq!(c.getprocinfo(pid).expect("info"), (sh, sh, sh, 1000, 0));
    assert_eq!(
        parse_argz(&c.getprocargs(pid).expect("args")).expect("argz"),
        ["prog", "-x"]
    );
    // Its task port comes back to its owner; its proc port to the holder of
    // its task port.
    let t = c.pid2task(pid).expect("pid2task");
    assert_eq!(sh_task.port_get_refs(t.name, RightType::Send), Ok(2));
    sh_task.port_deallocate(t.name).expect("release");
    let child_proc = c.task2proc(send(task)).expect("task2proc").name;
    assert_eq!(hurd_servers::proc::pid_of(&sh_task, child_proc), Some(pid));
    // The process announces its status, then its task ends: the wait gets
    // the announced status, not the kernel's.
    process::Client::new(&sh_task, child_proc)
        .mark_exit(2, 0)
        .expect("mark");
    // The kernel's report comes through a send-once right made from the
    // process's proc port; the same message through a send right (a
    // process faking its own end) is not heard.
    let report = |to: PortName, value: u64, how| Message {
        body: vec![Item::U64(value)],
        ..Message::new(ENDED, to, how)
    };
    let kernel = |value: u64| {
        let notify = WATCHED.lock().expect("watched").remove(0);
        server
            .ipc()
            .send(report(notify, value, Disposition::MakeSendOnce))
            .expect("report");
    };
    let _ = sh_task.send(report(child_proc, 7, Disposition::CopySend));
    assert_eq!(c.wait(pid, WNOHANG).expect("not yet"), (0, 0));
    kernel(0);
    assert_eq!(c.wait(pid, 0).expect("wait"), (2, pid));
    assert_eq!(code(c.task2pid(send(task))), ESRCH);

    // Without a mark, the kernel's value makes the status.
    let task2 = task_of(&sh_task);
    c.child(send(task2)).expect("child 2");
    let pid2 = c.task2pid(send(task2)).expect("pid");
    kernel(0x100e);
    assert_eq!(
        WaitStatus::from_raw(c.wait(pid2, 0).expect("wait").0),
        WaitStatus::Signaled(11)
    );

    // Not a send right (a send-once right): EINVAL, and what came is
    // released (its send-once notification arrives).
    let recv = sh_task.port_allocate(RightType::Receive).expect("port");
    let bad = PortItem {
        disposition: Disposition::MakeSendOnce,
        name: recv,
    };
    assert_eq!(code(c.child(bad)), hurd_ipc::Errno::Inval as i32);
    let n = sh_task.receive(recv).expect("notification");
    assert_eq!(n.header.id, hurd_ipc::notify::NOTIFY_SEND_ONCE);
    assert_eq!(code(c.pid2task(999)), ESRCH);
}

#[test]
fn without_a_kernel_proc_child_is_not_supported() {
    let rt = Runtime::new();
    let proc = HostedProc::spawn(&rt).expect("proc");
    let t = rt.task();
    let (_, port) = proc.register_in(None, 0, vec![], vec![], &t).expect("p");
    let task = t.port_allocate(RightType::Receive).expect("port");
    t.port_insert_right(task, task, Disposition::MakeSend)
        .expect("send");
    let c = process::Client::new(&t, port);
    let r = c.child(PortItem {
        disposition: Disposition::CopySend,
        name: task,
    });
    assert_eq!(code(r), hurd_ipc::Errno::OpNotSupp as i32);
    assert_eq!(t.port_get_refs(task, RightType::Send), Ok(1));
}
