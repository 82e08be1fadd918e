//! `cat FILE...`: prints each file on standard output, as a program of its
//! own (the shell's `cat` is a built-in): it opens each name with
//! `file_name_lookup` from the root or working directory its starter gave
//! it (`dir_lookup`, and the retries a translator asks for) and copies it
//! with `io_read` until end of file. Without names it copies its standard
//! input. Exits with 0, or 1 when a file could not be opened or read (named
//! on standard error), 2 when its output refused a write.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::format;

use hurd_ipc::{Errno, Error, PortName, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::io::CHUNK;
use hurd_rt::ports::{AUTH, CRDIR, CWDIR, STDERR, STDIN, STDOUT, held};
use hurd_trans::flags::OpenFlags;
use hurd_trans::lookup::Lookup;
use hurd_trans::protocol::io;

distro_programs::program!(main);

/// Why a copy stopped.
enum Stop {
    /// Reading the file failed.
    Read(Error),
    /// The output refused a write.
    Write,
}

/// Copies the I/O port `from` to standard output until end of file.
fn copy(ipc: &KernelIpc, from: PortName) -> Result<(), Stop> {
    let file = io::Client::new(ipc, from);
    loop {
        let data = file.read(-1, CHUNK as u64).map_err(Stop::Read)?;
        if data.is_empty() {
            return Ok(());
        }
        hurd_rt::io::stdout()
            .write_all(&data)
            .map_err(|_| Stop::Write)?;
    }
}

/// Names `name` and the error on standard error, an `errno` by its meaning.
fn complain(name: &str, e: Error) {
    let text = match Errno::of(e) {
        Some(errno) => format!("cat: {name}: {errno}\n"),
        None => format!("cat: {name}: {e}\n"),
    };
    let _ = hurd_rt::io::stderr().write_all(text.as_bytes());
}

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let args = hurd_rt::env::args();
    let names = args.get(1..).unwrap_or_default();
    if names.is_empty() {
        return match copy(&ipc, STDIN) {
            Ok(()) => 0,
            Err(Stop::Read(_)) => 1,
            Err(Stop::Write) => 2,
        };
    }
    let fds = [STDIN, STDOUT, STDERR];
    let lookup = Lookup {
        ipc: &ipc,
        crdir: CRDIR,
        cwdir: held(CWDIR).unwrap_or(CRDIR),
        auth: AUTH,
        fds: &fds,
        ctty: PortName::NULL,
    };
    let mut status = 0;
    for name in names {
        let port = match lookup.open(name, OpenFlags::READ, 0) {
            Ok(p) => p,
            Err(e) => {
                complain(name, e);
                status = 1;
                continue;
            }
        };
        let r = copy(&ipc, port);
        let _ = ipc.port_deallocate(port);
        match r {
            Ok(()) => {}
            Err(Stop::Read(e)) => {
                complain(name, e);
                status = 1;
            }
            Err(Stop::Write) => return 2,
        }
    }
    status
}
