//! The `distro.toml` manifest: what goes into an image.
//!
//! A manifest names the kernel, the boot modules (the first is the bootstrap
//! task, which receives the others), the programs and files of the root
//! filesystem, and the passive translators to record on its nodes:
//!
//! ```toml
//! [image]
//! name = "hurd-rs"
//! cmdline = ""              # words of cmdline::WORDS only
//!
//! [kernel]
//! package = "hurd-kernel"
//! protocol = "multiboot2"   # how GRUB loads it; the default
//!
//! [[module]]
//! name = "hurd-init"
//! package = "distro-programs"
//! bin = "hurd-init"
//!
//! [[module]]
//! name = "term-server"
//! package = "distro-programs"
//! bin = "term-server"
//!
//! [[program]]
//! path = "/hurd/hello"
//! package = "distro-programs"
//! bin = "hello"
//!
//! [[program]]
//! path = "/bin/my-translator"
//! crate = "examples/my-translator"   # a crate of one's own, outside the workspace
//!
//! [[file]]
//! path = "/etc/motd"
//! text = "Welcome to hurd-rs.\n"
//!
//! [[dir]]
//! path = "/tmp"
//! mode = 0o1777
//!
//! [[translator]]
//! node = "/share/hello"
//! command = ["/hurd/hello"]
//!
//! [disk]                    # a disk holding an ext2 file system
//! size = "64M"
//! mount = "/home"           # entries below it go on the disk
//!
//! [[program]]               # a disk needs its driver and its file system
//! path = "/hurd/virtio-blk"
//! package = "distro-programs"
//! bin = "virtio-blk"
//!
//! [[program]]
//! path = "/hurd/ext2fs"
//! package = "distro-programs"
//! bin = "ext2fs"
//!
//! [[service]]
//! name = "greeting"
//! program = "/hurd/hello"
//! args = ["started at boot"]
//! on-failure = "continue"   # or "halt"; after = ["other-service"]
//! user = "root"              # or a [[user]] of the manifest
//! ```
//!
//! The modules: [`entries`] (what a manifest holds), `raw` (its TOML form),
//! `check` (turning that into a [`Manifest`]), `accounts` (the `[[user]]`
//! and `[[group]]` tables), `services` (the `[[service]]` tables), [`disk`] (the `[disk]` table),
//! [`cmdline`] (the kernel command line's words), [`error`] (where and why
//! a manifest is wrong).
//!
//! Parsing is strict: an unknown field, a missing or duplicate one, a value
//! of the wrong type or a meaningless one (a relative path, `..`, two modules
//! of one name), or bytes that are not UTF-8, is a [`ManifestError`] naming
//! the file, the line and the key.

mod accounts;
mod check;
pub mod cmdline;
pub mod disk;
pub mod entries;
pub mod error;
mod raw;
mod services;

use std::path::Path;

pub use entries::{
    Artifact, BootProtocol, Contents, Dir, Disk, File, Module, Program, Source, Translator,
};
pub use error::ManifestError;

use crate::users::{Group, User};
use check::Checker;
use error::Lines;
pub use hurd_servers::services::{OnFailure, Service};
use raw::Raw;

/// A parsed and checked manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The image's name (used for the ISO's volume label and file names).
    pub name: String,
    /// The kernel command line.
    pub cmdline: String,
    /// The kernel.
    pub kernel: Artifact,
    /// How GRUB loads the kernel (QEMU's direct boot always uses multiboot v1).
    pub protocol: BootProtocol,
    /// The boot modules, in boot order; the first is the bootstrap task.
    pub modules: Vec<Module>,
    /// Programs installed in the root filesystem.
    pub programs: Vec<Program>,
    /// Files of the root filesystem.
    pub files: Vec<File>,
    /// Directories of the root filesystem (parents of other entries are made
    /// as needed; list a directory to give it a mode or an owner).
    pub dirs: Vec<Dir>,
    /// Passive translator records set on nodes of the root filesystem.
    pub translators: Vec<Translator>,
    /// The users (`/etc/passwd`, `/etc/shadow`), in manifest order.
    pub users: Vec<User>,
    /// The groups (`/etc/group`), in manifest order.
    pub groups: Vec<Group>,
    /// The services `hurd-init` starts at boot, in start order
    /// (`/etc/hurd-init/services`).
    pub services: Vec<Service>,
    /// The disk, if the image has one (`[disk]`).
    pub disk: Option<Disk>,
}

impl Manifest {
    /// Parses and checks a manifest's text.
    ///
    /// # Errors
    ///
    /// The first thing wrong with it, with its line, column and key.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let lines = Lines(text);
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_owned();
            match e.span() {
                Some(span) => lines.error(span, message),
                None => ManifestError {
                    file: None,
                    line: 0,
                    column: 0,
                    key: String::new(),
                    message,
                },
            }
        })?;
        Checker { lines }.check(raw)
    }

    /// Parses and checks a manifest given as bytes, which must be UTF-8.
    ///
    /// # Errors
    ///
    /// Bytes that are not UTF-8 (the line, column and key where they
    /// start), or what [`Manifest::parse`] finds.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Manifest::parse(text),
            Err(e) => {
                let at = e.valid_up_to();
                // The valid part is text; the line and key are found in it.
                let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
                let mut error = Lines(valid).error(at..at, "");
                error.message = format!(
                    "not UTF-8: byte {:#04x} cannot be read as text (a manifest is UTF-8)",
                    bytes.get(at).copied().unwrap_or(0)
                );
                Err(error)
            }
        }
    }

    /// Reads, parses and checks the manifest in `path`; errors name the
    /// file.
    ///
    /// # Errors
    ///
    /// The file unreadable, or what [`Manifest::parse_bytes`] finds.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let bytes = std::fs::read(path).map_err(|e| ManifestError {
            file: Some(path.to_path_buf()),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read it: {e}"),
        })?;
        Manifest::parse_bytes(&bytes).map_err(|mut e| {
            e.file = Some(path.to_path_buf());
            e
        })
    }
}
