//! A small shell for trying the Hurd by hand: files, translators and
//! identities.
//!
//! [`Shell`] is line-driven: [`Shell::feed`] takes one line and writes what
//! the command printed; [`Shell::prompt`] says what to show before the next
//! line (`Password:` while `su` or `login` waits for one). Everything goes
//! through the system's servers with the session's own ports, as any
//! unprivileged program would: file name lookup and the io/fs protocols
//! (hurd-trans), the auth server and the password server (hurd-auth).
//!
//! Commands: `ls`, `cat`, `echo`, `mkdir`, `rmdir`, `rm`, `cp`, `chmod`, `cd`, `pwd`,
//! `id`, `su`, `login`, `settrans`, `showtrans`, `ps`, `kill`, `pkill`, `df`, `sync`,
//! `fsysopts`, `help`, `exit`; output
//! redirection with `>` and `>>`. With an [`Exec`], other commands run as
//! programs (`/bin/NAME`, or a path), each in a task of its own.

mod commands;
pub use commands::cd;
mod filesystems;
mod parse;
mod session;

use alloc::string::String;
use alloc::vec::Vec;

use hurd_ipc::{Error, PortName, UserIpc};

pub use parse::{Command, ParseError, Redirect, parse};
pub use session::{MAX_FILE, Session, WRITE_CHUNK};

/// What the shell does after a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next line.
    Continue,
    /// The user asked to leave.
    Exit,
}

/// A password the shell waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Awaiting {
    /// `su`: add the user's ids to the session's.
    Su { name: String, uid: u32 },
    /// `login`: become the user.
    Login { name: String, uid: u32 },
}

/// What a program run by the shell left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// What it wrote to standard output, when the shell gave it no port for
    /// it (empty otherwise).
    pub output: Vec<u8>,
    /// What it wrote to standard error.
    pub errors: Vec<u8>,
    /// How it ended.
    pub status: ExitStatus,
}

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It returned this status.
    Code(i32),
    /// It crashed (its task was terminated; the system goes on).
    Crashed,
    /// It was ended by this signal (`kill`, or the terminal's interrupt
    /// character).
    Killed(i32),
}

/// Runs programs for the shell: the client of an exec server.
pub trait Exec<I: UserIpc + ?Sized> {
    /// Runs the program at `path` with `argv`, as a new task with the
    /// session's identity and directories, and waits for it. Its standard
    /// output is the I/O port `stdout` (a send right in the session's space,
    /// which the caller keeps), or when `None`, whatever it prints comes back
    /// in [`Exit::output`].
    ///
    /// # Errors
    ///
    /// The exec server's error when the program cannot be started
    /// (`ENOENT`, `EACCES`, `ENOEXEC`...).
    fn exec(
        &self,
        session: &Session<'_, I>,
        path: &str,
        argv: &[String],
        stdout: Option<PortName>,
    ) -> Result<Exit, Error>;
}

/// A shell over a [`Session`].
pub struct Shell<'a, I: UserIpc + ?Sized> {
    session: Session<'a, I>,
    awaiting: Option<Awaiting>,
    exec: Option<&'a dyn Exec<I>>,
    /// Where the running command's standard output goes, when it was
    /// redirected to a file opened for it (programs write there directly).
    redirect: Option<PortName>,
}

impl<'a, I: UserIpc + ?Sized> Shell<'a, I> {
    /// A shell for `session`.
    pub fn new(session: Session<'a, I>) -> Shell<'a, I> {
        Shell {
            session,
            awaiting: None,
            exec: None,
            redirect: None,
        }
    }

    /// A shell that runs programs through `exec`: a command that is not
    /// built in is looked for as `/bin/NAME` (or taken as a path when it
    /// holds a `/`).
    pub fn with_exec(session: Session<'a, I>, exec: &'a dyn Exec<I>) -> Shell<'a, I> {
        Shell {
            session,
            awaiting: None,
            exec: Some(exec),
            redirect: None,
        }
    }

    /// The session.
    pub fn session(&self) -> &Session<'a, I> {
        &self.session
    }

    /// What to print before reading the next line: `Password: ` when a
    /// password is awaited, else `# ` for a session holding uid 0 and `$ `
    /// for others.
    pub fn prompt(&self) -> &'static str {
        if self.awaiting.is_some() {
            "Password: "
        } else if self.session.ids().is_ok_and(|ids| ids.has_euid(0)) {
            "# "
        } else {
            "$ "
        }
    }

    /// Whether the next line is a password (and should not be echoed).
    pub fn wants_password(&self) -> bool {
        self.awaiting.is_some()
    }

    /// Runs one line, writing what it prints into `out`.
    pub fn feed(&mut self, line: &str, out: &mut Vec<u8>) -> Flow {
        if let Some(awaiting) = self.awaiting.take() {
            commands::finish_login(
                &mut self.session,
                awaiting,
                line.trim_end_matches(['\r', '\n']),
                out,
            );
            return Flow::Continue;
        }
        let cmd = match parse(line) {
            Ok(cmd) => cmd,
            Err(e) => {
                out.extend_from_slice(alloc::format!("sh: {e}\n").as_bytes());
                return Flow::Continue;
            }
        };
        let Some(name) = cmd.words.first().cloned() else {
            return Flow::Continue;
        };
        let mut printed = Vec::new();
        let target = cmd.redirect.as_ref().map(|r| match r {
            Redirect::Truncate(p) => (p, false),
            Redirect::Append(p) => (p, true),
        });
        // A program writes to the redirection's file itself, through a port
        // the shell opens for it.
        if let Some((path, append)) = target
            && self.exec.is_some()
            && !commands::is_builtin(&name)
        {
            match self.session.open_for_output(path, append) {
                Ok(port) => self.redirect = Some(port),
                Err(e) => {
                    commands::complain(out, "sh", path, e);
                    return Flow::Continue;
                }
            }
        }
        let flow = commands::run(self, &name, &cmd.words[1..], &mut printed, out);
        if let Some(port) = self.redirect.take() {
            self.session.release(port);
            return flow;
        }
        match target {
            None => out.extend_from_slice(&printed),
            Some((path, append)) => {
                if let Err(e) = self.session.write_file(path, &printed, append) {
                    commands::complain(out, "sh", path, e);
                }
            }
        }
        flow
    }

    fn set_awaiting(&mut self, a: Awaiting) {
        self.awaiting = Some(a);
    }
}

/// A name's uid from `/etc/passwd` text (`name:password:uid:gid:...`).
pub fn passwd_uid(passwd: &str, name: &str) -> Option<u32> {
    passwd_entries(passwd)
        .find(|(n, _)| *n == name)
        .map(|(_, u)| u)
}

/// A uid's name from `/etc/passwd` text.
pub fn passwd_name(passwd: &str, uid: u32) -> Option<&str> {
    passwd_entries(passwd)
        .find(|(_, u)| *u == uid)
        .map(|(n, _)| n)
}

fn passwd_entries(passwd: &str) -> impl Iterator<Item = (&str, u32)> {
    passwd.lines().filter_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        let uid = f.next()?.parse().ok()?;
        Some((name, uid))
    })
}

/// Releases a port right the shell no longer needs.
fn release<I: UserIpc + ?Sized>(ipc: &I, p: PortName) {
    if p.is_valid() {
        let _ = ipc.port_deallocate(p);
    }
}
