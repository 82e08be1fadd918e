//! `hurd-hosted`: the hurd-rs server set in one process, with a shell on
//! standard input (`cargo xtask run --hosted`).
//!
//! Log in as `alice` (password `wonderland`), `bob` (`builder`) or `root`
//! (`hurd`); `help` lists the commands.

use std::io::{BufRead, IsTerminal, Write};

use hurd_servers::hosted::{DEMO_ACCOUNTS, System};
use hurd_servers::shell::{Flow, Shell};

fn main() -> std::process::ExitCode {
    hurd_servers::hosted::report_crashes_briefly();
    let sys = match System::boot(DEMO_ACCOUNTS) {
        Ok(sys) => sys,
        Err(e) => {
            eprintln!("boot failed: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("hurd-rs (hosted): auth, password and a tmpfs root are running as threads.");
    println!("Accounts: alice/wonderland, bob/builder, root/hurd.\n");
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut ask = |prompt: &str| -> Option<String> {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        lines.next().and_then(Result::ok)
    };
    let task = sys.task();
    let session = loop {
        let Some(name) = ask("login: ") else {
            return std::process::ExitCode::SUCCESS;
        };
        // A terminal does not show the password as it is typed.
        let tty = std::io::stdin().is_terminal();
        if tty {
            stty("-echo");
        }
        let password = ask("Password: ");
        if tty {
            stty("echo");
            println!();
        }
        let Some(password) = password else {
            return std::process::ExitCode::SUCCESS;
        };
        match sys.login(&task, name.trim(), &password) {
            Ok(s) => break s,
            Err(_) => println!("Login incorrect\n"),
        }
    };
    if let Ok(motd) = session.read_file("/etc/motd") {
        print!("{}", String::from_utf8_lossy(&motd));
    }
    let mut shell = Shell::with_exec(session, &sys);
    loop {
        let Some(line) = ask(shell.prompt()) else {
            println!();
            break;
        };
        let mut out = Vec::new();
        let flow = shell.feed(&line, &mut out);
        let _ = std::io::stdout().write_all(&out);
        if flow == Flow::Exit {
            break;
        }
    }
    std::process::ExitCode::SUCCESS
}

/// Sets a mode of the terminal on standard input with `stty`; a failure
/// leaves the terminal as it was.
fn stty(mode: &str) {
    let _ = std::process::Command::new("stty")
        .arg(mode)
        .stdin(std::process::Stdio::inherit())
        .status();
}
