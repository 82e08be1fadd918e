//! The client side of the kernel benchmarks: null RPC round trips to the
//! bench server (different task, different address space) and null system
//! calls, timed with `rdtsc`. Under QEMU's `-icount shift=0` the time-stamp
//! counter counts guest instructions, so the figures are exact instruction
//! counts. Prints `bench NAME VALUE` lines.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Disposition, Message, MsgBits, MsgHeader, PortName, RightType, UserIpc, wire};
use hurd_rt::ports::SERVICE;
use hurd_rt::{KernelIpc, env, msg, println};

hurd_rt::entry!(main);

/// The time-stamp counter (instructions under `-icount shift=0`).
fn tsc() -> u64 {
    // SAFETY: rdtsc reads a counter; CR4.TSD is clear, so ring 3 may.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The cost of a send right made (`mach_port_insert_right` with
/// `MAKE_SEND` on the receive right's own name) and released
/// (`mach_port_deallocate`), the make-send as the `port_call` trap
/// ([`KernelIpc`]) and as the `mach_port.defs` RPC to the task port: what a
/// server does for each port it hands out.
fn make_send_costs(ipc: &KernelIpc, port: PortName, rounds: u64) -> (u64, u64) {
    let start = tsc();
    for _ in 0..rounds {
        let _ = ipc.port_insert_right(port, port, Disposition::MakeSend);
        let _ = ipc.port_deallocate(port);
    }
    let trap_cost = (tsc() - start) / rounds;
    let client = hurd_abi::mach_port::Client::new(ipc, hurd_rt::task::task_self());
    let start = tsc();
    for _ in 0..rounds {
        let right = hurd_ipc::PortItem {
            disposition: Disposition::MakeSend,
            name: port,
        };
        let _ = client.mach_port_insert_right(port.0, right);
        let _ = ipc.port_deallocate(port);
    }
    let rpc_cost = (tsc() - start) / rounds;
    (trap_cost, rpc_cost)
}

/// One null RPC: `request` sent from `buf`, the reply received there.
#[inline(always)]
fn rpc(
    buf: &mut [u8; 256],
    request: &[u8; 24],
    reply: PortName,
) -> Result<usize, hurd_ipc::MsgReturn> {
    buf[..24].copy_from_slice(request);
    let call = msg::Options {
        send: Some(24),
        receive: Some(reply),
        ..msg::Options::default()
    };
    msg::mach_msg(buf, &call)
}

fn main() -> u64 {
    println!("bench-client: started");
    let rounds = env::start_arg().max(1);
    let ipc = KernelIpc::new();
    let Ok(reply) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    // The request, encoded once: a header with a send-once reply right.
    let header = MsgHeader {
        bits: MsgBits::new(Disposition::CopySend, Some(Disposition::MakeSendOnce)),
        remote: SERVICE,
        local: reply,
        id: 1,
        ..MsgHeader::default()
    };
    let Ok(request) = wire::encode_header(&header) else {
        return 1;
    };
    let mut buf = [0u8; 256];
    for _ in 0..100 {
        if rpc(&mut buf, &request, reply).is_err() {
            return 2;
        }
    }
    let start = tsc();
    for _ in 0..rounds {
        if rpc(&mut buf, &request, reply).is_err() {
            return 3;
        }
    }
    let rpc_cost = (tsc() - start) / rounds;
    let start = tsc();
    for _ in 0..rounds {
        kernel_test_programs::raw::null();
    }
    let syscall_cost = (tsc() - start) / rounds;
    let (make_send_trap, make_send_rpc) = make_send_costs(&ipc, reply, rounds);
    println!("bench null_rpc_round_trip {rpc_cost}");
    println!("bench null_syscall {syscall_cost}");
    println!("bench make_send_trap {make_send_trap}");
    println!("bench make_send_rpc {make_send_rpc}");
    let _ = ipc.send(Message::new(999, SERVICE, Disposition::CopySend));
    0
}
