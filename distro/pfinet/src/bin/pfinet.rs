//! `pfinet`: the Internet protocol family's server (the Hurd's
//! `/servers/socket/2`), a TCP/IP stack ([`pfinet::Stack`], on smoltcp)
//! over a Mach network device, serving `socket.defs` and `io.defs`.
//!
//! It opens `eth0` on the network driver's master port (a send right at
//! [`DEVICE_PORT`], where a Hurd server finds its device master port),
//! gives the driver a BPF filter for ARP and IPv4 frames to a port of its
//! own, and writes its frames with `device_write_inband`. On its server
//! port (`SERVICE_PORT_NAME`, or one of its own as a translator) it
//! answers `socket_create`
//! (`SOCK_STREAM`, `SOCK_DGRAM`) and `socket_create_address` (`AF_INET`);
//! on a socket's port `socket_connect`, `socket_bind`, `socket_listen`,
//! `socket_accept`, `socket_name`, `socket_peername`, `socket_shutdown`,
//! `socket_send`, `socket_recv`, `io_read`, `io_write`, `io_readable` and
//! `io_select`; on an address's port `socket_whatis_address`. A call that
//! must wait (a connection being made, nothing to read yet, a full send
//! buffer, no connection to accept, nothing ready for `io_select`) is
//! answered when it can be; one whose caller is gone (its reply port dead)
//! is forgotten when the next one must wait, and at most [`MAX_WAITING`]
//! wait (more are refused `ENOBUFS`). A socket whose port has no senders
//! left is closed.
//!
//! Started as a translator (it holds a bootstrap port: `hurd-init` starts
//! it on `/servers/socket/2` at boot), it sends its parent `fsys_startup`
//! with a control port of its own once its device is open, and serves
//! `fsys_getroot` there: the node's users get a send right to the server
//! port, where `socket_create` is answered, as the Hurd's pfinet serves
//! `socket_create` on the ports of its node. `fsys_goaway` ends it
//! (without `FSYS_GOAWAY_FORCE`, `EBUSY` while sockets are open);
//! `fsys_syncfs` has nothing to write; `fsys_get_options` answers its
//! arguments (argz), `fsys_set_options` is `EOPNOTSUPP` (the address is
//! set at start only).
//!
//! Its address: with arguments (as the Hurd's pfinet takes them) `-a
//! ADDRESS`, `-g GATEWAY`, `-m NETMASK` (`-i eth0` is the only interface,
//! [`pfinet::parse_args`]), or `--dhcp` to ask a DHCP server; started with
//! a number instead (the kernel's tests), the number's high 32 bits are the
//! address, its low 32 bits the gateway, the netmask 255.255.255.0, and the
//! number 0 asks DHCP. Asking DHCP, it waits for its lease (at most
//! [`LEASE_WAIT_MS`]) before it serves or announces itself to its parent,
//! so that the first socket has an address; the lease, its renewals and
//! its loss are named on the console.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::net::Ipv4Addr;
use core::time::Duration;

use hurd_abi::device::{D_READ, D_WRITE, DEVICE_MASTER_PORT_NAME, device, net_rcv};
use hurd_abi::net::{
    NET_ADDRESS, NETF_IN, accept_ethertypes, address_from_words, frame_of_rcv_msg,
};
use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::notify::{NOTIFY_NO_SENDERS, NotifyKind};
use hurd_ipc::user::MsgOptions;
use hurd_ipc::{
    Disposition, Errno, Error, MigReturn, MsgReturn, PortArray, PortItem, PortName, PortType,
    RightType, UserIpc,
};
use hurd_rt::ports::BOOTSTRAP;
use hurd_rt::{KernelIpc, println};
use hurd_trans::flags::FSYS_GOAWAY_FORCE;
use hurd_trans::protocol::{fsys, io, socket};
use hurd_trans::stat::Stat;
use hurd_trans::{Name, RetryType};
use pfinet::{
    Change, Lease, SELECT_READ, SELECT_URG, SELECT_WRITE, Setup, SocketId, Stack, parse_args,
    parse_sockaddr_in, sockaddr_in,
};
use smoltcp::wire::IpEndpoint;

hurd_rt::entry!(main);

/// Where pfinet finds its send right to the network driver's master port:
/// the name of a Hurd server's device master port.
pub const DEVICE_PORT: PortName = PortName(DEVICE_MASTER_PORT_NAME);
/// The device it opens.
const INTERFACE: &str = "eth0";
/// The most bytes one `io_read` answers.
const MAX_READ: u64 = 64 * 1024;
/// The most calls waiting to be answered.
pub const MAX_WAITING: usize = 1024;
/// How long pfinet asking DHCP waits for its lease before it serves
/// without an address (milliseconds); the lease is taken whenever it
/// comes after.
pub const LEASE_WAIT_MS: i64 = 20_000;

/// A call answered later.
enum Wait {
    Connect(SocketId),
    Accept(SocketId),
    Read(SocketId, usize),
    Write(SocketId, Vec<u8>),
    Send(SocketId, Vec<u8>, Option<IpEndpoint>, i32),
    Recv(SocketId, usize, i32),
    Select(SocketId, i32),
}

/// The server's state.
struct Pfinet {
    stack: RefCell<Stack>,
    server: PortName,
    set: PortName,
    /// Socket ports (receive rights) and their sockets.
    sockets: RefCell<BTreeMap<PortName, SocketId>>,
    /// Address ports and what they stand for.
    addresses: RefCell<BTreeMap<PortName, IpEndpoint>>,
    waiting: RefCell<Vec<(Wait, Request)>>,
    /// The control port when started as a translator (else NULL).
    control: PortName,
    /// Set by `fsys_goaway`: the server ends once it has answered.
    going: core::cell::Cell<bool>,
}

fn errno(e: Errno) -> Error {
    e.into()
}

fn now() -> i64 {
    hurd_rt::time::uptime_ms() as i64
}

impl Pfinet {
    /// `EOPNOTSUPP` unless `req` came on the control port.
    fn control_call(&self, req: &Request) -> Result<(), Error> {
        if self.control.is_valid() && req.port == self.control {
            Ok(())
        } else {
            Err(errno(Errno::OpNotSupp))
        }
    }

    fn socket(&self, req: &Request) -> Result<SocketId, Error> {
        self.sockets
            .borrow()
            .get(&req.port)
            .copied()
            .ok_or(errno(Errno::OpNotSupp))
    }

    /// A new port in the receive set, with a no-senders request on itself.
    fn new_port(&self) -> Result<PortName, Error> {
        let ipc = KernelIpc::new();
        let port = ipc.port_allocate(RightType::Receive).map_err(Error::Kern)?;
        let _ = ipc.request_notification(
            port,
            NotifyKind::NoSenders,
            1,
            port,
            Disposition::MakeSendOnce,
        );
        if let Err(e) = ipc.port_move_member(port, self.set) {
            let _ = ipc.port_destroy(port);
            return Err(Error::Kern(e));
        }
        Ok(port)
    }

    fn socket_port(&self, id: SocketId) -> Result<PortItem, Error> {
        let port = self
            .new_port()
            .inspect_err(|_| self.stack.borrow_mut().close(id))?;
        self.sockets.borrow_mut().insert(port, id);
        Ok(PortItem {
            name: port,
            disposition: Disposition::MakeSend,
        })
    }

    fn address_port(&self, at: IpEndpoint) -> Result<PortItem, Error> {
        let port = self.new_port()?;
        self.addresses.borrow_mut().insert(port, at);
        Ok(PortItem {
            name: port,
            disposition: Disposition::MakeSend,
        })
    }

    /// The endpoint an address port (ours) stands for; the right that
    /// came is released.
    fn address_of(&self, addr: PortItem) -> Result<IpEndpoint, Error> {
        let at = self.addresses.borrow().get(&addr.name).copied();
        if addr.name.is_valid() {
            let _ = KernelIpc::new().port_deallocate(addr.name);
        }
        at.ok_or(errno(Errno::Inval))
    }

    /// Defers `req` until `wait` can be answered. The calls waiting whose
    /// callers are gone (their reply ports dead names) are forgotten
    /// first; `ENOBUFS` when [`MAX_WAITING`] still wait.
    fn later<T>(&self, wait: Wait, req: &Request) -> Result<T, Error> {
        let ipc = KernelIpc::new();
        let mut waiting = self.waiting.borrow_mut();
        waiting.retain(|(_, r)| {
            let dead = ipc
                .port_type(r.reply)
                .is_ok_and(|t| t.contains(PortType::DEAD_NAME));
            if dead {
                let _ = ipc.port_deallocate(r.reply);
            }
            !dead
        });
        if waiting.len() >= MAX_WAITING {
            return Err(errno(Errno::NoBufs));
        }
        waiting.push((wait, *req));
        Err(Error::Mig(MigReturn::NoReply))
    }

    /// The address a `socket_send` names: none for a null port, else one
    /// of ours (the right is released).
    fn destination(&self, addr: PortItem) -> Result<Option<IpEndpoint>, Error> {
        if addr.name == PortName::NULL {
            return Ok(None);
        }
        self.address_of(addr).map(Some)
    }

    /// `socket_recv`'s answer: the address port of where the bytes came
    /// from (null if nowhere to tell), the bytes, no rights, no control
    /// data, the out flags.
    fn received(&self, got: pfinet::Received) -> Result<RecvReply, Error> {
        let addr = match got.from {
            Some(from) => self.address_port(from)?,
            None => PortItem {
                name: PortName::NULL,
                disposition: Disposition::CopySend,
            },
        };
        let none = PortArray {
            disposition: Disposition::CopySend,
            names: Vec::new(),
        };
        Ok((addr, got.data, none, Vec::new(), got.flags))
    }

    /// Answers the waiting calls that can be now.
    fn answer_waiting(&self) {
        let ipc = KernelIpc::new();
        let waiting = core::mem::take(&mut *self.waiting.borrow_mut());
        let mut still = Vec::new();
        for (wait, req) in waiting {
            let mut stack = self.stack.borrow_mut();
            match wait {
                Wait::Connect(id) => match stack.connected(id) {
                    Ok(None) => still.push((Wait::Connect(id), req)),
                    r => {
                        drop(stack);
                        let _ =
                            socket::reply::socket_connect(&ipc, &req, r.map(|_| ()).map_err(errno));
                    }
                },
                Wait::Read(id, amount) => match stack.read(id, amount) {
                    Ok(None) => still.push((Wait::Read(id, amount), req)),
                    r => {
                        drop(stack);
                        let r = r.map(Option::unwrap_or_default).map_err(errno);
                        let _ = io::reply::read(&ipc, &req, r);
                    }
                },
                Wait::Write(id, data) => match stack.write(id, &data) {
                    Ok(None) => still.push((Wait::Write(id, data), req)),
                    r => {
                        drop(stack);
                        let r = r.map(|n| n.unwrap_or(0) as u64).map_err(errno);
                        let _ = io::reply::write(&ipc, &req, r);
                    }
                },
                Wait::Send(id, data, to, flags) => match stack.send(id, &data, to, flags) {
                    Ok(None) => still.push((Wait::Send(id, data, to, flags), req)),
                    r => {
                        drop(stack);
                        let r = r.map(|n| n.unwrap_or(0) as u64).map_err(errno);
                        let _ = socket::reply::socket_send(&ipc, &req, r);
                    }
                },
                Wait::Recv(id, amount, flags) => match stack.recv(id, amount, flags) {
                    Ok(None) => still.push((Wait::Recv(id, amount, flags), req)),
                    Ok(Some(got)) => {
                        drop(stack);
                        let _ = socket::reply::socket_recv(&ipc, &req, self.received(got));
                    }
                    Err(e) => {
                        drop(stack);
                        let _ = socket::reply::socket_recv(&ipc, &req, Err(errno(e)));
                    }
                },
                Wait::Select(id, wanted) => match stack.ready(id, wanted) {
                    Ok(0) => still.push((Wait::Select(id, wanted), req)),
                    r => {
                        drop(stack);
                        let _ = io::reply::select(&ipc, &req, r.map_err(errno));
                    }
                },
                Wait::Accept(id) => match stack.accept(id) {
                    Ok(None) => still.push((Wait::Accept(id), req)),
                    Ok(Some((new, peer))) => {
                        drop(stack);
                        let r = self
                            .socket_port(new)
                            .and_then(|sock| self.address_port(peer).map(|addr| (sock, addr)));
                        let _ = socket::reply::socket_accept(&ipc, &req, r);
                    }
                    Err(e) => {
                        drop(stack);
                        let _ = socket::reply::socket_accept(&ipc, &req, Err(errno(e)));
                    }
                },
            }
        }
        self.waiting.borrow_mut().extend(still);
    }

    /// A port with no senders left: its socket is closed (and its waiting
    /// calls answered `EBADF`), or its address forgotten.
    fn no_senders(&self, port: PortName) {
        let ipc = KernelIpc::new();
        if let Some(id) = self.sockets.borrow_mut().remove(&port) {
            self.stack.borrow_mut().close(id);
        }
        self.addresses.borrow_mut().remove(&port);
        let _ = ipc.port_destroy(port);
    }
}

impl socket::Server for Pfinet {
    fn socket_create(
        &self,
        req: &Request,
        sock_type: i32,
        protocol: i32,
    ) -> Result<PortItem, Error> {
        if req.port != self.server {
            return Err(errno(Errno::OpNotSupp));
        }
        let id = self
            .stack
            .borrow_mut()
            .create(sock_type, protocol)
            .map_err(errno)?;
        self.socket_port(id)
    }

    fn socket_listen(&self, req: &Request, queue_limit: i32) -> Result<(), Error> {
        let id = self.socket(req)?;
        self.stack
            .borrow_mut()
            .listen(id, queue_limit)
            .map_err(errno)
    }

    fn socket_accept(&self, req: &Request) -> Result<(PortItem, PortItem), Error> {
        let id = self.socket(req)?;
        let got = self.stack.borrow_mut().accept(id).map_err(errno)?;
        match got {
            Some((new, peer)) => Ok((self.socket_port(new)?, self.address_port(peer)?)),
            None => self.later(Wait::Accept(id), req),
        }
    }

    fn socket_connect(&self, req: &Request, addr: PortItem) -> Result<(), Error> {
        let to = self.address_of(addr)?;
        let id = self.socket(req)?;
        self.stack.borrow_mut().connect(id, to).map_err(errno)?;
        self.later(Wait::Connect(id), req)
    }

    fn socket_bind(&self, req: &Request, addr: PortItem) -> Result<(), Error> {
        let at = self.address_of(addr)?;
        let id = self.socket(req)?;
        self.stack.borrow_mut().bind(id, at).map_err(errno)
    }

    fn socket_name(&self, req: &Request) -> Result<PortItem, Error> {
        let id = self.socket(req)?;
        let at = self.stack.borrow().name(id).map_err(errno)?;
        self.address_port(at)
    }

    fn socket_peername(&self, req: &Request) -> Result<PortItem, Error> {
        let id = self.socket(req)?;
        let at = self.stack.borrow().peer(id).map_err(errno)?;
        self.address_port(at)
    }

    /// Only the local family joins sockets in pairs: `EOPNOTSUPP`, as the
    /// Hurd's pfinet answers.
    fn socket_connect2(&self, _req: &Request, sock2: PortItem) -> Result<(), Error> {
        if sock2.name.is_valid() {
            let _ = KernelIpc::new().port_deallocate(sock2.name);
        }
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_create_address(
        &self,
        req: &Request,
        sockaddr_type: i32,
        sockaddr: Vec<u8>,
    ) -> Result<PortItem, Error> {
        if req.port != self.server && !self.sockets.borrow().contains_key(&req.port) {
            return Err(errno(Errno::OpNotSupp));
        }
        let at = parse_sockaddr_in(sockaddr_type, &sockaddr).map_err(errno)?;
        self.address_port(at)
    }

    fn socket_whatis_address(&self, req: &Request) -> Result<(i32, Vec<u8>), Error> {
        let at = self
            .addresses
            .borrow()
            .get(&req.port)
            .copied()
            .ok_or(errno(Errno::OpNotSupp))?;
        Ok((pfinet::AF_INET, sockaddr_in(at)))
    }

    fn socket_shutdown(&self, req: &Request, direction: i32) -> Result<(), Error> {
        let id = self.socket(req)?;
        self.stack
            .borrow_mut()
            .shutdown(id, direction)
            .map_err(errno)
    }

    fn socket_send(
        &self,
        req: &Request,
        addr: PortItem,
        flags: i32,
        data: Vec<u8>,
        ports: PortArray,
        control: Vec<u8>,
    ) -> Result<u64, Error> {
        // No rights nor ancillary data travel over the Internet (the
        // Hurd's pfinet refuses them so too); the rights are released.
        let refused = !ports.names.is_empty() || !control.is_empty();
        let ipc = KernelIpc::new();
        for name in ports.names.into_iter().filter(|n| n.is_valid()) {
            let _ = ipc.port_deallocate(name);
        }
        let to = self.destination(addr)?;
        let id = self.socket(req)?;
        if refused {
            return Err(errno(Errno::Inval));
        }
        let sent = self
            .stack
            .borrow_mut()
            .send(id, &data, to, flags)
            .map_err(errno)?;
        match sent {
            Some(n) => Ok(n as u64),
            None => self.later(Wait::Send(id, data, to, flags), req),
        }
    }

    fn socket_recv(&self, req: &Request, flags: i32, amount: u64) -> Result<RecvReply, Error> {
        let id = self.socket(req)?;
        let amount = amount.min(MAX_READ) as usize;
        let got = self
            .stack
            .borrow_mut()
            .recv(id, amount, flags)
            .map_err(errno)?;
        match got {
            Some(got) => self.received(got),
            None => self.later(Wait::Recv(id, amount, flags), req),
        }
    }
}

/// What `socket_recv` answers: the source's address port, the bytes, the
/// rights, the control data, the out flags.
type RecvReply = (PortItem, Vec<u8>, PortArray, Vec<u8>, i32);

impl io::Server for Pfinet {
    fn write(&self, req: &Request, data: Vec<u8>, _offset: i64) -> Result<u64, Error> {
        let id = self.socket(req)?;
        let written = self.stack.borrow_mut().write(id, &data).map_err(errno)?;
        match written {
            Some(n) => Ok(n as u64),
            None => self.later(Wait::Write(id, data), req),
        }
    }

    fn read(&self, req: &Request, _offset: i64, amount: u64) -> Result<Vec<u8>, Error> {
        let id = self.socket(req)?;
        let amount = amount.min(MAX_READ) as usize;
        let got = self.stack.borrow_mut().read(id, amount).map_err(errno)?;
        match got {
            Some(data) => Ok(data),
            None => self.later(Wait::Read(id, amount), req),
        }
    }

    fn seek(&self, _req: &Request, _offset: i64, _whence: i32) -> Result<i64, Error> {
        Err(errno(Errno::SPipe))
    }

    fn readable(&self, req: &Request) -> Result<u64, Error> {
        let id = self.socket(req)?;
        self.stack
            .borrow_mut()
            .readable(id)
            .map(|n| n as u64)
            .map_err(errno)
    }

    fn select(&self, req: &Request, select_type: i32) -> Result<i32, Error> {
        let id = self.socket(req)?;
        let wanted = select_type & (SELECT_READ | SELECT_WRITE | SELECT_URG);
        let ready = self.stack.borrow_mut().ready(id, wanted).map_err(errno)?;
        if ready != 0 || wanted == 0 {
            return Ok(ready);
        }
        self.later(Wait::Select(id, wanted), req)
    }

    fn set_all_openmodes(&self, _req: &Request, _newbits: i32) -> Result<(), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn get_openmodes(&self, _req: &Request) -> Result<i32, Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn set_some_openmodes(&self, _req: &Request, _bits_to_set: i32) -> Result<(), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn clear_some_openmodes(&self, _req: &Request, _bits_to_clear: i32) -> Result<(), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn stat(&self, _req: &Request) -> Result<Stat, Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn reauthenticate(&self, _req: &Request, rendezvous2: PortItem) {
        let _ = KernelIpc::new().port_deallocate(rendezvous2.name);
    }

    fn restrict_auth(
        &self,
        _req: &Request,
        _uids: Vec<u32>,
        _gids: Vec<u32>,
    ) -> Result<PortItem, Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn duplicate(&self, _req: &Request) -> Result<PortItem, Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn server_version(
        &self,
        _req: &Request,
    ) -> Result<(alloc::string::String, i32, i32, i32), Error> {
        Ok(("pfinet".to_string(), 0, 1, 0))
    }

    fn map(&self, _req: &Request) -> Result<(PortItem, PortItem), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn pathconf(&self, _req: &Request, _name: i32) -> Result<i32, Error> {
        Err(errno(Errno::OpNotSupp))
    }
}

/// The node's side (see the [module documentation](self)): on the control
/// port only.
impl fsys::Server for Pfinet {
    fn startup(
        &self,
        _req: &Request,
        _openflags: i32,
        control_port: PortItem,
    ) -> Result<PortItem, Error> {
        // pfinet starts no translators.
        if control_port.name.is_valid() {
            let _ = KernelIpc::new().port_deallocate(control_port.name);
        }
        Err(errno(Errno::OpNotSupp))
    }

    fn goaway(&self, req: &Request, flags: i32) -> Result<(), Error> {
        self.control_call(req)?;
        if flags as u32 & FSYS_GOAWAY_FORCE == 0 && !self.sockets.borrow().is_empty() {
            return Err(errno(Errno::Busy));
        }
        self.going.set(true);
        Ok(())
    }

    /// Only a bootstrap file system's parent answers it: `EOPNOTSUPP`.
    fn getpriv(&self, _req: &Request) -> Result<(PortItem, PortItem, PortItem), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn getroot(
        &self,
        req: &Request,
        dotdot_node: PortItem,
        _gen_uids: Vec<u32>,
        _gen_gids: Vec<u32>,
        _flags: i32,
    ) -> Result<(u32, Name, PortItem), Error> {
        // The node has no directory below it: ".." is not needed.
        if dotdot_node.name.is_valid() {
            let _ = KernelIpc::new().port_deallocate(dotdot_node.name);
        }
        self.control_call(req)?;
        Ok((
            RetryType::Normal as u32,
            Name::default(),
            PortItem {
                name: self.server,
                disposition: Disposition::MakeSend,
            },
        ))
    }

    fn syncfs(&self, req: &Request, _wait: i32, _do_children: i32) -> Result<(), Error> {
        self.control_call(req)
    }

    fn set_options(
        &self,
        req: &Request,
        _options: Vec<u8>,
        _do_children: i32,
    ) -> Result<(), Error> {
        self.control_call(req)?;
        Err(errno(Errno::OpNotSupp))
    }

    fn get_options(&self, req: &Request) -> Result<Vec<u8>, Error> {
        self.control_call(req)?;
        Ok(hurd_trans::transbox::argv_to_argz(&hurd_rt::env::args()))
    }
}

/// The address setup from the arguments or the start number.
fn setup(mac: [u8; 6]) -> Result<Setup, alloc::string::String> {
    let args = hurd_rt::env::args();
    if args.is_empty() {
        // No argument block: the start number.
        let n = hurd_rt::env::start_arg();
        let gateway = Ipv4Addr::from(n as u32);
        return Ok(Setup {
            mac,
            address: Ipv4Addr::from((n >> 32) as u32),
            prefix: 24,
            gateway: (!gateway.is_unspecified()).then_some(gateway),
            dhcp: n == 0,
        });
    }
    parse_args(mac, args.get(1..).unwrap_or_default())
}

/// Writes the frames the stack has for the device.
fn flush(stack: &mut Stack, eth: &device::Client<'_, KernelIpc>) {
    while let Some(frame) = stack.frames().next_out() {
        if let Err(e) = eth.device_write_inband(0, 0, frame) {
            println!("pfinet: device_write: {e:?}");
        }
    }
}

/// A frame from the driver (a `net_rcv_msg`) to the stack.
fn deliver(ipc: &KernelIpc, stack: &mut Stack, msg: hurd_ipc::Message) {
    match net_rcv::Call::decode(msg) {
        Ok((net_rcv::Call::net_rcv_msg { header, packet }, _)) => {
            if let Some(frame) = frame_of_rcv_msg(&header, &packet) {
                stack.frames().deliver(frame);
            }
        }
        Err(bad) => ipc.destroy_message(bad.message),
    }
}

/// Names a lease on the console.
fn say_lease(lease: &Lease) {
    let gateway = lease
        .gateway
        .map_or_else(|| "none".to_string(), |g| g.to_string());
    println!(
        "pfinet: {INTERFACE} {}/{} gateway {gateway}, leased by DHCP from {}",
        lease.address, lease.prefix, lease.server
    );
}

/// Names a change of the configuration on the console.
fn say_change(change: &Change) {
    match change {
        Change::Leased(lease) => say_lease(lease),
        Change::Lost => println!("pfinet: {INTERFACE}: the DHCP lease ended; asking again"),
    }
}

/// Runs the stack on the frames arriving on `frames` (a port of its own,
/// in no set) until the DHCP client has its lease, or [`LEASE_WAIT_MS`]
/// have gone.
fn wait_for_lease(
    ipc: &KernelIpc,
    eth: &device::Client<'_, KernelIpc>,
    frames: PortName,
    stack: &mut Stack,
) -> Option<Lease> {
    let deadline = now() + LEASE_WAIT_MS;
    loop {
        let change = stack.poll(now());
        flush(stack, eth);
        if let Some(Change::Leased(lease)) = change {
            return Some(lease);
        }
        let left = deadline - now();
        if left <= 0 {
            return None;
        }
        let delay = stack
            .poll_delay(now())
            .map_or(left as u64, |d| d.min(left as u64));
        let opts = MsgOptions {
            rcv_timeout: Some(Duration::from_millis(delay)),
            ..MsgOptions::default()
        };
        match ipc.receive_with(frames, &opts) {
            Ok(msg) => deliver(ipc, stack, msg),
            Err(e) if e.code == MsgReturn::RcvTimedOut => {}
            Err(e) => {
                println!("pfinet: receive failed: {:?}", e.code);
                return None;
            }
        }
    }
}

/// Started as a translator: a control port in `set`, given to the parent
/// with `fsys_startup` on `bootstrap` (whose right is then released, as is
/// the node the parent answers: pfinet does not use it).
fn start_translator(
    ipc: &KernelIpc,
    bootstrap: PortName,
    set: PortName,
) -> Result<PortName, Error> {
    let control = ipc.port_allocate(RightType::Receive).map_err(Error::Kern)?;
    if let Err(e) = ipc.port_move_member(control, set) {
        let _ = ipc.port_destroy(control);
        return Err(Error::Kern(e));
    }
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
    let master = device::Client::new(&ipc, DEVICE_PORT);
    let eth = match master.device_open(D_READ | D_WRITE, INTERFACE.to_string()) {
        Ok(p) => p.name,
        Err(e) => {
            println!("pfinet: device_open {INTERFACE}: {e:?}");
            return 1;
        }
    };
    let eth = device::Client::new(&ipc, eth);
    let mac = eth
        .device_get_status(NET_ADDRESS, 2)
        .ok()
        .and_then(|w| address_from_words(&w, 6))
        .and_then(|m| <[u8; 6]>::try_from(m).ok());
    let Some(mac) = mac else {
        println!("pfinet: {INTERFACE} has no MAC address");
        return 1;
    };
    let setup = match setup(mac) {
        Ok(s) if s.dhcp || !s.address.is_unspecified() => s,
        Ok(_) => {
            println!("pfinet: no address (-a ADDRESS, or --dhcp)");
            return 1;
        }
        Err(why) => {
            println!("pfinet: {why}");
            return 1;
        }
    };
    // The server port: the one it was started with (the kernel's tests),
    // else (a translator) one of its own, handed out by `fsys_getroot`.
    let given = hurd_rt::ports::held(PortName(hurd_abi::SERVICE_PORT_NAME));
    let ports = (|| {
        let server = match given {
            Some(server) => server,
            None => ipc.port_allocate(RightType::Receive)?,
        };
        let frames = ipc.port_allocate(RightType::Receive)?;
        let set = ipc.port_allocate(RightType::PortSet)?;
        ipc.port_move_member(server, set)?;
        Ok::<_, hurd_ipc::KernReturn>((server, frames, set))
    })();
    let Ok((server, frames, set)) = ports else {
        println!("pfinet: no ports");
        return 2;
    };
    let filter = accept_ethertypes(NETF_IN, &[0x0806, 0x0800], 1514);
    let send = PortItem {
        name: frames,
        disposition: Disposition::MakeSend,
    };
    if let Err(e) = eth.device_set_filter(send, 0, filter) {
        println!("pfinet: device_set_filter: {e:?}");
        return 1;
    }
    let mut stack = Stack::new(setup, now());
    if setup.dhcp {
        // The frames port joins the set after the wait: until then the
        // calls on the server port wait for an address.
        match wait_for_lease(&ipc, &eth, frames, &mut stack) {
            Some(lease) => say_lease(&lease),
            None => println!(
                "pfinet: {INTERFACE}: no DHCP lease after {} s; serving without an address \
                 until one comes",
                LEASE_WAIT_MS / 1000
            ),
        }
    } else {
        println!(
            "pfinet: {INTERFACE} {}/{} gateway {:?}",
            setup.address, setup.prefix, setup.gateway
        );
    }
    if ipc.port_move_member(frames, set).is_err() {
        println!("pfinet: no ports");
        return 2;
    }
    let control = match hurd_rt::ports::held(BOOTSTRAP) {
        Some(bootstrap) => match start_translator(&ipc, bootstrap, set) {
            Ok(control) => control,
            Err(e) => {
                println!("pfinet: fsys_startup: {e:?}");
                return 1;
            }
        },
        None => PortName::NULL,
    };
    let pf = Pfinet {
        stack: RefCell::new(stack),
        server,
        set,
        sockets: RefCell::new(BTreeMap::new()),
        addresses: RefCell::new(BTreeMap::new()),
        waiting: RefCell::new(Vec::new()),
        control,
        going: core::cell::Cell::new(false),
    };
    // ANCHOR: main_loop
    loop {
        // Run the stack, write its frames, answer what can be.
        if let Some(change) = pf.stack.borrow_mut().poll(now()) {
            say_change(&change);
        }
        flush(&mut pf.stack.borrow_mut(), &eth);
        pf.answer_waiting();
        let delay = pf.stack.borrow_mut().poll_delay(now());
        let opts = MsgOptions {
            rcv_timeout: delay.map(Duration::from_millis),
            ..MsgOptions::default()
        };
        let msg = match ipc.receive_with(set, &opts) {
            Ok(msg) => msg,
            Err(e) if e.code == MsgReturn::RcvTimedOut => continue,
            Err(e) => {
                println!("pfinet: receive failed: {:?}", e.code);
                return 3;
            }
        };
        // ANCHOR_END: main_loop
        if msg.header.local == frames {
            deliver(&ipc, &mut pf.stack.borrow_mut(), msg);
            continue;
        }
        if msg.header.id == NOTIFY_NO_SENDERS {
            let port = msg.header.local;
            ipc.destroy_message(msg);
            if port != server {
                pf.no_senders(port);
            }
            continue;
        }
        let dispatch = match socket::demux(&pf, &ipc, msg) {
            Dispatch::NotMine(msg) => match io::demux(&pf, &ipc, msg) {
                Dispatch::NotMine(msg) => fsys::demux(&pf, &ipc, msg),
                d => d,
            },
            d => d,
        };
        let reply = match dispatch {
            Dispatch::Reply(reply) => Some(reply),
            Dispatch::NoReply => None,
            Dispatch::NotMine(msg) => match hurd_ipc::mig::bad_id(&ipc, msg) {
                Dispatch::Reply(reply) => Some(reply),
                _ => None,
            },
        };
        if let Some(reply) = reply {
            let _ = hurd_ipc::mig::send_reply(&ipc, reply);
        }
        if pf.going.get() {
            println!("pfinet: going away");
            return 0;
        }
    }
}
