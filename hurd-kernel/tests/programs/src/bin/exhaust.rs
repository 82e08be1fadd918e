//! Asks the kernel for more than a task may have, kind by kind: receive
//! rights (`mach_port_allocate` and `mach_reply_port`), threads
//! (`thread_create`), tasks (`task_create`) and address map regions
//! (`vm_allocate`), each until it is refused. Every refusal must be
//! `KERN_RESOURCE_SHORTAGE` after a bounded number of successes, and once
//! what was made is released the same requests work again. Returns 0 when
//! all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use hurd_ipc::{Error, KernReturn, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, mach, println, task};
use kernel_test_programs::raw;

hurd_rt::entry!(main);

/// More than any limit: a loop that gets this far was never refused.
const TOO_MANY: usize = 100_000;

/// The code of a refused RPC.
fn shortage<T>(r: &Result<T, Error>) -> bool {
    matches!(r, Err(Error::Kern(KernReturn::ResourceShortage)))
}

/// Calls `make` until it fails; what it made, and whether it failed with
/// `KERN_RESOURCE_SHORTAGE` (rather than running past [`TOO_MANY`] or
/// failing otherwise).
fn until_refused<T>(what: &str, mut make: impl FnMut() -> Result<T, Error>) -> (Vec<T>, bool) {
    let mut made = Vec::new();
    while made.len() < TOO_MANY {
        let r = make();
        match r {
            Ok(v) => made.push(v),
            Err(_) if shortage(&r) => {
                println!("exhaust: {what}: refused after {}", made.len());
                return (made, true);
            }
            Err(e) => {
                println!("exhaust: {what}: {e:?} after {}", made.len());
                return (made, false);
            }
        }
    }
    println!("exhaust: {what}: never refused");
    (made, false)
}

fn ports(ipc: &KernelIpc) -> Result<(), u64> {
    let (made, refused) = until_refused("ports", || {
        ipc.port_allocate(RightType::Receive).map_err(Error::Kern)
    });
    if !refused || made.len() < 1000 {
        return Err(1);
    }
    // At the limit the reply port trap is refused the same way.
    // SAFETY: mach_reply_port reads and writes no memory.
    let (code, _) = unsafe { raw::syscall(hurd_abi::nr::REPLY_PORT, [0; 6]) };
    if code != KernReturn::ResourceShortage as u64 {
        println!("exhaust: mach_reply_port at the limit: {code:#x}");
        return Err(2);
    }
    for name in made {
        ipc.port_destroy(name).map_err(|_| 3u64)?;
    }
    let again = ipc.port_allocate(RightType::Receive).map_err(|_| 4u64)?;
    ipc.port_destroy(again).map_err(|_| 4u64)
}

fn threads(me: PortName, ipc: &KernelIpc) -> Result<(), u64> {
    let (made, refused) = until_refused("threads", || mach::thread_create(me));
    if !refused || made.is_empty() {
        return Err(10);
    }
    for thread in made {
        mach::thread_terminate(thread).map_err(|_| 11u64)?;
        let _ = ipc.port_deallocate(thread);
    }
    let again = mach::thread_create(me).map_err(|_| 12u64)?;
    mach::thread_terminate(again).map_err(|_| 12u64)?;
    let _ = ipc.port_deallocate(again);
    Ok(())
}

fn tasks(me: PortName, ipc: &KernelIpc) -> Result<(), u64> {
    let (made, refused) = until_refused("tasks", || mach::task_create(me, false));
    if !refused || made.is_empty() {
        return Err(20);
    }
    for child in made {
        mach::task_terminate(child).map_err(|_| 21u64)?;
        let _ = ipc.port_deallocate(child);
    }
    let again = mach::task_create(me, false).map_err(|_| 22u64)?;
    mach::task_terminate(again).map_err(|_| 22u64)?;
    let _ = ipc.port_deallocate(again);
    Ok(())
}

fn regions(me: PortName) -> Result<(), u64> {
    // One page in every other one, so that no two regions touch.
    let base = 0x200_0000_0000u64;
    let mut at = base;
    let (made, refused) = until_refused("regions", || {
        let r = mach::vm_allocate(me, at, 4096, false);
        at += 2 * 4096;
        r
    });
    if !refused || made.len() < 100 {
        return Err(30);
    }
    for addr in made {
        mach::vm_deallocate(me, addr, 4096).map_err(|_| 31u64)?;
    }
    let again = mach::vm_allocate(me, base, 4096, false).map_err(|_| 32u64)?;
    mach::vm_deallocate(me, again, 4096).map_err(|_| 32u64)
}

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let me = task::task_self();
    let all = ports(&ipc)
        .and_then(|()| threads(me, &ipc))
        .and_then(|()| tasks(me, &ipc))
        .and_then(|()| regions(me));
    match all {
        Ok(()) => 0,
        Err(step) => step,
    }
}
