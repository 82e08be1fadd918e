//! End to end: the `hurd-hosted` program driven over its console (standard
//! input and output) through the distro's scenario — log in, a translator,
//! a tar archive mounted with tarfs, a union and a shadow directory, a
//! translator killed (`pkill`) and restarted on the next access, `su` gaining a uid in
//! the running shell, and a program crashing while the system goes on.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The session typed at the console.
const SESSION: &str = "\
alice
wonderland
id
settrans -a /tmp/hello /hurd/hello
cat /tmp/hello
cp /share/example.tar /tmp/ex.tar
settrans /tmp/ex.tar /hurd/tarfs
cat /tmp/ex.tar/docs/hello.txt
mkdir /tmp/lower /tmp/other /tmp/upper
echo low > /tmp/lower/a
echo other > /tmp/other/b
settrans /tmp/u /hurd/union /tmp/lower /tmp/other
ls /tmp/u
settrans /tmp/s /hurd/shadow /tmp/lower /tmp/upper
echo changed > /tmp/s/a
cat /tmp/s/a /tmp/lower/a
settrans /tmp/greet /hurd/hello restarted
cat /tmp/greet
settrans -g /tmp/greet
cat /tmp/greet
ps
pkill restarted
cat /tmp/greet
ps
su
hurd
id
crash
echo still here
exit
";

#[test]
fn the_distro_scenario_over_the_console() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hurd-hosted"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hurd-hosted");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(SESSION.as_bytes())
        .expect("type the session");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hurd-hosted did not finish the session");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().expect("reader");
    assert!(status.success(), "exit status {status}; output:\n{out}");
    for expected in [
        "Welcome to hurd-rs.",
        "euids=1000(alice) ",
        "Hello, world!",
        "Hello from inside a tar archive.",
        "a\nb\n",
        "changed\nlow\n",
        "restarted",
        "euids=1000(alice),0(root) ",
        "sh: crash: crashed; its task was terminated",
        "still here",
    ] {
        assert!(
            out.contains(expected),
            "`{expected}` not in the console output:\n{out}"
        );
    }
    // The translator answered three times: at first, after settrans -g
    // stopped it, and after pkill killed it.
    let pids = translator_pids(&out);
    assert_eq!(out.matches("restarted").count(), 3 + pids.len(), "{out}");
    // `ps` showed it as a process before the kill, and a new one after.
    assert_eq!(pids.len(), 2, "{out}");
    assert_ne!(pids[0], pids[1], "{out}");
}

/// The pids `ps` showed for the running `/hurd/hello restarted`.
fn translator_pids(out: &str) -> Vec<i32> {
    out.lines()
        .filter(|l| l.ends_with(" /hurd/hello restarted") && !l.contains("<defunct>"))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}
