//! `linux-suite`: an ordinary Rust `std` program exercising what programs
//! expect of a Unix system — files and directories, threads, child
//! processes and their exit codes, signals, and the error numbers of
//! failing calls. It prints one line per check, with nothing that differs
//! between runs or systems (no pids, times or absolute paths), so its
//! output on Linux is the expected output everywhere.
//!
//! Usage: `linux-suite SCRATCH_DIR` (an empty directory it may fill);
//! `linux-suite child ...` is how it runs itself as a child process.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The error number of an I/O error, as Linux reports it.
fn errno(e: &std::io::Error) -> String {
    format!("errno {} ({:?})", e.raw_os_error().unwrap_or(-1), e.kind())
}

/// Prints `label: result`, with errors as their numbers.
fn show<T: std::fmt::Debug>(label: &str, r: std::io::Result<T>) {
    match r {
        Ok(v) => println!("{label}: ok {v:?}"),
        Err(e) => println!("{label}: {}", errno(&e)),
    }
}

fn files(dir: &Path) -> std::io::Result<()> {
    println!("== files");
    let d = dir.join("tree");
    std::fs::create_dir_all(d.join("sub/deeper"))?;
    let f = d.join("hello.txt");
    std::fs::write(&f, b"hello, world\n")?;
    println!("read back: {:?}", std::fs::read_to_string(&f)?);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&f)?;
    file.seek(SeekFrom::Start(7))?;
    file.write_all(b"hurd!")?;
    file.seek(SeekFrom::Start(0))?;
    let mut s = String::new();
    file.read_to_string(&mut s)?;
    println!("after seek and write: {s:?}");
    let end = file.seek(SeekFrom::End(0))?;
    println!("size by seek: {end}");
    file.set_len(5)?;
    drop(file);
    let m = std::fs::metadata(&f)?;
    println!(
        "truncated: len {} file {} dir {}",
        m.len(),
        m.is_file(),
        m.is_dir()
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640))?;
    println!(
        "mode: {:o}",
        std::fs::metadata(&f)?.permissions().mode() & 0o7777
    );
    let mut a = std::fs::OpenOptions::new().append(true).open(&f)?;
    a.write_all(b" appended")?;
    drop(a);
    println!("appended: {:?}", std::fs::read_to_string(&f)?);
    std::fs::hard_link(&f, d.join("link.txt"))?;
    println!("links: {}", std::fs::metadata(&f)?.nlink());
    std::os::unix::fs::symlink("hello.txt", d.join("sym"))?;
    println!(
        "symlink: {:?} -> {:?}",
        std::fs::symlink_metadata(d.join("sym"))?
            .file_type()
            .is_symlink(),
        std::fs::read_link(d.join("sym"))?
    );
    println!(
        "through symlink: {:?}",
        std::fs::read_to_string(d.join("sym"))?
    );
    std::fs::rename(d.join("link.txt"), d.join("sub/moved.txt"))?;
    let mut names: Vec<String> = std::fs::read_dir(&d)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    println!("listing: {names:?}");
    let big = vec![0x5au8; 1 << 20];
    std::fs::write(d.join("big"), &big)?;
    let back = std::fs::read(d.join("big"))?;
    println!("1 MiB round trip: {}", back == big);
    std::env::set_current_dir(&d)?;
    println!(
        "relative read after chdir: {:?}",
        std::fs::read_to_string("sub/moved.txt")?
    );
    println!(
        "cwd ends with tree: {}",
        std::env::current_dir()?.ends_with("tree")
    );

    println!("== errors");
    show("open missing", std::fs::File::open("no-such-file"));
    show("mkdir existing", std::fs::create_dir("sub"));
    show("rmdir non-empty", std::fs::remove_dir("sub"));
    show("unlink a directory", std::fs::remove_file("sub"));
    show("read a directory", std::fs::read("sub"));
    show("file as a directory", std::fs::File::open("hello.txt/x"));
    std::fs::create_dir("empty")?;
    show(
        "rename onto a non-empty dir",
        std::fs::rename("empty", "sub"),
    );
    std::fs::remove_dir("empty")?;
    show("readlink of a file", std::fs::read_link("hello.txt"));
    show(
        "create exclusive existing",
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open("hello.txt"),
    );
    show("name too long", std::fs::File::open("x".repeat(300)));
    std::fs::remove_file("big")?;
    std::fs::remove_file("sym")?;
    std::fs::remove_dir_all("sub")?;
    show("gone", std::fs::metadata("sub"));
    Ok(())
}

fn threads() {
    println!("== threads");
    let handles: Vec<_> = (0..4u64)
        .map(|i| std::thread::spawn(move || (i * 1000..(i + 1) * 1000).sum::<u64>()))
        .collect();
    let sums: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap_or(0)).collect();
    println!("sums: {sums:?} total {}", sums.iter().sum::<u64>());

    let counter = Arc::new(Mutex::new(0u32));
    let barrier = Arc::new(Barrier::new(8));
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let (c, b) = (counter.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                for _ in 0..1000 {
                    *c.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                }
            })
        })
        .collect();
    for h in hs {
        let _ = h.join();
    }
    println!(
        "mutex counter: {}",
        *counter.lock().unwrap_or_else(|p| p.into_inner())
    );

    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p2 = pair.clone();
    let t = std::thread::spawn(move || {
        let (m, c) = &*p2;
        *m.lock().unwrap_or_else(|p| p.into_inner()) = true;
        c.notify_one();
    });
    let (m, c) = &*pair;
    let mut ready = m.lock().unwrap_or_else(|p| p.into_inner());
    while !*ready {
        ready = c.wait(ready).unwrap_or_else(|p| p.into_inner());
    }
    drop(ready);
    let _ = t.join();
    println!("condvar: woken");

    let (tx, rx) = mpsc::channel();
    for i in 0..3 {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(i * i);
        });
    }
    drop(tx);
    let mut got: Vec<i32> = rx.iter().collect();
    got.sort();
    println!("channel: {got:?}");

    let mut data = [1, 2, 3, 4];
    std::thread::scope(|s| {
        for x in &mut data {
            s.spawn(move || *x *= 10);
        }
    });
    println!("scoped: {data:?}");
    let named = std::thread::Builder::new()
        .name("worker".into())
        .spawn(|| std::thread::current().name().map(str::to_owned));
    println!(
        "named thread: {:?}",
        named.ok().and_then(|h| h.join().ok()).flatten()
    );
}

fn processes(me: &Path) -> std::io::Result<()> {
    println!("== processes");
    let st = Command::new(me).args(["child", "exit", "7"]).status()?;
    println!("exit code: {:?}", st.code());
    let out = Command::new(me)
        .args(["child", "echo", "from child"])
        .env("SUITE_VAR", "carried")
        .output()?;
    println!("child stdout: {:?}", String::from_utf8_lossy(&out.stdout));
    println!("child stderr: {:?}", String::from_utf8_lossy(&out.stderr));
    let mut child = Command::new(me)
        .args(["child", "upper"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(b"through a pipe\n")?;
    }
    let out = child.wait_with_output()?;
    println!(
        "piped: {:?} {:?}",
        String::from_utf8_lossy(&out.stdout),
        out.status.code()
    );
    let st = Command::new(me).args(["child", "kill-self"]).status()?;
    println!("killed by signal: {:?} code {:?}", st.signal(), st.code());
    let st = Command::new(me)
        .args(["child", "abort"])
        .stderr(Stdio::null())
        .status()?;
    println!("aborted: signal {:?}", st.signal());
    let mut c = Command::new(me).args(["child", "sleep"]).spawn()?;
    c.kill()?;
    println!("kill(): signal {:?}", c.wait()?.signal());
    show(
        "spawn missing program",
        Command::new("/no/such/program").status(),
    );
    let dir = std::env::current_dir()?;
    let out = Command::new(me)
        .args(["child", "pwd"])
        .current_dir(dir.parent().unwrap_or(&dir))
        .output()?;
    println!(
        "child cwd is parent: {}",
        String::from_utf8_lossy(&out.stdout).trim_end()
            == dir.parent().unwrap_or(&dir).to_string_lossy()
    );
    Ok(())
}

static GOT: AtomicUsize = AtomicUsize::new(0);
static ON_ALT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_usr1(sig: libc::c_int, info: *mut libc::siginfo_t, _uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let code = unsafe { (*info).si_code };
    GOT.fetch_add(
        sig as usize * 100 + usize::from(code == libc::SI_USER),
        Ordering::SeqCst,
    );
    let local = 0u8;
    let addr = &local as *const u8 as usize;
    let alt = ALT_BASE.load(Ordering::SeqCst);
    ON_ALT.store(addr > alt && addr < alt + ALT_SIZE, Ordering::SeqCst);
}

static ALT_BASE: AtomicUsize = AtomicUsize::new(0);
const ALT_SIZE: usize = 64 * 1024;

fn install(sig: libc::c_int, flags: libc::c_int) -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction with a valid handler and an empty mask.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_usr1 as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | flags;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn signals(me: &Path) -> std::io::Result<()> {
    println!("== signals");
    install(libc::SIGUSR1, 0)?;
    // SAFETY: plain system calls on this process.
    unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    println!(
        "handler ran: {} (signal {}, from kill: {})",
        GOT.load(Ordering::SeqCst) > 0,
        GOT.load(Ordering::SeqCst) / 100,
        GOT.load(Ordering::SeqCst) % 100
    );

    GOT.store(0, Ordering::SeqCst);
    // SAFETY: a valid signal set, then masking and unmasking on this thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::raise(libc::SIGUSR1);
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut pending);
        println!(
            "blocked: ran {} pending {}",
            GOT.load(Ordering::SeqCst) > 0,
            libc::sigismember(&pending, libc::SIGUSR1)
        );
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
    println!("unblocked: ran {}", GOT.load(Ordering::SeqCst) > 0);

    let alt = vec![0u8; ALT_SIZE];
    ALT_BASE.store(alt.as_ptr() as usize, Ordering::SeqCst);
    // SAFETY: `alt` outlives the handler's run below; then the stack is disabled.
    unsafe {
        let ss = libc::stack_t {
            ss_sp: alt.as_ptr() as *mut libc::c_void,
            ss_flags: 0,
            ss_size: ALT_SIZE,
        };
        let mut old: libc::stack_t = std::mem::zeroed();
        libc::sigaltstack(&ss, &mut old);
        install(libc::SIGUSR2, libc::SA_ONSTACK)?;
        libc::raise(libc::SIGUSR2);
        let off = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        libc::sigaltstack(&off, std::ptr::null_mut());
        // Rust std had its own alternate stack for overflow reports: restore it.
        libc::sigaltstack(&old, std::ptr::null_mut());
    }
    println!("on the alternate stack: {}", ON_ALT.load(Ordering::SeqCst));
    drop(alt);

    let st = Command::new(me).args(["child", "wait-term"]).status()?;
    println!("child ended by SIGTERM it sent itself: {:?}", st.signal());
    let st = Command::new(me).args(["child", "catch-term"]).status()?;
    println!("child caught SIGTERM and exited: {:?}", st.code());

    let (r, w) = std::io::pipe()?;
    drop(r);
    let mut w = w;
    show(
        "write to a pipe with no reader (SIGPIPE ignored by std)",
        w.write(b"x"),
    );
    Ok(())
}

fn time() {
    println!("== time");
    let t = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    println!(
        "slept at least 20 ms: {}",
        t.elapsed() >= Duration::from_millis(20)
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    println!("wall clock after 2020: {}", now > 1_577_836_800);
}

fn child(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("exit") => args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1),
        Some("echo") => {
            println!(
                "{} {}",
                args[1..].join(" "),
                std::env::var("SUITE_VAR").unwrap_or_default()
            );
            eprintln!("to stderr");
            0
        }
        Some("upper") => {
            let mut s = String::new();
            let _ = std::io::stdin().read_to_string(&mut s);
            print!("{}", s.to_uppercase());
            3
        }
        Some("pwd") => {
            println!(
                "{}",
                std::env::current_dir()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            0
        }
        Some("kill-self") => {
            // SAFETY: signalling this process.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            0
        }
        Some("abort") => std::process::abort(),
        Some("sleep") => {
            std::thread::sleep(Duration::from_secs(60));
            0
        }
        Some("wait-term") => {
            // SAFETY: signalling this process.
            unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            std::thread::sleep(Duration::from_secs(60));
            0
        }
        Some("catch-term") => {
            static TERM: AtomicBool = AtomicBool::new(false);
            extern "C" fn on_term(_: libc::c_int) {
                TERM.store(true, Ordering::SeqCst);
            }
            // SAFETY: installing a handler that only stores to an atomic.
            unsafe {
                libc::signal(libc::SIGTERM, on_term as *const () as libc::sighandler_t);
                libc::kill(libc::getpid(), libc::SIGTERM);
            }
            if TERM.load(Ordering::SeqCst) { 42 } else { 1 }
        }
        _ => 2,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        std::process::exit(child(&args[2..]));
    }
    let Some(scratch) = args.get(1) else {
        eprintln!("usage: linux-suite SCRATCH_DIR");
        std::process::exit(2);
    };
    let me = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("current_exe: {e}");
            std::process::exit(2);
        }
    };
    println!("args: {}", args.len());
    if let Err(e) = files(Path::new(scratch)) {
        println!("files failed: {}", errno(&e));
    }
    threads();
    if let Err(e) = processes(&me) {
        println!("processes failed: {}", errno(&e));
    }
    if let Err(e) = signals(&me) {
        println!("signals failed: {}", errno(&e));
    }
    time();
    println!("== done");
}
