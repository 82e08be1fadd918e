//! A file system translator: a tree (netfs-style) whose directory `n/`
//! holds files named 1, 2, ... n with their squares, made up on lookup.
//! Attached as a passive translator on a directory; the client walks into
//! it, reads, and climbs back out with "..".
//!
//! Run it with `cargo run -p hurd-trans --example squares`.

use std::sync::Arc;

use hurd_auth::{AuthClient, IdSet, Limits};
use hurd_ipc::Errno;
use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, PortItem, PortName};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::lookup::Lookup;
use hurd_trans::mode::{S_IFDIR, S_IFREG};
use hurd_trans::netfs::{DirEntry, NodeId, Options, Tree, decode_entries};
use hurd_trans::protocol::{fs, io};
use hurd_trans::stat::Stat;
use hurd_trans::transbox::{ThreadStarter, argv_to_argz};
use hurd_trans::translators::programs;
use hurd_trans::translators::tmpfs::Tmpfs;

// ANCHOR: tree
/// Node 0 is the root directory; node k > 0 is the file `k`.
struct Squares {
    n: u64,
    uid: u32,
    gid: u32,
}

impl Squares {
    fn contents(k: u64) -> Vec<u8> {
        format!("{}\n", k * k).into_bytes()
    }
}

impl Tree for Squares {
    fn root(&self) -> NodeId {
        0
    }

    fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        let (mode, size) = match node {
            0 => (S_IFDIR | 0o555, 0),
            k if k <= self.n => (S_IFREG | 0o444, Self::contents(k).len() as u64),
            _ => return Err(Errno::NoEnt),
        };
        Ok(Stat {
            ino: node + 1,
            mode,
            size,
            nlink: 1,
            uid: self.uid,
            gid: self.gid,
            author: self.uid,
            ..Stat::default()
        })
    }

    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        if dir != 0 {
            return Err(Errno::NotDir);
        }
        if name == b".." {
            return Ok(0);
        }
        let name = core::str::from_utf8(name).map_err(|_| Errno::NoEnt)?;
        match name.parse::<u64>() {
            Ok(k) if (1..=self.n).contains(&k) && name == k.to_string() => Ok(k),
            _ => Err(Errno::NoEnt),
        }
    }

    fn read(&mut self, node: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let data = Self::contents(node);
        let start = (offset as usize).min(data.len());
        Ok(data[start..(start + len).min(data.len())].to_vec())
    }

    fn readdir(&mut self, dir: NodeId) -> Result<Vec<DirEntry>, Errno> {
        if dir != 0 {
            return Err(Errno::NotDir);
        }
        let dot = |name: &str| DirEntry {
            ino: 1,
            kind: S_IFDIR,
            name: name.into(),
        };
        let files = (1..=self.n).map(|k| DirEntry {
            ino: k + 1,
            kind: S_IFREG,
            name: k.to_string().into(),
        });
        Ok([dot("."), dot("..")].into_iter().chain(files).collect())
    }
}
// ANCHOR_END: tree

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = Runtime::new();
    let (boot, fs_task, user) = (rt.task(), rt.task(), rt.task());
    let handles = hurd_auth::hosted::spawn(&rt, Limits::default(), &[&boot, &fs_task])?;

    // ANCHOR: program
    // The program: its argument is n; it serves a `Squares` tree.
    let starter = ThreadStarter::new(&rt, &fs_task);
    starter.register(
        "/hurd/squares",
        Arc::new(|task, argv, bootstrap, auth| {
            let (uid, gid) = programs::own_ids(&task, auth);
            let n = argv.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
            programs::run(task, Squares { n, uid, gid }, auth, bootstrap, "squares");
        }),
    );
    // ANCHOR_END: program
    let (_, control) = hurd_trans::netfs::spawn(
        fs_task,
        Tmpfs::new(0, 0, 0o777, 1 << 20),
        handles[1],
        Some(Box::new(starter)),
        Options::default(),
        &boot,
    )?;
    let ids = IdSet::user(1000, &[100]);
    let h = AuthClient::new(&boot, handles[0]).makeauth(&[], &ids)?;
    let auth = boot.give_right(h, Disposition::MoveSend, &user)?;
    let root = hurd_trans::netfs::getroot(&boot, control, &ids, OpenFlags::READ)?;
    let root = boot.give_right(root, Disposition::MoveSend, &user)?;
    let lookup = Lookup {
        ipc: &user,
        crdir: root,
        cwdir: root,
        auth,
        fds: &[],
        ctty: PortName::NULL,
    };

    // ANCHOR: client
    // `mkdir sq; settrans sq /hurd/squares 4`
    fs::Client::new(&user, root).dir_mkdir("sq".into(), 0o755)?;
    let node = lookup.open("sq", OpenFlags::NOTRANS, 0)?;
    let none = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    let argz = argv_to_argz(&["/hurd/squares", "4"]);
    fs::Client::new(&user, node).file_set_translator(FS_TRANS_SET as i32, 0, 0, argz, none)?;

    // `ls sq`
    let dir = lookup.open("sq", OpenFlags::READ, 0)?;
    let (data, _) = fs::Client::new(&user, dir).dir_readdir(0, -1, 0)?;
    let names: Vec<String> = decode_entries(&data)?
        .into_iter()
        .map(|e| e.name.to_string())
        .collect();
    println!("ls sq: {}", names.join(" "));

    // `cat sq/3`, and a name the tree does not have.
    let three = lookup.open("sq/3", OpenFlags::READ, 0)?;
    print!(
        "cat sq/3: {}",
        String::from_utf8_lossy(&io::Client::new(&user, three).read(0, 10)?)
    );
    println!(
        "cat sq/9: {:?}",
        lookup.open("sq/9", OpenFlags::READ, 0).map_err(Errno::of)
    );

    // ".." out of the translator's root: a REAUTH retry back to the parent.
    let up = lookup.open("sq/../sq/2", OpenFlags::READ, 0)?;
    print!(
        "cat sq/../sq/2: {}",
        String::from_utf8_lossy(&io::Client::new(&user, up).read(0, 10)?)
    );
    // ANCHOR_END: client
    Ok(())
}
