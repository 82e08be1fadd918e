//! The terminal: its line discipline (`termios` semantics) and the server
//! that serves it as an I/O object ([`TermServer`]).
//!
//! [`LineDiscipline`] sits between a character device (the serial console)
//! and the processes reading and writing the terminal. Bytes typed arrive
//! through [`LineDiscipline::input`], which says what to echo and which
//! signals to send to the foreground process group; readers take input with
//! [`LineDiscipline::read`]; what processes write passes through
//! [`LineDiscipline::output`] on its way to the device.
//!
//! ```
//! use hurd_servers::term::{LineDiscipline, Read, Signal};
//!
//! let mut tty = LineDiscipline::new();
//! let mut out = Vec::new();
//! for &b in b"lsx\x7f -l\r" {
//!     tty.input(b, &mut out);
//! }
//! assert_eq!(tty.read(100), Read::Data(b"ls -l\n".to_vec()));
//! // The erase was echoed as backspace, space, backspace; CR echoed as CR LF.
//! assert_eq!(out, b"lsx\x08 \x08 -l\r\n");
//!
//! let mut out = Vec::new();
//! assert_eq!(tty.input(0x03, &mut out), Some(Signal::Interrupt)); // ^C
//! ```

mod line;
mod server;
mod termios;

pub use line::{LineDiscipline, Read};
pub use server::{
    Device, MAX_PORTS, MAX_READERS, TermServer, device_reply, set_echo, tioctl_modes, tioctl_pgrp,
};
pub use termios::{Cc, InputFlags, LocalFlags, OutputFlags, Signal, Termios};
