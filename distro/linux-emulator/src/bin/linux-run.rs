//! A static Linux program run by the emulator in its own task: this
//! program loads the boot modules `linux-hello` (built by `musl-gcc
//! -static` from `distro/linux-tests/c/hello.c`) and `linux-emulation` (the
//! emulator) into a new task with [`linux_emulator::load::load_emulated`],
//! gives it a port of ours as its standard output, and starts
//! it. The emulator sets the task's emulation vector and runs the program;
//! its system calls (`mmap`, `brk`, `uname`, `writev`…) are carried out in
//! the task itself, and what it writes comes here as `io_write`.
//!
//! Returns 0 when the program printed what it prints on Linux and ended
//! with status 0, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::time::Duration;

use hurd_abi::hurd_task;
use hurd_ipc::{Disposition, Item, MsgOptions, PortName, RightType, UserIpc};
use hurd_rt::hurd_trans::protocol::io;
use hurd_rt::{KernelIpc, boot, mach, ports, println, task};
use linux_emulator::load::{self, Arguments};

hurd_rt::entry!(main);

/// The boot module holding the Linux program.
const PROGRAM: &str = "linux-hello";
/// The boot module holding the emulator.
const EMULATOR: &str = "linux-emulation";
/// What the program prints (on Linux too).
const EXPECTED: &[u8] = b"hello, world\nx86_64 x\n";
/// The most output kept.
const MAX_OUTPUT: usize = 4096;
/// The program's process id.
const PID: u32 = 7;

fn fail(step: u64, what: core::fmt::Arguments) -> u64 {
    println!("linux-run: {what}");
    step
}

fn main() -> u64 {
    match run() {
        Ok(()) => 0,
        Err(step) => step,
    }
}

fn run() -> Result<(), u64> {
    let modules = boot::info();
    let module = |name| modules.as_ref().and_then(|b| b.module(name));
    let (Some(program), Some(emulator)) = (module(PROGRAM), module(EMULATOR)) else {
        return Err(fail(
            1,
            format_args!("no boot modules {PROGRAM}, {EMULATOR}"),
        ));
    };
    let ipc = KernelIpc::new();
    let port = ipc
        .port_allocate(RightType::Receive)
        .map_err(|e| fail(2, format_args!("port_allocate: {e:?}")))?;
    let child = mach::task_create(task::task_self(), false)
        .map_err(|e| fail(3, format_args!("task_create: {e:?}")))?;
    let result = start(child, port, program, emulator).and_then(|()| serve(&ipc, port));
    let _ = mach::task_terminate(child);
    let (status, output) = result?;
    println!(
        "linux-run: {PROGRAM} printed {:?} and exited with {status}",
        core::str::from_utf8(&output).unwrap_or("(not UTF-8)")
    );
    if status != 0 || output != EXPECTED {
        return Err(fail(20, format_args!("expected {EXPECTED:?} and status 0")));
    }
    Ok(())
}

/// Loads the program and the emulator into `child`, gives it `port` as
/// standard output, and starts it.
fn start(child: PortName, port: PortName, program: &[u8], emulator: &[u8]) -> Result<(), u64> {
    let argv: [&[u8]; 1] = [PROGRAM.as_bytes()];
    let envp: [&[u8]; 1] = [b"PATH=/bin"];
    let args = Arguments {
        argv: &argv,
        envp: &envp,
        execfn: PROGRAM.as_bytes(),
        ids: [0; 4],
        random: *b"not very random!",
    };
    let thread = load::load_emulated(child, program, emulator, &args, PID)
        .map_err(|e| fail(4, format_args!("loading: {e:?}")))?;
    // (A port has one name in a space: standard error, with none given,
    // goes to the console.)
    mach::insert_right(child, ports::STDOUT, (port, Disposition::MakeSend))
        .map_err(|e| fail(5, format_args!("standard output: {e:?}")))?;
    mach::task_notify_exit(child, port)
        .and_then(|()| mach::thread_resume(thread))
        .map_err(|e| fail(6, format_args!("starting: {e:?}")))
}

/// Takes what the program writes until its task ends: the status and the
/// output.
fn serve(ipc: &KernelIpc, port: PortName) -> Result<(u64, Vec<u8>), u64> {
    let opts = MsgOptions {
        rcv_timeout: Some(Duration::from_secs(10)),
        ..MsgOptions::default()
    };
    let mut output = Vec::new();
    loop {
        let msg = ipc
            .receive_with(port, &opts)
            .map_err(|e| fail(10, format_args!("waiting for the program: {:?}", e.code)))?;
        if msg.header.id == hurd_task::id::task_exited {
            return match msg.body.first() {
                Some(Item::U64(status)) => Ok((*status, output)),
                _ => Err(fail(11, format_args!("a bad exit notification"))),
            };
        }
        match io::Call::decode(msg) {
            Ok((io::Call::write { data, .. }, req)) => {
                let room = MAX_OUTPUT - output.len().min(MAX_OUTPUT);
                output.extend_from_slice(&data[..data.len().min(room)]);
                let reply = io::Reply::write(Ok(data.len() as u64)).encode(&req);
                ipc.send(reply)
                    .map_err(|e| fail(12, format_args!("answering io_write: {e:?}")))?;
            }
            Ok((call, _)) => return Err(fail(13, format_args!("unexpected {call:?}"))),
            Err(e) => return Err(fail(14, format_args!("a bad message: {:?}", e.code))),
        }
    }
}
