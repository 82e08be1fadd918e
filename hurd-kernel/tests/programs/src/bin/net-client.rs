//! A client of the `virtio-net` driver (a distro program) through Mach's
//! device interface, on QEMU's user network (slirp: the gateway 10.0.2.2,
//! this machine 10.0.2.15): it opens `eth0` on the driver's port
//! (`SERVICE_PORT_NAME`), reads its status and MAC address, sets a BPF
//! filter for ARP frames, sends an ARP request for the gateway and receives
//! the gateway's reply as a `net_rcv_msg`. Then: a filter of high priority
//! on a second port takes the next reply alone; once that port is gone the
//! driver drops its filter and the first port gets the replies again. And
//! each refusal: bad names, bad filters, frames too short or too long,
//! reads, status flavors and room.
//!
//! Returns 0 when all of it held, else the step that failed.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use hurd_abi::device::{
    D_INVALID_OPERATION, D_INVALID_SIZE, D_NO_SUCH_DEVICE, D_READ, D_WRITE, device, net_rcv,
};
use hurd_abi::net::{
    ETHER_MAX_FRAME, HDR_ETHERNET, NET_ADDRESS, NET_HI_PRI, NET_STATUS, NETF_BPF, NETF_IN,
    NetStatus, accept_ethertypes, address_from_words, frame_of_rcv_msg,
};
use hurd_ipc::user::MsgOptions;
use hurd_ipc::{Disposition, Error, OolItem, PortItem, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, println};

hurd_rt::entry!(main);
kernel_test_programs::report!();

/// The MAC address the xtask gives the device.
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
/// slirp's gateway's MAC address.
const GATEWAY_MAC: [u8; 6] = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];
const ME: [u8; 4] = [10, 0, 2, 15];
const GATEWAY: [u8; 4] = [10, 0, 2, 2];

fn code<T>(r: Result<T, Error>) -> Result<T, i32> {
    r.map_err(|e| e.code())
}

/// An ARP request for the gateway's address.
fn arp_request() -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&MAC);
    f.extend_from_slice(&[0x08, 0x06]);
    f.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    f.extend_from_slice(&MAC);
    f.extend_from_slice(&ME);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&GATEWAY);
    f
}

/// The next frame sent to `port`, if one comes within `wait`.
fn next_frame(ipc: &KernelIpc, port: PortName, wait: Duration) -> Option<Vec<u8>> {
    let opts = MsgOptions {
        rcv_timeout: Some(wait),
        ..MsgOptions::default()
    };
    let msg = ipc.receive_with(port, &opts).ok()?;
    match net_rcv::Call::decode(msg) {
        Ok((net_rcv::Call::net_rcv_msg { header, packet }, _)) => {
            frame_of_rcv_msg(&header, &packet)
        }
        Err(bad) => {
            println!("net-client: not a frame: id {}", bad.message.header.id);
            ipc.destroy_message(bad.message);
            None
        }
    }
}

/// Whether `frame` is the gateway's ARP reply to this machine.
fn is_gateway_reply(frame: &[u8]) -> bool {
    frame.len() >= 42
        && frame[..6] == MAC
        && frame[6..12] == GATEWAY_MAC
        && frame[12..14] == [0x08, 0x06]
        && frame[20..22] == [0, 2]
        && frame[22..28] == GATEWAY_MAC
        && frame[28..32] == GATEWAY
        && frame[32..38] == MAC
        && frame[38..42] == ME
}

/// Sends the ARP request; the gateway's reply as `port` receives it.
fn ask(
    ipc: &KernelIpc,
    eth: &device::Client<'_, KernelIpc>,
    port: PortName,
    step: u64,
) -> Result<Vec<u8>, u64> {
    check(
        step,
        "device_write of the ARP request",
        code(eth.device_write(
            0,
            0,
            OolItem {
                data: arp_request(),
                deallocate: false,
            },
        )),
        Ok(42),
    )?;
    let Some(frame) = next_frame(ipc, port, Duration::from_secs(5)) else {
        println!("net-client: no ARP reply");
        return Err(step + 1);
    };
    if !is_gateway_reply(&frame) {
        println!("net-client: not the gateway's reply: {frame:02x?}");
        return Err(step + 2);
    }
    Ok(frame)
}

fn main() -> u64 {
    kernel_test_programs::report::status(steps())
}

fn steps() -> Result<(), u64> {
    let ipc = KernelIpc::new();
    let master = device::Client::new(&ipc, hurd_rt::ports::SERVICE);
    let rw = D_READ | D_WRITE;
    check(
        1,
        "device_open of another name",
        code(master.device_open(rw, "eth1".to_string())),
        Err(D_NO_SUCH_DEVICE),
    )?;
    let dev = master.device_open(rw, "eth0".to_string()).map_err(|e| {
        println!("net-client: device_open eth0: {e:?}");
        2u64
    })?;
    let eth = device::Client::new(&ipc, dev.name);

    let status = code(eth.device_get_status(NET_STATUS, 7)).map_err(|c| {
        println!("net-client: NET_STATUS: {c}");
        3u64
    })?;
    let status = NetStatus::from_words(&status).ok_or(4u64)?;
    check(
        5,
        "NET_STATUS",
        (
            status.header_format,
            status.header_size,
            status.address_size,
            status.max_packet_size,
        ),
        (HDR_ETHERNET, 14, 6, ETHER_MAX_FRAME as i32),
    )?;
    let address = code(eth.device_get_status(NET_ADDRESS, 2)).map_err(|_| 6u64)?;
    check(
        7,
        "NET_ADDRESS",
        address_from_words(&address, 6),
        Some(MAC.to_vec()),
    )?;
    check(
        8,
        "NET_STATUS with room for 3 words",
        code(eth.device_get_status(NET_STATUS, 3)),
        Err(D_INVALID_OPERATION),
    )?;
    check(
        9,
        "another flavor",
        code(eth.device_get_status(0, 16)),
        Err(D_INVALID_OPERATION),
    )?;
    check(
        10,
        "device_read",
        code(eth.device_read(0, 0, 1514)).map(|_| ()),
        Err(D_INVALID_OPERATION),
    )?;

    // Refused filters.
    let port = ipc.port_allocate(RightType::Receive).map_err(|_| 11u64)?;
    let send = |name: PortName| PortItem {
        name,
        disposition: Disposition::MakeSend,
    };
    let arp = accept_ethertypes(NETF_IN, &[0x0806], 1514);
    let bad_jump = [NETF_IN | NETF_BPF, 0, 0, 0, 0x15, 9, 0, 0, 0x06, 0, 0, 0];
    let bad: [(&str, Vec<u16>); 5] = [
        ("an empty filter", vec![]),
        (
            "a filter without direction",
            accept_ethertypes(0, &[0x0806], 1514),
        ),
        ("an old-style filter", vec![NETF_IN, 1, 1]),
        ("a jump out of the program", bad_jump.to_vec()),
        ("a filter too long", vec![NETF_IN | NETF_BPF; 132]),
    ];
    for (what, filter) in bad {
        check(
            12,
            what,
            code(eth.device_set_filter(send(port), 0, filter)),
            Err(D_INVALID_OPERATION),
        )?;
    }
    check(
        13,
        "a filter on the master port",
        code(master.device_set_filter(send(port), 0, arp.clone())),
        Err(D_INVALID_OPERATION),
    )?;

    // Frames refused.
    for (what, len) in [("a short frame", 13usize), ("a long frame", 1515)] {
        check(
            14,
            what,
            code(eth.device_write_inband(0, 0, vec![0u8; len])),
            Err(D_INVALID_SIZE),
        )?;
    }

    // ARP, through the filter.
    check(
        15,
        "device_set_filter",
        code(eth.device_set_filter(send(port), 0, arp.clone())),
        Ok(()),
    )?;
    ask(&ipc, &eth, port, 16)?;
    println!("net-client: 10.0.2.2 is at 52:55:0a:00:02:02");

    // A filter of high priority takes the frames alone.
    let taker = ipc.port_allocate(RightType::Receive).map_err(|_| 20u64)?;
    check(
        21,
        "a filter of high priority",
        code(eth.device_set_filter(send(taker), NET_HI_PRI, arp.clone())),
        Ok(()),
    )?;
    ask(&ipc, &eth, taker, 22)?;
    check(
        25,
        "a frame for the first port while the other takes them",
        next_frame(&ipc, port, Duration::from_millis(300)).is_some(),
        false,
    )?;
    // Gone: its filter goes at the next frame, and the first port gets it.
    ipc.port_destroy(taker).map_err(|_| 26u64)?;
    ask(&ipc, &eth, port, 27)?;

    // A filter for the same port replaces its last one: nothing of ARP
    // any more.
    check(
        30,
        "a filter replacing the last",
        code(eth.device_set_filter(send(port), 0, accept_ethertypes(NETF_IN, &[0x88b5], 100))),
        Ok(()),
    )?;
    check(
        31,
        "device_write_inband of the ARP request",
        code(eth.device_write_inband(0, 0, arp_request())),
        Ok(42),
    )?;
    check(
        32,
        "a frame the filter refuses",
        next_frame(&ipc, port, Duration::from_millis(300)).is_some(),
        false,
    )?;
    check(33, "device_close", code(eth.device_close()), Ok(()))?;
    Ok(())
}
