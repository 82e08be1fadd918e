//! `hurd-hosted`: the hurd-rs server set in one process, with a shell on
//! standard input (`cargo xtask run --hosted`).
//!
//! Log in as `alice` (password `wonderland`), `bob` (`builder`) or `root`
//! (`hurd`); `help` lists the commands.

use std::io::{BufRead, Write};

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
        let Some(password) = ask("Password: ") else {
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
