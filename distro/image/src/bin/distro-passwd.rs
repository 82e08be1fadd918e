//! `distro-passwd`: makes the password hash of a `[[user]]` of a manifest.
//!
//! ```text
//! $ cargo xtask passwd
//! Password:
//! Again:
//! $argon2id$v=19$m=19456,t=2,p=1$...$...
//! ```
//!
//! Reads a password (twice, without echo, from a terminal; once, as the
//! first line, from a pipe), hashes it with Argon2id at OWASP's recommended
//! cost and a 16-byte salt from the system's random source, and prints the
//! PHC string for the user's `password` field.

use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::process::{Command, ExitCode, Stdio};

use hurd_auth::password::{Cost, hash_password};

/// Reads one line from standard input, with the terminal's echo off when it
/// is one.
fn read_line(prompt: &str, tty: bool) -> Result<String, String> {
    let stty = |arg: &str| {
        Command::new("stty")
            .arg(arg)
            .stdin(Stdio::inherit())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if tty {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        stty("-echo");
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if tty {
        stty("echo");
        eprintln!();
    }
    read.map_err(|e| format!("reading the password: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

fn run() -> Result<String, String> {
    let tty = std::io::stdin().is_terminal();
    let password = read_line("Password: ", tty)?;
    if password.is_empty() {
        return Err("an empty password; leave `password` out of the [[user]] instead".into());
    }
    if tty && read_line("Again: ", tty)? != password {
        return Err("the passwords differ".into());
    }
    let mut salt = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    hash_password(password.as_bytes(), &salt, Cost::RECOMMENDED)
        .map_err(|e| format!("hashing: {e:?}"))
}

fn main() -> ExitCode {
    match run() {
        Ok(phc) => {
            println!("{phc}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("distro-passwd: {e}");
            ExitCode::FAILURE
        }
    }
}
