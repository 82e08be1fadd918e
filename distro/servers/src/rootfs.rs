//! What every system's root file system holds and how its users log in,
//! the same hosted and on the kernel: the base tree (`/bin`, `/etc`, `/tmp`
//! with the sticky bit, `/root`, `/home`, `/hurd`, `/servers`, `/share`),
//! the accounts database as the password server reads it from `/etc/passwd`,
//! `/etc/shadow` and `/etc/group` ([`read_accounts`]), an account's home and
//! shell ([`passwd_entry`]), and the login check through the password
//! server.
//!
//! No account is compiled in: an image's accounts are its manifest's
//! `[[user]]`s and `[[group]]`s, written into its root file system; the
//! hosted system's are [`crate::hosted::DEMO_ACCOUNTS`].

use alloc::string::String;
use alloc::vec::Vec;

use hurd_auth::password::{Cost, Database, ParseError};
use hurd_auth::protocol::password;
use hurd_auth::{AuthClient, IdSet};
use hurd_ipc::Errno;
use hurd_ipc::{Error, PortName, UserIpc};
use hurd_trans::flags::{FS_TRANS_SET, OpenFlags};
use hurd_trans::protocol::fs;

use crate::shell::Session;

/// `mkdir` with `mode`, as `s`'s user.
///
/// # Errors
///
/// The file system's error: `EEXIST`, `ENOENT`, `EACCES`...
pub fn mkdir<I: UserIpc + ?Sized>(s: &Session<'_, I>, path: &str, mode: u32) -> Result<(), Error> {
    let (dir, name) = s.parent(path)?;
    let r = fs::Client::new(s.ipc, dir).dir_mkdir(name.into(), mode);
    s.release(dir);
    r
}

/// `chmod`, as `s`'s user.
///
/// # Errors
///
/// The file system's error: `ENOENT`, `EPERM`...
pub fn chmod<I: UserIpc + ?Sized>(s: &Session<'_, I>, path: &str, mode: u32) -> Result<(), Error> {
    let node = s.open(path, OpenFlags::NOTRANS)?;
    let r = fs::Client::new(s.ipc, node).file_chmod(mode);
    s.release(node);
    r
}

/// `chown`, as `s`'s user.
///
/// # Errors
///
/// The file system's error: `ENOENT`, `EPERM`...
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

/// The base tree: the directories every system has and their modes —
/// `/tmp` with the sticky bit, `/root` root's alone — written at boot by
/// [`fill_base`] into a root file system in memory, and by the image
/// builder onto a disk that holds the root.
pub const BASE_DIRS: [(&str, u32); 8] = [
    ("/bin", 0o755),
    ("/etc", 0o755),
    ("/tmp", 0o1777),
    ("/home", 0o755),
    ("/hurd", 0o755),
    ("/root", 0o700),
    ("/servers", 0o755),
    ("/share", 0o755),
];

/// Where every system has a small tar archive to try tarfs and `tar` on
/// ([`example_archive`]).
pub const EXAMPLE_ARCHIVE: &str = "/share/example.tar";

/// The exec server's node and its passive translator record: every
/// program the system runs is started through it.
pub const EXEC_NODE: (&str, &[&str]) = ("/servers/exec", &["/hurd/exec"]);

/// Writes the base tree ([`BASE_DIRS`]) through `root` (a session holding
/// uid 0). Accounts, homes and `/etc`'s files come from elsewhere (an
/// image's root file system, or the hosted system's accounts).
///
/// # Errors
///
/// The file system's error for a directory it cannot make or change.
pub fn fill_base<I: UserIpc + ?Sized>(root: &Session<'_, I>) -> Result<(), Error> {
    for (dir, mode) in BASE_DIRS {
        let dir = dir.trim_start_matches('/');
        mkdir(root, dir, 0o755)?;
        if mode != 0o755 {
            chmod(root, dir, mode)?;
        }
    }
    Ok(())
}

/// Where the accounts are read from.
pub const PASSWD: &str = "/etc/passwd";
/// Where the groups are read from.
pub const GROUP: &str = "/etc/group";
/// Where the password hashes are read from (root's alone).
pub const SHADOW: &str = "/etc/shadow";

/// Why the accounts could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountsError {
    /// A file could not be read (other than its absence): its path, the error.
    Read(&'static str, Error),
    /// A file is not UTF-8: its path.
    NotText(&'static str),
    /// A line is malformed.
    Parse(ParseError),
}

impl core::fmt::Display for AccountsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AccountsError::Read(path, e) => write!(f, "{path}: {e}"),
            AccountsError::NotText(path) => write!(f, "{path}: not UTF-8 text"),
            AccountsError::Parse(e) => write!(f, "/etc/{e}"),
        }
    }
}

/// The accounts database of the system `root` (a session holding uid 0, the
/// only one that may read `/etc/shadow`) sees: [`PASSWD`], [`SHADOW`] and
/// [`GROUP`], parsed by [`Database::parse`]. A missing file reads as empty
/// (no shadow file: nobody logs in with a password). Each file is read to at
/// most [`crate::shell::MAX_FILE`] bytes.
///
/// # Errors
///
/// [`AccountsError::Read`] when a file exists but cannot be read (too big,
/// not root's to read...), [`AccountsError::NotText`] when one is not
/// UTF-8, [`AccountsError::Parse`] naming the file and line of the first
/// malformed line.
pub fn read_accounts<I: UserIpc + ?Sized>(
    root: &Session<'_, I>,
) -> Result<Database, AccountsError> {
    let read = |path: &'static str| -> Result<String, AccountsError> {
        match root.read_file(path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| AccountsError::NotText(path)),
            Err(e) if e == Error::from(Errno::NoEnt) => Ok(String::new()),
            Err(e) => Err(AccountsError::Read(path, e)),
        }
    };
    let (passwd, shadow, group) = (read(PASSWD)?, read(SHADOW)?, read(GROUP)?);
    Database::parse(&passwd, &shadow, &group).map_err(AccountsError::Parse)
}

/// The cost of the first password hash in `db` (the one an unknown user's
/// attempt should cost too), or [`Cost::TEST`] when it has none or its
/// parameters cannot be read.
pub fn hash_cost(db: &Database) -> Cost {
    let param = |params: &str, key: &str| {
        params
            .split(',')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse::<u32>().ok())
    };
    db.users()
        .iter()
        .filter_map(|u| u.hash.as_deref())
        .find_map(|phc| {
            // `$argon2id$v=19$m=…,t=…,p=…$salt$hash`
            let params = phc.split('$').find(|f| f.starts_with("m="))?;
            Some(Cost {
                m_kib: param(params, "m")?,
                t: param(params, "t")?,
                p: param(params, "p")?,
            })
        })
        .unwrap_or(Cost::TEST)
}

/// An account's line of `/etc/passwd` text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswdEntry<'a> {
    /// Login name.
    pub name: &'a str,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory (`/` when the field is empty).
    pub home: &'a str,
    /// Login shell (`/bin/sh` when the field is empty).
    pub shell: &'a str,
}

/// `name`'s entry in `/etc/passwd` text `passwd`
/// (`name:password:uid:gid:gecos:home:shell`); `None` when there is none or
/// its ids are not numbers.
pub fn passwd_entry<'a>(passwd: &'a str, name: &str) -> Option<PasswdEntry<'a>> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.trim_end_matches('\r').split(':').collect();
        if f.first() != Some(&name) || f.len() < 4 {
            return None;
        }
        let or = |i: usize, default: &'a str| {
            f.get(i)
                .copied()
                .filter(|s| !s.is_empty())
                .unwrap_or(default)
        };
        Some(PasswdEntry {
            name: f[0],
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: or(5, "/"),
            shell: or(6, "/bin/sh"),
        })
    })
}

/// The exec server's nodes, as on the Hurd: `/hurd/exec` (the program)
/// and `/servers/exec`, holding a passive translator record for it, so the
/// first lookup starts the system's exec server (written through `root`,
/// a session holding uid 0).
///
/// # Errors
///
/// The root file system's error writing either node or its translator
/// record.
pub fn install_exec_node<I: UserIpc + ?Sized>(root: &Session<'_, I>) -> Result<(), Error> {
    root.write_file("/hurd/exec", b"", false)?;
    chmod(root, "hurd/exec", 0o755)?;
    let (node, command) = EXEC_NODE;
    root.write_file(node, b"", false)?;
    let node = root.open(node, OpenFlags::NOTRANS)?;
    let r = fs::Client::new(root.ipc, node).file_set_translator(
        FS_TRANS_SET as i32,
        0,
        0,
        crate::exec::argz(command),
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
///
/// # Errors
///
/// `EPERM` for an unknown name or a wrong password; the password server's
/// error when it cannot be asked.
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
