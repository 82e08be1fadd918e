//! The Hurd's servers as they are, on the kernel: hurd-auth's auth server
//! and a hurd-trans tmpfs (netfs) run as threads of this task through
//! [`KernelIpc`], and a client in the same task uses them the way any
//! program does — `file_name_lookup` creating a file, `io_write` and
//! `io_read`, `auth_makeauth` for another user, reauthentication of a
//! directory port through the auth rendezvous, and the file system then
//! refusing that user what only root may do. Returns 0 when all of it held,
//! else the number of the check that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use hurd_auth::{AuthClient, AuthServer, IdSet, Limits};
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, PortName, UserIpc};
use hurd_rt::{KernelIpc, println, thread};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::netfs::{NetFs, Options};
use hurd_trans::protocol::io;
use hurd_trans::translators::tmpfs::Tmpfs;

hurd_rt::entry!(main);
kernel_test_programs::report!();

use hurd_rt::time::uptime_ms;

fn main() -> u64 {
    match checks() {
        Ok(()) => {
            println!("kernel-servers: auth and tmpfs served every request");
            0
        }
        Err(step) => step,
    }
}

fn checks() -> Result<(), u64> {
    // ANCHOR: start
    // The auth server, with root handles for the file system and for us.
    let auth = AuthServer::new(KernelIpc::new(), uptime_ms, Limits::default())
        .map_err(err(1, "auth server"))?;
    let fs_auth = auth
        .create_handle(IdSet::root())
        .map_err(err(2, "handle"))?;
    let root_auth = auth
        .create_handle(IdSet::root())
        .map_err(err(2, "handle"))?;
    thread::spawn(move || {
        auth.run();
    })
    .map_err(err(3, "auth thread"))?;

    // A tmpfs whose root is root's, mode 0755.
    let tmpfs = Tmpfs::new(0, 0, 0o755, 1 << 20);
    let fs = NetFs::new(KernelIpc::new(), tmpfs, fs_auth, None, Options::default())
        .map_err(err(4, "netfs"))?;
    let root_dir = fs
        .root_port(IdSet::root(), OpenFlags::READ | OpenFlags::EXEC)
        .map_err(err(5, "root port"))?;
    // The server holds the port's receive right; in this one task its
    // clients' send right goes under the same name.
    KernelIpc::new()
        .port_insert_right(root_dir, root_dir, Disposition::MakeSend)
        .map_err(err(5, "root send right"))?;
    thread::spawn(move || {
        fs.serve();
    })
    .map_err(err(6, "fs thread"))?;
    // ANCHOR_END: start

    // ANCHOR: client
    let ipc = KernelIpc::new();
    let root = Lookup {
        ipc: &ipc,
        crdir: root_dir,
        cwdir: root_dir,
        auth: root_auth,
        fds: &[],
        ctty: PortName::NULL,
    };
    let file = root
        .open(
            "/hello",
            OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREAT,
            0o644,
        )
        .map_err(err(7, "create /hello"))?;
    let text = b"hello from the kernel".to_vec();
    let io = io::Client::new(&ipc, file);
    if io.write(text.clone(), 0).map_err(err(8, "io_write"))? != text.len() as u64 {
        return Err(fail(9, "a short write"));
    }
    if io.read(0, 100).map_err(err(10, "io_read"))? != text {
        return Err(fail(11, "read back something else"));
    }

    // alice: a handle made by the auth server, then our root directory
    // port reauthenticated with it through the rendezvous.
    let alice_auth = AuthClient::new(&ipc, root_auth)
        .makeauth(&[], &IdSet::user(1000, &[100]))
        .map_err(err(12, "makeauth"))?;
    let alice_view = Lookup {
        auth: alice_auth,
        ..root
    };
    let dir_copy = io::Client::new(&ipc, root_dir)
        .duplicate()
        .map_err(err(13, "io_duplicate"))?
        .name;
    let alice_root = alice_view
        .reauthenticate(dir_copy)
        .map_err(err(14, "reauthenticate"))?;
    let alice = Lookup {
        crdir: alice_root,
        cwdir: alice_root,
        ..alice_view
    };
    // She may read root's file, not create one in root's directory.
    let hers = alice
        .open("/hello", OpenFlags::READ, 0)
        .map_err(err(15, "alice opens /hello"))?;
    if io::Client::new(&ipc, hers).read(0, 100).ok() != Some(text) {
        return Err(fail(16, "alice read something else"));
    }
    match alice.open("/mine", OpenFlags::WRITE | OpenFlags::CREAT, 0o644) {
        Err(e) if Errno::of(e) == Some(Errno::Access) => {}
        other => return Err(fail(17, format_args!("alice created a file: {other:?}"))),
    }
    // ANCHOR_END: client
    Ok(())
}
