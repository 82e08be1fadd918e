//! hurd-auth's auth server as a task of its own, started from its boot
//! module by `hurd-init` (see [`distro_programs::startup`]): it reports one
//! handle holding root's ids, from which its starter makes every other
//! (`auth_makeauth`), and serves.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use distro_programs::startup;
use hurd_auth::{AuthServer, IdSet, Limits};
use hurd_rt::KernelIpc;

distro_programs::program!(main);

fn main() -> u64 {
    let Ok(auth) = AuthServer::new(
        KernelIpc::new(),
        hurd_rt::time::uptime_ms,
        Limits::default(),
    ) else {
        return 1;
    };
    let Ok(root) = auth.create_handle(IdSet::root()) else {
        return 2;
    };
    if startup::ready(&[root]).is_err() {
        return 3;
    }
    auth.run();
    0
}
