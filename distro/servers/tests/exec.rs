//! The exec server through its protocol: programs write to the caller's
//! ports, run with the caller's ids, `#!` scripts, crashes, and requests a
//! hostile caller could send.

use std::sync::Arc;

use hurd_ipc::Errno;
use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Error, PortArray, PortItem, PortName, RightType, UserIpc};
use hurd_servers::exec::{
    self, ARG_MAX, E2BIG, EXEC_NEWTASK, INIT_PORT_AUTH, INIT_PORT_CRDIR, INIT_PORT_CWDIR,
    INIT_PORT_MAX, SIGABRT, WaitStatus, argz, copy_send,
};
use hurd_servers::hosted::{DEMO_ACCOUNTS, ProgramContext, System};
use hurd_servers::shell::Session;
use hurd_trans::flags::OpenFlags;

fn boot() -> System {
    System::boot(DEMO_ACCOUNTS).expect("boot")
}

const NULL_FILE: PortItem = PortItem {
    disposition: Disposition::CopySend,
    name: PortName::NULL,
};

/// The session's initial ports, as `portarray`.
fn portarray(s: &Session<'_, Task>) -> PortArray {
    let mut p = [PortName::NULL; INIT_PORT_MAX];
    p[INIT_PORT_CWDIR] = s.cwdir;
    p[INIT_PORT_CRDIR] = s.crdir;
    p[INIT_PORT_AUTH] = s.auth;
    copy_send(&p)
}

/// Runs `path` by name with `argv`, standard input and output `stdin` and
/// `stdout`; gives the wait status.
fn run(
    sys: &System,
    s: &Session<'_, Task>,
    path: &str,
    argv: &[&str],
    stdin: PortName,
    stdout: PortName,
) -> Result<WaitStatus, Error> {
    let exec_port = sys.exec_server(s.ipc).expect("exec server");
    let r = exec::exec::Client::new(s.ipc, exec_port).exec_file_name(
        NULL_FILE,
        NULL_FILE,
        EXEC_NEWTASK,
        path.into(),
        argz(argv),
        argz(&["HOME=/home/alice"]),
        copy_send(&[stdin, stdout, PortName::NULL]),
        portarray(s),
    );
    let _ = s.ipc.port_deallocate(exec_port);
    r.map(WaitStatus::from_raw)
}

/// Runs `path` and gives what it wrote to a fresh file (standard output).
fn output(sys: &System, s: &Session<'_, Task>, path: &str, argv: &[&str]) -> (WaitStatus, String) {
    let out = s.open_for_output("/tmp/out", false).expect("open output");
    let st = run(sys, s, path, argv, PortName::NULL, out).expect("exec");
    s.release(out);
    let text = s.read_file("/tmp/out").expect("read output");
    (st, String::from_utf8(text).expect("utf-8"))
}

fn errno(r: Result<WaitStatus, Error>) -> Option<Errno> {
    r.err().and_then(Errno::of)
}

#[test]
fn output_lands_where_the_callers_port_points_and_ids_are_the_callers() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    assert_eq!(
        output(&sys, &s, "/bin/args", &["args", "to", "a file"]),
        (WaitStatus::Exited(0), "to a file\n".into())
    );
    assert_eq!(
        output(&sys, &s, "/bin/whoami", &["whoami"]),
        (WaitStatus::Exited(0), "1000\n".into())
    );
    assert_eq!(
        output(&sys, &s, "/bin/false", &["false"]),
        (WaitStatus::Exited(1), String::new())
    );
    // Standard input from the caller's file too.
    s.write_file("/tmp/in", b"shout this\n", false)
        .expect("input");
    let input = s.open("/tmp/in", OpenFlags::READ).expect("open input");
    let out = s.open_for_output("/tmp/up", false).expect("open output");
    assert_eq!(
        run(&sys, &s, "/bin/upcase", &["upcase"], input, out),
        Ok(WaitStatus::Exited(0))
    );
    assert_eq!(s.read_file("/tmp/up").expect("read"), b"SHOUT THIS\n");
}

#[test]
fn a_program_sees_its_environment_and_exec_exec_takes_an_open_file() {
    let sys = boot();
    sys.install_program(
        "/bin/home",
        Arc::new(|ctx: &ProgramContext| {
            let home = ctx.getenv("HOME").unwrap_or("none").to_owned();
            i32::from(ctx.print(&format!("{home}\n")).is_err())
        }),
    )
    .expect("install");
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    assert_eq!(output(&sys, &s, "/bin/home", &["home"]).1, "/home/alice\n");

    // exec_exec: the file as a port the caller opened for execution.
    let exec_port = sys.exec_server(&task).expect("exec server");
    let call = |file: PortName| {
        let out = s.open_for_output("/tmp/o2", false).expect("open output");
        let r = exec::exec::Client::new(&task, exec_port).exec(
            PortItem {
                disposition: Disposition::CopySend,
                name: file,
            },
            NULL_FILE,
            EXEC_NEWTASK,
            argz(&["args", "by", "port"]),
            Vec::new(),
            copy_send(&[PortName::NULL, out]),
            portarray(&s),
        );
        s.release(out);
        r.map(WaitStatus::from_raw)
    };
    let f = s
        .open("/bin/args", OpenFlags::EXEC | OpenFlags::READ)
        .expect("open for exec");
    assert_eq!(call(f), Ok(WaitStatus::Exited(0)));
    assert_eq!(s.read_file("/tmp/o2").expect("read"), b"by port\n");
    // A port not opened for execution is refused.
    let r = s.open("/bin/args", OpenFlags::READ).expect("open to read");
    assert_eq!(errno(call(r)), Some(Errno::Access));
    // A dead file port is an error, not a crash of the server.
    let dead = s
        .open("/bin/args", OpenFlags::EXEC | OpenFlags::READ)
        .expect("open");
    let holder = sys.task();
    let recv = holder.port_allocate(RightType::Receive).expect("port");
    let gone = holder
        .give_right(recv, Disposition::MakeSend, &task)
        .expect("send right");
    holder.terminate();
    assert!(call(gone).is_err());
    assert_eq!(call(dead), Ok(WaitStatus::Exited(0)));
}

#[test]
fn the_files_server_checks_the_callers_ids() {
    let sys = boot();
    sys.install_program_with_mode(
        "/bin/rootonly",
        Arc::new(|ctx: &ProgramContext| i32::from(ctx.print("secret\n").is_err())),
        0o700,
    )
    .expect("install");
    let task = sys.task();
    let alice = sys.login(&task, "alice", "wonderland").expect("login");
    assert_eq!(
        errno(run(
            &sys,
            &alice,
            "/bin/rootonly",
            &["x"],
            PortName::NULL,
            PortName::NULL
        )),
        Some(Errno::Access)
    );
    assert_eq!(
        errno(run(
            &sys,
            &alice,
            "/nosuch",
            &["x"],
            PortName::NULL,
            PortName::NULL
        )),
        Some(Errno::NoEnt)
    );
    alice
        .write_file("/tmp/text", b"just text\n", false)
        .expect("write");
    let node = alice.open("/tmp/text", OpenFlags::NOTRANS).expect("node");
    hurd_trans::protocol::fs::Client::new(&task, node)
        .file_chmod(0o755)
        .expect("chmod");
    alice.release(node);
    assert_eq!(
        errno(run(
            &sys,
            &alice,
            "/tmp/text",
            &["x"],
            PortName::NULL,
            PortName::NULL
        )),
        Some(Errno::NoExec)
    );
    let root_task = sys.task();
    let root = sys.login(&root_task, "root", "hurd").expect("root");
    assert_eq!(
        output(&sys, &root, "/bin/rootonly", &["rootonly"]).1,
        "secret\n"
    );
}

#[test]
fn scripts_run_their_interpreter_with_their_name() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    let script = |path: &str, text: &str| {
        s.write_file(path, text.as_bytes(), false).expect("write");
        let node = s.open(path, OpenFlags::NOTRANS).expect("node");
        hurd_trans::protocol::fs::Client::new(&task, node)
            .file_chmod(0o755)
            .expect("chmod");
        s.release(node);
    };
    script("/tmp/hello", "#!/bin/args -x\nignored\n");
    assert_eq!(
        output(&sys, &s, "/tmp/hello", &["hello", "world"]),
        (WaitStatus::Exited(0), "-x /tmp/hello world\n".into())
    );
    // A script run by a script.
    script("/tmp/outer", "#!/tmp/hello\n");
    assert_eq!(
        output(&sys, &s, "/tmp/outer", &["outer"]).1,
        "-x /tmp/hello /tmp/outer\n"
    );
    // Interpreters running themselves end with ELOOP; a missing one is
    // ENOENT; one the caller may not run is EACCES.
    script("/tmp/loop", "#!/tmp/loop\n");
    assert_eq!(
        errno(run(
            &sys,
            &s,
            "/tmp/loop",
            &["loop"],
            PortName::NULL,
            PortName::NULL
        )),
        Some(Errno::Loop)
    );
    script("/tmp/lost", "#!/bin/nothing-here\n");
    assert_eq!(
        errno(run(
            &sys,
            &s,
            "/tmp/lost",
            &["lost"],
            PortName::NULL,
            PortName::NULL
        )),
        Some(Errno::NoEnt)
    );
    script("/tmp/locked", "#!/root\n");
    assert_eq!(
        errno(run(
            &sys,
            &s,
            "/tmp/locked",
            &["x"],
            PortName::NULL,
            PortName::NULL
        )),
        Some(Errno::Access)
    );
}

#[test]
fn a_crash_ends_its_task_and_the_server_goes_on() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    for _ in 0..3 {
        assert_eq!(
            run(
                &sys,
                &s,
                "/bin/crash",
                &["crash"],
                PortName::NULL,
                PortName::NULL
            ),
            Ok(WaitStatus::Signaled(SIGABRT))
        );
        assert_eq!(
            output(&sys, &s, "/bin/args", &["args", "alive"]).1,
            "alive\n"
        );
    }
    // A program whose standard output is dead gets errors, not a hang.
    let holder = sys.task();
    let recv = holder.port_allocate(RightType::Receive).expect("port");
    let gone = holder
        .give_right(recv, Disposition::MakeSend, &task)
        .expect("send right");
    holder.terminate();
    assert_eq!(
        run(&sys, &s, "/bin/args", &["args", "x"], PortName::NULL, gone),
        Ok(WaitStatus::Exited(1))
    );
}

#[test]
fn hostile_requests_are_errors_and_rights_are_not_lost() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    let exec_port = sys.exec_server(&task).expect("exec server");
    let c = exec::exec::Client::new(&task, exec_port);
    // A port whose send rights we can count: its receive right is held by
    // another task.
    let holder = sys.task();
    let probe_rx = holder.port_allocate(RightType::Receive).expect("port");
    let probe = holder
        .give_right(probe_rx, Disposition::MakeSend, &task)
        .expect("send right");
    let call = |flags: i32, argv: Vec<u8>, dtable: PortArray, pa: PortArray| {
        c.exec_file_name(
            NULL_FILE,
            NULL_FILE,
            flags,
            "/bin/true".into(),
            argv,
            Vec::new(),
            dtable,
            pa,
        )
    };
    let code = |r: Result<i32, Error>| r.err().map(Error::code);
    let einval = Some(Error::from(Errno::Inval).code());
    // Arguments beyond ARG_MAX.
    let huge = vec![b'a'; ARG_MAX + 1];
    assert_eq!(
        code(call(EXEC_NEWTASK, huge, copy_send(&[probe]), portarray(&s))),
        Some(E2BIG)
    );
    // Not an argz vector.
    assert_eq!(
        code(call(
            EXEC_NEWTASK,
            b"no-nul".to_vec(),
            copy_send(&[probe]),
            portarray(&s)
        )),
        einval
    );
    // Unknown flags.
    assert_eq!(
        code(call(0x4000, Vec::new(), copy_send(&[probe]), portarray(&s))),
        einval
    );
    // Too many initial ports, too many descriptors.
    assert_eq!(
        code(call(
            EXEC_NEWTASK,
            Vec::new(),
            copy_send(&[]),
            copy_send(&[probe; 7])
        )),
        einval
    );
    assert_eq!(
        code(call(
            EXEC_NEWTASK,
            Vec::new(),
            copy_send(&[probe; 300]),
            portarray(&s)
        )),
        einval
    );
    // A receive right where send rights belong.
    let recv = task.port_allocate(RightType::Receive).expect("port");
    let moved = PortArray {
        disposition: Disposition::MoveReceive,
        names: vec![recv],
    };
    assert_eq!(
        code(call(EXEC_NEWTASK, Vec::new(), moved, portarray(&s))),
        einval
    );
    // No file and no name.
    assert!(
        c.exec(
            NULL_FILE,
            NULL_FILE,
            EXEC_NEWTASK,
            Vec::new(),
            Vec::new(),
            copy_send(&[]),
            portarray(&s)
        )
        .is_err()
    );
    // A task to load into: the hosted server has no task ports
    // (EOPNOTSUPP), and releases it.
    let r = c.exec_file_name(
        NULL_FILE,
        PortItem {
            disposition: Disposition::CopySend,
            name: probe,
        },
        0,
        "/bin/true".into(),
        Vec::new(),
        Vec::new(),
        copy_send(&[]),
        portarray(&s),
    );
    assert_eq!(code(r), Some(Error::from(Errno::OpNotSupp).code()));
    // The server released every right those requests carried: once the
    // caller drops its own, no send right to the probe is left.
    task.port_deallocate(probe).expect("drop the probe");
    let status = holder
        .port_get_receive_status(probe_rx)
        .expect("probe status");
    assert!(!status.srights, "the exec server kept a right");
    assert_eq!(output(&sys, &s, "/bin/args", &["args", "fine"]).1, "fine\n");
}

#[test]
fn the_server_runs_a_bounded_number_of_programs() {
    use hurd_servers::exec::MAX_RUNNING;
    use std::sync::{Barrier, Mutex, mpsc};

    let sys = Arc::new(boot());
    // A program that waits until the test lets it go.
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go = Arc::new(Mutex::new(go_rx));
    let started = Arc::new(Barrier::new(MAX_RUNNING + 1));
    let (g, st) = (go.clone(), started.clone());
    sys.install_program(
        "/bin/wait",
        Arc::new(move |_: &ProgramContext| {
            st.wait();
            let _ = g.lock().expect("lock").recv();
            0
        }),
    )
    .expect("install");
    let callers: Vec<_> = (0..MAX_RUNNING)
        .map(|_| {
            let sys = sys.clone();
            std::thread::spawn(move || {
                let task = sys.task();
                let s = sys.login(&task, "alice", "wonderland").expect("login");
                run(
                    &sys,
                    &s,
                    "/bin/wait",
                    &["wait"],
                    PortName::NULL,
                    PortName::NULL,
                )
            })
        })
        .collect();
    started.wait();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    assert_eq!(
        errno(run(
            &sys,
            &s,
            "/bin/true",
            &["true"],
            PortName::NULL,
            PortName::NULL
        )),
        Some(Errno::Again)
    );
    for _ in 0..MAX_RUNNING {
        go_tx.send(()).expect("let one go");
    }
    for c in callers {
        assert_eq!(c.join().expect("caller"), Ok(WaitStatus::Exited(0)));
    }
    assert_eq!(
        run(
            &sys,
            &s,
            "/bin/true",
            &["true"],
            PortName::NULL,
            PortName::NULL
        ),
        Ok(WaitStatus::Exited(0))
    );
}

/// Runs `path` with `envp` and `flags` through `server`; standard output to
/// `/tmp/out`, which is returned with the status.
fn run_with(
    s: &Session<'_, Task>,
    server: PortName,
    flags: i32,
    path: &str,
    argv: &[&str],
    envp: &[&str],
) -> Result<(WaitStatus, String), Error> {
    let out = s.open_for_output("/tmp/out", false).expect("open output");
    let r = exec::exec::Client::new(s.ipc, server).exec_file_name(
        NULL_FILE,
        NULL_FILE,
        flags,
        path.into(),
        argz(argv),
        argz(envp),
        copy_send(&[PortName::NULL, out, PortName::NULL]),
        portarray(s),
    );
    s.release(out);
    let st = WaitStatus::from_raw(r?);
    let text = s.read_file("/tmp/out").expect("read output");
    Ok((st, String::from_utf8(text).expect("utf-8")))
}

#[test]
fn servers_exec_is_an_exec_server_translator() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    // Looking the node up starts the translator; its port speaks exec.
    let server = s.open("/servers/exec", OpenFlags::empty()).expect("lookup");
    assert_eq!(
        run_with(
            &s,
            server,
            EXEC_NEWTASK,
            "/bin/args",
            &["args", "via", "/servers/exec"],
            &[]
        ),
        Ok((WaitStatus::Exited(0), "via /servers/exec\n".into()))
    );
}

#[test]
fn exec_servers_names_the_callers_own_exec_servers() {
    use hurd_ipc::hosted::Runtime;
    use hurd_servers::exec::{EXEC_SECURE, ProgramTable, hosted_image, translator};
    use hurd_trans::flags::FS_TRANS_SET;
    use hurd_trans::protocol::fs;

    let sys = boot();
    // An exec server of the user's own knowing a program the system's does
    // not: started from a translator record on a node alice owns.
    let table = ProgramTable::new();
    table.register(
        "/emu/hello",
        Arc::new(|ctx: &ProgramContext| i32::from(ctx.print("emulated\n").is_err())),
    );
    let rt: &Runtime = &sys.rt;
    sys.install_translator("/hurd/emu-exec", translator(rt, table))
        .expect("install translator");
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    s.write_file("/home/alice/myexec", b"", false)
        .expect("node");
    let node = s
        .open("/home/alice/myexec", OpenFlags::NOTRANS)
        .expect("node");
    fs::Client::new(&task, node)
        .file_set_translator(
            FS_TRANS_SET as i32,
            0,
            0,
            argz(&["/hurd/emu-exec"]),
            NULL_FILE,
        )
        .expect("settrans");
    s.release(node);
    s.write_file("/tmp/emu", &hosted_image("/emu/hello"), false)
        .expect("program");
    let node = s.open("/tmp/emu", OpenFlags::NOTRANS).expect("node");
    fs::Client::new(&task, node)
        .file_chmod(0o755)
        .expect("chmod");
    s.release(node);

    let system = sys.exec_server(&task).expect("exec server");
    let noexec = Some(Errno::NoExec);
    let errno_of = |r: Result<(WaitStatus, String), Error>| r.err().and_then(Errno::of);
    // The system's exec server alone cannot run it.
    assert_eq!(
        errno_of(run_with(
            &s,
            system,
            EXEC_NEWTASK,
            "/tmp/emu",
            &["emu"],
            &[]
        )),
        noexec
    );
    // Named in EXEC_SERVERS, alice's server runs it; names that are no
    // exec server or do not open are passed over.
    let env = ["EXEC_SERVERS=/nonexistent:/etc/passwd:/home/alice/myexec"];
    assert_eq!(
        run_with(&s, system, EXEC_NEWTASK, "/tmp/emu", &["emu"], &env),
        Ok((WaitStatus::Exited(0), "emulated\n".into()))
    );
    // A secure exec does not honour the environment.
    assert_eq!(
        errno_of(run_with(
            &s,
            system,
            EXEC_NEWTASK | EXEC_SECURE,
            "/tmp/emu",
            &["emu"],
            &env
        )),
        noexec
    );
    // A program alice's server does not know: its ENOEXEC is the answer.
    assert_eq!(
        errno_of(run_with(
            &s,
            system,
            EXEC_NEWTASK,
            "/bin/args",
            &["args"],
            &env
        )),
        noexec
    );
    // When no named server opens, the system's runs the program.
    assert_eq!(
        run_with(
            &s,
            system,
            EXEC_NEWTASK,
            "/bin/args",
            &["args", "here"],
            &["EXEC_SERVERS=/nonexistent"]
        ),
        Ok((WaitStatus::Exited(0), "here\n".into()))
    );
}
