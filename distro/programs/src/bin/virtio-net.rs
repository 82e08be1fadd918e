//! `virtio-net`: the driver of a virtio network device (QEMU's
//! `virtio-net-pci`), a task serving it through Mach's device interface as
//! GNU Mach's network drivers do (and the Hurd's netdde and rumpnet, which
//! are tasks too).
//!
//! The device is reached through [`distro_programs::virtio`] (the kernel's
//! device master port: configuration space, registers, DMA memory). Its
//! receive buffers and its transmit buffer lie in DMA memory, so the
//! device reads and writes frames in place; its interrupt comes as a
//! `mach_intr_notify` message (`device_intr_register`), answered with
//! `device_intr_ack` once the frames that arrived are handed on. (If the
//! kernel refuses the registration the driver looks for frames every
//! [`POLL`] instead.)
//!
//! It serves, on the port it was started with (`SERVICE_PORT_NAME`),
//! `device_open(master, mode, "eth0")`, then on the device port:
//!
//! - `device_write`/`device_write_inband` of one Ethernet frame (14 to
//!   1514 bytes, else `D_INVALID_SIZE`; `D_IO_ERROR` if the device does
//!   not take it), sent at once; the answer is its length;
//! - `device_set_filter(port, priority, filter)`: from then on the frames
//!   the BPF program `filter` accepts (see `hurd_abi::net`) go to `port` as
//!   `net_rcv_msg` messages, received frames for `NETF_IN`, those sent for
//!   `NETF_OUT`; filters run highest priority first and one of priority
//!   `NET_HI_PRI` or more that accepts a frame takes it alone; a filter
//!   for a port that already has one replaces it; a port that is gone
//!   loses its filter at the next frame; a frame its port's queue has no
//!   room for is dropped for that port (a network does that too). A filter
//!   that is no valid BPF program is `D_INVALID_OPERATION`; more than
//!   [`MAX_FILTERS`] ports `D_NO_MEMORY`;
//! - `device_get_status` of `NET_STATUS` (7 words) and `NET_ADDRESS` (the
//!   MAC address), `D_INVALID_OPERATION` for a shorter answer's room or
//!   another flavor;
//! - `device_close`; reads are `D_INVALID_OPERATION` (frames come by
//!   filter), as on GNU Mach.
//!
//! Its argument: 0 to drive the first virtio network function on the bus.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use distro_programs::virtio::{self, KernelHal};
use hurd_abi::device::{
    D_INVALID_OPERATION, D_INVALID_SIZE, D_IO_ERROR, D_NO_MEMORY, D_NO_SUCH_DEVICE, device,
    mach_intr, net_rcv,
};
use hurd_abi::net::{
    ETHER_HEADER, ETHER_MAX_FRAME, Filter, HDR_ETHERNET, IFF_BROADCAST, IFF_RUNNING, IFF_UP,
    NET_ADDRESS, NET_HI_PRI, NET_STATUS, NET_STATUS_COUNT, NetStatus, address_to_words,
    rcv_msg_parts,
};
use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::user::{MachMsgError, MsgOptions};
use hurd_ipc::{Disposition, Error, MsgReturn, OolItem, PortItem, PortName, RightType, UserIpc};
use hurd_rt::{KernelIpc, println};
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::pci::PciTransport;

hurd_rt::entry!(main);

/// The name clients open.
const DEVICE_NAME: &str = "eth0";
/// Receive buffers (the receive queue's size).
const QUEUE: usize = 16;
/// One buffer: the virtio header and the longest frame fit.
const BUFFER: usize = 2048;
/// The most ports with filters.
const MAX_FILTERS: usize = 64;
/// How often frames are looked for when there is no interrupt.
const POLL: Duration = Duration::from_millis(10);
/// How many times a transmission's completion is looked for before the
/// frame counts as lost.
const TX_SPINS: u32 = 1 << 24;
/// Nothing else runs in this task, so the bounce area (for buffers outside
/// DMA memory, which this driver does not use) is small.
const BOUNCE_SIZE: usize = 4096;

type Net = VirtIONetRaw<KernelHal, PciTransport, QUEUE>;

/// A port's filter.
struct Client {
    port: PortName,
    priority: i32,
    filter: Filter,
}

/// The network device being served.
struct Driver {
    net: RefCell<Net>,
    /// The receive buffers in the queue, by token.
    rx: RefCell<Vec<Option<&'static mut [u8]>>>,
    /// The transmit buffer.
    tx: RefCell<&'static mut [u8]>,
    /// The port `device_open` goes to.
    master: PortName,
    /// The device port it gives.
    device: PortName,
    mac: [u8; 6],
    /// Highest priority first; equal priorities in the order they came.
    clients: RefCell<Vec<Client>>,
}

fn code(c: i32) -> Error {
    Error::Code(c)
}

impl Driver {
    /// Hands `frame` to each port whose filter (of that direction) takes
    /// it.
    fn deliver(&self, frame: &[u8], incoming: bool) {
        let ipc = KernelIpc::new();
        let opts = MsgOptions {
            send_timeout: Some(Duration::ZERO),
            ..MsgOptions::default()
        };
        let mut gone = Vec::new();
        for client in self.clients.borrow().iter() {
            let sees = if incoming {
                client.filter.incoming()
            } else {
                client.filter.outgoing()
            };
            if !sees {
                continue;
            }
            let keep = client.filter.run(frame) as usize;
            let Some((header, packet)) = rcv_msg_parts(frame, keep) else {
                continue;
            };
            let msg = net_rcv::Call::net_rcv_msg { header, packet }
                .encode(client.port, Disposition::CopySend);
            // A full queue loses this frame for this port; a port that is
            // gone loses its filter.
            if let Err(MachMsgError::Send(err)) = ipc.mach_msg(Some(msg), None, &opts) {
                ipc.destroy_message(err.message);
                if err.code == MsgReturn::SendInvalidDest {
                    gone.push(client.port);
                    continue;
                }
            }
            // Taken alone by a live port of high priority.
            if client.priority >= NET_HI_PRI {
                break;
            }
        }
        if !gone.is_empty() {
            self.clients.borrow_mut().retain(|c| {
                if gone.contains(&c.port) {
                    let _ = ipc.port_deallocate(c.port);
                    false
                } else {
                    true
                }
            });
        }
    }

    /// Hands on every frame received, and gives its buffer back to the
    /// device.
    fn drain(&self) {
        loop {
            let mut net = self.net.borrow_mut();
            let Some(token) = net.poll_receive() else {
                return;
            };
            let mut rx = self.rx.borrow_mut();
            let Some(buffer) = rx.get_mut(usize::from(token)).and_then(Option::take) else {
                println!("virtio-net: the device completed an unknown buffer {token}");
                return;
            };
            // SAFETY: `buffer` is the one given with this token.
            let got = unsafe { net.receive_complete(token, buffer) };
            let frame = got
                .ok()
                .and_then(|(header, len)| buffer.get(header..header + len));
            let frame: Option<Vec<u8>> = frame.map(<[u8]>::to_vec);
            // SAFETY: the buffer is DMA memory this driver keeps for the
            // device alone until it is completed again.
            match unsafe { net.receive_begin(buffer) } {
                Ok(t) => {
                    if let Some(slot) = rx.get_mut(usize::from(t)) {
                        *slot = Some(buffer);
                    }
                }
                Err(err) => println!("virtio-net: a receive buffer refused: {err:?}"),
            }
            drop((net, rx));
            if let Some(frame) = frame.filter(|f| f.len() >= ETHER_HEADER) {
                self.deliver(&frame, true);
            }
        }
    }

    /// Sends one frame; its length.
    fn transmit(&self, req: &Request, frame: &[u8]) -> Result<i32, Error> {
        if req.port != self.device {
            return Err(code(D_INVALID_OPERATION));
        }
        if !(ETHER_HEADER..=ETHER_MAX_FRAME).contains(&frame.len()) {
            return Err(code(D_INVALID_SIZE));
        }
        {
            let mut net = self.net.borrow_mut();
            let mut tx = self.tx.borrow_mut();
            let header = net
                .fill_buffer_header(&mut tx[..])
                .map_err(|_| code(D_IO_ERROR))?;
            let len = header + frame.len();
            tx[header..len].copy_from_slice(frame);
            // SAFETY: the transmit buffer is DMA memory, untouched until the
            // device completes it below.
            let token = unsafe { net.transmit_begin(&tx[..len]) }.map_err(|_| code(D_IO_ERROR))?;
            let mut spins = 0u32;
            while net.poll_transmit() != Some(token) {
                spins += 1;
                if spins == TX_SPINS {
                    println!("virtio-net: a frame was never sent");
                    return Err(code(D_IO_ERROR));
                }
                core::hint::spin_loop();
            }
            // SAFETY: the buffer given with this token.
            unsafe { net.transmit_complete(token, &tx[..len]) }.map_err(|_| code(D_IO_ERROR))?;
        }
        self.deliver(frame, false);
        Ok(frame.len() as i32)
    }
}

impl device::Server for Driver {
    fn device_open(&self, req: &Request, _mode: u32, name: String) -> Result<PortItem, Error> {
        if req.port != self.master {
            return Err(code(D_INVALID_OPERATION));
        }
        if name != DEVICE_NAME {
            return Err(code(D_NO_SUCH_DEVICE));
        }
        Ok(PortItem {
            name: self.device,
            disposition: Disposition::MakeSend,
        })
    }

    fn device_close(&self, req: &Request) -> Result<(), Error> {
        if req.port != self.device {
            return Err(code(D_INVALID_OPERATION));
        }
        Ok(())
    }

    fn device_write(
        &self,
        req: &Request,
        _mode: u32,
        _recnum: u32,
        data: OolItem,
    ) -> Result<i32, Error> {
        self.transmit(req, &data.data)
    }

    fn device_write_inband(
        &self,
        req: &Request,
        _mode: u32,
        _recnum: u32,
        data: Vec<u8>,
    ) -> Result<i32, Error> {
        self.transmit(req, &data)
    }

    fn device_read(
        &self,
        _req: &Request,
        _mode: u32,
        _recnum: u32,
        _bytes_wanted: i32,
    ) -> Result<OolItem, Error> {
        Err(code(D_INVALID_OPERATION))
    }

    fn device_read_inband(
        &self,
        _req: &Request,
        _mode: u32,
        _recnum: u32,
        _bytes_wanted: i32,
    ) -> Result<Vec<u8>, Error> {
        Err(code(D_INVALID_OPERATION))
    }

    fn device_set_status(
        &self,
        _req: &Request,
        _flavor: u32,
        _status: Vec<u32>,
    ) -> Result<(), Error> {
        Err(code(D_INVALID_OPERATION))
    }

    fn device_get_status(&self, req: &Request, flavor: u32, count: u32) -> Result<Vec<u32>, Error> {
        if req.port != self.device {
            return Err(code(D_INVALID_OPERATION));
        }
        let status = match flavor {
            NET_STATUS => NetStatus {
                min_packet_size: ETHER_HEADER as i32,
                max_packet_size: ETHER_MAX_FRAME as i32,
                header_format: HDR_ETHERNET,
                header_size: ETHER_HEADER as i32,
                address_size: 6,
                flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING,
                mapped_size: 0,
            }
            .to_words()
            .to_vec(),
            NET_ADDRESS => address_to_words(&self.mac),
            _ => return Err(code(D_INVALID_OPERATION)),
        };
        if (count as usize) < status.len() {
            return Err(code(D_INVALID_OPERATION));
        }
        debug_assert_eq!(NET_STATUS_COUNT, 7);
        Ok(status)
    }

    fn device_set_filter(
        &self,
        req: &Request,
        receive_port: PortItem,
        priority: i32,
        filter: Vec<u16>,
    ) -> Result<(), Error> {
        let ipc = KernelIpc::new();
        let refuse = |c: i32| {
            if receive_port.name.is_valid() {
                let _ = ipc.port_deallocate(receive_port.name);
            }
            Err(code(c))
        };
        if req.port != self.device || !receive_port.name.is_valid() {
            return refuse(D_INVALID_OPERATION);
        }
        let Ok(filter) = Filter::parse(&filter) else {
            return refuse(D_INVALID_OPERATION);
        };
        let mut clients = self.clients.borrow_mut();
        if let Some(i) = clients.iter().position(|c| c.port == receive_port.name) {
            // The same port again: the new filter replaces the old, and the
            // reference that came with it goes.
            clients.remove(i);
            let _ = ipc.port_deallocate(receive_port.name);
        } else if clients.len() >= MAX_FILTERS {
            drop(clients);
            return refuse(D_NO_MEMORY);
        }
        let at = clients
            .iter()
            .position(|c| c.priority < priority)
            .unwrap_or(clients.len());
        clients.insert(
            at,
            Client {
                port: receive_port.name,
                priority,
                filter,
            },
        );
        Ok(())
    }

    fn device_intr_register(
        &self,
        _req: &Request,
        _id: i32,
        _flags: i32,
        port: PortItem,
    ) -> Result<(), Error> {
        let _ = KernelIpc::new().port_deallocate(port.name);
        Err(code(D_INVALID_OPERATION))
    }

    fn device_intr_ack(&self, _req: &Request, port: PortItem) -> Result<(), Error> {
        let _ = KernelIpc::new().port_deallocate(port.name);
        Err(code(D_INVALID_OPERATION))
    }
}

/// Finds the network device and sets it up: the driver, its function's
/// port and interrupt line.
fn start(
    ipc: &KernelIpc,
    master: PortName,
    device: PortName,
) -> Result<(Driver, PortName, u8), String> {
    let opened = virtio::open(
        ipc,
        |f| f.vendor == 0x1af4 && (f.device == 0x1000 || f.device == 0x1041),
        BOUNCE_SIZE,
    )?;
    let mut net = Net::new(opened.transport).map_err(|e| alloc::format!("virtio-net: {e:?}"))?;
    let memory = virtio::dma_buffer((QUEUE + 1) * BUFFER).ok_or("no DMA memory for frames")?;
    let (rx_memory, tx) = memory.split_at_mut(QUEUE * BUFFER);
    let mut rx: Vec<Option<&'static mut [u8]>> = (0..QUEUE).map(|_| None).collect();
    for buffer in rx_memory.chunks_exact_mut(BUFFER) {
        // SAFETY: DMA memory kept for the device alone until completed.
        let token = unsafe { net.receive_begin(buffer) }
            .map_err(|e| alloc::format!("a receive buffer: {e:?}"))?;
        match rx.get_mut(usize::from(token)) {
            Some(slot) => *slot = Some(buffer),
            None => return Err(alloc::format!("receive token {token} out of range")),
        }
    }
    let mac = net.mac_address();
    let driver = Driver {
        net: RefCell::new(net),
        rx: RefCell::new(rx),
        tx: RefCell::new(&mut tx[..BUFFER]),
        master,
        device,
        mac,
        clients: RefCell::new(Vec::new()),
    };
    Ok((driver, opened.port, opened.function.irq_line))
}

fn main() -> u64 {
    let ipc = KernelIpc::new();
    let master = PortName(hurd_abi::SERVICE_PORT_NAME);
    let ports = (|| {
        let device = ipc.port_allocate(RightType::Receive)?;
        let intr = ipc.port_allocate(RightType::Receive)?;
        let set = ipc.port_allocate(RightType::PortSet)?;
        ipc.port_move_member(master, set)?;
        ipc.port_move_member(device, set)?;
        ipc.port_move_member(intr, set)?;
        Ok::<_, hurd_ipc::KernReturn>((device, intr, set))
    })();
    let Ok((device, intr, set)) = ports else {
        println!("virtio-net: no service port");
        return 2;
    };
    let (driver, function, line) = match start(&ipc, master, device) {
        Ok(started) => started,
        Err(why) => {
            println!("virtio-net: {why}");
            return 1;
        }
    };
    let notify = || PortItem {
        name: intr,
        disposition: Disposition::MakeSend,
    };
    let pci = device::Client::new(&ipc, function);
    let poll = match pci.device_intr_register(i32::from(line), 0, notify()) {
        Ok(()) => None,
        Err(err) => {
            println!("virtio-net: no interrupt ({err:?}); looking for frames every {POLL:?}");
            Some(POLL)
        }
    };
    let m = driver.mac;
    println!(
        "virtio-net: {DEVICE_NAME}: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, interrupt {line}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
    driver.drain();
    let opts = MsgOptions {
        rcv_timeout: poll,
        ..MsgOptions::default()
    };
    loop {
        let msg = match ipc.receive_with(set, &opts) {
            Ok(msg) => msg,
            Err(err) if err.code == MsgReturn::RcvTimedOut => {
                driver.drain();
                continue;
            }
            Err(err) => {
                println!("virtio-net: receive failed: {:?}", err.code);
                return 3;
            }
        };
        if msg.header.local == intr {
            let ours = msg.header.id == mach_intr::id::mach_intr_notify;
            ipc.destroy_message(msg);
            if ours {
                driver.net.borrow_mut().ack_interrupt();
                driver.drain();
                if let Err(err) = pci.device_intr_ack(notify()) {
                    println!("virtio-net: device_intr_ack: {err:?}");
                }
            }
            continue;
        }
        let reply = match device::demux(&driver, &ipc, msg) {
            Dispatch::Reply(reply) => Some(reply),
            Dispatch::NoReply => None,
            Dispatch::NotMine(msg) => match hurd_ipc::mig::bad_id(&ipc, msg) {
                Dispatch::Reply(reply) => Some(reply),
                _ => None,
            },
        };
        if let Some(reply) = reply {
            let _ = hurd_ipc::mig::send_reply(&ipc, reply);
        }
    }
}
