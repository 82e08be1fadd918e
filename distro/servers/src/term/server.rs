//! The terminal server: a [`LineDiscipline`] served as an I/O object, over
//! any [`UserIpc`].
//!
//! Processes read and write the terminal with `io.defs` (`io_read` waits
//! for a line in canonical mode; `io_write` goes through output
//! processing to the device), get and set its modes with `tioctl.defs`'s
//! `TIOCGETA`/`TIOCSETA`, and name its foreground process group with
//! `TIOCSPGRP`/`TIOCGPGRP`. Typed characters arrive as the device's
//! answers to reads, `device_read_reply_inband`, on an input port of the
//! server's own (only the device's reader holds it, so no client can type
//! for the user). When the line discipline sees the interrupt, quit or
//! suspend character, the server signals the foreground group through
//! the proc server ([`kill_pgrp`]), as the Hurd's term does.
//!
//! One thread serves ([`TermServer::serve`]); the device's output is a
//! function the server is given (the kernel's console, a test's buffer).
//! `io_duplicate` gives a new port for the same terminal (a port is one
//! name in a space, so a program's standard input, output and error need
//! three); it goes away when its last send right does.
//! Simplifications: no per-open identity (`io_reauthenticate` is
//! ignored and `io_restrict_auth` is `io_duplicate`), no `select`, no
//! output flow control.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use hurd_ipc::Errno;
use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::notify::NOTIFY_NO_SENDERS;
use hurd_ipc::user::{PortSet, ReceiveRight, Right, SendRight};
use hurd_ipc::{
    Disposition, Error, Message, MigReturn, PortItem, PortName, PortType, RightType, UserIpc,
    interface,
};
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::io;
use hurd_trans::stat::Stat;

use super::termios::NCCS;
use super::{InputFlags, LineDiscipline, LocalFlags, OutputFlags, Read, Termios};
use crate::proc::kill_pgrp;

interface! {
    /// `tioctl.defs`' terminal modes (subsystem 156000, where each routine
    /// sits at its ioctl number: `TIOCGETA` is 19): `modes` are `c_iflag`,
    /// `c_oflag`, `c_cflag` and `c_lflag`, `ccs` the `NCCS` control
    /// characters, `speeds` input and output speed.
    pub mod tioctl_modes: subsystem 156019 prefix "tioctl_" {
        /// `tioctl_tiocgeta` (156019): the terminal's modes.
        routine tiocgeta() -> (modes: Vec<u32>, ccs: Vec<u8>, speeds: Vec<u32>);
        /// `tioctl_tiocseta` (156020): sets them (`EINVAL` unless 4 modes,
        /// `NCCS` characters and 2 speeds).
        routine tiocseta(modes: Vec<u32>, ccs: Vec<u8>, speeds: Vec<u32>);
    }
}

interface! {
    /// `tioctl.defs`' foreground process group (`TIOCSPGRP` is ioctl 118).
    pub mod tioctl_pgrp: subsystem 156118 prefix "tioctl_" {
        /// `tioctl_tiocspgrp` (156118): the group the terminal signals.
        routine tiocspgrp(pgrp: i32);
        /// `tioctl_tiocgpgrp` (156119): that group (0: none).
        routine tiocgpgrp() -> (pgrp: i32);
    }
}

interface! {
    /// Mach's `device_reply.defs` (subsystem 2900, the replies to
    /// `device.defs`' 2800): only the answer to `device_read_inband`.
    pub mod device_reply: subsystem 2900 prefix "ds_device_" {
        skip open_reply();
        skip close_reply();
        skip write_reply();
        skip write_reply_inband();
        skip read_reply();
        /// `device_read_reply_inband` (2905): bytes read from the device
        /// (or a failure code, which ends input).
        simpleroutine read_reply_inband(return_code: i32, data: Vec<u8>);
    }
}

/// The most `io_read` requests waiting for input at once (each holds a
/// reply right); more are `EAGAIN`.
pub const MAX_READERS: usize = 16;

/// The most ports made by `io_duplicate` alive at once; more are
/// `EMFILE`'s case, `EAGAIN` here.
pub const MAX_PORTS: usize = 256;

/// The speed the terminal reports.
const SPEED: u32 = 115_200;

/// Where the terminal's output goes: the device.
pub type Device = Box<dyn Fn(&[u8]) + Send>;

/// The terminal's state.
struct State {
    ld: LineDiscipline,
    /// `io_read`s waiting for input, oldest first: the request and how
    /// much it asked for.
    readers: VecDeque<(Request, usize)>,
    /// The foreground process group (0: none).
    pgrp: i32,
    /// Ports made by `io_duplicate` (receive rights).
    extra: alloc::collections::BTreeSet<PortName>,
}

/// The terminal server. See the [module documentation](crate::term).
pub struct TermServer<I: UserIpc> {
    ipc: I,
    portset: PortName,
    /// The terminal's port (a receive right; clients hold send rights).
    port: PortName,
    /// The device's input port (a receive right).
    input: PortName,
    /// The terminal's own proc port (NULL: no job control).
    proc: PortName,
    device: Device,
    state: RefCell<State>,
}

impl<I: UserIpc> TermServer<I> {
    /// A terminal in `ipc`'s space writing to `device`; `proc` is the
    /// server's own proc port (a send right it takes; NULL for a terminal
    /// without job control).
    ///
    /// # Errors
    ///
    /// What allocating its ports and set returns; nothing is left allocated,
    /// and `proc` is released.
    pub fn new(ipc: I, device: Device, proc: PortName) -> Result<TermServer<I>, Error> {
        let (portset, port, input) = {
            let proc = SendRight::from_raw(&ipc, proc);
            let portset = PortSet::allocate(&ipc)?;
            let port = ReceiveRight::allocate(&ipc)?;
            let input = ReceiveRight::allocate(&ipc)?;
            portset.insert(port.name())?;
            portset.insert(input.name())?;
            proc.into_raw();
            (portset.into_raw(), port.into_raw(), input.into_raw())
        };
        Ok(TermServer {
            ipc,
            portset,
            port,
            input,
            proc,
            device,
            state: RefCell::new(State {
                ld: LineDiscipline::new(),
                readers: VecDeque::new(),
                pgrp: 0,
                extra: alloc::collections::BTreeSet::new(),
            }),
        })
    }

    /// The terminal's port, to make send rights from (in the server's
    /// space: `MakeSend` from it).
    pub fn port(&self) -> PortName {
        self.port
    }

    /// The device's input port (`MakeSend` from it for the device's
    /// reader, which sends `device_read_reply_inband` there).
    pub fn input_port(&self) -> PortName {
        self.input
    }

    /// Serves the terminal until its port set dies.
    pub fn serve(&self) {
        let _ = hurd_ipc::mig::serve(&self.ipc, self.portset, |m| self.handle(m));
    }

    /// One request.
    pub fn handle(&self, m: Message) -> Dispatch {
        if m.header.id == NOTIFY_NO_SENDERS {
            let port = m.header.local;
            if self.state.borrow_mut().extra.remove(&port) {
                let _ = self.ipc.port_mod_refs(port, RightType::Receive, -1);
            }
            self.ipc.destroy_message(m);
            return Dispatch::NoReply;
        }
        if m.header.local == self.input {
            return match device_reply::demux(self, &self.ipc, m) {
                Dispatch::NotMine(m) => hurd_ipc::mig::bad_id(&self.ipc, m),
                d => d,
            };
        }
        let m = match io::demux(self, &self.ipc, m) {
            Dispatch::NotMine(m) => m,
            d => return d,
        };
        match tioctl_modes::demux(self, &self.ipc, m) {
            Dispatch::NotMine(m) => tioctl_pgrp::demux(self, &self.ipc, m),
            d => d,
        }
    }

    /// Answers the waiting readers the input now allows; a reader whose
    /// reply right has died (its caller gave up or was killed) is dropped
    /// without taking input.
    fn answer_readers(&self) {
        loop {
            let answer = {
                let mut s = self.state.borrow_mut();
                let Some(&(req, amount)) = s.readers.front() else {
                    return;
                };
                let gone = self
                    .ipc
                    .port_type(req.reply)
                    .map_or(true, |t| !t.contains(PortType::SEND_ONCE));
                if gone {
                    s.readers.pop_front();
                    let _ = self.ipc.port_deallocate(req.reply);
                    continue;
                }
                match s.ld.read(amount) {
                    Read::Data(d) => (req, d),
                    Read::Eof => (req, Vec::new()),
                    Read::Empty => return,
                }
            };
            self.state.borrow_mut().readers.pop_front();
            let _ = io::reply::read(&self.ipc, &answer.0, Ok(answer.1));
        }
    }

    /// Bytes typed: edited and echoed, and the signals they raise sent to
    /// the foreground group.
    fn typed(&self, data: &[u8]) {
        let mut echo = Vec::new();
        let mut signals = Vec::new();
        {
            let mut s = self.state.borrow_mut();
            for &b in data {
                if let Some(sig) = s.ld.input(b, &mut echo) {
                    signals.push(sig);
                }
            }
        }
        if !echo.is_empty() {
            (self.device)(&echo);
        }
        self.answer_readers();
        let pgrp = self.state.borrow().pgrp;
        for sig in signals {
            if pgrp > 0 && self.proc.is_valid() {
                let _ = kill_pgrp(&self.ipc, self.proc, pgrp, sig.number() as i32);
            }
        }
    }
}

impl<I: UserIpc> device_reply::Server for TermServer<I> {
    fn read_reply_inband(&self, _req: &Request, return_code: i32, data: Vec<u8>) {
        if return_code == 0 {
            self.typed(&data);
        }
    }
}

impl<I: UserIpc> io::Server for TermServer<I> {
    fn write(&self, _req: &Request, data: Vec<u8>, _offset: i64) -> Result<u64, Error> {
        let mut out = Vec::with_capacity(data.len() + data.len() / 8);
        self.state.borrow().ld.output(&data, &mut out);
        (self.device)(&out);
        Ok(data.len() as u64)
    }

    fn read(&self, req: &Request, _offset: i64, amount: u64) -> Result<Vec<u8>, Error> {
        let amount = usize::try_from(amount).unwrap_or(usize::MAX);
        if amount == 0 {
            return Ok(Vec::new());
        }
        let mut s = self.state.borrow_mut();
        // Readers are answered in order: a new one waits behind others.
        if s.readers.is_empty() {
            match s.ld.read(amount) {
                Read::Data(d) => return Ok(d),
                Read::Eof => return Ok(Vec::new()),
                Read::Empty => {}
            }
        }
        if s.readers.len() >= MAX_READERS {
            return Err(Errno::Again.into());
        }
        s.readers.push_back((*req, amount));
        Err(Error::Mig(MigReturn::NoReply))
    }

    fn seek(&self, _req: &Request, _offset: i64, _whence: i32) -> Result<i64, Error> {
        Err(Errno::SPipe.into())
    }

    fn readable(&self, _req: &Request) -> Result<u64, Error> {
        Ok(self.state.borrow().ld.available() as u64)
    }

    fn select(&self, _req: &Request, _select_type: i32) -> Result<i32, Error> {
        // Not served yet (waiting for input is not wired to it): answered
        // as a routine the terminal does not know, as before.
        Err(Error::Mig(hurd_ipc::MigReturn::BadId))
    }

    fn set_all_openmodes(&self, _req: &Request, _newbits: i32) -> Result<(), Error> {
        Ok(())
    }

    fn get_openmodes(&self, _req: &Request) -> Result<i32, Error> {
        Ok((OpenFlags::READ | OpenFlags::WRITE).bits() as i32)
    }

    fn set_some_openmodes(&self, _req: &Request, _bits: i32) -> Result<(), Error> {
        Ok(())
    }

    fn clear_some_openmodes(&self, _req: &Request, _bits: i32) -> Result<(), Error> {
        Ok(())
    }

    fn stat(&self, _req: &Request) -> Result<Stat, Error> {
        Ok(Stat {
            mode: hurd_trans::mode::S_IFCHR | 0o620,
            nlink: 1,
            blksize: 1024,
            ..Stat::default()
        })
    }

    fn reauthenticate(&self, _req: &Request, rendezvous2: PortItem) {
        // One identity for every user of the terminal: nothing to change.
        // The right is released as its kind needs (a receive right sent
        // where a send right belongs is destroyed, not kept).
        drop(Right::received(&self.ipc, rendezvous2));
    }

    fn restrict_auth(
        &self,
        req: &Request,
        _uids: Vec<u32>,
        _gids: Vec<u32>,
    ) -> Result<PortItem, Error> {
        io::Server::duplicate(self, req)
    }

    fn duplicate(&self, _req: &Request) -> Result<PortItem, Error> {
        if self.state.borrow().extra.len() >= MAX_PORTS {
            return Err(Errno::Again.into());
        }
        let port = crate::port::served_port(&self.ipc, self.portset)?;
        self.state.borrow_mut().extra.insert(port);
        Ok(PortItem {
            disposition: Disposition::MakeSend,
            name: port,
        })
    }

    fn server_version(&self, _req: &Request) -> Result<(String, i32, i32, i32), Error> {
        Ok(("term".into(), 0, 1, 0))
    }

    fn map(&self, _req: &Request) -> Result<(PortItem, PortItem), Error> {
        Err(Errno::OpNotSupp.into())
    }

    fn pathconf(&self, _req: &Request, _name: i32) -> Result<i32, Error> {
        Err(Errno::Inval.into())
    }
}

impl<I: UserIpc> tioctl_modes::Server for TermServer<I> {
    fn tiocgeta(&self, _req: &Request) -> Result<(Vec<u32>, Vec<u8>, Vec<u32>), Error> {
        let s = self.state.borrow();
        let t = s.ld.termios();
        Ok((
            alloc::vec![t.iflag.bits(), t.oflag.bits(), 0, t.lflag.bits()],
            t.cc.to_vec(),
            alloc::vec![SPEED, SPEED],
        ))
    }

    fn tiocseta(
        &self,
        _req: &Request,
        modes: Vec<u32>,
        ccs: Vec<u8>,
        speeds: Vec<u32>,
    ) -> Result<(), Error> {
        let (Ok(modes), Ok(cc)) = (<[u32; 4]>::try_from(modes), <[u8; NCCS]>::try_from(ccs)) else {
            return Err(Errno::Inval.into());
        };
        if speeds.len() != 2 {
            return Err(Errno::Inval.into());
        }
        let t = Termios {
            iflag: InputFlags::from_bits_truncate(modes[0]),
            oflag: OutputFlags::from_bits_truncate(modes[1]),
            lflag: LocalFlags::from_bits_truncate(modes[3]),
            cc,
        };
        self.state.borrow_mut().ld.set_termios(t);
        // Leaving canonical mode may make input readable.
        self.answer_readers();
        Ok(())
    }
}

impl<I: UserIpc> tioctl_pgrp::Server for TermServer<I> {
    fn tiocspgrp(&self, _req: &Request, pgrp: i32) -> Result<(), Error> {
        if pgrp < 0 {
            return Err(Errno::Inval.into());
        }
        self.state.borrow_mut().pgrp = pgrp;
        Ok(())
    }

    fn tiocgpgrp(&self, _req: &Request) -> Result<i32, Error> {
        Ok(self.state.borrow().pgrp)
    }
}

/// A client's view of a terminal: sets whether it echoes (as `stty -echo`
/// does for a password prompt), keeping its other modes.
///
/// # Errors
///
/// The terminal's error getting or setting its modes (the port is not a
/// terminal's, or the terminal is gone), or `MIG_TYPE_ERROR` when its
/// answer has no local modes.
pub fn set_echo<I: UserIpc + ?Sized>(ipc: &I, term: PortName, echo: bool) -> Result<(), Error> {
    let c = tioctl_modes::Client::new(ipc, term);
    let (mut modes, ccs, speeds) = c.tiocgeta()?;
    let lflag = modes.get_mut(3).ok_or(Error::Mig(MigReturn::TypeError))?;
    let mut l = LocalFlags::from_bits_truncate(*lflag);
    l.set(LocalFlags::ECHO, echo);
    *lflag = l.bits();
    c.tiocseta(modes, ccs, speeds)
}
