//! The hosted system's accounts (feature `std`): root, alice and bob, with
//! their passwords, hashed when [`System::boot`](crate::hosted::System::boot)
//! starts the password server. Nothing on the kernel uses them: an image's
//! accounts are its manifest's `[[user]]`s, which the password server reads
//! from the image's `/etc/passwd`, `/etc/shadow` and `/etc/group`
//! ([`crate::rootfs::read_accounts`]).

use alloc::format;
use alloc::string::{String, ToString};

use hurd_auth::password::{Cost, Database, hash_password};
use hurd_ipc::Errno;
use hurd_ipc::{Error, UserIpc};

use crate::rootfs::{chown, mkdir};
use crate::shell::Session;

/// An account of the hosted system.
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

/// The hosted system's `/etc/group`.
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
///
/// # Errors
///
/// `EINVAL` when a password cannot be hashed or the accounts do not make a
/// database (a name twice).
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

/// Writes `/etc/passwd`, `/etc/group` and `/etc/motd` for `accounts`, and a
/// home per account but root, owned by it, through `root` (a session holding
/// uid 0).
///
/// # Errors
///
/// The file system's error for a file or directory it cannot write.
pub fn write_accounts<I: UserIpc + ?Sized>(
    root: &Session<'_, I>,
    accounts: &[Account],
) -> Result<(), Error> {
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
