//! System calls on memory that comes from a pager (`pager`), before any of
//! it is present: the kernel's copy waits for `data_supply` and the call
//! completes. A console write from a missing page (copied in), a message
//! received into a missing page (copied out, over the pager's data), and a
//! message handed to a thread already waiting to receive into a missing
//! page. Then tells the pager to quit. Returns 0 when all of it held.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};

use hurd_abi::msg_option::RCV_MSG;
use hurd_ipc::{Disposition, Item, Message, RightType, UserIpc};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, println, thread};
use kernel_test_programs::raw;

hurd_rt::entry!(main);

/// Byte `i` of page `page`, as the pager fills it.
fn pattern(page: u64, i: usize) -> u8 {
    (page as u8).wrapping_mul(31).wrapping_add(i as u8)
}

/// The receiving thread: receives on `port` into page 1 of the mapping at
/// `MAPPING`, then reports the code and the id it found to `report`.
fn receiver(port: u32, report: u32) {
    let into = MAPPING.load(Ordering::SeqCst) + 4096;
    // SAFETY: the kernel writes at most 4096 bytes into page 1 of the
    // mapping, which nothing else uses.
    let rc = unsafe { raw::mach_msg(into as *mut u8, RCV_MSG, 0, 4096, port, 0) };
    let id = if rc == 0 {
        // SAFETY: mapped by the main thread; present once the receive is done.
        unsafe { ((into + 20) as *const i32).read_volatile() }
    } else {
        0
    };
    let msg = Message::new(id, hurd_ipc::PortName(report), Disposition::MakeSend)
        .with_item(Item::U32(rc as u32));
    let _ = KernelIpc::new().send(msg);
}

/// Where the object is mapped (for the receiving thread).
static MAPPING: AtomicU64 = AtomicU64::new(0);

fn main() -> u64 {
    let status = steps().err().unwrap_or(0);
    let quit = Message::new(999, SERVICE, Disposition::CopySend);
    if KernelIpc::new().send(quit).is_err() && status == 0 {
        return 20;
    }
    status
}

fn steps() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let addr = raw::vm_map(4 * 4096, SERVICE.0, 0).map_err(|_| 1u64)?;
    // Page 2 holds 'A'..='Z' at offsets 3..29.
    let text = addr + 2 * 4096 + 3;
    if pattern(2, 3) != b'A' {
        return Err(2);
    }
    // SAFETY: the kernel reads the range (a system call on user memory);
    // nothing here touches it first.
    let rc = unsafe { raw::console_write(text, 26) };
    if rc != 0 {
        println!("pager-syscalls: console_write from a pager's page: {rc:#x}");
        return Err(3);
    }
    let _ = hurd_rt::console::write(b"\n");
    // A message to ourselves, received into page 3 (not present yet).
    let port = ipc.port_allocate(RightType::Receive).map_err(|_| 4u64)?;
    let to_self = Message::new(77, port, Disposition::MakeSend).with_item(Item::U32(0xabcd));
    if ipc.send(to_self).is_err() {
        return Err(5);
    }
    let into = addr + 3 * 4096;
    // SAFETY: the kernel writes at most 4096 bytes into page 3 of the
    // mapping, which nothing else uses.
    let rc = unsafe { raw::mach_msg(into as *mut u8, RCV_MSG, 0, 4096, port.0, 0) };
    if rc != 0 {
        println!("pager-syscalls: receive into a pager's page: {rc:#x}");
        return Err(6);
    }
    // SAFETY: mapped (above) and now present.
    let (id, item, beyond) = unsafe {
        (
            ((into + 20) as *const i32).read_volatile(),
            ((into + 32) as *const u32).read_volatile(),
            ((into + 100) as *const u8).read_volatile(),
        )
    };
    if id != 77 || item != 0xabcd || beyond != pattern(3, 100) {
        println!("pager-syscalls: received id {id}, item {item:#x}, byte 100 {beyond:#x}");
        return Err(7);
    }
    // A thread waits to receive into page 1; the message is handed to it.
    MAPPING.store(addr, Ordering::SeqCst);
    let report = ipc.port_allocate(RightType::Receive).map_err(|_| 8u64)?;
    let (p, r) = (port.0, report.0);
    thread::spawn(move || receiver(p, r)).map_err(|_| 9u64)?;
    for _ in 0..10 {
        thread::yield_now();
    }
    if ipc
        .send(Message::new(88, port, Disposition::MakeSend))
        .is_err()
    {
        return Err(10);
    }
    match ipc.receive(report) {
        Ok(m) if m.header.id == 88 && m.body == [Item::U32(0)] => Ok(()),
        other => {
            println!("pager-syscalls: the waiting receiver reported {other:?}");
            Err(11)
        }
    }
}
