//! hurd-auth's password server as a task of its own, started from its boot
//! module by `hurd-init` (see [`distro_programs::startup`]) with an auth handle
//! holding root's ids under `INIT_AUTH`: it keeps the reference accounts
//! (`hurd_servers::rootfs::DEMO_ACCOUNTS`), reports its port and serves.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use distro_programs::startup;
use hurd_auth::password::{Cost, PasswordConfig, PasswordServer};
use hurd_ipc::{Disposition, RightType, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::ports::AUTH;
use hurd_servers::rootfs::{self, DEMO_ACCOUNTS};

distro_programs::program!(main);

fn main() -> u64 {
    let now = hurd_rt::time::uptime_ms;
    let ipc = KernelIpc::new();
    let Ok(port) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    let Ok(db) = rootfs::database(DEMO_ACCOUNTS) else {
        return 2;
    };
    if ipc
        .port_insert_right(port, port, Disposition::MakeSend)
        .is_err()
        || startup::ready(&[port]).is_err()
    {
        return 3;
    }
    let config = PasswordConfig::new(200, Cost::TEST);
    PasswordServer::new(ipc, now, port, AUTH, db, config).run();
    0
}
