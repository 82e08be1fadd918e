//! The client side of the kernel benchmarks: null RPC round trips to the
//! bench server (different task, different address space), on the kernel's
//! straight path and on its general path, and null system calls, timed with `rdtsc`. Under QEMU's `-icount shift=0` the time-stamp
//! counter counts guest instructions, so the figures are exact instruction
//! counts. Prints `bench NAME VALUE` lines.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use core::time::Duration;

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

/// One null RPC: `request` sent from `buf`, the reply received there
/// (with `timeout` on the receive, if any).
#[inline(always)]
fn rpc(
    buf: &mut [u8; 256],
    request: &[u8; 24],
    reply: PortName,
    timeout: Option<Duration>,
) -> Result<usize, hurd_ipc::MsgReturn> {
    buf[..24].copy_from_slice(request);
    let call = msg::Options {
        send: Some(24),
        receive: Some(reply),
        receive_timeout: timeout,
        ..msg::Options::default()
    };
    msg::mach_msg(buf, &call)
}

/// The request of a null RPC to the bench server with id `id`, replied to
/// on `reply`.
fn request(id: i32, reply: PortName) -> Option<[u8; 24]> {
    let header = MsgHeader {
        bits: MsgBits::new(Disposition::CopySend, Some(Disposition::MakeSendOnce)),
        remote: SERVICE,
        local: reply,
        id,
        ..MsgHeader::default()
    };
    wire::encode_header(&header).ok()
}

/// The average cost of `rounds` null RPCs after 100 to warm up.
fn rpc_cost(reply: PortName, id: i32, timeout: Option<Duration>, rounds: u64) -> Option<u64> {
    let request = request(id, reply)?;
    let mut buf = [0u8; 256];
    for _ in 0..100 {
        rpc(&mut buf, &request, reply, timeout).ok()?;
    }
    let start = tsc();
    for _ in 0..rounds {
        rpc(&mut buf, &request, reply, timeout).ok()?;
    }
    Some((tsc() - start) / rounds)
}

fn main() -> u64 {
    println!("bench-client: started");
    let rounds = env::start_arg().max(1);
    let ipc = KernelIpc::new();
    let Ok(reply) = ipc.port_allocate(RightType::Receive) else {
        return 1;
    };
    // The straight path; then the general one, which a receive timeout
    // makes both sides take (the server answers id 2 with a timeout too).
    let Some(straight_cost) = rpc_cost(reply, 1, None, rounds) else {
        return 2;
    };
    let timeout = Some(Duration::from_secs(60));
    let Some(general_cost) = rpc_cost(reply, 2, timeout, rounds) else {
        return 3;
    };
    let start = tsc();
    for _ in 0..rounds {
        kernel_test_programs::raw::null();
    }
    let syscall_cost = (tsc() - start) / rounds;
    let (make_send_trap, make_send_rpc) = make_send_costs(&ipc, reply, rounds);
    println!("bench null_rpc_round_trip {straight_cost}");
    println!("bench null_rpc_round_trip_general {general_cost}");
    println!("bench null_syscall {syscall_cost}");
    println!("bench make_send_trap {make_send_trap}");
    println!("bench make_send_rpc {make_send_rpc}");
    let _ = ipc.send(Message::new(999, SERVICE, Disposition::CopySend));
    0
}
