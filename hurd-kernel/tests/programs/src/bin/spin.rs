//! Computes without ever entering the kernel: only timer preemption lets
//! other threads of its priority run.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

hurd_rt::entry!(main);

fn main() -> u64 {
    let mut x: u64 = 1;
    loop {
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
