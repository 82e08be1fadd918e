//! Running an ext2 file system hosted (on Linux): an image file as the
//! device, the system clock, the command-line options, and a thread that
//! writes changes back on the sync interval.

use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::device::FileDevice;
use super::fs::{Clock, Ext2, Options};
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

/// Mount options from the command line ([`Options::parse`]), with the
/// system's clock. Returns the options and the other arguments.
///
/// # Errors
///
/// The option not understood.
pub fn parse_options<'a>(args: &[&'a str]) -> Result<(Options, Vec<&'a str>), String> {
    let (mut o, rest) = Options::parse(args)?;
    o.clock = system_clock();
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
                let _ = fs.with(|fs| fs.write_back_due());
                drop(fs);
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .map(|_| ())
}
