//! Standard input, output and error: the I/O ports the program's starter
//! gave it under [`ports::STDIN`], [`ports::STDOUT`] and [`ports::STDERR`] (a
//! terminal, a file — anything speaking hurd-trans's `io_read` and
//! `io_write`). A program given no standard output or error writes to the
//! kernel console instead, so a program started by the kernel's tests still
//! says what it does.
//!
//! [`print!`](crate::print), [`println!`](crate::println),
//! [`eprint!`](crate::eprint) and [`eprintln!`](crate::eprintln) format into
//! one buffer and write it with one call, so lines of different programs do
//! not interleave.

use alloc::string::String;
use alloc::vec::Vec;

use hurd_ipc::{Error, PortName};
use hurd_trans::protocol::io;

use crate::{KernelIpc, console, ports};

/// The most bytes one `io_write` or `io_read` carries.
pub const CHUNK: usize = 32 * 1024;

/// Writes all of `data` to the I/O port `port`, or to the console when the
/// task holds no right under that name.
fn write_to(port: PortName, data: &[u8]) -> Result<(), Error> {
    if ports::held(port).is_none() {
        return console::write(data).map_err(Error::from);
    }
    let ipc = KernelIpc::new();
    let out = io::Client::new(&ipc, port);
    let mut at = 0;
    while at < data.len() {
        let end = data.len().min(at + CHUNK);
        match out.write(data[at..end].to_vec(), -1)? {
            n if n > 0 => at += usize::try_from(n).unwrap_or(0).min(end - at),
            // A port that takes nothing would keep us here forever.
            _ => return Err(Error::Mig(hurd_ipc::MigReturn::RemoteError)),
        }
    }
    Ok(())
}

/// The program's standard output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

/// The program's standard error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

/// The program's standard input.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdin;

/// The program's standard output.
pub fn stdout() -> Stdout {
    Stdout
}

/// The program's standard error.
pub fn stderr() -> Stderr {
    Stderr
}

/// The program's standard input.
pub fn stdin() -> Stdin {
    Stdin
}

impl Stdout {
    /// Writes all of `data`.
    ///
    /// # Errors
    ///
    /// The error of the `io_write` that failed (the reader went away, the
    /// file is full…); what came before it was written.
    pub fn write_all(&self, data: &[u8]) -> Result<(), Error> {
        write_to(ports::STDOUT, data)
    }
}

impl Stderr {
    /// Writes all of `data`.
    ///
    /// # Errors
    ///
    /// As [`Stdout::write_all`].
    pub fn write_all(&self, data: &[u8]) -> Result<(), Error> {
        write_to(ports::STDERR, data)
    }
}

impl core::fmt::Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

impl core::fmt::Write for Stderr {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

impl Stdin {
    /// Reads up to `max` bytes (at most [`CHUNK`]; a line, from a
    /// terminal). Empty at end of file.
    ///
    /// # Errors
    ///
    /// `EBADF` when the program has no standard input; else the error of
    /// the `io_read`.
    pub fn read(&self, max: usize) -> Result<Vec<u8>, Error> {
        let port = ports::held(ports::STDIN).ok_or(hurd_ipc::Errno::BadF)?;
        let ipc = KernelIpc::new();
        io::Client::new(&ipc, port).read(-1, max.min(CHUNK) as u64)
    }

    /// Reads one line (up to and without its newline, at most `max` bytes);
    /// `None` at end of file.
    ///
    /// # Errors
    ///
    /// As [`Stdin::read`].
    pub fn read_line(&self, max: usize) -> Result<Option<String>, Error> {
        let bytes = self.read(max)?;
        if bytes.is_empty() {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&bytes);
        Ok(Some(String::from(text.trim_end_matches(['\n', '\r']))))
    }
}

/// Writes formatted text to [`Stdout`] in one piece (errors are dropped).
#[doc(hidden)]
pub fn _print(args: core::fmt::Arguments<'_>, err: bool) {
    let text = alloc::fmt::format(args);
    let _ = if err {
        stderr().write_all(text.as_bytes())
    } else {
        stdout().write_all(text.as_bytes())
    };
}

/// Prints to standard output (or the console, without one).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::io::_print(::core::format_args!($($arg)*), false)
    };
}

/// Prints a line to standard output (or the console, without one), in one
/// write.
#[macro_export]
macro_rules! println {
    () => {
        $crate::io::_print(::core::format_args!("\n"), false)
    };
    ($($arg:tt)*) => {
        $crate::io::_print(::core::format_args!("{}\n", ::core::format_args!($($arg)*)), false)
    };
}

/// Prints to standard error (or the console, without one).
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::io::_print(::core::format_args!($($arg)*), true)
    };
}

/// Prints a line to standard error (or the console, without one), in one
/// write.
#[macro_export]
macro_rules! eprintln {
    () => {
        $crate::io::_print(::core::format_args!("\n"), true)
    };
    ($($arg:tt)*) => {
        $crate::io::_print(::core::format_args!("{}\n", ::core::format_args!($($arg)*)), true)
    };
}
