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
//! The caller repeats passes until one finds something or the time is up;
//! every server here answers `io_select` at once.

use hurd_ipc::{Error, MigReturn, UserIpc};
use hurd_trans::protocol::io;
use linux_abi::Errno;
use linux_abi::layout::misc::{POLLERR, POLLNVAL, PollFd, SELECT_WRITE};

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
                Ok(ready) => f.revents_for(ready & ask),
                Err(Error::Mig(MigReturn::BadId)) => f.revents_for(ask),
                Err(e) if Errno::from_rpc(e) == Errno::Opnotsupp => f.revents_for(ask),
                Err(_) => POLLERR,
            },
        }
    }
}
