//! `hurd-fuse`: mounts a hurd-trans translator on Linux through FUSE.
//!
//! ```text
//! hurd-fuse tmpfs MOUNTPOINT [LIMIT-BYTES]
//! hurd-fuse tarfs ARCHIVE MOUNTPOINT
//! ```
//!
//! The translator runs in hurd-ipc's hosted runtime inside this process, as
//! the calling user; the mount stays until `umount MOUNTPOINT`.

use std::path::Path;
use std::process::ExitCode;

use hurd_auth::IdSet;
use hurd_trans::fuse;
use hurd_trans::tar::FileSource;
use hurd_trans::translators::tarfs::Tarfs;
use hurd_trans::translators::tmpfs::Tmpfs;

fn usage() -> ExitCode {
    eprintln!(
        "usage: hurd-fuse tmpfs MOUNTPOINT [LIMIT-BYTES]\n       hurd-fuse tarfs ARCHIVE MOUNTPOINT"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // SAFETY: getuid and getgid have no preconditions and cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let user = if uid == 0 {
        IdSet::root()
    } else {
        IdSet::user(uid, &[gid])
    };
    // ANCHOR: mount
    let r = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["tmpfs", mnt, rest @ ..] => {
            let limit = match rest.first().map(|l| l.parse::<u64>()) {
                None => 1 << 30,
                Some(Ok(l)) => l,
                Some(Err(_)) => return usage(),
            };
            fuse::mount(
                Tmpfs::new(uid, gid, 0o755, limit),
                user,
                Path::new(mnt),
                "tmpfs",
            )
        }
        ["tarfs", archive, mnt] => match std::fs::File::open(archive) {
            Ok(file) => match Tarfs::open(FileSource(file), uid, gid) {
                Ok(t) => fuse::mount(t, user, Path::new(mnt), "tarfs"),
                Err(e) => {
                    eprintln!("hurd-fuse: {archive}: {e}");
                    return ExitCode::FAILURE;
                }
            },
            Err(e) => {
                eprintln!("hurd-fuse: {archive}: {e}");
                return ExitCode::FAILURE;
            }
        },
        _ => return usage(),
    };
    // ANCHOR_END: mount
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hurd-fuse: {e}");
            ExitCode::FAILURE
        }
    }
}
