//! The first task: reads the boot information the kernel gives it (the
//! command line and the boot modules, mapped into its memory), prints it,
//! checks every module is an ELF executable, and exits with the number of
//! intact modules.
//!
//! With `exec` on the command line it also starts every ELF module as a
//! task of its own, loaded from user space by [`kernel_user::exec`] (the
//! module's number plus 40 as its argument), and exits with the number it
//! started; a module that is not a program is reported and passed over.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::bootinfo;
use kernel_user::exec;
use kernel_user::msg::MsgBuf;
use kernel_user::{println, sys};

kernel_user::entry!(run);

fn run(info: u64) -> u64 {
    let Some(boot) = bootinfo::read(info) else {
        println!("bootstrap: no boot information");
        return 0;
    };
    let cmdline = boot.cmdline;
    println!(
        "bootstrap: command line {cmdline:?}, {} modules",
        boot.modules.len()
    );
    let exec_mode = cmdline.split_whitespace().any(|w| w == "exec");
    let reply = if exec_mode {
        match sys::port_allocate(1) {
            Ok(name) => Some(name),
            Err(_) => return 0,
        }
    } else {
        None
    };
    let mut buf = MsgBuf::new();
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
        if let Some(reply) = reply {
            match exec::spawn_elf(&mut buf, reply, data, 40 + i as u64, None) {
                Ok(child) => {
                    println!("bootstrap: module {i} runs as task port {:#x}", child.task);
                    started += 1;
                }
                Err(err) => println!("bootstrap: module {i} cannot run: {err:?}"),
            }
        }
    }
    if exec_mode { started } else { intact }
}
