//! The network at boot: `hurd-init` starts the Internet protocol family's
//! server on `/servers/socket/2` ([`SOCKET_NODE`]) when the image asks for
//! it.
//!
//! The image asks the Hurd's way: the node carries a passive translator
//! record, the server's command line (in the reference image `/hurd/pfinet
//! -i eth0 -a 10.0.2.15 -g 10.0.2.2 -m 255.255.255.0`). A Hurd server
//! reaches the network card through the device master port, which only
//! init holds here (as the bootstrap task); so init does not leave the
//! start to the first lookup: at boot it starts the card's driver,
//! [`DRIVER`] `0` (the first virtio network function), with the kernel's
//! device master port and a receive right of its own making as the
//! driver's master port, then the record's program with that port as its
//! `DEVICE_MASTER_PORT_NAME`, root's auth handle and a bootstrap port init
//! answers as its parent (`fsys_startup`). Both are tasks of their own,
//! child processes of init's. A `fsys_getroot` checks that the server
//! serves, and init attaches its control port to the node as its active
//! translator (`file_set_translator`); the passive record stays.
//!
//! A node without a record means an image without a network: nothing is
//! started. A network that does not start — no card (the driver ends),
//! a program missing from the image, a bad address — is named on the
//! console, and the boot goes on without it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use hurd_abi::device::DEVICE_MASTER_PORT_NAME;
use hurd_ipc::{PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, println};
use hurd_servers::shell::Session;
use hurd_trans::flags::{FSYS_GOAWAY_FORCE, OpenFlags};
use hurd_trans::protocol::{fs, fsys};
use hurd_trans::transbox::argz_to_argv;

use crate::disks::{attach, bootstrap_port, start_driver, start_translator, startup, why};

/// The Internet protocol family's node (`PF_INET` is 2).
pub const SOCKET_NODE: &str = "/servers/socket/2";

/// The network card's driver.
pub const DRIVER: &str = "/hurd/virtio-net";

/// The started network.
#[derive(Debug)]
pub struct Network {
    /// The server's control port (a send right).
    pub control: PortName,
    /// The server's pid and its driver's.
    pub pids: (i32, i32),
}

/// Starts the network [`SOCKET_NODE`]'s passive record names, as root
/// (`root`), the tasks child processes of `proc`'s (init's proc port);
/// names on the console what started, or why not.
pub fn start_network(
    ipc: &KernelIpc,
    root: &Session<'_, KernelIpc>,
    proc: PortName,
) -> Option<Network> {
    let argv = record(ipc, root)?;
    match serve(ipc, root, proc, &argv) {
        Ok(net) => {
            println!(
                "hurd-init: {SOCKET_NODE}: {} (pid {}, driver pid {})",
                argv.join(" "),
                net.pids.0,
                net.pids.1
            );
            Some(net)
        }
        Err(why) => {
            println!("hurd-init: {SOCKET_NODE}: the network is not started: {why}");
            None
        }
    }
}

/// The passive record of [`SOCKET_NODE`] as an argument vector; `None`
/// when there is no node, no record, or no command in it.
fn record(ipc: &KernelIpc, root: &Session<'_, KernelIpc>) -> Option<Vec<String>> {
    let node = root.open(SOCKET_NODE, OpenFlags::NOTRANS).ok()?;
    let argz = fs::Client::new(ipc, node).file_get_translator();
    root.release(node);
    argz_to_argv(&argz.ok()?).filter(|argv| !argv.is_empty())
}

/// Starts the driver and the server `argv` names on it and attaches the
/// server: see the [module documentation](self).
fn serve(
    ipc: &KernelIpc,
    root: &Session<'_, KernelIpc>,
    proc: PortName,
    argv: &[String],
) -> Result<Network, String> {
    let program = argv[0].as_str();
    let kernel_master = hurd_rt::ports::held(PortName(DEVICE_MASTER_PORT_NAME))
        .ok_or("init holds no device master port")?;
    let driver_image = root
        .read_file(DRIVER)
        .map_err(|e| format!("{DRIVER}: {}", why(e)))?;
    let image = root
        .read_file(program)
        .map_err(|e| format!("{program}: {}", why(e)))?;

    // The driver, serving its master port.
    let (driver, master) = start_driver(
        ipc,
        proc,
        kernel_master,
        DRIVER,
        &driver_image,
        0,
        PortName::NULL,
    )?;

    // The server on the driver's master port.
    let bootstrap = match bootstrap_port(ipc) {
        Ok(port) => port,
        Err(e) => {
            let _ = ipc.port_deallocate(master);
            return Err(e);
        }
    };
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let started = start_translator(
        ipc,
        (root.auth, root.crdir),
        proc,
        &image,
        program,
        &args,
        master,
        bootstrap,
    );
    let _ = ipc.port_deallocate(master);
    let pid = started?;
    let control = startup(ipc, bootstrap);
    let _ = ipc.port_mod_refs(bootstrap, RightType::Receive, -1);
    let control = control.map_err(|e| format!("{program}: {e}"))?;
    if let Err(e) = attach(ipc, root, control, SOCKET_NODE) {
        let _ = fsys::Client::new(ipc, control).goaway(FSYS_GOAWAY_FORCE as i32);
        let _ = ipc.port_deallocate(control);
        return Err(e);
    }
    Ok(Network {
        control,
        pids: (pid, driver),
    })
}
