//! The smallest program for the hurd-rs kernel: prints its arguments (or a
//! greeting) on its standard output and exits with 0.
//!
//! ```text
//! cargo build -p hurd-rt --example first-program --release --target x86_64-unknown-none
//! ```
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

// ANCHOR: hello
hurd_rt::entry!(main);

fn main() {
    let args = hurd_rt::env::args();
    match args.get(1..) {
        Some(words) if !words.is_empty() => hurd_rt::println!("{}", words.join(" ")),
        _ => hurd_rt::println!("hello from a program on the hurd-rs kernel"),
    }
}
// ANCHOR_END: hello
