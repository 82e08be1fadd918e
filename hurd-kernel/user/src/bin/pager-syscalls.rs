//! System calls on memory that comes from a pager (`pager`), before any of
//! it is present: the kernel's copy waits for `data_supply` and the call
//! completes. A console write from a missing page (copied in), a message
//! received into a missing page (copied out, over the pager's data), and a
//! message handed to a thread already waiting to receive into a missing
//! page. Then tells the pager to quit. Returns 0 when all of it held.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{COPY_SEND, MAKE_SEND, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// Byte `i` of page `page`, as the pager fills it.
fn pattern(page: u64, i: usize) -> u8 {
    (page as u8).wrapping_mul(31).wrapping_add(i as u8)
}

/// The receiving thread: `arg` holds the port to receive on (low half) and
/// the one to report to (high half); receives into page 1 of the mapping
/// at `MAPPING`, then reports the code and the id it found.
extern "C" fn receiver(arg: u64) -> ! {
    let (port, report) = (arg as u32, (arg >> 32) as u32);
    let into = MAPPING.load(core::sync::atomic::Ordering::SeqCst) + 4096;
    let rc = sys::mach_msg(into as *mut u8, RCV_MSG, 0, 4096, port, 0);
    let id = if rc == 0 {
        // SAFETY: mapped by the main thread; present once the receive is done.
        unsafe { ((into + 20) as *const i32).read_volatile() }
    } else {
        0
    };
    let mut buf = MsgBuf::new();
    buf.start(report, MAKE_SEND, 0, 0, id);
    buf.push_u32(rc as u32);
    sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0);
    sys::thread_exit()
}

/// Where the object is mapped (for the receiving thread).
static MAPPING: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

fn run(_: u64) -> u64 {
    let status = steps().err().unwrap_or(0);
    let mut buf = MsgBuf::new();
    buf.start(SERVICE_PORT_NAME, COPY_SEND, 0, 0, 999);
    if sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, 24, 0, 0, 0) != 0 && status == 0 {
        return 20;
    }
    status
}

fn steps() -> Result<(), u64> {
    let addr = sys::vm_map(4 * 4096, SERVICE_PORT_NAME, 0).map_err(|_| 1u64)?;
    // Page 2 holds 'A'..='Z' at offsets 3..29.
    let text = addr + 2 * 4096 + 3;
    if pattern(2, 3) != b'A' {
        return Err(2);
    }
    // SAFETY: the kernel reads the range (a system call on user memory);
    // nothing here touches it first.
    let letters = unsafe { core::slice::from_raw_parts(text as *const u8, 26) };
    let rc = sys::console_write(letters);
    if rc != 0 {
        println!("pager-syscalls: console_write from a pager's page: {rc:#x}");
        return Err(3);
    }
    sys::console_write(b"\n");
    // A message to ourselves, received into page 3 (not present yet).
    let port = sys::port_allocate(1).map_err(|_| 4u64)?;
    let mut buf = MsgBuf::new();
    buf.start(port, MAKE_SEND, 0, 0, 77);
    buf.push_u32(0xabcd);
    if sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, u64::from(buf.size()), 0, 0, 0) != 0 {
        return Err(5);
    }
    let into = addr + 3 * 4096;
    let rc = sys::mach_msg(into as *mut u8, RCV_MSG, 0, 4096, port, 0);
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
    MAPPING.store(addr, core::sync::atomic::Ordering::SeqCst);
    let report = sys::port_allocate(1).map_err(|_| 8u64)?;
    let stack = sys::vm_allocate(0, 64 * 1024, true).map_err(|_| 8u64)?;
    let arg = u64::from(port) | (u64::from(report) << 32);
    sys::thread_spawn(receiver, stack + 64 * 1024 - 8, arg).map_err(|_| 9u64)?;
    for _ in 0..10 {
        sys::yield_now();
    }
    buf.start(port, MAKE_SEND, 0, 0, 88);
    if sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, 24, 0, 0, 0) != 0 {
        return Err(10);
    }
    let rc = sys::mach_msg(buf.as_mut_ptr(), RCV_MSG, 0, MsgBuf::CAPACITY, report, 0);
    let code = buf.item(0).map(|(_, c)| c);
    if rc != 0 || buf.id() != 88 || code != Some(0) {
        println!(
            "pager-syscalls: the waiting receiver got id {} code {code:x?} ({rc:#x})",
            buf.id()
        );
        return Err(11);
    }
    Ok(())
}
