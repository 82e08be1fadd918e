//! Starting servers from boot modules: the bootstrap task (`hurd-init`)
//! loads a server's ELF image into a task of its own ([`start_server`]),
//! giving it the ports it needs and a send right to a port of its own
//! under [`BOOT_PORT`]. The server makes its service ports and says it is
//! ready with send rights to them ([`ready`]); the bootstrap task then
//! holds them, as a client.
//!
//! The handshake is hurd-rs's (subsystem [`startup::SUBSYSTEM`]), not the
//! Hurd's `startup.defs`, whose routines assume the Hurd's own `init`.

use alloc::vec::Vec;
use core::time::Duration;

use hurd_ipc::Errno;
use hurd_ipc::{
    Disposition, Error, Item, MsgOptions, PortArray, PortName, RightType, UserIpc, interface,
};

use hurd_rt::KernelIpc;

use hurd_rt::exec::{self, Child, InitialPort, Program};

interface! {
    /// The startup handshake of a server started from a boot module.
    pub mod startup: subsystem 29900 {
        /// The server is ready: send rights to its service ports, in the
        /// order its starter expects.
        simpleroutine server_ready(ports: PortArray);
    }
}

/// The name under which a server started from a boot module finds its
/// starter's port (a send right): its bootstrap port.
pub const BOOT_PORT: PortName = hurd_rt::ports::BOOTSTRAP;

/// How long a server may take to say it is ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The most ports a server reports.
pub const MAX_PORTS: usize = 8;

/// Says the server is ready, with send rights made from `ports` (receive
/// rights of the caller's).
///
/// # Errors
///
/// `EINVAL` when the task was not started by [`start_server`] (no
/// [`BOOT_PORT`]); the error of the `server_ready` call.
pub fn ready(ports: &[PortName]) -> Result<(), Error> {
    let ipc = KernelIpc::new();
    if ipc.port_type(BOOT_PORT).is_err() {
        return Err(Errno::Inval.into());
    }
    let r = startup::Client::new(&ipc, BOOT_PORT).server_ready(PortArray {
        disposition: Disposition::MakeSend,
        names: ports.to_vec(),
    });
    let _ = ipc.port_deallocate(BOOT_PORT);
    r
}

/// A server started from a boot module.
#[derive(Debug)]
pub struct Started {
    /// Its task and thread (send rights).
    pub child: Child,
    /// Send rights to the ports it reported, in its order.
    pub ports: Vec<PortName>,
}

/// Starts the server `image` as a task with arguments `argv` (its name
/// first) and `ports`, and waits until it says it is ready. With `proc` (the caller's
/// proc port), the task is first made a child process of the caller's and
/// given its proc port. A server that ends or stays silent for
/// [`READY_TIMEOUT`] is an error (and its task is ended).
///
/// # Errors
///
/// What allocating the boot port, loading the image or making the task a
/// process fails with; `MACH_RCV_TIMED_OUT` when the server says nothing
/// for [`READY_TIMEOUT`], `EINVAL` when what it says is not `server_ready`
/// with at most [`MAX_PORTS`] send rights.
pub fn start_server(
    image: &[u8],
    argv: &[&str],
    ports: &[InitialPort],
    proc: Option<PortName>,
) -> Result<Started, Error> {
    let ipc = KernelIpc::new();
    let boot = ipc.port_allocate(RightType::Receive)?;
    let mut all = ports.to_vec();
    all.push(InitialPort {
        name: BOOT_PORT,
        right: boot,
        disposition: Disposition::MakeSend,
    });
    let program = Program {
        image,
        argv,
        envp: &[],
        ports: &all,
    };
    let r = exec::load(&program).map_err(Error::from).and_then(|child| {
        let started = make_process(&ipc, &child, proc)
            .and_then(|()| Ok(exec::resume(&child)?))
            .and_then(|()| wait_ready(&ipc, boot));
        match started {
            Ok(ports) => Ok(Started { child, ports }),
            Err(e) => {
                exec::terminate(child);
                Err(e)
            }
        }
    });
    let _ = ipc.port_destroy(boot);
    r
}

/// Makes `child` a child process of the one whose proc port is `proc`.
fn make_process(ipc: &KernelIpc, child: &Child, proc: Option<PortName>) -> Result<(), Error> {
    let Some(proc) = proc else {
        return Ok(());
    };
    let (_, port) = crate::process::adopt(ipc, proc, child.task)?;
    crate::process::give_proc(child.task, port)
}

/// Waits for the server's `server_ready` on `boot`.
fn wait_ready(ipc: &KernelIpc, boot: PortName) -> Result<Vec<PortName>, Error> {
    let opts = MsgOptions {
        rcv_timeout: Some(READY_TIMEOUT),
        ..MsgOptions::default()
    };
    let m = ipc
        .receive_with(boot, &opts)
        .map_err(|e| Error::Msg(e.code))?;
    let ports = match m.body.as_slice() {
        [Item::Ports(p)]
            if m.header.id == startup::id::server_ready
                && p.disposition == Disposition::PORT_SEND
                && p.names.len() <= MAX_PORTS =>
        {
            p.names.clone()
        }
        _ => {
            ipc.destroy_message(m);
            return Err(Errno::Inval.into());
        }
    };
    Ok(ports)
}
