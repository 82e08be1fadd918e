//! `/hurd/exec [--announce]`: the exec server as a one-file translator, as
//! the Hurd's is on `/servers/exec` — its node's ports also answer
//! `exec.defs` ([`distro_programs::exec_server`]). The file system starts
//! it itself (there is no exec server yet to ask); a user may start one of
//! their own (`settrans ~/exec /hurd/exec --announce`) and name it in
//! `EXEC_SERVERS`.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::UserIpc;
use hurd_ipc::mig::{self, Dispatch};
use hurd_rt::KernelIpc;
use hurd_servers::exec::{ExecNode, exec};
use hurd_trans::flags::OpenFlags;
use hurd_trans::netfs::{NetFs, Options};
use hurd_trans::translators::programs::own_ids;
use hurd_trans::trivfs::Single;

use distro_programs::exec_server::ExecServer;

distro_programs::program!(main);

fn main() -> u64 {
    let start = hurd_rt::translator::start();
    let announce = start.argv.iter().any(|a| a == "--announce");
    let server = ExecServer::new(announce);
    let (uid, gid) = own_ids(&start.ipc, start.auth);
    let opts = Options {
        name: "exec",
        ..Options::default()
    };
    let node = Single::new(ExecNode, uid, gid);
    let Ok(fs) = NetFs::new(KernelIpc::new(), node, start.auth, None, opts) else {
        return 1;
    };
    let Ok(node) = fs.startup(start.bootstrap, OpenFlags::READ) else {
        return 2;
    };
    let _ = fs.ipc().port_deallocate(node);
    let ipc = KernelIpc::new();
    let _ = mig::serve(fs.ipc(), fs.port_set(), |m| {
        match exec::demux(&server, &ipc, m) {
            Dispatch::NotMine(m) => fs.handle(m),
            d => d,
        }
    });
    0
}
