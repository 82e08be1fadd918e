//! `pipe2` and `socketpair` through the local socket family's server, as
//! on the Hurd: a tmpfs served on hurd-ipc's hosted runtime stands for the
//! system, with pflocal (a task of its own) as the active translator of
//! `/servers/socket/1`; the descriptors are then read, written, polled,
//! stat'ed, duplicated and closed through the emulator's file calls.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use hurd_ipc::{Disposition, PortItem};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::protocol::{fs, io};
use linux_abi::Errno;
use linux_abi::flags::{
    AT_FDCWD, F_DUPFD, F_GETFD, FD_CLOEXEC, O_CLOEXEC, O_CREAT, O_NONBLOCK, O_WRONLY,
};
use linux_abi::layout::misc::{POLLHUP, POLLIN, POLLOUT, PollFd};
use linux_emulator::pipes::{AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM};

use common::World;
use linux_abi::layout::stat::{S_IFIFO, S_IFMT, S_IFSOCK};

/// An empty tmpfs as the process's root and working directory
/// ([`common::world`]); with `pflocal`, the local socket server on
/// `/servers/socket/1`.
fn world(pflocal: bool) -> World {
    let w = common::world();
    let World {
        rt,
        task,
        mut files,
    } = w;
    if pflocal {
        files.mkdirat(&task, AT_FDCWD, b"/servers", 0o755).unwrap();
        files
            .mkdirat(&task, AT_FDCWD, b"/servers/socket", 0o755)
            .unwrap();
        let fd = files
            .openat(
                &task,
                AT_FDCWD,
                b"/servers/socket/1",
                O_WRONLY | O_CREAT,
                0o666,
            )
            .unwrap();
        files.close(&task, fd).unwrap();
        let (_, pf_control) = pflocal::server::spawn(rt.task(), &task).unwrap();
        let dir = files
            .openat(&task, AT_FDCWD, b"/servers/socket", 0, 0)
            .unwrap();
        let (_, _, node) = fs::Client::new(&task, files.port(dir).unwrap())
            .dir_lookup("1".into(), OpenFlags::NOTRANS.bits() as i32, 0)
            .unwrap();
        fs::Client::new(&task, node.name)
            .file_set_translator(
                0,
                FS_TRANS_SET as i32,
                0,
                vec![],
                PortItem {
                    disposition: Disposition::MoveSend,
                    name: pf_control,
                },
            )
            .unwrap();
        files.close(&task, dir).unwrap();
    }
    World { rt, task, files }
}

fn entry(fd: i32, events: i16) -> PollFd {
    PollFd {
        fd,
        events,
        revents: 0,
    }
}

/// Polls `fd` for `events` until it reports `want` (the server learns of a
/// closed end from a no-senders notification, which may come after the
/// next call); at most 10 s.
fn poll_until(w: &World, fd: i32, events: i16, want: i16) -> i16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut fds = [entry(fd, events)];
        w.files.poll_once(&w.task, &mut fds);
        if fds[0].revents == want || Instant::now() > deadline {
            return fds[0].revents;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_pipe_carries_bytes_and_ends_as_linux_says() {
    let mut w = world(true);
    let [r, wr] = w.files.pipe2(&w.task, 0).unwrap();
    assert_eq!([r, wr], [0, 1], "the two lowest free descriptors");
    assert_eq!(w.files.write(&w.task, wr, b"hello, ", None), Ok(7));
    assert_eq!(w.files.write(&w.task, wr, b"pipe", None), Ok(4));
    assert_eq!(w.files.read(&w.task, r, 5, None).unwrap(), b"hello");
    assert_eq!(w.files.read(&w.task, r, 100, None).unwrap(), b", pipe");
    let st = w.files.fstat(&w.task, r).unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFIFO, "fstat of a pipe is a FIFO");
    assert_eq!(w.files.lseek(&w.task, r, 0, 0), Err(Errno::Spipe));

    // Nothing to read: not ready; the write end is.
    let mut fds = [entry(r, POLLIN), entry(wr, POLLOUT)];
    assert_eq!(w.files.poll_once(&w.task, &mut fds), 1);
    assert_eq!([fds[0].revents, fds[1].revents], [0, POLLOUT]);
    w.files.write(&w.task, wr, b"x", None).unwrap();
    assert_eq!(poll_until(&w, r, POLLIN, POLLIN), POLLIN);
    assert_eq!(w.files.read(&w.task, r, 10, None).unwrap(), b"x");

    // A second reference to the write end keeps it open.
    let dup = w.files.fcntl(&w.task, wr, F_DUPFD, 0).unwrap() as i32;
    w.files.close(&w.task, wr).unwrap();
    w.files.write(&w.task, dup, b"last", None).unwrap();
    w.files.close(&w.task, dup).unwrap();
    // The writer gone: what it wrote, then end of file, and POLLHUP alone.
    assert_eq!(w.files.read(&w.task, r, 10, None).unwrap(), b"last");
    assert_eq!(poll_until(&w, r, POLLIN, POLLHUP), POLLHUP);
    assert_eq!(w.files.read(&w.task, r, 10, None).unwrap(), b"");
}

#[test]
fn writing_with_no_reader_is_epipe() {
    let mut w = world(true);
    let [r, wr] = w.files.pipe2(&w.task, 0).unwrap();
    w.files.close(&w.task, r).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let got = loop {
        match w.files.write(&w.task, wr, b"x", None) {
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            other => break other,
        }
    };
    assert_eq!(got, Err(Errno::Pipe));
    assert_eq!(w.files.write(&w.task, wr, b"", None), Ok(0));
}

#[test]
fn a_read_waits_for_the_writer() {
    let mut w = world(true);
    let [r, wr] = w.files.pipe2(&w.task, 0).unwrap();
    let (task, port) = (w.task.clone(), w.files.port(r).unwrap());
    let reader = std::thread::spawn(move || io::Client::new(&task, port).read(-1, 100));
    std::thread::sleep(Duration::from_millis(50));
    assert!(!reader.is_finished(), "the read waits for data");
    w.files.write(&w.task, wr, b"late", None).unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), b"late");
}

#[test]
fn pipe2_flags() {
    let mut w = world(true);
    assert_eq!(w.files.pipe2(&w.task, 1), Err(Errno::Inval));
    assert_eq!(
        w.files.pipe2(&w.task, O_NONBLOCK | 0o100),
        Err(Errno::Inval)
    );
    let [r, wr] = w.files.pipe2(&w.task, O_CLOEXEC | O_NONBLOCK).unwrap();
    for fd in [r, wr] {
        assert_eq!(
            w.files.fcntl(&w.task, fd, F_GETFD, 0),
            Ok(u64::from(FD_CLOEXEC))
        );
    }
    assert_eq!(w.files.read(&w.task, r, 1, None), Err(Errno::Again));
    let big = vec![0u8; 1 << 20];
    let mut written = 0;
    loop {
        match w.files.write(&w.task, wr, &big, None) {
            Ok(n) => written += n,
            Err(e) => {
                assert_eq!(e, Errno::Again, "a full pipe");
                break;
            }
        }
    }
    assert_eq!(written, 65536, "the pipe holds 64 KiB");
    let [r2, _] = w.files.pipe2(&w.task, 0).unwrap();
    assert_eq!(w.files.fcntl(&w.task, r2, F_GETFD, 0), Ok(0));
}

#[test]
fn socketpair_goes_both_ways() {
    let mut w = world(true);
    let ty = SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK;
    let [a, b] = w.files.socketpair(&w.task, AF_UNIX, ty, 0).unwrap();
    assert_eq!(
        w.files.fcntl(&w.task, a, F_GETFD, 0),
        Ok(u64::from(FD_CLOEXEC))
    );
    assert_eq!(w.files.read(&w.task, b, 1, None), Err(Errno::Again));
    w.files.write(&w.task, a, b"ping", None).unwrap();
    w.files.write(&w.task, b, b"pong", None).unwrap();
    assert_eq!(w.files.read(&w.task, b, 10, None).unwrap(), b"ping");
    assert_eq!(w.files.read(&w.task, a, 10, None).unwrap(), b"pong");
    let st = w.files.fstat(&w.task, a).unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFSOCK);
    w.files.close(&w.task, a).unwrap();
    assert_eq!(
        poll_until(&w, b, POLLIN, POLLIN | POLLHUP),
        POLLIN | POLLHUP,
        "a socket whose peer is gone: readable (end of file) and hung up"
    );
}

#[test]
fn socketpair_refusals_in_linux_order() {
    let mut w = world(true);
    assert_eq!(
        w.files.socketpair(&w.task, 4242, 7, 9),
        Err(Errno::Afnosupport)
    );
    for inet in [2, 10] {
        assert_eq!(
            w.files.socketpair(&w.task, inet, SOCK_STREAM, 0),
            Err(Errno::Opnotsupp),
            "the Internet families make no pairs"
        );
    }
    assert_eq!(
        w.files.socketpair(&w.task, AF_UNIX, 2, 9),
        Err(Errno::Socktnosupport)
    );
    assert_eq!(
        w.files.socketpair(&w.task, AF_UNIX, SOCK_STREAM, 6),
        Err(Errno::Protonosupport)
    );
    assert!(w.files.socketpair(&w.task, AF_UNIX, SOCK_STREAM, 1).is_ok());
}

#[test]
fn no_local_server_no_pipes() {
    let mut w = world(false);
    assert_eq!(w.files.pipe2(&w.task, 0), Err(Errno::Afnosupport));
    assert_eq!(
        w.files.socketpair(&w.task, AF_UNIX, SOCK_STREAM, 0),
        Err(Errno::Afnosupport)
    );
}
