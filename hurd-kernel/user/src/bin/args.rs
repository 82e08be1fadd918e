//! Prints its arguments (after its name), separated by spaces, on the
//! console: the loader's argument block at work. Exits with 0, or 1 when it
//! was started without one.
#![cfg_attr(target_os = "none", no_std, no_main)]

extern crate alloc;

use kernel_user::{args, sys};

kernel_user::entry!(run);

fn run(arg: u64) -> u64 {
    let Some(args) = args::read(arg) else {
        return 1;
    };
    let mut line = args.argv.get(1..).unwrap_or_default().join(" ");
    line.push('\n');
    sys::console_write(line.as_bytes());
    0
}
