//! `my-program [WORDS...]`: says hello, with its arguments, on its standard
//! output, and exits with 0. A starting point for a program of your own.
#![no_std]
#![no_main]

// ANCHOR: program
hurd_rt::entry!(main);

fn main() {
    let args = hurd_rt::env::args();
    let who = args.get(1..).unwrap_or_default().join(" ");
    let who = if who.is_empty() { "world" } else { &who };
    hurd_rt::println!("Hello, {who}! (from a program on hurd-rt)");
}
// ANCHOR_END: program
