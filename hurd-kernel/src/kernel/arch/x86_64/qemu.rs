//! Leaving QEMU with an exit status, through the `isa-debug-exit` device
//! (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
//!
//! QEMU exits with `(value << 1) | 1`: [`ExitCode::Success`] gives 33,
//! [`ExitCode::Failed`] 35, [`ExitCode::Panic`] 37.

use x86_64::instructions::port::Port;

/// The value written to the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    /// Every test passed (QEMU exit status 33).
    Success = 0x10,
    /// Some test failed (status 35).
    Failed = 0x11,
    /// The kernel panicked or took a fatal fault (status 37).
    Panic = 0x12,
}

/// Asks QEMU to exit; halts forever if there is no such device (real
/// hardware, or QEMU started without it).
pub fn exit(code: ExitCode) -> ! {
    let mut port = Port::<u32>::new(0xf4);
    // SAFETY: writing to port 0xf4 has no effect other than QEMU's exit
    // device; on a machine without it the write goes nowhere.
    unsafe { port.write(code as u32) };
    halt_forever()
}

/// Stops the processor for good.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
