//! Says so, then computes forever: a program for the terminal's interrupt
//! character (^C) to end, through its process group, the proc server and
//! its signal thread.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

distro_programs::program!(main);

fn main() -> u64 {
    let _ = hurd_rt::io::stdout().write_all(b"running until interrupted\n");
    let mut x: u64 = 1;
    loop {
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
