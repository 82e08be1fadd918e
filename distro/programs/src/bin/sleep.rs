//! `sleep SECONDS` waits that many seconds (a whole number), `sleep
//! infinity` until a signal ends it: a program that stays without using the
//! processor (a service, say). Exits with 0, 1 when its argument is not a
//! number or `infinity`.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use core::time::Duration;

distro_programs::program!(main);

fn main() -> u64 {
    let args = hurd_rt::env::args();
    let seconds = match args.get(1..) {
        Some(["infinity"]) => u64::MAX,
        Some([n]) => match n.parse::<u64>() {
            Ok(n) => n,
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    // An hour at a time: any length fits.
    let mut left = seconds;
    while left > 0 {
        let now = left.min(3600);
        hurd_rt::thread::sleep(Duration::from_secs(now));
        if seconds != u64::MAX {
            left -= now;
        }
    }
    0
}

fn usage() -> u64 {
    let _ = hurd_rt::io::stderr().write_all(b"usage: sleep SECONDS|infinity\n");
    1
}
