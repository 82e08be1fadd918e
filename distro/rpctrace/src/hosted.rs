//! `rpctrace` as a program of the hosted server set (feature `std`).
//!
//! `rpctrace [-o FILE] [-s SIZE] PROGRAM [ARG...]` runs `PROGRAM` through
//! the exec server (`/servers/exec`) with every port it starts with — its
//! descriptors and its initial ports — replaced by wrappers of the tracer,
//! and prints each RPC the program makes through them, and each reply, to
//! standard error or `FILE`. The trace ends when the program does; rpctrace
//! exits with the program's status. Install it with
//! `System::install_program("/bin/rpctrace", rpctrace::hosted::program())`.
//!
//! The hosted runtime has no task ports, so the program is not traced from
//! its first instruction as on the Hurd: what the exec server itself asks of
//! the ports it is given (the caller's ids, its pid) shows first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hurd_ipc::{Disposition, Error, PortArray, PortItem, PortName, RightType, UserIpc};
use hurd_servers::exec::{self, EXEC_NEWTASK, WaitStatus, argz};
use hurd_servers::hosted::{Program, ProgramContext};
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::io;

use crate::INIT_PORT_LABELS;
pub use crate::options::{Options, USAGE};
use crate::tracer::Tracer;

/// The hosted `rpctrace` program.
pub fn program() -> Program {
    Arc::new(run)
}

fn run(ctx: &ProgramContext) -> i32 {
    let opts = match Options::parse(ctx.argv.get(1..).unwrap_or_default()) {
        Ok(opts) => opts,
        Err(e) => {
            let _ = ctx.eprint(&format!("rpctrace: {e}\n{USAGE}"));
            return 1;
        }
    };
    match trace(ctx, &opts) {
        Ok(status) => match WaitStatus::from_raw(status) {
            WaitStatus::Exited(code) => i32::from(code),
            WaitStatus::Signaled(sig) => 128 + sig,
        },
        Err(e) => {
            let _ = ctx.eprint(&format!("rpctrace: {e}\n"));
            1
        }
    }
}

/// Runs the program traced; gives its wait status.
fn trace(ctx: &ProgramContext, opts: &Options) -> Result<i32, String> {
    let lookup = ctx.lookup();
    let out = match &opts.output {
        Some(path) => lookup
            .open(
                path,
                OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC,
                0o644,
            )
            .map_err(|e| format!("{path}: {e}"))?,
        None => ctx.fd(2),
    };
    let name = &opts.argv[0];
    let path = if name.contains('/') {
        name.clone()
    } else {
        format!("/bin/{name}")
    };
    let file = lookup
        .open(&path, OpenFlags::READ | OpenFlags::EXEC, 0)
        .map_err(|e| format!("command not found: {name} ({e})"))?;
    let exec_port = lookup
        .open("/servers/exec", OpenFlags::empty(), 0)
        .map_err(|e| format!("/servers/exec: {e}"))?;

    let task = &ctx.task;
    let mut tracer = Tracer::new(task, crate::msgids()).map_err(|e| format!("{e:?}"))?;
    tracer.set_strsize(opts.strsize);
    let mut wrap = |port: PortName, label: &str| -> PortName {
        if !port.is_valid() || task.port_mod_refs(port, RightType::Send, 1).is_err() {
            return PortName::NULL;
        }
        tracer.wrap(port, label).unwrap_or(PortName::NULL)
    };
    let dtable: Vec<PortName> = ctx
        .dtable
        .iter()
        .enumerate()
        .map(|(n, &p)| wrap(p, &format!("fd{n}")))
        .collect();
    let portarray: Vec<PortName> = ctx
        .portarray
        .iter()
        .zip(INIT_PORT_LABELS)
        .map(|(&p, label)| wrap(p, label))
        .collect();

    let done = AtomicBool::new(false);
    let status = std::thread::scope(|s| {
        let exec_thread = s.spawn(|| {
            let r = exec::exec::Client::new(task, exec_port).exec(
                PortItem {
                    disposition: Disposition::MoveSend,
                    name: file,
                },
                PortItem {
                    disposition: Disposition::CopySend,
                    name: PortName::NULL,
                },
                EXEC_NEWTASK,
                argz(&opts.argv),
                argz(&ctx.envp),
                PortArray {
                    disposition: Disposition::MakeSend,
                    names: dtable,
                },
                PortArray {
                    disposition: Disposition::MakeSend,
                    names: portarray,
                },
            );
            done.store(true, Ordering::Release);
            r
        });
        let served = tracer.serve(
            || done.load(Ordering::Acquire),
            |text| write_all(task, out, text),
        );
        let status = exec_thread
            .join()
            .unwrap_or(Err(Error::Mig(hurd_ipc::MigReturn::NoReply)));
        served.map_err(|e| format!("{e:?}"))?;
        status.map_err(|e| format!("cannot exec `{name}': {e}"))
    });
    drop(tracer);
    let _ = task.port_deallocate(exec_port);
    if opts.output.is_some() {
        let _ = task.port_deallocate(out);
    }
    status
}

/// Writes all of `text` to the I/O port `port` (ignoring failures: the
/// trace goes on even when nobody reads it).
fn write_all<I: UserIpc + ?Sized>(ipc: &I, port: PortName, text: &str) {
    let client = io::Client::new(ipc, port);
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        match client.write(rest.to_vec(), -1) {
            Ok(n) if n > 0 => {
                let n = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
                rest = &rest[n..];
            }
            _ => return,
        }
    }
}
