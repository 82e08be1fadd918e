//! The server side of the null RPC benchmark: answers every request on
//! [`SERVICE`] with an empty reply (id + 100), replying and receiving the
//! next request in one `mach_msg` (with a receive timeout after id 2, which
//! keeps the kernel's straight path out of the way); exits on id 999.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use core::time::Duration;

use hurd_ipc::{Disposition, MsgBits, MsgHeader, PortName, wire};
use hurd_rt::msg;
use hurd_rt::ports::SERVICE;

hurd_rt::entry!(main);

fn main() -> u64 {
    let mut buf = [0u8; 256];
    let receive = msg::Options {
        receive: Some(SERVICE),
        ..msg::Options::default()
    };
    let mut received = msg::mach_msg(&mut buf, &receive);
    loop {
        let Ok(request) = received.and_then(|_| wire::peek_header(&buf)) else {
            return 1;
        };
        if request.id == 999 {
            return 0;
        }
        let reply = MsgHeader {
            bits: MsgBits::new(Disposition::MoveSendOnce, None),
            remote: request.remote,
            local: PortName::NULL,
            id: request.id + 100,
            ..MsgHeader::default()
        };
        let Ok(bytes) = wire::encode_header(&reply) else {
            return 2;
        };
        buf[..24].copy_from_slice(&bytes);
        // Id 2 measures the general path: a receive timeout keeps the
        // kernel's straight path out of it.
        let reply_and_receive = msg::Options {
            send: Some(24),
            receive: Some(SERVICE),
            receive_timeout: (request.id == 2).then_some(Duration::from_secs(60)),
            ..msg::Options::default()
        };
        received = msg::mach_msg(&mut buf, &reply_and_receive);
    }
}
