//! `linux-spawn-rs`: child processes with Rust's `std::process::Command`,
//! built for `x86_64-unknown-linux-musl`. `Command::output` runs this
//! program again (by the name it was run as, with `--child`) with its
//! output and error on pipes, which the parent reads to their end (`poll`
//! on both), then waits (`wait4`); std spawns with musl's `posix_spawn`,
//! a `clone(CLONE_VM | CLONE_VFORK)` on a stack of its own, then `execve`.
//! The working directory (`/`), an environment variable naming the exit
//! code and standard error on `/dev/null` passed to the child, and a
//! program that does not exist. It prints the
//! same on Linux and on hurd-rs.

use std::process::{Command, Stdio};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args();
    let me = args.next().unwrap_or_default();
    if args.next().as_deref() == Some("--child") {
        println!("child: arguments {:?}", args.collect::<Vec<_>>());
        eprintln!("child: to standard error");
        let code = std::env::var("SPAWN_EXIT").map_or(Ok(0), |v| v.parse());
        if let Ok(dir) = std::env::current_dir() {
            println!("child: working in {}", dir.display());
        }
        std::process::exit(code.unwrap_or(99));
    }
    let out = Command::new(&me)
        .args(["--child", "one", "two"])
        .current_dir("/")
        .output()?;
    println!("output: status {:?}", out.status.code());
    print!("output: stdout {}", String::from_utf8_lossy(&out.stdout));
    print!("output: stderr {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(&me)
        .arg("--child")
        .env("SPAWN_EXIT", "7")
        .current_dir("/")
        .stderr(Stdio::null())
        .output()?;
    let status = out.status;
    println!("status: {:?}, success: {}", status.code(), status.success());
    print!("status: stdout {}", String::from_utf8_lossy(&out.stdout));
    match Command::new("/no/such/program").status() {
        Ok(s) => println!("a missing program ran: {s:?}"),
        Err(e) => println!("a missing program: {:?}", e.kind()),
    }
    Ok(())
}
