//! The structures Linux system calls read and write, as Linux x86_64 lays
//! them out. Each has a `SIZE`, a `to_bytes` that writes the exact bytes a
//! program expects (little-endian, padding zeroed) and, where a program
//! hands one in, a `from_bytes` that reads it (`None` when the slice is too
//! short). Layouts are tested against the host's C library through the
//! `libc` crate.

pub mod dirent;
pub mod misc;
pub mod sigframe;
pub mod stat;
pub mod termios;

pub use dirent::{DirentWriter, dt_from_mode};
pub use misc::{Iovec, PollFd, Rlimit, Rusage, Sysinfo, Timespec, Timeval, Utsname};
pub use sigframe::{
    Delivery, FrameError, KSigaction, Regs, SigInfo, SignalFrame, StackT, UContext,
};
pub use stat::{Stat, Statx, StatxTimestamp};
pub use termios::{Termios, Winsize};
