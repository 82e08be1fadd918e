//! `getrandom` as the Hurd's C library carries it out: a read of the
//! random translator's node, `/dev/urandom` (`/dev/random` with
//! `GRND_RANDOM`), opened through the process's own root directory and
//! with its own ids — there is no privileged source to ask.
//!
//! Linux's answers are kept: `EINVAL` for a flag it does not know or for
//! `GRND_INSECURE` with `GRND_RANDOM`; zero bytes asked, zero given (after
//! the flags are checked); at most [`GETRANDOM_MAX`] bytes a call (Linux's
//! `INT_MAX >> 6`), fewer when the translator gives fewer. Both nodes
//! answer at once once their translator is keyed, so `GRND_NONBLOCK` has
//! nothing to change; the node is opened non-blocking with it all the same.
//! A system without the node (or whose node cannot be opened) has no
//! `getrandom`: `ENOSYS`, on which programs fall back as on an old Linux.

use alloc::vec::Vec;

use hurd_ipc::UserIpc;
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::io;
use linux_abi::Errno;
use linux_abi::flags::{AT_FDCWD, GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM};

use crate::files::{Files, rpc};

/// The most bytes one call gives (Linux: `INT_MAX >> (ENTROPY_SHIFT + 3)`).
pub const GETRANDOM_MAX: u64 = 33_554_431;

/// `/dev/urandom`.
pub const URANDOM: &[u8] = b"/dev/urandom";
/// `/dev/random`.
pub const RANDOM: &[u8] = b"/dev/random";

/// Which node `flags` read.
///
/// # Errors
/// `EINVAL` for flags Linux refuses.
pub fn node(flags: u32) -> Result<&'static [u8], Errno> {
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_INSECURE | GRND_RANDOM) == GRND_INSECURE | GRND_RANDOM
    {
        return Err(Errno::Inval);
    }
    Ok(if flags & GRND_RANDOM != 0 {
        RANDOM
    } else {
        URANDOM
    })
}

/// `getrandom(len, flags)`: up to `len` random bytes (at most `limit`, the
/// caller's bound on one copy, and [`GETRANDOM_MAX`]).
///
/// # Errors
/// `EINVAL` for bad flags, `ENOSYS` when the node cannot be opened, the
/// read's error (`EIO`...) when it fails before any byte came.
pub fn getrandom<I: UserIpc + ?Sized>(
    files: &Files,
    ipc: &I,
    len: u64,
    flags: u32,
    limit: u64,
) -> Result<Vec<u8>, Errno> {
    let node = node(flags)?;
    let len = len.min(limit).min(GETRANDOM_MAX);
    if len == 0 {
        return Ok(Vec::new());
    }
    let mut open = OpenFlags::READ;
    if flags & GRND_NONBLOCK != 0 {
        open |= OpenFlags::NONBLOCK;
    }
    let port = files
        .open_port(ipc, AT_FDCWD, node, open, 0)
        .map_err(|_| Errno::Nosys)?;
    let mut out = Vec::new();
    let result = loop {
        let want = len - out.len() as u64;
        if want == 0 {
            break Ok(());
        }
        match io::Client::new(ipc, port).read(-1, want) {
            Ok(data) if data.is_empty() => break Ok(()),
            Ok(data) => {
                let take = data.len().min(want as usize);
                out.extend_from_slice(&data[..take]);
            }
            Err(e) => break Err(rpc(e)),
        }
    };
    let _ = ipc.port_deallocate(port);
    match result {
        Err(e) if out.is_empty() => Err(e),
        _ if out.is_empty() => Err(Errno::Again),
        _ => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_as_linux_takes_them() {
        assert_eq!(node(0), Ok(URANDOM));
        assert_eq!(node(GRND_NONBLOCK), Ok(URANDOM));
        assert_eq!(node(GRND_INSECURE), Ok(URANDOM));
        assert_eq!(node(GRND_RANDOM | GRND_NONBLOCK), Ok(RANDOM));
        assert_eq!(node(GRND_RANDOM | GRND_INSECURE), Err(Errno::Inval));
        assert_eq!(node(8), Err(Errno::Inval));
        assert_eq!(node(u32::MAX), Err(Errno::Inval));
    }
}
