//! Turning a manifest's TOML form into a [`Manifest`]: every value checked,
//! every error with its line and key.

use std::collections::BTreeSet;
use std::ops::Range;

use toml::Spanned;

use super::Manifest;
use super::entries::{
    Artifact, BootProtocol, Contents, Dir, File, Module, Program, Source, Translator,
};
use super::error::{Lines, ManifestError};
use super::raw::Raw;
use crate::users;
use hurd_servers::services::SERVICES;

/// The largest permission value a mode may have (set-id, sticky and rwx bits).
const MODE_MAX: u32 = 0o7777;

pub(super) struct Checker<'a> {
    pub(super) lines: Lines<'a>,
}

impl Checker<'_> {
    pub(super) fn check(&self, raw: Raw) -> Result<Manifest, ManifestError> {
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
        let cmdline = self.cmdline(image.cmdline)?;
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
        let services = self.services(raw.service, &programs, &files, &users)?;
        let disk = self.disk(raw.disk, (&programs, &files))?;
        if !services.is_empty()
            && let Some(f) = files.iter().find(|f| f.path == SERVICES)
        {
            return Err(ManifestError {
                file: None,
                line: f.line,
                column: 1,
                key: "file.path".to_owned(),
                message: format!(
                    "`{SERVICES}` is made from the [[service]] tables; give the services there"
                ),
            });
        }
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
            services,
            disk,
        })
    }

    pub(super) fn nonempty(
        &self,
        field: &str,
        v: Spanned<String>,
    ) -> Result<String, ManifestError> {
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
    pub(super) fn abs_path(
        &self,
        field: &str,
        v: Spanned<String>,
    ) -> Result<String, ManifestError> {
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
