//! hurd-servers' terminal server for the serial console, as a task of its
//! own started from its boot module by `hurd-init` (see
//! [`distro_programs::startup`]) as a process of its (its proc port under
//! `distro_programs::process::PROC`, for signalling the foreground group): a
//! thread reads the console and types what arrives into the terminal
//! (`device_read_reply_inband` on its input port). It reports the
//! terminal's port and serves.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;

use distro_programs::process::PROC;
use distro_programs::startup;
use hurd_ipc::{Disposition, UserIpc};
use hurd_rt::{KernelIpc, console};
use hurd_servers::term::{TermServer, device_reply};

distro_programs::program!(main);

fn main() -> u64 {
    let device = Box::new(|b: &[u8]| {
        let _ = console::write(b);
    });
    let Ok(term) = TermServer::new(KernelIpc::new(), device, PROC) else {
        return 1;
    };
    let input = term.input_port();
    let ipc = KernelIpc::new();
    if ipc
        .port_insert_right(input, input, Disposition::MakeSend)
        .is_err()
    {
        return 2;
    }
    let reader = hurd_rt::thread::spawn(move || {
        let ipc = KernelIpc::new();
        let device = device_reply::Client::new(&ipc, input);
        let mut buf = [0u8; 256];
        while let Ok(n) = console::read(&mut buf, false) {
            if device.read_reply_inband(0, buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    if reader.is_err() || startup::ready(&[term.port()]).is_err() {
        return 3;
    }
    term.serve();
    0
}
