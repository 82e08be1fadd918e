//! The state a Linux process keeps in its own task on hurd-rs, as plain
//! data structures: what the kernel keeps for a process on Linux, and glibc
//! keeps in the process on the Hurd.
//!
//! - [`fdtable`]: file descriptors — which I/O port each number names, with
//!   its close-on-exec flag; `dup`, `dup2`, `dup3`, `F_DUPFD`, `close`, and
//!   what survives `exec`.
//! - [`memory`]: the address space as the program sees it — the `brk` heap
//!   and the `mmap` regions, allocated top-down below the emulator's range,
//!   with `MAP_FIXED` replacing, `munmap` and `mprotect` splitting regions.
//! - [`files`]: files and directories as RPCs — `openat` through
//!   `file_name_lookup`'s protocol, `read`, `write`, `lseek`, the stat
//!   family and `getdents64` through `io.defs` and `fs.defs` on the
//!   process's own ports.
//! - [`dirs`]: changes to the name space as RPCs — `mkdirat`,
//!   `unlinkat`, `renameat2`, `linkat`, `symlinkat`, `readlinkat`,
//!   `truncate`, `fchmodat`, `chdir` through `fs.defs` on the directory
//!   holding the name (`file_name_split`).
//! - [`ids`]: the user and group ids a program is told, from its auth
//!   handle as glibc keeps them on the Hurd.
//! - [`pipes`]: `pipe2` and `socketpair` through the local socket
//!   family's server at `/servers/socket/1` (`socket_create`,
//!   `socket_connect2`), as glibc makes them on the Hurd.
//! - [`poll`]: `poll` through `io_select` on each descriptor's server.
//! - [`process`]: what `fork`, `vfork`, `clone`, `wait4` and `execve` ask
//!   for — the child's kind, what its IPC space gets, `proc_wait`'s
//!   arguments and statuses, `#!` scripts and execute permission.
//! - [`random`]: `getrandom` as a read of `/dev/urandom` (the random
//!   translator) through the process's root directory.
//! - [`signals`]: the actions, each thread's mask and pending signals, and
//!   what a posted signal does (discard, deliver, terminate, stop, continue).
//! - [`time`]: Linux's clocks on the kernel's clock, and how long a
//!   `nanosleep` or `clock_nanosleep` waits.
//! - [`load`]: a static Linux program loaded into a task through its port
//!   (segments, the main thread's stack with Linux's initial stack), as an
//!   exec server does it.
//!
//! The first three are generic over what a descriptor or a region holds, so
//! they are tested on the host; the emulator puts port rights and memory
//! objects in them. [`load`] works through the kernel's task port
//! (`hurd-rt`); what it computes (the pages and their contents) is tested
//! on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod dirs;
pub mod fdtable;
pub mod files;
pub mod ids;
pub mod load;
pub mod memory;
pub mod pipes;
pub mod poll;
pub mod process;
pub mod random;
pub mod signals;
pub mod time;
