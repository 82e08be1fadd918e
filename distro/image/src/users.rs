//! The accounts of an image: its `[[user]]` and `[[group]]` tables become
//! `/etc/passwd`, `/etc/group` and `/etc/shadow`, in the formats the
//! password server's database reads (`hurd_auth::password::Database`).
//!
//! `/etc/passwd` and `/etc/group` are readable by everyone; `/etc/shadow`,
//! which holds the password hashes (Argon2 PHC strings, as `cargo xtask
//! passwd` makes them), is mode `0600` and owned by root, the password
//! server's user. A user without a password cannot log in with one (its
//! shadow field is `!`).

/// A user of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Group names, the primary group first (each a `[[group]]`).
    pub groups: Vec<String>,
    /// Home directory (absolute; default `/home/NAME`, `/root` for uid 0).
    pub home: String,
    /// Login shell (absolute; default `/bin/sh`).
    pub shell: String,
    /// The password's Argon2 hash as a PHC string, or `None`: no password
    /// logins.
    pub password: Option<String>,
    /// The manifest line of its table.
    pub line: usize,
}

/// A group of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Group id.
    pub gid: u32,
    /// The manifest line of its table.
    pub line: usize,
}

/// Where the account files go.
pub const PASSWD: &str = "/etc/passwd";
/// Where the groups go.
pub const GROUP: &str = "/etc/group";
/// Where the password hashes go (mode `0600`, root's).
pub const SHADOW: &str = "/etc/shadow";

/// Whether `name` may name a user or a group: 1 to 32 of lowercase ASCII
/// letters, digits, `_` and `-`, not starting with a digit or `-` (what
/// Debian's `adduser` accepts by default).
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '-')
}

/// Whether `phc` has the form of an Argon2 PHC string
/// (`$argon2id$v=19$m=…,t=…,p=…$SALT$HASH`), which the password server
/// verifies; the parameters are checked by hashing with them.
pub fn valid_hash(phc: &str) -> bool {
    let fields: Vec<&str> = phc.split('$').collect();
    matches!(fields.first(), Some(&""))
        && matches!(fields.get(1), Some(&("argon2id" | "argon2i" | "argon2d")))
        && fields.len() == 6
        && fields.iter().all(|f| !f.contains([':', '\n', '\0']))
        && fields[2..].iter().all(|f| !f.is_empty())
}

/// `/etc/passwd`: `name:x:uid:gid::home:shell`, the gid the user's first
/// group's.
pub fn passwd_file(users: &[User], groups: &[Group]) -> String {
    let mut out = String::new();
    for u in users {
        let gid = u
            .groups
            .first()
            .and_then(|g| groups.iter().find(|x| &x.name == g))
            .map_or(0, |g| g.gid);
        out.push_str(&format!(
            "{}:x:{}:{gid}::{}:{}\n",
            u.name, u.uid, u.home, u.shell
        ));
    }
    out
}

/// `/etc/group`: `name:x:gid:member,member`, the members being the users
/// that list the group after their first.
pub fn group_file(users: &[User], groups: &[Group]) -> String {
    let mut out = String::new();
    for g in groups {
        let members: Vec<&str> = users
            .iter()
            .filter(|u| u.groups.iter().skip(1).any(|x| x == &g.name))
            .map(|u| u.name.as_str())
            .collect();
        out.push_str(&format!("{}:x:{}:{}\n", g.name, g.gid, members.join(",")));
    }
    out
}

/// `/etc/shadow`: `name:hash:::::::`, `!` for a user without a password.
pub fn shadow_file(users: &[User]) -> String {
    let mut out = String::new();
    for u in users {
        out.push_str(&format!(
            "{}:{}:::::::\n",
            u.name,
            u.password.as_deref().unwrap_or("!")
        ));
    }
    out
}
