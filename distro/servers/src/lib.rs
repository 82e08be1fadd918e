//! The reference hurd-rs server set.
//!
//! - [`term`]: the terminal's line discipline — canonical input with line
//!   editing, echo, output processing, and the job-control characters that
//!   become signals to the foreground process group.
//!
//! The servers are `no_std` + `alloc` state machines, so the same code runs
//! hosted (tests, `cargo xtask run --hosted`) and on the reference kernel.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod term;
