//! hurd-servers' proc server as a task of its own, started from its boot
//! module by `hurd-init` (see [`distro_programs::startup`]), knowing the
//! kernel's task reports (`distro_programs::process::tasks`): it makes its
//! starter process 1 (`hurd-init`, root's), reports that process's proc
//! port and serves.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use distro_programs::{process, startup};
use hurd_rt::KernelIpc;
use hurd_servers::proc::ProcServer;

distro_programs::program!(main);

fn main() -> u64 {
    let Ok(proc): Result<ProcServer<KernelIpc>, _> =
        ProcServer::new(KernelIpc::new(), Some(process::tasks()))
    else {
        return 1;
    };
    let Ok((_, init)) = proc.register(None, 0, alloc::vec!["hurd-init".into()], Vec::new()) else {
        return 2;
    };
    if startup::ready(&[init]).is_err() {
        return 3;
    }
    proc.serve();
    0
}
