//! The `[[group]]` and `[[user]]` tables of a manifest: valid unique names
//! and ids, groups that exist, absolute homes and shells, Argon2 hashes.

use toml::Spanned;

use super::check::Checker;
use super::error::ManifestError;
use super::raw::{RawGroup, RawUser};
use crate::users::{self, Group, User};

/// What a user or group name may be.
const NAME_RULE: &str =
    "1 to 32 lowercase letters, digits, `_` or `-`, not starting with a digit or `-`";

impl Checker<'_> {
    /// The `[[group]]` and `[[user]]` tables: valid unique names and ids,
    /// groups that exist, absolute homes and shells, Argon2 hashes.
    pub(super) fn accounts(
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
}
