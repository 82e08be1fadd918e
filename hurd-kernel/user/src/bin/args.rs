//! Prints its arguments (after its name), separated by spaces, on its
//! standard output (the I/O port its starter gave it, else the console):
//! the loader's argument block at work. Exits with 0, 1 when it was started
//! without arguments, 2 when its output refused the write.
#![cfg_attr(target_os = "none", no_std, no_main)]

extern crate alloc;

use kernel_user::{args, stdio};

kernel_user::entry!(run);

fn run(arg: u64) -> u64 {
    let Some(args) = args::read(arg) else {
        return 1;
    };
    let mut line = args.argv.get(1..).unwrap_or_default().join(" ");
    line.push('\n');
    if stdio::write(line.as_bytes()) { 0 } else { 2 }
}
