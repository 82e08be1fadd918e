//! A client of `pfinet` (a distro program) through the Hurd's socket
//! interface, on QEMU's user network: it makes a TCP socket
//! (`socket_create`), an address for 10.0.2.100 port 7 — which QEMU forwards
//! to an echo process on the host (`guestfwd` to `cat`) —
//! (`socket_create_address`), connects, writes bytes with `io_write`, reads
//! them back with `io_read` until all came, checks the socket's and its
//! peer's addresses, shuts its sending half and reads the end of the
//! stream. And each refusal: socket types, address families, short
//! addresses, calls on the wrong port.
//!
//! Then it serves the host: a socket bound to port 7 of any address
//! listens; once it prints that it does, the host connects through QEMU's
//! forwarding (from 10.0.2.2) and sends bytes (byte `i` is `i % 251`),
//! which go back as they come (`socket_recv`, `socket_send`) until the host
//! ends its half; the client checks them, the connection's addresses, and
//! closes.
//!
//! Last, datagrams: a UDP socket is ready for writing but not reading
//! (`io_select`); it sends a TFTP read request to QEMU's TFTP server with
//! `socket_send` (which binds it to a port), a waiting `io_select` answers
//! once the data block came, `socket_recv` peeks at it, takes it cut short
//! (`MSG_TRUNC`) and says where it came from, and the acknowledgement goes
//! there.
//!
//! Returns 0 when all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use hurd_ipc::{Disposition, Errno, Error, PortArray, PortItem, PortName};
use hurd_rt::{KernelIpc, println};
use hurd_trans::protocol::{io, socket};

hurd_rt::entry!(main);
kernel_test_programs::report!();

const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;
const SOCK_RAW: i32 = 3;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const MSG_PEEK: i32 = 2;
const MSG_TRUNC: i32 = 0x10;
const SELECT_READ: i32 = 1;
const SELECT_WRITE: i32 = 2;
/// How many bytes go to the echo and back.
const BYTES: usize = 20_000;
/// How many bytes the host sends to the client's echo.
const HOST_BYTES: usize = 30_000;

/// A `struct sockaddr_in` as the Hurd lays it out.
fn sockaddr_in(addr: [u8; 4], port: u16) -> Vec<u8> {
    let mut s = Vec::with_capacity(16);
    s.extend_from_slice(&[16, AF_INET as u8]);
    s.extend_from_slice(&port.to_be_bytes());
    s.extend_from_slice(&addr);
    s.extend_from_slice(&[0; 8]);
    s
}

fn errno<T>(r: Result<T, Error>) -> Result<T, Option<Errno>> {
    r.map_err(Errno::of)
}

fn copy(name: PortName) -> PortItem {
    PortItem {
        name,
        disposition: Disposition::CopySend,
    }
}

fn main() -> u64 {
    kernel_test_programs::report::status(
        steps()
            .and_then(|()| serve_the_host())
            .and_then(|()| datagrams()),
    )
}

fn steps() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let server = socket::Client::new(&ipc, hurd_rt::ports::SERVICE);
    check(
        1,
        "a raw socket",
        errno(server.socket_create(SOCK_RAW, 0)).map(|_| ()),
        Err(Some(Errno::SockTNoSupport)),
    )?;
    check(
        2,
        "an IPv6 address",
        errno(server.socket_create_address(AF_INET6, sockaddr_in([0; 4], 7))).map(|_| ()),
        Err(Some(Errno::AfNoSupport)),
    )?;
    check(
        3,
        "a short address",
        errno(server.socket_create_address(AF_INET, alloc::vec![16, 2, 0])).map(|_| ()),
        Err(Some(Errno::Inval)),
    )?;
    let sock = server.socket_create(SOCK_STREAM, 0).map_err(|e| {
        println!("tcp-client: socket_create: {e:?}");
        4u64
    })?;
    let echo = server
        .socket_create_address(AF_INET, sockaddr_in([10, 0, 2, 100], 7))
        .map_err(|_| 5u64)?;
    check(
        6,
        "socket_whatis_address",
        errno(socket::Client::new(&ipc, echo.name).socket_whatis_address()),
        Ok((AF_INET, sockaddr_in([10, 0, 2, 100], 7))),
    )?;
    check(
        7,
        "socket_create on a socket",
        errno(socket::Client::new(&ipc, sock.name).socket_create(SOCK_STREAM, 0)).map(|_| ()),
        Err(Some(Errno::OpNotSupp)),
    )?;
    let s = socket::Client::new(&ipc, sock.name);
    check(
        8,
        "io_read before connecting",
        errno(io::Client::new(&ipc, sock.name).read(-1, 10)),
        Err(Some(Errno::NotConn)),
    )?;
    check(
        9,
        "socket_connect",
        errno(s.socket_connect(copy(echo.name))),
        Ok(()),
    )?;
    let name = s.socket_name().map_err(|_| 10u64)?;
    let (family, bytes) = socket::Client::new(&ipc, name.name)
        .socket_whatis_address()
        .map_err(|_| 11u64)?;
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    check(
        12,
        "socket_name",
        (family, &bytes[4..8], port >= 49152),
        (AF_INET, &[10u8, 0, 2, 15][..], true),
    )?;
    let peer = s.socket_peername().map_err(|_| 13u64)?;
    check(
        14,
        "socket_peername",
        errno(socket::Client::new(&ipc, peer.name).socket_whatis_address()),
        Ok((AF_INET, sockaddr_in([10, 0, 2, 100], 7))),
    )?;

    let data: Vec<u8> = (0..BYTES).map(|i| b'a' + (i % 26) as u8).collect();
    let file = io::Client::new(&ipc, sock.name);
    let mut sent = 0;
    while sent < data.len() {
        let end = (sent + 3000).min(data.len());
        let n = file.write(data[sent..end].to_vec(), -1).map_err(|e| {
            println!("tcp-client: io_write: {e:?}");
            15u64
        })?;
        if n == 0 {
            return Err(16);
        }
        sent += n as usize;
    }
    let mut got = Vec::new();
    while got.len() < data.len() {
        let d = file.read(-1, 4096).map_err(|e| {
            println!("tcp-client: io_read: {e:?}");
            17u64
        })?;
        if d.is_empty() {
            println!("tcp-client: the stream ended after {} bytes", got.len());
            return Err(18);
        }
        got.extend(d);
    }
    check(19, "the echo", got == data, true)?;
    println!("tcp-client: {BYTES} bytes to 10.0.2.100:7 and back");

    check(20, "socket_shutdown", errno(s.socket_shutdown(1)), Ok(()))?;
    check(
        21,
        "io_read at the end",
        errno(file.read(-1, 100)),
        Ok(Vec::new()),
    )?;
    check(
        22,
        "io_write after shutdown",
        errno(file.write(alloc::vec![1], -1)),
        Err(Some(Errno::Pipe)),
    )?;
    Ok(())
}

/// Listens on port 7, takes the host's connection and echoes it.
fn serve_the_host() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let server = socket::Client::new(&ipc, hurd_rt::ports::SERVICE);
    let sock = server.socket_create(SOCK_STREAM, 0).map_err(|_| 30u64)?;
    let s = socket::Client::new(&ipc, sock.name);
    let any = server
        .socket_create_address(AF_INET, sockaddr_in([0; 4], 7))
        .map_err(|_| 31u64)?;
    check(
        32,
        "socket_bind",
        errno(s.socket_bind(copy(any.name))),
        Ok(()),
    )?;
    check(
        33,
        "io_read on a listening socket",
        errno(
            s.socket_listen(1)
                .and_then(|()| io::Client::new(&ipc, sock.name).read(-1, 1)),
        ),
        Err(Some(Errno::NotConn)),
    )?;
    let name = s.socket_name().map_err(|_| 34u64)?;
    check(
        35,
        "the listening socket's name",
        errno(socket::Client::new(&ipc, name.name).socket_whatis_address()),
        Ok((AF_INET, sockaddr_in([0; 4], 7))),
    )?;
    println!("tcp-client: listening on port 7");
    let (conn, peer) = s.socket_accept().map_err(|e| {
        println!("tcp-client: socket_accept: {e:?}");
        36u64
    })?;
    let (family, bytes) = socket::Client::new(&ipc, peer.name)
        .socket_whatis_address()
        .map_err(|_| 37u64)?;
    check(
        38,
        "the host's address",
        (family, bytes.get(4..8)),
        (AF_INET, Some(&[10u8, 0, 2, 2][..])),
    )?;
    let local = socket::Client::new(&ipc, conn.name)
        .socket_name()
        .map_err(|_| 39u64)?;
    check(
        40,
        "the connection's name",
        errno(socket::Client::new(&ipc, local.name).socket_whatis_address()),
        Ok((AF_INET, sockaddr_in([10, 0, 2, 15], 7))),
    )?;
    // Through socket_recv and socket_send this time: on a stream, no
    // address comes (a null port) and none need be given.
    let c = socket::Client::new(&ipc, conn.name);
    let mut got = 0usize;
    loop {
        let (from, d, _, _, _) = c.socket_recv(0, 4096).map_err(|e| {
            println!("tcp-client: socket_recv from the host: {e:?}");
            41u64
        })?;
        if from.name != PortName::NULL {
            println!("tcp-client: a stream's socket_recv gave an address");
            return Err(46);
        }
        if d.is_empty() {
            break;
        }
        if d.iter()
            .enumerate()
            .any(|(i, &b)| b != ((got + i) % 251) as u8)
        {
            println!("tcp-client: wrong bytes from the host after {got}");
            return Err(42);
        }
        got += d.len();
        let mut sent = 0;
        while sent < d.len() {
            let null = PortItem {
                name: PortName::NULL,
                disposition: Disposition::CopySend,
            };
            let n = c
                .socket_send(null, 0, d[sent..].to_vec(), no_ports(), Vec::new())
                .map_err(|e| {
                    println!("tcp-client: socket_send to the host: {e:?}");
                    43u64
                })?;
            if n == 0 {
                return Err(44);
            }
            sent += n as usize;
        }
    }
    check(45, "bytes from the host", got, HOST_BYTES)?;
    println!("tcp-client: {got} bytes from the host and back");
    Ok(())
}

/// The file read by TFTP from QEMU's user network (its TFTP server serves
/// what the xtask put there), and what it holds.
const TFTP_FILE: (&str, &[u8]) = ("hurd-rs.txt", b"read by TFTP through pfinet\n");

/// A UDP socket reads a file from QEMU's TFTP server (10.0.2.2 port 69):
/// a read request sent, the first data block received, acknowledged.
fn datagrams() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let server = socket::Client::new(&ipc, hurd_rt::ports::SERVICE);
    let sock = server.socket_create(SOCK_DGRAM, 0).map_err(|e| {
        println!("tcp-client: a datagram socket: {e:?}");
        50u64
    })?;
    let s = socket::Client::new(&ipc, sock.name);
    let file = io::Client::new(&ipc, sock.name);
    check(
        51,
        "io_select before a datagram",
        errno(file.select(SELECT_READ | SELECT_WRITE)),
        Ok(SELECT_WRITE),
    )?;
    check(
        52,
        "io_write unconnected",
        errno(file.write(alloc::vec![1], -1)),
        Err(Some(Errno::DestAddrReq)),
    )?;
    let tftp = server
        .socket_create_address(AF_INET, sockaddr_in([10, 0, 2, 2], 69))
        .map_err(|_| 53u64)?;
    // RRQ: opcode 1, the file's name, the mode, each name NUL-ended.
    let (name, text) = TFTP_FILE;
    let mut request = alloc::vec![0, 1];
    request.extend_from_slice(name.as_bytes());
    request.push(0);
    request.extend_from_slice(b"octet\0");
    check(
        54,
        "socket_send of a TFTP read request",
        errno(s.socket_send(copy(tftp.name), 0, request.clone(), no_ports(), Vec::new())),
        Ok(request.len() as u64),
    )?;
    // The first send bound the socket to a port of the dynamic range.
    let local = s.socket_name().map_err(|_| 55u64)?;
    let (_, bytes) = socket::Client::new(&ipc, local.name)
        .socket_whatis_address()
        .map_err(|_| 56u64)?;
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    check(57, "the datagram socket's port", port >= 49152, true)?;
    check(
        58,
        "io_select for reading",
        errno(file.select(SELECT_READ)),
        Ok(SELECT_READ),
    )?;
    let (from, peeked, ports, control, flags) = s.socket_recv(MSG_PEEK, 600).map_err(|e| {
        println!("tcp-client: socket_recv: {e:?}");
        59u64
    })?;
    let (family, source) = socket::Client::new(&ipc, from.name)
        .socket_whatis_address()
        .map_err(|_| 60u64)?;
    check(
        61,
        "the datagram's source",
        (family, source.get(4..8)),
        (AF_INET, Some(&[10u8, 0, 2, 2][..])),
    )?;
    // DATA: opcode 3, block 1, the file (shorter than a block: the last).
    let mut data = alloc::vec![0, 3, 0, 1];
    data.extend_from_slice(text);
    check(
        62,
        "the data block peeked at",
        (&peeked[..], ports.names.len(), control.len(), flags),
        (&data[..], 0, 0, 0),
    )?;
    let (_, cut, _, _, flags) = s.socket_recv(0, 4).map_err(|_| 63u64)?;
    check(
        64,
        "the data block cut short",
        (&cut[..], flags),
        (&data[..4], MSG_TRUNC),
    )?;
    check(
        65,
        "nothing more to read",
        errno(file.select(SELECT_READ | SELECT_WRITE)),
        Ok(SELECT_WRITE),
    )?;
    // ACK block 1, to where the block came from.
    check(
        66,
        "socket_send of the acknowledgement",
        errno(s.socket_send(
            copy(from.name),
            0,
            alloc::vec![0, 4, 0, 1],
            no_ports(),
            Vec::new(),
        )),
        Ok(4),
    )?;
    println!("tcp-client: {name} read by TFTP");
    Ok(())
}

fn no_ports() -> PortArray {
    PortArray {
        disposition: Disposition::CopySend,
        names: Vec::new(),
    }
}
