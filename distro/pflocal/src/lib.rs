//! The socket table of the reference distro's `pflocal` (the Hurd's
//! `/servers/socket/1`, the server of `PF_LOCAL`): stream sockets connected
//! in pairs, and the pipes made of them.
//!
//! On the Hurd a pipe is a pair of local stream sockets: glibc's `pipe2`
//! asks the `PF_LOCAL` server for two sockets (`socket_create`), joins them
//! (`socket_connect2`) and reads and writes them with `io_read` and
//! `io_write`. A socket pair carries data both ways; each direction is a
//! bounded buffer written by one socket and read by the other.
//!
//! [`Sockets`] is that table without the kernel: each operation answers at
//! once — with its result, with `Ok(None)` when the caller must wait (no
//! data to read yet, no room to write), or with the `errno` the Hurd's
//! pflocal gives. The program keeps the requests that wait and asks again
//! after every change. What it follows:
//!
//! - a read takes at most what is there (never more than asked); with the
//!   buffer empty it waits, or reads end of file (an empty answer) once the
//!   other socket can no longer write (closed, or shut down for writing) or
//!   this one was shut down for reading;
//! - a write with no reader left (the other socket closed or shut down for
//!   reading, or this one shut down for writing) fails `EPIPE`; otherwise
//!   it puts in as much as there is room for and waits when there is none;
//!   a write of at most [`PIPE_BUF`] bytes goes in whole or waits
//!   (POSIX's atomic pipe writes);
//! - a socket in non-blocking mode (`O_NONBLOCK` in its open modes) gets
//!   `EWOULDBLOCK` (the Hurd's `EAGAIN`) instead of waiting;
//! - [`Sockets::ready`] answers `io_select`: reading is ready when data or
//!   end of file is there, writing when [`PIPE_BUF`] bytes fit or the write
//!   would fail; an unconnected socket is ready for both (the call fails at
//!   once, `ENOTCONN`);
//! - closing a socket (its port has no senders left) keeps what it wrote
//!   readable by the other and drops what it had not read.
//!
//! [`server`] serves the table on ports (`socket.defs`, `io.defs`, and
//! `fsys.defs` on a translator's control port), generic over
//! [`hurd_ipc::UserIpc`]: the program `src/bin/pflocal.rs` runs it on the
//! kernel; with the feature `std`, [`server::spawn`] runs it on hurd-ipc's
//! hosted runtime.
//!
//! Memory is bounded whatever the clients do: at most [`MAX_SOCKETS`]
//! sockets (more are refused `ENOBUFS`) and [`BUFFER`] bytes waiting in each
//! direction; a read answers at most what is buffered.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod server;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

pub use hurd_ipc::Errno;

/// `PF_LOCAL` (`PF_UNIX`, `AF_LOCAL`): the family this server serves, on
/// `/servers/socket/1`.
pub const PF_LOCAL: i32 = 1;
/// `SOCK_STREAM`: the one socket type served.
pub const SOCK_STREAM: i32 = 1;
/// The "protocol" glibc's `pipe2` passes to `socket_create`: `S_IFIFO`
/// asks for sockets whose `io_stat` reports a FIFO, as POSIX wants of a
/// pipe.
pub const PROTOCOL_FIFO: i32 = 0o010000;
/// `st_fstype` of a socket (`FSTYPE_SOCKET` in the Hurd's `hurd_types.h`).
pub const FSTYPE_SOCKET: u32 = 0x0000_0011;
/// `S_IFIFO`.
pub const S_IFIFO: u32 = 0o010000;
/// `S_IFSOCK`.
pub const S_IFSOCK: u32 = 0o140000;
/// `SHUT_RD` (`socket_shutdown`'s direction 0): no more receiving.
pub const SHUT_RD: i32 = 0;
/// `SHUT_WR` (1): no more sending.
pub const SHUT_WR: i32 = 1;
/// `SHUT_RDWR` (2): neither.
pub const SHUT_RDWR: i32 = 2;
/// `SELECT_READ`, as `io_select` takes it (the Hurd's `hurd_types.h`).
pub const SELECT_READ: i32 = 1;
/// `SELECT_WRITE`.
pub const SELECT_WRITE: i32 = 2;
/// The bytes each direction of a pair holds (Linux's default pipe
/// capacity).
pub const BUFFER: usize = 65536;
/// The largest write that goes in whole or not at all (`PIPE_BUF`, what
/// `io_pathconf(_PC_PIPE_BUF)` answers).
pub const PIPE_BUF: usize = 4096;
/// The most sockets open at once.
pub const MAX_SOCKETS: usize = 4096;

/// What an operation answers: `Ok(Some(result))`, `Ok(None)` when the
/// caller must wait and ask again after a change, or the error.
pub type Answer<T> = Result<Option<T>, Errno>;

/// A socket of the table (the server maps each to its port).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SocketId(pub u32);

/// Whom a socket is connected to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Peer {
    /// Never connected.
    None,
    /// Connected to this socket, still open.
    Open(SocketId),
    /// Was connected; the other socket is closed.
    Closed,
}

#[derive(Debug)]
struct Socket {
    peer: Peer,
    /// What the peer wrote, for this socket to read.
    incoming: VecDeque<u8>,
    /// Shut down for reading: reads find end of file, the peer's writes
    /// fail `EPIPE`.
    read_shut: bool,
    /// Shut down for writing: the peer reads end of file after the data.
    write_shut: bool,
    nonblocking: bool,
    mode: u32,
}

impl Socket {
    fn connected(&self) -> bool {
        self.peer != Peer::None
    }
}

/// The status `io_stat` reports of a socket.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Status {
    /// `S_IFIFO | 0600` for a pipe's socket (made with [`PROTOCOL_FIFO`]),
    /// else `S_IFSOCK | 0777`, as Linux reports them.
    pub mode: u32,
    /// The bytes waiting to be read.
    pub size: u64,
}

/// The socket table.
#[derive(Debug, Default)]
pub struct Sockets {
    table: BTreeMap<SocketId, Socket>,
    next: u32,
}

impl Sockets {
    /// An empty table.
    pub fn new() -> Sockets {
        Sockets::default()
    }

    /// How many sockets are open.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no socket is open.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Whether `id` is an open socket.
    pub fn contains(&self, id: SocketId) -> bool {
        self.table.contains_key(&id)
    }

    /// `socket_create(SOCK_STREAM, protocol)`: a new, unconnected socket.
    /// `protocol` is 0, or [`PROTOCOL_FIFO`] for a pipe's socket.
    ///
    /// # Errors
    ///
    /// `ESOCKTNOSUPPORT` for a type other than `SOCK_STREAM`,
    /// `EPROTONOSUPPORT` for another protocol, `ENOBUFS` when
    /// [`MAX_SOCKETS`] are open.
    pub fn create(&mut self, sock_type: i32, protocol: i32) -> Result<SocketId, Errno> {
        if sock_type != SOCK_STREAM {
            return Err(Errno::SockTNoSupport);
        }
        let mode = match protocol {
            0 => S_IFSOCK | 0o777,
            PROTOCOL_FIFO => S_IFIFO | 0o600,
            _ => return Err(Errno::ProtoNoSupport),
        };
        if self.table.len() >= MAX_SOCKETS {
            return Err(Errno::NoBufs);
        }
        // At most MAX_SOCKETS numbers are taken: a free one comes soon.
        while self.table.contains_key(&SocketId(self.next)) {
            self.next = self.next.wrapping_add(1);
        }
        let id = SocketId(self.next);
        self.next = self.next.wrapping_add(1);
        self.table.insert(
            id,
            Socket {
                peer: Peer::None,
                incoming: VecDeque::new(),
                read_shut: false,
                write_shut: false,
                nonblocking: false,
                mode,
            },
        );
        Ok(id)
    }

    fn get(&self, id: SocketId) -> Result<&Socket, Errno> {
        self.table.get(&id).ok_or(Errno::BadF)
    }

    fn get_mut(&mut self, id: SocketId) -> Result<&mut Socket, Errno> {
        self.table.get_mut(&id).ok_or(Errno::BadF)
    }

    /// `socket_connect2(a, b)`: joins two unconnected sockets into a pair.
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open, `EINVAL` for a socket joined
    /// to itself, `EISCONN` when either is (or was) connected.
    pub fn connect2(&mut self, a: SocketId, b: SocketId) -> Result<(), Errno> {
        let (sa, sb) = (self.get(a)?, self.get(b)?);
        if a == b {
            return Err(Errno::Inval);
        }
        if sa.connected() || sb.connected() {
            return Err(Errno::IsConn);
        }
        self.get_mut(a)?.peer = Peer::Open(b);
        self.get_mut(b)?.peer = Peer::Open(a);
        Ok(())
    }

    /// Sets or clears the socket's non-blocking mode (`O_NONBLOCK` in
    /// `io_set_all_openmodes`, `io_set_some_openmodes`,
    /// `io_clear_some_openmodes`).
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open.
    pub fn set_nonblocking(&mut self, id: SocketId, on: bool) -> Result<(), Errno> {
        self.get_mut(id)?.nonblocking = on;
        Ok(())
    }

    /// Whether the socket is in non-blocking mode.
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open.
    pub fn nonblocking(&self, id: SocketId) -> Result<bool, Errno> {
        Ok(self.get(id)?.nonblocking)
    }

    /// Whether the socket may still read and write (its open modes'
    /// `O_READ` and `O_WRITE`: cleared by shutdown).
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open.
    pub fn directions(&self, id: SocketId) -> Result<(bool, bool), Errno> {
        let s = self.get(id)?;
        Ok((!s.read_shut, !s.write_shut))
    }

    /// Whether reading finds end of file once the buffered data is read:
    /// the other socket is closed or shut down for writing, or this one is
    /// shut down for reading. (Linux's `POLLHUP` on a pipe's read end.)
    fn at_end(&self, s: &Socket) -> bool {
        if s.read_shut {
            return true;
        }
        match s.peer {
            Peer::None => false,
            Peer::Closed => true,
            Peer::Open(p) => self.table.get(&p).is_none_or(|p| p.write_shut),
        }
    }

    /// Whether writing fails `EPIPE`.
    fn broken(&self, s: &Socket) -> bool {
        if s.write_shut {
            return true;
        }
        match s.peer {
            Peer::None => false,
            Peer::Closed => true,
            Peer::Open(p) => self.table.get(&p).is_none_or(|p| p.read_shut),
        }
    }

    /// `io_read`: up to `amount` bytes. An empty answer is end of file (or
    /// a read of 0 bytes).
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open, `ENOTCONN` for one never
    /// connected, `EWOULDBLOCK` when a non-blocking socket would wait.
    pub fn read(&mut self, id: SocketId, amount: u64) -> Answer<Vec<u8>> {
        let s = self.get(id)?;
        if !s.connected() {
            return Err(Errno::NotConn);
        }
        if s.incoming.is_empty() && amount > 0 {
            if self.at_end(s) {
                return Ok(Some(Vec::new()));
            }
            if s.nonblocking {
                return Err(Errno::Again);
            }
            return Ok(None);
        }
        let s = self.get_mut(id)?;
        let n = usize::try_from(amount)
            .unwrap_or(usize::MAX)
            .min(s.incoming.len());
        Ok(Some(s.incoming.drain(..n).collect()))
    }

    /// `io_write`: as much of `data` as there is room for (all of it, or
    /// nothing yet, when it is at most [`PIPE_BUF`] bytes); how much.
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open, `ENOTCONN` for one never
    /// connected, `EPIPE` when nobody reads any more, `EWOULDBLOCK` when
    /// a non-blocking socket would wait.
    pub fn write(&mut self, id: SocketId, data: &[u8]) -> Answer<usize> {
        let s = self.get(id)?;
        if !s.connected() {
            return Err(Errno::NotConn);
        }
        if data.is_empty() {
            return Ok(Some(0));
        }
        if self.broken(s) {
            return Err(Errno::Pipe);
        }
        let Peer::Open(p) = s.peer else {
            return Err(Errno::Pipe);
        };
        let nonblocking = s.nonblocking;
        let peer = self.get_mut(p)?;
        let room = BUFFER.saturating_sub(peer.incoming.len());
        let n = if data.len() <= PIPE_BUF {
            if room >= data.len() { data.len() } else { 0 }
        } else {
            room.min(data.len())
        };
        if n == 0 {
            return if nonblocking {
                Err(Errno::Again)
            } else {
                Ok(None)
            };
        }
        peer.incoming.extend(&data[..n]);
        Ok(Some(n))
    }

    /// `io_readable`: the bytes a read would take now.
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open.
    pub fn readable(&self, id: SocketId) -> Result<usize, Errno> {
        Ok(self.get(id)?.incoming.len())
    }

    /// `io_select`: which of [`SELECT_READ`] and [`SELECT_WRITE`] in
    /// `wanted` would not wait (0: none yet).
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open.
    pub fn ready(&self, id: SocketId, wanted: i32) -> Result<i32, Errno> {
        let s = self.get(id)?;
        let mut ready = 0;
        if !s.connected() {
            ready = SELECT_READ | SELECT_WRITE;
        } else {
            if !s.incoming.is_empty() || self.at_end(s) {
                ready |= SELECT_READ;
            }
            let room = match s.peer {
                Peer::Open(p) => self
                    .table
                    .get(&p)
                    .map_or(0, |p| BUFFER.saturating_sub(p.incoming.len())),
                _ => 0,
            };
            if room >= PIPE_BUF || self.broken(s) {
                ready |= SELECT_WRITE;
            }
        }
        Ok(ready & wanted)
    }

    /// Whether the socket's reading has reached, or will reach after its
    /// data, end of file: Linux's `POLLHUP`.
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open.
    pub fn hung_up(&self, id: SocketId) -> Result<bool, Errno> {
        let s = self.get(id)?;
        Ok(s.connected() && self.at_end(s))
    }

    /// `socket_shutdown(direction)`: [`SHUT_RD`] (what waits unread is
    /// dropped), [`SHUT_WR`] or [`SHUT_RDWR`].
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open, `EINVAL` for another
    /// direction, `ENOTCONN` for a socket never connected.
    pub fn shutdown(&mut self, id: SocketId, direction: i32) -> Result<(), Errno> {
        let s = self.get_mut(id)?;
        if !(SHUT_RD..=SHUT_RDWR).contains(&direction) {
            return Err(Errno::Inval);
        }
        if !s.connected() {
            return Err(Errno::NotConn);
        }
        if direction != SHUT_WR {
            s.read_shut = true;
            s.incoming = VecDeque::new();
        }
        if direction != SHUT_RD {
            s.write_shut = true;
        }
        Ok(())
    }

    /// `io_stat`'s answer.
    ///
    /// # Errors
    ///
    /// `EBADF` for a socket that is not open.
    pub fn status(&self, id: SocketId) -> Result<Status, Errno> {
        let s = self.get(id)?;
        Ok(Status {
            mode: s.mode,
            size: s.incoming.len() as u64,
        })
    }

    /// Closes the socket (its port has no senders left): what it wrote
    /// stays for the other socket to read, which then reads end of file;
    /// the other socket's writes fail `EPIPE`. Closing a socket that is
    /// not open does nothing.
    pub fn close(&mut self, id: SocketId) {
        let Some(s) = self.table.remove(&id) else {
            return;
        };
        if let Peer::Open(p) = s.peer
            && let Some(p) = self.table.get_mut(&p)
        {
            p.peer = Peer::Closed;
        }
    }
}
