//! `getrandom` as a read of `/dev/urandom` through the process's root:
//! a tmpfs served on hurd-ipc's hosted runtime stands for the system, with
//! a file of known bytes at `/dev/urandom` standing for the translator.
#![allow(clippy::unwrap_used)]

mod common;

use hurd_trans::protocol::fs;
use linux_abi::Errno;
use linux_abi::flags::{AT_FDCWD, GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM, O_CREAT, O_WRONLY};
use linux_emulator::random::{GETRANDOM_MAX, getrandom};

#[test]
fn bytes_come_from_dev_urandom_as_linux_answers() {
    let w = common::world();
    let (task, mut files) = (&w.task, w.files);

    // No /dev/urandom yet: no getrandom on this system.
    assert_eq!(getrandom(&files, task, 16, 0, 1 << 20), Err(Errno::Nosys));

    fs::Client::new(task, files.crdir)
        .dir_mkdir("dev".into(), 0o755)
        .unwrap();
    let pool: Vec<u8> = (0..=255u8).collect();
    let fd = files
        .openat(task, AT_FDCWD, b"/dev/urandom", O_WRONLY | O_CREAT, 0o666)
        .unwrap();
    files.write(task, fd, &pool, None).unwrap();
    files.close(task, fd).unwrap();

    // Flags first, as Linux checks them.
    assert_eq!(getrandom(&files, task, 16, 8, 1 << 20), Err(Errno::Inval));
    assert_eq!(
        getrandom(&files, task, 16, GRND_RANDOM | GRND_INSECURE, 1 << 20),
        Err(Errno::Inval)
    );
    assert_eq!(getrandom(&files, task, 0, 0, 1 << 20), Ok(Vec::new()));
    // Each call opens the node afresh: the same file gives the same bytes.
    assert_eq!(getrandom(&files, task, 16, 0, 1 << 20).unwrap(), pool[..16]);
    assert_eq!(
        getrandom(&files, task, 16, GRND_NONBLOCK | GRND_INSECURE, 1 << 20).unwrap(),
        pool[..16]
    );
    // Bounded by the caller's limit, and short when the node gives less.
    assert_eq!(getrandom(&files, task, 100, 0, 10).unwrap(), pool[..10]);
    assert_eq!(
        getrandom(&files, task, GETRANDOM_MAX + 1, 0, u64::MAX).unwrap(),
        pool
    );
    // GRND_RANDOM reads /dev/random, which is not there.
    assert_eq!(
        getrandom(&files, task, 16, GRND_RANDOM, 1 << 20),
        Err(Errno::Nosys)
    );
}
