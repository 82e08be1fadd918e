//! The client side of the kernel benchmarks: null RPC round trips to the
//! bench server (different task, different address space) and null system
//! calls, timed with `rdtsc`. Under QEMU's `-icount shift=0` the time-stamp
//! counter counts guest instructions, so the figures are exact instruction
//! counts. Prints `bench NAME VALUE` lines.
#![cfg_attr(target_os = "none", no_std, no_main)]

use kernel_user::abi::SERVICE_PORT_NAME;
use kernel_user::abi::msg_option::{RCV_MSG, SEND_MSG};
use kernel_user::msg::{COPY_SEND, MAKE_SEND_ONCE, MsgBuf};
use kernel_user::{println, sys};

kernel_user::entry!(run);

/// The time-stamp counter (instructions under `-icount shift=0`).
fn tsc() -> u64 {
    // SAFETY: rdtsc reads a counter; CR4.TSD is clear, so ring 3 may.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn rpc(buf: &mut MsgBuf, reply: u32) -> u64 {
    buf.start(SERVICE_PORT_NAME, COPY_SEND, reply, MAKE_SEND_ONCE, 1);
    sys::mach_msg(
        buf.as_mut_ptr(),
        SEND_MSG | RCV_MSG,
        24,
        MsgBuf::CAPACITY,
        reply,
        0,
    )
}

fn run(rounds: u64) -> u64 {
    println!("bench-client: started");
    let rounds = rounds.max(1);
    let Ok(reply) = sys::port_allocate(1) else {
        return 1;
    };
    let mut buf = MsgBuf::new();
    for _ in 0..100 {
        if rpc(&mut buf, reply) != 0 {
            return 2;
        }
    }
    let start = tsc();
    for _ in 0..rounds {
        if rpc(&mut buf, reply) != 0 {
            return 3;
        }
    }
    let rpc_cost = (tsc() - start) / rounds;
    let start = tsc();
    for _ in 0..rounds {
        sys::null();
    }
    let syscall_cost = (tsc() - start) / rounds;
    println!("bench null_rpc_round_trip {rpc_cost}");
    println!("bench null_syscall {syscall_cost}");
    buf.start(SERVICE_PORT_NAME, COPY_SEND, 0, 0, 999);
    sys::mach_msg(buf.as_mut_ptr(), SEND_MSG, 24, 0, 0, 0);
    0
}
