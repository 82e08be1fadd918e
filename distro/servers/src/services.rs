//! The services of a system: the programs `hurd-init` starts at boot, once
//! the root file system holds the image's files, each as a task of its own,
//! a child process of init's running as its user (root unless the manifest
//! names another), in the order a manifest's `[[service]]` tables give
//! (`after`), with their arguments.
//!
//! The image builder writes them to [`SERVICES`] ([`to_text`]); `hurd-init`
//! reads that file ([`parse`]). A line is one service, its fields separated
//! by tabs:
//!
//! ```text
//! NAME <TAB> USER <TAB> ON-FAILURE <TAB> AFTER <TAB> PROGRAM [<TAB> ARG]...
//! ```
//!
//! `USER` is the login name the service runs as (an account of
//! `/etc/passwd`; `root` needs none); `ON-FAILURE` is `continue` or `halt`;
//! `AFTER` the names of the services
//! that must have started first, separated by commas, or `-`. Lines are in
//! start order; blank lines and lines starting with `#` are skipped.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Where the services are written in the root file system.
pub const SERVICES: &str = "/etc/hurd-init/services";

/// The most services a system starts.
pub const MAX_SERVICES: usize = 64;

/// The most arguments a service is given (after its program).
pub const MAX_ARGS: usize = 32;

/// The user a service runs as when its manifest names none.
pub const ROOT: &str = "root";

/// What `hurd-init` does when a service does not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Names it on the console and goes on: the services after it that need
    /// it are not started, the others are.
    Continue,
    /// Names it on the console and halts the system.
    Halt,
}

impl OnFailure {
    /// Its word in the file and the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Continue => "continue",
            OnFailure::Halt => "halt",
        }
    }

    /// The value `word` names.
    pub fn from_word(word: &str) -> Option<OnFailure> {
        match word {
            "continue" => Some(OnFailure::Continue),
            "halt" => Some(OnFailure::Halt),
            _ => None,
        }
    }
}

/// A service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Its name (see [`valid_name`]), shown on the console.
    pub name: String,
    /// The login name it runs as ([`ROOT`] unless the manifest says).
    pub user: String,
    /// The program, an absolute path in the root file system.
    pub program: String,
    /// Its arguments (its `argv` after the program's path).
    pub args: Vec<String>,
    /// The services that must have started before it.
    pub after: Vec<String>,
    /// What happens when it does not start.
    pub on_failure: OnFailure,
}

/// Whether `name` may name a service: 1 to 32 lowercase ASCII letters,
/// digits and `-`, starting with a letter.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
}

/// Whether `name` may name a service's user in the file: 1 to 32 bytes,
/// none of them a tab, line break, NUL, `:` or `,` (which `/etc/passwd` and
/// `/etc/group` use between fields and members) or a blank.
pub fn valid_user(name: &str) -> bool {
    (1..=32).contains(&name.len()) && !name.contains(['\t', '\n', '\r', '\0', ':', ',', ' '])
}

/// Whether `word` may be a program path or an argument in the file: no tab,
/// newline, carriage return or NUL, and not empty.
pub fn valid_word(word: &str) -> bool {
    !word.is_empty() && !word.contains(['\t', '\n', '\r', '\0'])
}

/// What is wrong with the services file: the line (from 1) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SERVICES}: line {}: {}", self.line, self.message)
    }
}

impl core::error::Error for ParseError {}

/// The services file for `services` (already in start order; their names,
/// paths and arguments valid).
pub fn to_text(services: &[Service]) -> String {
    let mut out = String::from(
        "# The services hurd-init starts, in order (from the image's manifest):\n\
         # NAME, USER, ON-FAILURE, AFTER, PROGRAM, ARGS, separated by tabs.\n",
    );
    for s in services {
        out.push_str(&s.name);
        out.push('\t');
        out.push_str(&s.user);
        out.push('\t');
        out.push_str(s.on_failure.as_str());
        out.push('\t');
        if s.after.is_empty() {
            out.push('-');
        } else {
            out.push_str(&s.after.join(","));
        }
        out.push('\t');
        out.push_str(&s.program);
        for a in &s.args {
            out.push('\t');
            out.push_str(a);
        }
        out.push('\n');
    }
    out
}

/// The services `text` lists, in order.
///
/// # Errors
///
/// A [`ParseError`] naming the first bad line: fewer than five fields, a
/// bad name, user or `ON-FAILURE`, a relative program, more than [`MAX_ARGS`]
/// arguments, a name listed twice, an `AFTER` naming a service not listed
/// before it, or more than [`MAX_SERVICES`] services.
pub fn parse(text: &str) -> Result<Vec<Service>, ParseError> {
    let mut services: Vec<Service> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let err = |message| ParseError {
            line: i + 1,
            message,
        };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if services.len() == MAX_SERVICES {
            return Err(err("too many services"));
        }
        let mut fields = line.split('\t');
        let (Some(name), Some(user), Some(on_failure), Some(after), Some(program)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(err("fewer than five fields"));
        };
        if !valid_name(name) {
            return Err(err("not a service name"));
        }
        if !valid_user(user) {
            return Err(err("not a user name"));
        }
        if services.iter().any(|s| s.name == name) {
            return Err(err("a service listed twice"));
        }
        let on_failure = OnFailure::from_word(on_failure)
            .ok_or(err("on failure is neither `continue` nor `halt`"))?;
        let after: Vec<String> = match after {
            "-" => Vec::new(),
            list => list.split(',').map(ToString::to_string).collect(),
        };
        if !after.iter().all(|a| services.iter().any(|s| &s.name == a)) {
            return Err(err("after a service not listed before it"));
        }
        if !program.starts_with('/') {
            return Err(err("the program is not an absolute path"));
        }
        let args: Vec<String> = fields.take(MAX_ARGS + 1).map(ToString::to_string).collect();
        if args.len() > MAX_ARGS {
            return Err(err("too many arguments"));
        }
        services.push(Service {
            name: name.to_string(),
            user: user.to_string(),
            program: program.to_string(),
            args,
            after,
            on_failure,
        });
    }
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn service(name: &str, after: &[&str]) -> Service {
        Service {
            name: name.into(),
            user: ROOT.into(),
            program: "/bin/forever".into(),
            args: vec!["a b".into(), "c".into()],
            after: after.iter().map(|a| (*a).to_string()).collect(),
            on_failure: OnFailure::Continue,
        }
    }

    #[test]
    fn the_file_reads_back_as_written() {
        let mut halt = service("second", &["first"]);
        halt.on_failure = OnFailure::Halt;
        halt.args.clear();
        halt.user = "carol".into();
        let list = vec![service("first", &[]), halt];
        let text = to_text(&list);
        assert!(text.contains("first\troot\tcontinue\t-\t/bin/forever\ta b\tc\n"));
        assert!(text.contains("second\tcarol\thalt\tfirst\t/bin/forever\n"));
        assert_eq!(parse(&text), Ok(list));
        assert_eq!(parse(""), Ok(Vec::new()));
    }

    #[test]
    fn a_bad_line_is_named() {
        let bad = |text: &str, line: usize, message: &str| {
            assert_eq!(
                parse(text).map_err(|e| (e.line, e.message)),
                Err((line, message)),
                "{text:?}"
            );
        };
        bad("a\troot\tcontinue\t-\n", 1, "fewer than five fields");
        bad("a\tro:ot\tcontinue\t-\t/x\n", 1, "not a user name");
        bad("# c\n\nA\troot\tcontinue\t-\t/x\n", 3, "not a service name");
        bad(
            "a\troot\tmaybe\t-\t/x\n",
            1,
            "on failure is neither `continue` nor `halt`",
        );
        bad(
            "a\troot\tcontinue\tb\t/x\nb\troot\tcontinue\t-\t/x\n",
            1,
            "after a service not listed before it",
        );
        bad(
            "a\troot\tcontinue\t-\tx\n",
            1,
            "the program is not an absolute path",
        );
        bad(
            "a\troot\tcontinue\t-\t/x\na\troot\thalt\t-\t/y\n",
            2,
            "a service listed twice",
        );
        let many = format!("a\troot\tcontinue\t-\t/x{}\n", "\tw".repeat(MAX_ARGS + 1));
        bad(&many, 1, "too many arguments");
        let lots: String = (0..=MAX_SERVICES)
            .map(|i| format!("s{i}\troot\tcontinue\t-\t/x\n"))
            .collect();
        bad(&lots, MAX_SERVICES + 1, "too many services");
        let e = parse("a\troot\tmaybe\t-\t/x\n").expect_err("bad");
        assert_eq!(
            e.to_string(),
            "/etc/hurd-init/services: line 1: on failure is neither `continue` nor `halt`"
        );
    }

    #[test]
    fn names_and_words() {
        assert!(valid_name("term-2"));
        for bad in ["", "2x", "-x", "Ab", "a_b", &"a".repeat(33)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(valid_user("carol") && valid_user("root"));
        for bad in ["", "a:b", "a,b", "a b", "a\tb", &"a".repeat(33)] {
            assert!(!valid_user(bad), "{bad:?}");
        }
        assert!(valid_word("a b"));
        for bad in ["", "a\tb", "a\nb", "a\0"] {
            assert!(!valid_word(bad), "{bad:?}");
        }
    }
}
