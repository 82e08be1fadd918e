//! PCI configuration space through the legacy mechanism: the address of a
//! dword written to port `0xCF8`, the dword read or written at `0xCFC`.
//! What is found there is read by [`hurd_kernel::pci`].

use hurd_abi::device::PciAddress;
use hurd_kernel::pci::ConfigSpace;
use spin::Mutex;
use x86_64::instructions::port::Port;

/// The configuration mechanism's two ports, used one access at a time.
pub struct PortConfig(());

/// The one [`PortConfig`]: an access is two port operations that must not
/// interleave with another's.
pub static CONFIG: Mutex<PortConfig> = Mutex::new(PortConfig(()));

/// The value for `0xCF8`: enable bit, bus, device, function, dword offset.
fn address(f: PciAddress, offset: u8) -> u32 {
    0x8000_0000
        | u32::from(f.bus) << 16
        | u32::from(f.device) << 11
        | u32::from(f.function) << 8
        | u32::from(offset & 0xfc)
}

impl ConfigSpace for PortConfig {
    fn read(&mut self, f: PciAddress, offset: u8) -> u32 {
        // SAFETY: the standard configuration ports; the address register
        // is written and the data read under the CONFIG lock (`&mut self`),
        // and a read of configuration space has no side effect on memory.
        unsafe {
            Port::<u32>::new(0xcf8).write(address(f, offset));
            Port::<u32>::new(0xcfc).read()
        }
    }

    fn write(&mut self, f: PciAddress, offset: u8, value: u32) {
        // SAFETY: as in `read`. The callers write only registers a driver
        // may set (hurd_kernel::pci::check_write) or restore what the
        // sizing probe read, so no region moves under the kernel.
        unsafe {
            Port::<u32>::new(0xcf8).write(address(f, offset));
            Port::<u32>::new(0xcfc).write(value);
        }
    }
}
