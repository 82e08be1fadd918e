//! Exits at once with status `arg`: its ports die with it.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

hurd_rt::entry!(main);

fn main() -> u64 {
    hurd_rt::env::start_arg()
}
