//! Your first translator: a one-file translator (trivfs-style) attached to a
//! node as a passive translator, started on the first lookup, and read by a
//! client through `file_name_lookup`.
//!
//! Run it with `cargo run -p hurd-trans --example hello`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hurd_auth::{AuthClient, IdSet, Limits};
use hurd_ipc::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, PortItem, PortName};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::lookup::Lookup;
use hurd_trans::mode::S_IFREG;
use hurd_trans::netfs::{self, Options};
use hurd_trans::protocol::{fs, io};
use hurd_trans::stat::Stat;
use hurd_trans::transbox::{ThreadStarter, argv_to_argz};
use hurd_trans::translators::programs;
use hurd_trans::translators::tmpfs::Tmpfs;
use hurd_trans::trivfs::{Single, TrivFs};

// ANCHOR: trivfs
/// A file that says how many times it has been read.
struct Counter {
    reads: Arc<AtomicU64>,
}

impl TrivFs for Counter {
    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o444,
            size: 64,
            ..Stat::default()
        }
    }

    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        if offset > 0 {
            return Ok(Vec::new()); // one line, then end of file
        }
        let n = self.reads.fetch_add(1, Ordering::Relaxed) + 1;
        let mut text = format!("read {n} time(s)\n").into_bytes();
        text.truncate(len);
        Ok(text)
    }
}
// ANCHOR_END: trivfs

// ANCHOR: program
/// The translator program: serve the counter on the node it is started on.
fn counter_program(reads: Arc<AtomicU64>) -> hurd_trans::transbox::Program {
    Arc::new(
        move |task: Task, _argv, bootstrap: PortName, auth: PortName| {
            // Run as whoever the auth handle says: the node's owner.
            let (uid, gid) = programs::own_ids(&task, auth);
            let file = Single::new(
                Counter {
                    reads: reads.clone(),
                },
                uid,
                gid,
            );
            programs::run(task, file, auth, bootstrap, "counter");
        },
    )
}
// ANCHOR_END: program

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: boot
    let rt = Runtime::new();
    let (boot, fs_task, alice) = (rt.task(), rt.task(), rt.task());
    // An auth server; root's handles for the boot task and the file system.
    let handles = hurd_auth::hosted::spawn(&rt, Limits::default(), &[&boot, &fs_task])?;
    // The root file system: a tmpfs, with a starter that knows the programs.
    let starter = ThreadStarter::new(&rt, &fs_task);
    let reads = Arc::new(AtomicU64::new(0));
    starter.register("/hurd/counter", counter_program(reads.clone()));
    let tree = Tmpfs::new(0, 0, 0o777, 1 << 20);
    let (_, control) = netfs::spawn(
        fs_task,
        tree,
        handles[1],
        Some(Box::new(starter)),
        Options::default(),
        &boot,
    )?;
    // ANCHOR_END: boot

    // ANCHOR: user
    // Alice logs in: an auth handle and a root directory port for her ids.
    let ids = IdSet::user(1000, &[100]);
    let h = AuthClient::new(&boot, handles[0]).makeauth(&[], &ids)?;
    let auth = boot.give_right(h, Disposition::MoveSend, &alice)?;
    let root = netfs::getroot(&boot, control, &ids, OpenFlags::READ)?;
    let root = boot.give_right(root, Disposition::MoveSend, &alice)?;
    let lookup = Lookup {
        ipc: &alice,
        crdir: root,
        cwdir: root,
        auth,
        fds: &[],
        ctty: PortName::NULL,
    };
    // ANCHOR_END: user

    // ANCHOR: settrans
    // `settrans counter /hurd/counter`: make a node, open it with O_NOTRANS
    // (the node itself), and store the command line on it.
    lookup.open("counter", OpenFlags::WRITE | OpenFlags::CREAT, 0o644)?;
    let node = lookup.open("counter", OpenFlags::NOTRANS, 0)?;
    let no_active = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    fs::Client::new(&alice, node).file_set_translator(
        FS_TRANS_SET as i32,
        0,
        0,
        argv_to_argz(&["/hurd/counter"]),
        no_active,
    )?;
    // ANCHOR_END: settrans

    // ANCHOR: read
    // `cat counter`: the lookup starts the translator, as alice (the node's
    // owner), and returns a port to its root: the counter file.
    for _ in 0..3 {
        let file = lookup.open("counter", OpenFlags::READ, 0)?;
        let text = io::Client::new(&alice, file).read(0, 100)?;
        print!("cat counter: {}", String::from_utf8_lossy(&text));
    }
    let st = io::Client::new(&alice, node).stat()?;
    println!(
        "the node itself: mode {:o}, passive translator {:?}",
        st.mode,
        String::from_utf8_lossy(&fs::Client::new(&alice, node).file_get_translator()?)
    );
    // ANCHOR_END: read
    assert_eq!(reads.load(Ordering::Relaxed), 3);
    Ok(())
}
