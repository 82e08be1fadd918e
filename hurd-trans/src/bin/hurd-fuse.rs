//! `hurd-fuse`: mounts a hurd-trans translator on Linux through FUSE.
//!
//! ```text
//! hurd-fuse tmpfs MOUNTPOINT [LIMIT-BYTES]
//! hurd-fuse tarfs ARCHIVE MOUNTPOINT
//! hurd-fuse ext2 [OPTION...] IMAGE MOUNTPOINT
//! ```
//!
//! The translator runs in hurd-ipc's hosted runtime inside this process, as
//! the calling user; the mount stays until `umount MOUNTPOINT` (or an
//! interrupt, terminate or hang-up signal, which unmounts it). The ext2
//! translator takes the Hurd's ext2fs options: `--readonly`, `--writable`
//! (also for an image not cleanly unmounted), `--sync[=SECONDS]`,
//! `--no-sync`, `--atime`, `--relatime`, `--no-atime`; unmounting writes
//! everything back and marks the image clean.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use hurd_auth::IdSet;
use hurd_trans::fuse;
use hurd_trans::tar::FileSource;
use hurd_trans::translators::ext2::{Ext2Tree, Shared, hosted as ext2};
use hurd_trans::translators::tarfs::Tarfs;
use hurd_trans::translators::tmpfs::Tmpfs;

fn usage() -> ExitCode {
    eprintln!(
        "usage: hurd-fuse tmpfs MOUNTPOINT [LIMIT-BYTES]\n       hurd-fuse tarfs ARCHIVE MOUNTPOINT\n       hurd-fuse ext2 [--readonly|--writable] [--sync[=SECONDS]|--no-sync] IMAGE MOUNTPOINT"
    );
    ExitCode::from(2)
}

/// Unmounts `mnt` when `SIGINT`, `SIGTERM` or `SIGHUP` arrives, so the
/// FUSE session ends as with `umount` and the translator goes away cleanly
/// (an ext2 image is written back and marked clean). Must run before any
/// other thread starts: the signals are blocked in every thread and taken
/// by one of its own.
fn unmount_on_signals(mnt: PathBuf) -> std::io::Result<()> {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: the set is initialised by sigemptyset before sigaddset and
    // assume_init; pthread_sigmask changes only the calling thread's mask
    // (inherited by the threads it starts).
    let set = unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(set.as_mut_ptr(), sig);
        }
        let set = set.assume_init();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut sig = 0;
            // SAFETY: `set` is an initialised signal set blocked in every
            // thread; sigwait only writes the signal number to `sig`.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                let done = Command::new("fusermount3")
                    .arg("-u")
                    .arg(&mnt)
                    .status()
                    .is_ok_and(|s| s.success());
                if !done {
                    let _ = Command::new("umount").arg(&mnt).status();
                }
            }
        })
        .map(|_| ())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The mount point is the last argument of every form.
    if let Some(mnt) = args.last().filter(|_| args.len() >= 2)
        && let Err(e) = unmount_on_signals(PathBuf::from(mnt))
    {
        eprintln!("hurd-fuse: {e}");
        return ExitCode::FAILURE;
    }
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
        ["ext2", rest @ ..] => {
            let (opts, paths) = match ext2::parse_options(rest) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("hurd-fuse: {e}");
                    return usage();
                }
            };
            let [image, mnt] = paths.as_slice() else {
                return usage();
            };
            let fs = match ext2::open_image(Path::new(image), opts) {
                Ok(fs) => fs,
                Err(e) => {
                    eprintln!("hurd-fuse: {image}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Err(e) = ext2::spawn_syncer(&fs) {
                eprintln!("hurd-fuse: {e}");
                return ExitCode::FAILURE;
            }
            let r = fuse::mount(Ext2Tree::shared(fs.clone()), user, Path::new(mnt), "ext2fs");
            // Unmounting had the translator write everything back; make
            // sure of it even if the bridge could not say goodbye.
            if let Err(e) = fs.with(|fs| fs.unmount()) {
                eprintln!("hurd-fuse: {image}: cannot write back: {e}");
                return ExitCode::FAILURE;
            }
            r
        }
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
