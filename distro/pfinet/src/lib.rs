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
//! TCP and UDP over IPv4 are served; IPv6 is not yet (`socket_create` of
//! another type, or an address of another family, is refused).
//!
//! The address is given ([`Setup`], from the arguments the Hurd's pfinet
//! takes: [`parse_args`]) or asked of a DHCP server (RFC 2131, smoltcp's
//! DHCPv4 client): then [`Stack::poll`] reports the lease when it comes,
//! changes or is lost, and the interface follows it.
#![no_std]

extern crate alloc;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use hurd_ipc::Errno;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::{dhcpv4, tcp, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint, IpListenEndpoint, Ipv4Cidr,
};

/// `SOCK_STREAM`.
pub const SOCK_STREAM: i32 = 1;
/// `SOCK_DGRAM`.
pub const SOCK_DGRAM: i32 = 2;
/// `AF_INET` (`PF_INET`).
pub const AF_INET: i32 = 2;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: i32 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: i32 = 17;
/// `MSG_OOB` (glibc's `bits/socket.h`, as the Hurd uses it): urgent data.
pub const MSG_OOB: i32 = 0x01;
/// `MSG_PEEK`: the data is read and left there.
pub const MSG_PEEK: i32 = 0x02;
/// `MSG_TRUNC`, in `socket_recv`'s out flags: the datagram was longer than
/// the room asked for, and its rest is lost.
pub const MSG_TRUNC: i32 = 0x10;
/// `MSG_WAITALL`: a stream's receive waits for the whole amount asked
/// (here at most one receive buffer, [`TCP_BUFFER`]) or its end.
pub const MSG_WAITALL: i32 = 0x40;
/// `MSG_DONTWAIT`: `EAGAIN` instead of waiting.
pub const MSG_DONTWAIT: i32 = 0x80;
/// `MSG_NOSIGNAL`: no `SIGPIPE` (a server sends no signal anyway).
pub const MSG_NOSIGNAL: i32 = 0x400;
pub use hurd_trans::protocol::{SELECT_READ, SELECT_URG, SELECT_WRITE};
/// The longest Ethernet frame without its checksum.
pub const MAX_FRAME: usize = 1514;
/// Frames kept waiting for the stack; more are dropped (as a full
/// interface queue does).
pub const RX_QUEUE: usize = 64;
/// Frames kept waiting for the device; the stack holds back beyond.
pub const TX_QUEUE: usize = 64;
/// Each TCP socket's receive and send buffers.
pub const TCP_BUFFER: usize = 16 * 1024;
/// Each UDP socket's receive and send buffers (payload bytes), and
/// [`UDP_PACKETS`] datagrams at most in each.
pub const UDP_BUFFER: usize = 16 * 1024;
/// The most datagrams waiting in each UDP buffer.
pub const UDP_PACKETS: usize = 16;
/// The longest datagram sent: one Ethernet frame's worth (the stack does
/// not fragment); longer ones are refused `EMSGSIZE`.
pub const MAX_DATAGRAM: usize = MAX_FRAME - 14 - 20 - 8;
/// The most sockets (listening sockets' waiting connections included).
pub const MAX_SOCKETS: usize = 256;
/// The most connections a listening socket keeps waiting for
/// `socket_accept`.
pub const MAX_BACKLOG: usize = 8;
/// The first local port given to a socket that connects unbound (the
/// dynamic range).
pub const EPHEMERAL: u16 = 49152;
/// How long the DHCP client waits for an offer before it asks again
/// (milliseconds). Shorter than smoltcp's 10 s: a virtual machine's first
/// request may go out before its card is up, and the boot waits for the
/// lease.
pub const DHCP_DISCOVER_RETRY: u64 = 2_000;

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
    /// Whether to ask a DHCP server for the address, netmask and gateway
    /// instead (`address`, `prefix` and `gateway` are then not used).
    pub dhcp: bool,
}

/// The interface's setup from the arguments the Hurd's pfinet takes (the
/// program's name left out): `-i eth0` (`--interface`; the only interface),
/// `-a ADDRESS` (`--address`), `-g GATEWAY` (`--gateway`), `-m NETMASK`
/// (`--netmask`, 255.255.255.0 when not given); or `--dhcp`, asking a DHCP
/// server for all three.
///
/// # Errors
///
/// A message naming what is wrong: an unknown argument or interface, a
/// value missing or not an address, a netmask whose ones are not
/// contiguous, no address (neither `-a` nor `--dhcp`), `--dhcp` with an
/// address, gateway or netmask.
pub fn parse_args(mac: [u8; 6], args: &[&str]) -> Result<Setup, String> {
    let mut setup = Setup {
        mac,
        address: Ipv4Addr::UNSPECIFIED,
        prefix: 24,
        gateway: None,
        dhcp: false,
    };
    let mut given = false;
    let mut words = args.iter();
    while let Some(&word) = words.next() {
        let mut value = || {
            words
                .next()
                .copied()
                .ok_or_else(|| format!("{word} needs a value"))
        };
        let address = |text: &str, what: &str| {
            text.parse::<Ipv4Addr>()
                .map_err(|_| format!("{text} is no {what}"))
        };
        match word {
            "-i" | "--interface" => {
                let name = value()?;
                if name != "eth0" {
                    return Err(format!("no interface {name}"));
                }
            }
            "-a" | "--address" => {
                setup.address = address(value()?, "address")?;
                given = true;
            }
            "-g" | "--gateway" => {
                setup.gateway = Some(address(value()?, "gateway")?);
                given = true;
            }
            "-m" | "--netmask" => {
                let mask = address(value()?, "netmask")?;
                let bits = u32::from(mask);
                if bits.leading_ones() + bits.trailing_zeros() != 32 {
                    return Err(format!("{mask} is no netmask"));
                }
                setup.prefix = bits.leading_ones() as u8;
                given = true;
            }
            "--dhcp" => setup.dhcp = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if setup.dhcp && given {
        return Err("--dhcp asks for the address, netmask and gateway: none is given".to_string());
    }
    if !setup.dhcp && setup.address.is_unspecified() {
        return Err("no address (-a ADDRESS, or --dhcp)".to_string());
    }
    Ok(setup)
}

/// A DHCP lease: the configuration a DHCP server gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// This machine's address.
    pub address: Ipv4Addr,
    /// The network's prefix length.
    pub prefix: u8,
    /// The default route's gateway (the server's `router` option).
    pub gateway: Option<Ipv4Addr>,
    /// The server that gave it.
    pub server: Ipv4Addr,
}

/// A change of the interface's configuration, as [`Stack::poll`] reports
/// it (only a stack asking DHCP has any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A lease came, or its configuration changed: the interface has its
    /// address, and its default route the gateway.
    Leased(Lease),
    /// The lease ended unrenewed: the interface has no address again (and
    /// asks anew).
    Lost,
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
    /// A UDP socket: bound once it has a port (smoltcp's endpoint), and
    /// its peer once connected.
    Datagram {
        handle: SocketHandle,
        peer: Option<IpEndpoint>,
    },
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
    /// The DHCP client, when the address is asked for.
    dhcp: Option<SocketHandle>,
    /// The lease it holds.
    lease: Option<Lease>,
}

fn tcp_socket() -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
    )
}

fn udp_socket() -> udp::Socket<'static> {
    let buffer = || {
        udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
            vec![0; UDP_BUFFER],
        )
    };
    udp::Socket::new(buffer(), buffer())
}

/// What `socket_recv` got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The bytes (a datagram, or part of it; a stream's next bytes).
    pub data: Vec<u8>,
    /// Where a datagram came from (none for a stream).
    pub from: Option<IpEndpoint>,
    /// The out flags: [`MSG_TRUNC`] when a datagram was cut.
    pub flags: i32,
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
        let mut set = SocketSet::new(Vec::new());
        let dhcp = if setup.dhcp {
            let mut client = dhcpv4::Socket::new();
            let mut retry = client.get_retry_config();
            retry.discover_timeout = Duration::from_millis(DHCP_DISCOVER_RETRY);
            client.set_retry_config(retry);
            Some(set.add(client))
        } else {
            iface.update_ip_addrs(|addrs| {
                let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(setup.address), setup.prefix));
            });
            if let Some(gateway) = setup.gateway {
                let _ = iface.routes_mut().add_default_ipv4_route(gateway);
            }
            None
        };
        Stack {
            iface,
            frames,
            set,
            table: BTreeMap::new(),
            next_id: 1,
            next_port: EPHEMERAL,
            address: if setup.dhcp {
                Ipv4Addr::UNSPECIFIED
            } else {
                setup.address
            },
            closing: Vec::new(),
            dhcp,
            lease: None,
        }
    }

    /// The lease held, for a stack asking DHCP.
    pub fn lease(&self) -> Option<Lease> {
        self.lease
    }

    /// What the DHCP client learnt in the last poll, applied to the
    /// interface.
    fn follow_lease(&mut self) -> Option<Change> {
        let change = match self.set.get_mut::<dhcpv4::Socket>(self.dhcp?).poll()? {
            dhcpv4::Event::Configured(config) => Change::Leased(Lease {
                address: config.address.address(),
                prefix: config.address.prefix_len(),
                gateway: config.router,
                server: config.server.address,
            }),
            // smoltcp's client reports itself unconfigured once at its
            // start: no lease was lost then.
            dhcpv4::Event::Deconfigured if self.lease.is_none() => return None,
            dhcpv4::Event::Deconfigured => Change::Lost,
        };
        let lease = match change {
            Change::Leased(lease) => Some(lease),
            Change::Lost => None,
        };
        self.iface.update_ip_addrs(|addrs| {
            addrs.clear();
            if let Some(lease) = lease {
                let _ = addrs.push(IpCidr::Ipv4(Ipv4Cidr::new(lease.address, lease.prefix)));
            }
        });
        match lease.and_then(|l| l.gateway) {
            Some(gateway) => {
                let _ = self.iface.routes_mut().add_default_ipv4_route(gateway);
            }
            None => {
                let _ = self.iface.routes_mut().remove_default_ipv4_route();
            }
        }
        self.address = lease.map_or(Ipv4Addr::UNSPECIFIED, |l| l.address);
        self.lease = lease;
        Some(change)
    }

    /// The device's queues.
    pub fn frames(&mut self) -> &mut Frames {
        &mut self.frames
    }

    /// Runs the stack at `now`: frames in, state machines, frames out;
    /// returns what changed in the interface's configuration (a DHCP lease
    /// that came, changed or was lost).
    pub fn poll(&mut self, now: i64) -> Option<Change> {
        self.iface
            .poll(Instant::from_millis(now), &mut self.frames, &mut self.set);
        let change = self.follow_lease();
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
        change
    }

    /// How long until the stack must run again without new frames
    /// (milliseconds); `None`: not before something arrives.
    pub fn poll_delay(&mut self, now: i64) -> Option<u64> {
        self.iface
            .poll_delay(Instant::from_millis(now), &self.set)
            .map(|d| d.total_millis())
    }

    /// How many sockets (and waiting connections; the DHCP client's
    /// too) there are.
    pub fn socket_count(&self) -> usize {
        self.set.iter().count()
    }

    /// `socket_create`: a new socket of `sock_type` and `protocol`.
    ///
    /// # Errors
    ///
    /// `ESOCKTNOSUPPORT` for a type other than `SOCK_STREAM` and
    /// `SOCK_DGRAM`, `EPROTONOSUPPORT` for a protocol other than 0 or the
    /// type's (TCP, UDP), `ENOBUFS` when the table is full.
    pub fn create(&mut self, sock_type: i32, protocol: i32) -> Result<SocketId, Errno> {
        let own = match sock_type {
            SOCK_STREAM => IPPROTO_TCP,
            SOCK_DGRAM => IPPROTO_UDP,
            _ => return Err(Errno::SockTNoSupport),
        };
        if protocol != 0 && protocol != own {
            return Err(Errno::ProtoNoSupport);
        }
        if self.table.len() >= MAX_SOCKETS {
            return Err(Errno::NoBufs);
        }
        let id = SocketId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let sock = if own == IPPROTO_UDP {
            Sock::Datagram {
                handle: self.set.add(udp_socket()),
                peer: None,
            }
        } else {
            Sock::Fresh { bound: None }
        };
        self.table.insert(id, sock);
        Ok(id)
    }

    /// Whether `port` is taken by a socket of the protocol (TCP and UDP
    /// ports are apart).
    fn port_in_use(&self, port: u16, udp: bool) -> bool {
        self.table.values().any(|s| match s {
            Sock::Fresh { bound } => !udp && bound.is_some_and(|b| b.port == port),
            Sock::Listening { at, .. } => !udp && at.port == port,
            Sock::Stream { handle } => {
                !udp && self
                    .set
                    .get::<tcp::Socket>(*handle)
                    .local_endpoint()
                    .is_some_and(|e| e.port == port)
            }
            Sock::Datagram { handle, .. } => {
                udp && self.set.get::<udp::Socket>(*handle).endpoint().port == port
            }
        })
    }

    /// A free port of the dynamic range.
    fn ephemeral(&mut self, udp: bool) -> Result<u16, Errno> {
        for _ in 0..=(u16::MAX - EPHEMERAL) {
            let port = self.next_port;
            self.next_port = if port == u16::MAX {
                EPHEMERAL
            } else {
                port + 1
            };
            if !self.port_in_use(port, udp) {
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
        let udp = match self.table.get(&id) {
            None => return Err(Errno::BadF),
            Some(Sock::Fresh { bound: None }) => None,
            Some(Sock::Datagram { handle, .. })
                if self.set.get::<udp::Socket>(*handle).endpoint().port == 0 =>
            {
                Some(*handle)
            }
            Some(_) => return Err(Errno::Inval),
        };
        let IpAddress::Ipv4(addr) = at.addr;
        if !addr.is_unspecified() && addr != self.address {
            return Err(Errno::AddrNotAvail);
        }
        let port = if at.port == 0 {
            self.ephemeral(udp.is_some())?
        } else if self.port_in_use(at.port, udp.is_some()) {
            return Err(Errno::AddrInUse);
        } else {
            at.port
        };
        match udp {
            Some(handle) => {
                let on = IpListenEndpoint {
                    addr: (!addr.is_unspecified()).then_some(at.addr),
                    port,
                };
                self.set
                    .get_mut::<udp::Socket>(handle)
                    .bind(on)
                    .map_err(|_| Errno::Inval)?;
            }
            None => {
                self.table.insert(
                    id,
                    Sock::Fresh {
                        bound: Some(IpEndpoint::new(at.addr, port)),
                    },
                );
            }
        }
        Ok(())
    }

    /// A UDP socket's handle, bound to an ephemeral port first if it was
    /// not (as Linux does on a first send or connect).
    fn bound_datagram(&mut self, id: SocketId) -> Result<SocketHandle, Errno> {
        let handle = match self.table.get(&id) {
            Some(Sock::Datagram { handle, .. }) => *handle,
            Some(_) => return Err(Errno::Inval),
            None => return Err(Errno::BadF),
        };
        if self.set.get::<udp::Socket>(handle).endpoint().port == 0 {
            self.bind(
                id,
                IpEndpoint::new(IpAddress::Ipv4(Ipv4Addr::UNSPECIFIED), 0),
            )?;
        }
        Ok(handle)
    }

    /// `socket_connect` begun: the connection is under way (wait for it
    /// with [`Stack::connected`]).
    ///
    /// # Errors
    ///
    /// A UDP socket is connected at once: its datagrams go to `to`, and
    /// only those from `to` are received (connecting again changes it).
    ///
    /// # Errors
    ///
    /// `EBADF`, `EISCONN` for a TCP socket connected or listening,
    /// `EADDRNOTAVAIL` for an unspecified address or port 0, `ENOBUFS`.
    pub fn connect(&mut self, id: SocketId, to: IpEndpoint) -> Result<(), Errno> {
        let port = match self.table.get(&id) {
            None => return Err(Errno::BadF),
            Some(Sock::Fresh { bound }) => bound.map(|b| b.port),
            Some(Sock::Datagram { .. }) => None,
            Some(_) => return Err(Errno::IsConn),
        };
        if to.port == 0 || to.addr.is_unspecified() {
            return Err(Errno::AddrNotAvail);
        }
        if matches!(self.table.get(&id), Some(Sock::Datagram { .. })) {
            self.bound_datagram(id)?;
            if let Some(Sock::Datagram { peer, .. }) = self.table.get_mut(&id) {
                *peer = Some(to);
            }
            return Ok(());
        }
        let port = match port {
            Some(p) => p,
            None => self.ephemeral(false)?,
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
        if let Some(Sock::Datagram { peer, .. }) = self.table.get(&id) {
            return peer.map(|_| Some(())).ok_or(Errno::NotConn);
        }
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
            Some(Sock::Datagram { .. }) => Err(Errno::OpNotSupp),
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
            Some(Sock::Datagram { .. }) => return Err(Errno::OpNotSupp),
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
        if let Some(Sock::Datagram { .. }) = self.table.get(&id) {
            return Ok(self.recv(id, amount, 0)?.map(|r| r.data));
        }
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
    /// byte, else wait); on a UDP socket, one datagram to its peer.
    ///
    /// # Errors
    ///
    /// `EBADF`, `ENOTCONN`, `EPIPE` when the stream is closed for sending;
    /// those of [`Stack::send`] for a UDP socket.
    pub fn write(&mut self, id: SocketId, data: &[u8]) -> Answer<usize> {
        if let Some(Sock::Datagram { .. }) = self.table.get(&id) {
            return self.send(id, data, None, 0);
        }
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

    /// Bytes readable now (`io_readable`): of a UDP socket, the next
    /// datagram's length (as Linux's `FIONREAD`).
    ///
    /// # Errors
    ///
    /// `EBADF`, `ENOTCONN`.
    pub fn readable(&mut self, id: SocketId) -> Result<usize, Errno> {
        if let Some(Sock::Datagram { .. }) = self.table.get(&id) {
            return Ok(self.next_datagram(id)?.map_or(0, |(len, _)| len));
        }
        let handle = self.stream(id)?;
        Ok(self.set.get::<tcp::Socket>(handle).recv_queue())
    }

    /// The length and source of the next datagram a UDP socket would
    /// receive; those from another source than a connected socket's peer
    /// are dropped on the way (a connected socket does not receive them).
    fn next_datagram(&mut self, id: SocketId) -> Result<Option<(usize, IpEndpoint)>, Errno> {
        let (handle, peer) = match self.table.get(&id) {
            Some(Sock::Datagram { handle, peer }) => (*handle, *peer),
            Some(_) => return Err(Errno::Inval),
            None => return Err(Errno::BadF),
        };
        let socket = self.set.get_mut::<udp::Socket>(handle);
        loop {
            let (len, from) = match socket.peek() {
                Ok((payload, meta)) => (payload.len(), meta.endpoint),
                Err(_) => return Ok(None),
            };
            if peer.is_none_or(|p| p == from) {
                return Ok(Some((len, from)));
            }
            let _ = socket.recv();
        }
    }

    /// `socket_send`: `data` to `to` (a UDP socket's datagram; a TCP
    /// socket ignores `to`, as Linux does, and sends as [`Stack::write`]).
    /// `MSG_DONTWAIT` answers `EAGAIN` where the call would wait;
    /// `MSG_NOSIGNAL` changes nothing (no signal is sent).
    ///
    /// # Errors
    ///
    /// Those of [`Stack::write`]; `EOPNOTSUPP` for `MSG_OOB` (no urgent
    /// data is sent); for UDP `EDESTADDRREQ` with neither `to` nor a peer,
    /// `EMSGSIZE` for more than [`MAX_DATAGRAM`] bytes, `EINVAL` for an
    /// unspecified address or port 0, `EAGAIN`.
    pub fn send(
        &mut self,
        id: SocketId,
        data: &[u8],
        to: Option<IpEndpoint>,
        flags: i32,
    ) -> Answer<usize> {
        if flags & MSG_OOB != 0 {
            return Err(Errno::OpNotSupp);
        }
        let sent = match self.table.get(&id) {
            None => return Err(Errno::BadF),
            Some(Sock::Datagram { peer, .. }) => {
                let Some(to) = to.or(*peer) else {
                    return Err(Errno::DestAddrReq);
                };
                if data.len() > MAX_DATAGRAM {
                    return Err(Errno::MsgSize);
                }
                if to.port == 0 || to.addr.is_unspecified() {
                    return Err(Errno::Inval);
                }
                let handle = self.bound_datagram(id)?;
                match self.set.get_mut::<udp::Socket>(handle).send_slice(data, to) {
                    Ok(()) => Some(data.len()),
                    Err(udp::SendError::BufferFull) => None,
                    Err(udp::SendError::Unaddressable) => return Err(Errno::Inval),
                }
            }
            Some(_) => self.write(id, data)?,
        };
        match sent {
            None if flags & MSG_DONTWAIT != 0 => Err(Errno::Again),
            sent => Ok(sent),
        }
    }

    /// `socket_recv`: up to `amount` bytes — of a UDP socket, the next
    /// datagram (cut to `amount`, the rest lost and [`MSG_TRUNC`] in the
    /// out flags) and where it came from; of a TCP socket as
    /// [`Stack::read`]. `MSG_PEEK` leaves what it returns to be received
    /// again; `MSG_DONTWAIT` answers `EAGAIN` where the call would wait;
    /// `MSG_WAITALL` on a stream waits for `amount` bytes (at most
    /// [`TCP_BUFFER`]) or the stream's end.
    ///
    /// # Errors
    ///
    /// Those of [`Stack::read`]; `EINVAL` for `MSG_OOB` on TCP (no urgent
    /// data ever waits, as Linux answers then), `EOPNOTSUPP` on UDP;
    /// `EAGAIN`.
    pub fn recv(&mut self, id: SocketId, amount: usize, flags: i32) -> Answer<Received> {
        let got = match self.table.get(&id) {
            None => return Err(Errno::BadF),
            Some(Sock::Datagram { handle, .. }) => {
                let handle = *handle;
                if flags & MSG_OOB != 0 {
                    return Err(Errno::OpNotSupp);
                }
                match self.next_datagram(id)? {
                    None => None,
                    Some((len, from)) => {
                        let socket = self.set.get_mut::<udp::Socket>(handle);
                        let mut data = vec![0; amount.min(len)];
                        if flags & MSG_PEEK != 0 {
                            let _ = socket.peek_slice(&mut data);
                        } else if let Ok((payload, _)) = socket.recv() {
                            let n = data.len();
                            data.copy_from_slice(&payload[..n]);
                        }
                        Some(Received {
                            data,
                            from: Some(from),
                            flags: if len > amount { MSG_TRUNC } else { 0 },
                        })
                    }
                }
            }
            Some(_) => {
                if flags & MSG_OOB != 0 {
                    return Err(Errno::Inval);
                }
                let whole = flags & MSG_WAITALL != 0 && flags & MSG_PEEK == 0;
                let data = if whole && self.short_of(id, amount)? {
                    None
                } else if flags & MSG_PEEK != 0 {
                    let handle = self.stream(id)?;
                    let socket = self.set.get_mut::<tcp::Socket>(handle);
                    if socket.can_recv() {
                        let mut data = vec![0; amount.min(TCP_BUFFER)];
                        let n = socket.peek_slice(&mut data).map_err(|_| Errno::NotConn)?;
                        data.truncate(n);
                        Some(data)
                    } else {
                        self.read(id, amount)?
                    }
                } else {
                    self.read(id, amount)?
                };
                data.map(|data| Received {
                    data,
                    from: None,
                    flags: 0,
                })
            }
        };
        match got {
            None if flags & MSG_DONTWAIT != 0 => Err(Errno::Again),
            got => Ok(got),
        }
    }

    /// Whether a stream still may receive and holds fewer than `amount`
    /// bytes (at most [`TCP_BUFFER`]) to read.
    fn short_of(&self, id: SocketId, amount: usize) -> Result<bool, Errno> {
        let s = self.set.get::<tcp::Socket>(self.stream(id)?);
        Ok(s.may_recv() && s.recv_queue() < amount.min(TCP_BUFFER))
    }

    /// Which of `wanted` ([`SELECT_READ`], [`SELECT_WRITE`],
    /// [`SELECT_URG`]) the socket is ready for: a read, a write (or an
    /// accept, for reading) that would not wait — if only to fail at once.
    /// Urgent data never waits (smoltcp has none).
    ///
    /// # Errors
    ///
    /// `EBADF`.
    pub fn ready(&mut self, id: SocketId, wanted: i32) -> Result<i32, Errno> {
        let ready = match self.table.get(&id) {
            None => return Err(Errno::BadF),
            // Reads and writes fail at once (`ENOTCONN`).
            Some(Sock::Fresh { .. }) => SELECT_READ | SELECT_WRITE,
            Some(Sock::Listening { ready, .. }) => {
                if ready.is_empty() {
                    0
                } else {
                    SELECT_READ
                }
            }
            Some(Sock::Stream { handle }) => {
                let s = self.set.get::<tcp::Socket>(*handle);
                match s.state() {
                    tcp::State::SynSent | tcp::State::SynReceived => 0,
                    _ => {
                        let read = s.can_recv() || !s.may_recv();
                        let write = s.can_send() || !s.may_send();
                        (if read { SELECT_READ } else { 0 })
                            | (if write { SELECT_WRITE } else { 0 })
                    }
                }
            }
            Some(Sock::Datagram { handle, .. }) => {
                let write = self.set.get::<udp::Socket>(*handle).can_send();
                let read = self.next_datagram(id)?.is_some();
                (if read { SELECT_READ } else { 0 }) | (if write { SELECT_WRITE } else { 0 })
            }
        };
        Ok(ready & wanted)
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
        if let Some(Sock::Datagram { peer, .. }) = self.table.get(&id) {
            // Nothing to send or cut on a datagram socket; Linux refuses
            // only an unconnected one.
            return peer.map(|_| ()).ok_or(Errno::NotConn);
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
            Some(Sock::Datagram { handle, .. }) => {
                let on = self.set.get::<udp::Socket>(*handle).endpoint();
                Ok(IpEndpoint::new(on.addr.unwrap_or(unbound.addr), on.port))
            }
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
        if let Some(Sock::Datagram { peer, .. }) = self.table.get(&id) {
            return peer.ok_or(Errno::NotConn);
        }
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
            Some(Sock::Datagram { handle, .. }) => {
                self.set.remove(handle);
            }
            Some(Sock::Fresh { .. }) | None => {}
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
                dhcp: false,
            },
            0,
        )
    }

    /// Two stacks on one wire.
    struct Wire {
        a: Stack,
        b: Stack,
        now: i64,
        /// What changed in `a`'s configuration, in order.
        changes: Vec<Change>,
    }

    impl Wire {
        fn new() -> Wire {
            Wire {
                a: stack(1, A),
                b: stack(2, B),
                now: 0,
                changes: Vec::new(),
            }
        }

        /// Runs both stacks for `ms` milliseconds of simulated time.
        fn run(&mut self, ms: i64) {
            for _ in 0..ms {
                if let Some(change) = self.a.poll(self.now) {
                    self.changes.push(change);
                }
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
        assert_eq!(w.a.create(3, 0), Err(Errno::SockTNoSupport));
        assert_eq!(w.a.create(SOCK_STREAM, 17), Err(Errno::ProtoNoSupport));
        assert_eq!(w.a.create(SOCK_DGRAM, 6), Err(Errno::ProtoNoSupport));
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
    fn send_recv_flags_and_readiness_of_a_stream() {
        let mut w = Wire::new();
        let server = w.b.create(SOCK_STREAM, 0).expect("socket");
        assert_eq!(w.b.ready(server, SELECT_READ | SELECT_WRITE), Ok(3));
        w.b.bind(server, at(B, 80)).expect("bind");
        w.b.listen(server, 1).expect("listen");
        assert_eq!(w.b.ready(server, SELECT_READ | SELECT_WRITE), Ok(0));
        let client = w.a.create(SOCK_STREAM, 0).expect("socket");
        w.a.connect(client, at(B, 80)).expect("connect");
        assert_eq!(w.a.ready(client, SELECT_READ | SELECT_WRITE), Ok(0));
        w.run(50);
        assert_eq!(w.b.ready(server, SELECT_READ | SELECT_URG), Ok(SELECT_READ));
        let (conn, _) = w.b.accept(server).expect("accept").expect("a connection");
        assert_eq!(w.b.ready(server, SELECT_READ), Ok(0));
        assert_eq!(
            w.a.ready(client, SELECT_READ | SELECT_WRITE),
            Ok(SELECT_WRITE)
        );

        // The address is ignored on a stream, as Linux does.
        assert_eq!(w.a.send(client, b"abc", Some(at(A, 1)), 0), Ok(Some(3)));
        assert_eq!(w.a.send(client, b"x", None, MSG_OOB), Err(Errno::OpNotSupp));
        w.run(20);
        assert_eq!(w.b.ready(conn, SELECT_READ | SELECT_URG), Ok(SELECT_READ));
        let abc = Received {
            data: b"abc".to_vec(),
            from: None,
            flags: 0,
        };
        assert_eq!(w.b.recv(conn, 10, MSG_PEEK), Ok(Some(abc.clone())));
        assert_eq!(w.b.recv(conn, 10, MSG_NOSIGNAL), Ok(Some(abc)));
        assert_eq!(w.b.recv(conn, 10, 0), Ok(None));
        assert_eq!(w.b.recv(conn, 10, MSG_DONTWAIT), Err(Errno::Again));
        assert_eq!(w.b.recv(conn, 10, MSG_OOB), Err(Errno::Inval));
        // All of it, or wait.
        assert_eq!(w.a.send(client, b"ab", None, 0), Ok(Some(2)));
        w.run(20);
        assert_eq!(w.b.recv(conn, 4, MSG_WAITALL), Ok(None));
        assert_eq!(w.a.send(client, b"cd", None, 0), Ok(Some(2)));
        w.run(20);
        assert_eq!(
            w.b.recv(conn, 4, MSG_WAITALL).map(|r| r.map(|r| r.data)),
            Ok(Some(b"abcd".to_vec()))
        );
        assert_eq!(w.b.ready(conn, SELECT_READ), Ok(0));

        // The end of the stream is ready to read.
        w.a.shutdown(client, 1).expect("shutdown");
        w.run(20);
        assert_eq!(w.b.ready(conn, SELECT_READ), Ok(SELECT_READ));
        assert_eq!(
            w.b.recv(conn, 10, 0).map(|r| r.map(|r| r.data)),
            Ok(Some(Vec::new()))
        );
        // Writing after the shutdown fails at once: ready too.
        assert_eq!(w.a.ready(client, SELECT_WRITE), Ok(SELECT_WRITE));
        assert_eq!(w.a.send(client, b"x", None, MSG_DONTWAIT), Err(Errno::Pipe));
        assert_eq!(w.a.ready(SocketId(999), SELECT_READ), Err(Errno::BadF));
    }

    #[test]
    fn datagrams_both_ways() {
        let mut w = Wire::new();
        let server = w.b.create(SOCK_DGRAM, 0).expect("socket");
        w.b.bind(server, at(Ipv4Addr::UNSPECIFIED, 53))
            .expect("bind");
        assert_eq!(w.b.name(server), Ok(at(Ipv4Addr::UNSPECIFIED, 53)));
        assert_eq!(w.b.bind(server, at(B, 54)), Err(Errno::Inval));
        // TCP's ports are apart from UDP's.
        let tcp = w.b.create(SOCK_STREAM, 0).expect("socket");
        assert_eq!(w.b.bind(tcp, at(B, 53)), Ok(()));
        let taken = w.b.create(SOCK_DGRAM, IPPROTO_UDP).expect("socket");
        assert_eq!(w.b.bind(taken, at(B, 53)), Err(Errno::AddrInUse));
        assert_eq!(w.b.recv(server, 100, 0), Ok(None));
        assert_eq!(w.b.recv(server, 100, MSG_DONTWAIT), Err(Errno::Again));
        assert_eq!(
            w.b.ready(server, SELECT_READ | SELECT_WRITE),
            Ok(SELECT_WRITE)
        );
        assert_eq!(w.b.listen(server, 1), Err(Errno::OpNotSupp));
        assert_eq!(w.b.accept(server), Err(Errno::OpNotSupp));
        assert_eq!(w.b.recv(server, 1, MSG_OOB), Err(Errno::OpNotSupp));
        assert_eq!(w.b.peer(server), Err(Errno::NotConn));
        assert_eq!(w.b.shutdown(server, 1), Err(Errno::NotConn));

        let client = w.a.create(SOCK_DGRAM, IPPROTO_UDP).expect("socket");
        assert_eq!(w.a.name(client), Ok(at(Ipv4Addr::UNSPECIFIED, 0)));
        assert_eq!(w.a.write(client, b"x"), Err(Errno::DestAddrReq));
        let big = vec![0; MAX_DATAGRAM + 1];
        assert_eq!(
            w.a.send(client, &big, Some(at(B, 53)), 0),
            Err(Errno::MsgSize)
        );
        assert_eq!(w.a.send(client, b"x", Some(at(B, 0)), 0), Err(Errno::Inval));
        assert_eq!(w.a.send(client, b"hello", Some(at(B, 53)), 0), Ok(Some(5)));
        assert_eq!(
            w.a.send(client, b"second datagram", Some(at(B, 53)), 0),
            Ok(Some(15))
        );
        // The first send bound it to a port of the dynamic range.
        let port = w.a.name(client).expect("name").port;
        assert!(port >= EPHEMERAL);
        w.run(50);

        let from = Some(at(A, port));
        assert_eq!(w.b.ready(server, SELECT_READ), Ok(SELECT_READ));
        assert_eq!(w.b.readable(server), Ok(5));
        let hello = Received {
            data: b"hello".to_vec(),
            from,
            flags: 0,
        };
        assert_eq!(w.b.recv(server, 100, MSG_PEEK), Ok(Some(hello.clone())));
        assert_eq!(w.b.recv(server, 100, 0), Ok(Some(hello)));
        // Cut to the room asked for; the rest is lost.
        assert_eq!(
            w.b.recv(server, 6, 0),
            Ok(Some(Received {
                data: b"second".to_vec(),
                from,
                flags: MSG_TRUNC,
            }))
        );
        assert_eq!(w.b.readable(server), Ok(0));

        // Connected, the client takes only its peer's datagrams.
        w.a.connect(client, at(B, 53)).expect("connect");
        assert_eq!(w.a.connected(client), Ok(Some(())));
        assert_eq!(w.a.peer(client), Ok(at(B, 53)));
        let stranger = w.b.create(SOCK_DGRAM, 0).expect("socket");
        assert_eq!(w.b.send(stranger, b"stranger", from, 0), Ok(Some(8)));
        assert_eq!(w.b.send(server, b"reply", from, 0), Ok(Some(5)));
        w.run(20);
        assert_eq!(w.a.read(client, 100), Ok(Some(b"reply".to_vec())));
        assert_eq!(w.a.read(client, 100), Ok(None));
        assert_eq!(w.a.write(client, b"by io_write"), Ok(Some(11)));
        assert_eq!(w.a.shutdown(client, 2), Ok(()));
        w.run(20);
        assert_eq!(w.b.read(server, 100), Ok(Some(b"by io_write".to_vec())));

        // Closed, its socket is gone at once.
        let before = w.a.socket_count();
        w.a.close(client);
        assert_eq!(w.a.socket_count(), before - 1);
        assert_eq!(w.a.send(client, b"x", from, 0), Err(Errno::BadF));
    }

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

    #[test]
    fn arguments_as_the_hurds_pfinet_takes_them() {
        let words = [
            "-i",
            "eth0",
            "-a",
            "10.0.2.15",
            "-g",
            "10.0.2.2",
            "-m",
            "255.255.255.0",
        ];
        assert_eq!(
            parse_args(MAC, &words),
            Ok(Setup {
                mac: MAC,
                address: Ipv4Addr::new(10, 0, 2, 15),
                prefix: 24,
                gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
                dhcp: false,
            })
        );
        let long = parse_args(
            MAC,
            &["--address", "192.168.1.9", "--netmask", "255.255.0.0"],
        )
        .expect("long options");
        assert_eq!(
            (long.address, long.prefix, long.gateway, long.dhcp),
            (Ipv4Addr::new(192, 168, 1, 9), 16, None, false)
        );
        let dhcp = parse_args(MAC, &["-i", "eth0", "--dhcp"]).expect("--dhcp");
        assert!(dhcp.dhcp);
        assert_eq!(dhcp.mac, MAC);

        let refused = |words: &[&str]| parse_args(MAC, words).expect_err("refused");
        assert_eq!(refused(&[]), "no address (-a ADDRESS, or --dhcp)");
        assert_eq!(
            refused(&["-a", "0.0.0.0"]),
            "no address (-a ADDRESS, or --dhcp)"
        );
        assert!(refused(&["--dhcp", "-a", "10.0.2.15"]).starts_with("--dhcp"));
        assert!(refused(&["-g", "10.0.2.2", "--dhcp"]).starts_with("--dhcp"));
        assert_eq!(refused(&["-i", "eth1", "--dhcp"]), "no interface eth1");
        assert_eq!(refused(&["-a"]), "-a needs a value");
        assert_eq!(refused(&["-a", "10.0.2"]), "10.0.2 is no address");
        assert_eq!(refused(&["-a", "10.0.2.15", "-g", "x"]), "x is no gateway");
        assert_eq!(
            refused(&["-a", "10.0.2.15", "-m", "255.0.255.0"]),
            "255.0.255.0 is no netmask"
        );
        assert_eq!(refused(&["--dhcp", "-x"]), "unknown argument -x");
    }

    /// The address a DHCP server on `B` offers.
    const OFFERED: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);

    /// A DHCP server on `B`'s UDP socket `sock` (bound to port 67): for
    /// the next datagram waiting, a discover is offered [`OFFERED`], a
    /// request acknowledged, with a lease of `secs` seconds, the netmask
    /// 255.255.255.0 and `B` as gateway; the answer is broadcast.
    fn serve_dhcp(server: &mut Stack, sock: SocketId, secs: u32) {
        use smoltcp::wire::{DhcpMessageType, DhcpPacket, DhcpRepr};
        let Ok(Some(got)) = server.recv(sock, MAX_FRAME, 0) else {
            return;
        };
        let Ok(packet) = DhcpPacket::new_checked(&got.data[..]) else {
            return;
        };
        let Ok(asked) = DhcpRepr::parse(&packet) else {
            return;
        };
        let message_type = match asked.message_type {
            DhcpMessageType::Discover => DhcpMessageType::Offer,
            DhcpMessageType::Request => DhcpMessageType::Ack,
            _ => return,
        };
        let answer = DhcpRepr {
            message_type,
            transaction_id: asked.transaction_id,
            secs: 0,
            client_hardware_address: asked.client_hardware_address,
            client_ip: Ipv4Addr::UNSPECIFIED,
            your_ip: OFFERED,
            server_ip: B,
            router: Some(B),
            subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            relay_agent_ip: Ipv4Addr::UNSPECIFIED,
            broadcast: false,
            requested_ip: None,
            client_identifier: None,
            server_identifier: Some(B),
            parameter_request_list: None,
            dns_servers: None,
            max_size: None,
            lease_duration: Some(secs),
            renew_duration: None,
            rebind_duration: None,
            additional_options: &[],
        };
        let mut bytes = vec![0; answer.buffer_len()];
        answer
            .emit(&mut DhcpPacket::new_unchecked(&mut bytes[..]))
            .expect("a DHCP answer");
        let to = at(Ipv4Addr::BROADCAST, 68);
        assert_eq!(
            server.send(sock, &bytes, Some(to), 0),
            Ok(Some(bytes.len()))
        );
    }

    #[test]
    fn an_address_leased_by_dhcp_and_lost() {
        let mut w = Wire::new();
        w.a = Stack::new(parse_args(MAC, &["--dhcp"]).expect("--dhcp"), 0);
        let server = w.b.create(SOCK_DGRAM, 0).expect("socket");
        w.b.bind(server, at(Ipv4Addr::UNSPECIFIED, 67))
            .expect("bind");
        assert_eq!(w.a.lease(), None);
        // No address yet: none to bind to.
        let early = w.a.create(SOCK_DGRAM, 0).expect("socket");
        assert_eq!(w.a.bind(early, at(OFFERED, 0)), Err(Errno::AddrNotAvail));

        // Discover, offer, request, acknowledgement.
        for _ in 0..1000 {
            w.run(1);
            serve_dhcp(&mut w.b, server, 30);
            if w.a.lease().is_some() {
                break;
            }
        }
        let lease = Lease {
            address: OFFERED,
            prefix: 24,
            gateway: Some(B),
            server: B,
        };
        assert_eq!(w.a.lease(), Some(lease));
        assert_eq!(w.changes, [Change::Leased(lease)]);
        assert_eq!(w.a.bind(early, at(OFFERED, 0)), Ok(()));

        // The leased address works: a connection to B comes from it.
        let listener = w.b.create(SOCK_STREAM, 0).expect("socket");
        w.b.bind(listener, at(Ipv4Addr::UNSPECIFIED, 7))
            .expect("bind");
        w.b.listen(listener, 1).expect("listen");
        let client = w.a.create(SOCK_STREAM, 0).expect("socket");
        w.a.connect(client, at(B, 7)).expect("connect");
        w.run(50);
        assert_eq!(w.a.connected(client), Ok(Some(())));
        let (_, peer) = w.b.accept(listener).expect("accept").expect("a connection");
        assert_eq!(peer.addr, IpAddress::Ipv4(OFFERED));

        // The server stops answering: the lease runs out unrenewed, and
        // the address is gone with it.
        w.run(31_000);
        assert_eq!(w.changes, [Change::Leased(lease), Change::Lost]);
        assert_eq!(w.a.lease(), None);
        let late = w.a.create(SOCK_DGRAM, 0).expect("socket");
        assert_eq!(w.a.bind(late, at(OFFERED, 0)), Err(Errno::AddrNotAvail));
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
