//! `/hurd/storeio [-r|--readonly] [-w|--writable] [-T device] [device:]NAME`:
//! a device as a file, as the Hurd's storeio serves a disk on `/dev/hd0`.
//!
//! The device is opened with `device_open(NAME)` on the device master port
//! the program's starter gave it under `DEVICE_MASTER_PORT_NAME` (as the
//! Hurd's translators take `--device-master-port`): the kernel's, or a
//! driver's such as `virtio-blk`'s, which serves `vd0`. The file reads and
//! writes the device's bytes at any offset (see
//! `hurd_trans::translators::storeio`); it is served as a translator
//! (`fsys_startup` on its bootstrap port).
//!
//! Bad arguments (`EINVAL`), no device master port (`EPERM`) or a device
//! that does not open (its error: `ENXIO` for an unknown name) answer the
//! first `fsys_getroot`, and the program ends.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use distro_programs::store::{DeviceStore, parse_args};
use hurd_abi::device::DEVICE_MASTER_PORT_NAME;
use hurd_ipc::{Errno, PortName};
use hurd_rt::ports;
use hurd_trans::translators::programs::{own_ids, refuse, run};
use hurd_trans::translators::storeio::Storeio;
use hurd_trans::trivfs::Single;

distro_programs::program!(main);

fn main() {
    let s = hurd_rt::translator::start();
    let opened = parse_args(s.argv.get(1..).unwrap_or_default()).and_then(|args| {
        let master = ports::held(PortName(DEVICE_MASTER_PORT_NAME)).ok_or(Errno::Perm)?;
        let store = DeviceStore::open(s.ipc, master, &args.name, args.readonly)?;
        Ok((store, args.readonly))
    });
    match opened {
        Ok((store, readonly)) => {
            let (uid, gid) = own_ids(&s.ipc, s.auth);
            let block = store.record_size();
            let file = Single::new(Storeio::new(store, block, readonly), uid, gid);
            run(s.ipc, file, s.auth, s.bootstrap, "storeio");
        }
        Err(e) => {
            hurd_rt::println!("storeio: {e}");
            refuse(s.ipc, s.auth, s.bootstrap, "storeio", e);
        }
    }
}
