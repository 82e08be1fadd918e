//! hurd-trans's translators as a program of their own on the kernel: one
//! image serving every translator [`kernel_user::translators`] knows, by
//! its `argv[0]` (`/hurd/hello`, `/hurd/tarfs`…). `hurd-init` starts it
//! from its boot module through a
//! [`TaskStarter`](kernel_user::translators::TaskStarter) whenever the root
//! file system starts a translator: a task per translator, a process its
//! owner can see and signal. Exits with 0 when the translator goes away,
//! 1 without arguments.
#![cfg_attr(target_os = "none", no_std, no_main)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use kernel_user::{args, translators};

kernel_user::entry!(run);

fn run(info: u64) -> u64 {
    let Some(a) = args::read(info) else {
        return 1;
    };
    let argv: Vec<String> = a.argv.iter().map(|w| String::from(*w)).collect();
    if argv.is_empty() {
        return 1;
    }
    translators::main_of_task(&argv);
    0
}
