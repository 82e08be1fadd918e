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

use kernel_user::abi::{BOOTSTRAP_MAGIC, BootstrapInfo, BootstrapModule};
use kernel_user::exec;
use kernel_user::msg::MsgBuf;
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// Bytes of this task's memory the kernel filled in.
fn bytes(addr: u64, len: u64) -> &'static [u8] {
    // SAFETY: the kernel mapped the boot information and the modules into
    // this task before starting it and nothing else changes them.
    unsafe { core::slice::from_raw_parts(addr as *const u8, len as usize) }
}

fn run(info: u64) -> u64 {
    // SAFETY: `info` is the boot information the kernel mapped (above).
    let head = unsafe { (info as *const BootstrapInfo).read() };
    if head.magic != BOOTSTRAP_MAGIC {
        println!("bootstrap: no boot information");
        return 0;
    }
    let cmdline = core::str::from_utf8(bytes(head.cmdline_addr, head.cmdline_len)).unwrap_or("?");
    println!(
        "bootstrap: command line {cmdline:?}, {} modules",
        head.module_count
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
    for i in 0..head.module_count {
        let at = info
            + core::mem::size_of::<BootstrapInfo>() as u64
            + i * core::mem::size_of::<BootstrapModule>() as u64;
        // SAFETY: the table follows the head (above).
        let m = unsafe { (at as *const BootstrapModule).read() };
        let name = core::str::from_utf8(bytes(m.name_addr, m.name_len)).unwrap_or("?");
        let data = bytes(m.addr, m.size);
        let elf = data.starts_with(b"\x7fELF");
        println!(
            "bootstrap: module {i}: {} bytes, {}{}",
            m.size,
            name.rsplit('/').next().unwrap_or(name),
            if elf { "" } else { " (not ELF)" }
        );
        if elf {
            intact += 1;
        }
        if let Some(reply) = reply {
            match exec::spawn_elf(&mut buf, reply, data, 40 + i) {
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
