//! Copies its standard input to its standard output in upper case until
//! end of file: a program reading the terminal (or a file) through the
//! port its starter gave it. Exits with 0 at end of file, 1 when it has no
//! standard input, 2 when its output refused a write.
#![cfg_attr(target_os = "none", no_std, no_main)]

extern crate alloc;

use kernel_user::stdio;

kernel_user::entry!(run);

fn run(_: u64) -> u64 {
    loop {
        match stdio::read(4096) {
            Some(d) if d.is_empty() => return 0,
            Some(d) => {
                if !stdio::write(&d.to_ascii_uppercase()) {
                    return 2;
                }
            }
            None => return 1,
        }
    }
}
