//! The shell on the hosted server set: files, translators and identities,
//! driven line by line as a user at the console would.

use hurd_ipc::hosted::Task;
use hurd_servers::hosted::{DEMO_ACCOUNTS, System};
use hurd_servers::shell::{Flow, Shell};

/// Runs `line`, returning what it printed.
fn run(sh: &mut Shell<'_, Task>, line: &str) -> String {
    let mut out = Vec::new();
    assert_eq!(sh.feed(line, &mut out), Flow::Continue, "{line}");
    String::from_utf8(out).expect("utf-8")
}

fn boot() -> System {
    System::boot(DEMO_ACCOUNTS).expect("boot")
}

#[test]
fn files_and_directories() {
    let sys = boot();
    let task = sys.task();
    let mut sh = Shell::new(sys.login(&task, "alice", "wonderland").expect("login"));
    assert_eq!(run(&mut sh, "pwd"), "/home/alice\n");
    assert_eq!(sh.prompt(), "$ ");
    assert_eq!(run(&mut sh, "echo hello world > notes"), "");
    assert_eq!(run(&mut sh, "echo again >> notes"), "");
    assert_eq!(run(&mut sh, "cat notes"), "hello world\nagain\n");
    assert_eq!(run(&mut sh, "mkdir d"), "");
    assert_eq!(run(&mut sh, "cp notes d/copy"), "");
    assert_eq!(run(&mut sh, "ls"), "d/\nnotes\n");
    assert_eq!(run(&mut sh, "cd d"), "");
    assert_eq!(run(&mut sh, "pwd"), "/home/alice/d\n");
    assert_eq!(run(&mut sh, "cat copy"), "hello world\nagain\n");
    assert_eq!(run(&mut sh, "rm copy"), "");
    assert_eq!(run(&mut sh, "cd .."), "");
    assert_eq!(run(&mut sh, "rmdir d"), "");
    assert_eq!(run(&mut sh, "chmod 600 notes"), "");
    assert_eq!(run(&mut sh, "chmod 99 notes"), "chmod: invalid mode 99\n");
    assert_eq!(
        run(&mut sh, "chmod 644 /etc/passwd"),
        "chmod: /etc/passwd: operation not permitted\n"
    );
    assert_eq!(
        run(&mut sh, "ls /"),
        "bin/\netc/\nhome/\nhurd/\nroot/\nservers/\nshare/\ntmp/\n"
    );
    // /hurd lists every translator the root file system can start.
    let mut programs: Vec<String> = hurd_trans::translators::programs::all()
        .into_iter()
        .map(|(path, _)| format!("{}\n", path.trim_start_matches("/hurd/")))
        .collect();
    // ... and the exec server's.
    programs.push("exec\n".into());
    programs.sort();
    assert_eq!(run(&mut sh, "ls /hurd"), programs.concat());
    // Errors name the command, the file and the Hurd's error.
    assert_eq!(
        run(&mut sh, "cat nothing"),
        "cat: nothing: no such file or directory\n"
    );
    assert_eq!(run(&mut sh, "ls /root"), "ls: /root: permission denied\n");
    assert_eq!(
        run(&mut sh, "echo x > /etc/passwd"),
        "sh: /etc/passwd: permission denied\n"
    );
    assert_eq!(
        run(&mut sh, "frobnicate"),
        "sh: frobnicate: command not found\n"
    );
    assert_eq!(
        run(&mut sh, "echo 'unterminated"),
        "sh: unterminated quote\n"
    );
    let mut out = Vec::new();
    assert_eq!(sh.feed("exit", &mut out), Flow::Exit);
}

#[test]
fn translators_set_by_a_user() {
    let sys = boot();
    let (ta, tb) = (sys.task(), sys.task());
    let mut alice = Shell::new(sys.login(&ta, "alice", "wonderland").expect("alice"));
    let mut bob = Shell::new(sys.login(&tb, "bob", "builder").expect("bob"));
    assert_eq!(run(&mut alice, "echo private > p"), "");
    assert_eq!(run(&mut alice, "chmod 600 p"), "");
    assert_eq!(
        run(&mut bob, "cat /home/alice/p"),
        "cat: /home/alice/p: permission denied\n"
    );
    assert_eq!(run(&mut alice, "settrans /tmp/hello /hurd/hello"), "");
    assert_eq!(run(&mut bob, "cat /tmp/hello"), "Hello, world!\n");
    assert_eq!(run(&mut bob, "showtrans /tmp/hello"), "/hurd/hello\n");
    assert_eq!(
        run(&mut bob, "settrans /tmp/hello /hurd/null"),
        "settrans: /tmp/hello: operation not permitted\n"
    );
    // A translator on alice's own node, with arguments, and a whole file
    // system of bob's that runs as bob.
    assert_eq!(
        run(&mut alice, "settrans greet /hurd/hello 'hi from alice'"),
        ""
    );
    assert_eq!(run(&mut bob, "cat /home/alice/greet"), "hi from alice");
    assert_eq!(run(&mut bob, "settrans /tmp/bobfs /hurd/tmpfs"), "");
    assert_eq!(run(&mut bob, "echo mine > /tmp/bobfs/f"), "");
    assert_eq!(run(&mut alice, "cat /tmp/bobfs/f"), "mine\n");
    // An active translator, started at once and not recorded: once it goes
    // away, the node is a plain file again.
    assert_eq!(
        run(&mut alice, "settrans -a /tmp/act /hurd/hello 'active'"),
        ""
    );
    assert_eq!(run(&mut bob, "showtrans /tmp/act"), "");
    assert_eq!(run(&mut bob, "cat /tmp/act"), "active");
    assert_eq!(run(&mut alice, "settrans -g /tmp/act"), "");
    let plain = (0..500)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            run(&mut bob, "cat /tmp/act")
        })
        .find(String::is_empty);
    assert!(plain.is_some(), "the active translator did not go away");
    // A tar archive mounted with tarfs.
    assert_eq!(run(&mut bob, "cp /share/example.tar /tmp/ex.tar"), "");
    assert_eq!(run(&mut bob, "settrans /tmp/ex.tar /hurd/tarfs"), "");
    assert_eq!(run(&mut alice, "ls /tmp/ex.tar"), "README\ndocs/\n");
    assert_eq!(
        run(&mut alice, "cat /tmp/ex.tar/docs/hello.txt"),
        "Hello from inside a tar archive.\n"
    );
    // The archive is not written to.
    assert!(run(&mut alice, "echo x > /tmp/ex.tar/new").starts_with("sh: /tmp/ex.tar/new: "));
    assert_eq!(run(&mut alice, "ls /tmp/ex.tar"), "README\ndocs/\n");
    // A union of two directories, and a shadow: reads from below, changes above.
    for line in [
        "mkdir /tmp/lower /tmp/other /tmp/upper",
        "echo low > /tmp/lower/a",
        "echo other > /tmp/other/b",
        "settrans /tmp/u /hurd/union /tmp/lower /tmp/other",
        "settrans /tmp/s /hurd/shadow /tmp/lower /tmp/upper",
    ] {
        assert_eq!(run(&mut bob, line), "", "{line}");
    }
    assert_eq!(run(&mut alice, "ls /tmp/u"), "a\nb\n");
    assert_eq!(run(&mut alice, "cat /tmp/u/b"), "other\n");
    assert_eq!(run(&mut bob, "echo changed > /tmp/s/a"), "");
    assert_eq!(run(&mut bob, "cat /tmp/s/a"), "changed\n");
    assert_eq!(run(&mut bob, "cat /tmp/lower/a"), "low\n");
    assert_eq!(run(&mut bob, "cat /tmp/upper/a"), "changed\n");
    // Stopped, a passive one starts again on the next lookup.
    assert_eq!(run(&mut alice, "settrans -g /tmp/hello"), "");
    let again = (0..500)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            run(&mut bob, "cat /tmp/hello")
        })
        .find(|s| s == "Hello, world!\n");
    assert!(again.is_some(), "the translator did not come back");
}

#[test]
fn su_adds_ids_to_the_running_shell_and_login_replaces_them() {
    let sys = boot();
    let task = sys.task();
    let mut sh = Shell::new(sys.login(&task, "alice", "wonderland").expect("login"));
    assert_eq!(
        run(&mut sh, "id"),
        "euids=1000(alice) egids=100 auids=1000(alice),1000(alice) agids=100,100\n"
    );
    assert_eq!(
        run(&mut sh, "cat /root/x"),
        "cat: /root/x: permission denied\n"
    );
    // A wrong password changes nothing.
    assert_eq!(run(&mut sh, "su"), "");
    assert!(sh.wants_password());
    assert_eq!(sh.prompt(), "Password: ");
    assert_eq!(run(&mut sh, "guess"), "su: root: operation not permitted\n");
    assert_eq!(sh.prompt(), "$ ");
    // The right one adds uid 0 to this shell: it now reaches /root.
    assert_eq!(run(&mut sh, "su"), "");
    assert_eq!(run(&mut sh, "hurd"), "");
    let id = run(&mut sh, "id");
    assert!(id.starts_with("euids=1000(alice),0(root) "), "{id}");
    assert_eq!(sh.prompt(), "# ");
    assert_eq!(run(&mut sh, "echo secret > /root/x"), "");
    assert_eq!(run(&mut sh, "cat /root/x"), "secret\n");
    // login replaces the ids.
    assert_eq!(run(&mut sh, "login bob"), "");
    assert_eq!(run(&mut sh, "builder"), "");
    assert!(run(&mut sh, "id").starts_with("euids=1001(bob) "));
    assert_eq!(
        run(&mut sh, "cat /root/x"),
        "cat: /root/x: permission denied\n"
    );
    assert_eq!(run(&mut sh, "su nobody"), "su: unknown user nobody\n");
}

#[test]
fn a_wrong_login_is_refused() {
    let sys = boot();
    let task = sys.task();
    assert!(sys.login(&task, "alice", "nope").is_err());
    assert!(sys.login(&task, "mallory", "x").is_err());
}

#[test]
fn programs_run_as_tasks_and_a_crash_ends_only_its_task() {
    let sys = boot();
    let task = sys.task();
    let mut sh = Shell::with_exec(
        sys.login(&task, "alice", "wonderland").expect("login"),
        &sys,
    );
    assert_eq!(run(&mut sh, "args one 'two three'"), "one two three\n");
    assert_eq!(run(&mut sh, "/bin/true"), "");
    assert_eq!(run(&mut sh, "false"), "sh: false: exit status 1\n");
    assert_eq!(
        run(&mut sh, "crash"),
        "sh: crash: crashed; its task was terminated\n"
    );
    // The system goes on.
    assert_eq!(run(&mut sh, "echo still here"), "still here\n");
    assert_eq!(run(&mut sh, "args again"), "again\n");
    // Execution needs the x bit; a copy of a program is the program (the
    // exec server reads the file); a file it cannot run is ENOEXEC.
    assert_eq!(run(&mut sh, "cp /bin/args myargs"), "");
    assert_eq!(
        run(&mut sh, "./myargs"),
        "sh: ./myargs: permission denied\n"
    );
    assert_eq!(run(&mut sh, "chmod 755 myargs"), "");
    assert_eq!(run(&mut sh, "./myargs copied"), "copied\n");
    assert_eq!(run(&mut sh, "echo just text > notes"), "");
    assert_eq!(run(&mut sh, "chmod 755 notes"), "");
    assert_eq!(run(&mut sh, "./notes"), "sh: ./notes: exec format error\n");
    assert_eq!(run(&mut sh, "nosuch"), "sh: nosuch: command not found\n");
    // A program writes to the redirection's file through the port the shell
    // opened for it; it runs with the session's ids.
    assert_eq!(run(&mut sh, "args to a file > out"), "");
    assert_eq!(run(&mut sh, "args more >> out"), "");
    assert_eq!(run(&mut sh, "cat out"), "to a file\nmore\n");
    assert_eq!(run(&mut sh, "whoami"), "1000\n");
    assert_eq!(
        run(&mut sh, "args x > /root/nope"),
        "sh: /root/nope: permission denied\n"
    );
}

/// The pid of the process `ps` lists with command `cmd`, and its line's
/// columns.
fn find_process(sh: &mut Shell<'_, Task>, cmd: &str) -> Option<Vec<String>> {
    run(sh, "ps").lines().skip(1).find_map(|l| {
        let cols: Vec<String> = l.split_whitespace().map(String::from).collect();
        (cols.get(5..).map(|c| c.join(" ")).as_deref() == Some(cmd)).then_some(cols)
    })
}

#[test]
fn ps_lists_processes_and_kill_signals_them() {
    let sys = boot();
    let (ta, tb, tc) = (sys.task(), sys.task(), sys.task());
    std::thread::scope(|scope| {
        // Alice runs `sleep 60` in one shell (which waits for its end).
        let sleeper = scope.spawn(|| {
            let mut sh = Shell::with_exec(sys.login(&ta, "alice", "wonderland").expect("a"), &sys);
            run(&mut sh, "sleep 60")
        });
        let mut alice = Shell::with_exec(sys.login(&tb, "alice", "wonderland").expect("a2"), &sys);
        let mut bob = Shell::with_exec(sys.login(&tc, "bob", "builder").expect("bob"), &sys);
        let mut cols = None;
        // Up to 30 s: on a loaded machine the exec takes a while.
        for _ in 0..3000 {
            cols = find_process(&mut alice, "sleep 60");
            if cols.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let cols = cols.expect("ps shows sleep");
        let header = run(&mut alice, "ps");
        assert!(
            header.starts_with("  PID  PPID  PGRP   SID   UID CMD\n"),
            "{header}"
        );
        let (pid, ppid, pgrp, sid, uid) = (&cols[0], &cols[1], &cols[2], &cols[3], &cols[4]);
        // Its parent is the shell that started it: a session leader, in
        // whose session and group it runs; it is alice's.
        assert_eq!(uid, "1000");
        assert_eq!((pgrp, sid), (ppid, ppid));
        let shells = run(&mut alice, "ps");
        assert!(
            shells
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>()
                    == [
                        ppid.as_str(),
                        "0",
                        ppid.as_str(),
                        ppid.as_str(),
                        "1000",
                        "sh"
                    ]),
            "{shells}"
        );
        // Bob may not signal it; nobody can signal what does not exist.
        assert_eq!(
            run(&mut bob, &format!("kill {pid}")),
            format!("kill: {pid}: operation not permitted\n")
        );
        assert_eq!(
            run(&mut alice, "kill 99999"),
            "kill: 99999: no such process\n"
        );
        assert_eq!(
            run(&mut alice, "kill -BOGUS 1"),
            "kill: BOGUS: invalid signal\n"
        );
        assert_eq!(run(&mut alice, "kill"), "usage: kill [-SIGNAL] PID...\n");
        // A signal it survives, then one it does not.
        assert_eq!(run(&mut alice, &format!("kill -USR1 {pid}")), "");
        // The first signal is delivered by the time kill returns; give
        // the program time to print that it got it before the second.
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert_eq!(run(&mut alice, &format!("kill -9 {pid}")), "");
        assert_eq!(
            sleeper.join().expect("sleeper"),
            "sleep: signal 30\nsh: sleep: killed by signal 9\n"
        );
        // Gone from the table; the first shell's session ended with it.
        assert_eq!(find_process(&mut alice, "sleep 60"), None);
        assert_eq!(
            run(&mut alice, &format!("kill {pid}")),
            format!("kill: {pid}: no such process\n")
        );
    });
}

#[test]
fn translators_are_processes_their_owner_may_pkill() {
    let sys = boot();
    let (ta, tb) = (sys.task(), sys.task());
    let mut alice = Shell::with_exec(sys.login(&ta, "alice", "wonderland").expect("a"), &sys);
    let mut bob = Shell::with_exec(sys.login(&tb, "bob", "builder").expect("bob"), &sys);
    assert_eq!(run(&mut alice, "settrans /tmp/g /hurd/hello greetings"), "");
    assert_eq!(run(&mut alice, "cat /tmp/g"), "greetings");
    // The translator is a process of the node owner's.
    let first = find_process(&mut alice, "/hurd/hello greetings").expect("listed");
    assert_eq!(first[4], "1000");
    // Not bob's to kill; patterns that match nothing, usage, bad signals.
    assert_eq!(
        run(&mut bob, "pkill greetings"),
        format!("pkill: {}: operation not permitted\n", first[0])
    );
    assert_eq!(
        run(&mut alice, "pkill nothing-like-it"),
        "pkill: no process matches `nothing-like-it`\n"
    );
    assert_eq!(run(&mut alice, "pkill"), "usage: pkill [-SIGNAL] PATTERN\n");
    assert_eq!(
        run(&mut alice, "pkill -NOPE x"),
        "pkill: NOPE: invalid signal\n"
    );
    // A shell never signals itself, though its command matches: only
    // bob's shell is tried (and refused).
    let bobs = run(&mut bob, "ps")
        .lines()
        .find(|l| l.ends_with(" 1001 sh"))
        .and_then(|l| l.split_whitespace().next().map(String::from))
        .expect("bob's shell");
    assert_eq!(
        run(&mut alice, "pkill -USR1 sh"),
        format!("pkill: {bobs}: operation not permitted\n")
    );
    assert_eq!(run(&mut alice, "echo alive"), "alive\n");
    // Alice kills it; the next lookup starts it again, a new process.
    assert_eq!(run(&mut alice, "pkill greetings"), "");
    let mut again = None;
    for _ in 0..500 {
        if run(&mut alice, "cat /tmp/g") == "greetings" {
            again = find_process(&mut alice, "/hurd/hello greetings");
        }
        if again.as_ref().is_some_and(|c| c[0] != first[0]) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let again = again.expect("restarted");
    assert_ne!(again[0], first[0]);
    assert!(
        !run(&mut alice, "ps").contains(&format!("\n{:>5} ", first[0])),
        "the killed translator is gone"
    );
}

#[test]
fn root_may_signal_anyone_and_sigterm_ends_a_program() {
    let sys = boot();
    let (ta, tr) = (sys.task(), sys.task());
    std::thread::scope(|scope| {
        let sleeper = scope.spawn(|| {
            let mut sh = Shell::with_exec(sys.login(&ta, "bob", "builder").expect("bob"), &sys);
            run(&mut sh, "sleep 60")
        });
        let mut root = Shell::with_exec(sys.login(&tr, "root", "hurd").expect("root"), &sys);
        let mut cols = None;
        for _ in 0..500 {
            cols = find_process(&mut root, "sleep 60");
            if cols.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let cols = cols.expect("ps shows sleep");
        assert_eq!(cols[4], "1001");
        assert_eq!(run(&mut root, &format!("kill {}", cols[0])), "");
        assert_eq!(
            sleeper.join().expect("sleeper"),
            "sh: sleep: killed by signal 15\n"
        );
    });
}

#[test]
fn the_interrupt_character_signals_the_foreground_group() {
    use hurd_servers::proc::{kill_pgrp, process};
    use hurd_servers::term::LineDiscipline;

    let sys = boot();
    let (ta, tb) = (sys.task(), sys.task());
    std::thread::scope(|scope| {
        let sleeper = scope.spawn(|| {
            let mut sh = Shell::with_exec(sys.login(&ta, "alice", "wonderland").expect("a"), &sys);
            run(&mut sh, "sleep 60")
        });
        // The terminal's side: a session of alice's that knows the
        // foreground group (the sleeping program's, its shell's group).
        let term = sys.login(&tb, "alice", "wonderland").expect("term");
        let mut alice = Shell::with_exec(sys.login(&tb, "alice", "wonderland").expect("a2"), &sys);
        let mut cols = None;
        for _ in 0..500 {
            cols = find_process(&mut alice, "sleep 60");
            if cols.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let cols = cols.expect("ps shows sleep");
        let pid: i32 = cols[0].parse().expect("pid");
        let foreground = process::Client::new(&tb, term.proc)
            .getpgrp(pid)
            .expect("pgrp");
        // ^C typed at the terminal.
        let mut tty = LineDiscipline::new();
        let mut echo = Vec::new();
        let sig = tty.input(0x03, &mut echo).expect("^C is a signal");
        let sent = kill_pgrp(&tb, term.proc, foreground, sig.number() as i32).expect("kill_pgrp");
        assert_eq!(sent, 1, "the shell's session process has no message port");
        assert_eq!(
            sleeper.join().expect("sleeper"),
            "sh: sleep: killed by signal 2\n"
        );
        // Nobody left to signal in that group.
        assert!(kill_pgrp(&tb, term.proc, foreground, 2).is_err());
        assert!(kill_pgrp(&tb, term.proc, 0, 2).is_err());
    });
}

#[test]
fn without_a_proc_port_ps_and_kill_say_so() {
    let sys = boot();
    let task = sys.task();
    let mut s = sys.login(&task, "alice", "wonderland").expect("login");
    s.release(s.proc);
    s.proc = hurd_ipc::PortName::NULL;
    let mut sh = Shell::new(s);
    assert_eq!(run(&mut sh, "ps"), "ps: no proc server\n");
    assert_eq!(run(&mut sh, "kill 1"), "kill: no proc server\n");
}

#[test]
fn exported_variables_reach_programs_and_name_exec_servers() {
    let sys = boot();
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland").expect("login");
    let mut sh = Shell::with_exec(s, &sys);
    assert_eq!(run(&mut sh, "export"), "");
    assert_eq!(run(&mut sh, "export GREETING=hi LANG=C"), "");
    assert_eq!(run(&mut sh, "export GREETING=hello"), "");
    assert_eq!(run(&mut sh, "export"), "LANG=C\nGREETING=hello\n");
    assert_eq!(run(&mut sh, "export =x"), "usage: export NAME=VALUE...\n");
    // Alice's own exec server: programs now run through it (a name that
    // is not an exec server is skipped).
    assert_eq!(run(&mut sh, "settrans /tmp/myexec /hurd/exec"), "");
    assert_eq!(
        run(&mut sh, "export EXEC_SERVERS=/tmp/none:/tmp/myexec"),
        ""
    );
    assert_eq!(
        run(&mut sh, "args through my own exec server"),
        "through my own exec server\n"
    );
}

#[test]
fn df_sync_and_fsysopts_ask_the_file_system() {
    let sys = boot();
    let task = sys.task();
    let mut sh = Shell::new(sys.login(&task, "alice", "wonderland").expect("login"));
    let header = "Type      1K-blocks      Used Available Use% File\n";
    let df = run(&mut sh, "df");
    assert!(df.starts_with(header), "{df}");
    let row: Vec<&str> = df
        .lines()
        .nth(1)
        .expect("a row")
        .split_whitespace()
        .collect();
    let [kind, total, used, avail, percent, file] = row[..] else {
        panic!("{df}");
    };
    assert_eq!((kind, file), ("memfs", "/"));
    let count = |n: &str| n.parse::<u64>().expect("a count");
    // The root tmpfs holds the base tree: some of it is used.
    assert!(count(used) > 0, "{df}");
    assert_eq!(count(total), count(used) + count(avail), "{df}");
    assert!(percent.ends_with('%'), "{df}");
    // A file of every directory named; an error for a missing one.
    let two = run(&mut sh, "df /tmp /home/alice");
    assert_eq!(two.lines().count(), 3, "{two}");
    assert_eq!(
        run(&mut sh, "df /nothing"),
        format!("df: /nothing: no such file or directory\n{header}")
    );
    assert_eq!(run(&mut sh, "sync"), "");
    assert_eq!(run(&mut sh, "sync /tmp /home/alice"), "");
    assert_eq!(
        run(&mut sh, "sync /nothing"),
        "sync: /nothing: no such file or directory\n"
    );
    // Anyone may read the options; the server's name comes first.
    let options = run(&mut sh, "fsysopts /");
    assert!(options.ends_with('\n') && options.len() > 1, "{options:?}");
    // Only root may set them (file_getcontrol).
    assert_eq!(
        run(&mut sh, "fsysopts / --sync"),
        "fsysopts: /: operation not permitted\n"
    );
    assert_eq!(
        run(&mut sh, "fsysopts"),
        "usage: fsysopts FILE [OPTION...]\n"
    );
    assert_eq!(run(&mut sh, "su"), "");
    assert_eq!(run(&mut sh, "hurd"), "");
    // The tmpfs root knows no options: refused, and nothing changed.
    assert_eq!(
        run(&mut sh, "fsysopts / --sync"),
        "fsysopts: /: invalid argument\n"
    );
    assert_eq!(run(&mut sh, "fsysopts /"), options);
}
