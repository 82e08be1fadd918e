//! `poll` as the Hurd's C library does it: each descriptor's server is
//! asked with `io_select` which of reading, writing and urgent data would
//! not wait.
//!
//! One pass ([`Files::poll_once`]) fills each entry's `revents`: `POLLNVAL`
//! for a closed descriptor, nothing for a negative one, and for an open one
//! what its server answered, limited to what was asked. A file system
//! answers at once (a file is always ready, as on Linux); a server that
//! does not know `io_select` (`MIG_BAD_ID`, `EOPNOTSUPP`: the terminal
//! today) counts as ready for what was asked, so the read or write that
//! follows waits as it would have without the `poll`. The console (standard
//! output or error without a port) is ready for writing. An entry asking
//! for nothing gets only `POLLNVAL`: no RPC is made (Rust's `std` asks so
//! at start whether descriptors 0 to 2 are open).
//!
//! A pipe or a socket pair whose other end is gone is ready for reading
//! with nothing to read (end of file): when `io_select` answers reading
//! ready, `io_readable` answers 0 and `io_stat` says FIFO or socket, the
//! entry gets Linux's `POLLHUP` — alone for a pipe, with `POLLIN` for a
//! socket, as Linux reports them. (A pipe whose writer is gone but which
//! still holds data reports `POLLIN` alone until it is read empty.)
//!
//! The caller repeats passes until one finds something or the time is up;
//! every server here answers `io_select` at once.

use hurd_ipc::PortName;
use hurd_ipc::{Error, MigReturn, UserIpc};
use hurd_trans::mode::{S_IFIFO, S_IFMT, S_IFSOCK};
use hurd_trans::protocol::io;
use linux_abi::Errno;
use linux_abi::layout::misc::{
    POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLRDNORM, PollFd, SELECT_READ, SELECT_WRITE,
};

use crate::files::{File, Files};

impl Files {
    /// One pass of `poll` over `fds`: sets every entry's `revents`;
    /// returns how many are not 0.
    pub fn poll_once<I: UserIpc + ?Sized>(&self, ipc: &I, fds: &mut [PollFd]) -> usize {
        let mut ready = 0;
        for f in fds.iter_mut() {
            f.revents = self.revents(ipc, f);
            if f.revents != 0 {
                ready += 1;
            }
        }
        ready
    }

    fn revents<I: UserIpc + ?Sized>(&self, ipc: &I, f: &PollFd) -> i16 {
        if f.fd < 0 {
            return 0;
        }
        let Ok(entry) = self.table.get(f.fd) else {
            return POLLNVAL;
        };
        let ask = f.select_type();
        if ask == 0 {
            return 0;
        }
        match entry.file {
            File::Console => f.revents_for(SELECT_WRITE),
            File::Port(port) => match io::Client::new(ipc, port).select(ask) {
                Ok(ready) if ready & ask & SELECT_READ != 0 => {
                    hang_up(ipc, port, f.revents_for(ready & ask))
                }
                Ok(ready) => f.revents_for(ready & ask),
                Err(Error::Mig(MigReturn::BadId)) => f.revents_for(ask),
                Err(e) if Errno::from_rpc(e) == Errno::Opnotsupp => f.revents_for(ask),
                Err(_) => POLLERR,
            },
        }
    }
}

/// `revents` of a port ready for reading: with `POLLHUP` when it is a pipe
/// or a socket at end of file (see the [module documentation](self)).
fn hang_up<I: UserIpc + ?Sized>(ipc: &I, port: PortName, revents: i16) -> i16 {
    let file = io::Client::new(ipc, port);
    if file.readable() != Ok(0) {
        return revents;
    }
    match file.stat().map(|st| st.mode & S_IFMT) {
        Ok(S_IFIFO) => (revents & !(POLLIN | POLLRDNORM)) | POLLHUP,
        Ok(S_IFSOCK) => revents | POLLHUP,
        _ => revents,
    }
}
