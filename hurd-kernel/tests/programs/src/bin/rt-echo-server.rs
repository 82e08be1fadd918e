//! Serves the echo interface at [`SERVICE_PORT_NAME`] with the `serve` loop
//! `interface!` generates, over [`KernelIpc`]; ends when `shutdown` destroys
//! the port (status 0) or when serving fails otherwise (1).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use hurd_ipc::mig::Request;
use hurd_ipc::{Error, MsgReturn, UserIpc};
use hurd_rt::KernelIpc;
use hurd_rt::ports::SERVICE;
use kernel_test_programs::echo::echo;

hurd_rt::entry!(main);

/// The server's state.
struct EchoServer<'a> {
    ipc: &'a KernelIpc,
    calls: AtomicU32,
    bytes: AtomicU64,
}

impl echo::Server for EchoServer<'_> {
    fn echo(&self, _req: &Request, data: Vec<u8>) -> Result<Vec<u8>, Error> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(data)
    }

    fn reverse(&self, _req: &Request, text: String) -> Result<String, Error> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(text.chars().rev().collect())
    }

    fn stats(&self, _req: &Request) -> Result<(u32, u64), Error> {
        Ok((
            self.calls.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        ))
    }

    fn shutdown(&self, req: &Request) {
        let _ = self.ipc.port_destroy(req.port);
    }
}

// ANCHOR: main
fn main() -> u64 {
    let ipc = KernelIpc::new();
    let server = EchoServer {
        ipc: &ipc,
        calls: AtomicU32::new(0),
        bytes: AtomicU64::new(0),
    };
    match echo::serve(&server, &ipc, SERVICE) {
        MsgReturn::RcvInvalidName | MsgReturn::RcvPortDied => 0,
        other => {
            hurd_rt::println!("rt-echo-server: serving ended: {other:?}");
            1
        }
    }
}
// ANCHOR_END: main
