//! The Linux x86_64 system-call ABI as plain data, for running unmodified
//! static Linux programs on a Hurd.
//!
//! A Linux program speaks to its kernel through `syscall`: a number in
//! `rax`, arguments in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`, a result in
//! `rax` (`-4095..=-1` is `-errno`), and structures in its memory laid out
//! as the kernel's headers say. On hurd-rs those calls are carried out by an
//! emulator in the program's own task, as RPCs to the Hurd's servers. This
//! crate is everything about the Linux side that needs no RPC and no
//! memory access, so it can be tested on any host:
//!
//! - [`sysno`]: the system-call numbers ([`Sysno`]).
//! - [`errno`]: Linux error numbers ([`Errno`]) and how the Hurd's errors
//!   and Mach's return codes become them.
//! - [`signal`]: signal numbers with the Linux ↔ Hurd table, default
//!   actions, signal sets, `sigaction` flags, wait statuses.
//! - [`layout`]: the structures (`stat`, `statx`, `linux_dirent64`,
//!   `termios`, `winsize`, `sigaction`, `siginfo_t`, `ucontext_t`,
//!   `stack_t`, `timespec`, `timeval`, `iovec`, `pollfd`, `utsname`,
//!   `rlimit`, `sysinfo`, `rusage`) as explicit little-endian encoders, and
//!   the signal frame a handler runs on.
//! - [`stack`]: the initial stack (`argc`, `argv`, `envp`, auxiliary vector).
//! - [`elf`]: which ELF files are static Linux programs, and their segments.
//! - [`flags`]: open, `fcntl`, `*at`, `clone`, `mmap`, `futex` flags and
//!   their conversion to the Hurd's.
//!
//! Every layout is checked against the host's C library (through the
//! `libc` crate) in this crate's tests.
//!
//! ```
//! use linux_abi::{Errno, Sysno};
//!
//! assert_eq!(Sysno::from_raw(39), Some(Sysno::Getpid));
//! // The Hurd's EAGAIN (BSD's 35) is Linux's 11.
//! assert_eq!(Errno::from_hurd(0x4000_0023), Errno::Again);
//! assert_eq!(Errno::Again.to_rax(), (-11i64) as u64);
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod bytes;
pub mod elf;
pub mod errno;
pub mod flags;
pub mod layout;
pub mod signal;
pub mod stack;
pub mod sysno;

pub use errno::Errno;
pub use sysno::Sysno;

/// Where a hurd-rs system keeps the Linux emulator: the file the exec
/// server maps into the task of each static Linux program it starts, and
/// the one an image with such a program must install (package
/// `linux-emulator`, bin `linux-emulation`).
pub const EMULATOR_PATH: &str = "/lib/hurd-rs/linux";
