//! `pflocal`: the local socket family's server (the Hurd's
//! `/servers/socket/1`), serving `socket.defs` and `io.defs` on the socket
//! table of [`pflocal::Sockets`] ([`pflocal::server`]): stream socket
//! pairs, and the pipes made of them.
//!
//! Started as a translator (with a bootstrap port: the root file system
//! starts it from the passive record on `/servers/socket/1` the first time
//! the node is looked up), it sends its parent `fsys_startup` with a
//! control port of its own and serves `fsys_getroot` there: the node's
//! users get a send right to the server port. Started with a server port
//! (`SERVICE_PORT_NAME`), it serves that one.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use hurd_ipc::{Disposition, Error, PortItem, PortName, RightType, UserIpc};
use hurd_rt::ports::BOOTSTRAP;
use hurd_rt::{KernelIpc, println};
use hurd_trans::protocol::fsys;
use pflocal::server::Server;

hurd_rt::entry!(main);

/// Started as a translator: a control port, given to the parent with
/// `fsys_startup` on `bootstrap` (whose right is then released, as is the
/// node the parent answers: pflocal does not use it).
fn start_translator(ipc: &KernelIpc, bootstrap: PortName) -> Result<PortName, Error> {
    let control = ipc.port_allocate(RightType::Receive).map_err(Error::Kern)?;
    let started = fsys::Client::new(ipc, bootstrap).startup(
        0,
        PortItem {
            name: control,
            disposition: Disposition::MakeSend,
        },
    );
    let _ = ipc.port_deallocate(bootstrap);
    match started {
        Ok(realnode) => {
            if realnode.name.is_valid() {
                let _ = ipc.port_deallocate(realnode.name);
            }
            Ok(control)
        }
        Err(e) => {
            let _ = ipc.port_destroy(control);
            Err(e)
        }
    }
}

fn main() -> u64 {
    let ipc = KernelIpc::new();
    // The server port: the one it was started with (the kernel's tests),
    // else (a translator) one of its own, handed out by `fsys_getroot`.
    let server = match hurd_rt::ports::held(PortName(hurd_abi::SERVICE_PORT_NAME)) {
        Some(server) => server,
        None => match ipc.port_allocate(RightType::Receive) {
            Ok(server) => server,
            Err(e) => {
                println!("pflocal: no port: {e:?}");
                return 2;
            }
        },
    };
    let control = match hurd_rt::ports::held(BOOTSTRAP) {
        Some(bootstrap) => match start_translator(&ipc, bootstrap) {
            Ok(control) => control,
            Err(e) => {
                println!("pflocal: fsys_startup: {e:?}");
                return 1;
            }
        },
        None => PortName::NULL,
    };
    let pf = match Server::new(ipc, server, control, hurd_rt::env::args()) {
        Ok(pf) => pf,
        Err(e) => {
            println!("pflocal: no port set: {e:?}");
            return 2;
        }
    };
    match pf.serve() {
        Ok(()) => 0,
        Err(code) => {
            println!("pflocal: receive failed: {code:?}");
            3
        }
    }
}
