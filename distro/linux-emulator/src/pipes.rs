//! Pipes and socket pairs the Hurd's way: through the local socket
//! family's server at `/servers/socket/1` (pflocal), with the process's
//! own ports, as glibc's `pipe2` and `socketpair` do on the Hurd.
//!
//! The node is looked up (its translator hands out the server's port),
//! two stream sockets are made there (`socket_create`; a pipe's with the
//! protocol `S_IFIFO`, so that `fstat` calls it a FIFO as Linux does) and
//! joined (`socket_connect2`); `O_NONBLOCK` is set on each socket's open
//! modes (`io_set_some_openmodes`). The descriptors are ports like any
//! other: `read`, `write`, `poll`, `fstat`, `close` and `dup` work on them
//! through [`Files`]. A pipe's two ends are the two sockets: what is
//! written on the second is read on the first (and, as on the Hurd, the
//! other way too).
//!
//! Errors are Linux's: `EINVAL` for flags `pipe2` does not know;
//! `EOPNOTSUPP` for `socketpair` of the Internet families (which make no
//! pairs); `EAFNOSUPPORT` for another family other than `AF_UNIX`, or
//! when there is no server at `/servers/socket/1`; `ESOCKTNOSUPPORT` for a type other than
//! `SOCK_STREAM` (the server has no datagram sockets yet);
//! `EPROTONOSUPPORT` for a protocol other than 0 (or `PF_UNIX`); `EMFILE`
//! when two descriptors are not free.

use hurd_ipc::{Disposition, PortItem, PortName, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::{io, socket};
use linux_abi::Errno;
use linux_abi::flags::{AT_FDCWD, O_CLOEXEC, O_NONBLOCK};

use crate::files::{File, Files, rpc};

/// Where the local socket family's server is (the Hurd's
/// `_SERVERS_SOCKET "/1"`, `PF_LOCAL` being 1).
pub const LOCAL_SERVER: &[u8] = b"/servers/socket/1";
/// `AF_UNIX` (`AF_LOCAL`).
pub const AF_UNIX: u32 = 1;
/// `AF_INET`.
pub const AF_INET: u32 = 2;
/// `AF_INET6`.
pub const AF_INET6: u32 = 10;
/// `SOCK_STREAM`.
pub const SOCK_STREAM: u32 = 1;
/// `SOCK_NONBLOCK`, in `socketpair`'s type (Linux: `O_NONBLOCK`).
pub const SOCK_NONBLOCK: u32 = O_NONBLOCK;
/// `SOCK_CLOEXEC`, in `socketpair`'s type (Linux: `O_CLOEXEC`).
pub const SOCK_CLOEXEC: u32 = O_CLOEXEC;
/// The protocol glibc's `pipe2` asks the local server for: `S_IFIFO`, for
/// sockets that report themselves as FIFOs.
pub const PROTOCOL_FIFO: i32 = 0o010000;

impl Files {
    /// `pipe2` (and `pipe`, with no flags): the read end and the write end,
    /// the two lowest free descriptors.
    ///
    /// # Errors
    /// `EINVAL` for flags other than `O_CLOEXEC` and `O_NONBLOCK`; see the
    /// [module documentation](self) for the rest.
    pub fn pipe2<I: UserIpc + ?Sized>(&mut self, ipc: &I, flags: u32) -> Result<[i32; 2], Errno> {
        if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
            return Err(Errno::Inval);
        }
        self.pair(
            ipc,
            PROTOCOL_FIFO,
            flags & O_CLOEXEC != 0,
            flags & O_NONBLOCK != 0,
        )
    }

    /// `socketpair(domain, type, protocol)`: two connected stream sockets.
    ///
    /// # Errors
    /// See the [module documentation](self), in Linux's order: the family,
    /// then the type, then the protocol.
    pub fn socketpair<I: UserIpc + ?Sized>(
        &mut self,
        ipc: &I,
        domain: u32,
        sock_type: u32,
        protocol: u32,
    ) -> Result<[i32; 2], Errno> {
        match domain {
            AF_UNIX => {}
            // The Internet families exist but make no pairs (pfinet
            // answers socket_connect2 EOPNOTSUPP, as Linux's inet does).
            AF_INET | AF_INET6 => return Err(Errno::Opnotsupp),
            _ => return Err(Errno::Afnosupport),
        }
        if sock_type & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != SOCK_STREAM {
            return Err(Errno::Socktnosupport);
        }
        if protocol != 0 && protocol != AF_UNIX {
            return Err(Errno::Protonosupport);
        }
        self.pair(
            ipc,
            0,
            sock_type & SOCK_CLOEXEC != 0,
            sock_type & SOCK_NONBLOCK != 0,
        )
    }

    /// Two sockets of the local server, joined, at two new descriptors.
    fn pair<I: UserIpc + ?Sized>(
        &mut self,
        ipc: &I,
        protocol: i32,
        cloexec: bool,
        nonblocking: bool,
    ) -> Result<[i32; 2], Errno> {
        let server = self
            .open_port(ipc, AT_FDCWD, LOCAL_SERVER, OpenFlags::empty(), 0)
            .map_err(|e| match e {
                Errno::Noent | Errno::Notdir => Errno::Afnosupport,
                e => e,
            })?;
        let made = make_pair(ipc, server, protocol, nonblocking);
        let _ = ipc.port_deallocate(server);
        let [a, b] = made?;
        let first = match self.table.insert(File::Port(a), cloexec) {
            Ok(fd) => fd,
            Err((e, _)) => {
                let _ = ipc.port_deallocate(a);
                let _ = ipc.port_deallocate(b);
                return Err(e);
            }
        };
        match self.table.insert(File::Port(b), cloexec) {
            Ok(second) => Ok([first, second]),
            Err((e, _)) => {
                let _ = self.close(ipc, first);
                let _ = ipc.port_deallocate(b);
                Err(e)
            }
        }
    }
}

/// `socket_create` twice on `server`, `socket_connect2`, and
/// `O_NONBLOCK` on both when asked: two send rights (released on error).
fn make_pair<I: UserIpc + ?Sized>(
    ipc: &I,
    server: PortName,
    protocol: i32,
    nonblocking: bool,
) -> Result<[PortName; 2], Errno> {
    let server = socket::Client::new(ipc, server);
    let a = server
        .socket_create(SOCK_STREAM as i32, protocol)
        .map_err(rpc)?
        .name;
    let release = |ports: &[PortName]| {
        for &p in ports {
            let _ = ipc.port_deallocate(p);
        }
    };
    let b = match server.socket_create(SOCK_STREAM as i32, protocol) {
        Ok(b) => b.name,
        Err(e) => {
            release(&[a]);
            return Err(rpc(e));
        }
    };
    let joined = socket::Client::new(ipc, a)
        .socket_connect2(PortItem {
            name: b,
            disposition: Disposition::CopySend,
        })
        .map_err(rpc)
        .and_then(|()| {
            if !nonblocking {
                return Ok(());
            }
            for p in [a, b] {
                io::Client::new(ipc, p)
                    .set_some_openmodes(OpenFlags::NONBLOCK.bits() as i32)
                    .map_err(rpc)?;
            }
            Ok(())
        });
    match joined {
        Ok(()) => Ok([a, b]),
        Err(e) => {
            release(&[a, b]);
            Err(e)
        }
    }
}
