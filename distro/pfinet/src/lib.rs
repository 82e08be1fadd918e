//! The TCP/IP stack of the reference distro's `pfinet` (the server at
//! `/servers/socket/2`): [smoltcp] over the frames of a Mach network device,
//! with the sockets the Hurd's `socket.defs` and `io.defs` speak of.
//!
//! This crate's library is the stack without the kernel: [`Frames`] is a
//! network device made of two queues (the frames the device delivered, the
//! frames to write to it), and [`Stack`] holds the interface, its address
//! and the socket table, each operation answering at once — with the
//! result, with `Ok(None)` when the caller must wait (data to read, a
//! connection to finish or to accept), or with the `errno` a socket call
//! answers. The program (`src/bin/pfinet.rs`) moves frames between the
//! device and [`Frames`], keeps the requests that wait and asks again after
//! each [`Stack::poll`]. The library is tested on the host, two stacks
//! wired together.
//!
//! Why smoltcp (pinned to 0.14.0): it is the maintained TCP/IP stack
//! written for `no_std` (no allocator needed, none of the OS), used by
//! embedded and unikernel systems, and it builds on stable Rust for
//! `x86_64-unknown-none`; its sockets are polled state machines, which is
//! what a single-threaded Mach server around a receive loop wants. The pin
//! is because its interface changes between minor versions.
//!
//! TCP over IPv4 is served; UDP and IPv6 are not yet (`socket_create` of
//! another type or family is refused).
#![no_std]

extern crate alloc;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use hurd_ipc::Errno;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint, IpListenEndpoint,
};

/// `SOCK_STREAM`.
pub const SOCK_STREAM: i32 = 1;
/// `AF_INET` (`PF_INET`).
pub const AF_INET: i32 = 2;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: i32 = 6;
/// The longest Ethernet frame without its checksum.
pub const MAX_FRAME: usize = 1514;
/// Frames kept waiting for the stack; more are dropped (as a full
/// interface queue does).
pub const RX_QUEUE: usize = 64;
/// Frames kept waiting for the device; the stack holds back beyond.
pub const TX_QUEUE: usize = 64;
/// Each TCP socket's receive and send buffers.
pub const TCP_BUFFER: usize = 16 * 1024;
/// The most sockets (listening sockets' waiting connections included).
pub const MAX_SOCKETS: usize = 256;
/// The most connections a listening socket keeps waiting for
/// `socket_accept`.
pub const MAX_BACKLOG: usize = 8;
/// The first local port given to a socket that connects unbound (the
/// dynamic range).
pub const EPHEMERAL: u16 = 49152;

/// A network device made of two queues: frames the device delivered, and
/// frames the stack wants written to it.
#[derive(Debug, Default)]
pub struct Frames {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
}

impl Frames {
    /// A frame from the device (one longer than [`MAX_FRAME`], or with
    /// [`RX_QUEUE`] frames waiting, is dropped). Returns whether it was
    /// kept.
    pub fn deliver(&mut self, frame: Vec<u8>) -> bool {
        if frame.len() > MAX_FRAME || self.rx.len() >= RX_QUEUE {
            return false;
        }
        self.rx.push_back(frame);
        true
    }

    /// The next frame to write to the device.
    pub fn next_out(&mut self) -> Option<Vec<u8>> {
        self.tx.pop_front()
    }
}

/// A received frame, for smoltcp.
pub struct RxToken(Vec<u8>);

/// Room for a frame to send, for smoltcp.
pub struct TxToken<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for RxToken {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(&self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.push_back(frame);
        r
    }
}

impl phy::Device for Frames {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((RxToken(frame), TxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        if self.tx.len() >= TX_QUEUE {
            return None;
        }
        Some(TxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps
    }
}

/// The interface's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// The device's MAC address.
    pub mac: [u8; 6],
    /// This machine's address.
    pub address: Ipv4Addr,
    /// The network's prefix length (24 for 255.255.255.0).
    pub prefix: u8,
    /// The default route's gateway.
    pub gateway: Option<Ipv4Addr>,
}

/// A socket's number in the [`Stack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketId(pub u32);

/// What a socket is.
#[derive(Debug)]
enum Sock {
    /// Created, not connected nor listening; maybe bound (to this
    /// machine's address or any).
    Fresh { bound: Option<IpEndpoint> },
    /// Connecting or connected (or closing).
    Stream { handle: SocketHandle },
    /// Listening: sockets waiting for connections, and connections waiting
    /// for `socket_accept`.
    Listening {
        at: IpEndpoint,
        backlog: usize,
        waiting: Vec<SocketHandle>,
        ready: VecDeque<SocketHandle>,
    },
}

/// The stack: an interface on [`Frames`], and its sockets.
pub struct Stack {
    iface: Interface,
    frames: Frames,
    set: SocketSet<'static>,
    table: BTreeMap<SocketId, Sock>,
    next_id: u32,
    next_port: u16,
    address: Ipv4Addr,
    /// Connections of sockets gone, kept until closed.
    closing: Vec<SocketHandle>,
}

fn tcp_socket() -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
    )
}

/// A socket call's answer: `Ok(Some(_))` done, `Ok(None)` not yet (ask
/// again after the next [`Stack::poll`]), `Err` the call's `errno`.
pub type Answer<T> = Result<Option<T>, Errno>;

impl Stack {
    /// A stack with the interface set up, at `now` (milliseconds since
    /// some fixed start).
    pub fn new(setup: Setup, now: i64) -> Stack {
        let mut frames = Frames::default();
        let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(setup.mac)));
        config.random_seed = u64::from_le_bytes([
            setup.mac[0],
            setup.mac[1],
            setup.mac[2],
            setup.mac[3],
            setup.mac[4],
            setup.mac[5],
            0,
            0,
        ]) ^ now as u64;
        let mut iface = Interface::new(config, &mut frames, Instant::from_millis(now));
        iface.update_ip_addrs(|addrs| {
            let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(setup.address), setup.prefix));
        });
        if let Some(gateway) = setup.gateway {
            let _ = iface.routes_mut().add_default_ipv4_route(gateway);
        }
        Stack {
            iface,
            frames,
            set: SocketSet::new(Vec::new()),
            table: BTreeMap::new(),
            next_id: 1,
            next_port: EPHEMERAL,
            address: setup.address,
            closing: Vec::new(),
        }
    }

    /// The device's queues.
    pub fn frames(&mut self) -> &mut Frames {
        &mut self.frames
    }

    /// Runs the stack at `now`: frames in, state machines, frames out.
    pub fn poll(&mut self, now: i64) {
        self.iface
            .poll(Instant::from_millis(now), &mut self.frames, &mut self.set);
        self.refill_listeners();
        let set = &mut self.set;
        self.closing.retain(|&h| {
            if set.get::<tcp::Socket>(h).state() == tcp::State::Closed {
                set.remove(h);
                false
            } else {
                true
            }
        });
    }

    /// How long until the stack must run again without new frames
    /// (milliseconds); `None`: not before something arrives.
    pub fn poll_delay(&mut self, now: i64) -> Option<u64> {
        self.iface
            .poll_delay(Instant::from_millis(now), &self.set)
            .map(|d| d.total_millis())
    }

    /// How many sockets (and waiting connections) there are.
    pub fn socket_count(&self) -> usize {
        self.set.iter().count()
    }

    /// `socket_create`: a new socket of `sock_type` and `protocol`.
    ///
    /// # Errors
    ///
    /// `ESOCKTNOSUPPORT` for a type other than `SOCK_STREAM`,
    /// `EPROTONOSUPPORT` for a protocol other than 0 or TCP, `ENOBUFS` when
    /// the table is full.
    pub fn create(&mut self, sock_type: i32, protocol: i32) -> Result<SocketId, Errno> {
        if sock_type != SOCK_STREAM {
            return Err(Errno::SockTNoSupport);
        }
        if protocol != 0 && protocol != IPPROTO_TCP {
            return Err(Errno::ProtoNoSupport);
        }
        if self.table.len() >= MAX_SOCKETS {
            return Err(Errno::NoBufs);
        }
        let id = SocketId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.table.insert(id, Sock::Fresh { bound: None });
        Ok(id)
    }

    /// Whether `port` is taken by a socket.
    fn port_in_use(&self, port: u16) -> bool {
        self.table.values().any(|s| match s {
            Sock::Fresh { bound } => bound.is_some_and(|b| b.port == port),
            Sock::Listening { at, .. } => at.port == port,
            Sock::Stream { handle } => self
                .set
                .get::<tcp::Socket>(*handle)
                .local_endpoint()
                .is_some_and(|e| e.port == port),
        })
    }

    /// A free port of the dynamic range.
    fn ephemeral(&mut self) -> Result<u16, Errno> {
        for _ in 0..=(u16::MAX - EPHEMERAL) {
            let port = self.next_port;
            self.next_port = if port == u16::MAX {
                EPHEMERAL
            } else {
                port + 1
            };
            if !self.port_in_use(port) {
                return Ok(port);
            }
        }
        Err(Errno::AddrInUse)
    }

    /// `socket_bind`: the socket's local address (this machine's, or any).
    ///
    /// # Errors
    ///
    /// `EBADF` for no such socket, `EINVAL` for one bound, connected or
    /// listening already, `EADDRNOTAVAIL` for an address not this
    /// machine's, `EADDRINUSE` for a port taken.
    pub fn bind(&mut self, id: SocketId, at: IpEndpoint) -> Result<(), Errno> {
        match self.table.get(&id) {
            None => return Err(Errno::BadF),
            Some(Sock::Fresh { bound: None }) => {}
            Some(_) => return Err(Errno::Inval),
        }
        let IpAddress::Ipv4(addr) = at.addr;
        if !addr.is_unspecified() && addr != self.address {
            return Err(Errno::AddrNotAvail);
        }
        let port = if at.port == 0 {
            self.ephemeral()?
        } else if self.port_in_use(at.port) {
            return Err(Errno::AddrInUse);
        } else {
            at.port
        };
        self.table.insert(
            id,
            Sock::Fresh {
                bound: Some(IpEndpoint::new(at.addr, port)),
            },
        );
        Ok(())
    }

    /// `socket_connect` begun: the connection is under way (wait for it
    /// with [`Stack::connected`]).
    ///
    /// # Errors
    ///
    /// `EBADF`, `EISCONN` for a socket connected or listening,
    /// `EADDRNOTAVAIL` for an unspecified address or port 0, `ENOBUFS`.
    pub fn connect(&mut self, id: SocketId, to: IpEndpoint) -> Result<(), Errno> {
        let port = match self.table.get(&id) {
            None => return Err(Errno::BadF),
            Some(Sock::Fresh { bound }) => bound.map(|b| b.port),
            Some(_) => return Err(Errno::IsConn),
        };
        if to.port == 0 || to.addr.is_unspecified() {
            return Err(Errno::AddrNotAvail);
        }
        let port = match port {
            Some(p) => p,
            None => self.ephemeral()?,
        };
        let mut socket = tcp_socket();
        socket
            .connect(self.iface.context(), to, port)
            .map_err(|_| Errno::AddrNotAvail)?;
        let handle = self.set.add(socket);
        self.table.insert(id, Sock::Stream { handle });
        Ok(())
    }

    /// Whether the connection `connect` began is made.
    ///
    /// # Errors
    ///
    /// `ECONNREFUSED` when it was refused or could not be made, `EBADF`,
    /// `ENOTCONN` for a socket that never connected.
    pub fn connected(&mut self, id: SocketId) -> Answer<()> {
        let handle = self.stream(id)?;
        let socket = self.set.get::<tcp::Socket>(handle);
        match socket.state() {
            tcp::State::SynSent | tcp::State::SynReceived => Ok(None),
            tcp::State::Closed => Err(Errno::ConnRefused),
            _ => Ok(Some(())),
        }
    }

    fn stream(&self, id: SocketId) -> Result<SocketHandle, Errno> {
        match self.table.get(&id) {
            Some(Sock::Stream { handle }) => Ok(*handle),
            Some(_) => Err(Errno::NotConn),
            None => Err(Errno::BadF),
        }
    }

    /// `socket_listen`: the socket takes connections on its bound port,
    /// `backlog` (1 to [`MAX_BACKLOG`]) at a time.
    ///
    /// # Errors
    ///
    /// `EBADF`, `EINVAL` for an unbound socket, `EISCONN` for a connected
    /// one, `ENOBUFS`.
    pub fn listen(&mut self, id: SocketId, backlog: i32) -> Result<(), Errno> {
        let backlog = usize::try_from(backlog).unwrap_or(0).clamp(1, MAX_BACKLOG);
        match self.table.get_mut(&id) {
            None => Err(Errno::BadF),
            Some(Sock::Fresh { bound: None }) => Err(Errno::Inval),
            Some(Sock::Fresh { bound: Some(at) }) => {
                let at = *at;
                self.table.insert(
                    id,
                    Sock::Listening {
                        at,
                        backlog,
                        waiting: Vec::new(),
                        ready: VecDeque::new(),
                    },
                );
                self.refill_listeners();
                Ok(())
            }
            Some(Sock::Listening { backlog: b, .. }) => {
                *b = backlog;
                Ok(())
            }
            Some(Sock::Stream { .. }) => Err(Errno::IsConn),
        }
    }

    /// Moves established connections of listening sockets to their ready
    /// queues, and keeps enough sockets listening.
    fn refill_listeners(&mut self) {
        let total = self.set.iter().count();
        let mut room = (MAX_SOCKETS * 2).saturating_sub(total);
        for sock in self.table.values_mut() {
            let Sock::Listening {
                at,
                backlog,
                waiting,
                ready,
            } = sock
            else {
                continue;
            };
            waiting.retain(|&h| {
                let s = self.set.get::<tcp::Socket>(h);
                if s.is_listening() || s.state() == tcp::State::SynReceived {
                    true
                } else {
                    // Established (or already gone: accept reports it).
                    ready.push_back(h);
                    false
                }
            });
            while waiting.len() + ready.len() < *backlog && room > 0 {
                let mut socket = tcp_socket();
                let on = IpListenEndpoint {
                    addr: (!at.addr.is_unspecified()).then_some(at.addr),
                    port: at.port,
                };
                if socket.listen(on).is_err() {
                    break;
                }
                waiting.push(self.set.add(socket));
                room -= 1;
            }
        }
    }

    /// `socket_accept`: the next connection on a listening socket, as a new
    /// socket, and its peer's address.
    ///
    /// # Errors
    ///
    /// `EBADF`, `EINVAL` for a socket not listening, `ENOBUFS`.
    pub fn accept(&mut self, id: SocketId) -> Answer<(SocketId, IpEndpoint)> {
        if self.table.len() >= MAX_SOCKETS {
            return Err(Errno::NoBufs);
        }
        let handle = match self.table.get_mut(&id) {
            None => return Err(Errno::BadF),
            Some(Sock::Listening { ready, .. }) => match ready.pop_front() {
                Some(h) => h,
                None => return Ok(None),
            },
            Some(_) => return Err(Errno::Inval),
        };
        let peer = self.set.get::<tcp::Socket>(handle).remote_endpoint();
        let new = SocketId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.table.insert(new, Sock::Stream { handle });
        self.refill_listeners();
        let peer = peer.unwrap_or(IpEndpoint::new(IpAddress::Ipv4(Ipv4Addr::UNSPECIFIED), 0));
        Ok(Some((new, peer)))
    }

    /// `io_read`: up to `amount` bytes; an empty answer is the end of the
    /// stream (the peer closed it).
    ///
    /// # Errors
    ///
    /// `EBADF`, `ENOTCONN` for a socket not connected, `ECONNRESET` for a
    /// connection reset before anything was read.
    pub fn read(&mut self, id: SocketId, amount: usize) -> Answer<Vec<u8>> {
        let handle = self.stream(id)?;
        let socket = self.set.get_mut::<tcp::Socket>(handle);
        if socket.can_recv() {
            let mut data = vec![0; amount.min(TCP_BUFFER)];
            let n = socket.recv_slice(&mut data).map_err(|_| Errno::NotConn)?;
            data.truncate(n);
            return Ok(Some(data));
        }
        match socket.state() {
            tcp::State::SynSent | tcp::State::SynReceived => Ok(None),
            _ if socket.may_recv() => Ok(None),
            tcp::State::Closed => Ok(Some(Vec::new())),
            _ => Ok(Some(Vec::new())),
        }
    }

    /// `io_write`: as much of `data` as the send buffer takes (at least one
    /// byte, else wait).
    ///
    /// # Errors
    ///
    /// `EBADF`, `ENOTCONN`, `EPIPE` when the stream is closed for sending.
    pub fn write(&mut self, id: SocketId, data: &[u8]) -> Answer<usize> {
        let handle = self.stream(id)?;
        let socket = self.set.get_mut::<tcp::Socket>(handle);
        match socket.state() {
            tcp::State::SynSent | tcp::State::SynReceived => return Ok(None),
            _ if !socket.may_send() => return Err(Errno::Pipe),
            _ => {}
        }
        if data.is_empty() {
            return Ok(Some(0));
        }
        if !socket.can_send() {
            return Ok(None);
        }
        let n = socket.send_slice(data).map_err(|_| Errno::Pipe)?;
        Ok(if n == 0 { None } else { Some(n) })
    }

    /// Bytes readable now (`io_readable`).
    ///
    /// # Errors
    ///
    /// `EBADF`, `ENOTCONN`.
    pub fn readable(&self, id: SocketId) -> Result<usize, Errno> {
        let handle = self.stream(id)?;
        Ok(self.set.get::<tcp::Socket>(handle).recv_queue())
    }

    /// `socket_shutdown`: `direction` 1 or 2 closes the sending half (a FIN
    /// follows the data queued); receiving is not cut (0 does nothing
    /// smoltcp can express).
    ///
    /// # Errors
    ///
    /// `EBADF`, `ENOTCONN`, `EINVAL` for another direction.
    pub fn shutdown(&mut self, id: SocketId, direction: i32) -> Result<(), Errno> {
        if !(0..=2).contains(&direction) {
            return Err(Errno::Inval);
        }
        let handle = self.stream(id)?;
        if direction != 0 {
            self.set.get_mut::<tcp::Socket>(handle).close();
        }
        Ok(())
    }

    /// The socket's local address (`socket_name`): as bound (any address,
    /// 0.0.0.0, stays so), 0.0.0.0 port 0 before that, as Linux tells.
    ///
    /// # Errors
    ///
    /// `EBADF`.
    pub fn name(&self, id: SocketId) -> Result<IpEndpoint, Errno> {
        let unbound = IpEndpoint::new(IpAddress::Ipv4(Ipv4Addr::UNSPECIFIED), 0);
        match self.table.get(&id) {
            None => Err(Errno::BadF),
            Some(Sock::Fresh { bound }) => Ok(bound.unwrap_or(unbound)),
            Some(Sock::Listening { at, .. }) => Ok(*at),
            Some(Sock::Stream { handle }) => Ok(self
                .set
                .get::<tcp::Socket>(*handle)
                .local_endpoint()
                .unwrap_or(unbound)),
        }
    }

    /// The peer's address (`socket_peername`).
    ///
    /// # Errors
    ///
    /// `EBADF`, `ENOTCONN`.
    pub fn peer(&self, id: SocketId) -> Result<IpEndpoint, Errno> {
        let handle = self.stream(id)?;
        self.set
            .get::<tcp::Socket>(handle)
            .remote_endpoint()
            .ok_or(Errno::NotConn)
    }

    /// The socket is gone (its port has no senders left): its connection
    /// is closed (a FIN, or a reset if it listened) and forgotten once
    /// closed.
    pub fn close(&mut self, id: SocketId) {
        match self.table.remove(&id) {
            Some(Sock::Stream { handle }) => {
                let socket = self.set.get_mut::<tcp::Socket>(handle);
                socket.close();
                self.closing.push(handle);
            }
            Some(Sock::Listening { waiting, ready, .. }) => {
                for h in waiting.into_iter().chain(ready) {
                    self.set.get_mut::<tcp::Socket>(h).abort();
                    self.closing.push(h);
                }
            }
            _ => {}
        }
    }
}

/// A `struct sockaddr_in` as the Hurd lays it out (`sin_len`, `sin_family`,
/// the port and address in network order, 8 zeros): 16 bytes.
pub fn sockaddr_in(at: IpEndpoint) -> Vec<u8> {
    let IpAddress::Ipv4(addr) = at.addr;
    let mut s = Vec::with_capacity(16);
    s.push(16);
    s.push(AF_INET as u8);
    s.extend_from_slice(&at.port.to_be_bytes());
    s.extend_from_slice(&addr.octets());
    s.extend_from_slice(&[0; 8]);
    s
}

/// The endpoint a `struct sockaddr_in` names.
///
/// # Errors
///
/// `EAFNOSUPPORT` for another family, `EINVAL` for fewer than 8 bytes.
pub fn parse_sockaddr_in(family: i32, bytes: &[u8]) -> Result<IpEndpoint, Errno> {
    if family != AF_INET {
        return Err(Errno::AfNoSupport);
    }
    let [_len, fam, p0, p1, a, b, c, d, ..] = *bytes else {
        return Err(Errno::Inval);
    };
    if i32::from(fam) != AF_INET && fam != 0 {
        return Err(Errno::AfNoSupport);
    }
    Ok(IpEndpoint::new(
        IpAddress::Ipv4(Ipv4Addr::new(a, b, c, d)),
        u16::from_be_bytes([p0, p1]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn stack(mac: u8, address: Ipv4Addr) -> Stack {
        Stack::new(
            Setup {
                mac: [0x52, 0x54, 0, 0, 0, mac],
                address,
                prefix: 24,
                gateway: None,
            },
            0,
        )
    }

    /// Two stacks on one wire.
    struct Wire {
        a: Stack,
        b: Stack,
        now: i64,
    }

    impl Wire {
        fn new() -> Wire {
            Wire {
                a: stack(1, A),
                b: stack(2, B),
                now: 0,
            }
        }

        /// Runs both stacks for `ms` milliseconds of simulated time.
        fn run(&mut self, ms: i64) {
            for _ in 0..ms {
                self.a.poll(self.now);
                self.b.poll(self.now);
                while let Some(f) = self.a.frames().next_out() {
                    self.b.frames().deliver(f);
                }
                while let Some(f) = self.b.frames().next_out() {
                    self.a.frames().deliver(f);
                }
                self.now += 1;
            }
        }
    }

    fn at(addr: Ipv4Addr, port: u16) -> IpEndpoint {
        IpEndpoint::new(IpAddress::Ipv4(addr), port)
    }

    #[test]
    fn connect_accept_and_bytes_both_ways() {
        let mut w = Wire::new();
        let server = w.b.create(SOCK_STREAM, 0).expect("socket");
        w.b.bind(server, at(Ipv4Addr::UNSPECIFIED, 7))
            .expect("bind");
        w.b.listen(server, 2).expect("listen");
        assert_eq!(w.b.accept(server), Ok(None));

        let client = w.a.create(SOCK_STREAM, IPPROTO_TCP).expect("socket");
        w.a.connect(client, at(B, 7)).expect("connect");
        assert_eq!(w.a.connected(client), Ok(None));
        assert_eq!(w.a.read(client, 10), Ok(None));
        w.run(50);
        assert_eq!(w.a.connected(client), Ok(Some(())));
        let (conn, peer) = w.b.accept(server).expect("accept").expect("a connection");
        let name = w.a.name(client).expect("name");
        assert_eq!(peer, name);
        assert!(name.port >= EPHEMERAL);
        assert_eq!(w.a.peer(client), Ok(at(B, 7)));
        // Bound to any address, as Linux's getsockname tells.
        assert_eq!(w.b.name(server), Ok(at(Ipv4Addr::UNSPECIFIED, 7)));
        assert_eq!(w.b.name(conn), Ok(at(B, 7)));

        // More than one buffer's worth, in pieces.
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        let (mut sent, mut got) = (0, Vec::new());
        for _ in 0..2000 {
            if sent < data.len()
                && let Ok(Some(n)) = w.a.write(client, &data[sent..])
            {
                sent += n;
            }
            w.run(1);
            if let Ok(Some(d)) = w.b.read(conn, 5000) {
                got.extend(d);
            }
            if got.len() == data.len() {
                break;
            }
        }
        assert_eq!(got, data);
        assert_eq!(w.b.write(conn, b"back"), Ok(Some(4)));
        w.run(20);
        assert_eq!(w.a.readable(client), Ok(4));
        assert_eq!(w.a.read(client, 100), Ok(Some(b"back".to_vec())));

        // The client closes its half: the server reads the end.
        w.a.shutdown(client, 1).expect("shutdown");
        w.run(20);
        assert_eq!(w.b.read(conn, 100), Ok(Some(Vec::new())));
        assert_eq!(w.a.write(client, b"x"), Err(Errno::Pipe));

        // Both gone: their connections close and are forgotten (after
        // TIME-WAIT, 10 s in smoltcp).
        let before = w.a.socket_count();
        w.a.close(client);
        w.b.close(conn);
        w.run(11_000);
        assert_eq!(w.a.socket_count(), before - 1);
        assert_eq!(w.a.read(client, 1), Err(Errno::BadF));
    }

    #[test]
    fn refusals() {
        let mut w = Wire::new();
        assert_eq!(w.a.create(2, 0), Err(Errno::SockTNoSupport));
        assert_eq!(w.a.create(SOCK_STREAM, 17), Err(Errno::ProtoNoSupport));
        let s = w.a.create(SOCK_STREAM, 0).expect("socket");
        assert_eq!(w.a.read(s, 1), Err(Errno::NotConn));
        assert_eq!(w.a.listen(s, 1), Err(Errno::Inval));
        assert_eq!(w.a.bind(s, at(B, 7)), Err(Errno::AddrNotAvail));
        assert_eq!(w.a.connect(s, at(B, 0)), Err(Errno::AddrNotAvail));
        w.a.bind(s, at(A, 80)).expect("bind");
        assert_eq!(w.a.bind(s, at(A, 81)), Err(Errno::Inval));
        let t = w.a.create(SOCK_STREAM, 0).expect("socket");
        assert_eq!(w.a.bind(t, at(A, 80)), Err(Errno::AddrInUse));
        assert_eq!(w.a.read(SocketId(999), 1), Err(Errno::BadF));
        assert_eq!(w.a.accept(t), Err(Errno::Inval));

        // Nobody listens on B's port 9: refused.
        w.a.connect(t, at(B, 9)).expect("connect");
        w.run(50);
        assert_eq!(w.a.connected(t), Err(Errno::ConnRefused));
        assert_eq!(w.a.connect(t, at(B, 9)), Err(Errno::IsConn));
    }

    #[test]
    fn the_table_is_bounded() {
        let mut s = stack(1, A);
        for _ in 0..MAX_SOCKETS {
            s.create(SOCK_STREAM, 0).expect("room");
        }
        assert_eq!(s.create(SOCK_STREAM, 0), Err(Errno::NoBufs));
        let mut f = Frames::default();
        for _ in 0..RX_QUEUE {
            assert!(f.deliver(vec![0; 60]));
        }
        assert!(!f.deliver(vec![0; 60]));
        assert!(!Frames::default().deliver(vec![0; MAX_FRAME + 1]));
    }

    #[test]
    fn sockaddrs() {
        let e = at(Ipv4Addr::new(10, 0, 2, 100), 7);
        let s = sockaddr_in(e);
        assert_eq!(s, [16, 2, 0, 7, 10, 0, 2, 100, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse_sockaddr_in(AF_INET, &s), Ok(e));
        assert_eq!(parse_sockaddr_in(10, &s), Err(Errno::AfNoSupport));
        assert_eq!(parse_sockaddr_in(AF_INET, &s[..7]), Err(Errno::Inval));
        let mut wrong = s.clone();
        wrong[1] = 1;
        assert_eq!(parse_sockaddr_in(AF_INET, &wrong), Err(Errno::AfNoSupport));
    }
}
