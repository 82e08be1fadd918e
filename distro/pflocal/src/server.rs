//! The server: [`Sockets`] served on ports, generic over [`UserIpc`] (the
//! program on the kernel, or a task of hurd-ipc's hosted runtime in
//! tests).
//!
//! On its server port it answers `socket_create` (`SOCK_STREAM`; the
//! protocol `S_IFIFO` makes a pipe's socket); on a socket's port
//! `socket_connect2` (the other socket's port comes as a send right of
//! ours), `socket_shutdown`, `io_read`, `io_write`, `io_readable`,
//! `io_select`, `io_stat` (a FIFO or a socket, and the bytes waiting),
//! the open modes (`O_NONBLOCK` is the socket's own, as the Hurd's
//! pflocal keeps it; `O_READ` and `O_WRITE` as shutdown left them),
//! `io_duplicate` and `io_restrict_auth` (another port for the same
//! socket), `io_pathconf(_PC_PIPE_BUF)`. Names, addresses, listening,
//! `socket_send` and `socket_recv` are not served (`EOPNOTSUPP`).
//! `io_select` answers at once with what is ready, possibly nothing (the
//! emulator's `poll` asks again until its time is up). A read or write
//! that must wait (nothing to read yet, no room to write) is answered
//! when it can be; one whose caller is gone
//! (its reply port dead) is forgotten when the next one must wait, and at
//! most [`MAX_WAITING`] wait (more are refused `ENOBUFS`). A socket is
//! closed when none of its ports has senders left: the other socket then
//! reads end of file, and its writes fail `EPIPE`.
//!
//! On its control port (a translator's) it answers `fsys_getroot` with a
//! send right to the server port, `fsys_goaway` (without
//! `FSYS_GOAWAY_FORCE`, `EBUSY` while sockets are open),
//! `fsys_get_options` (its arguments) and `fsys_syncfs`.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::notify::{NOTIFY_NO_SENDERS, NotifyKind};
use hurd_ipc::{
    Disposition, Errno, Error, Message, MigReturn, PortArray, PortItem, PortName, PortType,
    RightType, UserIpc,
};
use hurd_trans::flags::{FSYS_GOAWAY_FORCE, OpenFlags};
use hurd_trans::protocol::{fsys, io, socket};
use hurd_trans::stat::Stat;
use hurd_trans::{Name, RetryType};

use crate::{FSTYPE_SOCKET, PIPE_BUF, SELECT_READ, SELECT_WRITE, SocketId, Sockets};

/// The most bytes one `io_read` answers.
const MAX_READ: u64 = 64 * 1024;
/// The most calls waiting to be answered.
pub const MAX_WAITING: usize = 1024;
/// `_PC_PIPE_BUF` (glibc's `bits/confname.h`).
const PC_PIPE_BUF: i32 = 5;

/// A call answered later.
enum Wait {
    Read(SocketId, u64),
    Write(SocketId, Vec<u8>),
}

/// The server: the socket table, the ports standing for its sockets and
/// the calls waiting.
pub struct Server<I: UserIpc> {
    ipc: I,
    table: RefCell<Sockets>,
    server: PortName,
    set: PortName,
    /// Socket ports (receive rights) and their sockets.
    ports: RefCell<BTreeMap<PortName, SocketId>>,
    waiting: RefCell<Vec<(Wait, Request)>>,
    /// The control port when started as a translator (else NULL).
    control: PortName,
    /// Set by `fsys_goaway`: the server ends once it has answered.
    going: Cell<bool>,
    /// The arguments it was started with (`fsys_get_options`).
    args: Vec<&'static str>,
}

fn errno(e: Errno) -> Error {
    e.into()
}

impl<I: UserIpc> Server<I> {
    /// `EOPNOTSUPP` unless `req` came on the control port.
    fn control_call(&self, req: &Request) -> Result<(), Error> {
        if self.control.is_valid() && req.port == self.control {
            Ok(())
        } else {
            Err(errno(Errno::OpNotSupp))
        }
    }

    fn socket(&self, req: &Request) -> Result<SocketId, Error> {
        self.ports
            .borrow()
            .get(&req.port)
            .copied()
            .ok_or(errno(Errno::OpNotSupp))
    }

    /// A new port for socket `id` in the receive set, with a no-senders
    /// request on itself.
    fn socket_port(&self, id: SocketId) -> Result<PortItem, Error> {
        let ipc = &self.ipc;
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
        self.ports.borrow_mut().insert(port, id);
        Ok(PortItem {
            name: port,
            disposition: Disposition::MakeSend,
        })
    }

    /// Defers `req` until `wait` can be answered. The calls waiting whose
    /// callers are gone (their reply ports dead names) are forgotten
    /// first; `ENOBUFS` when [`MAX_WAITING`] still wait.
    fn later<T>(&self, wait: Wait, req: &Request) -> Result<T, Error> {
        let ipc = &self.ipc;
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

    /// Answers the waiting calls that can be now.
    fn answer_waiting(&self) {
        let ipc = &self.ipc;
        // Answering one may make room or data for another: go round until
        // a pass answers nothing.
        loop {
            let waiting = core::mem::take(&mut *self.waiting.borrow_mut());
            let before = waiting.len();
            let mut still = Vec::new();
            for (wait, req) in waiting {
                let mut table = self.table.borrow_mut();
                match wait {
                    Wait::Read(id, amount) => match table.read(id, amount) {
                        Ok(None) => still.push((Wait::Read(id, amount), req)),
                        r => {
                            drop(table);
                            let r = r.map(Option::unwrap_or_default).map_err(errno);
                            let _ = io::reply::read(ipc, &req, r);
                        }
                    },
                    Wait::Write(id, data) => match table.write(id, &data) {
                        Ok(None) => still.push((Wait::Write(id, data), req)),
                        r => {
                            drop(table);
                            let r = r.map(|n| n.unwrap_or(0) as u64).map_err(errno);
                            let _ = io::reply::write(ipc, &req, r);
                        }
                    },
                }
            }
            let answered = before != still.len();
            self.waiting.borrow_mut().extend(still);
            if !answered {
                break;
            }
        }
    }

    /// A port with no senders left: forgotten, and its socket closed if
    /// it was the socket's last port.
    fn no_senders(&self, port: PortName) {
        let ipc = &self.ipc;
        let mut ports = self.ports.borrow_mut();
        if let Some(id) = ports.remove(&port)
            && !ports.values().any(|&other| other == id)
        {
            self.table.borrow_mut().close(id);
        }
        drop(ports);
        let _ = ipc.port_destroy(port);
    }
}

impl<I: UserIpc> socket::Server for Server<I> {
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
            .table
            .borrow_mut()
            .create(sock_type, protocol)
            .map_err(errno)?;
        self.socket_port(id)
            .inspect_err(|_| self.table.borrow_mut().close(id))
    }

    fn socket_listen(&self, _req: &Request, _queue_limit: i32) -> Result<(), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_accept(&self, _req: &Request) -> Result<(PortItem, PortItem), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_connect(&self, _req: &Request, addr: PortItem) -> Result<(), Error> {
        self.release(addr);
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_bind(&self, _req: &Request, addr: PortItem) -> Result<(), Error> {
        self.release(addr);
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_name(&self, _req: &Request) -> Result<PortItem, Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_peername(&self, _req: &Request) -> Result<PortItem, Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_connect2(&self, req: &Request, sock2: PortItem) -> Result<(), Error> {
        // A port of ours arrives as the name of its receive right; the
        // send right that came is released (the name stays ours).
        let other = self.ports.borrow().get(&sock2.name).copied();
        self.release(sock2);
        let id = self.socket(req)?;
        let other = other.ok_or(errno(Errno::Inval))?;
        self.table.borrow_mut().connect2(id, other).map_err(errno)
    }

    fn socket_create_address(
        &self,
        _req: &Request,
        _sockaddr_type: i32,
        _sockaddr: Vec<u8>,
    ) -> Result<PortItem, Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_whatis_address(&self, _req: &Request) -> Result<(i32, Vec<u8>), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_shutdown(&self, req: &Request, direction: i32) -> Result<(), Error> {
        let id = self.socket(req)?;
        self.table
            .borrow_mut()
            .shutdown(id, direction)
            .map_err(errno)?;
        self.answer_waiting();
        Ok(())
    }

    fn socket_send(
        &self,
        _req: &Request,
        addr: PortItem,
        _flags: i32,
        _data: Vec<u8>,
        ports: PortArray,
        _control: Vec<u8>,
    ) -> Result<u64, Error> {
        // A pair's sockets are read and written with io_read and io_write;
        // the rights that came are released.
        let ipc = &self.ipc;
        for name in ports.names.into_iter().filter(|n| n.is_valid()) {
            let _ = ipc.port_deallocate(name);
        }
        self.release(addr);
        Err(errno(Errno::OpNotSupp))
    }

    fn socket_recv(&self, _req: &Request, _flags: i32, _amount: u64) -> Result<RecvReply, Error> {
        Err(errno(Errno::OpNotSupp))
    }
}

/// What `socket_recv` answers: the source's address port, the bytes, the
/// rights, the control data, the out flags.
type RecvReply = (PortItem, Vec<u8>, PortArray, Vec<u8>, i32);

impl<I: UserIpc> io::Server for Server<I> {
    fn write(&self, req: &Request, data: Vec<u8>, _offset: i64) -> Result<u64, Error> {
        let id = self.socket(req)?;
        let written = self.table.borrow_mut().write(id, &data).map_err(errno)?;
        match written {
            Some(n) => {
                self.answer_waiting();
                Ok(n as u64)
            }
            None => self.later(Wait::Write(id, data), req),
        }
    }

    fn read(&self, req: &Request, _offset: i64, amount: u64) -> Result<Vec<u8>, Error> {
        let id = self.socket(req)?;
        let amount = amount.min(MAX_READ);
        let got = self.table.borrow_mut().read(id, amount).map_err(errno)?;
        match got {
            Some(data) => {
                self.answer_waiting();
                Ok(data)
            }
            None => self.later(Wait::Read(id, amount), req),
        }
    }

    fn seek(&self, _req: &Request, _offset: i64, _whence: i32) -> Result<i64, Error> {
        Err(errno(Errno::SPipe))
    }

    fn readable(&self, req: &Request) -> Result<u64, Error> {
        let id = self.socket(req)?;
        self.table
            .borrow()
            .readable(id)
            .map(|n| n as u64)
            .map_err(errno)
    }

    /// Answered at once, with what is ready (possibly nothing): the
    /// emulator's `poll` asks again until its time is up, as it does of
    /// every server (it has no `io_select_request` with a timeout yet).
    fn select(&self, req: &Request, select_type: i32) -> Result<i32, Error> {
        let id = self.socket(req)?;
        let wanted = select_type & (SELECT_READ | SELECT_WRITE);
        self.table.borrow().ready(id, wanted).map_err(errno)
    }

    fn set_all_openmodes(&self, req: &Request, newbits: i32) -> Result<(), Error> {
        let id = self.socket(req)?;
        let on = newbits as u32 & OpenFlags::NONBLOCK.bits() != 0;
        self.table
            .borrow_mut()
            .set_nonblocking(id, on)
            .map_err(errno)
    }

    fn get_openmodes(&self, req: &Request) -> Result<i32, Error> {
        let id = self.socket(req)?;
        let table = self.table.borrow();
        let (read, write) = table.directions(id).map_err(errno)?;
        let mut bits = OpenFlags::APPEND;
        bits.set(OpenFlags::READ, read);
        bits.set(OpenFlags::WRITE, write);
        bits.set(OpenFlags::NONBLOCK, table.nonblocking(id).map_err(errno)?);
        Ok(bits.bits() as i32)
    }

    fn set_some_openmodes(&self, req: &Request, bits_to_set: i32) -> Result<(), Error> {
        let id = self.socket(req)?;
        if bits_to_set as u32 & OpenFlags::NONBLOCK.bits() != 0 {
            self.table
                .borrow_mut()
                .set_nonblocking(id, true)
                .map_err(errno)?;
        }
        Ok(())
    }

    fn clear_some_openmodes(&self, req: &Request, bits_to_clear: i32) -> Result<(), Error> {
        let id = self.socket(req)?;
        if bits_to_clear as u32 & OpenFlags::NONBLOCK.bits() != 0 {
            self.table
                .borrow_mut()
                .set_nonblocking(id, false)
                .map_err(errno)?;
        }
        Ok(())
    }

    fn stat(&self, req: &Request) -> Result<Stat, Error> {
        let id = self.socket(req)?;
        let status = self.table.borrow().status(id).map_err(errno)?;
        Ok(Stat {
            fstype: FSTYPE_SOCKET,
            ino: u64::from(id.0),
            mode: status.mode,
            nlink: 1,
            size: status.size,
            blksize: PIPE_BUF as u32,
            ..Stat::default()
        })
    }

    fn reauthenticate(&self, _req: &Request, rendezvous2: PortItem) {
        self.release(rendezvous2);
    }

    fn restrict_auth(
        &self,
        req: &Request,
        _uids: Vec<u32>,
        _gids: Vec<u32>,
    ) -> Result<PortItem, Error> {
        let id = self.socket(req)?;
        self.socket_port(id)
    }

    fn duplicate(&self, req: &Request) -> Result<PortItem, Error> {
        let id = self.socket(req)?;
        self.socket_port(id)
    }

    fn server_version(&self, _req: &Request) -> Result<(String, i32, i32, i32), Error> {
        Ok(("pflocal".to_string(), 0, 1, 0))
    }

    fn map(&self, _req: &Request) -> Result<(PortItem, PortItem), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn pathconf(&self, req: &Request, name: i32) -> Result<i32, Error> {
        self.socket(req)?;
        if name == PC_PIPE_BUF {
            Ok(PIPE_BUF as i32)
        } else {
            Err(errno(Errno::Inval))
        }
    }
}

/// The node's side: on the control port only.
impl<I: UserIpc> fsys::Server for Server<I> {
    fn startup(
        &self,
        _req: &Request,
        _openflags: i32,
        control_port: PortItem,
    ) -> Result<PortItem, Error> {
        // pflocal starts no translators.
        self.release(control_port);
        Err(errno(Errno::OpNotSupp))
    }

    fn goaway(&self, req: &Request, flags: i32) -> Result<(), Error> {
        self.control_call(req)?;
        if flags as u32 & FSYS_GOAWAY_FORCE == 0 && !self.table.borrow().is_empty() {
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
        self.release(dotdot_node);
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
        Ok(hurd_trans::transbox::argv_to_argz(&self.args))
    }
}

impl<I: UserIpc> Server<I> {
    /// A server answering `socket_create` on `server` (a receive right in
    /// `ipc`'s space) and the fsys calls on `control` (a receive right, or
    /// NULL when not a translator); both are moved into a new port set,
    /// where the sockets' ports go too. `args` are what
    /// `fsys_get_options` answers.
    ///
    /// # Errors
    ///
    /// The kernel's refusal to make the set or move a port into it.
    pub fn new(
        ipc: I,
        server: PortName,
        control: PortName,
        args: Vec<&'static str>,
    ) -> Result<Server<I>, Error> {
        let set = ipc.port_allocate(RightType::PortSet).map_err(Error::Kern)?;
        ipc.port_move_member(server, set).map_err(Error::Kern)?;
        if control.is_valid() {
            ipc.port_move_member(control, set).map_err(Error::Kern)?;
        }
        Ok(Server {
            ipc,
            table: RefCell::new(Sockets::new()),
            server,
            set,
            ports: RefCell::new(BTreeMap::new()),
            waiting: RefCell::new(Vec::new()),
            control,
            going: Cell::new(false),
            args,
        })
    }

    /// Releases a right that came in a request.
    fn release(&self, item: PortItem) {
        if item.name.is_valid() {
            let _ = self.ipc.port_deallocate(item.name);
        }
    }

    /// How many sockets are open.
    pub fn sockets(&self) -> usize {
        self.table.borrow().len()
    }

    /// Handles one message that arrived on the set: a request (answered
    /// now or later) or a no-senders notification. Returns `false` once
    /// `fsys_goaway` was granted.
    pub fn handle(&self, msg: Message) -> bool {
        let ipc = &self.ipc;
        if msg.header.id == NOTIFY_NO_SENDERS {
            let port = msg.header.local;
            ipc.destroy_message(msg);
            if port != self.server && port != self.control {
                self.no_senders(port);
                self.answer_waiting();
            }
            return true;
        }
        let dispatch = match socket::demux(self, ipc, msg) {
            Dispatch::NotMine(msg) => match io::demux(self, ipc, msg) {
                Dispatch::NotMine(msg) => fsys::demux(self, ipc, msg),
                d => d,
            },
            d => d,
        };
        let reply = match dispatch {
            Dispatch::Reply(reply) => Some(reply),
            Dispatch::NoReply => None,
            Dispatch::NotMine(msg) => match hurd_ipc::mig::bad_id(ipc, msg) {
                Dispatch::Reply(reply) => Some(reply),
                _ => None,
            },
        };
        if let Some(reply) = reply {
            let _ = hurd_ipc::mig::send_reply(ipc, reply);
        }
        !self.going.get()
    }

    /// Receives and handles messages until `fsys_goaway` is granted (`Ok`)
    /// or a receive fails.
    ///
    /// # Errors
    ///
    /// The failed receive's code.
    pub fn serve(&self) -> Result<(), hurd_ipc::MsgReturn> {
        loop {
            let msg = self.ipc.receive(self.set).map_err(|e| e.code)?;
            if !self.handle(msg) {
                return Ok(());
            }
        }
    }
}

/// A server on hurd-ipc's hosted runtime, in a thread of its own serving
/// `task`: returns the thread and a send right to its control port in
/// `holder`'s space (to set as a node's active translator, or to ask
/// `fsys_getroot` directly).
///
/// # Errors
///
/// The runtime's refusal of a port or the thread.
#[cfg(feature = "std")]
pub fn spawn(
    task: hurd_ipc::hosted::Task,
    holder: &hurd_ipc::hosted::Task,
) -> Result<
    (
        std::thread::JoinHandle<Result<(), hurd_ipc::MsgReturn>>,
        PortName,
    ),
    Error,
> {
    let server = task
        .port_allocate(RightType::Receive)
        .map_err(Error::Kern)?;
    let control = task
        .port_allocate(RightType::Receive)
        .map_err(Error::Kern)?;
    let given = task
        .give_right(control, Disposition::MakeSend, holder)
        .map_err(Error::Kern)?;
    let pf = Server::new(task, server, control, alloc::vec!["/hurd/pflocal"])?;
    let handle = std::thread::Builder::new()
        .name(std::format!("pflocal-{}", pf.set.0))
        .spawn(move || pf.serve())
        .map_err(|_| Error::Kern(hurd_ipc::KernReturn::ResourceShortage))?;
    Ok((handle, given))
}
