//! What the book's console blocks say: commands and the output shown for
//! them, and how shown output is compared with real output.
//!
//! Two kinds of blocks are checked (the attribute after `console`):
//!
//! - `run`: each line starting with `$ ` (or `# ` for root) is a command,
//!   run to its end; the lines up to the next command are its output. A
//!   command may go on over lines ending in `\`.
//! - `session`: the first line, `$ COMMAND`, starts an interactive program
//!   (a shell, a QEMU console); after it, a line starting with a prompt —
//!   `login: `, `Password:`, `$ `, `# ` — followed by text means that text
//!   is typed at the prompt, `Password:` alone means a password is typed
//!   unseen, and `^C` or `^D` alone means that control character is typed.
//!   Every other line is output.
//!
//! A block runs in the workspace root, or with `dir=scratch` in an empty
//! directory of its own outside the workspace, or with `dir=chapter` in
//! one directory shared by the chapter's `dir=chapter` blocks (empty at
//! the first, so later blocks go on from what earlier ones made); `cd=SUB`
//! runs it in a directory below that one. `$HURD_RS` is the workspace root.
//! A block marked `fuse` mounts through FUSE: where `/dev/fuse` cannot be
//! opened it is skipped, saying so.
//!
//! A prompt is shown at the start of its line even when the output before
//! it did not end its line (a file without a final newline).
//!
//! In shown output, a line `...` stands for any number of lines, and `…`
//! inside a line for any text within it. Everything else must be exactly
//! what the program printed (trailing spaces aside).

use super::markdown::Block;

/// A command of a `run` block and the output shown for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The command, as a shell reads it.
    pub command: String,
    /// Whether it is shown at a root prompt (`# `).
    pub root: bool,
    /// The output shown.
    pub output: Vec<String>,
}

/// The commands of a `run` block.
///
/// # Errors
///
/// Output before the first command, or a block with no command.
pub fn parse_run(block: &Block) -> Result<Vec<Shown>, String> {
    let mut shown: Vec<Shown> = Vec::new();
    let mut continued = false;
    for (i, line) in block.body.iter().enumerate() {
        if continued {
            if let Some(last) = shown.last_mut() {
                last.command.push('\n');
                last.command.push_str(line);
            }
            continued = line.ends_with('\\');
            continue;
        }
        let prompt = [("$ ", false), ("# ", true)]
            .into_iter()
            .find_map(|(p, root)| Some((line.strip_prefix(p)?, root)));
        match (prompt, shown.last_mut()) {
            (Some((command, root)), _) => {
                continued = command.ends_with('\\');
                shown.push(Shown {
                    command: command.to_owned(),
                    root,
                    output: Vec::new(),
                });
            }
            (None, Some(last)) => last.output.push(line.clone()),
            (None, None) => {
                return Err(format!(
                    "{}: line {} is output before any `$ ` command",
                    block.place(),
                    i + 1
                ));
            }
        }
    }
    if shown.is_empty() {
        return Err(format!("{}: a `run` block with no command", block.place()));
    }
    Ok(shown)
}

/// What is typed at a step of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A line of text, and a newline.
    Line(String),
    /// The password of `user`, unseen.
    Password {
        /// Whose password it is.
        user: String,
    },
    /// A control character (`^C` is `'\u{3}'`).
    Control(char),
}

impl Input {
    /// What a terminal would show for it: the line, `^C`, or nothing.
    pub fn shown(&self) -> String {
        match self {
            Input::Line(text) => text.clone(),
            Input::Password { .. } => String::new(),
            Input::Control(c) => format!("^{}", char::from(*c as u8 + b'@')),
        }
    }
}

/// One thing typed in a session: when, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// The output to wait for first.
    pub wait_for: String,
    /// What is typed then.
    pub input: Input,
}

/// A `session` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The command starting the program.
    pub command: String,
    /// What is typed, in order.
    pub typed: Vec<Typed>,
    /// The output that ends the session once it shows (after the last
    /// thing typed).
    pub stop_at: String,
    /// The whole transcript after the command, as shown.
    pub expected: Vec<String>,
}

/// The prompts after which a session line is typed input.
pub const PROMPTS: &[&str] = &["login: ", "$ ", "# "];

/// The demonstration accounts of the reference system and the book's own
/// image, whose passwords a session types at `Password:`.
pub const ACCOUNTS: &[(&str, &str)] = &[
    ("alice", "wonderland"),
    ("bob", "builder"),
    ("root", "hurd"),
    // The user only `distro/examples/my-image.toml` has.
    ("carol", "lighthouse"),
];

/// The password of `user` among [`ACCOUNTS`].
pub fn password(user: &str) -> Option<&'static str> {
    ACCOUNTS.iter().find(|(u, _)| *u == user).map(|(_, p)| *p)
}

/// Reads a `session` block.
///
/// # Errors
///
/// A block not starting with `$ COMMAND`, a `Password:` with no account to
/// type it for, or a control character with no output before it.
pub fn parse_session(block: &Block) -> Result<Session, String> {
    let (first, rest) = block
        .body
        .split_first()
        .ok_or_else(|| format!("{}: an empty session", block.place()))?;
    let command = first
        .strip_prefix("$ ")
        .ok_or_else(|| format!("{}: a session starts with `$ COMMAND`", block.place()))?
        .to_owned();
    let mut typed = Vec::new();
    // Whose password `Password:` asks for: the user logging in, or the one
    // `su` is becoming.
    let mut user: Option<String> = None;
    for (i, line) in rest.iter().enumerate() {
        let place = || format!("{}: line {}", block.place(), i + 2);
        if line.trim_end() == "Password:" {
            let who = user
                .clone()
                .ok_or_else(|| format!("{}: whose password is this?", place()))?;
            if password(&who).is_none() {
                return Err(format!("{}: no password known for `{who}`", place()));
            }
            typed.push(Typed {
                wait_for: "Password: ".to_owned(),
                input: Input::Password { user: who },
            });
            continue;
        }
        if line.starts_with("Password:") {
            return Err(format!(
                "{}: a password is typed unseen: write `Password:` alone \
                 (the account's password is typed for it)",
                place()
            ));
        }
        if let Some(c) = control(line) {
            let before = rest[..i]
                .iter()
                .rev()
                .find(|l| l.as_str() != "...")
                .map(|l| literal_prefix(l))
                .filter(|l| !l.is_empty())
                .ok_or_else(|| format!("{}: `{line}` needs output to wait for", place()))?;
            typed.push(Typed {
                wait_for: before.to_owned(),
                input: Input::Control(c),
            });
            continue;
        }
        let Some((prompt, text)) = PROMPTS
            .iter()
            .find_map(|p| Some((*p, line.strip_prefix(p)?)))
        else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        if prompt == "login: " {
            user = Some(text.trim().to_owned());
        } else if let Some(who) = su_target(text) {
            user = Some(who);
        }
        typed.push(Typed {
            // A login prompt starts a line: the banner before it may say
            // `login:` too ("^D at login: halt").
            wait_for: if prompt == "login: " {
                format!("\n{prompt}")
            } else {
                prompt.to_owned()
            },
            input: Input::Line(text.to_owned()),
        });
    }
    let last = rest
        .iter()
        .rev()
        .find(|l| l.as_str() != "...")
        .ok_or_else(|| format!("{}: a session shows nothing", block.place()))?;
    let stop_at = match typed.last() {
        // Ending on something typed: wait for its echo.
        Some(t) if rest.last().is_some_and(|l| l == last) && line_types(last) => match &t.input {
            Input::Line(text) => text.clone(),
            _ => t.wait_for.clone(),
        },
        // The last line's text, at the start of a line when the line
        // starts with it: not in the echo of what was typed before it.
        _ => {
            let literal = longest_literal(last);
            if !literal.is_empty() && last.starts_with(literal) {
                format!("\n{literal}")
            } else {
                literal.to_owned()
            }
        }
    };
    Ok(Session {
        command,
        typed,
        stop_at,
        expected: rest.to_vec(),
    })
}

/// Whether a session line types something.
fn line_types(line: &str) -> bool {
    line.trim_end() == "Password:"
        || control(line).is_some()
        || PROMPTS
            .iter()
            .any(|p| line.strip_prefix(p).is_some_and(|t| !t.is_empty()))
}

/// `^C` / `^D` alone on a line: the control character.
fn control(line: &str) -> Option<char> {
    match line.trim_end() {
        "^C" => Some('\u{3}'),
        "^D" => Some('\u{4}'),
        _ => None,
    }
}

/// The user `su` becomes: its argument, or root.
fn su_target(command: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    (words.next()? == "su").then(|| words.next().unwrap_or("root").to_owned())
}

/// The longest part of a shown line between its `…`s: the text a session
/// waits for to know the line has come.
pub fn longest_literal(line: &str) -> &str {
    line.split('…')
        .map(str::trim)
        .max_by_key(|piece| piece.len())
        .unwrap_or("")
}

/// The part of a shown line before its first `…`.
pub fn literal_prefix(line: &str) -> &str {
    line.split('…').next().unwrap_or("").trim_end()
}

/// Whether `actual` is what `expected` shows: `...` lines stand for any
/// lines, `…` for any text within a line. Trailing spaces and trailing
/// empty lines do not count.
pub fn matches(expected: &[String], actual: &[String]) -> bool {
    let expected = trim_lines(expected);
    let actual = trim_lines(actual);
    // memo[i][j]: whether expected[i..] matches actual[j..] is known false.
    let mut failed = vec![vec![false; actual.len() + 1]; expected.len() + 1];
    matches_from(&expected, &actual, 0, 0, &mut failed)
}

fn matches_from(
    expected: &[&str],
    actual: &[&str],
    i: usize,
    j: usize,
    failed: &mut [Vec<bool>],
) -> bool {
    if failed[i][j] {
        return false;
    }
    let result = match expected.get(i) {
        None => j == actual.len(),
        Some(&"...") => {
            (j..=actual.len()).any(|k| matches_from(expected, actual, i + 1, k, failed))
        }
        Some(want) => actual.get(j).is_some_and(|got| {
            line_matches(want, got) && matches_from(expected, actual, i + 1, j + 1, failed)
        }),
    };
    if !result {
        failed[i][j] = true;
    }
    result
}

/// Whether one actual line is what one shown line shows.
pub fn line_matches(want: &str, got: &str) -> bool {
    let pieces: Vec<&str> = want.split('…').collect();
    let [first, middle @ .., last] = pieces.as_slice() else {
        return want == got;
    };
    let Some(mut rest) = got.strip_prefix(first) else {
        return false;
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The lines without trailing spaces or trailing empty lines.
fn trim_lines(lines: &[String]) -> Vec<&str> {
    let mut trimmed: Vec<&str> = lines.iter().map(|l| l.trim_end()).collect();
    while trimmed.last().is_some_and(|l| l.is_empty()) {
        trimmed.pop();
    }
    trimmed
}

/// A report of what was shown against what came, for a failed check.
pub fn report(expected: &[String], actual: &[String]) -> String {
    let mut text = String::from("shown in the book:\n");
    for line in expected {
        text.push_str("  | ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("what the command printed:\n");
    for line in actual {
        text.push_str("  | ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn block(info: &str, body: &str) -> Block {
        Block {
            file: PathBuf::from("t.md"),
            line: 1,
            info: info.split(',').map(str::to_owned).collect(),
            body: body.lines().map(str::to_owned).collect(),
        }
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn parses_commands_and_their_output() {
        let shown = parse_run(&block("console,run", "$ echo a \\\n  b\na b\n# id -u\n0\n"));
        let shown = shown.unwrap_or_default();
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0].command, "echo a \\\n  b");
        assert_eq!(shown[0].output, ["a b"]);
        assert!(!shown[0].root);
        assert!(shown[1].root);
        assert!(parse_run(&block("console,run", "output first\n$ x\n")).is_err());
        assert!(parse_run(&block("console,run", "")).is_err());
    }

    #[test]
    fn wildcards_match_lines_and_text() {
        let want = lines("start\n...\nnode 1 listening on …:7001\nend");
        assert!(matches(
            &want,
            &lines("start\nnode 1 listening on 127.0.0.1:7001\nend\n\n")
        ));
        assert!(matches(
            &want,
            &lines("start\nx\ny\nnode 1 listening on a:7001\nend")
        ));
        assert!(!matches(
            &want,
            &lines("start\nnode 1 listening on a:7002\nend")
        ));
        assert!(!matches(
            &want,
            &lines("start\nnode 1 listening on a:7001\nend\nmore")
        ));
        assert!(matches(&lines("a  \n"), &lines("a")));
        assert!(line_matches("sha256:…", "sha256:5b0e"));
        assert!(line_matches("a…b…c", "a-b-b-c"));
        assert!(!line_matches("a…b…c", "a-c-b"));
        assert!(!line_matches("ab…ba", "aba"));
    }

    #[test]
    fn a_session_types_at_prompts() {
        let text = "$ cargo xtask run --kernel\n...\nlogin: alice\nPassword:\n$ forever\n\
                    running until interrupted\n^C\n$ su\nPassword:\n# id\neuids=…\n";
        let session = parse_session(&block("console,session", text));
        let Ok(session) = session else {
            panic!("{session:?}");
        };
        assert_eq!(session.command, "cargo xtask run --kernel");
        let inputs: Vec<Input> = session.typed.iter().map(|t| t.input.clone()).collect();
        assert_eq!(
            inputs,
            [
                Input::Line("alice".to_owned()),
                Input::Password {
                    user: "alice".to_owned()
                },
                Input::Line("forever".to_owned()),
                Input::Control('\u{3}'),
                Input::Line("su".to_owned()),
                Input::Password {
                    user: "root".to_owned()
                },
                Input::Line("id".to_owned()),
            ]
        );
        assert_eq!(session.typed[3].wait_for, "running until interrupted");
        assert_eq!(session.typed[6].wait_for, "# ");
        assert_eq!(session.stop_at, "\neuids=");
        let rows = "$ sh\n$ ps\n…     1  1000 /hurd/hello\n";
        let session = parse_session(&block("console,session", rows));
        assert_eq!(
            session.map(|s| s.stop_at),
            Ok("1  1000 /hurd/hello".to_owned())
        );
        assert_eq!(Input::Control('\u{3}').shown(), "^C");
    }

    #[test]
    fn a_session_ending_on_a_command_waits_for_it() {
        let session = parse_session(&block("console,session", "$ sh\n$ ls\n"));
        assert_eq!(session.map(|s| s.stop_at), Ok("ls".to_owned()));
    }

    #[test]
    fn bad_sessions_are_refused() {
        assert!(parse_session(&block("console,session", "")).is_err());
        assert!(parse_session(&block("console,session", "login: x\n")).is_err());
        // Nobody logged in: whose password?
        assert!(parse_session(&block("console,session", "$ sh\nPassword:\n")).is_err());
        assert!(parse_session(&block("console,session", "$ sh\nlogin: eve\nPassword:\n")).is_err());
        assert!(parse_session(&block("console,session", "$ sh\n^C\n")).is_err());
        // A password shown is a password never typed.
        let shown = "$ sh\nlogin: alice\nPassword: wonderland\n$ id\n";
        assert!(parse_session(&block("console,session", shown)).is_err());
    }
}
