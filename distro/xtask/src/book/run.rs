//! Running the book's console blocks: each `run` block's commands in one
//! shell, each `session` through the console driver, and the output
//! compared with what the book shows (see [`super::transcript`]).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::markdown::Block;
use super::transcript::{self, Input, Session, Shown};
use crate::console::{self, Step};

/// How long one block may take: a command may build the workspace, or boot
/// the system in QEMU without KVM, on a busy machine.
const TIMEOUT: Duration = Duration::from_secs(40 * 60);

/// The separator the shell prints before each command's output.
const MARK: char = '\u{1e}';

/// Where and how blocks run.
#[derive(Debug, Clone)]
pub struct Runner {
    /// The workspace root: where commands run.
    pub root: PathBuf,
    /// Scratch directories for `dir=scratch` and `dir=chapter` blocks go
    /// under this one.
    pub scratch: PathBuf,
    /// Whether this process may run root's commands (`# `).
    pub is_root: bool,
    /// The chapters' directories made (emptied) so far in this run: a
    /// chapter's first `dir=chapter` block gets an empty one, the next
    /// ones find what the earlier ones left.
    pub chapters_made: std::cell::RefCell<std::collections::HashSet<PathBuf>>,
}

/// What became of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It showed what the book shows.
    Passed,
    /// It could not be run here; the string says why.
    Skipped(String),
}

impl Runner {
    /// The environment every command gets: cargo's own status lines off, no
    /// colours, so the output is only the program's.
    fn command(&self, dir: &Path, script: &str) -> Command {
        let mut command = Command::new("bash");
        command
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .env("CARGO_TERM_QUIET", "true")
            .env("CARGO_TERM_COLOR", "never")
            .env("HURD_RS", &self.root);
        command
    }

    /// The directory a block runs in: the workspace root; with
    /// `dir=scratch` an empty directory of its own; with `dir=chapter` the
    /// chapter's directory, empty at its first such block. `cd=SUBDIR`
    /// then goes into a directory an earlier block made there.
    fn dir(&self, block: &Block) -> Result<PathBuf, String> {
        let stem = block
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = match block.value("dir") {
            None => return Ok(self.root.clone()),
            Some("scratch") => {
                let dir = self.scratch.join(format!("{stem}-{}", block.line));
                empty_dir(&dir)?;
                dir
            }
            Some("chapter") => {
                let dir = self.scratch.join(&stem);
                if self.chapters_made.borrow_mut().insert(dir.clone()) {
                    empty_dir(&dir)?;
                }
                dir
            }
            Some(other) => {
                return Err(format!(
                    "{}: unknown `dir={other}` (known: dir=scratch, dir=chapter)",
                    block.place()
                ));
            }
        };
        match block.value("cd") {
            None => Ok(dir),
            Some(sub) if sub.split('/').all(|part| !part.is_empty() && part != "..") => {
                Ok(dir.join(sub))
            }
            Some(sub) => Err(format!(
                "{}: `cd={sub}` must name a directory below the block's own",
                block.place()
            )),
        }
    }

    /// Runs a `run` block: its commands in order in one shell, each one's
    /// output compared with the output shown for it.
    pub fn run(&self, block: &Block) -> Result<Outcome, String> {
        let shown = transcript::parse_run(block)?;
        if shown.iter().any(|s| s.root) && !self.is_root {
            return Ok(Outcome::Skipped(
                "root's commands (`# `) need root".to_owned(),
            ));
        }
        if block.has("fuse")
            && let Err(e) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/fuse")
        {
            return Ok(Outcome::Skipped(format!(
                "/dev/fuse is unusable here ({e})"
            )));
        }
        let dir = self.dir(block)?;
        let script = run_script(&shown);
        let mut command = self.command(&dir, &script);
        command.stdin(Stdio::null());
        let output =
            output_within(command, TIMEOUT).map_err(|e| format!("{}: {e}", block.place()))?;
        let outputs = split_outputs(&output, shown.len());
        for (i, (shown, actual)) in shown.iter().zip(&outputs).enumerate() {
            if !transcript::matches(&shown.output, actual) {
                return Err(format!(
                    "{}: command {} (`{}`) printed something else\n{}",
                    block.place(),
                    i + 1,
                    shown.command,
                    transcript::report(&shown.output, actual)
                ));
            }
        }
        Ok(Outcome::Passed)
    }

    /// Plays a `session` block through the console driver and compares the
    /// transcript with the book's.
    pub fn session(&self, block: &Block) -> Result<Outcome, String> {
        let session = transcript::parse_session(block)?;
        let dir = self.dir(block)?;
        let command = self.command(&dir, &session.command);
        let script = steps(&session);
        let recorded = console::converse_recorded(command, TIMEOUT, &script, true)
            .map_err(|e| format!("{}: {e}", block.place()))?;
        let output = recorded.run.lines.join("\n");
        if recorded.matched.len() < script.len() {
            let missing = &script[recorded.matched.len()];
            let tail: Vec<String> = tail_lines(&recorded.run.lines, 30);
            return Err(format!(
                "{}: the session never showed `{}`{}; the last lines:\n{}",
                block.place(),
                missing.wait_for,
                if recorded.run.timed_out {
                    " (timed out)"
                } else {
                    ""
                },
                tail.join("\n")
            ));
        }
        let actual = session_transcript(&output, &session, &recorded.matched);
        if !transcript::matches(&session.expected, &actual) {
            return Err(format!(
                "{}: the session went otherwise\n{}",
                block.place(),
                transcript::report(&session.expected, &actual)
            ));
        }
        Ok(Outcome::Passed)
    }
}

/// Makes `dir` an empty directory.
fn empty_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("cannot empty {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// The shell script of a `run` block: each command after a line of its own
/// marking where its output starts; background jobs ended at the end.
fn run_script(shown: &[Shown]) -> String {
    let mut script = String::from("exec 2>&1\n");
    for (i, s) in shown.iter().enumerate() {
        script.push_str(&format!("printf '\\036{i}\\n'\n{}\n", s.command));
    }
    script.push_str("printf '\\036end\\n'\nkill $(jobs -p) 2>/dev/null\nwait\n");
    script
}

/// Each command's output lines, from the marked output of [`run_script`].
/// A command whose mark never came (the shell died) has no output.
fn split_outputs(output: &str, count: usize) -> Vec<Vec<String>> {
    let mut outputs = vec![Vec::new(); count];
    let mut current: Option<usize> = None;
    for line in output.lines() {
        if let Some(mark) = line.strip_prefix(MARK) {
            current = mark.parse().ok().filter(|i| *i < count);
            continue;
        }
        if let Some(i) = current {
            outputs[i].push(line.to_owned());
        }
    }
    outputs
}

/// Runs `command` in a process group of its own and returns its output, or
/// fails when it takes longer than `timeout` (ending the whole group).
fn output_within(mut command: Command, timeout: Duration) -> Result<String, String> {
    use std::os::unix::process::CommandExt as _;
    command.process_group(0).stdout(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start bash: {e}"))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or("bash's output was not captured")?;
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).replace('\r', "")
    });
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(None) => {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                return Err(format!("the commands took longer than {timeout:?}"));
            }
            Err(e) => return Err(format!("waiting for bash failed: {e}")),
        }
    }
    reader
        .join()
        .map_err(|_| "reading the output failed".to_owned())
}

/// The console steps of a session: what it types, then the end.
fn steps(session: &Session) -> Vec<Step> {
    let mut steps: Vec<Step> = session
        .typed
        .iter()
        .map(|t| match &t.input {
            Input::Line(text) => Step::new(&t.wait_for, text),
            Input::Password { user } => {
                Step::new(&t.wait_for, transcript::password(user).unwrap_or(""))
            }
            Input::Control(c) => Step::raw(&t.wait_for, &c.to_string()),
        })
        .collect();
    steps.push(Step::stop(&session.stop_at));
    steps
}

/// The session as a terminal would have shown it: the output, with what was
/// typed where the program did not echo it (a shell reading a pipe), and cut
/// after the line where the session ended.
fn session_transcript(output: &str, session: &Session, matched: &[usize]) -> Vec<String> {
    let mut text = output.to_owned();
    let end = matched
        .last()
        .copied()
        .unwrap_or(text.len())
        .min(text.len());
    let end = text[end..].find('\n').map_or(text.len(), |at| end + at);
    text.truncate(end);
    // Insert from the last to the first, so earlier offsets stay right.
    for (typed, &at) in session.typed.iter().zip(matched).rev() {
        if at > text.len() {
            continue;
        }
        let shown = typed.input.shown();
        let at = match typed.input {
            Input::Control(_) if text[at..].starts_with('\n') => at + 1,
            _ => at,
        };
        let after = &text[at..];
        let echoed = if shown.is_empty() {
            after.starts_with('\n')
        } else {
            after.starts_with(&shown)
        };
        if !echoed {
            text.insert_str(at, &format!("{shown}\n"));
        }
        // A prompt after output that did not end its line (`cat` of a file
        // without a final newline) is shown at the start of a line of its
        // own, as the book writes it.
        if let Input::Line(_) = typed.input {
            let start = at.saturating_sub(typed.wait_for.len());
            if start > 0 && !text[..start].ends_with('\n') && text.is_char_boundary(start) {
                text.insert(start, '\n');
            }
        }
    }
    // The command line itself is the block's first line, not output.
    text.lines().map(str::to_owned).collect()
}

/// The last `n` lines.
fn tail_lines(lines: &[String], n: usize) -> Vec<String> {
    lines[lines.len().saturating_sub(n)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(text: &str) -> Session {
        let block = Block {
            file: PathBuf::from("t.md"),
            line: 1,
            info: vec!["console".to_owned(), "session".to_owned()],
            body: text.lines().map(str::to_owned).collect(),
        };
        transcript::parse_session(&block).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn splits_marked_output() {
        let out = "\u{1e}0\na\nb\n\u{1e}1\n\u{1e}2\nc\n\u{1e}end\n";
        assert_eq!(
            split_outputs(out, 3),
            [
                vec!["a".to_owned(), "b".to_owned()],
                vec![],
                vec!["c".to_owned()]
            ]
        );
    }

    #[test]
    fn a_pipe_session_gets_its_typing_back() {
        // A shell reading a pipe: nothing typed is echoed.
        let s = session("$ sh\nlogin: alice\nPassword:\n$ echo hi\nhi\n$ ");
        let output = "login: Password: $ hi\n$ ";
        let matched = [7, 17, 19, 23];
        let lines = session_transcript(output, &s, &matched);
        assert_eq!(
            lines,
            ["login: alice", "Password: ", "$ echo hi", "hi", "$ "]
        );
        assert!(transcript::matches(&s.expected, &lines));
    }

    #[test]
    fn a_prompt_after_an_unended_line_starts_its_own() {
        let s = session("$ sh\n$ cat f\nno newline\n$ ls\nf");
        let output = "$ cat f\nno newline$ ls\nf\n$ ";
        let matched = [2, 20, 24];
        let lines = session_transcript(output, &s, &matched);
        assert_eq!(lines, ["$ cat f", "no newline", "$ ls", "f"]);
        assert!(transcript::matches(&s.expected, &lines));
    }

    #[test]
    fn an_echoing_console_is_left_alone() {
        let s = session("$ qemu\nlogin: alice\nPassword:\n$ forever\nrunning\n^C\nkilled");
        let output = "login: alice\nPassword: \n$ forever\nrunning\n^C\nkilled\n$ ";
        let matched = [7, 23, 26, 41, 51];
        let lines = session_transcript(output, &s, &matched);
        assert_eq!(
            lines,
            [
                "login: alice",
                "Password: ",
                "$ forever",
                "running",
                "^C",
                "killed"
            ]
        );
        assert!(transcript::matches(&s.expected, &lines));
    }
}
