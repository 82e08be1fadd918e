//! hurd-auth's password server as a task of its own, started by `hurd-init`
//! (see [`distro_programs::startup`]) once the root file system holds the
//! image's files, with an auth handle holding root's ids under `AUTH` and
//! the root directory, opened for root, under `CRDIR`. It reads the
//! accounts from `/etc/passwd`, `/etc/shadow` and `/etc/group` (an image's
//! `[[user]]`s and `[[group]]`s), reports its port and serves. Accounts it
//! cannot read are named on the console; it then serves none.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use distro_programs::startup;
use hurd_auth::password::{Database, PasswordConfig, PasswordServer};
use hurd_ipc::{Disposition, PortName, RightType, UserIpc};
use hurd_rt::ports::{AUTH, CRDIR};
use hurd_rt::{KernelIpc, println};
use hurd_servers::rootfs;
use hurd_servers::shell::Session;

distro_programs::program!(main);

/// The accounts, read through the root directory as root.
fn accounts(ipc: &KernelIpc) -> Database {
    // The session owns a reference of its own to the auth handle, which
    // the server keeps using.
    if ipc.port_mod_refs(AUTH, RightType::Send, 1).is_err() {
        return Database::default();
    }
    let read = Session::new(ipc, AUTH, CRDIR, PortName::NULL)
        .map_err(|e| rootfs::AccountsError::Read("/", e))
        .and_then(|root| rootfs::read_accounts(&root));
    match read {
        Ok(db) => db,
        Err(e) => {
            println!("password-server: no accounts: {e}");
            Database::default()
        }
    }
}

fn main() -> u64 {
    let now = hurd_rt::time::uptime_ms;
    let ipc = KernelIpc::new();
    let Ok(port) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    // The session reading them releases the root directory.
    let db = accounts(&ipc);
    if ipc
        .port_insert_right(port, port, Disposition::MakeSend)
        .is_err()
        || startup::ready(&[port]).is_err()
    {
        return 3;
    }
    // Unknown users cost what known ones do: the dummy hash is made at the
    // database's cost.
    let config = PasswordConfig::new(200, rootfs::hash_cost(&db));
    PasswordServer::new(ipc, now, port, AUTH, db, config).run();
    0
}
