//! Does nothing, successfully: exits with status 0.
#![cfg_attr(target_os = "none", no_std, no_main)]

kernel_user::entry!(run);

fn run(_: u64) -> u64 {
    0
}
