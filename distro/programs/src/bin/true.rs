//! Does nothing, successfully: exits with status 0.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

hurd_rt::entry!(main);

fn main() {}
