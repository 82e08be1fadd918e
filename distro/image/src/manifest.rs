//! The `distro.toml` manifest: what goes into an image.
//!
//! A manifest names the kernel, the boot modules (the first is the bootstrap
//! task, which receives the others), the programs and files of the root
//! filesystem, and the passive translators to record on its nodes:
//!
//! ```toml
//! [image]
//! name = "hurd-rs"
//! cmdline = "console=com1"
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
//! ```
//!
//! Parsing is strict: an unknown field, a missing or duplicate one, a value
//! of the wrong type or a meaningless one (a relative path, `..`, two modules
//! of one name), or bytes that are not UTF-8, is a [`ManifestError`] naming
//! the file, the line and the key.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::users::{self, Group, User};

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
}

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

/// A manifest that cannot be used: where and why.
///
/// Shown as `FILE: line L, column C: KEY: MESSAGE`, e.g.
/// `my.toml: line 12, column 1: module.binary: unknown field `binary`, ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest's file, when it was read from one ([`Manifest::load`]).
    pub file: Option<PathBuf>,
    /// 1-based line (0 when the error has no place in the text).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// The dotted key at fault, its table first (`module.name`, `image`);
    /// empty when the error has no place in the text.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        if self.line != 0 {
            write!(f, "line {}, column {}: ", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ManifestError {}

// The serde form of the text: every table denies unknown fields.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    image: Spanned<RawImage>,
    kernel: Spanned<RawKernel>,
    #[serde(default)]
    module: Vec<Spanned<RawModule>>,
    #[serde(default)]
    program: Vec<Spanned<RawProgram>>,
    #[serde(default)]
    file: Vec<Spanned<RawFile>>,
    #[serde(default)]
    dir: Vec<Spanned<RawDir>>,
    #[serde(default)]
    translator: Vec<Spanned<RawTranslator>>,
    #[serde(default)]
    user: Vec<Spanned<RawUser>>,
    #[serde(default)]
    group: Vec<Spanned<RawGroup>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: Spanned<String>,
    uid: Spanned<u32>,
    groups: Spanned<Vec<Spanned<String>>>,
    home: Option<Spanned<String>>,
    shell: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Spanned<String>,
    gid: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    name: Spanned<String>,
    #[serde(default)]
    cmdline: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKernel {
    package: Option<Spanned<String>>,
    bin: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    protocol: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    name: Spanned<String>,
    package: Option<Spanned<String>>,
    #[serde(rename = "crate")]
    krate: Option<Spanned<String>>,
    bin: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    #[serde(default)]
    args: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    path: Spanned<String>,
    package: Option<Spanned<String>>,
    #[serde(rename = "crate")]
    krate: Option<Spanned<String>>,
    bin: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    mode: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    path: Spanned<String>,
    text: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    mode: Option<Spanned<u32>>,
    owner: Option<u32>,
    group: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDir {
    path: Spanned<String>,
    mode: Option<Spanned<u32>>,
    owner: Option<u32>,
    group: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTranslator {
    node: Spanned<String>,
    command: Spanned<Vec<String>>,
    owner: Option<u32>,
}

/// Turns byte offsets into 1-based line and column numbers.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn at(&self, offset: usize) -> (usize, usize) {
        let upto = &self.0[..floor_char_boundary(self.0, offset)];
        let line = upto.matches('\n').count() + 1;
        let column = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ManifestError {
        let (line, column) = self.at(span.start);
        ManifestError {
            file: None,
            line,
            column,
            key: key_at(self.0, span.start),
            message: message.into(),
        }
    }
}

impl Lines<'_> {
    /// A checker's error, whose message is `KEY: TEXT` or
    /// `KEY `VALUE`: TEXT`: the key is split off into the error's `key`.
    fn field_error(&self, span: Range<usize>, message: impl Into<String>) -> ManifestError {
        let message = message.into();
        let mut error = self.error(span, message.clone());
        let end = message
            .find([' ', ':'])
            .filter(|&i| message[i..].starts_with(": ") || message[i..].starts_with(" `"));
        if let Some(i) = end {
            error.key = message[..i].to_owned();
            error.message = message[i..].trim_start_matches(':').trim_start().to_owned();
        }
        error
    }
}

/// The dotted key whose line holds byte `offset` of a TOML text: the name
/// of the table whose header is the nearest above (or at) it, then the key
/// of the nearest `key = ` line from there down to the offset (a value may
/// span lines). `image.name`, `module.args`, `kernel`; empty before any key.
fn key_at(text: &str, offset: usize) -> String {
    let upto = &text[..floor_char_boundary(text, offset)];
    // The whole line holding the offset, and the lines above it, nearest
    // first.
    let line_end = text[upto.len()..]
        .find('\n')
        .map_or(text.len(), |i| upto.len() + i);
    let mut lines = text[..line_end].rsplit('\n');
    let mut key: Option<String> = None;
    for line in lines.by_ref() {
        let t = line.trim_start();
        if let Some(header) = t.strip_prefix('[') {
            let name = header
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim();
            let name: String = name.chars().filter(|c| !c.is_whitespace()).collect();
            return match key {
                Some(k) if !name.is_empty() => format!("{name}.{k}"),
                Some(k) => k,
                None => name,
            };
        }
        if key.is_none()
            && let Some((k, _)) = t.split_once('=')
        {
            let k = k.trim();
            if !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.\"' ".contains(c))
            {
                key = Some(k.to_owned());
            }
        }
    }
    key.unwrap_or_default()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// What a user or group name may be.
const NAME_RULE: &str =
    "1 to 32 lowercase letters, digits, `_` or `-`, not starting with a digit or `-`";

/// The largest permission value a mode may have (set-id, sticky and rwx bits).
const MODE_MAX: u32 = 0o7777;

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

struct Checker<'a> {
    lines: Lines<'a>,
}

impl Checker<'_> {
    fn check(&self, raw: Raw) -> Result<Manifest, ManifestError> {
        let image = raw.image.into_inner();
        let name_span = image.name.span();
        let name = self.nonempty("image.name", image.name)?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(self.lines.field_error(
                name_span,
                format!("image.name `{name}`: use letters, digits, `-`, `_` and `.` only"),
            ));
        }
        let cmdline = match image.cmdline {
            Some(c) => {
                let span = c.span();
                let c = c.into_inner();
                if c.contains(['\n', '\r', '\0']) {
                    return Err(self
                        .lines
                        .field_error(span, "image.cmdline: must be one line without NUL"));
                }
                c
            }
            None => String::new(),
        };
        let kernel_span = raw.kernel.span();
        let k = raw.kernel.into_inner();
        let kernel = self.artifact(
            "kernel",
            kernel_span.clone(),
            (k.package, None),
            k.bin,
            k.path,
        )?;
        let protocol = match k.protocol {
            None => BootProtocol::Multiboot2,
            Some(p) => match p.get_ref().as_str() {
                "multiboot" => BootProtocol::Multiboot,
                "multiboot2" => BootProtocol::Multiboot2,
                other => {
                    return Err(self.lines.field_error(
                        p.span(),
                        format!("kernel.protocol `{other}`: expected `multiboot` or `multiboot2`"),
                    ));
                }
            },
        };

        let mut modules = Vec::new();
        let mut module_names = BTreeSet::new();
        for m in raw.module {
            let span = m.span();
            let m = m.into_inner();
            let name_span = m.name.span();
            let name = self.nonempty("module.name", m.name)?;
            if name.contains([' ', ',', '/']) {
                return Err(self.lines.field_error(
                    name_span,
                    format!("module.name `{name}`: no spaces, commas or slashes"),
                ));
            }
            if name == crate::ROOTFS_MODULE {
                return Err(self.lines.field_error(
                    name_span,
                    format!("module.name `{name}`: reserved for the root filesystem archive"),
                ));
            }
            if !module_names.insert(name.clone()) {
                return Err(self
                    .lines
                    .field_error(name_span, format!("module.name `{name}`: used twice")));
            }
            let artifact = self.artifact("module", span, (m.package, m.krate), m.bin, m.source)?;
            let mut args = Vec::new();
            for a in m.args {
                let s = a.span();
                let a = a.into_inner();
                if a.is_empty() || a.contains(['\n', '\r', '\0', ' ']) {
                    return Err(self.lines.field_error(
                        s,
                        "module.args: each argument must be non-empty, without spaces or line breaks",
                    ));
                }
                args.push(a);
            }
            modules.push(Module {
                name,
                artifact,
                args,
            });
        }
        if modules.is_empty() {
            return Err(self.lines.field_error(
                kernel_span,
                "module: at least one boot module (the bootstrap task) is needed",
            ));
        }

        let mut taken = BTreeSet::new();
        let mut programs = Vec::new();
        for p in raw.program {
            let span = p.span();
            let p = p.into_inner();
            let path = self.fs_path("program.path", p.path, &mut taken)?;
            let artifact = self.artifact("program", span, (p.package, p.krate), p.bin, p.source)?;
            let mode = self.mode("program.mode", p.mode, 0o755)?;
            programs.push(Program {
                path,
                artifact,
                mode,
            });
        }
        let mut files = Vec::new();
        for f in raw.file {
            let span = f.span();
            let f = f.into_inner();
            let path = self.fs_path("file.path", f.path, &mut taken)?;
            let contents = match (f.text, f.source) {
                (Some(t), None) => Contents::Text(t.into_inner()),
                (None, Some(s)) => Contents::Source(self.nonempty("file.source", s)?),
                _ => {
                    return Err(self
                        .lines
                        .field_error(span, "file: give exactly one of `text` and `source`"));
                }
            };
            let mode = self.mode("file.mode", f.mode, 0o644)?;
            files.push(File {
                path,
                contents,
                mode,
                owner: f.owner.unwrap_or(0),
                group: f.group.unwrap_or(0),
                line: self.lines.at(span.start).0,
            });
        }
        let mut dirs = Vec::new();
        for d in raw.dir {
            let line = self.lines.at(d.span().start).0;
            let d = d.into_inner();
            let path = self.fs_path("dir.path", d.path, &mut taken)?;
            let mode = self.mode("dir.mode", d.mode, 0o755)?;
            dirs.push(Dir {
                path,
                mode,
                owner: d.owner.unwrap_or(0),
                group: d.group.unwrap_or(0),
                line,
            });
        }
        let mut translators = Vec::new();
        let mut nodes = BTreeSet::new();
        for t in raw.translator {
            let line = self.lines.at(t.span().start).0;
            let t = t.into_inner();
            let node_span = t.node.span();
            let node = self.abs_path("translator.node", t.node)?;
            if node == "/" {
                return Err(self.lines.field_error(
                    node_span,
                    "translator.node: the root's translator is the root filesystem itself",
                ));
            }
            if !nodes.insert(node.clone()) {
                return Err(self.lines.field_error(
                    node_span,
                    format!("translator.node `{node}`: has two translators"),
                ));
            }
            let cspan = t.command.span();
            let command = t.command.into_inner();
            if command.is_empty() || command.iter().any(|w| w.is_empty() || w.contains('\0')) {
                return Err(self.lines.field_error(
                    cspan,
                    "translator.command: a non-empty list of non-empty words",
                ));
            }
            translators.push(Translator {
                node,
                command,
                owner: t.owner.unwrap_or(0),
                line,
            });
        }
        let (users, groups) = self.accounts(raw.user, raw.group)?;
        if !users.is_empty() || !groups.is_empty() {
            for f in &files {
                if [users::PASSWD, users::GROUP, users::SHADOW].contains(&f.path.as_str()) {
                    return Err(ManifestError {
                        file: None,
                        line: f.line,
                        column: 1,
                        key: "file.path".to_owned(),
                        message: format!(
                            "`{}` is made from the [[user]] and [[group]] tables; \
                             give the accounts there",
                            f.path
                        ),
                    });
                }
            }
        }
        Ok(Manifest {
            name,
            cmdline,
            kernel,
            protocol,
            modules,
            programs,
            files,
            dirs,
            translators,
            users,
            groups,
        })
    }

    /// The `[[group]]` and `[[user]]` tables: valid unique names and ids,
    /// groups that exist, absolute homes and shells, Argon2 hashes.
    fn accounts(
        &self,
        raw_users: Vec<Spanned<RawUser>>,
        raw_groups: Vec<Spanned<RawGroup>>,
    ) -> Result<(Vec<User>, Vec<Group>), ManifestError> {
        let mut groups: Vec<Group> = Vec::new();
        for g in raw_groups {
            let line = self.lines.at(g.span().start).0;
            let g = g.into_inner();
            let span = g.name.span();
            let name = g.name.into_inner();
            if !users::valid_name(&name) {
                return Err(self
                    .lines
                    .field_error(span, format!("group.name `{name}`: {NAME_RULE}")));
            }
            if groups.iter().any(|x| x.name == name) {
                return Err(self
                    .lines
                    .field_error(span, format!("group.name `{name}`: used twice")));
            }
            let gid_span = g.gid.span();
            let gid = g.gid.into_inner();
            if let Some(other) = groups.iter().find(|x| x.gid == gid) {
                return Err(self.lines.field_error(
                    gid_span,
                    format!("group.gid `{gid}`: already the gid of `{}`", other.name),
                ));
            }
            groups.push(Group { name, gid, line });
        }
        let mut users: Vec<User> = Vec::new();
        for u in raw_users {
            let line = self.lines.at(u.span().start).0;
            let u = u.into_inner();
            let span = u.name.span();
            let name = u.name.into_inner();
            if !users::valid_name(&name) {
                return Err(self
                    .lines
                    .field_error(span, format!("user.name `{name}`: {NAME_RULE}")));
            }
            if users.iter().any(|x| x.name == name) {
                return Err(self
                    .lines
                    .field_error(span, format!("user.name `{name}`: used twice")));
            }
            let uid_span = u.uid.span();
            let uid = u.uid.into_inner();
            if let Some(other) = users.iter().find(|x| x.uid == uid) {
                return Err(self.lines.field_error(
                    uid_span,
                    format!("user.uid `{uid}`: already the uid of `{}`", other.name),
                ));
            }
            let groups_span = u.groups.span();
            let mut member_of = Vec::new();
            for g in u.groups.into_inner() {
                let gspan = g.span();
                let g = g.into_inner();
                if !groups.iter().any(|x| x.name == g) {
                    return Err(self
                        .lines
                        .field_error(gspan, format!("user.groups `{g}`: no such [[group]]")));
                }
                if member_of.contains(&g) {
                    return Err(self
                        .lines
                        .field_error(gspan, format!("user.groups `{g}`: listed twice")));
                }
                member_of.push(g);
            }
            if member_of.is_empty() {
                return Err(self.lines.field_error(
                    groups_span,
                    "user.groups: at least one group, the primary group first",
                ));
            }
            let home = match u.home {
                Some(h) => self.abs_path("user.home", h)?,
                None if uid == 0 => "/root".to_owned(),
                None => format!("/home/{name}"),
            };
            let shell = match u.shell {
                Some(s) => self.abs_path("user.shell", s)?,
                None => "/bin/sh".to_owned(),
            };
            let password = match u.password {
                None => None,
                Some(p) => {
                    let pspan = p.span();
                    let p = p.into_inner();
                    if !users::valid_hash(&p) {
                        return Err(self.lines.field_error(
                            pspan,
                            "user.password: not an Argon2 hash \
                             (`$argon2id$v=19$m=…,t=…,p=…$SALT$HASH`); make one with \
                             `cargo xtask passwd`",
                        ));
                    }
                    Some(p)
                }
            };
            users.push(User {
                name,
                uid,
                groups: member_of,
                home,
                shell,
                password,
                line,
            });
        }
        Ok((users, groups))
    }

    fn nonempty(&self, field: &str, v: Spanned<String>) -> Result<String, ManifestError> {
        let span = v.span();
        let v = v.into_inner();
        if v.trim().is_empty() {
            return Err(self
                .lines
                .field_error(span, format!("{field}: must not be empty")));
        }
        Ok(v)
    }

    fn artifact(
        &self,
        table: &str,
        span: Range<usize>,
        (package, krate): (Option<Spanned<String>>, Option<Spanned<String>>),
        bin: Option<Spanned<String>>,
        path: Option<Spanned<String>>,
    ) -> Result<Artifact, ManifestError> {
        let line = self.lines.at(span.start).0;
        let path_field = if table == "kernel" { "path" } else { "source" };
        let bin_name = |this: &Self, bin: Option<Spanned<String>>| {
            bin.map(|b| this.nonempty(&format!("{table}.bin"), b))
                .transpose()
        };
        let source = match (package, krate, path) {
            (Some(p), None, None) => Source::Package {
                package: self.nonempty(&format!("{table}.package"), p)?,
                bin: bin_name(self, bin)?,
            },
            (None, Some(c), None) => Source::Crate {
                dir: self.nonempty(&format!("{table}.crate"), c)?,
                bin: bin_name(self, bin)?,
            },
            (None, None, Some(p)) => {
                if let Some(b) = bin {
                    return Err(self.lines.field_error(
                        b.span(),
                        format!(
                            "{table}.bin: only with `package` or `crate`, not with `{path_field}`"
                        ),
                    ));
                }
                Source::Path(self.nonempty(&format!("{table}.{path_field}"), p)?)
            }
            _ if table == "kernel" => {
                return Err(self.lines.field_error(
                    span,
                    format!("{table}: give exactly one of `package` and `{path_field}`"),
                ));
            }
            _ => {
                return Err(self.lines.field_error(
                    span,
                    format!("{table}: give exactly one of `package`, `crate` and `{path_field}`"),
                ));
            }
        };
        Ok(Artifact { source, line })
    }

    fn mode(
        &self,
        field: &str,
        v: Option<Spanned<u32>>,
        default: u32,
    ) -> Result<u32, ManifestError> {
        match v {
            None => Ok(default),
            Some(m) if *m.get_ref() <= MODE_MAX => Ok(m.into_inner()),
            Some(m) => Err(self.lines.field_error(
                m.span(),
                format!(
                    "{field}: {:#o} is not a permission mode (at most 0o7777)",
                    m.get_ref()
                ),
            )),
        }
    }

    /// An absolute, normal path: no `.`/`..`/empty components, no NUL.
    fn abs_path(&self, field: &str, v: Spanned<String>) -> Result<String, ManifestError> {
        let span = v.span();
        let p = v.into_inner();
        let bad = |why: &str| {
            self.lines
                .field_error(span.clone(), format!("{field} `{p}`: {why}"))
        };
        if !p.starts_with('/') {
            return Err(bad("must be absolute (start with `/`)"));
        }
        if p.contains('\0') {
            return Err(bad("contains NUL"));
        }
        if p == "/" {
            return Ok(p);
        }
        let trimmed = p.strip_suffix('/').unwrap_or(&p);
        if trimmed[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(bad("has an empty, `.` or `..` component"));
        }
        if trimmed[1..].split('/').any(|c| c.len() > 255) {
            return Err(bad("has a component longer than 255 bytes"));
        }
        Ok(trimmed.to_owned())
    }

    /// An absolute path not used by another program, file or directory.
    fn fs_path(
        &self,
        field: &str,
        v: Spanned<String>,
        taken: &mut BTreeSet<String>,
    ) -> Result<String, ManifestError> {
        let span = v.span();
        let p = self.abs_path(field, v)?;
        if p == "/" && field != "dir.path" {
            return Err(self
                .lines
                .field_error(span, format!("{field}: `/` is a directory")));
        }
        if !taken.insert(p.clone()) {
            return Err(self.lines.field_error(
                span,
                format!("{field} `{p}`: already given by another entry"),
            ));
        }
        Ok(p)
    }
}
