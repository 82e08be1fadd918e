//! Running an ext2 file system hosted (on Linux): an image file as the
//! device, the system clock, the command-line options, and a thread that
//! writes changes back on the sync interval.

use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::device::FileDevice;
use super::fs::{AtimePolicy, Clock, Ext2, Options, SyncPolicy};
use super::superblock::MountError;
use super::tree::Shared;
use crate::stat::TimeSpec;

/// An ext2 file system on an image file, shared by its tree and pagers.
pub type SharedExt2 = Arc<Mutex<Ext2<FileDevice>>>;

/// The system's wall clock.
pub fn system_clock() -> Clock {
    Box::new(|| match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => TimeSpec {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        },
        Err(_) => TimeSpec::default(),
    })
}

/// Mount options from the command line, as the Hurd's ext2fs takes them:
/// `--readonly`/`-r`, `--writable`/`-w` (also a file system not cleanly
/// unmounted), `--sync[=N]`/`-s[N]`, `--no-sync`/`-n`, `--atime`,
/// `--relatime`, `--no-atime`. Returns the options and the other
/// arguments.
///
/// # Errors
///
/// The option not understood.
pub fn parse_options<'a>(args: &[&'a str]) -> Result<(Options, Vec<&'a str>), String> {
    let mut o = Options {
        clock: system_clock(),
        ..Options::default()
    };
    let mut rest = Vec::new();
    for a in args {
        match *a {
            "--readonly" | "-r" => o.readonly = true,
            "--writable" | "-w" => {
                o.readonly = false;
                o.writable_unclean = true;
            }
            "--sync" | "-s" => o.sync = SyncPolicy::Synchronous,
            "--no-sync" | "-n" => o.sync = SyncPolicy::Never,
            "--atime" => o.atime = AtimePolicy::Always,
            "--relatime" => o.atime = AtimePolicy::Relative,
            "--no-atime" => o.atime = AtimePolicy::Never,
            s if s.starts_with("--sync=") => {
                let n: u32 = s["--sync=".len()..]
                    .parse()
                    .map_err(|_| format!("bad sync interval: {s}"))?;
                o.sync = if n == 0 {
                    SyncPolicy::Never
                } else {
                    SyncPolicy::Interval(n)
                };
            }
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            s => rest.push(s),
        }
    }
    Ok((o, rest))
}

/// Why an image could not be mounted.
#[derive(Debug)]
pub enum OpenError {
    /// The image file could not be opened.
    File(std::io::Error),
    /// It holds no file system this implementation can mount.
    Mount(MountError),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::File(e) => e.fmt(f),
            OpenError::Mount(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for OpenError {}

/// Mounts the file system in the image file `path`.
///
/// # Errors
///
/// [`OpenError`].
pub fn open_image(path: &Path, opts: Options) -> Result<SharedExt2, OpenError> {
    let dev = FileDevice::open(path, opts.readonly).map_err(OpenError::File)?;
    let fs = Ext2::mount(dev, opts).map_err(OpenError::Mount)?;
    Ok(Arc::new(Mutex::new(fs)))
}

/// Starts a thread that writes changes back when the sync interval has
/// passed, until the file system is dropped.
///
/// # Errors
///
/// The error of [`std::thread::Builder::spawn`] when the thread cannot start.
pub fn spawn_syncer(fs: &SharedExt2) -> std::io::Result<()> {
    let weak: Weak<Mutex<Ext2<FileDevice>>> = Arc::downgrade(fs);
    std::thread::Builder::new()
        .name("ext2-sync".into())
        .spawn(move || {
            while let Some(fs) = weak.upgrade() {
                let _ = fs.with(|fs| {
                    if fs.is_dirty() {
                        fs.after_change()
                    } else {
                        Ok(())
                    }
                });
                drop(fs);
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .map(|_| ())
}
