//! The exec server: starting programs.
//!
//! On the Hurd, a program is started by asking an exec server (`exec.defs`,
//! subsystem 30000) to load a file into a task, handing it the caller's
//! descriptor table (standard input, output and error are I/O ports), its
//! initial ports (working and root directories, auth handle) and its
//! arguments and environment. The program then talks to the rest of the
//! system only through those ports: what it prints goes wherever the
//! caller's standard output points — a terminal, a file, or a port served on
//! another node of a cluster.
//!
//! [`exec`] is that protocol, defined once with [`hurd_ipc::interface!`]:
//!
//! - `exec_exec` (id 30000) runs the file behind an open port, which the
//!   caller opened with `O_EXEC` (so its file system checked the `x` bits for
//!   the caller) and `O_READ` (so the server may read it);
//! - `exec_exec_file_name` (id 30004) also takes the file's name: with a
//!   NULL file port, the server opens the name itself through the caller's
//!   root and working directories and auth handle — the caller's ids, never
//!   the server's. The name is also what a `#!` script's interpreter is given.
//!
//! Ids 30001–30003 stay where the Hurd has `exec_startup` (obsolete),
//! `exec_init` and `exec_setexecdata`, which this server does not serve.
//!
//! The Hurd's `exec_exec` replies once the new image is loaded and the
//! caller learns of the program's end from the proc server. Here the reply
//! comes when the program has ended and carries its wait status
//! ([`WaitStatus`]): the caller's RPC is its `wait`. A caller that must not
//! block makes the call from a thread of its own.
//!
//! With a proc server ([`ExecServer::set_proc`]), every program is also a
//! process ([`crate::proc`]): the caller's `INIT_PORT_PROC` names the
//! parent, the program gets its own proc port there and a message port
//! served by a signal thread ([`ProgramContext::wait_signal`]); a fatal
//! signal terminates its task and its wait status names the signal.
//!
//! A file is either a `#!` script — its first line names an interpreter,
//! resolved with the caller's ports and run with the script's name as an
//! argument — or, hosted, an image of a program registered with the server
//! ([`hosted_image`]); on the kernel, ELF files take the place of the latter.
//! Anything else is `ENOEXEC`, and so is a script given to `exec_exec` as a
//! port only (its interpreter would have no name to open it by).
//!
//! Unless a request has [`EXEC_SECURE`], its environment's `EXEC_SERVERS`
//! (a `:`-separated list of file names, opened with the caller's ports) names
//! the caller's own exec servers: each in turn gets the request until one
//! answers something other than `ENOEXEC`, as on the Hurd. A user starts one
//! with `settrans NODE /hurd/exec` ([`translator`]: the exec server as a
//! one-file translator, as the Hurd's is on `/servers/exec`).
//!
//! [`ExecServer`] (feature `std`) serves the protocol with hurd-ipc's hosted
//! runtime: each program runs as a new task, with a [`ProgramContext`]
//! holding its ports. A program that panics is a crash: its task is
//! terminated (its rights die, as a killed task's would), the caller gets a
//! status saying it was killed by `SIGABRT`, and the server goes on.

use alloc::string::String;
use alloc::vec::Vec;

use hurd_ipc::{Error, PortArray, PortItem, interface};

interface! {
    /// `exec.defs`: the exec server's protocol (subsystem 30000).
    pub mod exec: subsystem 30000 prefix "exec_" {
        /// `exec_exec`: runs the program in `file` (a port opened with
        /// `O_EXEC` and `O_READ`) with `argv` and `envp` (argz vectors:
        /// NUL-terminated strings), the descriptor table `dtable` (0: standard
        /// input, 1: output, 2: error; I/O ports) and the initial ports
        /// `portarray` (indexed by `INIT_PORT_*`), into `oldtask` (a task
        /// the caller made, empty, as the Hurd's fork leaves one) or, with
        /// [`EXEC_NEWTASK`](super::EXEC_NEWTASK) or a NULL `oldtask`, a
        /// new task. Into `oldtask`, the reply comes when the program
        /// starts (status 0; the caller, its parent, waits with
        /// `proc_wait`); into a new task, when the program has ended, with
        /// its wait status. The hosted server has no task ports: it always
        /// makes a new task, and `oldtask` must be NULL.
        routine exec(
            file: PortItem,
            oldtask: PortItem,
            flags: i32,
            argv: Vec<u8>,
            envp: Vec<u8>,
            dtable: PortArray,
            portarray: PortArray
        ) -> (status: i32);
        skip startup();
        skip init();
        skip setexecdata();
        /// `exec_exec_file_name`: as `exec`, with the file's name. With a
        /// NULL `file` the server opens `filename` through the caller's
        /// `portarray` (root and working directories, auth handle), so the
        /// caller's file systems check the caller's ids.
        routine exec_file_name(
            file: PortItem,
            oldtask: PortItem,
            flags: i32,
            filename: String,
            argv: Vec<u8>,
            envp: Vec<u8>,
            dtable: PortArray,
            portarray: PortArray
        ) -> (status: i32);
    }
}

/// `EXEC_NEWTASK`: run the program in a new task (the hosted server always
/// does; the caller has no task of its own to replace).
pub const EXEC_NEWTASK: i32 = 0x0000_0001;
/// `EXEC_SECURE`: do not honour the caller's `EXEC_SERVERS`. A request
/// handed on to one of those servers carries it, so that server runs the
/// program itself.
pub const EXEC_SECURE: i32 = 0x0000_0002;
/// `EXEC_DEFAULTS`: fill in missing initial ports from the server's own
/// (accepted; the hosted server has none to give).
pub const EXEC_DEFAULTS: i32 = 0x0000_0004;
/// The flags a request may carry; others are `EINVAL`.
pub const EXEC_FLAGS: i32 = EXEC_NEWTASK | EXEC_SECURE | EXEC_DEFAULTS;

/// `INIT_PORT_CWDIR`: the working directory in `portarray`.
pub const INIT_PORT_CWDIR: usize = 0;
/// `INIT_PORT_CRDIR`: the root directory in `portarray`.
pub const INIT_PORT_CRDIR: usize = 1;
/// `INIT_PORT_AUTH`: the auth handle the program runs with.
pub const INIT_PORT_AUTH: usize = 2;
/// `INIT_PORT_PROC`: the caller's proc port (its process); the program
/// gets its own in its place when the exec server has a proc server.
pub const INIT_PORT_PROC: usize = 3;
/// `INIT_PORT_CTTYID`: the controlling terminal's id port (unused hosted).
pub const INIT_PORT_CTTYID: usize = 4;
/// `INIT_PORT_BOOTSTRAP`: the bootstrap port (unused hosted).
pub const INIT_PORT_BOOTSTRAP: usize = 5;
/// `INIT_PORT_MAX`: how many initial ports there are.
pub const INIT_PORT_MAX: usize = 6;

/// The most bytes of `argv` and `envp` together (`ARG_MAX`); more is
/// `E2BIG`.
pub const ARG_MAX: usize = 256 * 1024;
/// The most descriptors a request's table may hold; more is `EINVAL`.
pub const DTABLE_MAX: usize = 256;
/// How many programs one server runs at once; more requests are `EAGAIN`.
pub const MAX_RUNNING: usize = 64;
/// How many `#!` interpreters may follow one another before `ELOOP`.
pub const MAX_INTERPRETERS: usize = 4;
/// How much of a file's beginning the server reads to know what it is; a
/// `#!` line must fit.
pub const HEADER_MAX: usize = 1024;

/// `E2BIG`: the argument list is too long (the Hurd's value; not among
/// hurd-ipc's [`Errno`](hurd_ipc::Errno)s).
pub const E2BIG: i32 = 0x4000_0007;
/// `SIGABRT`, the signal a crashed (panicked) program's status names.
pub const SIGABRT: i32 = 6;

/// The magic a hosted program image starts with.
pub const HOSTED_MAGIC: &[u8] = b"\x7fHURD-HOSTED ";

/// The file contents that stand for the hosted program registered as
/// `name`: [`HOSTED_MAGIC`], the name and a newline. Copying the file copies
/// the program, as copying an ELF file would.
pub fn hosted_image(name: &str) -> Vec<u8> {
    let mut v = HOSTED_MAGIC.to_vec();
    v.extend_from_slice(name.as_bytes());
    v.push(b'\n');
    v
}

/// What a file's first bytes say it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Image {
    /// A `#!` script: the interpreter's path and its optional argument.
    Script {
        /// The interpreter's file name.
        interpreter: String,
        /// The one optional argument after it.
        arg: Option<String>,
    },
    /// A hosted program image naming a registered program.
    Hosted(String),
}

/// Classifies a file by its first bytes (at most [`HEADER_MAX`]): `ENOEXEC`
/// for anything not executable.
///
/// # Errors
///
/// `ENOEXEC` when the bytes are not a program this exec server starts.
pub fn classify(head: &[u8]) -> Result<Image, hurd_ipc::Errno> {
    use hurd_ipc::Errno;
    let first_line = |rest: &[u8]| -> Result<String, Errno> {
        let end = rest.iter().position(|&b| b == b'\n').ok_or(Errno::NoExec)?;
        core::str::from_utf8(&rest[..end])
            .map(String::from)
            .map_err(|_| Errno::NoExec)
    };
    if let Some(rest) = head.strip_prefix(b"#!") {
        let line = first_line(rest)?;
        let line = line.trim();
        let (interpreter, arg) = match line.split_once([' ', '\t']) {
            Some((i, a)) => {
                let a = a.trim();
                (i, (!a.is_empty()).then(|| String::from(a)))
            }
            None => (line, None),
        };
        if interpreter.is_empty() {
            return Err(Errno::NoExec);
        }
        Ok(Image::Script {
            interpreter: interpreter.into(),
            arg,
        })
    } else if let Some(rest) = head.strip_prefix(HOSTED_MAGIC) {
        let name = first_line(rest)?;
        if name.is_empty() {
            return Err(Errno::NoExec);
        }
        Ok(Image::Hosted(name))
    } else {
        Err(Errno::NoExec)
    }
}

/// An argz vector (NUL-terminated strings, as `argv` and `envp` travel) as
/// strings; empty strings are kept. Not UTF-8 or not NUL-terminated is
/// `EINVAL`.
///
/// # Errors
///
/// `EINVAL` when the vector is not UTF-8 or its last string is not
/// NUL-terminated.
pub fn parse_argz(argz: &[u8]) -> Result<Vec<String>, Error> {
    if argz.is_empty() {
        return Ok(Vec::new());
    }
    let text = core::str::from_utf8(argz).map_err(|_| inval())?;
    let body = text.strip_suffix('\0').ok_or_else(inval)?;
    Ok(body.split('\0').map(String::from).collect())
}

/// Strings as an argz vector.
pub fn argz<S: AsRef<str>>(words: &[S]) -> Vec<u8> {
    let mut out = Vec::new();
    for w in words {
        out.extend_from_slice(w.as_ref().as_bytes());
        out.push(0);
    }
    out
}

fn inval() -> Error {
    hurd_ipc::Errno::Inval.into()
}

/// How a program ended, as its wait status tells (`WIFEXITED` /
/// `WIFSIGNALED`, the BSD encoding the Hurd uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WaitStatus {
    /// It exited with this status (0–255).
    Exited(u8),
    /// It was killed by this signal (a crash is [`SIGABRT`]).
    Signaled(i32),
}

impl WaitStatus {
    /// The status as it travels: the exit status in bits 8–15, or the signal
    /// in bits 0–6.
    pub fn raw(self) -> i32 {
        match self {
            WaitStatus::Exited(c) => i32::from(c) << 8,
            WaitStatus::Signaled(s) => s & 0x7f,
        }
    }

    /// A raw status decoded.
    pub fn from_raw(raw: i32) -> WaitStatus {
        match raw & 0x7f {
            0 => WaitStatus::Exited(((raw >> 8) & 0xff) as u8),
            s => WaitStatus::Signaled(s),
        }
    }

    /// The status of a program that returned `code` (truncated to 8 bits,
    /// as `exit` does).
    pub fn exited(code: i32) -> WaitStatus {
        WaitStatus::Exited((code & 0xff) as u8)
    }
}

/// The send rights a request's [`PortArray`] needs for the caller to keep its
/// own: `CopySend` of each name.
pub fn copy_send(names: &[hurd_ipc::PortName]) -> PortArray {
    PortArray {
        disposition: hurd_ipc::Disposition::CopySend,
        names: names.to_vec(),
    }
}

/// The node an exec server translator presents: an empty read-only file
/// (the Hurd's `/servers/exec` is such a node; what matters is the port,
/// which also answers [`exec`]).
pub struct ExecNode;

impl hurd_trans::trivfs::TrivFs for ExecNode {
    fn stat(&self) -> hurd_trans::stat::Stat {
        hurd_trans::stat::Stat {
            mode: hurd_trans::mode::S_IFREG | 0o444,
            ..hurd_trans::stat::Stat::default()
        }
    }
    fn read(&mut self, _offset: u64, _len: usize) -> Result<Vec<u8>, hurd_ipc::Errno> {
        Ok(Vec::new())
    }
}

mod request;
pub use request::{Arrived, ExecRequest, Found, IMAGE_MAX, READ_TIMEOUT, Routine, StartExec};

#[cfg(feature = "std")]
mod hosted;
#[cfg(feature = "std")]
pub use hosted::{ExecServer, Program, ProgramContext, ProgramTable, translator};

#[cfg(test)]
mod tests {
    use super::*;
    use hurd_ipc::Errno;

    #[test]
    fn headers_are_classified() {
        assert_eq!(
            classify(b"#!/bin/args -x\nrest"),
            Ok(Image::Script {
                interpreter: "/bin/args".into(),
                arg: Some("-x".into())
            })
        );
        assert_eq!(
            classify(b"#! /bin/sh\n"),
            Ok(Image::Script {
                interpreter: "/bin/sh".into(),
                arg: None
            })
        );
        assert_eq!(
            classify(&hosted_image("/bin/true")),
            Ok(Image::Hosted("/bin/true".into()))
        );
        for bad in [
            &b""[..],
            b"hello\n",
            b"#!\n",
            b"#!/bin/sh",
            b"\x7fELF",
            b"\x7fHURD-HOSTED \n",
            b"#!\xff\n",
        ] {
            assert_eq!(classify(bad), Err(Errno::NoExec), "{bad:?}");
        }
    }

    #[test]
    fn argz_round_trips_and_rejects_garbage() {
        let words = ["a", "", "b c"];
        assert_eq!(parse_argz(&argz(&words)).expect("argz"), words);
        assert_eq!(parse_argz(b"").expect("empty"), Vec::<String>::new());
        assert!(parse_argz(b"no-nul").is_err());
        assert!(parse_argz(b"\xff\0").is_err());
    }

    #[test]
    fn wait_statuses_encode_as_bsd_does() {
        for s in [
            WaitStatus::Exited(0),
            WaitStatus::Exited(1),
            WaitStatus::Exited(255),
            WaitStatus::Signaled(SIGABRT),
        ] {
            assert_eq!(WaitStatus::from_raw(s.raw()), s);
        }
        assert_eq!(WaitStatus::exited(256 + 3), WaitStatus::Exited(3));
        assert_eq!(WaitStatus::Exited(2).raw(), 0x200);
    }
}
