//! `nc HOST PORT`: a TCP client through the Internet protocol family's
//! server, as a program finds it on the Hurd: the node `/servers/socket/2`
//! (its translator, `pfinet`, answers `socket_create` on the port the
//! lookup gives).
//!
//! It connects to `HOST` (an IPv4 address in dotted form; there are no
//! host names) port `PORT`, copies its standard input to the connection
//! until end of file, shuts the connection down for writing
//! (`socket_shutdown`, as `nc -N` does), then copies what the other side
//! sends to its standard output until that side closes. The input goes
//! first and the answer after (one direction at a time), so an echo service
//! answers once the input has ended (^D on a terminal).
//!
//! Exits with 0, 1 for a usage error, 2 when the connection is not made
//! (the error is named on standard error), 3 when it fails midway.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use core::net::Ipv4Addr;

use hurd_ipc::{Disposition, Errno, Error, PortItem, PortName, UserIpc};
use hurd_rt::ports::{AUTH, CRDIR, CWDIR};
use hurd_rt::{KernelIpc, eprintln};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::protocol::{io, socket};
use pfinet::{AF_INET, SOCK_STREAM, sockaddr_in};
use smoltcp::wire::{IpAddress, IpEndpoint};

distro_programs::program!(main);

/// Where the Internet protocol family's server is found (`PF_INET` is 2).
pub const SERVER_NODE: &str = "/servers/socket/2";

/// The most bytes read from either side at once.
const CHUNK: usize = 8 * 1024;

/// `socket_shutdown`'s direction: no more sending.
const SHUT_WR: i32 = 1;

/// An error as the user reads it: its errno's text when it has one.
fn why(e: Error) -> String {
    match Errno::of(e) {
        Some(errno) => alloc::format!("{errno}"),
        None => alloc::format!("{e:?}"),
    }
}

fn main() -> u64 {
    let args = hurd_rt::env::args();
    let (host, port) = match args.as_slice() {
        [_, host, port] => (host, port),
        _ => {
            eprintln!("usage: nc HOST PORT");
            return 1;
        }
    };
    let (Ok(host), Ok(port)) = (host.parse::<Ipv4Addr>(), port.parse::<u16>()) else {
        eprintln!("nc: {host} {port}: not an IPv4 address and a port");
        return 1;
    };
    let ipc = KernelIpc::new();
    let sock = match connect(&ipc, IpEndpoint::new(IpAddress::Ipv4(host), port)) {
        Ok(sock) => sock,
        Err(why) => {
            eprintln!("nc: {host}:{port}: {why}");
            return 2;
        }
    };
    let status = match copy(&ipc, sock) {
        Ok(()) => 0,
        Err(why) => {
            eprintln!("nc: {why}");
            3
        }
    };
    let _ = ipc.port_deallocate(sock);
    status
}

/// A TCP socket connected to `to`, made by the server at [`SERVER_NODE`].
fn connect(ipc: &KernelIpc, to: IpEndpoint) -> Result<PortName, String> {
    let lookup = Lookup {
        ipc,
        crdir: CRDIR,
        cwdir: CWDIR,
        auth: AUTH,
        fds: &[],
        ctty: PortName::NULL,
    };
    let server = lookup
        .open(SERVER_NODE, OpenFlags::empty(), 0)
        .map_err(|e| alloc::format!("{SERVER_NODE}: {}", why(e)))?;
    let made = socket::Client::new(ipc, server)
        .socket_create(SOCK_STREAM, 0)
        .and_then(|sock| {
            let addr = socket::Client::new(ipc, server)
                .socket_create_address(AF_INET, sockaddr_in(to))
                .inspect_err(|_| {
                    let _ = ipc.port_deallocate(sock.name);
                })?;
            let connected = socket::Client::new(ipc, sock.name).socket_connect(PortItem {
                name: addr.name,
                disposition: Disposition::CopySend,
            });
            let _ = ipc.port_deallocate(addr.name);
            match connected {
                Ok(()) => Ok(sock.name),
                Err(e) => {
                    let _ = ipc.port_deallocate(sock.name);
                    Err(e)
                }
            }
        });
    let _ = ipc.port_deallocate(server);
    made.map_err(why)
}

/// Standard input to `sock` until end of file, then `sock` to standard
/// output until the other side closes.
fn copy(ipc: &KernelIpc, sock: PortName) -> Result<(), String> {
    let conn = io::Client::new(ipc, sock);
    loop {
        let data = hurd_rt::io::stdin()
            .read(CHUNK)
            .map_err(|e| alloc::format!("standard input: {}", why(e)))?;
        if data.is_empty() {
            break;
        }
        let mut rest = data.as_slice();
        while !rest.is_empty() {
            let n = conn
                .write(rest.to_vec(), -1)
                .map_err(|e| alloc::format!("sending: {}", why(e)))?;
            let n = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
            if n == 0 {
                return Err("sending: the connection took nothing".into());
            }
            rest = &rest[n..];
        }
    }
    socket::Client::new(ipc, sock)
        .socket_shutdown(SHUT_WR)
        .map_err(|e| alloc::format!("shutdown: {}", why(e)))?;
    loop {
        let data = conn
            .read(-1, CHUNK as u64)
            .map_err(|e| alloc::format!("receiving: {}", why(e)))?;
        if data.is_empty() {
            return Ok(());
        }
        hurd_rt::io::stdout()
            .write_all(&data)
            .map_err(|e| alloc::format!("standard output: {}", why(e)))?;
    }
}
