//! A hosted tour of hurd-rs: the server set runs as threads in this process
//! (auth, password, a tmpfs root with the translators), and two users who do
//! not trust each other try the Hurd's central promise, through the same
//! shell `cargo xtask run --hosted` gives — any user may attach a translator
//! to a node they own, everyone who opens the node talks to it, and it gains
//! nothing by being there.
//!
//! Run it with `cargo xtask run` (or `cargo run -p hurd-servers --example tour`).

use std::time::Duration;

use hurd_ipc::hosted::Task;
use hurd_servers::hosted::{DEMO_ACCOUNTS, System};
use hurd_servers::shell::Shell;

/// Runs `line` in `shell` as `who`, printing the line and what it printed.
fn say(who: &str, shell: &mut Shell<'_, Task>, line: &str) -> String {
    if shell.wants_password() {
        println!("{}{}", shell.prompt(), "*".repeat(line.len()));
    } else {
        println!("{who}{} {line}", shell.prompt().trim_end());
    }
    let mut out = Vec::new();
    shell.feed(line, &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    for l in text.lines() {
        println!("    {l}");
    }
    text
}

/// Boots the system and plays the scene.
pub fn main() -> Result<(), hurd_ipc::Error> {
    println!("hurd-rs hosted tour: every server below is a thread in this process.\n");
    hurd_servers::hosted::report_crashes_briefly();

    // ANCHOR: boot
    let sys = System::boot(DEMO_ACCOUNTS)?;
    let (ta, tb) = (sys.task(), sys.task());
    let mut alice = Shell::with_exec(sys.login(&ta, "alice", "wonderland")?, &sys);
    let mut bob = Shell::with_exec(sys.login(&tb, "bob", "builder")?, &sys);
    // ANCHOR_END: boot
    println!("alice (uid 1000) and bob (uid 1001) are logged in; neither is root.\n");

    say("alice", &mut alice, "echo 'for my eyes only' > secret");
    say("alice", &mut alice, "chmod 600 secret");
    say("bob", &mut bob, "ls /home/alice");
    say("bob", &mut bob, "cat /home/alice/secret");
    say(
        "alice",
        &mut alice,
        "settrans /tmp/greeting /hurd/hello 'Hello from a translator alice runs!'",
    );
    say("bob", &mut bob, "cat /tmp/greeting");
    println!("    (bob's lookup started alice's translator, with alice's ids)");
    say("bob", &mut bob, "settrans /tmp/greeting /hurd/null");
    say("alice", &mut alice, "settrans -g /tmp/greeting");
    std::thread::sleep(Duration::from_millis(50));
    say("bob", &mut bob, "cat /tmp/greeting");
    println!("    (the passive record started it again)");
    say("bob", &mut bob, "settrans /tmp/bobfs /hurd/tmpfs");
    say(
        "bob",
        &mut bob,
        "echo 'in a file system bob runs' > /tmp/bobfs/note",
    );
    say("alice", &mut alice, "cat /tmp/bobfs/note");
    say("alice", &mut alice, "id");
    // ANCHOR: su
    say("alice", &mut alice, "su");
    say("alice", &mut alice, "hurd");
    say("alice", &mut alice, "id");
    // ANCHOR_END: su
    println!("    (su added uid 0 to alice's running shell through the auth server)");
    say("alice", &mut alice, "ls /root");
    say("bob", &mut bob, "crash");
    say("bob", &mut bob, "echo the system goes on");

    println!(
        "\n`cargo xtask run --hosted` gives you this shell; `cargo xtask test` runs every check."
    );
    Ok(())
}
