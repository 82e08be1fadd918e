//! A disk as a store: a device opened through Mach's device interface
//! (`device.defs`, see [`hurd_abi::device`]) — on a driver's device master
//! port, as the distro's `virtio-blk` serves one — read and written at any
//! byte offset, as the Hurd's libstore does for its `device` store type.
//!
//! A [`DeviceStore`] is a hurd-trans [`BlockDevice`]: `storeio` serves it
//! as a file, and the ext2 translator can live on it.
//!
//! Transfers go in whole records (the device's unit, from
//! `device_get_status(DEV_GET_RECORDS)`), at most [`MAX_TRANSFER`] bytes a
//! request; a write that covers part of a record reads the record first.
//! The device's `D_*` codes become errnos ([`errno_of`]).
//!
//! A driver that is gone — the device port a dead name, or the driver
//! ended holding the request (`MIG_SERVER_DIED`) — is `EIO`, unless the
//! store knows where to ask for the device again
//! ([`DeviceStore::reopen_through`]): a bootstrap port whose owner, the
//! parent that started the driver, starts it again when it ends and hands
//! out its new master port on `fsys_getpriv` (as the Hurd's file systems
//! get their device master port from their bootstrap port through the C
//! library's `get_privileged_ports`). The store then opens the device by
//! its name on the new master port and sends the request there once more;
//! only when that fails is the request `EIO`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hurd_abi::device::{
    D_ALREADY_OPEN, D_DEVICE_DOWN, D_INVALID_OPERATION, D_INVALID_RECNUM, D_INVALID_SIZE,
    D_IO_ERROR, D_NO_MEMORY, D_NO_SUCH_DEVICE, D_READ, D_READ_ONLY, D_WOULD_BLOCK, D_WRITE,
    DEV_GET_RECORDS, device,
};
use hurd_ipc::{Errno, Error, MigReturn, MsgReturn, OolItem, PortName, UserIpc};
use hurd_trans::protocol::fsys;
use hurd_trans::translators::ext2::device::BlockDevice;

/// The most bytes one `device_read` or `device_write` asks for (what the
/// distro's drivers take in one request).
pub const MAX_TRANSFER: usize = 64 * 1024;

/// The errno for a device's `D_*` code (Mach's device errors), or for a
/// failed message (a driver that is gone): `EIO` for anything else.
pub fn errno_of(err: Error) -> Errno {
    match err {
        Error::Code(D_NO_SUCH_DEVICE | D_DEVICE_DOWN) => Errno::NxIo,
        Error::Code(D_ALREADY_OPEN) => Errno::Busy,
        Error::Code(D_WOULD_BLOCK) => Errno::Again,
        Error::Code(D_INVALID_OPERATION) => Errno::OpNotSupp,
        Error::Code(D_INVALID_RECNUM | D_INVALID_SIZE) => Errno::Inval,
        Error::Code(D_NO_MEMORY) => Errno::NoMem,
        Error::Code(D_READ_ONLY) => Errno::RoFs,
        Error::Code(D_IO_ERROR) => Errno::Io,
        other => Errno::of(other).unwrap_or(Errno::Io),
    }
}

/// Whether `err`, the failure of a request to a driver, says the driver
/// is gone: the port a dead name (`MACH_SEND_INVALID_DEST`), or the driver
/// ended before it answered (`MIG_SERVER_DIED`).
pub fn driver_gone(err: Error) -> bool {
    matches!(
        err,
        Error::Msg(MsgReturn::SendInvalidDest) | Error::Mig(MigReturn::ServerDied)
    )
}

/// A device opened on a device master port. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct DeviceStore<I: UserIpc> {
    ipc: I,
    /// The device port (a send right this store holds).
    device: PortName,
    /// The device's name on its driver (`vd0`).
    name: String,
    /// Bytes per record.
    record: u32,
    /// Records on the device (as many as a 32-bit record number reaches).
    records: u64,
    readonly: bool,
    /// Where to ask for the driver's master port when the driver is gone
    /// (a send right this store does not own), or null.
    bootstrap: PortName,
}

/// Opens `name` on `master` with `mode`: the device port, its records and
/// record size.
fn open_device<I: UserIpc>(
    ipc: &I,
    master: PortName,
    name: &str,
    mode: u32,
) -> Result<(PortName, u64, u32), Errno> {
    let device = device::Client::new(ipc, master)
        .device_open(mode, name.to_string())
        .map_err(errno_of)?
        .name;
    let status = device::Client::new(ipc, device).device_get_status(DEV_GET_RECORDS, 2);
    match status.as_deref() {
        Ok(&[records, record, ..]) if record > 0 => Ok((device, u64::from(records), record)),
        Ok(_) => {
            let _ = ipc.port_deallocate(device);
            Err(Errno::Io)
        }
        Err(&e) => {
            let _ = ipc.port_deallocate(device);
            Err(errno_of(e))
        }
    }
}

impl<I: UserIpc> DeviceStore<I> {
    /// Opens the device `name` (`vd0`) on `master` for reading, and for
    /// writing unless `readonly`, and learns its size.
    ///
    /// # Errors
    ///
    /// `device_open`'s or `device_get_status`'s error as an errno
    /// ([`errno_of`]: `ENXIO` for no such device); `EIO` when the device
    /// reports a record size of zero.
    pub fn open(ipc: I, master: PortName, name: &str, readonly: bool) -> Result<Self, Errno> {
        let (device, records, record) = open_device(&ipc, master, name, Self::mode(readonly))?;
        Ok(DeviceStore {
            ipc,
            device,
            name: name.to_string(),
            record,
            records,
            readonly,
            bootstrap: PortName::NULL,
        })
    }

    /// When the driver is gone, asks `bootstrap` (`fsys_getpriv`) for the
    /// device master port of the driver started again, and opens the
    /// device there: see the [module documentation](self). The store uses
    /// `bootstrap` (a send right) without taking it over.
    #[must_use]
    pub fn reopen_through(mut self, bootstrap: PortName) -> Self {
        self.bootstrap = bootstrap;
        self
    }

    fn mode(readonly: bool) -> u32 {
        if readonly { D_READ } else { D_READ | D_WRITE }
    }

    /// Opens the device again on the master port the bootstrap port hands
    /// out now; the same size is required.
    fn reopen(&mut self) -> Result<(), Errno> {
        if !self.bootstrap.is_valid() {
            return Err(Errno::Io);
        }
        let (host, master, task) = fsys::Client::new(&self.ipc, self.bootstrap)
            .getpriv()
            .map_err(|_| Errno::Io)?;
        for p in [host.name, task.name] {
            if p.is_valid() {
                let _ = self.ipc.port_deallocate(p);
            }
        }
        if !master.name.is_valid() {
            return Err(Errno::Io);
        }
        let opened = open_device(
            &self.ipc,
            master.name,
            &self.name,
            Self::mode(self.readonly),
        );
        let _ = self.ipc.port_deallocate(master.name);
        let (device, records, record) = opened?;
        if (records, record) != (self.records, self.record) {
            let _ = device::Client::new(&self.ipc, device).device_close();
            let _ = self.ipc.port_deallocate(device);
            return Err(Errno::Io);
        }
        let _ = self.ipc.port_deallocate(self.device);
        self.device = device;
        Ok(())
    }

    /// Sends a request to the device (`call`); once more on the device
    /// opened again when the driver is gone and the store can reopen it.
    fn on_device<R>(
        &mut self,
        call: impl Fn(&device::Client<'_, I>) -> Result<R, Error>,
    ) -> Result<R, Errno> {
        match call(&device::Client::new(&self.ipc, self.device)) {
            Err(e) if driver_gone(e) && self.bootstrap.is_valid() => {
                self.reopen()?;
                call(&device::Client::new(&self.ipc, self.device)).map_err(errno_of)
            }
            r => r.map_err(errno_of),
        }
    }

    /// Bytes per record (the device's block size).
    pub fn record_size(&self) -> u32 {
        self.record
    }

    /// Whether it was opened read-only.
    pub fn readonly(&self) -> bool {
        self.readonly
    }

    /// The records covering `len` bytes at `offset`: the first record's
    /// number and the count, checked to lie on the device.
    fn records_of(&self, offset: u64, len: usize) -> Result<(u64, u64), Errno> {
        let end = offset.checked_add(len as u64).ok_or(Errno::Io)?;
        if end > self.size() {
            return Err(Errno::Io);
        }
        let r = u64::from(self.record);
        let first = offset / r;
        Ok((first, end.div_ceil(r) - first))
    }

    /// Reads `count` whole records from `first` into `out`.
    fn read_records(&mut self, first: u64, count: u64, out: &mut Vec<u8>) -> Result<(), Errno> {
        let per = (MAX_TRANSFER / self.record as usize).max(1) as u64;
        let mut at = first;
        while at < first + count {
            let n = per.min(first + count - at);
            let bytes = (n * u64::from(self.record)) as usize;
            let recnum = u32::try_from(at).map_err(|_| Errno::Io)?;
            let data = self
                .on_device(|d| d.device_read(0, recnum, bytes as i32))?
                .data;
            if data.len() != bytes {
                return Err(Errno::Io);
            }
            out.extend_from_slice(&data);
            at += n;
        }
        Ok(())
    }

    /// Writes `data` (whole records) at record `first`.
    fn write_records(&mut self, first: u64, data: &[u8]) -> Result<(), Errno> {
        let per = (MAX_TRANSFER / self.record as usize).max(1) * self.record as usize;
        for (i, chunk) in data.chunks(per).enumerate() {
            let at = first + (i * per / self.record as usize) as u64;
            let recnum = u32::try_from(at).map_err(|_| Errno::Io)?;
            let written = self.on_device(|d| {
                let ool = OolItem {
                    data: chunk.to_vec(),
                    deallocate: false,
                };
                d.device_write(0, recnum, ool)
            })?;
            if usize::try_from(written).ok() != Some(chunk.len()) {
                return Err(Errno::Io);
            }
        }
        Ok(())
    }
}

impl<I: UserIpc> Drop for DeviceStore<I> {
    fn drop(&mut self) {
        let _ = device::Client::new(&self.ipc, self.device).device_close();
        let _ = self.ipc.port_deallocate(self.device);
    }
}

impl<I: UserIpc> BlockDevice for DeviceStore<I> {
    fn size(&self) -> u64 {
        // A record number is 32 bits: what lies beyond is unreachable.
        self.records.min(1 << 32) * u64::from(self.record)
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        if buf.is_empty() {
            return Ok(());
        }
        let (first, count) = self.records_of(offset, buf.len())?;
        let mut data = Vec::new();
        self.read_records(first, count, &mut data)?;
        let skip = (offset - first * u64::from(self.record)) as usize;
        let got = data.get(skip..skip + buf.len()).ok_or(Errno::Io)?;
        buf.copy_from_slice(got);
        Ok(())
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Errno> {
        if self.readonly {
            return Err(Errno::RoFs);
        }
        if buf.is_empty() {
            return Ok(());
        }
        let (first, count) = self.records_of(offset, buf.len())?;
        let r = u64::from(self.record);
        let skip = (offset - first * r) as usize;
        if skip == 0 && buf.len() as u64 == count * r {
            return self.write_records(first, buf);
        }
        // Part of a record is covered: its other bytes stay as they are.
        let mut data = Vec::new();
        if skip != 0 {
            self.read_records(first, 1, &mut data)?;
        }
        let last = first + count - 1;
        let mut tail = Vec::new();
        if !(offset + buf.len() as u64).is_multiple_of(r) && (last != first || skip == 0) {
            self.read_records(last, 1, &mut tail)?;
        }
        data.resize((count * r) as usize, 0);
        if !tail.is_empty() {
            let at = data.len() - tail.len();
            data[at..].copy_from_slice(&tail);
        }
        data[skip..skip + buf.len()].copy_from_slice(buf);
        self.write_records(first, &data)
    }
}

/// What `storeio`'s command line asks for: `[-r|--readonly] [-w|--writable]
/// [-T device|--store-type=device] [device:]NAME`, as the Hurd's storeio
/// takes it (the only store type here is `device`, its default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreArgs {
    /// The device's name (`vd0`).
    pub name: alloc::string::String,
    /// Whether writes are refused.
    pub readonly: bool,
}

/// Reads `storeio`'s arguments (after the program's name).
///
/// # Errors
///
/// `EINVAL` for an unknown option, a store type other than `device`, no
/// name or more than one.
pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Result<StoreArgs, Errno> {
    let mut readonly = false;
    let mut name = None;
    let mut args = args.iter().map(AsRef::as_ref);
    while let Some(arg) = args.next() {
        let kind = match arg {
            "-r" | "--readonly" => {
                readonly = true;
                continue;
            }
            "-w" | "--writable" => {
                readonly = false;
                continue;
            }
            "-T" | "--store-type" => args.next(),
            _ => arg.strip_prefix("--store-type="),
        };
        if let Some(kind) = kind {
            if kind != "device" {
                return Err(Errno::Inval);
            }
            continue;
        }
        if arg.starts_with('-') || name.is_some() {
            return Err(Errno::Inval);
        }
        let arg = arg.strip_prefix("device:").unwrap_or(arg);
        if arg.is_empty() {
            return Err(Errno::Inval);
        }
        name = Some(arg.to_string());
    }
    Ok(StoreArgs {
        name: name.ok_or(Errno::Inval)?,
        readonly,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use std::sync::Mutex;

    use alloc::string::String;
    use hurd_ipc::hosted::{Runtime, Task};
    use hurd_ipc::mig::Request;
    use hurd_ipc::{Disposition, PortItem, RightType};
    use proptest::prelude::*;

    extern crate std;

    /// A disk of 512-byte records served through device.defs, as the
    /// distro's virtio-blk serves one (at most 64 KiB a request).
    struct Disk {
        bytes: Mutex<Vec<u8>>,
        device: PortName,
        readonly: bool,
        /// Requests served.
        requests: Mutex<usize>,
    }

    impl Disk {
        fn span(&self, req: &Request, recnum: u32, len: usize) -> Result<usize, Error> {
            *self.requests.lock().unwrap() += 1;
            let size = self.bytes.lock().unwrap().len();
            if req.port != self.device {
                return Err(Error::Code(D_INVALID_OPERATION));
            }
            if len == 0 || !len.is_multiple_of(512) || len > MAX_TRANSFER {
                return Err(Error::Code(D_INVALID_SIZE));
            }
            let at = recnum as usize * 512;
            if at >= size {
                return Err(Error::Code(D_INVALID_RECNUM));
            }
            Ok(at)
        }
    }

    impl device::Server for Disk {
        fn device_open(&self, _: &Request, _: u32, name: String) -> Result<PortItem, Error> {
            if name != "vd0" {
                return Err(Error::Code(D_NO_SUCH_DEVICE));
            }
            Ok(PortItem {
                name: self.device,
                disposition: Disposition::MakeSend,
            })
        }
        fn device_close(&self, _: &Request) -> Result<(), Error> {
            Ok(())
        }
        fn device_write(
            &self,
            req: &Request,
            _: u32,
            rec: u32,
            data: OolItem,
        ) -> Result<i32, Error> {
            self.device_write_inband(req, 0, rec, data.data)
        }
        fn device_write_inband(
            &self,
            req: &Request,
            _: u32,
            rec: u32,
            data: Vec<u8>,
        ) -> Result<i32, Error> {
            let at = self.span(req, rec, data.len())?;
            if self.readonly {
                return Err(Error::Code(D_READ_ONLY));
            }
            let mut bytes = self.bytes.lock().unwrap();
            let end = (at + data.len()).min(bytes.len());
            bytes[at..end].copy_from_slice(&data[..end - at]);
            Ok((end - at) as i32)
        }
        fn device_read(&self, req: &Request, _: u32, rec: u32, n: i32) -> Result<OolItem, Error> {
            let data = self.device_read_inband(req, 0, rec, n)?;
            Ok(OolItem {
                data,
                deallocate: true,
            })
        }
        fn device_read_inband(
            &self,
            req: &Request,
            _: u32,
            rec: u32,
            n: i32,
        ) -> Result<Vec<u8>, Error> {
            let n = usize::try_from(n).map_err(|_| Error::Code(D_INVALID_SIZE))?;
            let at = self.span(req, rec, n)?;
            let bytes = self.bytes.lock().unwrap();
            Ok(bytes[at..(at + n).min(bytes.len())].to_vec())
        }
        fn device_set_filter(
            &self,
            _: &Request,
            _: PortItem,
            _: i32,
            _: Vec<u16>,
        ) -> Result<(), Error> {
            Err(Error::Code(D_INVALID_OPERATION))
        }
        fn device_set_status(&self, _: &Request, _: u32, _: Vec<u32>) -> Result<(), Error> {
            Err(Error::Code(D_INVALID_OPERATION))
        }
        fn device_get_status(&self, _: &Request, flavor: u32, _: u32) -> Result<Vec<u32>, Error> {
            let records = (self.bytes.lock().unwrap().len() / 512) as u32;
            match flavor {
                DEV_GET_RECORDS => Ok(alloc::vec![records, 512]),
                _ => Err(Error::Code(D_INVALID_OPERATION)),
            }
        }
        fn device_intr_register(
            &self,
            _: &Request,
            _: i32,
            _: i32,
            _: PortItem,
        ) -> Result<(), Error> {
            Err(Error::Code(D_INVALID_OPERATION))
        }
        fn device_intr_ack(&self, _: &Request, _: PortItem) -> Result<(), Error> {
            Err(Error::Code(D_INVALID_OPERATION))
        }
    }

    /// A client task with a send right to a disk's master port holding
    /// `bytes`, its server on a thread of its own; the disk, to look at.
    fn disk(bytes: Vec<u8>, readonly: bool) -> (Task, PortName, std::sync::Arc<Disk>, Task) {
        let rt = Runtime::new();
        let client = rt.task();
        let (sent, d, server) = disk_for(&rt, &client, bytes, readonly);
        (client, sent, d, server)
    }

    /// A disk holding `bytes` served by a task of `rt`'s: a send right to
    /// its master port in `client`'s space, the disk, its server.
    fn disk_for(
        rt: &Runtime,
        client: &Task,
        bytes: Vec<u8>,
        readonly: bool,
    ) -> (PortName, std::sync::Arc<Disk>, Task) {
        let server = rt.task();
        let master = server.port_allocate(RightType::Receive).unwrap();
        let device = server.port_allocate(RightType::Receive).unwrap();
        let set = server.port_allocate(RightType::PortSet).unwrap();
        server.port_move_member(master, set).unwrap();
        server.port_move_member(device, set).unwrap();
        let sent = server
            .give_right(master, Disposition::MakeSend, client)
            .unwrap();
        let d = std::sync::Arc::new(Disk {
            bytes: Mutex::new(bytes),
            device,
            readonly,
            requests: Mutex::new(0),
        });
        let (s, served) = (server.clone(), d.clone());
        std::thread::spawn(move || device::serve(&*served, &s, set));
        (sent, d, server)
    }

    /// A parent task answering `fsys_getpriv` on a bootstrap port with
    /// `master` (a send right in its space; null for none), or with
    /// `EOPNOTSUPP` when `refuse`; the bootstrap port as `client` names it.
    fn parent(parent: &Task, master: PortName, refuse: bool, client: &Task) -> PortName {
        let boot = parent.port_allocate(RightType::Receive).unwrap();
        let sent = parent
            .give_right(boot, Disposition::MakeSend, client)
            .unwrap();
        let p = parent.clone();
        std::thread::spawn(move || {
            while let Ok(msg) = p.receive(boot) {
                let Ok((fsys::Call::getpriv {}, req)) = fsys::Call::decode(msg) else {
                    continue;
                };
                let item = |name| PortItem {
                    name,
                    disposition: Disposition::CopySend,
                };
                let answer = match refuse {
                    true => Err(Error::from(Errno::OpNotSupp)),
                    false => Ok((item(PortName::NULL), item(master), item(PortName::NULL))),
                };
                let _ = fsys::reply::getpriv(&p, &req, answer);
            }
        });
        sent
    }

    /// A store on a first disk whose driver then ends, its bootstrap port
    /// handing out a second disk's master port (`bytes`) or none; the
    /// store, the second disk, the tasks to keep.
    fn restarted(
        second: Option<Vec<u8>>,
        refuse: bool,
    ) -> (DeviceStore<Task>, Option<std::sync::Arc<Disk>>, Vec<Task>) {
        let rt = Runtime::new();
        let client = rt.task();
        let init = rt.task();
        let (first, gone, first_server) = disk_for(&rt, &client, pattern(4096), false);
        let mut keep = alloc::vec![first_server.clone(), init.clone()];
        let (master, second) = match second {
            Some(bytes) => {
                let (m, d, server) = disk_for(&rt, &init, bytes, false);
                keep.push(server);
                (m, Some(d))
            }
            None => (PortName::NULL, None),
        };
        let boot = parent(&init, master, refuse, &client);
        let store = DeviceStore::open(client, first, "vd0", false)
            .unwrap()
            .reopen_through(boot);
        first_server.port_destroy(gone.device).unwrap();
        (store, second, keep)
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 253) as u8).collect()
    }

    #[test]
    fn opens_and_sizes_a_device() {
        let (client, master, _disk, _server) = disk(pattern(8192), false);
        let store = DeviceStore::open(client.clone(), master, "vd0", false).unwrap();
        assert_eq!((store.size(), store.record_size()), (8192, 512));
        assert_eq!(
            DeviceStore::open(client, master, "vd1", false).map(drop),
            Err(Errno::NxIo)
        );
    }

    #[test]
    fn transfers_go_in_requests_the_driver_takes() {
        let (client, master, disk, _server) = disk(pattern(512 * 1024), false);
        let mut store = DeviceStore::open(client, master, "vd0", false).unwrap();
        let before = *disk.requests.lock().unwrap();
        let mut buf = alloc::vec![0; 200 * 1024];
        store.read_at(1000, &mut buf).unwrap();
        assert_eq!(buf, pattern(512 * 1024)[1000..1000 + 200 * 1024]);
        // 401 records, 128 a request.
        assert_eq!(*disk.requests.lock().unwrap() - before, 4);
        let mut past = [0; 2];
        assert_eq!(store.read_at(512 * 1024 - 1, &mut past), Err(Errno::Io));
        assert_eq!(store.write_at(u64::MAX, &[1]), Err(Errno::Io));
    }

    #[test]
    fn a_readonly_device_refuses_writes() {
        let (client, master, disk, _server) = disk(pattern(4096), true);
        let mut store = DeviceStore::open(client.clone(), master, "vd0", true).unwrap();
        assert_eq!(store.write_at(0, &[1]), Err(Errno::RoFs));
        // Opened writable, the device itself refuses.
        let mut store = DeviceStore::open(client, master, "vd0", false).unwrap();
        assert_eq!(store.write_at(512, &[1; 512]), Err(Errno::RoFs));
        assert_eq!(*disk.bytes.lock().unwrap(), pattern(4096));
    }

    #[test]
    fn a_driver_that_is_gone_is_eio() {
        let (client, master, disk, server) = disk(pattern(4096), false);
        let mut store = DeviceStore::open(client, master, "vd0", false).unwrap();
        server.port_destroy(disk.device).unwrap();
        let mut buf = [0; 10];
        assert_eq!(store.read_at(0, &mut buf), Err(Errno::Io));
    }

    #[test]
    fn a_driver_started_again_serves_the_next_request() {
        let again: Vec<u8> = pattern(4096).into_iter().rev().collect();
        let (mut store, second, _keep) = restarted(Some(again.clone()), false);
        let mut buf = [0; 10];
        store.read_at(100, &mut buf).unwrap();
        assert_eq!(buf[..], again[100..110]);
        store.write_at(1000, b"again").unwrap();
        let Some(second) = second else { unreachable!() };
        assert_eq!(&second.bytes.lock().unwrap()[1000..1005], b"again");
    }

    #[test]
    fn a_driver_not_started_again_is_eio() {
        let mut buf = [0; 10];
        // No master port handed out, the parent refusing, a device of
        // another size.
        for (second, refuse) in [(None, false), (Some(pattern(4096)), true)] {
            let (mut store, _, _keep) = restarted(second, refuse);
            assert_eq!(store.read_at(0, &mut buf), Err(Errno::Io));
        }
        let (mut store, _, _keep) = restarted(Some(pattern(8192)), false);
        assert_eq!(store.read_at(0, &mut buf), Err(Errno::Io));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Writes at any offset and length change exactly those bytes.
        #[test]
        fn writes_anywhere_change_exactly_their_bytes(
            ops in proptest::collection::vec((0u64..20_000, 1usize..3000, any::<u8>()), 1..6)
        ) {
            let (client, master, disk, _server) = disk(pattern(20 * 1024), false);
            let mut store = DeviceStore::open(client, master, "vd0", false).unwrap();
            let mut model = pattern(20 * 1024);
            for (offset, len, fill) in ops {
                let data = alloc::vec![fill; len];
                let r = store.write_at(offset, &data);
                if offset as usize + len > model.len() {
                    prop_assert_eq!(r, Err(Errno::Io));
                    continue;
                }
                prop_assert_eq!(r, Ok(()));
                model[offset as usize..offset as usize + len].copy_from_slice(&data);
                let mut back = alloc::vec![0; len];
                store.read_at(offset, &mut back).unwrap();
                prop_assert_eq!(back, data);
            }
            prop_assert_eq!(&*disk.bytes.lock().unwrap(), &model);
        }
    }

    fn args(s: &[&str]) -> Result<StoreArgs, Errno> {
        parse_args(s)
    }

    #[test]
    fn storeio_arguments() {
        let vd0 = |readonly| {
            Ok(StoreArgs {
                name: "vd0".to_string(),
                readonly,
            })
        };
        assert_eq!(args(&["vd0"]), vd0(false));
        assert_eq!(args(&["device:vd0"]), vd0(false));
        assert_eq!(args(&["-r", "vd0"]), vd0(true));
        assert_eq!(args(&["--readonly", "-w", "vd0"]), vd0(false));
        assert_eq!(args(&["-T", "device", "vd0"]), vd0(false));
        assert_eq!(
            args(&["--store-type=device", "--readonly", "vd0"]),
            vd0(true)
        );
        for bad in [
            &[][..],
            &["-r"],
            &["vd0", "vd1"],
            &["-T", "file", "vd0"],
            &["-T"],
            &["--store-type=part", "vd0"],
            &["--bogus", "vd0"],
            &["device:"],
        ] {
            assert_eq!(args(bad), Err(Errno::Inval), "{bad:?}");
        }
    }
}
