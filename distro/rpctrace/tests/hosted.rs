//! rpctrace on the hosted server set: a program's RPCs, by name, with their
//! arguments and replies, while the program works as it does untraced.

use std::sync::Arc;

use hurd_ipc::hosted::Task;
use hurd_ipc::{Disposition, Error, Item, Message, PortItem, PortName, UserIpc};
use hurd_servers::exec::{
    self, EXEC_NEWTASK, INIT_PORT_AUTH, INIT_PORT_CRDIR, INIT_PORT_CWDIR, INIT_PORT_MAX,
    WaitStatus, argz, copy_send,
};
use hurd_servers::hosted::{DEMO_ACCOUNTS, Program, ProgramContext, System};
use hurd_servers::shell::Session;
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::io;

/// `show FILE`: opens FILE by name, reads it and writes it to standard
/// output; a missing file is reported on standard error.
fn show() -> Program {
    Arc::new(|ctx: &ProgramContext| {
        let name = ctx.argv.get(1).cloned().unwrap_or_default();
        let file = match ctx.lookup().open(&name, OpenFlags::READ, 0) {
            Ok(file) => file,
            Err(e) => {
                let _ = ctx.eprint(&format!("show: {name}: {e}\n"));
                return 1;
            }
        };
        let data = io::Client::new(&ctx.task, file).read(-1, 100);
        let _ = ctx.task.port_deallocate(file);
        match data {
            Ok(data) => i32::from(ctx.write(1, &data).is_err()),
            Err(_) => 1,
        }
    })
}

/// `bad`: sends standard output a message of an unknown id and an
/// `io_write` whose items are wrong, each with a reply port, and waits for
/// both replies.
fn bad() -> Program {
    Arc::new(|ctx: &ProgramContext| {
        let out = ctx.fd(1);
        let mut failures = 0;
        for msg in [
            Message::new(12345, out, Disposition::CopySend)
                .with_item(Item::U64(7))
                .with_item(Item::Bytes(vec![0xff, b'a'])),
            Message::new(io::id::write, out, Disposition::CopySend).with_item(Item::U32(1)),
        ] {
            let Ok(reply) = ctx.task.reply_port() else {
                return 2;
            };
            let msg = msg.with_reply(reply, Disposition::MakeSendOnce);
            match ctx
                .task
                .mach_msg(Some(msg), Some(reply), &Default::default())
            {
                Ok(Some(answer)) if answer.body.first() != Some(&Item::U32(0)) => failures += 1,
                _ => {}
            }
            ctx.task.release_reply_port(reply, true);
        }
        failures
    })
}

fn boot() -> System {
    let sys = System::boot(DEMO_ACCOUNTS).expect("boot");
    sys.install_program("/bin/rpctrace", rpctrace::hosted::program())
        .expect("install rpctrace");
    sys.install_program("/bin/show", show())
        .expect("install show");
    sys.install_program("/bin/bad", bad()).expect("install bad");
    sys
}

/// Runs `argv` as the session's user with standard output and error to
/// fresh files; gives the status, the output and the error output.
fn run(sys: &System, s: &Session<'_, Task>, argv: &[&str]) -> (WaitStatus, String, String) {
    let out = s.open_for_output("/tmp/out", false).expect("open output");
    let err = s
        .open_for_output("/tmp/err", false)
        .expect("open error output");
    let mut ports = [PortName::NULL; INIT_PORT_MAX];
    ports[INIT_PORT_CWDIR] = s.cwdir;
    ports[INIT_PORT_CRDIR] = s.crdir;
    ports[INIT_PORT_AUTH] = s.auth;
    let exec_port = sys.exec_server(s.ipc).expect("exec server");
    let null = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    let status = exec::exec::Client::new(s.ipc, exec_port)
        .exec_file_name(
            null,
            null,
            EXEC_NEWTASK,
            argv[0].into(),
            argz(argv),
            argz(&["HOME=/home/alice"]),
            copy_send(&[PortName::NULL, out, err]),
            copy_send(&ports),
        )
        .map(WaitStatus::from_raw);
    let _ = s.ipc.port_deallocate(exec_port);
    s.release(out);
    s.release(err);
    let text = |path| String::from_utf8(s.read_file(path).expect("read")).expect("utf-8");
    (status.expect("exec"), text("/tmp/out"), text("/tmp/err"))
}

fn line<'a>(trace: &'a str, start: &str) -> &'a str {
    trace
        .lines()
        .find(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{trace}"))
}

#[test]
fn a_programs_lookups_reads_and_writes_by_name() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    s.write_file("/tmp/hello", b"hello, world\n", false)
        .expect("write");

    let (status, out, err) = run(
        &sys,
        &s,
        &["/bin/rpctrace", "-o", "/tmp/trace", "show", "/tmp/hello"],
    );
    assert_eq!(status, WaitStatus::Exited(0), "{err}");
    assert_eq!(
        out, "hello, world\n",
        "the traced program works as it does untraced"
    );
    let trace = String::from_utf8(s.read_file("/tmp/trace").expect("trace")).expect("utf-8");

    // file_name_lookup: dir_lookup on the root directory, answered with a
    // right that comes into the program wrapped.
    let lookup = line(&trace, "crdir->dir_lookup (");
    assert!(
        lookup.contains("\"tmp/hello\" 1 0) = 0 1 \"\" move-send:"),
        "{trace}"
    );
    let file = lookup.rsplit("move-send:").next().expect("the file's port");
    assert!(file.contains("<--"), "{trace}");
    // io_read on that port, by the wrapper's name, with the data.
    let read = line(&trace, &format!("{file}->io_read ("));
    assert_eq!(
        read.trim_start(),
        format!("{file}->io_read (-1 100) = 0 \"hello, world\\n\"")
    );
    // io_write on standard output.
    let write = line(&trace, "fd1->io_write (");
    assert_eq!(
        write.trim_start(),
        "fd1->io_write (\"hello, world\\n\" -1) = 0 13"
    );
    assert!(!trace.contains("rpctrace:"), "nothing went wrong:\n{trace}");
}

#[test]
fn errors_show_with_their_meaning_and_the_trace_goes_to_standard_error() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");

    let (status, _, trace) = run(&sys, &s, &["/bin/rpctrace", "show", "/no/such/file"]);
    assert_eq!(status, WaitStatus::Exited(1));
    let lookup = line(&trace, "crdir->dir_lookup (");
    assert!(
        lookup.ends_with("= 0x40000002 (no such file or directory)"),
        "{trace}"
    );
    // The program's own complaint went through its wrapped standard error.
    let complaint = line(&trace, "fd2->io_write (");
    assert!(complaint.contains("show: /no/such/file"), "{trace}");
    assert!(
        trace.contains("show: /no/such/file:"),
        "and reached the file:\n{trace}"
    );
}

#[test]
fn malformed_messages_are_lines_not_crashes() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");

    let (status, _, err) = run(&sys, &s, &["/bin/rpctrace", "-o", "/tmp/trace", "bad"]);
    assert_eq!(
        status,
        WaitStatus::Exited(2),
        "both got error replies: {err}"
    );
    let trace = String::from_utf8(s.read_file("/tmp/trace").expect("trace")).expect("utf-8");
    let unknown = line(&trace, "fd1->12345 (");
    assert_eq!(
        unknown.trim_start(),
        "fd1->12345 (7 \"\\xffa\") = 0xfffffed1 (BadId)"
    );
    let wrong = line(&trace, "fd1->io_write (1)");
    assert!(wrong.ends_with("= 0xfffffed0 (BadArguments)"), "{trace}");
}

#[test]
fn bad_arguments_and_missing_programs_are_reported() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    let (status, _, err) = run(&sys, &s, &["/bin/rpctrace"]);
    assert_eq!(status, WaitStatus::Exited(1));
    assert!(err.contains("usage: rpctrace"), "{err}");
    let (status, _, err) = run(&sys, &s, &["/bin/rpctrace", "no-such-program"]);
    assert_eq!(status, WaitStatus::Exited(1));
    assert!(err.contains("command not found: no-such-program"), "{err}");
    let _: Option<Error> = None;
}
