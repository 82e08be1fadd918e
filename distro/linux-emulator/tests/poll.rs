//! `poll` through `io_select`: descriptors on a tmpfs served on hurd-ipc's
//! hosted runtime, the console, closed and negative descriptors.
#![allow(clippy::unwrap_used)]

mod common;

use linux_abi::flags::{AT_FDCWD, O_CREAT, O_RDONLY, O_WRONLY};
use linux_abi::layout::misc::{POLLIN, POLLNVAL, POLLOUT, POLLPRI, PollFd};
use linux_emulator::files::File;

fn entry(fd: i32, events: i16) -> PollFd {
    PollFd {
        fd,
        events,
        revents: 0x7fff,
    }
}

#[test]
fn each_entry_gets_what_its_server_answers() {
    let w = common::world();
    let (task, mut files) = (&w.task, w.files);
    let file = files
        .openat(task, AT_FDCWD, b"f", O_WRONLY | O_CREAT, 0o644)
        .unwrap();
    let console = files.insert(File::Console).unwrap();
    let dir = files.openat(task, AT_FDCWD, b".", O_RDONLY, 0).unwrap();
    let mut fds = [
        entry(file, POLLIN | POLLOUT | POLLPRI),
        entry(file, POLLOUT),
        entry(file, 0),
        entry(console, POLLIN | POLLOUT),
        entry(dir, POLLIN),
        entry(-1, POLLIN),
        entry(40, 0),
    ];
    assert_eq!(files.poll_once(task, &mut fds), 5);
    let revents: Vec<i16> = fds.iter().map(|f| f.revents).collect();
    assert_eq!(
        revents,
        [POLLIN | POLLOUT, POLLOUT, 0, POLLOUT, POLLIN, 0, POLLNVAL],
        "a file is ready for reading and writing, never urgent; the console \
         for writing; nothing asked, nothing answered; a closed descriptor \
         is POLLNVAL, a negative one ignored"
    );
    let mut none = [entry(-5, POLLIN), entry(file, 0)];
    assert_eq!(files.poll_once(task, &mut none), 0);
    assert_eq!(none.map(|f| f.revents), [0, 0]);
}
