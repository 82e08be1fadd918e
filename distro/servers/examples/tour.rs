//! A hosted tour of hurd-rs: an auth server and a tmpfs root file system run
//! as threads in this process, and two users who do not trust each other try
//! the Hurd's central promise — any user may attach a translator to a node
//! they own, everyone who opens the node talks to it, and it gains nothing by
//! being there.
//!
//! Run it with `cargo xtask run` (or `cargo run -p hurd-servers --example tour`).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use hurd_auth::{AuthClient, AuthServer, Errno, IdSet, Limits, StdClock};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};
use hurd_trans::flags::{FS_TRANS_SET, FSYS_GOAWAY_FORCE, OpenFlags};
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{self, Options};
use hurd_trans::protocol::{fs, fsys, io};
use hurd_trans::transbox::argv_to_argz;
use hurd_trans::translators::programs;
use hurd_trans::translators::tmpfs::Tmpfs;

/// A user: a task with an auth handle and a root directory port.
struct User {
    name: &'static str,
    task: Task,
    auth: PortName,
    root: PortName,
}

impl User {
    fn lookup(&self) -> Lookup<'_, Task> {
        Lookup {
            ipc: &self.task,
            crdir: self.root,
            cwdir: self.root,
            auth: self.auth,
            fds: &[],
            ctty: PortName::NULL,
        }
    }

    fn open(&self, path: &str, flags: OpenFlags) -> Result<PortName, Error> {
        self.lookup().open(path, flags, 0o644)
    }

    fn say(&self, what: &str) {
        println!("{}$ {what}", self.name);
    }

    /// `cat path`.
    fn cat(&self, path: &str) -> Result<String, Error> {
        let f = self.open(path, OpenFlags::READ)?;
        let data = io::Client::new(&self.task, f).read(0, 4096);
        let _ = self.task.port_deallocate(f);
        Ok(String::from_utf8_lossy(&data?).into_owned())
    }

    /// `echo text > path`, with the file's mode.
    fn write(&self, path: &str, text: &str, mode: u32) -> Result<(), Error> {
        let f = self.open(path, OpenFlags::WRITE | OpenFlags::CREAT)?;
        let c = io::Client::new(&self.task, f);
        c.write(text.as_bytes().to_vec(), 0)?;
        fs::Client::new(&self.task, f).file_chmod(mode)?;
        let _ = self.task.port_deallocate(f);
        Ok(())
    }

    /// `settrans path argv...`: a passive translator on the node (an empty
    /// file is made if there is none).
    fn settrans(&self, path: &str, argv: &[&str]) -> Result<(), Error> {
        let node = match self.open(path, OpenFlags::NOTRANS) {
            Err(e) if e == Error::from(Errno::NoEnt) => {
                let f = self.open(path, OpenFlags::WRITE | OpenFlags::CREAT)?;
                let _ = self.task.port_deallocate(f);
                self.open(path, OpenFlags::NOTRANS)?
            }
            other => other?,
        };
        let r = fs::Client::new(&self.task, node).file_set_translator(
            FS_TRANS_SET as i32,
            0,
            0,
            argv_to_argz(argv),
            PortItem {
                disposition: Disposition::CopySend,
                name: PortName::NULL,
            },
        );
        let _ = self.task.port_deallocate(node);
        r
    }
}

/// What a command printed: its output, or its error as the Hurd names it.
fn show<T: std::fmt::Display>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => format!("{v}"),
        Err(Error::Code(c)) => match Errno::try_from(c) {
            Ok(e) => format!("{e}\n"),
            Err(_) => format!("error {c:#x}\n"),
        },
        Err(e) => format!("{e}\n"),
    }
}

fn main() -> Result<(), Error> {
    println!("hurd-rs hosted tour: every server below is a thread in this process.\n");
    let rt = Runtime::new();
    let boot = rt.task();
    let fs_task = rt.task();

    // The auth server, holding root's identity for the boot task and the
    // file system.
    let (tx, rx) = mpsc::channel();
    let to = [boot.clone(), fs_task.clone()];
    rt.spawn("auth", move |task| {
        let server = AuthServer::new(task.clone(), StdClock::new(), Limits::default())?;
        let mut handles = Vec::new();
        for who in &to {
            let h = server.create_handle(IdSet::root())?;
            handles.push(task.give_right(h, Disposition::MoveSend, who)?);
        }
        let _ = tx.send(handles);
        server.run();
        Ok::<(), Error>(())
    })
    .map_err(|_| Error::from(Errno::Again))?;
    let handles = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| Error::from(Errno::TimedOut))?;
    println!("[auth]  up: it alone says who is who");

    // The root file system: tmpfs, with the translators under /hurd known to
    // its starter.
    let (_, control) = netfs::spawn(
        fs_task.clone(),
        Tmpfs::new(0, 0, 0o1777, 16 << 20),
        handles[1],
        Some(programs::starter(&rt, &fs_task)),
        Options::default(),
        &boot,
    )?;
    println!(
        "[fs]    tmpfs serves / (root's, mode 1777); /hurd/hello, null, zero, tmpfs, tarfs can be started\n"
    );

    let user = |name: &'static str, ids: IdSet| -> Result<User, Error> {
        let task = rt.task();
        let h = AuthClient::new(&boot, handles[0]).makeauth(&[], &ids)?;
        let auth = boot.give_right(h, Disposition::MoveSend, &task)?;
        let root = netfs::getroot(&boot, control, &ids, OpenFlags::READ)?;
        let root = boot.give_right(root, Disposition::MoveSend, &task)?;
        Ok(User {
            name,
            task,
            auth,
            root,
        })
    };
    let alice = user("alice", IdSet::user(1000, &[100]))?;
    let bob = user("bob", IdSet::user(1001, &[101]))?;
    println!("alice is uid 1000, bob is uid 1001; neither is root.\n");

    alice.say("echo 'for my eyes only' > /secret; chmod 600 /secret");
    alice.write("secret", "for my eyes only\n", 0o600)?;
    bob.say("cat /secret");
    print!("  {}", show(bob.cat("secret")));

    alice.say("settrans /greeting /hurd/hello 'Hello from a translator alice runs!'");
    alice.settrans(
        "greeting",
        &["/hurd/hello", "Hello from a translator alice runs!\n"],
    )?;
    bob.say("cat /greeting");
    let start = Instant::now();
    print!("  {}", show(bob.cat("greeting")));
    println!(
        "  (the first lookup started alice's translator, as alice, in {:?})",
        start.elapsed()
    );

    bob.say("settrans /greeting /hurd/null   # not his node");
    print!(
        "  {}",
        show(bob.settrans("greeting", &["/hurd/null"]).map(|()| "done\n"))
    );

    alice.say("settrans -fg /greeting   # stop the running translator");
    let node = alice.open("greeting", OpenFlags::NOTRANS)?;
    let cntl = fs::Client::new(&alice.task, node).file_get_translator_cntl()?;
    fsys::Client::new(&alice.task, cntl.name).goaway(FSYS_GOAWAY_FORCE as i32)?;
    bob.say("cat /greeting   # the passive record starts it again");
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        match bob.cat("greeting") {
            Ok(t) => break t,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(e),
        }
    };
    print!("  {text}");

    bob.say("settrans /tmp-of-bob /hurd/tmpfs; echo hi > /tmp-of-bob/x; cat /tmp-of-bob/x");
    bob.settrans("tmp-of-bob", &["/hurd/tmpfs"])?;
    bob.write("tmp-of-bob/x", "hi from bob's own file system\n", 0o644)?;
    print!("  {}", show(bob.cat("tmp-of-bob/x")));
    alice.say("cat /tmp-of-bob/x   # bob's tmpfs runs as bob and decides");
    print!("  {}", show(alice.cat("tmp-of-bob/x")));

    println!("\nEvery server ran unprivileged except auth and the root file system;");
    println!("run `cargo xtask test` for everything, `cargo xtask bench` for the numbers.");
    Ok(())
}
