//! What every system's root file system holds and how its users log in,
//! the same hosted and on the kernel: the accounts, the password server's
//! database for them, the base tree (`/bin`, `/etc` with `passwd`, `group`
//! and `motd`, `/tmp` with the sticky bit, `/root`, a home per user), and
//! the login check through the password server.

use alloc::format;
use alloc::string::{String, ToString};

use hurd_auth::password::{Cost, Database, hash_password};
use hurd_auth::protocol::password;
use hurd_auth::{AuthClient, IdSet};
use hurd_ipc::Errno;
use hurd_ipc::{Error, PortName, UserIpc};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::protocol::fs;

use crate::shell::Session;

/// An account of the system.
#[derive(Clone, Debug)]
pub struct Account {
    /// Login name.
    pub name: &'static str,
    /// Password (hashed at boot; only the password server sees the hash).
    pub password: &'static str,
    /// User id.
    pub uid: u32,
    /// Primary group.
    pub gid: u32,
}

/// The demonstration accounts: root, alice and bob.
pub const DEMO_ACCOUNTS: &[Account] = &[
    Account {
        name: "root",
        password: "hurd",
        uid: 0,
        gid: 0,
    },
    Account {
        name: "alice",
        password: "wonderland",
        uid: 1000,
        gid: 100,
    },
    Account {
        name: "bob",
        password: "builder",
        uid: 1001,
        gid: 100,
    },
];

/// The group file every system has.
pub const GROUP: &str = "root:x:0:\nusers:x:100:\n";

/// The message of the day.
pub const MOTD: &str =
    "Welcome to hurd-rs. Try: ls /, id, settrans /tmp/hi /hurd/hello, cat /tmp/hi, su.\n";

/// An account's home directory.
pub fn home(a: &Account) -> String {
    if a.uid == 0 {
        "/root".to_string()
    } else {
        format!("/home/{}", a.name)
    }
}

/// `/etc/passwd` for `accounts`.
pub fn passwd_file(accounts: &[Account]) -> String {
    accounts
        .iter()
        .map(|a| format!("{}:x:{}:{}::{}:/bin/sh\n", a.name, a.uid, a.gid, home(a)))
        .collect()
}

/// The password server's database for `accounts` (hashed at the small test
/// cost, so a boot is quick; a real system uses [`Cost::RECOMMENDED`]).
pub fn database(accounts: &[Account]) -> Result<Database, Error> {
    let mut passwd = String::new();
    let mut shadow = String::new();
    for a in accounts {
        let salt = format!("hurd-rs-{}-salt", a.name);
        let hash = hash_password(a.password.as_bytes(), salt.as_bytes(), Cost::TEST)
            .map_err(|_| Error::from(Errno::Inval))?;
        passwd.push_str(&format!("{}:x:{}:{}::/:/bin/sh\n", a.name, a.uid, a.gid));
        shadow.push_str(&format!("{}:{hash}:19000::::::\n", a.name));
    }
    Database::parse(&passwd, &shadow, GROUP).map_err(|_| Errno::Inval.into())
}

/// `mkdir` with `mode`, as `s`'s user.
pub fn mkdir<I: UserIpc + ?Sized>(s: &Session<'_, I>, path: &str, mode: u32) -> Result<(), Error> {
    let (dir, name) = s.parent(path)?;
    let r = fs::Client::new(s.ipc, dir).dir_mkdir(name.into(), mode);
    s.release(dir);
    r
}

/// `chmod`, as `s`'s user.
pub fn chmod<I: UserIpc + ?Sized>(s: &Session<'_, I>, path: &str, mode: u32) -> Result<(), Error> {
    let node = s.open(path, OpenFlags::NOTRANS)?;
    let r = fs::Client::new(s.ipc, node).file_chmod(mode);
    s.release(node);
    r
}

/// `chown`, as `s`'s user.
pub fn chown<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    path: &str,
    uid: u32,
    gid: u32,
) -> Result<(), Error> {
    let node = s.open(path, OpenFlags::NOTRANS)?;
    let r = fs::Client::new(s.ipc, node).file_chown(uid, gid);
    s.release(node);
    r
}

/// Writes the base tree through `root` (a session holding uid 0).
pub fn fill_base<I: UserIpc + ?Sized>(
    root: &Session<'_, I>,
    accounts: &[Account],
) -> Result<(), Error> {
    for d in [
        "bin", "etc", "tmp", "home", "hurd", "root", "servers", "share",
    ] {
        mkdir(root, d, 0o755)?;
    }
    chmod(root, "tmp", 0o1777)?;
    chmod(root, "root", 0o700)?;
    root.write_file("/etc/passwd", passwd_file(accounts).as_bytes(), false)?;
    root.write_file("/etc/group", GROUP.as_bytes(), false)?;
    root.write_file("/etc/motd", MOTD.as_bytes(), false)?;
    for a in accounts.iter().filter(|a| a.uid != 0) {
        let home = format!("home/{}", a.name);
        mkdir(root, &home, 0o755)?;
        chown(root, &home, a.uid, a.gid)?;
    }
    Ok(())
}

/// The exec server's nodes, as on the Hurd: `/hurd/exec` (the program)
/// and `/servers/exec`, holding a passive translator record for it, so the
/// first lookup starts the system's exec server (written through `root`,
/// a session holding uid 0).
pub fn install_exec_node<I: UserIpc + ?Sized>(root: &Session<'_, I>) -> Result<(), Error> {
    root.write_file("/hurd/exec", b"", false)?;
    chmod(root, "hurd/exec", 0o755)?;
    root.write_file("/servers/exec", b"", false)?;
    let node = root.open("/servers/exec", OpenFlags::NOTRANS)?;
    let r = fs::Client::new(root.ipc, node).file_set_translator(
        FS_TRANS_SET as i32,
        0,
        0,
        crate::exec::argz(&["/hurd/exec"]),
        hurd_ipc::PortItem {
            disposition: hurd_ipc::Disposition::CopySend,
            name: PortName::NULL,
        },
    );
    root.release(node);
    r
}

/// Checks `name`'s `password` with the password server at `password_port`
/// (`/etc/passwd` text `passwd` gives the uid) and returns the user's ids.
/// An unknown name or a wrong password is `EPERM`.
pub fn check_login<I: UserIpc + ?Sized>(
    ipc: &I,
    password_port: PortName,
    passwd: &str,
    name: &str,
    password: &str,
) -> Result<IdSet, Error> {
    let uid = crate::shell::passwd_uid(passwd, name).ok_or(Error::from(Errno::Perm))?;
    let handle = password::Client::new(ipc, password_port)
        .check_user(uid, password.into())?
        .name;
    let ids = AuthClient::new(ipc, handle).getids();
    let _ = ipc.port_deallocate(handle);
    ids
}

/// A small tar archive to mount with `/hurd/tarfs` (`/share/example.tar`).
pub fn example_archive() -> alloc::vec::Vec<u8> {
    use hurd_trans::tar::{Header, Writer};
    let mut w = Writer::new();
    let files: [(Header, &[u8]); 3] = [
        (Header::dir("docs", 0o755), b""),
        (
            Header::file("docs/hello.txt", 0o644),
            b"Hello from inside a tar archive.\n",
        ),
        (
            Header::file("README", 0o644),
            b"Mount me: settrans FILE /hurd/tarfs\n",
        ),
    ];
    for (h, data) in &files {
        // Fixed, well-formed entries: appending cannot fail.
        let _ = w.append(h, data);
    }
    w.finish()
}

pub use crate::untar::apply_archive;
