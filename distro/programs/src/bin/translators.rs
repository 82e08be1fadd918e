//! hurd-trans's translators as a program of their own on the kernel: one
//! image serving every translator [`distro_programs::translators`] knows, by
//! its `argv[0]` (`/hurd/hello`, `/hurd/tarfs`…). `hurd-init` starts it
//! from its boot module through a
//! [`TaskStarter`](distro_programs::translators::TaskStarter) whenever the root
//! file system starts a translator: a task per translator, a process its
//! owner can see and signal. Exits with 0 when the translator goes away,
//! 1 without arguments.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use distro_programs::translators;

distro_programs::program!(main);

fn main() -> u64 {
    let argv: Vec<String> = hurd_rt::env::args().into_iter().map(String::from).collect();
    if argv.is_empty() {
        return 1;
    }
    translators::main_of_task(&argv);
    0
}
