//! The `[[service]]` tables of a manifest: the programs `hurd-init` starts
//! at boot (see [`hurd_servers::services`]), checked and put in start order.

use toml::Spanned;

use hurd_servers::services::{self, OnFailure, Service};

use super::check::Checker;
use super::entries::{File, Program};
use super::error::ManifestError;
use super::raw::RawService;
use crate::users::User;

impl Checker<'_> {
    /// The services, in start order: each after those its `after` names,
    /// otherwise in manifest order. Names are valid and unique, programs are
    /// `[[program]]`s or `[[file]]`s of the image, arguments fit the
    /// services file, `user` is `root` or one of `users`, `after` names
    /// services and makes no cycle.
    pub(super) fn services(
        &self,
        raw: Vec<Spanned<RawService>>,
        programs: &[Program],
        files: &[File],
        users: &[User],
    ) -> Result<Vec<Service>, ManifestError> {
        if raw.len() > services::MAX_SERVICES {
            return Err(self.lines.field_error(
                raw[services::MAX_SERVICES].span(),
                format!("service: at most {} services", services::MAX_SERVICES),
            ));
        }
        let mut list: Vec<(Service, Vec<Spanned<String>>)> = Vec::new();
        for s in raw {
            let s = s.into_inner();
            let span = s.name.span();
            let name = s.name.into_inner();
            if !services::valid_name(&name) {
                return Err(self.lines.field_error(
                    span,
                    format!(
                        "service.name `{name}`: 1 to 32 lowercase letters, digits or `-`, \
                         starting with a letter"
                    ),
                ));
            }
            if list.iter().any(|(x, _)| x.name == name) {
                return Err(self
                    .lines
                    .field_error(span, format!("service.name `{name}`: used twice")));
            }
            let pspan = s.program.span();
            let program = self.abs_path("service.program", s.program)?;
            let in_image = programs.iter().any(|p| p.path == program)
                || files.iter().any(|f| f.path == program);
            if !in_image || !services::valid_word(&program) {
                return Err(self.lines.field_error(
                    pspan,
                    format!(
                        "service.program `{program}`: not a [[program]] or [[file]] of the image"
                    ),
                ));
            }
            if s.args.len() > services::MAX_ARGS {
                return Err(self.lines.field_error(
                    s.args[services::MAX_ARGS].span(),
                    format!("service.args: at most {} arguments", services::MAX_ARGS),
                ));
            }
            let mut args = Vec::new();
            for a in s.args {
                let aspan = a.span();
                let a = a.into_inner();
                if !services::valid_word(&a) {
                    return Err(self.lines.field_error(
                        aspan,
                        "service.args: each argument non-empty, without tabs, line breaks or NUL",
                    ));
                }
                args.push(a);
            }
            let on_failure = match s.on_failure {
                None => OnFailure::Continue,
                Some(w) => OnFailure::from_word(w.get_ref()).ok_or_else(|| {
                    self.lines.field_error(
                        w.span(),
                        format!(
                            "service.on-failure `{}`: expected `continue` or `halt`",
                            w.get_ref()
                        ),
                    )
                })?,
            };
            let user = match s.user {
                None => services::ROOT.to_owned(),
                Some(u) => {
                    let uspan = u.span();
                    let u = u.into_inner();
                    if u != services::ROOT && !users.iter().any(|x| x.name == u) {
                        return Err(self.lines.field_error(
                            uspan,
                            format!("service.user `{u}`: no such [[user]] (or `root`)"),
                        ));
                    }
                    u
                }
            };
            let service = Service {
                name,
                user,
                program,
                args,
                after: Vec::new(),
                on_failure,
            };
            list.push((service, s.after));
        }
        // Every `after` names another service, once.
        for (s, after) in &list {
            let mut seen: Vec<&str> = Vec::new();
            for a in after {
                let n = a.get_ref().as_str();
                if n == s.name || !list.iter().any(|(x, _)| x.name == n) || seen.contains(&n) {
                    let why = if n == s.name {
                        "a service cannot come after itself"
                    } else if seen.contains(&n) {
                        "listed twice"
                    } else {
                        "no such [[service]]"
                    };
                    return Err(self
                        .lines
                        .field_error(a.span(), format!("service.after `{n}`: {why}")));
                }
                seen.push(n);
            }
        }
        // Start order: the first in manifest order whose `after` have all
        // started, again and again.
        let mut ordered: Vec<Service> = Vec::new();
        let mut left = list;
        while !left.is_empty() {
            let ready = left.iter().position(|(_, after)| {
                after
                    .iter()
                    .all(|a| ordered.iter().any(|o| &o.name == a.get_ref()))
            });
            let Some(i) = ready else {
                let (s, after) = &left[0];
                // None is ready: the first waits for one that waits, in
                // the end, for it.
                let waiting = after
                    .iter()
                    .find(|a| !ordered.iter().any(|o| &o.name == a.get_ref()));
                let (span, other) =
                    waiting.map_or((0..0, ""), |a| (a.span(), a.get_ref().as_str()));
                return Err(self.lines.field_error(
                    span,
                    format!(
                        "service.after `{other}`: `{}` and it wait for each other (a cycle)",
                        s.name
                    ),
                ));
            };
            let (mut s, after) = left.remove(i);
            s.after = after.into_iter().map(Spanned::into_inner).collect();
            ordered.push(s);
        }
        Ok(ordered)
    }
}
