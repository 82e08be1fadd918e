//! Copies its standard input to its standard output in upper case until
//! end of file: a program reading the terminal (or a file) through the
//! port its starter gave it. Exits with 0 at end of file, 1 when it has no
//! standard input, 2 when its output refused a write.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

distro_programs::program!(main);

fn main() -> u64 {
    loop {
        match hurd_rt::io::stdin().read(4096) {
            Ok(d) if d.is_empty() => return 0,
            Ok(d) => {
                if hurd_rt::io::stdout()
                    .write_all(&d.to_ascii_uppercase())
                    .is_err()
                {
                    return 2;
                }
            }
            Err(_) => return 1,
        }
    }
}
