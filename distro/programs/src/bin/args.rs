//! Prints its arguments (after its name), separated by spaces, on its
//! standard output (the I/O port its starter gave it, else the console):
//! the loader's argument block at work. Exits with 0, 1 when it was started
//! without arguments, 2 when its output refused the write.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

distro_programs::program!(main);

fn main() -> u64 {
    let args = hurd_rt::env::args();
    if args.is_empty() {
        return 1;
    }
    let mut line = args.get(1..).unwrap_or_default().join(" ");
    line.push('\n');
    match hurd_rt::io::stdout().write_all(line.as_bytes()) {
        Ok(()) => 0,
        Err(_) => 2,
    }
}
