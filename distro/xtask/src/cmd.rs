//! Running external commands, echoing each one before it runs.
//!
//! Every command the tool runs is printed as `$ program args…` (with any
//! environment variables it sets in front), so a failing step can be
//! reproduced by copying one line.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// A command to run: a program, its arguments, extra environment variables and
/// the directory to run it in.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(String, OsString)>,
    dir: Option<PathBuf>,
}

impl Cmd {
    /// A command running `program` with no arguments.
    pub fn new(program: impl Into<OsString>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            envs: Vec::new(),
            dir: None,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the command.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.envs.push((key.to_owned(), value.into()));
        self
    }

    /// Runs the command in `dir` instead of the current directory.
    pub fn dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_owned());
        self
    }

    /// The command as one shell-like line, for echoing and error messages.
    pub fn display(&self) -> String {
        let mut words: Vec<String> = self
            .envs
            .iter()
            .map(|(key, value)| format!("{key}={}", quote(&value.to_string_lossy())))
            .collect();
        words.push(quote(&self.program.to_string_lossy()));
        words.extend(self.args.iter().map(|arg| quote(&arg.to_string_lossy())));
        words.join(" ")
    }

    /// Builds the `std::process::Command`.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }

    /// Echoes the command, runs it with inherited stdio and returns its exit
    /// status. Fails only if the program could not be started.
    pub fn status(&self) -> Result<ExitStatus, String> {
        eprintln!("$ {}", self.display());
        self.command()
            .status()
            .map_err(|err| format!("could not start `{}`: {err}", self.display()))
    }

    /// Echoes and runs the command; fails unless it exits successfully.
    pub fn run(&self) -> Result<(), String> {
        let status = self.status()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{}` failed ({status})", self.display()))
        }
    }

    /// Runs the command quietly (no echo, stderr inherited) and returns its
    /// standard output; fails unless it exits successfully.
    pub fn read(&self) -> Result<String, String> {
        let output = self
            .command()
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|err| format!("could not start `{}`: {err}", self.display()))?;
        if !output.status.success() {
            return Err(format!("`{}` failed ({})", self.display(), output.status));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| format!("`{}` printed output that is not UTF-8", self.display()))
    }

    /// Echoes and runs the command, and returns its exit status with its
    /// standard output and error together (echoed once it ends). Fails only
    /// if the program could not be started.
    pub fn combined_output(&self) -> Result<(ExitStatus, String), String> {
        eprintln!("$ {}", self.display());
        let output = self
            .command()
            .stdin(Stdio::null())
            .output()
            .map_err(|err| format!("could not start `{}`: {err}", self.display()))?;
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        eprint!("{text}");
        Ok((output.status, text))
    }

    /// Runs the command quietly with all output discarded and reports whether
    /// it exited successfully. A program that cannot be started counts as a
    /// failure.
    pub fn succeeds_quietly(&self) -> bool {
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// Quotes `word` for display if it contains characters a shell would treat
/// specially.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Whether a program called `name` can be found on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let cmd = Cmd::new("cargo")
            .args(["build", "-p", "hurd-ipc"])
            .arg("a b")
            .env("RUSTFLAGS", "--cfg loom");
        assert_eq!(
            cmd.display(),
            "RUSTFLAGS='--cfg loom' cargo build -p hurd-ipc 'a b'"
        );
    }

    #[test]
    fn quote_escapes_single_quotes() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
