//! The first task: reads the boot information the kernel gives it (the
//! command line and the boot modules, mapped into its memory), prints it,
//! checks every module is an ELF executable, and exits with the number of
//! intact modules.
//!
//! With `exec` on the command line it also starts every ELF module as a
//! task of its own, loaded from user space by [`hurd_rt::exec`] (the
//! module's number plus 40 as its argument), and exits with the number it
//! started; a module that is not a program is reported and passed over.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_rt::exec;
use hurd_rt::{boot, println};

hurd_rt::entry!(main);

fn main() -> u64 {
    let Some(boot) = boot::info() else {
        println!("bootstrap: no boot information");
        return 0;
    };
    let cmdline = boot.cmdline;
    println!(
        "bootstrap: command line {cmdline:?}, {} modules",
        boot.modules.len()
    );
    let exec_mode = boot.has_word("exec");
    let mut started = 0;
    let mut intact = 0;
    for (i, (name, data)) in boot.modules.iter().enumerate() {
        let elf = data.starts_with(b"\x7fELF");
        println!(
            "bootstrap: module {i}: {} bytes, {}{}",
            data.len(),
            name.rsplit('/').next().unwrap_or(name),
            if elf { "" } else { " (not ELF)" }
        );
        if elf {
            intact += 1;
        }
        if exec_mode {
            match exec::spawn_with_arg(data, 40 + i as u64) {
                Ok(child) => {
                    println!(
                        "bootstrap: module {i} runs as task port {:#x}",
                        child.task.0
                    );
                    started += 1;
                }
                Err(err) => println!("bootstrap: module {i} cannot run: {err:?}"),
            }
        }
    }
    if exec_mode { started } else { intact }
}
