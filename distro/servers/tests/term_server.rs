//! The terminal server over its protocols: reads wait for lines typed on
//! the device, writes are processed, modes change through tioctl, and the
//! interrupt character signals the foreground group through proc.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Error, PortItem, PortName, PortType, RightType, UserIpc};
use hurd_servers::proc::{HostedProc, SIGINT, Signals, process};
use hurd_servers::term::{
    MAX_READERS, TermServer, device_reply, set_echo, tioctl_modes, tioctl_pgrp,
};
use hurd_trans::protocol::io;

struct Tty {
    /// What reached the device.
    screen: Arc<Mutex<Vec<u8>>>,
    /// A task holding the terminal's port and the input port.
    user: Task,
    term: PortName,
    input: PortName,
}

impl Tty {
    fn typed(&self, bytes: &[u8]) {
        device_reply::Client::new(&self.user, self.input)
            .read_reply_inband(0, bytes.to_vec())
            .expect("type");
    }

    /// Waits until the screen shows `text`.
    fn shows(&self, text: &str) -> bool {
        for _ in 0..500 {
            if String::from_utf8_lossy(&self.screen.lock().expect("screen")).contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

fn start(rt: &Runtime, proc: PortName) -> Tty {
    let screen = Arc::new(Mutex::new(Vec::new()));
    let out = screen.clone();
    let server_task = rt.task();
    let server = TermServer::new(
        server_task.clone(),
        Box::new(move |b: &[u8]| out.lock().expect("screen").extend_from_slice(b)),
        proc,
    )
    .expect("term");
    let user = rt.task();
    let term = server_task
        .give_right(server.port(), Disposition::MakeSend, &user)
        .expect("term port");
    let input = server_task
        .give_right(server.input_port(), Disposition::MakeSend, &user)
        .expect("input port");
    std::thread::spawn(move || server.serve());
    Tty {
        screen,
        user,
        term,
        input,
    }
}

#[test]
fn reads_wait_for_lines_and_writes_are_processed() {
    let rt = Runtime::new();
    let tty = start(&rt, PortName::NULL);
    let io = io::Client::new(&tty.user, tty.term);
    io.write(b"hello\n".to_vec(), -1).expect("write");
    assert!(tty.shows("hello\r\n"), "ONLCR turns LF into CR LF");

    // A reader waits for a whole line; what is typed is echoed.
    let reader = {
        let (user, term) = (tty.user.clone(), tty.term);
        std::thread::spawn(move || io::Client::new(&user, term).read(-1, 100))
    };
    tty.typed(b"ls");
    assert!(tty.shows("ls"));
    tty.typed(b"x\x7f -l\r");
    assert_eq!(reader.join().expect("reader").expect("read"), b"ls -l\n");
    assert_eq!(io.readable().expect("readable"), 0);

    // Typed ahead: a read takes it at once, a short one leaves the rest.
    tty.typed(b"abc\n");
    assert_eq!(io.read(-1, 2).expect("read"), b"ab");
    assert_eq!(io.read(-1, 10).expect("read"), b"c\n");
    // ^D at the start of a line is end of file.
    tty.typed(b"\x04");
    assert_eq!(io.read(-1, 10).expect("eof"), b"");

    // Echo off (a password prompt) and back on.
    set_echo(&tty.user, tty.term, false).expect("echo off");
    tty.typed(b"secret\n");
    assert_eq!(io.read(-1, 100).expect("read"), b"secret\n");
    set_echo(&tty.user, tty.term, true).expect("echo on");
    tty.typed(b"shown\n");
    assert!(tty.shows("shown"));
    assert!(!String::from_utf8_lossy(&tty.screen.lock().expect("s")).contains("secret"));

    // Malformed modes are EINVAL and change nothing.
    let modes = tioctl_modes::Client::new(&tty.user, tty.term);
    let (m, c, s) = modes.tiocgeta().expect("geta");
    assert_eq!(m.len(), 4);
    assert!(modes.tiocseta(vec![0; 3], c.clone(), s.clone()).is_err());
    assert!(modes.tiocseta(m.clone(), vec![0; 3], s.clone()).is_err());
    assert_eq!(modes.tiocgeta().expect("geta"), (m, c, s));
    assert!(io.seek(0, 0).is_err());

    // A duplicate is another port for the same terminal; it goes away
    // with its last send right.
    let dup = io.duplicate().expect("duplicate").name;
    assert_ne!(dup, tty.term);
    io::Client::new(&tty.user, dup)
        .write(b"via dup\n".to_vec(), -1)
        .expect("write");
    assert!(tty.shows("via dup"));
    tty.user.port_deallocate(dup).expect("release");
    // Were released ports kept, the server would refuse after MAX_PORTS.
    for _ in 0..2 * hurd_servers::term::MAX_PORTS {
        let again = io.duplicate().expect("dup").name;
        tty.user.port_deallocate(again).expect("release");
    }
    assert_eq!(io.read(-1, 0).expect("zero"), b"");
}

#[test]
fn a_reader_that_gave_up_takes_no_input_and_readers_are_bounded() {
    let rt = Runtime::new();
    let tty = start(&rt, PortName::NULL);
    // A reader that times out: its request stays queued at the server
    // with a reply right that dies.
    let quitter = rt.task();
    let term = tty
        .user
        .give_right(tty.term, Disposition::CopySend, &quitter)
        .expect("give");
    let r = io::Client::new(&quitter, term)
        .with_timeout(Duration::from_millis(50))
        .read(-1, 10);
    assert!(r.is_err());
    drop(quitter);
    let io = io::Client::new(&tty.user, tty.term);
    tty.typed(b"mine\n");
    assert_eq!(io.read(-1, 10).expect("read"), b"mine\n");

    // At most MAX_READERS wait; the next is EAGAIN.
    let mut waiting = Vec::new();
    for _ in 0..MAX_READERS {
        let (user, term) = (tty.user.clone(), tty.term);
        waiting.push(std::thread::spawn(move || {
            io::Client::new(&user, term).read(-1, 100)
        }));
    }
    std::thread::sleep(Duration::from_millis(200));
    let r: Result<Vec<u8>, Error> = io.read(-1, 100);
    assert_eq!(r, Err(hurd_ipc::Errno::Again.into()));
    for i in 0..MAX_READERS {
        tty.typed(format!("{i}\n").as_bytes());
    }
    let mut got: Vec<Vec<u8>> = waiting
        .into_iter()
        .map(|t| t.join().expect("reader").expect("read"))
        .collect();
    got.sort();
    assert_eq!(got.len(), MAX_READERS);
}

#[test]
fn the_interrupt_character_signals_the_foreground_group() {
    let rt = Runtime::new();
    let proc = HostedProc::spawn(&rt).expect("proc");
    // The terminal is a process of root's; the job is alice's.
    let term_task = rt.task();
    let (_, term_proc) = proc
        .register_in(None, 0, vec!["term".into()], vec![], &term_task)
        .expect("term process");
    let job_task = rt.task();
    let (job, job_port) = proc
        .register_in(None, 1000, vec!["sleep".into()], vec![], &job_task)
        .expect("job");
    let signals = Signals::new();
    let recv = job_task.port_allocate(RightType::Receive).expect("msgport");
    signals.serve(&job_task, recv).expect("serve");
    process::Client::new(&job_task, job_port)
        .setmsgport(PortItem {
            disposition: Disposition::MakeSend,
            name: recv,
        })
        .expect("setmsgport");

    // The term's proc port moves into the term server's task.
    let server_task = rt.task();
    let p = term_task
        .give_right(term_proc, Disposition::MoveSend, &server_task)
        .expect("move");
    let screen = Arc::new(Mutex::new(Vec::new()));
    let out = screen.clone();
    let server = TermServer::new(
        server_task.clone(),
        Box::new(move |b: &[u8]| out.lock().expect("screen").extend_from_slice(b)),
        p,
    )
    .expect("term");
    let user = rt.task();
    let term = server_task
        .give_right(server.port(), Disposition::MakeSend, &user)
        .expect("term port");
    let input = server_task
        .give_right(server.input_port(), Disposition::MakeSend, &user)
        .expect("input");
    std::thread::spawn(move || server.serve());

    // No foreground group: ^C only discards the line.
    let pg = tioctl_pgrp::Client::new(&user, term);
    assert_eq!(pg.tiocgpgrp().expect("gpgrp"), 0);
    let dev = device_reply::Client::new(&user, input);
    dev.read_reply_inband(0, b"abc\x03".to_vec()).expect("type");
    assert!(pg.tiocspgrp(-1).is_err());
    pg.tiocspgrp(job).expect("spgrp");
    assert_eq!(pg.tiocgpgrp().expect("gpgrp"), job);
    dev.read_reply_inband(0, b"\x03".to_vec()).expect("type");
    assert_eq!(signals.wait(Duration::from_secs(5)), Some(SIGINT));
    // The line typed before the first ^C was discarded.
    dev.read_reply_inband(0, b"next\n".to_vec()).expect("type");
    assert_eq!(
        io::Client::new(&user, term).read(-1, 100).expect("read"),
        b"next\n"
    );
    // A client cannot type: requests on the terminal's own port with the
    // device's id are not served there.
    let fake = device_reply::Client::new(&user, term).read_reply_inband(0, b"x\n".to_vec());
    assert!(fake.is_ok(), "a simpleroutine is sent; the server drops it");
    assert_eq!(
        io::Client::new(&user, term).readable().expect("readable"),
        0
    );
}

/// A terminal that cannot get its ports leaves nothing behind, and releases
/// the proc port it was given.
#[test]
fn a_terminal_that_cannot_be_made_leaves_no_ports() {
    use hurd_ipc::hosted::FaultyTask;
    let rt = Runtime::new();
    let task = FaultyTask::new(rt.task());
    let proc_task = rt.task();
    let proc_port = proc_task
        .port_allocate(hurd_ipc::RightType::Receive)
        .expect("proc port");
    for n in 0..3 {
        let proc = proc_task
            .give_right(proc_port, Disposition::MakeSend, task.task())
            .expect("give");
        task.fail_allocations_after(n);
        let r = TermServer::new(task.clone(), Box::new(|_: &[u8]| {}), proc);
        assert!(r.is_err(), "allocation {n}");
        assert_eq!(task.port_names(), Ok(vec![]), "after allocation {n} failed");
    }
}

#[test]
fn a_rendezvous_of_any_kind_is_released() {
    let rt = Runtime::new();
    let tty = start(&rt, PortName::NULL);
    let io = io::Client::new(&tty.user, tty.term);
    for disposition in [Disposition::MakeSend, Disposition::MoveReceive] {
        let rendezvous = tty.user.port_allocate(RightType::Receive).expect("port");
        // A send right kept here shows whether the port outlives the request.
        tty.user
            .port_insert_right(rendezvous, rendezvous, Disposition::MakeSend)
            .expect("send right");
        io.reauthenticate(PortItem {
            disposition,
            name: rendezvous,
        })
        .expect("sent");
        // Served in order: once this is answered, the request was too.
        io.readable().expect("readable");
        if disposition == Disposition::MoveReceive {
            let t = tty.user.port_type(rendezvous).expect("type");
            assert!(
                t.contains(PortType::DEAD_NAME),
                "the server kept the receive right: {t:?}"
            );
        } else {
            // Ours is the only send right left.
            let status = tty
                .user
                .port_get_receive_status(rendezvous)
                .expect("status");
            assert_eq!(tty.user.port_get_refs(rendezvous, RightType::Send), Ok(1));
            assert!(status.srights);
            tty.user.port_deallocate(rendezvous).expect("ours");
            let status = tty
                .user
                .port_get_receive_status(rendezvous)
                .expect("status");
            assert!(!status.srights, "the server kept a send right");
        }
    }
}
