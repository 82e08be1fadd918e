//! What a checked manifest holds: the kernel and modules, the root file
//! system's programs, files, directories and translator records.

/// The boot protocol GRUB uses for the kernel and its modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootProtocol {
    /// Multiboot v1 (`multiboot` / `module`).
    Multiboot,
    /// Multiboot2 (`multiboot2` / `module2`), the default.
    Multiboot2,
}

/// Where a binary comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A binary target of a workspace package, built for the kernel's target.
    Package {
        /// The package.
        package: String,
        /// The binary target (`None`: the package's only or default binary).
        bin: Option<String>,
    },
    /// A file, relative to the manifest's directory unless absolute.
    Path(String),
    /// A binary of a crate of one's own outside the workspace (a directory
    /// with its own `Cargo.toml`, relative to the manifest's directory unless
    /// absolute), built as any program for the kernel is:
    /// `cargo build --release --target x86_64-unknown-none` in that directory.
    Crate {
        /// The crate's directory.
        dir: String,
        /// The binary target (`None`: the binary named as the package).
        bin: Option<String>,
    },
}

/// A binary named by the manifest, and the line that names it (for errors
/// found later, when it is built or read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Where it comes from.
    pub source: Source,
    /// The manifest line of its table.
    pub line: usize,
}

/// A boot module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Its name (unique; the bootstrap task finds modules by name).
    pub name: String,
    /// The binary.
    pub artifact: Artifact,
    /// Its arguments.
    pub args: Vec<String>,
}

/// A program installed in the root filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Where it is installed (absolute).
    pub path: String,
    /// The binary.
    pub artifact: Artifact,
    /// Permission bits (default `0o755`).
    pub mode: u32,
}

/// A file of the root filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Where it goes (absolute).
    pub path: String,
    /// Its contents.
    pub contents: Contents,
    /// Permission bits (default `0o644`).
    pub mode: u32,
    /// Owner uid (default 0).
    pub owner: u32,
    /// Group gid (default 0).
    pub group: u32,
    /// The manifest line of its table.
    pub line: usize,
}

/// Where a file's contents come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contents {
    /// Given inline.
    Text(String),
    /// A host file, relative to the manifest's directory unless absolute.
    Source(String),
}

/// A directory of the root filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dir {
    /// Its path (absolute).
    pub path: String,
    /// Permission bits (default `0o755`).
    pub mode: u32,
    /// Owner uid (default 0).
    pub owner: u32,
    /// Group gid (default 0).
    pub group: u32,
    /// The manifest line of its table.
    pub line: usize,
}

/// A passive translator record: the command a node's first lookup starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translator {
    /// The node (absolute); made as an empty file if nothing else makes it.
    pub node: String,
    /// The translator's command line; the first word is its program.
    pub command: Vec<String>,
    /// The node's owner, whose identity the translator runs with (default 0).
    pub owner: u32,
    /// The manifest line of its table (0 when not from a manifest).
    pub line: usize,
}

/// A disk of the image: a raw disk image holding an ext2 file system,
/// which `hurd-init` mounts at boot (the system's first virtio disk,
/// `device:vd0`, served by `/hurd/virtio-blk` and `/hurd/ext2fs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk {
    /// The disk's size in bytes (a multiple of 1 KiB).
    pub size: u64,
    /// Where its file system is mounted (absolute). The manifest's entries
    /// below it (users' homes, files, directories, passive translator
    /// records) go on the disk; at `/`, the disk holds the whole root.
    pub mount: String,
    /// A host directory whose tree is copied onto the disk too, relative to
    /// the manifest's directory unless absolute.
    pub source: Option<String>,
    /// The manifest line of its table.
    pub line: usize,
}
